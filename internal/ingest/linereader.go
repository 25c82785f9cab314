package ingest

import (
	"bufio"
	"fmt"
	"io"

	"github.com/lbm-project/lbm/internal/event"
)

type lineReader struct{ br *bufio.Reader }

func newLineReader(r io.Reader) *lineReader { return &lineReader{br: bufio.NewReaderSize(r, 64<<10)} }

// next returns the next line (blank lines included, so line numbers stay
// true), valid until the following call.
func (l *lineReader) next() ([]byte, error) {
	b, err := readLine(l.br)
	if err == ErrTooLarge {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadInput, event.MaxLineBytes)
	}
	if err == io.EOF && b != nil {
		return b, nil
	}
	return b, err
}
