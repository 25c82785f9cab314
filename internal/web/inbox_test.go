package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

// addInbox gives auth1 two notifications, the older one read, and inv1
// one.
func addInbox(t *testing.T, e *peopleEnv) time.Time {
	t.Helper()
	now := e.node.Now().UTC().Truncate(time.Second)
	ns := []store.Notification{
		{ID: "ntf_old", Person: "auth1", Kind: "advice", Request: "req-1", Reference: "ACAC-2026-0001", Text: "Your view is wanted.", Created: now.Add(-time.Hour)},
		{ID: "ntf_new", Person: "auth1", Kind: "decide", Request: "req/2", Reference: "ACAC-2026-0002", Text: "A request awaits a decision.", Created: now},
		{ID: "ntf_inv", Person: "inv1", Kind: "decision", Request: "req-1", Reference: "ACAC-2026-0001", Text: "Your request was authorised.", Created: now},
	}
	if err := e.node.Store.AddNotifications(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	if err := e.node.Store.MarkNotificationRead(t.Context(), "auth1", "ntf_old", now); err != nil {
		t.Fatal(err)
	}
	return now
}

func decodeInbox(t *testing.T, resp *http.Response) web.InboxJSON {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var got web.InboxJSON
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestInboxAPI(t *testing.T) {
	e := newPeopleEnv(t)
	now := addInbox(t, e)
	at := now.Format(time.RFC3339Nano)
	older := now.Add(-time.Hour).Format(time.RFC3339Nano)
	newer := web.NotificationJSON{ID: "ntf_new", Kind: "decide", Request: "req/2", Reference: "ACAC-2026-0002", Text: "A request awaits a decision.", Created: at}
	old := web.NotificationJSON{ID: "ntf_old", Kind: "advice", Request: "req-1", Reference: "ACAC-2026-0001", Text: "Your view is wanted.", Created: older, Read: at}

	got := decodeInbox(t, e.call(t, "authoriser", false, "GET", "/v1/inbox", ""))
	if diff := cmp.Diff(web.InboxJSON{Notifications: []web.NotificationJSON{newer, old}, Unread: 1}, got); diff != "" {
		t.Errorf("GET /v1/inbox as auth1 (-want +got):\n%s", diff)
	}
	got = decodeInbox(t, e.call(t, "authoriser", false, "GET", "/v1/inbox?unread=1", ""))
	if diff := cmp.Diff(web.InboxJSON{Notifications: []web.NotificationJSON{newer}, Unread: 1}, got); diff != "" {
		t.Errorf("GET /v1/inbox?unread=1 as auth1 (-want +got):\n%s", diff)
	}
	// Everyone sees only their own; none is an empty list, never null.
	resp := e.call(t, "staff", false, "GET", "/v1/inbox", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"notifications":[],"unread":0}` {
		t.Errorf("GET /v1/inbox as staff1 = %d %s, want an empty inbox", resp.StatusCode, body)
	}
	for _, path := range []string{"/v1/inbox?unread=yes", "/v1/inbox?limit=0", "/v1/inbox?limit=1001"} {
		if resp := e.call(t, "authoriser", false, "GET", path, ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", path, resp.StatusCode)
		}
	}

	// Nobody marks another's notification: 404, as for an absent one,
	// and nothing changes.
	for _, c := range []struct{ who, id string }{{"investigator", "ntf_new"}, {"authoriser", "ntf_inv"}, {"authoriser", "ntf_absent"}} {
		if resp := e.call(t, c.who, false, "POST", "/v1/inbox/"+c.id+"/read", ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST /v1/inbox/%s/read as %s = %d, want 404", c.id, c.who, resp.StatusCode)
		}
	}
	if n, _ := e.node.Store.CountUnread(t.Context(), "auth1"); n != 1 {
		t.Errorf("auth1 has %d unread after others' marks, want 1", n)
	}
	if n, _ := e.node.Store.CountUnread(t.Context(), "inv1"); n != 1 {
		t.Errorf("inv1 has %d unread after others' marks, want 1", n)
	}
	for range 2 {
		if resp := e.call(t, "authoriser", false, "POST", "/v1/inbox/ntf_new/read", ""); resp.StatusCode != http.StatusNoContent {
			t.Errorf("POST /v1/inbox/ntf_new/read as auth1 = %d, want 204", resp.StatusCode)
		}
	}
	got = decodeInbox(t, e.call(t, "authoriser", false, "GET", "/v1/inbox?unread=1", ""))
	if len(got.Notifications) != 0 || got.Unread != 0 {
		t.Errorf("GET /v1/inbox?unread=1 after reading = %+v, want none", got)
	}
}

func TestInboxPage(t *testing.T) {
	e := newPeopleEnv(t)
	addInbox(t, e)
	page := func(who string) string {
		t.Helper()
		resp := e.call(t, who, true, "GET", "/inbox", "")
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /inbox as %s = %d", who, resp.StatusCode)
		}
		return string(b)
	}
	out := page("authoriser")
	for _, want := range []string{
		`href="/inbox">Inbox (1<span class="govuk-visually-hidden"> unread</span>)`,
		`href="/requests/req%2F2">ACAC-2026-0002</a>`,
		`href="/requests/req-1">ACAC-2026-0001</a>`,
		"<strong>A request needs your decision</strong>",
		"A request needs your advice",
		`action="/inbox/ntf_new/read"`,
		"Your view is wanted.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("GET /inbox as auth1 lacks %q", want)
		}
	}
	for _, not := range []string{`action="/inbox/ntf_old/read"`, "ntf_inv", "Your request was authorised."} {
		if strings.Contains(out, not) {
			t.Errorf("GET /inbox as auth1 shows %q", not)
		}
	}
	if out := page("staff"); !strings.Contains(out, "Nothing has been sent to you yet.") || !strings.Contains(out, "Inbox (0") {
		t.Errorf("GET /inbox as staff1 does not show an empty inbox")
	}
	// Another person's notification is not found, and stays unread.
	if resp := e.call(t, "authoriser", true, "POST", "/inbox/ntf_inv/read", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /inbox/ntf_inv/read as auth1 = %d, want 404", resp.StatusCode)
	}
	resp := e.call(t, "authoriser", true, "POST", "/inbox/ntf_new/read", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox?read=1" {
		t.Errorf("POST /inbox/ntf_new/read = %d to %q, want 303 to /inbox?read=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	if out := page("authoriser"); !strings.Contains(out, "Inbox (0") || strings.Contains(out, `action="/inbox/ntf_new/read"`) {
		t.Errorf("GET /inbox after reading still offers to mark it read, or counts it unread")
	}
	if n, _ := e.node.Store.CountUnread(t.Context(), "inv1"); n != 1 {
		t.Errorf("inv1 has %d unread, want 1", n)
	}
	// Every page's header carries the count.
	if resp := e.call(t, "investigator", true, "GET", "/me", ""); resp.StatusCode == http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), `href="/inbox">Inbox (1`) {
			t.Errorf("GET /me as inv1 lacks the inbox link with its count")
		}
	}
}
