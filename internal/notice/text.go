package notice

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/safetext"
)

// Bounds on a notice text. They keep the text something a person can read
// in one sitting and a page can render cheaply, and bound the work Parse
// does on hostile input.
const (
	// MaxBytes is the longest input Parse reads, in bytes, line breaks
	// and indentation included. It leaves room for MaxChars of any script
	// and MaxLines of markers.
	MaxBytes = 100_000
	// MaxChars is the most characters of text a notice may hold: the text
	// of its headings, paragraphs and items as a reader sees it, not
	// counting the "## " and "- " markers, indentation or line breaks.
	MaxChars = 20_000
	// MaxLines is the most lines holding text a notice may have. Blank
	// lines are not counted: MaxBytes bounds them.
	MaxLines = 1000
)

// A Kind is the kind of a [Block]. It is a string so that a template can
// compare it with a literal: {{if eq .Kind "heading"}}.
type Kind string

const (
	Heading   Kind = "heading"   // Text is the heading
	Paragraph Kind = "paragraph" // Text is the paragraph, its lines joined by spaces
	List      Kind = "list"      // Items are the bullets, in order
)

// A Block is one heading, paragraph or bulleted list of a notice. Text and
// Items are plain text, never HTML: the page that shows them escapes them.
// Parse returns blocks whose Text (or every item) is one non-empty line
// without surrounding spaces or hidden characters.
type Block struct {
	Kind  Kind     `json:"kind"`
	Text  string   `json:"text,omitempty"`
	Items []string `json:"items,omitempty"`
}

// A FieldError is one problem with a notice: the field it is in (one of
// "title", "text", "short", "public_text", "public_short", "categories",
// or "" from Parse, which does not know the field), the 1-based line
// (0 when the problem is not on one line), and what is wrong, for the
// person who wrote it. Every error this package returns for bad input is a
// *FieldError, or a [FieldErrors] holding one for each field at fault.
type FieldError struct {
	Field string
	Line  int
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse reads a notice text (see the package documentation for the
// format) and returns its blocks, in order; an empty or blank text has
// none. "\r\n" is read as a line break.
//
// It refuses, with a *[FieldError] naming the line: invalid UTF-8; control
// and formatting characters such as tabs, lone carriage returns and bidi
// overrides ([safetext.Hidden]); a heading or bullet with no text; more
// than [MaxLines] lines of text, [MaxChars] characters of text or
// [MaxBytes] bytes. The cost is linear in the length of the text.
func Parse(text string) ([]Block, error) {
	blocks, _, err := parse(text)
	return blocks, err
}

// The kind of the line before, which decides what a line continues.
type prevLine int

const (
	prevBlank prevLine = iota
	prevHeading
	prevParagraph
	prevItem
)

// parse is Parse, also returning the line each block starts on.
func parse(text string) (blocks []Block, lines []int, err error) {
	fail := func(line int, format string, args ...any) ([]Block, []int, error) {
		return nil, nil, &FieldError{Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(text) > MaxBytes {
		// Name the line the limit falls on, as for every other problem.
		return fail(strings.Count(text[:MaxBytes], "\n")+1, "the text is longer than %d bytes", MaxBytes)
	}
	var (
		prev  = prevBlank
		chars = 0 // characters of text so far
		full  = 0 // lines holding text so far
		// The last paragraph or item, which the next line may continue;
		// joining it here rather than in the block keeps Parse linear.
		open strings.Builder
	)
	add := func(b Block, n int) {
		blocks = append(blocks, b)
		lines = append(lines, n)
	}
	closeOpen := func() {
		if open.Len() == 0 {
			return
		}
		last := &blocks[len(blocks)-1]
		if last.Kind == List {
			last.Items[len(last.Items)-1] = open.String()
		} else {
			last.Text = open.String()
		}
		open.Reset()
	}
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimSuffix(line, "\r")
		if !utf8.ValidString(line) {
			return fail(n, "not valid UTF-8")
		}
		if i := strings.IndexFunc(line, safetext.Hidden); i >= 0 {
			r, _ := utf8.DecodeRuneInString(line[i:])
			switch r {
			case '\t':
				return fail(n, "contains a tab (use spaces)")
			case '\r':
				return fail(n, "contains a carriage return that does not end the line")
			}
			// The character is named, not shown: it may be one that
			// rewrites what the form or a terminal displays.
			return fail(n, "contains the hidden character %U (control and formatting characters are not allowed)", r)
		}
		t := strings.TrimSpace(line)
		if t == "" {
			closeOpen()
			prev = prevBlank
			continue
		}
		if full++; full > MaxLines {
			return fail(n, "more than %d lines of text", MaxLines)
		}
		// Only text is counted, so that Format, which rewrites markers,
		// indentation and line breaks, never pushes a text over the limit.
		var words string
		switch {
		case t == "##" || strings.HasPrefix(t, "## "):
			words = strings.TrimSpace(t[2:])
			if words == "" {
				return fail(n, `a heading needs text after "## "`)
			}
			closeOpen()
			add(Block{Kind: Heading, Text: words}, n)
			prev = prevHeading
		case t == "-" || strings.HasPrefix(t, "- "):
			words = strings.TrimSpace(t[1:])
			if words == "" {
				return fail(n, `a bullet needs text after "- "`)
			}
			closeOpen()
			// Bullets separated only by blank lines stay one list.
			if last := len(blocks) - 1; last >= 0 && blocks[last].Kind == List {
				blocks[last].Items = append(blocks[last].Items, "")
			} else {
				add(Block{Kind: List, Items: []string{""}}, n)
			}
			open.WriteString(words)
			prev = prevItem
		case prev == prevItem && startsWithSpace(line), prev == prevParagraph:
			// An indented line wraps the bullet above it; any other
			// line continues the paragraph above it.
			words = " " + t
			open.WriteString(words)
		default:
			words = t
			closeOpen()
			add(Block{Kind: Paragraph}, n)
			open.WriteString(words)
			prev = prevParagraph
		}
		if chars += utf8.RuneCountInString(words); chars > MaxChars {
			return fail(n, "the text is longer than %d characters", MaxChars)
		}
	}
	closeOpen()
	return blocks, lines, nil
}

func startsWithSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// Format writes blocks as notice text: a heading as "## " and its text, a
// paragraph as one line, a list as one "- " line per item, and a blank
// line between blocks, with no line break at the end. For blocks Parse
// returned, Parse(Format(blocks)) returns the same blocks; two lists in a
// row, which Parse never returns, come back as one.
//
// Format does not check its input: text holding a line break, or a
// paragraph starting with "## ", does not read back as it was.
func Format(blocks []Block) string {
	var b strings.Builder
	for i, bl := range blocks {
		if i > 0 {
			b.WriteString("\n\n")
		}
		switch bl.Kind {
		case Heading:
			b.WriteString("## ")
			b.WriteString(bl.Text)
		case List:
			for j, it := range bl.Items {
				if j > 0 {
					b.WriteByte('\n')
				}
				b.WriteString("- ")
				b.WriteString(it)
			}
		default:
			b.WriteString(bl.Text)
		}
	}
	return b.String()
}
