package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	sqlite3 "modernc.org/sqlite"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, t.TempDir())
	})
}

// open opens the store in dir and closes it when the test ends.
func open(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open(%q) = %v", dir, err)
	}
	t.Cleanup(func() {
		// database/sql's Close is idempotent, so this holds after the
		// conformance suite's own Close too.
		if err := db.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return db
}

var (
	created = time.Date(2025, 6, 1, 9, 30, 0, 123456789, time.UTC)
	source  = store.Source{ID: "src-a", Created: created}
	token   = store.Token{Hash: []byte("0123456789abcdef0123456789abcdef"), Kind: "source", Subject: "src-a", Created: created}
	dataKey = store.DataKey{ID: []byte("dk-0123456789abc"), Subject: "alice", Period: "2025-06", KEKID: "kek-1", Wrapped: []byte("wrapped"), Created: created}
	entry   = store.Entry{Log: "activity", Index: 0, ID: [16]byte{1}, Time: created.UnixNano(), Source: "src-a", Subject: "alice", Leaf: []byte("leaf"), Meta: []byte("meta")}
)

// fill stores one of everything in db.
func fill(t *testing.T, db *DB) {
	t.Helper()
	ctx := t.Context()
	if err := db.AddSource(ctx, source, token); err != nil {
		t.Fatalf("AddSource = %v", err)
	}
	if err := db.AddDataKey(ctx, dataKey); err != nil {
		t.Fatalf("AddDataKey = %v", err)
	}
	err := db.UpdateLog(ctx, "activity", func(tx store.LogTx) error {
		return tx.Append(ctx, []store.Entry{entry}, nil, store.TreeState{Size: 1, Root: make([]byte, 32), Range: [][]byte{make([]byte, 32)}})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
}

// migrationRows returns the schema_migrations table of d.
func migrationRows(t *testing.T, d *sql.DB) map[string]int64 {
	t.Helper()
	rows, err := d.QueryContext(t.Context(), `SELECT version, applied FROM schema_migrations`)
	if err != nil {
		t.Fatalf("reading schema_migrations: %v", err)
	}
	defer rows.Close()
	m := make(map[string]int64)
	for rows.Next() {
		var v string
		var applied int64
		if err := rows.Scan(&v, &applied); err != nil {
			t.Fatalf("reading schema_migrations: %v", err)
		}
		m[v] = applied
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reading schema_migrations: %v", err)
	}
	return m
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open(%q) = %v", dir, err)
	}
	fill(t, db)
	logMigrations, keyMigrations := migrationRows(t, db.w), migrationRows(t, db.keys)
	for _, c := range []struct {
		dir  string
		rows map[string]int64
	}{{"migrations/logs", logMigrations}, {"migrations/keys", keyMigrations}} {
		files, err := fs.Glob(migrations, c.dir+"/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.rows) != len(files) || len(files) == 0 {
			t.Errorf("schema_migrations for %s has %d rows, want one per file (%d)", c.dir, len(c.rows), len(files))
		}
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	// Reopen twice: were a migration applied again, its CREATE TABLE would
	// fail, or its applied time would change.
	for i := range 2 {
		db := open(t, dir)
		if diff := cmp.Diff(logMigrations, migrationRows(t, db.w)); diff != "" {
			t.Errorf("reopen %d: lbm.db schema_migrations changed (-before +after):\n%s", i, diff)
		}
		if diff := cmp.Diff(keyMigrations, migrationRows(t, db.keys)); diff != "" {
			t.Errorf("reopen %d: keys.db schema_migrations changed (-before +after):\n%s", i, diff)
		}
		ctx := t.Context()
		if got, err := db.ListSources(ctx); err != nil || !cmp.Equal([]store.Source{source}, got) {
			t.Errorf("reopen %d: ListSources() = %v, %v; want [%v]", i, got, err, source)
		}
		if got, err := db.TokenByHash(ctx, token.Hash); err != nil || !cmp.Equal(token, got) {
			t.Errorf("reopen %d: TokenByHash() = %v, %v; want %v", i, got, err, token)
		}
		if got, err := db.DataKeyByID(ctx, dataKey.ID); err != nil || !cmp.Equal(dataKey, got) {
			t.Errorf("reopen %d: DataKeyByID() = %v, %v; want %v", i, got, err, dataKey)
		}
		if got, err := db.EntryByID(ctx, entry.ID); err != nil || !cmp.Equal(entry, got) {
			t.Errorf("reopen %d: EntryByID() = %v, %v; want %v", i, got, err, entry)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("reopen %d: Close() = %v", i, err)
		}
	}
}

// tables returns the names of the tables in the SQLite file at path,
// opened with nothing but database/sql and the driver.
func tables(t *testing.T, path string) map[string]bool {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	defer d.Close()
	rows, err := d.QueryContext(t.Context(), `SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		t.Fatalf("listing tables of %s: %v", path, err)
	}
	defer rows.Close()
	m := make(map[string]bool)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("listing tables of %s: %v", path, err)
		}
		m[name] = true
	}
	return m
}

func TestDataKeysInKeysDB(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	fill(t, db)

	keysPath := filepath.Join(dir, "keys.db")
	d, err := sql.Open("sqlite", "file:"+keysPath+"?mode=ro")
	if err != nil {
		t.Fatalf("opening keys.db: %v", err)
	}
	defer d.Close()
	var subject, period string
	err = d.QueryRowContext(t.Context(), `SELECT subject, period FROM data_keys WHERE id = ?`, dataKey.ID).Scan(&subject, &period)
	if err != nil || subject != dataKey.Subject || period != dataKey.Period {
		t.Errorf("data_keys row %q in keys.db = (%q, %q), %v; want (%q, %q)", dataKey.ID, subject, period, err, dataKey.Subject, dataKey.Period)
	}

	for _, c := range []struct {
		file  string
		table string
		want  bool
	}{
		{"lbm.db", "data_keys", false},
		{"lbm.db", "entries", true},
		{"lbm.db", "tokens", true},
		{"keys.db", "data_keys", true},
		{"keys.db", "entries", false},
		{"keys.db", "tokens", false},
	} {
		if got := tables(t, filepath.Join(dir, c.file))[c.table]; got != c.want {
			t.Errorf("%s has table %s = %v, want %v", c.file, c.table, got, c.want)
		}
	}
}

func TestTranslate(t *testing.T) {
	ctx := t.Context()
	d, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetMaxOpenConns(1) // one connection, one in-memory database
	_, err = d.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, u TEXT UNIQUE, n TEXT NOT NULL, c TEXT CHECK (c = 'ok'))`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO t (id, u, n, c) VALUES (1, 'a', 'x', 'ok')`); err != nil {
		t.Fatal(err)
	}
	sqlErr := func(q string) error {
		t.Helper()
		_, err := d.ExecContext(ctx, q)
		if err == nil {
			t.Fatalf("%s succeeded, want an error", q)
		}
		return err
	}
	noRows := d.QueryRowContext(ctx, `SELECT id FROM t WHERE id = 2`).Scan(new(int))

	tests := []struct {
		name string
		in   error
		want error // nil: none of the sentinels
	}{
		{"no rows", noRows, store.ErrNotFound},
		{"wrapped no rows", fmt.Errorf("reading: %w", sql.ErrNoRows), store.ErrNotFound},
		{"primary key", sqlErr(`INSERT INTO t (id, u, n) VALUES (1, 'b', 'x')`), store.ErrExists},
		{"unique", sqlErr(`INSERT INTO t (id, u, n) VALUES (2, 'a', 'x')`), store.ErrExists},
		{"not null", sqlErr(`INSERT INTO t (id, u, n) VALUES (3, 'c', NULL)`), nil},
		{"check", sqlErr(`INSERT INTO t (id, u, n, c) VALUES (4, 'd', 'x', 'bad')`), nil},
		{"syntax", sqlErr(`INSERT INTO`), nil},
		{"canceled", context.Canceled, context.Canceled},
		{"deadline", fmt.Errorf("querying: %w", context.DeadlineExceeded), context.DeadlineExceeded},
	}
	sentinels := []error{store.ErrNotFound, store.ErrExists, store.ErrConflict}
	for _, tt := range tests {
		got := translate(tt.in)
		if got == nil {
			t.Errorf("translate(%s: %v) = nil, want an error", tt.name, tt.in)
			continue
		}
		for _, s := range sentinels {
			if errors.Is(got, s) != (s == tt.want) {
				t.Errorf("translate(%s: %v) = %v; errors.Is(%v) = %v, want %v", tt.name, tt.in, got, s, !(s == tt.want), s == tt.want)
			}
		}
		if tt.want != nil && !errors.Is(got, tt.want) {
			t.Errorf("translate(%s: %v) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
		// No driver type leaks above internal/store.
		var se *sqlite3.Error
		if errors.As(got, &se) {
			t.Errorf("translate(%s: %v) = %v, which still holds a *sqlite.Error", tt.name, tt.in, got)
		}
	}
	if err := translate(nil); err != nil {
		t.Errorf("translate(nil) = %v, want nil", err)
	}
}
