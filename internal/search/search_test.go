package search

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lbm-project/lbm/internal/event"
)

var cmpEmpty = cmpopts.EquateEmpty()

func TestQuery(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"a I x ! 7", nil},
		{"The quick brown fox", []string{"brown", "fox", "quick", "the"}},
		{"Hello, hello HELLO!", []string{"hello"}},
		{"SMITH 1980-04-01", []string{"01", "04", "1980", "smith"}},
		{"e-mail O'Brien foo_bar a.b.cd", []string{"bar", "brien", "cd", "foo", "mail"}},
		{"line 1\nline\t2\r\n", []string{"line"}},
		{"fire🔥fox", []string{"fire", "fox"}},
		{"ab\xffcd\xc3", []string{"ab", "cd"}},
		// Unicode letters and digits, lower-cased rune by rune.
		{"École Straße ΑΘΗΝΑ İstanbul", []string{"istanbul", "straße", "école", "αθηνα"}},
		{"٣٤ ١", []string{"٣٤"}},
		// Combining marks stay in their word; no normalisation.
		{"nai\u0308ve naïve", []string{"nai\u0308ve", "naïve"}},
		{"हिन्दी भाषा", []string{"भाषा", "हिन्दी"}},
		{"東京都", []string{"東京都"}},
		// Length limits count runes, and drop rather than truncate.
		{strings.Repeat("a", 64) + " " + strings.Repeat("b", 65), []string{strings.Repeat("a", 64)}},
		{strings.Repeat("é", 64) + " " + strings.Repeat("ü", 65), []string{strings.Repeat("é", 64)}},
	} {
		if got := Query(c.text); !cmp.Equal(got, c.want, cmpEmpty) {
			t.Errorf("Query(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// eventWith parses a valid event with the given content object members.
func eventWith(t *testing.T, content string) *event.Event {
	t.Helper()
	line := `{"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"email","action":"send"},"user":{"id":"u00042","name":"Jane Smith"},"host":{"name":"mail01"},"content":{` + content + `}}`
	e, err := event.Parse([]byte(line), "mail")
	if err != nil {
		t.Fatalf("Parse(%s): %v", line, err)
	}
	return e
}

func TestTerms(t *testing.T) {
	for _, c := range []struct {
		content string
		want    []string
	}{
		{`"subject":"Re: case 17","body":"Dear Sir, please see the attached."`,
			[]string{"17", "attached", "case", "dear", "please", "re", "see", "sir", "the"}},
		// Escapes are decoded before tokenising.
		{`"body":"say \"hi\"\nline\u00e9 \u0041B"`, []string{"ab", "hi", "lineé", "say"}},
		// Numbers by their canonical text.
		{`"n":2026`, []string{"2026"}},
		{`"n":3.140`, []string{"14"}},
		{`"n":-12`, []string{"12"}},
		{`"n":1e21`, []string{"1e", "21"}},
		{`"n":1.5`, nil},
		// Arrays by their elements; booleans give nothing.
		{`"tags":["Alpha","beta gamma",42,true]`, []string{"42", "alpha", "beta", "gamma"}},
		{`"flag":true,"other":false`, nil},
		// Repeats across fields count once.
		{`"a":"same words","b":"Same WORDS"`, []string{"same", "words"}},
	} {
		e := eventWith(t, c.content)
		if got := Terms(e.Fields); !cmp.Equal(got, c.want, cmpEmpty) {
			t.Errorf("Terms(content {%s}) = %q, want %q", c.content, got, c.want)
		}
	}
}

func TestTermsIgnoresMetadata(t *testing.T) {
	e, err := event.Parse([]byte(`{"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"web","action":"browse"},"user":{"id":"u00042","name":"Jane Smith"}}`), "gw")
	if err != nil {
		t.Fatal(err)
	}
	if got := Terms(e.Fields); got != nil {
		t.Errorf("Terms(event without content) = %q, want nil", got)
	}
	if got := Terms(nil); got != nil {
		t.Errorf("Terms(nil) = %q, want nil", got)
	}
}

func TestTermsMalformedValues(t *testing.T) {
	fs := []event.Field{
		{Name: "content.a", Value: []byte(`"unterminated`)},
		{Name: "content.b", Value: []byte(`[1,`)},
		{Name: "content.c", Value: []byte(`[[["deep"]]]`)},
		{Name: "content.d", Value: nil},
		{Name: "content.e", Value: []byte(`{"obj":"ect"}`)},
		{Name: "content.f", Value: []byte(`"fine"`)},
	}
	if got, want := Terms(fs), []string{"fine"}; !cmp.Equal(got, want) {
		t.Errorf("Terms(malformed values) = %q, want %q", got, want)
	}
}

func TestTermsCap(t *testing.T) {
	// Words are written in descending order, so keeping the first in text
	// order differs from keeping the first in sorted order.
	words := func(from, to int) string {
		var b strings.Builder
		for i := from; i > to; i-- {
			fmt.Fprintf(&b, "w%04d ", i)
		}
		return b.String()
	}
	e := eventWith(t, `"a":"`+words(999, -1)+`","b":"`+words(1999, 999)+`"`)
	got := Terms(e.Fields)
	if len(got) != MaxTerms {
		t.Fatalf("Terms(2000 distinct words) gave %d terms, want %d", len(got), MaxTerms)
	}
	// content.a's 1000 words, then the first 24 of content.b.
	want := Query(words(999, -1) + words(1999, 1975))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Terms kept the wrong terms (-want +got):\n%s", diff)
	}
	if q := Query(words(1999, -1)); len(q) != MaxTerms {
		t.Errorf("Query(2000 distinct words) gave %d terms, want %d", len(q), MaxTerms)
	}
	// Repeats do not count towards the cap, before or after it is near.
	few := strings.Repeat(words(9, -1), 300)
	if got, want := Query(few), Query(words(9, -1)); !cmp.Equal(got, want) {
		t.Errorf("Query(10 words × 300) = %d terms, want %d", len(got), len(want))
	}
	repeated := words(999, 499) + words(999, -1) + words(1999, 999)
	if got, want := Query(repeated), Query(words(999, -1)+words(1999, 1975)); !cmp.Equal(got, want) {
		t.Errorf("Query(2000 distinct words, some repeated) kept the wrong terms:\n%s", cmp.Diff(want, got))
	}
}

func BenchmarkTerms(b *testing.B) {
	e, err := event.Parse([]byte(`{"@timestamp":"2026-11-02T08:03:11Z","event":{"category":"email","action":"send"},"user":{"id":"u00042"},"content":{"subject":"Re: case 17","body":"Dear Sir,\nPlease see the attached statement from the witness, taken on Tuesday at the station. Regards, J. Smith"}}`), "mail")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Terms(e.Fields)
	}
}
