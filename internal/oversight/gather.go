package oversight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
)

// OversightLog is the log of what lbm's users did, which Gather reads the
// accesses, refused attempts and break-glass actions from.
const OversightLog = "oversight"

// gatherPage is how many rows Gather reads from the store at once.
const gatherPage = 1000

// Gather reads from st what BuildReport counts for the period [from, to)
// as at now: every request created before to, the directory's units, the
// access records, refused attempts and break-glass actions of the
// oversight log in the period, the alerts raised in it and the notice
// coverage. open reads an oversight-log entry's metadata, checked against
// its leaf (record.Opener.OpenMetadata): a report never counts a record
// that does not check. progress, if set, is told how far through the
// oversight log the reading is.
func Gather(ctx context.Context, st store.Store, open func(context.Context, store.Entry) (record.Opened, error),
	from, to, now time.Time, progress func(done, total uint64)) (ReportInput, error) {
	in := ReportInput{From: from, To: to, Now: now}
	units, active, err := directory(ctx, st, now)
	if err != nil {
		return in, err
	}
	in.Unit = func(id string) string { return units[id] }
	if in.Requests, err = requestsBefore(ctx, st, to); err != nil {
		return in, err
	}
	if err := readOversightLog(ctx, st, open, &in, progress); err != nil {
		return in, err
	}
	if in.Alerts, err = alertsIn(ctx, st, from, to, units); err != nil {
		return in, err
	}
	in.Notice, err = noticeCoverage(ctx, st, now, active)
	return in, err
}

// directory returns each person's unit, and how many people of each unit
// have not left at now.
func directory(ctx context.Context, st store.Store, now time.Time) (map[string]string, map[string]int, error) {
	units, active := map[string]string{}, map[string]int{}
	q := store.PeopleQuery{Limit: gatherPage}
	for {
		page, err := st.ListPeople(ctx, q)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the directory: %w", err)
		}
		for _, p := range page {
			units[p.ID] = p.Unit
			if p.LeftOn.IsZero() || p.LeftOn.After(now) {
				active[p.Unit]++
			}
		}
		if len(page) < q.Limit {
			return units, active, nil
		}
		q.After = page[len(page)-1].ID
	}
}

// requestsBefore returns every request created before to: none created
// later has anything in the period.
func requestsBefore(ctx context.Context, st store.Store, to time.Time) ([]requests.Request, error) {
	var out []requests.Request
	q := store.RequestQuery{Limit: gatherPage}
	for {
		page, err := st.ListRequests(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("reading the requests: %w", err)
		}
		for _, sr := range page {
			if !sr.Created.Before(to) {
				continue
			}
			var r requests.Request
			if err := json.Unmarshal(sr.Body, &r); err != nil {
				return nil, fmt.Errorf("request %s: %w", sr.ID, err)
			}
			out = append(out, r)
		}
		if len(page) < q.Limit {
			return out, nil
		}
		q.After = page[len(page)-1].ID
	}
}

// readOversightLog reads the oversight log's records in the period:
// access records and refused attempts into in.Accesses, break-glass
// actions into in.BreakGlass. The log is read whole, in index order:
// its entries carry the time they were written, which a clock stepping
// back can put out of order, so no index bounds the period.
func readOversightLog(ctx context.Context, st store.Store, open func(context.Context, store.Entry) (record.Opened, error),
	in *ReportInput, progress func(done, total uint64)) error {
	state, err := st.LogState(ctx, OversightLog)
	if err != nil {
		return err
	}
	from, to := in.From.UnixNano(), in.To.UnixNano()
	for i := uint64(0); i < state.Size; i += gatherPage {
		entries, err := st.Entries(ctx, OversightLog, i, min(i+gatherPage, state.Size))
		if err != nil {
			return fmt.Errorf("reading the oversight log: %w", err)
		}
		for _, en := range entries {
			if en.Time < from || en.Time >= to {
				continue
			}
			access := slices.Contains(review.AccessActions, en.Action) || en.Action == review.ActionRefused
			o, err := open(ctx, en)
			if err != nil {
				return fmt.Errorf("oversight log entry %d: %w", en.Index, err)
			}
			if access {
				in.Accesses = append(in.Accesses, review.AccessRecordOf(o))
			}
			if v, ok := o.Event.Field("lbm.break_glass"); ok && string(v) == "true" {
				in.BreakGlass = append(in.BreakGlass, BreakGlassAction{At: time.Unix(0, en.Time).UTC(), Actor: en.Subject, Action: en.Action})
			}
		}
		if progress != nil {
			progress(min(i+gatherPage, state.Size), state.Size)
		}
	}
	return nil
}

// alertsIn returns the alerts raised in [from, to), each in the unit of
// the person it is about: the report gives counts, never who.
func alertsIn(ctx context.Context, st store.Store, from, to time.Time, units map[string]string) ([]AlertFact, error) {
	var out []AlertFact
	q := store.AlertQuery{Limit: gatherPage}
	for {
		page, err := st.ListAlerts(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("reading the alerts: %w", err)
		}
		for _, a := range page {
			if a.Created.Before(from) || !a.Created.Before(to) {
				continue
			}
			out = append(out, AlertFact{Rule: a.Rule, Severity: a.Severity, State: a.State, Created: a.Created, Unit: units[a.Subject]})
		}
		if len(page) < q.Limit {
			return out, nil
		}
		q.Before = page[len(page)-1].ID
	}
}

// noticeCoverage counts, in total and by unit, who has acknowledged the
// notice in force at now, from the people of each unit who have not
// left; none while no notice is published.
func noticeCoverage(ctx context.Context, st store.Store, now time.Time, active map[string]int) (NoticeCoverage, error) {
	c, err := inform.ComplianceReport(ctx, st, now)
	if errors.Is(err, inform.ErrNoNotice) {
		return NoticeCoverage{}, nil
	}
	if err != nil {
		return NoticeCoverage{}, err
	}
	out := NoticeCoverage{Staff: c.Coverage.Active, Acknowledged: c.Coverage.Acknowledged, ByUnit: map[string][2]int{}}
	outstanding := map[string]int{}
	for _, u := range c.Units {
		for _, m := range u.Managers {
			outstanding[u.Unit] += len(m.People)
		}
	}
	for unit, n := range active {
		out.ByUnit[unit] = [2]int{n, n - outstanding[unit]}
	}
	return out, nil
}
