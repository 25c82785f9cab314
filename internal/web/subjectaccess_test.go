package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/evidence"
	"github.com/lbm-project/lbm/internal/store"
)

// tippingOff lists what the person's view and their answer must never
// hold once an investigation of them is under way: words that would tell
// them, and the investigation's own names. The request's id and
// reference are added by the test.
var tippingOff = []string{"exempt", "withh", "authoris", "authoriz", "investigat", "prejudice", "crime", "schedule 2",
	"sch 2", "hold", "alert", "lantern", "op-77", "kestrel", "suspect", "inquiry"}

// revealed returns the words of tippingOff (and extra) that after holds
// and before did not: text the page always shows (the monitoring notice
// names investigations in general) reveals nothing.
func revealed(before, after string, extra ...string) []string {
	before, after = strings.ToLower(before), strings.ToLower(after)
	var out []string
	for _, w := range append(append([]string{}, tippingOff...), extra...) {
		w = strings.ToLower(w)
		if strings.Count(after, w) > strings.Count(before, w) {
			out = append(out, w)
		}
	}
	return out
}

// appendEvents adds events of the activity log.
func appendEvents(t *testing.T, e *peopleEnv, lines ...string) {
	t.Helper()
	var evs []*event.Event
	for _, l := range lines {
		ev, err := event.Parse([]byte(l), "pnc")
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if _, err := e.node.Logs["activity"].Writer.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
}

func (e *peopleEnv) storedSAR(t *testing.T, id string) store.SubjectAccessRequest {
	t.Helper()
	st, err := e.node.Store.SubjectAccessRequestByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSubjectAccessJourney: staff1's request is opened by the DPO, who
// sees the summary and the hint (an authorisation about staff1 is in
// force), withholds the e-mail category on the crime ground and answers.
// staff1 then sees "ready to download" and downloads a bundle that
// verifies, holds only their non-withheld events, and, like their page,
// reveals nothing of the investigation.
func TestSubjectAccessJourney(t *testing.T) {
	e := newPeopleEnv(t)
	_, meBefore := e.page(t, "staff", "/me", nil)
	reqID := authorisedRequest(t, e)
	st, err := e.node.Store.RequestByID(t.Context(), reqID)
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, e,
		`{"@timestamp":"2026-09-02T10:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"staff1"},"related":{"user":["inv1"]},"email":{"to":{"address":["inv1@example.org"]}},"content":{"subject":"about the neighbour"}}`,
		`{"@timestamp":"2026-09-03T10:00:00Z","event":{"category":"web","action":"visit"},"user":{"id":"staff1"},"url":{"domain":"example.org"}}`,
		`{"@timestamp":"2026-09-04T10:00:00Z","event":{"category":"web","action":"visit"},"user":{"id":"inv1"},"related":{"user":["staff1"]}}`,
	)
	href := "/subject-access-requests/" + e.sar
	// Before opening: no summary, no hint, only the offer to open.
	_, out := e.page(t, "dpo", href, nil)
	if !strings.Contains(out, `action="`+href+`/open"`) || strings.Contains(out, `id="sar-summary"`) || strings.Contains(out, `id="sar-hint"`) {
		t.Fatalf("unopened request page: want the open form only\n%s", out)
	}
	if code, _ := e.apiAs(t, "dpo", "GET", "/v1"+href+"/summary", ""); code != http.StatusConflict {
		t.Errorf("summary before opening = %d, want 409", code)
	}
	size := e.oversightSize(t)
	if resp, _ := e.page(t, "dpo", href+"/open", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("open = %d", resp.StatusCode)
	}
	if got := e.oversightSize(t); got != size+1 {
		t.Errorf("opening wrote %d oversight leaves, want 1", got-size)
	}
	size = e.oversightSize(t)
	_, out = e.page(t, "dpo", href, nil)
	for _, want := range []string{`id="sar-summary"`, ">email<", ">record_query<", ">web<", `id="sar-hint"`, "Schedule 2 paragraph 2", `id="exempt"`} {
		if !strings.Contains(out, want) {
			t.Errorf("opened request page lacks %q", want)
		}
	}
	if got := e.oversightSize(t); got != size+1 {
		t.Errorf("viewing the summary wrote %d oversight leaves, want 1 (subject_access_summary_viewed)", got-size)
	}

	// A bad exemption stores nothing and writes no leaf.
	before, size := e.storedSAR(t, e.sar), e.oversightSize(t)
	for _, body := range []string{
		`{"categories":["email"],"ground":"crime"}`,
		`{"categories":["email"],"note":"n"}`,
		`{"ground":"crime","note":"n"}`,
		`{"categories":["E Mail"],"ground":"crime","note":"n"}`,
		`{"categories":["email"],"ground":"crime","note":"n","from":"2026-09-02T00:00:00Z","to":"2026-09-01T00:00:00Z"}`,
	} {
		if code, _ := e.apiAs(t, "dpo", "POST", "/v1"+href+"/exemptions", body); code != http.StatusBadRequest {
			t.Errorf("exemption %s = %d, want 400", body, code)
		}
	}
	if after := e.storedSAR(t, e.sar); after.Version != before.Version || e.oversightSize(t) != size {
		t.Error("a refused exemption changed the request or the oversight log")
	}
	// The form shows the refusal beside its field.
	if resp, out := e.page(t, "dpo", href+"/exemptions", url.Values{"categories": {"email"}, "ground": {"crime"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, `id="note-error"`) {
		t.Errorf("exemption form without a note = %d, want 400 with the note's error", resp.StatusCode)
	}
	const note = "Operation KESTREL: the e-mail would show the inquiry"
	if resp, _ := e.page(t, "dpo", href+"/exemptions", url.Values{"categories": {"email"}, "ground": {"crime"}, "note": {note}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("exemption = %d", resp.StatusCode)
	}
	// The person is never shown the exemption, before or after the answer.
	_, meOpen := e.page(t, "staff", "/me", nil)
	if !strings.Contains(meOpen, "being prepared") {
		t.Error("/me does not say the request is being prepared")
	}
	if w := revealed(meBefore, meOpen, reqID, st.Reference, note); len(w) > 0 {
		t.Errorf("/me while prepared reveals %v", w)
	}
	if resp, _ := e.page(t, "dpo", href+"/answer", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("answer = %d", resp.StatusCode)
	}
	_, meAfter := e.page(t, "staff", "/me", nil)
	download := "/me/subject-access-requests/" + e.sar + "/export"
	if !strings.Contains(meAfter, "ready to download") || !strings.Contains(meAfter, `href="`+download+`"`) {
		t.Errorf("/me after the answer lacks the state or the download link")
	}
	if w := revealed(meBefore, meAfter, reqID, st.Reference, note); len(w) > 0 {
		t.Errorf("/me after the answer reveals %v", w)
	}
	code, mine := e.apiAs(t, "staff", "GET", "/v1/me/subject-access-requests", "")
	mineJSON, _ := json.Marshal(mine)
	if code != 200 || !strings.Contains(string(mineJSON), `"ready to download"`) {
		t.Errorf("GET /v1/me/subject-access-requests = %d %s", code, mineJSON)
	}
	if w := revealed("", string(mineJSON), reqID, st.Reference, note); len(w) > 0 {
		t.Errorf("the person's API view reveals %v", w)
	}

	// Nobody else downloads it.
	for _, who := range []string{"investigator", "dpo", "oversight", "admin"} {
		if resp, _ := e.page(t, who, download, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s downloading staff1's answer = %d, want 404", who, resp.StatusCode)
		}
	}
	size = e.oversightSize(t)
	resp := e.call(t, "staff", true, "GET", download, "")
	zb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if e.oversightSize(t) != size+1 {
		t.Error("the download was not recorded")
	}
	rep, err := evidence.Verify(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatalf("the answer does not verify: %v", err)
	}
	cats := map[string]int{}
	for _, ev := range rep.Events {
		var user, cat string
		for _, f := range ev.Disclosed {
			switch f.Name {
			case "user.id":
				json.Unmarshal([]byte(f.Value), &user)
			case "event.category":
				json.Unmarshal([]byte(f.Value), &cat)
			}
		}
		if user != "staff1" {
			t.Errorf("event %d of %q is in staff1's answer", ev.Index, user)
		}
		cats[cat]++
	}
	if cats["email"] != 0 || cats["record_query"] != 1 || cats["web"] != 1 || len(cats) != 2 {
		t.Errorf("the answer holds categories %v, want record_query and web once each, no e-mail", cats)
	}
	if rep.Pseudonyms == 0 {
		t.Error("dpo1, named in staff1's record query, is not pseudonymised")
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		extra := []string{reqID, st.Reference, note, "inv1", "dpo1"}
		text := string(b)
		if strings.HasPrefix(f.Name, "events/") {
			// The format's own key for fields given as commitments.
			text = strings.ReplaceAll(text, `"withheld"`, `""`)
		}
		if w := revealed("", text, extra...); len(w) > 0 {
			t.Errorf("%s in the answer reveals %v", f.Name, w)
		}
	}
}

// TestSubjectAccessOwnRequest: a DPO's own request is handled by another
// DPO; they may not open it, and the refusal changes nothing.
func TestSubjectAccessOwnRequest(t *testing.T) {
	e := newPeopleEnv(t)
	if err := e.node.Store.AddSubjectAccessRequest(t.Context(), store.SubjectAccessRequest{ID: "sar-dpo1", Person: "dpo1",
		Made: e.node.Now(), State: "received"}); err != nil {
		t.Fatal(err)
	}
	size := e.oversightSize(t)
	for _, step := range []struct{ path, body string }{
		{"/open", "{}"}, {"/close", `{"reason":"withdrawn"}`}, {"/extension", `{"months":1,"reason":"busy"}`},
	} {
		if code, body := e.apiAs(t, "dpo", "POST", "/v1/subject-access-requests/sar-dpo1"+step.path, step.body); code != http.StatusForbidden {
			t.Errorf("dpo1 %s on their own request = %d %v, want 403", step.path, code, body)
		}
	}
	if e.storedSAR(t, "sar-dpo1").Version != 1 || e.oversightSize(t) != size {
		t.Error("a refused step on one's own request changed something")
	}
	// Another DPO has withheld part of it: dpo1 sees none of that.
	st := e.storedSAR(t, "sar-dpo1")
	st.State, st.Version = "preparing", 2
	st.Body = []byte(`{"state":"preparing","opened_by":"dpo2","exemptions":[{"id":"ex-1","categories":["email"],"ground":"crime","note":"Operation Kestrel","by":"dpo2"}],"history":[{"action":"open","from":"received","to":"preparing","by":"dpo2"}]}`)
	if err := e.node.Store.UpdateSubjectAccessRequest(t.Context(), st, nil); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.apiAs(t, "dpo", "GET", "/v1/subject-access-requests/sar-dpo1", ""); code != http.StatusForbidden {
		t.Errorf("dpo1 reading their own request = %d, want 403", code)
	}
	resp := e.call(t, "dpo", false, "GET", "/v1/subject-access-requests", "")
	list, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(list), "sar-dpo1") || strings.Contains(string(list), "Kestrel") || strings.Contains(string(list), "dpo2") {
		t.Errorf("dpo1's list shows their own request's handling: %s", list)
	}
	if _, out := e.page(t, "dpo", "/subject-access-requests", nil); strings.Contains(out, `href="/subject-access-requests/sar-dpo1"`) {
		t.Error("dpo1's list links to their own request's page")
	}
	if resp, _ := e.page(t, "dpo", "/subject-access-requests/sar-dpo1", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("dpo1's own request's page = %d, want 403", resp.StatusCode)
	}
}

// TestSubjectAccessExtendAndClose: the person sees only the new date and
// "extended"; a closed request offers nothing more.
func TestSubjectAccessExtendAndClose(t *testing.T) {
	e := newPeopleEnv(t)
	href := "/v1/subject-access-requests/" + e.sar
	if code, body := e.apiAs(t, "dpo", "POST", href+"/extension", `{"months":3,"reason":"busy"}`); code != http.StatusBadRequest {
		t.Errorf("extension by 3 months = %d %v, want 400", code, body)
	}
	const reason = "Complex: the officer is the subject of an inquiry"
	if code, body := e.apiAs(t, "dpo", "POST", href+"/extension", `{"months":2,"reason":"`+reason+`"}`); code != 200 {
		t.Fatalf("extension = %d %v", code, body)
	}
	if code, _ := e.apiAs(t, "dpo", "POST", href+"/extension", `{"months":1,"reason":"again"}`); code != http.StatusBadRequest {
		t.Errorf("a second extension = %d, want 400", code)
	}
	_, me := e.page(t, "staff", "/me", nil)
	if !strings.Contains(me, "Extended because of the complexity or number of requests") || strings.Contains(me, reason) {
		t.Error("/me does not show the extension in general words only")
	}
	if code, body := e.apiAs(t, "dpo", "POST", href+"/close", `{"reason":"withdrawn","note":"the person asked by phone"}`); code != 200 {
		t.Fatalf("close = %d %v", code, body)
	}
	if code, _ := e.apiAs(t, "dpo", "POST", href+"/open", `{}`); code != http.StatusConflict {
		t.Errorf("opening a closed request = %d, want 409", code)
	}
	_, me = e.page(t, "staff", "/me", nil)
	if !strings.Contains(me, ">closed<") || strings.Contains(me, "by phone") {
		t.Error("/me does not show the closed request plainly")
	}
}

// TestSubjectAccessHint: the hint is given while a request naming the
// person is awaiting a decision or in force, and not for a mere draft.
func TestSubjectAccessHint(t *testing.T) {
	e := newPeopleEnv(t) // e.request is a draft about staff1
	href := "/v1/subject-access-requests/" + e.sar
	if code, body := e.apiAs(t, "dpo", "POST", href+"/open", "{}"); code != 200 {
		t.Fatalf("open = %d %v", code, body)
	}
	hint := func(when string, want bool) {
		t.Helper()
		code, body := e.apiAs(t, "dpo", "GET", href+"/summary", "")
		if code != 200 || body["might_prejudice"] != want {
			t.Errorf("%s: summary = %d %v, want might_prejudice %v", when, code, body, want)
		}
	}
	hint("with only a draft", false)
	_, created := e.apiAs(t, "investigator", "POST", "/v1/requests", requestJSON)
	id := created["id"].(string)
	if code, body := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/submit", ""); code != 200 {
		t.Fatalf("submit = %d %v", code, body)
	}
	hint("awaiting a decision", true)
	if code, body := e.apiAs(t, "authoriser", "POST", "/v1/requests/"+id+"/decision", decisionJSON); code != 200 {
		t.Fatalf("decision = %d %v", code, body)
	}
	hint("in force", true)

	// staff1 has no events: the answer is a bundle of none, which verifies.
	if code, body := e.apiAs(t, "dpo", "POST", href+"/answer", "{}"); code != 200 {
		t.Fatalf("answer = %d %v", code, body)
	}
	// The look was for the answer: once given, the data is not shown again.
	if code, _ := e.apiAs(t, "dpo", "GET", href+"/summary", ""); code != http.StatusConflict {
		t.Errorf("summary after the answer = %d, want 409", code)
	}
	resp := e.call(t, "staff", false, "GET", "/v1/me/subject-access-requests/"+e.sar+"/export", "")
	zb, _ := io.ReadAll(resp.Body)
	if rep, err := evidence.Verify(bytes.NewReader(zb), int64(len(zb))); resp.StatusCode != 200 || err != nil || len(rep.Events) != 0 {
		t.Errorf("an answer of no events: %d, %v", resp.StatusCode, err)
	}
}
