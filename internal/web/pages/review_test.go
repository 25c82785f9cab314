package pages

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// investigator is the layout of a page for an investigator.
func investigator(title string, errs ...FieldError) Layout {
	return Layout{Title: title, Person: "Ian Vale", Role: "Investigator", Errors: errs,
		Nav: []NavItem{{Label: "Home", Href: "/"}, {Label: "Requests", Href: "/requests", Current: true}, {Label: "Receipts", Href: "/receipts"}}}
}

var reviewScope = []SummaryRow{
	{Key: "Subjects", Lines: []string{"Tom Baker (stf1)"}},
	{Key: "Records", Lines: []string{"E-mail, with content", "Record queries, metadata only"}},
	{Key: "Systems", Lines: []string{"Every source"}},
	{Key: "Period", Lines: []string{"From 1 August 2026 00:00 UTC up to 1 October 2026 00:00 UTC"}},
	{Key: "Expires", Lines: []string{"30 December 2026 10:00 UTC"}},
	{Key: "Operation", Lines: []string{"Lantern (OP-77)"}},
}

var reviewCategories = []Option{{Value: "email", Label: "E-mail"}, {Value: "record_query", Label: "Record queries", Selected: true}}

const eventID = "0123456789abcdef0123456789abcdef"

// reviewSamples are the review pages as an investigator and oversight
// see them.
var reviewSamples = []struct {
	name   string
	page   Page
	status int
	want   []string
	not    []string
}{
	{"review", &ReviewData{Layout: investigator("Look at the data"), Reference: "ACAC-2026-0001", Request: "/requests/1", Scope: reviewScope,
		Action: "/requests/1/data", ExportAction: "/requests/1/data/export", Categories: reviewCategories, Content: true},
		http.StatusOK, []string{`action="/requests/1/data"`, "Tom Baker (stf1)", `name="justification"`, `id="content"`, `id="text"`, `value="record_query" checked`},
		[]string{`id="results"`, `id="export-form"`}},
	{"review-metadata-only", &ReviewData{Layout: investigator("Look at the data"), Reference: "ACAC-2026-0002", Request: "/requests/2", Scope: reviewScope,
		Action: "/requests/2/data", ExportAction: "/requests/2/data/export", Categories: reviewCategories[1:]},
		http.StatusOK, []string{`action="/requests/2/data"`}, []string{`id="content"`, `id="text"`}},
	{"review-results", &ReviewData{Layout: investigator("Look at the data"), Reference: "ACAC-2026-0001", Request: "/requests/1", Scope: reviewScope,
		Action: "/requests/1/data", ExportAction: "/requests/1/data/export", Categories: reviewCategories, Content: true,
		Filter: ReviewFilter{Justification: "Checking whether the officer sent the address outside the force.", From: "2026-09-01", Categories: []string{"record_query"}, Content: true},
		Results: &ReviewResults{AccessRecord: "42", Receipt: "/v1/receipts/42", Next: "1788.7", Events: []ReviewEvent{
			{ID: eventID, Time: "1 September 2026 10:00:00 UTC", Source: "pnc", ContentDeleted: true, Fields: []ReviewField{
				{Name: "user.id", Value: "stf1"}, {Name: "related.user", Value: "person-abcdefgh", Pseudonym: true}}},
			{ID: "fedcba9876543210fedcba9876543210", Time: "2 September 2026 09:00:00 UTC", Source: "exchange", HeldBack: []string{"channel: the Police Federation"}},
		}},
		Export: &ReviewExport{}},
		http.StatusOK, []string{`href="/v1/receipts/42"`, "lbm verify receipt FILE", `person-abcdefgh <strong class="govuk-tag govuk-tag--grey">pseudonym</strong>`,
			`id="event-` + eventID + `" name="events" type="checkbox" value="` + eventID + `" form="export-form"`, `id="next-page"`,
			`<input type="hidden" name="after" value="1788.7">`, `<input type="hidden" name="justification" value="Checking whether`,
			`<input type="hidden" name="categories" value="record_query">`, `action="/requests/1/data/export"`, "Destroyed under the retention schedule",
			"Held back as confidential material until a legal adviser releases it: channel: the Police Federation."},
		[]string{"?justification", `value="fedcba9876543210fedcba9876543210"`}},
	{"review-errors", &ReviewData{Layout: investigator("Look at the data",
		FieldError{"justification", "Why you need to look now: too short to be a reason"},
		FieldError{"from", "2026-07-01T00:00:00Z is outside the authorised period (this attempt is recorded)"}),
		Reference: "ACAC-2026-0001", Request: "/requests/1", Scope: reviewScope, Action: "/requests/1/data", ExportAction: "/requests/1/data/export",
		Categories: reviewCategories, Content: true, Filter: ReviewFilter{Justification: "Short.", From: "2026-07-01", Text: "address"}},
		http.StatusBadRequest, []string{">Short.</textarea>", `value="2026-07-01"`, `value="address"`}, nil},
	{"review-export-errors", &ReviewData{Layout: investigator("Look at the data",
		FieldError{"recipient", "Who it is for: is required"}, FieldError{"export-justification", "Why it must leave lbm: too short"}, FieldError{"events", "An event is outside the search"}),
		Reference: "ACAC-2026-0001", Request: "/requests/1", Scope: reviewScope, Action: "/requests/1/data", ExportAction: "/requests/1/data/export",
		Categories: reviewCategories, Filter: ReviewFilter{From: "2026-09-01"},
		Export: &ReviewExport{Purpose: "evidence for the hearing", Justification: "Short.", Events: []string{eventID}}},
		http.StatusBadRequest, []string{`value="evidence for the hearing"`, `<input type="hidden" name="events" value="` + eventID + `">`, ">Short.</textarea>"}, nil},
	{"receipts", &Receipts{Layout: investigator("Your receipts"), Period: "the last 90 days", Next: "/receipts?after=1.2", Rows: []ReceiptRow{
		{Index: "42", Time: "1 October 2026 10:00:00", Action: "Search", Reference: "ACAC-2026-0001", RequestHref: "/requests/1", Results: "3",
			Href: "/v1/receipts/42", DownloadName: "receipt-42.json"},
		{Index: "43", Time: "1 October 2026 10:05:00", Action: "Export", Reference: "ACAC-2026-0001", RequestHref: "/requests/1", Results: "1",
			Recipient: "Misconduct hearing panel", Href: "/v1/receipts/43", DownloadName: "receipt-43.json"},
	}}, http.StatusOK, []string{`href="/v1/receipts/42" download="receipt-42.json"`, "lbm verify receipt FILE", `href="/requests/1"`, `href="/receipts?after=1.2"`, "To Misconduct hearing panel"}, nil},
	{"receipts-empty", &Receipts{Layout: investigator("Your receipts"), Period: "the last 90 days"}, http.StatusOK, []string{"You have looked at no data"}, []string{"<table"}},
	{"access-log", &AccessLog{Layout: admin("Access log"), Heading: "Access log", Intro: "Every look.", Older: "/access-records?before=7",
		Kinds: []NavItem{{Label: "All", Href: "/access-records", Current: true}, {Label: "Refused attempts", Href: "/access-records?kind=refused"}},
		Rows: []AccessRow{
			{Index: "9", Time: "1 October 2026 10:05:00", Actor: "Ian Vale (inv1)", Action: "Export", Request: "ACAC-2026-0001", RequestHref: "/requests/1",
				Outcome: []string{"1 event", "To Misconduct hearing panel"}, Justification: "The panel needs the bundle.", Query: `{"from":"2026-09-01T00:00:00Z"}`},
			{Index: "8", Time: "1 October 2026 10:00:00", Actor: "Ian Vale (inv1)", Action: "Refused", Request: "req-1", Refused: true,
				Outcome: []string{"out of scope: from"}, Justification: hostile},
		}},
		http.StatusOK, []string{`aria-current="page"`, `href="/access-records?kind=refused"`, "The panel needs the bundle.", `govuk-tag--red">Refused`, "Older entries", "&lt;script&gt;"}, nil},
	{"access-log-empty", &AccessLog{Layout: admin("Refused attempts"), Heading: "Refused attempts"}, http.StatusOK, []string{"Nothing of this kind"}, []string{"<table"}},
}

func TestReviewPages(t *testing.T) {
	for _, tt := range reviewSamples {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.page, tt.status)
			checkHTML(t, out)
			checkCSP(t, out)
			checkBranding(t, out)
			checkErrors(t, out, tt.page.layout().Errors)
			checkHeadings(t, out)
			checkTables(t, out)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("page has %q", n)
				}
			}
			// The justification travels only in POST bodies.
			for _, f := range regexp.MustCompile(`<form[^>]*>`).FindAllString(out, -1) {
				if !strings.Contains(f, `method="post"`) {
					t.Errorf("a form is not a POST: %s", f)
				}
			}
		})
	}
}
