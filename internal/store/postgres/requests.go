package postgres

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

const storedRequestColumns = `id, reference, requester, subjects, state, created, updated, expires_at, deadline, body, version`

// subjectsArg is subjects as the NOT NULL column takes them: pgx sends nil
// as NULL. A subject that is not UTF-8 is refused with the message SQLite
// gives, rather than the server's encoding error.
func subjectsArg(ss []string) ([]string, error) {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("subject %q is not UTF-8", s)
		}
	}
	if ss == nil {
		return []string{}, nil
	}
	return ss, nil
}

// AddRequest inserts the request in one statement; the primary key and
// the unique reference refuse a stored ID or Reference.
func (db *DB) AddRequest(ctx context.Context, r store.StoredRequest) error {
	subjects, err := subjectsArg(r.Subjects)
	if err != nil {
		return fmt.Errorf("adding request %s: %v", r.ID, err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO requests (`+storedRequestColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)`,
		r.ID, r.Reference, r.Requester, subjects, r.State, store.Nanos(r.Created), store.Nanos(r.Updated),
		store.Nanos(r.ExpiresAt), store.Nanos(r.Deadline), nullBytes(r.Body))
	return translate(err)
}

func scanRequest(row pgx.Row) (store.StoredRequest, error) {
	var r store.StoredRequest
	var created, updated, expiresAt, deadline int64
	if err := row.Scan(&r.ID, &r.Reference, &r.Requester, &r.Subjects, &r.State, &created, &updated, &expiresAt, &deadline, &r.Body, &r.Version); err != nil {
		return store.StoredRequest{}, translate(err)
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
	return scanRequest(db.pool.QueryRow(ctx, `SELECT `+storedRequestColumns+` FROM requests WHERE id = $1`, id))
}

// UpdateRequest is one guarded UPDATE, which compares the version and the
// fields that never change. Of two updates read at one version, the
// second waits for the first's row lock, then re-reads the row under READ
// COMMITTED, finds the first's version and changes nothing. The check that
// tells a conflict from an absence runs in the same transaction.
func (db *DB) UpdateRequest(ctx context.Context, r store.StoredRequest) error {
	subjects, err := subjectsArg(r.Subjects)
	if err != nil {
		return fmt.Errorf("updating request %s: %v", r.ID, err)
	}
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE requests SET subjects = $1, state = $2, updated = $3, expires_at = $4, deadline = $5, body = $6, version = $7
			WHERE id = $8 AND version = $9 AND reference = $10 AND requester = $11 AND created = $12`,
			subjects, r.State, store.Nanos(r.Updated), store.Nanos(r.ExpiresAt), store.Nanos(r.Deadline), nullBytes(r.Body), r.Version,
			r.ID, r.Version-1, r.Reference, r.Requester, store.Nanos(r.Created))
		if err != nil {
			return err
		}
		return guarded(ctx, tx, tag.RowsAffected(), `SELECT 1 FROM requests WHERE id = $1`, r.ID)
	}))
}

// ListRequests pages through the requests q selects in ID order; a
// subject's are found through the GIN index on subjects.
func (db *DB) ListRequests(ctx context.Context, q store.RequestQuery) ([]store.StoredRequest, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	where := `id > $1`
	args := []any{q.After}
	arg := func(cond string, v any) {
		args = append(args, v)
		where += ` AND ` + cond + ` $` + strconv.Itoa(len(args))
	}
	if q.State != "" {
		arg(`state =`, q.State)
	}
	if q.Requester != "" {
		arg(`requester =`, q.Requester)
	}
	if q.Subject != "" {
		args = append(args, q.Subject)
		where += ` AND subjects @> ARRAY[$` + strconv.Itoa(len(args)) + `::text]`
	}
	if !q.DueBy.IsZero() {
		// deadline <> 0 spelt out, so the partial index applies.
		arg(`deadline <> 0 AND deadline <=`, store.Nanos(q.DueBy))
	}
	args = append(args, limit)
	return queryAll(ctx, db.pool, scanRequest, `SELECT `+storedRequestColumns+` FROM requests WHERE `+where+`
		ORDER BY id LIMIT $`+strconv.Itoa(len(args)), args...)
}

// NextRequestNumber takes the year's number and moves the counter on in
// one upsert. Concurrent callers, on any node, queue on the year's row
// lock (or, for the year's first number, on its unique index entry) and
// each reads the counter as the one before left it.
func (db *DB) NextRequestNumber(ctx context.Context, year int) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `INSERT INTO request_numbers (year, next) VALUES ($1, 2)
		ON CONFLICT (year) DO UPDATE SET next = request_numbers.next + 1
		RETURNING next - 1`, year).Scan(&n)
	if err != nil {
		return 0, translate(err)
	}
	return n, nil
}
