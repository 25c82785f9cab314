package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/web"
)

// sourceNode opens a fresh node with one registered source, and returns
// the source's token.
func sourceNode(t *testing.T, source string) (*server.Node, string) {
	t.Helper()
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	token, err := identity.AddSource(t.Context(), n.Store, source, n.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n, token
}

func newMailEnv(t *testing.T) (*httptest.Server, string, *capturetest.Recorder) {
	t.Helper()
	n, feed := sourceNode(t, "exchange")
	rec := capturetest.New()
	cfg := server.WebConfig(n)
	cfg.Metrics, cfg.MaxBodyBytes, cfg.Capture = fakeMetrics, 1<<20, rec
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, feed, rec
}

func postMail(t *testing.T, srv *httptest.Server, token, path, ctype, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ctype)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const oneMail = "From: Ann <ANN@example.org>\r\nTo: bob@example.org\r\nMessage-ID: <m1@example.org>\r\nSubject: hi\r\n\r\nbody\r\n"

func TestIngestEmail(t *testing.T) {
	srv, feed, rec := newMailEnv(t)
	mbox := "From a Thu Jan  1 00:00:00 1970\n" + oneMail + "\nFrom b Thu Jan  1 00:00:00 1970\n\nFrom c Thu Jan  1 00:00:00 1970\nnot a message at all\n"
	resp := postMail(t, srv, feed, "/v1/email?mailbox=Bob@Example.org", "application/mbox", mbox)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /v1/email = %d %s", resp.StatusCode, b)
	}
	var got ingest.MailReply
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := ingest.MailReply{Messages: 3, Accepted: 1, Unparsed: 1,
		Skipped: []ingest.MailSkipped{{Message: 2, Reason: "empty: not a message"}},
		IDs:     []string{"00000000000000000000000000000000", "00000000000000000000000000000001"}, Indexes: []uint64{0, 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
	recs := rec.Records()
	if len(recs) != 2 || recs[0].Source != "exchange" || recs[0].Input != capture.Email {
		t.Fatalf("submitted %+v", recs)
	}
	if m := recs[0].Record.Fields["email.mailbox"]; m != "bob@example.org" {
		t.Errorf("email.mailbox = %v", m)
	}

	// The same message alone, as message/rfc822: a duplicate.
	resp = postMail(t, srv, feed, "/v1/email?mailbox=bob@example.org", "message/rfc822", oneMail)
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Duplicates != 1 || got.Accepted != 0 {
		t.Errorf("again: %+v, %v; want one duplicate", got, err)
	}
}

func TestIngestEmailRefused(t *testing.T) {
	srv, feed, rec := newMailEnv(t)
	for _, tt := range []struct {
		name, ctype, body string
		err               error
		status            int
		problem           string
		retryAfter        string
	}{
		{"wrong type", "application/json", oneMail, nil, 415, web.TypeValidation, ""},
		{"no type", "", oneMail, nil, 415, web.TypeValidation, ""},
		{"not an mbox", "application/mbox", oneMail, nil, 400, web.TypeValidation, ""},
		{"too large", "message/rfc822", oneMail + strings.Repeat("x", 1<<20), nil, 413, web.TypeTooLarge, ""},
		{"rate limited", "message/rfc822", oneMail, &capture.RateLimitedError{Source: "exchange", RetryAfter: 2 * time.Second}, 429, web.TypeThrottled, "2"},
		{"overloaded", "message/rfc822", oneMail, ingest.ErrOverloaded, 503, web.TypeOverloaded, "1"},
		{"unknown source", "message/rfc822", oneMail, capture.ErrUnknownSource, 403, web.TypeForbidden, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec.SetErr(tt.err)
			defer rec.SetErr(nil)
			resp := postMail(t, srv, feed, "/v1/email", tt.ctype, tt.body)
			var p web.Problem
			json.NewDecoder(resp.Body).Decode(&p)
			if resp.StatusCode != tt.status || p.Type != tt.problem || resp.Header.Get("Retry-After") != tt.retryAfter {
				t.Errorf("POST = %d %s (Retry-After %q), want %d %s (%q)", resp.StatusCode, p.Type, resp.Header.Get("Retry-After"), tt.status, tt.problem, tt.retryAfter)
			}
		})
	}
	if n := len(rec.Records()); n != 0 {
		t.Errorf("refused requests stored %d records", n)
	}
}
