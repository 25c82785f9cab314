package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.RelevantErrors = (*DB)(nil)

const relevantErrorColumns = `id, reference, kind, request, state, identified, raised, deadline, updated, body, version`

// AddRelevantError inserts the entry; the primary key and the unique
// reference refuse a stored one.
func (db *DB) AddRelevantError(ctx context.Context, e store.StoredRelevantError) error {
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO relevant_errors (`+relevantErrorColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			e.ID, e.Reference, e.Kind, e.Request, e.State, store.Nanos(e.Identified), store.Nanos(e.Raised),
			store.Nanos(e.Deadline), store.Nanos(e.Updated), nullBytes(e.Body))
		return err
	}))
}

func scanRelevantError(row scanner) (store.StoredRelevantError, error) {
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
	return scanRelevantError(db.r.QueryRowContext(ctx, `SELECT `+relevantErrorColumns+` FROM relevant_errors WHERE id = ?`, id))
}

// UpdateRelevantError is one guarded UPDATE comparing the version and
// the fields that never change, with the check that tells a conflict
// from an absence in the same IMMEDIATE transaction, as UpdateAlert.
func (db *DB) UpdateRelevantError(ctx context.Context, e store.StoredRelevantError) error {
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE relevant_errors SET state = ?, updated = ?, body = ?, version = ?
			WHERE id = ? AND version = ? AND reference = ? AND kind = ? AND request = ? AND identified = ? AND raised = ? AND deadline = ?`,
			e.State, store.Nanos(e.Updated), nullBytes(e.Body), e.Version,
			e.ID, e.Version-1, e.Reference, e.Kind, e.Request, store.Nanos(e.Identified), store.Nanos(e.Raised), store.Nanos(e.Deadline))
		if err != nil {
			return err
		}
		return guarded(ctx, tx, res, `SELECT 1 FROM relevant_errors WHERE id = ?`, e.ID)
	}))
}

// ListRelevantErrors returns the entries q selects, newest first.
func (db *DB) ListRelevantErrors(ctx context.Context, q store.RelevantErrorQuery) ([]store.StoredRelevantError, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	where := []string{`true`}
	var args []any
	if q.State != "" {
		where = append(where, `state = ?`)
		args = append(args, q.State)
	}
	if q.Request != "" {
		where = append(where, `request = ?`)
		args = append(args, q.Request)
	}
	if !q.DueBy.IsZero() {
		where = append(where, `deadline <= ?`)
		args = append(args, store.Nanos(q.DueBy))
	}
	return queryAll(ctx, db.r, scanRelevantError, `SELECT `+relevantErrorColumns+` FROM relevant_errors WHERE `+
		strings.Join(where, ` AND `)+` ORDER BY raised DESC, id DESC LIMIT ?`, append(args, limit)...)
}

// NextRelevantErrorNumber takes the year's number and moves the counter
// on in one upsert, as NextRequestNumber.
func (db *DB) NextRelevantErrorNumber(ctx context.Context, year int) (int64, error) {
	var n int64
	err := withTx(ctx, db.w, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO relevant_error_numbers (year, next) VALUES (?, 2)
			ON CONFLICT (year) DO UPDATE SET next = relevant_error_numbers.next + 1
			RETURNING next - 1`, year).Scan(&n)
	})
	if err != nil {
		return 0, translate(err)
	}
	return n, nil
}
