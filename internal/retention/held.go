package retention

import (
	"context"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/alerts"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// Kinds of hold, as plans and records count them.
const (
	HoldAuthorisation     = "authorisation"  // in force, or ended within HoldAfterClose
	HoldCase              = "open_case"      // a request awaiting a decision
	HoldAlert             = "alert"          // not yet dismissed or closed
	HoldSubjectAccess     = "subject_access" // a subject access request not yet answered
	HoldDPO               = "dpo_hold"       // placed by the DPO
	DefaultHoldAfterClose = 90 * 24 * time.Hour
)

// Holds is who retention must not delete anything of, and why: person id
// to the kinds of hold on them.
type Holds map[string][]string

func (h Holds) add(person, kind string) {
	if !slices.Contains(h[person], kind) {
		h[person] = append(h[person], kind)
	}
}

// Keeps reports whether an entry naming subject and related is held.
func (h Holds) Keeps(subject string, related []string) bool {
	if _, ok := h[subject]; ok {
		return true
	}
	for _, p := range related {
		if _, ok := h[p]; ok {
			return true
		}
	}
	return false
}

// Count returns how many people each kind of hold covers.
func (h Holds) Count() map[string]int {
	out := map[string]int{}
	for _, kinds := range h {
		for _, k := range kinds {
			out[k]++
		}
	}
	return out
}

// HoldSources is what FindHolds reads.
type HoldSources interface {
	store.Requests
	store.Alerts
	store.SubjectAccessRequests
}

// FindHolds reads every hold in force at now. dpoHolds, when not nil,
// lists the people the DPO holds.
func FindHolds(ctx context.Context, st HoldSources, dpoHolds func(context.Context) ([]string, error), now time.Time, afterClose time.Duration) (Holds, error) {
	h := Holds{}
	for after := ""; ; {
		rs, err := st.ListRequests(ctx, store.RequestQuery{After: after})
		if err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			break
		}
		for _, r := range rs {
			kind := ""
			switch requests.State(r.State) {
			case requests.Submitted, requests.AwaitingAdvice:
				kind = HoldCase
			case requests.Active, requests.ReviewDue:
				kind = HoldAuthorisation
			case requests.Cancelled, requests.Expired, requests.Closed:
				// An authorisation that ended may still be needed for
				// the case it served, its review or a complaint.
				if !r.ExpiresAt.IsZero() && now.Sub(r.Updated) < afterClose {
					kind = HoldAuthorisation
				}
			}
			if kind != "" {
				for _, s := range r.Subjects {
					h.add(s, kind)
				}
			}
		}
		after = rs[len(rs)-1].ID
	}
	for _, state := range []alerts.State{alerts.New, alerts.Triage, alerts.Referred} {
		for before := ""; ; {
			as, err := st.ListAlerts(ctx, store.AlertQuery{State: string(state), Before: before, Limit: 500})
			if err != nil {
				return nil, err
			}
			if len(as) == 0 {
				break
			}
			for _, a := range as {
				h.add(a.Subject, HoldAlert)
			}
			before = as[len(as)-1].ID
		}
	}
	sars, err := st.ListSubjectAccessRequests(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, r := range sars {
		if !subjectAccessDone(r.State) {
			h.add(r.Person, HoldSubjectAccess)
		}
	}
	if dpoHolds != nil {
		people, err := dpoHolds(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range people {
			h.add(p, HoldDPO)
		}
	}
	return h, nil
}

// subjectAccessDone: a request answered or closed no longer holds the
// person's data; until then, deleting it would change the answer.
func subjectAccessDone(state string) bool { return state == "answered" || state == "closed" }
