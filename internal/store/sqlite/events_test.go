package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/store"
)

// oldEntries returns entries of the activity log built as internal/record
// builds them, from the events of internal/event's testdata that parse.
func oldEntries(t *testing.T) []store.Entry {
	t.Helper()
	data, err := os.ReadFile("../../event/testdata/events.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	var es []store.Entry
	for line := range bytes.Lines(data) {
		e, err := event.Parse(bytes.TrimSpace(line), "src-a")
		if err != nil {
			continue
		}
		i := uint64(len(es))
		sum := sha256.Sum256(line)
		copy(e.ID[:], sum[:])
		for j := range e.Fields {
			e.Fields[j].Salt[0] = byte(j)
		}
		meta, _ := event.Split(e.Fields)
		es = append(es, store.Entry{
			Log:      "activity",
			Index:    i,
			ID:       e.ID,
			Time:     e.Time.UnixNano(),
			Source:   e.Source,
			Subject:  e.Subject(),
			ClientID: e.ClientID(),
			Leaf:     sum[:],
			Meta:     event.FormatFields(meta),
			Category: e.Category(),
			Action:   e.Action(),
			Related:  e.Related(),
		})
	}
	// The backfill must meet at least one of each: a category, and related
	// people as a string and as an array.
	var cats, related int
	for _, e := range es {
		if e.Category != "" {
			cats++
		}
		if len(e.Related) > 0 {
			related++
		}
	}
	if len(es) < 4 || cats < 2 || related < 2 {
		t.Fatalf("testdata gave %d entries, %d with a category and %d with related people; want more", len(es), cats, related)
	}
	return es
}

// TestBackfillEvents stores entries as a store before migration 0008
// held them (no category, action or related people), cuts the backfill
// short after one batch, and checks that reopening completes it and that
// QueryEvents then finds them.
func TestBackfillEvents(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	want := oldEntries(t)
	db := open(t, dir)
	appendEntries(t, db, want)
	makeOld := func() {
		t.Helper()
		for _, q := range []string{
			`UPDATE entries SET category = '', action = '', related = NULL`,
			`DELETE FROM entry_related`,
			`INSERT INTO event_backfill (cursor) VALUES (-1)`,
		} {
			if _, err := db.w.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	makeOld()

	defer func(n int) { backfillBatch = n }(backfillBatch)
	backfillBatch = 2
	cut, cancel := context.WithCancel(ctx)
	db.testingOnlyAfterBackfillBatch = cancel
	if err := db.backfillEvents(cut); !errors.Is(err, context.Canceled) {
		t.Fatalf("backfillEvents cut short = %v, want context.Canceled", err)
	}
	var filled int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE category != ''`).Scan(&filled); err != nil {
		t.Fatal(err)
	}
	if filled == 0 || filled > backfillBatch {
		t.Errorf("after one batch of %d, %d entries have a category", backfillBatch, filled)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for i := range 2 { // the second Open finds nothing left to do
		db = open(t, dir)
		got, err := db.Entries(ctx, "activity", 0, uint64(len(want)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("open %d: Entries after the backfill (-want +got):\n%s", i, diff)
		}
		var pending int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM event_backfill`).Scan(&pending); err != nil || pending != 0 {
			t.Errorf("open %d: event_backfill holds %d rows, %v; want none", i, pending, err)
		}
		for _, e := range want {
			for _, p := range append([]string{e.Subject}, e.Related...) {
				if e.Category == "" {
					continue
				}
				q := store.EventQuery{Logs: []string{"activity"}, People: []string{p}, Categories: []string{e.Category}, From: math.MinInt64, To: math.MaxInt64}
				got, err := db.QueryEvents(ctx, q)
				if err != nil || !containsID(got, e.ID) {
					t.Errorf("open %d: QueryEvents(%s, %s) = %d entries, %v; want entry %d among them", i, p, e.Category, len(got), err, e.Index)
				}
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateEventScan puts a store back as migration 0009 found it (the
// (subject, time) index, and entry_related rows without category, source
// or action) and checks that reopening it gives every related row its
// entry's columns, so that the related side of a query filters on them.
func TestMigrateEventScan(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	want := oldEntries(t)
	db := open(t, dir)
	appendEntries(t, db, want)
	for _, q := range []string{
		`DROP INDEX entries_subject_scan`,
		`CREATE INDEX entries_subject_time ON entries (subject, time)`,
		`CREATE TABLE entry_related_0008 (log TEXT NOT NULL, idx INTEGER NOT NULL, person TEXT NOT NULL, time INTEGER NOT NULL,
			PRIMARY KEY (log, person, time, idx)) WITHOUT ROWID`,
		`INSERT INTO entry_related_0008 SELECT log, idx, person, time FROM entry_related`,
		`DROP TABLE entry_related`,
		`ALTER TABLE entry_related_0008 RENAME TO entry_related`,
		`DELETE FROM schema_migrations WHERE version = '0009_event_scan'`,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open(t, dir)
	var rows, related int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM entry_related r JOIN entries e ON e.log = r.log AND e.idx = r.idx
		WHERE r.time = e.time AND r.category = e.category AND r.source = e.source AND r.action = e.action`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	for _, e := range want {
		related += len(e.Related)
	}
	if rows != related {
		t.Errorf("after the migration %d entry_related rows match their entry, want %d", rows, related)
	}
	for _, e := range want {
		for _, p := range e.Related {
			q := store.EventQuery{Logs: []string{"activity"}, People: []string{p}, Categories: []string{e.Category},
				Sources: []string{e.Source}, Actions: []string{e.Action}, From: e.Time, To: e.Time + 1}
			got, err := db.QueryEvents(ctx, q)
			if err != nil || !containsID(got, e.ID) {
				t.Errorf("QueryEvents(%s as related, %s/%s/%s) = %d entries, %v; want entry %d among them", p, e.Category, e.Source, e.Action, len(got), err, e.Index)
			}
		}
	}
}

// TestQueryEventsRechecks writes entry_related rows that disagree with
// their entries, as someone with write access to the database could, and
// checks that QueryEvents returns no entry whose own columns (the ones
// checked against its leaf) fall outside the query.
func TestQueryEventsRechecks(t *testing.T) {
	ctx := t.Context()
	db := open(t, t.TempDir())
	es := []store.Entry{
		{Log: "activity", Index: 0, ID: [16]byte{1}, Time: 10, Source: "s", Subject: "bob", Leaf: []byte{0}, Meta: []byte{0},
			Category: "medical", Action: "view", Related: []string{"alice"}},
		{Log: "activity", Index: 1, ID: [16]byte{2}, Time: 11, Source: "s", Subject: "bob", Leaf: []byte{1}, Meta: []byte{1},
			Category: "email", Action: "send"},
	}
	appendEntries(t, db, es)
	// Entry 0 relabelled as e-mail; entry 1 given a related person it
	// does not name.
	for _, q := range []string{
		`UPDATE entry_related SET category = 'email'`,
		`INSERT INTO entry_related (log, idx, person, time, category, source, action)
			SELECT log, idx, 'mallory', time, category, source, action FROM entries WHERE idx = 1`,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, p := range []string{"alice", "mallory"} {
		got, err := db.QueryEvents(ctx, store.EventQuery{Logs: []string{"activity"}, People: []string{p}, Categories: []string{"email"},
			From: math.MinInt64, To: math.MaxInt64})
		if err != nil || len(got) != 0 {
			t.Errorf("QueryEvents(%s, email) = %d entries, %v; want none", p, len(got), err)
		}
	}
	// The rows themselves still answer for what they hold.
	got, err := db.QueryEvents(ctx, store.EventQuery{Logs: []string{"activity"}, People: []string{"alice"}, Categories: []string{"medical"},
		From: math.MinInt64, To: math.MaxInt64})
	if err != nil || len(got) != 0 {
		t.Errorf("QueryEvents(alice, medical) = %d entries, %v; want none: entry_related now calls it e-mail", len(got), err)
	}
}

// appendEntries appends es to the activity log as they are, under a tree
// state these tests never check.
func appendEntries(t *testing.T, db *DB, es []store.Entry) {
	t.Helper()
	err := db.UpdateLog(t.Context(), "activity", func(tx store.LogTx) error {
		return tx.Append(t.Context(), es, nil, store.TreeState{Size: uint64(len(es)), Root: make([]byte, 32)})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
}

func containsID(es []store.Entry, id [16]byte) bool {
	for _, e := range es {
		if e.ID == id {
			return true
		}
	}
	return false
}

// TestQueryEventsPlan checks that both halves of QueryEvents' query reach
// entries through an index, never by scanning the table, and that without
// terms the page is chosen from the indexes alone: the subject side from
// entries_subject_scan covering every filter, the related side from
// entry_related, so that only the page's rows are read.
func TestQueryEventsPlan(t *testing.T) {
	db := open(t, t.TempDir())
	base := store.EventQuery{
		Logs: []string{"activity"}, People: []string{"alice", "bob"}, From: 1, To: 2, Categories: []string{"email", "web"},
		Sources: []string{"exchange"}, Actions: []string{"send"},
		HasAfter: true, AfterTime: 1, AfterLog: "activity", AfterIndex: 7, MinIndex: 3, MaxIndex: 9,
	}
	shards := base
	shards.Logs, shards.AfterLog, shards.MinIndex, shards.MaxIndex = []string{"activity-1", "activity-2"}, "activity-1", 0, 0
	withTerms := base
	withTerms.Terms, withTerms.TermCategories = []string{"ab", "cd"}, []string{"email"}
	tests := []struct {
		name     string
		q        store.EventQuery
		covering bool
	}{
		{"filters", base, true},
		{"filters and terms", withTerms, false},
		{"filters over shards", shards, true},
	}
	for _, tt := range tests {
		keys, args, page := eventsQuery(tt.q)
		var ks []entryKey
		for i, l := range tt.q.Logs {
			ks = append(ks, entryKey{l, int64(3 + i)}, entryKey{l, int64(7 + i)})
		}
		pageQuery, pageArgs := page(ks)
		plan := append(queryPlan(t, db, keys, args), queryPlan(t, db, pageQuery, pageArgs)...)
		for _, d := range plan {
			if d == "SCAN entries" || d == "SCAN e" || d == "SCAN r" {
				t.Errorf("%s: QueryEvents' plan scans a table:\n%s", tt.name, strings.Join(plan, "\n"))
				break
			}
		}
		if tt.covering {
			want := []string{"SEARCH e USING COVERING INDEX entries_subject_scan", "SEARCH r USING PRIMARY KEY"}
			for _, w := range want {
				if !slices.ContainsFunc(plan, func(d string) bool { return strings.HasPrefix(d, w) }) {
					t.Errorf("%s: QueryEvents' plan has no %q:\n%s", tt.name, w, strings.Join(plan, "\n"))
				}
			}
			// Once per log: the page's own rows, read after it is chosen.
			if n := countPrefix(plan, "SEARCH e USING INDEX entries_log_idx"); n != len(tt.q.Logs) {
				t.Errorf("%s: QueryEvents' plan reads candidates' rows before the page is chosen:\n%s", tt.name, strings.Join(plan, "\n"))
			}
		}
		t.Logf("%s: plan:\n%s", tt.name, strings.Join(plan, "\n"))
	}
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// queryPlan returns the detail lines of SQLite's plan for query.
func queryPlan(t *testing.T, db *DB, query string, args []any) []string {
	t.Helper()
	rows, err := db.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
