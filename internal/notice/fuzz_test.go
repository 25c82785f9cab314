package notice

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/safetext"
)

// FuzzParse checks that Parse never panics, that what it refuses it
// refuses with a *FieldError naming a line, and that what it accepts is
// well formed and survives a round trip: Format writes it back as text
// that parses to the same blocks, and that text is a fixed point of
// Format and Parse, so each notice has one canonical form.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	d, err := Default(Input{Catalogue: policy.Default(), Categories: policy.DefaultCategories(), Detection: policy.DefaultDetection(), Sources: []string{"exchange"}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{d.Text, d.Short, d.PublicText, d.PublicShort} {
		f.Add(s)
	}
	for _, s := range []string{"", "##", "- a\n\n- b\n  c", "a\r\nb\rc", "\u202e", "## x\n-\n", "a\xff", "  ## a\n\t- b"} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, text string) {
		blocks, err := Parse(text)
		if err != nil {
			fe, ok := err.(*FieldError)
			if !ok || fe.Line < 1 || fe.Msg == "" || fe.Field != "" {
				t.Fatalf("Parse(%q) = %#v, want a *FieldError naming a line", text, err)
			}
			return
		}
		chars := 0
		for _, b := range blocks {
			words := b.Items
			switch b.Kind {
			case Heading, Paragraph:
				words = []string{b.Text}
			case List:
				if len(b.Items) == 0 {
					t.Fatalf("Parse(%q) returned an empty list", text)
				}
			default:
				t.Fatalf("Parse(%q) returned a block of kind %q", text, b.Kind)
			}
			for _, w := range words {
				if w == "" || strings.TrimSpace(w) != w || !utf8.ValidString(w) || strings.ContainsFunc(w, safetext.Hidden) {
					t.Fatalf("Parse(%q) returned text %q, want one trimmed line of plain text", text, w)
				}
				chars += utf8.RuneCountInString(w)
			}
		}
		if chars > MaxChars {
			t.Fatalf("Parse(%q) accepted %d characters", text, chars)
		}
		out := Format(blocks)
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Format(Parse(%q))) = %v\n%s", text, err, out)
		}
		if diff := cmp.Diff(blocks, again); diff != "" {
			t.Fatalf("Parse(Format(Parse(%q))) (-first +again):\n%s", text, diff)
		}
		if got := Format(again); got != out {
			t.Fatalf("Format is not canonical: %q, then %q", out, got)
		}
	})
}
