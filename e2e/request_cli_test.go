package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

// testClockBin is lbm built with the lbmtestclock tag: its clock can be
// moved forward through a file. Production builds have no such clock.
var (
	testClockOnce sync.Once
	testClockBin  string
	testClockErr  error
)

func buildTestClockBin(t *testing.T) string {
	t.Helper()
	testClockOnce.Do(func() {
		testClockBin = filepath.Join(tmpRoot, "lbm-testclock")
		args := []string{"build", "-tags", "lbmtestclock", "-o", testClockBin}
		if *raceBuild {
			args = append(args, "-race")
		}
		out, err := exec.Command(goTool(), append(args, "github.com/lbm-project/lbm/cmd/lbm")...).CombinedOutput()
		if err != nil {
			testClockErr = fmt.Errorf("building lbm with the test clock: %v\n%s", err, out)
		}
	})
	if testClockErr != nil {
		t.Fatal(testClockErr)
	}
	return testClockBin
}

// requestState is what `lbm request show --json` says of a request.
type requestState struct {
	ID           string    `json:"id"`
	Reference    string    `json:"reference"`
	State        string    `json:"state"`
	RatifyBy     time.Time `json:"ratify_by"`
	AuthorisedAt time.Time `json:"authorised_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	History      []struct {
		Action         string `json:"action"`
		Actor          string `json:"actor"`
		OversightIndex uint64 `json:"oversight_index"`
	} `json:"history"`
}

// parseRequest reads a request from the CLI's JSON: the request itself,
// or GET /v1/requests/{id}'s {"request": …}.
func parseRequest(t *testing.T, out string) requestState {
	t.Helper()
	var wrapped struct {
		Request *requestState `json:"request"`
	}
	if err := json.Unmarshal([]byte(out), &wrapped); err == nil && wrapped.Request != nil {
		return *wrapped.Request
	}
	var r requestState
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.ID == "" {
		t.Fatalf("not a request: %v\n%s", err, out)
	}
	return r
}

// TestUrgentAuthorisationLapsesCLI drives the urgent route through the
// CLI against a real server: an investigator drafts and submits a request
// that needs a Superintendent, asking for the urgent route; an Inspector
// authorises it with a second factor; nobody ratifies it. One minute
// before 72 hours it is still in force; at 72 hours the server's sweeper
// records the lapse (as lbm, with an oversight leaf) and the request is
// expired. The server is the lbmtestclock build, whose clock the test
// moves forward through a file.
func TestUrgentAuthorisationLapsesCLI(t *testing.T) {
	forEachEngine(t, testUrgentAuthorisationLapsesCLI)
}

func testUrgentAuthorisationLapsesCLI(t *testing.T, e engine) {
	bin := buildTestClockBin(t)
	st := e.newStore(t)
	dir := t.TempDir()
	// People: an investigator, the subject, an Inspector who authorises.
	lbmOK(t, nil, append([]string{"user", "add", "--id", "sam", "--role", "staff", "--rank", "constable"}, st.flags()...)...)
	ivy := strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", "ivy", "--role", "investigator", "--rank", "sergeant", "--token"}, st.flags()...)...).stdout)
	ina := strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", "ina", "--role", "authoriser", "--rank", "inspector", "--token"}, st.flags()...)...).stdout)
	secret := enrolSecondFactor(t, st, "ina")

	clock := filepath.Join(dir, "clock")
	setClock := func(d time.Duration) {
		t.Helper()
		if err := os.WriteFile(clock, []byte(d.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setClock(0)
	srv := startServerOf(t, bin, []string{"LBM_TEST_CLOCK_FILE=" + clock}, st)
	as := func(token string, extra ...string) []string {
		return append([]string{"LBM_SERVER=" + srv.URL, "LBM_TOKEN=" + token}, extra...)
	}

	now := time.Now().UTC()
	req := strings.NewReplacer("{from}", now.AddDate(0, -2, 0).Format(time.RFC3339), "{to}", now.AddDate(0, 0, -1).Format(time.RFC3339)).Replace(urgentRequestJSON)
	reqFile := filepath.Join(dir, "request.json")
	viewsFile := filepath.Join(dir, "views.json")
	reasonsFile := filepath.Join(dir, "reasons.txt")
	for name, content := range map[string]string{reqFile: req, viewsFile: urgentViewsJSON,
		reasonsFile: "The threat to the witness is immediate, so I authorise this now on the urgent route pending ratification."} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	created := parseRequest(t, lbmOK(t, as(ivy), "request", "create", reqFile, "--json").stdout)
	if created.State != "draft" {
		t.Fatalf("created in state %s", created.State)
	}
	lbmOK(t, as(ivy), "request", "submit", created.ID)
	// Without a second factor the decision is refused, and nothing changes.
	if r := lbm(t, as(ina), "request", "decide", created.ID, "--authorise", "--reasons", "@"+reasonsFile, "--views", viewsFile); r.code == 0 ||
		!strings.Contains(r.stderr, "second factor") && !strings.Contains(r.stderr, "step-up") {
		t.Fatalf("decision without a second factor: %v", r)
	}
	r := lbmOK(t, as(ina, "LBM_OTP="+identity.TOTPCode(secret, time.Now())), "request", "decide", created.ID,
		"--authorise", "--reasons", "@"+reasonsFile, "--views", viewsFile)
	if !strings.Contains(r.stdout, "active") {
		t.Fatalf("urgent decision printed %q, want the request active", r.stdout)
	}
	shown := parseRequest(t, lbmOK(t, as(ivy), "request", "show", created.ID, "--json").stdout)
	if shown.State != "active" || shown.RatifyBy.IsZero() {
		t.Fatalf("after the urgent decision: %+v", shown)
	}
	if d := shown.RatifyBy.Sub(shown.AuthorisedAt); d != 72*time.Hour {
		t.Fatalf("ratify_by is %v after the decision, want 72h", d)
	}

	// A minute short of 72 hours it is still in force.
	setClock(72*time.Hour - time.Minute)
	time.Sleep(time.Second)
	if s := parseRequest(t, lbmOK(t, as(ivy), "request", "show", created.ID, "--json").stdout); s.State != "active" {
		t.Fatalf("a minute before the lapse the request is %s", s.State)
	}
	// At 72 hours the sweeper records the lapse.
	setClock(72*time.Hour + time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := parseRequest(t, lbmOK(t, as(ivy), "request", "show", created.ID, "--json").stdout)
		last := s.History[len(s.History)-1]
		if s.State == "expired" {
			if last.Action != "lapse" || last.Actor != "lbm" || last.OversightIndex == 0 {
				t.Fatalf("expired by %+v, want a lapse by lbm with an oversight leaf", last)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 seconds after 72 hours the request is still %s", s.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// An expired authorisation cannot be ratified back to life.
	if r := lbm(t, as(ina, "LBM_OTP="+identity.TOTPCode(secret, time.Now().Add(72*time.Hour+time.Second))), "request", "ratify", created.ID,
		"--reasons", "@"+reasonsFile); r.code == 0 {
		t.Fatalf("ratifying a lapsed authorisation succeeded: %v", r)
	}
}

// enrolSecondFactor gives person a TOTP secret in the store, as the
// set-up link would, and returns it.
func enrolSecondFactor(t *testing.T, st lbmStore, person string) []byte {
	t.Helper()
	n, err := server.Open(t.Context(), server.Config{DataDir: st.data, DB: st.db, MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	secret := identity.NewTOTPSecret()
	sealed, err := identity.SealTOTP(n.KEK, person, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Store.PutCredential(t.Context(), store.Credential{Person: person, TOTPSecret: sealed, Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return secret
}

const urgentRequestJSON = `{
 "subjects": ["sam"], "investigators": ["ivy"],
 "categories": [{"category": "email", "content": true}],
 "mode": "review", "window": {"from": "{from}", "to": "{to}"},
 "purpose": "PREVENT_DETECT_CRIME", "investigation": "misconduct",
 "operation": {"name": "Harbour", "reference": "OP-91"}, "dpia_reference": "DPIA-2026-07",
 "necessity": "A witness reports the subject searched her address and sent it to a private account yesterday.",
 "criteria": {
  "NOTICE": "The subject acknowledged the monitoring notice covering e-mail when joining the custody unit.",
  "EXTENT": "Only e-mail content for the two months before the report, no other categories are asked for.",
  "LEGITIMATE_REASON": "Disclosing a witness's address for a personal purpose would be gross misconduct and a crime.",
  "LESS_INTRUSIVE": "The mail gateway summary shows a message left but not to whom or with what attachment.",
  "CONSEQUENCES": "A hearing may follow; unrelated personal mail found along the way is neither read nor kept.",
  "SAFEGUARDS": "One named investigator, pseudonyms for everyone else, results sealed in the case file.",
  "REMEDY": "The subject can challenge the evidence at the hearing and complain to the IOPC about its use."
 },
 "collateral": {"level": "low", "explanation": "Correspondents of the subject appear only as pseudonyms unless they are the witness."},
 "confidential": {"kinds": []},
 "urgent": {"urgent": true, "why": "The witness is at risk tonight; waiting for a Superintendent on Monday could let harm happen."}
}`

const urgentViewsJSON = `{
 "NOTICE": "Notice acknowledged for e-mail, so the subject knew such a review was possible in principle.",
 "EXTENT": "Two months of one category is narrow for what the witness describes happening recently.",
 "LEGITIMATE_REASON": "Protecting a witness from a leak of her address is plainly a legitimate and pressing aim.",
 "LESS_INTRUSIVE": "The gateway summary cannot show the recipient, so there is no gentler way to answer this.",
 "CONSEQUENCES": "Serious for the subject if proven; personal mail is protected by the stated handling rules.",
 "SAFEGUARDS": "A single investigator and pseudonyms are proportionate safeguards for an urgent look like this.",
 "REMEDY": "The hearing and the IOPC remain open to the subject, and the lapse rule limits the urgent period."
}`
