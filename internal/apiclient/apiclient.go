// Package apiclient is a small client for lbm's JSON API (docs/contract.md,
// "HTTP"). It sends a person's bearer token, JSON bodies and, for step-up
// actions, the one-time code, and turns the server's [RFC 9457] problem
// documents into [*Problem] errors that say what was refused and why.
//
// The package reads no environment and prints nothing: the caller (the
// lbm CLI) passes in the server and the token it chose.
//
// # Secrets
//
// The token is a person's authority to act in one of their roles, so it
// goes into one place only, the Authorization header of requests to the
// configured server:
//
//   - The client follows no redirect. A redirect is an error naming where
//     it pointed, so a mistyped or hijacked server address cannot forward
//     the token (or a request body full of justifications) elsewhere.
//   - Nothing here logs. Errors name the method, the path and the server,
//     never a header.
//   - Text the server (or a proxy in front of it) sends back and an error
//     quotes is first escaped ([safetext.Escape], so it cannot drive the
//     terminal it is printed on) and then has every copy of the token
//     replaced by "[token]": a misconfigured proxy's error page may echo
//     request headers.
//
// # Example
//
// A decision is a step-up action: it carries the current code from the
// authoriser's authenticator app.
//
//	c, err := apiclient.New("https://lbm.example:8443", token)
//	if err != nil {
//		return err
//	}
//	var r json.RawMessage
//	err = c.Do(ctx, "POST", "/v1/requests/"+url.PathEscape(id)+"/decision",
//		map[string]any{"authorise": false, "reasons": reasons}, &r, apiclient.OTP(code))
//	var p *apiclient.Problem
//	if errors.As(err, &p) && p.Field != "" {
//		// p.Error() reads, e.g., "rank-too-low: this request needs a
//		// decision at rank superintendent or above (field by)"
//	}
//
// [RFC 9457]: https://www.rfc-editor.org/rfc/rfc9457
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/safetext"
)

// DefaultTimeout bounds one call, from sending the request to reading the
// whole answer, unless [WithTimeout] says otherwise.
const DefaultTimeout = 30 * time.Second

// Size limits on what the client reads, so that a broken or hostile
// server cannot make it hold unbounded data.
const (
	// maxAnswer bounds a successful answer: a long request listing, or
	// one request with a long history.
	maxAnswer = 16 << 20
	// maxProblem bounds an error answer, problem document or not.
	maxProblem = 64 << 10
)

// otpHeader carries the one-time code of a step-up action.
const otpHeader = "LBM-OTP"

// A Client calls one lbm server with one token. It is safe for concurrent
// use.
type Client struct {
	base    string // scheme://host[:port][/prefix], no trailing slash
	token   string
	http    *http.Client
	timeout time.Duration
}

// An Option changes a Client built by [New].
type Option func(*Client)

// WithTimeout bounds each call to d instead of [DefaultTimeout]. New
// refuses a d that is not positive.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithHTTPClient makes calls with hc instead of the client's own, which
// follows no redirect. Tests use it; hc should refuse redirects too.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// New returns a client for the server at the base URL server (http or
// https, optionally with a path prefix, without credentials, query or
// fragment) that authenticates with token. An empty token sends no
// Authorization header, which only public routes accept. New returns an
// error for a bad URL, a token holding characters no token has (the error
// does not quote it) or a timeout that is not positive.
func New(server, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(server)
	if err != nil {
		return nil, fmt.Errorf("server address %s: not a URL", safetext.Quote(server))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("server address %s: want an http:// or https:// URL", safetext.Quote(server))
	case u.Host == "":
		return nil, fmt.Errorf("server address %s: no host", safetext.Quote(server))
	case u.User != nil:
		// Never quote it: the user info may hold a password.
		return nil, errors.New("server address: holds a user name or password; put no credentials in it")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(server, "?") || strings.HasSuffix(server, "#"):
		return nil, fmt.Errorf("server address %s: want no query or fragment", safetext.Quote(server))
	}
	for _, r := range token {
		if r <= ' ' || r >= 0x7f {
			return nil, errors.New("token: holds spaces or characters outside printable ASCII; is it the whole token?")
		}
	}
	c := &Client{
		base:  strings.TrimSuffix(u.String(), "/"),
		token: token,
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		timeout: DefaultTimeout,
	}
	for _, o := range opts {
		o(c)
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("timeout %v: want a positive duration", c.timeout)
	}
	if c.http == nil {
		return nil, errors.New("nil HTTP client")
	}
	return c, nil
}

// A CallOption changes one call of [Client.Do].
type CallOption func(*call)

type call struct {
	otp string
}

// OTP sends code, the current one-time code of the person's authenticator
// app, in the LBM-OTP header, as step-up actions need. An empty code sends
// no header.
func OTP(code string) CallOption { return func(c *call) { c.otp = code } }

// Do sends method to path (which starts with "/", and is already escaped:
// build it with [url.PathEscape] and [url.Values.Encode]) on the client's
// server.
//
// A non-nil body is sent as JSON (a [json.RawMessage] as it is, after
// checking that it is JSON). On a 2xx answer a non-nil out receives the
// JSON answer through [json.Unmarshal]; pass a *json.RawMessage to keep it
// byte for byte. An answer of another kind, or larger than 16 MiB, is an
// error.
//
// Every other answer is an error: a [*Problem] for 4xx and 5xx (a
// problem document if the server sent one, else a Problem with only the
// status and a description of what came instead), and a plain error for
// a redirect, a transport failure, or a timeout. A *Problem with status
// 401 matches [ErrUnauthenticated] and one of type step-up-required
// matches [ErrStepUpRequired] under [errors.Is]. If ctx ends first, the
// error wraps ctx.Err().
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...CallOption) error {
	return c.do(ctx, method, path, body, out, nil, opts)
}

// DoTo is [Do] for an answer that is a file, not JSON (an evidence
// bundle): a 2xx answer's body, at most limit bytes, is copied to w and
// its headers returned. Refusals are errors as in Do.
func (c *Client) DoTo(ctx context.Context, method, path string, body any, w io.Writer, limit int64, opts ...CallOption) (http.Header, error) {
	var h http.Header
	err := c.do(ctx, method, path, body, nil, func(what string, resp *http.Response) error {
		h = resp.Header
		n, err := io.Copy(w, io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n > limit {
			return fmt.Errorf("%s: the answer is larger than %d bytes", what, limit)
		}
		return nil
	}, opts)
	return h, err
}

func (c *Client) do(ctx context.Context, method, path string, body, out any, file func(string, *http.Response) error, opts []CallOption) error {
	var o call
	for _, opt := range opts {
		opt(&o)
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("path %s: want it to start with /", safetext.Quote(path))
	}
	what := method + " " + c.base + path // names the call in errors; holds no secret
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: encoding the body: %v", what, err)
		}
		rd = bytes.NewReader(b)
	}
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if o.otp != "" {
		req.Header.Set(otpHeader, o.otp)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(ctx, callCtx, what, err)
	}
	defer resp.Body.Close()

	ct := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		where := c.redact(safetext.Quote(c.redact(resp.Header.Get("Location"))))
		return fmt.Errorf("%s: the server answered %s to %s, which lbm never does; check the server address (nothing was sent there)", what, status(resp.StatusCode), where)
	case resp.StatusCode < 200 || resp.StatusCode >= 400:
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxProblem))
		if err != nil {
			return c.transportError(ctx, callCtx, what, err)
		}
		p := decodeProblem(resp.StatusCode, ct, b)
		p.redact(c.token)
		return p
	}
	if file != nil {
		err := file(what, resp)
		if err != nil && (ctx.Err() != nil || callCtx.Err() != nil) {
			return c.transportError(ctx, callCtx, what, err)
		}
		return err
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return c.transportError(ctx, callCtx, what, err)
	}
	if len(b) > maxAnswer {
		return fmt.Errorf("%s: the answer is larger than %d MiB", what, maxAnswer>>20)
	}
	if !isJSON(ct) {
		return fmt.Errorf("%s: the server answered %s with %s, not JSON; is the server address lbm's?", what, status(resp.StatusCode), describeType(ct))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: reading the answer: %v", what, err)
	}
	return nil
}

// transportError describes a call that got no complete answer: the
// caller's context ended (wrapped, for errors.Is), the call timed out, or
// the connection failed.
func (c *Client) transportError(ctx, callCtx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	if callCtx.Err() != nil {
		return fmt.Errorf("%s: no answer within %v", what, c.timeout)
	}
	// A *url.Error repeats the method and URL; keep only its cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s: %v", what, err)
}

// redact replaces every copy of the client's token in s.
func (c *Client) redact(s string) string { return redact(s, c.token) }

// isJSON reports whether the media type ct is JSON: application/json or
// any application/*+json.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// status names an HTTP status code, e.g. "502 Bad Gateway". The server's
// own status text is never shown: it is not worth escaping.
func status(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprintf("status %d", code)
}

// describeType names a Content-Type for an error message.
func describeType(ct string) string {
	if ct == "" {
		return "no content type"
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return safetext.Quote(ct)
}
