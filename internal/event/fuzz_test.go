package event

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// fuzzSource is the source the fuzz targets and testdata/events.ndjson use.
const fuzzSource = "fuzz-src"

// readLines returns the non-empty lines of a testdata file.
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading seeds: %v", err)
	}
	var lines [][]byte
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if len(line) > 0 {
			lines = append(lines, line)
		}
	}
	return lines
}

// testdataEvents parses testdata/events.ndjson, with fixed IDs and salts.
func testdataEvents(t testing.TB) []*Event {
	t.Helper()
	var es []*Event
	for _, line := range readLines(t, "testdata/events.ndjson") {
		es = append(es, testEvent(t, line, fuzzSource))
	}
	return es
}

// testdataLeaves returns the leaves of testdata/vectors.json.
func testdataLeaves(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatalf("reading seeds: %v", err)
	}
	var vf struct{ Vectors []struct{ Leaf string } }
	if err := json.Unmarshal(b, &vf); err != nil {
		t.Fatalf("decoding testdata/vectors.json: %v", err)
	}
	var leaves [][]byte
	for _, v := range vf.Vectors {
		l, err := hex.DecodeString(v.Leaf)
		if err != nil {
			t.Fatalf("decoding testdata/vectors.json: %v", err)
		}
		leaves = append(leaves, l)
	}
	return leaves
}

func TestEventsTestdata(t *testing.T) {
	for _, line := range readLines(t, "testdata/events.ndjson") {
		e, err := Parse(line, fuzzSource)
		if err != nil {
			t.Errorf("Parse(%q) error = %v", line, err)
			continue
		}
		checkCanonical(t, line, e)
	}
}

// checkCanonical checks the invariants of a parsed event, and that its
// fields are canonical: an object rebuilt from them parses to the same event.
func checkCanonical(t *testing.T, line []byte, e *Event) {
	t.Helper()
	if e.Time.Location() != time.UTC {
		t.Fatalf("Parse(%q) time %v is not UTC", line, e.Time)
	}
	if e.Source != fuzzSource || e.ID != (ID{}) {
		t.Fatalf("Parse(%q) source, id = %q, %v, want %q and zero", line, e.Source, e.ID, fuzzSource)
	}
	if len(e.Fields) > MaxFields {
		t.Fatalf("Parse(%q) has %d fields, more than %d", line, len(e.Fields), MaxFields)
	}
	for i, f := range e.Fields {
		if i > 0 && e.Fields[i-1].Name >= f.Name {
			t.Fatalf("Parse(%q) fields not strictly sorted: %q then %q", line, e.Fields[i-1].Name, f.Name)
		}
		if f.Name == "@timestamp" || f.Name == "source.id" {
			t.Fatalf("Parse(%q) kept %s as a field", line, f.Name)
		}
		if len(f.Name) > MaxNameBytes || len(f.Value) > MaxValueBytes {
			t.Fatalf("Parse(%q) field %.40s… has a %d-byte name and a %d-byte value", line, f.Name, len(f.Name), len(f.Value))
		}
		if !json.Valid(f.Value) || f.Value[0] == '{' || string(f.Value) == "null" || string(f.Value) == "[]" {
			t.Fatalf("Parse(%q) field %s = %s, want a JSON scalar or non-empty array", line, f.Name, f.Value)
		}
	}
	if e.Subject() == "" {
		t.Fatalf("Parse(%q) has no subject", line)
	}

	// No name may be both a value and an object, even when a '-' name sorts
	// between them ({"x":…,"x-y":…,"x.z":…}).
	for i, a := range e.Fields {
		for _, b := range e.Fields[i+1:] {
			if strings.HasPrefix(b.Name, a.Name+".") {
				t.Fatalf("Parse(%q) accepted %s as both a value and an object", line, a.Name)
			}
		}
	}

	// The year range holds in UTC, whatever offset the input used.
	if y := e.Time.Year(); y < 1970 || y > 2200 {
		t.Fatalf("Parse(%q) accepted UTC year %d", line, y)
	}

	var b bytes.Buffer
	b.WriteString(`{"@timestamp":"`)
	b.WriteString(e.Time.Format(time.RFC3339Nano))
	b.WriteString(`"`)
	for _, f := range e.Fields {
		b.WriteString(`,"`)
		b.WriteString(f.Name) // names hold no character JSON escapes
		b.WriteString(`":`)
		b.Write(f.Value)
	}
	b.WriteString("}")
	again, err := Parse(b.Bytes(), fuzzSource)
	if err != nil {
		t.Fatalf("Parse(%q) = %s; Parse of that error = %v", line, b.Bytes(), err)
	}
	if !again.Time.Equal(e.Time) {
		t.Fatalf("Parse(%q) time = %v; reparsed %v", line, e.Time, again.Time)
	}
	if diff := diffFields(e.Fields, again.Fields); diff != "" {
		t.Fatalf("Parse(%q) fields are not canonical; reparsing %s (-first +again):\n%s", line, b.Bytes(), diff)
	}

	// Its encodings round-trip.
	leaf, err := FormatLeaf(LeafOf(e))
	if err != nil {
		t.Fatalf("FormatLeaf(LeafOf(Parse(%q))) error = %v", line, err)
	}
	if _, err := ParseLeaf(leaf); err != nil {
		t.Fatalf("ParseLeaf(FormatLeaf(LeafOf(Parse(%q)))) error = %v", line, err)
	}
	fs, err := ParseFields(FormatFields(e.Fields))
	if err != nil {
		t.Fatalf("ParseFields(FormatFields(Parse(%q).Fields)) error = %v", line, err)
	}
	if diff := diffFields(e.Fields, fs); diff != "" {
		t.Fatalf("ParseFields(FormatFields(Parse(%q).Fields)) (-want +got):\n%s", line, diff)
	}
}

func FuzzParse(f *testing.F) {
	for _, line := range readLines(f, "testdata/events.ndjson") {
		f.Add(line)
	}
	for _, tt := range badInputs() {
		if len(tt.line) <= 4096 {
			f.Add(tt.line)
		}
	}
	for _, extra := range []string{
		`"n":1e18`, `"n":1000000000000000000`, `"n":12345678901234567890`, `"n":-1e-400`, `"n":[0.1,1E+2,-7]`,
		`"s":"\ud800"`, `"s":"\u0000\u0080\u00ff\uffff"`, `"s":"a\\\"b"`,
		`"x":"a","x-y":"b","x.z":"c"`, `"user.id":"u2"`, `"source.id":"fuzz-src"`,
		`"@timestamp":"1970-01-01T00:30:00+01:00"`, `"@timestamp":"2026-11-02T08:03:11.123456789123Z"`,
	} {
		f.Add(valid(extra))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := Parse(line, fuzzSource)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error = %v (%T), want *ParseError", line, err, err)
			}
			if pe.Msg == "" {
				t.Fatalf("Parse(%q) error has no message: %+v", line, pe)
			}
			return
		}
		// lbm reads JSON with its own scanner; whatever it accepts must be
		// JSON to every other reader too.
		if !json.Valid(line) {
			t.Fatalf("Parse(%q) accepted what encoding/json calls invalid", line)
		}
		checkCanonical(t, line, e)
	})
}

func FuzzParseLeaf(f *testing.F) {
	for _, l := range testdataLeaves(f) {
		f.Add(l)
	}
	for _, e := range testdataEvents(f) {
		b, err := FormatLeaf(LeafOf(e))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(nil))
	f.Add([]byte(leafPrefix))
	empty, _ := FormatLeaf(Leaf{Time: time.Unix(0, 0)})
	f.Add(empty)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLeaf(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedLeaf) {
				t.Fatalf("ParseLeaf(%x) error = %v, want ErrMalformedLeaf", b, err)
			}
			return
		}
		again, err := FormatLeaf(l)
		if err != nil {
			t.Fatalf("FormatLeaf(ParseLeaf(%x)) error = %v", b, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("FormatLeaf(ParseLeaf(%x)) = %x", b, again)
		}
	})
}

func FuzzParseFields(f *testing.F) {
	for _, e := range testdataEvents(f) {
		meta, content := Split(e.Fields)
		f.Add(FormatFields(e.Fields))
		f.Add(FormatFields(meta))
		f.Add(FormatFields(content))
	}
	f.Add([]byte(nil))
	f.Add([]byte{0, 0})
	f.Add(encodeFields(2, Field{Name: "b"}, Field{Name: "a"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := ParseFields(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedFields) {
				t.Fatalf("ParseFields(%x) error = %v, want ErrMalformedFields", b, err)
			}
			return
		}
		if len(fs) > MaxFields {
			t.Fatalf("ParseFields(%x) has %d fields, more than %d", b, len(fs), MaxFields)
		}
		for i := 1; i < len(fs); i++ {
			if strings.Compare(fs[i-1].Name, fs[i].Name) >= 0 {
				t.Fatalf("ParseFields(%x) names not strictly ascending: %q then %q", b, fs[i-1].Name, fs[i].Name)
			}
		}
		if again := FormatFields(fs); !bytes.Equal(again, b) {
			t.Fatalf("FormatFields(ParseFields(%x)) = %x", b, again)
		}
	})
}
