package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/store"
)

// holdRoutes are every route of the legal holds, each with a body the
// DPO's call would succeed with.
func holdRoutes(e *peopleEnv) []struct {
	page               bool
	method, path, body string
} {
	return []struct {
		page               bool
		method, path, body string
	}{
		{false, "GET", "/v1/holds?all=1", ""},
		{false, "POST", "/v1/holds", `{"person":"inv1","reason":"a complaint by a member of the public, ref C/77"}`},
		{false, "POST", "/v1/holds/" + e.hold + "/release", `{"note":"the claim was settled at the hearing"}`},
		{true, "GET", "/holds", ""},
		{true, "POST", "/holds", "person=inv1&reason=a+complaint+by+a+member+of+the+public"},
		{true, "POST", "/holds/" + e.hold + "/release", "note=the+claim+was+settled+at+the+hearing"},
	}
}

// TestHoldsHiddenFromOthers: every role but the DPO and oversight is
// refused every holds route with 403, learns nothing of the hold, and
// changes nothing; oversight is refused every change.
func TestHoldsHiddenFromOthers(t *testing.T) {
	e := newPeopleEnv(t)
	before := e.snapshot(t)
	for _, who := range []string{"staff", "investigator", "authoriser", "adviser", "oversight", "admin", "bootstrap", "source"} {
		for _, rt := range holdRoutes(e) {
			if who == "oversight" && rt.method == "GET" {
				continue
			}
			if rt.page && (who == "bootstrap" || who == "source") {
				continue // no session: sent to sign in, as the access matrix checks
			}
			resp := e.call(t, who, rt.page, rt.method, rt.path, rt.body)
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as %s = %d, want 403", rt.method, rt.path, who, resp.StatusCode)
			}
			if strings.Contains(body, holdReason) || strings.Contains(body, e.hold) {
				t.Errorf("%s %s as %s shows the hold", rt.method, rt.path, who)
			}
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused calls changed the store (-before +after):\n%s", diff)
	}
}

// TestHeldPersonSeesNothing: what staff1, on hold, reads about themselves
// shows no trace of it.
func TestHeldPersonSeesNothing(t *testing.T) {
	e := newPeopleEnv(t)
	for _, c := range []struct {
		page bool
		path string
	}{{true, "/me"}, {true, "/"}, {true, "/inbox"}, {false, "/v1/me"}, {false, "/v1/me/acknowledgements"}, {false, "/v1/inbox"}} {
		resp := e.call(t, "staff", c.page, "GET", c.path, "")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s as staff1 = %d, want 200", c.path, resp.StatusCode)
		}
		for _, leak := range []string{holdReason, e.hold, "Legal hold", "legal hold", "/holds"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s as staff1, who is on hold, shows %q", c.path, leak)
			}
		}
	}
}

type holdResult struct {
	ID          string `json:"id"`
	Person      string `json:"person"`
	Reason      string `json:"reason"`
	PlacedBy    string `json:"placed_by"`
	Released    string `json:"released"`
	ReleasedBy  string `json:"released_by"`
	ReleaseNote string `json:"release_note"`
}

func (e *peopleEnv) listHolds(t *testing.T, who, query string) []holdResult {
	t.Helper()
	resp := e.call(t, who, false, "GET", "/v1/holds"+query, "")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/holds%s as %s = %d %s", query, who, resp.StatusCode, body)
	}
	var out struct {
		Holds []holdResult `json:"holds"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Holds
}

func TestHoldsAPI(t *testing.T) {
	e := newPeopleEnv(t)
	first := holdResult{ID: e.hold, Person: "staff1", Reason: holdReason, PlacedBy: "dpo1"}
	for _, who := range []string{"dpo", "oversight"} {
		if got := e.listHolds(t, who, ""); !cmp.Equal(got, []holdResult{first}) {
			t.Errorf("GET /v1/holds as %s = %+v, want [%+v]", who, got, first)
		}
	}
	if resp := e.call(t, "dpo", false, "GET", "/v1/holds?all=maybe", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /v1/holds?all=maybe = %d, want 400", resp.StatusCode)
	}

	// Refused input: 400 naming the field, nothing recorded or stored.
	before := e.snapshot(t)
	for _, tt := range []struct{ body, field string }{
		{`{"person":"inv1","reason":""}`, "reason"},
		{`{"person":"inv1","reason":"too short"}`, "reason"},
		{`{"person":"inv1","reason":"` + strings.Repeat("x", 2001) + `"}`, "reason"},
		{`{"person":"inv1","reason":"a complaint \u202eby a member of the public"}`, "reason"},
		{`{"person":"nobody","reason":"a complaint by a member of the public"}`, "person"},
		{`{"person":"","reason":"a complaint by a member of the public"}`, "person"},
		{`{"person":"inv1","reason":"a complaint by a member of the public","extra":1}`, "body"},
	} {
		status, out := e.apiAs(t, "dpo", "POST", "/v1/holds", tt.body)
		if status != http.StatusBadRequest || out["field"] != tt.field {
			t.Errorf("POST /v1/holds %.60s = %d %v, want 400 on %s", tt.body, status, out, tt.field)
		}
	}
	if status, out := e.apiAs(t, "dpo", "POST", "/v1/holds/"+e.hold+"/release", `{"note":"settled"}`); status != http.StatusBadRequest || out["field"] != "note" {
		t.Errorf("a release with a short note = %d %v, want 400 on note", status, out)
	}
	if status, _ := e.apiAs(t, "dpo", "POST", "/v1/holds/hold-absent/release", `{"note":"the claim was settled"}`); status != http.StatusNotFound {
		t.Errorf("releasing an absent hold = %d, want 404", status)
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused calls changed the store (-before +after):\n%s", diff)
	}

	// Place, then release, each one oversight leaf with the texts kept
	// out of its metadata.
	size := e.oversightSize(t)
	status, out := e.apiAs(t, "dpo", "POST", "/v1/holds", `{"person":" inv1 ","reason":"a complaint by a member of the public, ref C/77"}`)
	if status != http.StatusCreated || out["person"] != "inv1" || out["placed_by"] != "dpo1" || out["released"] != nil {
		t.Fatalf("POST /v1/holds = %d %v", status, out)
	}
	second := out["id"].(string)
	status, out = e.apiAs(t, "dpo", "POST", "/v1/holds/"+e.hold+"/release", `{"note":"the claim was settled at the hearing"}`)
	if status != http.StatusOK || out["released_by"] != "dpo1" || out["release_note"] != "the claim was settled at the hearing" || out["released"] == nil {
		t.Fatalf("releasing = %d %v", status, out)
	}
	if status, out := e.apiAs(t, "dpo", "POST", "/v1/holds/"+e.hold+"/release", `{"note":"the claim was settled twice"}`); status != http.StatusConflict {
		t.Errorf("releasing again = %d %v, want 409", status, out)
	}
	if got := e.oversightSize(t); got != size+2 {
		t.Errorf("placing and releasing wrote %d oversight leaves, want 2", got-size)
	}
	entries, err := e.node.Store.Entries(t.Context(), "oversight", size, e.oversightSize(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		for _, secret := range []string{"inv1", "staff1", "member of the public", "settled at the hearing"} {
			if strings.Contains(string(en.Meta), secret) {
				t.Errorf("oversight entry %d holds %q in its metadata", en.Index, secret)
			}
		}
	}

	if got := e.listHolds(t, "oversight", ""); len(got) != 1 || got[0].ID != second {
		t.Errorf("holds in force = %+v, want only %s", got, second)
	}
	all := e.listHolds(t, "dpo", "?all=1")
	if len(all) != 2 || all[0].ID != second || all[1].ID != e.hold || all[1].ReleaseNote != "the claim was settled at the hearing" {
		t.Errorf("all holds = %+v, want %s then the released %s", all, second, e.hold)
	}
}

// TestHoldsNeedStepUp: placing or releasing without a recent second
// factor is refused, and sends a browser to step up.
func TestHoldsNeedStepUp(t *testing.T) {
	e := newPeopleEnv(t)
	ctx := t.Context()
	now := e.node.Now()
	cookie, hash := identity.NewToken()
	if err := e.node.Store.AddToken(ctx, store.Token{Hash: hash, Kind: identity.KindSession, Subject: "dpo1", Role: "dpo",
		Created: now, Expires: now.Add(identity.SessionLifetime)}); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(t)
	for _, rt := range holdRoutes(e) {
		if rt.method == "GET" {
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, rt.method, e.srv.URL+rt.path, strings.NewReader(rt.body))
		req.AddCookie(&http.Cookie{Name: "lbm_session", Value: cookie})
		resp := e.send(t, req)
		if rt.page {
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/step-up?next="+url.QueryEscape("/holds") {
				t.Errorf("%s %s without a second factor = %d to %q, want 303 to step up and back to /holds", rt.method, rt.path, resp.StatusCode, loc)
			}
		} else if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s without a second factor = %d, want 403", rt.method, rt.path, resp.StatusCode)
		}
		// A bearer token without its LBM-OTP header.
		req, _ = http.NewRequestWithContext(ctx, rt.method, e.srv.URL+rt.path, strings.NewReader(rt.body))
		req.Header.Set("Authorization", "Bearer "+e.actors["dpo"].bearer)
		if resp := e.send(t, req); !rt.page && resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with a token and no code = %d, want 403", rt.method, rt.path, resp.StatusCode)
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("calls without a second factor changed the store (-before +after):\n%s", diff)
	}
}

func TestHoldsPage(t *testing.T) {
	e := newPeopleEnv(t)
	// The DPO sees the form, the hold and its release form; the nav
	// links here.
	status, out := e.reviewCall(t, "dpo", "GET", "/holds", nil)
	release := "/holds/" + e.hold + "/release"
	for _, want := range []string{`action="/holds"`, `name="reason"`, `action="` + release + `"`, `id="note-` + e.hold + `"`,
		"Person staff1 (staff1)", holdReason, `href="/holds" aria-current="true"><strong class="govuk-service-navigation__active-fallback">Legal holds`} {
		if status != http.StatusOK || !strings.Contains(out, want) {
			t.Errorf("GET /holds as the DPO = %d, lacks %q", status, want)
		}
	}
	// Oversight reads it, without the forms.
	status, out = e.reviewCall(t, "oversight", "GET", "/holds", nil)
	if status != http.StatusOK || !strings.Contains(out, holdReason) || strings.Contains(out, `action="/holds`) {
		t.Errorf("GET /holds as oversight = %d; want the hold and no forms", status)
	}
	if strings.Contains(out, `href="/holds"`) {
		t.Error("oversight's navigation links to /holds; only the DPO's does")
	}

	// Refused forms come back with their errors, storing nothing.
	before := e.snapshot(t)
	status, out = e.reviewCall(t, "dpo", "POST", "/holds", url.Values{"person": {"nobody"}, "reason": {"short"}})
	if status != http.StatusBadRequest || !strings.Contains(out, `id="person-error"`) || !strings.Contains(out, `id="reason-error"`) ||
		!strings.Contains(out, `value="nobody"`) {
		t.Errorf("POST /holds with bad input = %d; want 400 with both errors and the input kept", status)
	}
	status, out = e.reviewCall(t, "dpo", "POST", release, url.Values{"note": {"short"}})
	if status != http.StatusBadRequest || !strings.Contains(out, `id="note-`+e.hold+`-error"`) || !strings.Contains(out, `href="#note-`+e.hold+`"`) {
		t.Errorf("POST %s with a short note = %d; want 400 with the error on the note", release, status)
	}
	if status, _ := e.reviewCall(t, "dpo", "POST", "/holds/hold-absent/release", url.Values{"note": {"the claim was settled"}}); status != http.StatusNotFound {
		t.Errorf("releasing an absent hold = %d, want 404", status)
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused forms changed the store (-before +after):\n%s", diff)
	}

	// Place and release.
	resp := e.call(t, "dpo", true, "POST", "/holds", url.Values{"person": {"inv1"}, "reason": {"a complaint\r\nby a member of the public"}}.Encode())
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/holds?done=placed" {
		t.Fatalf("POST /holds = %d to %q, want 303 to /holds?done=placed", resp.StatusCode, loc)
	}
	resp = e.call(t, "dpo", true, "POST", release, url.Values{"note": {"the claim was settled at the hearing"}}.Encode())
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/holds?done=released" {
		t.Fatalf("POST %s = %d to %q, want 303 to /holds?done=released", release, resp.StatusCode, loc)
	}
	status, out = e.reviewCall(t, "dpo", "GET", "/holds?done=released", nil)
	if status != http.StatusOK || !strings.Contains(out, "The hold is released.") || !strings.Contains(out, "the claim was settled at the hearing") ||
		!strings.Contains(out, "a complaint<br>by a member of the public") || strings.Contains(out, `action="`+release+`"`) {
		t.Errorf("GET /holds after placing and releasing = %d; want the new hold in force and the old one released", status)
	}
	status, out = e.reviewCall(t, "dpo", "POST", release, url.Values{"note": {"the claim was settled twice"}})
	if status != http.StatusConflict || !strings.Contains(out, "released meanwhile") {
		t.Errorf("releasing a released hold = %d; want 409 saying so", status)
	}
}
