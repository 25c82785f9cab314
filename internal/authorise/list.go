package authorise

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// Views of the request listings.
const (
	ViewMine   = "mine"   // drafted by the caller, or naming them as an investigator
	ViewDecide = "decide" // what the caller, as an authoriser, may decide, ratify or review
	ViewAdvise = "advise" // awaiting the caller's adviser kind
	ViewAll    = "all"    // every request: oversight only
)

// DefaultView is the listing each role sees first.
func DefaultView(role identity.Role) string {
	switch role {
	case identity.RoleAuthoriser:
		return ViewDecide
	case identity.RoleAdviser, identity.RoleDPO:
		return ViewAdvise
	case identity.RoleOversight:
		return ViewAll
	}
	return ViewMine
}

// ViewError is a listing view the caller's role does not have.
type ViewError struct{ View string }

func (e *ViewError) Error() string { return fmt.Sprintf("view %q is not one your role has", e.View) }

// allowedViews are the views each role may ask for.
var allowedViews = map[identity.Role][]string{
	identity.RoleInvestigator: {ViewMine},
	identity.RoleAuthoriser:   {ViewDecide},
	identity.RoleAdviser:      {ViewAdvise},
	identity.RoleDPO:          {ViewAdvise},
	identity.RoleOversight:    {ViewAll},
}

// List returns the requests of view (the role's default when "") that p
// may see, in state (any when ""), newest first, each ticked to now.
func (s *Service) List(ctx context.Context, p identity.Principal, view, state string) ([]requests.Request, error) {
	if view == "" {
		view = DefaultView(p.Role)
	}
	if !slices.Contains(allowedViews[p.Role], view) {
		return nil, &ViewError{View: view}
	}
	now := s.Now().UTC()
	by := s.Actor(p)
	// Requests naming the caller as an investigator, and the queues, are
	// not indexed: a force makes hundreds a year, so the scan is cheap.
	var out []requests.Request
	err := s.each(ctx, store.RequestQuery{}, func(r requests.Request, _ store.StoredRequest) error {
		r, _ = requests.Tick(r, now)
		if !CanSee(p, r) || state != "" && string(r.State) != state {
			return nil
		}
		switch view {
		case ViewDecide:
			if !decidable(r, by) {
				return nil
			}
		case ViewAdvise:
			awaited := (r.State == requests.AwaitingAdvice || r.State == requests.Submitted) && slices.Contains(r.MissingAdvisers(), by.Adviser)
			advised := slices.ContainsFunc(r.Advice, func(a requests.Advice) bool { return a.By == p.Subject })
			if !awaited && !advised {
				return nil
			}
		}
		out = append(out, r)
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// decidable reports whether by, an authoriser, has something to do on r:
// a decision or a ratification their rank can give, or a review,
// renewal or cancellation of an authorisation in force.
func decidable(r requests.Request, by requests.Actor) bool {
	if r.Requester == by.ID || r.Requirement == nil {
		return false
	}
	atLeast := func(min string) bool {
		m, k := slices.Index(by.Ranks, min), slices.Index(by.Ranks, by.Rank)
		return m >= 0 && k >= m
	}
	switch r.State {
	case requests.Submitted:
		return atLeast(r.DecidingRank())
	case requests.Active, requests.ReviewDue:
		return atLeast(r.Requirement.MinRank) || r.AuthorisedBy == by.ID
	}
	return false
}

// All returns every request ever made, oldest first, for the central
// record. It checks no role: the caller is oversight's handler.
func (s *Service) All(ctx context.Context) ([]requests.Request, error) {
	var out []requests.Request
	err := s.each(ctx, store.RequestQuery{}, func(r requests.Request, _ store.StoredRequest) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// Keep is how long the central record keeps a request after it ends
// (LEGAL.md §4: at least five years).
const Keep = 5 * 365 * 24 * time.Hour
