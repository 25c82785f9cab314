package notice

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/safetext"
)

// Bounds on the short texts and the title, in characters.
const (
	// MaxShortChars bounds Short and PublicShort: they go on other
	// systems' sign-in screens, e-mail footers and auto-replies, where
	// nobody reads more than a few sentences.
	MaxShortChars = 600
	// MaxTitleChars bounds the title, which is one line.
	MaxTitleChars = 120
)

// A Draft is one version of the monitoring notice before it is stored:
// the fields of store.Notice that people write. Text and PublicText are
// notice texts ([Parse]); Short and PublicShort are short texts
// ([CheckShort]).
type Draft struct {
	Title string
	// Text is the notice staff read and acknowledge.
	Text string
	// Short is a few sentences for other systems' sign-in screens,
	// pointing to the full notice.
	Short string
	// PublicText is the notice for members of the public whose contact
	// with the organisation may be recorded.
	PublicText string
	// PublicShort is one or two sentences for e-mail footers and
	// auto-replies.
	PublicShort string
	// Categories are the ids of the data categories the notice tells
	// staff about, sorted and unique: an acknowledgement of the notice
	// covers those.
	Categories []string
}

// FieldErrors lists the problems with a draft, at most one per field, in
// the order of the fields of [Draft]. errors.As finds the first
// *[FieldError] in it; a form ranges over it to show each by its field.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the errors, for errors.As and errors.Is.
func (es FieldErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// CheckTitle checks a notice's title: one line of 1 to [MaxTitleChars]
// characters of valid UTF-8, without hidden characters ([safetext.Hidden])
// or surrounding spaces. A form should trim the spaces before it checks.
// The error is a *[FieldError] with Field "title".
func CheckTitle(title string) error {
	if err := checkLine(title, MaxTitleChars); err != nil {
		err.Field = "title"
		return err
	}
	return nil
}

// checkLine checks one line of text of at most limit characters.
func checkLine(s string, limit int) *FieldError {
	fail := func(format string, args ...any) *FieldError {
		return &FieldError{Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case s == "":
		return fail("empty")
	case !utf8.ValidString(s):
		return fail("not valid UTF-8")
	case strings.ContainsAny(s, "\r\n"):
		return fail("must be one line")
	case strings.ContainsFunc(s, safetext.Hidden):
		r, _ := utf8.DecodeRuneInString(s[strings.IndexFunc(s, safetext.Hidden):])
		return fail("contains the hidden character %U (control and formatting characters are not allowed)", r)
	case strings.TrimSpace(s) != s:
		return fail("starts or ends with a space")
	case utf8.RuneCountInString(s) > limit:
		return fail("longer than %d characters", limit)
	}
	return nil
}

// CheckText checks a notice text, for staff or for the public: it must
// parse ([Parse]) and hold some text. The error is a *[FieldError] with
// Field "text" and, where the problem is on one line, that line.
func CheckText(text string) error {
	if _, err := checkText("text", text); err != nil {
		return err
	}
	return nil
}

func checkText(field, text string) ([]Block, *FieldError) {
	blocks, _, err := parse(text)
	if err != nil {
		fe := err.(*FieldError)
		fe.Field = field
		return nil, fe
	}
	if len(blocks) == 0 {
		return nil, &FieldError{Field: field, Msg: "empty"}
	}
	return blocks, nil
}

// CheckShort checks a short text, for sign-in screens or e-mail footers:
// a notice text of one or more plain paragraphs (no headings, no bullets),
// with at most [MaxShortChars] characters of text. The error is a
// *[FieldError] with Field "short".
func CheckShort(short string) error {
	if err := checkShort("short", short); err != nil {
		return err
	}
	return nil
}

func checkShort(field, short string) *FieldError {
	blocks, lines, err := parse(short)
	if err != nil {
		fe := err.(*FieldError)
		fe.Field = field
		return fe
	}
	if len(blocks) == 0 {
		return &FieldError{Field: field, Msg: "empty"}
	}
	chars := 0
	for i, b := range blocks {
		switch b.Kind {
		case Heading:
			return &FieldError{Field: field, Line: lines[i], Msg: "a short text has no headings: write plain sentences"}
		case List:
			return &FieldError{Field: field, Line: lines[i], Msg: "a short text has no bullets: write plain sentences"}
		}
		chars += utf8.RuneCountInString(b.Text)
	}
	if chars > MaxShortChars {
		return &FieldError{Field: field, Msg: fmt.Sprintf("longer than %d characters", MaxShortChars)}
	}
	return nil
}

// CheckDraft checks every field of d: the title with [CheckTitle], Text
// and PublicText with [CheckText], Short and PublicShort with
// [CheckShort], and Categories, which must be sorted, unique, not empty,
// and each the id of one of cats (the categories in force when the draft
// is written). It returns nil or a [FieldErrors] with the first problem
// of each field at fault, named "title", "text", "short", "public_text",
// "public_short" and "categories".
func CheckDraft(d Draft, cats policy.Categories) error {
	var es FieldErrors
	if err := checkLine(d.Title, MaxTitleChars); err != nil {
		err.Field = "title"
		es = append(es, err)
	}
	if _, err := checkText("text", d.Text); err != nil {
		es = append(es, err)
	}
	if err := checkShort("short", d.Short); err != nil {
		es = append(es, err)
	}
	if _, err := checkText("public_text", d.PublicText); err != nil {
		es = append(es, err)
	}
	if err := checkShort("public_short", d.PublicShort); err != nil {
		es = append(es, err)
	}
	if err := checkCategories(d.Categories, cats); err != nil {
		es = append(es, err)
	}
	if es != nil {
		return es
	}
	return nil
}

func checkCategories(ids []string, cats policy.Categories) *FieldError {
	fail := func(format string, args ...any) *FieldError {
		return &FieldError{Field: "categories", Msg: fmt.Sprintf(format, args...)}
	}
	if len(ids) == 0 {
		return fail("empty (a notice tells staff about at least one category)")
	}
	for i, id := range ids {
		if _, ok := cats.Category(id); !ok {
			return fail("unknown category %s", safetext.Quote(id))
		}
		// Sorted and unique, so that two drafts covering the same
		// categories store the same list.
		if i > 0 && ids[i-1] >= id {
			return fail("want sorted ids without repeats, not %s after %s", safetext.Quote(id), safetext.Quote(ids[i-1]))
		}
	}
	return nil
}

// categoryIDs returns the ids of cats, sorted and unique.
func categoryIDs(cats policy.Categories) []string {
	ids := make([]string, len(cats))
	for i, c := range cats {
		ids[i] = c.ID
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
