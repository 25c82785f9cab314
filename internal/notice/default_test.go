package notice

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lbm-project/lbm/internal/policy"
)

func defaultInput() Input {
	return Input{
		Catalogue:  policy.Default(),
		Categories: policy.DefaultCategories(),
		Detection:  policy.DefaultDetection(),
		Sources:    []string{"pnc-audit", "exchange", "pnc-audit"},
	}
}

func mustDefault(t *testing.T, in Input) Draft {
	t.Helper()
	d, err := Default(in)
	if err != nil {
		t.Fatalf("Default(%+v) = %v", in, err)
	}
	return d
}

// sections returns the text under each heading of a notice, keyed by the
// heading, and the headings in order.
func sections(t *testing.T, text string) (map[string]string, []string) {
	t.Helper()
	blocks, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(notice) = %v", err)
	}
	m := map[string]string{}
	var order []string
	cur := ""
	for _, b := range blocks {
		switch b.Kind {
		case Heading:
			cur = b.Text
			order = append(order, cur)
		case Paragraph:
			m[cur] += b.Text + "\n"
		case List:
			for _, it := range b.Items {
				m[cur] += "- " + it + "\n"
			}
		}
	}
	return m, order
}

func TestDefaultStaffText(t *testing.T) {
	in := defaultInput()
	d := mustDefault(t, in)
	sec, order := sections(t, d.Text)

	wantOrder := []string{headWhat, headWhen, headWhy, headLaw, headWho, headRetention, headDetection, headRights}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("staff notice headings (-want +got):\n%s", diff)
	}
	// Each point is under its own heading.
	for head, phrases := range map[string][]string{
		"": {
			"the organisation",
			"acknowledge this notice",
			"does not mean that you agree",
		},
		headWhat: {
			"metadata",
			"encrypted",
			"personal matters",
			"We record activity from these systems:",
		},
		headWhen: {
			"All the time: 24 hours a day, 7 days a week",
			"interception",
		},
		headWhy: {
			"to protect the public and to keep their trust in the organisation",
		},
		headLaw: {
			"all reasonable efforts to tell everyone",
			"your acknowledgement of it",
		},
		headWho: {
			"Only our anti-corruption unit can look",
			"An authoriser of the right rank must approve it",
			"the period it covers",
			"It lasts for a set time",
			"Every look at the records is itself recorded",
			"Independent oversight checks every authorisation and every look",
			"Nobody can read the content of your messages or documents without an authorisation",
		},
		headRetention: {
			"E-mail: details for 12 months, content for 6 months.",
			"Devices: details for 12 months (no content is kept).",
			"legal case",
		},
		headDetection: {
			"special category data",
			"data protection impact assessment (DPIA)",
			`"Family and associates declared in vetting" and "Leave and absence"`,
		},
		headRights: {
			"self-service page (/me)",
			"complain to the Data Protection Officer",
			"Information Commissioner's Office (ICO)",
		},
	} {
		for _, p := range phrases {
			if !strings.Contains(sec[head], p) {
				t.Errorf("staff notice section %q does not say %q:\n%s", head, p, sec[head])
			}
		}
	}

	for _, c := range in.Categories {
		if !strings.Contains(sec[headWhat], "- "+c.Title+": ") {
			t.Errorf("section %q does not list category %s", headWhat, c.ID)
		}
		if !strings.Contains(sec[headRetention], "- "+c.Title+": details for ") {
			t.Errorf("section %q does not list category %s", headRetention, c.ID)
		}
	}
	for _, s := range []string{"- exchange\n- pnc-audit\n"} {
		if !strings.Contains(sec[headWhat], s) {
			t.Errorf("section %q does not list the sources, sorted and unique, as %q:\n%s", headWhat, s, sec[headWhat])
		}
	}
	for _, p := range in.Catalogue.Purposes {
		line := "- " + p.Title + ": " + p.Reference
		if p.Verify {
			line += " (to be verified)"
		}
		if !strings.Contains(sec[headWhy], line+".") {
			t.Errorf("section %q does not list purpose %s as %q", headWhy, p.ID, line)
		}
	}
	if !strings.Contains(sec[headWhy], "Monitoring only: nothing may be recorded") || !strings.Contains(sec[headWhy], "s.18(1) may rely on it") {
		t.Errorf("section %q does not give the purposes' limits:\n%s", headWhy, sec[headWhy])
	}
	for _, l := range in.Catalogue.Legislation {
		if !strings.Contains(sec[headLaw], l.Title) || !strings.Contains(sec[headLaw], l.Reference) {
			t.Errorf("section %q does not name law %s (%q, %q)", headLaw, l.ID, l.Title, l.Reference)
		}
	}
	for _, x := range in.Detection {
		item := "- " + x.Title + ": "
		if !strings.Contains(sec[headDetection], item) || !strings.Contains(sec[headDetection], x.Source) {
			t.Errorf("section %q does not name list %s and its source", headDetection, x.ID)
		}
	}
	for _, x := range in.Detection {
		marked := strings.Contains(sec[headDetection], "It comes from "+x.Source+". This is sensitive personal data.")
		if marked != x.SpecialCategory {
			t.Errorf("list %s marked sensitive = %v, want %v", x.ID, marked, x.SpecialCategory)
		}
	}
}

func TestDefaultShortAndPublic(t *testing.T) {
	d := mustDefault(t, defaultInput())
	sentence := regexp.MustCompile(`[.?!](\s|$)`)
	if n := len(sentence.FindAllString(d.Short, -1)); n < 2 || n > 3 {
		t.Errorf("Short has %d sentences, want 2 or 3: %q", n, d.Short)
	}
	for _, p := range []string{"monitored and recorded", "24 hours a day, 7 days a week", "the law", "full monitoring notice"} {
		if !strings.Contains(d.Short, p) {
			t.Errorf("Short does not say %q: %q", p, d.Short)
		}
	}
	if n := len(sentence.FindAllString(d.PublicShort, -1)); n < 1 || n > 2 {
		t.Errorf("PublicShort has %d sentences, want 1 or 2: %q", n, d.PublicShort)
	}
	for _, p := range []string{"record of your message or call", "monitoring notice for the public"} {
		if !strings.Contains(d.PublicShort, p) {
			t.Errorf("PublicShort does not say %q: %q", p, d.PublicShort)
		}
	}
	sec, _ := sections(t, d.PublicText)
	for head, phrases := range map[string][]string{
		"":                    {"members of the public", "by e-mail, through our website or by phone"},
		"What we record":      {"how our staff use", "E-mails:", "Phone calls", "Forms on our website"},
		"Why we record it":    {"to protect the public", "Investigatory Powers Act 2016"},
		"How long we keep it": {"E-mails: the details for 12 months, the content for 6 months.", "at most 12 months"},
		"Who can see it":      {"anti-corruption unit", "independent oversight"},
		"Your rights":         {"copy of the personal data", "Data Protection Officer", "Information Commissioner's Office (ICO)"},
	} {
		for _, p := range phrases {
			if !strings.Contains(sec[head], p) {
				t.Errorf("public notice section %q does not say %q:\n%s", head, p, sec[head])
			}
		}
	}
}

func TestDefaultDraft(t *testing.T) {
	in := defaultInput()
	d := mustDefault(t, in)
	if err := CheckDraft(d, in.Categories); err != nil {
		t.Errorf("CheckDraft(Default()) = %v", err)
	}
	want := []string{"authentication", "device", "email", "file", "record_query", "telephony", "web"}
	if diff := cmp.Diff(want, d.Categories); diff != "" {
		t.Errorf("Default().Categories (-want +got):\n%s", diff)
	}
	// Each text is canonical: what Format writes.
	for name, text := range map[string]string{"Text": d.Text, "Short": d.Short, "PublicText": d.PublicText, "PublicShort": d.PublicShort} {
		blocks, err := Parse(text)
		if err != nil {
			t.Errorf("Parse(Default().%s) = %v", name, err)
		} else if got := Format(blocks); got != text {
			t.Errorf("Format(Parse(Default().%s)) differs from it", name)
		}
	}
	// Staff acknowledge; nobody is asked to consent.
	for name, text := range map[string]string{"Title": d.Title, "Text": d.Text, "Short": d.Short, "PublicText": d.PublicText, "PublicShort": d.PublicShort} {
		if strings.Contains(strings.ToLower(text), "consent") {
			t.Errorf("Default().%s says \"consent\"", name)
		}
	}
	// Default does not change its input.
	if !slices.Equal(in.Sources, []string{"pnc-audit", "exchange", "pnc-audit"}) {
		t.Errorf("Default changed in.Sources to %v", in.Sources)
	}
}

func TestDefaultInputs(t *testing.T) {
	in := defaultInput()
	in.Organisation = "the Metropolitan Police Service"
	in.Sources = nil
	in.NoticeURL = "https://lbm.example/notice"
	in.PublicURL = "https://police.example/monitoring"
	d := mustDefault(t, in)
	for _, p := range []string{`how the Metropolitan Police Service ("we") monitors`, "trust in the Metropolitan Police Service.", "No systems are connected to monitoring yet.", "added as they are connected"} {
		if !strings.Contains(d.Text, p) {
			t.Errorf("Default(organisation, no sources).Text does not say %q", p)
		}
	}
	if strings.Contains(d.Text, "the organisation") {
		t.Error(`Default(organisation).Text still says "the organisation"`)
	}
	if !strings.Contains(d.PublicText, "contact the Metropolitan Police Service by") {
		t.Error("Default(organisation).PublicText does not name it")
	}
	if !strings.Contains(d.Short, "notice at https://lbm.example/notice to see") {
		t.Errorf("Default(NoticeURL).Short = %q, want the address", d.Short)
	}
	if !strings.Contains(d.PublicShort, "at https://police.example/monitoring,") {
		t.Errorf("Default(PublicURL).PublicShort = %q, want the address", d.PublicShort)
	}

	// A law still to be verified is flagged, as purposes are.
	in = defaultInput()
	in.Catalogue.Legislation[0].Verify = true
	in.Catalogue.Purposes = in.Catalogue.Purposes[:1] // not flagged
	d = mustDefault(t, in)
	if !strings.Contains(d.Text, "- Investigatory Powers Act 2016, s.46 (to be verified)\n") {
		t.Error("a law with Verify is not flagged (to be verified)")
	}
	if !strings.Contains(d.Text, `An entry marked "to be verified"`) {
		t.Error("the flag is not explained")
	}
	// Nothing flagged, nothing explained.
	in.Catalogue.Legislation[0].Verify = false
	if d = mustDefault(t, in); strings.Contains(d.Text, "to be verified") {
		t.Error(`Default with nothing to verify says "to be verified"`)
	}

	// No special-category lists: no DPIA paragraph; no lists at all: the
	// checks use activity only.
	in = defaultInput()
	in.Detection = in.Detection[:2]
	if d = mustDefault(t, in); strings.Contains(d.Text, "DPIA") {
		t.Error("Default without special-category lists mentions a DPIA")
	}
	in.Detection = nil
	if d = mustDefault(t, in); !strings.Contains(d.Text, "The checks use only the records of activity") {
		t.Error("Default without lists does not say the checks use activity only")
	}

	// Only e-mail: the public notice keeps to the channels there are.
	in = defaultInput()
	email, _ := in.Categories.Category("email")
	in.Categories = policy.Categories{email}
	d = mustDefault(t, in)
	if strings.Contains(d.PublicText, "Phone calls") || !strings.Contains(d.PublicText, "E-mails:") {
		t.Errorf("Default(e-mail only).PublicText:\n%s", d.PublicText)
	}
	if !cmp.Equal(d.Categories, []string{"email"}) {
		t.Errorf("Default(e-mail only).Categories = %v", d.Categories)
	}
}

func TestDefaultErrors(t *testing.T) {
	long := defaultInput()
	for range 200 {
		long.Catalogue.Legislation = append(long.Catalogue.Legislation, policy.Law{Title: strings.Repeat("t", 100), Reference: "r"})
	}
	for _, c := range []struct {
		name string
		edit func(*Input)
		want error
	}{
		{"organisation on two lines", func(in *Input) { in.Organisation = "a\nb" }, &FieldError{Field: "organisation", Msg: "must be one line"}},
		{"organisation with a bidi override", func(in *Input) { in.Organisation = "\u202eX" }, &FieldError{Field: "organisation", Msg: "contains the hidden character U+202E (control and formatting characters are not allowed)"}},
		{"blank organisation", func(in *Input) { in.Organisation = " " }, &FieldError{Field: "organisation", Msg: "starts or ends with a space"}},
		{"long organisation", func(in *Input) { in.Organisation = strings.Repeat("x", 201) }, &FieldError{Field: "organisation", Msg: "longer than 200 characters"}},
		{"source with a tab", func(in *Input) { in.Sources = []string{"a\tb"} }, &FieldError{Field: "sources", Msg: `"a\tb": contains the hidden character U+0009 (control and formatting characters are not allowed)`}},
		{"empty source", func(in *Input) { in.Sources = []string{""} }, &FieldError{Field: "sources", Msg: `"": empty`}},
		{"URL with a space", func(in *Input) { in.NoticeURL = "https://x/ y" }, &FieldError{Field: "notice_url", Msg: "contains a space"}},
		{"URL on two lines", func(in *Input) { in.PublicURL = "https://x/\ny" }, &FieldError{Field: "public_url", Msg: "must be one line"}},
		{"no categories", func(in *Input) { in.Categories = nil }, FieldErrors{{Field: "categories", Msg: "empty (a notice tells staff about at least one category)"}}},
		{"too much law", func(in *Input) { *in = long }, FieldErrors{{Field: "text", Msg: "the text is longer than 20000 characters"}}},
	} {
		in := defaultInput()
		c.edit(&in)
		d, err := Default(in)
		// The line a limit is crossed on depends on the wording.
		if diff := cmp.Diff(c.want, err, cmpopts.IgnoreFields(FieldError{}, "Line")); diff != "" {
			t.Errorf("Default(%s) (-want +got):\n%s", c.name, diff)
		}
		if !cmp.Equal(d, Draft{}) {
			t.Errorf("Default(%s) returned a draft with its error", c.name)
		}
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{
		"The sender":  "the sender",
		"USB drives":  "USB drives",
		"PNC":         "PNC",
		"already":     "already",
		"É":           "É",
		"Écoles":      "écoles",
		"":            "",
		"A":           "A",
		"E-mail text": "E-mail text",
	} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}
