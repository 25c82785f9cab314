package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

// nationalEnv is a national oversight node's handler, with a national
// oversight officer (token and session), a person a tampered directory
// made oversight, and the bootstrap token.
type nationalEnv struct {
	srv     *httptest.Server
	node    *server.Node
	callers map[string]actor
	built   int // national reports built
}

func newNationalEnv(t *testing.T, record func(ctx context.Context, actor, action string, details map[string]any) (uint64, error)) *nationalEnv {
	t.Helper()
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), National: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if !n.National {
		t.Fatal("the national node's Open did not mark it national")
	}
	now := n.Now()
	e := &nationalEnv{node: n, callers: map[string]actor{"anonymous": {}}}
	if _, token, err := identity.AddUser(ctx, n.Store, identity.NewUser{ID: "nat1", Role: identity.RoleNationalOversight, National: true, Token: true}, now); err != nil {
		t.Fatal(err)
	} else {
		cookie, hash := identity.NewToken()
		if err := n.Store.AddToken(ctx, store.Token{Hash: hash, Kind: identity.KindSession, Subject: "nat1", Role: string(identity.RoleNationalOversight),
			Created: now, Expires: now.Add(identity.SessionLifetime), SteppedUp: now}); err != nil {
			t.Fatal(err)
		}
		e.callers["national"] = actor{person: "nat1", bearer: token, cookie: cookie}
	}
	// A directory row no import could write: someone given oversight on
	// the national node. The role still reaches nothing there.
	if _, _, err := n.Store.PutPeople(ctx, []store.Person{{ID: "ovs1", Name: "O", Roles: []string{"oversight", "staff"}, Updated: now}}); err != nil {
		t.Fatal(err)
	}
	tok, err := identity.NewUserToken(ctx, n.Store, "ovs1", identity.RoleOversight, now)
	if err != nil {
		t.Fatal(err)
	}
	e.callers["oversight"] = actor{person: "ovs1", bearer: tok}
	admin, err := readToken(n.AdminTokenPath)
	if err != nil {
		t.Fatal(err)
	}
	e.callers["bootstrap"] = actor{bearer: admin}

	cfg := server.WebConfig(n)
	cfg.Throttle = &identity.Throttle{}
	cfg.Capture = capturetest.New()
	if record != nil {
		cfg.Record = record
	}
	cfg.National = func(ctx context.Context, from, to, now time.Time) (oversight.NationalReport, error) {
		e.built++
		return oversight.BuildNational(from, to, now, []oversight.TenantFigures{
			{ID: "force-a", Name: "Force Alpha", Figures: oversight.Figures{Submitted: 3, Authorised: 2}},
			{ID: "force-b", Name: "Force Bravo", Figures: oversight.Figures{Submitted: 1, Refused: 1}},
		}), nil
	}
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *nationalEnv) call(t *testing.T, who string, page bool, method, path, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := e.callers[who]
	switch {
	case page && a.cookie != "":
		req.AddCookie(&http.Cookie{Name: "lbm_session", Value: a.cookie})
	case !page && a.bearer != "":
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// fillAny fills a route pattern's parameters with placeholders.
func fillAny(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	for strings.Contains(path, "{") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		path = path[:i] + "x" + path[j+1:]
	}
	return path
}

// TestNationalNodeServesOnlyItsRoutes: on the national node every route
// but the national ones is not found, whoever asks; the national report
// is national oversight's alone, and every view is recorded first.
func TestNationalNodeServesOnlyItsRoutes(t *testing.T) {
	e := newNationalEnv(t, nil)
	national := web.NationalActions()
	for _, rt := range web.Routes() {
		if slices.Contains(national, rt.Action) {
			continue
		}
		method, _, _ := strings.Cut(rt.Pattern, " ")
		path := fillAny(rt.Pattern)
		for _, who := range []string{"anonymous", "national", "oversight", "bootstrap"} {
			if resp, body := e.call(t, who, rt.Page, method, path, ""); resp.StatusCode != http.StatusNotFound {
				t.Errorf("national node: %s %s as %s = %d, want 404\n%s", method, path, who, resp.StatusCode, body)
			}
		}
	}
	size := func() uint64 {
		ts, err := e.node.Store.LogState(t.Context(), server.Oversight)
		if err != nil {
			t.Fatal(err)
		}
		return ts.Size
	}

	// Everyone else is refused the report, and nothing is built or recorded.
	before := size()
	for _, tc := range []struct {
		who    string
		page   bool
		status int
	}{
		{"anonymous", false, http.StatusUnauthorized},
		{"anonymous", true, http.StatusSeeOther},
		{"oversight", false, http.StatusForbidden},
		{"bootstrap", false, http.StatusForbidden},
		{"national", true, http.StatusOK}, // checked below; here a page with a cookie
	} {
		if tc.who == "national" {
			continue
		}
		path := "/v1/national/report"
		if tc.page {
			path = "/national/report"
		}
		if resp, body := e.call(t, tc.who, tc.page, "GET", path, ""); resp.StatusCode != tc.status {
			t.Errorf("GET %s as %s = %d, want %d\n%s", path, tc.who, resp.StatusCode, tc.status, body)
		}
	}
	if e.built != 0 || size() != before {
		t.Fatalf("refused calls built %d reports and grew the oversight log from %d to %d", e.built, before, size())
	}
	// The national officer reads it as JSON, CSV (by format and by
	// Accept) and as a page; each view is one oversight record.
	for _, tc := range []struct {
		page         bool
		path, accept string
		want         []string
		ctype        string
	}{
		{false, "/v1/national/report?from=2026-10-01&to=2026-10-31", "", []string{`"id":"force-a"`, `"name":"Force Bravo"`, `"total":{"submitted":4`}, "application/json"},
		{false, "/v1/national/report?format=csv&from=2026-10-01&to=2026-10-31", "", []string{"tenant,name,submitted", "force-a,Force Alpha,3,2", "total,,4,2,1"}, "text/csv"},
		{false, "/v1/national/report", "text/csv", []string{"tenant,name,submitted"}, "text/csv"},
		{true, "/national/report?from=2026-10-01&to=2026-10-31", "", []string{"Force Alpha", "Force Bravo", "Total", `href="/national/report"`}, "text/html"},
	} {
		before := size()
		resp, body := e.call(t, "national", tc.page, "GET", tc.path, tc.accept)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s = %d %s, want 200 %s\n%s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.ctype, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q:\n%s", tc.path, w, body)
			}
		}
		if size() != before+1 {
			t.Errorf("GET %s grew the oversight log by %d, want 1 record", tc.path, size()-before)
		}
	}
	for _, path := range []string{"/v1/national/report?format=xml", "/v1/national/report?from=2026-13-01"} {
		before, built := size(), e.built
		if resp, body := e.call(t, "national", false, "GET", path, ""); resp.StatusCode != http.StatusBadRequest || e.built != built || size() != before {
			t.Errorf("GET %s = %d (built %d, log +%d), want 400 and nothing built or recorded\n%s", path, resp.StatusCode, e.built-built, size()-before, body)
		}
	}
	if resp, body := e.call(t, "national", false, "GET", "/v1/me", ""); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"role":"national_oversight"`) {
		t.Errorf("GET /v1/me as national = %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call(t, "national", true, "GET", "/me", ""); resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/national/report"`) {
		t.Errorf("GET /me as national = %d, want the page with the national report in its navigation\n%s", resp.StatusCode, body)
	}
	// Signed in, the sign-in page sends the officer to the report, the
	// national node's only page.
	if resp, _ := e.call(t, "national", true, "GET", "/sign-in", ""); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/national/report" {
		t.Errorf("GET /sign-in signed in = %d to %q, want 303 to /national/report", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestNationalReportFailsClosed: a view that cannot be recorded shows
// nothing, and no organisation's store is read.
func TestNationalReportFailsClosed(t *testing.T) {
	e := newNationalEnv(t, func(context.Context, string, string, map[string]any) (uint64, error) {
		return 0, errors.New("oversight log unavailable")
	})
	for _, page := range []bool{false, true} {
		path := "/v1/national/report"
		if page {
			path = "/national/report"
		}
		resp, body := e.call(t, "national", page, "GET", path, "")
		if resp.StatusCode != http.StatusInternalServerError || strings.Contains(body, "Force") {
			t.Errorf("GET %s with the log down = %d, want 500 showing nothing\n%s", path, resp.StatusCode, body)
		}
	}
	if e.built != 0 {
		t.Errorf("%d national reports built while their views could not be recorded", e.built)
	}
}

// TestNationalRoleRefusedOnAnOrganisationsNode: a national_oversight
// token planted in an organisation's store reaches nothing there.
func TestNationalRoleRefusedOnAnOrganisationsNode(t *testing.T) {
	e := newPeopleEnv(t)
	ctx := t.Context()
	now := e.node.Now()
	if _, _, err := e.node.Store.PutPeople(ctx, []store.Person{{ID: "nat1", Name: "N", Roles: []string{"national_oversight"}, Updated: now}}); err != nil {
		t.Fatal(err)
	}
	token, err := identity.NewUserToken(ctx, e.node.Store, "nat1", identity.RoleNationalOversight, now)
	if err != nil {
		t.Fatal(err)
	}
	e.actors["national"] = actor{person: "nat1", bearer: token}
	for _, path := range []string{"/v1/me", "/v1/national/report", "/v1/reports/oversight", "/v1/people"} {
		resp := e.call(t, "national", false, "GET", path, "")
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s as national_oversight on an organisation's node = %d, want refused", path, resp.StatusCode)
		}
	}
}
