package requests

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
)

// A State is where a request is in its life.
type State string

// States. Refused, Withdrawn and Closed are terminal: no action leaves
// them. Active and ReviewDue are the two states of an authorisation in
// force; [Active] says whether it is in force at a given time.
const (
	Draft          State = "draft"
	Submitted      State = "submitted"       // ready for a decision
	AwaitingAdvice State = "awaiting_advice" // a required adviser has not yet given a view
	Refused        State = "refused"
	Withdrawn      State = "withdrawn"
	Active         State = "active"
	ReviewDue      State = "review_due" // in force, with a review overdue
	Cancelled      State = "cancelled"
	Expired        State = "expired" // ran out, or lapsed unratified
	Closed         State = "closed"
)

// Action names, as Transition.Action records them. The first ten are
// people's actions (and the path segments of POST /v1/requests/{id}/…);
// the last three are [Tick]'s.
const (
	ActSubmit       = "submit"
	ActAdvice       = "advice"
	ActDecision     = "decision"
	ActRatification = "ratification"
	ActReview       = "review"
	ActRenewal      = "renewal"
	ActCancellation = "cancellation"
	ActWithdrawal   = "withdrawal"
	ActClosure      = "closure"
	ActRelease      = "release" // a legal adviser's view on held-back material

	ActReviewDue = "review_due" // Tick: the review date passed
	ActExpiry    = "expiry"     // Tick: the expiry passed
	ActLapse     = "lapse"      // Tick: an urgent authorisation was not ratified in time
)

// System is the Transition.Actor of [Tick]'s transitions.
const System = "lbm"

// table is the whole transition table: for each state, the actions that
// may be taken in it and the states they lead to. Guards (who may act, and
// on what terms) are in Apply; Tick's moves are in Tick.
//
//	draft            submit → submitted | awaiting_advice; withdrawal → withdrawn
//	submitted        advice → submitted; decision → active | refused; withdrawal → withdrawn
//	awaiting_advice  advice → awaiting_advice | submitted; withdrawal → withdrawn
//	active           ratification, review, renewal, release → active; cancellation → cancelled
//	review_due       ratification, release → review_due; review, renewal → active; cancellation → cancelled
//	cancelled        closure → closed
//	expired          closure → closed
//	refused, withdrawn, closed: terminal
var table = map[State][]string{
	Draft:          {ActSubmit, ActWithdrawal},
	Submitted:      {ActAdvice, ActDecision, ActWithdrawal},
	AwaitingAdvice: {ActAdvice, ActWithdrawal},
	Active:         {ActRatification, ActReview, ActRenewal, ActCancellation, ActRelease},
	ReviewDue:      {ActRatification, ActReview, ActRenewal, ActCancellation, ActRelease},
	Cancelled:      {ActClosure},
	Expired:        {ActClosure},
}

// Roles an actor may hold: the ids of internal/identity's roles, written
// out because this package must not depend on the directory.
const (
	RoleInvestigator = "investigator"
	RoleAuthoriser   = "authoriser"
	RoleAdviser      = "adviser"
	// AdviserLegal is the adviser kind whose view releases held-back
	// confidential material.
	AdviserLegal = "legal"
)

// An Actor is the named person taking an action, as the directory knows
// them at that moment.
type Actor struct {
	ID    string
	Roles []string // role ids: RoleAuthoriser and so on
	Rank  string   // rank id, "" for none
	// Ranks is the rank order, lowest first (identity.AllRanks). A rank
	// missing from it is below every rank, so an unknown rank can never
	// authorise.
	Ranks   []string
	Adviser string // adviser kind ("legal", "dpo", "ethics") when acting as an adviser
}

func (a Actor) has(role string) bool { return slices.Contains(a.Roles, role) }

// atLeast reports whether the actor's rank is min or above. An empty or
// unknown min is refused: a requirement that names no rank authorises
// no one.
func (a Actor) atLeast(min string) bool {
	m, r := slices.Index(a.Ranks, min), slices.Index(a.Ranks, a.Rank)
	return m >= 0 && r >= m
}

// An Action is one of Submit, Advise, Decide, Ratify, ReviewAction,
// Renew, Cancel, Withdraw and Close.
type Action interface {
	Name() string // the Act* constant
	Actor() Actor
}

// Submit sends a draft for decision, with the requirement the consent
// policy derived from [Facts] of the request (the caller runs [Validate]
// and the policy first). Only the requester submits.
type Submit struct {
	By          Actor
	Requirement consent.Requirement
}

// Advise records an adviser's view. The adviser's kind is By.Adviser.
type Advise struct {
	By   Actor
	View string
}

// Decide authorises or refuses a submitted request.
type Decide struct {
	By        Actor
	Authorise bool
	Reasons   string
	// Views holds the authoriser's view on each criterion the requester
	// answered; required to authorise.
	Views map[string]string
	// DirectlyInvolved is the authoriser's declaration that they are
	// directly involved in the investigation.
	DirectlyInvolved bool
	// Until is an earlier expiry than the longest allowed; zero for the
	// longest.
	Until time.Time
}

// Ratify confirms an authorisation made on the urgent route, at the
// rank the request normally needs, before it lapses.
type Ratify struct {
	By      Actor
	Reasons string
	Until   time.Time // an earlier expiry than the longest allowed; zero for the longest
}

// ReviewAction records a review of an authorisation in force.
type ReviewAction struct {
	By    Actor
	Notes string
	Next  time.Time // when the next review is due; zero for now + the review interval
}

// Renew extends an authorisation in force, before it expires.
type Renew struct {
	By               Actor
	Reasons          string
	DirectlyInvolved bool
	Until            time.Time // the new expiry; zero for now + the longest allowed
}

// Cancel ends an authorisation in force.
type Cancel struct {
	By      Actor
	Reasons string
}

// Withdraw ends a request before its decision.
type Withdraw struct {
	By      Actor
	Reasons string
}

// Close records how a cancelled or expired request ended.
type Close struct {
	By      Actor
	Outcome string
	Useful  bool
	Kept    string // what is kept, and why
}

func (a Submit) Name() string       { return ActSubmit }
func (a Advise) Name() string       { return ActAdvice }
func (a Decide) Name() string       { return ActDecision }
func (a Ratify) Name() string       { return ActRatification }
func (a ReviewAction) Name() string { return ActReview }
func (a Renew) Name() string        { return ActRenewal }
func (a Cancel) Name() string       { return ActCancellation }
func (a Withdraw) Name() string     { return ActWithdrawal }
func (a Close) Name() string        { return ActClosure }

func (a Submit) Actor() Actor       { return a.By }
func (a Advise) Actor() Actor       { return a.By }
func (a Decide) Actor() Actor       { return a.By }
func (a Ratify) Actor() Actor       { return a.By }
func (a ReviewAction) Actor() Actor { return a.By }
func (a Renew) Actor() Actor        { return a.By }
func (a Cancel) Actor() Actor       { return a.By }
func (a Withdraw) Actor() Actor     { return a.By }
func (a Close) Actor() Actor        { return a.By }

// Release records a legal adviser's view on confidential material held
// back from the investigators (internal/review): released, or kept back.
type Release struct {
	By      Actor
	Events  []string // event ids, 32 lower-case hex digits
	View    string
	Release bool
}

func (a Release) Name() string { return ActRelease }
func (a Release) Actor() Actor { return a.By }

// MaxReleaseEvents bounds the events one view covers.
const MaxReleaseEvents = 1000

// A Transition is one change of state: the caller writes it to the
// oversight log, and Apply and Tick append it to Request.History.
type Transition struct {
	From    State     `json:"from"`
	To      State     `json:"to"`
	Action  string    `json:"action"`
	Actor   string    `json:"actor"` // a person id, or System
	At      time.Time `json:"at"`
	Reasons string    `json:"reasons,omitempty"`
	// OversightIndex is the index of the transition's leaf in the
	// oversight log. Apply and Tick leave it zero; the caller sets it
	// once the leaf is durable, before storing the request.
	OversightIndex uint64 `json:"oversight_index"`
}

// A TransitionError is an action the request's state does not allow
// (HTTP 409): an action not in the table, or one whose moment has passed.
type TransitionError struct {
	From   State
	Action string
	Msg    string // why, when more than "not allowed"; "" otherwise
}

func (e *TransitionError) Error() string {
	s := fmt.Sprintf("%s not allowed in state %s", e.Action, e.From)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// A Rule is one of the rules Apply enforces whatever the state.
type Rule string

// Rules, for callers to map to problem types: RuleSelf and RuleSubject
// are conflicts of interest, RuleRank is rank-too-low, RuleRole and
// RuleInvolvement are forbidden, and the rest are validation.
const (
	RuleSelf          Rule = "self"          // the requester may not do this to their own request
	RuleSubject       Rule = "subject"       // a subject may not act on a request about them
	RuleRole          Rule = "role"          // the actor lacks the role
	RuleRank          Rule = "rank"          // the actor's rank is below what the request needs
	RuleAdvisers      Rule = "advisers"      // a required adviser has not given a view
	RuleInvolvement   Rule = "involvement"   // a named investigator declared they are not involved
	RuleJustification Rule = "justification" // reasons or views are missing, thin or copied
	RuleLimit         Rule = "limit"         // a date beyond what is allowed
	RuleRequirement   Rule = "requirement"   // the requirement given at submission is unusable or unmet
	RuleClock         Rule = "clock"         // now is before the last recorded transition
)

// A RuleError is an action refused by a rule (HTTP 403 or 400): which
// rule, which field of the action or request ("" when none), and why.
type RuleError struct {
	Rule  Rule
	Field string
	Msg   string
}

func (e *RuleError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Rule, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Rule, e.Msg)
}

func refuse(rule Rule, field, format string, args ...any) error {
	return &RuleError{Rule: rule, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Apply takes action a on r at now and returns the new request and the
// transition, which is also appended to the new request's History. On
// error it returns r unchanged, the zero Transition and either a
// *[TransitionError] (the state does not allow a) or a *[RuleError] (a
// rule refuses it). Apply never changes r's slices or maps.
//
// A request past a deadline [Tick] would act on is refused with a
// TransitionError until the caller has ticked it, and so is an action
// timed before the last recorded transition (RuleClock), so that a clock
// set back can never reopen what has ended.
//
// The rules, checked here and nowhere else:
//
//   - No subject acts on a request about them, in any way.
//   - Only the requester submits or withdraws, and never decides,
//     ratifies, reviews or renews.
//   - Deciding, ratifying, reviewing and renewing need the authoriser
//     role; advising needs the adviser role and a kind.
//   - The decider's rank is at least Requirement.MinRank, or, when the
//     requester asked for the urgent route and the requirement opens
//     it, at least Urgent.MinRank: then the authorisation lasts at most
//     Urgent.MaxDuration and lapses at RatifyBy unless ratified at
//     MinRank. Renewal needs MinRank and a ratified authorisation; review
//     needs the rank the authorisation was granted at.
//   - Every adviser kind in Requirement.Advisers has given a view before a
//     decision.
//   - Deciders and renewers declare whether they are directly involved; a
//     named investigator who declares they are not is refused.
//   - Reasons, views, review notes and advice follow the justification
//     rule; an authoriser's view may not copy the requester's answer.
//   - Expiry is at most authorised_at + MaxDuration (or the urgent
//     duration), ratification at most authorised_at + MaxDuration, and a
//     renewal at most now + MaxDuration, and only before expiry.
func Apply(r Request, a Action, now time.Time) (Request, Transition, error) {
	orig := r
	fail := func(err error) (Request, Transition, error) { return orig, Transition{}, err }
	now = now.UTC()
	from := r.State
	if from == "" {
		from = Draft
	}
	if a == nil {
		return fail(&TransitionError{From: from, Action: "", Msg: "no action"})
	}
	name, by := a.Name(), a.Actor()
	if !slices.Contains(table[from], name) {
		return fail(&TransitionError{From: from, Action: name})
	}
	if n := len(r.History); n > 0 && now.Before(r.History[n-1].At) {
		return fail(refuse(RuleClock, "", "the time %s is before the last transition at %s", now.Format(time.RFC3339), r.History[n-1].At.Format(time.RFC3339)))
	}
	if _, ts := Tick(r, now); len(ts) > 0 {
		return fail(&TransitionError{From: from, Action: name, Msg: "a deadline has passed; tick the request first"})
	}
	if from != Draft && r.Requirement == nil {
		// Only a malformed record gets here; refuse rather than guess.
		return fail(refuse(RuleRequirement, "requirement", "a submitted request must carry its requirement"))
	}
	if by.ID == "" {
		return fail(refuse(RuleRole, "by", "an action needs a named person"))
	}
	if slices.Contains(r.Subjects, by.ID) {
		return fail(refuse(RuleSubject, "by", "%s is a subject of this request", by.ID))
	}

	r = r.clone()
	r.State = from
	t := Transition{From: from, Action: name, Actor: by.ID, At: now}
	var err error
	switch a := a.(type) {
	case Submit:
		err = r.submit(a, &t)
	case Advise:
		err = r.advise(a, &t)
	case Decide:
		err = r.decide(a, &t)
	case Ratify:
		err = r.ratify(a, &t)
	case ReviewAction:
		err = r.review(a, &t)
	case Renew:
		err = r.renew(a, &t)
	case Cancel:
		err = r.cancel(a, &t)
	case Withdraw:
		err = r.withdraw(a, &t)
	case Close:
		err = r.close(a, &t)
	case Release:
		err = r.release(a, &t)
	default:
		err = &TransitionError{From: from, Action: name, Msg: "unknown action"}
	}
	if err != nil {
		return fail(err)
	}
	r.State = t.To
	r.History = append(r.History, t)
	return r, t, nil
}

func (r *Request) submit(a Submit, t *Transition) error {
	if a.By.ID != r.Requester {
		return refuse(RuleRole, "by", "only the requester submits a request")
	}
	q := a.Requirement
	switch {
	case q.MinRank == "":
		return refuse(RuleRequirement, "requirement.min_rank", "the requirement names no rank")
	case q.MaxDuration <= 0:
		return refuse(RuleRequirement, "requirement.max_duration", "the requirement allows no time")
	case q.ReviewInterval < 0:
		return refuse(RuleRequirement, "requirement.review_interval", "negative")
	case q.Urgent != nil && (q.Urgent.MinRank == "" || q.Urgent.MaxDuration <= 0 || q.Urgent.MaxDuration > q.MaxDuration):
		return refuse(RuleRequirement, "requirement.urgent", "the urgent route needs a rank and a duration no longer than the normal one")
	case q.RIPARequired && strings.TrimSpace(r.RIPAReference) == "":
		return refuse(RuleRequirement, "ripa_reference", "this request needs a RIPA authorisation reference")
	}
	// Keep a copy, so that the caller's slice cannot change it later.
	q.Advisers = slices.Clone(q.Advisers)
	if q.Urgent != nil {
		u := *q.Urgent
		q.Urgent = &u
	}
	r.Requirement = &q
	t.To = Submitted
	if len(r.missingAdvisers()) > 0 {
		t.To = AwaitingAdvice
	}
	return nil
}

// MissingAdvisers returns the adviser kinds the request's requirement
// names that have given no view yet; nil before submission.
func (r Request) MissingAdvisers() []string { return r.missingAdvisers() }

// DecidingRank is the lowest rank that may decide a submitted request:
// the urgent route's when the requester asked for it and the requirement
// opens it, else the requirement's; "" before submission.
func (r Request) DecidingRank() string {
	switch {
	case r.Requirement == nil:
		return ""
	case r.Urgent.Urgent && r.Requirement.Urgent != nil:
		return r.Requirement.Urgent.MinRank
	}
	return r.Requirement.MinRank
}

// missingAdvisers returns the required adviser kinds with no view yet.
func (r *Request) missingAdvisers() []string {
	if r.Requirement == nil {
		return nil
	}
	var missing []string
	for _, k := range r.Requirement.Advisers {
		if !slices.ContainsFunc(r.Advice, func(v Advice) bool { return v.Kind == k }) {
			missing = append(missing, k)
		}
	}
	return missing
}

func (r *Request) advise(a Advise, t *Transition) error {
	switch {
	case a.By.ID == r.Requester:
		return refuse(RuleSelf, "by", "the requester cannot advise on their own request")
	case !a.By.has(RoleAdviser) || a.By.Adviser == "":
		return refuse(RuleRole, "by", "only an adviser of a named kind gives advice")
	}
	if errs := checkTexts([]text{{"view", a.View}}, nil); len(errs) > 0 {
		return refuse(RuleJustification, errs[0].Field, "%s", errs[0].Msg)
	}
	r.Advice = append(r.Advice, Advice{By: a.By.ID, Kind: a.By.Adviser, View: a.View, At: t.At})
	t.Reasons = a.View
	t.To = Submitted
	if len(r.missingAdvisers()) > 0 {
		t.To = AwaitingAdvice
	}
	return nil
}

func (r *Request) release(a Release, t *Transition) error {
	switch {
	case a.By.ID == r.Requester || slices.Contains(r.Investigators, a.By.ID):
		return refuse(RuleSelf, "by", "the investigators cannot release material held back from themselves")
	case !a.By.has(RoleAdviser) || a.By.Adviser != AdviserLegal:
		return refuse(RuleRole, "by", "only a legal adviser releases material held back as confidential")
	case len(a.Events) == 0 || len(a.Events) > MaxReleaseEvents:
		return refuse(RuleLimit, "events", "name 1 to %d events", MaxReleaseEvents)
	}
	for _, id := range a.Events {
		if !isEventID(id) {
			return refuse(RuleLimit, "events", "%q is not an event id (32 lower-case hex digits)", id)
		}
	}
	if errs := checkTexts([]text{{"view", a.View}}, nil); len(errs) > 0 {
		return refuse(RuleJustification, errs[0].Field, "%s", errs[0].Msg)
	}
	r.Releases = append(r.Releases, ReleaseView{By: a.By.ID, Events: slices.Clone(a.Events), View: a.View, Released: a.Release, At: t.At})
	t.Reasons, t.To = a.View, r.State
	return nil
}

func isEventID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkAuthoriser applies the rules every authorising action shares: not
// the requester, the authoriser role.
func (r *Request) checkAuthoriser(by Actor, what string) error {
	switch {
	case by.ID == r.Requester:
		return refuse(RuleSelf, "by", "the requester cannot %s their own request", what)
	case !by.has(RoleAuthoriser):
		return refuse(RuleRole, "by", "only an authoriser may %s", what)
	}
	return nil
}

// checkInvolvement refuses a named investigator's declaration that they
// are not directly involved: they are, by being named.
func (r *Request) checkInvolvement(by Actor, declared bool) error {
	if !declared && slices.Contains(r.Investigators, by.ID) {
		return refuse(RuleInvolvement, "directly_involved", "%s is a named investigator on this request, so is directly involved", by.ID)
	}
	return nil
}

func (r *Request) decide(a Decide, t *Transition) error {
	if err := r.checkAuthoriser(a.By, "decide"); err != nil {
		return err
	}
	if err := r.checkInvolvement(a.By, a.DirectlyInvolved); err != nil {
		return err
	}
	q := r.Requirement
	if q == nil {
		return refuse(RuleRequirement, "requirement", "the request was submitted without a requirement")
	}
	urgent := false
	switch {
	case a.By.atLeast(q.MinRank):
	case r.Urgent.Urgent && q.Urgent != nil && a.By.atLeast(q.Urgent.MinRank) && a.Authorise:
		urgent = true
	default:
		return refuse(RuleRank, "by", "this request needs a decision at rank %s or above", q.MinRank)
	}
	if m := r.missingAdvisers(); len(m) > 0 {
		return refuse(RuleAdvisers, "advice", "no view yet from: %s", strings.Join(m, ", "))
	}
	// Reasons and views: each real, none a copy of another or of what the
	// requester wrote.
	// Authorising needs a view on every criterion the request answers;
	// a refusal's views are optional, but checked when given.
	texts := []text{{"reasons", a.Reasons}}
	answered := r.answered()
	ids := make([]string, 0, len(answered))
	for _, id := range answered {
		if _, given := a.Views[id]; a.Authorise || given {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		texts = append(texts, text{"views." + id, a.Views[id]})
	}
	for id := range a.Views {
		if !slices.Contains(answered, id) {
			return refuse(RuleJustification, "views."+id, "the request has no answer to this criterion")
		}
	}
	others := []text{}
	for _, j := range justifications(*r) {
		others = append(others, text{"the request's " + j.field, j.value})
	}
	if errs := checkTexts(texts, others); len(errs) > 0 {
		return refuse(RuleJustification, errs[0].Field, "%s", errs[0].Msg)
	}
	d := Decision{
		By: a.By.ID, Rank: a.By.Rank, Authorise: a.Authorise, Reasons: a.Reasons,
		Views: maps.Clone(a.Views), DirectlyInvolved: a.DirectlyInvolved, UrgentRoute: urgent, At: t.At,
	}
	t.Reasons = a.Reasons
	if !a.Authorise {
		r.Decisions = append(r.Decisions, d)
		t.To = Refused
		return nil
	}
	longest := q.MaxDuration
	if urgent {
		longest = q.Urgent.MaxDuration
	}
	expires, err := until("until", a.Until, t.At, t.At.Add(longest))
	if err != nil {
		return err
	}
	r.Decisions = append(r.Decisions, d)
	r.AuthorisedBy, r.AuthoriserRank, r.DirectlyInvolved = a.By.ID, a.By.Rank, a.DirectlyInvolved
	r.AuthorisedAt, r.ExpiresAt = t.At, expires
	if urgent {
		r.RatifyBy = t.At.Add(q.Urgent.MaxDuration)
	}
	r.ReviewDue = time.Time{}
	if q.ReviewInterval > 0 {
		r.ReviewDue = t.At.Add(q.ReviewInterval)
	}
	t.To = Active
	return nil
}

// answered returns the criteria the request answers, sorted: those in
// Criteria, and NOTICE when the notice record answers it, for an
// authoriser must give a view on the subjects' notice whether or not the
// requester added to it.
func (r *Request) answered() []string {
	ids := slices.Collect(maps.Keys(r.Criteria))
	if strings.TrimSpace(r.NoticeRecord) != "" && !slices.Contains(ids, NoticeCriterion) {
		ids = append(ids, NoticeCriterion)
	}
	slices.Sort(ids)
	return ids
}

// until returns the date asked for in field: want, or longest when want
// is zero. It refuses one not after now or after longest.
func until(field string, want, now, longest time.Time) (time.Time, error) {
	if want.IsZero() {
		return longest, nil
	}
	want = want.UTC()
	switch {
	case !want.After(now):
		return time.Time{}, refuse(RuleLimit, field, "must be after now")
	case want.After(longest):
		return time.Time{}, refuse(RuleLimit, field, "must be no later than %s", longest.Format(time.RFC3339))
	}
	return want, nil
}

func (r *Request) ratify(a Ratify, t *Transition) error {
	if r.RatifyBy.IsZero() || !r.RatifiedAt.IsZero() {
		return &TransitionError{From: r.State, Action: ActRatification, Msg: "there is no urgent authorisation to ratify"}
	}
	if err := r.checkAuthoriser(a.By, "ratify"); err != nil {
		return err
	}
	if !a.By.atLeast(r.Requirement.MinRank) {
		return refuse(RuleRank, "by", "ratification needs rank %s or above", r.Requirement.MinRank)
	}
	if errs := checkTexts([]text{{"reasons", a.Reasons}}, nil); len(errs) > 0 {
		return refuse(RuleJustification, errs[0].Field, "%s", errs[0].Msg)
	}
	expires, err := until("until", a.Until, t.At, r.AuthorisedAt.Add(r.Requirement.MaxDuration))
	if err != nil {
		return err
	}
	r.ExpiresAt, r.RatifiedBy, r.RatifiedAt = expires, a.By.ID, t.At
	t.Reasons, t.To = a.Reasons, r.State
	return nil
}

// grantedRank is the rank the authorisation in force was granted at.
func (r *Request) grantedRank() string {
	if !r.RatifyBy.IsZero() && r.RatifiedAt.IsZero() && r.Requirement.Urgent != nil {
		return r.Requirement.Urgent.MinRank
	}
	return r.Requirement.MinRank
}

func (r *Request) review(a ReviewAction, t *Transition) error {
	if err := r.checkAuthoriser(a.By, "review"); err != nil {
		return err
	}
	if rank := r.grantedRank(); !a.By.atLeast(rank) {
		return refuse(RuleRank, "by", "a review needs rank %s or above", rank)
	}
	if errs := checkTexts([]text{{"notes", a.Notes}}, nil); len(errs) > 0 {
		return refuse(RuleJustification, errs[0].Field, "%s", errs[0].Msg)
	}
	next := time.Time{}
	if iv := r.Requirement.ReviewInterval; iv > 0 {
		var err error
		if next, err = until("next", a.Next, t.At, t.At.Add(iv)); err != nil {
			return err
		}
	} else if !a.Next.IsZero() {
		if !a.Next.After(t.At) {
			return refuse(RuleLimit, "next", "must be after now")
		}
		next = a.Next.UTC()
	}
	r.Reviews = append(r.Reviews, Review{By: a.By.ID, Notes: a.Notes, Next: next, At: t.At})
	r.ReviewDue = next
	t.Reasons, t.To = a.Notes, Active
	return nil
}

func (r *Request) renew(a Renew, t *Transition) error {
	if !r.RatifyBy.IsZero() && r.RatifiedAt.IsZero() {
		return &TransitionError{From: r.State, Action: ActRenewal, Msg: "an urgent authorisation is ratified, not renewed"}
	}
	if err := r.checkAuthoriser(a.By, "renew"); err != nil {
		return err
	}
	if !a.By.atLeast(r.Requirement.MinRank) {
		return refuse(RuleRank, "by", "renewal needs rank %s or above", r.Requirement.MinRank)
	}
	if err := r.checkInvolvement(a.By, a.DirectlyInvolved); err != nil {
		return err
	}
	if errs := checkTexts([]text{{"reasons", a.Reasons}}, nil); len(errs) > 0 {
		return refuse(RuleJustification, errs[0].Field, "%s", errs[0].Msg)
	}
	expires, err := until("until", a.Until, t.At, t.At.Add(r.Requirement.MaxDuration))
	if err != nil {
		return err
	}
	if !expires.After(r.ExpiresAt) {
		return refuse(RuleLimit, "until", "a renewal must end after the current expiry, %s", r.ExpiresAt.Format(time.RFC3339))
	}
	r.Renewals = append(r.Renewals, Renewal{
		By: a.By.ID, Rank: a.By.Rank, Reasons: a.Reasons, DirectlyInvolved: a.DirectlyInvolved,
		From: r.ExpiresAt, Until: expires, At: t.At,
	})
	r.ExpiresAt = expires
	r.ReviewDue = time.Time{}
	if iv := r.Requirement.ReviewInterval; iv > 0 {
		r.ReviewDue = t.At.Add(iv)
	}
	t.Reasons, t.To = a.Reasons, Active
	return nil
}

func (r *Request) cancel(a Cancel, t *Transition) error {
	// Cancelling only ever reduces intrusion: the requester, or any
	// authoriser, may do it.
	if a.By.ID != r.Requester && !a.By.has(RoleAuthoriser) {
		return refuse(RuleRole, "by", "only the requester or an authoriser may cancel")
	}
	if errs := checkTexts([]text{{"reasons", a.Reasons}}, nil); len(errs) > 0 {
		return refuse(RuleJustification, errs[0].Field, "%s", errs[0].Msg)
	}
	r.EndedAt = t.At
	t.Reasons, t.To = a.Reasons, Cancelled
	return nil
}

func (r *Request) withdraw(a Withdraw, t *Transition) error {
	if a.By.ID != r.Requester {
		return refuse(RuleRole, "by", "only the requester withdraws a request")
	}
	if errs := checkTexts([]text{{"reasons", a.Reasons}}, nil); len(errs) > 0 {
		return refuse(RuleJustification, errs[0].Field, "%s", errs[0].Msg)
	}
	t.Reasons, t.To = a.Reasons, Withdrawn
	return nil
}

func (r *Request) close(a Close, t *Transition) error {
	if a.By.ID != r.Requester && !a.By.has(RoleAuthoriser) {
		return refuse(RuleRole, "by", "only the requester or an authoriser may close")
	}
	switch {
	case strings.TrimSpace(a.Outcome) == "":
		return refuse(RuleJustification, "outcome", "required: what the request found")
	case strings.TrimSpace(a.Kept) == "":
		return refuse(RuleJustification, "kept", "required: what is kept, and why")
	}
	r.Closure = &Closure{By: a.By.ID, Outcome: a.Outcome, Useful: a.Useful, Kept: a.Kept, At: t.At}
	t.Reasons, t.To = a.Outcome, Closed
	return nil
}

// deadline returns when the authorisation in force stops, and the action
// that records it: the expiry, or RatifyBy when that comes first and the
// authorisation is unratified.
func (r Request) deadline() (time.Time, string) {
	if !r.RatifyBy.IsZero() && r.RatifiedAt.IsZero() && !r.RatifyBy.After(r.ExpiresAt) {
		return r.RatifyBy, ActLapse
	}
	return r.ExpiresAt, ActExpiry
}

// Tick returns r as it stands at now, with the transitions that brought
// it there (nil if none), each timed at its deadline and made by
// [System]: active → review_due when ReviewDue has passed, and active or
// review_due → expired at the expiry (ActExpiry) or, for an unratified
// urgent authorisation, at RatifyBy (ActLapse), whichever comes first.
// The caller records the transitions, as for Apply. Tick is idempotent,
// and a now earlier than a deadline changes nothing: a clock set back
// never revives an authorisation, because [Active] does not depend on
// Tick having run.
func Tick(r Request, now time.Time) (Request, []Transition) {
	var ts []Transition
	orig := r
	cloned := false
	for r.State == Active || r.State == ReviewDue {
		end, why := r.deadline()
		var t Transition
		switch {
		case r.State == Active && !r.ReviewDue.IsZero() && r.ReviewDue.Before(end) && !now.Before(r.ReviewDue):
			t = Transition{From: Active, To: ReviewDue, Action: ActReviewDue, Actor: System, At: r.ReviewDue,
				Reasons: "the review date has passed"}
		case !now.Before(end):
			t = Transition{From: r.State, To: Expired, Action: why, Actor: System, At: end,
				Reasons: "the authorisation ran out"}
			if why == ActLapse {
				t.Reasons = "the urgent authorisation was not ratified in time"
			}
		default:
			if !cloned {
				return orig, ts
			}
			return r, ts
		}
		if !cloned {
			r, cloned = r.clone(), true
		}
		if t.To == Expired {
			r.EndedAt = t.At
		}
		r.State = t.To
		r.History = append(r.History, t)
		ts = append(ts, t)
	}
	return r, ts
}

// NextDeadline returns the earliest time at which [Tick] would change r,
// and zero when nothing is pending: a store selects on it to find the
// requests a sweeper must tick.
func (r Request) NextDeadline() time.Time {
	if r.State != Active && r.State != ReviewDue {
		return time.Time{}
	}
	end, _ := r.deadline()
	if r.State == Active && !r.ReviewDue.IsZero() && r.ReviewDue.Before(end) {
		return r.ReviewDue
	}
	return end
}

// Active reports whether r authorises anything at now: it is in state
// active or review_due, was authorised at or before now, and now is
// before its expiry and, if it was authorised on the urgent route and not
// yet ratified, before RatifyBy. It does not trust the state alone, so an
// authorisation is never in force past its expiry whether or not Tick has
// run.
func (r Request) Active(now time.Time) bool {
	if r.State != Active && r.State != ReviewDue {
		return false
	}
	end, _ := r.deadline()
	return !r.AuthorisedAt.IsZero() && !now.Before(r.AuthorisedAt) && now.Before(end)
}
