package event

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Members of a minimal valid event, written dotted.
const (
	memberTime     = `"@timestamp":"2026-11-02T08:03:11.123Z"`
	memberCategory = `"event.category":"record_query"`
	memberAction   = `"event.action":"pnc_person_search"`
	memberUser     = `"user.id":"u00042"`
)

// obj joins JSON object members into one line.
func obj(members ...string) []byte {
	return []byte("{" + strings.Join(members, ",") + "}")
}

// valid returns a minimal valid event with extra members appended.
func valid(extra ...string) []byte {
	return obj(append([]string{memberTime, memberCategory, memberAction, memberUser}, extra...)...)
}

// fieldsOf builds unsalted fields from name, value pairs, in the order given.
func fieldsOf(nameValues ...string) []Field {
	fs := make([]Field, 0, len(nameValues)/2)
	for i := 0; i+1 < len(nameValues); i += 2 {
		fs = append(fs, Field{Name: nameValues[i], Value: []byte(nameValues[i+1])})
	}
	return fs
}

// minimalFields are the fields of valid() with no extras.
var minimalFields = fieldsOf(
	"event.action", `"pnc_person_search"`,
	"event.category", `"record_query"`,
	"user.id", `"u00042"`,
)

// short abbreviates long inputs in failure messages.
func short(b []byte) string {
	const max = 200
	if len(b) <= max {
		return string(b)
	}
	return fmt.Sprintf("%s…(%d bytes)", b[:max], len(b))
}

// mustParse parses line for source, failing the test on error.
func mustParse(t testing.TB, line []byte, source string) *Event {
	t.Helper()
	e, err := Parse(line, source)
	if err != nil {
		t.Fatalf("Parse(%q) error = %v", short(line), err)
	}
	return e
}

func TestParse(t *testing.T) {
	wantTime := time.Date(2026, 11, 2, 8, 3, 11, 123_000_000, time.UTC)
	tests := []struct {
		name string
		line string
		want []Field
		time time.Time
	}{
		{
			name: "doc example",
			line: `{"@timestamp":"2026-11-02T08:03:11.123Z","event":{"category":"record_query","action":"pnc_person_search"},` +
				`"user":{"id":"u00042"},"content":{"query":"SMITH 1980-04-01"}}`,
			want: fieldsOf(
				"content.query", `"SMITH 1980-04-01"`,
				"event.action", `"pnc_person_search"`,
				"event.category", `"record_query"`,
				"user.id", `"u00042"`,
			),
			time: wantTime,
		},
		{
			name: "offset converted to UTC",
			line: `{"@timestamp":"2026-11-02T09:03:11.123+01:00","event.category":"record_query","event.action":"pnc_person_search","user.id":"u00042"}`,
			want: minimalFields,
			time: wantTime,
		},
		{
			name: "nanoseconds kept",
			line: `{"@timestamp":"2026-11-02T08:03:11.123456789Z","event.category":"record_query","event.action":"pnc_person_search","user.id":"u00042"}`,
			want: minimalFields,
			time: time.Date(2026, 11, 2, 8, 3, 11, 123456789, time.UTC),
		},
		{
			name: "optional checked fields",
			line: string(valid(`"event.outcome":"failure"`, `"event.id":"c-1"`, `"related.user":["u1","u2"]`,
				`"user.name":"Jo Bloggs"`, `"host.name":"ws-1"`)),
			want: fieldsOf(
				"event.action", `"pnc_person_search"`,
				"event.category", `"record_query"`,
				"event.id", `"c-1"`,
				"event.outcome", `"failure"`,
				"host.name", `"ws-1"`,
				"related.user", `["u1","u2"]`,
				"user.id", `"u00042"`,
				"user.name", `"Jo Bloggs"`,
			),
			time: wantTime,
		},
		{
			name: "related.user as a string",
			line: string(valid(`"related.user":"u7"`)),
			want: fieldsOf(
				"event.action", `"pnc_person_search"`,
				"event.category", `"record_query"`,
				"related.user", `"u7"`,
				"user.id", `"u00042"`,
			),
			time: wantTime,
		},
		{
			name: "other well-formed names are metadata",
			line: string(valid(`"labels.case_ref":"OP-12"`, `"x-custom":true`, `"Mixed_Case@1":[1,2]`)),
			want: fieldsOf(
				"Mixed_Case@1", `[1,2]`,
				"event.action", `"pnc_person_search"`,
				"event.category", `"record_query"`,
				"labels.case_ref", `"OP-12"`,
				"user.id", `"u00042"`,
				"x-custom", "true",
			),
			time: wantTime,
		},
		{
			name: "nested eight levels deep",
			line: string(valid(`"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}`)),
			want: append(fieldsOf("a.b.c.d.e.f.g.h.i", "1"), minimalFields...),
			time: wantTime,
		},
		{
			name: "empty content object",
			line: string(valid(`"content":{}`)),
			want: minimalFields,
			time: wantTime,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse([]byte(tt.line), "src-1")
			if err != nil {
				t.Fatalf("Parse(%q) error = %v", tt.line, err)
			}
			if diff := cmp.Diff(tt.want, e.Fields); diff != "" {
				t.Errorf("Parse(%q) fields (-want +got):\n%s", tt.line, diff)
			}
			if !e.Time.Equal(tt.time) || e.Time.Location() != time.UTC {
				t.Errorf("Parse(%q) time = %v, want %v in UTC", tt.line, e.Time, tt.time)
			}
			if e.Source != "src-1" {
				t.Errorf("Parse(%q) source = %q, want %q", tt.line, e.Source, "src-1")
			}
			if e.ID != (ID{}) {
				t.Errorf("Parse(%q) id = %v, want zero", tt.line, e.ID)
			}
			for _, f := range e.Fields {
				if f.Salt != ([SaltSize]byte{}) {
					t.Errorf("Parse(%q) field %s has a salt, want zero", tt.line, f.Name)
				}
			}
		})
	}
}

// TestParseForms checks that every way of writing one event, dotted, nested
// or mixed, in any order and with absent members spelt null or [], yields
// the same fields and so the same commitments.
func TestParseForms(t *testing.T) {
	want := fieldsOf(
		"content.body", `"Dear Sir"`,
		"content.subject", `"Re: case"`,
		"event.action", `"send"`,
		"event.category", `"email"`,
		"event.outcome", `"success"`,
		"host.name", `"mail-1"`,
		"related.user", `["u2","u3"]`,
		"user.id", `"u1"`,
	)
	forms := []string{
		// Nested.
		`{"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"email","action":"send","outcome":"success"},` +
			`"user":{"id":"u1"},"related":{"user":["u2","u3"]},"host":{"name":"mail-1"},` +
			`"content":{"subject":"Re: case","body":"Dear Sir"}}`,
		// Dotted.
		`{"@timestamp":"2026-11-02T08:03:11Z","event.category":"email","event.action":"send","event.outcome":"success",` +
			`"user.id":"u1","related.user":["u2","u3"],"host.name":"mail-1",` +
			`"content.subject":"Re: case","content.body":"Dear Sir"}`,
		// Mixed, reordered, with whitespace.
		` { "content" : { "body" : "Dear Sir" } , "content.subject":"Re: case", "user.id":"u1",` +
			` "event":{"outcome":"success"}, "event.action":"send", "event.category":["email"],` +
			` "host":{"name":"mail-1"}, "related.user":["u2","u3"], "@timestamp":"2026-11-02T08:03:11Z" } `,
		// Nulls, empty arrays and empty objects are absent.
		`{"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"email","action":"send","outcome":"success","id":null},` +
			`"user":{"id":"u1","name":null,"roles":[]},"related":{"user":["u2","u3"],"ip":[]},"host":{"name":"mail-1","ip":null},` +
			`"content":{"subject":"Re: case","body":"Dear Sir","attachments":[]},"labels":{},"tags":null,"geo":{"x":{"y":null}}}`,
		// The source's own source.id is accepted and dropped, dotted or nested.
		`{"@timestamp":"2026-11-02T08:03:11Z","event.category":"email","event.action":"send","event.outcome":"success",` +
			`"user.id":"u1","related.user":["u2","u3"],"host.name":"mail-1","source":{"id":"mail-gw"},` +
			`"content.subject":"Re: case","content.body":"Dear Sir"}`,
		`{"@timestamp":"2026-11-02T08:03:11Z","event.category":"email","event.action":"send","event.outcome":"success",` +
			`"user.id":"u1","related.user":["u2","u3"],"host.name":"mail-1","source.id":"mail-gw",` +
			`"content.subject":"Re: case","content.body":"Dear Sir"}`,
	}
	for _, line := range forms {
		e, err := Parse([]byte(line), "mail-gw")
		if err != nil {
			t.Errorf("Parse(%q) error = %v", line, err)
			continue
		}
		if diff := cmp.Diff(want, e.Fields); diff != "" {
			t.Errorf("Parse(%q) fields (-want +got):\n%s", line, diff)
		}
		if e.Source != "mail-gw" {
			t.Errorf("Parse(%q) source = %q, want %q", line, e.Source, "mail-gw")
		}
	}
}

func TestParseCategory(t *testing.T) {
	for _, c := range Categories {
		for _, member := range []string{
			fmt.Sprintf(`"event.category":%q`, c),
			fmt.Sprintf(`"event.category":[%q]`, c),
			fmt.Sprintf(`"event":{"category":[%q]}`, c),
		} {
			line := obj(memberTime, member, memberAction, memberUser)
			e, err := Parse(line, "s")
			if err != nil {
				t.Errorf("Parse(%q) error = %v", line, err)
				continue
			}
			if v, _ := e.Field("event.category"); string(v) != `"`+c+`"` {
				t.Errorf("Parse(%q) event.category = %s, want %q", line, v, c)
			}
		}
	}
}

// TestParseValues checks the canonical JSON of each kind of value: numbers
// that are equal commit alike, and strings escape only what JSON requires.
func TestParseValues(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// Numbers.
		{`1`, `1`},
		{`1.0`, `1`},
		{`1e0`, `1`},
		{`1E0`, `1`},
		{`10e-1`, `1`},
		{`0.1e1`, `1`},
		{`1.000`, `1`},
		{`-0`, `0`},
		{`-0.0`, `0`},
		{`0e5`, `0`},
		{`-42`, `-42`},
		{`-4.2e1`, `-42`},
		{`0.5`, `0.5`},
		{`1.50`, `1.5`},
		{`5e-1`, `0.5`},
		{`0.1`, `0.1`},
		{`1e-7`, `1e-07`},
		{`1e21`, `1e+21`},
		{`1.5e300`, `1.5e+300`},
		{`123456789012`, `123456789012`},
		{`1.23456789012e11`, `123456789012`},
		{`9223372036854775807`, `9223372036854775807`},
		{`-9223372036854775808`, `-9223372036854775808`},
		{`999999999999999999`, `999999999999999999`},
		// Booleans.
		{`true`, `true`},
		{`false`, `false`},
		// Strings: the text itself, escaping only " \ and control characters.
		{`"plain"`, `"plain"`},
		{`""`, `""`},
		{`"\u0041\u0062"`, `"Ab"`},
		{`"a\/b"`, `"a/b"`},
		{`"<a href='x'>&amp;</a>"`, `"<a href='x'>&amp;</a>"`},
		{`"\u003c\u003e\u0026"`, `"<>&"`},
		{`"say \"hi\""`, `"say \"hi\""`},
		{`"C:\\dir"`, `"C:\\dir"`},
		{`"\u005c"`, `"\\"`},
		{`"\u0022"`, `"\""`},
		{`"a\nb\rc\td"`, `"a\nb\rc\td"`},
		{`"\u000a\u000d\u0009"`, `"\n\r\t"`},
		{`"\b\f"`, `"\u0008\u000c"`},
		{`"\u0000\u001f\u001B"`, `"\u0000\u001f\u001b"`},
		{`"\u007f"`, "\"\x7f\""},
		{`"é"`, `"é"`},
		{`"\u00e9\u00E9"`, `"éé"`},
		{`"\u2028\u2029"`, "\"\u2028\u2029\""},
		{`"\ud83d\ude00"`, `"😀"`},
		{`"😀"`, `"😀"`},
		// Arrays of scalars, with the same rules element by element.
		{`[1,1.0,1e0]`, `[1,1,1]`},
		{` [ "a" , true , -0.0 ] `, `["a",true,0]`},
		{`["\u003c"]`, `["<"]`},
		{`[""]`, `[""]`},
	}
	for _, tt := range tests {
		line := valid(`"x":` + tt.in)
		e, err := Parse(line, "s")
		if err != nil {
			t.Errorf("Parse(%q) error = %v", line, err)
			continue
		}
		got, ok := e.Field("x")
		if !ok {
			t.Errorf("Parse(%q) has no field x", line)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("Parse(%q) x = %s, want %s", line, got, tt.want)
		}
		// The canonical form is a fixed point.
		line = valid(`"x":` + string(got))
		e, err = Parse(line, "s")
		if err != nil {
			t.Errorf("Parse(%q) error = %v", line, err)
			continue
		}
		if again, _ := e.Field("x"); string(again) != string(got) {
			t.Errorf("Parse(%q) x = %s, want %s (canonical form changed on reparse)", line, again, got)
		}
	}
}

func TestParseSourceID(t *testing.T) {
	for _, line := range [][]byte{
		valid(`"source.id":"gw-1"`),
		valid(`"source":{"id":"gw-1"}`),
		valid(`"source":{"id":"gw-1","ip":"10.0.0.1"}`),
	} {
		e, err := Parse(line, "gw-1")
		if err != nil {
			t.Errorf("Parse(%q, %q) error = %v", line, "gw-1", err)
			continue
		}
		if _, ok := e.Field("source.id"); ok {
			t.Errorf("Parse(%q, %q) kept source.id as a field", line, "gw-1")
		}
		if e.Source != "gw-1" {
			t.Errorf("Parse(%q, %q) source = %q, want %q", line, "gw-1", e.Source, "gw-1")
		}
	}
	for _, line := range [][]byte{
		valid(`"source.id":"gw-2"`),
		valid(`"source":{"id":"GW-1"}`),
		valid(`"source.id":""`),
		valid(`"source.id":["gw-1"]`),
		valid(`"source.id":1`),
	} {
		_, err := Parse(line, "gw-1")
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Field != "source.id" {
			t.Errorf("Parse(%q, %q) error = %v, want field %q", line, "gw-1", err, "source.id")
			continue
		}
		if !strings.Contains(pe.Msg, `"gw-1"`) {
			t.Errorf("Parse(%q, %q) error = %v, want the source's own id named", line, "gw-1", err)
		}
	}
}

// TestParseCopies checks that the event does not alias the line: the NDJSON
// reader reuses its buffer for the next line.
func TestParseCopies(t *testing.T) {
	line := valid(`"content.body":"secret"`, `"n":12`)
	e := mustParse(t, line, "s")
	want := make([]Field, len(e.Fields))
	for i, f := range e.Fields {
		want[i] = Field{Name: f.Name, Value: append([]byte(nil), f.Value...)}
	}
	for i := range line {
		line[i] = 'X'
	}
	if diff := cmp.Diff(want, e.Fields); diff != "" {
		t.Errorf("Parse fields changed after the line was overwritten (-before +after):\n%s", diff)
	}
}

// badInput is a line Parse must reject, naming field and saying msg.
type badInput struct {
	name  string
	line  []byte
	field string
	msg   string // a substring of ParseError.Msg
}

func badInputs() []badInput {
	nested := func(depth int) string {
		return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	}
	long := strings.Repeat("n", MaxNameBytes+1)
	manyFields := func(n int) []byte {
		extra := make([]string, n)
		for i := range extra {
			extra[i] = fmt.Sprintf(`"f%03d":%d`, i, i)
		}
		return valid(extra...)
	}
	return []badInput{
		// @timestamp.
		{"missing @timestamp", obj(memberCategory, memberAction, memberUser), "@timestamp", "required"},
		{"null @timestamp", obj(`"@timestamp":null`, memberCategory, memberAction, memberUser), "@timestamp", "required"},
		{"@timestamp not RFC 3339", obj(`"@timestamp":"02/11/2026 08:03"`, memberCategory, memberAction, memberUser), "@timestamp", "not RFC 3339"},
		{"@timestamp without zone", obj(`"@timestamp":"2026-11-02T08:03:11"`, memberCategory, memberAction, memberUser), "@timestamp", "not RFC 3339"},
		{"@timestamp date only", obj(`"@timestamp":"2026-11-02"`, memberCategory, memberAction, memberUser), "@timestamp", "not RFC 3339"},
		{"@timestamp impossible date", obj(`"@timestamp":"2026-02-30T00:00:00Z"`, memberCategory, memberAction, memberUser), "@timestamp", "not RFC 3339"},
		{"@timestamp number", obj(`"@timestamp":1793606591`, memberCategory, memberAction, memberUser), "@timestamp", "must be a string"},
		{"@timestamp before 1970", obj(`"@timestamp":"1969-12-31T23:59:59Z"`, memberCategory, memberAction, memberUser), "@timestamp", "out of range"},
		{"@timestamp after 2200", obj(`"@timestamp":"2201-01-01T00:00:00Z"`, memberCategory, memberAction, memberUser), "@timestamp", "out of range"},
		{"@timestamp zero", obj(`"@timestamp":"0001-01-01T00:00:00Z"`, memberCategory, memberAction, memberUser), "@timestamp", "out of range"},
		{"@timestamp object", obj(`"@timestamp":{"t":1}`, memberCategory, memberAction, memberUser), "@timestamp", "required"},
		{"@timestamp value and object", valid(`"@timestamp.t":1`), "@timestamp", "is both a value and an object"},
		// event.category.
		{"missing event.category", obj(memberTime, memberAction, memberUser), "event.category", "required"},
		{"empty event.category array", obj(memberTime, `"event.category":[]`, memberAction, memberUser), "event.category", "required"},
		{"unknown event.category", obj(memberTime, `"event.category":"printing"`, memberAction, memberUser), "event.category", `"printing" is not one of api, `},
		{"event.category in upper case", obj(memberTime, `"event.category":"API"`, memberAction, memberUser), "event.category", `"API" is not one of`},
		{"two-element event.category", obj(memberTime, `"event.category":["api","web"]`, memberAction, memberUser), "event.category", "one string or a one-element array"},
		{"event.category array of a number", obj(memberTime, `"event.category":[1]`, memberAction, memberUser), "event.category", "one string or a one-element array"},
		{"unknown event.category in array", obj(memberTime, `"event.category":["nope"]`, memberAction, memberUser), "event.category", `"nope" is not one of`},
		{"event.category number", obj(memberTime, `"event.category":7`, memberAction, memberUser), "event.category", "must be a string"},
		// event.action and user.id.
		{"missing event.action", obj(memberTime, memberCategory, memberUser), "event.action", "required"},
		{"blank event.action", obj(memberTime, memberCategory, `"event.action":" \t"`, memberUser), "event.action", "non-empty string"},
		{"event.action number", obj(memberTime, memberCategory, `"event.action":3`, memberUser), "event.action", "non-empty string"},
		{"missing user.id", obj(memberTime, memberCategory, memberAction), "user.id", "required"},
		{"empty user.id", obj(memberTime, memberCategory, memberAction, `"user.id":""`), "user.id", "non-empty string"},
		{"blank user.id", obj(memberTime, memberCategory, memberAction, `"user.id":"  "`), "user.id", "non-empty string"},
		{"user.id array", obj(memberTime, memberCategory, memberAction, `"user.id":["u1"]`), "user.id", "non-empty string"},
		// Optional checked fields.
		{"bad event.outcome", valid(`"event.outcome":"ok"`), "event.outcome", `"ok" is not one of failure, success, unknown`},
		{"event.outcome array", valid(`"event.outcome":["success"]`), "event.outcome", "must be a string"},
		{"empty event.id", valid(`"event.id":""`), "event.id", "non-empty string of at most 256 bytes"},
		{"long event.id", valid(`"event.id":"` + strings.Repeat("i", 257) + `"`), "event.id", "at most 256 bytes"},
		{"event.id number", valid(`"event.id":17`), "event.id", "non-empty string"},
		{"user.name number", valid(`"user.name":1`), "user.name", "must be a string"},
		{"host.name boolean", valid(`"host.name":true`), "host.name", "must be a string"},
		{"related.user numbers", valid(`"related.user":[1,2]`), "related.user", "array of strings"},
		{"related.user boolean", valid(`"related.user":true`), "related.user", "array of strings"},
		{"related.user empty element", valid(`"related.user":["u1",""]`), "related.user", "must not hold an empty string"},
		// Content.
		{"content as a string", valid(`"content":"body text"`), "content", "must be an object of content fields"},
		{"content as a number", valid(`"content":1`), "content", "must be an object of content fields"},
		{"content as an array", valid(`"content":["a"]`), "content", "must be an object of content fields"},
		// Values.
		{"array of objects", valid(`"tags":[{"a":1}]`), "tags", "arrays may hold only strings, numbers and booleans"},
		{"array of arrays", valid(`"tags":[[1]]`), "tags", "arrays may hold only strings, numbers and booleans"},
		{"array holding null", valid(`"tags":["a",null]`), "tags", "arrays must not hold null"},
		{"number out of range", valid(`"n":1e400`), "n", "number 1e400 out of range"},
		{"negative number out of range", valid(`"n":-1e309`), "n", "out of range"},
		{"value too long", valid(`"content.body":"` + strings.Repeat("b", MaxValueBytes-1) + `"`), "content.body", fmt.Sprintf("value longer than %d bytes", MaxValueBytes)},
		{"escaped value too long", valid(`"content.body":"` + strings.Repeat(`\u0001`, MaxValueBytes/6+1) + `"`), "content.body", "value longer than"},
		// Structure.
		{"dotted and nested user.id", valid(`"user":{"id":"u00043"}`), "user.id", "given twice (dotted and nested"},
		{"dotted and nested user.id, same value", valid(`"user":{"id":"u00042"}`), "user.id", "given twice"},
		{"value and object", valid(`"host":"ws-1"`, `"host.name":"ws-1"`), "host", "is both a value and an object"},
		{"value and nested object", valid(`"geo":1`, `"geo.x":{"y":2}`), "geo", "is both a value and an object"},
		{"user as a value", obj(memberTime, memberCategory, memberAction, `"user":"u1"`, `"user.id":"u1"`), "user", "is both a value and an object"},
		{"nested too deep", valid(`"a":` + nested(MaxDepth+2)), strings.Repeat("a.", MaxDepth) + "a", fmt.Sprintf("nested deeper than %d levels", MaxDepth)},
		// Names.
		{"space in name", valid(`"user name":"x"`), "user name", "field names use only letters, digits, '_', '-', '@' and '.'"},
		{"slash in name", valid(`"http/url":"x"`), "http/url", "field names use only"},
		{"non-ASCII name", valid(`"naïve":"x"`), "naïve", "field names use only"},
		{"bad nested key", valid(`"user":{"full name":"x"}`), "user.full name", "field names use only"},
		{"empty segment", valid(`"a..b":1`), "a..b", "empty segment in field name"},
		{"leading dot", valid(`".a":1`), ".a", "empty segment"},
		{"trailing dot", valid(`"a.":1`), "a.", "empty segment"},
		{"empty key", valid(`"":1`), "", "empty segment"},
		{"empty nested key", valid(`"labels":{"":1}`), "labels.", "empty segment"},
		{"name too long", valid(`"` + long + `":1`), long[:MaxNameBytes] + "…", fmt.Sprintf("name longer than %d bytes", MaxNameBytes)},
		{"nested name too long", valid(`"` + long[:100] + `":{"` + long[:40] + `":1}`), (long[:100] + "." + long[:40])[:MaxNameBytes] + "…", "name longer than"},
		// The line as a whole.
		{"invalid UTF-8", valid("\"user.name\":\"J\xffo\""), "", "not valid UTF-8"},
		{"overlong UTF-8", valid("\"user.name\":\"\xc0\xaf\""), "", "not valid UTF-8"},
		{"UTF-16 surrogate bytes", valid("\"user.name\":\"\xed\xa0\x80\""), "", "not valid UTF-8"},
		{"empty line", []byte(""), "", "not a JSON object"},
		{"blank line", []byte("  "), "", "not a JSON object"},
		{"array", []byte(`[` + string(valid()) + `]`), "", "not a JSON object"},
		{"string", []byte(`"event"`), "", "not a JSON object"},
		{"number", []byte(`42`), "", "not a JSON object"},
		{"null", []byte(`null`), "", "not a JSON object"},
		{"truncated", valid()[:40], "", "not a JSON object"},
		{"syntax error", []byte(`{"@timestamp":}`), "", "not a JSON object: invalid character"},
		{"trailing comma", []byte(`{"a":1,}`), "", "not a JSON object"},
		{"single quotes", []byte(`{'a':1}`), "", "not a JSON object"},
		{"two objects", append(valid(), valid()...), "", "more than one JSON value on the line"},
		{"two objects with space", append(append(valid(), ' '), valid()...), "", "more than one JSON value"},
		{"object then number", append(valid(), " 1"...), "", "more than one JSON value"},
		{"too many fields", manyFields(MaxFields - 2), "", fmt.Sprintf("more than %d fields", MaxFields)},
		{"line too long", valid(`"content.body":"` + strings.Repeat("b", MaxLineBytes) + `"`), "", fmt.Sprintf("longer than %d bytes", MaxLineBytes)},
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range badInputs() {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.line, "s")
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", short(tt.line), e.Fields)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error = %v (%T), want *ParseError", short(tt.line), err, err)
			}
			if pe.Field != tt.field {
				t.Errorf("Parse(%q) error = %v, want field %q", short(tt.line), err, tt.field)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Parse(%q) error = %v, want message containing %q", short(tt.line), err, tt.msg)
			}
			if pe.Line != 0 {
				t.Errorf("Parse(%q) error line = %d, want 0 (the caller knows the line)", short(tt.line), pe.Line)
			}
		})
	}
}

// TestParseLimits checks that each limit admits its boundary.
func TestParseLimits(t *testing.T) {
	t.Run("fields", func(t *testing.T) {
		extra := make([]string, MaxFields-len(minimalFields))
		for i := range extra {
			extra[i] = fmt.Sprintf(`"f%03d":%d`, i, i)
		}
		e := mustParse(t, valid(extra...), "s")
		if len(e.Fields) != MaxFields {
			t.Errorf("Parse(%d fields) has %d fields", MaxFields, len(e.Fields))
		}
	})
	t.Run("value", func(t *testing.T) {
		e := mustParse(t, valid(`"content.body":"`+strings.Repeat("b", MaxValueBytes-2)+`"`), "s")
		if v, _ := e.Field("content.body"); len(v) != MaxValueBytes {
			t.Errorf("Parse(value of %d bytes) value has %d bytes", MaxValueBytes, len(v))
		}
	})
	t.Run("name", func(t *testing.T) {
		name := strings.Repeat("a.", MaxNameBytes/2-1) + "bb"
		if len(name) != MaxNameBytes {
			t.Fatalf("test name has %d bytes, want %d", len(name), MaxNameBytes)
		}
		e := mustParse(t, valid(`"`+name+`":1`), "s")
		if _, ok := e.Field(name); !ok {
			t.Errorf("Parse(name of %d bytes) has no field %s", MaxNameBytes, name)
		}
	})
	t.Run("line", func(t *testing.T) {
		pad := MaxLineBytes - len(valid(`"content.body":""`, `"content.note":""`))
		line := valid(`"content.body":"`+strings.Repeat("b", pad/2)+`"`, `"content.note":"`+strings.Repeat("n", pad-pad/2)+`"`)
		if len(line) != MaxLineBytes {
			t.Fatalf("test line has %d bytes, want %d", len(line), MaxLineBytes)
		}
		mustParse(t, line, "s")
	})
	t.Run("years", func(t *testing.T) {
		for _, ts := range []string{"1970-01-01T00:00:00Z", "2200-12-31T23:59:59.999999999Z"} {
			mustParse(t, obj(`"@timestamp":"`+ts+`"`, memberCategory, memberAction, memberUser), "s")
		}
	})
}

func TestParseErrorString(t *testing.T) {
	tests := []struct {
		err  ParseError
		want string
	}{
		{ParseError{Line: 11, Field: "@timestamp", Msg: "not RFC 3339"}, "line 11: @timestamp: not RFC 3339"},
		{ParseError{Field: "user.id", Msg: "required"}, "user.id: required"},
		{ParseError{Line: 3, Msg: "not valid UTF-8"}, "line 3: not valid UTF-8"},
		{ParseError{Msg: "not a JSON object"}, "not a JSON object"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("(%+v).Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestEventAccessors(t *testing.T) {
	e := mustParse(t, valid(`"event.id":"retry-7"`, `"content.body":"x"`), "s")
	if got := e.Subject(); got != "u00042" {
		t.Errorf("Subject() = %q, want %q", got, "u00042")
	}
	if got := e.ClientID(); got != "retry-7" {
		t.Errorf("ClientID() = %q, want %q", got, "retry-7")
	}
	if v, ok := e.Field("event.action"); !ok || string(v) != `"pnc_person_search"` {
		t.Errorf("Field(%q) = %s, %v, want %s, true", "event.action", v, ok, `"pnc_person_search"`)
	}
	if v, ok := e.Field("event"); ok {
		t.Errorf("Field(%q) = %s, true, want absent", "event", v)
	}
	e = mustParse(t, valid(), "s")
	if got := e.ClientID(); got != "" {
		t.Errorf("ClientID() with no event.id = %q, want empty", got)
	}

	for _, tt := range []struct {
		name string
		want bool
	}{
		{"content.body", true},
		{"content.a.b", true},
		{"content", false},
		{"contents.body", false},
		{"content-type", false},
		{"user.content.body", false},
	} {
		if got := (Field{Name: tt.name}).IsContent(); got != tt.want {
			t.Errorf("Field{Name: %q}.IsContent() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRelatedUsers(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`"u1"`, []string{"u1"}, true},
		{`["u1","u2"]`, []string{"u1", "u2"}, true},
		{`["u1"]`, []string{"u1"}, true},
		{`""`, nil, false},
		{`[""]`, nil, false},
		{`[1]`, nil, false},
		{`7`, nil, false},
	}
	for _, tt := range tests {
		got, err := RelatedUsers([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("RelatedUsers(%s) error = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Field != "related.user" {
				t.Errorf("RelatedUsers(%s) error = %v, want field %q", tt.in, err, "related.user")
			}
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("RelatedUsers(%s) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestStringValue(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`"abc"`, "abc", true},
		{`""`, "", true},
		{`"a\"b"`, `a"b`, true},
		{`"\u0001"`, "\x01", true},
		{`"`, "", false},
		{`abc`, "", false},
		{`1`, "", false},
		{`["a"]`, "", false},
		{``, "", false},
		{`"a" "b"`, "", false},
	}
	for _, tt := range tests {
		got, ok := StringValue([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("StringValue(%s) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseID(t *testing.T) {
	const s = "000102030405060708090a0b0c0d0e0f"
	id, err := ParseID(s)
	if err != nil {
		t.Fatalf("ParseID(%q) error = %v", s, err)
	}
	want := ID{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if id != want {
		t.Errorf("ParseID(%q) = %v, want %v", s, id, want)
	}
	if got := id.String(); got != s {
		t.Errorf("ID.String() = %q, want %q", got, s)
	}
	for _, bad := range []string{
		"",
		"000102030405060708090A0B0C0D0E0F",
		"000102030405060708090a0b0c0d0e0",
		"000102030405060708090a0b0c0d0e0f00",
		"000102030405060708090a0b0c0d0e0g",
		" 00102030405060708090a0b0c0d0e0f",
	} {
		if id, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) = %v, want error", bad, id)
		}
	}
}

// TestParseRegressions pins inputs that an earlier Parse got wrong.
func TestParseRegressions(t *testing.T) {
	const base = `"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"api","action":"x"}`
	for _, c := range []struct {
		name, line, field, msg string
	}{
		{"value and object around a dash name", `{` + base + `,"user.id":"u","x":"a","x-y":"b","x.z":"c"}`, "x", "is both a value and an object"},
		{"year checked in UTC, low", `{"@timestamp":"1970-01-01T00:30:00+01:00","event":{"category":"api","action":"x"},"user.id":"u"}`, "@timestamp", "out of range"},
		{"year checked in UTC, high", `{"@timestamp":"2200-12-31T23:00:00-05:00","event":{"category":"api","action":"x"},"user.id":"u"}`, "@timestamp", "out of range"},
		{"trailing brace", `{` + base + `,"user":{"id":"u"}}}`, "", "more than one JSON value"},
		{"trailing brackets", `{` + base + `,"user":{"id":"u"}}]]]`, "", "more than one JSON value"},
		{"repeated key", `{` + base + `,"user.id":"u","user.id":"v"}`, "user.id", "given twice"},
		{"lone surrogate", `{` + base + `,"user.id":"\ud800"}`, "", "surrogate"},
		{"comma fraction", `{"@timestamp":"2026-11-02T10:00:00,5Z","event":{"category":"api","action":"x"},"user.id":"u"}`, "@timestamp", "not RFC 3339"},
		{"ten fraction digits", `{"@timestamp":"2026-11-02T10:00:00.1234567891Z","event":{"category":"api","action":"x"},"user.id":"u"}`, "@timestamp", "not RFC 3339"},
		{"empty related user", `{` + base + `,"user.id":"u","related.user":""}`, "related.user", "must not be empty"},
	} {
		_, err := Parse([]byte(c.line), "pnc")
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Field != c.field || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%s: Parse(%q) = %v, want field %q and %q", c.name, c.line, err, c.field, c.msg)
		}
	}
	a, err := Parse([]byte(`{`+base+`,"user.id":"u","n":1e18}`), "pnc")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(`{`+base+`,"user.id":"u","n":1000000000000000000}`), "pnc")
	if err != nil {
		t.Fatal(err)
	}
	if va, _ := a.Field("n"); string(va) != "1000000000000000000" {
		t.Errorf("1e18 canonicalises to %s, want 1000000000000000000", va)
	}
	if va, _ := a.Field("n"); func() string { vb, _ := b.Field("n"); return string(vb) }() != string(va) {
		t.Errorf("1e18 and 1000000000000000000 canonicalise differently")
	}
}

func TestCheckFieldsRepeatedFieldCannotStandInForAMissingOne(t *testing.T) {
	e, err := Parse([]byte(`{"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"api","action":"x"},"user.id":"u"}`), "pnc")
	if err != nil {
		t.Fatal(err)
	}
	l := LeafOf(e)
	fs := []Field{e.Fields[0], e.Fields[0], e.Fields[1]}
	if err := CheckFields(l, fs, true); err == nil {
		t.Errorf("CheckFields(A, A, B of A, B, C, complete) = nil, want *CommitmentError")
	}
}
