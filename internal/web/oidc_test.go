package web_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lbm-project/lbm/internal/identity/oidc"
	"github.com/lbm-project/lbm/internal/identity/oidc/oidctest"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

const oidcCallback = "/sign-in/oidc/callback"

// oidcEnv is lbm signing people in through a real OpenID Provider.
type oidcEnv struct {
	srv  *httptest.Server
	node *server.Node
	op   *oidctest.Provider
}

// The provider's accounts. Each has a person ID that names its case.
var oidcUsers = []oidctest.User{
	{ID: "oidc-admin", Username: "alex", Name: "Alex Admin", Unit: "Professional Standards",
		Rank: "inspector", Roles: []string{"admin"}},
	{ID: "oidc-new", Username: "nell", Name: "Nell New", Unit: "Digital Forensics",
		Roles: []string{"investigator"}},
	{ID: "oidc-captain", Username: "cap", Name: "Cap Tain", Rank: "captain", Roles: []string{"investigator"}},
	{ID: "oidc-badrole", Username: "rog", Name: "Rog Role", Roles: []string{"investigator", "superuser"}},
	// In the directory, as a leaver.
	{ID: "oidc-leaver", Username: "lee", Name: "Lee Leaver", Unit: "Anti-Corruption", Roles: []string{"admin"}},
	// In the directory as investigator and staff; no roles claim.
	{ID: "oidc-kept", Username: "kit", Name: "Kit Kept", Unit: "Digital Forensics", Rank: "sergeant"},
}

// newOIDCEnv is a server whose sign-in goes to a provider with
// oidcUsers, and whose directory holds the leaver and the person whose
// roles are kept.
func newOIDCEnv(t *testing.T) *oidcEnv {
	t.Helper()
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	now := n.Now()
	yesterday := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	if _, _, err := n.Store.PutPeople(ctx, []store.Person{
		{ID: "oidc-leaver", Name: "Lee Leaver", Unit: "Unit A", Roles: []string{"investigator", "staff"}, LeftOn: yesterday, Updated: now},
		{ID: "oidc-kept", Name: "Kit Before", Unit: "Unit A", Rank: "constable", Roles: []string{"investigator", "staff"}, Updated: now},
	}); err != nil {
		t.Fatal(err)
	}

	// The provider must know lbm's callback before lbm can be built, so
	// lbm's address is taken before it serves.
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	op := oidctest.Start(t, oidctest.Config{Users: oidcUsers, RedirectURL: base + oidcCallback})
	rp, err := oidc.New(ctx, oidc.Config{Issuer: op.Issuer, ClientID: op.Client.ID, ClientSecret: op.Client.Secret,
		RedirectURL: op.RedirectURL, HTTPClient: op.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.WebConfig(n)
	cfg.OIDC, cfg.Logger = rp, slog.New(slog.NewTextHandler(t.Output(), nil))
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	if srv.URL != base {
		t.Fatalf("server at %s, not at %s", srv.URL, base)
	}
	return &oidcEnv{srv: srv, node: n, op: op}
}

// newBrowser is a browser with a cookie jar that does not follow
// redirects, so that each step can be checked.
func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login starts a sign-in at lbm in browser, going to next afterwards,
// signs in at the provider as username, and returns the provider's
// redirect back to lbm's callback, not yet followed.
func (e *oidcEnv) login(t *testing.T, browser *http.Client, username, next string) *url.URL {
	t.Helper()
	back := e.op.Login(t, browser, e.srv.URL+"/sign-in/oidc?next="+url.QueryEscape(next), username, oidctest.DefaultPassword)
	if got := back.Scheme + "://" + back.Host + back.Path; got != e.srv.URL+oidcCallback {
		t.Fatalf("login as %s: redirected to %s, not to lbm's callback", username, got)
	}
	if q := back.Query(); q.Get("code") == "" || q.Get("state") == "" {
		t.Fatalf("login as %s: callback without code or state (error %q)", username, q.Get("error"))
	}
	return back
}

// get requests u with browser, and returns the response and its body.
func get(t *testing.T, browser *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// cookie returns the value of browser's cookie name for the server, or "".
func (e *oidcEnv) cookie(browser *http.Client, name string) string {
	u, _ := url.Parse(e.srv.URL)
	for _, c := range browser.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// checkRefused checks that the callback answered resp refused the sign-in,
// and left browser without a session or a second try.
func (e *oidcEnv) checkRefused(t *testing.T, browser *http.Client, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Signing in with your organisation account did not work") {
		t.Errorf("callback: %s, want 401 and the sign-in page saying it did not work:\n%.2000s", resp.Status, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "lbm_session" && c.Value != "" {
			t.Errorf("callback set a session cookie")
		}
	}
	if e.cookie(browser, "lbm_oidc") != "" {
		t.Errorf("callback left the attempt cookie lbm_oidc")
	}
	e.checkNoSession(t, browser)
}

// checkNoSession checks that browser is not signed in.
func (e *oidcEnv) checkNoSession(t *testing.T, browser *http.Client) {
	t.Helper()
	resp, _ := get(t, browser, e.srv.URL+"/")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/sign-in") {
		t.Errorf("GET / after a refused sign-in: %s to %q, want a redirect to /sign-in", resp.Status, loc)
	}
}

// checkAbsent checks that the directory does not hold id.
func (e *oidcEnv) checkAbsent(t *testing.T, id string) {
	t.Helper()
	if p, err := e.node.Store.PersonByID(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonByID(%q) = %+v, %v; want ErrNotFound", id, p, err)
	}
}

var ignoreStamps = cmpopts.IgnoreFields(store.Person{}, "Updated", "Version")

// TestOIDCSignIn signs in through lbm's pages at a real provider, from
// the sign-in link to the page the person asked for.
func TestOIDCSignIn(t *testing.T) {
	e := newOIDCEnv(t)
	browser := newBrowser(t)
	back := e.login(t, browser, "alex", "/people")
	if e.cookie(browser, "lbm_oidc") == "" {
		t.Fatalf("no attempt cookie lbm_oidc after starting the sign-in")
	}

	resp, body := get(t, browser, back.String())
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/people" {
		t.Fatalf("callback: %s to %q, want 303 to /people:\n%.2000s", resp.Status, loc, body)
	}
	if e.cookie(browser, "lbm_session") == "" {
		t.Fatalf("callback set no session cookie")
	}
	if e.cookie(browser, "lbm_oidc") != "" {
		t.Errorf("callback left the attempt cookie lbm_oidc")
	}

	got, err := e.node.Store.PersonByID(t.Context(), "oidc-admin")
	if err != nil {
		t.Fatalf("PersonByID: %v", err)
	}
	want := store.Person{ID: "oidc-admin", Name: "Alex Admin", Unit: "Professional Standards", Rank: "inspector",
		Roles: []string{"admin", "staff"}, Emails: []string{"alex@force.example"}}
	if diff := cmp.Diff(want, got, ignoreStamps); diff != "" {
		t.Errorf("directory after sign-in (-want +got):\n%s", diff)
	}

	resp, body = get(t, browser, e.srv.URL+"/people")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Alex Admin") {
		t.Errorf("GET /people: %s, want 200 listing Alex Admin:\n%.2000s", resp.Status, body)
	}

	// The provider gave this person the admin role: oversight sees it.
	if ts, err := e.node.Store.LogState(t.Context(), "oversight"); err != nil || ts.Size != 1 {
		t.Errorf("oversight log after an admin's first sign-in: size %d, %v; want the role change recorded", ts.Size, err)
	}
	resp, body = get(t, browser, e.srv.URL+"/v1/me")
	var me web.MeJSON
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &me) != nil {
		t.Fatalf("GET /v1/me: %s %s", resp.Status, body)
	}
	if me.Kind != "session" || me.Subject != "oidc-admin" || me.Role != "admin" || me.Rank != "inspector" {
		t.Errorf("GET /v1/me = %+v, want a session of oidc-admin as admin, rank inspector", me)
	}

	// The attempt is spent: the same callback again is refused, and does
	// not touch the session already open.
	resp, body = get(t, browser, back.String())
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("callback replayed: %s, want 401:\n%.2000s", resp.Status, body)
	}
	if resp, _ := get(t, browser, e.srv.URL+"/v1/me"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/me after the replay: %s, want the session still open", resp.Status)
	}
}

// TestOIDCKeepsRoles signs in a person already in the directory with no
// roles claim: the provider's other claims apply, and the roles held
// stay.
func TestOIDCKeepsRoles(t *testing.T) {
	e := newOIDCEnv(t)
	browser := newBrowser(t)
	back := e.login(t, browser, "kit", "/")
	resp, body := get(t, browser, back.String())
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
		t.Fatalf("callback: %s to %q, want 303 to /:\n%.2000s", resp.Status, loc, body)
	}
	got, err := e.node.Store.PersonByID(t.Context(), "oidc-kept")
	if err != nil {
		t.Fatalf("PersonByID: %v", err)
	}
	// The provider's verified address is added.
	want := store.Person{ID: "oidc-kept", Name: "Kit Kept", Unit: "Digital Forensics", Rank: "sergeant",
		Roles: []string{"investigator", "staff"}, Emails: []string{"kit@force.example"}}
	if diff := cmp.Diff(want, got, ignoreStamps); diff != "" {
		t.Errorf("directory after sign-in (-want +got):\n%s", diff)
	}
	resp, body = get(t, browser, e.srv.URL+"/v1/me")
	var me web.MeJSON
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &me) != nil {
		t.Fatalf("GET /v1/me: %s %s", resp.Status, body)
	}
	if me.Subject != "oidc-kept" || me.Role != "investigator" {
		t.Errorf("GET /v1/me = %+v, want oidc-kept as investigator", me)
	}
	if resp, _ := get(t, browser, e.srv.URL+"/people"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /people as investigator: %s, want 403", resp.Status)
	}
}

// TestOIDCRefused brings lbm's callback sign-ins it must refuse. Each
// leaves no session, and stores nothing.
func TestOIDCRefused(t *testing.T) {
	e := newOIDCEnv(t)

	t.Run("unknown rank", func(t *testing.T) {
		browser := newBrowser(t)
		resp, body := get(t, browser, e.login(t, browser, "cap", "/").String())
		e.checkRefused(t, browser, resp, body)
		e.checkAbsent(t, "oidc-captain")
	})

	t.Run("unknown role", func(t *testing.T) {
		browser := newBrowser(t)
		resp, body := get(t, browser, e.login(t, browser, "rog", "/").String())
		e.checkRefused(t, browser, resp, body)
		e.checkAbsent(t, "oidc-badrole")
	})

	t.Run("no attempt cookie", func(t *testing.T) {
		// The victim's browser brought to a callback that another
		// browser's sign-in earned.
		back := e.login(t, newBrowser(t), "nell", "/")
		browser := newBrowser(t)
		resp, body := get(t, browser, back.String())
		e.checkRefused(t, browser, resp, body)
		e.checkAbsent(t, "oidc-new")
	})

	t.Run("tampered state", func(t *testing.T) {
		browser := newBrowser(t)
		back := e.login(t, browser, "nell", "/")
		bad := *back
		q := bad.Query()
		q.Set("state", strings.Repeat("A", 43))
		bad.RawQuery = q.Encode()
		resp, body := get(t, browser, bad.String())
		e.checkRefused(t, browser, resp, body)
		e.checkAbsent(t, "oidc-new")

		// The attempt is spent on the first try: the genuine callback
		// after it is refused too.
		resp, body = get(t, browser, back.String())
		e.checkRefused(t, browser, resp, body)
		e.checkAbsent(t, "oidc-new")
	})

	t.Run("leaver", func(t *testing.T) {
		before, err := e.node.Store.PersonByID(t.Context(), "oidc-leaver")
		if err != nil {
			t.Fatal(err)
		}
		browser := newBrowser(t)
		resp, body := get(t, browser, e.login(t, browser, "lee", "/").String())
		e.checkRefused(t, browser, resp, body)
		after, err := e.node.Store.PersonByID(t.Context(), "oidc-leaver")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("a refused sign-in changed the leaver's record (-before +after):\n%s", diff)
		}
	})
}
