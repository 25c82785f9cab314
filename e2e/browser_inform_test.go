package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The Inform stories: telling everyone what is monitored and under which
// law, and keeping proof that each person was told.

// importDirectory imports an HR directory file with the CLI, as HR's
// nightly job would.
func (s *site) importDirectory(csv string) {
	s.t.Helper()
	path := filepath.Join(s.t.TempDir(), "staff.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		s.t.Fatal(err)
	}
	lbmOK(s.t, nil, append([]string{"user", "import", "--quiet", path}, s.st.flags()...)...)
}

// replaceIn edits the text of the textarea with id, replacing old with new,
// as a person editing a long file would; typing all of it key by key
// would take minutes.
func (b *browser) replaceIn(id, old, new string) {
	b.t.Helper()
	text := act(b, "reading #"+id, chromedp.Value(chromedp.ID(id)))
	if !strings.Contains(text, old) {
		b.t.Fatalf("#%s does not hold %q", id, old)
	}
	b.do("editing #"+id, chromedp.SetValue(chromedp.ID(id), strings.Replace(text, old, new, 1)))
}

// oversightEntryRE finds the oversight-log entry a notice page says
// records the reader's acknowledgement.
var oversightEntryRE = regexp.MustCompile(`Oversight log entry (\d+) records it`)

// TestBrowserNoticeAcknowledged: an administrator drafts and proposes the
// first monitoring notice and a second approves it; a member of staff
// acknowledges it; version 2 is published the same way and she
// acknowledges again. The report of who has not acknowledged lists her
// colleague and not her, and the oversight log holds her acknowledgement,
// which `lbm verify inclusion` proves. Every page is checked with axe-core
// and photographed at 1280 and 320 pixels wide.
func TestBrowserNoticeAcknowledged(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.importDirectory(`id,name,unit,manager,roles
adm1,Ada Byron,ICT Security,,admin
adm2,Alan Turing,ICT Security,adm1,admin
sup1,Sue Perry,Response Team 3,,
stfa,Amy Adams,Response Team 3,sup1,
stfb,Ben Brown,Response Team 3,sup1,
`)
	b := newBrowser(t, s.srv.URL)

	// Before anything is published, the notice page says so.
	v := b.open("/notice")
	if v.Status != 404 || !strings.Contains(v.H1, "No monitoring notice") {
		t.Errorf("/notice before publication: %d %q, want 404 saying no notice is published", v.Status, v.H1)
	}

	a1 := setUpAccount(b, s, "adm1", "correct horse battery staple")
	a2 := setUpAccount(b, s, "adm2", "tr0ub4dor&3 is not enough")
	amy := setUpAccount(b, s, "stfa", "amy's long passphrase here")

	// Ada drafts the first notice from the generated default.
	wantPage(t, b.signIn(a1), "/", "Home")
	v = b.press(`nav a[href="/notices"]`)
	wantPage(t, v, "/notices", "Monitoring notices")
	b.review("notices-empty")
	v = b.press(`main a[href="/notices/new"]`)
	wantPage(t, v, "/notices/new", "Draft a new notice version")
	b.review("notice-draft")
	// A title is required: the form says so and keeps the text.
	b.fill("title", " ")
	v = b.press(`main form button[type=submit]`)
	if v.Status != 400 || !slices.Contains(v.ErrorLinks, "#title") {
		t.Errorf("saving a draft without a title: status %d, error links %q; want 400 linking to #title", v.Status, v.ErrorLinks)
	}
	b.review("notice-draft-error")
	b.fill("title", "How we monitor the use of our systems")
	v = b.press(`main form button[type=submit]`)
	wantPage(t, v, "/notices/1", "How we monitor the use of our systems")
	if !strings.Contains(v.Main, "This is a draft") || !strings.Contains(v.Main, "What we monitor") {
		t.Errorf("the preview does not warn it is a draft or lacks the text; it says:\n%s", v.Main)
	}
	b.review("notice-preview")
	b.fill("reason", "Our first monitoring notice.")
	v = b.press(`main form[action="/notices/1/publish"] button[type=submit]`)
	wantPage(t, v, "/notices?proposed=1", "Monitoring notices")
	if !strings.Contains(v.Notice, "Publication proposed") {
		t.Errorf("notice %q, want it to say publication was proposed", v.Notice)
	}
	b.signOut()

	// Alan approves it, after confirming it is him.
	wantPage(t, b.signIn(a2), "/", "Home")
	approve := func(what string) {
		t.Helper()
		v := b.open("/changes")
		if !strings.Contains(v.Main, what) {
			t.Fatalf("/changes does not list %q; it says:\n%s", what, v.Main)
		}
		v = b.press(`main form[action$="/approve"] button`)
		if strings.HasPrefix(v.Path, "/step-up") {
			v = b.stepUp(a2)
			v = b.press(`main form[action$="/approve"] button`)
		}
		wantPage(t, v, "/changes?decided=approved", "Changes")
	}
	approve("Monitoring notice version 1")
	b.signOut()

	// Amy reads it and acknowledges it.
	wantPage(t, b.signIn(amy), "/", "Home")
	v = b.press(`main a[href="/notice"]`)
	wantPage(t, v, "/notice", "How we monitor the use of our systems")
	b.review("notice")
	v = b.press(`main form[action="/notice/acknowledgement"] button`)
	wantPage(t, v, "/notice?acknowledged=1", "How we monitor the use of our systems")
	if !strings.Contains(v.Main, "You acknowledged version 1") {
		t.Errorf("after acknowledging, the page says:\n%s", v.Main)
	}
	b.review("notice-acknowledged")
	b.signOut()

	// Ada drafts version 2 from version 1 and proposes it; Alan approves.
	b.signIn(a1)
	v = b.open("/notices/new")
	b.fill("title", "How we monitor the use of our systems (November 2026)")
	b.replaceIn("text", "## What we monitor", "We updated this notice in November 2026.\n\n## What we monitor")
	v = b.press(`main form button[type=submit]`)
	wantPage(t, v, "/notices/2", "How we monitor the use of our systems (November 2026)")
	b.fill("reason", "Say when the notice changed.")
	b.press(`main form[action="/notices/2/publish"] button[type=submit]`)
	v = b.open("/notices/2")
	if !strings.Contains(v.Main, "waiting for a second administrator") {
		t.Errorf("the preview of a proposed version does not say it waits for approval; it says:\n%s", v.Main)
	}
	b.signOut()
	b.signIn(a2)
	approve("Monitoring notice version 2")
	v = b.open("/notices")
	b.review("notices")
	if got := b.column("main table", 3); !slices.Equal(got, []string{"Published", "Superseded"}) {
		t.Errorf("notice states %q, want [Published Superseded]", got)
	}
	b.signOut()

	// Amy is asked again, and acknowledges version 2.
	b.signIn(amy)
	v = b.open("/me")
	wantPage(t, v, "/me", "Monitoring and your data")
	if !strings.Contains(v.Main, "Read and acknowledge the monitoring notice") {
		t.Errorf("/me does not ask Amy to acknowledge version 2; it says:\n%s", v.Main)
	}
	b.review("me-before")
	v = b.press(`main a[href="/notice"]`)
	wantPage(t, v, "/notice", "How we monitor the use of our systems (November 2026)")
	v = b.press(`main form[action="/notice/acknowledgement"] button`)
	m := oversightEntryRE.FindStringSubmatch(v.Main)
	if m == nil {
		t.Fatalf("after acknowledging version 2 the page names no oversight log entry; it says:\n%s", v.Main)
	}
	entry := m[1]
	v = b.open("/me")
	if got := b.column("main table", 1); len(got) < 2 || !strings.Contains(got[0], "2") || !strings.Contains(got[1], "1") {
		t.Errorf("Amy's acknowledgements table starts %q, want versions 2 and 1", got)
	}
	b.review("me")
	b.signOut()

	// The report lists Ben (and Sue, and the administrators), not Amy.
	b.signIn(a1)
	v = b.press(`main a[href="/reports/notices"]`)
	wantPage(t, v, "/reports/notices", "Who has not acknowledged the notice")
	b.review("notice-report")
	if !strings.Contains(v.Main, "Ben Brown") || strings.Contains(v.Main, "Amy Adams") {
		t.Errorf("the report should list Ben Brown and not Amy Adams; it says:\n%s", v.Main)
	}
	if !strings.Contains(v.Main, "Response Team 3") || !strings.Contains(v.Main, "Sue Perry (sup1)") {
		t.Errorf("the report does not group by unit and line manager; it says:\n%s", v.Main)
	}
	if !strings.Contains(v.Main, "1 of 5 people") {
		t.Errorf("the report does not say 1 of 5 people acknowledged; it says:\n%s", v.Main)
	}

	// The oversight log holds Amy's acknowledgement at that entry.
	v = b.open("/oversight")
	b.review("oversight-log")
	found := false
	for _, row := range b.column("main table", 1) {
		found = found || row == entry
	}
	if !found || !strings.Contains(v.Main, "notice acknowledged") || !strings.Contains(v.Main, "stfa") {
		t.Errorf("the oversight log does not show stfa's acknowledgement at entry %s; it says:\n%s", entry, v.Main)
	}

	// And anyone can prove it is in the log: the checkpoint that covers it
	// is published within about a second.
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := lbm(t, nil, append([]string{"verify", "inclusion", "--log", "oversight", "--index", entry}, s.st.flags()...)...)
		if r.code == 0 {
			if want := "OK: entry " + entry + " is in the oversight log"; !strings.Contains(r.stdout, want) {
				t.Errorf("lbm verify inclusion printed %q, want %q", r.stdout, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lbm verify inclusion --index %s never succeeded: %v", entry, r)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Ada proposes a clearer title for a lawful purpose, and e-mail content
	// kept 3 months rather than 6; Alan approves it, and the public pages
	// show both.
	v = b.open("/catalogue")
	wantPage(t, v, "/catalogue", "Catalogue history")
	b.review("catalogue-history")
	v = b.press(`main a[href="/catalogue/edit"]`)
	wantPage(t, v, "/catalogue/edit", "Propose a catalogue change")
	b.review("catalogue-edit")
	b.replaceIn("purposes", "title: Prevent or detect crime", "title: Prevent or detect crime or misconduct")
	b.replaceIn("categories", "content_retention_months: 6", "content_retention_months: 3")
	b.fill("reason", "Say misconduct too, as the policy does; keep e-mail content 3 months.")
	v = b.press(`main form button[type=submit]`)
	wantPage(t, v, "/changes?proposed=catalogue", "Changes")
	b.signOut()
	// Alan reads exactly what it changes before approving it.
	b.signIn(a2)
	b.open("/changes")
	v = b.press(`main a[href^="/catalogue/changes/"]`)
	wantPage(t, v, v.Path, "Catalogue change")
	if !strings.Contains(v.Main, "Prevent or detect crime or misconduct") || !strings.Contains(v.Main, "Removed") ||
		!strings.Contains(v.Main, "content_retention_months: 3") {
		t.Errorf("the catalogue change page does not show the edited lines; it says:\n%s", v.Main)
	}
	b.review("catalogue-change")
	approve("Replace catalogue version 0")
	b.signOut()
	v = b.open("/purposes")
	if !strings.Contains(v.Main, "Prevent or detect crime or misconduct") {
		t.Errorf("/purposes does not show the approved title; it says:\n%s", v.Main)
	}
	v = b.open("/retention")
	wantPage(t, v, "/retention", "How long records are kept")
	if !strings.Contains(v.Main, "Retention schedule 1") || !strings.Contains(v.Main, "3 months") {
		t.Errorf("/retention does not show the approved schedule; it says:\n%s", v.Main)
	}
	b.review("retention")

	// The public notice needs no sign-in.
	v = b.open("/public-notice")
	wantPage(t, v, "/public-notice", "How we record contact with us")
	b.review("public-notice")
}

// TestBrowserSubjectAccessRequest: a member of staff asks for her data on
// her own page, and the Data Protection Officer sees the request.
func TestBrowserSubjectAccessRequest(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.importDirectory(`id,name,unit,roles
stfa,Amy Adams,Response Team 3,
dpo1,Dee Okafor,Information Management,dpo
`)
	b := newBrowser(t, s.srv.URL)
	amy := setUpAccount(b, s, "stfa", "amy's long passphrase here")
	dee := setUpAccount(b, s, "dpo1", "dee's long passphrase here")

	wantPage(t, b.signIn(amy), "/", "Home")
	v := b.press(`nav a[href="/me"]`)
	wantPage(t, v, "/me", "Monitoring and your data")
	// Typing 2,001 characters key by key takes longer than an action may
	// on a loaded machine: paste them, as a person would.
	b.do("pasting into #details", chromedp.SetValue(chromedp.ID("details"), strings.Repeat("x", 2001)))
	v = b.press(`main form[action="/me/subject-access-requests"] button`)
	if v.Status != 400 || !slices.Contains(v.ErrorLinks, "#details") {
		t.Errorf("an over-long request: status %d, error links %q; want 400 linking to #details", v.Status, v.ErrorLinks)
	}
	b.review("me-request-error")
	b.fill("details", "My e-mail metadata since May, please.")
	v = b.press(`main form[action="/me/subject-access-requests"] button`)
	wantPage(t, v, "/me?requested=1", "Monitoring and your data")
	if !strings.Contains(v.Notice, "sent to the Data Protection Officer") || !strings.Contains(v.Main, "My e-mail metadata since May") {
		t.Errorf("after requesting: notice %q; page says:\n%s", v.Notice, v.Main)
	}
	b.signOut()

	// Dee holds Staff and DPO; she switches to DPO to see the requests.
	wantPage(t, b.signIn(dee), "/", "Home")
	if !strings.Contains(b.view().Header, "(Data protection officer)") {
		b.do("choosing the DPO role", chromedp.SetValue(chromedp.ID("switch-role"), "dpo"))
		b.press(`header form[action="/session/role"] button`)
	}
	v = b.press(`nav a[href="/subject-access-requests"]`)
	wantPage(t, v, "/subject-access-requests", "Subject access requests")
	b.review("subject-access-requests")
	if !strings.Contains(v.Main, "stfa") || !strings.Contains(v.Main, "My e-mail metadata since May") {
		t.Errorf("the DPO's list does not show Amy's request; it says:\n%s", v.Main)
	}
}
