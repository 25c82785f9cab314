package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/identity/oidc"
	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/retention"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/subjectaccess"
	"github.com/lbm-project/lbm/internal/web/assets"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// maxFormBytes bounds a form body.
const maxFormBytes = 64 << 10

func (s *server) assets(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	assets.Handler().ServeHTTP(w, r)
}

// layout is the frame of every page for p.
func (s *server) layout(r *http.Request, p identity.Principal, title string) pages.Layout {
	l := pages.Layout{Title: title}
	if p.Kind != identity.KindSession || p.Person == nil {
		return l
	}
	l.Person, l.Role = p.Name(), p.Role.Title()
	for _, role := range identity.PersonRoles() {
		if string(role) != string(p.Role) && slices.Contains(p.Person.Roles, string(role)) {
			l.Roles = append(l.Roles, pages.Option{Value: string(role), Label: role.Title()})
		}
	}
	if p.Role == identity.RoleNationalOversight {
		// The national node serves its report and nothing else: no
		// home, no inbox, no other organisation's pages.
		l.Nav = []pages.NavItem{{Label: "National report", Href: "/national/report", Current: r.URL.Path == "/national/report"}}
		return l
	}
	nav := []pages.NavItem{{Label: "Home", Href: "/"}}
	switch p.Role {
	case identity.RoleInvestigator, identity.RoleAuthoriser, identity.RoleAdviser, identity.RoleDPO, identity.RoleOversight:
		nav = append(nav, pages.NavItem{Label: "Requests", Href: "/requests"})
	}
	if p.Role == identity.RoleInvestigator || p.Role == identity.RoleOversight {
		nav = append(nav, pages.NavItem{Label: "Alerts", Href: "/alerts"})
	}
	if p.Role == identity.RoleInvestigator {
		nav = append(nav, pages.NavItem{Label: "Receipts", Href: "/receipts"})
	}
	if p.Role == identity.RoleOversight {
		nav = append(nav, pages.NavItem{Label: "Central record", Href: "/central-record"}, pages.NavItem{Label: "Access log", Href: "/access-records"})
	}
	switch p.Role {
	case identity.RoleAdmin, identity.RoleOversight:
		nav = append(nav, pages.NavItem{Label: "People", Href: "/people"}, pages.NavItem{Label: "Changes", Href: "/changes"},
			pages.NavItem{Label: "Notices", Href: "/notices"}, pages.NavItem{Label: "Oversight log", Href: "/oversight"},
			pages.NavItem{Label: "Report", Href: "/reports/oversight"})
	case identity.RoleDPO:
		nav = append(nav, pages.NavItem{Label: "Subject access", Href: "/subject-access-requests"},
			pages.NavItem{Label: "Legal holds", Href: "/holds"}, pages.NavItem{Label: "Notice report", Href: "/reports/notices"})
	}
	nav = append(nav, pages.NavItem{Label: "Your data", Href: "/me"})
	for i := range nav {
		nav[i].Current = r.URL.Path == nav[i].Href || (nav[i].Href != "/" && strings.HasPrefix(r.URL.Path, nav[i].Href+"/"))
	}
	l.Nav = nav
	// One indexed count per page; a failure only hides the number.
	l.Inbox = true
	if n, err := s.cfg.Store.CountUnread(r.Context(), p.Subject); err == nil {
		l.Unread = n
	} else if r.Context().Err() == nil {
		s.cfg.Logger.Warn("counting unread notifications", "err", err)
	}
	return l
}

func (s *server) render(w http.ResponseWriter, r *http.Request, status int, p pages.Page) {
	w.Header().Set("Cache-Control", "no-store")
	if err := pages.Render(w, status, p); err != nil {
		s.cfg.Logger.Error("rendering page", "route", r.Pattern, "err", err)
	}
}

// pageError answers a refused or failed page request. A missing session
// goes to sign in and a missing second factor to step up; everything else
// is a page saying what went wrong, never how.
func (s *server) pageError(w http.ResponseWriter, r *http.Request, p identity.Principal, err error) {
	var te *identity.ThrottledError
	var de *identity.DecidedError
	var ce *identity.ChangeError
	var ve *validationError
	msg := pages.Message{Status: http.StatusInternalServerError, Heading: "Sorry, there is a problem with the service",
		Body: "Try again later. The problem has been logged."}
	switch {
	case errors.Is(err, identity.ErrUnauthenticated):
		clearCookie(w, sessionCookie, s.cfg.SecureCookies)
		http.Redirect(w, r, "/sign-in?next="+url.QueryEscape(returnPath(r)), http.StatusSeeOther)
		return
	case errors.Is(err, identity.ErrStepUpRequired):
		http.Redirect(w, r, "/step-up?next="+url.QueryEscape(returnPath(r)), http.StatusSeeOther)
		return
	case errors.Is(err, errForbidden), errors.Is(err, identity.ErrNotAdmin), errors.Is(err, retention.ErrHoldForbidden),
		errors.Is(err, subjectaccess.ErrForbidden):
		msg = pages.Message{Status: http.StatusForbidden, Heading: "You cannot do that",
			Body: "Your role (" + p.Role.Title() + ") does not allow it. If you hold another role, switch to it first."}
	case errors.As(err, new(*subjectaccess.OwnRequestError)):
		msg = pages.Message{Status: http.StatusForbidden, Heading: "You cannot handle your own request",
			Body: "Another Data Protection Officer must handle a subject access request you made."}
	case errors.Is(err, identity.ErrSelfApproval):
		msg = pages.Message{Status: http.StatusForbidden, Heading: "You cannot decide your own change",
			Body: "Another administrator must approve or reject a change you proposed."}
	case errors.Is(err, inform.ErrNoNotice):
		msg = pages.Message{Status: http.StatusNotFound, Heading: "No monitoring notice has been published yet",
			Body: "The organisation has not yet published its monitoring notice. Why it may monitor its systems, and under which law, is at /purposes and /legislation."}
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		msg = pages.Message{Status: http.StatusNotFound, Heading: "Page not found",
			Body: "If you typed the web address, check it is correct."}
	case errors.As(err, &te):
		msg = pages.Message{Status: http.StatusTooManyRequests, Heading: "Too many attempts", Body: te.Error()}
	case errors.As(err, &de), errors.Is(err, identity.ErrStale), errors.Is(err, store.ErrConflict):
		msg = pages.Message{Status: http.StatusConflict, Heading: "This has changed", Body: err.Error()}
	case errors.As(err, &ce), errors.As(err, &ve), errors.Is(err, identity.ErrNoChange):
		msg = pages.Message{Status: http.StatusBadRequest, Heading: "That cannot be done", Body: err.Error()}
	default:
		// The route pattern, not the path: a set-up link's path is a secret.
		s.cfg.Logger.Error("page failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	msg.Layout = s.layout(r, p, msg.Heading)
	s.render(w, r, msg.Status, &msg)
}

// returnPath is where to come back to after signing in or stepping up: the
// page itself for a GET, the page a form was on for a POST.
func returnPath(r *http.Request) string {
	if r.Method == http.MethodGet {
		if r.URL.RawQuery != "" {
			return r.URL.Path + "?" + r.URL.RawQuery
		}
		return r.URL.Path
	}
	if strings.HasPrefix(r.URL.Path, "/changes/") {
		return "/changes"
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/requests/"); ok {
		// A request's forms come back to the request's page.
		id, _, _ := strings.Cut(rest, "/")
		return "/requests/" + id
	}
	if r.URL.Path == "/holds" || strings.HasPrefix(r.URL.Path, "/holds/") {
		return "/holds"
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/subject-access-requests/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		return "/subject-access-requests/" + id
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/people/"); ok {
		return "/people/" + strings.TrimSuffix(id, "/change")
	}
	return "/"
}

// safeNext is safeNext, landing on the node's home: the national
// report on the national node, which serves no other page.
func (s *server) safeNext(next string) string {
	if next = safeNext(next); next == "/" && s.cfg.National != nil {
		return "/national/report"
	}
	return next
}

// safeNext keeps next only if it is a path on this site, so that sign-in
// cannot be turned into an open redirect.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 1024 {
		return "/"
	}
	return next
}

// cookieName is name with the __Host- prefix when cookies are Secure: a
// browser then refuses the cookie from anything but this exact host over
// HTTPS, so a sibling subdomain cannot plant a session or a sign-in
// attempt (login CSRF).
func cookieName(name string, secure bool) string {
	if secure {
		return "__Host-" + name
	}
	return name
}

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(name, secure), Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

func clearCookie(w http.ResponseWriter, name string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: cookieName(name, secure), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// endSession revokes the session a browser already holds before it signs
// in again, so that one browser never holds two live sessions.
func (s *server) endSession(r *http.Request, p identity.Principal) {
	if p.Kind == identity.KindSession {
		if err := s.sessions.SignOut(r.Context(), p, s.cfg.Now()); err != nil {
			s.cfg.Logger.Warn("revoking the previous session", "err", err)
		}
	}
}

// parseForm reads a form body of at most maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	return parseFormUpTo(w, r, maxFormBytes)
}

// parseFormUpTo reads a form body of at most limit bytes.
func parseFormUpTo(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		return &validationError{"form", "the form could not be read"}
	}
	return nil
}

func (s *server) signInPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	next := s.safeNext(r.URL.Query().Get("next"))
	if p.Kind == identity.KindSession {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	page := &pages.SignIn{Layout: s.layout(r, p, "Sign in"), OIDC: s.cfg.OIDC != nil, Next: next}
	switch r.URL.Query().Get("done") {
	case "setup":
		page.Notice = "Your password and second factor are set. Sign in with them now."
	case "sign-out":
		page.Notice = "You have signed out."
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) signIn(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	username, next := strings.TrimSpace(r.PostFormValue("username")), s.safeNext(r.PostFormValue("next"))
	token, _, err := s.sessions.SignIn(r.Context(), username, r.PostFormValue("password"), clientAddr(r), s.cfg.Now())
	if err != nil {
		page := &pages.SignIn{Layout: s.layout(r, identity.Principal{}, "Sign in"), OIDC: s.cfg.OIDC != nil, Username: username, Next: next}
		status := http.StatusUnauthorized
		var te *identity.ThrottledError
		switch {
		case errors.As(err, &te):
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", fmt.Sprint(int(te.Wait.Seconds())+1))
			page.Errors = []pages.FieldError{{Field: "username", Message: te.Error()}}
		case errors.Is(err, identity.ErrBadCredentials):
			page.Errors = []pages.FieldError{{Field: "password", Message: "The username or password is not right"}}
		default:
			s.pageError(w, r, p, err)
			return
		}
		s.render(w, r, status, page)
		return
	}
	s.endSession(r, p)
	setCookie(w, sessionCookie, token, identity.SessionLifetime, s.cfg.SecureCookies)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// clientAddr is the caller's IP address, for throttling. Behind a proxy
// every caller shares the proxy's address; the per-username throttle
// still holds.
func clientAddr(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}

func (s *server) signOut(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := s.sessions.SignOut(r.Context(), p, s.cfg.Now()); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	clearCookie(w, sessionCookie, s.cfg.SecureCookies)
	http.Redirect(w, r, "/sign-in?done=sign-out", http.StatusSeeOther)
}

func (s *server) stepUpPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	page := &pages.StepUp{Layout: s.layout(r, p, "Confirm it’s you"), Next: s.safeNext(r.URL.Query().Get("next"))}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) stepUp(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	next := s.safeNext(r.PostFormValue("next"))
	err := s.sessions.StepUp(r.Context(), p, strings.TrimSpace(r.PostFormValue("code")), s.cfg.Now())
	if err != nil {
		page := &pages.StepUp{Layout: s.layout(r, p, "Confirm it’s you"), Next: next}
		var te *identity.ThrottledError
		status := http.StatusForbidden
		switch {
		case errors.As(err, &te):
			status = http.StatusTooManyRequests
			page.Errors = []pages.FieldError{{Field: "code", Message: te.Error()}}
		case errors.Is(err, identity.ErrBadCode):
			page.Errors = []pages.FieldError{{Field: "code", Message: "The code is not right, or has been used. Enter the code your app shows now"}}
		case errors.Is(err, identity.ErrNoSecondFactor):
			page.Errors = []pages.FieldError{{Field: "code", Message: "You have no second factor set up. Ask an administrator for a set-up link"}}
		default:
			s.pageError(w, r, p, err)
			return
		}
		s.render(w, r, status, page)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) switchRole(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	token, _, err := s.sessions.SwitchRole(r.Context(), p, identity.Role(r.PostFormValue("role")), s.cfg.Now())
	if errors.Is(err, identity.ErrRoleNotHeld) {
		s.pageError(w, r, p, errForbidden)
		return
	} else if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	setCookie(w, sessionCookie, token, identity.SessionLifetime, s.cfg.SecureCookies)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *server) setupPage(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	token := r.PathValue("token")
	p, err := identity.Authenticate(r.Context(), s.cfg.Store, token, s.cfg.Now(), identity.KindSetup)
	if err != nil {
		s.setupGone(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, s.setupForm(r, token, p.Subject))
}

// setupForm is the set-up page; account names the person in the
// authenticator app.
func (s *server) setupForm(r *http.Request, token, account string) *pages.Setup {
	secret := identity.SetupSecret(token)
	p := &pages.Setup{Layout: s.layout(r, identity.Principal{}, "Set up your account"), Token: token, Account: account,
		Secret: identity.FormatTOTPSecret(secret), URI: identity.TOTPURI("lbm", account, secret)}
	return p
}

func (s *server) setupGone(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, identity.ErrUnauthenticated) {
		s.pageError(w, r, identity.Principal{}, err)
		return
	}
	msg := &pages.Message{Layout: s.layout(r, identity.Principal{}, "Link not valid"), Status: http.StatusNotFound,
		Heading: "This link is not valid", Body: "It has expired or has already been used. Ask an administrator for a new set-up link."}
	s.render(w, r, http.StatusNotFound, msg)
}

func (s *server) setup(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	token := r.PathValue("token")
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, identity.Principal{}, err)
		return
	}
	_, err := identity.CompleteSetup(r.Context(), s.cfg.Store, s.cfg.KEK, token, r.PostFormValue("password"), r.PostFormValue("confirm"),
		strings.TrimSpace(r.PostFormValue("code")), s.cfg.Now())
	if err == nil {
		// Redirect, so that the spent link leaves the address bar and a
		// reload does not post the form again.
		http.Redirect(w, r, "/sign-in?done=setup", http.StatusSeeOther)
		return
	}
	holder, _ := identity.Authenticate(r.Context(), s.cfg.Store, token, s.cfg.Now(), identity.KindSetup)
	page := s.setupForm(r, token, holder.Subject)
	switch {
	case errors.Is(err, identity.ErrUnauthenticated):
		s.setupGone(w, r, err)
		return
	case errors.Is(err, identity.ErrPasswordsDiffer):
		page.Errors = []pages.FieldError{{Field: "confirm", Message: "The passwords do not match"}}
	case errors.Is(err, identity.ErrBadCode):
		page.Errors = []pages.FieldError{{Field: "code", Message: "The code is not right. Enter the code your app shows now"}}
	default:
		if strings.HasPrefix(err.Error(), "password") {
			page.Errors = []pages.FieldError{{Field: "password", Message: strings.ToUpper(err.Error()[:1]) + err.Error()[1:]}}
			break
		}
		s.pageError(w, r, identity.Principal{}, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, page)
}

func (s *server) home(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	page := &pages.Home{Layout: s.layout(r, p, "Home")}
	if p.Person != nil {
		me := s.personView(*p.Person, s.cfg.Now())
		page.Me = &me
	}
	switch p.Role {
	case identity.RoleAdmin:
		pending, err := s.cfg.Store.ListChanges(r.Context(), identity.ChangePending)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		page.Cards = []pages.Card{
			{Title: "People", Href: "/people", Text: "Find people in the directory and propose changes to their roles."},
			{Title: "Changes", Href: "/changes", Text: waiting(len(pending))},
			{Title: "Monitoring notices", Href: "/notices", Text: "Draft, preview and propose publishing the notice everyone acknowledges."},
			{Title: "Who has not acknowledged", Href: "/reports/notices", Text: "The people who have not acknowledged the current notice, by unit and line manager."},
			{Title: "Catalogue", Href: "/catalogue", Text: "The lawful purposes, the law and the proportionality criteria, and their history."},
			{Title: "Authorisation levels", Href: "/consent-policy", Text: "The policy deciding which rank authorises a request and whose advice it needs, and its history."},
			{Title: "Detection rules", Href: "/rules", Text: "The rules deciding what raises an alert, and their history."},
			{Title: "Oversight report", Href: "/reports/oversight", Text: "The figures for any period: requests, decisions, reviews, accesses, refusals, alerts, notice coverage."},
			{Title: "Oversight log", Href: "/oversight", Text: "What administrators did, including changes made offline (break-glass)."},
		}
	case identity.RoleOversight:
		page.Cards = []pages.Card{
			{Title: "People", Href: "/people", Text: "Who holds which role and rank."},
			{Title: "Changes", Href: "/changes", Text: "Every proposed change to roles and policy, who proposed it and who decided it."},
			{Title: "Monitoring notices", Href: "/notices", Text: "Every version of the notice, and when it was published."},
			{Title: "Who has not acknowledged", Href: "/reports/notices", Text: "Coverage of the current notice, by unit and line manager."},
			{Title: "Catalogue", Href: "/catalogue", Text: "Every version of the purposes, the law and the criteria."},
			{Title: "Authorisation levels", Href: "/consent-policy", Text: "Every version of the policy deciding which rank authorises a request."},
			{Title: "Detection rules", Href: "/rules", Text: "Every version of the rules deciding what raises an alert."},
			{Title: "Oversight report", Href: "/reports/oversight", Text: "The figures for any period, with charts, as CSV or JSON, or printed."},
			{Title: "Oversight log", Href: "/oversight", Text: "Everything the monitors and administrators did, with break-glass changes marked."},
			{Title: "Log verification", Href: "/oversight/verification", Text: "Check that nobody rewrote either log after publishing a checkpoint."},
		}
	case identity.RoleDPO:
		page.Cards = []pages.Card{
			{Title: "Subject access requests", Href: "/subject-access-requests", Text: "Requests from staff for their own data."},
			{Title: "Legal holds", Href: "/holds", Text: "Keep a person's monitoring data past its retention, for litigation or a complaint, and release it again."},
			{Title: "Who has not acknowledged", Href: "/reports/notices", Text: "Coverage of the current monitoring notice."},
		}
	}
	switch p.Role {
	case identity.RoleInvestigator:
		page.Cards = append(page.Cards, pages.Card{Title: "Requests", Href: "/requests", Text: "Your requests to review, monitor or record someone's activity, and a new one."},
			pages.Card{Title: "Alerts", Href: "/alerts", Text: "What the detection rules flagged, by pseudonym, to triage."})
	case identity.RoleAuthoriser:
		page.Cards = append(page.Cards, pages.Card{Title: "Requests to decide", Href: "/requests", Text: "Requests awaiting your decision, and authorisations in force you may review."})
	case identity.RoleAdviser, identity.RoleDPO:
		page.Cards = append(page.Cards, pages.Card{Title: "Requests awaiting your view", Href: "/requests", Text: "Requests that need your view before they are decided."})
	case identity.RoleOversight:
		page.Cards = append(page.Cards, pages.Card{Title: "Central record", Href: "/central-record", Text: "Every request ever made, and what became of it."},
			pages.Card{Title: "Alerts", Href: "/alerts", Text: "What the detection rules flagged, and how each was handled."})
	}
	if p.Role == identity.RoleOversight || p.Role == identity.RoleAdmin {
		overdue, err := s.cfg.RelevantErrors.CountOverdue(r.Context(), p)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		card := pages.Card{Title: "Relevant errors", Href: "/relevant-errors",
			Text: "Data processed outside an authorisation, or an authorisation found defective: each reported to the oversight body within 10 working days."}
		switch {
		case overdue == 1:
			card.Warning = "1 relevant error is overdue"
		case overdue > 1:
			card.Warning = fmt.Sprintf("%d relevant errors are overdue", overdue)
		}
		page.Cards = append(page.Cards, card)
	}
	noticeText := "What is monitored, why, under which law, and who can look."
	if p.Person != nil {
		waiting, err := inform.AwaitingAcknowledgement(r.Context(), s.cfg.Store, p.Subject)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		if waiting > 0 {
			noticeText = fmt.Sprintf("Version %d has been published: please read it and acknowledge it.", waiting)
		}
	}
	page.Cards = append(page.Cards,
		pages.Card{Title: "Monitoring notice", Href: "/notice", Text: noticeText},
		pages.Card{Title: "Monitoring and your data", Href: "/me", Text: "Your acknowledgements, what is recorded about everyone, and how to ask for your data."})
	s.render(w, r, http.StatusOK, page)
}

func waiting(n int) string {
	switch n {
	case 0:
		return "No changes are waiting for a second administrator."
	case 1:
		return "1 change is waiting for a second administrator."
	}
	return fmt.Sprintf("%d changes are waiting for a second administrator.", n)
}

func (s *server) personRow(p store.Person, now time.Time) pages.PersonRow {
	row := pages.PersonRow{ID: p.ID, Name: p.Name, Number: p.Number, Unit: p.Unit, RankOrGrade: rankOrGrade(p),
		Roles: roleTitles(p.Roles), Status: "Active"}
	if !p.LeftOn.IsZero() {
		verb := "Leaves on "
		if identity.Left(p, now) {
			verb = "Left on "
		}
		row.Status = verb + p.LeftOn.Format("2 January 2006")
	}
	return row
}

func rankOrGrade(p store.Person) string {
	if p.Rank != "" {
		return identity.Rank(p.Rank).Title()
	}
	if p.Grade != "" {
		return "Grade " + p.Grade
	}
	return ""
}

func roleTitles(roles []string) string {
	var out []string
	for _, r := range roles {
		out = append(out, identity.Role(r).Title())
	}
	return strings.Join(out, ", ")
}

func (s *server) peoplePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ps, next, err := s.listPeople(r)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	total, err := s.cfg.Store.CountPeople(r.Context())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.People{Layout: s.layout(r, p, "People"), Query: r.URL.Query().Get("q"), Total: total}
	now := s.cfg.Now()
	for _, person := range ps {
		page.Rows = append(page.Rows, s.personRow(person, now))
	}
	if next != "" {
		page.Next = "/people?" + url.Values{"q": {page.Query}, "after": {next}}.Encode()
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) personView(p store.Person, now time.Time) pages.PersonView {
	row := s.personRow(p, now)
	adviser := map[string]string{identity.AdviserLegal: "Legal", identity.AdviserDPO: "Data protection", identity.AdviserEthics: "Ethics"}[p.Adviser]
	rank := ""
	if p.Rank != "" {
		rank = identity.Rank(p.Rank).Title()
	}
	return pages.PersonView{ID: p.ID, Name: p.Name, Number: p.Number, Unit: p.Unit, Manager: p.Manager, Rank: rank,
		Grade: p.Grade, Roles: row.Roles, Adviser: adviser, Status: row.Status, Version: fmt.Sprint(p.Version),
		Emails: strings.Join(p.Emails, ", "), Username: p.Username}
}

func (s *server) changeRow(c store.Change, viewer identity.Principal) pages.ChangeRow {
	row := pages.ChangeRow{ID: c.ID, Target: c.Target, Reason: c.Reason, ProposedBy: c.ProposedBy,
		Proposed: displayTime(c.Proposed), State: changeStates[c.State], DecidedBy: c.DecidedBy, Decided: displayTime(c.Decided)}
	switch c.Kind {
	case identity.ChangePerson:
		var pc identity.PersonChange
		json.Unmarshal(c.Payload, &pc)
		row.TargetHref = "/people/" + url.PathEscape(c.Target)
		row.Summary = "Roles: " + roleTitles(pc.Roles)
		if pc.Adviser != "" {
			row.Summary += "; adviser: " + pc.Adviser
		}
	case identity.ChangeNotice:
		row.Target = "Monitoring notice version " + c.Target
		row.TargetHref = "/notices/" + url.PathEscape(c.Target)
		row.Summary = "Publish notice version " + c.Target + ": everyone is asked to acknowledge it"
	case identity.ChangeCatalogue:
		row.Target = "Catalogue"
		row.TargetHref = "/catalogue/changes/" + url.PathEscape(c.ID)
		row.Summary = fmt.Sprintf("Replace catalogue version %d (purposes, legislation, criteria, retention schedule) with version %d", c.Base, c.Base+1)
	case identity.ChangeConsentPolicy:
		row.Target = "Authorisation levels"
		row.TargetHref = "/consent-policy/changes/" + url.PathEscape(c.ID)
		row.Summary = fmt.Sprintf("Replace version %d of the authorisation-level policy (who may authorise a request, and with whose advice) with version %d", c.Base, c.Base+1)
	case identity.ChangeRules:
		row.Target = "Detection rules"
		row.TargetHref = "/rules/changes/" + url.PathEscape(c.ID)
		row.Summary = fmt.Sprintf("Replace version %d of the detection rules (what raises an alert) with version %d", c.Base, c.Base+1)
	}
	row.CanDecide = c.State == identity.ChangePending && identity.CheckDecider(c, viewer) == nil
	return row
}

// changeStates are the states of a change as pages show them.
var changeStates = map[string]string{
	identity.ChangePending: "Pending", identity.ChangeApproved: "Approved", identity.ChangeRejected: "Rejected",
}

// displayTime is t as pages show it; "" for the zero time.
func displayTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 January 2006 15:04 UTC")
}

// formatTime is t as the API gives it; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (s *server) personPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	person, err := s.cfg.Store.PersonByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	cs, err := s.cfg.Store.ListChanges(r.Context(), "")
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Person{Layout: s.layout(r, p, person.Name), P: s.personView(person, s.cfg.Now()),
		CanPropose: p.Role == identity.RoleAdmin && !identity.Left(person, s.cfg.Now())}
	for _, c := range cs {
		if c.Kind == identity.ChangePerson && c.Target == person.ID {
			page.Changes = append(page.Changes, s.changeRow(c, p))
		}
	}
	if r.URL.Query().Has("proposed") {
		page.Notice = "Change proposed. It takes effect when another administrator approves it."
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) proposeForm(r *http.Request, p identity.Principal, person store.Person, roles []string, adviser, reason string) *pages.ProposeChange {
	page := &pages.ProposeChange{Layout: s.layout(r, p, "Propose a change"), P: s.personView(person, s.cfg.Now()), Reason: reason}
	for _, role := range identity.PersonRoles() {
		page.RoleOptions = append(page.RoleOptions, pages.Option{Value: string(role), Label: role.Title(), Selected: slices.Contains(roles, string(role))})
	}
	for _, a := range []struct{ v, l string }{{"", "None"}, {identity.AdviserLegal, "Legal"}, {identity.AdviserDPO, "Data protection"}, {identity.AdviserEthics, "Ethics"}} {
		page.Advisers = append(page.Advisers, pages.Option{Value: a.v, Label: a.l, Selected: adviser == a.v})
	}
	return page
}

func (s *server) proposePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	person, err := s.cfg.Store.PersonByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, s.proposeForm(r, p, person, person.Roles, person.Adviser, ""))
}

func (s *server) propose(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	person, err := s.cfg.Store.PersonByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	roles, adviser, reason := r.PostForm["roles"], r.PostFormValue("adviser"), r.PostFormValue("reason")
	_, err = s.proposeChange(r, p, person.ID, identity.PersonChange{Roles: roles, Adviser: adviser}, reason)
	var ce *identity.ChangeError
	switch {
	case err == nil:
		http.Redirect(w, r, "/people/"+url.PathEscape(person.ID)+"?proposed=1", http.StatusSeeOther)
		return
	case errors.As(err, &ce):
		page := s.proposeForm(r, p, person, roles, adviser, reason)
		page.Errors = []pages.FieldError{{Field: ce.Field, Message: strings.ToUpper(ce.Msg[:1]) + ce.Msg[1:]}}
		s.render(w, r, http.StatusBadRequest, page)
	case errors.Is(err, identity.ErrNoChange):
		page := s.proposeForm(r, p, person, roles, adviser, reason)
		page.Errors = []pages.FieldError{{Field: "roles", Message: "The change would change nothing: choose different roles or adviser kind"}}
		s.render(w, r, http.StatusBadRequest, page)
	default:
		s.pageError(w, r, p, err)
	}
}

func (s *server) changesPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	cs, err := s.cfg.Store.ListChanges(r.Context(), "")
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Changes{Layout: s.layout(r, p, "Changes")}
	for _, c := range cs {
		row := s.changeRow(c, p)
		if c.State == identity.ChangePending {
			page.Pending = append(page.Pending, row)
		} else if len(page.Decided) < 100 {
			page.Decided = append(page.Decided, row)
		}
	}
	if r.URL.Query().Has("proposed") {
		page.Notice = "Change proposed. It takes effect when another administrator approves it."
	}
	switch r.URL.Query().Get("decided") {
	case identity.ChangeApproved:
		page.Notice = "Change approved. It has taken effect."
	case identity.ChangeRejected:
		page.Notice = "Change rejected."
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) decidePage(w http.ResponseWriter, r *http.Request, p identity.Principal, approve bool) {
	c, _, err := s.decideChange(r, p, approve)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/changes?decided="+c.State, http.StatusSeeOther)
}

func (s *server) approvePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.decidePage(w, r, p, true)
}

func (s *server) rejectPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.decidePage(w, r, p, false)
}

// oidcCookie holds a sign-in attempt between lbm and the provider. It is
// SameSite=Lax because the provider's redirect back is a cross-site
// top-level navigation, which Strict would strip it from.
const oidcCookie = "lbm_oidc"

type oidcAttempt struct {
	oidc.Attempt
	Next string
}

func (s *server) oidcStart(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if s.cfg.OIDC == nil {
		s.pageError(w, r, p, errNotFound)
		return
	}
	a, authURL := s.cfg.OIDC.Start()
	b, _ := json.Marshal(oidcAttempt{Attempt: a, Next: s.safeNext(r.URL.Query().Get("next"))})
	setCookie(w, oidcCookie, base64.RawURLEncoding.EncodeToString(b), 10*time.Minute, s.cfg.SecureCookies)
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

func (s *server) oidcCallback(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if s.cfg.OIDC == nil {
		s.pageError(w, r, p, errNotFound)
		return
	}
	next := "/"
	failed := func(why string, err error) {
		if err != nil {
			s.cfg.Logger.Warn("identity provider sign-in refused", "why", why, "err", err)
		}
		page := &pages.SignIn{Layout: s.layout(r, identity.Principal{}, "Sign in"), OIDC: true, Next: next}
		page.Errors = []pages.FieldError{{Field: "username", Message: "Signing in with your organisation account did not work: " + why}}
		s.render(w, r, http.StatusUnauthorized, page)
	}
	c, err := r.Cookie(cookieName(oidcCookie, s.cfg.SecureCookies))
	clearCookie(w, oidcCookie, s.cfg.SecureCookies)
	if err != nil {
		failed("the sign-in took too long or was started elsewhere. Try again", nil)
		return
	}
	var a oidcAttempt
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(b, &a) != nil {
		failed("the sign-in took too long or was started elsewhere. Try again", nil)
		return
	}
	next = safeNext(a.Next)
	if e := r.URL.Query().Get("error"); e != "" {
		// Anyone can put anything here: only the codes RFC 6749 §4.1.2.1
		// and OpenID Connect define reach the log.
		if !slices.Contains(oauthErrors, e) {
			e = "(not a standard error code)"
		}
		failed("the identity provider refused", errors.New(e))
		return
	}
	id, err := s.cfg.OIDC.Finish(r.Context(), a.Attempt, r.URL.Query().Get("state"), r.URL.Query().Get("code"))
	if err != nil {
		failed("the identity provider's answer could not be checked", err)
		return
	}
	now := s.cfg.Now()
	person, before, err := identity.MergeExternal(r.Context(), s.cfg.Store, identity.External{ID: id.ID, Name: id.Name, Unit: id.Unit,
		Rank: id.Rank, Grade: id.Grade, Roles: id.Roles, Email: id.Email}, s.cfg.Grades, now)
	if err != nil {
		failed("your account's details were not accepted", err)
		return
	}
	if !slices.Equal(before.Roles, person.Roles) || before.Rank != person.Rank || before.Grade != person.Grade ||
		!slices.Equal(before.Emails, person.Emails) {
		// Who may do what changed at the provider: oversight sees it here,
		// as it sees dual-control changes and HR imports. So does a new
		// address, which changes whose captured mail is attributed to whom.
		_, err := s.cfg.Record(r.Context(), "lbm", "person_updated_by_identity_provider", map[string]any{
			"person": person.ID, "roles": person.Roles, "rank": person.Rank, "grade": person.Grade,
			"previous_roles": before.Roles, "previous_rank": before.Rank, "previous_grade": before.Grade,
			"emails": person.Emails, "previous_emails": before.Emails,
		})
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
	}
	token, _, err := s.sessions.SignInExternal(r.Context(), person, now)
	if err != nil {
		failed("your account cannot sign in to lbm", err)
		return
	}
	s.endSession(r, p)
	setCookie(w, sessionCookie, token, identity.SessionLifetime, s.cfg.SecureCookies)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// oauthErrors are the error codes an authorization response may carry.
var oauthErrors = []string{"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable", "interaction_required", "login_required",
	"account_selection_required", "consent_required", "invalid_request_uri", "invalid_request_object",
	"request_not_supported", "request_uri_not_supported", "registration_not_supported"}

// formStep runs step, posted from the page at href of a record with its
// own state machine (a relevant error, a subject access request). Done,
// it redirects to href?saved=1. Refused for its input, or by problem as a
// conflict with the record's state, it shows the page again (again) with
// the errors, and 400 or 409; anything else is the error page.
func (s *server) formStep(w http.ResponseWriter, r *http.Request, p identity.Principal, href string, step func(url.Values) error,
	problem func(error) (Problem, bool), again func([]pages.FieldError) (pages.Page, error)) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	err := step(r.PostForm)
	if err == nil {
		http.Redirect(w, r, href+"?saved=1", http.StatusSeeOther)
		return
	}
	errs, ok := fieldErrorsOf(err)
	status := http.StatusBadRequest
	if !ok {
		prob, known := problem(err)
		if !known || prob.Status != http.StatusConflict {
			s.pageError(w, r, p, err)
			return
		}
		errs, status = []pages.FieldError{{Field: "action", Message: prob.Detail}}, prob.Status
	}
	page, err := again(errs)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, status, page)
}
