package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRun runs both modes on a few thousand events and checks the counts.
// It asserts nothing about speed: machines are noisy.
func TestRun(t *testing.T) {
	const n = 3000
	var out bytes.Buffer
	rep, err := Run(t.Context(), Config{Events: n, People: 50, Clients: 4, Batch: 250, DataDir: t.TempDir(), Progress: NewBar(&out)})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("Run() gave %d results, want 2", len(rep.Results))
	}
	for _, res := range rep.Results {
		if res.Events != n || res.LogSize != n {
			t.Errorf("%s: %d events acknowledged, log size %d, want %d and %d", res.Mode, res.Events, res.LogSize, n, n)
		}
		if want := (n + 249) / 250; res.Samples != want {
			t.Errorf("%s: %d latency samples, want %d", res.Mode, res.Samples, want)
		}
		if res.Bytes < n*100 || res.EventsPerSecond <= 0 || res.P99Millis < res.P50Millis {
			t.Errorf("%s: implausible result %+v", res.Mode, res)
		}
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"inprocess", "http", "GOMAXPROCS", rep.Settings.Go} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("WriteText() output lacks %q:\n%s", want, text.String())
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

// benchmark measures one mode on b.N events; ns/op is per event.
func benchmark(b *testing.B, run func(*testing.B, Config, [][]byte) (Result, error)) {
	b.StopTimer()
	lines, err := Lines(b.N, 1000)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(ndjsonBytes(lines) / int64(len(lines)))
	res, err := run(b, Config{Events: b.N, DataDir: b.TempDir(), Timer: b}, lines)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.EventsPerSecond, "events/s")
	b.ReportMetric(res.P99Millis, "p99-ms")
}

func BenchmarkIngestInProcess(b *testing.B) {
	benchmark(b, func(b *testing.B, cfg Config, lines [][]byte) (Result, error) {
		return RunInProcess(b.Context(), cfg, lines)
	})
}

func BenchmarkIngestHTTP(b *testing.B) {
	benchmark(b, func(b *testing.B, cfg Config, lines [][]byte) (Result, error) {
		return RunHTTP(b.Context(), cfg, lines)
	})
}
