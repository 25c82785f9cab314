package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Holds = (*DB)(nil)

const holdColumns = `id, person, reason, placed_by, placed, released, released_by, release_note`

// AddHold inserts the hold; the primary key refuses a stored ID.
func (db *DB) AddHold(ctx context.Context, h store.Hold) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO holds (`+holdColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		h.ID, h.Person, h.Reason, h.PlacedBy, store.Nanos(h.Placed), store.Nanos(h.Released), h.ReleasedBy, h.ReleaseNote)
	return translate(err)
}

func scanHold(row scanner) (store.Hold, error) {
	var h store.Hold
	var placed, released int64
	if err := row.Scan(&h.ID, &h.Person, &h.Reason, &h.PlacedBy, &placed, &released, &h.ReleasedBy, &h.ReleaseNote); err != nil {
		return store.Hold{}, translate(err)
	}
	h.Placed, h.Released = store.FromNanos(placed), store.FromNanos(released)
	return h, nil
}

// ReleaseHold is one guarded UPDATE of a hold still in force, with the
// check that tells a released hold from an absent one, and the read of
// what was stored, in the same IMMEDIATE transaction: of two releases one
// updates the row and the other finds it released.
func (db *DB) ReleaseHold(ctx context.Context, id, by, note string, at time.Time) (store.Hold, error) {
	if at.IsZero() {
		// It would read back as a hold in force.
		return store.Hold{}, errors.New("releasing a hold at the zero time")
	}
	var h store.Hold
	err := withTx(ctx, db.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE holds SET released = ?, released_by = ?, release_note = ? WHERE id = ? AND released = 0`,
			store.Nanos(at), by, note, id)
		if err != nil {
			return err
		}
		if err := guarded(ctx, tx, res, `SELECT 1 FROM holds WHERE id = ?`, id); err != nil {
			return err
		}
		h, err = scanHold(tx.QueryRowContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return store.Hold{}, translate(err)
	}
	return h, nil
}

// HoldByID returns the hold with that ID.
func (db *DB) HoldByID(ctx context.Context, id string) (store.Hold, error) {
	return scanHold(db.r.QueryRowContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = ?`, id))
}

// ListHolds returns the holds newest first: by Placed, then by ID,
// greatest first.
func (db *DB) ListHolds(ctx context.Context, includeReleased bool) ([]store.Hold, error) {
	where := `released = 0`
	if includeReleased {
		where = `true`
	}
	return queryAll(ctx, db.r, scanHold, `SELECT `+holdColumns+` FROM holds WHERE `+where+` ORDER BY placed DESC, id DESC`)
}
