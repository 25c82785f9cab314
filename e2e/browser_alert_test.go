package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The "Detect" story: the built-in rules flag an officer's repeated
// refused look-ups; the alert reaches an anti-corruption investigator
// naming only a pseudonym; she asks for authorisation from it; a
// Superintendent authorises it; only then, and with her reason recorded,
// does she see who it is; and the inspectorate finds that look in the
// access log.

// refusedLookups are n refused PNC look-ups of one record by user, a
// minute apart, ending a day ago.
func refusedLookups(user string, n int) []byte {
	var b strings.Builder
	end := time.Now().UTC().AddDate(0, 0, -1).Truncate(time.Minute)
	for i := range n {
		at := end.Add(time.Duration(i-n) * time.Minute)
		fmt.Fprintf(&b, `{"@timestamp":%q,"event":{"category":"record_query","action":"pnc_person_search","outcome":"failure","reason":"restricted record"},`+
			`"user":{"id":%q},"record":{"system":"PNC","type":"person","id":"PNC-0042"},"content":{"query":"HOLLOWAY JANE"}}`+"\n", at.Format(time.RFC3339), user)
	}
	return []byte(b.String())
}

// TestBrowserAlertRevealedUnderAuthorisation: Ivy, an investigator,
// triages an alert about a pseudonym, requests authorisation from it,
// and once Sunil has authorised it learns who it is; Olive reads the
// reveal in the access log.
func TestBrowserAlertRevealedUnderAuthorisation(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.importDirectory(`id,name,unit,manager,rank,roles,adviser
inv2,Ivy Stone,Anti-Corruption Command,,sergeant,investigator,
sup1,Sunil Patel,Anti-Corruption Command,,superintendent,authoriser,
ovr1,Olive Reed,Inspectorate,,,oversight,
stf1,Tom Baker,Response Team 3,stf9,constable,staff,
stf9,Rita Moss,Response Team 3,,inspector,investigator,
`)
	token := func(id, role, rank string) string {
		t.Helper()
		return strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", id, "--role", role, "--rank", rank, "--token"}, s.st.flags()...)...).stdout)
	}
	ivyToken, sunilToken := token("inv2", "investigator", "sergeant"), token("sup1", "authoriser", "superintendent")
	ritaToken := token("stf9", "investigator", "inspector")
	if status, body, _, err := post(t.Context(), s.srv.URL, addSource(t, s.st, "pnc"), refusedLookups("stf1", 12)); err != nil || status != 200 {
		t.Fatalf("ingesting = %d %s %v", status, body, err)
	}

	// Detection runs beside ingest: wait for the alert through the API.
	var alertID, pseudonym string
	for deadline := time.Now().Add(30 * time.Second); alertID == "" && time.Now().Before(deadline); {
		status, out := apiCall(t, "GET", s.srv.URL+"/v1/alerts", ivyToken, "", "")
		if status != http.StatusOK {
			t.Fatalf("listing alerts = %d %v", status, out)
		}
		if list, _ := out["alerts"].([]any); len(list) > 0 {
			a, _ := list[0].(map[string]any)
			alertID, _ = a["id"].(string)
			pseudonym, _ = a["pseudonym"].(string)
		} else {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if alertID == "" || !strings.HasPrefix(pseudonym, "subject-") {
		t.Fatalf("no alert about the refused look-ups within 30 s (id %q, pseudonym %q)", alertID, pseudonym)
	}
	// Tom's line manager never sees it.
	if status, out := apiCall(t, "GET", s.srv.URL+"/v1/alerts", ritaToken, "", ""); status != 200 || len(out["alerts"].([]any)) != 0 {
		t.Errorf("Tom's line manager's alerts = %d %v, want none", status, out)
	}

	b := newBrowser(t, s.srv.URL)
	sunil := setUpAccount(b, s, "sup1", "sunil's long passphrase")
	ivy := setUpAccount(b, s, "inv2", "ivy's long passphrase")
	olive := setUpAccount(b, s, "ovr1", "olive's long passphrase")
	hidden := func(where, text string) {
		t.Helper()
		for _, name := range []string{"stf1", "Tom Baker", "Response Team 3", "HOLLOWAY"} {
			if strings.Contains(text, name) {
				t.Errorf("%s names %q:\n%s", where, name, text)
			}
		}
	}

	// The queue shows the alert by its pseudonym alone.
	wantPage(t, b.signIn(ivy), "/", "Home")
	v := b.press(`nav a[href="/alerts"]`)
	wantPage(t, v, "/alerts", "Alerts")
	if !strings.Contains(b.text("#alerts"), pseudonym) {
		t.Errorf("the queue does not show %s:\n%s", pseudonym, b.text("#alerts"))
	}
	hidden("the queue", v.Main)
	b.review("alerts")
	v = b.press(`#alerts a[href="/alerts/` + alertID + `"]`)
	if !strings.Contains(v.Main, pseudonym) || !b.has("#alert-events") {
		t.Fatalf("the alert page lacks the pseudonym or the evidence:\n%s", v.Main)
	}
	hidden("the alert page", v.Main)
	if b.has("form#reveal") {
		t.Error("the alert offers a reveal before any request")
	}
	b.review("alert")

	// A note, then a request for authorisation from the alert.
	b.setText("text", "Twelve refused look-ups of one restricted record in twelve minutes; no linked case found.")
	v = b.press(`form#add-note button[type=submit]`)
	if !strings.Contains(b.text("#alert-notes"), "no linked case found") {
		t.Errorf("the note is not shown:\n%s", v.Main)
	}
	v = b.press(`#request-authorisation`)
	m := requestPathRE.FindStringSubmatch(v.Path)
	if m == nil {
		t.Fatalf("requesting authorisation went to %s (%q), want the drafted request", v.Path, v.H1)
	}
	requestID := m[1]
	if !strings.Contains(v.Main, pseudonym) {
		t.Errorf("the drafted request does not name the subject by the pseudonym:\n%s", v.Main)
	}
	hidden("the drafted request", v.Main)

	// Ivy completes and submits the draft (through the API, as the request
	// story drives the pages); Sunil authorises it.
	now := time.Now().UTC()
	body := strings.NewReplacer("{from}", now.AddDate(0, 0, -7).Format(time.RFC3339), "{to}", now.Format(time.RFC3339),
		`"subjects": ["stf1"], "investigators": ["inv1"]`, `"subjects": [], "investigators": ["inv2"]`).Replace(reviewRequestJSON)
	if status, r := apiCall(t, "PUT", s.srv.URL+"/v1/requests/"+requestID, ivyToken, "", body); status != 200 {
		t.Fatalf("completing the draft = %d %v", status, r)
	} else if subjects := fmt.Sprint(r["subjects"]); subjects != "["+pseudonym+"]" {
		t.Errorf("the draft's subjects as Ivy sees them = %s, want the pseudonym", subjects)
	}
	if status, r := apiCall(t, "POST", s.srv.URL+"/v1/requests/"+requestID+"/submit", ivyToken, "", "{}"); status != 200 {
		t.Fatalf("submitting = %d %v", status, r)
	}

	// Before the decision the reveal is refused, and the attempt recorded.
	v = b.open("/alerts/" + alertID)
	why := "To interview the officer who tried to open the restricted record twelve times, as the authorisation allows."
	b.setText("justification", why)
	v = b.press(`form#reveal button[type=submit]`)
	if v.Status != http.StatusForbidden || b.has("#identity") {
		t.Errorf("a reveal before the decision: status %d, identity shown %v", v.Status, b.has("#identity"))
	}

	if status, r := apiCall(t, "POST", s.srv.URL+"/v1/requests/"+requestID+"/decision", sunilToken, sunil.code(t), reviewDecisionJSON); status != 200 || r["state"] != "active" {
		t.Fatalf("authorising = %d %v", status, r)
	}

	v = b.open("/alerts/" + alertID)
	b.setText("justification", why)
	v = b.press(`form#reveal button[type=submit]`)
	if v.Status != http.StatusOK || !b.has("#identity") {
		t.Fatalf("the reveal under the authorisation: status %d, page:\n%s", v.Status, v.Main)
	}
	if got := b.text("#identity-name"); got != "Tom Baker (stf1)" {
		t.Errorf("revealed %q, want Tom Baker (stf1)", got)
	}
	if !strings.Contains(b.text("#identity"), "access record") {
		t.Errorf("the reveal does not say it was recorded:\n%s", b.text("#identity"))
	}
	b.review("alert-revealed")
	b.signOut()

	// Olive finds the reveal, with Ivy's reason, in the access log.
	wantPage(t, b.signIn(olive), "/", "Home")
	v = b.open("/access-records?kind=reveal")
	wantPage(t, v, "/access-records?kind=reveal", "Access log")
	if log := b.text("#access-log"); !strings.Contains(log, why) || !strings.Contains(log, "Alert revealed") {
		t.Errorf("the access log does not show the reveal and its reason:\n%s", log)
	}
	v = b.open("/access-records?kind=refused")
	if !strings.Contains(strings.ToLower(v.Main), "reveal: the authorisation is not in force") {
		t.Errorf("the refused reveal is not in the access log:\n%s", v.Main)
	}

	// Her report of the last 30 days counts the request, the reveal, the
	// refused reveal and the alert, in charts with their tables.
	v = b.press(`nav a[href="/reports/oversight"]`)
	wantPage(t, v, "/reports/oversight", "Oversight report, "+time.Now().AddDate(0, 0, -29).In(london(t)).Format("2 January 2006")+
		" to "+time.Now().In(london(t)).Format("2 January 2006"))
	// The alerts: the refused look-ups', and the refused reveal's (the
	// watchers are watched too).
	for _, want := range []string{"Requests submitted 1: 1 authorised", "Refused attempts 1", "Alerts raised 3: new 2, referred 1", "Accesses under authorisations 1 over 1"} {
		if got := strings.Join(strings.Fields(b.text("dl.govuk-summary-list")), " "); !strings.Contains(got, want) {
			t.Errorf("the report's summary lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(v.Main, "Unit"); !b.has(`figure svg[role="img"] title`) || n < 3 {
		t.Errorf("the report has no labelled charts with their tables:\n%s", v.Main)
	}
	b.review("oversight-report")
	v = b.open("/reports/oversight?from=2026-13-01")
	if v.Status != http.StatusBadRequest || !b.has(".govuk-error-summary") || b.has("figure svg") {
		t.Errorf("a wrong date: status %d, error summary %v", v.Status, b.has(".govuk-error-summary"))
	}
}

// london is the time zone the pages write dates in.
func london(t *testing.T) *time.Location {
	t.Helper()
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return l
}
