package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/store"
)

// formatRelated encodes an entry's Related for the entries.related column:
// a JSON array, NULL when none. It refuses a list that is not sorted and
// unique, which the store contract promises readers.
func formatRelated(related []string) (any, error) {
	if len(related) == 0 {
		return nil, nil
	}
	for i, p := range related {
		if p == "" {
			return nil, errors.New("related person is empty")
		}
		if i > 0 && related[i-1] >= p {
			return nil, errors.New("related people are not sorted and unique")
		}
	}
	b, err := json.Marshal(related)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// relatedRowsPerInsert keeps one INSERT's four parameters a row under
// maxParams.
const relatedRowsPerInsert = maxParams / 4

type relatedRow struct {
	idx    uint64
	person string
	time   int64
}

// insertRelated stores one entry_related row per related person of
// entries, a few hundred rows a statement. With ignore, rows already
// stored are left as they are: the backfill may meet them again.
func insertRelated(ctx context.Context, tx *sql.Tx, log string, entries []store.Entry, ignore bool) error {
	var rows []relatedRow
	for _, e := range entries {
		for _, p := range e.Related {
			rows = append(rows, relatedRow{e.Index, p, e.Time})
		}
	}
	verb := `INSERT`
	if ignore {
		verb = `INSERT OR IGNORE`
	}
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), relatedRowsPerInsert)]
		rows = rows[len(chunk):]
		args := make([]any, 0, 4*len(chunk))
		for _, r := range chunk {
			args = append(args, log, r.idx, r.person, r.time)
		}
		q := verb + ` INTO entry_related (log, idx, person, time) VALUES (?,?,?,?)` + strings.Repeat(`,(?,?,?,?)`, len(chunk)-1)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return translate(err)
		}
	}
	return nil
}

// backfillBatch is how many entries one backfill transaction reads; a
// variable so that a test can make batches of a few.
var backfillBatch = 5000

// backfillEvents fills category, action and related people of entries
// stored before migration 0008, from their meta. Each batch commits on its
// own and advances event_backfill's cursor, so a backfill cut short
// resumes at the next Open without redoing what it did; the cursor row is
// deleted at the end, after which this costs one query.
//
// An entry whose meta does not parse, or names no category, keeps its
// empty category: no scoped query selects it, as no query could have
// before. Meta is not rewritten, so no commitment changes.
func (db *DB) backfillEvents(ctx context.Context) error {
	for {
		var done bool
		err := withTx(ctx, db.w, func(tx *sql.Tx) error {
			var cursor int64
			err := tx.QueryRowContext(ctx, `SELECT cursor FROM event_backfill`).Scan(&cursor)
			if err == sql.ErrNoRows {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, `SELECT rowid, log, idx, time, meta FROM entries WHERE rowid > ? AND category = '' ORDER BY rowid LIMIT ?`, cursor, backfillBatch)
			if err != nil {
				return err
			}
			type old struct {
				rowid int64
				log   string
				e     store.Entry
			}
			var olds []old
			for rows.Next() {
				var o old
				var meta []byte
				if err := rows.Scan(&o.rowid, &o.log, &o.e.Index, &o.e.Time, &meta); err != nil {
					rows.Close()
					return err
				}
				o.e.Category, o.e.Action, o.e.Related = fieldsOf(meta)
				olds = append(olds, o)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, o := range olds {
				if o.e.Category == "" && o.e.Action == "" && o.e.Related == nil {
					continue
				}
				related, err := formatRelated(o.e.Related)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE entries SET category = ?, action = ?, related = ? WHERE rowid = ?`, o.e.Category, o.e.Action, related, o.rowid); err != nil {
					return err
				}
				if err := insertRelated(ctx, tx, o.log, []store.Entry{o.e}, true); err != nil {
					return err
				}
			}
			if len(olds) < backfillBatch {
				done = true
				_, err = tx.ExecContext(ctx, `DELETE FROM event_backfill`)
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE event_backfill SET cursor = ?`, olds[len(olds)-1].rowid)
			return err
		})
		if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
			return fmt.Errorf("filling categories of old entries: %w", ctxErr)
		}
		if err != nil {
			return fmt.Errorf("filling categories of old entries: %v", err)
		}
		if done {
			return nil
		}
		if db.testingOnlyAfterBackfillBatch != nil {
			db.testingOnlyAfterBackfillBatch()
		}
	}
}

// fieldsOf reads event.category, event.action and related.user from an
// entry's meta, as internal/record does on ingest; zero values for what is
// absent or malformed.
func fieldsOf(meta []byte) (category, action string, related []string) {
	fs, err := event.ParseFields(meta)
	if err != nil {
		return "", "", nil
	}
	for _, f := range fs {
		switch f.Name {
		case "event.category":
			category, _ = event.StringValue(f.Value)
		case "event.action":
			action, _ = event.StringValue(f.Value)
		case "related.user":
			rs, err := event.RelatedUsers(f.Value)
			if err != nil || len(rs) == 0 {
				continue
			}
			rs = slices.Clone(rs)
			slices.Sort(rs)
			related = slices.Compact(rs)
		}
	}
	return category, action, related
}

// placeholders returns "?,?,…" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// QueryEvents finds the candidates twice, through indexes: as subject
// through entries_subject_time, and as related through entry_related's
// (log, person, time, idx) key joined back on entries_log_idx; in both the
// time range bounds the index scan. The UNION of rowids makes an entry
// that matches both ways come back once; the page is picked from the
// candidates' (time, idx), and only its rows are then read by rowid. Every value is a bound parameter.
//
// Its cost grows with the people's entries in [From, To) (each is read
// to check the filters, and their keys sorted before the limit), not
// with the log.
func (db *DB) QueryEvents(ctx context.Context, q store.EventQuery) ([]store.Entry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	query, args := eventsQuery(q)
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	var out []store.Entry
	err = scanEntries(rows, func(e store.Entry) { out = append(out, e) })
	return out, err
}

// eventsQuery returns QueryEvents' SQL for q and its arguments.
func eventsQuery(q store.EventQuery) (string, []any) {
	// The conditions on e both halves share, with their arguments.
	cond := ` AND e.time >= ? AND e.time < ?`
	args := []any{q.From, q.To}
	if q.HasAfter {
		// (time, idx) > (AfterTime, AfterIndex), written so that the
		// index sees a lower bound on time.
		cond += ` AND e.time >= ? AND (e.time > ? OR e.idx > ?)`
		args = append(args, q.AfterTime, q.AfterTime, min(q.AfterIndex, math.MaxInt64))
	}
	if q.MinIndex > 0 {
		cond += ` AND e.idx >= ?`
		args = append(args, min(q.MinIndex, math.MaxInt64))
	}
	if q.MaxIndex > 0 {
		cond += ` AND e.idx < ?`
		args = append(args, min(q.MaxIndex, math.MaxInt64))
	}
	in := func(column string, values []string) {
		cond += ` AND ` + column + ` IN (` + placeholders(len(values)) + `)`
		for _, v := range values {
			args = append(args, v)
		}
	}
	in(`e.category`, q.Categories)
	if len(q.Sources) > 0 {
		in(`e.source`, q.Sources)
	}
	if len(q.Actions) > 0 {
		in(`e.action`, q.Actions)
	}
	if len(q.Terms) > 0 {
		// As SearchTerms: terms are space-separated, so a term bounded by
		// spaces matches only a whole term.
		in(`e.category`, q.TermCategories)
		for _, term := range q.Terms {
			cond += ` AND instr(' ' || e.terms || ' ', ?) > 0`
			args = append(args, " "+term+" ")
		}
	}
	all := make([]any, 0, 2*len(q.People)+2*len(args)+5)
	for _, p := range q.People {
		all = append(all, p)
	}
	all = append(all, q.Log)
	all = append(all, args...)
	all = append(all, q.Log)
	for _, p := range q.People {
		all = append(all, p)
	}
	all = append(all, q.From, q.To)
	all = append(all, args...)
	all = append(all, q.MaxEntries())
	people := placeholders(len(q.People))
	// The page is chosen on (time, idx, rowid) alone, and only its rows
	// are then read whole: sorting every candidate's full row before the
	// limit cost more than the scan.
	return `SELECT ` + entryColumns + ` FROM entries WHERE rowid IN (
		SELECT id FROM (
			SELECT e.rowid AS id, e.time AS t, e.idx AS i FROM entries e INDEXED BY entries_subject_time
			WHERE e.subject IN (` + people + `) AND e.log = ?` + cond + `
			UNION
			SELECT e.rowid, e.time, e.idx FROM entry_related r JOIN entries e INDEXED BY entries_log_idx ON e.log = r.log AND e.idx = r.idx
			WHERE r.log = ? AND r.person IN (` + people + `) AND r.time >= ? AND r.time < ?` + cond + `
		) ORDER BY t, i LIMIT ?
	) ORDER BY time, idx`, all
}
