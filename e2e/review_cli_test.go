package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
)

// TestReviewCLI drives the review flow through the CLI against the real
// server, on each engine: with a confidential channel configured, an
// authorised investigator queries sam's e-mail (the correspondent is a
// pseudonym, the mail to the solicitor held back), exports an evidence
// bundle that lbm verify bundle accepts and rejects once a byte changes,
// and fetches a receipt that lbm verify receipt accepts offline.
func TestReviewCLI(t *testing.T) {
	forEachEngine(t, testReviewCLI)
}

func testReviewCLI(t *testing.T, e engine) {
	st := e.newStore(t)
	dir := t.TempDir()
	lbmOK(t, nil, append([]string{"user", "add", "--id", "sam", "--role", "staff", "--rank", "constable"}, st.flags()...)...)
	ivy := strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", "ivy", "--role", "investigator", "--rank", "sergeant", "--token"}, st.flags()...)...).stdout)
	sue := strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", "sue", "--role", "authoriser", "--rank", "superintendent", "--token"}, st.flags()...)...).stdout)
	secret := enrolSecondFactor(t, st, "sue")
	feed := addSource(t, st, "exchange")
	if err := os.WriteFile(filepath.Join(st.data, "confidential.yaml"),
		[]byte("channels:\n  - kind: legal_privilege\n    name: Force Solicitor\n    addresses: [legal@police.example]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, st)
	as := func(token string, extra ...string) []string {
		return append([]string{"LBM_SERVER=" + srv.URL, "LBM_TOKEN=" + token}, extra...)
	}

	now := time.Now().UTC()
	day := now.AddDate(0, 0, -10).Format(time.RFC3339)
	events := filepath.Join(dir, "mail.ndjson")
	mail := fmt.Sprintf(`{"@timestamp":%q,"event":{"id":"m1","category":"email","action":"send"},"user":{"id":"sam"},"email":{"to":{"address":["una@police.example"]}},"related":{"user":["una"]},"content":{"body":"the address is flat 4"}}
{"@timestamp":%q,"event":{"id":"m2","category":"email","action":"send"},"user":{"id":"sam"},"email":{"to":{"address":["legal@police.example"]}},"content":{"body":"advice on my hearing"}}
`, day, day)
	if err := os.WriteFile(events, []byte(mail), 0o600); err != nil {
		t.Fatal(err)
	}
	lbmOK(t, []string{"LBM_TOKEN=" + feed}, "ingest", events, "--server", srv.URL, "--quiet")

	req := strings.NewReplacer("{from}", now.AddDate(0, -2, 0).Format(time.RFC3339), "{to}", now.AddDate(0, 0, -1).Format(time.RFC3339)).Replace(urgentRequestJSON)
	req = regexp.MustCompile(`"urgent": \{[^}]*\}`).ReplaceAllString(req, `"urgent": {"urgent": false}`)
	reqFile, viewsFile := filepath.Join(dir, "request.json"), filepath.Join(dir, "views.json")
	os.WriteFile(reqFile, []byte(req), 0o600)
	os.WriteFile(viewsFile, []byte(urgentViewsJSON), 0o600)
	id := parseRequest(t, lbmOK(t, as(ivy), "request", "create", reqFile, "--json").stdout).ID
	lbmOK(t, as(ivy), "request", "submit", id)
	lbmOK(t, as(sue, "LBM_OTP="+identity.TOTPCode(secret, time.Now())), "request", "decide", id, "--authorise",
		"--reasons", "Authorised: the witness's account makes this look necessary and no gentler way would answer it.", "--views", viewsFile)

	const why = "Checking whether the officer sent the witness's address to anyone outside the force."
	out := lbmOK(t, as(ivy), "request", "query", id, "--justification", why, "--content").stdout
	if !strings.Contains(out, "flat 4") || !strings.Contains(out, "(pseudonym)") || strings.Contains(out, "una") ||
		strings.Contains(out, "advice on my hearing") || !strings.Contains(out, "held back as confidential (legal_privilege: Force Solicitor)") {
		t.Errorf("lbm request query printed\n%s", out)
	}
	// A subject out of scope is refused, and says the attempt is recorded.
	if r := lbm(t, as(ivy), "request", "query", id, "--justification", why, "--subject", "una"); r.code == 0 || !strings.Contains(r.stderr, "recorded") {
		t.Errorf("an out-of-scope query: %v", r)
	}

	bundle := filepath.Join(dir, "bundle.zip")
	out = lbmOK(t, as(ivy), "request", "export", id, "--justification", why, "--content",
		"--recipient", "Misconduct hearing panel", "--purpose", "evidence for the hearing", "-o", bundle).stdout
	m := regexp.MustCompile(`oversight-log index (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("lbm request export printed %q", out)
	}
	if r := lbmOK(t, nil, "verify", "bundle", bundle); !strings.Contains(r.stdout, "OK: ") {
		t.Errorf("verify bundle: %v", r)
	}
	zb, _ := os.ReadFile(bundle)
	zb[len(zb)/2] ^= 1
	broken := filepath.Join(dir, "broken.zip")
	os.WriteFile(broken, zb, 0o600)
	if r := lbm(t, nil, "verify", "bundle", broken); r.code == 0 || !strings.Contains(r.stdout, "FAIL: ") {
		t.Errorf("verify of a changed bundle: %v", r)
	}

	receipt := filepath.Join(dir, "receipt.json")
	lbmOK(t, as(ivy), "request", "receipt", m[1], "-o", receipt)
	if r := lbmOK(t, nil, "verify", "receipt", receipt); !strings.Contains(r.stdout, "OK: access record "+m[1]+" (review_export) by ivy") {
		t.Errorf("verify receipt: %v", r)
	}
	// Another person's receipt is not theirs to fetch.
	if r := lbm(t, as(sue), "request", "receipt", m[1]); r.code == 0 {
		t.Errorf("sue fetched ivy's receipt: %v", r)
	}
}
