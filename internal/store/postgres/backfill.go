package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/event"
)

// backfillBatch is how many entries one backfill transaction fills: small
// enough that a transaction holds its row locks briefly beside a live
// writer, large enough that round trips do not dominate: about 9,000
// entries a second on a loaded two-CPU test machine, so a million take
// two minutes, once. A variable so that a test crosses batch boundaries with a few entries.
var backfillBatch = 5000

// backfill fills category, action and related of the entries stored
// before migration 0007, from their meta, as internal/record fills them on
// ingest, and writes their entry_related rows. It runs on every Open and
// reads only entries whose category is still empty (the entries_unfilled
// index), so once done it costs one index probe; it is idempotent, and two
// nodes opening together at worst write the same values twice.
//
// It walks (log, idx) forward rather than asking again for what is left
// unfilled: an entry whose meta names no category stays empty and must not
// be read again in the same Open. Meta that does not parse is left as it is;
// the entry is still found by Entries, and its leaf check reports it.
func (db *DB) backfill(ctx context.Context) error {
	var afterLog string
	afterIdx := int64(-1)
	for {
		rows, err := db.pool.Query(ctx, `SELECT log, idx, time, source, meta FROM entries
			WHERE category = '' AND (log, idx) > ($1, $2)
			ORDER BY log, idx LIMIT $3`, afterLog, afterIdx, backfillBatch)
		if err != nil {
			return fmt.Errorf("postgres: backfilling entries: %w", translate(err))
		}
		// One UPDATE per entry, sent together: each names its entry's full
		// key, time included, so it is one primary-key probe in one
		// partition whatever the statistics say. A single UPDATE joined to
		// the batch could be planned, on a store not yet analysed, as a
		// scan of every partition per batch (as FindClientIDs explains).
		// The entry's entry_related rows go in the same batch, which
		// commits as one: QueryEvents finds related people only there.
		var batch pgx.Batch
		n := 0
		for rows.Next() {
			var log, source string
			var idx, at int64
			var meta []byte
			if err := rows.Scan(&log, &idx, &at, &source, &meta); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: backfilling entries: %w", translate(err))
			}
			n++
			afterLog, afterIdx = log, idx
			category, action, people, ok := metaFields(meta)
			if !ok || category == "" {
				continue
			}
			batch.Queue(`UPDATE entries SET category = $4, action = $5, related = $6
				WHERE log = $1 AND idx = $2 AND time = $3 AND category = ''`,
				log, idx, at, category, action, related(people))
			if len(people) > 0 {
				// DO NOTHING: another node backfilling at the same time
				// writes the same rows.
				batch.Queue(`INSERT INTO entry_related (log, person, time, idx, category, source, action)
					SELECT $1, p, $3, $2, $4, $5, $6 FROM unnest($7::text[]) AS p
					ON CONFLICT DO NOTHING`, log, idx, at, category, source, action, people)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: backfilling entries: %w", translate(err))
		}
		if batch.Len() > 0 {
			if err := db.pool.SendBatch(ctx, &batch).Close(); err != nil {
				return fmt.Errorf("postgres: backfilling entries: %w", translate(err))
			}
		}
		if n < backfillBatch {
			return nil
		}
	}
}

// relatedFillBatch is how many entries one statement of fillRelated reads:
// each is read whole from the heap (entries.related is nowhere else), about
// 27 MB a statement at 2.7 KB an entry, so that a statement is short beside
// a live writer and round trips do not dominate. A variable so that a test
// crosses batch boundaries with a few entries.
var relatedFillBatch = 10000

// fillRelated gives a store written before migration 0008 its entry_related
// rows: it creates the twin of every entries partition, then copies each
// entry's related people from entries.related. The migration leaves a row
// in entry_related_fill only when entries had any, and the fill deletes it
// when done, so on any later Open this costs one probe.
//
// It walks each partition, in name order, by its primary key's (log, idx)
// prefix, and each statement both inserts a batch's rows and advances the
// cursor in entry_related_fill, so an interrupted fill resumes where it
// stopped. It is idempotent (ON CONFLICT DO NOTHING), so two nodes opening
// together at worst write the same rows twice; entries appended meanwhile
// have their rows already (copyEntries).
func (db *DB) fillRelated(ctx context.Context) error {
	var part, afterLog string
	var afterIdx int64
	err := db.pool.QueryRow(ctx, `SELECT part, log, idx FROM entry_related_fill LIMIT 1`).Scan(&part, &afterLog, &afterIdx)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: filling entry_related: %w", translate(err))
	}
	parts, err := db.makeTwins(ctx)
	if err != nil {
		return fmt.Errorf("postgres: filling entry_related: %w", err)
	}
	for _, p := range parts {
		if p < part {
			continue // done before
		}
		if p > part {
			afterLog, afterIdx = "", -1
		}
		// The partition itself, not entries: its primary key gives the
		// batch in (log, idx) order, about the order it was written in,
		// with no merge across the other months.
		fill := `WITH b AS (
				SELECT log, idx, time, category, source, action, related FROM ` + pgx.Identifier{p}.Sanitize() + `
				WHERE (log, idx) > ($1, $2) ORDER BY log, idx LIMIT $3
			), last AS (
				SELECT log, idx FROM b ORDER BY log DESC, idx DESC LIMIT 1
			), fill AS (
				INSERT INTO entry_related (log, person, time, idx, category, source, action)
				SELECT b.log, r.person, b.time, b.idx, b.category, b.source, b.action
				FROM b CROSS JOIN LATERAL unnest(b.related) AS r(person)
				ON CONFLICT DO NOTHING
			), mark AS (
				UPDATE entry_related_fill SET part = $4, log = last.log, idx = last.idx FROM last
			)
			SELECT (SELECT count(*) FROM b), (SELECT log FROM last), (SELECT idx FROM last)`
		for {
			var n int
			var lastLog *string
			var lastIdx *int64
			if err := db.pool.QueryRow(ctx, fill, afterLog, afterIdx, relatedFillBatch, p).Scan(&n, &lastLog, &lastIdx); err != nil {
				return fmt.Errorf("postgres: filling entry_related from %s: %w", p, translate(err))
			}
			if n > 0 {
				afterLog, afterIdx = *lastLog, *lastIdx
			}
			if n < relatedFillBatch {
				break
			}
		}
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM entry_related_fill`); err != nil {
		return fmt.Errorf("postgres: filling entry_related: %w", translate(err))
	}
	return nil
}

// makeTwins creates the entry_related twin of every entries partition that
// has none, with the same bounds, under the lock ensurePartitions takes.
// It returns the names of entries' partitions, sorted.
func (db *DB) makeTwins(ctx context.Context) ([]string, error) {
	var parts []string
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("partitions")); err != nil {
			return translate(err)
		}
		have, err := partitionsOf(ctx, tx, "entries")
		if err != nil {
			return err
		}
		twins, err := partitionsOf(ctx, tx, "entry_related")
		if err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(have)) {
			parts = append(parts, name)
			if _, ok := twins[twinName(name)]; ok {
				continue
			}
			if err := attachPartition(ctx, tx, "entry_related", twinName(name), have[name]); err != nil {
				return err
			}
		}
		return nil
	})
	return parts, err
}

// partitionsOf returns the partitions of the table parent, each with its
// bound as a FOR VALUES clause.
func partitionsOf(ctx context.Context, q querier, parent string) (map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass($1)`, parent)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var name, bound string
		if err := rows.Scan(&name, &bound); err != nil {
			return nil, translate(err)
		}
		out[name] = bound
	}
	return out, translate(rows.Err())
}

// metaFields decodes event.category, event.action and related.user from
// an entry's stored metadata; ok is false when meta does not parse.
func metaFields(meta []byte) (category, action string, related []string, ok bool) {
	fs, err := event.ParseFields(meta)
	if err != nil {
		return "", "", nil, false
	}
	for _, f := range fs {
		switch f.Name {
		case "event.category":
			category, _ = event.StringValue(f.Value)
		case "event.action":
			action, _ = event.StringValue(f.Value)
		case "related.user":
			if rs, err := event.RelatedUsers(f.Value); err == nil && len(rs) > 0 {
				related = slices.Compact(slices.Sorted(slices.Values(rs)))
			}
		}
	}
	return category, action, related, true
}
