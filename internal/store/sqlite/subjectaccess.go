package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.SubjectAccess = (*DB)(nil)

// The columns a listing reads: never the export, which can be large.
const sarColumns = `id, person, made, details, state, due, body, version`

// AddSubjectAccessRequest inserts r only if its person exists, in one
// statement; the primary key refuses a stored ID.
func (db *DB) AddSubjectAccessRequest(ctx context.Context, r store.SubjectAccessRequest) error {
	res, err := db.w.ExecContext(ctx, `INSERT INTO subject_access_requests (`+sarColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, 1 WHERE EXISTS (SELECT 1 FROM people WHERE id = ?)`,
		r.ID, r.Person, store.Nanos(r.Made), r.Details, r.State, store.Nanos(r.Due), nullBytes(r.Body), r.Person)
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return fmt.Errorf("adding subject access request %s: no person %q: %w", r.ID, r.Person, store.ErrNotFound)
	}
	return nil
}

// SubjectAccessRequestByID returns the request; ErrNotFound if none.
func (db *DB) SubjectAccessRequestByID(ctx context.Context, id string) (store.SubjectAccessRequest, error) {
	return scanSubjectAccessRequest(db.r.QueryRowContext(ctx, `SELECT `+sarColumns+` FROM subject_access_requests WHERE id = ?`, id))
}

// UpdateSubjectAccessRequest is a compare-and-swap on the version; what
// never changes is part of the guard, so a row that differs in it is a
// conflict, not an update. COALESCE keeps a stored answer.
func (db *DB) UpdateSubjectAccessRequest(ctx context.Context, r store.SubjectAccessRequest, export []byte) error {
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subject_access_requests SET state = ?, due = ?, body = ?, version = ?,
			export = COALESCE(export, ?)
			WHERE id = ? AND version = ? AND person = ? AND made = ? AND details = ?`,
			r.State, store.Nanos(r.Due), nullBytes(r.Body), r.Version, nullBytes(export),
			r.ID, r.Version-1, r.Person, store.Nanos(r.Made), r.Details)
		if err != nil {
			return err
		}
		return guarded(ctx, tx, res, `SELECT 1 FROM subject_access_requests WHERE id = ?`, r.ID)
	}))
}

// ListSubjectAccessRequests lists requests most recent first; requests
// made at the same instant come in descending ID order, as changes do.
func (db *DB) ListSubjectAccessRequests(ctx context.Context, person string) ([]store.SubjectAccessRequest, error) {
	q := `SELECT ` + sarColumns + ` FROM subject_access_requests ORDER BY made DESC, id DESC`
	var args []any
	if person != "" {
		q = `SELECT ` + sarColumns + ` FROM subject_access_requests WHERE person = ? ORDER BY made DESC, id DESC`
		args = append(args, person)
	}
	return queryAll(ctx, db.r, scanSubjectAccessRequest, q, args...)
}

func scanSubjectAccessRequest(row scanner) (store.SubjectAccessRequest, error) {
	var r store.SubjectAccessRequest
	var made, due int64
	if err := row.Scan(&r.ID, &r.Person, &made, &r.Details, &r.State, &due, &r.Body, &r.Version); err != nil {
		return store.SubjectAccessRequest{}, translate(err)
	}
	r.Made, r.Due = store.FromNanos(made), store.FromNanos(due)
	return r, nil
}

// SubjectAccessExport returns the stored answer.
func (db *DB) SubjectAccessExport(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := db.r.QueryRowContext(ctx, `SELECT export FROM subject_access_requests WHERE id = ? AND export IS NOT NULL`, id).Scan(&b)
	if err != nil {
		return nil, translate(err)
	}
	return b, nil
}

// SubjectSummary groups the subject's ranges of entries_subject_scan
// (subject, log, time, idx, category, …), one per log, by category:
// every column it reads is in the index, so no entry row is read.
func (db *DB) SubjectSummary(ctx context.Context, logs []string, subject string) ([]store.CategorySummary, error) {
	logs = slices.Compact(slices.Sorted(slices.Values(logs)))
	if len(logs) == 0 {
		return nil, nil
	}
	args := []any{subject}
	for _, l := range logs {
		args = append(args, l)
	}
	return queryAll(ctx, db.r, func(row scanner) (store.CategorySummary, error) {
		var c store.CategorySummary
		var first, last int64
		if err := row.Scan(&c.Category, &c.Count, &first, &last); err != nil {
			return c, translate(err)
		}
		c.First, c.Last = store.FromNanos(first), store.FromNanos(last)
		return c, nil
	}, subjectSummaryQuery(len(logs)), args...)
}

// subjectSummaryQuery is SubjectSummary's statement for n logs.
func subjectSummaryQuery(n int) string {
	return `SELECT category, count(*), min(time), max(time) FROM entries INDEXED BY entries_subject_scan
	WHERE subject = ? AND log IN (` + placeholders(n) + `) GROUP BY category ORDER BY category`
}
