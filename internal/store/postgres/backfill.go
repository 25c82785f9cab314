package postgres

import (
	"context"
	"fmt"
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
// ingest. It runs on every Open and reads only entries whose category is
// still empty (the entries_unfilled index), so once done it costs one index
// probe; it is idempotent, and two nodes opening together at worst write
// the same values twice.
//
// It walks (log, idx) forward rather than asking again for what is left
// unfilled: an entry whose meta names no category stays empty and must not
// be read again in the same Open. Meta that does not parse is left as it is;
// the entry is still found by Entries, and its leaf check reports it.
func (db *DB) backfill(ctx context.Context) error {
	var afterLog string
	afterIdx := int64(-1)
	for {
		rows, err := db.pool.Query(ctx, `SELECT log, idx, time, meta FROM entries
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
		var batch pgx.Batch
		n := 0
		for rows.Next() {
			var log string
			var idx, at int64
			var meta []byte
			if err := rows.Scan(&log, &idx, &at, &meta); err != nil {
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
