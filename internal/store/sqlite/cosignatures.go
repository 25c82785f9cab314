package sqlite

import (
	"context"
	"fmt"
	"math"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Cosignatures = (*DB)(nil)

// AddCosignature inserts c only if its checkpoint is stored, so that a
// missing checkpoint is ErrNotFound rather than a foreign-key failure;
// the primary key makes a second cosignature by one witness ErrExists.
func (db *DB) AddCosignature(ctx context.Context, c store.Cosignature) error {
	if c.Size > math.MaxInt64 {
		return fmt.Errorf("cosignature of %s at size %d: %w", c.Log, c.Size, store.ErrNotFound)
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO cosignatures (log, size, witness, line, time)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM checkpoints WHERE log = ? AND size = ?)`,
		c.Log, int64(c.Size), c.Witness, c.Line, store.Nanos(c.Time), c.Log, int64(c.Size))
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return translate(err)
	} else if n == 0 {
		return fmt.Errorf("cosignature of %s at size %d: no such checkpoint: %w", c.Log, c.Size, store.ErrNotFound)
	}
	return nil
}

const cosignatureColumns = `log, size, witness, line, time`

func scanCosignature(row scanner) (store.Cosignature, error) {
	var c store.Cosignature
	var size, t int64
	if err := row.Scan(&c.Log, &size, &c.Witness, &c.Line, &t); err != nil {
		return store.Cosignature{}, translate(err)
	}
	c.Size, c.Time = uint64(size), store.FromNanos(t)
	return c, nil
}

// ListCosignatures returns the cosignatures of log's checkpoint of size.
func (db *DB) ListCosignatures(ctx context.Context, log string, size uint64) ([]store.Cosignature, error) {
	if size > math.MaxInt64 {
		return nil, nil
	}
	return queryAll(ctx, db.r, scanCosignature, `SELECT `+cosignatureColumns+` FROM cosignatures
		WHERE log = ? AND size = ? ORDER BY witness`, log, int64(size))
}

// LatestCosigned counts, size by size from the largest, the named
// witnesses' cosignatures.
func (db *DB) LatestCosigned(ctx context.Context, log string, witnesses []string, quorum int) (store.Checkpoint, error) {
	if len(witnesses) == 0 || quorum < 1 || quorum > len(witnesses) {
		return store.Checkpoint{}, store.ErrNotFound
	}
	args := []any{log, log}
	for _, w := range witnesses {
		args = append(args, w)
	}
	args = append(args, quorum)
	var c store.Checkpoint
	var t int64
	err := db.r.QueryRowContext(ctx, `SELECT c.size, c.time, c.note FROM checkpoints c
		WHERE c.log = ? AND c.size = (
			SELECT s.size FROM cosignatures s
			WHERE s.log = ? AND s.witness IN (`+placeholders(len(witnesses))+`)
			GROUP BY s.size HAVING count(*) >= ?
			ORDER BY s.size DESC LIMIT 1)`, args...).Scan(&c.Size, &t, &c.Note)
	if err != nil {
		return store.Checkpoint{}, translate(err)
	}
	c.Time = store.FromNanos(t)
	return c, nil
}

// LastCosignature returns witness's cosignature of the largest size.
func (db *DB) LastCosignature(ctx context.Context, log, witness string) (store.Cosignature, error) {
	return scanCosignature(db.r.QueryRowContext(ctx, `SELECT `+cosignatureColumns+` FROM cosignatures
		WHERE log = ? AND witness = ? ORDER BY size DESC LIMIT 1`, log, witness))
}
