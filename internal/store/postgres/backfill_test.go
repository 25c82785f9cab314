package postgres

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

// TestBackfill writes entries, puts them back in the state of a store
// written before migration 0007 (no category, action or related people),
// reopens, and checks Open filled them from meta so that QueryEvents finds
// them, across several batches and two months' partitions.
func TestBackfill(t *testing.T) {
	ctx := t.Context()
	defer func(n int) { backfillBatch = n }(backfillBatch)
	backfillBatch = 2

	dsn, keysDSN := pgtest.Databases(t)
	cfg := Config{DSN: dsn, KeysDSN: keysDSN}
	db, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	meta := func(fields ...string) []byte {
		var fs []event.Field
		for i := 0; i < len(fields); i += 2 {
			fs = append(fs, event.Field{Name: fields[i], Value: []byte(fields[i+1])})
		}
		return event.FormatFields(fs) // the names are given in order
	}
	start := time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC).UnixNano()
	mk := func(i uint64, subject, category, action string, related []string, m []byte) store.Entry {
		e := store.Entry{Log: "activity", Index: i, ID: [16]byte{byte(i + 1)}, Time: start + int64(i)*int64(time.Hour),
			Source: "s", Subject: subject, Leaf: []byte{byte(i)}, Meta: m, Category: category, Action: action, Related: related}
		return e
	}
	es := []store.Entry{
		mk(0, "alice", "email", "send", []string{"bob", "carol"},
			meta("event.action", `"send"`, "event.category", `"email"`, "related.user", `["carol","bob","carol"]`, "user.id", `"alice"`)),
		mk(1, "bob", "web", "visit", []string{"alice"},
			meta("event.action", `"visit"`, "event.category", `"web"`, "related.user", `"alice"`, "user.id", `"bob"`)),
		mk(2, "alice", "record_query", "", nil, meta("event.category", `"record_query"`, "user.id", `"alice"`)),
		// No category, and meta that does not parse: left as they are,
		// and Open does not fail on them.
		mk(3, "alice", "", "", nil, meta("user.id", `"alice"`)),
		mk(4, "alice", "", "", nil, []byte{0, 9, 'x'}),
		mk(5, "carol", "email", "receive", nil, meta("event.action", `"receive"`, "event.category", `"email"`, "user.id", `"carol"`)),
	}
	err = db.UpdateLog(ctx, "activity", func(tx store.LogTx) error {
		return tx.Append(ctx, es, nil, store.TreeState{Size: uint64(len(es)), Root: make([]byte, 32)})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
	db.Close()
	// Before 0007 there was no entry_related; 0008 found nothing to copy.
	pgtest.Exec(t, dsn, `UPDATE entries SET category = '', action = '', related = NULL`)
	pgtest.Exec(t, dsn, `DELETE FROM entry_related`)

	for range 2 { // the second Open finds nothing left to fill
		db, err = Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open after resetting entries = %v", err)
		}
		got, err := db.QueryEvents(ctx, store.EventQuery{Logs: []string{"activity"}, People: []string{"alice"},
			Categories: []string{"email", "record_query", "web"}, From: math.MinInt64, To: math.MaxInt64})
		if err != nil {
			t.Fatalf("QueryEvents = %v", err)
		}
		if diff := cmp.Diff([]store.Entry{es[0], es[1], es[2]}, got); diff != "" {
			t.Errorf("QueryEvents after backfilling (-want +got):\n%s", diff)
		}
		all, err := db.Entries(ctx, "activity", 0, uint64(len(es)))
		if err != nil {
			t.Fatalf("Entries = %v", err)
		}
		if diff := cmp.Diff(es, all); diff != "" {
			t.Errorf("Entries after backfilling (-want +got):\n%s", diff)
		}
		db.Close()
	}
}

// TestFillRelated puts a store back in the state of one written before
// migration 0008 (entries.related set, no entry_related table), reopens,
// and checks that Open migrated it, made the twin partitions and filled
// both months, across several batches, so that QueryEvents finds related
// people again; then that an interrupted fill resumes from its cursor;
// then that an append to a month whose twin is missing makes it.
func TestFillRelated(t *testing.T) {
	ctx := t.Context()
	defer func(n int) { relatedFillBatch = n }(relatedFillBatch)
	relatedFillBatch = 2

	dsn, keysDSN := pgtest.Databases(t)
	cfg := Config{DSN: dsn, KeysDSN: keysDSN}
	db, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	start := time.Date(2026, 3, 31, 21, 0, 0, 0, time.UTC).UnixNano()
	mk := func(i uint64, subject string, related ...string) store.Entry {
		return store.Entry{Log: "activity", Index: i, ID: [16]byte{byte(i + 1)}, Time: start + int64(i)*int64(time.Hour),
			Source: "s", Subject: subject, Leaf: []byte{byte(i)}, Meta: []byte{byte(i)}, Category: "email", Action: "send", Related: related}
	}
	es := []store.Entry{
		mk(0, "alice", "bob", "carol"),
		mk(1, "bob", "carol"),
		mk(2, "alice"),
		mk(3, "dave", "carol"), // April from here
		mk(4, "bob", "alice", "carol"),
		mk(5, "carol"),
		mk(6, "dave", "carol"),
	}
	err = db.UpdateLog(ctx, "activity", func(tx store.LogTx) error {
		return tx.Append(ctx, es, nil, store.TreeState{Size: uint64(len(es)), Root: make([]byte, 32)})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
	db.Close()

	// check opens the store and checks that every entry is found through
	// each person it names, then closes it.
	check := func(when string) {
		t.Helper()
		db, err := Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open %s = %v", when, err)
		}
		defer db.Close()
		for _, p := range []string{"alice", "bob", "carol", "dave"} {
			var want []store.Entry
			for _, e := range es {
				if e.Subject == p || slices.Contains(e.Related, p) {
					want = append(want, e)
				}
			}
			got, err := db.QueryEvents(ctx, store.EventQuery{Logs: []string{"activity"}, People: []string{p},
				Categories: []string{"email"}, From: math.MinInt64, To: math.MaxInt64})
			if err != nil {
				t.Fatalf("%s: QueryEvents(%s) = %v", when, p, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: QueryEvents(%s) (-want +got):\n%s", when, p, diff)
			}
		}
		var rows, marks int
		if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM entry_related), (SELECT count(*) FROM entry_related_fill)`).Scan(&rows, &marks); err != nil {
			t.Fatal(err)
		}
		if rows != 7 || marks != 0 {
			t.Errorf("%s: %d entry_related rows and %d fill markers, want 7 and 0", when, rows, marks)
		}
	}

	// Back to the schema of 0007, which Open migrates again.
	for _, sql := range []string{
		`DROP TABLE entry_related`, // and its partitions
		`DROP TABLE entry_related_fill`,
		`DROP INDEX entries_subject_scan`,
		`CREATE INDEX entries_subject_time ON entries (subject, time)`,
		`CREATE INDEX entries_related ON entries USING gin (related) WHERE related IS NOT NULL`,
		`DELETE FROM schema_migrations WHERE version = '0008_event_scan'`,
	} {
		pgtest.Exec(t, dsn, sql)
	}
	check("after migrating and filling")
	check("again") // nothing left to fill

	// Interrupted after entry 1 of March: what was done stays, the rest is
	// filled.
	pgtest.Exec(t, dsn, `DELETE FROM entry_related WHERE idx > 1`)
	pgtest.Exec(t, dsn, `INSERT INTO entry_related_fill (part, log, idx) VALUES ('entries_202603', 'activity', 1)`)
	check("after resuming")

	// A month whose twin is missing, with no fill to make it, gets it on
	// the next append there.
	pgtest.Exec(t, dsn, `DROP TABLE entry_related_202604`)
	db, err = Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	e := mk(7, "erin", "carol")
	err = db.UpdateLog(ctx, "activity", func(tx store.LogTx) error {
		return tx.Append(ctx, []store.Entry{e}, nil, store.TreeState{Size: uint64(len(es)) + 1, Root: make([]byte, 32)})
	})
	if err != nil {
		t.Fatalf("UpdateLog appending to a month with no twin = %v", err)
	}
	got, err := db.QueryEvents(ctx, store.EventQuery{Logs: []string{"activity"}, People: []string{"carol"},
		Categories: []string{"email"}, From: e.Time, To: e.Time + 1})
	if err != nil || len(got) != 1 || got[0].Index != 7 {
		t.Errorf("QueryEvents after appending to a month with no twin = %v, %v; want entry 7", got, err)
	}
	db.Close()
}
