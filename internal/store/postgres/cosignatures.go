package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

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
	tag, err := db.pool.Exec(ctx, `INSERT INTO cosignatures (log, size, witness, line, time)
		SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM checkpoints WHERE log = $1 AND size = $2)`,
		c.Log, int64(c.Size), c.Witness, c.Line, store.Nanos(c.Time))
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("cosignature of %s at size %d: no such checkpoint: %w", c.Log, c.Size, store.ErrNotFound)
	}
	return nil
}

const cosignatureColumns = `log, size, witness, line, time`

func scanCosignature(row pgx.Row) (store.Cosignature, error) {
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
	return queryAll(ctx, db.pool, scanCosignature, `SELECT `+cosignatureColumns+` FROM cosignatures
		WHERE log = $1 AND size = $2 ORDER BY witness`, log, int64(size))
}

// LatestCosigned counts, size by size from the largest, the named
// witnesses' cosignatures.
func (db *DB) LatestCosigned(ctx context.Context, log string, witnesses []string, quorum int) (store.Checkpoint, error) {
	if len(witnesses) == 0 || quorum < 1 || quorum > len(witnesses) {
		return store.Checkpoint{}, store.ErrNotFound
	}
	var c store.Checkpoint
	var size, t int64
	err := db.pool.QueryRow(ctx, `SELECT c.size, c.time, c.note FROM checkpoints c
		WHERE c.log = $1 AND c.size = (
			SELECT s.size FROM cosignatures s
			WHERE s.log = $1 AND s.witness = ANY($2)
			GROUP BY s.size HAVING count(*) >= $3
			ORDER BY s.size DESC LIMIT 1)`, log, witnesses, quorum).Scan(&size, &t, &c.Note)
	if err != nil {
		return store.Checkpoint{}, translate(err)
	}
	c.Size, c.Time = uint64(size), store.FromNanos(t)
	return c, nil
}

// LastCosignature returns witness's cosignature of the largest size.
func (db *DB) LastCosignature(ctx context.Context, log, witness string) (store.Cosignature, error) {
	return scanCosignature(db.pool.QueryRow(ctx, `SELECT `+cosignatureColumns+` FROM cosignatures
		WHERE log = $1 AND witness = $2 ORDER BY size DESC LIMIT 1`, log, witness))
}
