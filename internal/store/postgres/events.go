package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/lbm-project/lbm/internal/store"
)

// QueryEvents selects a scoped review's entries in one statement. The
// people match through two indexes, ORed in a bitmap: entries_subject_time
// for the subject and entries_related for related.user; the time range
// prunes the partitions to the months asked for. One scan of entries with
// an OR returns each entry once, however many of the people it names.
//
// Only the filters the query sets are written into the statement, so
// the planner never has to see past an "empty list means any" test; every
// value is a bound parameter.
func (db *DB) QueryEvents(ctx context.Context, q store.EventQuery) ([]store.Entry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + entryColumns + ` FROM entries e WHERE e.log = ` + arg(q.Log))
	people := arg(q.People)
	b.WriteString(` AND (e.subject = ANY(` + people + `::text[]) OR e.related && ` + people + `::text[])`)
	b.WriteString(` AND e.time >= ` + arg(q.From) + ` AND e.time < ` + arg(q.To))
	b.WriteString(` AND e.category = ANY(` + arg(q.Categories) + `::text[])`)
	if len(q.Sources) > 0 {
		b.WriteString(` AND e.source = ANY(` + arg(q.Sources) + `::text[])`)
	}
	if len(q.Actions) > 0 {
		b.WriteString(` AND e.action = ANY(` + arg(q.Actions) + `::text[])`)
	}
	if len(q.Terms) > 0 {
		// As SearchTerms: Check has refused any term tsquery would parse
		// as syntax, and the query text is itself a parameter.
		tsq := "'" + strings.Join(q.Terms, "' & '") + "'"
		b.WriteString(` AND e.category = ANY(` + arg(q.TermCategories) + `::text[]) AND e.terms @@ ` + arg(tsq) + `::tsquery`)
	}
	if q.HasAfter {
		b.WriteString(` AND (e.time, e.idx) > (` + arg(q.AfterTime) + `::bigint, ` + arg(int64(min(q.AfterIndex, math.MaxInt64))) + `::bigint)`)
	}
	if q.MinIndex > 0 {
		b.WriteString(` AND e.idx >= ` + arg(int64(min(q.MinIndex, math.MaxInt64))) + `::bigint`)
	}
	if q.MaxIndex > 0 {
		b.WriteString(` AND e.idx < ` + arg(int64(min(q.MaxIndex, math.MaxInt64))) + `::bigint`)
	}
	b.WriteString(` ORDER BY e.time, e.idx LIMIT ` + arg(q.MaxEntries()))
	return queryEntries(ctx, db.pool, b.String(), args...)
}
