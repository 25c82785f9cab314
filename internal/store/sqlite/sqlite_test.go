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
func open(t testing.TB, dir string) *DB {
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
		{"lbm.db", "people", true},
		{"lbm.db", "credentials", true},
		{"lbm.db", "changes", true},
		{"keys.db", "people", false},
		{"keys.db", "credentials", false},
		{"keys.db", "changes", false},
		{"lbm.db", "notices", true},
		{"lbm.db", "acknowledgements", true},
		{"lbm.db", "catalogue_versions", true},
		{"lbm.db", "subject_access_requests", true},
		{"keys.db", "notices", false},
		{"keys.db", "acknowledgements", false},
		{"keys.db", "catalogue_versions", false},
		{"keys.db", "subject_access_requests", false},
		{"lbm.db", "requests", true},
		{"lbm.db", "request_subjects", true},
		{"lbm.db", "request_numbers", true},
		{"keys.db", "requests", false},
		{"keys.db", "request_subjects", false},
		{"keys.db", "request_numbers", false},
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

// TestMigrateTokens opens a store made before migration 0003 and checks
// its tokens survive the rebuild of their table with the new fields zero,
// and that the rebuilt table takes the new kinds.
func TestMigrateTokens(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	old, err := openFile(filepath.Join(dir, "lbm.db"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, `CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"0001_init", "0002_terms"} {
		body, err := migrations.ReadFile("migrations/logs/" + version + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("applying %s: %v", version, err)
		}
		if _, err := old.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, 1)`, version); err != nil {
			t.Fatal(err)
		}
	}
	admin := store.Token{Hash: []byte("admin-hash-0123456789abcdef01234"), Kind: "admin", Subject: "admin", Created: created}
	for _, tok := range []store.Token{admin, token} {
		if _, err := old.ExecContext(ctx, `INSERT INTO tokens (hash, kind, subject, created) VALUES (?, ?, ?, ?)`, tok.Hash, tok.Kind, tok.Subject, tok.Created.UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db := open(t, dir)
	for _, want := range []store.Token{admin, token} {
		if got, err := db.TokenByHash(ctx, want.Hash); err != nil || !cmp.Equal(want, got) {
			t.Errorf("TokenByHash(%s) after migrating = %+v, %v; want %+v", want.Kind, got, err, want)
		}
	}
	session := store.Token{Hash: []byte("session-hash-0123456789abcdef012"), Kind: "session", Subject: "p-1", Role: "staff", Created: created, Expires: created.Add(time.Hour)}
	if err := db.AddToken(ctx, session); err != nil {
		t.Fatalf("AddToken(session) after migrating = %v", err)
	}
	if n, err := db.RevokeTokensOf(ctx, "src-a", []string{"source"}, created); err != nil || n != 1 {
		t.Errorf("RevokeTokensOf(src-a) after migrating = %d, %v; want 1", n, err)
	}
	var index string
	if err := db.r.QueryRowContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tokens' AND sql LIKE '%subject%'`).Scan(&index); err != nil {
		t.Errorf("no index on tokens(subject) after migrating: %v", err)
	}
}

// TestPutPeopleHalfWay cancels PutPeople's context after its first
// statement has stored people, and checks the transaction stores none.
func TestPutPeopleHalfWay(t *testing.T) {
	db := open(t, t.TempDir())
	base := storetest.HRImport(10, "")
	if _, _, err := db.PutPeople(t.Context(), base); err != nil {
		t.Fatalf("PutPeople = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	batches := 0
	db.testingOnlyAfterPeopleBatch = func() {
		batches++
		cancel()
	}
	added, changed, err := db.PutPeople(ctx, storetest.AtVersion(storetest.HRImport(3*peoplePerInsert, " (renamed)"), len(base), 1))
	db.testingOnlyAfterPeopleBatch = nil
	if !errors.Is(err, context.Canceled) || added != 0 || changed != 0 {
		t.Errorf("PutPeople canceled half-way = %d, %d, %v; want 0, 0, context.Canceled", added, changed, err)
	}
	if batches != 1 {
		t.Fatalf("PutPeople ran %d statements before failing, want 1", batches)
	}
	got, err := db.ListPeople(t.Context(), store.PeopleQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range base {
		base[i].Version = 1
	}
	if diff := cmp.Diff(base, got); diff != "" {
		t.Errorf("people after a canceled PutPeople (-want +got):\n%s", diff)
	}
	// The writer is free again.
	if added, changed, err := db.PutPeople(t.Context(), storetest.AtVersion(storetest.HRImport(20, ""), len(base), 1)); err != nil || added != 10 || changed != 0 {
		t.Errorf("PutPeople after a canceled one = %d, %d, %v; want 10, 0, nil", added, changed, err)
	}
}

// BenchmarkPutPeople50k: see storetest.BenchmarkPutPeople50k.
func BenchmarkPutPeople50k(b *testing.B) {
	storetest.BenchmarkPutPeople50k(b, func(b *testing.B) store.People { return open(b, b.TempDir()) })
}

// BenchmarkUnacknowledged50k: see storetest.BenchmarkUnacknowledged50k.
func BenchmarkUnacknowledged50k(b *testing.B) {
	storetest.BenchmarkUnacknowledged50k(b, func(b *testing.B) store.Store { return open(b, b.TempDir()) })
}
