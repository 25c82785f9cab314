package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Sentinels for the checks that bind a callback to its [Attempt]. Either
// one means the callback did not come from the sign-in this browser
// started: a stale tab, or an attack (see the package doc). The caller
// should log it and start again, never retry with the same Attempt.
var (
	ErrState = errors.New("checking state: callback state does not match the attempt")
	ErrNonce = errors.New("verifying id token: nonce does not match the attempt")
)

// Config configures the relying party. Zero values are documented
// defaults; [New] checks the rest.
type Config struct {
	// Issuer is the provider's issuer URL. Discovery is at Issuer +
	// "/.well-known/openid-configuration", and the document found there
	// must name exactly this issuer. Required; https unless the host is
	// loopback.
	Issuer string
	// ClientID is lbm's client at the provider, and the audience every
	// ID token must name. Required.
	ClientID string
	// ClientSecret authenticates lbm at the token endpoint. Empty makes
	// lbm a public client that relies on PKCE alone; a deployment should
	// register lbm as a confidential client and set it.
	ClientSecret string
	// RedirectURL is lbm's callback, registered at the provider, e.g.
	// https://lbm.example/sign-in/oidc/callback. Required; https unless
	// the host is loopback.
	RedirectURL string
	// Scopes to request. Default: openid, profile, email. Must include
	// openid.
	Scopes []string
	// Claims names the ID-token claims that carry the directory fields.
	Claims ClaimMap
	// HTTPClient makes the back-channel requests (discovery, keys, token
	// exchange). Default: http.DefaultClient. At most 1 MiB of any
	// response is read; time is bounded by the contexts given to New and
	// Finish, and by this client's Timeout if it sets one.
	HTTPClient *http.Client
}

// defaultScopes are requested when [Config.Scopes] is empty.
var defaultScopes = []string{gooidc.ScopeOpenID, "profile", "email"}

// Provider is the relying party for one identity provider. It is safe
// for concurrent use.
type Provider struct {
	client   *http.Client
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	claims   ClaimMap
}

// Attempt is one sign-in in progress: the secrets that bind the callback
// to the browser that started it. The caller keeps it in a short-lived
// HttpOnly cookie and passes it to [Provider.Finish] once. Each field is
// 32 random bytes in unpadded base64url.
type Attempt struct {
	State    string // returned on the callback; checked against it
	Nonce    string // echoed in the ID token; checked against it
	Verifier string // the PKCE code verifier; only its SHA-256 is sent
}

// New fetches the provider's discovery document and returns a Provider.
// It fails if cfg is incomplete or unsafe, if the provider cannot be
// reached, or if the document names another issuer; the error names the
// issuer. Signing keys are fetched later, when a token needs them.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	client := limitClient(cfg.HTTPClient)
	ctx = gooidc.ClientContext(ctx, client)
	op, err := gooidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering %s: %v", cfg.Issuer, err)
	}
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, fmt.Errorf("discovering %s: %v", cfg.Issuer, err)
	}
	endpoint := op.Endpoint()
	endpoint.AuthStyle = authStyle(meta.AuthMethods, cfg.ClientSecret)
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = defaultScopes
	}
	return &Provider{
		client: client,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       slices.Clone(scopes),
		},
		// The verifier keeps ctx's values (our client) but not its
		// cancellation, and caches the provider's keys between sign-ins.
		verifier: op.VerifierContext(ctx, &gooidc.Config{ClientID: cfg.ClientID}),
		claims:   cfg.Claims.withDefaults(),
	}, nil
}

// authStyle picks how lbm authenticates at the token endpoint from the
// methods the provider advertises, rather than let oauth2 guess: a guess
// that fails is retried the other way, which sends the code and the
// client secret twice. A public client names itself in the body.
func authStyle(methods []string, secret string) oauth2.AuthStyle {
	switch {
	case secret == "":
		return oauth2.AuthStyleInParams
	case len(methods) == 0 || slices.Contains(methods, "client_secret_basic"):
		// OpenID Connect Discovery §3: the default is client_secret_basic.
		return oauth2.AuthStyleInHeader
	case slices.Contains(methods, "client_secret_post"):
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func (cfg *Config) check() error {
	if err := checkURL("issuer", cfg.Issuer); err != nil {
		return err
	}
	if cfg.ClientID == "" {
		return errors.New("checking config: client id: missing")
	}
	if err := checkURL("redirect url", cfg.RedirectURL); err != nil {
		return err
	}
	if len(cfg.Scopes) > 0 && !slices.Contains(cfg.Scopes, gooidc.ScopeOpenID) {
		return errors.New("checking config: scopes: openid missing")
	}
	return nil
}

// checkURL accepts an absolute https URL, or http on a loopback host for
// development and tests. Anything else would send codes, tokens or the
// client secret across the network in clear.
func checkURL(field, s string) error {
	if s == "" {
		return fmt.Errorf("checking config: %s: missing", field)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Fragment != "" || u.RawQuery != "" {
		return fmt.Errorf("checking config: %s %q: not an absolute URL without query or fragment", field, s)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return fmt.Errorf("checking config: %s %q: not https", field, s)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start returns a fresh Attempt and the provider URL to send the browser
// to: an authorization code request with the state, the nonce and the
// S256 PKCE challenge. It does no I/O.
func (p *Provider) Start() (Attempt, string) {
	a := Attempt{State: random32(), Nonce: random32(), Verifier: random32()}
	u := p.oauth.AuthCodeURL(a.State,
		gooidc.Nonce(a.Nonce),
		oauth2.S256ChallengeOption(a.Verifier))
	return a, u
}

// random32 returns 32 bytes from crypto/rand in unpadded base64url: 256
// bits, beyond guessing, and 43 characters, within RFC 7636's 43 to 128
// for a verifier.
func random32() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: Go crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// Finish completes the sign-in that a started, given the state and code
// from the callback's query. In order, it:
//
//   - compares gotState with a.State in constant time ([ErrState]);
//   - exchanges the code with a's PKCE verifier at the token endpoint;
//   - verifies the ID token's signature, issuer, audience, authorized
//     party and expiry, and its nonce against a's ([ErrNonce]);
//   - maps its claims through the [ClaimMap] ([*ClaimError], wrapped).
//
// The code is spent by the exchange whatever follows; a caller must not
// call Finish twice with one Attempt. Errors never include the code,
// tokens or secrets. Cost: one round trip to the token endpoint, and one
// to the keys endpoint when the token is signed with a key not yet seen.
func (p *Provider) Finish(ctx context.Context, a Attempt, gotState, code string) (Identity, error) {
	if a.State == "" || a.Nonce == "" || a.Verifier == "" {
		return Identity{}, errors.New("finishing sign-in: attempt incomplete")
	}
	if subtle.ConstantTimeCompare([]byte(a.State), []byte(gotState)) != 1 {
		return Identity{}, ErrState
	}
	if code == "" {
		return Identity{}, errors.New("finishing sign-in: no code in callback")
	}

	ctx = gooidc.ClientContext(ctx, p.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("exchanging code: %s", exchangeError(err, code, a.Verifier, p.oauth.ClientSecret))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, errors.New("exchanging code: no id_token in the response")
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("verifying id token: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(a.Nonce)) != 1 {
		return Identity{}, ErrNonce
	}

	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("verifying id token: reading claims: %v", err)
	}
	if err := p.checkAuthorizedParty(idt.Audience, claims); err != nil {
		return Identity{}, err
	}
	id, err := p.claims.identity(claims)
	if err != nil {
		return Identity{}, fmt.Errorf("mapping claims: %w", err)
	}
	id.Issuer = idt.Issuer
	id.Subject = idt.Subject
	id.Expiry = idt.Expiry
	return id, nil
}

// checkAuthorizedParty does what OpenID Connect Core §3.1.3.7 items 4 and
// 5 ask beyond go-oidc's audience check: a token for several audiences
// must say that it was issued to us, so that another client of the same
// provider cannot pass its users' tokens on to lbm.
func (p *Provider) checkAuthorizedParty(aud []string, claims map[string]json.RawMessage) error {
	azp, err := stringClaim(claims, "azp")
	if err != nil {
		return fmt.Errorf("verifying id token: %w", err)
	}
	switch {
	case azp != "" && azp != p.oauth.ClientID:
		return fmt.Errorf("verifying id token: issued to client %q", azp)
	case azp == "" && len(aud) > 1:
		return errors.New("verifying id token: several audiences and no azp claim")
	}
	return nil
}

// exchangeError describes a failed token exchange without the secrets
// that went into it. A provider's error_description is its own text, so
// it is quoted, cut short, and scrubbed of anything we sent.
func exchangeError(err error, secrets ...string) string {
	var re *oauth2.RetrieveError
	var msg string
	switch {
	case errors.As(err, &re) && re.ErrorCode != "":
		desc := re.ErrorDescription
		if len(desc) > 200 {
			desc = desc[:200] + "…"
		}
		msg = fmt.Sprintf("provider refused: %s %q", re.ErrorCode, desc)
	case errors.As(err, &re) && re.Response != nil:
		msg = "provider answered " + re.Response.Status
	default:
		msg = err.Error()
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// maxResponse bounds each response body read from the provider.
// Discovery documents, key sets and token responses are a few KiB; a
// provider sending more is broken, and is not to be buffered.
const maxResponse = 1 << 20

var errTooLarge = fmt.Errorf("response body exceeds %d bytes", maxResponse)

// limitClient returns a copy of c (default http.DefaultClient) whose
// response bodies fail past maxResponse bytes.
func limitClient(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	lc := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	lc.Transport = limitTransport{base}
	return &lc
}

type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitBody{ReadCloser: resp.Body, left: maxResponse}
	return resp, nil
}

// limitBody reads up to left bytes, then fails if any byte follows:
// unlike io.LimitReader, it never passes a truncated body off as whole.
type limitBody struct {
	io.ReadCloser
	left int64
}

func (b *limitBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
