package postgres

import (
	"math"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

// TestQueryEventsRechecks writes entry_related rows that disagree with
// their entries, as someone with write access to the database could, and
// checks that QueryEvents returns no entry whose own columns (the ones
// checked against its leaf) fall outside the query.
func TestQueryEventsRechecks(t *testing.T) {
	ctx := t.Context()
	dsn, keysDSN := pgtest.Databases(t)
	db, err := Open(ctx, Config{DSN: dsn, KeysDSN: keysDSN})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer db.Close()
	at := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC).UnixNano()
	es := []store.Entry{
		{Log: "activity", Index: 0, ID: [16]byte{1}, Time: at, Source: "s", Subject: "bob", Leaf: []byte{0}, Meta: []byte{0},
			Category: "medical", Action: "view", Related: []string{"alice"}},
		{Log: "activity", Index: 1, ID: [16]byte{2}, Time: at + 1, Source: "s", Subject: "bob", Leaf: []byte{1}, Meta: []byte{1},
			Category: "email", Action: "send"},
	}
	err = db.UpdateLog(ctx, "activity", func(tx store.LogTx) error {
		return tx.Append(ctx, es, nil, store.TreeState{Size: uint64(len(es)), Root: make([]byte, 32)})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
	// Entry 0 relabelled as e-mail; entry 1 given a related person it
	// does not name.
	pgtest.Exec(t, dsn, `UPDATE entry_related SET category = 'email'`)
	pgtest.Exec(t, dsn, `INSERT INTO entry_related (log, person, time, idx, category, source, action)
		SELECT log, 'mallory', time, idx, category, source, action FROM entries WHERE idx = 1`)

	for _, p := range []string{"alice", "mallory"} {
		got, err := db.QueryEvents(ctx, store.EventQuery{Log: "activity", People: []string{p}, Categories: []string{"email"},
			From: math.MinInt64, To: math.MaxInt64})
		if err != nil || len(got) != 0 {
			t.Errorf("QueryEvents(%s, email) = %d entries, %v; want none", p, len(got), err)
		}
	}
}
