package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
)

// DESIGN.md "Events": the categories lbm records, in its order, written out
// by hand so that the embedded file cannot drift from it unnoticed.
var designCategories = []string{"email", "web", "record_query", "file", "device", "authentication", "telephony"}

// LEGAL.md §5: vetting data about family and sickness absence are
// special-category or sensitive.
var legalSpecial = []string{"VETTED_FAMILY", "LEAVE_ABSENCE"}

func categoryID(c DataCategory) string { return c.ID }
func inputID(in DetectionInput) string { return in.ID }

func TestDefaultCategories(t *testing.T) {
	cs := DefaultCategories()
	if diff := cmp.Diff(designCategories, ids(cs, categoryID, nil)); diff != "" {
		t.Errorf("DefaultCategories() ids (-DESIGN.md +catalogue):\n%s", diff)
	}
	for _, c := range cs {
		// Events name these ids; a category event.Parse refuses would
		// never match anything.
		if !slices.Contains(event.Categories, c.ID) {
			t.Errorf("category %s is not an event.category that event.Parse accepts", c.ID)
		}
		// The project's defaults: routine activity 12 months, e-mail
		// content 6 months, other content 12.
		if c.RetentionMonths != 12 {
			t.Errorf("category %s retention_months = %d, want 12", c.ID, c.RetentionMonths)
		}
		want := 12
		switch {
		case c.Content == "":
			want = 0
		case c.ID == "email":
			want = 6
		}
		if c.ContentRetentionMonths != want {
			t.Errorf("category %s content_retention_months = %d, want %d", c.ID, c.ContentRetentionMonths, want)
		}
		if strings.Contains(c.Title, "_") {
			t.Errorf("category %s title = %q, want plain English", c.ID, c.Title)
		}
	}
	if c, _ := cs.Category("email"); c.Title != "E-mail" || c.Content == "" {
		t.Errorf(`Category("email") = %+v, want title E-mail with content`, c)
	}
}

func TestDefaultDetection(t *testing.T) {
	d := DefaultDetection()
	want := []string{"RESTRICTED_RECORDS", "OWN_SURNAME_ADDRESS", "VETTED_FAMILY", "LEAVE_ABSENCE",
		"STAFF_RECORDS", "WEBMAIL_DOMAINS", "STAFF_UNIT", "LEAVERS", "WORKING_PATTERN"}
	if diff := cmp.Diff(want, ids(d, inputID, nil)); diff != "" {
		t.Errorf("DefaultDetection() ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(legalSpecial, ids(d, inputID, func(in DetectionInput) bool { return in.SpecialCategory })); diff != "" {
		t.Errorf("special-category inputs (-LEGAL.md §5 +catalogue):\n%s", diff)
	}
	if in, _ := d.Input("VETTED_FAMILY"); in.Source != "vetting records" {
		t.Errorf("VETTED_FAMILY source = %q, want %q", in.Source, "vetting records")
	}
	if in, _ := d.Input("LEAVE_ABSENCE"); !strings.Contains(in.Explanation, "sickness") {
		t.Errorf("LEAVE_ABSENCE explanation = %q, want it to say it includes sickness absence", in.Explanation)
	}
}

func TestCategoryLookups(t *testing.T) {
	cs := DefaultCategories()
	for i, id := range designCategories {
		if c, ok := cs.Category(id); !ok || c != cs[i] {
			t.Errorf("Category(%q) = %+v, %v, want %+v, true", id, c, ok, cs[i])
		}
	}
	for _, id := range []string{"", "EMAIL", "email ", "print"} {
		if c, ok := cs.Category(id); ok {
			t.Errorf("Category(%q) = %+v, true, want false", id, c)
		}
	}
	d := DefaultDetection()
	for i, in := range d {
		if got, ok := d.Input(in.ID); !ok || got != d[i] {
			t.Errorf("Input(%q) = %+v, %v, want %+v, true", in.ID, got, ok, d[i])
		}
	}
	if in, ok := d.Input("vetted_family"); ok {
		t.Errorf("Input(%q) = %+v, true, want false", "vetted_family", in)
	}
	var none Categories
	if c, ok := none.Category("email"); ok {
		t.Errorf("Categories(nil).Category(email) = %+v, true, want false", c)
	}
}

func TestDefaultCategoriesIsACopy(t *testing.T) {
	cs := DefaultCategories()
	cs[0].RetentionMonths = 99
	d := DefaultDetection()
	d[2].SpecialCategory = false
	if DefaultCategories()[0].RetentionMonths == 99 || !DefaultDetection()[2].SpecialCategory {
		t.Error("changing one DefaultCategories() or DefaultDetection() changed the next")
	}
}

func TestCategoriesJSON(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{
			DataCategory{ID: "email", Title: "t", Collected: "c", Content: "x", RetentionMonths: 12, ContentRetentionMonths: 6},
			`{"id":"email","title":"t","collected":"c","content":"x","retention_months":12,"content_retention_months":6}`,
		},
		{
			DataCategory{ID: "device", Title: "t", Collected: "c", RetentionMonths: 12},
			`{"id":"device","title":"t","collected":"c","content":"","retention_months":12,"content_retention_months":0}`,
		},
		{
			DetectionInput{ID: "A", Title: "t", Explanation: "e", SpecialCategory: true, Source: "s"},
			`{"id":"A","title":"t","explanation":"e","special_category":true,"source":"s"}`,
		},
	} {
		b, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("json.Marshal(%#v) = %s, want %s", c.v, b, c.want)
		}
	}
}

// Minimal valid files.
const (
	okCategories = "categories:\n  - {id: email, title: t, collected: c, content: x, retention_months: 12, content_retention_months: 6}\n"
	okDetection  = "detection:\n  - {id: D, title: t, explanation: e, special_category: false, source: s}\n"
)

func TestParseCategories(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Categories
	}{
		{okCategories, Categories{{ID: "email", Title: "t", Collected: "c", Content: "x", RetentionMonths: 12, ContentRetentionMonths: 6}}},
		{
			"# comment\ncategories:\n- id: record_query\n  title: Searches\n  collected: >-\n    folded\n    text\n  content: ''\n  retention_months: 1\n  content_retention_months: 0\n" +
				"- {id: a" + strings.Repeat("z", 63) + ", title: " + strings.Repeat("t", 200) + ", collected: " + strings.Repeat("c", 500) + ", content: " + strings.Repeat("x", 500) + ", retention_months: 240, content_retention_months: 240}\n",
			Categories{
				{ID: "record_query", Title: "Searches", Collected: "folded text", RetentionMonths: 1},
				{ID: "a" + strings.Repeat("z", 63), Title: strings.Repeat("t", 200), Collected: strings.Repeat("c", 500), Content: strings.Repeat("x", 500), RetentionMonths: 240, ContentRetentionMonths: 240},
			},
		},
		// An explicit tag that agrees with the value is harmless.
		{
			"categories:\n  - {id: device, title: t, collected: c, content: !!str , retention_months: !!int 12, content_retention_months: 0}\n",
			Categories{{ID: "device", Title: "t", Collected: "c", RetentionMonths: 12}},
		},
	} {
		got, err := ParseCategories([]byte(c.in))
		if err != nil {
			t.Errorf("ParseCategories(%q) = %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseCategories(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestParseDetection(t *testing.T) {
	in := "detection:\n  - id: VETTED_FAMILY\n    title: Family\n    explanation: e\n    special_category: true\n    source: vetting records\n" + okDetection[len("detection:\n"):]
	want := Detection{
		{ID: "VETTED_FAMILY", Title: "Family", Explanation: "e", SpecialCategory: true, Source: "vetting records"},
		{ID: "D", Title: "t", Explanation: "e", Source: "s"},
	}
	got, err := ParseDetection([]byte(in))
	if err != nil {
		t.Fatalf("ParseDetection(%q) = %v", in, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseDetection(%q) (-want +got):\n%s", in, diff)
	}
}

func TestParseCategoriesErrors(t *testing.T) {
	item := func(fields string) string { return "categories:\n  - {" + fields + "}\n" }
	const all = "id: email, title: t, collected: c, content: x, retention_months: 12, content_retention_months: 6"
	for _, c := range []struct {
		in   string
		want *ParseError
	}{
		// Missing and empty fields.
		{item("title: t, collected: c, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "id", "missing"}},
		{item("id: email, collected: c, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "title", "missing"}},
		{item("id: email, title: t, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "collected", "missing"}},
		{item("id: email, title: t, collected: c, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "content", `missing (write content: "" when the category has no content)`}},
		{item("id: email, title: t, collected: c, content: , retention_months: 12, content_retention_months: 0"), &ParseError{categoriesFile, 2, "content", `empty (write "" when the category has no content)`}},
		{item("id: email, title: t, collected: c, content: x, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "missing (want a whole number of months from 1 to 240)"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: 12"), &ParseError{categoriesFile, 2, "content_retention_months", "missing (want a whole number of months from 0 to 240)"}},
		{item("id: email, title: '', collected: c, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "title", "empty"}},
		{"categories:\n  - " + okCategories[len("categories:\n  - "):] + "  - ~\n", &ParseError{categoriesFile, 3, "categories", "want each item to be a mapping, not !!null"}},
		// Content and its retention agree.
		{item("id: device, title: t, collected: c, content: '', retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "content_retention_months", `want 0 when content is ""`}},
		{"categories:\n  - id: email\n    title: t\n    collected: c\n    content: x\n    retention_months: 12\n    content_retention_months: 0\n", &ParseError{categoriesFile, 7, "content_retention_months", `want at least 1 when there is content (or content: "" when there is none)`}},
		// Months.
		{item("id: email, title: t, collected: c, content: x, retention_months: 0, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: 241, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: 12, content_retention_months: -1"), &ParseError{categoriesFile, 2, "content_retention_months", "want a whole number of months from 0 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: 99999999999999999999, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: '12', content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: 12.0, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: 0x0C, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: 012, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: +12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: [12], content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		{item("id: email, title: t, collected: c, content: x, retention_months: ~, content_retention_months: 6"), &ParseError{categoriesFile, 2, "retention_months", "want a whole number of months from 1 to 240"}},
		// Ids.
		{item("id: Email, title: t, collected: c, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "id", "Email is not a category id (want a-z, 0-9 and _, starting with a letter, at most 64 characters)"}},
		{item("id: record-query, title: t, collected: c, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "id", "record-query is not a category id (want a-z, 0-9 and _, starting with a letter, at most 64 characters)"}},
		{item("id: _x, title: t, collected: c, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "id", "_x is not a category id (want a-z, 0-9 and _, starting with a letter, at most 64 characters)"}},
		{item("id: a" + strings.Repeat("z", 64) + ", title: t, collected: c, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "id", "longer than 64 bytes"}},
		{okCategories + "  - {" + all + "}\n", &ParseError{categoriesFile, 3, "id", "duplicate id email (first at line 2)"}},
		// Text.
		{item("id: email, title: " + strings.Repeat("t", 201) + ", collected: c, content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "title", "longer than 200 bytes"}},
		{item("id: email, title: t, collected: " + strings.Repeat("c", 501) + ", content: x, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "collected", "longer than 500 bytes"}},
		{item("id: email, title: t, collected: c, content: " + strings.Repeat("x", 501) + ", retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "content", "longer than 500 bytes"}},
		{item(`id: email, title: t, collected: "a\u202eb", content: x, retention_months: 12, content_retention_months: 6`), &ParseError{categoriesFile, 2, "collected", "contains the hidden character U+202E (text is one line, without control characters)"}},
		{item(`id: email, title: t, collected: c, content: " x", retention_months: 12, content_retention_months: 6`), &ParseError{categoriesFile, 2, "content", "starts or ends with a space"}},
		{item("id: email, title: t, collected: c, content: 12, retention_months: 12, content_retention_months: 6"), &ParseError{categoriesFile, 2, "content", "want text, not !!int (put it in quotes)"}},
		// Keys.
		{item(all + ", retention: 12"), &ParseError{categoriesFile, 2, "retention", "unknown key (the keys are id, title, collected, content, retention_months, content_retention_months)"}},
		{item(all + ", verify: true"), &ParseError{categoriesFile, 2, "verify", "unknown key (the keys are id, title, collected, content, retention_months, content_retention_months)"}},
		{item(all + ", title: u"), &ParseError{categoriesFile, 2, "title", "duplicate of line 2"}},
		{okCategories + "detection: []\n", &ParseError{categoriesFile, 3, "detection", `unknown key (the only key is "categories")`}},
		// Shape.
		{"", &ParseError{categoriesFile, 1, "", `empty file (want a "categories" list)`}},
		{"categories: []\n", &ParseError{categoriesFile, 1, "categories", "empty list (want at least one item)"}},
		{"categories:\n  - email\n", &ParseError{categoriesFile, 2, "categories", "want each item to be a mapping, not !!str"}},
		{"categories:\n  - &a {" + all + "}\n  - *a\n", &ParseError{categoriesFile, 3, "", "aliases are not allowed (write each item out in full)"}},
		{okCategories + "#" + strings.Repeat(" ", MaxFileSize), &ParseError{categoriesFile, 0, "", "longer than 262144 bytes"}},
	} {
		_, err := ParseCategories([]byte(c.in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseCategories(%q) = %v, want %v", c.in, err, c.want)
			continue
		}
		if diff := cmp.Diff(c.want, pe); diff != "" {
			t.Errorf("ParseCategories(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestParseDetectionErrors(t *testing.T) {
	item := func(fields string) string { return "detection:\n  - {" + fields + "}\n" }
	const all = "id: D, title: t, explanation: e, special_category: false, source: s"
	many := func(n int) string {
		var b strings.Builder
		b.WriteString("detection:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {id: D%d, title: t, explanation: e, special_category: true, source: s}\n", i)
		}
		return b.String()
	}
	for _, c := range []struct {
		in   string
		want *ParseError
	}{
		{item("title: t, explanation: e, special_category: false, source: s"), &ParseError{detectionFile, 2, "id", "missing"}},
		{item("id: D, explanation: e, special_category: false, source: s"), &ParseError{detectionFile, 2, "title", "missing"}},
		{item("id: D, title: t, special_category: false, source: s"), &ParseError{detectionFile, 2, "explanation", "missing"}},
		{"detection:\n  - id: D\n    title: t\n    explanation: e\n    source: s\n", &ParseError{detectionFile, 2, "special_category", "missing (want true or false)"}},
		{item("id: D, title: t, explanation: e, special_category: false"), &ParseError{detectionFile, 2, "source", "missing"}},
		{item("id: D, title: t, explanation: e, special_category: yes, source: s"), &ParseError{detectionFile, 2, "special_category", "want true or false"}},
		{item("id: D, title: t, explanation: e, special_category: ~, source: s"), &ParseError{detectionFile, 2, "special_category", "want true or false"}},
		{item("id: D, title: t, explanation: e, special_category: false, source: " + strings.Repeat("s", 201)), &ParseError{detectionFile, 2, "source", "longer than 200 bytes"}},
		{item("id: D, title: t, explanation: " + strings.Repeat("e", 2001) + ", special_category: false, source: s"), &ParseError{detectionFile, 2, "explanation", "longer than 2000 bytes"}},
		{item("id: d, title: t, explanation: e, special_category: false, source: s"), &ParseError{detectionFile, 2, "id", "d is not an id (want A-Z, 0-9 and _, starting with a letter, at most 64 characters)"}},
		{item(`id: D, title: t, explanation: e, special_category: false, source: "a\nb"`), &ParseError{detectionFile, 2, "source", "contains the hidden character U+000A (text is one line, without control characters)"}},
		{okDetection + "  - {" + all + "}\n", &ParseError{detectionFile, 3, "id", "duplicate id D (first at line 2)"}},
		{item(all + ", special: true"), &ParseError{detectionFile, 2, "special", "unknown key (the keys are id, title, explanation, special_category, source)"}},
		{item(all + ", monitor_only: true"), &ParseError{detectionFile, 2, "monitor_only", "unknown key (only purposes have monitor_only; the keys are id, title, explanation, special_category, source)"}},
		{"Detection: []\n", &ParseError{detectionFile, 1, "Detection", `unknown key (the only key is "detection")`}},
		{"detection:\n", &ParseError{detectionFile, 1, "detection", "missing (want a list of items)"}},
		{"detection: x\n", &ParseError{detectionFile, 1, "detection", "want a list of items, not !!str"}},
		{"detection:\n  - id: D\n    <<: {title: t}\n", &ParseError{detectionFile, 3, "<<", "merge keys are not allowed (write each item out in full)"}},
		{okDetection + "---\n" + okDetection, &ParseError{detectionFile, 3, "", "more than one YAML document"}},
		{many(MaxItems + 1), &ParseError{detectionFile, 2, "detection", "more than 1000 items"}},
	} {
		_, err := ParseDetection([]byte(c.in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseDetection(%q) = %v, want %v", c.in, err, c.want)
			continue
		}
		if diff := cmp.Diff(c.want, pe); diff != "" {
			t.Errorf("ParseDetection(%q) (-want +got):\n%s", c.in, diff)
		}
	}
	if _, err := ParseDetection([]byte(many(MaxItems))); err != nil {
		t.Errorf("ParseDetection(%d items) = %v", MaxItems, err)
	}
}

// TestEmbeddedDataFiles checks what the parser cannot: that the files say
// where they come from and who must check them, and that the retention
// schedule says how it is changed.
func TestEmbeddedDataFiles(t *testing.T) {
	for name, wants := range map[string][]string{
		categoriesFile: {"SOURCE: DESIGN.md", "legal adviser", "under dual control", "lose their schedule"},
		detectionFile:  {"SOURCE: LEGAL.md", "legal adviser", "DPIA"},
	} {
		b, err := embedded.ReadFile("catalogue/" + name)
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(string(b), "\ncategories:\n")
		head, _, _ = strings.Cut(head, "\ndetection:\n")
		for _, want := range wants {
			if !strings.Contains(strings.Join(strings.Fields(head), " "), want) {
				t.Errorf("%s: the comment at the top does not say %q", name, want)
			}
		}
	}
}
