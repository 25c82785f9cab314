package retention

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
)

// Store is what a retention run reads and changes.
type Store interface {
	HoldSources
	store.Retention
	store.DataKeys
}

// Recorder writes one action to the oversight log and returns the leaf's
// index once it is durable (as internal/inform's).
type Recorder func(ctx context.Context, actor, action string, details map[string]any) (uint64, error)

// Schedule is the retention schedule in force: the data categories of a
// catalogue version, each with its two periods.
type Schedule struct {
	Version    int64 // the catalogue version; 0 for the embedded default
	Categories policy.Categories
}

// longest is the longest period of the schedule, 0 when it has none.
func (s Schedule) longest() int {
	n := 0
	for _, c := range s.Categories {
		n = max(n, c.RetentionMonths, c.ContentRetentionMonths)
	}
	return n
}

func (s Schedule) name() string {
	if s.Version == 0 {
		return "the default retention schedule"
	}
	return fmt.Sprintf("retention schedule v%d", s.Version)
}

// Actions recorded in the oversight log.
const (
	ActionDeleted       = "retention_deleted"
	ActionKeysDestroyed = "retention_keys_destroyed"
)

// Unscheduled stands, in plans, reports, marks and records, for every
// category the schedule does not name: ingest takes any event.category,
// and what no period covers is kept for the schedule's longest period,
// never for ever.
const Unscheduled = "*"

// Actor is who the oversight log says did it: the service itself.
const Actor = "lbm"

// Job plans and runs retention over the activity logs.
type Job struct {
	Store Store
	// Ring, when set, forgets destroyed keys, so that a server running
	// the job stops using them at once.
	Ring     *keys.Ring
	Record   Recorder
	Schedule func(context.Context) (Schedule, error)
	// DPOHolds lists the people the DPO holds; nil for none.
	DPOHolds func(context.Context) ([]string, error)
	Now      func() time.Time
	// HoldAfterClose is how long an ended authorisation still holds its
	// subjects' data; 0 means DefaultHoldAfterClose.
	HoldAfterClose time.Duration
	// Logs lists the logs retention applies to: the activity log, or
	// every shard of it (store.IsActivityLog). It is asked at each plan
	// and run, because shards appear while a server runs.
	Logs func(context.Context) ([]string, error)
	// Batch is how many entries one deletion covers; 0 means 1000.
	Batch int
	// Progress, when set, is told of each batch done.
	Progress func(Progress)
}

// Progress reports a plan's or run's progress: in a plan, Deleted counts
// what the run would delete.
type Progress struct {
	Log, Category, Month string
	Step                 store.DeletionStep
	Deleted, Kept        int64 // so far in this month's step
}

// Item is one month's step of one category in a plan or run.
type Item struct {
	Log      string             `json:"log"`
	Category string             `json:"category"`
	Month    string             `json:"month"` // "2006-01"
	Step     store.DeletionStep `json:"step"`
	Months   int                `json:"months"` // the period that ended
	Delete   int64              `json:"delete"` // entries deleted (or, in a plan, to delete)
	Kept     int64              `json:"kept"`   // entries a hold keeps
}

// Report is what a plan would do or a run did.
type Report struct {
	Schedule string         `json:"schedule"`
	At       time.Time      `json:"at"`
	Items    []Item         `json:"items"`
	Holds    map[string]int `json:"holds"` // people held, by kind of hold
	// KeysDestroyed counts the data keys a run destroyed; in a plan,
	// PendingKeys counts those an interrupted run left to destroy.
	KeysDestroyed int `json:"keys_destroyed"`
	PendingKeys   int `json:"pending_keys"`
}

// Totals returns the deletions and the entries kept over all items: an
// entry whose content went before the entry itself counts in both steps.
func (r Report) Totals() (deleted, kept int64) {
	for _, it := range r.Items {
		deleted += it.Delete
		kept += it.Kept
	}
	return deleted, kept
}

func (j *Job) batch() int {
	if j.Batch <= 0 {
		return 1000
	}
	return j.Batch
}

// due is one month's step to look at.
type due struct {
	log      string
	category string
	month    time.Time
	step     store.DeletionStep
	months   int
}

// key is the due's mark: a month's step of one category of one log.
func (d due) key() store.RetentionMark {
	return store.RetentionMark{Log: d.log, Category: d.category, Month: monthName(d.month), Step: d.step}
}

func monthName(m time.Time) string { return m.Format("2006-01") }

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Cutoff returns the first month that a period of months does not yet
// let go at now: every month before it is due.
func Cutoff(now time.Time, months int) time.Time {
	return monthStart(now).AddDate(0, -months, 0)
}

// dues lists, oldest first, the months' steps due at now that no mark
// says are finished.
func (j *Job) dues(ctx context.Context, logs []string, sched Schedule, now time.Time) ([]due, error) {
	var out []due
	for _, log := range logs {
		oldest, ok, err := j.Store.OldestLive(ctx, log)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		marks, err := j.Store.RetentionMarks(ctx, log)
		if err != nil {
			return nil, err
		}
		finished := map[store.RetentionMark]bool{}
		for _, m := range marks {
			if m.Kept == 0 {
				finished[store.RetentionMark{Log: m.Log, Category: m.Category, Month: m.Month, Step: m.Step}] = true
			}
		}
		first := monthStart(time.Unix(0, oldest))
		for _, c := range sched.Categories {
			type step struct {
				step   store.DeletionStep
				months int
			}
			var steps []step
			if c.ContentRetentionMonths > 0 && c.ContentRetentionMonths < c.RetentionMonths {
				// Content that goes with its entry needs no step of its
				// own; content that goes first goes first in a month
				// where both are due.
				steps = append(steps, step{store.DeleteContent, c.ContentRetentionMonths})
			}
			steps = append(steps, step{store.DeleteEntry, c.RetentionMonths})
			for _, s := range steps {
				cut := Cutoff(now, s.months)
				for m := first; m.Before(cut); m = m.AddDate(0, 1, 0) {
					d := due{log: log, category: c.ID, month: m, step: s.step, months: s.months}
					if !finished[d.key()] {
						out = append(out, d)
					}
				}
			}
		}
		if longest := sched.longest(); longest > 0 {
			for m := first; m.Before(Cutoff(now, longest)); m = m.AddDate(0, 1, 0) {
				d := due{log: log, category: Unscheduled, month: m, step: store.DeleteEntry, months: longest}
				if !finished[d.key()] {
					out = append(out, d)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b due) int { return a.month.Compare(b.month) })
	return out, nil
}

// Plan reports what a run at the job's Now would delete, changing nothing.
func (j *Job) Plan(ctx context.Context) (Report, error) {
	return j.do(ctx, true)
}

// Run deletes what is due, destroys the keys it frees, and scrubs.
func (j *Job) Run(ctx context.Context) (Report, error) {
	return j.do(ctx, false)
}

func (j *Job) do(ctx context.Context, dry bool) (Report, error) {
	now := j.Now().UTC()
	if j.Logs == nil {
		return Report{}, errors.New("retention: no logs to apply to")
	}
	logs, err := j.Logs(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("listing the logs: %w", err)
	}
	sched, err := j.Schedule(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("reading the retention schedule: %w", err)
	}
	after := j.HoldAfterClose
	if after <= 0 {
		after = DefaultHoldAfterClose
	}
	holds, err := FindHolds(ctx, j.Store, j.DPOHolds, now, after)
	if err != nil {
		return Report{}, fmt.Errorf("finding legal holds: %w", err)
	}
	rep := Report{Schedule: sched.name(), At: now, Holds: holds.Count()}
	if dry {
		pending, err := j.Store.PendingKeys(ctx, 1<<20)
		if err != nil {
			return Report{}, err
		}
		rep.PendingKeys = len(pending)
	} else {
		// Keys an interrupted run freed and did not get to.
		n, err := j.destroyKeys(ctx, now)
		rep.KeysDestroyed += n
		if err != nil {
			return rep, err
		}
	}
	dues, err := j.dues(ctx, logs, sched, now)
	if err != nil {
		return Report{}, err
	}
	scrub := map[string][2]int64{}
	for _, d := range dues {
		it, err := j.step(ctx, sched, holds, d, now, dry)
		if err != nil {
			return rep, fmt.Errorf("%s of %s in %s, %s: %w", d.step, d.category, monthName(d.month), d.log, err)
		}
		if it.Delete > 0 || it.Kept > 0 {
			rep.Items = append(rep.Items, it)
		}
		if !dry && it.Delete > 0 {
			r := scrub[d.log]
			from, to := d.month.UnixNano(), d.month.AddDate(0, 1, 0).UnixNano()
			if r == [2]int64{} {
				r = [2]int64{from, to}
			}
			scrub[d.log] = [2]int64{min(r[0], from), max(r[1], to)}
		}
	}
	if dry {
		return rep, nil
	}
	n, err := j.destroyKeys(ctx, now)
	rep.KeysDestroyed += n
	if err != nil {
		return rep, err
	}
	for _, log := range logs {
		if r, ok := scrub[log]; ok {
			if err := j.Store.Scrub(ctx, log, r[0], r[1]); err != nil {
				return rep, fmt.Errorf("scrubbing %s: %w", log, err)
			}
		}
	}
	return rep, nil
}

// step runs (or, dry, counts) one month's step of one category.
func (j *Job) step(ctx context.Context, sched Schedule, holds Holds, d due, now time.Time, dry bool) (Item, error) {
	it := Item{Log: d.log, Category: d.category, Month: monthName(d.month), Step: d.step, Months: d.months}
	what := "entries"
	if d.step == store.DeleteContent {
		what = "content"
	}
	deletion := store.Deletion{At: now, By: fmt.Sprintf("%s: %s %s after %s", sched.name(), d.category, what, monthsText(d.months))}
	q := store.ExpiryQuery{Log: d.log, Step: d.step, From: d.month.UnixNano(), To: d.month.AddDate(0, 1, 0).UnixNano(),
		Categories: []string{d.category}, Limit: j.batch()}
	if d.category == Unscheduled {
		deletion.By = fmt.Sprintf("%s: categories it does not name, entries after %s (its longest period)", sched.name(), monthsText(d.months))
		q.Categories = nil
		for _, c := range sched.Categories {
			q.OtherThan = append(q.OtherThan, c.ID)
		}
	}
	for {
		page, err := j.Store.ExpiringEntries(ctx, q)
		if err != nil {
			return it, err
		}
		if len(page) == 0 {
			break
		}
		last := page[len(page)-1]
		q.HasAfter, q.AfterTime, q.AfterIndex = true, last.Time, last.Index
		var targets []store.Expiring
		for _, x := range page {
			if holds.Keeps(x.Subject, x.Related) {
				it.Kept++
			} else {
				targets = append(targets, x)
			}
		}
		switch {
		case dry:
			it.Delete += int64(len(targets))
		case len(targets) > 0:
			n, err := j.delete(ctx, d, targets, deletion)
			if err != nil {
				return it, err
			}
			it.Delete += int64(n)
		}
		if j.Progress != nil {
			j.Progress(Progress{Log: d.log, Category: d.category, Month: it.Month, Step: d.step, Deleted: it.Delete, Kept: it.Kept})
		}
	}
	if !dry {
		m := store.RetentionMark{Log: d.log, Category: d.category, Month: it.Month, Step: d.step, Done: now, Deleted: it.Delete, Kept: it.Kept}
		if err := j.Store.SetRetentionMark(ctx, m); err != nil {
			return it, err
		}
	}
	return it, nil
}

// delete records, then deletes, one batch; the batch's data keys (and
// each subject's month key) become pending.
func (j *Job) delete(ctx context.Context, d due, targets []store.Expiring, deletion store.Deletion) (int, error) {
	var pending []store.PendingKey
	seen := map[string]bool{}   // keys pending
	looked := map[string]bool{} // entries' keys looked up
	addKey := func(k store.PendingKey) {
		if !seen[string(k.ID)] {
			seen[string(k.ID)] = true
			pending = append(pending, k)
		}
	}
	for _, x := range targets {
		if x.KeyID == nil || looked[string(x.KeyID)] {
			continue
		}
		looked[string(x.KeyID)] = true
		dk, err := j.Store.DataKeyByID(ctx, x.KeyID)
		if errors.Is(err, store.ErrNotFound) {
			continue // content whose key was never stored: nothing to destroy
		}
		if err != nil {
			return 0, err
		}
		// A key the content step destroyed months ago is not destroyed,
		// or recorded, a second time by the entry step.
		if dk.Destroyed.IsZero() {
			addKey(store.PendingKey{ID: dk.ID, Subject: dk.Subject, Period: dk.Period})
		}
		if mk, err := j.Store.DataKeyFor(ctx, dk.Subject, keys.Period(d.month)); err == nil && mk.Destroyed.IsZero() {
			addKey(store.PendingKey{ID: mk.ID, Subject: mk.Subject, Period: mk.Period})
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
	}
	ids := make([]string, len(pending))
	for i, k := range pending {
		ids[i] = hex.EncodeToString(k.ID)
	}
	first, last := targets[0].Index, targets[0].Index
	for _, x := range targets {
		first, last = min(first, x.Index), max(last, x.Index)
	}
	// The record comes first: a deletion the oversight log does not show
	// must never happen. Stopped after it, the run deletes the same
	// entries again when it resumes, under a second record.
	if _, err := j.Record(ctx, Actor, ActionDeleted, map[string]any{
		"log": d.log, "step": string(d.step), "category": d.category, "month": monthName(d.month),
		"schedule": deletion.By, "count": len(targets), "first_index": first, "last_index": last, "keys": strings.Join(ids, " "),
	}); err != nil {
		return 0, fmt.Errorf("recording the deletion: %w", err)
	}
	return j.Store.DeleteExpired(ctx, d.log, d.step, targets, deletion, pending)
}

// destroyKeys destroys each pending key no entry holds content under any
// more, and lets go of the rest (held content keeps its key; deleting that
// content later makes it pending again).
func (j *Job) destroyKeys(ctx context.Context, now time.Time) (int, error) {
	destroyed := 0
	for {
		pending, err := j.Store.PendingKeys(ctx, 500)
		if err != nil {
			return destroyed, err
		}
		if len(pending) == 0 {
			return destroyed, nil
		}
		var doomed []store.PendingKey
		for _, k := range pending {
			from, to, ok := keys.PeriodRange(k.Period)
			if !ok {
				return destroyed, fmt.Errorf("pending data key %x has period %q", k.ID, k.Period)
			}
			var id []byte // the month key: any content of the month keeps it
			if strings.Contains(k.Period, "/") {
				id = k.ID
			}
			used, err := j.Store.ContentUnderKey(ctx, k.Subject, from.UnixNano(), to.UnixNano(), id)
			if err != nil {
				return destroyed, err
			}
			if !used {
				doomed = append(doomed, k)
			} else if err := j.Store.ForgetPendingKey(ctx, k.ID); err != nil {
				return destroyed, err
			}
		}
		if len(doomed) == 0 {
			continue
		}
		ids := make([]string, len(doomed))
		for i, k := range doomed {
			ids[i] = hex.EncodeToString(k.ID)
		}
		if _, err := j.Record(ctx, Actor, ActionKeysDestroyed, map[string]any{"count": len(doomed), "keys": strings.Join(ids, " ")}); err != nil {
			return destroyed, fmt.Errorf("recording the destruction of data keys: %w", err)
		}
		for _, k := range doomed {
			if err := j.Store.DestroyDataKey(ctx, k.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
				return destroyed, err
			}
			if j.Ring != nil {
				j.Ring.Forget(k.ID, k.Subject, k.Period)
			}
			if err := j.Store.ForgetPendingKey(ctx, k.ID); err != nil {
				return destroyed, err
			}
			destroyed++
		}
	}
}

func monthsText(n int) string {
	if n == 1 {
		return "1 month"
	}
	return fmt.Sprintf("%d months", n)
}

// Deletions are the retention_deleted records of an oversight log: what
// retention said, before doing it, it would delete. A deletion stamped on
// an entry that none of them covers was not retention's: someone with
// write access to the database hid the entry's data behind the stamp.
type Deletions []DeletionRecord

// DeletionRecord is one retention_deleted record: the entries of log,
// category and month between First and Last whose step it deletes.
type DeletionRecord struct {
	Log, Category, Month string
	Step                 store.DeletionStep
	First, Last          uint64
	Count                int64 // how many entries it deleted
}

// DeletionOf reads a retention_deleted record from an oversight event's
// fields; ok is false for any other event.
func DeletionOf(ev *event.Event) (DeletionRecord, bool) {
	if ev.Action() != ActionDeleted {
		return DeletionRecord{}, false
	}
	text := func(name string) string {
		v, _ := ev.Field("lbm." + name)
		s, _ := event.StringValue(v)
		return s
	}
	number := func(name string) (uint64, bool) {
		v, _ := ev.Field("lbm." + name)
		n, err := strconv.ParseUint(string(v), 10, 64)
		return n, err == nil
	}
	first, ok1 := number("first_index")
	last, ok2 := number("last_index")
	count, ok3 := number("count")
	d := DeletionRecord{Log: text("log"), Category: text("category"), Month: text("month"), Step: store.DeletionStep(text("step")),
		First: first, Last: last, Count: int64(count)}
	return d, ok1 && ok2 && ok3 && d.Log != "" && d.Category != "" && d.Month != ""
}

// Tally counts the deletion stamps of the entries it is shown, by log,
// step, category and month, for Deletions.CheckCounts.
type Tally map[DeletionRecord]int64

// Add counts en's stamp, if it has one.
func (t Tally) Add(en store.Entry) {
	if step := stampOf(en); step != "" {
		t[DeletionRecord{Log: en.Log, Category: en.Category, Month: monthName(time.Unix(0, en.Time).UTC()), Step: step}]++
	}
}

// CheckCounts returns a problem for each log, step, category and month
// with more stamps than its records deleted: a stamp forged on an entry a
// hold kept inside a recorded batch's range. A run stopped after its
// record and run again records a batch twice, so the bound is loose, never
// wrong.
//
// The stamps of a category with no records of its own that month are set
// against the month's records of Unscheduled categories, which name none:
// a category the schedule does not name has none of its own.
func (ds Deletions) CheckCounts(t Tally) []string {
	recorded := map[DeletionRecord]int64{}
	for _, d := range ds {
		recorded[DeletionRecord{Log: d.Log, Category: d.Category, Month: d.Month, Step: d.Step}] += d.Count
	}
	keys := slices.SortedFunc(maps.Keys(t), func(a, b DeletionRecord) int {
		return cmp.Or(cmp.Compare(a.Log, b.Log), cmp.Compare(a.Month, b.Month), cmp.Compare(a.Step, b.Step), cmp.Compare(a.Category, b.Category))
	})
	var out []string
	for _, k := range keys {
		n, own := t[k], recorded[k]
		if n <= own {
			continue
		}
		take := int64(0)
		if own == 0 {
			others := DeletionRecord{Log: k.Log, Category: Unscheduled, Month: k.Month, Step: k.Step}
			take = min(n, recorded[others])
			recorded[others] -= take
		}
		if n > own+take {
			out = append(out, fmt.Sprintf("%s log: %d entries of %s in %s are marked %s deleted under retention, but its records deleted %d",
				k.Log, n, k.Category, k.Month, k.Step, own+take))
		}
	}
	return out
}

func stampOf(en store.Entry) store.DeletionStep {
	switch {
	case en.Deleted != 0:
		return store.DeleteEntry
	case en.ContentDeleted != 0:
		return store.DeleteContent
	}
	return ""
}

// Check returns nil unless en bears a deletion stamp no record covers: a
// deleted entry needs a record of the entry step, content deleted from an
// entry that is not needs one of the content step, each naming the
// entry's log, category and month and an index range holding it.
func (ds Deletions) Check(en store.Entry) error {
	step := stampOf(en)
	if step == "" {
		return nil
	}
	month := monthName(time.Unix(0, en.Time).UTC())
	for _, d := range ds {
		if d.Step == step && d.Log == en.Log && (d.Category == en.Category || d.Category == Unscheduled) && d.Month == month && d.First <= en.Index && en.Index <= d.Last {
			return nil
		}
	}
	return fmt.Errorf("%s log entry %d: marked %s deleted under retention, but no retention_deleted record in the oversight log covers it", en.Log, en.Index, step)
}
