package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/web"
)

func decode[T any](t *testing.T, resp *http.Response, want int) T {
	t.Helper()
	var v T
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, body)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return v
}

// TestNoticeLifecycle: a draft, its publication under dual control, the
// acknowledgements it asks for, and the report of who is missing.
func TestNoticeLifecycle(t *testing.T) {
	e := newPeopleEnv(t)
	ctx := t.Context()

	cur := decode[web.NoticeJSON](t, e.call(t, "anonymous", false, "GET", "/v1/notices/current", ""), http.StatusOK)
	if cur.Version != 1 || cur.Published == "" || len(cur.Categories) == 0 {
		t.Fatalf("current notice %+v, want version 1, published, with categories", cur)
	}
	banner := e.call(t, "anonymous", false, "GET", "/v1/notices/current/banner", "")
	if b, _ := io.ReadAll(banner.Body); banner.Header.Get("Content-Type") != "text/plain; charset=utf-8" || strings.TrimSpace(string(b)) != cur.Short {
		t.Errorf("banner %q (%s), want the short text as plain text", b, banner.Header.Get("Content-Type"))
	}
	pub := decode[web.PublicNoticeJSON](t, e.call(t, "anonymous", false, "GET", "/v1/public-notice", ""), http.StatusOK)
	if pub.Version != 1 || pub.Text != cur.PublicText || pub.Short != cur.PublicShort {
		t.Errorf("public notice %+v does not match the current notice's public texts", pub)
	}

	// adm1 proposes publishing the draft (version 2); adm2 approves it.
	c := decode[web.ChangeJSON](t, e.call(t, "proposer", false, "POST", "/v1/notices/"+e.draft+"/publication", `{"reason":"clearer wording"}`), http.StatusCreated)
	if c.Kind != "notice" || c.Target != e.draft || c.Base != 1 || c.State != "pending" {
		t.Errorf("proposed change %+v", c)
	}
	if cur := decode[web.NoticeJSON](t, e.call(t, "anonymous", false, "GET", "/v1/notices/current", ""), http.StatusOK); cur.Version != 1 {
		t.Errorf("a proposal published version %d", cur.Version)
	}
	d := decode[web.DecisionJSON](t, e.call(t, "admin", false, "POST", "/v1/changes/"+c.ID+"/approval", ""), http.StatusOK)
	if d.NoticeVersion != 2 || d.Change.State != "approved" {
		t.Errorf("decision %+v, want version 2 published", d)
	}
	changes := e.call(t, "oversight", true, "GET", "/changes", "")
	if b, _ := io.ReadAll(changes.Body); !strings.Contains(string(b), `govuk-tag--green">Approved<`) {
		t.Errorf("/changes does not show the approved publication with a green Approved tag")
	}

	// Staff are asked, on their home page, to acknowledge the new version.
	home := func() string {
		resp := e.call(t, "staff", true, "GET", "/", "")
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	const asked = "Version 2 has been published: please read it and acknowledge it."
	if !strings.Contains(home(), asked) {
		t.Errorf("staff1's home page does not ask for an acknowledgement of version 2")
	}

	// Acknowledging the old version is refused; the new one is acknowledged once.
	resp := e.call(t, "staff", false, "POST", "/v1/notices/current/acknowledgement", `{"version":1}`)
	if p := problemOf(t, resp); resp.StatusCode != http.StatusConflict || p.Type != web.TypeConflict {
		t.Errorf("acknowledging the superseded version = %d %+v, want 409 conflict", resp.StatusCode, p)
	}
	ack := decode[web.AcknowledgementJSON](t, e.call(t, "staff", false, "POST", "/v1/notices/current/acknowledgement", `{"version":2}`), http.StatusCreated)
	again := decode[web.AcknowledgementJSON](t, e.call(t, "staff", false, "POST", "/v1/notices/current/acknowledgement", `{"version":2}`), http.StatusOK)
	if ack.Version != 2 || ack.Via != "api" || again != ack {
		t.Errorf("acknowledgement %+v, again %+v; want version 2 via api, the same twice", ack, again)
	}
	if strings.Contains(home(), asked) {
		t.Errorf("staff1's home page still asks for an acknowledgement after it was given")
	}
	// Its oversight-log leaf is the one the acknowledgement names.
	entries, err := e.node.Store.Entries(ctx, "oversight", ack.OversightEntry, ack.OversightEntry+1)
	if err != nil || len(entries) != 1 {
		t.Fatalf("oversight entry %d: %v", ack.OversightEntry, err)
	}
	opened, err := e.node.Opener.Open(ctx, entries[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := opened.Event.Field("event.action"); string(got) != `"notice_acknowledged"` {
		t.Errorf("oversight entry %d is %s, want notice_acknowledged", ack.OversightEntry, got)
	}
	mine := decode[struct {
		Acknowledgements []web.AcknowledgementJSON `json:"acknowledgements"`
	}](t, e.call(t, "staff", false, "GET", "/v1/me/acknowledgements", ""), http.StatusOK)
	if !cmp.Equal(mine.Acknowledgements, []web.AcknowledgementJSON{ack}) {
		t.Errorf("my acknowledgements %+v, want [%+v]", mine.Acknowledgements, ack)
	}

	// The report lists everyone but staff1, by unit; as CSV too.
	rep := decode[inform.ComplianceSummary](t, e.call(t, "oversight", false, "GET", "/v1/reports/notices", ""), http.StatusOK)
	var missing []string
	for _, o := range rep.Outstanding {
		missing = append(missing, o.ID)
	}
	if want := []string{"adm1", "adm2", "adv1", "auth1", "dpo1", "inv1", "ovs1"}; rep.NoticeVersion != 2 || rep.Acknowledged != 1 || rep.Active != 8 || !cmp.Equal(missing, want) {
		t.Errorf("report %+v (missing %q), want version 2, 1 of 8, missing %q", rep, missing, want)
	}
	csv := e.call(t, "dpo", false, "GET", "/v1/reports/notices?format=csv", "")
	body, _ := io.ReadAll(csv.Body)
	if csv.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(string(body), "unit,manager_id,") ||
		strings.Contains(string(body), ",staff1,") || !strings.Contains(string(body), ",inv1,") {
		t.Errorf("CSV report (%s):\n%s", csv.Header.Get("Content-Type"), body)
	}
}

// TestInformRefusesBadInput: every bad draft, acknowledgement, request
// and catalogue is refused with a field to fix, and stores nothing.
func TestInformRefusesBadInput(t *testing.T) {
	e := newPeopleEnv(t)
	d, err := inform.DefaultNotice(inform.DefaultInput{Catalogue: policy.Default()})
	if err != nil {
		t.Fatal(err)
	}
	draft := func(change func(m map[string]any)) string {
		m := map[string]any{"title": d.Title, "text": d.Text, "short": d.Short, "public_text": d.PublicText,
			"public_short": d.PublicShort, "categories": d.Categories}
		change(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	f := policy.DefaultFiles()
	catalogue := func(purposes, criteria, reason string) string {
		b, _ := json.Marshal(map[string]string{"purposes": purposes, "legislation": string(f.Legislation), "criteria": criteria, "reason": reason})
		return string(b)
	}
	edited := strings.Replace(string(f.Purposes), "title: ", "title: Edited ", 1)
	before := e.snapshot(t)
	for _, c := range []struct {
		name, who, method, path, body string
		status                        int
		field                         string
	}{
		{"draft without a title", "admin", "POST", "/v1/notices", draft(func(m map[string]any) { m["title"] = "" }), 400, "title"},
		{"draft with a bidi override", "admin", "POST", "/v1/notices", draft(func(m map[string]any) { m["text"] = "## What\n\nAll \u202e use." }), 400, "text"},
		{"draft with an unknown category", "admin", "POST", "/v1/notices", draft(func(m map[string]any) { m["categories"] = []string{"email", "dreams"} }), 400, "categories"},
		{"draft with no categories", "admin", "POST", "/v1/notices", draft(func(m map[string]any) { m["categories"] = []string{} }), 400, "categories"},
		{"draft with an unknown field", "admin", "POST", "/v1/notices", draft(func(m map[string]any) { m["published"] = "2026-01-01T00:00:00Z" }), 400, "body"},
		{"draft short text too long", "admin", "POST", "/v1/notices", draft(func(m map[string]any) { m["short"] = strings.Repeat("Monitored. ", 100) }), 400, "short"},
		{"publication without a reason", "admin", "POST", "/v1/notices/" + "2" + "/publication", `{"reason":"  "}`, 400, "reason"},
		{"publication of the published version", "admin", "POST", "/v1/notices/1/publication", `{"reason":"again"}`, 400, "notice"},
		{"publication of no version", "admin", "POST", "/v1/notices/99/publication", `{"reason":"x"}`, 404, ""},
		{"acknowledging a draft", "staff", "POST", "/v1/notices/current/acknowledgement", `{"version":2}`, 409, ""},
		{"acknowledging nothing", "staff", "POST", "/v1/notices/current/acknowledgement", `{}`, 409, ""},
		{"acknowledging as the bootstrap token", "bootstrap", "POST", "/v1/notices/current/acknowledgement", `{"version":1}`, 403, ""},
		{"subject access request too long", "staff", "POST", "/v1/me/subject-access-requests", `{"details":"` + strings.Repeat("x", 2001) + `"}`, 400, "details"},
		{"subject access request with a control character", "staff", "POST", "/v1/me/subject-access-requests", `{"details":"a\u0007b"}`, 400, "details"},
		{"catalogue that does not parse", "admin", "POST", "/v1/catalogue/changes", catalogue(edited, "criteria: []\n", "x"), 400, "criteria.yaml"},
		{"catalogue with an unknown key", "admin", "POST", "/v1/catalogue/changes", catalogue(edited+"    colour: red\n", string(f.Criteria), "x"), 400, "purposes.yaml"},
		{"catalogue unchanged", "admin", "POST", "/v1/catalogue/changes", catalogue(string(f.Purposes), string(f.Criteria), "x"), 400, ""},
		{"catalogue without a reason", "admin", "POST", "/v1/catalogue/changes", catalogue(edited, string(f.Criteria), ""), 400, "reason"},
	} {
		resp := e.call(t, c.who, false, c.method, c.path, c.body)
		p := problemOf(t, resp)
		if resp.StatusCode != c.status || (c.field != "" && p.Field != c.field) {
			t.Errorf("%s: %d %+v, want %d naming field %q", c.name, resp.StatusCode, p, c.status, c.field)
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused requests changed the store (-before +after):\n%s", diff)
	}
}

// TestSelfServiceTellsNothing: a person's own page shows what everyone is
// told and their own requests, never anything about monitoring of them.
func TestSelfServiceTellsNothing(t *testing.T) {
	e := newPeopleEnv(t)
	resp := e.call(t, "staff", true, "POST", "/me/subject-access-requests", url.Values{"details": {"Everything since May"}}.Encode())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/me?requested=1" {
		t.Fatalf("requesting = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	page := e.call(t, "staff", true, "GET", "/me", "")
	body, _ := io.ReadAll(page.Body)
	for _, want := range []string{"Everything since May", "E-mail", "pnc", "Data Protection Officer"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/me does not show %q", want)
		}
	}
	lower := strings.ToLower(string(body))
	for _, never := range []string{"authorisation", "investigat", "alert", "legal hold", "suspect"} {
		if strings.Contains(lower, never) {
			t.Errorf("/me mentions %q", never)
		}
	}
	list := decode[struct {
		Requests []web.SubjectAccessJSON `json:"requests"`
	}](t, e.call(t, "dpo", false, "GET", "/v1/subject-access-requests", ""), http.StatusOK)
	// The newest first; the other is the fixture's (newPeopleEnv).
	if len(list.Requests) != 2 || list.Requests[0].Person != "staff1" || list.Requests[0].Details != "Everything since May" || list.Requests[0].Due == "" {
		t.Errorf("the DPO sees %+v, want staff1's two requests, the new one first with its due date", list.Requests)
	}
}

// TestLargeDraftAccepted: a notice near its limits, in a script of
// three-byte letters (Punjabi), is larger than an ordinary JSON body and
// is accepted.
func TestLargeDraftAccepted(t *testing.T) {
	e := newPeopleEnv(t)
	text := "## ਅਸੀਂ ਕੀ ਦਰਜ ਕਰਦੇ ਹਾਂ\n\n" + strings.Repeat("ਅਸੀਂ ਸਿਸਟਮਾਂ ਦੀ ਵਰਤੋਂ ਦਰਜ ਕਰਦੇ ਹਾਂ। ", 500)
	body, _ := json.Marshal(map[string]any{"title": "ਨਿਗਰਾਨੀ ਨੋਟਿਸ", "text": text, "short": "ਨਿਗਰਾਨੀ ਕੀਤੀ ਜਾਂਦੀ ਹੈ।",
		"public_text": text, "public_short": "ਦਰਜ ਕੀਤਾ ਜਾਂਦਾ ਹੈ।", "categories": []string{"email"}})
	if len(body) <= 64<<10 {
		t.Fatalf("the body is %d bytes: not larger than an ordinary JSON body", len(body))
	}
	n := decode[web.NoticeJSON](t, e.call(t, "admin", false, "POST", "/v1/notices", string(body)), http.StatusCreated)
	if n.Text != text {
		t.Errorf("stored text differs from the text sent")
	}
}

// TestCatalogueChangePage: the second administrator sees exactly what a
// catalogue change changes before deciding it.
func TestCatalogueChangePage(t *testing.T) {
	e := newPeopleEnv(t)
	resp := e.call(t, "admin", true, "GET", "/catalogue/changes/"+e.catalogueChange, "")
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"<code>    title: Proposed ", ">Removed<", ">Added<", "legislation.yaml", "Unchanged.", `action="/changes/` + e.catalogueChange + `/approve"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the change page does not show %q", want)
		}
	}
	if n := strings.Count(page, "lbm-diff__added"); n != 1 {
		t.Errorf("%d added lines shown, want 1", n)
	}
	// Any other change, or none, is not a catalogue change.
	for _, id := range []string{e.change, "nope"} {
		if resp := e.call(t, "admin", true, "GET", "/catalogue/changes/"+id, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/catalogue/changes/%s = %d, want 404", id, resp.StatusCode)
		}
	}
}

// TestAcknowledgeChangedNotice: a person who acknowledges the version they
// were reading, after a newer one was published, is shown the new one and
// told their acknowledgement was not recorded.
func TestAcknowledgeChangedNotice(t *testing.T) {
	e := newPeopleEnv(t)
	c := decode[web.ChangeJSON](t, e.call(t, "proposer", false, "POST", "/v1/notices/"+e.draft+"/publication", `{"reason":"clearer wording"}`), http.StatusCreated)
	decode[web.DecisionJSON](t, e.call(t, "admin", false, "POST", "/v1/changes/"+c.ID+"/approval", ""), http.StatusOK)
	before := e.snapshot(t)
	resp := e.call(t, "staff", true, "POST", "/notice/acknowledgement", "version=1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/notice?changed=1" {
		t.Fatalf("acknowledging the superseded version = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("acknowledging the superseded version changed the store (-before +after):\n%s", diff)
	}
	page := e.call(t, "staff", true, "GET", "/notice?changed=1", "")
	body, _ := io.ReadAll(page.Body)
	if !strings.Contains(string(body), "your acknowledgement was not recorded") || !strings.Contains(string(body), `name="version" value="2"`) {
		t.Errorf("/notice?changed=1 does not explain, or offers no acknowledgement of version 2:\n%s", body)
	}
}

// TestDraftFormPrefilled: the draft form starts from the published
// version, or from the generated default when asked.
func TestDraftFormPrefilled(t *testing.T) {
	e := newPeopleEnv(t)
	for _, c := range []struct{ path, basis string }{
		{"/notices/new", "Prefilled from the published version 1 (to start from the generated default instead, open /notices/new?default). Change"},
		{"/notices/new?default", "Prefilled from the notice lbm generates from its configuration: the systems connected, the data categories, the purposes and the law. Change"},
	} {
		resp := e.call(t, "admin", true, "GET", c.path, "")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), c.basis) {
			t.Errorf("%s: status %d; the page does not say %q", c.path, resp.StatusCode, c.basis)
		}
	}
}
