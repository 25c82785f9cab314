package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Holds = (*DB)(nil)

const holdColumns = `id, person, reason, placed_by, placed, released, released_by, release_note`

// AddHold inserts the hold; the primary key refuses a stored ID.
func (db *DB) AddHold(ctx context.Context, h store.Hold) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO holds (`+holdColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		h.ID, h.Person, h.Reason, h.PlacedBy, store.Nanos(h.Placed), store.Nanos(h.Released), h.ReleasedBy, h.ReleaseNote)
	return translate(err)
}

func scanHold(row pgx.Row) (store.Hold, error) {
	var h store.Hold
	var placed, released int64
	if err := row.Scan(&h.ID, &h.Person, &h.Reason, &h.PlacedBy, &placed, &released, &h.ReleasedBy, &h.ReleaseNote); err != nil {
		return store.Hold{}, translate(err)
	}
	h.Placed, h.Released = store.FromNanos(placed), store.FromNanos(released)
	return h, nil
}

// ReleaseHold is one guarded UPDATE of a hold still in force, returning
// what it stored. Of two releases the second waits for the first's row
// lock, re-reads the row, finds it released and changes nothing; the
// check in the same transaction then tells that from an absent hold.
func (db *DB) ReleaseHold(ctx context.Context, id, by, note string, at time.Time) (store.Hold, error) {
	if at.IsZero() {
		// It would read back as a hold in force.
		return store.Hold{}, errors.New("releasing a hold at the zero time")
	}
	var h store.Hold
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		h, err = scanHold(tx.QueryRow(ctx, `UPDATE holds SET released = $1, released_by = $2, release_note = $3
			WHERE id = $4 AND released = 0 RETURNING `+holdColumns, store.Nanos(at), by, note, id))
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return guarded(ctx, tx, 0, `SELECT 1 FROM holds WHERE id = $1`, id)
	})
	if err != nil {
		return store.Hold{}, translate(err)
	}
	return h, nil
}

// HoldByID returns the hold with that ID.
func (db *DB) HoldByID(ctx context.Context, id string) (store.Hold, error) {
	return scanHold(db.pool.QueryRow(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = $1`, id))
}

// ListHolds returns the holds newest first: by Placed, then by ID,
// greatest first.
func (db *DB) ListHolds(ctx context.Context, includeReleased bool) ([]store.Hold, error) {
	where := `released = 0`
	if includeReleased {
		where = `true`
	}
	return queryAll(ctx, db.pool, scanHold, `SELECT `+holdColumns+` FROM holds WHERE `+where+` ORDER BY placed DESC, id DESC`)
}
