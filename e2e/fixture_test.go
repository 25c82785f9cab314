package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

// fixtureEvents is how many events `lbm simulate --people 3 --seed 2` writes.
const fixtureEvents = 226

// lbmStore is where one node keeps everything: the data directory (signing
// keys, KEK, admin token and, for SQLite, the database files) and, for
// PostgreSQL, the events database's URL. The keys database is always the
// default one beside it (NAME_keys), so the tests pass --db alone, as an
// operator following the docs would.
type lbmStore struct {
	data string
	db   string // empty for SQLite
}

// flags are the arguments that point an lbm command at the store.
func (s lbmStore) flags() []string {
	if s.data == "" && s.db == "" {
		return nil // the zero store: the command is told where by other flags (serve --tenants)
	}
	if s.db == "" {
		return []string{"--data", s.data}
	}
	return []string{"--data", s.data, "--db", s.db}
}

// engine is a storage engine lbm runs on. Every test of behaviour runs once
// per engine (forEachEngine), because what a crash, a bad request or an
// attacker with write access to the database can do depends on the engine.
type engine struct {
	name string
	// available skips or fails the test when the engine cannot run here.
	available func(t *testing.T)
	// newDB returns the URL of a new events database (and its keys
	// database), a copy of template's unless template is empty; onEnd
	// registers its removal. "" for SQLite, whose files are in the data
	// directory.
	newDB func(t *testing.T, template string, onEnd func(func())) string
	// perEntry lists the tables holding one row per activity entry: a
	// refused batch must leave no row in any of them.
	perEntry []string
}

var engines = []engine{
	{
		name:      "sqlite",
		available: func(*testing.T) {},
		newDB:     func(*testing.T, string, func(func())) string { return "" },
		perEntry:  []string{"entries"},
	},
	{
		name:      "postgres",
		available: func(t *testing.T) { pgtest.Server(t) },
		newDB:     newDatabases,
		// entry_ids and client_ids are written in the entries' transaction
		// (they keep uniqueness across partitions): a half-stored batch would
		// show there first.
		perEntry: []string{"entries", "entry_ids", "client_ids"},
	},
}

// newStore returns a store that does not exist yet: lbm creates it.
func (e engine) newStore(t *testing.T) lbmStore {
	return lbmStore{data: filepath.Join(t.TempDir(), "data"), db: e.newDB(t, "", t.Cleanup)}
}

// clone copies a store that no process has open.
func (e engine) clone(t *testing.T, src lbmStore) lbmStore {
	return lbmStore{data: copyDir(t, src.data), db: e.newDB(t, src.db, t.Cleanup)}
}

// forEachEngine runs f as a subtest per engine, named after it.
func forEachEngine(t *testing.T, f func(t *testing.T, e engine)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			e.available(t)
			f(t, e)
		})
	}
}

// fixtures holds, per engine, a stopped server's store holding the
// simulator's 226 events, built once per run and never modified.
var fixtures = map[string]*fixture{}

type fixture struct {
	once  sync.Once
	st    lbmStore
	saved string // a checkpoint fetched from the running server, covering every event
}

func init() {
	for _, e := range engines {
		fixtures[e.name] = &fixture{}
	}
}

// newFixture returns a fresh copy of a store on engine e holding the
// simulator's 226 events (with content), written through a real server that
// was then stopped, and the path of a checkpoint saved from that server.
func newFixture(t *testing.T, e engine) (st lbmStore, saved string) {
	t.Helper()
	f := fixtures[e.name]
	f.once.Do(func() {
		dir := filepath.Join(tmpRoot, "fixture-"+e.name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		// It outlives the test that builds it: its databases are dropped
		// when the run ends, its directory with tmpRoot.
		st := lbmStore{
			data: filepath.Join(dir, "data"),
			db:   e.newDB(t, "", func(drop func()) { atExit = append(atExit, drop) }),
		}
		events := filepath.Join(dir, "events.ndjson")
		lbmOK(t, nil, "simulate", "--people", "3", "--seed", "2", "-o", events)
		srv := startServer(t, st)
		token := addSource(t, st, "pnc")
		r := lbmOK(t, []string{"LBM_SERVER=" + srv.URL, "LBM_TOKEN=" + token}, "ingest", "--quiet", events)
		if want := "accepted 226 events, 0 already stored, 0 retries\n"; r.stdout != want {
			t.Fatalf("lbm ingest printed %q, want %q", r.stdout, want)
		}
		note := srv.waitForSize(t, verifierKey(t, st.data), fixtureEvents)
		saved := filepath.Join(dir, "saved.checkpoint")
		if err := os.WriteFile(saved, note, 0o600); err != nil {
			t.Fatal(err)
		}
		srv.stop()
		r = lbmOK(t, nil, verifyStore(st)...)
		if !strings.Contains(r.stdout, "OK: activity log: 226 entries") {
			t.Fatalf("lbm verify store on the fixture: %v", r)
		}
		f.st, f.saved = st, saved
	})
	if f.st.data == "" {
		t.Fatalf("building the %s fixture failed in an earlier test", e.name)
	}
	return e.clone(t, f.st), f.saved
}

// verifyStore is the command line of `lbm verify store --quiet` on st.
func verifyStore(st lbmStore) []string {
	return append([]string{"verify", "store", "--quiet"}, st.flags()...)
}

// atExit holds what run does after every test, such as dropping the
// PostgreSQL fixture, which no single test owns.
var atExit []func()

// newDatabases creates an events database and its keys database, copies
// of template's pair unless template is empty, and returns the events
// database's URL; onEnd registers dropping them. CREATE DATABASE ...
// TEMPLATE copies files, far quicker than ingesting again; it requires that
// no session be connected to the template, so templates are stopped stores.
func newDatabases(t *testing.T, template string, onEnd func(func())) string {
	t.Helper()
	admin := pgtest.Server(t)
	var b [6]byte
	rand.Read(b[:])
	name := "lbm_test_" + hex.EncodeToString(b[:])
	var from string
	if template != "" {
		cfg, err := pgx.ParseConfig(template)
		if err != nil {
			t.Fatal(err)
		}
		from = cfg.Database
	}
	for _, suffix := range []string{"", "_keys"} {
		db := pgx.Identifier{name + suffix}.Sanitize()
		sql := "CREATE DATABASE " + db
		if from != "" {
			sql += " TEMPLATE " + pgx.Identifier{from + suffix}.Sanitize()
		}
		if err := pgtest.Run(admin, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		onEnd(func() {
			// FORCE: a server a failed test left running still holds a pool.
			if err := pgtest.Run(admin, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
				fmt.Fprintf(os.Stderr, "dropping %s: %v\n", db, err)
			}
		})
	}
	return pgtest.WithDatabase(t, admin, name)
}
