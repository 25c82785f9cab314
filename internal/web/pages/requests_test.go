package pages

import (
	"net/http"
	"strings"
	"testing"
)

// requestSamples are the request pages as the request flow fills them.
var requestSamples = []struct {
	name   string
	page   Page
	status int
	want   []string
}{
	{"queue", &Requests{Layout: Layout{Title: "Your requests", Person: "Ian Vale", Role: "Investigator"}, Heading: "Your requests", CanStart: true,
		Rows: []RequestRow{{Href: "/requests/1", Reference: "ACAC-2026-0001", Operation: "Quill", State: "Active", Colour: "green", Level: "Level 2, Superintendent", Urgent: "No", Updated: "1 November 2026 10:00 UTC"}}},
		http.StatusOK, []string{`href="/requests/new"`, `govuk-tag govuk-tag--green">Active`, `<a class="govuk-link" href="/requests/1">ACAC-2026-0001</a>`}},
	{"question", &RequestQuestion{Layout: Layout{Title: "Why is it necessary?", Errors: []FieldError{{Field: "necessity", Message: "Too short to be a reason"}}},
		Reference: "ACAC-2026-0001", Heading: "Why is it necessary?", Action: "/requests/1/edit/necessity", Back: "/requests/1/edit/operation", Button: "Save and continue",
		Fields:     []Field{{Kind: "textarea", ID: "necessity", Label: "Why it is necessary", Rows: 5, Value: "Needed.", Error: "Too short to be a reason"}},
		Derivation: Derivation{Known: true, Level: "2", MinRank: "Superintendent or above", Advisers: "None", Summary: "Level 2"}},
		http.StatusBadRequest, []string{`action="/requests/1/edit/necessity"`, "Superintendent or above", ">Needed.</textarea>"}},
	{"question-notice", &RequestQuestion{Layout: Layout{Title: "Notice"}, Heading: "Were they told?", Action: "/requests/1/edit/criteria-NOTICE", Button: "Save and continue",
		ReadOnlyLabel: "What the subjects were told", ReadOnly: "stf1 acknowledged version 1 covering email.",
		Fields: []Field{{Kind: "radio", ID: "urgent", Label: "Urgent", Options: []Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No", Selected: true}}},
			{Kind: "input", ID: "operation-name", Label: "Operation name", Value: "Quill", Width: "govuk-input--width-20"}}},
		http.StatusOK, []string{"stf1 acknowledged version 1 covering email.", "Not enough answered yet", `value="no" checked`, `value="Quill"`}},
	{"check", &RequestCheck{Layout: Layout{Title: "Check your answers", Errors: []FieldError{{Field: "answer-necessity", Message: "Necessity: required"}}},
		Reference: "ACAC-2026-0001", Submit: "/requests/1/submit",
		Rows: []SummaryRow{{ID: "answer-necessity", Key: "Necessity", Change: "/requests/1/edit/necessity?return=check", ChangeLabel: "necessity"}}},
		http.StatusBadRequest, []string{`id="answer-necessity"`, `action="/requests/1/submit"`, `Change<span class="govuk-visually-hidden"> necessity</span>`}},
	{"request", &Request{Layout: Layout{Title: "Request ACAC-2026-0001", Errors: []FieldError{{Field: "decision", Message: "This request needs a decision by a Superintendent or above; you are a Sergeant"}}},
		Reference: "ACAC-2026-0001", State: "Awaiting decision", OversightID: "oversight",
		Status: []SummaryRow{{Key: "State", Lines: []string{"Awaiting decision"}}},
		Forms: []ActionForm{{ID: "decision", Heading: "Decide", Action: "/requests/1/decision", Button: "Record decision", StepUp: "/step-up?next=%2Frequests%2F1",
			Criteria: []CriterionView{{ID: "decision-views-EXTENT", Title: "Extent", Question: "How far?", Answer: "One mailbox."}},
			Fields:   []Field{{Kind: "textarea", ID: "decision-reasons", Label: "Your reasons", Rows: 4}}}},
		Advice:  []Remark{{Heading: "View of the dpo adviser", By: "Dana Price (dpo1)", At: "1 November 2026", Text: "Fine."}},
		History: []HistoryRow{{At: "1 November 2026", Action: "Submit", Actor: "Ian Vale (inv1)", From: "Draft", To: "Awaiting advice", Index: "7"}}},
		http.StatusForbidden, []string{`<a href="#decision">`, `id="decision-views-EXTENT"`, "lbm verify inclusion --log oversight --index N", `href="/step-up?next=%2Frequests%2F1"`}},
	{"central-record", &CentralRecord{Layout: Layout{Title: "Central record"}, CSV: "/central-record.csv",
		Rows: []CentralRow{{Href: "/requests/1", Reference: "ACAC-2026-0001", State: "Refused", Colour: "red"}}},
		http.StatusOK, []string{`href="/central-record.csv"`, "ACAC-2026-0001"}},
}

func TestRequestPages(t *testing.T) {
	for _, tt := range requestSamples {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.page, tt.status)
			checkHTML(t, out)
			checkCSP(t, out)
			checkHeadings(t, out)
			checkTables(t, out)
			if _, ok := tt.page.(*RequestQuestion); ok {
				checkErrors(t, out, tt.page.layout().Errors)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(strings.ToLower(out), "consent") {
				t.Error(`page says "consent"`)
			}
		})
	}
}
