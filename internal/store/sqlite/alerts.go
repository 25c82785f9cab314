package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Alerts = (*DB)(nil)

const alertColumns = `id, rule, severity, subject, pseudonym, state, assignee, event_time, created, updated, dedup, body, version`

// AddAlerts moves the cursor and inserts the alerts in one IMMEDIATE
// transaction. The cursor goes first, through an upsert that changes no
// row when it would go back, so a batch from behind it writes nothing. An
// alert whose Dedup is stored (or earlier in the batch) is skipped by ON
// CONFLICT; a stored ID fails the primary key and rolls back the whole,
// cursor included.
func (db *DB) AddAlerts(ctx context.Context, log string, through uint64, as []store.StoredAlert) error {
	if err := store.CheckAlertBatch(log, through, as); err != nil {
		return err
	}
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO detection_cursors (log, next) VALUES (?, ?)
			ON CONFLICT (log) DO UPDATE SET next = excluded.next WHERE detection_cursors.next <= excluded.next
			RETURNING next`, log, int64(through)).Scan(new(int64))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("adding alerts of %s through %d: detection is past it: %w", log, through, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if len(as) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO alerts (`+alertColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
			ON CONFLICT (dedup) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, a := range as {
			_, err := stmt.ExecContext(ctx, a.ID, a.Rule, a.Severity, a.Subject, a.Pseudonym, a.State, a.Assignee,
				store.Nanos(a.Time), store.Nanos(a.Created), store.Nanos(a.Updated), a.Dedup, nullBytes(a.Body))
			if err != nil {
				return err
			}
		}
		return nil
	}))
}

// DetectionCursor returns where detection in log has got to.
func (db *DB) DetectionCursor(ctx context.Context, log string) (uint64, error) {
	var next int64
	err := db.r.QueryRowContext(ctx, `SELECT next FROM detection_cursors WHERE log = ?`, log).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, translate(err)
	}
	return uint64(next), nil
}

func scanAlert(row scanner) (store.StoredAlert, error) {
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
	return scanAlert(db.r.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
}

// UpdateAlert is one guarded UPDATE, which compares the version and the
// fields that never change, in an IMMEDIATE transaction with the check
// that tells a conflict from an absence: of two updates read at one
// version, the second finds the first's version and changes nothing.
func (db *DB) UpdateAlert(ctx context.Context, a store.StoredAlert) error {
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alerts SET severity = ?, state = ?, assignee = ?, updated = ?, body = ?, version = ?
			WHERE id = ? AND version = ? AND rule = ? AND subject = ? AND pseudonym = ? AND event_time = ? AND created = ? AND dedup = ?`,
			a.Severity, a.State, a.Assignee, store.Nanos(a.Updated), nullBytes(a.Body), a.Version,
			a.ID, a.Version-1, a.Rule, a.Subject, a.Pseudonym, store.Nanos(a.Time), store.Nanos(a.Created), a.Dedup)
		if err != nil {
			return err
		}
		return guarded(ctx, tx, res, `SELECT 1 FROM alerts WHERE id = ?`, a.ID)
	}))
}

// ListAlerts pages through the alerts q selects, greatest ID first. A
// State or Assignee filter is a range of its index, read backwards.
func (db *DB) ListAlerts(ctx context.Context, q store.AlertQuery) ([]store.StoredAlert, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	where := []string{`true`}
	var args []any
	if q.Before != "" {
		where = append(where, `id < ?`)
		args = append(args, q.Before)
	}
	if q.State != "" {
		where = append(where, `state = ?`)
		args = append(args, q.State)
	}
	if q.Assignee != "" {
		where = append(where, `assignee = ?`)
		args = append(args, q.Assignee)
	}
	return queryAll(ctx, db.r, scanAlert, `SELECT `+alertColumns+` FROM alerts WHERE `+strings.Join(where, ` AND `)+`
		ORDER BY id DESC LIMIT ?`, append(args, limit)...)
}
