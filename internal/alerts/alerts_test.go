package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/lbm-project/lbm/internal/confidential"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/alerts"
	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// testRules are two rules: three refused look-ups by one person within
// an hour, and any look at the record R-VIP.
const testRules = `rules:
  - id: repeated-refusals
    title: Repeated refused look-ups
    description: Three refused look-ups by one person within an hour.
    severity: medium
    special_category: false
    aggregate:
      when: event.category == "record_query" && has(event.outcome) && event.outcome == "failure"
      by: user.id
      count: true
      window: 1h
      over: 2
  - id: vip-record
    title: Look at a VIP record
    description: Any look at the record R-VIP.
    severity: high
    special_category: false
    when: event.category == "record_query" && has(record.id) && record.id == "R-VIP"
`

type fixedRules struct {
	mu      sync.Mutex
	src     string
	version int64
	conf    *confidential.Matcher
}

func (f *fixedRules) Version(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, nil
}

func (f *fixedRules) Compile(context.Context) (*detect.Engine, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rules, err := detect.Parse("test.yaml", []byte(f.src), policy.DefaultDetection())
	if err != nil {
		return nil, 0, err
	}
	e, err := detect.Compile(rules, nil, f.conf)
	return e, f.version, err
}

type env struct {
	t       *testing.T
	ctx     context.Context
	node    *server.Node
	svc     *alerts.Service
	rules   *fixedRules
	mu      sync.Mutex
	now     time.Time
	leaves  []string
	failing string // an oversight action whose recording fails
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, ctx: context.Background(), now: t0, rules: &fixedRules{src: testRules, version: 1}}
	n, err := server.Open(e.ctx, server.Config{DataDir: t.TempDir(), Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	e.node = n
	people := []store.Person{
		{ID: "ivy", Name: "Ivy", Unit: "ACAC", Rank: "sergeant", Roles: []string{"investigator", "staff"}},
		{ID: "ian", Name: "Ian", Unit: "ACAC", Rank: "sergeant", Roles: []string{"investigator", "staff"}},
		{ID: "sue", Name: "Sue", Unit: "ACAC", Rank: "superintendent", Roles: []string{"authoriser", "staff"}},
		{ID: "sam", Name: "Sam Smith", Number: "4711", Unit: "Custody", Manager: "max", Rank: "constable", Roles: []string{"staff"}},
		// Investigators the alert about sam must never reach: one in his
		// unit, his line manager, and a leaver.
		{ID: "cat", Name: "Cat", Unit: "Custody", Rank: "sergeant", Roles: []string{"investigator", "staff"}},
		{ID: "max", Name: "Max", Unit: "ACAC", Rank: "inspector", Roles: []string{"investigator", "staff"}},
		{ID: "lea", Name: "Lea", Unit: "ACAC", Rank: "sergeant", Roles: []string{"investigator", "staff"}, LeftOn: t0.Add(-24 * time.Hour)},
		{ID: "ola", Name: "Ola", Unit: "Oversight", Roles: []string{"oversight", "staff"}},
		{ID: "stu", Name: "Stu", Unit: "Response", Rank: "constable", Roles: []string{"staff"}},
	}
	for i := range people {
		people[i].Updated = t0
	}
	if _, _, err := n.Store.PutPeople(e.ctx, people); err != nil {
		t.Fatal(err)
	}
	inner := n.OversightAccess
	record := func(ctx context.Context, actor, action string, details map[string]any, private map[string]string) (uint64, error) {
		e.mu.Lock()
		fail := e.failing == action
		e.mu.Unlock()
		if fail {
			return 0, errors.New("the oversight log is unavailable")
		}
		idx, err := inner(ctx, actor, action, details, private)
		if err == nil {
			e.mu.Lock()
			e.leaves = append(e.leaves, action)
			e.mu.Unlock()
		}
		return idx, err
	}
	e.svc = &alerts.Service{Store: n.Store, Requests: n.Requests, Record: record, Now: e.clock}
	return e
}

func (e *env) ingest(lines ...string) {
	var evs []*event.Event
	for i, l := range lines {
		ev, err := event.Parse([]byte(l), "pnc")
		if err != nil {
			e.t.Fatalf("event %d: %v", i, err)
		}
		evs = append(evs, ev)
	}
	if _, err := e.node.Logs["activity"].Writer.Append(e.ctx, evs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) detector() *alerts.Detector {
	return &alerts.Detector{Log: "activity", Store: e.node.Store, Opener: e.node.Opener,
		Pseudonyms: alerts.NewPseudonymiser([]byte(strings.Repeat("k", 32))), Rules: e.rules, Now: e.clock, Batch: 2,
		Logger: slog.New(slog.DiscardHandler)}
}

// drain steps d until it has caught up.
func (e *env) drain(d *alerts.Detector) {
	for range 1000 {
		n, err := d.Step(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("the detector never caught up")
}

func (e *env) as(id, role string) identity.Principal {
	p, err := e.node.Store.PersonByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return identity.Principal{Kind: identity.KindUser, Subject: id, Role: identity.Role(role), Person: &p}
}

func refused(user, at string) string {
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":"record_query","action":"pnc_person_search","outcome":"failure"},"user":{"id":%q},"record":{"id":"R-1"},"content":{"query":"SMITH"}}`, at, user)
}

// raise ingests sam's three refused look-ups and one of stu's, and
// detects; it returns the one alert, about sam.
func (e *env) raise() alerts.Alert {
	e.ingest(refused("sam", "2026-11-02T08:00:00Z"), refused("stu", "2026-11-02T08:05:00Z"),
		refused("sam", "2026-11-02T08:10:00Z"), refused("sam", "2026-11-02T08:20:00Z"))
	e.drain(e.detector())
	as, _, err := e.svc.List(e.ctx, e.as("ivy", "investigator"), alerts.Query{})
	if err != nil || len(as) != 1 {
		e.t.Fatalf("alerts = %+v, %v; want one", as, err)
	}
	return as[0]
}

func TestDetectorRaisesPseudonymisedAlerts(t *testing.T) {
	e := newEnv(t)
	a := e.raise()
	want := alerts.NewPseudonymiser([]byte(strings.Repeat("k", 32))).Name("sam")
	if a.Rule != "repeated-refusals" || a.Pseudonym != want || a.State != alerts.New || len(a.Events) != 3 || a.Log != "activity" {
		t.Fatalf("alert = %+v", a)
	}
	for i, ev := range a.Events {
		if ev.Category != "record_query" || ev.Outcome != "failure" || ev.Source != "pnc" {
			t.Errorf("evidence %d = %+v", i, ev)
		}
	}
	st, err := e.node.Store.AlertByID(e.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Subject != "sam" {
		t.Errorf("stored subject = %q", st.Subject)
	}
	// The alert itself names nobody.
	for _, name := range []string{"sam", "Sam Smith", "4711", "Custody", "SMITH"} {
		if strings.Contains(string(st.Body), `"`+name) || strings.Contains(a.Why, name) || strings.Contains(a.Summary(), name) {
			t.Errorf("the alert holds %q: why %q", name, a.Why)
		}
	}
	// Detection is at the end of the log; running again, or a fresh
	// detector after a restart (which replays to warm up), raises nothing
	// twice.
	size, _ := e.node.Store.LogState(e.ctx, "activity")
	if c, _ := e.node.Store.DetectionCursor(e.ctx, "activity"); c != size.Size {
		t.Errorf("cursor = %d, want %d", c, size.Size)
	}
	e.drain(e.detector())
	e.ingest(refused("sam", "2026-11-02T08:30:00Z"))
	d := e.detector()
	e.drain(d)
	all, _ := e.node.Store.ListAlerts(e.ctx, store.AlertQuery{})
	if len(all) != 1 {
		t.Errorf("%d alerts after a restart and one more refusal, want 1 (the window started again when it fired)", len(all))
	}
	if s := d.Stats(); s.Events != 1 || s.Reloads != 1 {
		t.Errorf("stats = %+v", s)
	}
	// A new rule set is compiled on the next step (a hot reload).
	e.rules.mu.Lock()
	e.rules.version = 2
	e.rules.mu.Unlock()
	// Raised later than the first alert (by another detector, after a
	// restart): it lists first.
	e.advance(time.Minute)
	e.ingest(`{"@timestamp":"2026-11-02T09:00:00Z","event":{"category":"record_query","action":"niche_record_view"},"user":{"id":"stu"},"record":{"id":"R-VIP"}}`)
	e.drain(d)
	if s := d.Stats(); s.Reloads != 2 || s.Version != 2 {
		t.Errorf("after a new version: stats = %+v", s)
	}
	all, _ = e.node.Store.ListAlerts(e.ctx, store.AlertQuery{})
	if len(all) != 2 || all[0].Rule != "vip-record" || all[0].Subject != "stu" || all[1].Rule != "repeated-refusals" {
		t.Errorf("alerts = %s", describe(all))
	}
}

func TestConfidentialAndLateEvents(t *testing.T) {
	e := newEnv(t)
	// Out of time order across batches of the detector: still counted.
	e.ingest(refused("sam", "2026-11-02T08:20:00Z"), refused("sam", "2026-11-02T08:21:00Z"))
	d := e.detector()
	e.drain(d)
	e.ingest(refused("sam", "2026-11-02T08:00:00Z"))
	e.drain(d)
	if s := d.Stats(); s.Late != 1 {
		t.Errorf("late = %d, want 1", s.Late)
	}
	all, _ := e.node.Store.ListAlerts(e.ctx, store.AlertQuery{})
	if len(all) != 1 {
		t.Errorf("%d alerts, want 1", len(all))
	}
}

func TestConfidentialContentIsNoInput(t *testing.T) {
	conf, err := confidential.Parse([]byte("markers:\n  - kind: legal_privilege\n    phrase: legally privileged\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprint("content opened ", open), func(t *testing.T) {
			e := newEnv(t)
			e.rules.conf = conf
			privileged := strings.Replace(refused("sam", "2026-11-02T08:10:00Z"), `"query":"SMITH"`, `"query":"SMITH","note":"Legally  privileged"`, 1)
			e.ingest(refused("sam", "2026-11-02T08:00:00Z"), privileged, refused("sam", "2026-11-02T08:20:00Z"))
			d := e.detector()
			d.OpenContent = open
			e.drain(d)
			all, _ := e.node.Store.ListAlerts(e.ctx, store.AlertQuery{})
			// With the content opened the marker is seen and the event is
			// no input: two refusals, no alert.
			if want := map[bool]int{false: 1, true: 0}[open]; len(all) != want {
				t.Errorf("%d alerts, want %d", len(all), want)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	a := e.raise()
	for _, tt := range []struct {
		who, role string
		sees      bool
	}{
		{"ivy", "investigator", true},
		{"ola", "oversight", true},
		{"cat", "investigator", false}, // sam's unit
		{"max", "investigator", false}, // sam's line manager
		{"sam", "investigator", false}, // sam himself
		{"sue", "authoriser", false},
		{"stu", "staff", false},
	} {
		t.Run(tt.who, func(t *testing.T) {
			p := e.as(tt.who, tt.role)
			if tt.who == "sam" {
				p.Person.Roles = append(p.Person.Roles, "investigator")
			}
			_, err := e.svc.Get(e.ctx, p, a.ID)
			if tt.sees != (err == nil) || !tt.sees && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get = %v, want seen %v", err, tt.sees)
			}
			as, _, err := e.svc.List(e.ctx, p, alerts.Query{})
			if err != nil || tt.sees != (len(as) == 1) {
				t.Errorf("List = %d alerts, %v; want seen %v", len(as), err, tt.sees)
			}
		})
	}
}

func TestTriage(t *testing.T) {
	note := "looked at the pattern: shift handover, nothing more"
	tests := []struct {
		name  string
		steps []alerts.TriageInput
		who   string
		want  alerts.State
		fail  string // "field", "transition", "role", "" for none
	}{
		{"take it", []alerts.TriageInput{{Action: alerts.ActAssign}}, "ivy", alerts.Triage, ""},
		{"assign to another", []alerts.TriageInput{{Action: alerts.ActAssign, Assignee: "ian"}}, "ivy", alerts.Triage, ""},
		{"assign to his unit", []alerts.TriageInput{{Action: alerts.ActAssign, Assignee: "cat"}}, "ivy", alerts.New, "field"},
		{"assign to his manager", []alerts.TriageInput{{Action: alerts.ActAssign, Assignee: "max"}}, "ivy", alerts.New, "field"},
		{"assign to a leaver", []alerts.TriageInput{{Action: alerts.ActAssign, Assignee: "lea"}}, "ivy", alerts.New, "field"},
		{"assign to staff", []alerts.TriageInput{{Action: alerts.ActAssign, Assignee: "stu"}}, "ivy", alerts.New, "field"},
		{"assign to nobody known", []alerts.TriageInput{{Action: alerts.ActAssign, Assignee: "zed"}}, "ivy", alerts.New, "field"},
		{"dismiss with a note", []alerts.TriageInput{{Action: alerts.ActDismiss, Note: note}}, "ivy", alerts.Dismissed, ""},
		{"dismiss without", []alerts.TriageInput{{Action: alerts.ActDismiss, Note: "  "}}, "ivy", alerts.New, "field"},
		{"a hidden character", []alerts.TriageInput{{Action: alerts.ActDismiss, Note: "fine\u202e"}}, "ivy", alerts.New, "field"},
		{"reopen", []alerts.TriageInput{{Action: alerts.ActDismiss, Note: note}, {Action: alerts.ActReopen, Note: note}}, "ivy", alerts.Triage, ""},
		{"close before referral", []alerts.TriageInput{{Action: alerts.ActClose, Note: note}}, "ivy", alerts.New, "transition"},
		{"refer here", []alerts.TriageInput{{Action: alerts.ActRefer}}, "ivy", alerts.New, "field"},
		{"unknown action", []alerts.TriageInput{{Action: "delete"}}, "ivy", alerts.New, "field"},
		{"oversight triages", []alerts.TriageInput{{Action: alerts.ActAssign}}, "ola", alerts.New, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			a := e.raise()
			role := "investigator"
			if tt.who == "ola" {
				role = "oversight"
			}
			var err error
			for _, in := range tt.steps {
				if _, err = e.svc.Triage(e.ctx, e.as(tt.who, role), a.ID, in); err != nil {
					break
				}
			}
			var fe requests.FieldErrors
			var te *alerts.TransitionError
			switch tt.fail {
			case "":
				if err != nil {
					t.Fatalf("Triage = %v", err)
				}
			case "field":
				if !errors.As(err, &fe) {
					t.Fatalf("Triage = %v, want a field error", err)
				}
			case "transition":
				if !errors.As(err, &te) {
					t.Fatalf("Triage = %v, want a transition error", err)
				}
			case "role":
				if !errors.Is(err, alerts.ErrNotInvestigator) {
					t.Fatalf("Triage = %v, want ErrNotInvestigator", err)
				}
			}
			got, _ := e.svc.Get(e.ctx, e.as("ivy", "investigator"), a.ID)
			if got.State != tt.want {
				t.Errorf("state = %s, want %s", got.State, tt.want)
			}
			st, _ := e.node.Store.AlertByID(e.ctx, a.ID)
			if tt.fail != "" && len(tt.steps) == 1 && st.Version != 1 {
				t.Errorf("a refused step stored version %d", st.Version)
			}
			if tt.fail == "" && (len(got.History) != len(tt.steps) || got.History[len(got.History)-1].By != tt.who) {
				t.Errorf("history = %+v", got.History)
			}
		})
	}
}

func TestNotes(t *testing.T) {
	e := newEnv(t)
	a := e.raise()
	if _, err := e.svc.AddNote(e.ctx, e.as("ola", "oversight"), a.ID, "a note from oversight"); !errors.Is(err, alerts.ErrNotInvestigator) {
		t.Errorf("oversight's note = %v", err)
	}
	if _, err := e.svc.AddNote(e.ctx, e.as("cat", "investigator"), a.ID, "a note from his unit"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("his unit's note = %v", err)
	}
	got, err := e.svc.AddNote(e.ctx, e.as("ivy", "investigator"), a.ID, "checked the custody rota for the night")
	if err != nil || len(got.Notes) != 1 || got.Notes[0].By != "ivy" || got.State != alerts.New {
		t.Fatalf("AddNote = %+v, %v", got, err)
	}
	// The note went to the oversight log first.
	if !slices.Contains(e.leaves, alerts.ActionTriage) {
		t.Errorf("leaves = %v", e.leaves)
	}
	e.failing = alerts.ActionTriage
	if _, err := e.svc.AddNote(e.ctx, e.as("ivy", "investigator"), a.ID, "a second note, not recorded"); err == nil {
		t.Error("a note that could not be recorded was kept")
	}
	if got, _ := e.svc.Get(e.ctx, e.as("ivy", "investigator"), a.ID); len(got.Notes) != 1 {
		t.Errorf("notes = %+v", got.Notes)
	}
}

// complete fills in and submits ivy's draft r, and sue authorises it.
func (e *env) complete(r requests.Request) requests.Request {
	txt := func(what string) string {
		return what + ": three refused look-ups of one record in twenty minutes need explaining by looking at the records"
	}
	ivy := e.as("ivy", "investigator")
	w := r
	w.Purpose, w.DPIAReference = "PREVENT_DETECT_CRIME", "DPIA-1"
	w.Operation = requests.Operation{Name: "Kestrel", Reference: "OP-1"}
	w.Necessity = txt("necessity")
	w.Criteria = map[string]string{"NOTICE": txt("notice"), "EXTENT": txt("extent of it"), "LEGITIMATE_REASON": txt("legitimate"),
		"LESS_INTRUSIVE": txt("less intrusive means"), "CONSEQUENCES": txt("consequences"), "SAFEGUARDS": txt("safeguards"), "REMEDY": txt("remedies")}
	w.Collateral = requests.Collateral{Level: consent.CollateralLow, Explanation: txt("collateral intrusion")}
	// What ivy writes cannot change the subject she only knows by a
	// pseudonym.
	w.Subjects = []string{"stu"}
	r, err := e.node.Requests.Update(e.ctx, ivy, r.ID, w)
	if err == nil {
		r, err = e.node.Requests.Submit(e.ctx, ivy, r.ID)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	views := map[string]string{}
	for id := range w.Criteria {
		views[id] = txt("the authoriser's view on " + strings.ToLower(id))
	}
	r, err = e.node.Requests.Act(e.ctx, e.as("sue", "authoriser"), r.ID, func(by requests.Actor) requests.Action {
		return requests.Decide{By: by, Authorise: true, Reasons: txt("authorised as necessary and proportionate"), Views: views}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

const why = "To identify who repeatedly tried to open a restricted custody record, as the authorisation allows."

func TestRevealOnlyUnderAnAuthorisation(t *testing.T) {
	e := newEnv(t)
	a := e.raise()
	ivy := e.as("ivy", "investigator")
	isRefusal := func(err error) bool { return errors.Is(err, alerts.ErrNoAuthorisation) }

	// Before any request: refused, and the attempt recorded.
	if _, err := e.svc.Reveal(e.ctx, ivy, a.ID, why); !isRefusal(err) {
		t.Fatalf("Reveal with no request = %v", err)
	}
	if e.leaves[len(e.leaves)-1] != review.ActionRefused {
		t.Errorf("leaves = %v", e.leaves)
	}
	// A thin justification is refused before anything else.
	var fe requests.FieldErrors
	if _, err := e.svc.Reveal(e.ctx, ivy, a.ID, "."); !errors.As(err, &fe) {
		t.Errorf("Reveal with a thin justification = %v", err)
	}
	// Someone who may not see the alert is refused as if it did not exist,
	// and that is recorded too.
	n := len(e.leaves)
	if _, err := e.svc.Reveal(e.ctx, e.as("cat", "investigator"), a.ID, why); !errors.Is(err, store.ErrNotFound) || len(e.leaves) != n+1 {
		t.Errorf("Reveal by his unit = %v (%d leaves written)", err, len(e.leaves)-n)
	}

	r, err := e.svc.DraftRequest(e.ctx, ivy, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// ivy sees the pseudonym, the request holds sam.
	if !slices.Equal(r.Subjects, []string{a.Pseudonym}) || r.Alert == nil || r.Alert.ID != a.ID {
		t.Errorf("drafted request as ivy sees it: subjects %v, alert %+v", r.Subjects, r.Alert)
	}
	if !strings.Contains(r.Necessity, a.Why) || len(r.Categories) != 1 || r.Categories[0].Category != "record_query" || r.Window == nil {
		t.Errorf("drafted request not pre-filled: %+v", r)
	}
	stored, _ := e.node.Requests.Get(e.ctx, ivy, r.ID)
	if !slices.Equal(stored.Subjects, []string{"sam"}) {
		t.Errorf("stored subjects = %v", stored.Subjects)
	}
	if strings.Contains(authorise.AsSeenBy(ivy, stored).NoticeRecord, "sam") {
		t.Errorf("the notice record names the subject to ivy: %q", authorise.AsSeenBy(ivy, stored).NoticeRecord)
	}
	if got, _ := e.svc.Get(e.ctx, ivy, a.ID); got.State != alerts.Referred || got.Request != r.ID {
		t.Errorf("alert after the draft = %+v", got)
	}
	if _, err := e.svc.DraftRequest(e.ctx, ivy, a.ID); err == nil {
		t.Error("a second request was drafted from one alert")
	}
	// A draft authorises nothing.
	if _, err := e.svc.Reveal(e.ctx, ivy, a.ID, why); !isRefusal(err) {
		t.Errorf("Reveal under a draft = %v", err)
	}

	r = e.complete(stored)
	if !slices.Equal(r.Subjects, []string{"sam"}) {
		t.Fatalf("the requester changed the subject: %v", r.Subjects)
	}
	// Ian is no investigator on it.
	if _, err := e.svc.Reveal(e.ctx, e.as("ian", "investigator"), a.ID, why); !isRefusal(err) {
		t.Errorf("Reveal by ian = %v", err)
	}
	// The access record is written first: if it cannot be, nothing is shown.
	e.failing = alerts.ActionReveal
	if id, err := e.svc.Reveal(e.ctx, ivy, a.ID, why); err == nil || id.Name != "" {
		t.Errorf("Reveal with the log down = %+v, %v", id, err)
	}
	e.failing = ""
	id, err := e.svc.Reveal(e.ctx, ivy, a.ID, why)
	if err != nil {
		t.Fatal(err)
	}
	if id.Person != "sam" || id.Name != "Sam Smith" || id.Unit != "Custody" || id.Request != r.ID {
		t.Errorf("identity = %+v", id)
	}
	ens, err := e.node.Store.Entries(e.ctx, "oversight", id.AccessRecord, id.AccessRecord+1)
	if err != nil || len(ens) != 1 {
		t.Fatal(err)
	}
	opened, err := e.node.Opener.Open(e.ctx, ens[0])
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := opened.Event.Field("event.action"); !strings.Contains(string(v), alerts.ActionReveal) {
		t.Errorf("access record action = %s", v)
	}
	if v, _ := opened.Event.Field("content.justification"); !strings.Contains(string(v), "restricted custody record") {
		t.Errorf("access record justification = %s", v)
	}
	// Once it expires, no more.
	e.advance(r.ExpiresAt.Sub(e.clock()) + time.Second)
	if _, err := e.svc.Reveal(e.ctx, ivy, a.ID, why); !isRefusal(err) {
		t.Errorf("Reveal after expiry = %v", err)
	}
}

func describe(as []store.StoredAlert) string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID+" "+a.Rule+" about "+a.Subject)
	}
	return strings.Join(out, "; ")
}

// TestOversightRulesSeeWhomALookWasAbout runs the built-in pack over the
// oversight log as lbm serve does: records naming a request reach the
// rules with its subjects, which the log itself does not hold.
func TestOversightRulesSeeWhomALookWasAbout(t *testing.T) {
	e := newEnv(t)
	for _, r := range []store.StoredRequest{
		{ID: "r-ian", Reference: "ACAC-2026-0001", Requester: "ivy", Subjects: []string{"ian"}},
		{ID: "r-stu", Reference: "ACAC-2026-0002", Requester: "ivy", Subjects: []string{"stu"}},
	} {
		r.State, r.Created, r.Updated, r.Body = "authorised", t0, t0, []byte(`{}`)
		if err := e.node.Store.AddRequest(e.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	record := func(actor, action, request string) {
		t.Helper()
		e.advance(time.Minute)
		if _, err := e.node.OversightAccess(e.ctx, actor, action, map[string]any{"request": request, "reason": "not a named investigator"},
			map[string]string{"justification": "checking the custody record look-ups"}); err != nil {
			t.Fatal(err)
		}
	}
	record("ivy", review.ActionQuery, "r-ian")   // a look at a colleague in her own unit
	record("ivy", review.ActionQuery, "r-stu")   // stu is in another unit
	record("ian", review.ActionRefused, "r-stu") // three refusals about stu
	record("max", review.ActionRefused, "r-stu")
	record("ivy", review.ActionRefused, "r-stu")
	record("ola", review.ActionRefused, "no-such-request") // names nobody

	var d *alerts.Detector
	for _, x := range e.node.Detectors {
		if x.Log == server.Oversight {
			d = x
		}
	}
	e.drain(d)
	all, err := e.node.Store.ListAlerts(e.ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, a := range all {
		got[a.Rule] = append(got[a.Rule], a.Subject)
	}
	for rule, want := range map[string][]string{
		"oversight-colleague-query":   {"ivy"},
		"oversight-repeated-refusals": {"ivy"}, // raised by the third refusal, hers
		"oversight-refused-attempt":   {"ola", "ivy", "max", "ian"},
	} {
		if !slices.Equal(got[rule], want) {
			t.Errorf("%s raised about %v, want %v (all: %s)", rule, got[rule], want, describe(all))
		}
	}
	if len(all) != 6 {
		t.Errorf("alerts: %s", describe(all))
	}
	// The log holds the request's id, never whom it is about.
	size, _ := e.node.Store.LogState(e.ctx, server.Oversight)
	ens, err := e.node.Store.Entries(e.ctx, server.Oversight, 0, size.Size)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range ens {
		o, err := e.node.Opener.OpenMetadata(e.ctx, en)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := o.Event.Field("related.user"); ok {
			t.Errorf("oversight entry %d names related users", en.Index)
		}
	}
}
