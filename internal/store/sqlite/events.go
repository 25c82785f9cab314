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

// relatedRowsPerInsert keeps one INSERT's seven parameters a row under
// maxParams.
const relatedRowsPerInsert = maxParams / 7

type relatedRow struct {
	idx                      uint64
	person                   string
	time                     int64
	category, source, action string
}

// insertRelated stores one entry_related row per related person of
// entries, a few hundred rows a statement. With ignore, rows already
// stored are left as they are: the backfill may meet them again.
func insertRelated(ctx context.Context, tx *sql.Tx, log string, entries []store.Entry, ignore bool) error {
	var rows []relatedRow
	for _, e := range entries {
		for _, p := range e.Related {
			rows = append(rows, relatedRow{e.Index, p, e.Time, e.Category, e.Source, e.Action})
		}
	}
	verb := `INSERT`
	if ignore {
		verb = `INSERT OR IGNORE`
	}
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), relatedRowsPerInsert)]
		rows = rows[len(chunk):]
		args := make([]any, 0, 7*len(chunk))
		for _, r := range chunk {
			args = append(args, log, r.idx, r.person, r.time, r.category, r.source, r.action)
		}
		q := verb + ` INTO entry_related (log, idx, person, time, category, source, action) VALUES (?,?,?,?,?,?,?)` + strings.Repeat(`,(?,?,?,?,?,?,?)`, len(chunk)-1)
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
			rows, err := tx.QueryContext(ctx, `SELECT rowid, log, idx, time, source, meta FROM entries WHERE rowid > ? AND category = '' ORDER BY rowid LIMIT ?`, cursor, backfillBatch)
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
				if err := rows.Scan(&o.rowid, &o.log, &o.e.Index, &o.e.Time, &o.e.Source, &meta); err != nil {
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

// QueryEvents finds the candidates twice, from indexes alone: as subject
// in entries_subject_scan and as related in entry_related, both keyed by
// person, log and time, and both carrying the category, source and action
// the filters test. The UNION of (time, log, idx) makes an entry that
// matches both ways count once; the page is chosen from those keys, and
// only its rows are then read, through entries_log_idx, in parts on
// several read connections at once (store.ReadInParts), each row
// re-checked against the query on its own columns. Every value is a bound
// parameter. Several logs (the activity log's shards) are several key
// ranges of the same indexes, one per person and log.
//
// Its cost grows with the people's entries in [From, To) (their keys are
// scanned and sorted before the limit) and with the page, not with the
// log. A text search is the exception: terms live only in the row, so
// its candidates' rows are read.
func (db *DB) QueryEvents(ctx context.Context, q store.EventQuery) ([]store.Entry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	keys, args, page := eventsQuery(q)
	rows, err := db.r.QueryContext(ctx, keys, args...)
	if err != nil {
		return nil, translate(err)
	}
	var ks []entryKey
	for rows.Next() {
		var k entryKey
		if err := rows.Scan(&k.log, &k.idx); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		ks = append(ks, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	parts := make([][]store.Entry, store.Parts(len(ks)))
	err = store.ReadInParts(ctx, len(ks), func(ctx context.Context, part, lo, hi int) error {
		query, args := page(ks[lo:hi])
		rows, err := db.r.QueryContext(ctx, query, args...)
		if err != nil {
			return translate(err)
		}
		return scanEntries(rows, func(e store.Entry) { parts[part] = append(parts[part], e) })
	})
	if err != nil {
		return nil, err
	}
	// Parts come back in key order; within a part, a page over several
	// logs is read log by log.
	out := slices.Concat(parts...)
	slices.SortFunc(out, store.CompareEntries)
	return out, nil
}

// entryKey names an entry of a page: its log and index.
type entryKey struct {
	log string
	idx int64
}

// eventsQuery returns QueryEvents' statements for q: keys, with its
// arguments, selects the (log, idx) of the page's entries in (time, log,
// idx) order, and page gives the statement reading some of them.
func eventsQuery(q store.EventQuery) (keys string, keysArgs []any, page func(ks []entryKey) (string, []any)) {
	// The conditions both halves share, on the columns of x (e for
	// entries, r for entry_related), with their arguments.
	var cond string
	var args []any
	where := func(x string) {
		cond, args = "", nil
		add := func(sql string, values ...any) {
			cond += strings.ReplaceAll(sql, "x.", x+".")
			args = append(args, values...)
		}
		add(` AND x.time >= ? AND x.time < ?`, q.From, q.To)
		if q.HasAfter {
			// (time, log, idx) > (AfterTime, AfterLog, AfterIndex),
			// written so that the index sees a lower bound on time.
			add(` AND x.time >= ? AND (x.time > ? OR x.log > ? OR (x.log = ? AND x.idx > ?))`,
				q.AfterTime, q.AfterTime, q.AfterLog, q.AfterLog, min(q.AfterIndex, math.MaxInt64))
		}
		if q.MinIndex > 0 {
			add(` AND x.idx >= ?`, min(q.MinIndex, math.MaxInt64))
		}
		if q.MaxIndex > 0 {
			add(` AND x.idx < ?`, min(q.MaxIndex, math.MaxInt64))
		}
		in := func(column string, values []string) {
			vs := make([]any, len(values))
			for i, v := range values {
				vs[i] = v
			}
			add(` AND x.`+column+` IN (`+placeholders(len(values))+`)`, vs...)
		}
		in(`category`, q.Categories)
		if len(q.Sources) > 0 {
			in(`source`, q.Sources)
		}
		if len(q.Actions) > 0 {
			in(`action`, q.Actions)
		}
		if len(q.Terms) > 0 {
			in(`category`, q.TermCategories)
			// As SearchTerms: terms are space-separated, so a term bounded
			// by spaces matches only a whole term. Terms are in the entry
			// alone, so on the related side this joins entries.
			for _, term := range q.Terms {
				cond += ` AND instr(' ' || e.terms || ' ', ?) > 0`
				args = append(args, " "+term+" ")
			}
		}
	}
	values := func(vs []string) []any {
		out := make([]any, len(vs))
		for i, v := range vs {
			out[i] = v
		}
		return out
	}
	people, logs := values(q.People), values(q.Logs)
	in, logIn := placeholders(len(q.People)), placeholders(len(q.Logs))
	all := slices.Concat(people, logs)
	where("e")
	all = append(all, args...)
	subject := `SELECT e.time AS t, e.log AS l, e.idx AS i FROM entries e INDEXED BY entries_subject_scan
			WHERE e.subject IN (` + in + `) AND e.log IN (` + logIn + `)` + cond
	all = append(all, logs...)
	all = append(all, people...)
	where("r")
	all = append(all, args...)
	related := `SELECT r.time, r.log, r.idx FROM entry_related r
			WHERE r.log IN (` + logIn + `) AND r.person IN (` + in + `)` + cond
	if len(q.Terms) > 0 {
		related = `SELECT r.time, r.log, r.idx FROM entry_related r JOIN entries e INDEXED BY entries_log_idx ON e.log = r.log AND e.idx = r.idx
			WHERE r.log IN (` + logIn + `) AND r.person IN (` + in + `)` + cond
	}
	all = append(all, q.MaxEntries())
	keys = `SELECT l, i FROM (
			` + subject + `
			UNION
			` + related + `
		) ORDER BY t, l, i LIMIT ?`
	// The page's rows must match again themselves: their columns are the
	// ones internal/record checks against each entry's leaf, while
	// entry_related's copies and the index are not covered by any leaf.
	// A row slipped into either by someone who can write the database
	// then only hides entries, which deleting rows could do anyway; it
	// cannot bring one outside the query into a review.
	where("e")
	recheck := cond + ` AND (e.subject IN (` + in + `) OR EXISTS (SELECT 1 FROM json_each(e.related) j WHERE j.value IN (` + in + `)))`
	recheckArgs := slices.Concat(args, people, people)
	page = func(ks []entryKey) (string, []any) {
		// One arm per log, each a probe of entries_log_idx: the page's
		// keys are (log, idx) pairs, and an idx means nothing without its
		// log. The rows are put in order by the caller.
		byLog := map[string][]any{}
		var logs []string
		for _, k := range ks {
			if _, ok := byLog[k.log]; !ok {
				logs = append(logs, k.log)
			}
			byLog[k.log] = append(byLog[k.log], k.idx)
		}
		var arms []string
		var pageArgs []any
		for _, l := range logs {
			pageArgs = append(pageArgs, l)
			pageArgs = append(pageArgs, byLog[l]...)
			pageArgs = append(pageArgs, recheckArgs...)
			arms = append(arms, `SELECT `+readColumns+` FROM entries e INDEXED BY entries_log_idx
			WHERE e.log = ? AND e.idx IN (`+placeholders(len(byLog[l]))+`)`+recheck)
		}
		return strings.Join(arms, "\n\t\t\tUNION ALL\n\t\t\t"), pageArgs
	}
	return keys, all, page
}
