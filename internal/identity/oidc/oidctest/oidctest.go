// Package oidctest runs a real OpenID Provider in-process, for tests of
// lbm's relying party ([github.com/lbm-project/lbm/internal/identity/oidc])
// and of the handlers that sign people in through it.
//
// It is for tests only. It pulls in github.com/zitadel/oidc (pkg/op, a
// certified OpenID Provider implementation, with its example storage and
// login page), go-chi and the rest of their dependencies, none of which
// belongs in the lbm binary: it must never be imported by non-test code.
// It lives in a non-test file only so that the tests of several packages
// can share it.
//
// # The provider
//
// [Start] serves the example provider of zitadel/oidc on 127.0.0.1 over
// plain http, with the accounts of [Config.Users], and two confidential
// clients: lbm's ([Provider.Client]) and another ([Provider.Other]), both
// allowed to redirect to [Config.RedirectURL]. Each ID token carries the
// standard claims, plus lbm's custom claims (roles, rank, grade, unit) and
// any others of its [User]. [Config] can make the provider misbehave:
// sign expired tokens, name other audiences, or sign with a key it does
// not publish, so that a relying party meets bad tokens that a real
// provider signed.
//
// # Signing in
//
// [Provider.Login] is a browser at the provider: it follows a relying
// party's authorization URL to the login page, submits a username and a
// password, and returns the URL the provider sends the browser back to,
// without requesting it. The caller then plays that redirect as it
// likes: with the same browser, with another, or tampered with.
//
//	p := oidctest.Start(t, oidctest.Config{
//		RedirectURL: "http://127.0.0.1:8080/sign-in/oidc/callback",
//		Users: []oidctest.User{{ID: "u-1", Username: "alex", Name: "Alex Example",
//			Roles: []string{"investigator"}, Rank: "inspector"}},
//	})
//	// ... the relying party, as client p.Client.ID, makes authURL ...
//	back := p.Login(t, browser, authURL, "alex", oidctest.DefaultPassword)
//	code, state := back.Query().Get("code"), back.Query().Get("state")
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"html"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// DefaultPassword is the password of a [User] that sets none.
const DefaultPassword = "correct horse battery staple"

// DefaultRedirectURL is [Config.RedirectURL] when it is empty: a callback
// that nothing serves, for tests that stop at the redirect to it (as
// [Provider.Login] does).
const DefaultRedirectURL = "http://127.0.0.1/sign-in/oidc/callback"

// A User is an account at the provider.
type User struct {
	ID       string // the ID token's sub; required
	Username string // typed into the login form; required
	Password string // default: DefaultPassword
	Name     string // the name claim, under the profile scope
	// EmailUnverified sends email_verified false with the email claim
	// (Username@force.example, under the email scope); it is true
	// otherwise.
	EmailUnverified bool

	// lbm's custom claims, under their default names. Empty strings and a
	// nil Roles leave the claim out; an empty non-nil Roles sends [].
	Roles             []string
	Rank, Grade, Unit string

	// Claims are further ID-token claims, added last: a claim here
	// replaces a custom claim of the same name. They carry a force's own
	// claim names, and values of the wrong JSON type.
	Claims map[string]any
}

// Config configures a provider. The zero Config is a well-behaved
// provider with no accounts.
type Config struct {
	Users []User
	// RedirectURL is the callback registered for both clients. Default:
	// DefaultRedirectURL.
	RedirectURL string

	// IDTokenLifetime, if not zero, is the lifetime of every ID token;
	// a negative one signs tokens that have expired already.
	IDTokenLifetime time.Duration
	// Audience, if set, is every ID token's aud. pkg/op adds the client
	// the token is issued to, and sets azp to it.
	Audience []string
	// UnpublishedKey signs ID tokens with a fresh RS256 key that the
	// provider does not publish at its jwks_uri.
	UnpublishedKey bool
}

// Client is a client registered at the provider.
type Client struct{ ID, Secret string }

// Provider is a running provider. Its fields are read-only.
type Provider struct {
	// Issuer is http://127.0.0.1:port, as the discovery document names it.
	Issuer      string
	RedirectURL string
	// Client is lbm's client: "lbm", secret "lbm-client-secret".
	Client Client
	// Other is another client of the same provider, for tokens issued to
	// someone else: "other", secret "other-secret".
	Other Client

	srv *httptest.Server
}

// Start starts a provider configured by cfg on 127.0.0.1 and stops it
// when the test ends. It fails t if cfg is unusable.
//
// The example provider logs each request through the default slog logger,
// so Start points that at t's output until the provider stops: tests that
// call Start must not run in parallel with each other.
func Start(t testing.TB, cfg Config) *Provider {
	t.Helper()
	if cfg.RedirectURL == "" {
		cfg.RedirectURL = DefaultRedirectURL
	}
	us := users{}
	for _, u := range cfg.Users {
		if u.ID == "" || u.Username == "" {
			t.Fatalf("oidctest: user %+v: ID and Username are required", u)
		}
		if _, ok := us[u.ID]; ok {
			t.Fatalf("oidctest: user ID %q twice", u.ID)
		}
		if us.GetUserByUsername(u.Username) != nil {
			t.Fatalf("oidctest: username %q twice", u.Username)
		}
		if u.Password == "" {
			u.Password = DefaultPassword
		}
		u.Roles, u.Claims = slices.Clone(u.Roles), maps.Clone(u.Claims) // nil stays nil
		us[u.ID] = u
	}

	p := &Provider{
		RedirectURL: cfg.RedirectURL,
		Client:      Client{ID: "lbm", Secret: "lbm-client-secret"},
		Other:       Client{ID: "other", Secret: "other-secret"},
	}
	clients := map[string]*storage.Client{}
	for _, c := range []Client{p.Client, p.Other} {
		clients[c.ID] = storage.WebClient(c.ID, c.Secret, cfg.RedirectURL)
	}
	st := &provStorage{
		Storage:  storage.NewStorageWithClients(us, clients),
		users:    us,
		lifetime: cfg.IDTokenLifetime,
		audience: cfg.Audience,
	}
	if cfg.UnpublishedKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		st.signingKey = rogueKey{k}
	}

	srv := httptest.NewUnstartedServer(nil)
	p.Issuer = "http://" + srv.Listener.Addr().String()
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(t.Output(), nil)))
	srv.Config.Handler = exampleop.SetupServer(p.Issuer, st, nil, false)
	srv.Start()
	t.Cleanup(func() {
		// Close waits for requests in flight, so nothing logs to t's
		// output after the test.
		srv.Close()
		slog.SetDefault(prev)
	})
	p.srv = srv
	return p
}

// HTTPClient returns a client for the back channel to the provider
// (discovery, keys, the token endpoint).
func (p *Provider) HTTPClient() *http.Client { return p.srv.Client() }

var (
	loginForm = regexp.MustCompile(`<form method="POST" action="([^"]*)"`)
	loginID   = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]*)">`)
)

// Login is a browser signing in at the provider: it GETs authURL, following
// redirects while they stay at the provider, to the login page; submits
// username and password there; follows the provider's redirects; and
// returns the URL of the first redirect away from the provider (the
// relying party's callback, with code and state, or with an error)
// without requesting it.
//
// authURL may be the provider's authorization URL, or a relying-party
// page that redirects to it: browser's jar then keeps what that page set.
// Login uses browser's jar and transport but not its CheckRedirect. It
// fails t if the login page does not come, the login is refused, or the
// provider does not redirect away.
func (p *Provider) Login(t testing.TB, browser *http.Client, authURL, username, password string) *url.URL {
	t.Helper()
	c := *browser
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if !p.serves(r.URL) {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}

	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("oidctest: GET auth URL: %v", err)
	}
	page := readBody(t, resp)
	form, id := loginForm.FindStringSubmatch(page), loginID.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || !p.serves(resp.Request.URL) || form == nil || id == nil {
		t.Fatalf("oidctest: GET auth URL: %s at %s, not the login page:\n%s", resp.Status, resp.Request.URL.Redacted(), page)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(form[1]))
	if err != nil {
		t.Fatalf("oidctest: login form action: %v", err)
	}

	resp, err = c.PostForm(action.String(), url.Values{
		"id":       {html.UnescapeString(id[1])},
		"username": {username},
		"password": {password},
	})
	if err != nil {
		t.Fatalf("oidctest: POST login: %v", err)
	}
	page = readBody(t, resp)
	loc, err := resp.Location()
	if err != nil || p.serves(loc) {
		t.Fatalf("oidctest: POST login as %q: %s at %s, not a redirect away from the provider:\n%s",
			username, resp.Status, resp.Request.URL.Redacted(), page)
	}
	return loc
}

// serves reports whether u is at the provider.
func (p *Provider) serves(u *url.URL) bool {
	return u.Scheme+"://"+u.Host == p.Issuer
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("oidctest: reading %s: %v", resp.Request.URL.Redacted(), err)
	}
	return string(b)
}

// users are the accounts by ID. They implement the example storage's
// UserStore.
type users map[string]User

func (us users) GetUserByID(id string) *storage.User {
	if u, ok := us[id]; ok {
		return u.storage()
	}
	return nil
}

func (us users) GetUserByUsername(name string) *storage.User {
	for _, u := range us {
		if u.Username == name {
			return u.storage()
		}
	}
	return nil
}

func (us users) ExampleClientID() string { return "service" }

// storage returns u as the example storage has it: a fresh copy, so that
// nothing the storage does reaches back.
func (u User) storage() *storage.User {
	first, last, _ := strings.Cut(u.Name, " ")
	return &storage.User{
		ID:            u.ID,
		Username:      u.Username,
		Password:      u.Password,
		FirstName:     first,
		LastName:      last,
		Email:         u.Username + "@force.example",
		EmailVerified: !u.EmailUnverified,
	}
}

// provStorage is the example storage, plus the custom claims and the knobs
// that make the provider misbehave. Nothing changes after Start.
type provStorage struct {
	*storage.Storage

	users      users
	audience   []string
	lifetime   time.Duration
	signingKey op.SigningKey
}

var _ op.CanSetUserinfoFromRequest = (*provStorage)(nil)

// SetUserinfoFromRequest is where pkg/op asks the storage for the claims
// of an ID token; the example storage fills the standard ones.
func (s *provStorage) SetUserinfoFromRequest(ctx context.Context, info *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	u, ok := s.users[req.GetSubject()]
	if !ok {
		return nil
	}
	if slices.Contains(scopes, zoidc.ScopeProfile) {
		info.Name = u.Name // exactly, even without a space in it
	}
	if u.Roles != nil {
		info.AppendClaims("roles", u.Roles)
	}
	for k, v := range map[string]string{"rank": u.Rank, "grade": u.Grade, "unit": u.Unit} {
		if v != "" {
			info.AppendClaims(k, v)
		}
	}
	for k, v := range u.Claims {
		info.AppendClaims(k, v)
	}
	return nil
}

func (s *provStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return provClient{Client: c, lifetime: s.lifetime}, nil
}

func (s *provStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil || s.audience == nil {
		return r, err
	}
	return audienceRequest{AuthRequest: r, audience: s.audience}, nil
}

func (s *provStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	if s.signingKey != nil {
		return s.signingKey, nil
	}
	return s.Storage.SigningKey(ctx)
}

// provClient is a registered client whose ID tokens carry the profile
// claims (name) even though an access token is issued too: OpenID Connect
// Core §5.4 leaves that to the provider, and forces set it for lbm, which
// reads only the ID token.
type provClient struct {
	op.Client
	lifetime time.Duration
}

func (c provClient) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c provClient) IDTokenLifetime() time.Duration {
	if c.lifetime != 0 {
		return c.lifetime
	}
	return c.Client.IDTokenLifetime()
}

type audienceRequest struct {
	op.AuthRequest
	audience []string
}

func (r audienceRequest) GetAudience() []string { return r.audience }

// rogueKey is an RS256 key that the provider signs with but does not
// publish at its jwks_uri.
type rogueKey struct{ key *rsa.PrivateKey }

func (k rogueKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k rogueKey) Key() any                                    { return k.key }
func (k rogueKey) ID() string                                  { return "rogue" }
