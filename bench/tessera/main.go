// Command tessera measures Tessera's POSIX driver (storage/posix, v1.0.4) on
// the same simulated events as `lbm bench ingest`, and prints the same
// report, so that the two can be read side by side.
//
// Each event's NDJSON line is one log entry, added as it is: Tessera neither
// parses, salts nor encrypts it, so this is the cost of a durable, tiled
// Merkle log alone. Thousands of goroutines (--adders) each add one entry and
// wait for its IndexFuture; an entry counts only once its future resolves
// without error, which for the POSIX driver means it is sequenced and
// integrated: its entry bundle, tiles and tree state are written and
// fsync'd. The clock runs from the first Add to the last resolution; the
// final checkpoint that shutdown waits for is outside it.
//
// Usage:
//
//	go run ./tessera [--events N] [--people P] [--adders 4096] [--batch 4096]
//	    [--batch-age 250ms] [--checkpoint-interval 1s] [--data DIR] [--json]
//	    [--compare lbm.json]
//
// --compare reads the JSON report of `lbm bench ingest --json` and prints
// the ratio of the throughput of each of lbm's runs (engine and mode) to
// Tessera's.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbm-project/lbm/internal/bench"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
)

// config holds the flags.
type config struct {
	events, people     int
	adders, batch      int
	batchAge, interval time.Duration
	dataDir            string
	json               bool
	compare            string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.events, "events", 100_000, "events to add")
	flag.IntVar(&cfg.people, "people", 1000, "members of staff in the simulated force")
	flag.IntVar(&cfg.adders, "adders", 4096, "concurrent goroutines adding entries")
	flag.IntVar(&cfg.batch, "batch", 4096, "most entries Tessera sequences in one batch")
	flag.DurationVar(&cfg.batchAge, "batch-age", 250*time.Millisecond, "longest Tessera waits for a batch to fill")
	flag.DurationVar(&cfg.interval, "checkpoint-interval", time.Second, "how often Tessera publishes a checkpoint")
	flag.StringVar(&cfg.dataDir, "data", "", "log directory, which must not exist yet (default: a temporary directory, removed afterwards)")
	flag.BoolVar(&cfg.json, "json", false, "print the report as JSON")
	flag.StringVar(&cfg.compare, "compare", "", "JSON report of `lbm bench ingest --json` to compare with")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, cfg, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tessera: error: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.events <= 0 || cfg.people <= 0 || cfg.adders <= 0 || cfg.batch <= 0 {
		return errors.New("--events, --people, --adders and --batch must be positive")
	}
	var lbm *bench.Report
	if cfg.compare != "" {
		var err error
		if lbm, err = readReport(cfg.compare); err != nil {
			return err
		}
	}
	dir := cfg.dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tessera-bench-")
		if err != nil {
			return fmt.Errorf("creating log directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp + "/log"
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s exists; give a directory for a new log", dir)
	}
	lines, err := bench.Lines(cfg.events, cfg.people)
	if err != nil {
		return err
	}
	res, err := measure(ctx, cfg, dir, lines, bench.NewBar(stderr))
	if err != nil {
		return err
	}
	rep := &bench.Report{
		Title:    "Tessera v1.0.4 POSIX driver (storage/posix): fsync'd entry bundles, tiles and tree state",
		Settings: bench.NewSettings(cfg.events, cfg.people, cfg.batch, cfg.adders),
		Results:  []bench.Result{res},
	}
	rep.Settings.Notes = []string{
		"clients are adders: goroutines that each add one entry and await its IndexFuture",
		fmt.Sprintf("WithBatching(%d, %v), WithCheckpointInterval(%v), no antispam, no witnesses", cfg.batch, cfg.batchAge, cfg.interval),
		"one entry = one NDJSON line as generated: no parsing, salts or encryption",
	}
	if cfg.json {
		if err := rep.WriteJSON(stdout); err != nil {
			return err
		}
	} else if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if lbm != nil {
		fmt.Fprintln(stderr)
		printRatios(stderr, lbm, res)
	}
	return nil
}

// measure adds every line to a new POSIX log in dir and times it.
func measure(ctx context.Context, cfg config, dir string, lines [][]byte, progress bench.Progress) (bench.Result, error) {
	skey, _, err := note.GenerateKey(rand.Reader, "bench.lbm.local/tessera")
	if err != nil {
		return bench.Result{}, fmt.Errorf("generating checkpoint key: %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return bench.Result{}, fmt.Errorf("loading checkpoint key: %v", err)
	}
	driver, err := posix.New(ctx, posix.Config{Path: dir})
	if err != nil {
		return bench.Result{}, fmt.Errorf("opening POSIX storage: %v", err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithCheckpointInterval(cfg.interval).
		WithBatching(uint(cfg.batch), cfg.batchAge)
	// The appender's background work runs until lifeCtx ends, which must be
	// after shutdown has published the last checkpoint.
	lifeCtx, endLife := context.WithCancel(ctx)
	defer endLife()
	appender, shutdown, reader, err := tessera.NewAppender(lifeCtx, driver, opts)
	if err != nil {
		return bench.Result{}, fmt.Errorf("creating appender: %v", err)
	}

	var next, acked, failed atomic.Int64
	var bytes atomic.Int64
	var firstErr atomic.Pointer[error]
	latencies := make([][]time.Duration, cfg.adders)
	var wg sync.WaitGroup
	progress.Start("tessera", len(lines))
	start := time.Now()
	for k := range latencies {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(lines) {
					return
				}
				t0 := time.Now()
				_, err := appender.Add(ctx, tessera.NewEntry(lines[i]))()
				took := time.Since(t0)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				latencies[k] = append(latencies[k], took)
				acked.Add(1)
				bytes.Add(int64(len(lines[i])) + 1)
				progress.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	progress.Finish()

	if err := shutdown(ctx); err != nil {
		return bench.Result{}, fmt.Errorf("shutting down appender: %v", err)
	}
	if f := failed.Load(); f > 0 {
		return bench.Result{}, fmt.Errorf("%d of %d futures failed, the first with: %v", f, len(lines), *firstErr.Load())
	}
	if err := ctx.Err(); err != nil {
		return bench.Result{}, err
	}
	size, err := reader.IntegratedSize(ctx)
	if err != nil {
		return bench.Result{}, fmt.Errorf("reading tree size: %v", err)
	}
	cp, err := reader.ReadCheckpoint(ctx)
	if err != nil {
		return bench.Result{}, fmt.Errorf("reading checkpoint: %v", err)
	}
	cpSize, err := checkpointSize(cp)
	if err != nil {
		return bench.Result{}, err
	}
	n := acked.Load()
	if size != uint64(n) || cpSize != uint64(n) {
		return bench.Result{}, fmt.Errorf("log has size %d and checkpoint %d, but %d entries were acknowledged", size, cpSize, n)
	}
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	res := bench.NewResult("tessera", int(n), bytes.Load(), elapsed, "entry", all)
	res.Engine = "posix"
	res.LogSize = size
	return res, nil
}

// checkpointSize returns the tree size of a C2SP signed-note checkpoint: the
// second line of its body.
func checkpointSize(cp []byte) (uint64, error) {
	lines := strings.SplitN(string(cp), "\n", 3)
	if len(lines) < 3 {
		return 0, errors.New("reading checkpoint: too few lines")
	}
	n, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading checkpoint size: %v", err)
	}
	return n, nil
}

func readReport(path string) (*bench.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading lbm report: %w", err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("reading lbm report %s: %v", path, err)
	}
	return &rep, nil
}

// printRatios prints lbm's throughput in each of its runs over Tessera's.
func printRatios(w io.Writer, lbm *bench.Report, t bench.Result) {
	if lbm.Settings.Events != t.Events {
		fmt.Fprintf(w, "note: lbm ingested %d events, Tessera %d\n", lbm.Settings.Events, t.Events)
	}
	for _, res := range lbm.Results {
		engine := res.Engine
		if engine == "" {
			engine = string(bench.SQLite) // a report from before there were engines
		}
		if t.EventsPerSecond > 0 {
			fmt.Fprintf(w, "lbm %s %s / tessera: %.0f / %.0f events/s = %.2fx\n",
				engine, res.Mode, res.EventsPerSecond, t.EventsPerSecond, res.EventsPerSecond/t.EventsPerSecond)
		}
	}
}
