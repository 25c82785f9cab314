package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

const dataKeyColumns = `id, subject, period, kek_id, wrapped, created, destroyed`

func scanDataKey(row scanner) (store.DataKey, error) {
	var k store.DataKey
	var created int64
	var destroyed sql.NullInt64
	if err := row.Scan(&k.ID, &k.Subject, &k.Period, &k.KEKID, &k.Wrapped, &created, &destroyed); err != nil {
		return k, translate(err)
	}
	k.Created = time.Unix(0, created).UTC()
	if destroyed.Valid {
		k.Destroyed = time.Unix(0, destroyed.Int64).UTC()
	}
	return k, nil
}

// DataKeyFor returns subject's key for period.
func (db *DB) DataKeyFor(ctx context.Context, subject, period string) (store.DataKey, error) {
	return scanDataKey(db.keys.QueryRowContext(ctx, `SELECT `+dataKeyColumns+` FROM data_keys WHERE subject = ? AND period = ?`, subject, period))
}

// DataKeyByID returns the key with that ID.
func (db *DB) DataKeyByID(ctx context.Context, id []byte) (store.DataKey, error) {
	return scanDataKey(db.keys.QueryRowContext(ctx, `SELECT `+dataKeyColumns+` FROM data_keys WHERE id = ?`, id))
}

// AddDataKey stores a new wrapped key.
func (db *DB) AddDataKey(ctx context.Context, k store.DataKey) error {
	_, err := db.keys.ExecContext(ctx, `INSERT INTO data_keys (id, subject, period, kek_id, wrapped, created) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Subject, k.Period, k.KEKID, k.Wrapped, k.Created.UnixNano())
	return translate(err)
}

// AddDataKeys stores many keys in one transaction (one fsync), skipping
// subject-periods that already have a key.
func (db *DB) AddDataKeys(ctx context.Context, ks []store.DataKey) error {
	return translate(withTx(ctx, db.keys, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO data_keys (id, subject, period, kek_id, wrapped, created) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (subject, period) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, k := range ks {
			if _, err := stmt.ExecContext(ctx, k.ID, k.Subject, k.Period, k.KEKID, k.Wrapped, k.Created.UnixNano()); err != nil {
				return err
			}
		}
		return nil
	}))
}

// AddSource stores a source and its token together.
func (db *DB) AddSource(ctx context.Context, s store.Source, t store.Token) error {
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sources (id, created) VALUES (?, ?)`, s.ID, s.Created.UnixNano()); err != nil {
			return err
		}
		return insertToken(ctx, tx, t)
	}))
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertToken(ctx context.Context, e execer, t store.Token) error {
	_, err := e.ExecContext(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.Kind, t.Subject, t.Role, t.Created.UnixNano(), store.Nanos(t.Expires), store.Nanos(t.Revoked), store.Nanos(t.SteppedUp))
	return err
}

const tokenColumns = `hash, kind, subject, role, created, expires, revoked, stepped_up`

// AddToken stores a token hash.
func (db *DB) AddToken(ctx context.Context, t store.Token) error {
	return translate(insertToken(ctx, db.w, t))
}

// TokenByHash finds a token by its hash.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	var t store.Token
	var created, expires, revoked, steppedUp int64
	err := db.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash).
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
// revocation time.
func (db *DB) RevokeToken(ctx context.Context, hash []byte, at time.Time) error {
	if err := checkRevoke(at); err != nil {
		return err
	}
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = ? WHERE hash = ? AND revoked = 0`, store.Nanos(at), hash); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT 1 FROM tokens WHERE hash = ?`, hash).Scan(new(int))
	}))
}

// RevokeTokensOf revokes a subject's unrevoked tokens of the given kinds.
func (db *DB) RevokeTokensOf(ctx context.Context, subject string, kinds []string, at time.Time) (int, error) {
	if err := checkRevoke(at); err != nil {
		return 0, err
	}
	if len(kinds) == 0 {
		return 0, nil
	}
	args := []any{store.Nanos(at), subject}
	for _, k := range kinds {
		args = append(args, k)
	}
	res, err := db.w.ExecContext(ctx, `UPDATE tokens SET revoked = ? WHERE subject = ? AND revoked = 0 AND kind IN (?`+strings.Repeat(",?", len(kinds)-1)+`)`, args...)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}

// StepUp records a second factor on an unrevoked token.
func (db *DB) StepUp(ctx context.Context, hash []byte, at time.Time) error {
	if store.Nanos(at) == 0 {
		return errors.New("stepping up: no time")
	}
	res, err := db.w.ExecContext(ctx, `UPDATE tokens SET stepped_up = ? WHERE hash = ? AND revoked = 0`, store.Nanos(at), hash)
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cmp.Or(translate(err), store.ErrNotFound)
	}
	return nil
}

// ListSources lists sources in ID order.
func (db *DB) ListSources(ctx context.Context) ([]store.Source, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, created FROM sources ORDER BY id`)
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
