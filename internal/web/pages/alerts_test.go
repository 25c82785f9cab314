package pages

import (
	"net/http"
	"strings"
	"testing"
)

func TestAlertPages(t *testing.T) {
	queue := Alerts{Layout: staff("Alerts"), States: []Option{{Value: "new", Label: "New", Selected: true}},
		Rows: []AlertRow{{ID: "al1", Href: "/alerts/al1", Title: hostile, Severity: "high", SeverityColour: "red",
			Pseudonym: "subject-abc", Time: "27 November 2026 09:30 UTC", State: "new", StateColour: "blue", SpecialCategory: true}},
		Next: "/alerts?before=al1"}
	detail := AlertDetail{Layout: staff("Alert"), Action: "/alerts/al1", ID: "al1", Title: "Bulk record look-ups",
		Severity: "medium", SeverityColour: "orange", State: "referred", StateColour: "purple", Pseudonym: "subject-abc",
		Summary:      []SummaryRow{{Key: "About", Lines: []string{"subject-abc"}}},
		Events:       []AlertEvent{{Time: "27 November 2026 09:30 UTC", Source: "pnc", Category: "record_query", Action: "pnc_person_search", Index: "17"}},
		Notes:        []AlertNote{{By: "Ann", At: "27 November 2026 10:00 UTC", Text: hostile}},
		Investigator: true, Reveal: true, Request: "/requests/r1", RequestRef: "ACAC-2026-0001",
		Triage:   []Option{{Value: "close", Label: "Close"}},
		Identity: &AlertIdentity{Name: "Sam Clarke", Person: "u00017", Unit: "CID", AccessRecord: "42"}}
	for _, tt := range []struct {
		name    string
		page    Page
		want    []string
		notWant []string
	}{
		{"queue", queue, []string{`<a class="govuk-link" href="/alerts/al1">`, "<code>subject-abc</code>", "Special category", `href="/alerts?before=al1"`}, []string{hostile}},
		{"detail", detail, []string{`action="/alerts/al1/reveal"`, `action="/alerts/al1/triage"`, `action="/alerts/al1/notes"`,
			`id="identity-name">Sam Clarke (u00017)`, "access record 42", `href="/requests/r1">ACAC-2026-0001`}, []string{hostile, `action="/alerts/al1/request"`}},
		{"detail for oversight", AlertDetail{Layout: staff("Alert"), Action: "/alerts/al1", ID: "al1", Title: "T", Pseudonym: "subject-abc",
			Summary: []SummaryRow{{Key: "About", Lines: []string{"subject-abc"}}}},
			nil, []string{`method="post"` + ` action="/alerts`, "Who this is"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.page, http.StatusOK)
			checkHTML(t, out)
			checkCSP(t, out)
			checkHeadings(t, out)
			checkTables(t, out)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("shows %q", w)
				}
			}
		})
	}
}
