package requests

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/lbm-project/lbm/internal/consent"
)

// The people of the property test. Each id has one rank, so the checker
// can look it up; the requester (ivy) and the subject (sam) hold the
// authoriser role and high ranks, so that only the rules stop them.
var cast = []Actor{
	person("ivy", "commissioner", RoleInvestigator, RoleAuthoriser),
	person("sam", "commissioner", RoleAuthoriser),
	ian, sue, ina, ace, oli, lee, dee,
	person("con", "constable", RoleAuthoriser),
	person("odd", "field_marshal", RoleAuthoriser),
	{ID: "sly", Roles: []string{RoleAdviser, RoleAuthoriser}, Rank: "deputy_commissioner", Ranks: ranks, Adviser: "legal"},
}

func rankOf(id string) string {
	i := slices.IndexFunc(cast, func(a Actor) bool { return a.ID == id })
	return cast[i].Rank
}

func atLeast(rank, min string) bool {
	return Actor{Rank: rank, Ranks: ranks}.atLeast(min)
}

// Texts an actor may write: most real and distinct, some not.
var texts = []string{
	reasons, reasons2, notes, view, because,
	"The officer's searches continued after the first warning, which makes this necessary.",
	"Scope remains limited to the two systems and the officer concerned; nothing wider is read.",
	".", "ok", "",
}

func drawRequirement(t *rapid.T) consent.Requirement {
	q := consent.Requirement{
		MinRank:     rapid.SampledFrom([]string{"inspector", "superintendent", "assistant_commissioner"}).Draw(t, "min_rank"),
		MaxDuration: time.Duration(rapid.IntRange(1, 100).Draw(t, "max_days")) * 24 * time.Hour,
	}
	if rapid.Bool().Draw(t, "reviews") {
		q.ReviewInterval = time.Duration(rapid.IntRange(1, 30).Draw(t, "review_days")) * 24 * time.Hour
	}
	for _, k := range []string{"dpo", "legal"} {
		if rapid.Bool().Draw(t, "adviser_"+k) {
			q.Advisers = append(q.Advisers, k)
		}
	}
	if rapid.Bool().Draw(t, "urgent_route") {
		q.Urgent = &consent.UrgentRoute{
			MinRank:     rapid.SampledFrom([]string{"constable", "inspector"}).Draw(t, "urgent_rank"),
			MaxDuration: min(q.MaxDuration, time.Duration(rapid.IntRange(1, 72).Draw(t, "urgent_hours"))*time.Hour),
		}
	}
	return q
}

// likely are the people most likely to succeed at each action: drawn
// more often than the rest of the cast, so that sequences reach the
// later states.
var likely = map[string][]Actor{
	ActSubmit:       {cast[0]},
	ActAdvice:       {lee, dee, cast[len(cast)-1]},
	ActDecision:     {sue, ace, ina, ian, cast[len(cast)-1]},
	ActRatification: {sue, ace, ian},
	ActReview:       {sue, ace, ina},
	ActRenewal:      {sue, ace, ian},
	ActCancellation: {cast[0], sue},
	ActWithdrawal:   {cast[0]},
	ActClosure:      {cast[0], sue},
	ActRelease:      {lee, dee},
}

var actionNames = []string{ActSubmit, ActAdvice, ActDecision, ActRatification, ActReview, ActRenewal, ActCancellation, ActWithdrawal, ActClosure, ActRelease}

func drawAction(t *rapid.T, r Request, q consent.Requirement, now time.Time) Action {
	chance := func(label string, p float64) bool { return rapid.Float64Range(0, 1).Draw(t, label) < p }
	names := actionNames
	if ok := table[r.State]; len(ok) > 0 && chance("allowed", 0.8) {
		names = ok
	}
	// Ending early is allowed almost everywhere: draw it less often.
	var weighted []string
	for _, n := range names {
		weighted = append(weighted, n)
		if n != ActWithdrawal && n != ActCancellation {
			weighted = append(weighted, n, n, n, n, n)
		}
	}
	name := rapid.SampledFrom(weighted).Draw(t, "action")
	by := rapid.SampledFrom(cast).Draw(t, "by")
	if chance("likely", 0.6) {
		by = rapid.SampledFrom(likely[name]).Draw(t, "likely_by")
	}
	txt := func(label string) string {
		if chance(label+"_good", 0.85) {
			return rapid.SampledFrom(texts[:7]).Draw(t, label)
		}
		return rapid.SampledFrom(texts).Draw(t, label)
	}
	date := func(label string) time.Time {
		if chance(label+"_default", 0.6) {
			return time.Time{}
		}
		return now.Add(time.Duration(rapid.IntRange(-48, 120*24).Draw(t, label+"_hours")) * time.Hour)
	}
	switch name {
	case ActSubmit:
		return Submit{By: by, Requirement: q}
	case ActAdvice:
		return Advise{By: by, View: txt("view")}
	case ActDecision:
		d := Decide{By: by, Authorise: chance("authorise", 0.8), Reasons: txt("reasons"),
			DirectlyInvolved: rapid.Bool().Draw(t, "involved"), Until: date("until")}
		if chance("good_views", 0.85) {
			d.Views = views
		}
		return d
	case ActRatification:
		return Ratify{By: by, Reasons: txt("reasons"), Until: date("until")}
	case ActReview:
		return ReviewAction{By: by, Notes: txt("notes"), Next: date("next")}
	case ActRenewal:
		return Renew{By: by, Reasons: txt("reasons"), DirectlyInvolved: rapid.Bool().Draw(t, "involved"), Until: date("until")}
	case ActCancellation:
		return Cancel{By: by, Reasons: txt("reasons")}
	case ActWithdrawal:
		return Withdraw{By: by, Reasons: txt("reasons")}
	case ActRelease:
		events := []string{"0123456789abcdef0123456789abcdef"}
		if chance("bad_event", 0.1) {
			events = []string{"not an event"}
		}
		return Release{By: by, Events: events, View: txt("view"), Release: rapid.Bool().Draw(t, "release")}
	default:
		return Close{By: by, Outcome: txt("outcome"), Useful: rapid.Bool().Draw(t, "useful"), Kept: txt("kept")}
	}
}

// TestProperties runs random sequences of actions by random people, with
// ticks and a clock that jumps forwards and backwards, and checks after
// every step that:
//
//   - a request active at now has an authoriser who is neither the
//     requester nor a subject, whose rank is at least the requirement's
//     (or the urgent rank, only before RatifyBy), as has every ratifier
//     and renewer, every required adviser gave a view before the
//     decision, and now is before its expiry;
//   - it is active at no time at or after its expiry, nor before its
//     authorisation;
//   - the expiry moves later only by renewal or ratification, never past
//     the limits of the requirement;
//   - the transitions returned are the recorded history, in order, each
//     starting where the last ended, at non-decreasing times;
//   - a refused action changes nothing, and terminal states are never
//     left.
func TestProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := validRequest()
		r.State = Draft
		r.Urgent = Urgency{Urgent: rapid.Bool().Draw(t, "urgent"), Why: "The laptop is due to be wiped tonight according to a reliable witness."}
		q := drawRequirement(t)
		now := t0
		var log []Transition
		// Half the runs start with the straight path to a decision, so
		// that most of them reach the life of an authorisation.
		if rapid.Bool().Draw(t, "fast_start") {
			decider := rapid.SampledFrom([]Actor{sue, ace, ina}).Draw(t, "decider")
			for _, a := range []Action{
				Submit{By: cast[0], Requirement: q},
				Advise{By: dee, View: view},
				Advise{By: lee, View: notes},
				Decide{By: decider, Authorise: true, Reasons: reasons, Views: views},
			} {
				before := r
				if got, tr, err := Apply(r, a, now); err == nil {
					r, log = got, append(log, tr)
				}
				check(t, before, r, q, now, log)
			}
		}
		steps := rapid.IntRange(1, 60).Draw(t, "steps")
		for range steps {
			// Mostly small steps forward; sometimes a jump either way.
			switch rapid.IntRange(0, 9).Draw(t, "clock") {
			case 0:
				now = now.Add(-time.Duration(rapid.IntRange(1, 30*24).Draw(t, "back_hours")) * time.Hour)
			case 1:
				now = now.Add(time.Duration(rapid.IntRange(1, 120*24).Draw(t, "jump_hours")) * time.Hour)
			default:
				now = now.Add(time.Duration(rapid.IntRange(0, 48).Draw(t, "step_hours")) * time.Hour)
			}
			before := r
			switch rapid.IntRange(0, 4).Draw(t, "kind") {
			case 0:
				var ts []Transition
				r, ts = Tick(r, now)
				log = append(log, ts...)
				for _, tr := range ts {
					if tr.Actor != System || (tr.Action != ActExpiry && tr.Action != ActLapse && tr.Action != ActReviewDue) {
						t.Fatalf("Tick made %+v", tr)
					}
				}
			default:
				a := drawAction(t, r, q, now)
				got, tr, err := Apply(r, a, now)
				if err != nil {
					var te *TransitionError
					var re *RuleError
					if !errors.As(err, &te) && !errors.As(err, &re) {
						t.Fatalf("Apply error %v is neither a TransitionError nor a RuleError", err)
					}
					if !cmp.Equal(got, r) || (tr != Transition{}) {
						t.Fatalf("refused Apply changed the request")
					}
				} else {
					r = got
					log = append(log, tr)
					if tr.Actor != a.Actor().ID || tr.Action != a.Name() || !tr.At.Equal(now) {
						t.Fatalf("transition %+v for %s by %s at %v", tr, a.Name(), a.Actor().ID, now)
					}
				}
			}
			check(t, before, r, q, now, log)
			if slices.Contains([]State{Refused, Withdrawn, Closed}, before.State) {
				break // one action tried on a terminal state is enough
			}
		}
	})
}

func check(t *rapid.T, before, r Request, q consent.Requirement, now time.Time, log []Transition) {
	// The history is the transitions returned, in order, chained, and
	// never earlier than the one before.
	if !cmp.Equal(r.History, log, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })) {
		t.Fatalf("history %+v, returned %+v", r.History, log)
	}
	for i, tr := range r.History {
		if i == 0 && tr.From != Draft {
			t.Fatalf("history starts from %s", tr.From)
		}
		if i > 0 && (tr.From != r.History[i-1].To || tr.At.Before(r.History[i-1].At)) {
			t.Fatalf("history[%d] %+v does not follow %+v", i, tr, r.History[i-1])
		}
	}
	if n := len(r.History); n > 0 && r.State != r.History[n-1].To {
		t.Fatalf("state %s, last transition to %s", r.State, r.History[n-1].To)
	}
	if slices.Contains([]State{Refused, Withdrawn, Closed}, before.State) && len(r.History) != len(before.History) {
		t.Fatalf("left terminal state %s", before.State)
	}

	// The expiry moves later only by renewal or ratification.
	if !before.ExpiresAt.IsZero() && r.ExpiresAt.After(before.ExpiresAt) {
		last := r.History[len(r.History)-1]
		if last.Action != ActRenewal && last.Action != ActRatification {
			t.Fatalf("expiry moved from %v to %v by %s", before.ExpiresAt, r.ExpiresAt, last.Action)
		}
	}

	if r.AuthorisedAt.IsZero() {
		if r.Active(now) {
			t.Fatalf("active without an authorisation")
		}
		return
	}
	// Never active at or after expiry, or before authorisation, whatever
	// the clock says.
	for _, at := range []time.Time{r.ExpiresAt, r.ExpiresAt.Add(time.Nanosecond), r.ExpiresAt.Add(365 * 24 * time.Hour), r.AuthorisedAt.Add(-time.Nanosecond)} {
		if r.Active(at) {
			t.Fatalf("active at %v: authorised %v, expires %v", at, r.AuthorisedAt, r.ExpiresAt)
		}
	}
	if !r.Active(now) {
		return
	}
	if !now.Before(r.ExpiresAt) {
		t.Fatalf("active at %v, expiry %v", now, r.ExpiresAt)
	}
	conflicted := func(id string) bool { return id == r.Requester || slices.Contains(r.Subjects, id) }
	d := r.Decisions[len(r.Decisions)-1]
	if !d.Authorise || d.By != r.AuthorisedBy || conflicted(d.By) || rankOf(d.By) != d.Rank {
		t.Fatalf("active on decision %+v", d)
	}
	for _, k := range q.Advisers {
		if !slices.ContainsFunc(r.Advice, func(a Advice) bool { return a.Kind == k && !a.At.After(d.At) && !conflicted(a.By) }) {
			t.Fatalf("decided without %s advice", k)
		}
	}
	limit := r.AuthorisedAt.Add(q.MaxDuration)
	switch {
	case atLeast(d.Rank, q.MinRank):
	case d.UrgentRoute && q.Urgent != nil && r.Urgent.Urgent && atLeast(d.Rank, q.Urgent.MinRank):
		if r.RatifiedAt.IsZero() {
			if !now.Before(r.RatifyBy) || !r.RatifyBy.Equal(r.AuthorisedAt.Add(q.Urgent.MaxDuration)) {
				t.Fatalf("unratified urgent authorisation active at %v, ratify by %v", now, r.RatifyBy)
			}
			limit = r.RatifyBy
		} else if conflicted(r.RatifiedBy) || !atLeast(rankOf(r.RatifiedBy), q.MinRank) || r.RatifiedAt.After(r.RatifyBy) {
			t.Fatalf("ratified by %s at %v", r.RatifiedBy, r.RatifiedAt)
		}
	default:
		t.Fatalf("authorised by %s at rank %s, needs %s", d.By, d.Rank, q.MinRank)
	}
	for _, n := range r.Renewals {
		if conflicted(n.By) || !atLeast(rankOf(n.By), q.MinRank) || !n.At.Before(n.From) {
			t.Fatalf("renewal %+v", n)
		}
		limit = n.At.Add(q.MaxDuration)
	}
	if r.ExpiresAt.After(limit) {
		t.Fatalf("expires %v, after the limit %v", r.ExpiresAt, limit)
	}
	if slices.Contains(r.Investigators, d.By) && !d.DirectlyInvolved {
		t.Fatalf("named investigator %s authorised without declaring involvement", d.By)
	}
}
