package pages

import (
	"net/http"
	"strings"
	"testing"
)

func TestInbox(t *testing.T) {
	l := staff("Inbox")
	l.Inbox, l.Unread = true, 1
	page := Inbox{Layout: l, Unread: 1, Rows: []InboxRow{
		{ID: "ntf_1", Kind: "A request needs your decision", Reference: "ACAC-2026-0002", Href: "/requests/r-2",
			Text: hostile, Created: "27 November 2026 09:30 UTC", Unread: true},
		{ID: "ntf_0", Kind: "A request needs your advice", Reference: "ACAC-2026-0001", Href: "/requests/r-1",
			Created: "26 November 2026 16:00 UTC"},
	}}
	out := render(t, page, http.StatusOK)
	checkHTML(t, out)
	checkCSP(t, out)
	checkHeadings(t, out)
	checkTables(t, out)
	for _, want := range []string{
		`<a class="govuk-link govuk-link--inverse" href="/inbox">Inbox (1<span class="govuk-visually-hidden"> unread</span>)</a>`,
		`<a class="govuk-link" href="/requests/r-2">ACAC-2026-0002</a>`,
		`<form method="post" action="/inbox/ntf_1/read">`,
		`<strong>A request needs your decision</strong>`,
		`<strong class="govuk-tag govuk-tag--grey">Read</strong>`,
		"You have 1 unread.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inbox lacks %q", want)
		}
	}
	if strings.Contains(out, `action="/inbox/ntf_0/read"`) {
		t.Error("a read notification offers to be marked read")
	}
	if strings.Contains(out, hostile) {
		t.Error("a notification's text is not escaped")
	}

	empty := render(t, Inbox{Layout: staff("Inbox")}, http.StatusOK)
	if !strings.Contains(empty, "Nothing has been sent to you yet.") || strings.Contains(empty, `href="/inbox"`) {
		t.Error("an empty inbox without the header link is not shown as empty")
	}
}
