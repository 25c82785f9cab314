// Package ingest takes events in and makes them durable: it decodes NDJSON,
// seals each event (internal/record), and commits batches to a log through
// one writer per log with group commit.
//
// # Group commit
//
// Requests seal their own events concurrently (salts, commitments,
// encryption are the CPU-heavy part), then queue them. The log's single
// writer goroutine takes everything queued — up to Config.MaxBatch events,
// waiting at most Config.MaxDelay for a batch to fill — and commits it in ONE
// transaction: entries, content ciphertext, changed tiles and the new tree
// state. Only then is each request answered. A crash therefore loses only
// unanswered requests, which their sources retry; event.id makes the retry
// idempotent.
//
// # Back-pressure
//
// The queue is bounded by events, not requests. When a batch would overflow
// it, Append fails at once with ErrOverloaded (the HTTP layer answers 503
// with Retry-After) instead of letting memory grow.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// ErrOverloaded is returned when the queue cannot take a batch now. Retry later.
var ErrOverloaded = errors.New("ingest queue full")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("writer closed")

// Observer is told about each commit, for metrics.
type Observer interface {
	Committed(log string, events int, took time.Duration, size uint64)
}

// Config configures a Writer. Zero values are the documented defaults.
type Config struct {
	Log    string         // required: the log's name, e.g. "activity"
	Store  store.Logs     // required
	Sealer *record.Sealer // required; its Log must equal Log
	// MaxBatch is the most events one transaction commits. Default 16384.
	MaxBatch int
	// MaxDelay is how long the writer waits for a batch to fill once it has
	// some events. Default 2ms: small against an fsync, large enough that
	// concurrent requests share one.
	MaxDelay time.Duration
	// NoDelay commits whatever is queued at once, never waiting MaxDelay
	// for a batch to fill: for the oversight log, whose records are few
	// and each awaited (an access record stands between a reviewer and
	// the results). Records arriving during a commit still share the next.
	NoDelay bool
	// MaxQueued bounds the events waiting to be committed. Default 131072:
	// room for the largest request (MaxBatchEvents) and more; sealed events
	// take about 2 KB each, so the queue holds at most about 256 MiB.
	MaxQueued int
	// Elsewhere, when set, finds the events of source whose event.id is
	// among ids already stored in the other logs this one shares
	// deduplication with: the activity log's other shards, where a
	// source's resend lands when the node it first sent to has died. It
	// reads what those logs have committed, keyed by event.id.
	Elsewhere func(ctx context.Context, source string, ids []string) (map[string]store.Entry, error)
	Observer  Observer
	Logger    *slog.Logger
}

func (c *Config) valid() error {
	switch {
	case c.Log == "":
		return errors.New("ingest: Config.Log is required")
	case c.Store == nil:
		return errors.New("ingest: Config.Store is required")
	case c.Sealer == nil || c.Sealer.Log != c.Log:
		return errors.New("ingest: Config.Sealer must seal for Config.Log")
	case c.MaxBatch < 0 || c.MaxQueued < 0 || c.MaxDelay < 0:
		return errors.New("ingest: negative limits")
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 16384
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 2 * time.Millisecond
	}
	if c.MaxQueued == 0 {
		c.MaxQueued = 1 << 17
	}
	if c.MaxQueued < c.MaxBatch {
		return fmt.Errorf("ingest: MaxQueued %d below MaxBatch %d", c.MaxQueued, c.MaxBatch)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Result describes a committed request. IDs and Indexes are in request
// order; an event already stored (same source and event.id) reports the
// stored event's ID and index and is counted in Duplicates.
type Result struct {
	Accepted   int
	Duplicates int
	IDs        []event.ID
	Indexes    []uint64
	// Duplicate marks, in request order, the events already stored; nil
	// when there were none.
	Duplicate []bool
	// Logs names, in request order, the log each event is in, when one
	// was found already stored in another log (Config.Elsewhere); nil
	// when all are in the writer's own.
	Logs     []string
	TreeSize uint64 // the log's size after the commit
}

type request struct {
	sealed []record.Sealed
	// elsewhere holds the request's events already stored in another
	// log (Config.Elsewhere), by (source, event.id).
	elsewhere map[[2]string]store.Entry
	done      chan reply
}

type reply struct {
	res Result
	err error
}

// Writer is the single writer of one log.
type Writer struct {
	cfg Config

	mu     sync.Mutex
	queued int
	closed bool
	queue  []*request
	wake   chan struct{}

	stop chan struct{}
	done chan struct{}
}

// NewWriter starts a writer. Close stops it.
func NewWriter(cfg Config) (*Writer, error) {
	if err := cfg.valid(); err != nil {
		return nil, err
	}
	w := &Writer{cfg: cfg, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w, nil
}

// QueueDepth returns the events waiting to be committed.
func (w *Writer) QueueDepth() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queued
}

// Append seals evs and returns once they are durable in the log, or fails
// with nothing stored. It fails at once with ErrOverloaded when the queue is
// full. If ctx ends while the batch is queued, Append returns ctx's error,
// but the batch may still commit: a retry with event.id set is then
// recognised as a duplicate.
func (w *Writer) Append(ctx context.Context, evs []*event.Event) (Result, error) {
	if len(evs) == 0 {
		return Result{}, nil
	}
	if len(evs) > w.cfg.MaxQueued {
		return Result{}, fmt.Errorf("%w: %d events exceed the queue of %d", ErrTooLarge, len(evs), w.cfg.MaxQueued)
	}
	// Refuse before the CPU work of sealing when the queue is already full.
	if w.QueueDepth()+len(evs) > w.cfg.MaxQueued {
		return Result{}, ErrOverloaded
	}
	if err := w.cfg.Sealer.Prepare(ctx, evs); err != nil {
		return Result{}, fmt.Errorf("preparing content keys: %w", err)
	}
	req := &request{sealed: make([]record.Sealed, len(evs)), done: make(chan reply, 1)}
	for i, e := range evs {
		s, err := w.cfg.Sealer.Seal(ctx, e)
		if err != nil {
			return Result{}, fmt.Errorf("sealing event %d: %w", i+1, err)
		}
		req.sealed[i] = s
	}
	if w.cfg.Elsewhere != nil {
		// Here, in the request's goroutine, not in the log's one
		// writer: the lookup reads only what other logs have
		// committed, which the writer's transaction would not see
		// any sooner.
		var err error
		if req.elsewhere, err = lookElsewhere(ctx, w.cfg.Elsewhere, req.sealed); err != nil {
			return Result{}, fmt.Errorf("looking for resent events in the other shards: %w", err)
		}
	}
	w.mu.Lock()
	switch {
	case w.closed:
		w.mu.Unlock()
		return Result{}, ErrClosed
	case w.queued+len(evs) > w.cfg.MaxQueued:
		w.mu.Unlock()
		return Result{}, ErrOverloaded
	}
	w.queue = append(w.queue, req)
	w.queued += len(evs)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Close stops taking requests, commits what is queued, and stops.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	return nil
}

// fill gives concurrent requests MaxDelay to join the batch, unless it is
// full first.
func (w *Writer) fill() {
	deadline := time.NewTimer(w.cfg.MaxDelay)
	defer deadline.Stop()
	for w.QueueDepth() < w.cfg.MaxBatch {
		select {
		case <-deadline.C:
			return
		case <-w.wake:
		case <-w.stop:
			return
		}
	}
}

func (w *Writer) run() {
	defer close(w.done)
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			for w.commitQueued() {
			}
			return
		}
		if !w.cfg.NoDelay {
			w.fill()
		}
		for w.commitQueued() {
			if w.QueueDepth() < w.cfg.MaxBatch {
				break
			}
		}
		if w.QueueDepth() > 0 {
			// Requests left over from a full batch consumed their wake-ups
			// while it filled; wake ourselves for them.
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
}

// commitQueued commits up to MaxBatch queued events (always whole requests)
// and reports whether it committed anything.
func (w *Writer) commitQueued() bool {
	w.mu.Lock()
	var batch []*request
	n := 0
	for len(w.queue) > 0 && (n == 0 || n+len(w.queue[0].sealed) <= w.cfg.MaxBatch) {
		batch = append(batch, w.queue[0])
		n += len(w.queue[0].sealed)
		w.queue = w.queue[1:]
	}
	w.mu.Unlock()
	if len(batch) == 0 {
		return false
	}
	start := time.Now()
	results, size, err := w.commit(batch)
	took := time.Since(start)
	w.mu.Lock()
	w.queued -= n
	w.mu.Unlock()
	if err != nil {
		w.cfg.Logger.Error("committing batch", "log", w.cfg.Log, "events", n, "err", err)
	} else if w.cfg.Observer != nil {
		w.cfg.Observer.Committed(w.cfg.Log, n, took, size)
	}
	for i, req := range batch {
		if err != nil {
			req.done <- reply{err: err}
			continue
		}
		req.done <- reply{res: results[i]}
	}
	return true
}

// maxCommitAttempts bounds retries of a batch that lost a race for the log
// to another process (the CLI appending offline while the server runs).
const maxCommitAttempts = 3

func (w *Writer) commit(batch []*request) ([]Result, uint64, error) {
	var err error
	for range maxCommitAttempts {
		var results []Result
		var size uint64
		err = w.cfg.Store.UpdateLog(context.Background(), w.cfg.Log, func(tx store.LogTx) error {
			var err error
			results, size, err = appendBatch(context.Background(), tx, batch)
			return err
		})
		if err == nil {
			return results, size, nil
		}
		if !errors.Is(err, store.ErrExists) {
			break
		}
	}
	return nil, 0, fmt.Errorf("committing to %s log: %w", w.cfg.Log, err)
}

// appendBatch dedupes, assigns indices and writes one batch inside tx.
func appendBatch(ctx context.Context, tx store.LogTx, batch []*request) ([]Result, uint64, error) {
	st, err := tx.State(ctx)
	if err != nil {
		return nil, 0, err
	}
	existing, err := findDuplicates(ctx, tx, batch)
	if err != nil {
		return nil, 0, err
	}
	results := make([]Result, len(batch))
	var entries []store.Entry
	var hashes [][]byte
	next := st.Size
	seen := make(map[[2]string]int) // (source, client id) -> index into entries, within this batch
	for i, req := range batch {
		r := Result{IDs: make([]event.ID, len(req.sealed)), Indexes: make([]uint64, len(req.sealed))}
		for j, s := range req.sealed {
			en := s.Entry
			if en.ClientID != "" {
				key := [2]string{en.Source, en.ClientID}
				old, ok := existing[key]
				if !ok {
					// The log's own copy, if any, wins over another's.
					old, ok = req.elsewhere[key]
				}
				if ok {
					r.IDs[j], r.Indexes[j] = old.ID, old.Index
					r.markDuplicate(j, len(req.sealed))
					if old.Log != en.Log {
						r.markElsewhere(j, old.Log, en.Log, len(req.sealed))
					}
					continue
				}
				if k, ok := seen[key]; ok {
					r.IDs[j], r.Indexes[j] = entries[k].ID, entries[k].Index
					r.markDuplicate(j, len(req.sealed))
					continue
				}
				seen[key] = len(entries)
			}
			en.Index = next
			next++
			entries = append(entries, en)
			hashes = append(hashes, s.LeafHash)
			r.IDs[j], r.Indexes[j] = en.ID, en.Index
			r.Accepted++
		}
		results[i] = r
	}
	if len(entries) > 0 {
		newState, tiles, err := tlog.Extend(ctx, tx, st, hashes)
		if err != nil {
			return nil, 0, err
		}
		if err := tx.Append(ctx, entries, tiles, newState); err != nil {
			return nil, 0, err
		}
		st = newState
	}
	for i := range results {
		results[i].TreeSize = st.Size
	}
	return results, st.Size, nil
}

func (r *Result) markDuplicate(j, n int) {
	if r.Duplicate == nil {
		r.Duplicate = make([]bool, n)
	}
	r.Duplicate[j] = true
	r.Duplicates++
}

// markElsewhere records that event j of n is in log, not in own.
func (r *Result) markElsewhere(j int, log, own string, n int) {
	if r.Logs == nil {
		r.Logs = make([]string, n)
		for i := range r.Logs {
			r.Logs[i] = own
		}
	}
	r.Logs[j] = log
}

// findDuplicates looks up the batch's event.ids in the log.
func findDuplicates(ctx context.Context, tx store.LogTx, batch []*request) (map[[2]string]store.Entry, error) {
	bySource := make(map[string][]string)
	for _, req := range batch {
		for _, s := range req.sealed {
			if s.Entry.ClientID != "" {
				bySource[s.Entry.Source] = append(bySource[s.Entry.Source], s.Entry.ClientID)
			}
		}
	}
	out := make(map[[2]string]store.Entry)
	for source, ids := range bySource {
		found, err := tx.FindClientIDs(ctx, source, ids)
		if err != nil {
			return nil, err
		}
		for id, en := range found {
			out[[2]string{source, id}] = en
		}
	}
	return out, nil
}

// lookElsewhere asks elsewhere for the event.ids of sealed, by source.
func lookElsewhere(ctx context.Context, elsewhere func(context.Context, string, []string) (map[string]store.Entry, error), sealed []record.Sealed) (map[[2]string]store.Entry, error) {
	bySource := make(map[string][]string)
	for _, s := range sealed {
		if s.Entry.ClientID != "" {
			bySource[s.Entry.Source] = append(bySource[s.Entry.Source], s.Entry.ClientID)
		}
	}
	var out map[[2]string]store.Entry
	for source, ids := range bySource {
		found, err := elsewhere(ctx, source, ids)
		if err != nil {
			return nil, err
		}
		for id, en := range found {
			if out == nil {
				out = make(map[[2]string]store.Entry)
			}
			out[[2]string{source, id}] = en
		}
	}
	return out, nil
}
