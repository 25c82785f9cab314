package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLegalHold: the Data Protection Officer places a legal hold on
// Amy (after a second factor, and a reason too short to be one), releases
// it, and Amy, signed in herself, sees nothing of it.
func TestBrowserLegalHold(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.importDirectory(`id,name,unit,roles
stfa,Amy Adams,Response Team 3,
dpo1,Dee Okafor,Information Management,dpo
`)
	b := newBrowser(t, s.srv.URL)
	amy := setUpAccount(b, s, "stfa", "amy's long passphrase here")
	dee := setUpAccount(b, s, "dpo1", "dee's long passphrase here")
	const reason = "Employment tribunal claim ET/4242/26: keep her e-mail metadata."

	wantPage(t, b.signIn(dee), "/", "Home")
	if !strings.Contains(b.view().Header, "(Data protection officer)") {
		b.do("choosing the DPO role", chromedp.SetValue(chromedp.ID("switch-role"), "dpo"))
		b.press(`header form[action="/session/role"] button`)
	}
	v := b.press(`nav a[href="/holds"]`)
	wantPage(t, v, "/holds", "Legal holds")
	if !strings.Contains(v.Main, "No hold is in force.") {
		t.Errorf("a new site's holds page says:\n%s", v.Main)
	}
	b.review("holds-empty")

	// Placing a hold needs a fresh code: the first press goes to confirm
	// it is her, and back.
	b.fill("person", "stfa")
	b.fill("reason", "tribunal")
	v = b.press(`main form[action="/holds"] button`)
	wantPage(t, v, "/step-up?next=%2Fholds", "Confirm it’s you")
	wantPage(t, b.stepUp(dee), "/holds", "Legal holds")
	b.fill("person", "stfa")
	b.fill("reason", "tribunal")
	v = b.press(`main form[action="/holds"] button`)
	if v.Status != 400 || !slices.Contains(v.ErrorLinks, "#reason") || !strings.HasPrefix(v.Title, "Error: ") {
		t.Errorf("a reason too short: status %d, title %q, error links %q; want 400 linking to #reason", v.Status, v.Title, v.ErrorLinks)
	}
	b.review("holds-error")
	b.fill("reason", reason)
	v = b.press(`main form[action="/holds"] button`)
	wantPage(t, v, "/holds?done=placed", "Legal holds")
	if !strings.Contains(v.Notice, "The hold is placed.") || !strings.Contains(v.Main, reason) || !strings.Contains(v.Main, "Amy Adams (stfa)") {
		t.Errorf("after placing: notice %q; page says:\n%s", v.Notice, v.Main)
	}
	b.review("holds")

	// Releasing it, with why.
	b.do("filling the release note", chromedp.SendKeys(chromedp.CSS(`main form[action$="/release"] textarea[name=note]`), "The claim was withdrawn on 3 March."))
	v = b.press(`main form[action$="/release"] button`)
	wantPage(t, v, "/holds?done=released", "Legal holds")
	if !strings.Contains(v.Notice, "The hold is released.") || !strings.Contains(v.Main, "No hold is in force.") ||
		!strings.Contains(v.Main, "The claim was withdrawn on 3 March.") {
		t.Errorf("after releasing: notice %q; page says:\n%s", v.Notice, v.Main)
	}
	b.review("holds-released")
	b.signOut()

	// Amy sees nothing of it, anywhere she may look.
	wantPage(t, b.signIn(amy), "/", "Home")
	if slices.Contains(b.view().Nav, "Legal holds") {
		t.Errorf("Amy's navigation %q offers the legal holds", b.view().Nav)
	}
	v = b.press(`nav a[href="/me"]`)
	wantPage(t, v, "/me", "Monitoring and your data")
	for _, leak := range []string{reason, "Legal hold", "legal hold", "tribunal"} {
		if strings.Contains(v.Main, leak) {
			t.Errorf("Amy's page shows %q:\n%s", leak, v.Main)
		}
	}
	if v = b.open("/holds"); v.Status != 403 || strings.Contains(v.Main, reason) {
		t.Errorf("/holds as Amy: status %d; page says:\n%s", v.Status, v.Main)
	}
}
