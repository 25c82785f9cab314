package bench

import (
	"context"
	"errors"
	"fmt"
	"github.com/lbm-project/lbm/internal/alerts"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/server"
)

// source is the source id the benchmark's events are ingested as.
const source = "bench"

// RunInProcess measures parse + ingest.Writer.Append of lines from
// cfg.Clients goroutines, cfg.Batch lines an append, into the activity log
// of a fresh store on engine e (see Config.DataDir and Config.DB). It fails
// if any batch fails, or if the log does not end up holding exactly the
// acknowledged events.
func RunInProcess(ctx context.Context, cfg Config, e Engine, lines [][]byte) (Result, error) {
	// Defaults first: batches and drive below read cfg too.
	if err := cfg.valid(); err != nil {
		return Result{}, err
	}
	r, err := openRun(ctx, cfg, e, InProcess)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	w := r.node.Logs[r.node.ActivityLog].Writer
	bs := batches(lines, cfg.Batch)
	t, elapsed, err := drive(ctx, cfg, r.label(), bs, func(ctx context.Context, i int) (int, error) {
		evs := make([]*event.Event, len(bs[i]))
		for j, line := range bs[i] {
			e, err := event.Parse(line, source)
			if err != nil {
				return 0, fmt.Errorf("parsing simulated event: %w", err)
			}
			evs[j] = e
		}
		return appendAll(ctx, w, evs)
	})
	if err != nil {
		return Result{}, err
	}
	return r.finish(ctx, t, elapsed, "batch")
}

// appendAll appends evs, retrying while the writer's queue is full, and
// returns how many retries it took.
func appendAll(ctx context.Context, w *ingest.Writer, evs []*event.Event) (int, error) {
	for retries := 0; ; retries++ {
		res, err := w.Append(ctx, evs)
		switch {
		case errors.Is(err, ingest.ErrOverloaded) && retries < 1000:
			if err := sleep(ctx, 10*time.Millisecond); err != nil {
				return retries, err
			}
			continue
		case err != nil:
			return retries, err
		case res.Accepted != len(evs):
			return retries, fmt.Errorf("%d of %d events accepted (%d duplicates)", res.Accepted, len(evs), res.Duplicates)
		}
		return retries, nil
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is one measured run: its node on a fresh store, and what it needs to
// measure and then remove that store.
type run struct {
	node    *server.Node
	engine  Engine
	mode    Mode
	dir     string
	pg      *pgServer
	dbs     []string // the PostgreSQL events and keys databases
	writer  *writerTime
	base    int64 // the store's bytes before any event
	closed  bool
	cleanup []func() // run in reverse order by close
	// detecting is set while the activity log's detector runs.
	detecting *detection
}

// detection is a detector running beside a measured run.
type detection struct {
	d    *alerts.Detector
	stop context.CancelFunc
	done chan struct{}
}

// startDetection runs the activity log's detector until stopped.
func (r *run) startDetection(ctx context.Context) {
	for _, d := range r.node.Detectors {
		if d.Log != server.Activity {
			continue
		}
		ctx, stop := context.WithCancel(ctx)
		det := &detection{d: d, stop: stop, done: make(chan struct{})}
		go func() {
			defer close(det.done)
			d.Run(ctx, 20*time.Millisecond)
		}()
		r.detecting = det
	}
}

// finishDetection waits until detection has looked at the first size
// entries, stops it, and returns how long the wait took and the alerts
// raised.
func (r *run) finishDetection(ctx context.Context, size uint64) (time.Duration, uint64, error) {
	det := r.detecting
	start := time.Now()
	defer func() {
		det.stop()
		<-det.done
	}()
	for det.d.Stats().Cursor < size {
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
	return time.Since(start), det.d.Stats().Alerts, nil
}

// openRun opens a fresh store on engine e for mode: a data directory that
// holds no activity yet and, on PostgreSQL, two new databases. The log's
// size afterwards then counts exactly this run's events. cfg must be valid.
// close closes the node and removes what openRun made.
func openRun(ctx context.Context, cfg Config, e Engine, mode Mode) (_ *run, err error) {
	r := &run{engine: e, mode: mode, writer: &writerTime{}}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	dir, cleanup, err := modeDir(cfg, e, mode)
	if err != nil {
		return nil, err
	}
	r.dir, r.cleanup = dir, append(r.cleanup, cleanup)
	scfg := server.Config{DataDir: dir, Observer: r.writer}
	if e == PostgreSQL {
		// The data directory keeps the signing keys and KEK of databases
		// that are dropped at the end: one left by an earlier run would be
		// taken for a store's, and its admin token refused.
		if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
			return nil, fmt.Errorf("data directory %s is already in use; give a new one", dir)
		}
		if r.pg, err = newPGServer(cfg.DB); err != nil {
			return nil, err
		}
		events, keys, drop, err := r.pg.createDatabases(ctx)
		if err != nil {
			return nil, err
		}
		r.dbs, r.cleanup = []string{events, keys}, append(r.cleanup, drop)
		scfg.DB, scfg.KeysDB = r.pg.dsn(events), r.pg.dsn(keys)
	}
	if r.node, err = server.Open(ctx, scfg); err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	st, err := r.node.Store.LogState(ctx, server.Activity)
	if err != nil {
		return nil, fmt.Errorf("reading activity log: %w", err)
	}
	if st.Size != 0 {
		return nil, fmt.Errorf("data directory %s already holds %d events; give a new one", dir, st.Size)
	}
	if r.base, err = r.storeBytes(ctx); err != nil {
		return nil, err
	}
	if cfg.Detect {
		r.startDetection(ctx)
	}
	return r, nil
}

// closeNode closes the node once, committing what its writers hold.
func (r *run) closeNode() {
	if r.node != nil && !r.closed {
		r.closed = true
		r.node.Close()
	}
}

func (r *run) close() {
	r.closeNode()
	for i := len(r.cleanup) - 1; i >= 0; i-- {
		r.cleanup[i]()
	}
}

// storeBytes returns the store's size on disk: the SQLite files, WAL
// included, or both PostgreSQL databases.
func (r *run) storeBytes(ctx context.Context) (int64, error) {
	if r.engine == PostgreSQL {
		return r.pg.size(ctx, r.dbs...)
	}
	files, err := filepath.Glob(filepath.Join(r.dir, "*.db*"))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}

// finish turns a run's tally into its Result, failing unless the activity
// log holds exactly the acknowledged events. It closes the node, so that
// the store's size is measured at rest.
func (r *run) finish(ctx context.Context, t tally, elapsed time.Duration, sample string) (Result, error) {
	res := NewResult(string(r.mode), t.events, t.bytes, elapsed, sample, t.latencies)
	res.Engine = string(r.engine)
	res.Retries = t.retries
	var err error
	if res.LogSize, err = checkLog(ctx, r.node, t.events); err != nil {
		return Result{}, err
	}
	if r.detecting != nil {
		res.Detect = true
		took, n, err := r.finishDetection(ctx, res.LogSize)
		if err != nil {
			return Result{}, err
		}
		res.DetectCatchUp, res.Alerts = took.Seconds(), n
	}
	r.closeNode()
	commits, busy := r.writer.total()
	res.Commits = commits
	if elapsed > 0 {
		res.WriterBusy = float64(busy) / float64(elapsed)
	}
	size, err := r.storeBytes(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("measuring the store: %w", err)
	}
	res.StoreBytes = size - r.base
	return res, nil
}

// writerTime sums the activity log writers' commits (an ingest.Observer):
// its shards' writers' too, summed, when several nodes share a store.
type writerTime struct {
	mu      sync.Mutex
	commits int
	busy    time.Duration
}

func (w *writerTime) Committed(log string, _ int, took time.Duration, _ uint64) {
	if log == server.Oversight {
		return
	}
	w.mu.Lock()
	w.commits++
	w.busy += took
	w.mu.Unlock()
}

func (w *writerTime) total() (int, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.commits, w.busy
}

// checkLog returns the activity log's size, its shards' summed, and an
// error unless it is want.
func checkLog(ctx context.Context, node *server.Node, want int) (uint64, error) {
	logs, err := node.AllLogs(ctx)
	if err != nil {
		return 0, err
	}
	var size uint64
	for _, l := range logs {
		if l.Name == server.Oversight {
			continue
		}
		st, err := node.Store.LogState(ctx, l.Name)
		if err != nil {
			return 0, fmt.Errorf("reading the %s log: %w", l.Name, err)
		}
		size += st.Size
	}
	if size != uint64(want) {
		return size, fmt.Errorf("the activity log holds %d events, but %d were acknowledged", size, want)
	}
	return size, nil
}

// label names the run for progress: ENGINE/MODE.
func (r *run) label() string { return string(r.engine) + "/" + string(r.mode) }

// tally sums what the workers of one run had acknowledged.
type tally struct {
	events    int
	bytes     int64
	retries   int
	latencies []time.Duration
}

// drive calls send for every batch of bs from cfg.Clients workers and times
// the whole. send must return only once batch i is acknowledged in full; it
// returns the retries it needed. The first error stops every worker, and
// drive returns it.
func drive(ctx context.Context, cfg Config, label string, bs [][][]byte, send func(ctx context.Context, i int) (int, error)) (tally, time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	total := 0
	for _, b := range bs {
		total += len(b)
	}
	var next atomic.Int64
	tallies := make([]tally, cfg.Clients)
	var wg sync.WaitGroup
	if cfg.Progress != nil {
		cfg.Progress.Start(label, total)
		defer cfg.Progress.Finish()
	}
	if cfg.Timer != nil {
		cfg.Timer.StartTimer()
	}
	start := time.Now()
	for k := range tallies {
		wg.Go(func() {
			t := &tallies[k]
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(bs) {
					return
				}
				t0 := time.Now()
				retries, err := send(ctx, i)
				took := time.Since(t0)
				t.retries += retries
				if err != nil {
					cancel(fmt.Errorf("batch %d: %w", i+1, err))
					return
				}
				t.latencies = append(t.latencies, took)
				t.events += len(bs[i])
				t.bytes += ndjsonBytes(bs[i])
				if cfg.Progress != nil {
					cfg.Progress.Add(len(bs[i]))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if cfg.Timer != nil {
		cfg.Timer.StopTimer()
	}
	if err := context.Cause(ctx); err != nil {
		return tally{}, 0, err
	}
	var sum tally
	for _, t := range tallies {
		sum.events += t.events
		sum.bytes += t.bytes
		sum.retries += t.retries
		sum.latencies = append(sum.latencies, t.latencies...)
	}
	return sum, elapsed, nil
}
