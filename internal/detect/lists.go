package detect

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/safetext"
)

// Bounds on a reference list.
const (
	// MaxListFileSize is the largest list file ParseList reads, in bytes.
	MaxListFileSize = 64 << 20
	// MaxListEntries is the most values one list may hold: at some 100
	// bytes each in memory, 100 MB.
	MaxListEntries = 1_000_000
	// MaxListValue is the longest value or key, in bytes.
	MaxListValue = 1024
)

// A List is one reference list's values: either plain (a set of values:
// the VIP and restricted records) or keyed (values per key: each member
// of staff's family as declared in vetting, by user id). It is immutable.
type List struct {
	keyed bool
	set   map[string]struct{}            // plain
	byKey map[string]map[string]struct{} // keyed
}

// Lists are reference lists by their id in the detection catalogue
// (internal/policy), e.g. "RESTRICTED_RECORDS".
type Lists map[string]*List

// NewList returns a plain list of values.
func NewList(values ...string) *List {
	l := &List{set: make(map[string]struct{}, len(values))}
	for _, v := range values {
		l.set[v] = struct{}{}
	}
	return l
}

// ListFromRows returns a list of rows as a list file holds them: a value
// each (the second of each pair ignored), or, when keyed, a key and a
// value.
func ListFromRows(keyed bool, rows [][2]string) *List {
	if !keyed {
		l := NewList()
		for _, r := range rows {
			l.set[r[0]] = struct{}{}
		}
		return l
	}
	l := NewKeyedList(nil)
	for _, r := range rows {
		l.add(r[0], r[1])
	}
	return l
}

// NewKeyedList returns a keyed list: the values of each key.
func NewKeyedList(values map[string][]string) *List {
	l := &List{keyed: true, byKey: make(map[string]map[string]struct{}, len(values))}
	for k, vs := range values {
		for _, v := range vs {
			l.add(k, v)
		}
	}
	return l
}

func (l *List) add(k, v string) {
	if !l.keyed {
		l.set[v] = struct{}{}
		return
	}
	s := l.byKey[k]
	if s == nil {
		s = map[string]struct{}{}
		l.byKey[k] = s
	}
	s[v] = struct{}{}
}

// Keyed reports whether l is a keyed list.
func (l *List) Keyed() bool { return l.keyed }

// Len returns the number of distinct values (of a keyed list, distinct
// key and value pairs).
func (l *List) Len() int {
	if !l.keyed {
		return len(l.set)
	}
	n := 0
	for _, s := range l.byKey {
		n += len(s)
	}
	return n
}

// ParseList parses a reference list file, named file in messages: CSV
// (RFC 4180) whose first row is a header naming its shape, then one row
// per value.
//
//	value                   key,value
//	PNC/12345               u00012,u04711
//	NICHE/987               u00012,u04712
//
// A header of value makes a plain list; key,value a keyed list, a key
// given on as many rows as it has values. Lines starting with # are
// comments. Values and keys are compared exactly as written: each is
// non-empty, at most [MaxListValue] bytes, without surrounding spaces or
// hidden characters. A file holds at most [MaxListFileSize] bytes and
// [MaxListEntries] rows. Every error is a *[ParseError] with the line.
func ParseList(file string, data []byte) (*List, error) {
	fail := func(line int, format string, args ...any) (*List, error) {
		return nil, &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) > MaxListFileSize {
		return fail(0, "longer than %d bytes", MaxListFileSize)
	}
	if !utf8.Valid(data) {
		return fail(0, "not valid UTF-8")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return fail(1, "empty (want a header row: value, or key,value)")
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	header = slices.Clone(header) // ReuseRecord: the next Read overwrites it
	line, _ := r.FieldPos(0)
	var l *List
	switch strings.Join(header, ",") {
	case "value":
		l = NewList()
	case "key,value":
		l = NewKeyedList(nil)
	default:
		return fail(line, "header %s: want value, or key,value", safetext.Quote(strings.Join(header, ",")))
	}
	r.FieldsPerRecord = len(header)
	for rows := 0; ; rows++ {
		rec, err := r.Read()
		if err == io.EOF {
			return l, nil
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		line, _ := r.FieldPos(0)
		if rows == MaxListEntries {
			return fail(line, "more than %d rows", MaxListEntries)
		}
		for i, v := range rec {
			what := header[i]
			switch {
			case v == "":
				return fail(line, "%s: empty", what)
			case len(v) > MaxListValue:
				return fail(line, "%s: longer than %d bytes", what, MaxListValue)
			case strings.ContainsFunc(v, safetext.Hidden):
				return fail(line, "%s: contains a hidden character: %s", what, safetext.Quote(v))
			case strings.TrimSpace(v) != v:
				return fail(line, "%s: starts or ends with a space: %s", what, safetext.Quote(v))
			}
		}
		if l.keyed {
			l.add(rec[0], rec[1])
		} else {
			l.add("", rec[0])
		}
	}
}

// csvError turns an encoding/csv error into a *ParseError with its line.
func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: file, Line: pe.Line, Msg: safetext.Escape(pe.Err.Error())}
	}
	return &ParseError{File: file, Msg: safetext.Escape(err.Error())}
}

// ReadLists reads the reference lists in the top directory of fsys: one
// file per list, named after its id in the detection catalogue inputs
// with .csv added (RESTRICTED_RECORDS.csv), in ParseList's format. Any
// other entry is refused, so that a misnamed file is not silently left
// out. Every error for a bad directory or file is a *[ParseError] naming
// the file; an error reading fsys is returned as it is.
func ReadLists(fsys fs.FS, inputs policy.Detection) (Lists, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, in := range inputs {
		ids = append(ids, in.ID+".csv")
	}
	lists := Lists{}
	for _, de := range entries {
		name := de.Name()
		id, ok := strings.CutSuffix(name, ".csv")
		if !ok || !slices.Contains(ids, name) {
			return nil, &ParseError{File: safetext.Escape(name), Msg: "not a reference list (want one of " + strings.Join(ids, ", ") + ")"}
		}
		if !de.Type().IsRegular() {
			return nil, &ParseError{File: name, Msg: "not a regular file"}
		}
		info, err := de.Info()
		if err != nil {
			return nil, err
		}
		if info.Size() > MaxListFileSize {
			return nil, &ParseError{File: name, Msg: fmt.Sprintf("longer than %d bytes", MaxListFileSize)}
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if lists[id], err = ParseList(name, data); err != nil {
			return nil, err
		}
	}
	return lists, nil
}

// FormatList returns l in ParseList's format: the header, then one row
// per value (per key and value of a keyed list), sorted, so that the same
// list always has the same bytes. ParseList(FormatList(l)) holds the same
// values as l, provided each is a value ParseList accepts.
func FormatList(l *List) []byte {
	var rows [][]string
	if l.keyed {
		rows = append(rows, []string{"key", "value"})
		for k, vs := range l.byKey {
			for v := range vs {
				rows = append(rows, []string{k, v})
			}
		}
	} else {
		rows = append(rows, []string{"value"})
		for v := range l.set {
			rows = append(rows, []string{v})
		}
	}
	slices.SortFunc(rows[1:], func(a, b []string) int { return slices.Compare(a, b) })
	var b bytes.Buffer
	for _, row := range rows {
		for i, f := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			// Quoted when CSV needs it, and when it starts with #, which
			// would otherwise make the row a comment.
			if strings.ContainsAny(f, ",\"\r\n") || strings.HasPrefix(f, "#") {
				b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
			} else {
				b.WriteString(f)
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
