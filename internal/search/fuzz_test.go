package search

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/event"
)

func isTokenRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// reference is the tokeniser written the obvious way, as the fuzz target's
// independent truth: lower-case the text, split it on separators, keep the
// first MaxTerms distinct tokens of allowed length, sort.
func reference(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, tok := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !isTokenRune(r) }) {
		if n := utf8.RuneCountInString(tok); n < MinTermRunes || n > MaxTermRunes || seen[tok] {
			continue
		}
		seen[tok] = true
		if out = append(out, tok); len(out) == MaxTerms {
			break
		}
	}
	slices.Sort(out)
	return out
}

// checkTerms checks what every output of Terms and Query must be.
func checkTerms(t *testing.T, what string, terms []string) {
	t.Helper()
	if len(terms) > MaxTerms {
		t.Fatalf("%s: %d terms, more than %d", what, len(terms), MaxTerms)
	}
	if terms != nil && len(terms) == 0 {
		t.Fatalf("%s: empty, not nil", what)
	}
	for i, term := range terms {
		if i > 0 && terms[i-1] >= term {
			t.Fatalf("%s: %q then %q: not sorted and unique", what, terms[i-1], term)
		}
		if !utf8.ValidString(term) {
			t.Fatalf("%s: term %q is not UTF-8", what, term)
		}
		if n := utf8.RuneCountInString(term); n < MinTermRunes || n > MaxTermRunes {
			t.Fatalf("%s: term %q has %d runes", what, term, n)
		}
		for _, r := range term {
			if !isTokenRune(r) || unicode.ToLower(r) != r {
				t.Fatalf("%s: term %q holds %U", what, term, r)
			}
		}
		// A term is its own only token, so a query for it finds it.
		if q := Query(term); len(q) != 1 || q[0] != term {
			t.Fatalf("%s: Query(%q) = %q, want the term itself", what, term, q)
		}
	}
}

// FuzzTerms checks the tokeniser on arbitrary text: it never panics, agrees
// with the reference, obeys the rules on every term, tokenises a string
// content value as Query tokenises the same text, and finds every term of a
// query in a document that contains the query's text.
func FuzzTerms(f *testing.F) {
	for _, s := range []string{
		"", "The quick brown fox", "SMITH 1980-04-01", "e-mail O'Brien", "ab\xffcd\xc3",
		"École Straße ΑΘΗΝΑ İstanbul", "nai\u0308ve", "हिन्दी भाषा", "東京都", "٣٤", "fire🔥fox",
		"\u0301\u0301 x\u0301", strings.Repeat("a", 64) + " " + strings.Repeat("b", 65),
	} {
		f.Add(s, "dear sir")
	}
	// The content of the event package's testdata, as real-world seeds.
	b, err := os.ReadFile("../event/testdata/events.ndjson")
	if err != nil {
		f.Fatalf("reading seeds: %v", err)
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		e, err := event.Parse(line, "fuzz-src")
		if err != nil {
			continue
		}
		for _, fl := range e.Fields {
			if s, ok := event.StringValue(fl.Value); ok && fl.IsContent() {
				f.Add(s, "")
			}
		}
	}
	f.Fuzz(func(t *testing.T, text, other string) {
		q := Query(text)
		checkTerms(t, "Query", q)
		if want := reference(text); !slices.Equal(q, want) {
			t.Fatalf("Query(%q) = %q, reference says %q", text, q, want)
		}
		lower := strings.ToLower(text)
		for _, term := range q {
			if !strings.Contains(lower, term) {
				t.Fatalf("Query(%q): term %q is not in the text", text, term)
			}
		}

		body := []event.Field{{Name: "content.body", Value: event.AppendString(nil, text)}}
		if got := Terms(body); !slices.Equal(got, q) {
			t.Fatalf("Terms(content.body=%q) = %q, but Query gives %q", text, got, q)
		}

		// A document holding the query text, among other text, holds its terms.
		arr := event.AppendString([]byte("[12,"), other+" "+text+" "+other)
		arr = append(arr, ",true]"...)
		doc := []event.Field{
			{Name: "content.a", Value: event.AppendString(nil, other)},
			{Name: "content.b", Value: arr},
			{Name: "user.name", Value: event.AppendString(nil, text)},
		}
		terms := Terms(doc)
		checkTerms(t, "Terms", terms)
		if len(terms) < MaxTerms {
			for _, term := range q {
				if _, ok := slices.BinarySearch(terms, term); !ok {
					t.Fatalf("Terms of a document holding %q lack its term %q", text, term)
				}
			}
		}
	})
}
