package authorise_test

import (
	"flag"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/requests"
)

// TestPropertyRandomActions runs random sequences of actions, by random
// people in random roles, on a few requests, with the clock moving and
// the sweeper running, through the real store and oversight log. After
// every step:
//
//   - no request is in force without an authoriser of sufficient rank who
//     is neither its requester nor a subject;
//   - none is in force, or stored as active, after its end;
//   - every transition is in the oversight log, in order, at the index its
//     history names;
//   - the central record matches the log.
func TestPropertyRandomActions(t *testing.T) {
	if f := flag.Lookup("rapid.checks"); raceEnabled && f != nil && f.Value.String() == f.DefValue {
		// Each case opens a store and runs up to 40 actions through it;
		// under the race detector 100 cases take minutes. -rapid.checks
		// still overrides this.
		f.Value.Set("25")
		defer f.Value.Set(f.DefValue)
	}
	reached := map[string]int{}
	defer func() {
		// A property that never meets an authorisation proves nothing.
		for _, s := range []requests.State{requests.Submitted, requests.Active, requests.Refused, requests.Expired, requests.Cancelled, requests.Closed} {
			if reached[string(s)] == 0 {
				t.Errorf("no run reached state %s: the generator needs work (reached %v)", s, reached)
			}
		}
	}()
	rapid.Check(t, func(rt *rapid.T) {
		e := newEnv(t)
		defer e.close()
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "seed"), 1))
		var ids []string
		people := make([]string, len(directory))
		for i, p := range directory {
			people[i] = p.id
		}
		roles := []string{"investigator", "authoriser", "adviser", "dpo", "oversight", "staff"}
		steps := rapid.IntRange(5, 40).Draw(rt, "steps")
		for range steps {
			var id string
			if len(ids) > 0 {
				id = rapid.SampledFrom(ids).Draw(rt, "request")
			}
			// Mostly people in their own role doing what the request's
			// state calls for, so that runs reach authorisations; the rest
			// anyone, in any role, doing anything.
			who := rapid.SampledFrom(people).Draw(rt, "who")
			role := roleOf(who)
			act := rapid.IntRange(0, 11).Draw(rt, "action")
			if id != "" && rapid.IntRange(0, 9).Draw(rt, "sensible") < 7 {
				st, err := e.node.Store.RequestByID(e.ctx, id)
				if err != nil {
					rt.Fatal(err)
				}
				r, _ := authorise.Decode(st)
				who, role, act = sensible(rt, r)
			} else if rapid.IntRange(0, 9).Draw(rt, "other role") == 0 {
				role = rapid.SampledFrom(roles).Draw(rt, "role")
			}
			p := e.as(t, who, role)
			switch {
			case act == 0 || id == "":
				w := written(rng, rapid.SampledFrom([]string{"sam", "tom", "ina", "sue"}).Draw(rt, "subject"))
				if rapid.Bool().Draw(rt, "urgent") {
					w.Urgent = requests.Urgency{Urgent: true, Why: phrase(rng)}
				}
				if rapid.Bool().Draw(rt, "live") {
					w.Mode, w.Window, w.LawfulBasis = consent.ModeMonitor, nil, "PREVENT_DETECT_CRIME"
				}
				if r, err := e.svc.Create(e.ctx, e.as(t, "ivy", "investigator"), w); err == nil {
					ids = append(ids, r.ID)
				}
			case act == 1:
				e.svc.Submit(e.ctx, p, id)
			case act == 11:
				e.advance(time.Duration(rapid.IntRange(1, 24*40).Draw(rt, "hours")) * time.Hour)
				e.svc.Sweep(e.ctx)
			default:
				e.svc.Act(e.ctx, p, id, func(by requests.Actor) requests.Action {
					return randomAction(rt, rng, act, by)
				})
			}
			for _, st := range checkInvariants(rt, e, ids) {
				reached[st]++
			}
		}
		// Every run ends long after any authorisation could last, so the
		// sweeper must have expired everything still in force: the
		// invariants hold there too, and expiry is reached whenever an
		// authorisation was.
		e.advance(2 * 365 * 24 * time.Hour)
		e.svc.Sweep(e.ctx)
		for _, st := range checkInvariants(rt, e, ids) {
			reached[st]++
			if st == string(requests.Active) || st == string(requests.ReviewDue) {
				rt.Fatalf("a request is still %s two years on", st)
			}
		}
	})
}

func roleOf(id string) string {
	for _, p := range directory {
		if p.id == id {
			return p.role
		}
	}
	return "staff"
}

// sensible returns who, in which role, takes which action (randomAction's
// numbering) as the request's state calls for.
func sensible(rt *rapid.T, r requests.Request) (string, string, int) {
	authoriser := rapid.SampledFrom([]string{"ina", "sgt", "sue", "cal"}).Draw(rt, "authoriser")
	switch r.State {
	case requests.Draft:
		return r.Requester, "investigator", 1
	case requests.AwaitingAdvice:
		adviser := rapid.SampledFrom([]string{"lee", "eth", "dee"}).Draw(rt, "adviser")
		return adviser, roleOf(adviser), 2
	case requests.Submitted:
		return authoriser, "authoriser", rapid.SampledFrom([]int{3, 3, 3, 4}).Draw(rt, "decision")
	case requests.Active, requests.ReviewDue:
		return authoriser, "authoriser", rapid.SampledFrom([]int{5, 6, 7, 8, 11}).Draw(rt, "in force")
	case requests.Cancelled, requests.Expired:
		return r.Requester, "investigator", 10
	}
	return authoriser, "authoriser", 11
}

func randomAction(rt *rapid.T, rng *rand.Rand, act int, by requests.Actor) requests.Action {
	involved := rapid.Bool().Draw(rt, "involved")
	switch act {
	case 2:
		return requests.Advise{By: by, View: phrase(rng)}
	case 3, 4:
		return requests.Decide{By: by, Authorise: act == 3, Reasons: phrase(rng), Views: views(rng), DirectlyInvolved: involved}
	case 5:
		return requests.Ratify{By: by, Reasons: phrase(rng)}
	case 6:
		return requests.ReviewAction{By: by, Notes: phrase(rng)}
	case 7:
		return requests.Renew{By: by, Reasons: phrase(rng), DirectlyInvolved: involved}
	case 8:
		return requests.Cancel{By: by, Reasons: phrase(rng)}
	case 9:
		return requests.Withdraw{By: by, Reasons: phrase(rng)}
	}
	return requests.Close{By: by, Outcome: phrase(rng), Useful: involved, Kept: phrase(rng)}
}

func checkInvariants(rt *rapid.T, e *env, ids []string) []string {
	var states []string
	now := e.clock()
	ranks := identity.AllRanks()
	rankOf := map[string]identity.Rank{}
	for _, p := range directory {
		rankOf[p.id] = identity.Rank(p.rank)
	}
	oversightP := e.as(rt, "ola", "oversight")
	for _, id := range ids {
		st, err := e.node.Store.RequestByID(e.ctx, id)
		if err != nil {
			rt.Fatal(err)
		}
		r, err := e.svc.Get(e.ctx, oversightP, id)
		if err != nil {
			// Oversight sees every request but one about themselves; ola
			// is never a subject here.
			rt.Fatalf("oversight cannot read %s: %v", id, err)
		}
		states = append(states, string(r.State))
		if r.Active(now) {
			// The authority in force is the last to grant it: the decision,
			// a ratification or a renewal. Only an unratified urgent
			// decision may be below the request's minimum rank.
			q := r.Requirement
			granter, min, at := r.AuthorisedBy, q.MinRank, r.AuthorisedAt
			if !r.RatifyBy.IsZero() && r.RatifiedAt.IsZero() {
				min = q.Urgent.MinRank
			}
			if !r.RatifiedAt.IsZero() {
				granter, at = r.RatifiedBy, r.RatifiedAt
			}
			for _, n := range r.Renewals {
				if n.At.After(at) {
					granter, at = n.By, n.At
				}
			}
			if granter == "" || granter == r.Requester || slices.Contains(r.Subjects, granter) ||
				slices.Index(ranks, rankOf[granter]) < slices.Index(ranks, identity.Rank(min)) {
				rt.Fatalf("request %s in force, granted by %q (rank %s) where %s is needed; requester %s, subjects %v",
					id, granter, rankOf[granter], min, r.Requester, r.Subjects)
			}
			if !now.Before(r.ExpiresAt) {
				rt.Fatalf("request %s in force at %v, after its expiry %v", id, now, r.ExpiresAt)
			}
		}
		// The log holds the history, in order, at the indices it names.
		var mine []leaf
		for _, l := range e.leaves {
			if l.details["request"] == id && l.action != "request_created" && l.action != "request_change_void" {
				mine = append(mine, l)
			}
		}
		stored, err := authorise.Decode(st)
		if err != nil {
			rt.Fatal(err)
		}
		if len(mine) != len(stored.History) {
			rt.Fatalf("request %s: %d transitions stored, %d in the log", id, len(stored.History), len(mine))
		}
		for i, h := range stored.History {
			l := mine[i]
			if l.action != "request_"+h.Action || l.index != h.OversightIndex || l.details["from"] != string(h.From) ||
				l.details["to"] != string(h.To) || l.actor != h.Actor {
				rt.Fatalf("request %s transition %d = %+v, log has %s %v by %s at %d", id, i, h, l.action, l.details, l.actor, l.index)
			}
		}
		// The central record agrees with the log.
		row := oversight.CentralRecordRow(stored, nil)
		want := string(requests.Draft)
		if n := len(mine); n > 0 {
			want = mine[n-1].details["to"].(string)
		}
		if row.State != want {
			rt.Fatalf("central record says %s is %s, the log %s", id, row.State, want)
		}
		granted := slices.ContainsFunc(mine, func(l leaf) bool { return l.action == "request_decision" && l.details["to"] == string(requests.Active) })
		if granted != !row.GrantedAt.IsZero() || granted && row.Authoriser == "" {
			rt.Fatalf("central record of %s: granted at %v by %q, but the log says granted %v", id, row.GrantedAt, row.Authoriser, granted)
		}
		cancelled := slices.ContainsFunc(mine, func(l leaf) bool { return l.action == "request_cancellation" })
		if cancelled != !row.CancelledAt.IsZero() {
			rt.Fatalf("central record of %s: cancelled at %v, log says cancelled %v", id, row.CancelledAt, cancelled)
		}
	}
	return states
}
