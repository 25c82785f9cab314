package authorise

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// Submit sends p's draft for decision: it must pass [requests.Validate]
// (with the notice record as it stands now), and the policy in force
// fixes its requirement.
func (s *Service) Submit(ctx context.Context, p identity.Principal, id string) (requests.Request, error) {
	return s.transition(ctx, p, id, func(r requests.Request, by requests.Actor) (requests.Request, requests.Action, error) {
		if r.State != requests.Draft {
			// Let the state machine refuse it, as a 409.
			return r, requests.Submit{By: by}, nil
		}
		if r.Requester != by.ID {
			return r, nil, &requests.RuleError{Rule: requests.RuleRole, Field: "by", Msg: "only the requester submits a request"}
		}
		record, err := s.noticeRecord(ctx, r)
		if err != nil {
			return r, nil, err
		}
		r.NoticeRecord = record
		problems, _, err := s.Check(ctx, r)
		if err != nil {
			return r, nil, err
		}
		if len(problems) > 0 {
			return r, nil, problems
		}
		pol, err := s.policy(ctx)
		if err != nil {
			return r, nil, err
		}
		q, _, err := pol.Derive(requests.Facts(r))
		if err != nil {
			return r, nil, err
		}
		return r, requests.Submit{By: by, Requirement: q}, nil
	})
}

// Act takes the action build returns for p on request id.
func (s *Service) Act(ctx context.Context, p identity.Principal, id string, build func(by requests.Actor) requests.Action) (requests.Request, error) {
	return s.transition(ctx, p, id, func(r requests.Request, by requests.Actor) (requests.Request, requests.Action, error) {
		return r, build(by), nil
	})
}

// transition loads the request, records any deadline that has passed,
// then applies the action prepare returns, writing each change to the
// oversight log before it is stored.
func (s *Service) transition(ctx context.Context, p identity.Principal, id string,
	prepare func(requests.Request, requests.Actor) (requests.Request, requests.Action, error)) (requests.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, err := s.load(ctx, p, id)
	if err != nil {
		return requests.Request{}, err
	}
	now := s.Now().UTC()
	if ticked, ts := requests.Tick(r, now); len(ts) > 0 {
		if r, st, err = s.commit(ctx, st, ticked, ts); err != nil {
			return requests.Request{}, err
		}
		s.told(ctx, r, ts)
	}
	r, a, err := prepare(r, s.Actor(p))
	if err != nil {
		return requests.Request{}, err
	}
	next, t, err := requests.Apply(r, a, now)
	if err != nil {
		return requests.Request{}, err
	}
	if next, _, err = s.commit(ctx, st, next, []requests.Transition{t}); err != nil {
		return requests.Request{}, err
	}
	s.told(ctx, next, []requests.Transition{t})
	return next, nil
}

// Sweep records every deadline that has passed at now (review due,
// expiry, urgent lapse) and warns of authorisations ending within
// [ExpiryWarning]. It returns how many requests moved.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	var due []string
	if err := s.each(ctx, store.RequestQuery{DueBy: now}, func(r requests.Request, _ store.StoredRequest) error {
		due = append(due, r.ID)
		return nil
	}); err != nil {
		return 0, err
	}
	moved := 0
	var errs []error
	for _, id := range due {
		ok, err := s.tick(ctx, id, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("request %s: %w", id, err))
		}
		if ok {
			moved++
		}
	}
	for _, state := range []requests.State{requests.Active, requests.ReviewDue} {
		err := s.each(ctx, store.RequestQuery{State: string(state)}, func(r requests.Request, _ store.StoredRequest) error {
			s.warn(ctx, r, now)
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return moved, errors.Join(errs...)
}

func (s *Service) tick(ctx context.Context, id string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.Store.RequestByID(ctx, id)
	if err != nil {
		return false, err
	}
	r, err := Decode(st)
	if err != nil {
		return false, err
	}
	next, ts := requests.Tick(r, now)
	if len(ts) == 0 {
		return false, nil
	}
	if next, _, err = s.commit(ctx, st, next, ts); err != nil {
		return false, err
	}
	s.told(ctx, next, ts)
	return true, nil
}

// ExpiryWarning is how long before an authorisation ends its requester
// and authoriser are warned.
const ExpiryWarning = 48 * time.Hour

// warn tells the requester and the authoriser, once, that r's
// authorisation ends within ExpiryWarning.
func (s *Service) warn(ctx context.Context, r requests.Request, now time.Time) {
	end := r.ExpiresAt
	if !r.RatifyBy.IsZero() && r.RatifiedAt.IsZero() && r.RatifyBy.Before(end) {
		end = r.RatifyBy
	}
	if end.IsZero() || end.Sub(now) > ExpiryWarning || !now.Before(end) {
		return
	}
	s.send(ctx, r, Notice{Kind: NoticeExpiring, Text: fmt.Sprintf("The authorisation ends at %s unless renewed or ratified.", end.Format("2 January 2006 15:04 UTC")),
		Key: "expiring:" + end.Format(time.RFC3339)}, r.Requester, r.AuthorisedBy)
}

func (s *Service) send(ctx context.Context, r requests.Request, n Notice, to ...string) {
	if s.Notify == nil {
		return
	}
	var people []string
	for _, id := range to {
		if id != "" && id != requests.System && !slices.Contains(people, id) {
			people = append(people, id)
		}
	}
	if len(people) == 0 {
		return
	}
	n.Request, n.Reference = r.ID, r.Reference
	if n.Key != "" {
		n.Key = r.ID + ":" + n.Key
	}
	s.Notify(ctx, n, people, r.Subjects)
}

// told sends the notices transitions ts of r call for.
func (s *Service) told(ctx context.Context, r requests.Request, ts []requests.Transition) {
	for _, t := range ts {
		switch {
		case t.To == requests.AwaitingAdvice:
			s.send(ctx, r, Notice{Kind: NoticeAdvice, Text: "Your view is wanted on a request before it is decided."},
				s.advisers(ctx, r.MissingAdvisers())...)
		case t.To == requests.Submitted && t.From != requests.Submitted:
			s.send(ctx, r, Notice{Kind: NoticeDecide, Text: "A request awaits a decision at " + consent.RankTitle(r.DecidingRank()) + " or above."},
				s.authorisers(ctx, r.DecidingRank())...)
		case t.Action == requests.ActDecision:
			verb := "refused"
			if t.To == requests.Active {
				verb = "authorised until " + r.ExpiresAt.Format("2 January 2006 15:04 UTC")
			}
			s.send(ctx, r, Notice{Kind: NoticeDecision, Text: "Your request was " + verb + "."},
				append([]string{r.Requester}, r.Investigators...)...)
			if t.To == requests.Active && !r.RatifyBy.IsZero() {
				s.send(ctx, r, Notice{Kind: NoticeRatify, Text: "An urgent authorisation lapses at " +
					r.RatifyBy.Format("2 January 2006 15:04 UTC") + " unless ratified at " + consent.RankTitle(r.Requirement.MinRank) + " or above."},
					s.authorisers(ctx, r.Requirement.MinRank)...)
			}
		case t.Action == requests.ActReviewDue:
			s.send(ctx, r, Notice{Kind: NoticeReviewDue, Text: "The authorisation's review is due."}, r.AuthorisedBy, r.Requester)
		case t.Action == requests.ActExpiry || t.Action == requests.ActLapse:
			s.send(ctx, r, Notice{Kind: NoticeExpiring, Text: "The authorisation has ended: " + t.Reasons + "."}, r.Requester, r.AuthorisedBy)
		}
	}
}

// authorisers returns the people holding the authoriser role at rank
// min or above.
func (s *Service) authorisers(ctx context.Context, min string) []string {
	return s.peopleWhere(ctx, func(p store.Person) bool {
		if !slices.Contains(p.Roles, string(identity.RoleAuthoriser)) {
			return false
		}
		rank := identity.Rank(p.Rank)
		if rank == "" {
			rank, _ = s.grades().Rank(p.Grade)
		}
		return rank != "" && rank.AtLeast(identity.Rank(min))
	})
}

// advisers returns the people who give the views of kinds.
func (s *Service) advisers(ctx context.Context, kinds []string) []string {
	return s.peopleWhere(ctx, func(p store.Person) bool {
		return p.Adviser != "" && slices.Contains(kinds, p.Adviser)
	})
}

// peopleWhere scans the directory. Requests are few (a force makes
// hundreds a year), so a scan per notice is cheaper than an index to
// keep.
func (s *Service) peopleWhere(ctx context.Context, keep func(store.Person) bool) []string {
	var out []string
	q := store.PeopleQuery{Limit: 1000}
	for {
		page, err := s.Store.ListPeople(ctx, q)
		if err != nil {
			s.logger().Error("finding whom to notify", "err", err)
			return out
		}
		for _, p := range page {
			if keep(p) {
				out = append(out, p.ID)
			}
		}
		if len(page) < q.Limit {
			return out
		}
		q.After = page[len(page)-1].ID
	}
}

// Run sweeps at once and then every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil {
			s.logger().Error("sweeping request deadlines", "err", err)
		} else if n > 0 {
			s.logger().Info("request deadlines recorded", "requests", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
