package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

const dataKeyColumns = `id, subject, period, kek_id, wrapped, created, destroyed`

func scanDataKey(row *sql.Row) (store.DataKey, error) {
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
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, kind, subject, created) VALUES (?, ?, ?, ?)`, t.Hash, t.Kind, t.Subject, t.Created.UnixNano())
		return err
	}))
}

// AddToken stores a token hash.
func (db *DB) AddToken(ctx context.Context, t store.Token) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO tokens (hash, kind, subject, created) VALUES (?, ?, ?, ?)`, t.Hash, t.Kind, t.Subject, t.Created.UnixNano())
	return translate(err)
}

// TokenByHash finds a token by its hash.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	var t store.Token
	var created int64
	err := db.r.QueryRowContext(ctx, `SELECT hash, kind, subject, created FROM tokens WHERE hash = ?`, hash).Scan(&t.Hash, &t.Kind, &t.Subject, &created)
	t.Created = time.Unix(0, created).UTC()
	return t, translate(err)
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
