package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"time"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Retention = (*DB)(nil)

// ExpiringEntries pages through a month of log by entries_retention.
func (db *DB) ExpiringEntries(ctx context.Context, q store.ExpiryQuery) ([]store.Expiring, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	// deleted = 0 spelled out: SQLite uses a partial index only for a
	// query whose WHERE implies the index's.
	cats, in := q.Categories, `IN`
	if len(q.OtherThan) > 0 {
		cats, in = q.OtherThan, `NOT IN`
	}
	where := `log = ? AND time >= ? AND time < ? AND deleted = 0 AND category ` + in + ` (` + placeholders(len(cats)) + `)`
	args := []any{q.Log, q.From, q.To}
	for _, c := range cats {
		args = append(args, c)
	}
	if q.Step == store.DeleteContent {
		where += ` AND content IS NOT NULL AND content_deleted = 0`
	}
	if q.HasAfter {
		where += ` AND (time > ? OR time = ? AND idx > ?)`
		args = append(args, q.AfterTime, q.AfterTime, clampIndex(q.AfterIndex))
	}
	rows, err := db.r.QueryContext(ctx, `SELECT idx, time, category, subject, related, key_id FROM entries INDEXED BY entries_retention
		WHERE `+where+` ORDER BY time, idx LIMIT ?`, append(args, q.MaxEntries())...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []store.Expiring
	for rows.Next() {
		var x store.Expiring
		var related sql.NullString
		if err := rows.Scan(&x.Index, &x.Time, &x.Category, &x.Subject, &related, &x.KeyID); err != nil {
			return nil, translate(err)
		}
		if related.String != "" {
			if err := json.Unmarshal([]byte(related.String), &x.Related); err != nil {
				return nil, fmt.Errorf("entry %d of %s: related people: %v", x.Index, q.Log, err)
			}
		}
		out = append(out, x)
	}
	return out, translate(rows.Err())
}

func clampIndex(i uint64) int64 {
	if i > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(i)
}

// DeleteExpired runs one step on the entries at indexes in one transaction.
func (db *DB) DeleteExpired(ctx context.Context, log string, step store.DeletionStep, targets []store.Expiring, d store.Deletion, pending []store.PendingKey) (int, error) {
	if step != store.DeleteContent && step != store.DeleteEntry {
		return 0, fmt.Errorf("deleting from %s: unknown step %q", log, step)
	}
	if len(targets) == 0 && len(pending) == 0 {
		return 0, nil
	}
	indexes := make([]uint64, len(targets))
	for i, t := range targets {
		indexes[i] = t.Index
	}
	at := store.Nanos(d.At)
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, translate(err)
	}
	defer tx.Rollback()
	changed := 0
	for len(indexes) > 0 {
		chunk := indexes[:min(len(indexes), 500)]
		indexes = indexes[len(chunk):]
		in := placeholders(len(chunk))
		args := make([]any, 0, len(chunk)+1)
		args = append(args, log)
		for _, i := range chunk {
			args = append(args, clampIndex(i))
		}
		var res sql.Result
		if step == store.DeleteContent {
			res, err = tx.ExecContext(ctx, `UPDATE entries SET content = NULL, terms = NULL, content_deleted = ?, deleted_by = ?
				WHERE log = ? AND idx IN (`+in+`) AND deleted = 0 AND content IS NOT NULL AND content_deleted = 0`,
				append([]any{at, d.By}, args...)...)
		} else {
			// entry_related is keyed by person and time: its rows are
			// found from the entries' own related people.
			if err := deleteRelatedOf(ctx, tx, log, in, args); err != nil {
				return 0, err
			}
			res, err = tx.ExecContext(ctx, `UPDATE entries SET meta = X'', subject = '', client_id = NULL, content = NULL, terms = NULL,
				action = '', related = NULL, deleted = ?, deleted_by = ?,
				content_deleted = CASE WHEN content_deleted = 0 AND key_id IS NOT NULL THEN ? ELSE content_deleted END
				WHERE log = ? AND idx IN (`+in+`) AND deleted = 0`,
				append([]any{at, d.By, at}, args...)...)
		}
		if err != nil {
			return 0, translate(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, translate(err)
		}
		changed += int(n)
	}
	for _, k := range pending {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO retention_pending_keys (id, subject, period) VALUES (?, ?, ?)`, k.ID, k.Subject, k.Period); err != nil {
			return 0, translate(err)
		}
	}
	return changed, translate(tx.Commit())
}

func deleteRelatedOf(ctx context.Context, tx *sql.Tx, log, in string, args []any) error {
	rows, err := tx.QueryContext(ctx, `SELECT e.idx, e.time, j.value FROM entries e, json_each(e.related) j
		WHERE e.log = ? AND e.idx IN (`+in+`) AND e.deleted = 0 AND e.related IS NOT NULL`, args...)
	if err != nil {
		return translate(err)
	}
	type key struct {
		idx, time int64
		person    string
	}
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.idx, &k.time, &k.person); err != nil {
			rows.Close()
			return translate(err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `DELETE FROM entry_related WHERE log = ? AND person = ? AND time = ? AND idx = ?`, log, k.person, k.time, k.idx); err != nil {
			return translate(err)
		}
	}
	return nil
}

// PendingKeys returns keys waiting to be destroyed.
func (db *DB) PendingKeys(ctx context.Context, limit int) ([]store.PendingKey, error) {
	return queryAll(ctx, db.r, func(row scanner) (store.PendingKey, error) {
		var k store.PendingKey
		return k, translate(row.Scan(&k.ID, &k.Subject, &k.Period))
	}, `SELECT id, subject, period FROM retention_pending_keys ORDER BY id LIMIT ?`, limit)
}

// ContentUnderKey looks through each log's entries of subject in the range.
func (db *DB) ContentUnderKey(ctx context.Context, subject string, from, to int64, id []byte) (bool, error) {
	logs, err := queryAll(ctx, db.r, func(row scanner) (string, error) {
		var s string
		return s, translate(row.Scan(&s))
	}, `SELECT log FROM tree_state`)
	if err != nil {
		return false, err
	}
	for _, log := range logs {
		var one int
		err := db.r.QueryRowContext(ctx, `SELECT 1 FROM entries INDEXED BY entries_subject_scan
			WHERE subject = ? AND log = ? AND time >= ? AND time < ? AND (? IS NULL OR key_id = ?) AND content IS NOT NULL LIMIT 1`,
			subject, log, from, to, id, id).Scan(&one)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return false, translate(err)
		}
		return true, nil
	}
	return false, nil
}

// OldestLive reads the first key of entries_retention for log.
func (db *DB) OldestLive(ctx context.Context, log string) (int64, bool, error) {
	var t sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT min(time) FROM entries INDEXED BY entries_retention WHERE log = ? AND deleted = 0`, log).Scan(&t)
	return t.Int64, t.Valid, translate(err)
}

// ForgetPendingKey removes a pending key.
func (db *DB) ForgetPendingKey(ctx context.Context, id []byte) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM retention_pending_keys WHERE id = ?`, id)
	return translate(err)
}

// DestroyDataKey deletes a wrapped key; secure_delete zeroes its bytes.
func (db *DB) DestroyDataKey(ctx context.Context, id []byte, at time.Time) error {
	res, err := db.keys.ExecContext(ctx, `UPDATE data_keys SET wrapped = NULL, destroyed = ? WHERE id = ? AND destroyed IS NULL`, store.Nanos(at), id)
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return translate(err)
	}
	var one int
	return translate(db.keys.QueryRowContext(ctx, `SELECT 1 FROM data_keys WHERE id = ?`, id).Scan(&one))
}

const markColumns = `log, category, month, step, done, deleted, kept`

// RetentionMarks returns log's marks.
func (db *DB) RetentionMarks(ctx context.Context, log string) ([]store.RetentionMark, error) {
	return queryAll(ctx, db.r, func(row scanner) (store.RetentionMark, error) {
		var m store.RetentionMark
		var done int64
		err := row.Scan(&m.Log, &m.Category, &m.Month, &m.Step, &done, &m.Deleted, &m.Kept)
		m.Done = store.FromNanos(done)
		return m, translate(err)
	}, `SELECT `+markColumns+` FROM retention_marks WHERE log = ? ORDER BY month, category, step`, log)
}

// SetRetentionMark stores m.
func (db *DB) SetRetentionMark(ctx context.Context, m store.RetentionMark) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO retention_marks (`+markColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (log, category, month, step) DO UPDATE SET done = excluded.done, deleted = excluded.deleted, kept = excluded.kept`,
		m.Log, m.Category, m.Month, string(m.Step), store.Nanos(m.Done), m.Deleted, m.Kept)
	return translate(err)
}

// Scrub truncates both files' write-ahead logs, which still hold the
// pages as they were before the deletions; secure_delete has already
// zeroed the deleted bytes in the database files themselves.
func (db *DB) Scrub(ctx context.Context, _ string, _, _ int64) error {
	for _, f := range []struct {
		name string
		db   *sql.DB
	}{{"lbm.db", db.w}, {"keys.db", db.keys}} {
		if err := truncateWAL(ctx, f.db); err != nil {
			return fmt.Errorf("truncating the write-ahead log of %s: %w", f.name, err)
		}
	}
	return nil
}

// truncateWAL checkpoints the whole WAL into the database and truncates
// it, retrying while a reader still uses it (busy).
func truncateWAL(ctx context.Context, db *sql.DB) error {
	for attempt := 0; ; attempt++ {
		var busy, logged, done int
		if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &done); err != nil {
			return translate(err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 50 {
			return fmt.Errorf("readers kept it busy: %w", store.ErrConflict)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
