package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Alerts = (*DB)(nil)

const alertColumns = `id, rule, severity, subject, pseudonym, state, assignee, event_time, created, updated, dedup, body, version`

// AddAlerts moves the cursor and inserts the alerts in one transaction.
// The cursor goes first, through an upsert that changes no row when it
// would go back, so a batch from behind it writes nothing; the upsert
// also locks the log's cursor row, so that two detectors on one log, on
// any node, store their batches one after the other. An alert whose Dedup
// is stored (or earlier in the batch) is skipped by ON CONFLICT; a stored
// ID fails the primary key and rolls back the whole, cursor included.
func (db *DB) AddAlerts(ctx context.Context, log string, through uint64, as []store.StoredAlert) error {
	if err := store.CheckAlertBatch(log, through, as); err != nil {
		return err
	}
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO detection_cursors (log, next) VALUES ($1, $2)
			ON CONFLICT (log) DO UPDATE SET next = excluded.next WHERE detection_cursors.next <= excluded.next
			RETURNING next`, log, int64(through)).Scan(new(int64))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("adding alerts of %s through %d: detection is past it: %w", log, through, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if len(as) == 0 {
			return nil
		}
		b := &pgx.Batch{}
		for _, a := range as {
			b.Queue(`INSERT INTO alerts (`+alertColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)
				ON CONFLICT (dedup) DO NOTHING`,
				a.ID, a.Rule, a.Severity, a.Subject, a.Pseudonym, a.State, a.Assignee,
				store.Nanos(a.Time), store.Nanos(a.Created), store.Nanos(a.Updated), a.Dedup, nullBytes(a.Body))
		}
		return tx.SendBatch(ctx, b).Close()
	}))
}

// DetectionCursor returns where detection in log has got to.
func (db *DB) DetectionCursor(ctx context.Context, log string) (uint64, error) {
	var next int64
	err := db.pool.QueryRow(ctx, `SELECT next FROM detection_cursors WHERE log = $1`, log).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, translate(err)
	}
	return uint64(next), nil
}

func scanAlert(row pgx.Row) (store.StoredAlert, error) {
	var a store.StoredAlert
	var at, created, updated int64
	if err := row.Scan(&a.ID, &a.Rule, &a.Severity, &a.Subject, &a.Pseudonym, &a.State, &a.Assignee,
		&at, &created, &updated, &a.Dedup, &a.Body, &a.Version); err != nil {
		return store.StoredAlert{}, translate(err)
	}
	a.Time, a.Created, a.Updated = store.FromNanos(at), store.FromNanos(created), store.FromNanos(updated)
	return a, nil
}

// AlertByID returns the alert with that ID.
func (db *DB) AlertByID(ctx context.Context, id string) (store.StoredAlert, error) {
	return scanAlert(db.pool.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = $1`, id))
}

// UpdateAlert is one guarded UPDATE, which compares the version and the
// fields that never change. Of two updates read at one version, the
// second waits for the first's row lock, then re-reads the row under READ
// COMMITTED, finds the first's version and changes nothing. The check that
// tells a conflict from an absence runs in the same transaction.
func (db *DB) UpdateAlert(ctx context.Context, a store.StoredAlert) error {
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE alerts SET severity = $1, state = $2, assignee = $3, updated = $4, body = $5, version = $6
			WHERE id = $7 AND version = $8 AND rule = $9 AND subject = $10 AND pseudonym = $11 AND event_time = $12 AND created = $13 AND dedup = $14`,
			a.Severity, a.State, a.Assignee, store.Nanos(a.Updated), nullBytes(a.Body), a.Version,
			a.ID, a.Version-1, a.Rule, a.Subject, a.Pseudonym, store.Nanos(a.Time), store.Nanos(a.Created), a.Dedup)
		if err != nil {
			return err
		}
		return guarded(ctx, tx, tag.RowsAffected(), `SELECT 1 FROM alerts WHERE id = $1`, a.ID)
	}))
}

// ListAlerts pages through the alerts q selects, greatest ID first. A
// State or Assignee filter is a range of its index, read backwards.
func (db *DB) ListAlerts(ctx context.Context, q store.AlertQuery) ([]store.StoredAlert, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	where := `true`
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where += ` AND ` + cond + ` $` + strconv.Itoa(len(args))
	}
	if q.Before != "" {
		arg(`id <`, q.Before)
	}
	if q.State != "" {
		arg(`state =`, q.State)
	}
	if q.Assignee != "" {
		arg(`assignee =`, q.Assignee)
	}
	args = append(args, limit)
	return queryAll(ctx, db.pool, scanAlert, `SELECT `+alertColumns+` FROM alerts WHERE `+where+`
		ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
}
