package alerts

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/store"
)

// Rules is the rule set in force, as the detector needs it.
type Rules interface {
	// Version identifies the rule set in force; when it changes, the
	// detector compiles the new one (a hot reload).
	Version(ctx context.Context) (int64, error)
	// Compile returns an engine of the rule set in force, with its
	// reference lists, and its version.
	Compile(ctx context.Context) (*detect.Engine, int64, error)
}

// Detector runs the rules over one log, in index order, storing the
// alerts they raise. Log, Store, Opener, Pseudonyms, Rules and Now are
// required.
type Detector struct {
	Log string
	// Shards, when set, are the logs the detector follows as one stream,
	// Log being only the name its alerts carry: the activity log's shards
	// (activity-N), one per node of a service, which a person's events
	// are spread over. Each step reads the next entries of every shard
	// and the rules see them together in time order, so that windows and
	// sequences count a person's events whichever node took them. Asked
	// at every step: a shard added while the detector runs is followed
	// from its first entry.
	Shards     func(ctx context.Context) ([]string, error)
	Store      store.Store
	Opener     *record.Opener
	Pseudonyms *Pseudonymiser
	Rules      Rules
	Now        func() time.Time
	Logger     *slog.Logger
	// OpenContent decrypts each event's content before the rules see
	// it, for the engine's confidential matcher to look for markers in
	// (rules never see content). Set it when confidential markers are
	// configured; channels are matched on metadata alone.
	OpenContent bool
	// RequestSubjects, when set, gives the people request id is about
	// (none for an unknown id). A record naming a request (lbm.request)
	// then reaches the rules with related.user set to them: the oversight
	// log keeps whom a look was about out of its readable metadata, and
	// the rules watching the watchers need it. Set it on the oversight
	// log only.
	RequestSubjects func(ctx context.Context, id string) ([]string, error)
	// Batch is the most entries one step reads. Default 4096.
	Batch int
	// WarmUp is how many entries before the cursor are replayed, raising
	// nothing, when the engine starts afresh (at start and after a
	// reload), so that windows and sequences spanning the restart are
	// not lost. Default 65536.
	WarmUp uint64

	mu      sync.Mutex
	engine  *detect.Engine
	version int64
	last    time.Time // the latest event time observed
	// lastRaised is when the last alert was raised, by its id.
	lastRaised time.Time
	stats      DetectorStats
}

// DetectorStats count what a detector has done since it started.
type DetectorStats struct {
	Events  uint64 // events observed (after warm-up)
	Alerts  uint64 // alerts raised and stored
	Late    uint64 // events earlier than one already observed: seen at the later time
	Reloads uint64 // rule sets compiled
	Cursor  uint64 // the first entry not yet looked at; of several shards, the sum of theirs
	Version int64  // the rule set in force
}

// Stats returns the detector's counts.
func (d *Detector) Stats() DetectorStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

func (d *Detector) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// Step looks at the next batch of committed entries and returns how many
// it looked at: 0 when it has caught up with the log.
func (d *Detector) Step(ctx context.Context) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	logs, err := d.logs(ctx)
	if err != nil {
		return 0, err
	}
	cursors := make([]uint64, len(logs))
	for i, log := range logs {
		if cursors[i], err = d.Store.DetectionCursor(ctx, log); err != nil {
			return 0, err
		}
	}
	if err := d.ensureEngine(ctx, logs, cursors); err != nil {
		return 0, err
	}
	batch := uint64(cmp.Or(d.Batch, 4096))
	tos := make([]uint64, len(logs))
	var ranges []logRange
	var looked, total uint64
	for i, log := range logs {
		state, err := d.Store.LogState(ctx, log)
		if err != nil {
			return 0, err
		}
		tos[i] = max(cursors[i], min(cursors[i]+batch, state.Size))
		total += cursors[i]
		if tos[i] > cursors[i] {
			ranges = append(ranges, logRange{log, cursors[i], tos[i]})
			looked += tos[i] - cursors[i]
		}
	}
	d.stats.Cursor = total
	if looked == 0 {
		return 0, nil
	}
	raised, evidence, err := d.observe(ctx, ranges)
	if err != nil {
		return 0, err
	}
	as, err := d.storedAlerts(ctx, raised, evidence)
	if err != nil {
		return 0, err
	}
	// The alerts go with the first log's cursor, in one transaction; the
	// other logs' cursors follow. Cut off between them, the next step
	// looks at those logs' entries again, and an alert raised again over
	// the same events is stored once (its Dedup).
	for i, r := range ranges {
		add := as
		if i > 0 {
			add = nil
		}
		if err := d.Store.AddAlerts(ctx, r.log, r.to, add); err != nil {
			return 0, fmt.Errorf("storing alerts of %s entries %d to %d: %w", r.log, r.from, r.to, err)
		}
	}
	d.stats.Events += looked
	d.stats.Alerts += uint64(len(as))
	d.stats.Cursor = total + looked
	return int(looked), nil
}

// logRange is the entries [from, to) of a log.
type logRange struct {
	log      string
	from, to uint64
}

// logs returns the logs the detector follows: its Shards, or Log alone.
func (d *Detector) logs(ctx context.Context) ([]string, error) {
	if d.Shards == nil {
		return []string{d.Log}, nil
	}
	logs, err := d.Shards(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the shards of %s: %w", d.Log, err)
	}
	return logs, nil
}

// ensureEngine compiles the rules in force when none is compiled or the
// version has changed, and replays the WarmUp entries before each log's
// cursor.
func (d *Detector) ensureEngine(ctx context.Context, logs []string, cursors []uint64) error {
	v, err := d.Rules.Version(ctx)
	if err != nil {
		return err
	}
	if d.engine != nil && v == d.version {
		return nil
	}
	e, v, err := d.Rules.Compile(ctx)
	if err != nil {
		return fmt.Errorf("compiling the detection rules: %w", err)
	}
	if d.engine != nil {
		d.logger().Info("detection rules reloaded", "log", d.Log, "version", v)
	}
	d.engine, d.version, d.last = e, v, time.Time{}
	d.stats.Reloads++
	d.stats.Version = v
	batch := uint64(cmp.Or(d.Batch, 4096))
	froms := make([]uint64, len(logs))
	for i := range logs {
		froms[i] = cursors[i] - min(cursors[i], cmp.Or(d.WarmUp, 65536))
	}
	// Batch by batch across the logs at once, so that the shards'
	// entries reach the rules roughly in time order.
	for {
		var ranges []logRange
		for i, log := range logs {
			if froms[i] < cursors[i] {
				to := min(froms[i]+batch, cursors[i])
				ranges = append(ranges, logRange{log, froms[i], to})
				froms[i] = to
			}
		}
		if len(ranges) == 0 {
			return nil
		}
		if _, _, err := d.observe(ctx, ranges); err != nil {
			return fmt.Errorf("warming up the detection rules: %w", err)
		}
	}
}

// observe runs the engine over the entries of ranges in time order and
// returns the alerts raised, with the evidence of the events seen.
func (d *Detector) observe(ctx context.Context, ranges []logRange) ([]detect.Alert, map[event.ID]Evidence, error) {
	var entries []store.Entry
	for _, r := range ranges {
		es, err := d.Store.Entries(ctx, r.log, r.from, r.to)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, es...)
	}
	op, err := d.Opener.Batch(ctx, entries)
	if err != nil {
		return nil, nil, err
	}
	evs := make([]*event.Event, 0, len(entries))
	evidence := make(map[event.ID]Evidence, len(entries))
	subjects := map[string][]string{} // by request id, for this batch
	for _, en := range entries {
		// Content is opened only so that the engine can recognise
		// confidential material, which no rule may see; the engine
		// gives rules metadata alone.
		open := op.OpenMetadata
		if d.OpenContent {
			open = op.Open
		}
		o, err := open(ctx, en)
		if _, ok := errors.AsType[*record.DeletedError](err); ok {
			continue // deleted under retention: nothing left to observe
		}
		if err != nil {
			return nil, nil, err
		}
		ev := o.Event
		if d.RequestSubjects != nil {
			if ev, err = d.withRequestSubjects(ctx, ev, subjects); err != nil {
				return nil, nil, err
			}
		}
		evidence[ev.ID] = evidenceFrom(en, ev)
		evs = append(evs, ev)
	}
	// Sources commit in batches of their own, and shards interleave:
	// within a step, time order is restored before the rules see them.
	slices.SortStableFunc(evs, func(a, b *event.Event) int { return a.Time.Compare(b.Time) })
	var raised []detect.Alert
	for _, ev := range evs {
		as, err := d.engine.Observe(ev)
		if errors.Is(err, detect.ErrOutOfOrder) {
			// Earlier than an event of a previous batch: seen as if it
			// happened then, so that its count is not lost.
			late := *ev
			late.Time = d.last
			d.stats.Late++
			as, err = d.engine.Observe(&late)
		} else if ev.Time.After(d.last) {
			d.last = ev.Time
		}
		if err != nil {
			return nil, nil, err
		}
		raised = append(raised, as...)
	}
	return raised, evidence, nil
}

// withRequestSubjects returns ev with related.user set to the subjects of
// the request it names, or ev itself when it names none, already has
// related.user, or the request is unknown (a refused look may name any
// id). seen caches the subjects by request id.
func (d *Detector) withRequestSubjects(ctx context.Context, ev *event.Event, seen map[string][]string) (*event.Event, error) {
	if _, ok := ev.Field("related.user"); ok {
		return ev, nil
	}
	v, ok := ev.Field("lbm.request")
	if !ok {
		return ev, nil
	}
	id, ok := event.StringValue(v)
	if !ok || id == "" {
		return ev, nil
	}
	people, cached := seen[id]
	if !cached {
		var err error
		if people, err = d.RequestSubjects(ctx, id); err != nil {
			return nil, fmt.Errorf("reading the subjects of request %s: %w", id, err)
		}
		seen[id] = people
	}
	if len(people) == 0 {
		return ev, nil
	}
	value, err := json.Marshal(people)
	if err != nil {
		return nil, err
	}
	out := *ev
	i, _ := slices.BinarySearchFunc(ev.Fields, "related.user", func(f event.Field, n string) int { return strings.Compare(f.Name, n) })
	out.Fields = slices.Insert(slices.Clone(ev.Fields), i, event.Field{Name: "related.user", Value: value})
	return &out, nil
}

// storedAlerts makes the engine's alerts into stored, pseudonymised ones.
func (d *Detector) storedAlerts(ctx context.Context, raised []detect.Alert, evidence map[event.ID]Evidence) ([]store.StoredAlert, error) {
	now := d.Now().UTC()
	out := make([]store.StoredAlert, 0, len(raised))
	for _, r := range raised {
		// The person is whom the firing event is about; the key may be
		// something else (a record, a number, the person refused about).
		subject := r.Subject
		if subject == "" {
			subject = r.Key
		}
		// Ids sort in the order alerts were raised, even within one
		// clock tick.
		at := now
		if !at.After(d.lastRaised) {
			at = d.lastRaised.Add(time.Nanosecond)
		}
		d.lastRaised = at
		id, err := newID(at)
		if err != nil {
			return nil, err
		}
		a := Alert{ID: id, Rule: r.Rule, Title: r.Title, Severity: string(r.Severity), SpecialCategory: r.SpecialCategory,
			Pseudonym: d.Pseudonyms.Name(subject), Log: d.Log, Time: r.Time.UTC(), Why: r.Why,
			State: New, Notes: []Note{}, History: []Step{}, Created: now, Updated: now}
		ids := make([][16]byte, len(r.Events))
		for i, eid := range r.Events {
			ids[i] = eid
			if i >= MaxEvidence {
				a.MoreEvents++
				continue
			}
			ev, ok := evidence[eid]
			if !ok {
				// An event of an earlier batch, still in a window.
				if ev, err = d.evidenceOf(ctx, eid); err != nil {
					return nil, fmt.Errorf("reading the evidence of an alert of rule %s: %w", r.Rule, err)
				}
			}
			a.Events = append(a.Events, ev)
		}
		body, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		out = append(out, store.StoredAlert{ID: a.ID, Rule: a.Rule, Severity: a.Severity, Subject: subject, Pseudonym: a.Pseudonym,
			State: string(New), Time: a.Time, Created: now, Updated: now, Dedup: dedup(d.Log, r.Rule, r.Key, ids), Body: body, Version: 1})
	}
	return out, nil
}

// evidenceOf reads the evidence of event id from the store.
func (d *Detector) evidenceOf(ctx context.Context, id event.ID) (Evidence, error) {
	en, err := d.Store.EntryByID(ctx, id)
	if err != nil {
		return Evidence{}, err
	}
	o, err := d.Opener.OpenMetadata(ctx, en)
	if err != nil {
		return Evidence{}, err
	}
	return evidenceFrom(en, o.Event), nil
}

func evidenceFrom(en store.Entry, ev *event.Event) Evidence {
	outcome, _ := ev.Field("event.outcome")
	oc, _ := event.StringValue(outcome)
	return Evidence{Log: en.Log, Index: en.Index, Time: ev.Time.UTC(), Source: en.Source, Category: en.Category, Action: en.Action, Outcome: oc}
}

// Run steps until ctx ends, resting idle between steps once caught up,
// and retrying after a failure (logged) with the same rest.
func (d *Detector) Run(ctx context.Context, idle time.Duration) {
	for {
		n, err := d.Step(ctx)
		if err != nil && ctx.Err() == nil {
			d.logger().Error("detection", "log", d.Log, "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(idle):
		}
	}
}
