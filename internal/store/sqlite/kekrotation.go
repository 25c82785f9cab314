package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.KEKRotation = (*DB)(nil)

// live is the condition of a data key not destroyed: a row with either
// mark is left alone, as internal/keys leaves it.
const live = `destroyed IS NULL AND wrapped IS NOT NULL`

// DataKeysWrappedBy lists live keys under kekID after the id after. The
// primary key orders the table by id, so each batch reads on from the
// cursor: the keys before it that matched have been rewrapped and match no
// longer, and no index on kek_id is needed.
func (db *DB) DataKeysWrappedBy(ctx context.Context, kekID string, after []byte, limit int) ([]store.DataKey, error) {
	if limit < 1 {
		return nil, errors.New("listing data keys: limit below 1")
	}
	q := `SELECT ` + dataKeyColumns + ` FROM data_keys WHERE kek_id = ? AND ` + live
	args := []any{kekID}
	if after != nil {
		q += ` AND id > ?`
		args = append(args, after)
	}
	q += ` ORDER BY id LIMIT ?`
	return queryAll(ctx, db.keys, scanDataKey, q, append(args, limit)...)
}

// RewrapDataKey swaps one key's wrapping if it is still under from.
func (db *DB) RewrapDataKey(ctx context.Context, id []byte, from, to string, wrapped []byte) error {
	if wrapped == nil || to == "" {
		return errors.New("rewrapping a data key: no wrapped key or no KEK id")
	}
	return translate(withTx(ctx, db.keys, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE data_keys SET wrapped = ?, kek_id = ? WHERE id = ? AND kek_id = ? AND `+live,
			wrapped, to, id, from)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM data_keys WHERE id = ?`, id).Scan(new(int)); err != nil {
			return err
		}
		return store.ErrConflict
	}))
}

// CountDataKeys counts keys by KEK in one pass over the table.
func (db *DB) CountDataKeys(ctx context.Context) (store.KEKCount, error) {
	c := store.KEKCount{Live: map[string]int{}}
	rows, err := db.keys.QueryContext(ctx, `SELECT kek_id, `+live+`, COUNT(*) FROM data_keys GROUP BY 1, 2`)
	if err != nil {
		return c, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kek string
		var isLive bool
		var n int
		if err := rows.Scan(&kek, &isLive, &n); err != nil {
			return c, translate(err)
		}
		if isLive {
			c.Live[kek] += n
		} else {
			c.Destroyed += n
		}
	}
	return c, translate(rows.Err())
}
