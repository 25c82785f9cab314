package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lbm-project/lbm/internal/evidence"
)

// The subject access story: a member of staff asks for their data on the
// Inform page; the DPO opens the request, sees what the log holds and
// that an investigation might be prejudiced (an authorisation about the
// officer is in force), withholds the e-mail on the crime ground and
// answers; the officer downloads a copy that verifies, holds only the
// rest, and, like their page, says nothing of the investigation.

// revealing are words and names the officer's page and copy must never
// hold once the investigation is under way, beyond what the page says to
// everyone (the monitoring notice mentions investigations in general).
var revealing = []string{"exempt", "withh", "authoris", "authoriz", "investigat", "prejudice", "crime", "schedule 2",
	"hold", "alert", "kestrel", "psd-2026-114", "inv1", "ian vale", "sunil", "inquiry", "complainant"}

// newlyRevealed returns the words of revealing (and extra) after holds
// more often than before, case ignored.
func newlyRevealed(before, after string, extra ...string) []string {
	before, after = strings.ToLower(before), strings.ToLower(after)
	var out []string
	for _, w := range append(append([]string{}, revealing...), extra...) {
		w = strings.ToLower(w)
		if strings.Count(after, w) > strings.Count(before, w) {
			out = append(out, w)
		}
	}
	return out
}

var sarPathRE = regexp.MustCompile(`/subject-access-requests/([0-9a-f]+)$`)

func TestBrowserSubjectAccess(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.importDirectory(`id,name,unit,manager,rank,roles,adviser
inv1,Ian Vale,Anti-Corruption Command,,sergeant,investigator,
sup1,Sunil Patel,Anti-Corruption Command,,superintendent,authoriser,
dpo1,Dana Price,Information Governance,,,dpo,
stf1,Tom Baker,Response Team 3,,constable,staff,
nbr1,Nina Brook,Response Team 3,,constable,staff,
`)
	token := func(id, role, rank string) string {
		t.Helper()
		return strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", id, "--role", role, "--rank", rank, "--token"}, s.st.flags()...)...).stdout)
	}
	ianToken, sunilToken := token("inv1", "investigator", "sergeant"), token("sup1", "authoriser", "superintendent")

	// Tom's events: a lookup naming Nina, an e-mail, a web visit.
	now := time.Now().UTC()
	at := func(days int) string { return now.AddDate(0, 0, -days).Format(time.RFC3339) }
	lines := `{"@timestamp":"` + at(5) + `","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"stf1"},"related":{"user":["nbr1"]},"content":{"query":"HOLLOWAY ROAD"}}
{"@timestamp":"` + at(4) + `","event":{"category":"email","action":"send"},"user":{"id":"stf1"},"content":{"subject":"the address you wanted"}}
{"@timestamp":"` + at(3) + `","event":{"category":"web","action":"visit"},"user":{"id":"stf1"},"url":{"domain":"example.org"}}
`
	if status, body, _, err := post(t.Context(), s.srv.URL, addSource(t, s.st, "pnc"), []byte(lines)); err != nil || status != 200 {
		t.Fatalf("ingesting = %d %s %v", status, body, err)
	}

	b := newBrowser(t, s.srv.URL)
	sunil := setUpAccount(b, s, "sup1", "sunil's long passphrase")
	dana := setUpAccount(b, s, "dpo1", "dana's long passphrase")
	tom := setUpAccount(b, s, "stf1", "tom's long passphrase")

	// Tom's page before anything happens, to compare with later.
	wantPage(t, b.signIn(tom), "/", "Home")
	v := b.open("/me")
	before := v.Main

	// An authorisation about Tom, in force.
	body := strings.NewReplacer("{from}", now.AddDate(0, -2, 0).Format(time.RFC3339), "{to}", now.AddDate(0, 0, -1).Format(time.RFC3339)).Replace(reviewRequestJSON)
	status, created := apiCall(t, "POST", s.srv.URL+"/v1/requests", ianToken, "", body)
	if status != http.StatusCreated {
		t.Fatalf("creating the request = %d %v", status, created)
	}
	reqID, _ := created["id"].(string)
	reference, _ := created["reference"].(string)
	if status, r := apiCall(t, "POST", s.srv.URL+"/v1/requests/"+reqID+"/submit", ianToken, "", "{}"); status != 200 {
		t.Fatalf("submitting = %d %v", status, r)
	}
	if status, r := apiCall(t, "POST", s.srv.URL+"/v1/requests/"+reqID+"/decision", sunilToken, sunil.code(t), reviewDecisionJSON); status != 200 || r["state"] != "active" {
		t.Fatalf("authorising = %d %v", status, r)
	}

	// Tom asks for his data.
	b.fill("details", "Everything the systems recorded about me.")
	v = b.press(`form[action="/me/subject-access-requests"] button[type=submit]`)
	wantPage(t, v, "/me", v.H1)
	if !strings.Contains(v.Notice, "sent to the Data Protection Officer") || !strings.Contains(b.text("#my-requests"), "received") {
		t.Fatalf("after the request: notice %q, table:\n%s", v.Notice, b.text("#my-requests"))
	}
	b.review("sar-person-received")
	b.signOut()

	// Dana sees it, with its due date, and opens it.
	wantPage(t, b.signIn(dana), "/", "Home")
	if !strings.Contains(b.view().Header, "(Data protection officer)") {
		b.do("choosing the DPO role", chromedp.SetValue(chromedp.ID("switch-role"), "dpo"))
		b.press(`header form[action="/session/role"] button`)
	}
	v = b.press(`nav a[href="/subject-access-requests"]`)
	wantPage(t, v, "/subject-access-requests", "Subject access requests")
	due := now.AddDate(0, 1, 0)
	if !strings.Contains(v.Main, "Tom") && !strings.Contains(v.Main, "stf1") || !strings.Contains(v.Main, due.Format("2006")) {
		t.Errorf("the list does not show Tom's request with its due date:\n%s", v.Main)
	}
	b.review("sar-dpo-list")
	v = b.press(`main table a[href^="/subject-access-requests/"]`)
	m := sarPathRE.FindStringSubmatch(v.Path)
	if m == nil {
		t.Fatalf("on %s, want a request's page", v.Path)
	}
	sar, href := m[1], v.Path
	if b.has("#sar-summary") || b.has("#sar-hint") || !b.has("form#open") {
		t.Error("before opening, the page shows the data or the hint, or offers no opening")
	}
	b.review("sar-dpo-received")
	v = b.press(`form#open button[type=submit]`)
	if strings.HasPrefix(v.Path, "/step-up") {
		v = b.stepUp(dana)
		wantPage(t, v, href, v.H1)
		v = b.press(`form#open button[type=submit]`)
	}
	wantPage(t, v, href, v.H1)
	if !b.has("#sar-summary") || !b.has("#sar-hint") {
		t.Fatalf("the opened request shows no summary or no hint:\n%s", v.Main)
	}
	summary := b.text("#sar-summary")
	for _, c := range []string{"email", "record_query", "web"} {
		if !strings.Contains(summary, c) {
			t.Errorf("the summary lacks %s:\n%s", c, summary)
		}
	}
	if hint := b.text("#sar-hint"); !strings.Contains(hint, "Schedule 2 paragraph 2") || !strings.Contains(hint, "only a suggestion") {
		t.Errorf("the hint says: %q", hint)
	}
	b.review("sar-dpo-opened")

	// She withholds the e-mail: first without saying why, refused.
	b.check(`input[name=categories][value=email]`)
	b.check(`input[name=ground][value=crime]`)
	v = b.press(`form#exempt button[type=submit]`)
	if v.Status != 400 || !slices.Contains(v.ErrorLinks, "#note") {
		t.Errorf("an exemption without a note: %d %q %q, want 400 linking to the note", v.Status, v.ErrorSummary, v.ErrorLinks)
	}
	const note = "Operation Kestrel: Tom's e-mail would show him the complainant's inquiry."
	b.check(`input[name=categories][value=email]`)
	b.check(`input[name=ground][value=crime]`)
	b.fill("note", note)
	v = b.press(`form#exempt button[type=submit]`)
	wantPage(t, v, href, v.H1)
	if ex := b.text("#sar-exemptions"); !strings.Contains(ex, "email") || !strings.Contains(ex, "para 2") {
		t.Errorf("the exemption is not listed: %q", ex)
	}
	b.review("sar-dpo-exempted")
	v = b.press(`form#answer button[type=submit]`)
	wantPage(t, v, href, v.H1)
	if !strings.Contains(b.text("#sar-state"), "Answered") {
		t.Errorf("after answering the state is %q", b.text("#sar-state"))
	}
	b.review("sar-dpo-answered")
	b.signOut()

	// Tom sees it ready, and nothing of the investigation.
	wantPage(t, b.signIn(tom), "/", "Home")
	v = b.open("/me")
	download := "/me/subject-access-requests/" + sar + "/export"
	if !strings.Contains(b.text("#my-requests"), "ready to download") || !b.has(`a[href="`+download+`"]`) {
		t.Fatalf("Tom's page does not offer the download:\n%s", b.text("#my-requests"))
	}
	if w := newlyRevealed(before, v.Main, reqID, reference, note); len(w) > 0 {
		t.Errorf("Tom's page reveals %v:\n%s", w, v.Main)
	}
	b.review("sar-person-ready")

	// He downloads it with his session, as the link does.
	c := b.cookie(sessionCookieName)
	if c == nil {
		t.Fatal("no session cookie")
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.srv.URL+download, nil)
	req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	zb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("downloading = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rep, err := evidence.Verify(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatalf("Tom's copy does not verify: %v", err)
	}
	cats := map[string]int{}
	for _, ev := range rep.Events {
		for _, f := range ev.Disclosed {
			if f.Name == "event.category" {
				var c string
				json.Unmarshal([]byte(f.Value), &c)
				cats[c]++
			}
		}
	}
	if len(cats) != 2 || cats["record_query"] != 1 || cats["web"] != 1 {
		t.Errorf("Tom's copy holds %v, want one record query and one web visit, no e-mail", cats)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		text := string(data)
		if strings.HasPrefix(f.Name, "events/") {
			text = strings.ReplaceAll(text, `"withheld"`, `""`) // the format's key for commitments
		}
		if w := newlyRevealed("", text, reqID, reference, note, "nbr1", "Nina", "the address you wanted"); len(w) > 0 {
			t.Errorf("%s in Tom's copy reveals %v", f.Name, w)
		}
	}
	// And the CLI's bundle verification accepts it.
	path := t.TempDir() + "/your-data.zip"
	if err := os.WriteFile(path, zb, 0o600); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(rep.VerifierKey)
	if r := lbmOK(t, nil, "verify", "bundle", path, "--key", key); !strings.Contains(r.stdout, "OK") {
		t.Errorf("lbm verify bundle: %s", r.stdout)
	}
}
