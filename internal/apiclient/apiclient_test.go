package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testToken is the token every test sends; no error may ever contain it.
const testToken = "lbm_t0ken-that-must-never-be-printed"

// received is what a test server was sent.
type received struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// recorder is an httptest server that records each request and answers
// with a canned response.
type recorder struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

// answer is a canned response.
type answer struct {
	status int
	header map[string]string
	body   string
}

func newRecorder(t *testing.T, a answer) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.got = append(rec.got, received{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		rec.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) requests() []received {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]received(nil), rec.got...)
}

const (
	jsonType    = "application/json"
	problemType = "application/problem+json"
)

func TestDo(t *testing.T) {
	type body struct {
		Reasons string `json:"reasons"`
	}
	tests := []struct {
		name    string
		method  string
		body    any
		opts    []CallOption
		answer  answer
		want    string // the answer decoded into a map, re-encoded; "" for an error
		wantErr string // a substring of the error
		is      []error
		field   string // the Problem's Field
		errors  []FieldError
	}{
		{
			name:   "success",
			method: "POST", body: body{"because"},
			answer: answer{200, map[string]string{"Content-Type": jsonType}, `{"state":"active"}`},
			want:   `{"state":"active"}`,
		},
		{
			name:   "created, JSON with a charset",
			method: "POST", body: json.RawMessage(`{"mode": "review"}`),
			answer: answer{201, map[string]string{"Content-Type": "application/json; charset=utf-8"}, `{"id":"x"}`},
			want:   `{"id":"x"}`,
		},
		{
			name:   "problem with a field",
			method: "POST", body: body{"because"},
			answer: answer{403, map[string]string{"Content-Type": problemType},
				`{"type":"urn:lbm:problem:rank-too-low","title":"Rank too low","status":403,"detail":"this request needs a decision at rank superintendent or above","field":"by"}`},
			wantErr: "rank-too-low: this request needs a decision at rank superintendent or above (field by)",
			field:   "by",
		},
		{
			name:   "problem without a field",
			method: "POST",
			answer: answer{409, map[string]string{"Content-Type": problemType},
				`{"type":"urn:lbm:problem:invalid-transition","title":"Invalid transition","status":409,"detail":"decision not allowed in state draft"}`},
			wantErr: "invalid-transition: decision not allowed in state draft",
		},
		{
			name:   "problem with every refused field",
			method: "POST",
			answer: answer{400, map[string]string{"Content-Type": problemType},
				`{"type":"urn:lbm:problem:validation","title":"Invalid request","status":400,"detail":"the request is not ready to submit","field":"necessity",
				  "errors":[{"field":"necessity","message":"too short"},{"field":"criteria.NOTICE","message":"missing"}]}`},
			wantErr: "validation: the request is not ready to submit (field necessity); necessity: too short; criteria.NOTICE: missing",
			field:   "necessity",
			errors:  []FieldError{{"necessity", "too short"}, {"criteria.NOTICE", "missing"}},
		},
		{
			name:    "problem whose status member is wrong",
			method:  "GET",
			answer:  answer{404, map[string]string{"Content-Type": problemType}, `{"type":"urn:lbm:problem:not-found","title":"Not found","status":"four"}`},
			wantErr: "not-found: Not found",
		},
		{
			name:    "a proxy's HTML 502",
			method:  "GET",
			answer:  answer{502, map[string]string{"Content-Type": "text/html"}, "<html><body><h1>502 Bad Gateway</h1></body></html>"},
			wantErr: "502 Bad Gateway: the answer is text/html, not a problem document",
		},
		{
			name:    "a plain-text 503",
			method:  "GET",
			answer:  answer{503, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, "upstream connect error\nmore"},
			wantErr: "503 Service Unavailable: the server said: upstream connect error",
		},
		{
			name:    "JSON that is not a problem",
			method:  "GET",
			answer:  answer{500, map[string]string{"Content-Type": jsonType}, `{"message":"boom"}`},
			wantErr: "500 Internal Server Error: the answer is application/json, not a problem document",
		},
		{
			name:    "an empty error",
			method:  "GET",
			answer:  answer{500, nil, ""},
			wantErr: "500 Internal Server Error: the server sent no explanation",
		},
		{
			name:   "401 problem",
			method: "GET",
			answer: answer{401, map[string]string{"Content-Type": problemType},
				`{"type":"urn:lbm:problem:unauthenticated","title":"Unauthenticated","status":401,"detail":"a valid bearer token or session is required"}`},
			wantErr: "unauthenticated: a valid bearer token or session is required",
			is:      []error{ErrUnauthenticated},
		},
		{
			name:    "401 from a proxy",
			method:  "GET",
			answer:  answer{401, map[string]string{"Content-Type": "text/html"}, "<p>no</p>"},
			wantErr: "401 Unauthorized",
			is:      []error{ErrUnauthenticated},
		},
		{
			name:   "step-up required",
			method: "POST",
			answer: answer{403, map[string]string{"Content-Type": problemType},
				`{"type":"urn:lbm:problem:step-up-required","title":"Second factor required","status":403,"detail":"this action needs a current one-time code"}`},
			wantErr: "step-up-required: this action needs a current one-time code",
			is:      []error{ErrStepUpRequired},
		},
		{
			name:    "200 that is not JSON",
			method:  "GET",
			answer:  answer{200, map[string]string{"Content-Type": "text/html"}, "<html>sign in</html>"},
			wantErr: "answered 200 OK with text/html, not JSON",
		},
		{
			name:    "200 with broken JSON",
			method:  "GET",
			answer:  answer{200, map[string]string{"Content-Type": jsonType}, `{"state":`},
			wantErr: "reading the answer",
		},
		{
			name:   "terminal escapes in a problem are escaped",
			method: "GET",
			answer: answer{400, map[string]string{"Content-Type": problemType},
				`{"type":"urn:lbm:problem:validation","title":"Invalid","detail":"bad \u001b[31mred\u001b[0m \u202eevil"}`},
			wantErr: `validation: bad \x1b[31mred\x1b[0m \u202eevil`,
		},
		{
			name:   "the token echoed in a problem",
			method: "GET",
			answer: answer{400, map[string]string{"Content-Type": problemType},
				`{"type":"urn:lbm:problem:validation","title":"` + testToken + `","detail":"header Bearer ` + testToken + `","field":"` + testToken + `","errors":[{"field":"` + testToken + `","message":"` + testToken + `"}]}`},
			wantErr: "validation: header Bearer [token] (field [token]); [token]: [token]",
			field:   "[token]",
			errors:  []FieldError{{"[token]", "[token]"}},
		},
		{
			name:    "the token echoed in a proxy's text",
			method:  "GET",
			answer:  answer{502, map[string]string{"Content-Type": "text/plain"}, "bad header Authorization: Bearer " + testToken},
			wantErr: "the server said: bad header Authorization: Bearer [token]",
		},
		{
			name:    "a redirect is not followed",
			method:  "POST",
			answer:  answer{307, map[string]string{"Location": "https://elsewhere.example/steal?t=" + testToken}, ""},
			wantErr: "answered 307 Temporary Redirect to \"https://elsewhere.example/steal?t=[token]\", which lbm never does",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecorder(t, tt.answer)
			c, err := New(srv.URL, testToken)
			if err != nil {
				t.Fatal(err)
			}
			var out map[string]any
			err = c.Do(t.Context(), tt.method, "/v1/requests/r1/decision", tt.body, &out, tt.opts...)
			got := srv.requests()
			if len(got) != 1 {
				t.Fatalf("server received %d requests, want 1", len(got))
			}
			if h := got[0].Header.Get("Authorization"); h != "Bearer "+testToken {
				t.Errorf("Authorization = %q, want the bearer token", h)
			}
			if got[0].Method != tt.method || got[0].Path != "/v1/requests/r1/decision" {
				t.Errorf("server got %s %s, want %s /v1/requests/r1/decision", got[0].Method, got[0].Path, tt.method)
			}
			if tt.body != nil {
				want, _ := json.Marshal(tt.body)
				if got[0].Body != string(want) {
					t.Errorf("body = %s, want %s", got[0].Body, want)
				}
				if ct := got[0].Header.Get("Content-Type"); ct != jsonType {
					t.Errorf("Content-Type = %q, want %q", ct, jsonType)
				}
			} else if got[0].Body != "" {
				t.Errorf("body = %q, want none", got[0].Body)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				b, _ := json.Marshal(out)
				if string(b) != tt.want {
					t.Errorf("out = %s, want %s", b, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Do succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Do error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("Do error = %q: holds the token", err)
			}
			for _, target := range []error{ErrUnauthenticated, ErrStepUpRequired} {
				want := false
				for _, e := range tt.is {
					want = want || e == target
				}
				if errors.Is(err, target) != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", target, !want, want)
				}
			}
			var p *Problem
			if errors.As(err, &p) {
				if p.Status != tt.answer.status {
					t.Errorf("Problem.Status = %d, want %d", p.Status, tt.answer.status)
				}
				if p.Field != tt.field {
					t.Errorf("Problem.Field = %q, want %q", p.Field, tt.field)
				}
				if diff := cmp.Diff(tt.errors, p.Errors); diff != "" {
					t.Errorf("Problem.Errors (-want +got):\n%s", diff)
				}
			} else if tt.answer.status >= 400 {
				t.Errorf("Do error %T, want a *Problem for status %d", err, tt.answer.status)
			}
		})
	}
}

func TestOTPHeader(t *testing.T) {
	tests := []struct {
		name string
		opts []CallOption
		want []string
	}{
		{"not given", nil, nil},
		{"empty", []CallOption{OTP("")}, nil},
		{"given", []CallOption{OTP("123456")}, []string{"123456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecorder(t, answer{204, nil, ""})
			c, err := New(srv.URL, testToken)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Do(t.Context(), "POST", "/v1/requests/r1/reviews", map[string]string{"notes": "n"}, nil, tt.opts...); err != nil {
				t.Fatal(err)
			}
			if got := srv.requests()[0].Header.Values("LBM-OTP"); !slices.Equal(got, tt.want) {
				t.Errorf("LBM-OTP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNoToken(t *testing.T) {
	srv := newRecorder(t, answer{200, map[string]string{"Content-Type": jsonType}, `{}`})
	c, err := New(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Do(t.Context(), "GET", "/v1/purposes", nil, nil); err != nil {
		t.Fatal(err)
	}
	if h := srv.requests()[0].Header.Values("Authorization"); len(h) != 0 {
		t.Errorf("Authorization = %q, want none without a token", h)
	}
}

func TestPathPrefixAndQuery(t *testing.T) {
	srv := newRecorder(t, answer{200, map[string]string{"Content-Type": jsonType}, `{"requests":[]}`})
	c, err := New(srv.URL+"/lbm/", testToken)
	if err != nil {
		t.Fatal(err)
	}
	var out json.RawMessage
	if err := c.Do(t.Context(), "GET", "/v1/requests?view=mine&state=active", nil, &out); err != nil {
		t.Fatal(err)
	}
	got := srv.requests()[0]
	if got.Path != "/lbm/v1/requests" || got.Query != "view=mine&state=active" {
		t.Errorf("server got %s?%s, want /lbm/v1/requests?view=mine&state=active", got.Path, got.Query)
	}
	if string(out) != `{"requests":[]}` {
		t.Errorf("out = %s, want the answer as it came", out)
	}
}

func TestRedirectSendsNothingOn(t *testing.T) {
	elsewhere := newRecorder(t, answer{200, map[string]string{"Content-Type": jsonType}, `{}`})
	srv := newRecorder(t, answer{302, map[string]string{"Location": elsewhere.URL + "/v1/requests"}, ""})
	c, err := New(srv.URL, testToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Do(t.Context(), "GET", "/v1/requests", nil, nil); err == nil || !strings.Contains(err.Error(), "302 Found") {
		t.Errorf("Do = %v, want a redirect error", err)
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect's target received %d requests, want 0", n)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	c, err := New(srv.URL, testToken, WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(t.Context(), "GET", "/v1/requests", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("Do = %v, want a timeout", err)
	}

	c, err = New(srv.URL, testToken)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	if err := c.Do(ctx, "GET", "/v1/requests", nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want context.Canceled", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(url, testToken)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(t.Context(), "POST", "/v1/requests", map[string]string{}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "POST "+url+"/v1/requests: ") {
		t.Fatalf("Do = %v, want an error naming the call", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("Do error %q holds the token", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		server, token string
		opts          []Option
		wantErr       string
	}{
		{"http://127.0.0.1:8080", testToken, nil, ""},
		{"https://lbm.example:8443/prefix/", testToken, nil, ""},
		{"", testToken, nil, "want an http:// or https:// URL"},
		{"127.0.0.1:8080", testToken, nil, "server address"},
		{"ftp://lbm.example", testToken, nil, "want an http:// or https:// URL"},
		{"http://", testToken, nil, "no host"},
		{"https://alice:hunter2@lbm.example", testToken, nil, "put no credentials in it"},
		{"https://lbm.example/?x=1", testToken, nil, "want no query or fragment"},
		{"https://lbm.example/#top", testToken, nil, "want no query or fragment"},
		{"http://127.0.0.1:8080", testToken + " ", nil, "token: holds spaces"},
		{"http://127.0.0.1:8080", "lbm_abc\nX-Evil: 1", nil, "token: holds spaces"},
		{"http://127.0.0.1:8080", testToken, []Option{WithTimeout(0)}, "want a positive duration"},
		{"http://127.0.0.1:8080", testToken, []Option{WithHTTPClient(nil)}, "nil HTTP client"},
	}
	for _, tt := range tests {
		_, err := New(tt.server, tt.token, tt.opts...)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("New(%q) = %v, want success", tt.server, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("New(%q) = %v, want an error containing %q", tt.server, err, tt.wantErr)
		case err != nil && (strings.Contains(err.Error(), tt.token) || strings.Contains(err.Error(), "hunter2")):
			t.Errorf("New(%q) = %v: holds a secret", tt.server, err)
		}
	}
}

func TestBadPath(t *testing.T) {
	c, err := New("http://127.0.0.1:1", testToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Do(t.Context(), "GET", "v1/requests", nil, nil); err == nil || !strings.Contains(err.Error(), "start with /") {
		t.Errorf("Do with a relative path = %v, want an error", err)
	}
}
