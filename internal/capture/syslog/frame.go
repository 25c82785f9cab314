package syslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// MaxFrame is the longest message kept: of a longer one, the first
// MaxFrame bytes are kept as an unparsed record and the rest is skipped.
// RFC 5425 asks receivers to take at least 8 KiB over TLS; rsyslog's
// default maximum is 8 KiB, and no UDP datagram is longer than 64 KiB.
const MaxFrame = 64 << 10

// Frame is one message read from a stream.
type Frame struct {
	// Data is the message, at most MaxFrame bytes, without the framing (the
	// length prefix, or the LF). It is valid until the next call to Next.
	Data []byte
	// Size is the message's length as sent, counting what was skipped.
	Size int
	// Short, when not empty, says why Data is not the whole message.
	Short string
}

// Framer splits a TCP or TLS stream into frames, by octet counting (RFC
// 6587 section 3.4.1, "LEN SP MSG", which RFC 5425 requires over TLS) or
// by LF (section 3.4.2, what most plain TCP senders use), decided frame by
// frame: a frame that starts with a non-zero digit, up to nine more digits
// and a space is octet-counted. Empty lines are skipped.
type Framer struct {
	r   *bufio.Reader
	buf []byte
	err error // returned by the next call, after the frame it cut short
}

// NewFramer returns a Framer reading r.
func NewFramer(r io.Reader) *Framer {
	return &Framer{r: bufio.NewReaderSize(r, 16<<10)}
}

// Next returns the next frame. It returns io.EOF at the end of a stream
// that ends between frames, and any other read error as it is; a frame a
// read error cut short comes first, with Short saying so (except a last
// LF-framed line at io.EOF, which is taken as complete).
func (f *Framer) Next() (Frame, error) {
	for {
		if f.err != nil {
			return Frame{}, f.err
		}
		f.buf = f.buf[:0]
		c, err := f.r.ReadByte()
		if err != nil {
			f.err = err
			continue
		}
		if c >= '1' && c <= '9' {
			fr, octets, err := f.octets(c)
			if err != nil {
				f.err = err
				if len(f.buf) == 0 {
					continue
				}
				// The stream ended inside what may have been a length:
				// the digits are a line of their own.
				return Frame{Data: f.buf, Size: len(f.buf)}, nil
			}
			if octets {
				return fr, nil
			}
		} else {
			f.buf = append(f.buf, c)
		}
		if fr, ok := f.line(); ok {
			return fr, nil
		}
	}
}

// octets reads the rest of a length after its first digit c. If a space
// follows the digits, it reads the frame; otherwise the bytes read are
// left in f.buf as the start of an LF-framed line.
func (f *Framer) octets(c byte) (Frame, bool, error) {
	n := int(c - '0')
	f.buf = append(f.buf, c)
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			return Frame{}, false, err
		}
		if c == ' ' {
			break
		}
		f.buf = append(f.buf, c)
		if c < '0' || c > '9' || len(f.buf) > 10 {
			return Frame{}, false, nil
		}
		n = n*10 + int(c-'0')
	}
	keep := min(n, MaxFrame)
	f.buf = append(f.buf[:0], make([]byte, keep)...)
	got, err := io.ReadFull(f.r, f.buf)
	fr := Frame{Data: f.buf[:got], Size: n}
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		f.err = err
		fr.Short = fmt.Sprintf("the stream ended after %d of %d bytes", got, n)
		return fr, true, nil
	}
	if n > keep {
		fr.Short = fmt.Sprintf("longer than %d bytes", MaxFrame)
		skipped, err := f.r.Discard(n - keep)
		if err != nil {
			f.err = err
			fr.Short = fmt.Sprintf("longer than %d bytes, and the stream ended after %d of %d bytes", MaxFrame, keep+skipped, n)
		}
	}
	return fr, true, nil
}

// line reads up to the next LF onto f.buf. It reports false for an empty
// line, which is skipped.
func (f *Framer) line() (Frame, bool) {
	ended := false
	if n := len(f.buf); n > 0 && f.buf[n-1] == '\n' {
		// The bytes read before ended the line ("\n", or "12\n").
		f.buf, ended = f.buf[:n-1], true
	}
	size := len(f.buf)
	for !ended && f.err == nil {
		chunk, err := f.r.ReadSlice('\n')
		switch {
		case err == nil:
			chunk, ended = chunk[:len(chunk)-1], true
		case errors.Is(err, bufio.ErrBufferFull):
		default:
			f.err = err
		}
		size += len(chunk)
		if room := MaxFrame - len(f.buf); room > 0 {
			f.buf = append(f.buf, chunk[:min(room, len(chunk))]...)
		}
	}
	if size <= MaxFrame && len(f.buf) > 0 && f.buf[len(f.buf)-1] == '\r' {
		f.buf, size = f.buf[:len(f.buf)-1], size-1
	}
	if size == 0 {
		return Frame{}, false
	}
	fr := Frame{Data: f.buf, Size: size}
	switch {
	case size > MaxFrame:
		fr.Short = fmt.Sprintf("longer than %d bytes", MaxFrame)
	case !ended && f.err != io.EOF:
		fr.Short = fmt.Sprintf("the stream ended inside the message: %v", f.err)
	}
	return fr, true
}
