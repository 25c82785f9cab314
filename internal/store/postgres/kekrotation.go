package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.KEKRotation = (*DB)(nil)

// live is the condition of a data key not destroyed: a row with either
// mark is left alone, as internal/keys leaves it.
const live = `destroyed IS NULL AND wrapped IS NOT NULL`

// DataKeysWrappedBy lists live keys under kekID after the id after, by the
// primary key's order: each batch reads on from the cursor, and no index
// on kek_id is needed.
func (db *DB) DataKeysWrappedBy(ctx context.Context, kekID string, after []byte, limit int) ([]store.DataKey, error) {
	if limit < 1 {
		return nil, errors.New("listing data keys: limit below 1")
	}
	q := `SELECT ` + dataKeyColumns + ` FROM data_keys WHERE kek_id = $1 AND ` + live
	args := []any{kekID, limit}
	if after != nil {
		q += ` AND id > $3`
		args = append(args, after)
	}
	q += ` ORDER BY id LIMIT $2`
	return queryAll(ctx, db.keys, scanDataKey, q, args...)
}

// RewrapDataKey swaps one key's wrapping if it is still under from.
func (db *DB) RewrapDataKey(ctx context.Context, id []byte, from, to string, wrapped []byte) error {
	if wrapped == nil || to == "" {
		return errors.New("rewrapping a data key: no wrapped key or no KEK id")
	}
	return translate(pgx.BeginFunc(ctx, db.keys, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE data_keys SET wrapped = $1, kek_id = $2 WHERE id = $3 AND kek_id = $4 AND `+live,
			wrapped, to, id, from)
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT 1 FROM data_keys WHERE id = $1`, id).Scan(new(int)); err != nil {
			return err
		}
		return store.ErrConflict
	}))
}

// CountDataKeys counts keys by KEK in one pass over the table.
func (db *DB) CountDataKeys(ctx context.Context) (store.KEKCount, error) {
	c := store.KEKCount{Live: map[string]int{}}
	rows, err := db.keys.Query(ctx, `SELECT kek_id, `+live+`, COUNT(*) FROM data_keys GROUP BY 1, 2`)
	if err != nil {
		return c, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kek string
		var isLive bool
		var n int64
		if err := rows.Scan(&kek, &isLive, &n); err != nil {
			return c, translate(err)
		}
		if isLive {
			c.Live[kek] += int(n)
		} else {
			c.Destroyed += int(n)
		}
	}
	return c, translate(rows.Err())
}
