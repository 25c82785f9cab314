package email

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// MboxReader splits an mbox file (mboxo or mboxrd: each message begins
// with a line starting "From ") into messages, reading as it goes, so an
// mbox of any size takes memory for one message at a time.
//
// Lines a writer escaped as ">From ", ">>From ", … lose one ">" (mboxrd);
// for mboxo, which escaped only "From ", this is right for every line the
// writer escaped and wrong only for a body line that began ">From "
// itself, which mboxo cannot tell apart.
type MboxReader struct {
	r       *bufio.Reader
	offset  int64 // bytes consumed
	start   int64 // offset of the next message's "From " line
	pending bool  // a "From " line was read: a message follows
	err     error // what ends the input, once read
	begun   bool
}

// NewMboxReader returns a reader of the mbox r.
func NewMboxReader(r io.Reader) *MboxReader {
	return &MboxReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// ErrTooLarge is returned by Next for a message over the limit; the
// reader has skipped it and may go on.
var ErrTooLarge = errors.New("message over the size limit")

// ErrNotMbox is returned by Next when the input does not begin with a
// "From " line.
var ErrNotMbox = errors.New(`not an mbox: the first line does not start with "From "`)

// Next returns the next message, without its "From " line, and the byte
// offset in the file where the message's "From " line began. It returns
// io.EOF after the last. A message larger than limit bytes is returned
// cut to limit, with ErrTooLarge (the caller may keep what it got); the
// reader then goes on to the next message.
func (m *MboxReader) Next(limit int) (msg []byte, offset int64, err error) {
	if !m.begun {
		m.begun = true
		line, err := m.line()
		switch {
		case len(line) == 0 && err != nil:
			m.err = err
		case !bytes.HasPrefix(line, []byte("From ")):
			m.err = ErrNotMbox
		default:
			m.pending, m.start, m.err = true, 0, err
		}
	}
	if !m.pending {
		if m.err == nil {
			m.err = io.EOF
		}
		return nil, 0, m.err
	}
	m.pending = false
	start := m.start
	var buf bytes.Buffer
	over := false
	for m.err == nil {
		lineStart := m.offset
		line, err := m.line()
		if bytes.HasPrefix(line, []byte("From ")) {
			m.start, m.pending, m.err = lineStart, true, err
			break
		}
		if isEscapedFrom(line) {
			line = line[1:]
		}
		if buf.Len()+len(line) > limit {
			over = true
			line = line[:max(0, limit-buf.Len())]
		}
		buf.Write(line)
		m.err = err
	}
	if m.err != nil && m.err != io.EOF {
		return nil, 0, m.err
	}
	msg = trimSeparator(buf.Bytes())
	if over {
		return msg, start, ErrTooLarge
	}
	return msg, start, nil
}

// line reads one line with its ending; a line longer than the buffer is
// returned whole all the same.
func (m *MboxReader) line() ([]byte, error) {
	line, err := m.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		out := bytes.Clone(line)
		for err == bufio.ErrBufferFull {
			line, err = m.r.ReadSlice('\n')
			out = append(out, line...)
		}
		m.offset += int64(len(out))
		return out, err
	}
	m.offset += int64(len(line))
	return line, err
}

// Offset returns the bytes read so far.
func (m *MboxReader) Offset() int64 { return m.offset }

func isEscapedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}

// trimSeparator drops the blank line an mbox writer puts before the next
// "From " line, which belongs to the file, not the message.
func trimSeparator(b []byte) []byte {
	switch {
	case bytes.HasSuffix(b, []byte("\r\n\r\n")):
		return b[:len(b)-2]
	case bytes.HasSuffix(b, []byte("\n\n")):
		return b[:len(b)-1]
	}
	return b
}

// WriteMbox appends msg to w as one mboxrd message: a "From " line, the
// message with every line matching ">*From " given one more ">", and a
// blank line. MboxReader reads it back as msg (up to a final line break).
func WriteMbox(w io.Writer, msg []byte) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("From lbm@localhost Thu Jan  1 00:00:00 1970\n")
	rest := msg
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		if isEscapedFrom(line) || bytes.HasPrefix(line, []byte("From ")) {
			bw.WriteByte('>')
		}
		bw.Write(line)
	}
	if len(msg) > 0 && msg[len(msg)-1] != '\n' {
		bw.WriteByte('\n')
	}
	bw.WriteByte('\n')
	return bw.Flush()
}
