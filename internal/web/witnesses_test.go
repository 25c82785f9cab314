package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/web"
	"github.com/lbm-project/lbm/internal/witness"
)

// fakeWitnesses serves a fixed checkpoint or error and a fixed report.
type fakeWitnesses struct {
	signed []byte
	err    error
	report witness.Report
}

func (f *fakeWitnesses) Checkpoint(context.Context, string) ([]byte, error) { return f.signed, f.err }
func (f *fakeWitnesses) Report() witness.Report                             { return f.report }

func TestWitnessesServed(t *testing.T) {
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.PublishAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Without witnesses: the report is empty.
	e := newEnv(t)
	resp := e.do(t, "GET", "/v1/witnesses", e.admin, "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != `{"quorum":0,"fail":"","witnesses":[]}`+"\n" {
		t.Errorf("GET /v1/witnesses without witnesses = %d %s", resp.StatusCode, body)
	}

	size := uint64(3)
	fake := &fakeWitnesses{signed: []byte("cosigned checkpoint\n\n— lbm x\n— w1 y\n"), report: witness.Report{Quorum: 1, Fail: witness.FailClosed,
		Witnesses: []witness.WitnessReport{{Name: "w1", URL: "https://w1.example", Key: "k", Logs: []witness.LogStatus{{Log: "activity", CosignedSize: &size}}}}}}
	cfg := server.WebConfig(n)
	cfg.Witnesses = fake
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	admin, err := readToken(n.AdminTokenPath)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, token string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, body := get("/log/activity/checkpoint", ""); resp.StatusCode != http.StatusOK || string(body) != string(fake.signed) {
		t.Errorf("GET /log/activity/checkpoint = %d %q, want the witnesses' %q", resp.StatusCode, body, fake.signed)
	}
	resp, body = get("/v1/witnesses", admin)
	var rep witness.Report
	if err := json.Unmarshal(body, &rep); err != nil || resp.StatusCode != http.StatusOK || len(rep.Witnesses) != 1 ||
		*rep.Witnesses[0].Logs[0].CosignedSize != 3 || rep.Fail != witness.FailClosed {
		t.Errorf("GET /v1/witnesses = %d %s, %v", resp.StatusCode, body, err)
	}

	fake.err = witness.ErrNotCosigned
	resp, body = get("/log/activity/checkpoint", "")
	var p web.Problem
	if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusServiceUnavailable ||
		p.Type != web.TypeNotCosigned || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET /log/activity/checkpoint, not cosigned = %d %s (Retry-After %q), want 503 %s", resp.StatusCode, body, resp.Header.Get("Retry-After"), web.TypeNotCosigned)
	}
}
