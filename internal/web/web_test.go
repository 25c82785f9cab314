package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/tlog"
	"github.com/lbm-project/lbm/internal/web"
)

type env struct {
	srv         *httptest.Server
	node        *server.Node
	admin, feed string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	n, err := server.Open(t.Context(), server.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	feed, err := identity.AddSource(t.Context(), n.Store, "pnc", n.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.PublishAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg := server.WebConfig(n)
	cfg.Metrics, cfg.MaxBodyBytes = fakeMetrics, 1<<20
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
	return &env{srv: srv, node: n, admin: admin, feed: feed}
}

// fakeMetrics stands for the Prometheus handler.
var fakeMetrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "lbm_up 1\n") })

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

func (e *env) do(t *testing.T, method, path, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func line(i int) string {
	return fmt.Sprintf(`{"@timestamp":"2026-11-02T08:00:00Z","event":{"id":"e%d","category":"record_query","action":"pnc_person_search"},"user":{"id":"u1"},"content":{"query":"SMITH"}}`, i)
}

func TestIngestRejectsBadLineWithNothingStored(t *testing.T) {
	e := newEnv(t)
	body := strings.Join([]string{line(1), line(2), `{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":"nope","action":"x"},"user":{"id":"u1"}}`, line(4), line(5)}, "\n")
	resp := e.do(t, "POST", "/v1/events", e.feed, body)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", resp.StatusCode)
	}
	var p web.Problem
	json.NewDecoder(resp.Body).Decode(&p)
	if p.Line != 3 || p.Field != "event.category" || p.Type != web.TypeValidation {
		t.Errorf("problem = %+v, want line 3, field event.category, type validation", p)
	}
	if st, _ := e.node.Store.LogState(t.Context(), "activity"); st.Size != 0 {
		t.Errorf("log size = %d after a rejected batch, want 0", st.Size)
	}
}

func TestIngestReplyAndTiles(t *testing.T) {
	e := newEnv(t)
	var lines []string
	for i := range 300 {
		lines = append(lines, line(i))
	}
	resp := e.do(t, "POST", "/v1/events", e.feed, strings.Join(lines, "\n"))
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status = %d: %s", resp.StatusCode, b)
	}
	var r web.IngestReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Accepted != 300 || *r.FirstIndex != 0 || *r.LastIndex != 299 || len(r.IDs) != 300 || r.TreeSize != 300 {
		t.Fatalf("reply = accepted %d, range %d-%d, %d ids, size %d; want 300, 0-299, 300, 300", r.Accepted, *r.FirstIndex, *r.LastIndex, len(r.IDs), r.TreeSize)
	}
	if err := e.node.PublishAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want int
		size int
	}{
		{"/log/activity/tile/0/000", 200, 256 * 32},
		{"/log/activity/tile/0/001.p/44", 200, 44 * 32},
		{"/log/activity/tile/0/001.p/45", 404, 0},
		{"/log/activity/tile/0/001", 404, 0},
		{"/log/activity/tile/1/000.p/1", 200, 32},
		{"/log/activity/tile/entries/001.p/44", 200, -1},
		{"/log/activity/tile/0/1", 404, 0},
		{"/log/activity/tile/0/000.p/0", 404, 0},
		{"/log/nope/checkpoint", 404, 0},
		{"/v1/nothing", 404, 0},
	} {
		resp := e.do(t, "GET", c.path, "", "")
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.want || (c.size >= 0 && c.want == 200 && len(b) != c.size) {
			t.Errorf("GET %s = %d with %d bytes, want %d with %d", c.path, resp.StatusCode, len(b), c.want, c.size)
		}
		if c.size == -1 {
			leaves, err := tlog.ParseEntryBundle(b)
			if err != nil || len(leaves) != 44 {
				t.Errorf("entry bundle: %d leaves, %v; want 44", len(leaves), err)
			}
		}
	}
	resp = e.do(t, "GET", "/log/activity/checkpoint", "", "")
	note, _ := io.ReadAll(resp.Body)
	c, err := tlog.OpenCheckpoint(note, e.node.Logs["activity"].VerifierKey)
	if err != nil || c.Size != 300 {
		t.Fatalf("checkpoint = %+v, %v; want size 300", c, err)
	}

	// The checkpoints published, a page at a time.
	for _, p := range []struct {
		query string
		sizes []uint64
	}{
		{"", []uint64{0, 300}}, {"?from=1", []uint64{300}}, {"?limit=1", []uint64{0}},
		{"?from=300&limit=1000", []uint64{300}}, {"?from=301", []uint64{}}, {"?from=18446744073709551615", []uint64{}},
	} {
		resp := e.do(t, "GET", "/log/activity/checkpoints"+p.query, "", "")
		var page tlog.PublishedCheckpoints
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("checkpoints%s = %d, %v", p.query, resp.StatusCode, err)
		}
		sizes := []uint64{}
		for _, c := range page.Checkpoints {
			sizes = append(sizes, c.Size)
			if _, err := tlog.OpenCheckpoint([]byte(c.Note), e.node.Logs["activity"].VerifierKey); err != nil {
				t.Errorf("published checkpoint of size %d: %v", c.Size, err)
			}
		}
		if !slices.Equal(sizes, p.sizes) {
			t.Errorf("checkpoints%s = sizes %v, want %v", p.query, sizes, p.sizes)
		}
	}
	for _, bad := range []string{"?from=-1", "?from=x", "?limit=0", "?limit=1001", "?limit=x"} {
		if resp := e.do(t, "GET", "/log/activity/checkpoints"+bad, "", ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("checkpoints%s = %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp := e.do(t, "GET", "/log/nope/checkpoints", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("checkpoints of no log = %d, want 404", resp.StatusCode)
	}
}

func TestIngestLimits(t *testing.T) {
	e := newEnv(t)
	big := bytes.Repeat([]byte(line(1)+"\n"), (1<<20)/len(line(1))+10)
	resp := e.do(t, "POST", "/v1/events", e.feed, string(big))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit = %d, want 413", resp.StatusCode)
	}
	if st, _ := e.node.Store.LogState(t.Context(), "activity"); st.Size != 0 {
		t.Errorf("log size = %d after an over-size request, want 0", st.Size)
	}
}

func TestTransparencyLogsAndMetrics(t *testing.T) {
	e := newEnv(t)
	resp := e.do(t, "GET", "/v1/transparency-logs", "", "")
	var out struct {
		Logs []web.LogInfo `json:"logs"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if len(out.Logs) != 2 || out.Logs[0].Origin != "lbm.local/activity" || !strings.HasPrefix(out.Logs[0].VerifierKey, "lbm.local/activity+") {
		t.Errorf("transparency logs = %+v", out.Logs)
	}
	if resp := e.do(t, "GET", "/metrics", e.admin, ""); resp.StatusCode != 200 {
		t.Errorf("metrics with admin token = %d, want 200", resp.StatusCode)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp := e.do(t, "GET", p, "", ""); resp.StatusCode != 200 {
			t.Errorf("GET %s = %d, want 200", p, resp.StatusCode)
		}
	}
}

// TestUnguardedListener checks the admin listener's exception is exactly
// what it names: /metrics without a token there, nothing else opened.
func TestUnguardedListener(t *testing.T) {
	e := newEnv(t)
	cfg := server.WebConfig(e.node)
	cfg.Logs, cfg.Metrics, cfg.Unguarded = nil, fakeMetrics, []string{"metrics.read"}
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin := httptest.NewServer(h)
	t.Cleanup(admin.Close)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/metrics", http.StatusOK},
		{"POST", "/v1/events", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), c.method, admin.URL+c.path, strings.NewReader(line(1)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s without a token on the admin listener = %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
}
