package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/server"
)

const queryAnswer = `{"access_record":42,"events":[{"id":"0123456789abcdef0123456789abcdef","log":"activity-2","index":7,"time":"2026-10-05T10:00:00Z","source":"exchange",
	"fields":[{"name":"user.id","value":"u1"},{"name":"related.user","value":["person-abc"],"pseudonymised":true},{"name":"content.body","value":"\u001b[31mred\u202e"}]}],"next":"1.activity-2.7"}`

func TestRequestQuery(t *testing.T) {
	t.Setenv("LBM_TOKEN", testToken)
	srv := newFakeServer(t, cannedAnswer{200, queryAnswer})
	stdout, _, err := runLBM(t, "request", "query", "r1", "--server", srv.URL, "--justification", reasons,
		"--category", "email", "--content", "--from", "2026-10-01T00:00:00Z", "--limit", "10")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"access record 42 (lbm request receipt 42 proves it); 1 events", `related.user: ["person-abc"]  (pseudonym)`, "exchange  activity-2 index 7  id 0123456789abcdef0123456789abcdef", "more: --after 1.activity-2.7"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("printed\n%s\nwant %q", stdout, want)
		}
	}
	if strings.Contains(stdout, "\x1b") {
		t.Error("an escape sequence from the data reached the terminal")
	}
	got := srv.received()
	var body map[string]any
	if len(got) != 1 || got[0].Path != "/v1/requests/r1/queries" || json.Unmarshal([]byte(got[0].Body), &body) != nil ||
		body["justification"] != reasons || body["content"] != true || body["limit"] != 10.0 || body["from"] != "2026-10-01T00:00:00Z" {
		t.Errorf("sent %+v", got)
	}
	// No justification, no call.
	if _, _, err := runLBM(t, "request", "query", "r1", "--server", srv.URL); err == nil || len(srv.received()) != 1 {
		t.Errorf("a query without --justification = %v", err)
	}
}

func TestRequestExportRefusedLeavesNoFile(t *testing.T) {
	t.Setenv("LBM_TOKEN", testToken)
	srv := newFakeServer(t, cannedAnswer{403, `{"type":"urn:lbm:problem:out-of-scope","title":"Out of scope","status":403,"detail":"subjects: not a subject (this attempt is recorded)","field":"subjects"}`})
	dir := t.TempDir()
	out := filepath.Join(dir, "bundle.zip")
	_, _, err := runLBM(t, "request", "export", "r1", "--server", srv.URL, "--justification", reasons,
		"--recipient", "Hearing panel", "--purpose", "evidence", "--subject", "u9", "-o", out)
	if err == nil || !strings.Contains(err.Error(), "recorded") {
		t.Errorf("refused export = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused export left %v behind", entries)
	}
}

// TestVerifyReceipt fetches nothing: it checks a real receipt, made by a real
// node, offline, and the same receipt altered.
func TestVerifyReceipt(t *testing.T) {
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	idx, err := n.OversightAccess(ctx, "inv1", review.ActionQuery, map[string]any{"request": "r1", "results": 3}, map[string]string{"justification": "why"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := n.Review.Receipt(ctx, identity.Principal{Kind: identity.KindUser, Subject: "inv1"}, idx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rc)
	dir := t.TempDir()
	good := filepath.Join(dir, "receipt.json")
	os.WriteFile(good, b, 0o600)
	rc.Record.Index++
	b, _ = json.Marshal(rc)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, b, 0o600)

	out, _, err := runLBM(t, "verify", "receipt", good, "--key", n.Logs[server.Oversight].VerifierKey)
	if err != nil || !strings.Contains(out, "OK: access record 0 (review_query) by inv1") {
		t.Errorf("verify receipt = %v\n%s", err, out)
	}
	for _, args := range [][]string{{bad}, {good, "--key", n.Logs[server.Activity].VerifierKey}, {filepath.Join(dir, "none.json")}} {
		out, _, err := runLBM(t, append([]string{"verify", "receipt"}, args...)...)
		if err == nil || !strings.HasPrefix(out, "FAIL: ") {
			t.Errorf("verify receipt %v = %v\n%s", args, err, out)
		}
	}
}
