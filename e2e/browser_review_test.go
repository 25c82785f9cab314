package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The "Look at the data" story: an investigator named on an authorisation
// in force opens its review page, is refused a search without a real
// justification, searches with one, sees the subject's event with the
// other person in it pseudonymised, and finds the search among the
// receipts; the inspectorate reads the justification in the access log.

// reviewRequestJSON is a review of stf1's record queries and e-mail by
// inv1, in the two months before the test.
const reviewRequestJSON = `{
 "subjects": ["stf1"], "investigators": ["inv1"],
 "categories": [{"category": "record_query", "content": false}, {"category": "email", "content": true}],
 "mode": "review", "window": {"from": "{from}", "to": "{to}"},
 "purpose": "PREVENT_DETECT_CRIME", "investigation": "misconduct",
 "operation": {"name": "Kestrel", "reference": "PSD-2026-114"}, "dpia_reference": "DPIA-2026-03",
 "necessity": "A member of the public reports that the officer knew her new address days after she moved; only police systems held it.",
 "criteria": {
  "NOTICE": "The officer acknowledged the monitoring notice covering record queries and e-mail when it was published.",
  "EXTENT": "Record lookups and e-mail for two months, with content only where a message names the address or the complainant.",
  "LEGITIMATE_REASON": "Using police systems to trace a former partner would be gross misconduct and possibly an offence.",
  "LESS_INTRUSIVE": "The system's own audit shows a lookup happened but not its purpose; asking the officer first would warn them.",
  "CONSEQUENCES": "A misconduct meeting or hearing may follow; private correspondence unrelated to the address is neither read nor kept.",
  "SAFEGUARDS": "Two named investigators, everyone else pseudonymised, results held in the professional standards case file only.",
  "REMEDY": "The officer sees the evidence before any hearing, may challenge it there, and may complain to the IOPC."
 },
 "collateral": {"level": "low", "explanation": "The complainant's own record shows in the lookups; no other colleague's activity is examined."},
 "confidential": {"kinds": []}, "urgent": {"urgent": false}
}`

const reviewDecisionJSON = `{"authorise": true, "directly_involved": false,
 "reasons": "The complainant's account is specific and only police systems held the address, so a short focused review is justified.",
 "views": {
  "NOTICE": "The officer acknowledged the notice covering both categories; monitoring of this kind was foreseeable.",
  "EXTENT": "Two months, with content only where the address appears, is as narrow as the question allows.",
  "LEGITIMATE_REASON": "Protecting a member of the public from misuse of police data is a pressing and legitimate aim.",
  "LESS_INTRUSIVE": "I agree the audit summary cannot show purpose and that asking first would defeat the inquiry.",
  "CONSEQUENCES": "Serious for the officer if proven; the handling rules keep private matters out of the file.",
  "SAFEGUARDS": "Named investigators and pseudonyms for others are proportionate to what is being examined.",
  "REMEDY": "The officer keeps every route of challenge, at the hearing and to the IOPC, as the request says."
 }}`

// apiCall sends a JSON body to the API with token (and a second-factor
// code when otp is set) and decodes the answer.
func apiCall(t *testing.T, method, url, token, otp, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if otp != "" {
		req.Header.Set("LBM-OTP", otp)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s = %d, not JSON: %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// TestBrowserReview: Ian, an investigator named on an authorisation in
// force, opens it, looks at the data and checks his receipts; Olive, of
// the inspectorate, reads why he looked.
func TestBrowserReview(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.importDirectory(`id,name,unit,manager,rank,roles,adviser
inv1,Ian Vale,Anti-Corruption Command,,sergeant,investigator,
sup1,Sunil Patel,Anti-Corruption Command,,superintendent,authoriser,
ovr1,Olive Reed,Inspectorate,,,oversight,
stf1,Tom Baker,Response Team 3,,constable,staff,
nbr1,Nina Brook,Response Team 3,,constable,staff,
`)
	token := func(id, role, rank string) string {
		t.Helper()
		return strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", id, "--role", role, "--rank", rank, "--token"}, s.st.flags()...)...).stdout)
	}
	ianToken, sunilToken := token("inv1", "investigator", "sergeant"), token("sup1", "authoriser", "superintendent")

	// A lookup by Tom that names Nina, who is no subject.
	now := time.Now().UTC()
	line := `{"@timestamp":"` + now.AddDate(0, 0, -5).Format(time.RFC3339) + `","event":{"category":"record_query","action":"pnc_person_search"},` +
		`"user":{"id":"stf1"},"related":{"user":["nbr1"]},"content":{"query":"HOLLOWAY ROAD"}}` + "\n"
	if status, body, _, err := post(t.Context(), s.srv.URL, addSource(t, s.st, "pnc"), []byte(line)); err != nil || status != 200 {
		t.Fatalf("ingesting = %d %s %v", status, body, err)
	}

	b := newBrowser(t, s.srv.URL)
	sunil := setUpAccount(b, s, "sup1", "sunil's long passphrase")
	ian := setUpAccount(b, s, "inv1", "ian's long passphrase")
	olive := setUpAccount(b, s, "ovr1", "olive's long passphrase")

	// The request, as the API makes it: Ian drafts and submits it, Sunil
	// authorises it with a fresh code.
	body := strings.NewReplacer("{from}", now.AddDate(0, -2, 0).Format(time.RFC3339), "{to}", now.AddDate(0, 0, -1).Format(time.RFC3339)).Replace(reviewRequestJSON)
	status, created := apiCall(t, "POST", s.srv.URL+"/v1/requests", ianToken, "", body)
	if status != http.StatusCreated {
		t.Fatalf("creating the request = %d %v", status, created)
	}
	id, _ := created["id"].(string)
	if status, r := apiCall(t, "POST", s.srv.URL+"/v1/requests/"+id+"/submit", ianToken, "", "{}"); status != 200 {
		t.Fatalf("submitting = %d %v", status, r)
	}
	if status, r := apiCall(t, "POST", s.srv.URL+"/v1/requests/"+id+"/decision", sunilToken, sunil.code(t), reviewDecisionJSON); status != 200 || r["state"] != "active" {
		t.Fatalf("authorising = %d %v", status, r)
	}
	page := "/requests/" + id
	data := page + "/data"

	// Ian opens the request and goes to its data.
	wantPage(t, b.signIn(ian), "/", "Home")
	v := b.open(page)
	if !strings.HasPrefix(v.H1, "Request ") {
		t.Fatalf("on %s (%q), want the request page", v.Path, v.H1)
	}
	v = b.press(`main a[href="` + data + `"]`)
	wantPage(t, v, data, "Look at the data")
	for _, want := range []string{"Tom Baker (stf1)", "E-mail, with content", "Every source", "PSD-2026-114"} {
		if !strings.Contains(b.text("#scope"), want) {
			t.Errorf("the scope banner lacks %q; it says:\n%s", want, b.text("#scope"))
		}
	}
	if b.has("#results") || strings.Contains(v.Main, "pnc_person_search") {
		t.Error("the review page shows data before any search")
	}
	b.review("review-data")

	// A one-word justification is refused, and nothing typed is lost.
	b.setText("justification", "Needed.")
	b.setText("from", now.AddDate(0, 0, -10).Format("2006-01-02"))
	v = b.press(`form#search button[type=submit]`)
	if v.Status != 400 || !slices.Contains(v.ErrorLinks, "#justification") {
		t.Errorf("a one-word justification: status %d, error links %q; want 400 linking to #justification", v.Status, v.ErrorLinks)
	}
	if got := act(b, "reading #from", chromedp.Value(chromedp.ID("from"))); got != now.AddDate(0, 0, -10).Format("2006-01-02") {
		t.Errorf("the refused search lost its from: %q", got)
	}

	// With a real one, Tom's lookup is shown, Nina only as a pseudonym.
	why := "The complainant says the officer knew her new address; checking which lookups he ran on it and when."
	b.setText("justification", why)
	v = b.press(`form#search button[type=submit]`)
	wantPage(t, v, data, "Look at the data")
	if v.Status != 200 || !b.has("#results") {
		t.Fatalf("the search: status %d, errors %q; page says:\n%s", v.Status, v.ErrorSummary, v.Main)
	}
	results := b.text("main table")
	if !strings.Contains(results, "pnc_person_search") || !strings.Contains(results, "person-") || !strings.Contains(results, "pseudonym") {
		t.Errorf("the results do not show the lookup with a pseudonym:\n%s", results)
	}
	if strings.Contains(v.Main, "nbr1") || strings.Contains(v.Main, "Nina Brook") || strings.Contains(v.Main, "HOLLOWAY") {
		t.Errorf("the results name Nina or show content not asked for:\n%s", v.Main)
	}
	if !b.has(`form#export-form`) {
		t.Error("the results offer no export")
	}
	b.review("review-results")

	// The search is among his receipts, with its receipt to download.
	v = b.press(`nav a[href="/receipts"]`)
	wantPage(t, v, "/receipts", "Your receipts")
	if got := b.column("#receipts", 3); !slices.Equal(got, []string{"Search"}) {
		t.Errorf("the receipts list %q, want one search", got)
	}
	if !b.has(`#receipts a[href^="/v1/receipts/"]`) || !strings.Contains(v.Main, "lbm verify receipt FILE") {
		t.Error("the receipts page offers no receipt to download, or does not say how to check it")
	}
	b.review("receipts")
	b.signOut()

	// Olive reads why he looked, and the refused attempts (none: a thin
	// justification is not an attempt).
	wantPage(t, b.signIn(olive), "/", "Home")
	v = b.press(`nav a[href="/access-records"]`)
	wantPage(t, v, "/access-records", "Access log")
	if !strings.Contains(b.text("#access-log"), why) {
		t.Errorf("the access log does not show the justification:\n%s", b.text("#access-log"))
	}
	b.review("access-log")
	v = b.press(`#kinds a[href="/access-records?kind=refused"]`)
	wantPage(t, v, "/access-records?kind=refused", "Refused attempts")
	if b.has("#access-log") {
		t.Errorf("refused attempts listed where none was made:\n%s", v.Main)
	}
}
