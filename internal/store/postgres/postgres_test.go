package postgres

import (
	"errors"
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
	"github.com/lbm-project/lbm/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t)
	})
}

// open opens a store on two fresh databases and closes it when the test ends.
func open(t *testing.T) *DB {
	t.Helper()
	dsn, keysDSN := pgtest.Databases(t)
	db, err := Open(t.Context(), Config{DSN: dsn, KeysDSN: keysDSN})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReopen(t *testing.T) {
	dsn, keysDSN := pgtest.Databases(t)
	cfg := Config{DSN: dsn, KeysDSN: keysDSN}
	first, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	if !first.Created() {
		t.Errorf("first Open: Created() = false, want true")
	}
	e := store.Entry{Log: "activity", ID: [16]byte{1}, Time: 1, Source: "s", Subject: "alice", Leaf: []byte("leaf"), Meta: []byte("meta")}
	err = first.UpdateLog(t.Context(), "activity", func(tx store.LogTx) error {
		return tx.Append(t.Context(), []store.Entry{e}, nil, store.TreeState{Size: 1, Root: make([]byte, 32), Range: [][]byte{make([]byte, 32)}})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
	first.Close()

	cfg.MustExist = true
	again, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("second Open = %v", err)
	}
	defer again.Close()
	if again.Created() {
		t.Errorf("second Open: Created() = true, want false")
	}
	got, err := again.EntryByID(t.Context(), e.ID)
	if err != nil || got.Subject != "alice" {
		t.Errorf("EntryByID after reopening = %+v, %v; want the entry", got, err)
	}
	var migrations int
	if err := again.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&migrations); err != nil {
		t.Fatal(err)
	}
	if want := len(mustGlob(t, "migrations/logs/*.sql")); migrations != want {
		t.Errorf("schema_migrations has %d rows after two opens, want %d", migrations, want)
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	names, err := fs.Glob(migrations, pattern)
	if err != nil || len(names) == 0 {
		t.Fatalf("glob %s = %v, %v", pattern, names, err)
	}
	return names
}

// TestOpenRefuses checks the configurations Open must refuse, and that a
// refused Open leaves an empty database empty.
func TestOpenRefuses(t *testing.T) {
	dsn, keysDSN := pgtest.Databases(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no keys database", Config{DSN: dsn}, "both an events database and a keys database"},
		{"keys beside events", Config{DSN: dsn, KeysDSN: dsn}, "must not be the events database"},
		{"must exist", Config{DSN: dsn, KeysDSN: keysDSN, MustExist: true}, store.ErrNoStore.Error()},
		{"bad URL", Config{DSN: "postgres://u:hunter2@[::1/x", KeysDSN: keysDSN}, "not valid"},
	}
	for _, tt := range tests {
		db, err := Open(t.Context(), tt.cfg)
		if err == nil {
			db.Close()
			t.Errorf("%s: Open = nil, want an error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Open = %v, want it to say %q", tt.name, err, tt.want)
		}
		if tt.cfg.MustExist && !errors.Is(err, store.ErrNoStore) {
			t.Errorf("%s: Open = %v, want store.ErrNoStore", tt.name, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: Open = %v: the error shows the password", tt.name, err)
		}
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var tables int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("the events database has %d tables after refused opens, want 0", tables)
	}
}

// TestPasswordNotInErrors connects with a wrong password and checks the
// error names the failure but not the password.
func TestPasswordNotInErrors(t *testing.T) {
	admin := pgtest.Server(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	// Port 1 on loopback refuses at once; the URL still carries a password.
	u.User = url.UserPassword("lbm", "s3cret-pw")
	u.Host = "127.0.0.1:1"
	_, err = Open(t.Context(), Config{DSN: u.String(), KeysDSN: u.String() + "_keys"})
	if err == nil {
		t.Fatal("Open on a closed port = nil, want an error")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Open = %v: the error shows the password", err)
	}

	// Without a password there is nothing to hide, and the message must
	// still say where the connection failed.
	u.User = url.User("lbm")
	_, err = Open(t.Context(), Config{DSN: u.String(), KeysDSN: u.String() + "_keys"})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("Open without a password on a closed port = %v, want an error naming 127.0.0.1", err)
	}
}

// TestPartitionsByMonth checks entries land in the partition of their UTC
// month, created on first use, including the month before the epoch.
func TestPartitionsByMonth(t *testing.T) {
	db := open(t)
	times := []time.Time{
		time.Date(2026, 1, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), // 23:30 UTC on 31 January
	}
	var es []store.Entry
	for i, at := range times {
		es = append(es, store.Entry{Log: "activity", Index: uint64(i), ID: [16]byte{byte(i + 1)}, Time: at.UnixNano(), Source: "s", Subject: "alice", Leaf: []byte("l"), Meta: []byte("m")})
	}
	err := db.UpdateLog(t.Context(), "activity", func(tx store.LogTx) error {
		return tx.Append(t.Context(), es, nil, store.TreeState{Size: uint64(len(es)), Root: make([]byte, 32)})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
	want := map[string]int{"entries_202601": 2, "entries_202602": 1, "entries_196912": 1}
	rows, err := db.pool.Query(t.Context(), `SELECT tableoid::regclass::text, count(*) FROM entries GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		got[name] = n
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows per partition (-want +got):\n%s", diff)
	}
}

// TestPartitionRollback checks a partition made by a transaction that
// rolls back is made again by the next append, not assumed to exist.
func TestPartitionRollback(t *testing.T) {
	db := open(t)
	e := store.Entry{Log: "activity", ID: [16]byte{1}, Time: time.Date(2030, 5, 5, 0, 0, 0, 0, time.UTC).UnixNano(), Source: "s", Subject: "alice", Leaf: []byte("l"), Meta: []byte("m")}
	st := store.TreeState{Size: 1, Root: make([]byte, 32)}
	boom := errors.New("boom")
	err := db.UpdateLog(t.Context(), "activity", func(tx store.LogTx) error {
		if err := tx.Append(t.Context(), []store.Entry{e}, nil, st); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateLog = %v, want boom", err)
	}
	err = db.UpdateLog(t.Context(), "activity", func(tx store.LogTx) error {
		return tx.Append(t.Context(), []store.Entry{e}, nil, st)
	})
	if err != nil {
		t.Fatalf("UpdateLog after a rolled-back partition = %v", err)
	}
	if _, err := db.EntryByID(t.Context(), e.ID); err != nil {
		t.Errorf("EntryByID = %v", err)
	}
}
