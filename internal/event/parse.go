package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseError is the one error type for malformed input in this package. It
// names the line (when the caller knows it) and the field, so a person can
// fix the event: "line 11: @timestamp: not RFC 3339".
type ParseError struct {
	Line  int    // 1-based line in the request; 0 when unknown
	Field string // dotted field name; "" for the line as a whole
	Msg   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func errorf(field, format string, args ...any) *ParseError {
	return &ParseError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Limits on one event. They bound memory per line and keep every length
// inside the fixed-width fields of the canonical encodings.
const (
	MaxLineBytes  = 1 << 20 // one NDJSON line
	MaxNameBytes  = 128     // one dotted field name
	MaxValueBytes = 1 << 19 // one field's canonical value
	MaxDepth      = 8       // nesting of objects
)

// Categories lists the accepted values of event.category: those of ECS 8 and
// lbm's own (record_query, telephony, device, print), which describe use of
// police systems that ECS does not name.
var Categories = []string{
	"api", "authentication", "configuration", "database", "device", "driver", "email", "file",
	"host", "iam", "intrusion_detection", "library", "malware", "network", "package", "print",
	"process", "record_query", "registry", "session", "telephony", "threat", "vulnerability", "web",
}

var outcomes = []string{"failure", "success", "unknown"}

// Parse validates one JSON object and returns its canonical event with the
// given source, a zero ID and zero salts (the caller assigns both, from a
// secure random source, before committing). A "source.id" in the object must
// equal source: a source may only ever write as itself.
func Parse(line []byte, source string) (*Event, error) {
	if len(line) > MaxLineBytes {
		return nil, errorf("", "longer than %d bytes", MaxLineBytes)
	}
	if !utf8.Valid(line) {
		// encoding/json would silently replace invalid bytes, changing what
		// we commit to; refuse instead.
		return nil, errorf("", "not valid UTF-8")
	}
	sc := scanner{b: line, fields: make([]Field, 0, 16)}
	if err := sc.top(); err != nil {
		return nil, err
	}
	fields := sc.fields
	slices.SortFunc(fields, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(fields); i++ {
		if fields[i-1].Name == fields[i].Name {
			return nil, errorf(fields[i].Name, "given twice (dotted and nested, or a repeated key)")
		}
	}
	if err := checkNotBoth(fields); err != nil {
		return nil, err
	}
	e := &Event{Source: source, Fields: fields[:0]}
	for _, f := range fields {
		switch f.Name {
		case "@timestamp":
			t, err := parseTime(f.Value)
			if err != nil {
				return nil, err
			}
			e.Time = t
			continue
		case "source.id":
			if s, ok := StringValue(f.Value); !ok || s != source {
				return nil, errorf(f.Name, "is set by the server from the source's token; omit it or give %q", source)
			}
			continue
		}
		e.Fields = append(e.Fields, f)
	}
	if e.Time.IsZero() {
		return nil, errorf("@timestamp", "required")
	}
	if len(e.Fields) > MaxFields {
		return nil, errorf("", "more than %d fields", MaxFields)
	}
	if err := checkKnownFields(e); err != nil {
		return nil, err
	}
	return e, nil
}

func parseTime(v []byte) (time.Time, error) {
	s, ok := StringValue(v)
	if !ok {
		return time.Time{}, errorf("@timestamp", "must be a string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil && !rfc3339Fraction(s) {
		err = errors.New("fraction")
	}
	if err != nil {
		return time.Time{}, errorf("@timestamp", "not RFC 3339 (like 2026-11-02T08:03:11.123Z): %q", s)
	}
	// The leaf holds Unix nanoseconds in 64 bits; years 1678-2262 fit.
	t = t.UTC()
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, errorf("@timestamp", "year %d (UTC) out of range 1970-2200", t.Year())
	}
	return t, nil
}

// rfc3339Fraction reports whether s's fraction of a second, if any, is as
// RFC 3339 writes it: a '.' and one to nine digits. Go's parser also takes
// a ',' and truncates longer fractions, which would silently change the time.
func rfc3339Fraction(s string) bool {
	if strings.Contains(s, ",") {
		return false
	}
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return true
	}
	n := 0
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' {
			break
		}
		n++
	}
	return n >= 1 && n <= 9
}

func checkKnownFields(e *Event) error {
	need := func(name string) ([]byte, error) {
		v, ok := e.Field(name)
		if !ok {
			return nil, errorf(name, "required")
		}
		return v, nil
	}
	oneOf := func(name string, v []byte, allowed []string) error {
		s, ok := StringValue(v)
		if !ok {
			return errorf(name, "must be a string")
		}
		if _, found := slices.BinarySearch(allowed, s); !found {
			return errorf(name, "%q is not one of %s", s, strings.Join(allowed, ", "))
		}
		return nil
	}
	v, err := need("event.category")
	if err != nil {
		return err
	}
	// ECS allows an array; lbm takes exactly one category so that scopes and
	// retention by category are unambiguous. Normalise ["x"] to "x".
	if len(v) > 0 && v[0] == '[' {
		var arr []string
		if json.Unmarshal(v, &arr) != nil || len(arr) != 1 {
			return errorf("event.category", "must be one string or a one-element array")
		}
		v = AppendString(nil, arr[0])
		i, _ := slices.BinarySearchFunc(e.Fields, "event.category", func(f Field, n string) int { return strings.Compare(f.Name, n) })
		e.Fields[i].Value = v
	}
	if err := oneOf("event.category", v, Categories); err != nil {
		return err
	}
	for _, name := range []string{"event.action", "user.id"} {
		v, err := need(name)
		if err != nil {
			return err
		}
		if s, ok := StringValue(v); !ok || strings.TrimSpace(s) == "" {
			return errorf(name, "must be a non-empty string")
		}
	}
	if v, ok := e.Field("event.outcome"); ok {
		if err := oneOf("event.outcome", v, outcomes); err != nil {
			return err
		}
	}
	if v, ok := e.Field("event.id"); ok {
		if s, ok := StringValue(v); !ok || s == "" || len(s) > 256 {
			return errorf("event.id", "must be a non-empty string of at most 256 bytes")
		}
	}
	for _, name := range []string{"user.name", "host.name"} {
		if v, ok := e.Field(name); ok {
			if _, ok := StringValue(v); !ok {
				return errorf(name, "must be a string")
			}
		}
	}
	if v, ok := e.Field("related.user"); ok {
		if _, err := RelatedUsers(v); err != nil {
			return err
		}
	}
	return nil
}

// RelatedUsers decodes the value of related.user: a string or an array of
// non-empty strings.
func RelatedUsers(v []byte) ([]string, error) {
	if s, ok := StringValue(v); ok {
		if s == "" {
			return nil, errorf("related.user", "must not be empty")
		}
		return []string{s}, nil
	}
	var arr []string
	if json.Unmarshal(v, &arr) != nil {
		return nil, errorf("related.user", "must be a string or an array of strings")
	}
	for _, s := range arr {
		if s == "" {
			return nil, errorf("related.user", "must not hold an empty string")
		}
	}
	return arr, nil
}

// StringValue decodes a canonical JSON string value.
func StringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	// Canonical values hold escapes only where JSON requires them; most
	// hold none, and need no decoder.
	if inner := v[1 : len(v)-1]; !bytes.ContainsAny(inner, `\"`) {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// checkNotBoth refuses a name that is both a value and an object
// ("host": "x" beside "host.name"): ECS gives each name one meaning. The
// fields are sorted, but '-' sorts before '.', so a prefix need not be a
// neighbour: look every prefix up.
func checkNotBoth(fields []Field) error {
	for _, f := range fields {
		for i := 0; i < len(f.Name); i++ {
			if f.Name[i] != '.' {
				continue
			}
			prefix := f.Name[:i]
			if _, found := slices.BinarySearchFunc(fields, prefix, func(f Field, n string) int { return strings.Compare(f.Name, n) }); found {
				return errorf(prefix, "is both a value and an object")
			}
		}
	}
	return nil
}

func checkName(name string) error {
	if len(name) > MaxNameBytes {
		return errorf(strings.ToValidUTF8(name[:MaxNameBytes], "")+"…", "name longer than %d bytes", MaxNameBytes)
	}
	for seg := range strings.SplitSeq(name, ".") {
		if seg == "" {
			return errorf(name, "empty segment in field name")
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '@') {
				return errorf(name, "field names use only letters, digits, '_', '-', '@' and '.'")
			}
		}
	}
	return nil
}

// appendNumber writes integers that fit in 64 bits exactly and every other
// number as the shortest float64 form, so 1.0, 1 and 1e0 commit alike.
func appendNumber(b []byte, name, s string) ([]byte, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.AppendInt(b, i, 10), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, errorf(name, "number %s out of range", s)
	}
	// Every integral value in int64's range is written as an integer, so
	// 1e18 and 1000000000000000000 commit alike; beyond it, as a float.
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return strconv.AppendInt(b, int64(f), 10), nil
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64), nil
}

// AppendString appends s as a canonical JSON string value: it escapes only
// what JSON requires (quote, backslash, and control characters, with \n, \r
// and \t by name), so the committed bytes are the text itself wherever
// possible. Generators of events (internal/simulate) use it too.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Subject returns the event's user.id.
func (e *Event) Subject() string {
	v, _ := e.Field("user.id")
	s, _ := StringValue(v)
	return s
}

// Category returns the event's event.category.
func (e *Event) Category() string {
	v, _ := e.Field("event.category")
	s, _ := StringValue(v)
	return s
}

// Action returns the event's event.action.
func (e *Event) Action() string {
	v, _ := e.Field("event.action")
	s, _ := StringValue(v)
	return s
}

// Related returns the people related.user names, sorted and unique; nil
// when none.
func (e *Event) Related() []string {
	v, ok := e.Field("related.user")
	if !ok {
		return nil
	}
	rs, err := RelatedUsers(v)
	if err != nil {
		return nil
	}
	rs = slices.Clone(rs)
	slices.Sort(rs)
	return slices.Compact(rs)
}

// ClientID returns the event's event.id, or "" when it has none.
func (e *Event) ClientID() string {
	v, ok := e.Field("event.id")
	if !ok {
		return ""
	}
	s, _ := StringValue(v)
	return s
}
