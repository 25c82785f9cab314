package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fixtureEvents is how many events `lbm simulate --people 3 --seed 2` writes.
const fixtureEvents = 226

var fixture struct {
	once  sync.Once
	data  string // a stopped server's data directory; never modified
	saved string // a checkpoint fetched from the running server, covering every event
}

// newFixture returns a fresh copy of a data directory holding the
// simulator's 226 events (with content), written through a real server
// that was then stopped, and the path of a checkpoint saved from that
// server. The directory is built once per run; each caller gets a copy.
func newFixture(t *testing.T) (data, saved string) {
	t.Helper()
	fixture.once.Do(func() {
		dir := filepath.Join(tmpRoot, "fixture")
		data := filepath.Join(dir, "data")
		events := filepath.Join(dir, "events.ndjson")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		lbmOK(t, nil, "simulate", "--people", "3", "--seed", "2", "-o", events)
		srv := startServer(t, data)
		token := addSource(t, data, "pnc")
		r := lbmOK(t, []string{"LBM_SERVER=" + srv.URL, "LBM_TOKEN=" + token}, "ingest", "--quiet", events)
		if want := "accepted 226 events, 0 already stored, 0 retries\n"; r.stdout != want {
			t.Fatalf("lbm ingest printed %q, want %q", r.stdout, want)
		}
		note := srv.waitForSize(t, verifierKey(t, data), fixtureEvents)
		saved := filepath.Join(dir, "saved.checkpoint")
		if err := os.WriteFile(saved, note, 0o600); err != nil {
			t.Fatal(err)
		}
		srv.stop()
		r = lbmOK(t, nil, "verify", "store", "--quiet", "--data", data)
		if !strings.Contains(r.stdout, "OK: activity log: 226 entries") {
			t.Fatalf("lbm verify store on the fixture: %v", r)
		}
		fixture.data, fixture.saved = data, saved
	})
	if fixture.data == "" {
		t.Fatal("building the fixture failed in an earlier test")
	}
	return copyDir(t, fixture.data), fixture.saved
}
