package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to edit the store as an attacker would
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", likewise

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// storeDB is a store's events database opened directly, bypassing lbm. Both
// engines have the same tables and columns, so one piece of SQL tampers
// with either; queries are written with ? and rebound for PostgreSQL.
type storeDB struct {
	db *sql.DB
	pg bool
}

func openDB(t *testing.T, st lbmStore) *storeDB {
	t.Helper()
	if st.db != "" {
		db, err := sql.Open("pgx", st.db)
		if err != nil {
			t.Fatal(err)
		}
		return &storeDB{db: db, pg: true}
	}
	// The busy timeout: some tests read while the server writes.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(st.data, "lbm.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return &storeDB{db: db}
}

func (db *storeDB) close(t *testing.T) {
	t.Helper()
	if err := db.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// rebind numbers the placeholders for PostgreSQL: ? becomes $1, $2, ...
func (db *storeDB) rebind(query string) string {
	if !db.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (db *storeDB) query(t *testing.T, query string, args ...any) *sql.Rows {
	t.Helper()
	rows, err := db.db.QueryContext(t.Context(), db.rebind(query), args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return rows
}

func (db *storeDB) queryRow(t *testing.T, query string, args ...any) *sql.Row {
	t.Helper()
	return db.db.QueryRowContext(t.Context(), db.rebind(query), args...)
}

// exec1 runs a statement that must change at least one row.
func (db *storeDB) exec1(t *testing.T, query string, args ...any) {
	t.Helper()
	res, err := db.db.ExecContext(t.Context(), db.rebind(query), args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("%s: no rows changed", query)
	}
}

// flipByte reads one BLOB, flips the low bit of its byte at off (negative
// off counts from the end) and writes it back.
func (db *storeDB) flipByte(t *testing.T, table, column, where string, off int, args ...any) {
	t.Helper()
	var b []byte
	if err := db.queryRow(t, `SELECT `+column+` FROM `+table+` WHERE `+where, args...).Scan(&b); err != nil {
		t.Fatalf("reading %s.%s: %v", table, column, err)
	}
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0x01
	db.exec1(t, `UPDATE `+table+` SET `+column+` = ? WHERE `+where, append([]any{b}, args...)...)
}

// countActivity counts the activity log's rows in each of tables.
func (db *storeDB) countActivity(t *testing.T, tables []string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, table := range tables {
		var n int
		if err := db.queryRow(t, `SELECT count(*) FROM `+table+` WHERE log = 'activity'`).Scan(&n); err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// openEntry reads entry index of the activity log the only way lbm reads
// events back: through the node's record.Opener.
func openEntry(t *testing.T, st lbmStore, index uint64) (record.Opened, error) {
	t.Helper()
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: st.data, DB: st.db, MustExist: true})
	if err != nil {
		t.Fatalf("server.Open(%+v) = %v", st, err)
	}
	defer n.Close()
	es, err := n.Store.Entries(ctx, server.Activity, index, index+1)
	if err != nil || len(es) != 1 {
		t.Fatalf("Entries(activity, %d, %d) = %d entries, %v; want 1", index, index+1, len(es), err)
	}
	return n.Opener.Open(ctx, es[0])
}

// TestTamper edits one thing in a copy of a stopped server's store, with
// SQL on the database as anyone with write access to it could, and checks
// that `lbm verify store` names it, and that reading a tampered event fails.
func TestTamper(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *storeDB)
		fail   string // regexp the FAIL line must match
		// entry, when >= 0, must fail to open with a *record.TamperError.
		entry int
		// history, when set, is a regexp a FAIL line of lbm verify
		// history must match.
		history string
	}{
		{
			name: "entry meta byte",
			tamper: func(t *testing.T, db *storeDB) {
				// The last byte of the blob is the last byte of the last
				// metadata value: the encoding still parses, the commitment
				// no longer matches.
				db.flipByte(t, "entries", "meta", "log = 'activity' AND idx = 3", -1)
			},
			fail:  `^FAIL: activity log: activity log entry 3: event [0-9a-f]{32}: fields \S+ do not match the leaf's commitments$`,
			entry: 3,
		},
		{
			name: "entry subject column",
			tamper: func(t *testing.T, db *storeDB) {
				db.exec1(t, `UPDATE entries SET subject = 'u99999' WHERE log = 'activity' AND idx = 4`)
			},
			fail:  `^FAIL: activity log: activity log entry 4: subject or client id column differs from the committed fields$`,
			entry: 4,
		},
		{
			name: "tile hash byte",
			tamper: func(t *testing.T, db *storeDB) {
				db.flipByte(t, "tiles", "hashes", "log = 'activity' AND level = 0 AND idx = 0", 5*tlog.HashSize+7)
			},
			fail: `^FAIL: activity log: tile 0/0 \(partial\) differs from the tree recomputed from the entries$`,
			// The leaf hash of entry 5 is the byte changed: reading the
			// event checks it against the tile.
			entry: 5,
		},
		{
			name: "checkpoint note byte",
			tamper: func(t *testing.T, db *storeDB) {
				// Byte 20 is in the size line or the root: still a
				// well-formed note, no longer the signed one.
				db.flipByte(t, "checkpoints", "note", "log = 'activity' AND size = ?", 20, fixtureEvents)
			},
			fail:    `^FAIL: activity log: checkpoint of size 226: checking checkpoint signature: `,
			entry:   -1,
			history: `^FAIL: activity log: the current checkpoint: checking checkpoint signature: `,
		},
	}
	forEachEngine(t, func(t *testing.T, e engine) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, _ := newFixture(t, e)
				db := openDB(t, st)
				tt.tamper(t, db)
				db.close(t)

				r := lbm(t, nil, verifyStore(st)...)
				if r.code != 1 {
					t.Errorf("lbm verify store after tampering: exit %d, want 1\n%v", r.code, r)
				}
				fails := failLines(r.stdout)
				re := regexp.MustCompile(tt.fail)
				if len(fails) != 1 || !re.MatchString(fails[0]) {
					t.Errorf("lbm verify store FAIL lines = %q, want one matching %q", fails, tt.fail)
				}
				if !strings.Contains(r.stdout, "OK: oversight log: 1 entries") {
					t.Errorf("lbm verify store: the untouched oversight log is not OK:\n%s", r.stdout)
				}
				if !strings.Contains(r.stderr, "lbm: error: verification failed") {
					t.Errorf("lbm verify store stderr = %q, want lbm: error: verification failed", r.stderr)
				}

				if tt.history != "" {
					r := lbm(t, nil, append([]string{"verify", "history", "--quiet"}, st.flags()...)...)
					fails := failLines(r.stdout)
					if re := regexp.MustCompile(tt.history); r.code != 1 || len(fails) != 1 || !re.MatchString(fails[0]) {
						t.Errorf("lbm verify history after tampering: %v\nwant exit 1 and one FAIL line matching %q", r, tt.history)
					}
				}
				if tt.entry < 0 {
					return
				}
				_, err := openEntry(t, st, uint64(tt.entry))
				var te *record.TamperError
				if !errors.As(err, &te) || te.Log != server.Activity || te.Index != uint64(tt.entry) {
					t.Errorf("Opener.Open(entry %d) = %v, want a *record.TamperError for activity entry %d", tt.entry, err, tt.entry)
				}
				// Its neighbour still reads.
				if _, err := openEntry(t, st, uint64(tt.entry)+1); err != nil {
					t.Errorf("Opener.Open(entry %d), untouched = %v", tt.entry+1, err)
				}
			})
		}
	})
}

// TestUntouchedCopyVerifies is the control for TestTamper: copying alone
// changes nothing that verify store checks.
func TestUntouchedCopyVerifies(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		st, saved := newFixture(t, e)
		r := lbmOK(t, nil, verifyStore(st)...)
		if want := "OK: activity log: 226 entries, every commitment, tile and checkpoint checks\nOK: oversight log: 1 entries, every commitment, tile and checkpoint checks\n"; r.stdout != want {
			t.Errorf("lbm verify store stdout = %q, want %q", r.stdout, want)
		}
		lbmOK(t, nil, append([]string{"verify", "consistency", "--old", saved}, st.flags()...)...)
		o, err := openEntry(t, st, 3)
		if err != nil {
			t.Fatalf("Opener.Open(entry 3) = %v", err)
		}
		if o.Event.Subject() == "" || o.ContentDeleted {
			t.Errorf("Opener.Open(entry 3) = subject %q, content deleted %v; want a subject and content", o.Event.Subject(), o.ContentDeleted)
		}
	})
}

// memTiles is an in-memory tile store, for rebuilding a tree from leaves.
type memTiles map[store.TileID][]byte

func (m memTiles) Tiles(_ context.Context, ids []store.TileID) (map[store.TileID][]byte, error) {
	out := map[store.TileID][]byte{}
	for _, id := range ids {
		if t, ok := m[id]; ok {
			out[id] = bytes.Clone(t)
		}
	}
	return out, nil
}

// TestRewrittenHistory plays the realistic attack: someone with write access
// to the store and the data directory, which holds the signing key (with
// PostgreSQL too), rewrites an early event and makes everything consistent
// again — leaf, tiles, tree state, a freshly
// signed checkpoint. `lbm verify store` cannot see this; a checkpoint saved
// earlier (by a witness, an auditor, a source) can.
func TestRewrittenHistory(t *testing.T) {
	forEachEngine(t, testRewrittenHistory)
}

func testRewrittenHistory(t *testing.T, e engine) {
	st, saved := newFixture(t, e)
	ctx := t.Context()
	const target = 1
	db := openDB(t, st)

	rewriteActivityEntry(t, db, target)
	// While the checkpoints published before the rewrite are kept, the
	// log no longer matches them.
	r := lbm(t, nil, append([]string{"verify", "history", "--quiet", "--log", "activity"}, st.flags()...)...)
	if fails := failLines(r.stdout); r.code != 1 || len(fails) != 1 || !strings.Contains(fails[0], "not the root") {
		t.Errorf("lbm verify history on the rewritten store with its checkpoints: %v\nwant exit 1 and a FAIL line: not the root its checkpoint signs", r)
	}
	db.exec1(t, `DELETE FROM checkpoints WHERE log = 'activity'`)
	db.close(t)

	// Sign a fresh checkpoint with the key in the data directory, through
	// lbm's own publisher.
	n, err := server.Open(ctx, server.Config{DataDir: st.data, DB: st.db, MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := n.Logs[server.Activity].Publisher.Publish(ctx); err != nil || c.Size != fixtureEvents {
		t.Fatalf("Publish() = size %d, %v; want size %d", c.Size, err, fixtureEvents)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// verify store cannot tell: the store is exactly what its entries imply.
	// This is why checkpoints must be kept outside the data directory.
	r = lbm(t, nil, verifyStore(st)...)
	if r.code != 0 || strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "OK: activity log: 226 entries") {
		t.Errorf("lbm verify store on a consistently rewritten store: %v\nwant exit 0 and OK (it checks internal consistency only)", r)
	}
	o, err := openEntry(t, st, target)
	if err != nil {
		t.Errorf("Opener.Open(rewritten entry %d) = %v; the rewrite is consistent, so reading cannot tell either", target, err)
	} else if v, _ := o.Event.Field("event.action"); string(v) != `"nothing_to_see"` {
		t.Errorf("rewritten entry's event.action = %s, want \"nothing_to_see\"", v)
	}

	// The saved checkpoint still carries a valid signature by the same key…
	lbmOK(t, nil, "verify", "checkpoint", "--data", st.data, saved)
	// …and the log no longer extends it.
	r = lbm(t, nil, append([]string{"verify", "consistency", "--old", saved}, st.flags()...)...)
	wantFail := regexp.MustCompile(`^FAIL: activity log is not consistent with .*saved.checkpoint: `)
	if fails := failLines(r.stdout); r.code != 1 || len(fails) != 1 || !wantFail.MatchString(fails[0]) {
		t.Errorf("lbm verify consistency --old saved (the rewritten store): %v\nwant exit 1 and a FAIL line matching %q", r, wantFail)
	}

	// A witness reading the rewritten log over HTTP sees the same.
	srv := startServer(t, st)
	r = lbm(t, nil, "verify", "consistency", "--old", saved, "--server", srv.URL)
	if fails := failLines(r.stdout); r.code != 1 || len(fails) != 1 || !wantFail.MatchString(fails[0]) {
		t.Errorf("lbm verify consistency --old saved --server (rewritten): %v\nwant exit 1 and a FAIL line matching %q", r, wantFail)
	}
	srv.stop()
}

// rewriteActivityEntry rewrites entry target's event.action in the
// activity log as a consistent forger would: a fresh commitment under the
// same salt, the leaf, the column queries select on, and every tile and
// the tree state rebuilt with lbm's own algorithm. The checkpoints are
// left as they were.
func rewriteActivityEntry(t *testing.T, db *storeDB, target int) {
	t.Helper()
	ctx := t.Context()
	// Read every leaf, and rewrite the entry's event.action with a fresh
	// commitment under the same salt.
	rows := db.query(t, `SELECT idx, leaf, meta FROM entries WHERE log = 'activity' ORDER BY idx`)
	var leaves [][]byte
	var meta []byte
	for rows.Next() {
		var idx int
		var leaf, m []byte
		if err := rows.Scan(&idx, &leaf, &m); err != nil {
			t.Fatal(err)
		}
		if idx != len(leaves) {
			t.Fatalf("entry %d where %d was expected", idx, len(leaves))
		}
		leaves = append(leaves, leaf)
		if idx == target {
			meta = m
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	fields, err := event.ParseFields(meta)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := event.ParseLeaf(leaves[target])
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(fields, func(f event.Field) bool { return f.Name == "event.action" })
	if i < 0 {
		t.Fatalf("entry %d has no event.action", target)
	}
	old := event.Commit(fields[i])
	fields[i].Value = []byte(`"nothing_to_see"`)
	j := slices.Index(leaf.Commitments, old)
	if j < 0 {
		t.Fatalf("entry %d: event.action's commitment is not in the leaf", target)
	}
	leaf.Commitments[j] = event.Commit(fields[i])
	slices.SortFunc(leaf.Commitments, func(a, b event.Commitment) int { return bytes.Compare(a[:], b[:]) })
	if leaves[target], err = event.FormatLeaf(leaf); err != nil {
		t.Fatal(err)
	}
	// A consistent forger also rewrites the action column queries select on.
	db.exec1(t, `UPDATE entries SET leaf = ?, meta = ?, action = ? WHERE log = 'activity' AND idx = ?`, leaves[target], event.FormatFields(fields), "nothing_to_see", target)

	// Rebuild the tree from all leaves with lbm's own algorithm.
	hashes := make([][]byte, len(leaves))
	for i, l := range leaves {
		hashes[i] = tlog.HashLeaf(l)
	}
	tree, tiles, err := tlog.Extend(ctx, memTiles{}, store.TreeState{}, hashes)
	if err != nil {
		t.Fatal(err)
	}
	db.exec1(t, `DELETE FROM tiles WHERE log = 'activity'`)
	for id, h := range tiles {
		db.exec1(t, `INSERT INTO tiles (log, level, idx, hashes) VALUES ('activity', ?, ?, ?)`, int64(id.Level), int64(id.Index), h)
	}
	db.exec1(t, `UPDATE tree_state SET size = ?, root = ?, range = ? WHERE log = 'activity'`, int64(tree.Size), tree.Root, bytes.Join(tree.Range, nil))
}
