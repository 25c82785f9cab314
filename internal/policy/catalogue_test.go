package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The ids of LEGAL.md, written out by hand so that the embedded files
// cannot drift from it unnoticed.
var (
	// LEGAL.md §1, in its order.
	legalPurposes = []string{
		"ESTABLISH_FACTS",
		"REGULATORY_COMPLIANCE",
		"STANDARDS",
		"NATIONAL_SECURITY",
		"PREVENT_DETECT_CRIME",
		"UNAUTHORISED_USE",
		"EFFECTIVE_OPERATION",
		"RELEVANCE_CHECK",
		"CONFIDENTIAL_HELPLINE",
	}
	// LEGAL.md §2, "Ids for the register".
	legalLaws = []string{
		"IPA_2016",
		"SI_2018_356",
		"DPA_2018_S62",
		"DPA_2018_S170",
		"DPA_2018_PART3",
		"UK_GDPR",
		"HRA_1998_ART8",
		"CMA_1990",
		"RIPA_2000_PART2",
		"POLICE_CONDUCT_2020",
		"POLICE_COMPLAINTS_MISCONDUCT_2020",
		"PIDA_1998",
		"MISCONDUCT_PUBLIC_OFFICE",
	}
	// LEGAL.md §3, in its order.
	legalCriteria = []string{
		"NOTICE",
		"EXTENT",
		"LEGITIMATE_REASON",
		"LESS_INTRUSIVE",
		"CONSEQUENCES",
		"SAFEGUARDS",
		"REMEDY",
	}
	// LEGAL.md §1: the purposes whose ref says "(verify".
	legalVerify = []string{
		"NATIONAL_SECURITY",
		"PREVENT_DETECT_CRIME",
		"UNAUTHORISED_USE",
		"EFFECTIVE_OPERATION",
		"RELEVANCE_CHECK",
		"CONFIDENTIAL_HELPLINE",
	}
	// LEGAL.md §1: "monitor only, never record".
	legalMonitorOnly = []string{"RELEVANCE_CHECK", "CONFIDENTIAL_HELPLINE"}
	// LEGAL.md §1: "only bodies listed in IPA s.18(1)".
	legalRestricted = []string{"NATIONAL_SECURITY"}
)

func ids[T any](items []T, id func(T) string, keep func(T) bool) []string {
	var out []string
	for _, it := range items {
		if keep == nil || keep(it) {
			out = append(out, id(it))
		}
	}
	return out
}

func purposeID(p Purpose) string     { return p.ID }
func lawID(l Law) string             { return l.ID }
func criterionID(k Criterion) string { return k.ID }

func TestDefaultIDs(t *testing.T) {
	c := Default()
	if diff := cmp.Diff(legalPurposes, ids(c.Purposes, purposeID, nil)); diff != "" {
		t.Errorf("Default().Purposes ids (-LEGAL.md §1 +catalogue):\n%s", diff)
	}
	if diff := cmp.Diff(legalLaws, ids(c.Legislation, lawID, nil)); diff != "" {
		t.Errorf("Default().Legislation ids (-LEGAL.md §2 +catalogue):\n%s", diff)
	}
	if diff := cmp.Diff(legalCriteria, ids(c.Criteria, criterionID, nil)); diff != "" {
		t.Errorf("Default().Criteria ids (-LEGAL.md §3 +catalogue):\n%s", diff)
	}
}

func TestDefaultLimits(t *testing.T) {
	c := Default()
	if diff := cmp.Diff(legalMonitorOnly, ids(c.Purposes, purposeID, func(p Purpose) bool { return p.MonitorOnly })); diff != "" {
		t.Errorf("purposes with monitor_only (-LEGAL.md +catalogue):\n%s", diff)
	}
	if diff := cmp.Diff(legalRestricted, ids(c.Purposes, purposeID, func(p Purpose) bool { return p.RestrictedTo != "" })); diff != "" {
		t.Errorf("purposes with restricted_to (-LEGAL.md +catalogue):\n%s", diff)
	}
	if p, _ := c.Purpose("NATIONAL_SECURITY"); !strings.Contains(p.RestrictedTo, "s.18(1)") {
		t.Errorf("NATIONAL_SECURITY restricted_to = %q, want the bodies of IPA 2016 s.18(1)", p.RestrictedTo)
	}
	if diff := cmp.Diff(legalVerify, ids(c.Purposes, purposeID, func(p Purpose) bool { return p.Verify })); diff != "" {
		t.Errorf("purposes with verify (-LEGAL.md +catalogue):\n%s", diff)
	}
	// LEGAL.md §2 marks nothing "(verify)".
	if got := ids(c.Legislation, lawID, func(l Law) bool { return l.Verify }); got != nil {
		t.Errorf("laws with verify = %v, want none", got)
	}
}

func TestDefaultText(t *testing.T) {
	c := Default()
	for _, p := range c.Purposes {
		if !strings.HasPrefix(p.Reference, "SI 2018/356 reg 3(") {
			t.Errorf("purpose %s reference = %q, want SI 2018/356 reg 3(…)", p.ID, p.Reference)
		}
	}
	const barbulescu = "Bărbulescu v Romania [GC] 2017, §121–122"
	for _, k := range c.Criteria {
		if k.Reference != barbulescu {
			t.Errorf("criterion %s reference = %q, want %q", k.ID, k.Reference, barbulescu)
		}
		if !strings.HasSuffix(k.Question, "?") {
			t.Errorf("criterion %s question = %q, want a question", k.ID, k.Question)
		}
	}
	if k, _ := c.Criterion("LEGITIMATE_REASON"); !strings.Contains(k.Explanation, "López Ribalda") {
		t.Errorf("LEGITIMATE_REASON explanation = %q, want it to cite López Ribalda (LEGAL.md §3)", k.Explanation)
	}
	// The notice condition of reg 3(1) and reg 4 is where people read it.
	if l, _ := c.Law("SI_2018_356"); !strings.Contains(l.Explanation, "all reasonable efforts to inform every person") {
		t.Errorf("SI_2018_356 explanation = %q, want the notice condition", l.Explanation)
	}
	// Titles are plain English, not ids.
	for _, p := range c.Purposes {
		if strings.Contains(p.Title, "_") {
			t.Errorf("purpose %s title = %q, want plain English", p.ID, p.Title)
		}
	}
	if p, _ := c.Purpose("PREVENT_DETECT_CRIME"); p.Title != "Prevent or detect crime" {
		t.Errorf("PREVENT_DETECT_CRIME title = %q, want %q", p.Title, "Prevent or detect crime")
	}
}

func TestLookups(t *testing.T) {
	c := Default()
	for i, id := range legalPurposes {
		if p, ok := c.Purpose(id); !ok || p != c.Purposes[i] {
			t.Errorf("Purpose(%q) = %+v, %v, want %+v, true", id, p, ok, c.Purposes[i])
		}
	}
	for i, id := range legalLaws {
		if l, ok := c.Law(id); !ok || l != c.Legislation[i] {
			t.Errorf("Law(%q) = %+v, %v, want %+v, true", id, l, ok, c.Legislation[i])
		}
	}
	for i, id := range legalCriteria {
		if k, ok := c.Criterion(id); !ok || k != c.Criteria[i] {
			t.Errorf("Criterion(%q) = %+v, %v, want %+v, true", id, k, ok, c.Criteria[i])
		}
	}
	// Each list is its own namespace, and ids match exactly.
	for _, id := range []string{"", "NOTICE", "prevent_detect_crime", "PREVENT_DETECT_CRIME "} {
		if p, ok := c.Purpose(id); ok {
			t.Errorf("Purpose(%q) = %+v, true, want false", id, p)
		}
	}
	if l, ok := c.Law("PREVENT_DETECT_CRIME"); ok {
		t.Errorf("Law(%q) = %+v, true, want false", "PREVENT_DETECT_CRIME", l)
	}
	if k, ok := c.Criterion("IPA_2016"); ok {
		t.Errorf("Criterion(%q) = %+v, true, want false", "IPA_2016", k)
	}
}

func TestDefaultIsACopy(t *testing.T) {
	c := Default()
	c.Purposes[0].MonitorOnly = true
	c.Legislation[0].Title = "changed"
	c.Criteria = c.Criteria[:0]
	c.Categories[0].RetentionMonths = 99
	d := Default()
	if d.Purposes[0].MonitorOnly || d.Legislation[0].Title == "changed" || len(d.Criteria) != len(legalCriteria) || d.Categories[0].RetentionMonths == 99 {
		t.Errorf("changing one Default() changed the next: %+v", d)
	}
}

func TestJSON(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{
			Purpose{ID: "A", Title: "t", Explanation: "e", Reference: "r", Verify: true, MonitorOnly: true, RestrictedTo: "b"},
			`{"id":"A","title":"t","explanation":"e","reference":"r","verify":true,"monitor_only":true,"restricted_to":"b"}`,
		},
		{
			Purpose{ID: "A", Title: "t", Explanation: "e", Reference: "r"},
			`{"id":"A","title":"t","explanation":"e","reference":"r","verify":false,"monitor_only":false}`,
		},
		{
			Law{ID: "A", Title: "t", Explanation: "e", Reference: "r", Verify: true},
			`{"id":"A","title":"t","explanation":"e","reference":"r","verify":true}`,
		},
		{
			Criterion{ID: "A", Title: "t", Question: "q", Explanation: "e", Reference: "r"},
			`{"id":"A","title":"t","question":"q","explanation":"e","reference":"r"}`,
		},
		{
			Catalogue{},
			`{"purposes":null,"legislation":null,"criteria":null,"categories":null}`,
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
	okPurposes    = "purposes:\n  - {id: P, title: t, explanation: e, reference: r}\n"
	okLegislation = "legislation:\n  - {id: L, title: t, explanation: e, reference: r}\n"
	okCriteria    = "criteria:\n  - {id: C, title: t, question: q, explanation: e, reference: r}\n"
)

// parse calls ParseCatalogue with in as file number which (0 purposes, 1
// legislation, 2 criteria) and valid files for the others.
func parse(which int, in string) (Catalogue, error) {
	files := []string{okPurposes, okLegislation, okCriteria}
	files[which] = in
	return ParseCatalogue([]byte(files[0]), []byte(files[1]), []byte(files[2]))
}

func TestParseCatalogue(t *testing.T) {
	c, err := ParseCatalogue([]byte(okPurposes), []byte(okLegislation), []byte(okCriteria))
	if err != nil {
		t.Fatal(err)
	}
	want := Catalogue{
		Purposes:    []Purpose{{ID: "P", Title: "t", Explanation: "e", Reference: "r"}},
		Legislation: []Law{{ID: "L", Title: "t", Explanation: "e", Reference: "r"}},
		Criteria:    []Criterion{{ID: "C", Title: "t", Question: "q", Explanation: "e", Reference: "r"}},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("ParseCatalogue(minimal) (-want +got):\n%s", diff)
	}

	for _, c := range []struct {
		in   string
		want []Purpose
	}{
		{
			"# comment\n---\npurposes:\n- id: A_1\n  title: 'Two: words'\n  explanation: >-\n    folded\n    text é\n  reference: \"x\"\n  verify: true\n  monitor_only: true\n  restricted_to: some bodies\n- id: " + strings.Repeat("Z", 64) + "\n  title: t\n  explanation: e\n  reference: r\n  verify: false\n",
			[]Purpose{
				{ID: "A_1", Title: "Two: words", Explanation: "folded text é", Reference: "x", Verify: true, MonitorOnly: true, RestrictedTo: "some bodies"},
				{ID: strings.Repeat("Z", 64), Title: "t", Explanation: "e", Reference: "r"},
			},
		},
		// Bounds are inclusive; zero-width joiners are text.
		{
			"purposes:\n  - id: A\n    title: " + strings.Repeat("t", 200) + "\n    explanation: " + strings.Repeat("e", 2000) + "\n    reference: " + strings.Repeat("r", 200) + "\n    restricted_to: \"a\\u200db\"\n",
			[]Purpose{{ID: "A", Title: strings.Repeat("t", 200), Explanation: strings.Repeat("e", 2000), Reference: strings.Repeat("r", 200), RestrictedTo: "a\u200db"}},
		},
		// An explicit tag that agrees with the value is harmless.
		{
			"purposes:\n  - {id: A, title: !!str 2018, explanation: e, reference: r, verify: !!bool true}\n",
			[]Purpose{{ID: "A", Title: "2018", Explanation: "e", Reference: "r", Verify: true}},
		},
	} {
		got, err := parse(0, c.in)
		if err != nil {
			t.Errorf("ParseCatalogue(%q, …) = %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got.Purposes); diff != "" {
			t.Errorf("ParseCatalogue(%q, …).Purposes (-want +got):\n%s", c.in, diff)
		}
	}

	// A question may be 500 bytes.
	q := strings.Repeat("q", 500)
	got, err := parse(2, "criteria:\n  - {id: C, title: t, question: "+q+", explanation: e, reference: r}\n")
	if err != nil || got.Criteria[0].Question != q {
		t.Errorf("ParseCatalogue(criteria with a 500-byte question) = %+v, %v", got.Criteria, err)
	}
}

func TestParseCatalogueErrors(t *testing.T) {
	const (
		P = 0 // purposes.yaml
		L = 1 // legislation.yaml
		C = 2 // criteria.yaml
	)
	item := func(extra string) string {
		return "purposes:\n  - id: A\n    title: t\n    explanation: e\n    reference: r\n" + extra
	}
	many := func(n int) string {
		var b strings.Builder
		b.WriteString("legislation:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {id: L%d, title: t, explanation: e, reference: r}\n", i)
		}
		return b.String()
	}
	for _, c := range []struct {
		which int
		in    string
		want  *ParseError
	}{
		// Missing and empty fields.
		{P, "purposes:\n  - id: A\n    explanation: e\n    reference: r\n", &ParseError{purposesFile, 2, "title", "missing"}},
		{P, "purposes:\n  - title: t\n    explanation: e\n    reference: r\n", &ParseError{purposesFile, 2, "id", "missing"}},
		{P, "purposes:\n  - id: A\n    title: t\n    reference: r\n", &ParseError{purposesFile, 2, "explanation", "missing"}},
		{P, "purposes:\n  - id: A\n    title: t\n    explanation: e\n", &ParseError{purposesFile, 2, "reference", "missing"}},
		{C, "criteria:\n  - {id: C, title: t, explanation: e, reference: r}\n", &ParseError{criteriaFile, 2, "question", "missing"}},
		{L, "legislation:\n  - {id: L, title: t, explanation: e, reference: r}\n  - ~\n", &ParseError{legislationFile, 3, "legislation", "want each item to be a mapping, not !!null"}},
		{L, "legislation:\n  - {id: L, title: t, explanation: e, reference: r}\n  -\n", &ParseError{legislationFile, 3, "legislation", "want each item to be a mapping, not !!null"}},
		{L, "legislation:\n  - {}\n", &ParseError{legislationFile, 2, "id", "missing"}},
		{L, "legislation:\n  - {id: L, title: '', explanation: e, reference: r}\n", &ParseError{legislationFile, 2, "title", "empty"}},
		{P, item("    restricted_to:\n"), &ParseError{purposesFile, 6, "restricted_to", "empty"}},
		{P, item("    restricted_to: ''\n"), &ParseError{purposesFile, 6, "restricted_to", "empty"}},
		// Wrong types.
		{P, "purposes:\n  - id: A\n    title: 2018\n    explanation: e\n    reference: r\n", &ParseError{purposesFile, 3, "title", "want text, not !!int (put it in quotes)"}},
		{P, "purposes:\n  - id: A\n    title: [t]\n    explanation: e\n    reference: r\n", &ParseError{purposesFile, 3, "title", "want text, not a list"}},
		{P, "purposes:\n  - id: A\n    title: {t: 1}\n    explanation: e\n    reference: r\n", &ParseError{purposesFile, 3, "title", "want text, not a mapping"}},
		{P, "purposes:\n  - id: A\n    title: !%E2%80%AE t\n    explanation: e\n    reference: r\n", &ParseError{purposesFile, 3, "title", `want text, not !\u202e (put it in quotes)`}},
		{P, item("    verify: yes\n"), &ParseError{purposesFile, 6, "verify", "want true or false"}},
		{P, item("    verify: True\n"), &ParseError{purposesFile, 6, "verify", "want true or false"}},
		{P, item("    verify: 'true'\n"), &ParseError{purposesFile, 6, "verify", "want true or false"}},
		{P, item("    monitor_only: 1\n"), &ParseError{purposesFile, 6, "monitor_only", "want true or false"}},
		{L, "legislation:\n  - {id: L, title: t, explanation: e, reference: r, verify: ~}\n", &ParseError{legislationFile, 2, "verify", "want true or false"}},
		// Ids.
		{P, item("  - {id: A, title: t, explanation: e, reference: r}\n"), &ParseError{purposesFile, 6, "id", "duplicate id A (first at line 2)"}},
		{C, "criteria:\n  - {id: prevent, title: t, question: q, explanation: e, reference: r}\n", &ParseError{criteriaFile, 2, "id", "prevent is not an id (want A-Z, 0-9 and _, starting with a letter, at most 64 characters)"}},
		{C, "criteria:\n  - {id: 1A, title: t, question: q, explanation: e, reference: r}\n", &ParseError{criteriaFile, 2, "id", "1A is not an id (want A-Z, 0-9 and _, starting with a letter, at most 64 characters)"}},
		{C, "criteria:\n  - {id: A-B, title: t, question: q, explanation: e, reference: r}\n", &ParseError{criteriaFile, 2, "id", "A-B is not an id (want A-Z, 0-9 and _, starting with a letter, at most 64 characters)"}},
		{C, "criteria:\n  - {id: \"A\\e\", title: t, question: q, explanation: e, reference: r}\n", &ParseError{criteriaFile, 2, "id", "contains the hidden character U+001B (text is one line, without control characters)"}},
		{C, "criteria:\n  - {id: \"A B\", title: t, question: q, explanation: e, reference: r}\n", &ParseError{criteriaFile, 2, "id", `"A B" is not an id (want A-Z, 0-9 and _, starting with a letter, at most 64 characters)`}},
		{P, "purposes:\n  - {id: " + strings.Repeat("A", 65) + ", title: t, explanation: e, reference: r}\n", &ParseError{purposesFile, 2, "id", "longer than 64 bytes"}},
		// Text.
		{P, "purposes:\n  - {id: A, title: " + strings.Repeat("t", 201) + ", explanation: e, reference: r}\n", &ParseError{purposesFile, 2, "title", "longer than 200 bytes"}},
		{P, "purposes:\n  - {id: A, title: t, explanation: " + strings.Repeat("e", 2001) + ", reference: r}\n", &ParseError{purposesFile, 2, "explanation", "longer than 2000 bytes"}},
		{L, "legislation:\n  - {id: A, title: t, explanation: e, reference: " + strings.Repeat("r", 201) + "}\n", &ParseError{legislationFile, 2, "reference", "longer than 200 bytes"}},
		{C, "criteria:\n  - {id: C, title: t, question: " + strings.Repeat("q", 501) + ", explanation: e, reference: r}\n", &ParseError{criteriaFile, 2, "question", "longer than 500 bytes"}},
		{P, item("    restricted_to: " + strings.Repeat("b", 201) + "\n"), &ParseError{purposesFile, 6, "restricted_to", "longer than 200 bytes"}},
		// 'é' is two bytes: the bounds are in bytes.
		{P, "purposes:\n  - {id: A, title: " + strings.Repeat("é", 101) + ", explanation: e, reference: r}\n", &ParseError{purposesFile, 2, "title", "longer than 200 bytes"}},
		{P, "purposes:\n  - id: A\n    title: t\n    explanation: >\n      folded\n    reference: r\n", &ParseError{purposesFile, 4, "explanation", "contains the hidden character U+000A (text is one line, without control characters)"}},
		{P, "purposes:\n  - {id: A, title: \"a\\tb\", explanation: e, reference: r}\n", &ParseError{purposesFile, 2, "title", "contains the hidden character U+0009 (text is one line, without control characters)"}},
		{P, "purposes:\n  - {id: A, title: \"\\u202Eevil\", explanation: e, reference: r}\n", &ParseError{purposesFile, 2, "title", "contains the hidden character U+202E (text is one line, without control characters)"}},
		{P, "purposes:\n  - {id: A, title: \"a\\u2028b\", explanation: e, reference: r}\n", &ParseError{purposesFile, 2, "title", "contains the hidden character U+2028 (text is one line, without control characters)"}},
		{P, "purposes:\n  - {id: A, title: \" t\", explanation: e, reference: r}\n", &ParseError{purposesFile, 2, "title", "starts or ends with a space"}},
		{L, "legislation:\n  - {id: A, title: t, explanation: e, reference: \"r\\u00a0\"}\n", &ParseError{legislationFile, 2, "reference", "starts or ends with a space"}},
		// Keys: unknown, misspelt, only on purposes, duplicated.
		{P, item("    monitor_onyl: true\n"), &ParseError{purposesFile, 6, "monitor_onyl", "unknown key (the keys are id, title, explanation, reference, verify, monitor_only, restricted_to)"}},
		{L, "legislation:\n  - {id: L, title: t, explanation: e, reference: r, monitor_only: true}\n", &ParseError{legislationFile, 2, "monitor_only", "unknown key (only purposes have monitor_only; the keys are id, title, explanation, reference, verify)"}},
		{C, "criteria:\n  - {id: C, title: t, question: q, explanation: e, reference: r, restricted_to: x}\n", &ParseError{criteriaFile, 2, "restricted_to", "unknown key (only purposes have restricted_to; the keys are id, title, question, explanation, reference)"}},
		{C, "criteria:\n  - {id: C, title: t, question: q, explanation: e, reference: r, verify: true}\n", &ParseError{criteriaFile, 2, "verify", "unknown key (the keys are id, title, question, explanation, reference)"}},
		{P, "purposes:\n  - {id: A, title: t, question: q, explanation: e, reference: r}\n", &ParseError{purposesFile, 2, "question", "unknown key (the keys are id, title, explanation, reference, verify, monitor_only, restricted_to)"}},
		{P, item("    title: u\n"), &ParseError{purposesFile, 6, "title", "duplicate of line 3"}},
		{P, okPurposes + "legislation: []\n", &ParseError{purposesFile, 3, "legislation", `unknown key (the only key is "purposes")`}},
		{P, "Purposes: []\n", &ParseError{purposesFile, 1, "Purposes", `unknown key (the only key is "purposes")`}},
		{P, "\"\\e[2J\": x\n", &ParseError{purposesFile, 1, `"\x1b[2J"`, `unknown key (the only key is "purposes")`}},
		// Shape.
		{P, "", &ParseError{purposesFile, 1, "", `empty file (want a "purposes" list)`}},
		{L, "# nothing\n", &ParseError{legislationFile, 1, "", `empty file (want a "legislation" list)`}},
		{C, "criteria:\n", &ParseError{criteriaFile, 1, "criteria", "missing (want a list of items)"}},
		{C, "{}\n", &ParseError{criteriaFile, 1, "criteria", "missing (want a list of items)"}},
		{C, "criteria: []\n", &ParseError{criteriaFile, 1, "criteria", "empty list (want at least one item)"}},
		{C, "criteria: x\n", &ParseError{criteriaFile, 1, "criteria", "want a list of items, not !!str"}},
		{C, "criteria:\n  - x\n", &ParseError{criteriaFile, 2, "criteria", "want each item to be a mapping, not !!str"}},
		{C, "- criteria\n", &ParseError{criteriaFile, 1, "", "want a mapping, not !!seq"}},
		{C, okCriteria + "---\n" + okCriteria, &ParseError{criteriaFile, 3, "", "more than one YAML document"}},
		// yaml.v3 gives the line where the construct it was reading began.
		{P, "purposes:\n  - {id: A\n", &ParseError{purposesFile, 1, "", "did not find expected ',' or '}'"}},
		{P, "purposes:\n  - id: A\n   title: t\n", &ParseError{purposesFile, 1, "", "did not find expected '-' indicator"}},
		// Anchors, aliases and merge keys.
		{P, "purposes:\n  - &a {id: A, title: t, explanation: e, reference: r}\n  - *a\n", &ParseError{purposesFile, 3, "", "aliases are not allowed (write each item out in full)"}},
		{P, "purposes:\n  - {id: A, title: &t t, explanation: e, reference: r}\n  - {id: B, title: *t, explanation: e, reference: r}\n", &ParseError{purposesFile, 3, "", "aliases are not allowed (write each item out in full)"}},
		{P, "purposes:\n  - id: A\n    <<: {title: t, explanation: e, reference: r}\n", &ParseError{purposesFile, 3, "<<", "merge keys are not allowed (write each item out in full)"}},
		// Bounds.
		{L, many(MaxItems + 1), &ParseError{legislationFile, 2, "legislation", "more than 1000 items"}},
		{L, "legislation:\n  - {id: L, title: t, explanation: e, reference: r}\n#" + strings.Repeat(" ", MaxFileSize), &ParseError{legislationFile, 0, "", "longer than 262144 bytes"}},
		{P, "purposes:\n  - {" + strings.Repeat("k: v, ", maxKeys+1) + "}\n", &ParseError{purposesFile, 2, "", "more than 16 keys in one mapping"}},
	} {
		_, err := parse(c.which, c.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseCatalogue(file %d = %q) = %v, want %v", c.which, c.in, err, c.want)
			continue
		}
		if diff := cmp.Diff(c.want, pe); diff != "" {
			t.Errorf("ParseCatalogue(file %d = %q) (-want +got):\n%s", c.which, c.in, diff)
		}
	}

	// The bounds are inclusive.
	if _, err := parse(L, many(MaxItems)); err != nil {
		t.Errorf("ParseCatalogue(%d laws) = %v", MaxItems, err)
	}
	in := okLegislation + "#"
	in += strings.Repeat(" ", MaxFileSize-len(in))
	if _, err := parse(L, in); err != nil {
		t.Errorf("ParseCatalogue(legislation of %d bytes) = %v", len(in), err)
	}
}

func TestParseErrorMessage(t *testing.T) {
	for _, c := range []struct {
		e    ParseError
		want string
	}{
		{ParseError{"purposes.yaml", 12, "title", "missing"}, "purposes.yaml: line 12: title: missing"},
		{ParseError{"criteria.yaml", 3, "", "more than one YAML document"}, "criteria.yaml: line 3: more than one YAML document"},
		{ParseError{"legislation.yaml", 0, "", "longer than 262144 bytes"}, "legislation.yaml: longer than 262144 bytes"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%#v.Error() = %q, want %q", c.e, got, c.want)
		}
	}
}

// TestEmbeddedFiles checks what the parser cannot: that every item the
// files ship says where it comes from.
func TestEmbeddedFiles(t *testing.T) {
	for _, name := range []string{purposesFile, legislationFile, criteriaFile} {
		b, err := embedded.ReadFile("catalogue/" + name)
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(string(b), "\n\n")
		for _, want := range []string{"SOURCE: LEGAL.md", "legal adviser"} {
			if !strings.Contains(head, want) {
				t.Errorf("%s: the comment at the top does not say %q", name, want)
			}
		}
	}
}
