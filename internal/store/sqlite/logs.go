package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

const hashSize = 32

// UpdateLog runs fn in one IMMEDIATE transaction on the writer connection.
// fn's error is returned as it is: the LogTx methods have translated theirs
// already, and translating again would hide store.ErrExists from callers.
func (db *DB) UpdateLog(ctx context.Context, log string, fn func(store.LogTx) error) error {
	var fnErr error
	err := withTx(ctx, db.w, func(tx *sql.Tx) error {
		fnErr = fn(&logTx{tx: tx, log: log})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return translate(err)
}

type logTx struct {
	tx  *sql.Tx
	log string
}

func (t *logTx) State(ctx context.Context) (store.TreeState, error) {
	return readState(ctx, t.tx, t.log)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readState(ctx context.Context, q querier, log string) (store.TreeState, error) {
	var st store.TreeState
	var rng []byte
	err := q.QueryRowContext(ctx, `SELECT size, root, range FROM tree_state WHERE log = ?`, log).Scan(&st.Size, &st.Root, &rng)
	if err == sql.ErrNoRows {
		return store.TreeState{}, nil
	}
	if err != nil {
		return st, translate(err)
	}
	if len(rng)%hashSize != 0 {
		return st, fmt.Errorf("tree state of %s: range of %d bytes is not whole hashes", log, len(rng))
	}
	for i := 0; i < len(rng); i += hashSize {
		st.Range = append(st.Range, rng[i:i+hashSize:i+hashSize])
	}
	return st, nil
}

func (t *logTx) Tiles(ctx context.Context, ids []store.TileID) (map[store.TileID][]byte, error) {
	out := make(map[store.TileID][]byte, len(ids))
	for _, id := range ids {
		var h []byte
		err := t.tx.QueryRowContext(ctx, `SELECT hashes FROM tiles WHERE log = ? AND level = ? AND idx = ?`, t.log, id.Level, id.Index).Scan(&h)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, translate(err)
		}
		out[id] = h
	}
	return out, nil
}

// maxParams keeps IN lists well under SQLite's bound-parameter limit.
const maxParams = 500

// FindClientIDs names its index: without statistics SQLite's planner
// prefers the (log, idx) index for an IN list and reads the whole log on
// every commit, which made ingest quadratic in the log's size.
func (t *logTx) FindClientIDs(ctx context.Context, source string, ids []string) (map[string]store.Entry, error) {
	return findClientIDs(ctx, t.tx, t.log, source, ids)
}

// EntriesByClientID is FindClientIDs of log, outside any transaction.
func (db *DB) EntriesByClientID(ctx context.Context, log, source string, ids []string) (map[string]store.Entry, error) {
	return findClientIDs(ctx, db.r, log, source, ids)
}

func findClientIDs(ctx context.Context, q querier, log, source string, ids []string) (map[string]store.Entry, error) {
	out := make(map[string]store.Entry)
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxParams)]
		ids = ids[len(chunk):]
		args := make([]any, 0, len(chunk)+2)
		args = append(args, log, source)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, `SELECT `+readColumns+` FROM entries INDEXED BY entries_client_id WHERE log = ? AND source = ? AND client_id IS NOT NULL AND client_id IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, translate(err)
		}
		err = scanEntries(rows, func(e store.Entry) { out[e.ClientID] = e })
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rowsPerInsert batches rows into one INSERT: per-statement overhead, not
// per-row work, dominates SQLite inserts of small rows.
const rowsPerInsert = 32

const entryColumns = `log, idx, id, time, source, subject, client_id, leaf, meta, content, key_id, terms, category, action, related`

// readColumns are entryColumns and what retention stamps on an entry.
const readColumns = entryColumns + `, content_deleted, deleted, deleted_by`

// entryParams is one entries row of placeholders, one per entryColumns.
const entryParams = `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

func (t *logTx) Append(ctx context.Context, entries []store.Entry, tiles map[store.TileID][]byte, st store.TreeState) error {
	all := entries
	var full *sql.Stmt
	for len(entries) > 0 {
		n := min(len(entries), rowsPerInsert)
		var stmt *sql.Stmt
		var err error
		if n == rowsPerInsert && full != nil {
			stmt = full
		} else {
			q := `INSERT INTO entries (` + entryColumns + `) VALUES ` + strings.TrimSuffix(strings.Repeat(entryParams+",", n), ",")
			if stmt, err = t.tx.PrepareContext(ctx, q); err != nil {
				return translate(err)
			}
			if n == rowsPerInsert {
				full = stmt
				defer full.Close()
			} else {
				defer stmt.Close()
			}
		}
		args := make([]any, 0, 15*n)
		for _, e := range entries[:n] {
			if e.Log != t.log {
				return fmt.Errorf("appending to %s: entry of log %q", t.log, e.Log)
			}
			if err := store.CheckTerms(e.Terms); err != nil {
				return fmt.Errorf("appending to %s: entry %d: %w", t.log, e.Index, err)
			}
			related, err := formatRelated(e.Related)
			if err != nil {
				return fmt.Errorf("appending to %s: entry %d: %v", t.log, e.Index, err)
			}
			args = append(args, t.log, e.Index, e.ID[:], e.Time, e.Source, e.Subject, nullString(e.ClientID), e.Leaf, e.Meta, e.Content, e.KeyID, nullString(strings.Join(e.Terms, " ")), e.Category, e.Action, related)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return translate(err)
		}
		entries = entries[n:]
	}
	// After the entries, so that their checks have passed; all at once,
	// as only about one entry in five names anyone related.
	if err := insertRelated(ctx, t.tx, t.log, all, false); err != nil {
		return err
	}
	for id, h := range tiles {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO tiles (log, level, idx, hashes) VALUES (?, ?, ?, ?)
			ON CONFLICT (log, level, idx) DO UPDATE SET hashes = excluded.hashes`, t.log, id.Level, id.Index, h); err != nil {
			return translate(err)
		}
	}
	rng := make([]byte, 0, hashSize*len(st.Range))
	for _, h := range st.Range {
		rng = append(rng, h...)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO tree_state (log, size, root, range) VALUES (?, ?, ?, ?)
		ON CONFLICT (log) DO UPDATE SET size = excluded.size, root = excluded.root, range = excluded.range`, t.log, st.Size, st.Root, rng)
	return translate(err)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func scanEntries(rows *sql.Rows, fn func(store.Entry)) error {
	defer rows.Close()
	for rows.Next() {
		var e store.Entry
		var id []byte
		var client, terms, related, deletedBy sql.NullString
		if err := rows.Scan(&e.Log, &e.Index, &id, &e.Time, &e.Source, &e.Subject, &client, &e.Leaf, &e.Meta, &e.Content, &e.KeyID, &terms, &e.Category, &e.Action, &related,
			&e.ContentDeleted, &e.Deleted, &deletedBy); err != nil {
			return translate(err)
		}
		copy(e.ID[:], id)
		e.ClientID = client.String
		e.DeletedBy = deletedBy.String
		if terms.String != "" {
			e.Terms = strings.Split(terms.String, " ")
		}
		if related.String != "" {
			if err := json.Unmarshal([]byte(related.String), &e.Related); err != nil {
				return fmt.Errorf("entry %d of %s: related people: %v", e.Index, e.Log, err)
			}
		}
		fn(e)
	}
	return translate(rows.Err())
}

// LogState returns the committed tree of log.
func (db *DB) LogState(ctx context.Context, log string) (store.TreeState, error) {
	return readState(ctx, db.r, log)
}

// Tile returns one stored tile.
func (db *DB) Tile(ctx context.Context, log string, id store.TileID) ([]byte, error) {
	var h []byte
	err := db.r.QueryRowContext(ctx, `SELECT hashes FROM tiles WHERE log = ? AND level = ? AND idx = ?`, log, id.Level, id.Index).Scan(&h)
	return h, translate(err)
}

// LeafTiles returns the level-0 tiles at indexes. The tiles of a page of
// review results lie apart, a disk read or more each on a store larger
// than memory, so they are read in parts at once (store.ReadInParts).
func (db *DB) LeafTiles(ctx context.Context, log string, indexes []uint64) (map[uint64][]byte, error) {
	return store.LeafTilesInParts(ctx, indexes, func(ctx context.Context, indexes []uint64) (map[uint64][]byte, error) {
		return db.leafTiles(ctx, log, indexes)
	})
}

// leafTiles reads the level-0 tiles at indexes, a bounded number of them
// per statement (SQLite's limit on parameters).
func (db *DB) leafTiles(ctx context.Context, log string, indexes []uint64) (map[uint64][]byte, error) {
	out := make(map[uint64][]byte, len(indexes))
	for chunk := range slices.Chunk(indexes, 500) {
		args := []any{log}
		for _, i := range chunk {
			args = append(args, min(i, math.MaxInt64))
		}
		rows, err := db.r.QueryContext(ctx, `SELECT idx, hashes FROM tiles WHERE log = ? AND level = 0 AND idx IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			out[uint64(idx)] = h
		}
		if err := rows.Close(); err != nil {
			return nil, translate(err)
		}
		if err := rows.Err(); err != nil {
			return nil, translate(err)
		}
	}
	return out, nil
}

// Entries returns entries with from <= idx < to.
func (db *DB) Entries(ctx context.Context, log string, from, to uint64) ([]store.Entry, error) {
	// SQLite integers are signed 64-bit, and database/sql refuses larger
	// uint64 arguments; no index is that large, so clamp the bounds.
	from, to = min(from, math.MaxInt64), min(to, math.MaxInt64)
	rows, err := db.r.QueryContext(ctx, `SELECT `+readColumns+` FROM entries WHERE log = ? AND idx >= ? AND idx < ? ORDER BY idx`, log, from, to)
	if err != nil {
		return nil, translate(err)
	}
	var out []store.Entry
	err = scanEntries(rows, func(e store.Entry) { out = append(out, e) })
	return out, err
}

// EntryByID returns the entry with that ID.
func (db *DB) EntryByID(ctx context.Context, id [16]byte) (store.Entry, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+readColumns+` FROM entries WHERE id = ?`, id[:])
	if err != nil {
		return store.Entry{}, translate(err)
	}
	var out []store.Entry
	if err := scanEntries(rows, func(e store.Entry) { out = append(out, e) }); err != nil {
		return store.Entry{}, err
	}
	if len(out) == 0 {
		return store.Entry{}, store.ErrNotFound
	}
	return out[0], nil
}

// SearchTerms reads the subject's entries in the time range through the
// (subject, log, time) index and keeps those whose terms hold every query term.
func (db *DB) SearchTerms(ctx context.Context, q store.TermQuery) ([]store.Entry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	where := `log = ? AND subject = ? AND time >= ? AND time < ?`
	args := []any{q.Log, q.Subject, q.From, q.To}
	for _, term := range q.Terms {
		where += ` AND instr(' ' || terms || ' ', ?) > 0`
		args = append(args, " "+term+" ")
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+readColumns+` FROM entries INDEXED BY entries_subject_scan WHERE `+where+` ORDER BY idx LIMIT ?`, append(args, q.MaxEntries())...)
	if err != nil {
		return nil, translate(err)
	}
	var out []store.Entry
	err = scanEntries(rows, func(e store.Entry) { out = append(out, e) })
	return out, err
}

// AddCheckpoint stores a published checkpoint.
func (db *DB) AddCheckpoint(ctx context.Context, log string, c store.Checkpoint) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO checkpoints (log, size, time, note) VALUES (?, ?, ?, ?)`, log, c.Size, c.Time.UnixNano(), c.Note)
	return translate(err)
}

// LatestCheckpoint returns the largest checkpoint of log.
func (db *DB) LatestCheckpoint(ctx context.Context, log string) (store.Checkpoint, error) {
	var c store.Checkpoint
	var t int64
	err := db.r.QueryRowContext(ctx, `SELECT size, time, note FROM checkpoints WHERE log = ? ORDER BY size DESC LIMIT 1`, log).Scan(&c.Size, &t, &c.Note)
	c.Time = time.Unix(0, t).UTC()
	return c, translate(err)
}

// ListCheckpoints returns at most limit checkpoints of log from size
// from, in size order.
func (db *DB) ListCheckpoints(ctx context.Context, log string, from uint64, limit int) ([]store.Checkpoint, error) {
	if limit <= 0 {
		return nil, nil
	}
	if from > math.MaxInt64 {
		return nil, nil // no size is stored beyond what a column holds
	}
	rows, err := db.r.QueryContext(ctx, `SELECT size, time, note FROM checkpoints WHERE log = ? AND size >= ? ORDER BY size LIMIT ?`, log, int64(from), limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []store.Checkpoint
	for rows.Next() {
		var c store.Checkpoint
		var t int64
		if err := rows.Scan(&c.Size, &t, &c.Note); err != nil {
			return nil, translate(err)
		}
		c.Time = time.Unix(0, t).UTC()
		out = append(out, c)
	}
	return out, translate(rows.Err())
}
