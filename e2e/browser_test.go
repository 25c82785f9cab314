package e2e

// The browser tests drive lbm's web pages in headless Chromium, as a person
// with a password and an authenticator app would: they open set-up links,
// type into forms, press buttons and read what the page says. The harness
// is here; the stories are in browser_story_test.go.
//
// They need a Chromium binary named by LBM_TEST_CHROMIUM (scripts/chromium.sh
// installs Debian's and sets it). Without it they skip, unless
// LBM_REQUIRE_CHROMIUM=1, as `make test` sets, turns the skip into a failure.
//
// Each test gets its own server, browser and profile directory, so the tests
// run in parallel. Every browser action has a deadline, so a hung browser
// fails the test instead of hanging CI, and every page the browser loads is
// watched for Content Security Policy violations and uncaught exceptions.

import (
	"context"
	_ "embed"
	"encoding/base32"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lbm-project/lbm/internal/identity"
)

const (
	// browserLife bounds a whole browser: a test that takes longer has hung.
	// A story waits for at most one fresh TOTP step (30 s) per person.
	// Both bounds leave room for the suite's load: CI runs these beside
	// the race-enabled packages on two cores, where one click has taken
	// over 30 s.
	browserLife = 5 * time.Minute
	// actionTimeout bounds one browser action: a page load, a click, a read.
	actionTimeout = 60 * time.Second
	// windowWidth and windowHeight are the browser window's size, so that
	// screenshots are comparable between runs.
	windowWidth, windowHeight = 1280, 900
	// narrowWidth is the width at which WCAG 2.2's Reflow criterion (1.4.10)
	// wants content readable without scrolling sideways: 320 CSS pixels,
	// a 1280-pixel-wide window zoomed to 400%.
	narrowWidth = 320
)

// chromiumPath returns the Chromium to drive, skipping the test when there
// is none, or failing it when LBM_REQUIRE_CHROMIUM=1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("LBM_TEST_CHROMIUM")
	if p == "" {
		if os.Getenv("LBM_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("LBM_REQUIRE_CHROMIUM=1 but LBM_TEST_CHROMIUM is not set: run scripts/chromium.sh's chromium_install")
		}
		t.Skip("LBM_TEST_CHROMIUM is not set; source scripts/chromium.sh && chromium_install to run the browser tests")
	}
	if info, err := os.Stat(p); err != nil || info.IsDir() {
		t.Fatalf("LBM_TEST_CHROMIUM=%s: not a browser binary (%v)", p, err)
	}
	return p
}

// site is a running lbm server with a fresh SQLite store, and the people
// the test set up on it.
type site struct {
	t   *testing.T
	st  lbmStore
	srv *lbmServer
}

// newSite starts `lbm serve` on a new store, on 127.0.0.1 only. It skips
// the test first when there is no browser to drive.
func newSite(t *testing.T) *site {
	t.Helper()
	chromiumPath(t)
	st := lbmStore{data: filepath.Join(t.TempDir(), "data")}
	return &site{t: t, st: st, srv: startServer(t, st)}
}

// addPerson gives id the role with the break-glass CLI, as a bootstrapping
// operator would, while the server runs.
func (s *site) addPerson(id, name, role string) {
	s.t.Helper()
	lbmOK(s.t, nil, append([]string{"user", "add", "--id", id, "--name", name, "--role", role}, s.st.flags()...)...)
}

// setupLink prints a one-time set-up link for id with the CLI.
func (s *site) setupLink(id string) string {
	s.t.Helper()
	r := lbmOK(s.t, nil, append([]string{"user", "link", "--id", id, "--base-url", s.srv.URL}, s.st.flags()...)...)
	link := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(link, s.srv.URL+"/setup/") || strings.Contains(link, "\n") {
		s.t.Fatalf("lbm user link printed %q, want one %s/setup/… link", r.stdout, s.srv.URL)
	}
	return link
}

// account is a person's credentials as their password manager and
// authenticator app hold them.
type account struct {
	id, password string
	secret       []byte
	lastStep     int64 // the last TOTP step whose code was given
}

// code returns the person's current TOTP code. The server accepts each
// 30-second step at most once per person, so when the current step was
// already used, code waits for the next one, as a person watching the app
// would.
func (a *account) code(t *testing.T) string {
	t.Helper()
	now := time.Now()
	if step := now.Unix() / 30; step <= a.lastStep {
		next := time.Unix((a.lastStep+1)*30, 0)
		t.Logf("waiting %v for a fresh code for %s", next.Sub(now).Round(time.Second), a.id)
		select {
		case <-time.After(time.Until(next)):
		case <-t.Context().Done():
			t.Fatal("test ended while waiting for a fresh code")
		}
		now = time.Now()
	}
	a.lastStep = now.Unix() / 30
	return identity.TOTPCode(a.secret, now)
}

// browser is one headless Chromium with one tab, signed in as nobody yet.
type browser struct {
	t    *testing.T
	base string          // the server's URL
	tab  context.Context // chromedp's context for the tab, no deadline of its own
	shot string          // the screenshot folder
	noJS bool            // JavaScript is off for the pages the tab loads

	mu      sync.Mutex
	console []string // what the pages wrote to the console
	refused []string // CSP violations and uncaught exceptions among them
}

// newBrowser starts Chromium with a fresh profile under t.TempDir(). The
// browser is killed when the test ends, and the test fails if any page it
// loaded broke the Content Security Policy or threw.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserLife)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium")),
		chromedp.WindowSize(windowWidth, windowHeight),
	)
	b := &browser{t: t, base: base, shot: screenshotDir(t)}
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.listen))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancel()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, m := range b.refused {
			t.Errorf("browser console: %s", m)
		}
		if t.Failed() && len(b.console) > 0 {
			t.Logf("browser console:\n%s", strings.Join(b.console, "\n"))
		}
	})
	// The first action starts the browser and ties it to ctx, so it runs on
	// the tab's context, not one with an action's shorter deadline.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	b.tab = tab
	// The window's frame takes some of the window size: make the page's
	// viewport the full size, so that screenshots are 1280 pixels wide.
	b.do("sizing the viewport", chromedp.EmulateViewport(windowWidth, windowHeight))
	return b
}

// listen sees every event of the tab, in order, before the command that
// follows it returns, so the console check at the end misses nothing. It
// runs in chromedp's read loop: it only appends.
func (b *browser) listen(ev any) {
	var msg string
	var fatal bool
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, strings.Trim(string(a.Value), `"`))
			} else {
				args = append(args, a.Description)
			}
		}
		msg = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg, fatal = "uncaught exception: "+d.Text, true
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	case *log.EventEntryAdded:
		e := ev.Entry
		msg = fmt.Sprintf("%s %s: %s", e.Source, e.Level, e.Text)
		if e.URL != "" {
			msg += " (" + e.URL + ")"
		}
	default:
		return
	}
	// Chromium reported a Content Security Policy violation as "Refused to
	// load/execute/apply …"; since about version 140 it says "Loading/
	// Executing … violates the following Content Security Policy directive".
	fatal = fatal || strings.Contains(msg, "Refused to") || strings.Contains(msg, "Content Security Policy")
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, msg)
	if fatal {
		b.refused = append(b.refused, msg)
	}
}

// problems returns the CSP violations and exceptions seen so far.
func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.refused...)
}

// forgetProblems clears what a deliberate violation left, for the test
// that checks the check.
func (b *browser) forgetProblems() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refused = nil
}

// act runs one action on the tab with actionTimeout.
func act[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// call sends one protocol command to the tab with actionTimeout.
func call[P, R any](b *browser, what string, cmd cdp.Command[P, R], params P) R {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, actionTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return res
}

// do runs actions that return nothing, with actionTimeout for all of them.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// disableScripts turns JavaScript off in the tab, for the pages it loads
// from now on, as a person with JavaScript turned off would browse.
func (b *browser) disableScripts() {
	b.t.Helper()
	call(b, "disabling JavaScript", emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	b.noJS = true
}

// open loads url (a path on the server, or a full URL) and returns the page
// as it stands after any redirects.
func (b *browser) open(url string) view {
	b.t.Helper()
	if strings.HasPrefix(url, "/") {
		url = b.base + url
	}
	resp := act(b, "opening "+url, chromedp.NavigateResponse(url))
	v := b.view()
	v.Status = resp.Status
	return v
}

// press clicks the button or link sel, which must load a page, and returns
// that page.
func (b *browser) press(sel string) view {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("pressing %s on %s: %v", sel, b.view().Path, err)
	}
	v := b.view()
	v.Status = resp.Status
	return v
}

// fill types value into the input or textarea with id, as a person would,
// replacing what it held.
func (b *browser) fill(id, value string) {
	b.t.Helper()
	sel := chromedp.ID(id)
	// Clear fails on an empty textarea, which has no text node to remove.
	if act(b, "reading #"+id, chromedp.Value(sel)) != "" {
		b.do("clearing #"+id, chromedp.Clear(sel))
	}
	b.do("filling #"+id, chromedp.SendKeys(sel, value))
}

// check ticks the checkbox or radio sel unless it is ticked already.
func (b *browser) check(sel string) {
	b.t.Helper()
	if !b.checked(sel) {
		b.do("ticking "+sel, chromedp.Click(chromedp.CSS(sel)))
	}
}

// options returns the labels of the select sel's options, or nil when
// there is no such select.
func (b *browser) options(sel string) []string {
	b.t.Helper()
	return act(b, "reading "+sel, chromedp.Evaluate[[]string](fmt.Sprintf(
		`(s => s ? Array.from(s.options).map(o => o.label) : null)(document.querySelector(%q))`, sel)))
}

// view is what a person sees of the page: enough to assert on without
// reaching into the markup in every test.
type view struct {
	Status       int64    `json:"-"` // of the page's HTTP response, when known
	Path         string   `json:"path"`
	Title        string   `json:"title"`
	H1           string   `json:"h1"`
	Header       string   `json:"header"`
	Nav          []string `json:"nav"`
	Notice       string   `json:"notice"`
	ErrorSummary string   `json:"errorSummary"`
	ErrorLinks   []string `json:"errorLinks"` // the error summary's links' hrefs
	Main         string   `json:"main"`
	Stylesheets  int      `json:"stylesheets"` // loaded style sheets with rules
}

const viewJS = `(() => {
	const text = s => { const e = document.querySelector(s); return e ? e.innerText.trim() : ""; };
	const all = s => Array.from(document.querySelectorAll(s));
	return {
		path: location.pathname + location.search,
		title: document.title,
		h1: text("h1"),
		header: text("header"),
		nav: all(".govuk-service-navigation__link").map(a => a.innerText.trim()),
		notice: text(".govuk-notification-banner"),
		errorSummary: text(".govuk-error-summary"),
		errorLinks: all(".govuk-error-summary a").map(a => a.getAttribute("href")),
		main: text("main"),
		stylesheets: Array.from(document.styleSheets).filter(s => s.cssRules.length > 0).length,
	};
})()`

// view reads the current page.
func (b *browser) view() view {
	b.t.Helper()
	return act(b, "reading the page", chromedp.Evaluate[view](viewJS))
}

// text returns the text of the first element sel matches, or "" when none.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return act(b, "reading "+sel, chromedp.Evaluate[string](
		fmt.Sprintf(`(e => e ? e.innerText.trim() : "")(document.querySelector(%q))`, sel)))
}

// has reports whether sel matches anything on the page.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	return act(b, "looking for "+sel, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, sel)))
}

// screenshot saves the whole page as name.png in the screenshot folder.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png := act(b, "taking a screenshot", chromedp.FullScreenshot(100))
	p := filepath.Join(b.shot, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// screenshotNarrow saves the whole page as name-320.png, laid out at
// narrowWidth pixels wide, and fails the test if the page then scrolls
// sideways (WCAG 1.4.10 Reflow). A wide table inside .lbm-scroll scrolls
// within the page and does not count, as 1.4.10 allows for data tables.
// The viewport is back at windowWidth afterwards.
func (b *browser) screenshotNarrow(name string) {
	b.t.Helper()
	b.narrow()
	w := b.overflow()
	png := act(b, "taking a narrow screenshot", chromedp.FullScreenshot(100))
	b.widen()
	if w.Scroll > w.Client {
		b.t.Errorf("%s (%s) at %d px wide scrolls sideways: its content is %d px wide, %d px visible (WCAG 1.4.10 Reflow); reaching past the edge: %s",
			name, w.Path, narrowWidth, w.Scroll, w.Client, strings.Join(w.Widest, ", "))
	}
	if err := os.WriteFile(filepath.Join(b.shot, fmt.Sprintf("%s-%d.png", name, narrowWidth)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// narrow lays the page out narrowWidth pixels wide, as a phone would:
// without a scroll bar taking part of the width, so that all of the 320
// pixels WCAG 1.4.10 names are the page's.
func (b *browser) narrow() {
	b.t.Helper()
	call(b, "hiding scroll bars", emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: true})
	b.do("narrowing the viewport", chromedp.EmulateViewport(narrowWidth, windowHeight))
}

// widen undoes narrow.
func (b *browser) widen() {
	b.t.Helper()
	b.do("restoring the viewport", chromedp.EmulateViewport(windowWidth, windowHeight))
	call(b, "showing scroll bars", emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: false})
}

// width is how wide the page is laid out against how wide it shows.
type width struct {
	Path   string   `json:"path"`
	Scroll int      `json:"scroll"` // the content's width
	Client int      `json:"client"` // the viewport's, less any scroll bar
	Widest []string `json:"widest"` // elements reaching past the right edge
}

// overflowJS measures the page. Client, not the viewport's width, is the
// limit: where Chromium draws a vertical scroll bar, it takes its width from
// the page's. Widest names the last few elements reaching past the right
// edge, the innermost ones, which are usually the cause; content that
// scrolls within an .lbm-scroll region is left out.
const overflowJS = `(() => {
	const root = document.documentElement;
	const path = e => {
		const parts = [];
		for (; e && e !== root; e = e.parentElement) {
			parts.unshift(e.localName + (e.id ? "#" + e.id : "") +
				Array.from(e.classList, c => "." + c).join(""));
		}
		return parts.join(" > ");
	};
	// Content scrolling inside .lbm-scroll reaches past the edge without
	// widening the page: it is never the cause.
	const wide = Array.from(document.body.querySelectorAll("*"))
		.filter(e => !e.closest(".lbm-scroll") && e.getBoundingClientRect().right > root.clientWidth + 0.5)
		.map(e => path(e) + " (" + Math.round(e.getBoundingClientRect().right) + " px)");
	return {
		path: location.pathname + location.search,
		scroll: root.scrollWidth,
		client: root.clientWidth,
		widest: wide.slice(-5),
	};
})()`

// overflow measures the page as it is laid out now.
func (b *browser) overflow() width {
	b.t.Helper()
	return act(b, "measuring the page", chromedp.Evaluate[width](overflowJS))
}

// axeSource is axe-core as scripts/build-assets.sh copies it from npm. The
// tests inject it into the page under test; lbm never serves it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one axe-core rule that failed, and where.
type axeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []axeNode `json:"nodes"`
}

// axeNode is one element that fails a rule.
type axeNode struct {
	Target  string `json:"target"`  // a CSS selector for it
	Summary string `json:"summary"` // what is wrong with it
}

// axeResult is what axe-core found on one page.
type axeResult struct {
	Path       string         `json:"path"`
	Violations []axeViolation `json:"violations"`
	Incomplete []axeUndecided `json:"incomplete"`
}

// axeUndecided is a rule axe-core could not decide on some elements.
type axeUndecided struct {
	ID    string   `json:"id"`
	Nodes int      `json:"nodes"`
	Why   []string `json:"why"` // its reasons, each once
}

// axeRunJS runs axe-core's rules for WCAG 2.2 level AA on the whole
// document: the tags are its level A and AA criteria, including those it
// inherits from 2.0 and 2.1 (2.2 added no level A criterion axe-core tests).
// It keeps only what the report needs: the full results carry every passing
// node too.
const axeRunJS = `axe.run(document, {
	runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
	resultTypes: ["violations", "incomplete"],
}).then(r => ({
	path: location.pathname + location.search,
	violations: r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({
			// A target is a selector, or a list of them through frames and
			// shadow roots.
			target: n.target.map(t => [].concat(t).join(" ")).join(" | "),
			summary: n.failureSummary || "",
		})),
	})),
	incomplete: r.incomplete.map(v => ({
		id: v.id, nodes: v.nodes.length,
		why: [...new Set(v.nodes.flatMap(n => [...n.any, ...n.all, ...n.none].map(c => c.message)))],
	})),
}))`

// axe injects axe-core into the current page and runs it. Evaluating
// through the DevTools protocol is not subject to the page's Content
// Security Policy, so the injection neither needs script-src relaxed nor
// shows up as a violation; anything axe-core itself then did that the
// policy forbids would still reach b.listen.
//
// With JavaScript off the evaluation itself runs, but axe-core's timers
// never fire, so scripts are on for the check alone. That runs none of the
// page's own: a browser runs a page's scripts as it parses them, once.
func (b *browser) axe() axeResult {
	b.t.Helper()
	if b.noJS {
		call(b, "enabling JavaScript for axe-core", emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false})
	}
	b.do("injecting axe-core", chromedp.Evaluate[chromedp.Void](axeSource))
	r := act(b, "running axe-core", chromedp.Evaluate[axeResult](axeRunJS, chromedp.EvalAwaitPromise))
	if b.noJS {
		call(b, "disabling JavaScript again", emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	}
	return r
}

// checkAccessibility runs axe-core on the current page, which it calls
// name, and fails the test with every violation of WCAG 2.2 level A or AA
// it finds. Rules axe-core could not decide, such as the contrast of text
// over a gradient, are logged for a person to check. At narrowWidth these
// include the contrast of table cells scrolled out of sight in .lbm-scroll,
// which the check at full width sees.
func (b *browser) checkAccessibility(name string) {
	b.t.Helper()
	r := b.axe()
	for _, u := range r.Incomplete {
		b.t.Logf("%s (%s): axe-core could not decide %s on %d elements, check by hand: %s", name, r.Path, u.ID, u.Nodes, strings.Join(u.Why, "; "))
	}
	if len(r.Violations) > 0 {
		b.t.Error(r.report(name))
	}
}

// report lists r's violations on the page called name: each rule with its
// impact, what it asks for and where it is explained, and under it each
// element that breaks it and why.
func (r axeResult) report(name string) string {
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s (%s): axe-core found %d WCAG 2.2 AA violations:", name, r.Path, len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(&msg, "\n  %s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&msg, "\n    %s", n.Target)
			for _, line := range strings.Split(n.Summary, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					fmt.Fprintf(&msg, "\n      %s", line)
				}
			}
		}
	}
	return msg.String()
}

// review saves the page's screenshots, wide and narrow, and checks its
// accessibility at both widths: what a story does with each page it
// visits. The narrow layout is a page of its own to axe-core: it has the
// navigation's Menu button, and its own sizes and overlaps.
func (b *browser) review(name string) {
	b.t.Helper()
	b.screenshot(name)
	b.checkAccessibility(name)
	b.screenshotNarrow(name)
	b.narrow()
	b.checkAccessibility(fmt.Sprintf("%s at %d px", name, narrowWidth))
	b.widen()
}

// screenshotDir is $LBM_TEST_OUTPUT/screenshots, or testdata/out/screenshots
// (ignored by git) when LBM_TEST_OUTPUT is unset.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("testdata", "out", "screenshots")
	if out := os.Getenv("LBM_TEST_OUTPUT"); out != "" {
		dir = filepath.Join(out, "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// setUp opens a set-up link and completes it as the person would: it reads
// the authenticator key off the page into the "app", chooses a password and
// gives the app's current code. It returns the account and leaves the
// browser on the sign-in page that follows.
func (b *browser) setUp(id, link, password string) *account {
	b.t.Helper()
	v := b.open(link)
	if v.Status != 200 {
		b.t.Fatalf("set-up link for %s: status %d, page %q", id, v.Status, v.H1)
	}
	for _, sel := range []string{"#password", "#confirm", "#secret", "#code"} {
		if !b.has(sel) {
			b.t.Fatalf("set-up page for %s (%q) has no %s: cannot set a password and second factor in one form; page says:\n%s", id, v.H1, sel, v.Main)
		}
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.Join(strings.Fields(b.text("#secret")), ""))
	if err != nil {
		b.t.Fatalf("set-up page for %s: authenticator key %q: %v", id, b.text("#secret"), err)
	}
	a := &account{id: id, password: password, secret: secret}
	b.fill("password", password)
	b.fill("confirm", password)
	b.fill("code", a.code(b.t))
	return a
}

// signIn signs in with a's password from wherever the browser is, and
// returns the page it lands on.
func (b *browser) signIn(a *account) view {
	b.t.Helper()
	if v := b.view(); !strings.HasPrefix(v.Path, "/sign-in") {
		b.open("/sign-in")
	}
	b.fill("username", a.id)
	b.fill("password", a.password)
	return b.press(`form[action="/sign-in"] button[type=submit]`)
}

// signOut presses the header's sign-out button and returns the page it
// lands on.
func (b *browser) signOut() view {
	b.t.Helper()
	return b.press(`header form[action="/sign-out"] button`)
}

// stepUp gives a's current code on the step-up page the browser is on, and
// returns the page it lands on.
func (b *browser) stepUp(a *account) view {
	b.t.Helper()
	if v := b.view(); !strings.HasPrefix(v.Path, "/step-up") {
		b.t.Fatalf("want the step-up page, on %s (%q)", v.Path, v.H1)
	}
	b.fill("code", a.code(b.t))
	return b.press(`form[action="/step-up"] button[type=submit]`)
}

// wantPage fails the test unless v is the page at path with heading h1.
func wantPage(t *testing.T, v view, path, h1 string) {
	t.Helper()
	at := v.Path
	if !strings.Contains(path, "?") {
		at, _, _ = strings.Cut(at, "?")
	}
	if at != path || v.H1 != h1 {
		t.Fatalf("on %s with heading %q, want %s with heading %q; page says:\n%s", v.Path, v.H1, path, h1, v.Main)
	}
	if v.Stylesheets == 0 {
		t.Errorf("%s: no style sheet loaded: the page is unstyled", v.Path)
	}
}

// sessionCookieName is the name of lbm's session cookie.
const sessionCookieName = "lbm_session"

// setUpAccount gives id a password and second factor through a set-up link
// in b, which ends on the sign-in page.
func setUpAccount(b *browser, s *site, id, password string) *account {
	b.t.Helper()
	a := b.setUp(id, s.setupLink(id), password)
	v := b.press(`form[action^="/setup/"] button[type=submit]`)
	if v.H1 != "Sign in" || !strings.Contains(v.Notice, "second factor are set") {
		b.t.Fatalf("setting up %s: heading %q, notice %q, errors %q, want the sign-in page with a success notice", id, v.H1, v.Notice, v.ErrorSummary)
	}
	return a
}

// cookie returns the browser's cookie named name for the server, HttpOnly
// or not, or nil.
func (b *browser) cookie(name string) *network.Cookie {
	b.t.Helper()
	res := call(b, "reading cookies", network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// checked reports whether the checkbox or radio sel is ticked.
func (b *browser) checked(sel string) bool {
	b.t.Helper()
	return act(b, "reading "+sel, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked"))
}

// summaryValue returns the value of the summary list row whose key is key.
func (b *browser) summaryValue(key string) string {
	b.t.Helper()
	return act(b, "reading "+key, chromedp.Evaluate[string](`(key => {
		for (const row of document.querySelectorAll(".govuk-summary-list__row")) {
			if (row.querySelector("dt").innerText.trim() === key) return row.querySelector("dd").innerText.trim();
		}
		return "";
	})(`+strconv.Quote(key)+`)`))
}

// column returns the text of the cells in column n (from 1) of the table sel.
func (b *browser) column(sel string, n int) []string {
	b.t.Helper()
	return act(b, "reading "+sel, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+
		strconv.Quote(fmt.Sprintf("%s tbody tr td:nth-child(%d)", sel, n))+`)).map(td => td.innerText.trim())`))
}
