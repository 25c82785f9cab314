package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Retention = (*DB)(nil)

// ExpiringEntries pages through a month of log by entries_retention; the
// time range prunes to the month's partition.
func (db *DB) ExpiringEntries(ctx context.Context, q store.ExpiryQuery) ([]store.Expiring, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	where := `log = $1 AND time >= $2 AND time < $3 AND deleted = 0 AND category = ANY($4)`
	args := []any{q.Log, q.From, q.To, q.Categories}
	if len(q.OtherThan) > 0 {
		where = `log = $1 AND time >= $2 AND time < $3 AND deleted = 0 AND NOT (category = ANY($4))`
		args[3] = q.OtherThan
	}
	if q.Step == store.DeleteContent {
		where += ` AND content IS NOT NULL AND content_deleted = 0`
	}
	if q.HasAfter {
		where += ` AND (time, idx) > ($5, $6)`
		args = append(args, q.AfterTime, clampIndex(q.AfterIndex))
	}
	args = append(args, q.MaxEntries())
	rows, err := db.pool.Query(ctx, `SELECT idx, time, category, subject, related, key_id FROM entries
		WHERE `+where+fmt.Sprintf(` ORDER BY time, idx LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, translate(err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Expiring, error) {
		var x store.Expiring
		var idx int64
		err := r.Scan(&idx, &x.Time, &x.Category, &x.Subject, &x.Related, &x.KeyID)
		x.Index = uint64(idx)
		if len(x.Related) == 0 {
			x.Related = nil
		}
		return x, translate(err)
	})
}

func clampIndex(i uint64) int64 {
	if i > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(i)
}

// DeleteExpired runs one step in one transaction. Each target's time
// bounds the statements, so they touch only the partitions it is in.
func (db *DB) DeleteExpired(ctx context.Context, log string, step store.DeletionStep, targets []store.Expiring, d store.Deletion, pending []store.PendingKey) (int, error) {
	if step != store.DeleteContent && step != store.DeleteEntry {
		return 0, fmt.Errorf("deleting from %s: unknown step %q", log, step)
	}
	if len(targets) == 0 && len(pending) == 0 {
		return 0, nil
	}
	idxs := make([]int64, len(targets))
	times := make([]int64, len(targets))
	for i, t := range targets {
		idxs[i], times[i] = clampIndex(t.Index), t.Time
	}
	lo, hi := int64(0), int64(-1)
	if len(times) > 0 {
		lo, hi = slices.Min(times), slices.Max(times)
	}
	at := store.Nanos(d.At)
	changed := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		const targeted = `log = $1 AND time BETWEEN $2 AND $3 AND (idx, time) IN (SELECT * FROM unnest($4::bigint[], $5::bigint[]))`
		var tag interface{ RowsAffected() int64 }
		var err error
		if step == store.DeleteContent {
			tag, err = tx.Exec(ctx, `UPDATE entries SET content = NULL, terms = NULL, content_deleted = $6, deleted_by = $7
				WHERE `+targeted+` AND deleted = 0 AND content IS NOT NULL AND content_deleted = 0`,
				log, lo, hi, idxs, times, at, d.By)
		} else {
			if err := deleteIndexRowsOf(ctx, tx, log, lo, hi, idxs, times); err != nil {
				return err
			}
			tag, err = tx.Exec(ctx, `UPDATE entries SET meta = '\x'::bytea, subject = '', client_id = NULL, content = NULL, terms = NULL,
				action = '', related = NULL, deleted = $6, deleted_by = $7,
				content_deleted = CASE WHEN content_deleted = 0 AND key_id IS NOT NULL THEN $6 ELSE content_deleted END
				WHERE `+targeted+` AND deleted = 0`,
				log, lo, hi, idxs, times, at, d.By)
		}
		if err != nil {
			return translate(err)
		}
		changed = int(tag.RowsAffected())
		for _, k := range pending {
			if _, err := tx.Exec(ctx, `INSERT INTO retention_pending_keys (id, subject, period) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
				k.ID, k.Subject, k.Period); err != nil {
				return translate(err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}

// deleteIndexRowsOf deletes the entry_related and client_ids rows of the
// targeted entries not yet deleted, found from the entries' own columns.
func deleteIndexRowsOf(ctx context.Context, tx pgx.Tx, log string, lo, hi int64, idxs, times []int64) error {
	rows, err := tx.Query(ctx, `SELECT idx, time, source, client_id, related FROM entries
		WHERE log = $1 AND time BETWEEN $2 AND $3 AND (idx, time) IN (SELECT * FROM unnest($4::bigint[], $5::bigint[])) AND deleted = 0`,
		log, lo, hi, idxs, times)
	if err != nil {
		return translate(err)
	}
	var people, sources, clients []string
	var relIdx, relTime []int64
	for rows.Next() {
		var idx, t int64
		var source string
		var client *string
		var related []string
		if err := rows.Scan(&idx, &t, &source, &client, &related); err != nil {
			rows.Close()
			return translate(err)
		}
		for _, p := range related {
			people, relIdx, relTime = append(people, p), append(relIdx, idx), append(relTime, t)
		}
		if client != nil {
			sources, clients = append(sources, source), append(clients, *client)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	if len(people) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM entry_related WHERE log = $1 AND time BETWEEN $2 AND $3
			AND (person, time, idx) IN (SELECT * FROM unnest($4::text[], $5::bigint[], $6::bigint[]))`,
			log, lo, hi, people, relTime, relIdx); err != nil {
			return translate(err)
		}
	}
	if len(clients) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM client_ids WHERE log = $1
			AND (source, client_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`, log, sources, clients); err != nil {
			return translate(err)
		}
	}
	return nil
}

// PendingKeys returns keys waiting to be destroyed.
func (db *DB) PendingKeys(ctx context.Context, limit int) ([]store.PendingKey, error) {
	return queryAll(ctx, db.pool, func(row pgx.Row) (store.PendingKey, error) {
		var k store.PendingKey
		return k, translate(row.Scan(&k.ID, &k.Subject, &k.Period))
	}, `SELECT id, subject, period FROM retention_pending_keys ORDER BY id LIMIT $1`, limit)
}

// ContentUnderKey probes the subject's entries in the range, in every log.
func (db *DB) ContentUnderKey(ctx context.Context, subject string, from, to int64, id []byte) (bool, error) {
	var found bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tree_state s JOIN entries e ON e.subject = $1 AND e.log = s.log
		AND e.time >= $2 AND e.time < $3 AND ($4::bytea IS NULL OR e.key_id = $4) AND e.content IS NOT NULL)`, subject, from, to, id).Scan(&found)
	return found, translate(err)
}

// OldestLive reads the first key of entries_retention for log.
func (db *DB) OldestLive(ctx context.Context, log string) (int64, bool, error) {
	var t *int64
	err := db.pool.QueryRow(ctx, `SELECT min(time) FROM entries WHERE log = $1 AND deleted = 0`, log).Scan(&t)
	if err != nil || t == nil {
		return 0, false, translate(err)
	}
	return *t, true, nil
}

// ForgetPendingKey removes a pending key.
func (db *DB) ForgetPendingKey(ctx context.Context, id []byte) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM retention_pending_keys WHERE id = $1`, id)
	return translate(err)
}

// DestroyDataKey deletes a wrapped key in the keys database.
func (db *DB) DestroyDataKey(ctx context.Context, id []byte, at time.Time) error {
	tag, err := db.keys.Exec(ctx, `UPDATE data_keys SET wrapped = NULL, destroyed = $1 WHERE id = $2 AND destroyed IS NULL`, store.Nanos(at), id)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var one int
	return translate(db.keys.QueryRow(ctx, `SELECT 1 FROM data_keys WHERE id = $1`, id).Scan(&one))
}

const markColumns = `log, category, month, step, done, deleted, kept`

// RetentionMarks returns log's marks.
func (db *DB) RetentionMarks(ctx context.Context, log string) ([]store.RetentionMark, error) {
	return queryAll(ctx, db.pool, func(row pgx.Row) (store.RetentionMark, error) {
		var m store.RetentionMark
		var done int64
		err := row.Scan(&m.Log, &m.Category, &m.Month, &m.Step, &done, &m.Deleted, &m.Kept)
		m.Done = store.FromNanos(done)
		return m, translate(err)
	}, `SELECT `+markColumns+` FROM retention_marks WHERE log = $1 ORDER BY month, category, step`, log)
}

// SetRetentionMark stores m.
func (db *DB) SetRetentionMark(ctx context.Context, m store.RetentionMark) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO retention_marks (`+markColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (log, category, month, step) DO UPDATE SET done = excluded.done, deleted = excluded.deleted, kept = excluded.kept`,
		m.Log, m.Category, m.Month, string(m.Step), store.Nanos(m.Done), m.Deleted, m.Kept)
	return translate(err)
}

// Scrub rewrites the partitions of entries and entry_related that hold
// [from, to), and the data keys table, with VACUUM FULL: an UPDATE leaves
// the old row versions in the table's files until a vacuum, and a plain
// VACUUM only marks their space free. Each rewrite locks its table
// against every use while it runs, so Scrub is for a month past
// retention, whose partition sees no appends. client_ids, one table for
// all months, gets a plain VACUUM. What the write-ahead log, its archives
// and backups keep is docs/retention.md's subject.
func (db *DB) Scrub(ctx context.Context, log string, from, to int64) error {
	var tables []string
	for m := monthOf(from); m.UnixNano() < to; m = m.AddDate(0, 1, 0) {
		name := partitionName(m)
		tables = append(tables, name, twinName(name))
	}
	for _, t := range tables {
		var exists bool
		if err := db.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t).Scan(&exists); err != nil {
			return translate(err)
		}
		if !exists {
			continue
		}
		if _, err := db.pool.Exec(ctx, `VACUUM FULL `+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("vacuuming %s: %w", t, translate(err))
		}
	}
	if _, err := db.pool.Exec(ctx, `VACUUM client_ids`); err != nil {
		return fmt.Errorf("vacuuming client_ids: %w", translate(err))
	}
	if _, err := db.keys.Exec(ctx, `VACUUM FULL data_keys`); err != nil {
		return fmt.Errorf("vacuuming data_keys: %w", translate(err))
	}
	return nil
}
