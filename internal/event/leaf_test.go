package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// salted gives field i the salt bytes 32i+1, 32i+2, …, 32i+32 (mod 256), so
// tests are deterministic (the rule of testdata/vectors.json; salts repeat
// every eight fields, which is harmless since names differ).
func salted(fs []Field) []Field {
	out := make([]Field, len(fs))
	for i, f := range fs {
		out[i] = Field{Name: f.Name, Value: f.Value}
		for j := range out[i].Salt {
			out[i].Salt[j] = byte(32*i + j + 1)
		}
	}
	return out
}

// testEvent returns a parsed event with a fixed ID and deterministic salts.
func testEvent(t testing.TB, line []byte, source string) *Event {
	t.Helper()
	e := mustParse(t, line, source)
	e.ID = ID{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf}
	e.Fields = salted(e.Fields)
	return e
}

// formatLeaf formats l, failing the test on error.
func formatLeaf(t testing.TB, l Leaf) []byte {
	t.Helper()
	b, err := FormatLeaf(l)
	if err != nil {
		t.Fatalf("FormatLeaf(%+v) error = %v", l, err)
	}
	return b
}

// commitments returns n distinct commitments in ascending order.
func commitments(n int) []Commitment {
	cs := make([]Commitment, n)
	for i := range cs {
		cs[i][0] = byte(i >> 8)
		cs[i][1] = byte(i)
		cs[i][31] = 0x5a
	}
	return cs
}

func TestLeafRoundTrip(t *testing.T) {
	e := testEvent(t, valid(`"content.body":"hello"`, `"event.outcome":"success"`), "gw-1")
	leaves := []Leaf{
		LeafOf(e),
		{ID: e.ID, Time: time.Unix(0, 0).UTC()},
		{Time: time.Date(2200, 12, 31, 23, 59, 59, 999999999, time.UTC), Source: strings.Repeat("s", MaxSourceLen), Commitments: commitments(MaxFields)},
		{Time: time.Date(1969, 12, 31, 23, 30, 0, 1, time.UTC), Source: "before-epoch", Commitments: commitments(1)},
	}
	for _, l := range leaves {
		b := formatLeaf(t, l)
		got, err := ParseLeaf(b)
		if err != nil {
			t.Errorf("ParseLeaf(FormatLeaf(%+v)) error = %v", l, err)
			continue
		}
		if diff := cmp.Diff(l, got, cmpEmpty); diff != "" {
			t.Errorf("ParseLeaf(FormatLeaf(l)) (-l +got):\n%s", diff)
		}
		if got.Time.Location() != time.UTC {
			t.Errorf("ParseLeaf time location = %v, want UTC", got.Time.Location())
		}
		if again := formatLeaf(t, got); !bytes.Equal(again, b) {
			t.Errorf("FormatLeaf(ParseLeaf(b)) = %x, want %x", again, b)
		}
	}
}

func TestLeafOf(t *testing.T) {
	e := testEvent(t, valid(`"content.body":"hello"`, `"host.name":"ws-1"`), "gw-1")
	l := LeafOf(e)
	if l.ID != e.ID || !l.Time.Equal(e.Time) || l.Source != e.Source {
		t.Errorf("LeafOf(e) = {%v %v %q}, want {%v %v %q}", l.ID, l.Time, l.Source, e.ID, e.Time, e.Source)
	}
	if len(l.Commitments) != len(e.Fields) {
		t.Fatalf("LeafOf(e) has %d commitments, want %d", len(l.Commitments), len(e.Fields))
	}
	for i := 1; i < len(l.Commitments); i++ {
		if compareCommitments(l.Commitments[i-1], l.Commitments[i]) >= 0 {
			t.Errorf("LeafOf(e) commitments not strictly ascending at %d", i)
		}
	}
	// The leaf does not depend on the order of the fields.
	rev := &Event{ID: e.ID, Time: e.Time, Source: e.Source}
	for i := len(e.Fields) - 1; i >= 0; i-- {
		rev.Fields = append(rev.Fields, e.Fields[i])
	}
	if diff := cmp.Diff(l, LeafOf(rev)); diff != "" {
		t.Errorf("LeafOf(reversed fields) (-want +got):\n%s", diff)
	}
}

func TestCommit(t *testing.T) {
	base := Field{Name: "user.id", Value: []byte(`"u1"`)}
	for i := range base.Salt {
		base.Salt[i] = byte(i)
	}
	c := Commit(base)
	variants := map[string]Field{
		"name":  {Name: "user.name", Value: base.Value, Salt: base.Salt},
		"value": {Name: base.Name, Value: []byte(`"u2"`), Salt: base.Salt},
		"salt":  {Name: base.Name, Value: base.Value, Salt: [SaltSize]byte{1}},
		// Length prefixes keep the name/value boundary unambiguous.
		"boundary": {Name: "user.id\"", Value: []byte(`u1"`), Salt: base.Salt},
	}
	for what, f := range variants {
		if Commit(f) == c {
			t.Errorf("Commit with a different %s = Commit(base), want different", what)
		}
	}
	if Commit(base) != c {
		t.Errorf("Commit(base) is not deterministic")
	}
}

func TestFormatLeafLimits(t *testing.T) {
	for _, l := range []Leaf{
		{Source: strings.Repeat("s", MaxSourceLen+1)},
		{Commitments: commitments(MaxFields + 1)},
	} {
		if b, err := FormatLeaf(l); err == nil {
			t.Errorf("FormatLeaf(source %d bytes, %d commitments) = %x, want error", len(l.Source), len(l.Commitments), b)
		}
	}
}

func TestParseLeafRejects(t *testing.T) {
	good := formatLeaf(t, Leaf{
		ID:          ID{1, 2, 3},
		Time:        time.Date(2026, 11, 2, 8, 3, 11, 0, time.UTC),
		Source:      "gw-1",
		Commitments: commitments(3),
	})
	// Offsets into good.
	const (
		sourceLenAt = len(leafPrefix) + 16 + 8
		countAt     = sourceLenAt + 2 + len("gw-1")
		firstAt     = countAt + 2
	)
	edit := func(f func(b []byte) []byte) []byte {
		return f(bytes.Clone(good))
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "wrong prefix"},
		{"wrong prefix", edit(func(b []byte) []byte { b[len(leafPrefix)-2] = '2'; return b }), "wrong prefix"},
		{"field prefix", append([]byte(fieldPrefix), good[len(leafPrefix):]...), "wrong prefix"},
		{"no newline", edit(func(b []byte) []byte { b[len(leafPrefix)-1] = ' '; return b }), "wrong prefix"},
		{"trailing byte", append(bytes.Clone(good), 0), "bad commitment count"},
		{"trailing commitment", append(bytes.Clone(good), make([]byte, 32)...), "bad commitment count"},
		{"unsorted", edit(func(b []byte) []byte {
			first := bytes.Clone(b[firstAt : firstAt+32])
			copy(b[firstAt:], b[firstAt+32:firstAt+64])
			copy(b[firstAt+32:], first)
			return b
		}), "commitments not sorted"},
		{"duplicate", edit(func(b []byte) []byte { copy(b[firstAt+32:], b[firstAt:firstAt+32]); return b }), "commitments not sorted"},
		{"source length too long", edit(func(b []byte) []byte { b[sourceLenAt], b[sourceLenAt+1] = 0, MaxSourceLen+1; return b }), "bad source length"},
		{"source length past end", edit(func(b []byte) []byte { b[sourceLenAt], b[sourceLenAt+1] = 0, 0x7f; return b }), "bad source length"},
		{"count too high", edit(func(b []byte) []byte { b[countAt+1] = 4; return b }), "bad commitment count"},
		{"count too low", edit(func(b []byte) []byte { b[countAt+1] = 2; return b }), "bad commitment count"},
		{"count over limit", func() []byte {
			b := bytes.Clone(good[:countAt])
			b = binary.BigEndian.AppendUint16(b, MaxFields+1)
			for _, c := range commitments(MaxFields + 1) {
				b = append(b, c[:]...)
			}
			return b
		}(), "bad commitment count"},
	}
	for i := 0; i < len(good); i++ {
		tests = append(tests, struct {
			name string
			b    []byte
			want string
		}{"truncated", good[:i], ""})
	}
	for _, tt := range tests {
		l, err := ParseLeaf(tt.b)
		if err == nil {
			t.Errorf("%s: ParseLeaf(%x) = %+v, want error", tt.name, tt.b, l)
			continue
		}
		if !errors.Is(err, ErrMalformedLeaf) {
			t.Errorf("%s: ParseLeaf(%x) error = %v, want ErrMalformedLeaf", tt.name, tt.b, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ParseLeaf(%x) error = %v, want %q", tt.name, tt.b, err, tt.want)
		}
	}
}
