package postgres

import (
	"math"
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
	pgtest.Exec(t, dsn, `UPDATE entries SET category = '', action = '', related = NULL`)

	for range 2 { // the second Open finds nothing left to fill
		db, err = Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open after resetting entries = %v", err)
		}
		got, err := db.QueryEvents(ctx, store.EventQuery{Log: "activity", People: []string{"alice"},
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
