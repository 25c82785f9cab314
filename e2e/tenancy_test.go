package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/web"
)

// tenantPeople are the people of both tenants' directories: the same
// ids in each, as two forces' payroll numbers may well coincide, so that
// an id alone can never say which force a person belongs to.
var tenantPeople = []struct{ id, role, rank string }{
	{"stf1", "staff", "constable"},
	{"nbr1", "staff", "constable"},
	{"inv1", "investigator", "sergeant"},
	{"sup1", "authoriser", "superintendent"},
	{"adv1", "adviser", ""},
	{"dpo1", "dpo", ""},
	{"ovr1", "oversight", ""},
	{"adm1", "admin", ""},
}

// tenantSide is one tenant as the test prepares and reaches it.
type tenantSide struct {
	host     string
	st       lbmStore
	tokens   map[string]string // person id -> API token for their role
	sessions map[string]string // person id -> session cookie value
	admin    string            // the bootstrap admin token
	source   string            // the source pnc's token
}

// prepareTenant fills a tenant's data directory through the CLI, as an
// operator would: the directory, tokens, sessions and a source.
func prepareTenant(t *testing.T, dir, host string) *tenantSide {
	t.Helper()
	ts := &tenantSide{host: host, st: lbmStore{data: dir}, tokens: map[string]string{}, sessions: map[string]string{}}
	for _, p := range tenantPeople {
		args := []string{"user", "add", "--data", dir, "--id", p.id, "--role", p.role, "--token"}
		if p.rank != "" {
			args = append(args, "--rank", p.rank)
		}
		ts.tokens[p.id] = strings.TrimSpace(lbmOK(t, nil, args...).stdout)
	}
	ts.source = addSource(t, ts.st, "pnc")
	b, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	ts.admin = strings.TrimSpace(string(b))
	n, err := server.Open(t.Context(), server.Config{DataDir: dir, MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	sessions := &identity.Sessions{Store: n.Store, KEK: n.KEK, Throttle: &identity.Throttle{}}
	for _, p := range tenantPeople {
		person, err := n.Store.PersonByID(t.Context(), p.id)
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := sessions.SignInExternal(t.Context(), person, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ts.sessions[p.id] = token
	}
	return ts
}

// hostCall sends one request to the server at base with the given Host,
// with a bearer token or (when cookie is set) a session cookie.
func hostCall(t *testing.T, base, host, method, path, token, cookie, otp, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "lbm_session", Value: cookie})
	}
	if otp != "" {
		req.Header.Set("LBM-OTP", otp)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// Same-origin, as a browser on that host would send it, so that
	// cross-origin protection is not what refuses the request.
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %s): %v", method, path, host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, resp.Header, string(b)
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// fillPath fills a route pattern's parameters with ids of the tenant
// attacked: its real request, alert and people ids where it has them.
func fillPath(pattern string, ids map[string]string) string {
	_, path, _ := strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	return regexp.MustCompile(`\{([a-z]+)(\.\.\.)?\}`).ReplaceAllStringFunc(path, func(m string) string {
		name := strings.Trim(m, "{}.")
		prefix := path[:strings.Index(path, m)]
		if name == "id" {
			for _, p := range []string{"requests", "alerts", "people", "changes", "subject-access-requests", "relevant-errors", "holds", "inbox"} {
				if strings.HasSuffix(prefix, "/"+p+"/") {
					return ids[p]
				}
			}
			return "x"
		}
		if name == "path" && strings.HasPrefix(path, "/log/") {
			return "0/000.p/1"
		}
		if v, ok := ids[name]; ok {
			return v
		}
		return "x"
	})
}

// TestTenantsShareNothing serves two forces, A and B, whose directories
// hold the same person ids, from one `lbm serve --tenants`. Every role of
// A, by API token and by session, on every route that is not public,
// with the path filled with B's real ids, is refused on B's host and
// learns nothing of B; A's investigator, under an authorisation in force
// for P, sees only A's events of P, though B holds P's events too.
func TestTenantsShareNothing(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "tenants.yaml")
	if err := os.WriteFile(file, []byte(`tenants:
  - id: force-a
    name: Force Alpha
    hosts: [force-a.lbm.test]
    data: a
  - id: force-b
    name: Force Bravo
    hosts: [Force-B.lbm.test]
    data: b
national:
  hosts: [national.lbm.test]
  data: national
`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServerOf(t, lbmBin, nil, lbmStore{}, "--tenants", file)
	base := srv.URL
	// The first start made each tenant's directory, its keys signing for
	// the tenant's origin; people are added to it as to any node's.
	a := prepareTenant(t, filepath.Join(root, "a"), "force-a.lbm.test")
	b := prepareTenant(t, filepath.Join(root, "b"), "force-b.lbm.test")
	secretA := enrolSecondFactor(t, a.st, "sup1")
	// The national node's directory holds national oversight staff; no
	// force's directory can give the role.
	natDir := filepath.Join(root, "national")
	if r := lbm(t, nil, "user", "add", "--data", a.st.data, "--id", "nat1", "--role", "national_oversight", "--token"); r.code == 0 ||
		!strings.Contains(r.stderr, "national_oversight is the national oversight node's role") {
		t.Errorf("giving national_oversight in force A's directory: %v", r)
	}
	if r := lbm(t, nil, "user", "add", "--data", natDir, "--id", "ovr1", "--role", "oversight", "--token"); r.code == 0 {
		t.Errorf("giving oversight in the national directory: %v", r)
	}
	natToken := strings.TrimSpace(lbmOK(t, nil, "user", "add", "--data", natDir, "--id", "nat1", "--role", "national_oversight", "--token").stdout)
	natSession := func() string {
		n, err := server.Open(t.Context(), server.Config{DataDir: natDir, MustExist: true})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		person, err := n.Store.PersonByID(t.Context(), "nat1")
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := (&identity.Sessions{Store: n.Store, KEK: n.KEK, Throttle: &identity.Throttle{}}).SignInExternal(t.Context(), person, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return token
	}()
	const natHost = "national.lbm.test"

	// P's events in both forces, each with content only that force has.
	now := time.Now().UTC()
	event := func(marker string) string {
		return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":"email","action":"send"},"user":{"id":"stf1"},"related":{"user":["nbr1"]},"content":{"body":%q}}`+"\n",
			now.AddDate(0, 0, -5).Format(time.RFC3339), marker)
	}
	for _, side := range []struct {
		ts     *tenantSide
		marker string
	}{{a, "ALPHA-ONLY-CONTENT"}, {b, "BRAVO-ONLY-CONTENT"}} {
		if status, _, body := hostCall(t, base, side.ts.host, "POST", "/v1/events", side.ts.source, "", "", side.marker+"\n"); status != 400 {
			t.Fatalf("a malformed batch = %d %s, want 400", status, body)
		}
		req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/v1/events", strings.NewReader(event(side.marker)))
		req.Host = side.ts.host
		req.Header.Set("Authorization", "Bearer "+side.ts.source)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ingesting into %s = %d %s", side.ts.host, resp.StatusCode, rb)
		}
	}

	// In A a request for P in force; in B a draft, so that B has a real
	// request id to aim at.
	body := strings.NewReplacer("{from}", now.AddDate(0, -2, 0).Format(time.RFC3339), "{to}", now.AddDate(0, 0, -1).Format(time.RFC3339)).Replace(reviewRequestJSON)
	create := func(ts *tenantSide) string {
		t.Helper()
		status, _, out := hostCall(t, base, ts.host, "POST", "/v1/requests", ts.tokens["inv1"], "", "", body)
		var created struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal([]byte(out), &created) != nil || created.ID == "" {
			t.Fatalf("creating a request on %s = %d %s", ts.host, status, out)
		}
		return created.ID
	}
	reqA, reqB := create(a), create(b)
	if status, _, out := hostCall(t, base, a.host, "POST", "/v1/requests/"+reqA+"/submit", a.tokens["inv1"], "", "", "{}"); status != 200 {
		t.Fatalf("submitting in A = %d %s", status, out)
	}
	if status, _, out := hostCall(t, base, a.host, "POST", "/v1/requests/"+reqA+"/decision", a.tokens["sup1"], "", identity.TOTPCode(secretA, time.Now()), reviewDecisionJSON); status != 200 || !strings.Contains(out, `"active"`) {
		t.Fatalf("authorising in A = %d %s", status, out)
	}

	// A refused attempt in A, for the national report to count.
	if status, _, out := hostCall(t, base, a.host, "POST", "/v1/requests/"+reqA+"/queries", a.tokens["inv1"], "", "",
		`{"subjects":["nbr1"],"justification":"Checking whether the neighbour's account was used to look the address up."}`); status != 403 {
		t.Fatalf("an out-of-scope query in A = %d %s, want 403", status, out)
	}
	// A's investigator sees A's events of P, and none of B's.
	query := `{"categories":["email"],"content":true,"justification":"The complainant says the officer knew her new address; checking his e-mail of that week."}`
	status, _, out := hostCall(t, base, a.host, "POST", "/v1/requests/"+reqA+"/queries", a.tokens["inv1"], "", "", query)
	if status != 200 || !strings.Contains(out, "ALPHA-ONLY-CONTENT") || strings.Contains(out, "BRAVO") {
		t.Fatalf("A's scoped query = %d %s, want A's event of stf1 and nothing of B's", status, out)
	}
	// Sanity: every credential of A works on A's host, so that every
	// refusal below is the tenant boundary's, not a broken credential's.
	for _, p := range tenantPeople {
		if status, _, out := hostCall(t, base, a.host, "GET", "/v1/me", a.tokens[p.id], "", "", ""); status != 200 {
			t.Fatalf("%s's token on A's host: /v1/me = %d %s", p.id, status, out)
		}
		if status, _, out := hostCall(t, base, a.host, "GET", "/", "", a.sessions[p.id], "", ""); status != 200 {
			t.Fatalf("%s's session on A's host: / = %d %s", p.id, status, out)
		}
	}
	if status, _, _ := hostCall(t, base, a.host, "GET", "/v1/people", a.admin, "", "", ""); status != 200 {
		t.Fatalf("A's bootstrap token on A's host: /v1/people = %d", status)
	}

	// B's real ids to aim at; its alerts, if detection raised any.
	ids := map[string]string{"requests": reqB, "people": "stf1", "alerts": "alert-none", "changes": "change-none",
		"subject-access-requests": "sar-none", "relevant-errors": "re-none", "holds": "hold-none", "inbox": "n-none",
		"log": "activity", "index": "0", "version": "1", "feed": "feed-none", "token": "setup-none", "step": "scope",
		"exemption": "ex-none", "name": "filebeat"}
	if status, _, out := hostCall(t, base, b.host, "GET", "/v1/alerts", b.tokens["ovr1"], "", "", ""); status == 200 {
		var list struct{ Alerts []struct{ ID string } }
		if json.Unmarshal([]byte(out), &list) == nil && len(list.Alerts) > 0 {
			ids["alerts"] = list.Alerts[0].ID
		}
	}
	// What of B must never show on A's credentials: B's request, its
	// content, its name and its logs' keys.
	var bSecrets []string
	bSecrets = append(bSecrets, reqB, "BRAVO", "Force Bravo", "force-b")
	if _, _, out := hostCall(t, base, b.host, "GET", "/v1/transparency-logs", "", "", "", ""); true {
		for _, m := range regexp.MustCompile(`"verifier_key":"([^"]+)"`).FindAllStringSubmatch(out, -1) {
			bSecrets = append(bSecrets, m[1])
		}
	}

	type credential struct{ who, token, cookie string }
	var creds []credential
	for _, p := range tenantPeople {
		creds = append(creds, credential{p.id + " (" + p.role + ") token", a.tokens[p.id], ""},
			credential{p.id + " (" + p.role + ") session", "", a.sessions[p.id]})
	}
	creds = append(creds, credential{"bootstrap admin token", a.admin, ""}, credential{"source token", a.source, ""})

	routes := web.Routes()
	checked := 0
	for _, rt := range routes {
		if web.Public(rt.Action) {
			continue
		}
		method, _, _ := strings.Cut(rt.Pattern, " ")
		path := fillPath(rt.Pattern, ids)
		reqBody := ""
		if method == "POST" || method == "PUT" {
			reqBody = "{}"
		}
		for _, c := range creds {
			status, hdr, out := hostCall(t, base, b.host, method, path, c.token, c.cookie, "", reqBody)
			refused := status == 401 || status == 403 || status == 404 ||
				(rt.Page && status == http.StatusSeeOther && strings.HasPrefix(hdr.Get("Location"), "/sign-in"))
			if !refused {
				t.Errorf("A's %s: %s %s on B's host = %d, want refused\n%s", c.who, method, path, status, out)
				continue
			}
			// A refusal may quote the path asked for; beyond that, nothing of B.
			rest := strings.ReplaceAll(strings.ReplaceAll(out, url.QueryEscape(path), ""), path, "")
			for _, s := range bSecrets {
				if strings.Contains(rest, s) {
					t.Errorf("A's %s: %s %s on B's host = %d, and the answer holds %q of B:\n%s", c.who, method, path, status, s, out)
				}
			}
			checked++
		}
	}
	t.Logf("%d cross-tenant attempts over the %d routes that are not public, every one refused", checked, checked/len(creds))
	if checked < 100 {
		t.Fatalf("only %d cross-tenant attempts made; the route table was not walked", checked)
	}

	// The national node serves its own routes alone, to its own staff
	// alone; its officer reaches nothing on a force's host.
	natRoutes := web.NationalActions()
	for _, rt := range routes {
		method, _, _ := strings.Cut(rt.Pattern, " ")
		path := fillPath(rt.Pattern, ids)
		reqBody := ""
		if method == "POST" || method == "PUT" {
			reqBody = "{}"
		}
		isNational := slices.Contains(natRoutes, rt.Action)
		if !web.Public(rt.Action) {
			for _, c := range []credential{{"national token", natToken, ""}, {"national session", "", natSession}} {
				status, hdr, out := hostCall(t, base, a.host, method, path, c.token, c.cookie, "", reqBody)
				if !(status == 401 || status == 403 || status == 404 || rt.Page && status == http.StatusSeeOther && strings.HasPrefix(hdr.Get("Location"), "/sign-in")) {
					t.Errorf("the %s: %s %s on A's host = %d, want refused\n%s", c.who, method, path, status, out)
				}
			}
		}
		for _, c := range creds {
			status, hdr, out := hostCall(t, base, natHost, method, path, c.token, c.cookie, "", reqBody)
			refused := status == 401 || status == 403 || status == 404 ||
				(rt.Page && status == http.StatusSeeOther && strings.HasPrefix(hdr.Get("Location"), "/sign-in"))
			if isNational && web.Public(rt.Action) {
				continue // signing in and health: public everywhere
			}
			if !refused {
				t.Errorf("A's %s: %s %s on the national host = %d, want refused\n%s", c.who, method, path, status, out)
			}
		}
	}

	// The national report counts what each force did, and names nothing
	// in it: no person, unit, request, reference or content.
	status, _, out = hostCall(t, base, natHost, "GET", "/v1/national/report", natToken, "", "", "")
	var rep struct {
		Tenants []struct {
			ID, Name        string
			Submitted       int `json:"submitted"`
			Authorised      int `json:"authorised"`
			Authorisations  int `json:"authorisations"`
			Accesses        int `json:"accesses"`
			RefusedAttempts int `json:"refused_attempts"`
		}
		Total struct {
			Submitted       int `json:"submitted"`
			Accesses        int `json:"accesses"`
			RefusedAttempts int `json:"refused_attempts"`
		}
	}
	if status != 200 || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Tenants) != 2 {
		t.Fatalf("the national report = %d %s", status, out)
	}
	ta, tb := rep.Tenants[0], rep.Tenants[1]
	if ta.ID != "force-a" || ta.Name != "Force Alpha" || ta.Submitted != 1 || ta.Authorised != 1 || ta.Authorisations != 1 || ta.Accesses != 1 || ta.RefusedAttempts != 1 ||
		tb.ID != "force-b" || tb.Submitted != 0 || tb.Accesses != 0 || tb.RefusedAttempts != 0 ||
		rep.Total.Submitted != 1 || rep.Total.Accesses != 1 || rep.Total.RefusedAttempts != 1 {
		t.Errorf("the national report's figures: %s", out)
	}
	csvStatus, _, csvOut := hostCall(t, base, natHost, "GET", "/v1/national/report?format=csv", natToken, "", "", "")
	pageStatus, _, pageOut := hostCall(t, base, natHost, "GET", "/national/report", "", natSession, "", "")
	if csvStatus != 200 || pageStatus != 200 || !strings.Contains(pageOut, "Force Bravo") {
		t.Errorf("the national report as CSV = %d, as a page = %d", csvStatus, pageStatus)
	}
	for _, body := range []string{out, csvOut, pageOut} {
		for _, s := range []string{"stf1", "nbr1", "inv1", "sup1", "Anti-Corruption", "Response Team", reqA, reqB, "PSD-2026-114", "Kestrel", "ALPHA", "BRAVO", "pnc"} {
			if strings.Contains(body, s) {
				t.Errorf("the national report holds %q:\n%s", s, body)
			}
		}
	}

	// A's authorisation, named by its own id, reaches nothing on B's host.
	if status, _, out := hostCall(t, base, b.host, "POST", "/v1/requests/"+reqA+"/queries", a.tokens["inv1"], "", "", query); status != 401 || strings.Contains(out, "BRAVO") {
		t.Errorf("A's investigator querying A's request on B's host = %d %s, want 401", status, out)
	}
	// A host no tenant has is misdirected, and the answer names no tenant.
	for _, h := range []string{"force-c.lbm.test", "127.0.0.1", "force-a.lbm.test.evil.example"} {
		status, _, out := hostCall(t, base, h, "GET", "/v1/me", a.tokens["inv1"], "", "", "")
		if status != http.StatusMisdirectedRequest || strings.Contains(out, "force-") || strings.Contains(out, "Force") {
			t.Errorf("Host %s: /v1/me = %d %s, want 421 naming no tenant", h, status, out)
		}
	}
	// The Host is matched without case or port.
	if status, _, _ := hostCall(t, base, "FORCE-A.lbm.test:443", "GET", "/v1/me", a.tokens["inv1"], "", "", ""); status != 200 {
		t.Errorf("Host FORCE-A.lbm.test:443: /v1/me = %d, want A's answer", status)
	}
	srv.stop()
	for _, dir := range []string{a.st.data, b.st.data, natDir} {
		lbmOK(t, nil, verifyStore(lbmStore{data: dir})...)
	}
	// A's source token, sent to every ingest route at B's host, stored
	// nothing there: B's activity log holds B's one event.
	for _, side := range []*tenantSide{a, b} {
		n, err := server.Open(t.Context(), server.Config{DataDir: side.st.data, MustExist: true})
		if err != nil {
			t.Fatal(err)
		}
		ls, err := n.Store.LogState(t.Context(), server.Activity)
		n.Close()
		if err != nil || ls.Size != 1 {
			t.Errorf("%s's activity log holds %d entries (%v), want its own one event", side.host, ls.Size, err)
		}
	}
	// Each view of the national report is in the national node's
	// oversight log, naming the viewer.
	n, err := server.Open(t.Context(), server.Config{DataDir: natDir, MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ls, err := n.Store.LogState(t.Context(), server.Oversight)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := n.Store.Entries(t.Context(), server.Oversight, 0, ls.Size)
	if err != nil {
		t.Fatal(err)
	}
	views := 0
	for _, en := range entries {
		o, err := n.Opener.OpenMetadata(t.Context(), en)
		if err != nil {
			t.Fatal(err)
		}
		if o.Event.Action() == "national_report_viewed" {
			views++
			if o.Event.Subject() != "nat1" {
				t.Errorf("a national report view is recorded as %q's, want nat1's", o.Event.Subject())
			}
		}
	}
	if views != 3 {
		t.Errorf("the national oversight log records %d views of the report, want 3", views)
	}
}
