package bench

import (
	"context"
	"errors"
	"fmt"
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
// of a fresh data directory (see Config.DataDir). It fails if any batch
// fails, or if the log does not end up holding exactly the acknowledged
// events.
func RunInProcess(ctx context.Context, cfg Config, lines [][]byte) (Result, error) {
	node, closeRun, err := openRun(ctx, cfg, InProcess)
	if err != nil {
		return Result{}, err
	}
	defer closeRun()
	w := node.Logs[server.Activity].Writer
	bs := batches(lines, cfg.Batch)
	t, elapsed, err := drive(ctx, cfg, InProcess, bs, func(ctx context.Context, i int) (int, error) {
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
	return finish(ctx, node, InProcess, t, elapsed, "batch")
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

// openRun validates cfg and opens the fresh data directory of mode, which
// must hold no activity yet, so that the log's size afterwards counts
// exactly this run's events. close closes the node and removes a temporary
// directory.
func openRun(ctx context.Context, cfg Config, mode Mode) (node *server.Node, release func(), err error) {
	if err := cfg.valid(); err != nil {
		return nil, nil, err
	}
	dir, cleanup, err := modeDir(cfg, mode)
	if err != nil {
		return nil, nil, err
	}
	node, err = server.Open(ctx, server.Config{DataDir: dir})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("opening data directory: %w", err)
	}
	release = func() {
		node.Close()
		cleanup()
	}
	st, err := node.Store.LogState(ctx, server.Activity)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("reading activity log: %w", err)
	}
	if st.Size != 0 {
		release()
		return nil, nil, fmt.Errorf("data directory %s already holds %d events; give a new one", dir, st.Size)
	}
	return node, release, nil
}

// finish turns a run's tally into its Result, failing unless the activity
// log holds exactly the acknowledged events.
func finish(ctx context.Context, node *server.Node, mode Mode, t tally, elapsed time.Duration, sample string) (Result, error) {
	res := NewResult(string(mode), t.events, t.bytes, elapsed, sample, t.latencies)
	res.Retries = t.retries
	var err error
	if res.LogSize, err = checkLog(ctx, node, t.events); err != nil {
		return Result{}, err
	}
	return res, nil
}

// checkLog returns the activity log's size, and an error unless it is want.
func checkLog(ctx context.Context, node *server.Node, want int) (uint64, error) {
	st, err := node.Store.LogState(ctx, server.Activity)
	if err != nil {
		return 0, fmt.Errorf("reading activity log: %w", err)
	}
	if st.Size != uint64(want) {
		return st.Size, fmt.Errorf("activity log holds %d events, but %d were acknowledged", st.Size, want)
	}
	return st.Size, nil
}

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
func drive(ctx context.Context, cfg Config, mode Mode, bs [][][]byte, send func(ctx context.Context, i int) (int, error)) (tally, time.Duration, error) {
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
		cfg.Progress.Start(string(mode), total)
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
