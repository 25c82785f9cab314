package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/lbm-project/lbm/internal/event"
)

// MaxBatchEvents bounds the events of one request, so one request's sealed
// batch has a known worst-case size in the queue.
const MaxBatchEvents = 100_000

// ErrTooLarge is returned (wrapped) when a request exceeds a size limit.
var ErrTooLarge = errors.New("request too large")

// DecodeNDJSON reads newline-delimited JSON events for source. Blank lines
// are skipped. Any bad line fails the whole batch with an *event.ParseError
// naming its 1-based line number, so a request is stored whole or not at all.
func DecodeNDJSON(r io.Reader, source string) ([]*event.Event, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []*event.Event
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF && b == nil {
			return out, nil
		}
		if err != nil && err != io.EOF {
			if errors.Is(err, ErrTooLarge) {
				return nil, &event.ParseError{Line: line, Msg: fmt.Sprintf("longer than %d bytes", event.MaxLineBytes)}
			}
			return nil, err
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if len(out) == MaxBatchEvents {
				return nil, fmt.Errorf("%w: more than %d events in one request", ErrTooLarge, MaxBatchEvents)
			}
			e, perr := event.Parse(b, source)
			if perr != nil {
				var pe *event.ParseError
				if errors.As(perr, &pe) {
					pe.Line = line
				}
				return nil, perr
			}
			out = append(out, e)
		}
		if err == io.EOF {
			return out, nil
		}
	}
}

// readLine returns the next line without its newline (and a trailing \r),
// refusing lines over event.MaxLineBytes before buffering them whole.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > event.MaxLineBytes+2 {
			return nil, ErrTooLarge
		}
		switch err {
		case nil:
			if line == nil {
				line = chunk
			} else {
				line = append(line, chunk...)
			}
			line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
			return line, nil // valid until the next read; Parse copies what it keeps
		case bufio.ErrBufferFull:
			line = append(line, chunk...)
		case io.EOF:
			line = append(line, chunk...)
			if len(line) == 0 {
				return nil, io.EOF
			}
			return line, io.EOF
		default:
			return nil, err
		}
	}
}
