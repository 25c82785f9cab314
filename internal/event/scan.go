package event

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner flattens one JSON object straight into fields. lbm reads JSON
// itself, rather than through encoding/json's maps, for three reasons:
// a repeated key must be refused, not silently resolved (another reader
// might keep the other value, and disagree with what we committed); a lone
// UTF-16 surrogate must be refused, not replaced; and ingest speed is bound
// by this loop, which allocates once per field instead of once per token.
type scanner struct {
	b      []byte
	i      int
	fields []Field
}

// syntaxError reports malformed JSON at the current offset.
func (s *scanner) syntaxError(format string, args ...any) *ParseError {
	return errorf("", "not a JSON object: %s at byte %d", fmt.Sprintf(format, args...), s.i+1)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// top parses the whole line: one object and nothing after it but space.
func (s *scanner) top() error {
	s.ws()
	if s.peek() != '{' {
		if s.i >= len(s.b) {
			return errorf("", "not a JSON object: empty line")
		}
		return errorf("", "not a JSON object")
	}
	if err := s.object("", 0); err != nil {
		return err
	}
	s.ws()
	if s.i != len(s.b) {
		return errorf("", "more than one JSON value on the line (at byte %d)", s.i+1)
	}
	return nil
}

func (s *scanner) object(prefix string, depth int) error {
	if depth > MaxDepth {
		return errorf(prefix, "nested deeper than %d levels", MaxDepth)
	}
	s.i++ // '{'
	s.ws()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if s.peek() != '"' {
			return s.syntaxError("invalid character %q looking for a member name", s.peek())
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		name := key
		if prefix != "" {
			name = prefix + "." + key
		}
		if err := checkName(name); err != nil {
			return err
		}
		s.ws()
		if s.peek() != ':' {
			return s.syntaxError("invalid character %q after a member name", s.peek())
		}
		s.i++
		s.ws()
		if err := s.member(name, depth); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.syntaxError("invalid character %q after a member value", s.peek())
		}
	}
}

func (s *scanner) member(name string, depth int) error {
	switch s.peek() {
	case '{':
		return s.object(name, depth+1)
	case 'n':
		// Shippers emit null for "not set"; treat it as absent so one
		// event has one encoding whichever way it was sent.
		return s.literal("null")
	}
	if name == "content" {
		return errorf(name, "must be an object of content fields, like {\"body\": \"…\"}")
	}
	var val []byte
	if s.peek() == '[' {
		var err error
		if val, err = s.array(name); err != nil {
			return err
		}
		if val == nil {
			return nil // an empty array is absent, like null
		}
	} else {
		var err error
		if val, err = s.scalar(nil, name); err != nil {
			return err
		}
	}
	if len(val) > MaxValueBytes {
		return errorf(name, "value longer than %d bytes", MaxValueBytes)
	}
	s.fields = append(s.fields, Field{Name: name, Value: val})
	return nil
}

func (s *scanner) array(name string) ([]byte, error) {
	s.i++ // '['
	s.ws()
	if s.peek() == ']' {
		s.i++
		return nil, nil
	}
	b := []byte{'['}
	for {
		s.ws()
		switch s.peek() {
		case '{', '[':
			return nil, errorf(name, "arrays may hold only strings, numbers and booleans")
		case 'n':
			return nil, errorf(name, "arrays must not hold null")
		}
		var err error
		if b, err = s.scalar(b, name); err != nil {
			return nil, err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			b = append(b, ',')
		case ']':
			s.i++
			return append(b, ']'), nil
		default:
			return nil, s.syntaxError("invalid character %q in an array", s.peek())
		}
	}
}

// scalar appends the canonical form of a string, number or boolean.
func (s *scanner) scalar(b []byte, name string) ([]byte, error) {
	switch c := s.peek(); {
	case c == '"':
		// A string without escapes is already canonical: the line is valid
		// UTF-8 and str refuses raw control characters.
		start := s.i
		v, err := s.str()
		if err == nil && bytes.IndexByte(s.b[start:s.i], '\\') < 0 {
			return append(b, s.b[start:s.i]...), nil
		}
		if err != nil {
			return nil, err
		}
		return AppendString(b, v), nil
	case c == 't':
		return append(b, "true"...), s.literal("true")
	case c == 'f':
		return append(b, "false"...), s.literal("false")
	case c == '-' || c >= '0' && c <= '9':
		num, err := s.number()
		if err != nil {
			return nil, err
		}
		return appendNumber(b, name, num)
	case c == 0 && s.i >= len(s.b):
		return nil, s.syntaxError("unexpected end of line")
	default:
		return nil, s.syntaxError("invalid character %q looking for a value", c)
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.syntaxError("invalid literal, want %s", lit)
	}
	s.i += len(lit)
	return nil
}

// number consumes a JSON number, checking its grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() (string, error) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.peek() == '-' {
		s.i++
	}
	switch {
	case s.peek() == '0':
		s.i++
	case s.peek() >= '1' && s.peek() <= '9':
		digits()
	default:
		return "", s.syntaxError("invalid number")
	}
	if s.peek() == '.' {
		s.i++
		if digits() == 0 {
			return "", s.syntaxError("invalid number")
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if digits() == 0 {
			return "", s.syntaxError("invalid number")
		}
	}
	return string(s.b[start:s.i]), nil
}

// str consumes a JSON string and returns its decoded text. The line is
// known to be valid UTF-8; escapes must decode to valid UTF-8 too, so a lone
// surrogate is refused rather than replaced.
func (s *scanner) str() (string, error) {
	s.i++ // '"'
	start := s.i
	// Fast path: no escapes.
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := string(s.b[start:s.i])
			s.i++
			return v, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", s.syntaxError("control character in a string")
		}
		s.i++
	}
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), nil
		case c < 0x20:
			return "", s.syntaxError("control character in a string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		s.i++
		if s.i >= len(s.b) {
			break
		}
		e := s.b[s.i]
		s.i++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.syntaxError("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				var r2 rune = -1
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					s.i += 2
					r2, ok = s.hex4()
					if !ok {
						return "", s.syntaxError("invalid \\u escape")
					}
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", s.syntaxError("lone UTF-16 surrogate in a \\u escape")
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", s.syntaxError("invalid escape \\%c", e)
		}
	}
	return "", s.syntaxError("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(v), true
}
