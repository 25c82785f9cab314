package pages

import (
	"net/http"
	"strings"
	"testing"
)

func TestRelevantErrorPages(t *testing.T) {
	register := RelevantErrors{Layout: staff("Relevant errors"), Overdue: 2, States: []Option{{Value: "open", Label: "Open", Selected: true}},
		Rows: []RelevantErrorRow{
			{Href: "/relevant-errors/re1", Reference: "RE-2026-0001", Kind: "Data processed outside an authorisation", Request: hostile,
				State: "Open", StateColour: "yellow", Identified: "2 March 2026", Deadline: "Monday 16 March 2026", Overdue: true},
			{Href: "/relevant-errors/re2", Reference: "RE-2026-0002", Kind: "An authorisation found defective",
				State: "Reported", StateColour: "blue", Identified: "3 March 2026", Deadline: "Tuesday 17 March 2026"},
		}}
	form := RelevantErrorForm{Layout: Layout{Title: "Record a relevant error", Errors: []FieldError{{"description", "is required"}}},
		Kinds: []Option{{Value: "outside_authorisation", Label: "Outside"}},
		Fields: []Field{{Kind: "text", ID: "identified_at", Label: "When", Value: hostile},
			{Kind: "textarea", ID: "description", Label: "What happened", Rows: 6, Error: "is required"}}}
	detail := RelevantErrorDetail{Layout: staff("RE-2026-0001"), Action: "/relevant-errors/re1", Reference: "RE-2026-0001",
		State: "Open", StateColour: "yellow", Overdue: true, Deadline: "Monday 16 March 2026",
		Summary: []SummaryRow{{Key: "What happened", Lines: []string{hostile}}},
		History: []AlertNote{{By: "Ann", At: "2 March 2026 09:00 UTC", Text: "Recorded (oversight log entry 4)"}},
		Report:  []Field{{Kind: "text", ID: "recipient", Label: "Reported to"}, {Kind: "textarea", ID: "text", Label: "What was reported", Rows: 6}}}
	closed := RelevantErrorDetail{Layout: staff("RE-2026-0002"), Action: "/relevant-errors/re2", Reference: "RE-2026-0002",
		State: "Closed", StateColour: "green", Deadline: "Tuesday 17 March 2026"}
	for _, tt := range []struct {
		name    string
		page    Page
		status  int
		want    []string
		notWant []string
	}{
		{"register", register, http.StatusOK, []string{`id="overdue"`, "2 relevant errors are overdue", `govuk-tag--red">Overdue`,
			`href="/relevant-errors/re1">RE-2026-0001`, "Monday 16 March 2026", `href="/relevant-errors/new"`}, []string{hostile}},
		{"form", form, http.StatusBadRequest, []string{`action="/relevant-errors/new"`, `name="kind"`, `id="description-error"`}, []string{hostile}},
		{"detail", detail, http.StatusOK, []string{`action="/relevant-errors/re1/report"`, `id="relevant-error-overdue"`, `name="recipient"`},
			[]string{hostile, `/close"`}},
		{"closed", closed, http.StatusOK, nil, []string{`action="/relevant-errors/re2/`, "Overdue"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.page, tt.status)
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
