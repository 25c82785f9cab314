package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

// TestSubjectSummaryPlan: the summary of what the log holds about a person
// can be served by an index-only scan of entries_subject_scan in every
// partition: no entry row is read. Sequential and bitmap scans are turned
// off, as on a large store their cost would rule them out; what is left
// must be index-only.
func TestSubjectSummaryPlan(t *testing.T) {
	ctx := t.Context()
	dsn, keysDSN := pgtest.Databases(t)
	db, err := Open(ctx, Config{DSN: dsn, KeysDSN: keysDSN})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer db.Close()
	at := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	var es []store.Entry
	for i := range 50 {
		es = append(es, store.Entry{Log: "activity", Index: uint64(i), ID: [16]byte{byte(i + 1)}, Time: at.AddDate(0, i%3, 0).UnixNano(),
			Source: "s", Subject: []string{"alice", "bob"}[i%2], Leaf: []byte{byte(i)}, Meta: []byte{byte(i)}, Category: "email", Action: "send"})
	}
	err = db.UpdateLog(ctx, "activity", func(tx store.LogTx) error {
		return tx.Append(ctx, es, nil, store.TreeState{Size: uint64(len(es)), Root: make([]byte, 32)})
	})
	if err != nil {
		t.Fatalf("UpdateLog = %v", err)
	}
	// The visibility map an index-only scan relies on.
	pgtest.Exec(t, dsn, `VACUUM ANALYZE entries`)
	var plan []string
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL enable_bitmapscan = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `EXPLAIN `+subjectSummaryQuery, "alice", []string{"activity", "activity-2"})
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
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "Index Only Scan using entries_") {
		t.Errorf("SubjectSummary's plan has no index-only scan:\n%s", text)
	}
	for _, line := range plan {
		if strings.Contains(line, "Scan") && !strings.Contains(line, "Index Only Scan using") {
			t.Errorf("SubjectSummary's plan reads rows: %s\n%s", strings.TrimSpace(line), text)
		}
	}
	t.Logf("plan:\n%s", text)
	got, err := db.SubjectSummary(ctx, []string{"activity"}, "alice")
	if err != nil || len(got) != 1 || got[0].Count != 25 {
		t.Errorf("SubjectSummary(alice) = %+v, %v; want 25 e-mails", got, err)
	}
}
