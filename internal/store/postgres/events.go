package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lbm-project/lbm/internal/store"
)

// QueryEvents chooses the page by key and only then reads its entries.
//
// The keys statement picks the page's (time, idx) without reading an entry:
// the subject side from entries_subject_scan, the related side from
// entry_related's primary key, both covering every column a query filters
// on, so each is an index-only scan of the people's key ranges in the time
// range, pruned to its months. Reading each candidate's row instead (2.7
// KB, scattered in log order) to check its log and category, and sorting
// whole rows before the limit, is what made a busy subject's month take a
// quarter of a second on ten million events. The sides are separate
// queries, not one scan with an OR, because each has its own index; UNION
// returns an entry once however many of the people it names, and each side
// is limited first so that the union sorts at most two pages of keys. The
// page statement then reads the page's rows by primary key, one probe
// each: the key carries time, so run-time pruning sends each probe to its
// one partition (the time range, repeated there, prunes the rest when the
// statement is planned). The lateral LIMIT 1 fixes that plan whatever the
// statistics say, as in FindClientIDs. The probes are disk reads on a
// store larger than memory, so the page is read in parts on several
// connections at once (store.ReadInParts); entries never change once
// written, so the parts need no common snapshot.
//
// The page statement checks every condition again on the row it reads, which
// costs nothing once the row is in hand. entry_related's copies of an
// entry's category, source and action are not covered by its leaf, as the
// entry's own columns are (internal/record refuses an entry whose columns
// differ from its leaf): without the check, a row written into
// entry_related by someone with write access to the database would bring
// into a review an entry outside its scope. With it, such a row can only
// hide entries, which deleting rows could do anyway.
//
// Terms need the tsvector, which is only in the row: on the subject side
// the scan of entries_subject_scan reads every candidate's row (an index
// scan, no longer index-only); on the related side only the candidates in
// the searched categories are probed by primary key. Text search has met
// its target without this rewrite (docs/benchmarks.md).
//
// Only the filters the query sets are written into the statement, so the
// planner never has to see past an "empty list means any" test; every
// value is a bound parameter. Several logs (the activity log's shards)
// are `log = ANY`: one key range of each index per person and log, merged
// in (time, log, idx) order.
func (db *DB) QueryEvents(ctx context.Context, q store.EventQuery) ([]store.Entry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	keys, keysArgs, page, args := eventsQuery(q)
	rows, err := db.pool.Query(ctx, keys, keysArgs...)
	if err != nil {
		return nil, translate(err)
	}
	var times, idxs []int64
	var keyLogs []string
	for rows.Next() {
		var t, i int64
		var l string
		if err := rows.Scan(&t, &l, &i); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		times, keyLogs, idxs = append(times, t), append(keyLogs, l), append(idxs, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	parts := make([][]store.Entry, store.Parts(len(idxs)))
	err = store.ReadInParts(ctx, len(idxs), func(ctx context.Context, part, lo, hi int) error {
		var err error
		parts[part], err = queryEntries(ctx, db.pool, page, append(slices.Clip(args), keyLogs[lo:hi], idxs[lo:hi], times[lo:hi])...)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Each part is read in whatever order its probes finish; the page
	// is in (time, log, idx) order, as the keys were.
	out := slices.Concat(parts...)
	slices.SortFunc(out, store.CompareEntries)
	return out, nil
}

// eventsQuery returns QueryEvents' statements for q: keys, with its
// arguments, selects the (time, log, idx) of the page's entries in that
// order; page reads the entries of some keys, with args followed by the
// keys' logs, indexes and times as three arrays.
func eventsQuery(q store.EventQuery) (keys string, keysArgs []any, page string, args []any) {
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	logs, people := arg(q.Logs), arg(q.People)
	from, to, cats := arg(q.From), arg(q.To), arg(q.Categories)
	var sources, actions, afterTime, afterLog, afterIndex, minIndex, maxIndex, termCats, tsq string
	if len(q.Sources) > 0 {
		sources = arg(q.Sources)
	}
	if len(q.Actions) > 0 {
		actions = arg(q.Actions)
	}
	if q.HasAfter {
		afterTime, afterLog, afterIndex = arg(q.AfterTime), arg(q.AfterLog), arg(int64(min(q.AfterIndex, math.MaxInt64)))
	}
	if q.MinIndex > 0 {
		minIndex = arg(int64(min(q.MinIndex, math.MaxInt64)))
	}
	if q.MaxIndex > 0 {
		maxIndex = arg(int64(min(q.MaxIndex, math.MaxInt64)))
	}
	if len(q.Terms) > 0 {
		// As SearchTerms: Check has refused any term tsquery would parse
		// as syntax, and the query text is itself a parameter.
		termCats, tsq = arg(q.TermCategories), arg("'"+strings.Join(q.Terms, "' & '")+"'")
	}
	// filters are the conditions on the columns that entries and
	// entry_related both have, on table x.
	filters := func(x string) string {
		var b strings.Builder
		b.WriteString(` AND ` + x + `.log = ANY(` + logs + `::text[])`)
		b.WriteString(` AND ` + x + `.time >= ` + from + ` AND ` + x + `.time < ` + to)
		b.WriteString(` AND ` + x + `.category = ANY(` + cats + `::text[])`)
		if sources != "" {
			b.WriteString(` AND ` + x + `.source = ANY(` + sources + `::text[])`)
		}
		if actions != "" {
			b.WriteString(` AND ` + x + `.action = ANY(` + actions + `::text[])`)
		}
		if afterTime != "" {
			b.WriteString(` AND (` + x + `.time, ` + x + `.log, ` + x + `.idx) > (` + afterTime + `::bigint, ` + afterLog + `::text, ` + afterIndex + `::bigint)`)
		}
		if minIndex != "" {
			b.WriteString(` AND ` + x + `.idx >= ` + minIndex + `::bigint`)
		}
		if maxIndex != "" {
			b.WriteString(` AND ` + x + `.idx < ` + maxIndex + `::bigint`)
		}
		if tsq != "" {
			b.WriteString(` AND ` + x + `.category = ANY(` + termCats + `::text[])`)
		}
		return b.String()
	}
	subject := `SELECT s.time, s.log, s.idx FROM entries s WHERE s.subject = ANY(` + people + `::text[])` + filters("s")
	related := `SELECT r.time, r.log, r.idx FROM entry_related r WHERE r.person = ANY(` + people + `::text[])` + filters("r")
	// The row read for the page must itself match: its columns are the
	// ones checked against its leaf, entry_related's copies are not.
	row := ` AND (e.subject = ANY(` + people + `::text[]) OR e.related && ` + people + `::text[])` + filters("e")
	if tsq != "" {
		subject += ` AND s.terms @@ ` + tsq + `::tsquery`
		related += ` AND EXISTS (SELECT FROM entries t
			WHERE t.log = r.log AND t.idx = r.idx AND t.time = r.time
			AND t.time >= ` + from + ` AND t.time < ` + to + ` AND t.terms @@ ` + tsq + `::tsquery)`
		row += ` AND e.terms @@ ` + tsq + `::tsquery`
	}
	// The limit is the keys statement's alone, and its last parameter:
	// the page statement shares every other, and puts the page's keys
	// after them.
	keysArgs = append(slices.Clip(args), q.MaxEntries())
	limit := fmt.Sprintf("$%d", len(keysArgs))
	keys = `SELECT time, log, idx FROM (
			(` + subject + ` ORDER BY s.time, s.log, s.idx LIMIT ` + limit + `)
			UNION
			(` + related + ` ORDER BY r.time, r.log, r.idx LIMIT ` + limit + `)
		) k ORDER BY time, log, idx LIMIT ` + limit
	n := len(args)
	page = `SELECT ` + entryColumns + ` FROM unnest($` + fmt.Sprint(n+1) + `::text[], $` + fmt.Sprint(n+2) + `::bigint[], $` + fmt.Sprint(n+3) + `::bigint[]) AS k(log, idx, time)
		CROSS JOIN LATERAL (SELECT * FROM entries e WHERE e.log = k.log AND e.idx = k.idx AND e.time = k.time` + row + ` LIMIT 1) e`
	return keys, keysArgs, page, args
}
