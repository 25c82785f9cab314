package pages

import (
	"net/http"
	"strings"
	"testing"
)

func TestSubjectAccessPages(t *testing.T) {
	received := SubjectAccessDetail{Layout: staff("Tom Baker (stf1)"), Action: "/subject-access-requests/s1", State: "Received",
		StateColour: "yellow", Due: "Monday 28 February 2027", Overdue: true, CanOpen: true,
		Summary: []SummaryRow{{Key: "What they asked for", Lines: []string{hostile}}},
		Extend:  []Field{{Kind: "radio", ID: "months", Label: "By", Options: []Option{{Value: "1", Label: "One"}}}, {Kind: "textarea", ID: "reason", Label: "Why", Rows: 3}},
		Close:   []Field{{Kind: "radio", ID: "close_reason", Label: "Reason", Options: []Option{{Value: "withdrawn", Label: "Withdrawn"}}}}}
	opened := SubjectAccessDetail{Layout: staff("Tom Baker (stf1)"), Action: "/subject-access-requests/s1", State: "Being prepared",
		StateColour: "blue", Due: "Monday 28 February 2027", Opened: true, Preparing: true, Hint: true, CanAnswer: true,
		Categories: []SubjectAccessCategory{{Category: hostile, Count: "3", First: "1 May", Last: "2 May"}},
		Exemptions: []SubjectAccessExemption{{Categories: "email", Period: "all time", Ground: "DPA 2018 Sch 2 Pt 1 para 2", Note: hostile,
			By: "Dana", At: "now", RemoveAction: "/subject-access-requests/s1/exemptions/ex1/removal"}},
		Exempt: []Field{{Kind: "checkbox", ID: "categories", Label: "Categories", Options: []Option{{Value: "email", Label: "email"}}},
			{Kind: "textarea", ID: "note", Label: "Why", Rows: 4}}}
	answered := SubjectAccessDetail{Layout: staff("Tom Baker (stf1)"), Action: "/subject-access-requests/s1", State: "Answered",
		StateColour: "green", Due: "Monday 28 February 2027", Opened: true,
		Exemptions: []SubjectAccessExemption{{Categories: "email", Period: "all time", Ground: "g", Note: "n", By: "Dana", At: "now"}}}
	for _, tt := range []struct {
		name    string
		page    Page
		want    []string
		notWant []string
	}{
		{"received", received, []string{`action="/subject-access-requests/s1/open"`, `id="sar-overdue"`, `name="months"`, `name="close_reason"`},
			[]string{hostile, `id="sar-summary"`, `id="sar-hint"`, `/answer"`, `/exemptions"`}},
		{"opened", opened, []string{`id="sar-summary"`, `id="sar-hint"`, "Schedule 2 paragraph 2", `action="/subject-access-requests/s1/exemptions"`,
			`action="/subject-access-requests/s1/exemptions/ex1/removal"`, `action="/subject-access-requests/s1/answer"`},
			[]string{hostile, `/open"`, "Overdue"}},
		{"answered", answered, []string{`id="sar-exemptions"`}, []string{`/removal"`, `/answer"`, `/exemptions"`, `id="sar-hint"`, "What the activity log holds"}},
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
