package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"os"
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
	err := db.UpdateLog(ctx, "activity", func(tx store.LogTx) error {
		return tx.Append(ctx, want, nil, store.TreeState{Size: uint64(len(want)), Root: make([]byte, 32)})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
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
				q := store.EventQuery{Log: "activity", People: []string{p}, Categories: []string{e.Category}, From: math.MinInt64, To: math.MaxInt64}
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

func containsID(es []store.Entry, id [16]byte) bool {
	for _, e := range es {
		if e.ID == id {
			return true
		}
	}
	return false
}

// TestQueryEventsPlan checks that both halves of QueryEvents' query reach
// entries through an index, never by scanning the table.
func TestQueryEventsPlan(t *testing.T) {
	db := open(t, t.TempDir())
	ctx := t.Context()
	query, args := eventsQuery(store.EventQuery{
		Log: "activity", People: []string{"alice", "bob"}, From: 1, To: 2, Categories: []string{"email", "web"},
		Sources: []string{"exchange"}, Actions: []string{"send"}, Terms: []string{"ab", "cd"}, TermCategories: []string{"email"},
		HasAfter: true, AfterTime: 1, AfterIndex: 7,
	})
	rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
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
	for _, d := range plan {
		if d == "SCAN entries" || d == "SCAN e" || d == "SCAN r" {
			t.Errorf("QueryEvents' plan scans a table:\n%s", strings.Join(plan, "\n"))
			break
		}
	}
	t.Logf("plan:\n%s", strings.Join(plan, "\n"))
}
