package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lbm-project/lbm/internal/store"
)

const dataKeyColumns = `id, subject, period, kek_id, wrapped, created, destroyed`

func scanDataKey(row pgx.Row) (store.DataKey, error) {
	var k store.DataKey
	var created int64
	var destroyed *int64
	if err := row.Scan(&k.ID, &k.Subject, &k.Period, &k.KEKID, &k.Wrapped, &created, &destroyed); err != nil {
		return k, translate(err)
	}
	k.Created = time.Unix(0, created).UTC()
	if destroyed != nil {
		k.Destroyed = time.Unix(0, *destroyed).UTC()
	}
	return k, nil
}

// DataKeyFor returns subject's key for period.
func (db *DB) DataKeyFor(ctx context.Context, subject, period string) (store.DataKey, error) {
	return scanDataKey(db.keys.QueryRow(ctx, `SELECT `+dataKeyColumns+` FROM data_keys WHERE subject = $1 AND period = $2`, subject, period))
}

// DataKeyByID returns the key with that ID.
func (db *DB) DataKeyByID(ctx context.Context, id []byte) (store.DataKey, error) {
	return scanDataKey(db.keys.QueryRow(ctx, `SELECT `+dataKeyColumns+` FROM data_keys WHERE id = $1`, id))
}

// AddDataKey stores a new wrapped key.
func (db *DB) AddDataKey(ctx context.Context, k store.DataKey) error {
	_, err := db.keys.Exec(ctx, `INSERT INTO data_keys (id, subject, period, kek_id, wrapped, created) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Subject, k.Period, k.KEKID, k.Wrapped, k.Created.UnixNano())
	return translate(err)
}

// AddDataKeys stores many keys in one statement, skipping subject-periods
// that already have a key.
func (db *DB) AddDataKeys(ctx context.Context, ks []store.DataKey) error {
	if len(ks) == 0 {
		return nil
	}
	ids := make([][]byte, len(ks))
	subjects := make([]string, len(ks))
	periods := make([]string, len(ks))
	kekIDs := make([]string, len(ks))
	wrapped := make([][]byte, len(ks))
	created := make([]int64, len(ks))
	for i, k := range ks {
		ids[i], subjects[i], periods[i], kekIDs[i], wrapped[i], created[i] = k.ID, k.Subject, k.Period, k.KEKID, k.Wrapped, k.Created.UnixNano()
	}
	// Inserted in (subject, period) order: two writers creating overlapping
	// keys in different orders would otherwise each wait on a key the other
	// has inserted, a deadlock PostgreSQL resolves by failing one of them.
	_, err := db.keys.Exec(ctx, `INSERT INTO data_keys (id, subject, period, kek_id, wrapped, created)
		SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bigint[])
			AS k(id, subject, period, kek_id, wrapped, created)
		ORDER BY subject, period
		ON CONFLICT (subject, period) DO NOTHING`, ids, subjects, periods, kekIDs, wrapped, created)
	return translate(err)
}

// AddSource stores a source and its token together.
func (db *DB) AddSource(ctx context.Context, s store.Source, t store.Token) error {
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sources (id, created) VALUES ($1, $2)`, s.ID, s.Created.UnixNano()); err != nil {
			return err
		}
		return insertToken(ctx, tx, t)
	}))
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const tokenColumns = `hash, kind, subject, role, created, expires, revoked, stepped_up`

func insertToken(ctx context.Context, e execer, t store.Token) error {
	_, err := e.Exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.Hash, t.Kind, t.Subject, t.Role, t.Created.UnixNano(), store.Nanos(t.Expires), store.Nanos(t.Revoked), store.Nanos(t.SteppedUp))
	return err
}

// AddToken stores a token hash.
func (db *DB) AddToken(ctx context.Context, t store.Token) error {
	return translate(insertToken(ctx, db.pool, t))
}

// TokenByHash finds a token by its hash.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	var t store.Token
	var created, expires, revoked, steppedUp int64
	err := db.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.Kind, &t.Subject, &t.Role, &created, &expires, &revoked, &steppedUp)
	if err != nil {
		return store.Token{}, translate(err)
	}
	t.Created = time.Unix(0, created).UTC()
	t.Expires, t.Revoked, t.SteppedUp = store.FromNanos(expires), store.FromNanos(revoked), store.FromNanos(steppedUp)
	return t, nil
}

// checkRevoke refuses a revocation at the zero time, which would be stored
// as "not revoked" and leave the token working.
func checkRevoke(at time.Time) error {
	if store.Nanos(at) == 0 {
		return errors.New("revoking a token: no revocation time")
	}
	return nil
}

// RevokeToken revokes one token; revoking a revoked token keeps its first
// revocation time. One statement: the UPDATE's row count says nothing of a
// token already revoked, so the outer SELECT reports whether it exists.
func (db *DB) RevokeToken(ctx context.Context, hash []byte, at time.Time) error {
	if err := checkRevoke(at); err != nil {
		return err
	}
	var exists bool
	err := db.pool.QueryRow(ctx, `WITH r AS (UPDATE tokens SET revoked = $2 WHERE hash = $1 AND revoked = 0 RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM r) OR EXISTS (SELECT 1 FROM tokens WHERE hash = $1)`, hash, store.Nanos(at)).Scan(&exists)
	if err != nil {
		return translate(err)
	}
	if !exists {
		return store.ErrNotFound
	}
	return nil
}

// RevokeTokensOf revokes a subject's unrevoked tokens of the given kinds.
func (db *DB) RevokeTokensOf(ctx context.Context, subject string, kinds []string, at time.Time) (int, error) {
	if err := checkRevoke(at); err != nil {
		return 0, err
	}
	if len(kinds) == 0 {
		return 0, nil
	}
	tag, err := db.pool.Exec(ctx, `UPDATE tokens SET revoked = $3 WHERE subject = $1 AND revoked = 0 AND kind = ANY($2::text[])`, subject, kinds, store.Nanos(at))
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}

// StepUp records a second factor on an unrevoked token.
func (db *DB) StepUp(ctx context.Context, hash []byte, at time.Time) error {
	if store.Nanos(at) == 0 {
		return errors.New("stepping up: no time")
	}
	tag, err := db.pool.Exec(ctx, `UPDATE tokens SET stepped_up = $2 WHERE hash = $1 AND revoked = 0`, hash, store.Nanos(at))
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ListSources lists sources in ID order.
func (db *DB) ListSources(ctx context.Context) ([]store.Source, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, created FROM sources ORDER BY id`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []store.Source
	for rows.Next() {
		var s store.Source
		var created int64
		if err := rows.Scan(&s.ID, &created); err != nil {
			return nil, translate(err)
		}
		s.Created = time.Unix(0, created).UTC()
		out = append(out, s)
	}
	return out, translate(rows.Err())
}
