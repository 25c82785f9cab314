package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserSignInWithSecondFactor: an administrator added with the CLI
// sets up her account from a one-time link, signs in, looks around, proves
// it is her with her authenticator app and signs out.
func TestBrowserSignInWithSecondFactor(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.addPerson("adm1", "Ada Byron", "admin")
	b := newBrowser(t, s.srv.URL)

	// She opens the link the operator sent her, puts the key shown into her
	// authenticator app, chooses a password and gives the app's code.
	a := b.setUp("adm1", s.setupLink("adm1"), "correct horse battery staple")
	b.review("set-up")
	v := b.press(`form[action^="/setup/"] button[type=submit]`)
	if v.H1 != "Sign in" || !strings.Contains(v.Notice, "Your password and second factor are set") {
		t.Fatalf("after set-up: heading %q, notice %q, want the sign-in page with a success notice; page says:\n%s", v.H1, v.Notice, v.Main)
	}
	b.review("sign-in-after-set-up")

	// She signs in with the password alone and lands on her home page.
	v = b.signIn(a)
	wantPage(t, v, "/", "Home")
	b.review("home-admin")
	if !strings.Contains(v.Header, "Signed in as Ada Byron (Administrator)") {
		t.Errorf("header says %q, want it to name Ada Byron and her role, Administrator", v.Header)
	}
	// `lbm user add` gives everyone the Staff role as well.
	if got := b.options("header #switch-role"); !slices.Equal(got, []string{"Staff"}) {
		t.Errorf("header's Switch role offers %q, want [Staff]", got)
	}
	if want := []string{"Home", "People", "Changes", "Notices", "Oversight log", "Report", "Your data"}; !slices.Equal(v.Nav, want) {
		t.Errorf("navigation %q, want %q", v.Nav, want)
	}
	// The session cookie is out of reach of scripts and of other sites.
	if c := b.cookie(sessionCookieName); c == nil {
		t.Errorf("no %s cookie after signing in", sessionCookieName)
	} else if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
		t.Errorf("%s cookie: HttpOnly %v, SameSite %q, Path %q; want HttpOnly, Lax, /", sessionCookieName, c.HTTPOnly, c.SameSite, c.Path)
	}

	// She finds herself in the directory.
	v = b.open("/people")
	wantPage(t, v, "/people", "People")
	b.review("people")
	if !slices.Contains(b.column("main table", 1), "adm1") {
		t.Errorf("people table has IDs %q, want adm1 among them", b.column("main table", 1))
	}

	// Nobody has proposed a change yet.
	v = b.open("/changes")
	wantPage(t, v, "/changes", "Changes")
	for _, want := range []string{"There are no changes waiting for a decision.", "No changes have been decided yet."} {
		if !strings.Contains(v.Main, want) {
			t.Errorf("/changes does not say %q; it says:\n%s", want, v.Main)
		}
	}
	b.review("changes-empty")

	// Before deciding anything she confirms it is her with a fresh code,
	// and comes back to where she was.
	v = b.open("/step-up?next=/changes")
	wantPage(t, v, "/step-up?next=/changes", "Confirm it’s you")
	b.review("step-up")
	v = b.stepUp(a)
	wantPage(t, v, "/changes", "Changes")

	// She signs out with the header's button, and is signed out.
	v = b.signOut()
	wantPage(t, v, "/sign-in", "Sign in")
	if strings.Contains(v.Header, "Signed in") {
		t.Errorf("after signing out the header still says %q", v.Header)
	}
	b.review("sign-in")
	v = b.open("/")
	if !strings.HasPrefix(v.Path, "/sign-in") {
		t.Errorf("after signing out, / shows %s (%q), want the sign-in page", v.Path, v.H1)
	}
	if c := b.cookie(sessionCookieName); c != nil {
		t.Errorf("after signing out the browser still holds a %s cookie", sessionCookieName)
	}
}

// TestBrowserDualControl: one administrator proposes giving a member of
// staff the investigator role; she cannot approve it herself; a second
// administrator approves it after confirming it is him.
func TestBrowserDualControl(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.addPerson("adm1", "Ada Byron", "admin")
	s.addPerson("adm2", "Alan Turing", "admin")
	s.addPerson("staff1", "Sam Patel", "staff")
	b := newBrowser(t, s.srv.URL)
	a1 := setUpAccount(b, s, "adm1", "correct horse battery staple")
	a2 := setUpAccount(b, s, "adm2", "tr0ub4dor&3 is not enough")

	// Ada opens Sam's page and starts a change.
	wantPage(t, b.signIn(a1), "/", "Home")
	v := b.open("/people/staff1")
	wantPage(t, v, "/people/staff1", "Sam Patel")
	b.review("person")
	if got := b.summaryValue("Roles"); got != "Staff" {
		t.Errorf("Sam's roles: %q, want Staff", got)
	}
	v = b.press(`main a[href="/people/staff1/change"]`)
	wantPage(t, v, "/people/staff1/change", "Propose a change")
	b.review("propose-change")
	// The header offers Ada only the other role she holds, whatever the
	// page's form is about.
	if got := b.options("header #switch-role"); !slices.Equal(got, []string{"Staff"}) {
		t.Errorf("on the propose page the header's Switch role offers %q, want [Staff]: Ada holds only Administrator and Staff", got)
	}

	// She forgets the reason: the page says so, GOV.UK style, and keeps
	// what she ticked.
	b.check(`input[name=roles][value=investigator]`)
	v = b.press(`main form button[type=submit]`)
	if v.Status != http.StatusBadRequest {
		t.Errorf("proposing without a reason: status %d, want 400", v.Status)
	}
	if !strings.HasPrefix(v.Title, "Error: ") {
		t.Errorf("page title %q, want it to start with \"Error: \"", v.Title)
	}
	if !strings.Contains(v.ErrorSummary, "There is a problem") || !slices.Contains(v.ErrorLinks, "#reason") {
		t.Errorf("error summary %q with links %q, want \"There is a problem\" and a link to #reason", v.ErrorSummary, v.ErrorLinks)
	}
	if !b.has(`.govuk-form-group--error #reason`) || b.text(`#reason-error`) == "" {
		t.Errorf("the reason field is not marked as in error with a message")
	}
	if !b.checked(`input[name=roles][value=investigator]`) {
		t.Errorf("the Investigator box lost its tick when the form came back with an error")
	}
	b.review("propose-change-error")

	// With a reason, the change is proposed but not yet in effect.
	b.fill("reason", "Joins the digital forensics unit on Monday.")
	v = b.press(`main form button[type=submit]`)
	wantPage(t, v, "/people/staff1?proposed=1", "Sam Patel")
	if !strings.Contains(v.Notice, "Change proposed") {
		t.Errorf("notice %q, want it to say the change was proposed", v.Notice)
	}
	if got := b.summaryValue("Roles"); got != "Staff" {
		t.Errorf("Sam's roles before approval: %q, want Staff", got)
	}
	b.review("person-change-proposed")

	// On /changes she sees it waiting, and no button to approve her own change.
	v = b.open("/changes")
	wantPage(t, v, "/changes", "Changes")
	card := b.text(".govuk-summary-card")
	if got := rolesIn(card); !slices.Equal(got, []string{"Investigator", "Staff"}) {
		t.Errorf("pending change proposes roles %q, want Investigator and Staff; it says:\n%s", got, card)
	}
	for _, want := range []string{"staff1", "Joins the digital forensics unit on Monday.", "adm1",
		"You proposed this change; another administrator must decide it."} {
		if !strings.Contains(card, want) {
			t.Errorf("pending change does not say %q; it says:\n%s", want, card)
		}
	}
	if b.has(`form[action$="/approve"]`) || b.has(`form[action$="/reject"]`) {
		t.Errorf("Ada is offered a decision on her own change")
	}
	b.review("changes-pending")
	wantPage(t, b.signOut(), "/sign-in", "Sign in")

	// Alan signs in and approves; the decision needs a fresh code, so the
	// first press sends him to confirm it is him, and back.
	wantPage(t, b.signIn(a2), "/", "Home")
	v = b.open("/changes")
	if !b.has(`form[action$="/approve"]`) {
		t.Fatalf("Alan sees no change to approve; /changes says:\n%s", v.Main)
	}
	b.review("changes-to-decide")
	v = b.press(`form[action$="/approve"] button`)
	wantPage(t, v, "/step-up?next=%2Fchanges", "Confirm it’s you")
	v = b.stepUp(a2)
	wantPage(t, v, "/changes", "Changes")
	v = b.press(`form[action$="/approve"] button`)
	wantPage(t, v, "/changes?decided=approved", "Changes")
	if !strings.Contains(v.Notice, "Change approved") {
		t.Errorf("notice %q, want it to say the change was approved", v.Notice)
	}
	if strings.Contains(v.Main, "You proposed this change") || b.has(`form[action$="/approve"]`) {
		t.Errorf("the change is still pending after approval:\n%s", v.Main)
	}
	b.review("changes-approved")

	// Sam is now an investigator.
	wantPage(t, b.open("/people/staff1"), "/people/staff1", "Sam Patel")
	if got := b.summaryValue("Roles"); !slices.Equal(rolesIn("Roles: "+got), []string{"Investigator", "Staff"}) {
		t.Errorf("Sam's roles after approval: %q, want Investigator and Staff", got)
	}

	// The oversight log shows the proposal and the approval, and marks the
	// accounts made offline with the CLI as break-glass.
	v = b.open("/oversight")
	wantPage(t, v, "/oversight", "Oversight log")
	for _, want := range []string{"person change proposed", "person change approved", "user add", "Break-glass"} {
		if !strings.Contains(v.Main, want) {
			t.Errorf("the oversight log does not show %q:\n%s", want, v.Main)
		}
	}
	b.review("oversight-log")
}

// TestBrowserWrongPassword: a wrong password gets the error summary and no
// session.
func TestBrowserWrongPassword(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.addPerson("adm1", "Ada Byron", "admin")
	b := newBrowser(t, s.srv.URL)
	a := setUpAccount(b, s, "adm1", "correct horse battery staple")

	v := b.signIn(&account{id: a.id, password: "correct horse battery stapler"})
	if v.Status != http.StatusUnauthorized || v.H1 != "Sign in" {
		t.Errorf("wrong password: status %d on %q, want 401 on the sign-in page", v.Status, v.H1)
	}
	if !strings.HasPrefix(v.Title, "Error: ") {
		t.Errorf("page title %q, want it to start with \"Error: \"", v.Title)
	}
	if !strings.Contains(v.ErrorSummary, "The username or password is not right") || !slices.Contains(v.ErrorLinks, "#password") {
		t.Errorf("error summary %q with links %q, want the wrong-password message linking to #password", v.ErrorSummary, v.ErrorLinks)
	}
	if got := act(b, "reading the username", chromedp.Value(chromedp.ID("username"))); got != "adm1" {
		t.Errorf("username field holds %q after the error, want adm1 kept", got)
	}
	if got := act(b, "reading the password", chromedp.Value(chromedp.ID("password"))); got != "" {
		t.Errorf("password field holds %q after the error, want it empty", got)
	}
	b.review("sign-in-error")

	// No session: the cookie is HttpOnly, so ask the browser itself, and
	// check what a person would see.
	if c := b.cookie(sessionCookieName); c != nil {
		t.Errorf("a wrong password left a %s cookie", sessionCookieName)
	}
	if v := b.open("/"); !strings.HasPrefix(v.Path, "/sign-in") {
		t.Errorf("after a wrong password, / shows %s (%q), want the sign-in page", v.Path, v.H1)
	}
}

// TestBrowserNoJavaScript: with JavaScript off, setting up an account,
// signing in and signing out still work: every form is plain HTML.
func TestBrowserNoJavaScript(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.addPerson("adm1", "Ada Byron", "admin")
	b := newBrowser(t, s.srv.URL)
	b.disableScripts()

	a := setUpAccount(b, s, "adm1", "correct horse battery staple")
	v := b.signIn(a)
	wantPage(t, v, "/", "Home")
	if b.has("body.js-enabled") {
		t.Fatal("the page ran init.js: JavaScript is not off")
	}
	b.review("home-admin-no-js")
	if b.has("body.js-enabled") {
		t.Error("checking the page's accessibility ran init.js")
	}
	if !strings.Contains(v.Header, "Signed in as Ada Byron (Administrator)") {
		t.Errorf("header says %q, want it to name Ada Byron and her role", v.Header)
	}
	wantPage(t, b.open("/people"), "/people", "People")
	wantPage(t, b.signOut(), "/sign-in", "Sign in")
	if v := b.open("/"); !strings.HasPrefix(v.Path, "/sign-in") {
		t.Errorf("after signing out, / shows %s (%q), want the sign-in page", v.Path, v.H1)
	}
}

// TestBrowserPublicPages: someone who has not signed in follows the
// footer's links to why lbm may monitor, the law it relies on, how
// intrusion is weighed and how long records are kept.
func TestBrowserPublicPages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := newBrowser(t, s.srv.URL)
	wantPage(t, b.open("/sign-in"), "/sign-in", "Sign in")
	for _, p := range []struct{ path, h1, items string }{
		{"/purposes", "Why we may monitor", "main .govuk-summary-card"},
		{"/legislation", "The law", "main .govuk-summary-card"},
		{"/criteria", "How intrusion is weighed", "main .govuk-summary-card"},
		{"/retention", "How long records are kept", "main tr#email"},
	} {
		v := b.press(`footer a[href="` + p.path + `"]`)
		wantPage(t, v, p.path, p.h1)
		if !b.has(p.items) {
			t.Errorf("%s lists nothing; it says:\n%s", p.path, v.Main)
		}
		b.review(strings.TrimPrefix(p.path, "/"))
	}
}

// TestBrowserSeesCSPViolations checks the check every browser test ends
// with: a script the Content Security Policy refuses shows up as a problem.
func TestBrowserSeesCSPViolations(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := newBrowser(t, s.srv.URL)
	wantPage(t, b.open("/sign-in"), "/sign-in", "Sign in")
	if p := b.problems(); len(p) != 0 {
		t.Fatalf("the sign-in page alone caused %q", p)
	}
	act(b, "adding an inline script", chromedp.Evaluate[chromedp.Void](
		`document.body.appendChild(Object.assign(document.createElement("script"), {textContent: "window.pwned = 1"}))`))
	// The violation is reported before the next command's reply.
	if act(b, "reading window.pwned", chromedp.Evaluate[bool](`window.pwned === 1`)) {
		t.Error("an inline script ran: the Content Security Policy does not forbid it")
	}
	p := b.problems()
	if len(p) == 0 || !strings.Contains(p[0], "inline script") {
		t.Errorf("problems after an inline script: %q, want a report of the refused inline script", p)
	}
	b.forgetProblems()
}

// TestBrowserSeesAccessibilityProblems checks the checks every page in the
// stories gets: axe-core reports a field without a label and an image
// without a text alternative, and a page too wide for a phone is seen to
// scroll sideways.
func TestBrowserSeesAccessibilityProblems(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := newBrowser(t, s.srv.URL)
	wantPage(t, b.open("/sign-in"), "/sign-in", "Sign in")
	if r := b.axe(); len(r.Violations) > 0 {
		t.Fatal(r.report("the sign-in page as served"))
	}
	if w := b.overflow(); w.Scroll > w.Client {
		t.Fatalf("the sign-in page as served scrolls sideways at %d px: %+v", windowWidth, w)
	}

	// Element.style is the CSS object model, which style-src does not
	// govern, so none of this breaks the Content Security Policy.
	act(b, "breaking the page", chromedp.Evaluate[chromedp.Void](`{
		document.querySelector('label[for="username"]').remove();
		const main = document.querySelector("main");
		main.appendChild(Object.assign(document.createElement("img"), {src: "data:image/gif;base64,R0lGODlhAQABAAAAACw="}));
		const wide = main.appendChild(document.createElement("div"));
		wide.textContent = "Too wide for a phone";  // empty, it would not count
		wide.style.width = "600px";
	}`))
	r := b.axe()
	rules := map[string][]string{}
	for _, v := range r.Violations {
		for _, n := range v.Nodes {
			rules[v.ID] = append(rules[v.ID], n.Target)
		}
	}
	if !slices.Contains(rules["label"], "#username") || len(rules["image-alt"]) != 1 {
		t.Errorf("axe-core on a page with an unlabelled field and an image without alt found:\n%s\nwant label on #username and image-alt", r.report("sign-in"))
	}
	b.narrow()
	w := b.overflow()
	b.widen()
	if w.Scroll <= w.Client || w.Client != narrowWidth || len(w.Widest) == 0 {
		t.Errorf("a 600 px wide block at %d px wide measures %+v, want the page to scroll sideways with the block named", narrowWidth, w)
	}
	if w := b.overflow(); w.Client < windowWidth-20 {
		t.Errorf("after the narrow check the page is %d px wide, want about %d", w.Client, windowWidth)
	}
}

// rolesIn returns, sorted, the role titles listed after "Roles: " on a line
// of text.
func rolesIn(text string) []string {
	for _, line := range strings.Split(text, "\n") {
		if _, list, ok := strings.Cut(line, "Roles: "); ok {
			roles := strings.Split(strings.TrimSpace(list), ", ")
			slices.Sort(roles)
			return roles
		}
	}
	return nil
}
