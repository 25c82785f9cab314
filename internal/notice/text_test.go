package notice

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	h := func(s string) Block { return Block{Kind: Heading, Text: s} }
	p := func(s string) Block { return Block{Kind: Paragraph, Text: s} }
	l := func(items ...string) Block { return Block{Kind: List, Items: items} }
	for _, c := range []struct {
		in   string
		want []Block
	}{
		{"", nil},
		{"\n \n\r\n   ", nil},
		{"## Heading", []Block{h("Heading")}},
		{"##   Spaced   out  ", []Block{h("Spaced   out")}},
		{"  ## Indented heading", []Block{h("Indented heading")}},
		{"## ## Two", []Block{h("## Two")}},
		{"one\ntwo\n  three  \n", []Block{p("one two three")}},
		{"one\n\ntwo", []Block{p("one"), p("two")}},
		{"one\r\ntwo\r\n\r\nthree\r\n", []Block{p("one two"), p("three")}},
		{"## H\nText under it\n## H2", []Block{h("H"), p("Text under it"), h("H2")}},
		// Lists.
		{"- a\n- b", []Block{l("a", "b")}},
		{"- a\n\n\n- b", []Block{l("a", "b")}},
		{"Intro:\n- a\n-   b  ", []Block{p("Intro:"), l("a", "b")}},
		{"- a\n  wraps\n   again\n- b", []Block{l("a wraps again", "b")}},
		{"- a\nNot indented", []Block{l("a"), p("Not indented")}},
		{"- a\n\n  After a blank", []Block{l("a"), p("After a blank")}},
		{"- a\n  - nested\n- b", []Block{l("a", "nested", "b")}},
		{"- a\n## H\n- b", []Block{l("a"), h("H"), l("b")}},
		{"- a\npara\n- b", []Block{l("a"), p("para"), l("b")}},
		{"- ## not a heading", []Block{l("## not a heading")}},
		// Not markers: no space after them.
		{"##x", []Block{p("##x")}},
		{"-x", []Block{p("-x")}},
		{"# One hash\n### Three", []Block{p("# One hash ### Three")}},
		{"##\u00a0x", []Block{p("##\u00a0x")}},
		// Joiners are text; so is every script.
		{"a\u200db é ü 警察", []Block{p("a\u200db é ü 警察")}},
		// A notice is text, not HTML: markup is kept as it is, for the
		// template to escape.
		{"<script>alert(1)</script> &amp;", []Block{p("<script>alert(1)</script> &amp;")}},
	} {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q) = %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	lines := func(n int, line string) string { return strings.Repeat(line+"\n", n) }
	for _, c := range []struct {
		in   string
		want *FieldError
	}{
		{"ok\n\xff", &FieldError{Line: 2, Msg: "not valid UTF-8"}},
		{"ok\nok\n\xe2\x82", &FieldError{Line: 3, Msg: "not valid UTF-8"}},
		{"a\tb", &FieldError{Line: 1, Msg: "contains a tab (use spaces)"}},
		{"a\rb", &FieldError{Line: 1, Msg: "contains a carriage return that does not end the line"}},
		{"a\n\n\rb", &FieldError{Line: 3, Msg: "contains a carriage return that does not end the line"}},
		{"a\r\r\n", &FieldError{Line: 1, Msg: "contains a carriage return that does not end the line"}},
		{"safe\n\u202eevil", &FieldError{Line: 2, Msg: "contains the hidden character U+202E (control and formatting characters are not allowed)"}},
		{"a\u2028b", &FieldError{Line: 1, Msg: "contains the hidden character U+2028 (control and formatting characters are not allowed)"}},
		{"a\x00", &FieldError{Line: 1, Msg: "contains the hidden character U+0000 (control and formatting characters are not allowed)"}},
		{"a\x1b[2J", &FieldError{Line: 1, Msg: "contains the hidden character U+001B (control and formatting characters are not allowed)"}},
		{"a\u200bb", &FieldError{Line: 1, Msg: "contains the hidden character U+200B (control and formatting characters are not allowed)"}},
		{"\ufeffa", &FieldError{Line: 1, Msg: "contains the hidden character U+FEFF (control and formatting characters are not allowed)"}},
		// Hidden characters are refused in blank lines too.
		{"a\n \x7f\n", &FieldError{Line: 2, Msg: "contains the hidden character U+007F (control and formatting characters are not allowed)"}},
		{"## H\n\n##", &FieldError{Line: 3, Msg: `a heading needs text after "## "`}},
		{"##   ", &FieldError{Line: 1, Msg: `a heading needs text after "## "`}},
		{"- a\n-", &FieldError{Line: 2, Msg: `a bullet needs text after "- "`}},
		{"- a\n  -   \n", &FieldError{Line: 2, Msg: `a bullet needs text after "- "`}},
		// Bounds.
		{lines(MaxLines, "x") + "y", &FieldError{Line: MaxLines + 1, Msg: "more than 1000 lines of text"}},
		{lines(MaxLines, "x\n") + "y", &FieldError{Line: 2*MaxLines + 1, Msg: "more than 1000 lines of text"}},
		{strings.Repeat("é", MaxChars+1), &FieldError{Line: 1, Msg: "the text is longer than 20000 characters"}},
		{"## " + strings.Repeat("x", MaxChars/2) + "\n\n- " + strings.Repeat("y", MaxChars/2) + "\nz", &FieldError{Line: 4, Msg: "the text is longer than 20000 characters"}},
		// The space a paragraph's lines are joined with is text.
		{strings.Repeat("x", MaxChars/2) + "\n" + strings.Repeat("y", MaxChars/2), &FieldError{Line: 2, Msg: "the text is longer than 20000 characters"}},
		{"a\n" + strings.Repeat(" ", MaxBytes), &FieldError{Line: 2, Msg: "the text is longer than 100000 bytes"}},
	} {
		_, err := Parse(c.in)
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("Parse(%.40q) = %v, want %v", c.in, err, c.want)
			continue
		}
		if diff := cmp.Diff(c.want, fe); diff != "" {
			t.Errorf("Parse(%.40q) (-want +got):\n%s", c.in, diff)
		}
	}

	// The bounds are inclusive, and markers, indentation and line breaks
	// are not text.
	for _, in := range []string{
		strings.Repeat("x\n\n", MaxLines),
		strings.Repeat("é", MaxChars),
		"##   " + strings.Repeat("x", MaxChars/2) + "\n\n  -   " + strings.Repeat("y", MaxChars/2) + "\n",
		strings.Repeat("x", MaxChars/2) + "\n" + strings.Repeat("y", MaxChars/2-1),
		"a" + strings.Repeat("\n", MaxBytes-1),
	} {
		if _, err := Parse(in); err != nil {
			t.Errorf("Parse(%.40q…) = %v, want it accepted", in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	blocks := []Block{
		{Kind: Paragraph, Text: "Intro."},
		{Kind: Heading, Text: "What"},
		{Kind: List, Items: []string{"a", "b  c"}},
		{Kind: Paragraph, Text: "-x"},
		{Kind: Paragraph, Text: "End."},
	}
	const want = "Intro.\n\n## What\n\n- a\n- b  c\n\n-x\n\nEnd."
	if got := Format(blocks); got != want {
		t.Errorf("Format(%+v) = %q, want %q", blocks, got, want)
	}
	got, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(blocks, got); diff != "" {
		t.Errorf("Parse(Format(blocks)) (-blocks +got):\n%s", diff)
	}
	if got := Format(nil); got != "" {
		t.Errorf("Format(nil) = %q, want \"\"", got)
	}
	// Two lists in a row read back as one.
	two := []Block{{Kind: List, Items: []string{"a"}}, {Kind: List, Items: []string{"b"}}}
	if got, _ := Parse(Format(two)); !cmp.Equal(got, []Block{{Kind: List, Items: []string{"a", "b"}}}) {
		t.Errorf("Parse(Format(two lists)) = %+v, want one list", got)
	}
}

func TestFieldErrorMessage(t *testing.T) {
	for _, c := range []struct {
		e    FieldError
		want string
	}{
		{FieldError{"text", 3, `a heading needs text after "## "`}, `text: line 3: a heading needs text after "## "`},
		{FieldError{"title", 0, "empty"}, "title: empty"},
		{FieldError{"", 7, "not valid UTF-8"}, "line 7: not valid UTF-8"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%#v.Error() = %q, want %q", c.e, got, c.want)
		}
	}
}
