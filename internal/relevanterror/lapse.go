package relevanterror

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
)

// lapsed reports whether r is an urgent authorisation that lapsed
// unratified, and when.
func lapsed(r requests.Request) (time.Time, bool) {
	for _, t := range r.History {
		if t.Action == requests.ActLapse {
			return t.At, true
		}
	}
	return time.Time{}, false
}

// RaiseLapsed enters a defective_authorisation in the register, as lbm
// itself (source "lbm"), for every urgent authorisation that lapsed
// unratified with access records under it: what was seen under it was
// never confirmed by the authoriser the request needed. It is
// idempotent: a request with an entry lbm raised is passed over, so
// running it every few minutes raises each once. The error is identified
// when the check finds it. It returns how many it raised.
//
// It reads every expired request each run; lapses are rare, and each
// lapsed one costs one query of the oversight log by its investigators.
func (s *Service) RaiseLapsed(ctx context.Context) (int, error) {
	if s.Accessed == nil {
		return 0, nil
	}
	raised := 0
	q := store.RequestQuery{State: string(requests.Expired), Limit: 200}
	for {
		page, err := s.Store.ListRequests(ctx, q)
		if err != nil {
			return raised, err
		}
		for _, sr := range page {
			var r requests.Request
			if err := json.Unmarshal(sr.Body, &r); err != nil {
				return raised, fmt.Errorf("request %s: %v", sr.ID, err)
			}
			at, ok := lapsed(r)
			if !ok {
				continue
			}
			done, err := s.raisedFor(ctx, r.ID)
			if err != nil || done {
				if err != nil {
					return raised, err
				}
				continue
			}
			accessed, err := s.Accessed(ctx, r)
			if err != nil {
				return raised, err
			}
			if !accessed {
				continue
			}
			desc := fmt.Sprintf("The urgent authorisation of request %s lapsed at %s without being ratified, and data was accessed under it. "+
				"Check what was accessed and whether the authorisation the request needed would have been given.",
				r.Reference, at.In(London).Format("15:04 on 2 January 2006"))
			if _, err := s.raise(ctx, requests.System, FromLBM, RaiseInput{Kind: DefectiveAuthorisation, Request: r.ID,
				Description: desc, IdentifiedAt: s.Now()}); err != nil {
				return raised, fmt.Errorf("raising the lapse of %s: %w", r.Reference, err)
			}
			raised++
		}
		if len(page) < q.Limit {
			return raised, nil
		}
		q.After = page[len(page)-1].ID
	}
}

// raisedFor reports whether lbm raised an entry for request id already.
func (s *Service) raisedFor(ctx context.Context, id string) (bool, error) {
	page, err := s.Store.ListRelevantErrors(ctx, store.RelevantErrorQuery{Request: id, Limit: 500})
	if err != nil {
		return false, err
	}
	for _, st := range page {
		e, err := decode(st)
		if err != nil {
			return false, err
		}
		if e.Source == FromLBM {
			return true, nil
		}
	}
	return false, nil
}

// AccessedUnder returns a [Service.Accessed] that looks in the oversight
// log for access records ([review.AccessActions]) of r's investigators,
// from its authorisation on, that name r. open reads an entry's metadata
// (record.Opener.OpenMetadata), re-checking it against the log.
func AccessedUnder(st store.Store, open func(context.Context, store.Entry) (record.Opened, error), now func() time.Time) func(context.Context, requests.Request) (bool, error) {
	return func(ctx context.Context, r requests.Request) (bool, error) {
		if len(r.Investigators) == 0 || r.AuthorisedAt.IsZero() {
			return false, nil
		}
		q := store.EventQuery{Logs: []string{"oversight"}, People: slices.Clone(r.Investigators), Categories: []string{"configuration"},
			Actions: review.AccessActions, From: r.AuthorisedAt.UnixNano(), To: now().UnixNano() + 1, Limit: 500}
		for {
			entries, err := st.QueryEvents(ctx, q)
			if err != nil {
				return false, err
			}
			for _, en := range entries {
				o, err := open(ctx, en)
				if err != nil {
					return false, fmt.Errorf("oversight log entry %d: %w", en.Index, err)
				}
				if v, ok := o.Event.Field("lbm.request"); ok {
					if id, _ := event.StringValue(v); id == r.ID {
						return true, nil
					}
				}
			}
			if len(entries) < q.Limit {
				return false, nil
			}
			last := entries[len(entries)-1]
			q.HasAfter, q.AfterTime, q.AfterLog, q.AfterIndex = true, last.Time, last.Log, last.Index
		}
	}
}

// Run raises lapses ([Service.RaiseLapsed]) every interval until ctx
// ends, logging failures.
func (s *Service) Run(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.RaiseLapsed(ctx); err != nil && ctx.Err() == nil {
			logger.Error("raising relevant errors of lapsed authorisations", "err", err)
		} else if n > 0 {
			logger.Info("relevant errors raised for lapsed authorisations", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
