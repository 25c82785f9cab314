package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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
func open(t testing.TB) *DB {
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

// TestMigrateTokens opens a database made before migration 0002 and checks
// its tokens survive with the new fields zero, and that the table takes
// the new kinds.
func TestMigrateTokens(t *testing.T) {
	ctx := t.Context()
	dsn, keysDSN := pgtest.Databases(t)
	created := time.Date(2025, 6, 1, 9, 30, 0, 123456789, time.UTC)
	admin := store.Token{Hash: []byte("admin-hash-0123456789abcdef01234"), Kind: "admin", Subject: "admin", Created: created}
	source := store.Token{Hash: []byte("source-hash-0123456789abcdef0123"), Kind: "source", Subject: "src-a", Created: created}
	body, err := migrations.ReadFile("migrations/logs/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	setup := `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied bigint NOT NULL);
		INSERT INTO schema_migrations VALUES ('0001_init', 1);` + string(body)
	for _, tok := range []store.Token{admin, source} {
		setup += fmt.Sprintf("\nINSERT INTO tokens (hash, kind, subject, created) VALUES ('\\x%x', '%s', '%s', %d);", tok.Hash, tok.Kind, tok.Subject, tok.Created.UnixNano())
	}
	pgtest.Exec(t, dsn, setup)

	db, err := Open(ctx, Config{DSN: dsn, KeysDSN: keysDSN})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer db.Close()
	for _, want := range []store.Token{admin, source} {
		if got, err := db.TokenByHash(ctx, want.Hash); err != nil || !cmp.Equal(want, got) {
			t.Errorf("TokenByHash(%s) after migrating = %+v, %v; want %+v", want.Kind, got, err, want)
		}
	}
	session := store.Token{Hash: []byte("session-hash-0123456789abcdef012"), Kind: "session", Subject: "p-1", Role: "staff", Created: created, Expires: created.Add(time.Hour)}
	if err := db.AddToken(ctx, session); err != nil {
		t.Fatalf("AddToken(session) after migrating = %v", err)
	}
	bad := store.Token{Hash: []byte("bad-hash-0123456789abcdef0123456"), Kind: "robot", Subject: "r", Created: created}
	if err := db.AddToken(ctx, bad); err == nil {
		t.Errorf("AddToken(kind robot) = nil, want the kind refused")
	}
	if n, err := db.RevokeTokensOf(ctx, "src-a", []string{"source"}, created); err != nil || n != 1 {
		t.Errorf("RevokeTokensOf(src-a) after migrating = %d, %v; want 1", n, err)
	}
}

// TestPutPeopleHalfWay cancels PutPeople's context once the batch is
// copied into the temporary table, and checks the merge stores nothing.
func TestPutPeopleHalfWay(t *testing.T) {
	db := open(t)
	base := storetest.HRImport(10, "")
	if _, _, err := db.PutPeople(t.Context(), base); err != nil {
		t.Fatalf("PutPeople = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	db.testingOnlyAfterPeopleCopy = cancel
	added, changed, err := db.PutPeople(ctx, storetest.AtVersion(storetest.HRImport(500, " (renamed)"), len(base), 1))
	db.testingOnlyAfterPeopleCopy = nil
	if !errors.Is(err, context.Canceled) || added != 0 || changed != 0 {
		t.Errorf("PutPeople canceled half-way = %d, %d, %v; want 0, 0, context.Canceled", added, changed, err)
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
	if added, changed, err := db.PutPeople(t.Context(), storetest.AtVersion(storetest.HRImport(20, ""), len(base), 1)); err != nil || added != 10 || changed != 0 {
		t.Errorf("PutPeople after a canceled one = %d, %d, %v; want 10, 0, nil", added, changed, err)
	}
}

// TestPeopleByteOrder runs on an events database whose default collation
// is English (ICU), under which "hr-1" sorts before "HR-2" and ILIKE folds
// "É" to "é": people, changes, subject access requests and stored requests
// must still be ordered and paged in byte order of their IDs, the
// unacknowledged in byte order of unit, manager and ID, and people
// searched ignoring ASCII case only, as on SQLite.
func TestPeopleByteOrder(t *testing.T) {
	ctx := t.Context()
	admin := pgtest.Server(t)
	name := fmt.Sprintf("lbm_test_icu_%d", time.Now().UnixNano())
	if err := pgtest.Run(admin, `CREATE DATABASE `+name+` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en'`); err != nil {
		t.Skipf("no ICU collation on the test server: %v", err)
	}
	t.Cleanup(func() { pgtest.Exec(t, admin, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	keysDSN := pgtest.CreateDatabase(t, admin, name+"_keys")
	db, err := Open(ctx, Config{DSN: pgtest.WithDatabase(t, admin, name), KeysDSN: keysDSN})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer db.Close()

	updated := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	ps := []store.Person{
		{ID: "HR-0007", Name: "Grace", Updated: updated, Version: 1},
		{ID: "hr-0001", Name: "Dan Évora", Updated: updated, Version: 1},
		{ID: "hr-0002", Name: "Erin", Updated: updated, Version: 1},
	}
	if _, _, err := db.PutPeople(ctx, storetest.AtVersion(ps, len(ps), 0)); err != nil {
		t.Fatalf("PutPeople = %v", err)
	}
	tests := []struct {
		q    store.PeopleQuery
		want []store.Person
	}{
		{store.PeopleQuery{}, ps},
		{store.PeopleQuery{After: "HR-0007"}, ps[1:]},
		{store.PeopleQuery{After: "hr-0001"}, ps[2:]},
		{store.PeopleQuery{Text: "Évora"}, ps[1:2]},
		{store.PeopleQuery{Text: "évora"}, nil},
	}
	for _, tt := range tests {
		got, err := db.ListPeople(ctx, tt.q)
		if err != nil {
			t.Errorf("ListPeople(%+v) = %v", tt.q, err)
		} else if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ListPeople(%+v) mismatch (-want +got):\n%s", tt.q, diff)
		}
	}

	var want []store.Change
	for _, id := range []string{"c-B", "c-a"} {
		c := store.Change{ID: id, Kind: "person", Target: "hr-0001", Base: 1, Proposed: updated, State: "pending"}
		if err := db.AddChange(ctx, c); err != nil {
			t.Fatalf("AddChange(%s) = %v", id, err)
		}
		want = append([]store.Change{c}, want...)
	}
	got, err := db.ListChanges(ctx, "")
	if err != nil {
		t.Fatalf("ListChanges = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListChanges of one instant, not in descending byte order of ID (-want +got):\n%s", diff)
	}

	// Unacknowledged orders by manager too, a column people keeps in the
	// database's collation: under English "m-a" would come before "m-B".
	more := []store.Person{
		{ID: "hr-0003", Name: "Fay", Unit: "Z", Manager: "m-a", Updated: updated, Version: 1},
		{ID: "hr-0004", Name: "Gus", Unit: "Z", Manager: "m-B", Updated: updated, Version: 1},
	}
	if _, _, err := db.PutPeople(ctx, storetest.AtVersion(more, len(more), 0)); err != nil {
		t.Fatalf("PutPeople = %v", err)
	}
	unacked, err := db.Unacknowledged(ctx, 1, updated)
	if err != nil {
		t.Fatalf("Unacknowledged = %v", err)
	}
	if diff := cmp.Diff(append(slices.Clone(ps), more[1], more[0]), unacked); diff != "" {
		t.Errorf("Unacknowledged, not in byte order of unit, manager and ID (-want +got):\n%s", diff)
	}

	var requests []store.SubjectAccessRequest
	for _, id := range []string{"sar-B", "sar-a"} {
		r := store.SubjectAccessRequest{ID: id, Person: "hr-0001", Made: updated, State: "received", Version: 1}
		if err := db.AddSubjectAccessRequest(ctx, r); err != nil {
			t.Fatalf("AddSubjectAccessRequest(%s) = %v", id, err)
		}
		requests = append([]store.SubjectAccessRequest{r}, requests...)
	}
	gotRequests, err := db.ListSubjectAccessRequests(ctx, "")
	if err != nil {
		t.Fatalf("ListSubjectAccessRequests = %v", err)
	}
	if diff := cmp.Diff(requests, gotRequests); diff != "" {
		t.Errorf("ListSubjectAccessRequests of one instant, not in descending byte order of ID (-want +got):\n%s", diff)
	}

	// Stored requests are paged by ID, alone and through the subjects
	// index: under English "req-a" would come before "req-B".
	var stored []store.StoredRequest
	for i, id := range []string{"req-a", "req-B"} {
		r := store.StoredRequest{ID: id, Reference: fmt.Sprintf("ACAC-2025-%04d", i+1), Requester: "hr-0002", Subjects: []string{"hr-0001"},
			State: "submitted", Created: updated, Updated: updated, Deadline: updated, Version: 1}
		if err := db.AddRequest(ctx, r); err != nil {
			t.Fatalf("AddRequest(%s) = %v", id, err)
		}
		stored = append([]store.StoredRequest{r}, stored...)
	}
	for _, q := range []store.RequestQuery{
		{},
		{Subject: "hr-0001"},
		{Requester: "hr-0002"},
		{State: "submitted"},
		{DueBy: updated},
	} {
		got, err := db.ListRequests(ctx, q)
		if err != nil {
			t.Fatalf("ListRequests(%+v) = %v", q, err)
		}
		if diff := cmp.Diff(stored, got); diff != "" {
			t.Errorf("ListRequests(%+v), not in byte order of ID (-want +got):\n%s", q, diff)
		}
		q.After = "req-B"
		got, err = db.ListRequests(ctx, q)
		if err != nil {
			t.Fatalf("ListRequests(%+v) = %v", q, err)
		}
		if diff := cmp.Diff(stored[1:], got); diff != "" {
			t.Errorf("ListRequests(%+v), not paged in byte order of ID (-want +got):\n%s", q, diff)
		}
	}
}

// BenchmarkPutPeople50k: see storetest.BenchmarkPutPeople50k.
func BenchmarkPutPeople50k(b *testing.B) {
	storetest.BenchmarkPutPeople50k(b, func(b *testing.B) store.People { return open(b) })
}

// BenchmarkUnacknowledged50k: see storetest.BenchmarkUnacknowledged50k.
func BenchmarkUnacknowledged50k(b *testing.B) {
	storetest.BenchmarkUnacknowledged50k(b, func(b *testing.B) store.Store { return open(b) })
}
