package sqlite

import (
	"context"
	"database/sql"

	"github.com/lbm-project/lbm/internal/store"
)

// RegisterLog inserts l unless its name is registered, then compares
// what is stored, in one transaction on the one writer connection.
func (db *DB) RegisterLog(ctx context.Context, l store.RegisteredLog) error {
	return withTx(ctx, db.w, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_registry (name, origin, verifier_key, created) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, l.Name, l.Origin, l.VerifierKey, store.Nanos(l.Created)); err != nil {
			return translate(err)
		}
		var got store.RegisteredLog
		if err := tx.QueryRowContext(ctx, `SELECT origin, verifier_key FROM log_registry WHERE name = ?`, l.Name).
			Scan(&got.Origin, &got.VerifierKey); err != nil {
			return translate(err)
		}
		return store.SameRegistration(l, got)
	})
}

func (db *DB) RegisteredLogs(ctx context.Context) ([]store.RegisteredLog, error) {
	return queryAll(ctx, db.r, func(row scanner) (store.RegisteredLog, error) {
		var l store.RegisteredLog
		var created int64
		if err := row.Scan(&l.Name, &l.Origin, &l.VerifierKey, &created); err != nil {
			return l, err
		}
		l.Created = store.FromNanos(created)
		return l, nil
	}, `SELECT name, origin, verifier_key, created FROM log_registry ORDER BY name`)
}
