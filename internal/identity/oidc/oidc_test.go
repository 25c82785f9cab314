package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/oauth2"

	"github.com/lbm-project/lbm/internal/identity/oidc/oidctest"
)

func TestSignIn(t *testing.T) {
	o := startOP(t, oidctest.Config{})
	p := newProvider(t, o, Config{})
	a, authURL := p.Start()
	state, code := signIn(t, o, authURL, "alex")

	start := time.Now()
	got, err := p.Finish(t.Context(), a, state, code)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	want := Identity{
		ID:      "u-4711",
		Name:    "Alex Example",
		Unit:    "Professional Standards",
		Rank:    "inspector",
		Roles:   []string{"investigator", "authoriser"},
		Email:   "alex@force.example",
		Issuer:  o.Issuer,
		Subject: "u-4711",
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Identity{}, "Expiry")); diff != "" {
		t.Errorf("Finish: Identity mismatch (-want +got):\n%s", diff)
	}
	// The example provider's ID tokens live one hour.
	if got.Expiry.Before(start) || got.Expiry.After(start.Add(time.Hour+time.Minute)) {
		t.Errorf("Finish: Expiry = %v, want about an hour after %v", got.Expiry, start)
	}
}

// TestClaims maps the claims of ID tokens from the real provider through
// default and custom ClaimMaps.
func TestClaims(t *testing.T) {
	o := startOP(t, oidctest.Config{})
	custom := ClaimMap{ID: "employee_id", Name: "display_name", Roles: "groups", Rank: "police_rank", Grade: "staff_grade", Unit: "ou"}
	tests := []struct {
		name    string
		user    string
		claims  ClaimMap
		want    Identity
		wantErr *ClaimError
	}{{
		name: "roles as an array",
		user: "alex",
		want: Identity{ID: "u-4711", Name: "Alex Example", Unit: "Professional Standards", Rank: "inspector",
			Roles: []string{"investigator", "authoriser"}, Email: "alex@force.example", Subject: "u-4711"},
	}, {
		name: "roles space-separated",
		user: "sam",
		want: Identity{ID: "u-4712", Name: "Sam Sample", Unit: "Digital Forensics", Grade: "band_c",
			Roles: []string{"staff", "investigator"}, Email: "sam@force.example", Subject: "u-4712"},
	}, {
		name:   "custom claim names",
		user:   "kim",
		claims: custom,
		want: Identity{ID: "MP-100200", Name: "DS Kim Custom", Unit: "Anti-Corruption", Rank: "sergeant",
			Roles: []string{"oversight"}, Email: "kim@force.example", Subject: "u-4713"},
	}, {
		name:   "custom names, only some set",
		user:   "alex",
		claims: ClaimMap{Roles: "groups", Unit: "ou"},
		want:   Identity{ID: "u-4711", Name: "Alex Example", Rank: "inspector", Email: "alex@force.example", Subject: "u-4711"},
	}, {
		name: "no custom claims",
		user: "lee",
		want: Identity{ID: "u-4714", Name: "Lee Plain", Email: "lee@force.example", Subject: "u-4714"},
	}, {
		name: "email not verified",
		user: "una",
		want: Identity{ID: "u-4716", Name: "Una Verified", Subject: "u-4716"},
	}, {
		name:    "missing ID claim",
		user:    "lee",
		claims:  custom,
		wantErr: &ClaimError{Claim: "employee_id", Reason: "missing"},
	}, {
		name:    "ID claim not a string",
		user:    "alex",
		claims:  ClaimMap{ID: "email_verified"},
		wantErr: &ClaimError{Claim: "email_verified", Reason: "not a string"},
	}, {
		name:    "roles of the wrong type",
		user:    "bad",
		claims:  ClaimMap{Rank: "grade"},
		wantErr: &ClaimError{Claim: "roles", Reason: "not a string or an array of strings"},
	}, {
		name:    "rank of the wrong type",
		user:    "bad",
		wantErr: &ClaimError{Claim: "rank", Reason: "not a string"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, o, Config{Claims: tt.claims})
			a, authURL := p.Start()
			state, code := signIn(t, o, authURL, tt.user)
			got, err := p.Finish(t.Context(), a, state, code)
			if tt.wantErr != nil {
				var ce *ClaimError
				if !errors.As(err, &ce) || *ce != *tt.wantErr {
					t.Fatalf("Finish = %v, want %v", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "mapping claims: ") {
					t.Errorf("Finish error %q lacks context", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			tt.want.Issuer = o.Issuer
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Identity{}, "Expiry")); diff != "" {
				t.Errorf("Finish: Identity mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFinishRejects tampers with a real callback before Finish.
func TestFinishRejects(t *testing.T) {
	o := startOP(t, oidctest.Config{})
	p := newProvider(t, o, Config{})
	tests := []struct {
		name     string
		tamper   func(t *testing.T, a *Attempt, state, code *string)
		want     error  // a sentinel, or nil to match wantText
		wantText string // a prefix of the error
	}{{
		name:   "wrong state",
		tamper: func(t *testing.T, a *Attempt, state, code *string) { *state = random32() },
		want:   ErrState,
	}, {
		name:   "no state in callback",
		tamper: func(t *testing.T, a *Attempt, state, code *string) { *state = "" },
		want:   ErrState,
	}, {
		name: "attempt of another sign-in",
		tamper: func(t *testing.T, a *Attempt, state, code *string) {
			*a, _ = p.Start()
		},
		want: ErrState,
	}, {
		// Empty equals empty in constant time too: an attempt without a
		// state must not match a callback without one.
		name:     "empty attempt and callback state",
		tamper:   func(t *testing.T, a *Attempt, state, code *string) { a.State, *state = "", "" },
		wantText: "finishing sign-in: attempt incomplete",
	}, {
		name:   "wrong nonce",
		tamper: func(t *testing.T, a *Attempt, state, code *string) { a.Nonce = random32() },
		want:   ErrNonce,
	}, {
		name:     "no nonce",
		tamper:   func(t *testing.T, a *Attempt, state, code *string) { a.Nonce = "" },
		wantText: "finishing sign-in: attempt incomplete",
	}, {
		name:     "wrong PKCE verifier",
		tamper:   func(t *testing.T, a *Attempt, state, code *string) { a.Verifier = random32() },
		wantText: "exchanging code: provider refused: invalid_grant",
	}, {
		name:     "no PKCE verifier",
		tamper:   func(t *testing.T, a *Attempt, state, code *string) { a.Verifier = "" },
		wantText: "finishing sign-in: attempt incomplete",
	}, {
		// An attacker who learnt the victim's state still cannot inject
		// a code of their own sign-in: it is bound to their verifier.
		name: "code of another sign-in",
		tamper: func(t *testing.T, a *Attempt, state, code *string) {
			_, authURL := p.Start()
			_, *code = signIn(t, o, authURL, "sam")
		},
		wantText: "exchanging code: provider refused: invalid_grant",
	}, {
		name:     "forged code",
		tamper:   func(t *testing.T, a *Attempt, state, code *string) { *code = random32() },
		wantText: "exchanging code: provider refused: invalid_grant",
	}, {
		name:     "no code",
		tamper:   func(t *testing.T, a *Attempt, state, code *string) { *code = "" },
		wantText: "finishing sign-in: no code in callback",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, authURL := p.Start()
			state, code := signIn(t, o, authURL, "alex")
			secrets := []string{code, a.Verifier, o.Client.Secret}
			tt.tamper(t, &a, &state, &code)
			secrets = append(secrets, code, a.Verifier)

			_, err := p.Finish(t.Context(), a, state, code)
			t.Logf("Finish: %v", err)
			switch {
			case err == nil:
				t.Fatalf("Finish succeeded, want an error")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Finish = %v, want %v", err, tt.want)
			case tt.want == nil && !strings.HasPrefix(err.Error(), tt.wantText):
				t.Fatalf("Finish = %v, want %q…", err, tt.wantText)
			}
			checkNoSecrets(t, err, secrets...)
		})
	}
}

func checkNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}

func TestCodeReplay(t *testing.T) {
	o := startOP(t, oidctest.Config{})
	p := newProvider(t, o, Config{})
	a, authURL := p.Start()
	state, code := signIn(t, o, authURL, "alex")
	if _, err := p.Finish(t.Context(), a, state, code); err != nil {
		t.Fatalf("first Finish: %v", err)
	}
	_, err := p.Finish(t.Context(), a, state, code)
	if err == nil || !strings.HasPrefix(err.Error(), "exchanging code: provider refused: invalid_grant") {
		t.Fatalf("second Finish = %v, want the code refused", err)
	}
	checkNoSecrets(t, err, code, a.Verifier)
}

// TestAnotherClient brings lbm a sign-in that the provider made for
// another of its clients.
func TestAnotherClient(t *testing.T) {
	o := startOP(t, oidctest.Config{})
	lbm := newProvider(t, o, Config{})
	other := newProvider(t, o, Config{ClientID: o.Other.ID, ClientSecret: o.Other.Secret})
	// lbmAsOther is lbm behind a token endpoint that answers with the
	// other client's tokens: the provider then signs an ID token with
	// aud and azp "other", which lbm must refuse.
	lbmAsOther := newProvider(t, o, Config{HTTPClient: &http.Client{
		Transport: asClient{o.Other.ID, o.Other.Secret, o.HTTPClient().Transport},
	}})
	tests := []struct {
		name     string
		p        *Provider
		wantText string
	}{
		{"code of another client", lbm, "exchanging code: provider refused: invalid_grant"},
		{"id token of another client", lbmAsOther, `verifying id token: oidc: expected audience "lbm" got ["other"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, authURL := other.Start()
			state, code := signIn(t, o, authURL, "alex")
			_, err := tt.p.Finish(t.Context(), a, state, code)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantText) {
				t.Fatalf("Finish = %v, want %q…", err, tt.wantText)
			}
		})
	}
}

// TestProviderMisbehaves has the real provider sign ID tokens that a
// relying party must refuse.
func TestProviderMisbehaves(t *testing.T) {
	tests := []struct {
		name     string
		cfg      oidctest.Config
		wantText string // "" for success
	}{{
		name:     "expired",
		cfg:      oidctest.Config{IDTokenLifetime: -time.Minute},
		wantText: "verifying id token: oidc: token is expired",
	}, {
		name:     "signed with an unpublished key",
		cfg:      oidctest.Config{UnpublishedKey: true},
		wantText: "verifying id token: failed to verify signature",
	}, {
		// Several audiences are allowed when azp names lbm (OpenID
		// Connect Core §3.1.3.7); pkg/op adds the client to aud and sets
		// azp to it, so a token for aud "other" alone cannot be made
		// here (TestAnotherClient makes one another way).
		name: "several audiences, issued to lbm",
		cfg:  oidctest.Config{Audience: []string{"other", clientID}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := startOP(t, tt.cfg)
			p := newProvider(t, o, Config{})
			a, authURL := p.Start()
			state, code := signIn(t, o, authURL, "alex")
			id, err := p.Finish(t.Context(), a, state, code)
			if tt.wantText == "" {
				if err != nil || id.ID != "u-4711" {
					t.Fatalf("Finish = %+v, %v; want u-4711", id, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantText) {
				t.Fatalf("Finish = %v, want %q…", err, tt.wantText)
			}
		})
	}
}

func TestNewUnreachable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	issuer := down.URL
	down.Close()

	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)

	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"issuer":"`))
		w.Write([]byte(strings.Repeat("x", maxResponse)))
		w.Write([]byte(`"}`))
	}))
	t.Cleanup(huge.Close)

	o := startOP(t, oidctest.Config{})
	_, port, _ := strings.Cut(strings.TrimPrefix(o.Issuer, "http://"), ":")
	// The provider names itself 127.0.0.1; reached as localhost, its
	// discovery document names another issuer.
	otherName := "http://localhost:" + port

	tests := []struct{ name, issuer, wantText string }{
		{"provider down", issuer, "connection refused"},
		{"no discovery document", notFound.URL, "404 Not Found"},
		{"discovery too large", huge.URL, "exceeds"},
		{"issuer mismatch", otherName, "did not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), Config{Issuer: tt.issuer, ClientID: clientID, RedirectURL: o.RedirectURL})
			if err == nil {
				t.Fatalf("New succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "discovering "+tt.issuer+": ") || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("New = %.200s, want it to name %s and say %q", err, tt.issuer, tt.wantText)
			}
		})
	}
}

func TestNewConfig(t *testing.T) {
	ok := Config{Issuer: "https://login.force.example", ClientID: clientID, RedirectURL: "https://lbm.example" + callbackPath}
	tests := []struct {
		name     string
		edit     func(*Config)
		wantText string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "checking config: issuer: missing"},
		{"issuer in clear", func(c *Config) { c.Issuer = "http://login.force.example" }, "not https"},
		{"issuer relative", func(c *Config) { c.Issuer = "login.force.example" }, "not an absolute URL"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://login.force.example/?tenant=1" }, "not an absolute URL"},
		{"no client", func(c *Config) { c.ClientID = "" }, "checking config: client id: missing"},
		{"no redirect", func(c *Config) { c.RedirectURL = "" }, "checking config: redirect url: missing"},
		{"redirect in clear", func(c *Config) { c.RedirectURL = "http://lbm.example/cb" }, "not https"},
		{"redirect with fragment", func(c *Config) { c.RedirectURL = "https://lbm.example/cb#x" }, "not an absolute URL"},
		{"scopes without openid", func(c *Config) { c.Scopes = []string{"profile"} }, "checking config: scopes: openid missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			_, err := New(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("New = %v, want %q", err, tt.wantText)
			}
		})
	}
	for _, s := range []string{"http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1", "https://x"} {
		if err := checkURL("issuer", s); err != nil {
			t.Errorf("checkURL(%q) = %v, want nil", s, err)
		}
	}
}

func TestStart(t *testing.T) {
	o := startOP(t, oidctest.Config{})
	p := newProvider(t, o, Config{})
	a, authURL := p.Start()
	b, _ := p.Start()

	for name, v := range map[string][2]string{"State": {a.State, b.State}, "Nonce": {a.Nonce, b.Nonce}, "Verifier": {a.Verifier, b.Verifier}} {
		raw, err := base64.RawURLEncoding.DecodeString(v[0])
		if err != nil || len(raw) != 32 {
			t.Errorf("Start: %s = %q, want 32 bytes in unpadded base64url", name, v[0])
		}
		if v[0] == v[1] {
			t.Errorf("Start: %s repeats across attempts", name)
		}
	}
	if a.State == a.Nonce || a.Nonce == a.Verifier || a.State == a.Verifier {
		t.Errorf("Start: %+v reuses a value", a)
	}

	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host; got != o.Issuer {
		t.Errorf("Start: URL at %s, want the provider %s", got, o.Issuer)
	}
	sum := sha256.Sum256([]byte(a.Verifier))
	want := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {o.RedirectURL},
		"scope":                 {"openid profile email"},
		"state":                 {a.State},
		"nonce":                 {a.Nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if diff := cmp.Diff(want, u.Query()); diff != "" {
		t.Errorf("Start: URL query mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(authURL, a.Verifier) {
		t.Errorf("Start: URL carries the PKCE verifier")
	}
}

func TestAuthorizedParty(t *testing.T) {
	p := &Provider{oauth: oauth2.Config{ClientID: clientID}}
	tests := []struct {
		aud    []string
		azp    string // JSON, or "" for absent
		wantOK bool
	}{
		{[]string{clientID}, ``, true},
		{[]string{clientID}, `"lbm"`, true},
		{[]string{clientID}, `"other"`, false},
		{[]string{clientID}, `null`, true},
		{[]string{clientID}, `7`, false},
		{[]string{clientID, "other"}, `"lbm"`, true},
		{[]string{clientID, "other"}, `"other"`, false},
		{[]string{clientID, "other"}, ``, false},
	}
	for _, tt := range tests {
		claims := map[string]json.RawMessage{}
		if tt.azp != "" {
			claims["azp"] = json.RawMessage(tt.azp)
		}
		err := p.checkAuthorizedParty(tt.aud, claims)
		if (err == nil) != tt.wantOK {
			t.Errorf("checkAuthorizedParty(%q, azp %s) = %v, want ok %v", tt.aud, tt.azp, err, tt.wantOK)
		}
	}
}

func TestAuthStyle(t *testing.T) {
	tests := []struct {
		methods []string
		secret  string
		want    oauth2.AuthStyle
	}{
		{nil, "s", oauth2.AuthStyleInHeader},
		{[]string{"client_secret_basic", "client_secret_post"}, "s", oauth2.AuthStyleInHeader},
		{[]string{"client_secret_post"}, "s", oauth2.AuthStyleInParams},
		{[]string{"private_key_jwt"}, "s", oauth2.AuthStyleInHeader},
		{[]string{"client_secret_basic"}, "", oauth2.AuthStyleInParams},
	}
	for _, tt := range tests {
		if got := authStyle(tt.methods, tt.secret); got != tt.want {
			t.Errorf("authStyle(%q, %q) = %v, want %v", tt.methods, tt.secret, got, tt.want)
		}
	}
}

func TestRolesClaim(t *testing.T) {
	tests := []struct {
		raw     string // JSON, or "" for absent
		want    []string
		wantErr bool
	}{
		{``, nil, false},
		{`null`, nil, false},
		{`""`, nil, false},
		{`[]`, nil, false},
		{`"  staff   investigator "`, []string{"staff", "investigator"}, false},
		{`["staff","investigator"]`, []string{"staff", "investigator"}, false},
		{`["staff",7]`, nil, true},
		{`7`, nil, true},
		{`{"staff":true}`, nil, true},
	}
	for _, tt := range tests {
		claims := map[string]json.RawMessage{}
		if tt.raw != "" {
			claims["roles"] = json.RawMessage(tt.raw)
		}
		got, err := rolesClaim(claims, "roles")
		if (err != nil) != tt.wantErr || !cmp.Equal(got, tt.want) {
			t.Errorf("rolesClaim(%s) = %q, %v; want %q, error %v", tt.raw, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestExchangeErrorRedacts(t *testing.T) {
	err := &oauth2.RetrieveError{
		Response:         &http.Response{Status: "400 Bad Request"},
		ErrorCode:        "invalid_grant",
		ErrorDescription: "code c0de-s3cret is not valid for verifier v3r1f13r",
	}
	got := exchangeError(err, "c0de-s3cret", "v3r1f13r")
	want := `provider refused: invalid_grant "code [redacted] is not valid for verifier [redacted]"`
	if got != want {
		t.Errorf("exchangeError = %s, want %s", got, want)
	}
	err = &oauth2.RetrieveError{Response: &http.Response{Status: "502 Bad Gateway"}, Body: []byte("c0de-s3cret")}
	if got, want := exchangeError(err, "c0de-s3cret"), "provider answered 502 Bad Gateway"; got != want {
		t.Errorf("exchangeError = %s, want %s", got, want)
	}
}

// TestDeps keeps the package a leaf that the web layer wires in.
func TestDeps(t *testing.T) {
	forbidden := map[string]string{
		"github.com/lbm-project/lbm/": "the caller maps an Identity onto lbm's directory; this package knows no store",
		"database/sql":                "a relying party keeps no state of its own: the Attempt lives in the browser's cookie",
		"log":                         "nothing here logs; errors are the only output, and they are scrubbed of secrets",
		"log/slog":                    "nothing here logs; errors are the only output, and they are scrubbed of secrets",
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for bad, why := range forbidden {
				if path == bad || (strings.HasSuffix(bad, "/") && strings.HasPrefix(path, bad)) {
					t.Errorf("%s imports %s: %s", f, path, why)
				}
			}
		}
	}
}
