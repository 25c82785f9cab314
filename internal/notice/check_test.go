package notice

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/policy"
)

func TestCheckTitle(t *testing.T) {
	for _, ok := range []string{"x", "How we monitor the use of our systems", strings.Repeat("é", MaxTitleChars), "a\u200db"} {
		if err := CheckTitle(ok); err != nil {
			t.Errorf("CheckTitle(%q) = %v, want nil", ok, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", "empty"},
		{strings.Repeat("é", MaxTitleChars+1), "longer than 120 characters"},
		{"one\ntwo", "must be one line"},
		{"one\r\n", "must be one line"},
		{" padded", "starts or ends with a space"},
		{"padded\u00a0", "starts or ends with a space"},
		{"\xff", "not valid UTF-8"},
		{"a\tb", "contains the hidden character U+0009 (control and formatting characters are not allowed)"},
		{"\u202etitle", "contains the hidden character U+202E (control and formatting characters are not allowed)"},
	} {
		err := CheckTitle(c.in)
		want := &FieldError{Field: "title", Msg: c.want}
		var fe *FieldError
		if !errors.As(err, &fe) || !cmp.Equal(fe, want) {
			t.Errorf("CheckTitle(%q) = %#v, want %#v", c.in, err, want)
		}
	}
}

func TestCheckText(t *testing.T) {
	if err := CheckText("## H\nText."); err != nil {
		t.Errorf("CheckText(ok) = %v", err)
	}
	for _, c := range []struct {
		in   string
		want *FieldError
	}{
		{"", &FieldError{Field: "text", Msg: "empty"}},
		{" \n\r\n", &FieldError{Field: "text", Msg: "empty"}},
		{"ok\n##", &FieldError{Field: "text", Line: 2, Msg: `a heading needs text after "## "`}},
	} {
		var fe *FieldError
		if err := CheckText(c.in); !errors.As(err, &fe) || !cmp.Equal(fe, c.want) {
			t.Errorf("CheckText(%q) = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestCheckShort(t *testing.T) {
	for _, ok := range []string{
		"One sentence.",
		"One paragraph\nover two lines.\n\nAnd another.",
		strings.Repeat("x", MaxShortChars),
		strings.Repeat("x", MaxShortChars/2) + "\n" + strings.Repeat("x", MaxShortChars/2-1),
	} {
		if err := CheckShort(ok); err != nil {
			t.Errorf("CheckShort(%.40q) = %v, want nil", ok, err)
		}
	}
	for _, c := range []struct {
		in   string
		want *FieldError
	}{
		{"", &FieldError{Field: "short", Msg: "empty"}},
		{"Text.\n\n## Heading", &FieldError{Field: "short", Line: 3, Msg: "a short text has no headings: write plain sentences"}},
		{"Text:\n- bullet", &FieldError{Field: "short", Line: 2, Msg: "a short text has no bullets: write plain sentences"}},
		{strings.Repeat("x", MaxShortChars+1), &FieldError{Field: "short", Msg: "longer than 600 characters"}},
		{strings.Repeat("x", MaxShortChars/2) + "\n\n" + strings.Repeat("x", MaxShortChars/2+1), &FieldError{Field: "short", Msg: "longer than 600 characters"}},
		{"a\u202e", &FieldError{Field: "short", Line: 1, Msg: "contains the hidden character U+202E (control and formatting characters are not allowed)"}},
	} {
		var fe *FieldError
		if err := CheckShort(c.in); !errors.As(err, &fe) || !cmp.Equal(fe, c.want) {
			t.Errorf("CheckShort(%.40q) = %v, want %v", c.in, err, c.want)
		}
	}
}

func okDraft() Draft {
	return Draft{
		Title:       "Title",
		Text:        "## What\nText.",
		Short:       "Short.",
		PublicText:  "Public.",
		PublicShort: "Footer.",
		Categories:  []string{"authentication", "email"},
	}
}

func TestCheckDraft(t *testing.T) {
	cats := policy.DefaultCategories()
	if err := CheckDraft(okDraft(), cats); err != nil {
		t.Fatalf("CheckDraft(ok) = %v", err)
	}

	bad := Draft{
		Title:       "",
		Text:        "ok\n\n-",
		Short:       "## No",
		PublicText:  "",
		PublicShort: "- No",
		Categories:  nil,
	}
	err := CheckDraft(bad, cats)
	want := FieldErrors{
		{Field: "title", Msg: "empty"},
		{Field: "text", Line: 3, Msg: `a bullet needs text after "- "`},
		{Field: "short", Line: 1, Msg: "a short text has no headings: write plain sentences"},
		{Field: "public_text", Msg: "empty"},
		{Field: "public_short", Line: 1, Msg: "a short text has no bullets: write plain sentences"},
		{Field: "categories", Msg: "empty (a notice tells staff about at least one category)"},
	}
	var got FieldErrors
	if !errors.As(err, &got) {
		t.Fatalf("CheckDraft(bad) = %#v, want FieldErrors", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CheckDraft(bad) (-want +got):\n%s", diff)
	}
	// errors.As finds the first field's error, as a form needs.
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "title" {
		t.Errorf("errors.As(CheckDraft(bad), *FieldError) = %v, want the title's", fe)
	}
	if !strings.HasPrefix(err.Error(), "title: empty; text: line 3: ") {
		t.Errorf("CheckDraft(bad).Error() = %q", err.Error())
	}

	for _, c := range []struct {
		cats []string
		want string
	}{
		{[]string{"email", "authentication"}, "want sorted ids without repeats, not authentication after email"},
		{[]string{"email", "email"}, "want sorted ids without repeats, not email after email"},
		{[]string{"email", "print"}, "unknown category print"},
		{[]string{"EMAIL"}, "unknown category EMAIL"},
		{[]string{"e mail"}, `unknown category "e mail"`},
	} {
		d := okDraft()
		d.Categories = c.cats
		err := CheckDraft(d, cats)
		want := FieldErrors{{Field: "categories", Msg: c.want}}
		if got, ok := err.(FieldErrors); !ok || !cmp.Equal(got, want) {
			t.Errorf("CheckDraft(categories %q) = %v, want %v", c.cats, err, want)
		}
	}
	// The categories are checked against those given.
	if err := CheckDraft(okDraft(), nil); err == nil {
		t.Error("CheckDraft(ok, no categories) = nil, want unknown category")
	}
}
