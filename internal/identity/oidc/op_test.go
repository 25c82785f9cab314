package oidc

// The tests sign in at a real OpenID Provider started in-process by
// oidctest: the example provider of github.com/zitadel/oidc, with the
// accounts below and their custom claims. This file holds what the tests
// add on the relying party's side.

import (
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/identity/oidc/oidctest"
)

const (
	clientID     = "lbm" // oidctest's Provider.Client.ID
	callbackPath = "/sign-in/oidc/callback"
)

// testUsers are the provider's accounts, each with the custom ID-token
// claims a force's provider would be set to add for lbm. Each signs in
// with oidctest.DefaultPassword.
var testUsers = []oidctest.User{{
	// roles as a JSON array, claims under the default names
	ID: "u-4711", Username: "alex", Name: "Alex Example",
	Roles: []string{"investigator", "authoriser"}, Rank: "inspector", Unit: "Professional Standards",
}, {
	// roles as one space-separated string; a staff grade
	ID: "u-4712", Username: "sam", Name: "Sam Sample",
	Grade: "band_c", Unit: "Digital Forensics",
	Claims: map[string]any{"roles": "staff  investigator"},
}, {
	// claims under a force's own names
	ID: "u-4713", Username: "kim", Name: "Kim Custom",
	Claims: map[string]any{
		"employee_id":  "MP-100200",
		"display_name": "DS Kim Custom",
		"groups":       []string{"oversight"},
		"police_rank":  "sergeant",
		"staff_grade":  "",
		"ou":           "Anti-Corruption",
	},
}, {
	// nothing but the standard claims
	ID: "u-4714", Username: "lee", Name: "Lee Plain",
}, {
	// claims of the wrong JSON types
	ID: "u-4715", Username: "bad", Name: "Bad Types",
	Claims: map[string]any{"roles": 7, "rank": []string{"inspector"}},
}, {
	// an address the provider has not verified
	ID: "u-4716", Username: "una", Name: "Una Verified", EmailUnverified: true,
}}

// startOP starts a provider with testUsers, configured otherwise by cfg.
func startOP(t *testing.T, cfg oidctest.Config) *oidctest.Provider {
	t.Helper()
	cfg.Users = testUsers
	return oidctest.Start(t, cfg)
}

// newProvider returns lbm's Provider for o, completing cfg with o's
// issuer, lbm's client and the callback.
func newProvider(t *testing.T, o *oidctest.Provider, cfg Config) *Provider {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = o.Issuer
	}
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = o.Client.ID, o.Client.Secret
	}
	cfg.RedirectURL = o.RedirectURL
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = o.HTTPClient()
	}
	p, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// signIn is a fresh browser signing in at o as username, from authURL to
// the redirect back to lbm's callback. It returns the callback's state
// and code.
func signIn(t *testing.T, o *oidctest.Provider, authURL, username string) (state, code string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	back := o.Login(t, browser, authURL, username, oidctest.DefaultPassword)
	if got := back.Scheme + "://" + back.Host + back.Path; got != o.RedirectURL {
		t.Fatalf("login: redirected to %s, not to the callback %s", got, o.RedirectURL)
	}
	q := back.Query()
	if q.Get("error") != "" || q.Get("code") == "" {
		t.Fatalf("callback: error %q %q, code present %v", q.Get("error"), q.Get("error_description"), q.Get("code") != "")
	}
	return q.Get("state"), q.Get("code")
}

// asClient authenticates every POST as another client: it stands for a
// token endpoint that answers with tokens issued to someone else.
type asClient struct {
	id, secret string
	base       http.RoundTripper
}

func (c asClient) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		r = r.Clone(r.Context())
		r.SetBasicAuth(c.id, c.secret)
	}
	return c.base.RoundTrip(r)
}
