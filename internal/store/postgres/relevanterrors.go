package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.RelevantErrors = (*DB)(nil)

const relevantErrorColumns = `id, reference, kind, request, state, identified, raised, deadline, updated, body, version`

// AddRelevantError inserts the entry; the primary key and the unique
// reference refuse a stored one.
func (db *DB) AddRelevantError(ctx context.Context, e store.StoredRelevantError) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO relevant_errors (`+relevantErrorColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)`,
		e.ID, e.Reference, e.Kind, e.Request, e.State, store.Nanos(e.Identified), store.Nanos(e.Raised),
		store.Nanos(e.Deadline), store.Nanos(e.Updated), nullBytes(e.Body))
	return translate(err)
}

func scanRelevantError(row pgx.Row) (store.StoredRelevantError, error) {
	var e store.StoredRelevantError
	var identified, raised, deadline, updated int64
	if err := row.Scan(&e.ID, &e.Reference, &e.Kind, &e.Request, &e.State, &identified, &raised, &deadline, &updated,
		&e.Body, &e.Version); err != nil {
		return store.StoredRelevantError{}, translate(err)
	}
	e.Identified, e.Raised = store.FromNanos(identified), store.FromNanos(raised)
	e.Deadline, e.Updated = store.FromNanos(deadline), store.FromNanos(updated)
	return e, nil
}

// RelevantErrorByID returns the entry with that ID.
func (db *DB) RelevantErrorByID(ctx context.Context, id string) (store.StoredRelevantError, error) {
	return scanRelevantError(db.pool.QueryRow(ctx, `SELECT `+relevantErrorColumns+` FROM relevant_errors WHERE id = $1`, id))
}

// UpdateRelevantError is one guarded UPDATE comparing the version and
// the fields that never change; of two updates read at one version the
// second waits for the first's row lock, re-reads the row and changes
// nothing, as UpdateAlert.
func (db *DB) UpdateRelevantError(ctx context.Context, e store.StoredRelevantError) error {
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE relevant_errors SET state = $1, updated = $2, body = $3, version = $4
			WHERE id = $5 AND version = $6 AND reference = $7 AND kind = $8 AND request = $9 AND identified = $10 AND raised = $11 AND deadline = $12`,
			e.State, store.Nanos(e.Updated), nullBytes(e.Body), e.Version,
			e.ID, e.Version-1, e.Reference, e.Kind, e.Request, store.Nanos(e.Identified), store.Nanos(e.Raised), store.Nanos(e.Deadline))
		if err != nil {
			return err
		}
		return guarded(ctx, tx, tag.RowsAffected(), `SELECT 1 FROM relevant_errors WHERE id = $1`, e.ID)
	}))
}

// ListRelevantErrors returns the entries q selects, newest first.
func (db *DB) ListRelevantErrors(ctx context.Context, q store.RelevantErrorQuery) ([]store.StoredRelevantError, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	where := `true`
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where += ` AND ` + cond + ` $` + strconv.Itoa(len(args))
	}
	if q.State != "" {
		arg(`state =`, q.State)
	}
	if q.Request != "" {
		arg(`request =`, q.Request)
	}
	if !q.DueBy.IsZero() {
		arg(`deadline <=`, store.Nanos(q.DueBy))
	}
	args = append(args, limit)
	return queryAll(ctx, db.pool, scanRelevantError, `SELECT `+relevantErrorColumns+` FROM relevant_errors WHERE `+where+`
		ORDER BY raised DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
}

// NextRelevantErrorNumber takes the year's number and moves the counter
// on in one upsert, as NextRequestNumber.
func (db *DB) NextRelevantErrorNumber(ctx context.Context, year int) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `INSERT INTO relevant_error_numbers (year, next) VALUES ($1, 2)
		ON CONFLICT (year) DO UPDATE SET next = relevant_error_numbers.next + 1
		RETURNING next - 1`, year).Scan(&n)
	if err != nil {
		return 0, translate(err)
	}
	return n, nil
}
