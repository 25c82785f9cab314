package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

// RegisterLog inserts l unless its name is registered, then compares what
// is stored: of two nodes registering one name at once, the second's
// insert waits for the first's row and then does nothing.
func (db *DB) RegisterLog(ctx context.Context, l store.RegisteredLog) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO log_registry (name, origin, verifier_key, created) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO NOTHING`, l.Name, l.Origin, l.VerifierKey, store.Nanos(l.Created)); err != nil {
			return err
		}
		var got store.RegisteredLog
		if err := tx.QueryRow(ctx, `SELECT origin, verifier_key FROM log_registry WHERE name = $1`, l.Name).
			Scan(&got.Origin, &got.VerifierKey); err != nil {
			return err
		}
		return store.SameRegistration(l, got)
	})
	return translate(err)
}

func (db *DB) RegisteredLogs(ctx context.Context) ([]store.RegisteredLog, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, origin, verifier_key, created FROM log_registry ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, translate(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.RegisteredLog, error) {
		var l store.RegisteredLog
		var created int64
		err := row.Scan(&l.Name, &l.Origin, &l.VerifierKey, &created)
		l.Created = store.FromNanos(created)
		return l, err
	})
	return out, translate(err)
}
