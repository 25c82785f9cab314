package policy

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilesParse(t *testing.T) {
	ok := Files{Purposes: []byte(okPurposes), Legislation: []byte(okLegislation), Criteria: []byte(okCriteria), Categories: []byte(okCategories)}
	got, err := ok.Parse()
	if err != nil {
		t.Fatalf("Files.Parse() = %v", err)
	}
	want := Catalogue{
		Purposes:    []Purpose{{ID: "P", Title: "t", Explanation: "e", Reference: "r"}},
		Legislation: []Law{{ID: "L", Title: "t", Explanation: "e", Reference: "r"}},
		Criteria:    []Criterion{{ID: "C", Title: "t", Question: "q", Explanation: "e", Reference: "r"}},
		Categories:  Categories{{ID: "email", Title: "t", Collected: "c", Content: "x", RetentionMonths: 12, ContentRetentionMonths: 6}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Files.Parse() (-want +got):\n%s", diff)
	}

	// Each file is checked, categories.yaml as strictly as on its own:
	// the error names the file at fault.
	for _, c := range []struct {
		name string
		edit func(*Files)
		file string
	}{
		{"bad purposes", func(f *Files) { f.Purposes = []byte("purposes: []\n") }, purposesFile},
		{"bad criteria", func(f *Files) { f.Criteria = nil }, criteriaFile},
		{"no categories", func(f *Files) { f.Categories = nil }, categoriesFile},
		{"empty categories", func(f *Files) { f.Categories = []byte{} }, categoriesFile},
		{"unknown key", func(f *Files) {
			f.Categories = []byte("categories:\n  - {id: email, title: t, collected: c, content: x, retention_months: 12, content_retention_months: 6, keep: forever}\n")
		}, categoriesFile},
		{"months not canonical", func(f *Files) {
			f.Categories = []byte("categories:\n  - {id: email, title: t, collected: c, content: x, retention_months: 0x0C, content_retention_months: 6}\n")
		}, categoriesFile},
		{"content kept with no period", func(f *Files) {
			f.Categories = []byte("categories:\n  - {id: email, title: t, collected: c, content: x, retention_months: 12, content_retention_months: 0}\n")
		}, categoriesFile},
	} {
		f := ok
		c.edit(&f)
		_, err := f.Parse()
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != c.file {
			t.Errorf("%s: Files.Parse() = %v, want a *ParseError in %s", c.name, err, c.file)
		}
	}
}

func TestDefaultFiles(t *testing.T) {
	c, err := DefaultFiles().Parse()
	if err != nil {
		t.Fatalf("DefaultFiles().Parse() = %v", err)
	}
	if diff := cmp.Diff(Default(), c); diff != "" {
		t.Errorf("DefaultFiles().Parse() is not Default() (-Default +parsed):\n%s", diff)
	}
	if diff := cmp.Diff(DefaultCategories(), c.Categories); diff != "" {
		t.Errorf("DefaultFiles().Parse().Categories is not DefaultCategories() (-want +got):\n%s", diff)
	}
	// The project's defaults: routine activity 12 months, e-mail content 6.
	email, ok := c.Categories.Category("email")
	if !ok || email.RetentionMonths != 12 || email.ContentRetentionMonths != 6 {
		t.Errorf("default schedule for email = %+v, %v, want 12 and 6 months", email, ok)
	}
	for _, cat := range c.Categories {
		if cat.RetentionMonths != 12 {
			t.Errorf("default schedule for %s: metadata kept %d months, want 12", cat.ID, cat.RetentionMonths)
		}
	}
	f := DefaultFiles()
	f.Categories[0] = '!'
	if DefaultFiles().Categories[0] == '!' {
		t.Error("changing one DefaultFiles() changed the next")
	}
}

func TestDropped(t *testing.T) {
	cats := func(ids ...string) Categories {
		var out Categories
		for _, id := range ids {
			out = append(out, DataCategory{ID: id})
		}
		return out
	}
	for _, c := range []struct {
		name      string
		old, next Categories
		want      []string
	}{
		{"same", cats("email", "web"), cats("email", "web"), nil},
		{"reordered", cats("email", "web"), cats("web", "email"), nil},
		{"added", cats("email"), cats("email", "web"), nil},
		{"one dropped", cats("email", "web", "file"), cats("email", "file"), []string{"web"}},
		{"dropped and added", cats("email", "web"), cats("telephony"), []string{"email", "web"}},
		{"from none", nil, cats("email"), nil},
		{"to none", cats("email"), nil, []string{"email"}},
	} {
		if diff := cmp.Diff(c.want, c.old.Dropped(c.next)); diff != "" {
			t.Errorf("%s: Dropped (-want +got):\n%s", c.name, diff)
		}
	}
}
