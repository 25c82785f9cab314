package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

func problemOf(t *testing.T, resp *http.Response) web.Problem {
	t.Helper()
	var p web.Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("decoding problem: %v", err)
	}
	return p
}

// TestRefusedTokens: expired, revoked, a leaver's, and one used outside
// its role scope. Each is refused and changes nothing.
func TestRefusedTokens(t *testing.T) {
	e := newPeopleEnv(t)
	ctx := t.Context()
	st := e.node.Store
	now := e.node.Now()

	expired, hash := identity.NewToken()
	if err := st.AddToken(ctx, store.Token{Hash: hash, Kind: identity.KindUser, Subject: "adm2", Role: "admin",
		Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// A leaver: their leaving date has come.
	lee := store.Person{ID: "lee", Name: "Lee", Roles: []string{"admin", "staff"}, LeftOn: now.Add(-time.Minute)}
	if _, _, err := st.PutPeople(ctx, []store.Person{lee}); err != nil {
		t.Fatal(err)
	}
	leaver, err := identity.NewUserToken(ctx, st, "lee", identity.RoleAdmin, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	// adm2 holds admin, but this token acts only as staff.
	scoped, err := identity.NewUserToken(ctx, st, "adm2", identity.RoleStaff, now)
	if err != nil {
		t.Fatal(err)
	}

	before := e.snapshot(t)
	for _, c := range []struct {
		name, token, method, path, body string
		want                            int
	}{
		{"expired", expired, "GET", "/v1/people", "", http.StatusUnauthorized},
		{"leaver", leaver, "GET", "/v1/me", "", http.StatusUnauthorized},
		{"outside its role scope: list people", scoped, "GET", "/v1/people", "", http.StatusForbidden},
		{"outside its role scope: propose", scoped, "POST", "/v1/people/staff1/changes", `{"roles":["admin"],"reason":"x"}`, http.StatusForbidden},
		{"not a token", "lbm_" + strings.Repeat("A", 43), "GET", "/v1/me", "", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequestWithContext(ctx, c.method, e.srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		if resp := e.send(t, req); resp.StatusCode != c.want {
			t.Errorf("%s: %s %s = %d, want %d", c.name, c.method, c.path, resp.StatusCode, c.want)
		}
	}
	after := e.snapshot(t)
	// The leaver's token is now revoked: the one change a refusal makes,
	// and it is one that must happen.
	if tok, err := st.TokenByHash(ctx, identity.HashToken(leaver)); err != nil || tok.Revoked.IsZero() {
		t.Errorf("leaver's token after use: %+v, %v; want revoked", tok, err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("refused tokens changed the store (-before +after):\n%s", diff)
	}

	// A revoked session: signed out, then used again.
	cookie := e.actors["oversight"].cookie
	resp := e.call(t, "oversight", true, "POST", "/sign-out", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out = %d", resp.StatusCode)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/people", nil)
	req.AddCookie(&http.Cookie{Name: "lbm_session", Value: cookie})
	if resp := e.send(t, req); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/sign-in?next=") {
		t.Errorf("revoked session on a page = %d to %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v1/people", nil)
	req.AddCookie(&http.Cookie{Name: "lbm_session", Value: cookie})
	if resp := e.send(t, req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked session on the API = %d, want 401", resp.StatusCode)
	}
}

// TestNoSelfApproval: the administrator who proposed a change cannot
// approve or reject it, by page or API, even stepped up.
func TestNoSelfApproval(t *testing.T) {
	e := newPeopleEnv(t)
	before := e.snapshot(t)
	resp := e.call(t, "proposer", false, "POST", "/v1/changes/"+e.change+"/approval", "")
	if p := problemOf(t, resp); resp.StatusCode != http.StatusForbidden || p.Type != web.TypeConflictInterest {
		t.Errorf("proposer approving by API = %d %s, want 403 conflict-of-interest", resp.StatusCode, p.Type)
	}
	for _, path := range []string{"/changes/" + e.change + "/approve", "/changes/" + e.change + "/reject"} {
		if resp := e.call(t, "proposer", true, "POST", path, ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("proposer POST %s = %d, want 403", path, resp.StatusCode)
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("self-approval attempts changed the store (-before +after):\n%s", diff)
	}
}

// TestNoRankByAdmin: no route lets an administrator set a rank, alone or
// with a second admin; ranks come only from HR or the identity provider.
func TestNoRankByAdmin(t *testing.T) {
	e := newPeopleEnv(t)
	before := e.snapshot(t)
	for _, who := range []string{"admin", "bootstrap"} {
		resp := e.call(t, who, false, "POST", "/v1/people/staff1/changes", `{"roles":["staff"],"rank":"commissioner","reason":"promotion"}`)
		if p := problemOf(t, resp); resp.StatusCode != http.StatusBadRequest || p.Field != "rank" {
			t.Errorf("%s proposing a rank = %d %+v, want 400 on field rank", who, resp.StatusCode, p)
		}
	}
	resp := e.call(t, "admin", true, "POST", "/people/staff1/change", "roles=staff&rank=commissioner&reason=promotion")
	if resp.StatusCode == http.StatusSeeOther {
		// The page form has no rank field; an injected one is ignored and
		// the proposal (roles unchanged) changes nothing, so it is refused.
		t.Errorf("page proposal with a rank = %d, want refused", resp.StatusCode)
	}
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		if resp := e.call(t, "admin", false, m, "/v1/people/staff1", `{"rank":"commissioner"}`); resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s /v1/people/staff1 = %d, want 404 or 405", m, resp.StatusCode)
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("rank attempts changed the store (-before +after):\n%s", diff)
	}
}

// TestStepUpRequired: a decision needs a fresh second factor.
func TestStepUpRequired(t *testing.T) {
	e := newPeopleEnv(t)
	ctx := t.Context()
	now := e.node.Now()
	cookie, hash := identity.NewToken()
	if err := e.node.Store.AddToken(ctx, store.Token{Hash: hash, Kind: identity.KindSession, Subject: "adm2", Role: "admin",
		Created: now, Expires: now.Add(time.Hour), SteppedUp: now.Add(-identity.StepUpLifetime)}); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(t)
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/changes/"+e.change+"/approve", nil)
	req.AddCookie(&http.Cookie{Name: "lbm_session", Value: cookie})
	if resp := e.send(t, req); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/step-up?next=%2Fchanges" {
		t.Errorf("approve with a stale step-up = %d to %q, want a redirect to /step-up", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/changes/"+e.change+"/approval", nil)
	req.Header.Set("Authorization", "Bearer "+e.actors["admin"].bearer)
	resp := e.send(t, req)
	if p := problemOf(t, resp); resp.StatusCode != http.StatusForbidden || p.Type != web.TypeStepUp {
		t.Errorf("API approval without LBM-OTP = %d %s, want 403 step-up-required", resp.StatusCode, p.Type)
	}
	req, _ = http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/changes/"+e.change+"/approval", nil)
	req.Header.Set("Authorization", "Bearer "+e.actors["admin"].bearer)
	req.Header.Set("LBM-OTP", "000000")
	if resp := e.send(t, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("API approval with a wrong code = %d, want 403", resp.StatusCode)
	}
	after := e.snapshot(t)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("refused decisions changed the store (-before +after):\n%s", diff)
	}
	// With a right code it goes through, and is recorded.
	resp = e.call(t, "admin", false, "POST", "/v1/changes/"+e.change+"/approval", "")
	var d web.DecisionJSON
	json.NewDecoder(resp.Body).Decode(&d)
	if resp.StatusCode != http.StatusOK || d.Change.State != "approved" || d.Person == nil || !cmp.Equal(d.Person.Roles, []string{"oversight", "staff"}) {
		t.Errorf("approval = %d %+v", resp.StatusCode, d)
	}
	if got := e.snapshot(t).LogSizes["oversight"]; got != before.LogSizes["oversight"]+1 {
		t.Errorf("oversight log grew to %d from %d, want one leaf for the approval", got, before.LogSizes["oversight"])
	}
}
