package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/store"
)

const storedRequestColumns = `id, reference, requester, subjects, state, created, updated, expires_at, deadline, body, version`

// formatSubjects stores subjects as a JSON array, in the order given. JSON
// would replace bytes that are not UTF-8, so such an id is refused rather
// than altered, as a notice's categories are.
func formatSubjects(ss []string) (string, error) {
	if len(ss) == 0 {
		return "[]", nil
	}
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("subject %q is not UTF-8", s)
		}
	}
	b, err := json.Marshal(ss)
	return string(b), err
}

// putSubjects replaces the request's rows in request_subjects with those
// of subjects, the JSON array formatSubjects made. A subject given twice
// is one row: the array column keeps what the caller gave.
func putSubjects(ctx context.Context, tx *sql.Tx, id, subjects string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM request_subjects WHERE request_id = ?`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO request_subjects (request_id, person)
		SELECT ?, value FROM json_each(?) WHERE true
		ON CONFLICT DO NOTHING`, id, subjects)
	return err
}

// AddRequest inserts the request and its subjects in one IMMEDIATE
// transaction; the primary key and the unique reference refuse a stored
// ID or Reference, and roll back the whole.
func (db *DB) AddRequest(ctx context.Context, r store.StoredRequest) error {
	subjects, err := formatSubjects(r.Subjects)
	if err != nil {
		return fmt.Errorf("adding request %s: %v", r.ID, err)
	}
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO requests (`+storedRequestColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			r.ID, r.Reference, r.Requester, subjects, r.State, store.Nanos(r.Created), store.Nanos(r.Updated),
			store.Nanos(r.ExpiresAt), store.Nanos(r.Deadline), nullBytes(r.Body))
		if err != nil {
			return err
		}
		return putSubjects(ctx, tx, r.ID, subjects)
	}))
}

func scanRequest(row scanner) (store.StoredRequest, error) {
	var r store.StoredRequest
	var subjects string
	var created, updated, expiresAt, deadline int64
	if err := row.Scan(&r.ID, &r.Reference, &r.Requester, &subjects, &r.State, &created, &updated, &expiresAt, &deadline, &r.Body, &r.Version); err != nil {
		return store.StoredRequest{}, translate(err)
	}
	if err := json.Unmarshal([]byte(subjects), &r.Subjects); err != nil {
		return store.StoredRequest{}, fmt.Errorf("reading request %s subjects: %v", r.ID, err)
	}
	if len(r.Subjects) == 0 {
		r.Subjects = nil
	}
	r.Created, r.Updated = store.FromNanos(created), store.FromNanos(updated)
	r.ExpiresAt, r.Deadline = store.FromNanos(expiresAt), store.FromNanos(deadline)
	return r, nil
}

// RequestByID returns the request with that ID.
func (db *DB) RequestByID(ctx context.Context, id string) (store.StoredRequest, error) {
	return scanRequest(db.r.QueryRowContext(ctx, `SELECT `+storedRequestColumns+` FROM requests WHERE id = ?`, id))
}

// UpdateRequest is one guarded UPDATE, which compares the version and the
// fields that never change, and the replacement of the subjects, in one
// IMMEDIATE transaction: of two updates read at one version, the second
// finds the first's version and changes nothing.
func (db *DB) UpdateRequest(ctx context.Context, r store.StoredRequest) error {
	subjects, err := formatSubjects(r.Subjects)
	if err != nil {
		return fmt.Errorf("updating request %s: %v", r.ID, err)
	}
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE requests SET subjects = ?, state = ?, updated = ?, expires_at = ?, deadline = ?, body = ?, version = ?
			WHERE id = ? AND version = ? AND reference = ? AND requester = ? AND created = ?`,
			subjects, r.State, store.Nanos(r.Updated), store.Nanos(r.ExpiresAt), store.Nanos(r.Deadline), nullBytes(r.Body), r.Version,
			r.ID, r.Version-1, r.Reference, r.Requester, store.Nanos(r.Created))
		if err != nil {
			return err
		}
		if err := guarded(ctx, tx, res, `SELECT 1 FROM requests WHERE id = ?`, r.ID); err != nil {
			return err
		}
		return putSubjects(ctx, tx, r.ID, subjects)
	}))
}

// ListRequests pages through the requests q selects in ID order. Each
// filter has an index that yields its requests in ID order (a subject's
// through request_subjects_person), except DueBy's, whose few pending
// requests are sorted.
func (db *DB) ListRequests(ctx context.Context, q store.RequestQuery) ([]store.StoredRequest, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	from, order := `requests r`, `r.id`
	where := `r.id > ?`
	args := []any{q.After}
	if q.Subject != "" {
		// Ordered by the index's own column, so the range needs no sort.
		from, order = `request_subjects s JOIN requests r ON r.id = s.request_id`, `s.request_id`
		where = `s.person = ? AND s.request_id > ?`
		args = []any{q.Subject, q.After}
	}
	if q.State != "" {
		where += ` AND r.state = ?`
		args = append(args, q.State)
	}
	if q.Requester != "" {
		where += ` AND r.requester = ?`
		args = append(args, q.Requester)
	}
	if !q.DueBy.IsZero() {
		// Without statistics SQLite would rather walk every request in
		// ID order than sort the few pending ones, so the sweeper's query
		// names its index; a subject's requests are fewer still.
		if q.Subject == "" {
			from = `requests r INDEXED BY requests_deadline`
		}
		where += ` AND r.deadline <> 0 AND r.deadline <= ?`
		args = append(args, store.Nanos(q.DueBy))
	}
	return queryAll(ctx, db.r, scanRequest, `SELECT r.id, r.reference, r.requester, r.subjects, r.state, r.created, r.updated, r.expires_at, r.deadline, r.body, r.version
		FROM `+from+` WHERE `+where+` ORDER BY `+order+` LIMIT ?`, append(args, limit)...)
}

// NextRequestNumber takes the year's number and moves the counter on in
// one upsert, which the one writer connection and SQLite's write lock run
// alone, across processes too.
func (db *DB) NextRequestNumber(ctx context.Context, year int) (int64, error) {
	var n int64
	err := withTx(ctx, db.w, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO request_numbers (year, next) VALUES (?, 2)
			ON CONFLICT (year) DO UPDATE SET next = request_numbers.next + 1
			RETURNING next - 1`, year).Scan(&n)
	})
	if err != nil {
		return 0, translate(err)
	}
	return n, nil
}
