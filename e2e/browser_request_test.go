package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The "Request and authorise" story: an investigator drafts a request one
// question at a time, an adviser gives the view it needs, an authoriser
// of too low a rank is told why they cannot decide it, and one of the
// rank it needs authorises it with a second factor.

// setText puts value into the input or textarea with id at once: typing
// a long justification key by key is slow under the race detector.
func (b *browser) setText(id, value string) {
	b.t.Helper()
	b.do("setting #"+id, chromedp.SetValue(chromedp.ID(id), value))
}

// requestPathRE finds a request page's path.
var requestPathRE = regexp.MustCompile(`^/requests/([0-9a-f]+)`)

// The justifications of the story's request: each is real (at least 40
// characters and 8 words) and unlike the others, as the request flow
// insists.
var (
	necessity = "A colleague reported that the subject forwarded restricted case papers to a personal address; only the e-mails can show whether and when that happened."
	answers   = map[string]string{
		"NOTICE":            "Staff were told in the monitoring notice that e-mail is recorded and may be read during a misconduct investigation.",
		"EXTENT":            "Only one officer's e-mail, and only messages sent outside the force, for the ninety days the authorisation lasts.",
		"LEGITIMATE_REASON": "Leaking restricted case papers would be gross misconduct and could harm victims and witnesses in live prosecutions.",
		"LESS_INTRUSIVE":    "We first checked the document management audit trail, which shows downloads but cannot show where files were sent.",
		"CONSEQUENCES":      "The officer may face a misconduct hearing; innocent correspondents are shielded because only outbound mail is kept.",
		"SAFEGUARDS":        "Two named investigators read the results inside lbm, every access is logged, and nothing is exported without approval.",
		"REMEDY":            "The officer can complain to the IOPC and will be told of the recording at interview, when disclosure is safe.",
	}
	collateral = "Recipients outside the force will appear in headers; we read only messages carrying case attachments and ignore the rest."
)

// views are the authoriser's own words on each criterion: never a copy of
// the requester's.
var views = map[string]string{
	"NOTICE":            "I have read the notice record and accept that the officer knew e-mail could be examined for misconduct.",
	"EXTENT":            "The scope is narrow enough: a single mailbox, outbound only, with a ninety day limit I am content with.",
	"LEGITIMATE_REASON": "Protecting witnesses in ongoing prosecutions is a weighty reason and the report from a colleague is credible.",
	"LESS_INTRUSIVE":    "I agree the audit trail was tried first and it cannot answer where the papers went after download.",
	"CONSEQUENCES":      "The effect on the officer is proportionate given the seriousness, and third parties are protected well enough.",
	"SAFEGUARDS":        "Access by two investigators with logging and no export is a sufficient safeguard for this content.",
	"REMEDY":            "The officer keeps a route to the IOPC and will learn of it at interview; that meets the remedy test.",
}

// TestBrowserRequestAuthorised: a Sergeant investigator drafts a request
// to record one officer's e-mail with its content in a misconduct
// investigation, which the default policy says a Superintendent must
// authorise after the data protection officer's view; he submits it; the
// DPO gives her view; a Sergeant authoriser is told she cannot decide it,
// and why; a Superintendent authorises it after confirming it is him; the
// investigator sees it active, and the inspectorate finds it in the
// central record. Every main page is checked with axe-core and
// photographed at 1280 and 320 pixels wide.
func TestBrowserRequestAuthorised(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.importDirectory(`id,name,unit,manager,rank,roles,adviser
inv1,Ian Vale,Anti-Corruption Command,,sergeant,investigator,
sgt1,Sara Grant,Anti-Corruption Command,,sergeant,authoriser,
sup1,Sunil Patel,Anti-Corruption Command,,superintendent,authoriser,
dpo1,Dana Price,Information Rights,,,dpo,dpo
ovr1,Olive Reed,Inspectorate,,,oversight,
stf1,Tom Baker,Response Team 3,,constable,staff,
`)
	b := newBrowser(t, s.srv.URL)
	// The authorisers first: each confirms a fresh code later, and the
	// app gives one code per 30 seconds.
	sara := setUpAccount(b, s, "sgt1", "sara's long passphrase")
	sunil := setUpAccount(b, s, "sup1", "sunil's long passphrase")
	ian := setUpAccount(b, s, "inv1", "ian's long passphrase")
	dana := setUpAccount(b, s, "dpo1", "dana's long passphrase")
	olive := setUpAccount(b, s, "ovr1", "olive's long passphrase")

	// Ian drafts the request.
	wantPage(t, b.signIn(ian), "/", "Home")
	v := b.press(`nav a[href="/requests"]`)
	wantPage(t, v, "/requests", "Your requests")
	b.review("request-queue-empty")
	v = b.press(`main a[href="/requests/new"]`)
	wantPage(t, v, "/requests/new", "Who is the request about?")
	// A request is about someone.
	v = b.press(`main form button[type=submit]`)
	if v.Status != 400 || !slices.Contains(v.ErrorLinks, "#subjects") {
		t.Errorf("starting a request about nobody: status %d, error links %q; want 400 linking to #subjects", v.Status, v.ErrorLinks)
	}
	b.setText("subjects", "stf1")
	v = b.press(`main form button[type=submit]`)
	m := requestPathRE.FindStringSubmatch(v.Path)
	if m == nil {
		t.Fatalf("after naming the subject, on %s (%q); page says:\n%s", v.Path, v.H1, v.Main)
	}
	id := m[1]
	page := "/requests/" + id
	next := func(step, h1 string) view {
		t.Helper()
		v := b.press(`main form button[type=submit]`)
		wantPage(t, v, page+"/edit/"+step, h1)
		return v
	}
	wantPage(t, v, page+"/edit/investigators", "Who will use the authorisation?")
	if got := act(b, "reading #investigators", chromedp.Value(chromedp.ID("investigators"))); got != "inv1" {
		t.Errorf("investigators prefilled with %q, want inv1", got)
	}
	v = next("categories", "Which records do you need?")
	b.review("request-question")
	b.check(`input[name=categories][value=email]`)
	b.check(`input[name=content][value=email]`)
	next("sources", "Which systems should it cover?")
	next("mode", "What do you need to do with the records?")
	b.check(`input[name=mode][value=record]`)
	next("purpose", "Which lawful purpose does it serve?")
	b.check(`input[name=purpose][value=STANDARDS]`)
	b.check(`input[name=lawful-basis][value=STANDARDS]`)
	v = next("investigation", "What kind of investigation is it?")
	if !strings.Contains(v.Main, "Not enough answered yet") {
		t.Errorf("before the intrusion is described, the page should say the level is not known yet; it says:\n%s", v.Main)
	}
	b.check(`input[name=investigation][value=misconduct]`)
	next("collateral", "How far will it reach people who are not its subjects?")
	b.check(`input[name=collateral-level][value=low]`)
	b.setText("collateral-explanation", collateral)
	v = next("confidential", "Is it likely to meet confidential material?")
	// From here on the page shows who must authorise it.
	if d := b.text("#derivation"); !strings.Contains(d, "Superintendent") || !strings.Contains(d, "dpo") {
		t.Errorf("the derived level says %q, want a Superintendent after the dpo's view", d)
	}
	b.review("request-question-derived")
	next("urgency", "Is it urgent?")
	b.check(`input[name=urgent][value=no]`)
	next("operation", "Which operation is it part of?")
	b.setText("operation-name", "Operation Quill")
	b.setText("operation-reference", "ACC/2026/117")
	b.setText("dpia-reference", "DPIA-2026-09")
	next("necessity", "Why is it necessary?")
	// A thin answer is refused on its own page, naming the field.
	b.setText("necessity", "Needed.")
	v = b.press(`main form button[type=submit]`)
	if v.Status != 400 || !slices.Contains(v.ErrorLinks, "#necessity") {
		t.Errorf("a one-word necessity: status %d, error links %q; want 400 linking to #necessity", v.Status, v.ErrorLinks)
	}
	b.setText("necessity", necessity)
	for _, c := range []string{"NOTICE", "EXTENT", "LEGITIMATE_REASON", "LESS_INTRUSIVE", "CONSEQUENCES", "SAFEGUARDS", "REMEDY"} {
		v = b.press(`main form button[type=submit]`)
		if !strings.HasPrefix(v.Path, page+"/edit/criteria-"+c) {
			t.Fatalf("want the question on %s, on %s (%q); errors %q", c, v.Path, v.H1, v.ErrorSummary)
		}
		if c == "NOTICE" {
			if !b.has("#notice-record") {
				t.Error("the NOTICE question does not show the subjects' notice record")
			}
			b.review("request-question-notice")
		}
		b.setText("answer", answers[c])
	}
	v = b.press(`main form button[type=submit]`)
	wantPage(t, v, page+"/check", "Check your answers before submitting the request")
	if v.ErrorSummary != "" {
		t.Errorf("check your answers lists problems:\n%s", v.ErrorSummary)
	}
	if got := b.summaryValue("Records"); !strings.Contains(got, "with content") {
		t.Errorf("the Records row says %q, want e-mail with content", got)
	}
	if !strings.Contains(v.Main, "RECORD applies") {
		t.Errorf("check your answers does not show the derivation; it says:\n%s", v.Main)
	}
	b.review("request-check")
	v = b.press(`main form[action$="/submit"] button`)
	if v.Path != page+"?done=submitted" || !strings.HasPrefix(v.H1, "Request ") {
		t.Fatalf("after submitting, on %s (%q), want the request page; errors %q", v.Path, v.H1, v.ErrorSummary)
	}
	if got := b.summaryValue("State"); got != "Awaiting advice" {
		t.Errorf("after submitting, state %q, want Awaiting advice", got)
	}
	reference := strings.TrimPrefix(v.H1, "Request ")
	b.signOut()

	// Dana, the data protection officer, gives her view.
	wantPage(t, b.signIn(dana), "/", "Home")
	v = b.open("/requests")
	wantPage(t, v, "/requests", "Requests awaiting your view")
	if !strings.Contains(v.Main, reference) {
		t.Fatalf("the DPO's queue does not list %s; it says:\n%s", reference, v.Main)
	}
	v = b.press(`main a[href="` + page + `"]`)
	wantPage(t, v, page, "Request "+reference)
	b.setText("advice-view", "Recording outbound mail for ninety days is new processing, covered by the DPIA cited; retention must end with the case.")
	v = b.press(`main form[action$="/advice"] button`)
	wantPage(t, v, page+"?done=acted", "Request "+reference)
	if got := b.summaryValue("State"); got != "Awaiting decision" {
		t.Errorf("after the DPO's view, state %q, want Awaiting decision", got)
	}
	b.signOut()

	// Sara, a Sergeant, may not decide it, and is told why.
	fillDecision := func() {
		t.Helper()
		for c, text := range views {
			b.setText("decision-views-"+c, text)
		}
		b.setText("decision-reasons", "The report is credible, the scope is narrow, and the safeguards protect people who are not subjects.")
		b.check(`input[name=decision-authorise][value=authorise]`)
		b.check(`input[name=decision-directly-involved][value=no]`)
	}
	wantPage(t, b.signIn(sara), "/", "Home")
	v = b.open(page)
	wantPage(t, v, page, "Request "+reference)
	fillDecision()
	v = b.press(`main form[action$="/decision"] button`)
	if strings.HasPrefix(v.Path, "/step-up") {
		v = b.stepUp(sara)
		wantPage(t, v, page, "Request "+reference)
		fillDecision()
		v = b.press(`main form[action$="/decision"] button`)
	}
	if v.Status != 403 || !strings.Contains(v.ErrorSummary, "This request needs a decision by a Superintendent or above; you are a Sergeant") {
		t.Errorf("a Sergeant deciding: status %d, errors %q; want 403 saying a Superintendent is needed", v.Status, v.ErrorSummary)
	}
	if got := act(b, "reading the reasons", chromedp.Value(chromedp.ID("decision-reasons"))); got == "" {
		t.Error("the refused decision form lost what Sara typed")
	}
	b.review("request-decision-refused")
	b.signOut()

	// Sunil, a Superintendent, confirms it is him and authorises it.
	wantPage(t, b.signIn(sunil), "/", "Home")
	v = b.open("/requests")
	wantPage(t, v, "/requests", "Requests to decide")
	b.review("request-queue-decide")
	v = b.press(`main a[href="` + page + `"]`)
	wantPage(t, v, page, "Request "+reference)
	b.review("request-decision")
	b.press(`main a[href^="/step-up"]`)
	v = b.stepUp(sunil)
	wantPage(t, v, page, "Request "+reference)
	fillDecision()
	v = b.press(`main form[action$="/decision"] button`)
	wantPage(t, v, page+"?done=acted", "Request "+reference)
	if got := b.summaryValue("State"); got != "Active" {
		t.Errorf("after authorising, state %q, want Active; errors %q", got, v.ErrorSummary)
	}
	if got := b.column("#timeline", 2); !slices.Equal(got, []string{"Submit", "Advice", "Decision"}) {
		t.Errorf("the history lists %q, want Submit, Advice, Decision", got)
	}
	if !strings.Contains(v.Main, "lbm verify inclusion --log oversight --index") {
		t.Error("the history does not say how to prove its entries")
	}
	b.review("request-timeline")
	b.signOut()

	// Ian sees it active.
	b.signIn(ian)
	v = b.open("/requests")
	if got := b.column("#requests", 3); !slices.Equal(got, []string{"Active"}) {
		t.Errorf("Ian's queue shows states %q, want [Active]", got)
	}
	b.review("request-queue")
	b.signOut()

	// The inspectorate finds it in the central record.
	b.signIn(olive)
	v = b.press(`nav a[href="/central-record"]`)
	wantPage(t, v, "/central-record", "Central record of requests")
	if got := b.column("#central-record", 1); !slices.Equal(got, []string{reference}) {
		t.Errorf("the central record lists %q, want [%s]", got, reference)
	}
	b.review("central-record")
}
