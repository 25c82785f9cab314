package postgres

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
		got, err := db.QueryEvents(ctx, store.EventQuery{Logs: []string{"activity"}, People: []string{p}, Categories: []string{"email"},
			From: math.MinInt64, To: math.MaxInt64})
		if err != nil || len(got) != 0 {
			t.Errorf("QueryEvents(%s, email) = %d entries, %v; want none", p, len(got), err)
		}
	}
}

// TestQueryEventsPlan: a query of several logs (the activity log's
// shards) still chooses its page from the indexes alone, the subject side
// from entries_subject_scan and the related side from entry_related's
// primary key, both index-only, and reads only the page's rows, by
// primary key. Sequential and bitmap scans are turned off, as on a large
// store their cost would rule them out; a few thousand rows across three
// months and two shards are enough for the planner to show its choice.
func TestQueryEventsPlan(t *testing.T) {
	ctx := t.Context()
	dsn, keysDSN := pgtest.Databases(t)
	db, err := Open(ctx, Config{DSN: dsn, KeysDSN: keysDSN})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer db.Close()
	at := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	people := []string{"alice", "bob", "carol", "dave", "erin", "frank", "gina", "hal"}
	for s, log := range []string{"activity-1", "activity-2"} {
		var es []store.Entry
		for i := range 2000 {
			e := store.Entry{Log: log, Index: uint64(i), Time: at.Add(time.Duration(i) * time.Hour).UnixNano(), Source: "exchange",
				Subject: people[i%len(people)], Leaf: []byte{byte(i)}, Meta: []byte{byte(i)}, Category: "email", Action: "send",
				Related: []string{people[(i+3)%len(people)]}}
			e.ID[0], e.ID[1], e.ID[2] = byte(s+1), byte(i>>8), byte(i)
			es = append(es, e)
		}
		err = db.UpdateLog(ctx, log, func(tx store.LogTx) error {
			return tx.Append(ctx, es, nil, store.TreeState{Size: uint64(len(es)), Root: make([]byte, 32)})
		})
		if err != nil {
			t.Fatalf("UpdateLog(%s) = %v", log, err)
		}
	}
	pgtest.Exec(t, dsn, `VACUUM ANALYZE entries`)
	pgtest.Exec(t, dsn, `VACUUM ANALYZE entry_related`)
	q := store.EventQuery{Logs: []string{"activity-1", "activity-2"}, People: []string{"alice"}, Categories: []string{"email"},
		From: at.UnixNano(), To: at.AddDate(0, 1, 0).UnixNano(), HasAfter: true, AfterTime: at.UnixNano(), AfterLog: "activity-1", Limit: 100}
	keys, keysArgs, page, args := eventsQuery(q)
	explain := func(query string, args []any) []string {
		var plan []string
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			for _, set := range []string{`SET LOCAL enable_seqscan = off`, `SET LOCAL enable_bitmapscan = off`} {
				if _, err := tx.Exec(ctx, set); err != nil {
					return err
				}
			}
			rows, err := tx.Query(ctx, `EXPLAIN `+query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					return err
				}
				plan = append(plan, line)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return plan
	}
	plan := strings.Join(explain(keys, keysArgs), "\n")
	// Each partition's copy of entries_subject_scan is named by
	// PostgreSQL after its columns.
	for _, want := range []string{"Index Only Scan using entries_", "_subject_log_time_idx", "Index Only Scan using entry_related_"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the keys' plan has no %q:\n%s", want, plan)
		}
	}
	for _, line := range strings.Split(plan, "\n") {
		if strings.Contains(line, "Scan") && !strings.Contains(line, "Index Only Scan") {
			t.Errorf("the keys' plan reads rows: %s\n%s", strings.TrimSpace(line), plan)
		}
	}
	t.Logf("keys plan:\n%s", plan)
	pagePlan := strings.Join(explain(page, append(args, []string{"activity-1", "activity-2"}, []int64{0, 1}, []int64{at.UnixNano(), at.UnixNano()})), "\n")
	if strings.Contains(pagePlan, "Seq Scan") || !strings.Contains(pagePlan, "Index Scan using entries_") {
		t.Errorf("the page's plan does not read rows by index:\n%s", pagePlan)
	}
	t.Logf("page plan:\n%s", pagePlan)

	got, err := db.QueryEvents(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// alice is the subject of every 8th entry and related in every 8th
	// (offset 5) of each shard, an hour apart: after activity-1's entry
	// 0, the first are activity-2's 0 (a tie on time) and activity-1's 5.
	if len(got) != 100 || got[0].Log != "activity-2" || got[0].Index != 0 || got[1].Log != "activity-1" || got[1].Index != 5 {
		t.Errorf("QueryEvents = %d entries, first %s/%d, %s/%d", len(got), got[0].Log, got[0].Index, got[1].Log, got[1].Index)
	}
}
