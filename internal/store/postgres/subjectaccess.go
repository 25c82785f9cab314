package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.SubjectAccess = (*DB)(nil)

// The columns a listing reads: never the export, which can be large.
const sarColumns = `id, person, made, details, state, due, body, version`

// AddSubjectAccessRequest inserts r only if its person exists, in one
// statement; the primary key refuses a stored ID.
func (db *DB) AddSubjectAccessRequest(ctx context.Context, r store.SubjectAccessRequest) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO subject_access_requests (`+sarColumns+`)
		SELECT $1::text, $2::text, $3::bigint, $4::text, $5::text, $6::bigint, $7::bytea, 1
		WHERE EXISTS (SELECT 1 FROM people WHERE id = $2)`,
		r.ID, r.Person, store.Nanos(r.Made), r.Details, r.State, store.Nanos(r.Due), nullBytes(r.Body))
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("adding subject access request %s: no person %q: %w", r.ID, r.Person, store.ErrNotFound)
	}
	return nil
}

// SubjectAccessRequestByID returns the request; ErrNotFound if none.
func (db *DB) SubjectAccessRequestByID(ctx context.Context, id string) (store.SubjectAccessRequest, error) {
	return scanSubjectAccessRequest(db.pool.QueryRow(ctx, `SELECT `+sarColumns+` FROM subject_access_requests WHERE id = $1`, id))
}

// UpdateSubjectAccessRequest is a compare-and-swap on the version; what
// never changes is part of the guard, so a row that differs in it is a
// conflict, not an update. COALESCE keeps a stored answer.
func (db *DB) UpdateSubjectAccessRequest(ctx context.Context, r store.SubjectAccessRequest, export []byte) error {
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subject_access_requests SET state = $1, due = $2, body = $3, version = $4,
			export = COALESCE(export, $5)
			WHERE id = $6 AND version = $7 AND person = $8 AND made = $9 AND details = $10`,
			r.State, store.Nanos(r.Due), nullBytes(r.Body), r.Version, nullBytes(export),
			r.ID, r.Version-1, r.Person, store.Nanos(r.Made), r.Details)
		if err != nil {
			return err
		}
		return guarded(ctx, tx, tag.RowsAffected(), `SELECT 1 FROM subject_access_requests WHERE id = $1`, r.ID)
	}))
}

// ListSubjectAccessRequests lists requests most recent first; requests
// made at the same instant come in descending ID order, as changes do.
func (db *DB) ListSubjectAccessRequests(ctx context.Context, person string) ([]store.SubjectAccessRequest, error) {
	return queryAll(ctx, db.pool, scanSubjectAccessRequest, `SELECT `+sarColumns+` FROM subject_access_requests
		WHERE $1 = '' OR person = $1 ORDER BY made DESC, id DESC`, person)
}

func scanSubjectAccessRequest(row pgx.Row) (store.SubjectAccessRequest, error) {
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
	err := db.pool.QueryRow(ctx, `SELECT export FROM subject_access_requests WHERE id = $1 AND export IS NOT NULL`, id).Scan(&b)
	if err != nil {
		return nil, translate(err)
	}
	return b, nil
}

// SubjectSummary groups the subject's ranges of entries_subject_scan
// (subject, log, time, idx) INCLUDE (category, …), one per log, by
// category: every column it reads is in the index, so an index-only scan
// serves it.
func (db *DB) SubjectSummary(ctx context.Context, logs []string, subject string) ([]store.CategorySummary, error) {
	logs = slices.Compact(slices.Sorted(slices.Values(logs)))
	if len(logs) == 0 {
		return nil, nil
	}
	return queryAll(ctx, db.pool, func(row pgx.Row) (store.CategorySummary, error) {
		var c store.CategorySummary
		var first, last int64
		if err := row.Scan(&c.Category, &c.Count, &first, &last); err != nil {
			return c, translate(err)
		}
		c.First, c.Last = store.FromNanos(first), store.FromNanos(last)
		return c, nil
	}, subjectSummaryQuery, subject, logs)
}

const subjectSummaryQuery = `SELECT category, count(*), min(time), max(time) FROM entries
	WHERE subject = $1 AND log = ANY($2::text[]) GROUP BY category ORDER BY category`
