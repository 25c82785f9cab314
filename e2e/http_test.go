package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// problem is an RFC 9457 problem document as lbm sends it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Line   int    `json:"line"`
	Field  string `json:"field"`
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, method, url, token string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, b
}

// wantProblem checks that resp is a problem+json of the given status and type.
func wantProblem(t *testing.T, what string, resp *http.Response, body []byte, status int, typ string) problem {
	t.Helper()
	var p problem
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d (body %s)", what, resp.StatusCode, status, body)
		return p
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Errorf("%s: body %q is not JSON: %v", what, body, err)
		return p
	}
	if p.Status != status || p.Type != typ {
		t.Errorf("%s: problem %+v, want status %d type %s", what, p, status, typ)
	}
	return p
}

func TestBadInputOverHTTP(t *testing.T) {
	forEachEngine(t, testBadInputOverHTTP)
}

func testBadInputOverHTTP(t *testing.T, e engine) {
	st := e.newStore(t)
	srv := startServer(t, st)
	token := addSource(t, st, "pnc")
	adminToken, err := os.ReadFile(filepath.Join(st.data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	vkey := verifierKey(t, st.data)
	events := srv.URL + "/v1/events"
	db := openDB(t, st)
	defer db.close(t)
	// stored checks what the database itself holds, not what the server
	// says: every table with a row per entry has exactly want rows.
	stored := func(when string, want int) {
		t.Helper()
		for table, n := range db.countActivity(t, e.perEntry) {
			if n != want {
				t.Errorf("%s: %s holds %d activity rows, want %d", when, table, n, want)
			}
		}
	}

	line := func(n int, outcome string) string {
		return fmt.Sprintf(`{"@timestamp":"2026-11-02T08:00:0%d.000Z","event":{"id":"h-%d","category":"web","action":"browse","outcome":%q},"user":{"id":"u00001"}}`, n, n, outcome)
	}
	status, body, rep, err := post(t.Context(), srv.URL, token, []byte(line(0, "success")+"\n"))
	if err != nil || status != http.StatusOK || rep.Accepted != 1 {
		t.Fatalf("posting one good event: %d %s %v", status, body, err)
	}
	before := rep.TreeSize

	// Five lines, the third bad: the whole batch is refused, naming line 3
	// and its field.
	var bad []string
	for n := 1; n <= 5; n++ {
		outcome := "success"
		if n == 3 {
			outcome = "maybe"
		}
		bad = append(bad, line(n, outcome))
	}
	resp, b := do(t, http.MethodPost, events, token, strings.NewReader(strings.Join(bad, "\n")+"\n"))
	p := wantProblem(t, "a batch with line 3 bad", resp, b, http.StatusBadRequest, "urn:lbm:problem:validation")
	if p.Line != 3 || p.Field != "event.outcome" || !strings.HasPrefix(p.Detail, "line 3: event.outcome: ") {
		t.Errorf("a batch with line 3 bad: problem %+v, want line 3, field event.outcome", p)
	}
	if !bytes.Contains(b, []byte(`"line":3`)) {
		t.Errorf("a batch with line 3 bad: body %s lacks \"line\":3", b)
	}
	stored("after refusing a batch with line 3 bad", int(before))

	// Nothing of it was stored: its good lines are new when sent alone,
	// and the tree grew by exactly them.
	good := strings.Join([]string{bad[0], bad[1], bad[3], bad[4]}, "\n") + "\n"
	status, body, rep, err = post(t.Context(), srv.URL, token, []byte(good))
	if err != nil || status != http.StatusOK || rep.Accepted != 4 || rep.Duplicates != 0 || rep.TreeSize != before+4 {
		t.Errorf("posting the four good lines of the refused batch: %d %s %v; want 4 accepted, tree size %d", status, body, err, before+4)
	}
	srv.waitForSize(t, vkey, before+4)
	time.Sleep(1100 * time.Millisecond) // a checkpoint interval: nothing more is published
	if _, c := srv.checkpoint(t, vkey); c.Size != before+4 {
		t.Errorf("activity checkpoint size %d, want %d", c.Size, before+4)
	}

	// Who may post.
	resp, b = do(t, http.MethodPost, events, "", strings.NewReader(line(6, "success")+"\n"))
	wantProblem(t, "no token", resp, b, http.StatusUnauthorized, "urn:lbm:problem:unauthenticated")
	if got := resp.Header.Get("WWW-Authenticate"); got != `Bearer realm="lbm"` {
		t.Errorf("no token: WWW-Authenticate %q", got)
	}
	resp, b = do(t, http.MethodPost, events, "lbm_"+strings.Repeat("A", 43), strings.NewReader(line(6, "success")+"\n"))
	wantProblem(t, "an unknown token", resp, b, http.StatusUnauthorized, "urn:lbm:problem:unauthenticated")
	resp, b = do(t, http.MethodPost, events, strings.TrimSpace(string(adminToken)), strings.NewReader(line(6, "success")+"\n"))
	wantProblem(t, "the admin token", resp, b, http.StatusForbidden, "urn:lbm:problem:forbidden")

	// What does not exist.
	for _, path := range []string{"/log/nope/checkpoint", "/log/nope/tile/0/000.p/1", "/log/activity/tile/0/999", "/v1/nope"} {
		resp, b = do(t, http.MethodGet, srv.URL+path, "", nil)
		wantProblem(t, "GET "+path, resp, b, http.StatusNotFound, "urn:lbm:problem:not-found")
	}

	// A body over the server's 64 MiB limit. Blank lines are skipped by the
	// decoder, so only the limit can refuse this body.
	if testing.Short() {
		t.Log("skipping the 64 MiB body in -short mode")
	} else {
		const limit = 64 << 20
		resp, b = do(t, http.MethodPost, events, token, bytes.NewReader(bytes.Repeat([]byte("\n"), limit+1)))
		wantProblem(t, "a body over 64 MiB", resp, b, http.StatusRequestEntityTooLarge, "urn:lbm:problem:too-large")
		// Exactly at the limit is fine (and stores nothing).
		resp, b = do(t, http.MethodPost, events, token, bytes.NewReader(bytes.Repeat([]byte("\n"), limit)))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("a body of exactly 64 MiB of blank lines: %d %s", resp.StatusCode, b)
		}
	}

	// The other limits of docs/contract.md: lines of at most 1 MiB, at most
	// 100,000 events a request.
	long := line(8, "success") + "\n" + strings.Replace(line(9, "success"), `"user"`, `"x":"`+strings.Repeat("a", 1<<20)+`","user"`, 1) + "\n"
	resp, b = do(t, http.MethodPost, events, token, strings.NewReader(long))
	if p := wantProblem(t, "a line over 1 MiB", resp, b, http.StatusBadRequest, "urn:lbm:problem:validation"); p.Line != 2 {
		t.Errorf("a line over 1 MiB: problem %+v, want line 2", p)
	}
	var many bytes.Buffer
	for n := range 100_001 {
		fmt.Fprintf(&many, `{"@timestamp":"2026-11-02T08:00:00Z","event":{"id":"many-%d","category":"web","action":"browse"},"user":{"id":"u00001"}}`+"\n", n)
	}
	resp, b = do(t, http.MethodPost, events, token, &many)
	wantProblem(t, "100,001 events", resp, b, http.StatusRequestEntityTooLarge, "urn:lbm:problem:too-large")
	stored("after every refusal", int(before)+4)

	status, body, rep, err = post(t.Context(), srv.URL, token, []byte(line(7, "success")+"\n"))
	if err != nil || status != http.StatusOK || rep.TreeSize != before+5 {
		t.Errorf("posting after the refusals: %d %s %v; want tree size %d", status, body, err, before+5)
	}
	stored("at the end", int(before)+5)
	srv.stop()
	r := lbm(t, nil, verifyStore(st)...)
	if want := fmt.Sprintf("OK: activity log: %d entries,", before+5); r.code != 0 || !strings.HasPrefix(r.stdout, want) {
		t.Errorf("lbm verify store: %v\nwant %q", r, want)
	}
}
