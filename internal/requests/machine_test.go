package requests

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/consent"
)

// The rank order of internal/identity, lowest first.
var ranks = []string{
	"constable", "sergeant", "inspector", "chief_inspector", "superintendent", "chief_superintendent",
	"commander", "deputy_assistant_commissioner", "assistant_commissioner", "deputy_commissioner", "commissioner",
}

func person(id, rank string, roles ...string) Actor {
	return Actor{ID: id, Roles: roles, Rank: rank, Ranks: ranks}
}

func adviser(id, kind string) Actor {
	a := person(id, "", RoleAdviser)
	a.Adviser = kind
	return a
}

// The cast. The request is validRequest's: ivy asks about sam, and ivy and
// ian are its investigators.
var (
	ivy = person("ivy", "sergeant", RoleInvestigator)                       // the requester
	ian = person("ian", "superintendent", RoleInvestigator, RoleAuthoriser) // a named investigator
	sam = person("sam", "commissioner", RoleAuthoriser)                     // the subject
	sue = person("sue", "superintendent", RoleAuthoriser)
	ina = person("ina", "inspector", RoleAuthoriser)
	ace = person("ace", "assistant_commissioner", RoleAuthoriser)
	oli = person("oli", "", "oversight")
	lee = adviser("lee", "legal")
	dee = adviser("dee", "dpo")
)

func requirement() consent.Requirement {
	return consent.Requirement{
		Level: 3, MinRank: "superintendent", Advisers: []string{"legal"},
		MaxDuration: 90 * 24 * time.Hour, ReviewInterval: 28 * 24 * time.Hour,
		Urgent: &consent.UrgentRoute{MinRank: "inspector", MaxDuration: 72 * time.Hour},
	}
}

// Distinct, substantial texts for views and reasons.
var (
	views = map[string]string{
		"NOTICE":            "Acknowledgement on file plus the January briefing satisfy me that notice was given.",
		"EXTENT":            "Two months of metadata with content limited to days of checks is narrow enough.",
		"LEGITIMATE_REASON": "Repeated unexplained PNC checks on one neighbour justify looking further.",
		"LESS_INTRUSIVE":    "An interview now would tip the officer off and lose the e-mail trail.",
		"CONSEQUENCES":      "A hearing is a fair use; personal messages beyond the checks stay unread.",
		"SAFEGUARDS":        "Pseudonymisation of bystanders and two named readers are adequate controls.",
		"REMEDY":            "Challenge at the hearing and the IOPC route remain open to the officer.",
	}
	reasons  = "Necessary and proportionate for the suspected data misuse described in the application."
	reasons2 = "Fresh checks found during the first month keep this necessary for another period."
	notes    = "Reviewed the product so far: relevant, tightly scoped, and no collateral material was read."
	view     = "Legal privilege is unlikely on these systems; hold back anything addressed to the federation."
	because  = "The subject has resigned and the matter is now closed by the professional standards unit."
)

func mustApply(t *testing.T, r Request, a Action, now time.Time) Request {
	t.Helper()
	r2, tr, err := Apply(r, a, now)
	if err != nil {
		t.Fatalf("Apply(%s by %s at %v) = %v", a.Name(), a.Actor().ID, now, err)
	}
	if got := r2.History[len(r2.History)-1]; got != tr {
		t.Fatalf("Apply returned %+v, recorded %+v", tr, got)
	}
	return r2
}

// submitted returns validRequest submitted and advised on at t0.
func submitted(t *testing.T) Request {
	t.Helper()
	r := validRequest()
	r.State = Draft
	r = mustApply(t, r, Submit{By: ivy, Requirement: requirement()}, t0)
	return mustApply(t, r, Advise{By: lee, View: view}, t0.Add(time.Hour))
}

// active returns submitted(t) authorised by sue at t0+2h.
func active(t *testing.T) Request {
	t.Helper()
	return mustApply(t, submitted(t), Decide{By: sue, Authorise: true, Reasons: reasons, Views: views}, t0.Add(2*time.Hour))
}

func TestLifecycle(t *testing.T) {
	r := validRequest()
	r.State = Draft
	r = mustApply(t, r, Submit{By: ivy, Requirement: requirement()}, t0)
	if r.State != AwaitingAdvice {
		t.Fatalf("after submit: state %s, want awaiting_advice", r.State)
	}
	r = mustApply(t, r, Advise{By: dee, View: view}, t0.Add(time.Minute)) // not required, still recorded
	if r.State != AwaitingAdvice {
		t.Fatalf("after dpo advice: state %s, want awaiting_advice", r.State)
	}
	r = mustApply(t, r, Advise{By: lee, View: view}, t0.Add(time.Hour))
	if r.State != Submitted {
		t.Fatalf("after legal advice: state %s, want submitted", r.State)
	}
	at := t0.Add(2 * time.Hour)
	r = mustApply(t, r, Decide{By: ian, Authorise: true, Reasons: reasons, Views: views, DirectlyInvolved: true}, at)
	if r.State != Active || r.AuthorisedBy != "ian" || r.AuthoriserRank != "superintendent" || !r.DirectlyInvolved ||
		!r.AuthorisedAt.Equal(at) || !r.ExpiresAt.Equal(at.Add(90*24*time.Hour)) || !r.ReviewDue.Equal(at.Add(28*24*time.Hour)) ||
		!r.RatifyBy.IsZero() {
		t.Fatalf("after decision: %+v", r)
	}
	if !r.Active(at) || r.Active(at.Add(-time.Second)) {
		t.Errorf("Active at authorisation = %v, a second before = %v; want true, false", r.Active(at), r.Active(at.Add(-time.Second)))
	}

	// The review date passes.
	due := r.ReviewDue
	r2, ts := Tick(r, due.Add(-time.Second))
	if len(ts) != 0 || r2.State != Active {
		t.Fatalf("Tick before review date = %v", ts)
	}
	r, ts = Tick(r, due.Add(time.Hour))
	if len(ts) != 1 || ts[0].To != ReviewDue || !ts[0].At.Equal(due) || ts[0].Actor != System || r.State != ReviewDue {
		t.Fatalf("Tick after review date = %+v, state %s", ts, r.State)
	}
	if !r.Active(due.Add(time.Hour)) {
		t.Error("an overdue review does not suspend the authorisation")
	}
	r = mustApply(t, r, ReviewAction{By: sue, Notes: notes}, due.Add(2*time.Hour))
	if r.State != Active || !r.ReviewDue.Equal(due.Add(2*time.Hour+28*24*time.Hour)) {
		t.Fatalf("after review: state %s, review due %v", r.State, r.ReviewDue)
	}

	// Renewal before expiry, by another authoriser.
	rn := r.ExpiresAt.Add(-24 * time.Hour)
	r, _ = Tick(r, rn)
	r = mustApply(t, r, ReviewAction{By: ace, Notes: notes}, rn)
	old := r.ExpiresAt
	r = mustApply(t, r, Renew{By: ace, Reasons: reasons2}, rn)
	if !r.ExpiresAt.Equal(rn.Add(90*24*time.Hour)) || len(r.Renewals) != 1 || !r.Renewals[0].From.Equal(old) {
		t.Fatalf("after renewal: expires %v, renewals %+v", r.ExpiresAt, r.Renewals)
	}

	end := rn.Add(48 * time.Hour)
	r, _ = Tick(r, end)
	r = mustApply(t, r, Cancel{By: ivy, Reasons: because}, end)
	if r.State != Cancelled || !r.EndedAt.Equal(end) || r.Active(end) {
		t.Fatalf("after cancel: %s, ended %v", r.State, r.EndedAt)
	}
	r = mustApply(t, r, Close{By: ivy, Outcome: "Misuse proven; final written warning.", Useful: true, Kept: "The product, in the case file, for six years."}, end.Add(time.Hour))
	if r.State != Closed || r.Closure == nil || !r.Closure.Useful {
		t.Fatalf("after close: %s %+v", r.State, r.Closure)
	}
	var got []string
	for _, tr := range r.History {
		got = append(got, tr.Action+":"+string(tr.To))
	}
	want := []string{
		"submit:awaiting_advice", "advice:awaiting_advice", "advice:submitted", "decision:active",
		"review_due:review_due", "review:active", "review_due:review_due", "review:active", "renewal:active", "cancellation:cancelled", "closure:closed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history mismatch (-want +got):\n%s", diff)
	}
	for i := 1; i < len(r.History); i++ {
		if r.History[i].At.Before(r.History[i-1].At) {
			t.Errorf("history[%d] at %v is before history[%d] at %v", i, r.History[i].At, i-1, r.History[i-1].At)
		}
	}
}

func TestExpiry(t *testing.T) {
	r := active(t)
	exp := r.ExpiresAt
	if !r.Active(exp.Add(-time.Nanosecond)) || r.Active(exp) || r.Active(exp.Add(time.Hour)) {
		t.Errorf("Active around expiry wrong")
	}
	// Without a tick, every action is refused once the expiry has passed.
	_, _, err := Apply(r, Renew{By: sue, Reasons: reasons2}, exp)
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Errorf("Renew at expiry = %v, want *TransitionError", err)
	}
	r, ts := Tick(r, exp.Add(time.Hour))
	if len(ts) != 2 || ts[1].Action != ActExpiry || ts[1].To != Expired || !ts[1].At.Equal(exp) || !r.EndedAt.Equal(exp) {
		t.Fatalf("Tick after expiry = %+v", ts)
	}
	if r2, ts := Tick(r, exp.Add(2*time.Hour)); len(ts) != 0 || r2.State != Expired {
		t.Errorf("Tick again = %v, want nothing", ts)
	}
	// A clock set back does not revive it.
	if r.Active(exp.Add(-time.Hour)) {
		t.Error("expired request active when the clock is set back")
	}
	r = mustApply(t, r, Close{By: sue, Outcome: "No misuse found.", Kept: "Nothing: the product is deleted."}, exp.Add(3*time.Hour))
	if r.State != Closed {
		t.Errorf("state %s, want closed", r.State)
	}
}

func TestUrgentRoute(t *testing.T) {
	s := submitted(t)
	s.Urgent = Urgency{Urgent: true, Why: "The officer is due to destroy the laptop this evening according to a reliable source."}
	at := t0.Add(2 * time.Hour)
	r := mustApply(t, s, Decide{By: ina, Authorise: true, Reasons: reasons, Views: views}, at)
	if !r.RatifyBy.Equal(at.Add(72*time.Hour)) || r.ExpiresAt.After(r.RatifyBy) || !r.Decisions[0].UrgentRoute {
		t.Fatalf("urgent decision: ratify by %v, expires %v", r.RatifyBy, r.ExpiresAt)
	}
	// An urgent authorisation cannot be stretched by the decider.
	_, _, err := Apply(s, Decide{By: ina, Authorise: true, Reasons: reasons, Views: views, Until: at.Add(73 * time.Hour)}, at)
	checkRule(t, err, RuleLimit)

	// Unratified, it lapses at RatifyBy.
	lapsed, ts := Tick(r, r.RatifyBy)
	if r.Active(r.RatifyBy) || len(ts) != 1 || ts[0].Action != ActLapse || lapsed.State != Expired {
		t.Fatalf("Tick at ratify_by = %+v", ts)
	}
	// Renewal is refused: it must be ratified.
	_, _, err = Apply(r, Renew{By: sue, Reasons: reasons2}, at.Add(time.Hour))
	checkTransition(t, err)
	// Ratification at the inspector's rank is refused; at the full rank,
	// the normal duration runs from the original authorisation.
	_, _, err = Apply(r, Ratify{By: ina, Reasons: reasons2}, at.Add(time.Hour))
	checkRule(t, err, RuleRank)
	r = mustApply(t, r, Ratify{By: sue, Reasons: reasons2}, at.Add(time.Hour))
	if !r.ExpiresAt.Equal(at.Add(90*24*time.Hour)) || r.RatifiedBy != "sue" || !r.Active(at.Add(80*time.Hour)) {
		t.Fatalf("after ratification: expires %v", r.ExpiresAt)
	}
	_, _, err = Apply(r, Ratify{By: sue, Reasons: reasons2}, at.Add(2*time.Hour))
	checkTransition(t, err)
	// Ratification after RatifyBy is too late.
	r = mustApply(t, s, Decide{By: ina, Authorise: true, Reasons: reasons, Views: views}, at)
	_, _, err = Apply(r, Ratify{By: sue, Reasons: reasons2}, r.RatifyBy)
	checkTransition(t, err)
	// Without a request for the urgent route, an inspector cannot decide.
	_, _, err = Apply(submitted(t), Decide{By: ina, Authorise: true, Reasons: reasons, Views: views}, at)
	checkRule(t, err, RuleRank)
}

func checkRule(t *testing.T, err error, want Rule) {
	t.Helper()
	var re *RuleError
	if !errors.As(err, &re) || re.Rule != want {
		t.Errorf("err = %v, want *RuleError %s", err, want)
	}
}

func checkTransition(t *testing.T, err error) {
	t.Helper()
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Errorf("err = %v, want *TransitionError", err)
	}
}

var allStates = []State{Draft, Submitted, AwaitingAdvice, Refused, Withdrawn, Active, ReviewDue, Cancelled, Expired, Closed}

func allActions() []Action {
	return []Action{
		Submit{By: ivy, Requirement: requirement()},
		Advise{By: lee, View: view},
		Decide{By: sue, Authorise: true, Reasons: reasons, Views: views},
		Ratify{By: sue, Reasons: reasons2},
		ReviewAction{By: sue, Notes: notes},
		Renew{By: sue, Reasons: reasons2},
		Cancel{By: sue, Reasons: because},
		Withdraw{By: ivy, Reasons: because},
		Close{By: sue, Outcome: "done", Kept: "nothing"},
	}
}

// Every (state, action) pair outside the table is a *TransitionError, and
// leaves the request as it was. (The pairs inside it are the other
// tests' business.)
func TestTable(t *testing.T) {
	for _, s := range allStates {
		for _, a := range allActions() {
			if slices.Contains(table[s], a.Name()) {
				continue
			}
			r := active(t)
			r.State = s
			got, tr, err := Apply(r, a, t0.Add(3*time.Hour))
			var te *TransitionError
			if !errors.As(err, &te) || te.From != s || te.Action != a.Name() {
				t.Errorf("Apply(%s, %s) = %v, want *TransitionError", s, a.Name(), err)
			}
			if (tr != Transition{}) || !cmp.Equal(got, r) {
				t.Errorf("Apply(%s, %s) failed but changed the request", s, a.Name())
			}
		}
	}
	if _, _, err := Apply(validRequest(), nil, t0); err == nil {
		t.Error("Apply(nil action) = nil error")
	}
}

func TestRefusals(t *testing.T) {
	draft := func(*testing.T) Request { r := validRequest(); r.State = Draft; return r }
	awaiting := func(t *testing.T) Request {
		return mustApply(t, draft(t), Submit{By: ivy, Requirement: requirement()}, t0)
	}
	noAdvice := func(t *testing.T) Request { r := awaiting(t); r.State = Submitted; return r }
	urgent := func(t *testing.T) Request {
		r := submitted(t)
		r.Urgent = Urgency{Urgent: true, Why: "x"}
		return mustApply(t, r, Decide{By: ina, Authorise: true, Reasons: reasons, Views: views}, t0.Add(2*time.Hour))
	}
	req := func(edit func(*consent.Requirement)) consent.Requirement {
		q := requirement()
		edit(&q)
		return q
	}
	ivyBoss := person("ivy", "commissioner", RoleInvestigator, RoleAuthoriser)
	odd := person("odd", "field_marshal", RoleAuthoriser)
	copied := maps.Clone(views)
	copied["EXTENT"] = validRequest().Criteria["EXTENT"]
	missing := maps.Clone(views)
	delete(missing, "REMEDY")
	extra := maps.Clone(views)
	extra["VIBES"] = notes
	later := t0.Add(3 * time.Hour)

	tests := []struct {
		name  string
		from  func(*testing.T) Request
		a     Action
		at    time.Time
		rule  Rule   // "" for a *TransitionError
		field string // checked when not ""
	}{
		{"submit by another", draft, Submit{By: ian, Requirement: requirement()}, t0, RuleRole, "by"},
		{"submit by subject", draft, Submit{By: sam, Requirement: requirement()}, t0, RuleSubject, "by"},
		{"submit, no rank", draft, Submit{By: ivy, Requirement: req(func(q *consent.Requirement) { q.MinRank = "" })}, t0, RuleRequirement, "requirement.min_rank"},
		{"submit, no duration", draft, Submit{By: ivy, Requirement: req(func(q *consent.Requirement) { q.MaxDuration = 0 })}, t0, RuleRequirement, "requirement.max_duration"},
		{"submit, negative review", draft, Submit{By: ivy, Requirement: req(func(q *consent.Requirement) { q.ReviewInterval = -1 })}, t0, RuleRequirement, "requirement.review_interval"},
		{"submit, long urgent route", draft, Submit{By: ivy, Requirement: req(func(q *consent.Requirement) { q.Urgent.MaxDuration = 100 * 24 * time.Hour })}, t0, RuleRequirement, "requirement.urgent"},
		{"submit, RIPA required", draft, Submit{By: ivy, Requirement: req(func(q *consent.Requirement) { q.RIPARequired = true })}, t0, RuleRequirement, "ripa_reference"},
		{"submit, nameless", draft, Submit{By: Actor{}, Requirement: requirement()}, t0, RuleRole, "by"},

		{"advice by requester", awaiting, Advise{By: Actor{ID: "ivy", Roles: []string{RoleAdviser}, Adviser: "legal"}, View: view}, t0, RuleSelf, "by"},
		{"advice by subject", awaiting, Advise{By: Actor{ID: "sam", Roles: []string{RoleAdviser}, Adviser: "legal"}, View: view}, t0, RuleSubject, "by"},
		{"advice by non-adviser", awaiting, Advise{By: sue, View: view}, t0, RuleRole, "by"},
		{"advice without kind", awaiting, Advise{By: person("lou", "", RoleAdviser), View: view}, t0, RuleRole, "by"},
		{"advice of a dot", awaiting, Advise{By: lee, View: "."}, t0, RuleJustification, "view"},

		{"no requirement on record", func(t *testing.T) Request { r := submitted(t); r.Requirement = nil; return r }, Decide{By: sue, Authorise: true, Reasons: reasons, Views: views}, later, RuleRequirement, "requirement"},
		{"decide while awaiting advice", awaiting, Decide{By: sue, Authorise: true, Reasons: reasons, Views: views}, t0, "", ""},
		{"decide without required advice", noAdvice, Decide{By: sue, Authorise: true, Reasons: reasons, Views: views}, t0, RuleAdvisers, "advice"},
		{"requester decides", submitted, Decide{By: ivyBoss, Authorise: true, Reasons: reasons, Views: views, DirectlyInvolved: true}, later, RuleSelf, "by"},
		{"subject decides", submitted, Decide{By: sam, Authorise: true, Reasons: reasons, Views: views}, later, RuleSubject, "by"},
		{"non-authoriser decides", submitted, Decide{By: oli, Authorise: true, Reasons: reasons, Views: views}, later, RuleRole, "by"},
		{"rank too low", submitted, Decide{By: ina, Authorise: true, Reasons: reasons, Views: views}, later, RuleRank, "by"},
		{"rank too low to refuse", submitted, Decide{By: ina, Reasons: reasons}, later, RuleRank, "by"},
		{"unknown rank", submitted, Decide{By: odd, Authorise: true, Reasons: reasons, Views: views}, later, RuleRank, "by"},
		{"involved investigator says not", submitted, Decide{By: ian, Authorise: true, Reasons: reasons, Views: views}, later, RuleInvolvement, "directly_involved"},
		{"reasons a dot", submitted, Decide{By: sue, Authorise: true, Reasons: ".", Views: views}, later, RuleJustification, "reasons"},
		{"refusal view a dot", submitted, Decide{By: sue, Reasons: reasons, Views: map[string]string{"EXTENT": "."}}, later, RuleJustification, "views.EXTENT"},
		{"refusal reasons a dot", submitted, Decide{By: sue, Reasons: "."}, later, RuleJustification, "reasons"},
		{"view missing", submitted, Decide{By: sue, Authorise: true, Reasons: reasons, Views: missing}, later, RuleJustification, "views.REMEDY"},
		{"view copies the request", submitted, Decide{By: sue, Authorise: true, Reasons: reasons, Views: copied}, later, RuleJustification, "views.EXTENT"},
		{"view on unknown criterion", submitted, Decide{By: sue, Authorise: true, Reasons: reasons, Views: extra}, later, RuleJustification, "views.VIBES"},
		{"reasons copy a view", submitted, Decide{By: sue, Authorise: true, Reasons: views["SAFEGUARDS"], Views: views}, later, RuleJustification, "views.SAFEGUARDS"},
		{"expiry too late", submitted, Decide{By: sue, Authorise: true, Reasons: reasons, Views: views, Until: later.Add(91 * 24 * time.Hour)}, later, RuleLimit, "until"},
		{"expiry in the past", submitted, Decide{By: sue, Authorise: true, Reasons: reasons, Views: views, Until: later}, later, RuleLimit, "until"},
		{"clock set back", submitted, Decide{By: sue, Authorise: true, Reasons: reasons, Views: views}, t0, RuleClock, ""},

		{"ratify normal authorisation", active, Ratify{By: ace, Reasons: reasons2}, later, "", ""},
		{"ratify by requester", urgent, Ratify{By: ivyBoss, Reasons: reasons2}, later, RuleSelf, "by"},
		{"ratify by subject", urgent, Ratify{By: sam, Reasons: reasons2}, later, RuleSubject, "by"},
		{"ratify reasons thin", urgent, Ratify{By: sue, Reasons: "ok"}, later, RuleJustification, "reasons"},
		{"ratify too long", urgent, Ratify{By: sue, Reasons: reasons2, Until: t0.Add(2*time.Hour + 91*24*time.Hour)}, later, RuleLimit, "until"},

		{"review by requester", active, ReviewAction{By: ivyBoss, Notes: notes}, later, RuleSelf, "by"},
		{"review by non-authoriser", active, ReviewAction{By: oli, Notes: notes}, later, RuleRole, "by"},
		{"review by inspector", active, ReviewAction{By: ina, Notes: notes}, later, RuleRank, "by"},
		{"review notes thin", active, ReviewAction{By: sue, Notes: "fine"}, later, RuleJustification, "notes"},
		{"review next too late", active, ReviewAction{By: sue, Notes: notes, Next: later.Add(29 * 24 * time.Hour)}, later, RuleLimit, "next"},

		{"renew past the review date, unticked", active, Renew{By: sue, Reasons: reasons2}, later.Add(50 * 24 * time.Hour), "", ""},
		{"renew by inspector", active, Renew{By: ina, Reasons: reasons2}, later, RuleRank, "by"},
		{"renew by requester", active, Renew{By: ivyBoss, Reasons: reasons2}, later, RuleSelf, "by"},
		{"renew by involved investigator saying not", active, Renew{By: ian, Reasons: reasons2}, later, RuleInvolvement, "directly_involved"},
		{"renew not extending", active, Renew{By: sue, Reasons: reasons2, Until: later.Add(24 * time.Hour)}, later, RuleLimit, "until"},
		{"renew too long", active, Renew{By: sue, Reasons: reasons2, Until: later.Add(91 * 24 * time.Hour)}, later, RuleLimit, "until"},
		{"renew reasons thin", active, Renew{By: sue, Reasons: "again"}, later, RuleJustification, "reasons"},
		{"renew urgent", urgent, Renew{By: sue, Reasons: reasons2}, later, "", ""},

		{"cancel by stranger", active, Cancel{By: person("iris", "sergeant", RoleInvestigator), Reasons: because}, later, RuleRole, "by"},
		{"cancel by subject", active, Cancel{By: sam, Reasons: because}, later, RuleSubject, "by"},
		{"cancel reasons thin", active, Cancel{By: sue, Reasons: "done"}, later, RuleJustification, "reasons"},
		{"withdraw by another", submitted, Withdraw{By: sue, Reasons: because}, later, RuleRole, "by"},
		{"withdraw reasons thin", submitted, Withdraw{By: ivy, Reasons: "."}, later, RuleJustification, "reasons"},
		{"withdraw active", active, Withdraw{By: ivy, Reasons: because}, later, "", ""},
		{"close active", active, Close{By: ivy, Outcome: "x", Kept: "y"}, later, "", ""},
	}
	cancelled := func(t *testing.T) Request { return mustApply(t, active(t), Cancel{By: sue, Reasons: because}, later) }
	tests = append(tests, []struct {
		name  string
		from  func(*testing.T) Request
		a     Action
		at    time.Time
		rule  Rule
		field string
	}{
		{"close by stranger", cancelled, Close{By: oli, Outcome: "x", Kept: "y"}, later, RuleRole, "by"},
		{"close without outcome", cancelled, Close{By: ivy, Outcome: " ", Kept: "y"}, later, RuleJustification, "outcome"},
		{"close without kept", cancelled, Close{By: ivy, Outcome: "x"}, later, RuleJustification, "kept"},
		{"cancel cancelled", cancelled, Cancel{By: sue, Reasons: because}, later, "", ""},
	}...)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.from(t)
			before := r.clone()
			got, tr, err := Apply(r, tt.a, tt.at)
			if tt.rule == "" {
				checkTransition(t, err)
			} else {
				var re *RuleError
				if !errors.As(err, &re) || re.Rule != tt.rule || (tt.field != "" && re.Field != tt.field) {
					t.Fatalf("Apply = %v, want *RuleError %s on %q", err, tt.rule, tt.field)
				}
			}
			if (tr != Transition{}) || !cmp.Equal(got, before) || !cmp.Equal(r, before) {
				t.Errorf("a refused Apply changed the request")
			}
		})
	}
}

// Apply never changes the caller's slices and maps.
func TestApplyCopies(t *testing.T) {
	r := submitted(t)
	before := r.clone()
	v := maps.Clone(views)
	r2 := mustApply(t, r, Decide{By: sue, Authorise: true, Reasons: reasons, Views: v}, t0.Add(2*time.Hour))
	v["EXTENT"] = "changed afterwards"
	r2.Subjects[0] = "changed"
	if !cmp.Equal(r, before) {
		t.Error("Apply changed its input")
	}
	if r2.Decisions[0].Views["EXTENT"] == "changed afterwards" {
		t.Error("the decision shares the caller's views map")
	}
}

func TestNextDeadline(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	base := Request{State: Active, AuthorisedAt: at, ExpiresAt: at.Add(90 * 24 * time.Hour)}
	tests := []struct {
		name string
		edit func(*Request)
		want time.Time
	}{
		{"draft has none", func(r *Request) { r.State = Draft }, time.Time{}},
		{"closed has none", func(r *Request) { r.State = Closed }, time.Time{}},
		{"expiry", func(r *Request) {}, at.Add(90 * 24 * time.Hour)},
		{"review before expiry", func(r *Request) { r.ReviewDue = at.Add(28 * 24 * time.Hour) }, at.Add(28 * 24 * time.Hour)},
		{"review due state waits for expiry", func(r *Request) { r.State = ReviewDue; r.ReviewDue = at.Add(time.Hour) }, at.Add(90 * 24 * time.Hour)},
		{"unratified urgent lapses first", func(r *Request) { r.RatifyBy = at.Add(72 * time.Hour); r.ReviewDue = at.Add(100 * time.Hour) }, at.Add(72 * time.Hour)},
		{"ratified urgent runs to expiry", func(r *Request) { r.RatifyBy = at.Add(72 * time.Hour); r.RatifiedAt = at.Add(time.Hour) }, at.Add(90 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			if got := r.NextDeadline(); !got.Equal(tt.want) {
				t.Errorf("NextDeadline = %v, want %v", got, tt.want)
			}
			// Tick at the deadline changes the request; a moment before, nothing.
			if !tt.want.IsZero() {
				if _, ts := Tick(r, tt.want.Add(-time.Nanosecond)); len(ts) != 0 {
					t.Errorf("Tick before the deadline moved it: %+v", ts)
				}
				if _, ts := Tick(r, tt.want); len(ts) == 0 {
					t.Errorf("Tick at the deadline did nothing")
				}
			}
		})
	}
}

func TestWrittenDropsWhatLbmSets(t *testing.T) {
	r := Request{ID: "x", Reference: "R", Requester: "me", NoticeRecord: "n", State: Active, AuthorisedBy: "boss",
		ExpiresAt: time.Now(), Subjects: []string{"s"}, Necessity: "why", History: []Transition{{Action: ActSubmit}}}
	w := r.Written()
	if w.ID != "" || w.Reference != "" || w.Requester != "" || w.NoticeRecord != "" || w.State != "" || w.AuthorisedBy != "" ||
		!w.ExpiresAt.IsZero() || w.History != nil {
		t.Errorf("Written kept a field lbm sets: %+v", w)
	}
	if len(w.Subjects) != 1 || w.Necessity != "why" {
		t.Errorf("Written lost what the requester wrote: %+v", w)
	}
	w.Subjects[0] = "changed"
	if r.Subjects[0] != "s" {
		t.Error("Written shares its slices with the original")
	}
}

// TestNoticeViewWithoutAnAddition: when the requester leaves NOTICE to the
// subjects' notice record, the authoriser still gives a view on it.
func TestNoticeViewWithoutAnAddition(t *testing.T) {
	r := validRequest()
	r.State = Draft
	delete(r.Criteria, NoticeCriterion)
	r = mustApply(t, r, Submit{By: ivy, Requirement: requirement()}, t0)
	r = mustApply(t, r, Advise{By: lee, View: view}, t0.Add(time.Hour))
	without := maps.Clone(views)
	delete(without, NoticeCriterion)
	_, _, err := Apply(r, Decide{By: sue, Authorise: true, Reasons: reasons, Views: without}, t0.Add(2*time.Hour))
	checkRule(t, err, RuleJustification)
	if re := err.(*RuleError); re.Field != "views.NOTICE" {
		t.Errorf("refused field %q, want views.NOTICE", re.Field)
	}
	mustApply(t, r, Decide{By: sue, Authorise: true, Reasons: reasons, Views: views}, t0.Add(2*time.Hour))
	// With no notice record, NOTICE is unanswered and a view on it is refused.
	r.NoticeRecord = ""
	_, _, err = Apply(r, Decide{By: sue, Authorise: true, Reasons: reasons, Views: views}, t0.Add(2*time.Hour))
	checkRule(t, err, RuleJustification)
}

func TestRelease(t *testing.T) {
	const ev, other = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	r := active(t)
	at := t0.Add(3 * time.Hour)
	tests := []struct {
		name string
		a    Release
		rule Rule
	}{
		{"the requester", Release{By: ivy, Events: []string{ev}, View: view, Release: true}, RuleSelf},
		{"a named investigator", Release{By: ian, Events: []string{ev}, View: view, Release: true}, RuleSelf},
		{"an authoriser", Release{By: sue, Events: []string{ev}, View: view, Release: true}, RuleRole},
		{"a data-protection adviser", Release{By: dee, Events: []string{ev}, View: view, Release: true}, RuleRole},
		{"no events", Release{By: lee, View: view, Release: true}, RuleLimit},
		{"not an event id", Release{By: lee, Events: []string{"ABC"}, View: view, Release: true}, RuleLimit},
		{"a thin view", Release{By: lee, Events: []string{ev}, View: "ok", Release: true}, RuleJustification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Apply(r, tt.a, at)
			var re *RuleError
			if !errors.As(err, &re) || re.Rule != tt.rule {
				t.Errorf("Apply = %v, want rule %s", err, tt.rule)
			}
		})
	}
	released := mustApply(t, r, Release{By: lee, Events: []string{ev}, View: view, Release: true}, at)
	if released.State != Active || !released.Released(ev) || released.Released(other) || r.Released(ev) {
		t.Fatalf("after release: state %s, released %v %v (before %v)", released.State, released.Released(ev), released.Released(other), r.Released(ev))
	}
	// A later view keeping it back stands.
	kept := mustApply(t, released, Release{By: lee, Events: []string{ev, other}, View: notes, Release: false}, at.Add(time.Hour))
	if kept.Released(ev) || kept.Released(other) {
		t.Error("a later view keeping material back did not stand")
	}
	// Only while in force.
	cancelled := mustApply(t, r, Cancel{By: ivy, Reasons: because}, at)
	var te *TransitionError
	if _, _, err := Apply(cancelled, Release{By: lee, Events: []string{ev}, View: view, Release: true}, at); !errors.As(err, &te) {
		t.Errorf("release after cancellation = %v", err)
	}
}
