package web_test

import (
	"encoding/json"
	"github.com/lbm-project/lbm/internal/alerts"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/relevanterror"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/retention"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

// staffPassword is staff1's password in every people environment.
const staffPassword = "correct horse battery staple"

// holdReason is the reason of the legal hold on staff1 in every people
// environment: nothing staff1 sees may show it.
const holdReason = "Employment tribunal claim ET/4242/26 against the force"

// actor is one caller of a people environment.
type actor struct {
	person string // "" for anonymous, a source or the bootstrap token
	bearer string // API token
	cookie string // session, stepped up at creation
	secret []byte // TOTP secret
}

type peopleEnv struct {
	srv    *httptest.Server
	node   *server.Node
	actors map[string]actor
	change string // a pending change proposed by adm1 to staff1's roles
	setup  string // a set-up link token for inv1
	draft  string // the version of a draft notice; version 1 is published
	// catalogueChange is a pending catalogue change proposed by adm1.
	catalogueChange string
	// request is a draft request to review staff1's activity, by inv1.
	request string
	// alert is a new alert about someone outside the directory.
	alert string
	// relevantError is an open entry of the register, raised by oversight.
	relevantError string
	// hold is a legal hold in force on staff1, placed by dpo1.
	hold string
	// sar is staff1's subject access request, received.
	sar string
}

// newPeopleEnv is a server with one person in each role, each holding an
// API token, a stepped-up session and a second factor.
func newPeopleEnv(t *testing.T) *peopleEnv {
	t.Helper()
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	now := n.Now()
	e := &peopleEnv{node: n, actors: map[string]actor{"anonymous": {}}}
	feed, err := identity.AddSource(ctx, n.Store, "pnc", now)
	if err != nil {
		t.Fatal(err)
	}
	e.actors["source"] = actor{bearer: feed}
	admin, err := readToken(n.AdminTokenPath)
	if err != nil {
		t.Fatal(err)
	}
	e.actors["bootstrap"] = actor{bearer: admin}
	people := []struct{ id, role, rank, adviser string }{
		{"staff1", "staff", "constable", ""},
		{"inv1", "investigator", "sergeant", ""},
		{"auth1", "authoriser", "superintendent", ""},
		{"adv1", "adviser", "", "legal"},
		{"dpo1", "dpo", "", ""},
		{"ovs1", "oversight", "", ""},
		{"adm1", "admin", "", ""},
		{"adm2", "admin", "", ""},
	}
	var ps []store.Person
	for _, p := range people {
		roles := []string{"staff"}
		if p.role != "staff" {
			roles = append(roles, p.role)
		}
		ps = append(ps, store.Person{ID: p.id, Name: "Person " + p.id, Unit: "Unit A", Rank: p.rank, Roles: slices.Sorted(slices.Values(roles)), Adviser: p.adviser, Updated: now})
	}
	if _, _, err := n.Store.PutPeople(ctx, ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		a := actor{person: p.id, secret: identity.NewTOTPSecret()}
		sealed, err := identity.SealTOTP(n.KEK, p.id, a.secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Store.PutCredential(ctx, store.Credential{Person: p.id, TOTPSecret: sealed, Updated: now}); err != nil {
			t.Fatal(err)
		}
		if a.bearer, err = identity.NewUserToken(ctx, n.Store, p.id, identity.Role(p.role), now); err != nil {
			t.Fatal(err)
		}
		cookie, hash := identity.NewToken()
		if err := n.Store.AddToken(ctx, store.Token{Hash: hash, Kind: identity.KindSession, Subject: p.id, Role: p.role,
			Created: now, Expires: now.Add(identity.SessionLifetime), SteppedUp: now}); err != nil {
			t.Fatal(err)
		}
		a.cookie = cookie
		who := p.role
		if p.id == "adm1" {
			who = "proposer"
		}
		e.actors[who] = a
	}
	if err := identity.SetPassword(ctx, n.Store, n.KEK, "staff1", staffPassword, nil, now); err != nil {
		t.Fatal(err)
	}
	adm1 := identity.Principal{Kind: identity.KindUser, Subject: "adm1", Role: identity.RoleAdmin}
	c, err := identity.ProposePersonChange(ctx, n.Store, adm1, "staff1", identity.PersonChange{Roles: []string{"staff", "oversight"}}, "covers oversight duty", now)
	if err != nil {
		t.Fatal(err)
	}
	e.change = c.ID
	if e.setup, err = identity.NewSetupLink(ctx, n.Store, "inv1", now); err != nil {
		t.Fatal(err)
	}
	e.draft = publishNotice(t, n)
	f := policy.DefaultFiles()
	cc, err := identity.ProposeCatalogueChange(ctx, n.Store, adm1, identity.CatalogueChange{
		Purposes: strings.Replace(string(f.Purposes), "title: ", "title: Proposed ", 1), Legislation: string(f.Legislation), Criteria: string(f.Criteria),
		Categories: string(f.Categories),
	}, "clearer", now)
	if err != nil {
		t.Fatal(err)
	}
	e.catalogueChange = cc.ID
	inv1 := identity.Principal{Kind: identity.KindUser, Subject: "inv1", Role: identity.RoleInvestigator}
	draft, err := n.Requests.Create(ctx, inv1, requests.Request{Subjects: []string{"staff1"}, Investigators: []string{"inv1"}, Mode: "review"})
	if err != nil {
		t.Fatal(err)
	}
	e.request = draft.ID
	e.alert = addAlert(t, n, "outsider")
	re, err := n.RelevantErrors.Raise(ctx, identity.Principal{Kind: identity.KindUser, Subject: "ov1", Role: identity.RoleOversight},
		relevanterror.RaiseInput{Kind: relevanterror.OutsideAuthorisation, Description: "a mailbox searched outside the window", IdentifiedAt: n.Now()})
	if err != nil {
		t.Fatal(err)
	}
	e.relevantError = re.ID
	hold, err := retention.PlaceHold(ctx, n.Store, n.OversightAccess, identity.Principal{Kind: identity.KindUser, Subject: "dpo1", Role: identity.RoleDPO},
		"staff1", holdReason, n.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.hold = hold.ID
	e.sar = "sar-staff1"
	if err := n.Store.AddSubjectAccessRequest(ctx, store.SubjectAccessRequest{ID: e.sar, Person: "staff1", Made: now, Details: "everything",
		State: "received"}); err != nil {
		t.Fatal(err)
	}
	cfg := server.WebConfig(n)
	cfg.Throttle = &identity.Throttle{}
	if cfg.Capture == nil {
		cfg.Capture = capturetest.New()
	}
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// code is a current second-factor code of who, or a wrong one.
func (e *peopleEnv) code(who string) string {
	a := e.actors[who]
	if a.secret == nil {
		return "000000"
	}
	return identity.TOTPCode(a.secret, e.node.Now())
}

// call sends a request as who: with their session cookie to a page, with
// their bearer token (and a current code) to the API.
func (e *peopleEnv) call(t *testing.T, who string, page bool, method, path, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	a := e.actors[who]
	if strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", "application/json")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	switch {
	case page && a.cookie != "":
		req.AddCookie(&http.Cookie{Name: "lbm_session", Value: a.cookie})
	case a.bearer != "":
		// Pages ignore bearer tokens: a source or the bootstrap token on a
		// page is an anonymous caller.
		req.Header.Set("Authorization", "Bearer "+a.bearer)
		if a.secret != nil {
			req.Header.Set("LBM-OTP", e.code(who))
		}
	}
	return e.send(t, req)
}

func (e *peopleEnv) send(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// publishNotice publishes the generated notice as version 1, as adm1 and
// adm2 would, and drafts version 2; it returns "2".
func publishNotice(t *testing.T, n *server.Node) string {
	t.Helper()
	ctx := t.Context()
	now := n.Now()
	adm1 := identity.Principal{Kind: identity.KindUser, Subject: "adm1", Role: identity.RoleAdmin}
	adm2 := identity.Principal{Kind: identity.KindUser, Subject: "adm2", Role: identity.RoleAdmin}
	d, err := inform.DefaultNotice(inform.DefaultInput{Catalogue: policy.Default(), Sources: []string{"pnc"}})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := inform.DraftNotice(ctx, n.Store, adm1, d, policy.DefaultCategories(), now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := identity.ProposeNoticePublication(ctx, n.Store, adm1, v1.Version, "first notice", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := identity.DecideChange(ctx, n.Store, adm2, c.ID, true, now); err != nil {
		t.Fatal(err)
	}
	d.Title = "How we monitor the use of our systems (2)"
	v2, err := inform.DraftNotice(ctx, n.Store, adm1, d, policy.DefaultCategories(), now)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(v2.Version, 10)
}

// addAlert stores a new alert about subject, as a detector would, and
// returns its id.
func addAlert(t *testing.T, n *server.Node, subject string) string {
	t.Helper()
	now := n.Now().UTC()
	a := alerts.Alert{ID: "al-0001", Rule: "bulk-record-lookups", Title: "Bulk record look-ups", Severity: "medium",
		Pseudonym: "subject-" + subject, Log: "activity", Time: now, Why: "51 distinct record.id by user.id within 10m (over 50)",
		Events: []alerts.Evidence{{Index: 0, Time: now, Source: "pnc", Category: "record_query", Action: "pnc_person_search"}},
		State:  alerts.New, Notes: []alerts.Note{}, History: []alerts.Step{}, Created: now, Updated: now}
	body, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Store.AddAlerts(t.Context(), "activity", 0, []store.StoredAlert{{ID: a.ID, Rule: a.Rule, Severity: a.Severity,
		Subject: subject, Pseudonym: a.Pseudonym, State: string(a.State), Time: now, Created: now, Updated: now,
		Dedup: "dedup-" + subject, Body: body, Version: 1}}); err != nil {
		t.Fatal(err)
	}
	return a.ID
}
