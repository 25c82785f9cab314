package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lbm-project/lbm/internal/store"
)

const hashSize = 32

// UpdateLog runs fn in one transaction that holds log's writer lock.
// fn's error is returned as it is: the LogTx methods have translated theirs
// already, and translating again would hide store.ErrExists from callers.
func (db *DB) UpdateLog(ctx context.Context, log string, fn func(store.LogTx) error) error {
	var fnErr error
	t := &logTx{db: db, log: log}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(log)); err != nil {
			return err
		}
		t.tx = tx
		fnErr = fn(t)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err == nil {
		for _, name := range t.created {
			db.partitions.Store(name, struct{}{})
		}
	}
	return translate(err)
}

type logTx struct {
	db      *DB
	tx      pgx.Tx
	log     string
	created []string // partitions this transaction created
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (t *logTx) State(ctx context.Context) (store.TreeState, error) {
	return readState(ctx, t.tx, t.log)
}

func readState(ctx context.Context, q querier, log string) (store.TreeState, error) {
	var st store.TreeState
	var size int64
	var rng []byte
	err := q.QueryRow(ctx, `SELECT size, root, range FROM tree_state WHERE log = $1`, log).Scan(&size, &st.Root, &rng)
	if err == pgx.ErrNoRows {
		return store.TreeState{}, nil
	}
	if err != nil {
		return st, translate(err)
	}
	st.Size = uint64(size)
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
	if len(ids) == 0 {
		return out, nil
	}
	levels := make([]int64, len(ids))
	idxs := make([]int64, len(ids))
	for i, id := range ids {
		levels[i], idxs[i] = int64(id.Level), int64(min(id.Index, math.MaxInt64))
	}
	rows, err := t.tx.Query(ctx, `SELECT t.level, t.idx, t.hashes FROM tiles t
		JOIN unnest($2::bigint[], $3::bigint[]) AS w(level, idx) ON t.level = w.level AND t.idx = w.idx
		WHERE t.log = $1`, t.log, levels, idxs)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var level, idx int64
		var h []byte
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return nil, translate(err)
		}
		out[store.TileID{Level: uint64(level), Index: uint64(idx)}] = h
	}
	return out, translate(rows.Err())
}

const entryColumns = `e.log, e.idx, e.id, e.time, e.source, e.subject, e.client_id, e.leaf, e.meta, e.content, e.key_id, e.terms, e.category, e.action, e.related,
	e.content_deleted, e.deleted, e.deleted_by`

// FindClientIDs looks each id up in the narrow client_ids table, then reads
// its entry by partition key, so the lookup touches only the months the
// entries are in. The lateral join fixes the plan to one index probe per
// id: a plain join let the planner, before a new or restored database had
// statistics, scan every client id of the source on each batch (seconds
// per batch at 200,000 rows).
func (t *logTx) FindClientIDs(ctx context.Context, source string, ids []string) (map[string]store.Entry, error) {
	return findClientIDs(ctx, t.tx, t.log, source, ids)
}

// EntriesByClientID is FindClientIDs of log, outside any transaction.
func (db *DB) EntriesByClientID(ctx context.Context, log, source string, ids []string) (map[string]store.Entry, error) {
	return findClientIDs(ctx, db.pool, log, source, ids)
}

func findClientIDs(ctx context.Context, q querier, log, source string, ids []string) (map[string]store.Entry, error) {
	out := make(map[string]store.Entry)
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT `+entryColumns+` FROM unnest($3::text[]) AS w(client_id)
		CROSS JOIN LATERAL (SELECT c.idx, c.time FROM client_ids c
			WHERE c.log = $1 AND c.source = $2 AND c.client_id = w.client_id LIMIT 1) c
		JOIN entries e ON e.log = $1 AND e.idx = c.idx AND e.time = c.time`, log, source, ids)
	if err != nil {
		return nil, translate(err)
	}
	err = scanEntries(rows, func(e store.Entry) { out[e.ClientID] = e })
	return out, err
}

// Append writes entries with COPY: one round trip per table, whatever the
// batch size. A unique violation in any table aborts the transaction.
func (t *logTx) Append(ctx context.Context, entries []store.Entry, tiles map[store.TileID][]byte, st store.TreeState) error {
	for _, e := range entries {
		if e.Log != t.log {
			return fmt.Errorf("appending to %s: entry of log %q", t.log, e.Log)
		}
		if e.Index > math.MaxInt64 {
			return fmt.Errorf("appending to %s: index %d out of range", t.log, e.Index)
		}
		if err := store.CheckTerms(e.Terms); err != nil {
			return fmt.Errorf("appending to %s: entry %d: %w", t.log, e.Index, err)
		}
	}
	if err := t.ensurePartitions(ctx, entries); err != nil {
		return err
	}
	if len(entries) > 0 {
		if err := t.copyEntries(ctx, entries); err != nil {
			return err
		}
	}
	if len(tiles) > 0 {
		levels := make([]int64, 0, len(tiles))
		idxs := make([]int64, 0, len(tiles))
		hashes := make([][]byte, 0, len(tiles))
		for id, h := range tiles {
			levels = append(levels, int64(id.Level))
			idxs = append(idxs, int64(min(id.Index, math.MaxInt64)))
			hashes = append(hashes, h)
		}
		if _, err := t.tx.Exec(ctx, `INSERT INTO tiles (log, level, idx, hashes)
			SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bytea[])
			ON CONFLICT (log, level, idx) DO UPDATE SET hashes = excluded.hashes`, t.log, levels, idxs, hashes); err != nil {
			return translate(err)
		}
	}
	rng := make([]byte, 0, hashSize*len(st.Range))
	for _, h := range st.Range {
		rng = append(rng, h...)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO tree_state (log, size, root, range) VALUES ($1, $2, $3, $4)
		ON CONFLICT (log) DO UPDATE SET size = excluded.size, root = excluded.root, range = excluded.range`, t.log, int64(st.Size), st.Root, rng)
	return translate(err)
}

func (t *logTx) copyEntries(ctx context.Context, entries []store.Entry) error {
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{"entry_ids"}, []string{"id", "log", "idx", "time"},
		pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
			e := &entries[i]
			return []any{e.ID[:], t.log, int64(e.Index), e.Time}, nil
		}))
	if err != nil {
		return translate(err)
	}
	var withClient []int
	for i := range entries {
		if entries[i].ClientID != "" {
			withClient = append(withClient, i)
		}
	}
	if len(withClient) > 0 {
		_, err = t.tx.CopyFrom(ctx, pgx.Identifier{"client_ids"}, []string{"log", "source", "client_id", "idx", "time"},
			pgx.CopyFromSlice(len(withClient), func(i int) ([]any, error) {
				e := &entries[withClient[i]]
				return []any{t.log, e.Source, e.ClientID, int64(e.Index), e.Time}, nil
			}))
		if err != nil {
			return translate(err)
		}
	}
	_, err = t.tx.CopyFrom(ctx, pgx.Identifier{"entries"},
		[]string{"log", "idx", "id", "time", "source", "subject", "client_id", "leaf", "meta", "content", "key_id", "terms", "category", "action", "related"},
		pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
			e := &entries[i]
			var client *string
			if e.ClientID != "" {
				client = &e.ClientID
			}
			return []any{t.log, int64(e.Index), e.ID[:], e.Time, e.Source, e.Subject, client, e.Leaf, e.Meta, e.Content, e.KeyID, tsvector(e.Terms),
				e.Category, e.Action, related(e.Related)}, nil
		}))
	if err != nil {
		return translate(err)
	}
	// One entry_related row per related person, which QueryEvents reads
	// instead of entries.related: Related is sorted and unique, so the
	// primary key never refuses one.
	var rows [][]any
	for i := range entries {
		e := &entries[i]
		for _, p := range e.Related {
			rows = append(rows, []any{t.log, p, e.Time, int64(e.Index), e.Category, e.Source, e.Action})
		}
	}
	if len(rows) > 0 {
		_, err = t.tx.CopyFrom(ctx, pgx.Identifier{"entry_related"}, relatedColumns, pgx.CopyFromRows(rows))
	}
	return translate(err)
}

// relatedColumns are entry_related's, in the order its writers give them.
var relatedColumns = []string{"log", "person", "time", "idx", "category", "source", "action"}

// related is the related column's value: NULL when none, as entries
// stored before migration 0007 have it.
func related(people []string) []string {
	if len(people) == 0 {
		return nil
	}
	return people
}

func tsvector(terms []string) pgtype.TSVector {
	if len(terms) == 0 {
		return pgtype.TSVector{}
	}
	v := pgtype.TSVector{Valid: true, Lexemes: make([]pgtype.TSVectorLexeme, len(terms))}
	for i, term := range terms {
		v.Lexemes[i].Word = term
	}
	return v
}

// ensurePartitions gives every month of entries its partition, and the
// partition's twin in entry_related (same month, same bounds), inside the
// append's transaction, so a partition and its first rows commit together.
// A month is cached only once both exist: a store opened before its twins
// were made (fillRelated) gets the missing one here.
//
// It creates a plain table and then attaches it, rather than CREATE TABLE
// ... PARTITION OF: attaching locks the parent only against other schema
// changes (SHARE UPDATE EXCLUSIVE), so readers and the other log's writer
// carry on; creating in place would lock out everyone, and could deadlock
// against a writer that already holds a lock on the parent. The advisory
// lock makes a second writer of the same month wait and then see the
// partitions, instead of failing to create them twice.
func (t *logTx) ensurePartitions(ctx context.Context, entries []store.Entry) error {
	var months []time.Time
	for _, e := range entries {
		m := monthOf(e.Time)
		if _, ok := t.db.partitions.Load(partitionName(m)); !ok && !slices.Contains(months, m) {
			months = append(months, m)
		}
	}
	if len(months) == 0 {
		return nil
	}
	if _, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("partitions")); err != nil {
		return translate(err)
	}
	for _, m := range months {
		name := partitionName(m)
		twin := twinName(name)
		var exists, twinExists bool
		if err := t.tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL`, name, twin).Scan(&exists, &twinExists); err != nil {
			return translate(err)
		}
		if exists && twinExists {
			t.db.partitions.Store(name, struct{}{})
			continue
		}
		from, to := m.UnixNano(), m.AddDate(0, 1, 0).UnixNano()
		if m.AddDate(0, 1, 0).Year() > 2262 {
			to = math.MaxInt64 // beyond int64 nanoseconds: the last partition is open-ended
		}
		bound := fmt.Sprintf(`FOR VALUES FROM (%d) TO (%d)`, from, to)
		if !exists {
			if err := attachPartition(ctx, t.tx, "entries", name, bound); err != nil {
				return err
			}
		}
		if !twinExists {
			if err := attachPartition(ctx, t.tx, "entry_related", twin, bound); err != nil {
				return err
			}
		}
		// Cached by UpdateLog once committed: rolled back, it is gone.
		t.created = append(t.created, name)
	}
	return nil
}

// attachPartition creates table name like parent and attaches it as
// parent's partition for bound (a FOR VALUES clause). The caller holds the
// partitions advisory lock.
func attachPartition(ctx context.Context, tx pgx.Tx, parent, name, bound string) error {
	id := pgx.Identifier{name}.Sanitize()
	if _, err := tx.Exec(ctx, `CREATE TABLE `+id+` (LIKE `+parent+` INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`); err != nil {
		return fmt.Errorf("creating partition %s: %w", name, translate(err))
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE `+parent+` ATTACH PARTITION `+id+` `+bound); err != nil {
		return fmt.Errorf("attaching partition %s: %w", name, translate(err))
	}
	return nil
}

// monthOf returns the first instant of the UTC month holding ns.
func monthOf(ns int64) time.Time {
	t := time.Unix(0, ns).UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func partitionName(month time.Time) string {
	if month.Year() < 0 {
		return fmt.Sprintf("entries_bc%04d%02d", -month.Year(), month.Month())
	}
	return fmt.Sprintf("entries_%04d%02d", month.Year(), month.Month())
}

// twinName names the entry_related partition of the same month as the
// entries partition name.
func twinName(name string) string {
	return "entry_related_" + strings.TrimPrefix(name, "entries_")
}

// queryEntries runs a query selecting entryColumns and returns its entries.
func queryEntries(ctx context.Context, q querier, sql string, args ...any) ([]store.Entry, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(err)
	}
	var out []store.Entry
	err = scanEntries(rows, func(e store.Entry) { out = append(out, e) })
	return out, err
}

func scanEntries(rows pgx.Rows, fn func(store.Entry)) error {
	defer rows.Close()
	for rows.Next() {
		var e store.Entry
		var idx int64
		var id []byte
		var client *string
		var terms pgtype.TSVector
		var deletedBy *string
		if err := rows.Scan(&e.Log, &idx, &id, &e.Time, &e.Source, &e.Subject, &client, &e.Leaf, &e.Meta, &e.Content, &e.KeyID, &terms,
			&e.Category, &e.Action, &e.Related, &e.ContentDeleted, &e.Deleted, &deletedBy); err != nil {
			return translate(err)
		}
		e.Index = uint64(idx)
		copy(e.ID[:], id)
		if client != nil {
			e.ClientID = *client
		}
		if deletedBy != nil {
			e.DeletedBy = *deletedBy
		}
		if terms.Valid && len(terms.Lexemes) > 0 {
			e.Terms = make([]string, len(terms.Lexemes))
			for i, l := range terms.Lexemes {
				e.Terms[i] = l.Word
			}
			// tsvector orders lexemes by length first; the contract is byte order.
			slices.Sort(e.Terms)
		}
		if len(e.Related) == 0 {
			e.Related = nil
		} else {
			slices.Sort(e.Related) // as written, unless the caller broke the contract
		}
		fn(e)
	}
	return translate(rows.Err())
}

// LogState returns the committed tree of log.
func (db *DB) LogState(ctx context.Context, log string) (store.TreeState, error) {
	return readState(ctx, db.pool, log)
}

// LeafTiles returns the level-0 tiles at indexes. The tiles of a page of
// review results lie apart, and each is stored out of line (TOAST), so
// they are read in parts at once (store.ReadInParts).
func (db *DB) LeafTiles(ctx context.Context, log string, indexes []uint64) (map[uint64][]byte, error) {
	return store.LeafTilesInParts(ctx, indexes, func(ctx context.Context, indexes []uint64) (map[uint64][]byte, error) {
		return db.leafTiles(ctx, log, indexes)
	})
}

// leafTiles reads the level-0 tiles at indexes in one statement.
func (db *DB) leafTiles(ctx context.Context, log string, indexes []uint64) (map[uint64][]byte, error) {
	want := make([]int64, 0, len(indexes))
	for _, i := range indexes {
		if i <= math.MaxInt64 {
			want = append(want, int64(i))
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT idx, hashes FROM tiles WHERE log = $1 AND level = 0 AND idx = ANY($2)`, log, want)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := make(map[uint64][]byte, len(indexes))
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, translate(err)
		}
		out[uint64(idx)] = h
	}
	return out, translate(rows.Err())
}

// Tile returns one stored tile.
func (db *DB) Tile(ctx context.Context, log string, id store.TileID) ([]byte, error) {
	if id.Level > math.MaxInt64 || id.Index > math.MaxInt64 {
		return nil, store.ErrNotFound
	}
	var h []byte
	err := db.pool.QueryRow(ctx, `SELECT hashes FROM tiles WHERE log = $1 AND level = $2 AND idx = $3`, log, int64(id.Level), int64(id.Index)).Scan(&h)
	return h, translate(err)
}

// Entries returns entries with from <= idx < to.
func (db *DB) Entries(ctx context.Context, log string, from, to uint64) ([]store.Entry, error) {
	from, to = min(from, math.MaxInt64), min(to, math.MaxInt64)
	return queryEntries(ctx, db.pool, `SELECT `+entryColumns+` FROM entries e WHERE e.log = $1 AND e.idx >= $2 AND e.idx < $3 ORDER BY e.idx`, log, int64(from), int64(to))
}

// EntryByID finds the entry through entry_ids, then reads only its partition.
func (db *DB) EntryByID(ctx context.Context, id [16]byte) (store.Entry, error) {
	out, err := queryEntries(ctx, db.pool, `SELECT `+entryColumns+` FROM entry_ids k
		JOIN entries e ON e.log = k.log AND e.idx = k.idx AND e.time = k.time
		WHERE k.id = $1`, id[:])
	if err != nil {
		return store.Entry{}, err
	}
	if len(out) == 0 {
		return store.Entry{}, store.ErrNotFound
	}
	return out[0], nil
}

// SearchTerms narrows to the subject's entries in the time range (only its
// months' partitions, through the (subject, log, time) prefix of
// entries_subject_scan) and matches every term against their tsvector.
func (db *DB) SearchTerms(ctx context.Context, q store.TermQuery) ([]store.Entry, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	query := "'" + strings.Join(q.Terms, "' & '") + "'"
	return queryEntries(ctx, db.pool, `SELECT `+entryColumns+` FROM entries e
		WHERE e.log = $1 AND e.subject = $2 AND e.time >= $3 AND e.time < $4 AND e.terms @@ $5::tsquery
		ORDER BY e.idx LIMIT $6`, q.Log, q.Subject, q.From, q.To, query, q.MaxEntries())
}

// AddCheckpoint stores a published checkpoint.
func (db *DB) AddCheckpoint(ctx context.Context, log string, c store.Checkpoint) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO checkpoints (log, size, time, note) VALUES ($1, $2, $3, $4)`, log, int64(c.Size), c.Time.UnixNano(), c.Note)
	return translate(err)
}

// LatestCheckpoint returns the largest checkpoint of log.
func (db *DB) LatestCheckpoint(ctx context.Context, log string) (store.Checkpoint, error) {
	var c store.Checkpoint
	var size, t int64
	err := db.pool.QueryRow(ctx, `SELECT size, time, note FROM checkpoints WHERE log = $1 ORDER BY size DESC LIMIT 1`, log).Scan(&size, &t, &c.Note)
	c.Size, c.Time = uint64(size), time.Unix(0, t).UTC()
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
	rows, err := db.pool.Query(ctx, `SELECT size, time, note FROM checkpoints WHERE log = $1 AND size >= $2 ORDER BY size LIMIT $3`, log, int64(from), limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []store.Checkpoint
	for rows.Next() {
		var c store.Checkpoint
		var size, t int64
		if err := rows.Scan(&size, &t, &c.Note); err != nil {
			return nil, translate(err)
		}
		c.Size, c.Time = uint64(size), time.Unix(0, t).UTC()
		out = append(out, c)
	}
	return out, translate(rows.Err())
}
