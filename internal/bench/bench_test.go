package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

// TestRun runs both modes on a few thousand events and checks the counts.
// It asserts nothing about speed: machines are noisy.
func TestRun(t *testing.T) {
	testRun(t, Config{}, SQLite)
}

// TestRunSyslog runs the syslog mode: every message sent ends up in the
// log, mapped by the built-in syslog mapping.
func TestRunSyslog(t *testing.T) {
	const n = 2000
	cfg := Config{Events: n, People: 50, Clients: 3, Batch: 250, DataDir: t.TempDir(), Modes: []Mode{Syslog}, Engines: []Engine{SQLite}}
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, ok := rep.Result(string(SQLite), string(Syslog))
	if !ok || res.Events != n || res.LogSize != n || res.EventsPerSecond <= 0 || res.Sample != "write" {
		t.Fatalf("syslog result %+v", res)
	}
}

// TestRunPostgres runs both modes on SQLite and PostgreSQL in one run, as
// `lbm bench ingest --db` does, and checks that the run dropped the
// databases it created.
func TestRunPostgres(t *testing.T) {
	admin := pgtest.Server(t)
	needPSQL(t)
	srv, err := newPGServer(admin)
	if err != nil {
		t.Fatal(err)
	}
	// Only this package makes lbm_bench_ databases, one test at a time.
	list := func() string {
		out, err := srv.query(t.Context(), "", `SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE datname LIKE 'lbm\_bench\_%'`)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := list()
	testRun(t, Config{DB: admin}, SQLite, PostgreSQL)
	if after := list(); after != before {
		t.Errorf("databases lbm_bench_* before the run: %q, after: %q", before, after)
	}
}

// needPSQL puts the test server's own client programs first on PATH, and
// skips (fails under LBM_REQUIRE_POSTGRES=1) when there is no psql.
func needPSQL(t testing.TB) {
	t.Helper()
	if dir := os.Getenv("LBM_TEST_POSTGRES_BIN"); dir != "" {
		t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	if _, err := exec.LookPath("psql"); err != nil {
		if os.Getenv("LBM_REQUIRE_POSTGRES") == "1" {
			t.Fatal("psql is neither in LBM_TEST_POSTGRES_BIN nor on PATH")
		}
		t.Skip("psql is neither in LBM_TEST_POSTGRES_BIN nor on PATH")
	}
}

func testRun(t *testing.T, cfg Config, engines ...Engine) {
	t.Helper()
	const n = 3000
	var out bytes.Buffer
	cfg.Events, cfg.People, cfg.Clients, cfg.Batch = n, 50, 4, 250
	cfg.DataDir, cfg.Progress = t.TempDir(), NewBar(&out)
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if want := 2 * len(engines); len(rep.Results) != want {
		t.Fatalf("Run() gave %d results, want %d", len(rep.Results), want)
	}
	for _, e := range engines {
		for _, m := range []Mode{InProcess, HTTP} {
			res, ok := rep.Result(string(e), string(m))
			if !ok {
				t.Errorf("Run() gave no result for %s on %s", m, e)
				continue
			}
			if res.Events != n || res.LogSize != n {
				t.Errorf("%s/%s: %d events acknowledged, log size %d, want %d and %d", e, m, res.Events, res.LogSize, n, n)
			}
			if want := (n + 249) / 250; res.Samples != want {
				t.Errorf("%s/%s: %d latency samples, want %d", e, m, res.Samples, want)
			}
			if res.Bytes < n*100 || res.EventsPerSecond <= 0 || res.P99Millis < res.P50Millis {
				t.Errorf("%s/%s: implausible result %+v", e, m, res)
			}
			// Every event is stored, sealed and encrypted: more than its
			// NDJSON, and a run commits at least one transaction.
			if res.StoreBytes < res.Bytes || res.Commits == 0 || res.WriterBusy <= 0 || res.WriterBusy > 1 {
				t.Errorf("%s/%s: implausible store or writer figures %+v", e, m, res)
			}
		}
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := []string{"inprocess", "http", "GOMAXPROCS", rep.Settings.Go}
	for _, e := range engines {
		want = append(want, string(e))
	}
	for _, w := range want {
		if !strings.Contains(text.String(), w) {
			t.Errorf("WriteText() output lacks %q:\n%s", w, text.String())
		}
	}
	t.Logf("\n%s", text.String())
}

// TestRefusesUsedDataDir checks that a mode refuses a log that already
// holds events, whose size could not then be checked.
func TestRefusesUsedDataDir(t *testing.T) {
	cfg := Config{Events: 10, People: 5, Batch: 5, Modes: []Mode{InProcess}, DataDir: t.TempDir()}
	if _, err := Run(t.Context(), cfg); err != nil {
		t.Fatalf("first Run() error = %v", err)
	}
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "already holds 10 events") {
		t.Errorf("second Run() error = %v, want one saying the log already holds 10 events", err)
	}
}

func TestLines(t *testing.T) {
	for _, tc := range []struct{ n, people int }{{1, 1}, {1000, 10}, {5000, 1000}, {20000, 50}} {
		a, err := Lines(tc.n, tc.people)
		if err != nil {
			t.Fatalf("Lines(%d, %d) error = %v", tc.n, tc.people, err)
		}
		if len(a) != tc.n {
			t.Errorf("Lines(%d, %d) gave %d lines", tc.n, tc.people, len(a))
		}
		b, _ := Lines(tc.n, tc.people)
		if !bytes.Equal(bytes.Join(a, nil), bytes.Join(b, nil)) {
			t.Errorf("Lines(%d, %d) twice gave different lines", tc.n, tc.people)
		}
	}
}

func TestQuantile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := quantile(d, tc.q); got != tc.want {
			t.Errorf("quantile(1..100, %v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("quantile(nil, 0.5) = %v, want 0", got)
	}
}

// benchmark measures one mode on engine e on b.N events; ns/op is per
// event.
func benchmark(b *testing.B, e Engine, run func(context.Context, Config, Engine, [][]byte) (Result, error)) {
	b.StopTimer()
	cfg := Config{Events: b.N, DataDir: b.TempDir(), Timer: b}
	if e == PostgreSQL {
		cfg.DB = pgtest.Server(b)
		needPSQL(b)
	}
	lines, err := Lines(b.N, 1000)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(ndjsonBytes(lines) / int64(len(lines)))
	res, err := run(b.Context(), cfg, e, lines)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.EventsPerSecond, "events/s")
	b.ReportMetric(res.P99Millis, "p99-ms")
	b.ReportMetric(res.WriterBusy, "writer-busy")
}

func BenchmarkIngestInProcess(b *testing.B) { benchmark(b, SQLite, RunInProcess) }

func BenchmarkIngestHTTP(b *testing.B) { benchmark(b, SQLite, RunHTTP) }

// The PostgreSQL benchmarks need LBM_TEST_POSTGRES, as the store tests do.
func BenchmarkIngestInProcessPostgres(b *testing.B) { benchmark(b, PostgreSQL, RunInProcess) }

func BenchmarkIngestHTTPPostgres(b *testing.B) { benchmark(b, PostgreSQL, RunHTTP) }
