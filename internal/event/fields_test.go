package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var cmpEmpty = cmpopts.EquateEmpty()

// diffFields is cmp.Diff for field lists, comparing values with bytes.Equal
// (fast on large values) and treating nil and empty lists alike.
func diffFields(want, got []Field) string {
	if len(want) == 0 && len(got) == 0 {
		return ""
	}
	return cmp.Diff(want, got, cmp.Comparer(bytes.Equal))
}

func TestFieldsRoundTrip(t *testing.T) {
	e := testEvent(t, valid(`"content.body":"line 1\nline 2"`, `"n":[1,2.5]`, `"related.user":"u9"`), "gw-1")
	lists := [][]Field{
		nil,
		e.Fields,
		e.Fields[:1],
		{{Name: "", Value: nil}},
		{{Name: strings.Repeat("n", MaxNameBytes), Value: []byte(`"` + strings.Repeat("v", MaxValueBytes-2) + `"`)}},
	}
	meta, content := Split(e.Fields)
	lists = append(lists, meta, content)
	for _, fs := range lists {
		b := FormatFields(fs)
		got, err := ParseFields(b)
		if err != nil {
			t.Errorf("ParseFields(FormatFields(%d fields)) error = %v", len(fs), err)
			continue
		}
		if diff := diffFields(fs, got); diff != "" {
			t.Errorf("ParseFields(FormatFields(fs)) (-fs +got):\n%s", diff)
		}
		if again := FormatFields(got); !bytes.Equal(again, b) {
			t.Errorf("FormatFields(ParseFields(b)) = %x, want %x", again, b)
		}
	}
}

func TestFormatFields(t *testing.T) {
	f := Field{Name: "a.b", Value: []byte(`"x"`)}
	for i := range f.Salt {
		f.Salt[i] = 0xee
	}
	got := FormatFields([]Field{f})
	want := slices.Concat(
		[]byte{0, 1},
		[]byte{0, 3}, []byte("a.b"),
		bytes.Repeat([]byte{0xee}, SaltSize),
		[]byte{0, 0, 0, 3}, []byte(`"x"`),
	)
	if !bytes.Equal(got, want) {
		t.Errorf("FormatFields(%+v) = %x, want %x", f, got, want)
	}
	if got := FormatFields(nil); !bytes.Equal(got, []byte{0, 0}) {
		t.Errorf("FormatFields(nil) = %x, want 0000", got)
	}
}

// encodeFields writes the field-list encoding without FormatFields, so tests
// can build encodings FormatFields would never produce.
func encodeFields(n int, fs ...Field) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(n))
	for _, f := range fs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.Name)))
		b = append(b, f.Name...)
		b = append(b, f.Salt[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(f.Value)))
		b = append(b, f.Value...)
	}
	return b
}

func TestParseFieldsRejects(t *testing.T) {
	a := Field{Name: "a", Value: []byte("1")}
	b := Field{Name: "b", Value: []byte("2")}
	good := encodeFields(2, a, b)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"one byte", []byte{0}, "truncated"},
		{"trailing byte", append(bytes.Clone(good), 0), "trailing bytes"},
		{"count too high", encodeFields(3, a, b), "truncated"},
		{"count too low", encodeFields(1, a, b), "trailing bytes"},
		{"names out of order", encodeFields(2, b, a), "names out of order"},
		{"names repeated", encodeFields(2, a, a), "names out of order"},
		{"repeated with different values", encodeFields(2, a, Field{Name: "a", Value: []byte("2")}), "names out of order"},
		{"prefix then longer name", encodeFields(2, Field{Name: "ab"}, Field{Name: "a"}), "names out of order"},
		{"too many fields", append(encodeFields(MaxFields+1), make([]byte, 64)...), "too many fields"},
		{"name too long", encodeFields(1, Field{Name: strings.Repeat("n", MaxNameBytes+1)}), "name too long"},
		{"value too long", encodeFields(1, Field{Name: "v", Value: make([]byte, MaxValueBytes+1)}), "truncated value"},
		{"value length past end", func() []byte {
			x := encodeFields(1, Field{Name: "v", Value: []byte("12")})
			x[len(x)-3] = 3 // claim three bytes of value; two follow
			return x
		}(), "truncated value"},
		{"value length huge", func() []byte {
			x := encodeFields(1, Field{Name: "v"})
			binary.BigEndian.PutUint32(x[len(x)-4:], 0xffffffff)
			return x
		}(), "truncated value"},
	}
	for i := 0; i < len(good); i++ {
		tests = append(tests, struct {
			name string
			in   []byte
			want string
		}{"truncated", good[:i], "truncated"})
	}
	for _, tt := range tests {
		fs, err := ParseFields(tt.in)
		if err == nil {
			t.Errorf("%s: ParseFields(%x) = %+v, want error", tt.name, tt.in, fs)
			continue
		}
		if !errors.Is(err, ErrMalformedFields) {
			t.Errorf("%s: ParseFields(%x) error = %v, want ErrMalformedFields", tt.name, tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ParseFields(%x) error = %v, want %q", tt.name, tt.in, err, tt.want)
		}
	}
}

func TestCheckFields(t *testing.T) {
	e := testEvent(t, valid(`"content.body":"hello"`, `"host.name":"ws-1"`), "gw-1")
	l := LeafOf(e)
	// field returns a copy of e's named field, changed by edit.
	field := func(name string, edit func(*Field)) Field {
		t.Helper()
		i := slices.IndexFunc(e.Fields, func(f Field) bool { return f.Name == name })
		if i < 0 {
			t.Fatalf("test event has no field %s", name)
		}
		f := e.Fields[i]
		f.Value = bytes.Clone(f.Value)
		if edit != nil {
			edit(&f)
		}
		return f
	}
	replace := func(name string, edit func(*Field)) []Field {
		fs := slices.Clone(e.Fields)
		fs[slices.IndexFunc(fs, func(f Field) bool { return f.Name == name })] = field(name, edit)
		return fs
	}
	without := func(name string) []Field {
		return slices.DeleteFunc(slices.Clone(e.Fields), func(f Field) bool { return f.Name == name })
	}
	meta, content := Split(e.Fields)

	tests := []struct {
		name     string
		fs       []Field
		complete bool
		bad      []string // nil: want no error
		wantErr  bool
	}{
		{name: "all fields", fs: e.Fields, complete: true},
		{name: "all fields, incomplete", fs: e.Fields, complete: false},
		{name: "fields in any order", fs: slices.Concat(content, meta), complete: true},
		{name: "metadata only", fs: meta, complete: false},
		{name: "one field", fs: []Field{field("user.id", nil)}, complete: false},
		{name: "no fields", fs: nil, complete: false},
		{
			name: "changed value", complete: true, wantErr: true, bad: []string{"user.id"},
			fs: replace("user.id", func(f *Field) { f.Value = []byte(`"u00043"`) }),
		},
		{
			name: "changed content value, incomplete", complete: false, wantErr: true, bad: []string{"content.body"},
			fs: replace("content.body", func(f *Field) { f.Value = []byte(`"hellO"`) }),
		},
		{
			name: "changed salt", complete: true, wantErr: true, bad: []string{"host.name"},
			fs: replace("host.name", func(f *Field) { f.Salt[31] ^= 1 }),
		},
		{
			name: "renamed field", complete: true, wantErr: true, bad: []string{"host.hostname"},
			fs: replace("host.name", func(f *Field) { f.Name = "host.hostname" }),
		},
		{
			name: "two bad fields", complete: true, wantErr: true, bad: []string{"event.action", "user.id"},
			fs: func() []Field {
				fs := replace("user.id", func(f *Field) { f.Salt[0]++ })
				fs[slices.IndexFunc(fs, func(f Field) bool { return f.Name == "event.action" })] = field("event.action", func(f *Field) { f.Value = []byte(`"x"`) })
				return fs
			}(),
		},
		{name: "missing field", fs: without("host.name"), complete: true, wantErr: true},
		{name: "missing content", fs: meta, complete: true, wantErr: true},
		{name: "missing field, incomplete", fs: without("host.name"), complete: false},
		{
			name: "extra field", complete: false, wantErr: true, bad: []string{"labels.x"},
			fs: append(slices.Clone(meta), Field{Name: "labels.x", Value: []byte("1")}),
		},
		{
			name: "more fields than commitments", complete: false, wantErr: true,
			fs: append(slices.Clone(e.Fields), e.Fields[0]),
		},
	}
	for _, tt := range tests {
		err := CheckFields(l, tt.fs, tt.complete)
		if !tt.wantErr {
			if err != nil {
				t.Errorf("%s: CheckFields(leaf, %d fields, %v) = %v, want nil", tt.name, len(tt.fs), tt.complete, err)
			}
			continue
		}
		var ce *CommitmentError
		if !errors.As(err, &ce) {
			t.Errorf("%s: CheckFields(leaf, %d fields, %v) = %v, want *CommitmentError", tt.name, len(tt.fs), tt.complete, err)
			continue
		}
		if ce.ID != e.ID {
			t.Errorf("%s: CheckFields error id = %v, want %v", tt.name, ce.ID, e.ID)
		}
		if diff := cmp.Diff(tt.bad, ce.Fields, cmpEmpty); diff != "" {
			t.Errorf("%s: CheckFields error fields (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCommitmentErrorString(t *testing.T) {
	id := ID{0xab}
	tests := []struct {
		err  CommitmentError
		want string
	}{
		{CommitmentError{ID: id}, "event ab000000000000000000000000000000: stored fields do not match the leaf's commitment count"},
		{CommitmentError{ID: id, Fields: []string{"user.id"}}, "event ab000000000000000000000000000000: fields user.id do not match the leaf's commitments"},
		{CommitmentError{ID: id, Fields: []string{"a", "b"}}, "event ab000000000000000000000000000000: fields a, b do not match the leaf's commitments"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("(%+v).Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	fs := fieldsOf(
		"a", "1",
		"content-type", `"text/plain"`,
		"content.attachment.name", `"x.pdf"`,
		"content.body", `"b"`,
		"content.subject", `"s"`,
		"contentious", "true",
		"event.action", `"send"`,
		"user.id", `"u1"`,
	)
	orig := slices.Clone(fs)
	meta, content := Split(fs)
	wantMeta := fieldsOf(
		"a", "1",
		"content-type", `"text/plain"`,
		"contentious", "true",
		"event.action", `"send"`,
		"user.id", `"u1"`,
	)
	wantContent := fieldsOf(
		"content.attachment.name", `"x.pdf"`,
		"content.body", `"b"`,
		"content.subject", `"s"`,
	)
	if diff := cmp.Diff(wantMeta, meta); diff != "" {
		t.Errorf("Split meta (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantContent, content); diff != "" {
		t.Errorf("Split content (-want +got):\n%s", diff)
	}
	// Appending to either part must not clobber the input.
	_ = append(meta, Field{Name: "zz"})
	_ = append(content, Field{Name: "zz"})
	if diff := cmp.Diff(orig, fs); diff != "" {
		t.Errorf("Split changed its input (-before +after):\n%s", diff)
	}

	for _, tt := range []struct {
		name          string
		fs            []Field
		meta, content int
	}{
		{"nil", nil, 0, 0},
		{"metadata only", fieldsOf("a", "1", "z", "2"), 2, 0},
		{"content only", fieldsOf("content.a", "1", "content.b", "2"), 0, 2},
		{"content last", fieldsOf("a", "1", "content.b", "2"), 1, 1},
		{"content first", fieldsOf("content.a", "1", "z", "2"), 1, 1},
	} {
		meta, content := Split(tt.fs)
		if len(meta) != tt.meta || len(content) != tt.content {
			t.Errorf("Split(%s) = %d meta, %d content, want %d, %d", tt.name, len(meta), len(content), tt.meta, tt.content)
		}
		for _, f := range meta {
			if f.IsContent() {
				t.Errorf("Split(%s) meta holds %s", tt.name, f.Name)
			}
		}
		for _, f := range content {
			if !f.IsContent() {
				t.Errorf("Split(%s) content holds %s", tt.name, f.Name)
			}
		}
	}
}
