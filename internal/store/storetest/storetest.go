// Package storetest is the conformance suite of the storage contract in
// internal/store. Every engine passes the same suite, so code above
// internal/store never depends on which engine holds its data.
//
// An engine's test is one call:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := Open(t.Context(), t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// # What the suite pins
//
// The suite checks what store.go promises in words: bytes come back exactly
// as stored (nil stays nil), a transaction whose function fails leaves no
// trace, uniqueness violations surface as [store.ErrExists] and absences as
// [store.ErrNotFound] even through UpdateLog, and writers to one log are
// serialised. It never checks Merkle arithmetic: engines store the hashes and
// tree states they are handed, and internal/tlog owns what those mean. The
// fixtures here are therefore arbitrary but distinct bytes.
//
// # Times
//
// Times (Checkpoint.Time, DataKey.Created, Token.Created, Source.Created)
// must round-trip to the nanosecond, compared as instants with
// [time.Time.Equal] (the location need not survive). The SQLite engine stores
// Unix nanoseconds; an engine on a microsecond column type (PostgreSQL
// timestamptz) must store nanoseconds in a bigint instead, so that a value
// read back equals the value the caller wrote.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// Run runs every behaviour of the store contract against engines made by
// open; each subtest gets a fresh, empty store.
//
// open should register a t.Cleanup that closes the store. The Close
// behaviour closes its store itself first, so that cleanup may call Close a
// second time; its error then is the engine's to report or ignore.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, b := range behaviours {
		t.Run(b.name, func(t *testing.T) {
			b.test(t, open(t))
		})
	}
}

var behaviours = []struct {
	name string
	test func(*testing.T, store.Store)
}{
	{"Empty", testEmpty},
	{"AppendVisible", testAppendVisible},
	{"Rollback", testRollback},
	{"RollbackOnPanic", testRollbackOnPanic},
	{"CanceledContext", testCanceledContext},
	{"AppendExists", testAppendExists},
	{"AppendDistinct", testAppendDistinct},
	{"FindClientIDs", testFindClientIDs},
	{"TilesReplace", testTilesReplace},
	{"TxReads", testTxReads},
	{"LogsIndependent", testLogsIndependent},
	{"Checkpoints", testCheckpoints},
	{"DataKeys", testDataKeys},
	{"Principals", testPrincipals},
	{"SearchTerms", testSearchTerms},
	{"BadTerms", testBadTerms},
	{"ConcurrentAppends", testConcurrentAppends},
	{"ConcurrentDataKeys", testConcurrentDataKeys},
	{"PingClose", testPingClose},
}

const (
	activity  = "activity"
	oversight = "oversight"
)

// epoch has every nanosecond digit set, so a truncating engine shows.
var epoch = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

var errBoom = errors.New("boom")

// hash returns 32 bytes distinct for each s.
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newEntry returns a fully populated entry; its ID depends on every argument.
// Meta starts with a NUL and a 0xff byte, so an engine that treats bytes as
// text shows.
func newEntry(log string, index uint64, source, clientID string, content bool) store.Entry {
	tag := fmt.Sprintf("%s/%d/%s/%s", log, index, source, clientID)
	e := store.Entry{
		Log:      log,
		Index:    index,
		Time:     epoch.UnixNano() + int64(index),
		Source:   source,
		Subject:  "alice",
		ClientID: clientID,
		Leaf:     hash("leaf " + tag),
		Meta:     append([]byte{0, 0xff}, "meta "+tag...),
	}
	copy(e.ID[:], hash("id "+tag))
	if content {
		e.Content = []byte("sealed " + tag)
		e.KeyID = hash("key alice")[:16]
		e.Terms = terms(tag, "common")
	}
	return e
}

// terms returns blinded-looking terms (lower-case hex) for words, sorted
// and unique as the store contract wants them.
func terms(words ...string) []string {
	var out []string
	for _, w := range words {
		out = append(out, fmt.Sprintf("%x", hash("term " + w)[:15]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// mixed returns entries [from, from+n) of log from source src-a, cycling
// through the four shapes: with and without a client id, with and without
// content.
func mixed(log string, from, n uint64) []store.Entry {
	var es []store.Entry
	for i := from; i < from+n; i++ {
		client := ""
		if i%4 < 2 {
			client = fmt.Sprintf("c%d", i)
		}
		es = append(es, newEntry(log, i, "src-a", client, i%2 == 0))
	}
	return es
}

// treeState returns a state of size with as many range hashes as a compact
// range [0, size) has.
func treeState(log string, size uint64) store.TreeState {
	st := store.TreeState{Size: size, Root: hash(fmt.Sprintf("root %s %d", log, size))}
	for i := range bits.OnesCount64(size) {
		st.Range = append(st.Range, hash(fmt.Sprintf("range %s %d %d", log, size, i)))
	}
	return st
}

// tile returns the first n hashes of tile id of log; a longer tile extends a
// shorter one, as a partial tile grows.
func tile(log string, id store.TileID, n int) []byte {
	var b []byte
	for j := range n {
		b = append(b, hash(fmt.Sprintf("node %s %d %d", log, id.Level, id.Index*256+uint64(j)))...)
	}
	return b
}

// commit appends entries and tiles to log in one transaction, moving the
// tree to the state of size State+len(entries), which it returns.
func commit(t *testing.T, s store.Store, log string, entries []store.Entry, tiles map[store.TileID][]byte) store.TreeState {
	t.Helper()
	var st store.TreeState
	err := s.UpdateLog(t.Context(), log, func(tx store.LogTx) error {
		old, err := tx.State(t.Context())
		if err != nil {
			return err
		}
		st = treeState(log, old.Size+uint64(len(entries)))
		return tx.Append(t.Context(), entries, tiles, st)
	})
	if err != nil {
		t.Fatalf("UpdateLog(%q) appending %d entries = %v, want nil", log, len(entries), err)
	}
	return st
}

func checkState(t *testing.T, s store.Store, log string, want store.TreeState) {
	t.Helper()
	got, err := s.LogState(t.Context(), log)
	if err != nil {
		t.Fatalf("LogState(%q) = %v", log, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LogState(%q) mismatch (-want +got):\n%s", log, diff)
	}
}

func checkEntries(t *testing.T, s store.Store, log string, from, to uint64, want []store.Entry) {
	t.Helper()
	got, err := s.Entries(t.Context(), log, from, to)
	if err != nil {
		t.Fatalf("Entries(%q, %d, %d) = %v", log, from, to, err)
	}
	if len(want) == 0 {
		if len(got) != 0 {
			t.Errorf("Entries(%q, %d, %d) = %d entries, want none", log, from, to, len(got))
		}
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Entries(%q, %d, %d) mismatch (-want +got):\n%s", log, from, to, diff)
	}
}

func checkEntryByID(t *testing.T, s store.Store, want store.Entry) {
	t.Helper()
	got, err := s.EntryByID(t.Context(), want.ID)
	if err != nil {
		t.Errorf("EntryByID(%x) = %v, want entry %d of %s", want.ID, err, want.Index, want.Log)
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EntryByID(%x) mismatch (-want +got):\n%s", want.ID, diff)
	}
}

func checkNoEntryByID(t *testing.T, s store.Store, id [16]byte) {
	t.Helper()
	if e, err := s.EntryByID(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EntryByID(%x) = entry %d of %q, %v; want ErrNotFound", id, e.Index, e.Log, err)
	}
}

// checkTile checks tile id of log holds want, or is absent when want is nil.
func checkTile(t *testing.T, s store.Store, log string, id store.TileID, want []byte) {
	t.Helper()
	got, err := s.Tile(t.Context(), log, id)
	if want == nil {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Tile(%q, %+v) = %d bytes, %v; want ErrNotFound", log, id, len(got), err)
		}
		return
	}
	if err != nil {
		t.Errorf("Tile(%q, %+v) = %v, want %d bytes", log, id, err, len(want))
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tile(%q, %+v) mismatch (-want +got):\n%s", log, id, diff)
	}
}

func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	checkState(t, s, activity, store.TreeState{})
	checkTile(t, s, activity, store.TileID{}, nil)
	checkEntries(t, s, activity, 0, 10, nil)
	checkNoEntryByID(t, s, newEntry(activity, 0, "src-a", "", false).ID)
	if c, err := s.LatestCheckpoint(ctx, activity); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestCheckpoint(%q) = %+v, %v; want ErrNotFound", activity, c, err)
	}
	if cs, err := s.ListCheckpoints(ctx, activity); err != nil || len(cs) != 0 {
		t.Errorf("ListCheckpoints(%q) = %v, %v; want none", activity, cs, err)
	}
	if srcs, err := s.ListSources(ctx); err != nil || len(srcs) != 0 {
		t.Errorf("ListSources() = %v, %v; want none", srcs, err)
	}
	if tok, err := s.TokenByHash(ctx, hash("token")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(%x) = %+v, %v; want ErrNotFound", hash("token"), tok, err)
	}
	if k, err := s.DataKeyFor(ctx, "alice", "2025-03"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DataKeyFor(%q, %q) = %+v, %v; want ErrNotFound", "alice", "2025-03", k, err)
	}
	err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(store.TreeState{}, st); diff != "" {
			t.Errorf("LogTx.State on an empty log mismatch (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Errorf("UpdateLog(%q) reading only = %v, want nil", activity, err)
	}
	// A transaction that writes nothing creates nothing.
	checkState(t, s, activity, store.TreeState{})
}

func testAppendVisible(t *testing.T, s store.Store) {
	// 70 entries in one Append, so an engine that batches its inserts
	// crosses a batch boundary, then 3 more in a second transaction.
	first := mixed(activity, 0, 70)
	commit(t, s, activity, first, map[store.TileID][]byte{{Level: 0, Index: 0}: tile(activity, store.TileID{}, 70)})
	// Engines must copy what they are given: scribble over the caller's
	// buffers and expect the pristine fixtures back.
	for i := range first {
		first[i].Leaf[0] ^= 0xff
		first[i].Meta[0] ^= 0xff
	}
	wantState := commit(t, s, activity, mixed(activity, 70, 3), map[store.TileID][]byte{
		{Level: 0, Index: 0}: tile(activity, store.TileID{}, 73),
		{Level: 1, Index: 0}: tile(activity, store.TileID{Level: 1}, 1),
	})

	all := mixed(activity, 0, 73)
	checkState(t, s, activity, wantState)
	if got := len(wantState.Range); got != 3 {
		t.Fatalf("fixture treeState(73) has %d range hashes, want 3", got)
	}
	tests := []struct {
		from, to uint64
		want     []store.Entry
	}{
		{0, 73, all},
		{0, 0, nil},
		{5, 9, all[5:9]},
		{69, 71, all[69:71]}, // across the two transactions
		{72, 100, all[72:]},
		{73, 100, nil},
		{10, 5, nil},
		{0, math.MaxUint64, all},
		{math.MaxUint64, math.MaxUint64, nil},
	}
	for _, tt := range tests {
		checkEntries(t, s, activity, tt.from, tt.to, tt.want)
	}
	for _, e := range all {
		checkEntryByID(t, s, e)
	}
	checkTile(t, s, activity, store.TileID{Level: 0, Index: 0}, tile(activity, store.TileID{}, 73))
	checkTile(t, s, activity, store.TileID{Level: 1, Index: 0}, tile(activity, store.TileID{Level: 1}, 1))
	checkTile(t, s, activity, store.TileID{Level: 0, Index: 1}, nil)
}

func testRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name   string
		before uint64 // entries committed before the case runs
		write  bool   // whether fn appends before failing
		retErr error  // what fn returns
	}{
		{"first write", 0, true, errBoom},
		{"nothing written", 0, false, errBoom},
		{"wrapped error", 0, true, fmt.Errorf("checking batch: %w", errBoom)},
		{"after commits", 3, true, errBoom},
		{"sentinel", 3, true, store.ErrConflict},
	}
	var size uint64
	wantState := store.TreeState{}
	for _, tt := range tests {
		if tt.before > size {
			wantState = commit(t, s, activity, mixed(activity, size, tt.before-size),
				map[store.TileID][]byte{{}: tile(activity, store.TileID{}, int(tt.before))})
			size = tt.before
		}
		added := mixed(activity, size, 3)
		err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
			if tt.write {
				tiles := map[store.TileID][]byte{
					{Level: 0, Index: 0}: tile(activity, store.TileID{}, int(size)+3),
					{Level: 1, Index: 0}: tile(activity, store.TileID{Level: 1}, 1),
				}
				if err := tx.Append(ctx, added, tiles, treeState(activity, size+3)); err != nil {
					t.Errorf("%s: Append = %v, want nil", tt.name, err)
				}
			}
			return tt.retErr
		})
		if !errors.Is(err, tt.retErr) {
			t.Errorf("%s: UpdateLog(%q) = %v, want %v", tt.name, activity, err, tt.retErr)
		}
		checkState(t, s, activity, wantState)
		checkEntries(t, s, activity, 0, 100, mixed(activity, 0, size))
		for _, e := range added {
			checkNoEntryByID(t, s, e.ID)
		}
		if size == 0 {
			checkTile(t, s, activity, store.TileID{}, nil)
		} else {
			checkTile(t, s, activity, store.TileID{}, tile(activity, store.TileID{}, int(size)))
		}
		checkTile(t, s, activity, store.TileID{Level: 1}, nil)
	}
}

// testRollbackOnPanic checks that a panic in fn propagates and abandons the
// transaction: the store must not stay locked by it (net/http recovers a
// handler's panic and carries on, so a wedged writer would stop every later
// append).
func testRollbackOnPanic(t *testing.T, s store.Store) {
	want := commit(t, s, activity, mixed(activity, 0, 2), nil)
	added := mixed(activity, 2, 1)
	func() {
		defer func() {
			if r := recover(); r != errBoom {
				t.Errorf("UpdateLog with a panicking fn panicked with %v, want %v", r, errBoom)
			}
		}()
		// A context that is never canceled: an engine must not rely on
		// cancellation to release the transaction.
		ctx := context.WithoutCancel(t.Context())
		s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
			if err := tx.Append(ctx, added, nil, treeState(activity, 3)); err != nil {
				t.Errorf("Append = %v, want nil", err)
			}
			panic(errBoom)
		})
	}()
	checkState(t, s, activity, want)
	checkNoEntryByID(t, s, added[0].ID)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		return tx.Append(ctx, added, nil, treeState(activity, st.Size+1))
	})
	if err != nil {
		t.Fatalf("UpdateLog(%q) after a panic = %v, want nil", activity, err)
	}
	checkEntryByID(t, s, added[0])
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	added := mixed(activity, 0, 1)
	err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		return tx.Append(ctx, added, nil, treeState(activity, st.Size+1))
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateLog(canceled, %q) = %v, want context.Canceled", activity, err)
	}
	checkState(t, s, activity, store.TreeState{})
	checkNoEntryByID(t, s, added[0].ID)
}

// testAppendExists appends, in one transaction, a good entry and then one
// that collides with a stored entry or with the good one, and checks the
// whole transaction is refused with ErrExists.
func testAppendExists(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := []store.Entry{
		newEntry(activity, 0, "src-a", "c0", true),
		newEntry(activity, 1, "src-a", "c1", false),
		newEntry(activity, 2, "src-a", "", true),
	}
	baseTile := tile(activity, store.TileID{}, 3)
	baseState := commit(t, s, activity, base, map[store.TileID][]byte{{}: baseTile})
	other := newEntry(oversight, 0, "lbm", "o0", false)
	commit(t, s, oversight, []store.Entry{other}, nil)

	withID := func(e store.Entry, id [16]byte) store.Entry {
		e.ID = id
		return e
	}
	good := newEntry(activity, 3, "src-a", "fresh", true)
	tests := []struct {
		name string
		bad  store.Entry
	}{
		{"stored index", newEntry(activity, 1, "src-a", "", false)},
		{"stored ID", withID(newEntry(activity, 4, "src-a", "c4", false), base[0].ID)},
		{"ID stored in another log", withID(newEntry(activity, 4, "src-a", "c4", false), other.ID)},
		{"stored client ID", newEntry(activity, 4, "src-a", "c1", true)},
		{"index earlier in the batch", newEntry(activity, 3, "src-b", "", false)},
		{"ID earlier in the batch", withID(newEntry(activity, 4, "src-a", "c4", false), good.ID)},
		{"client ID earlier in the batch", newEntry(activity, 4, "src-a", "fresh", false)},
	}
	for _, tt := range tests {
		var appendErr error
		err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
			tiles := map[store.TileID][]byte{{}: tile(activity, store.TileID{}, 5)}
			appendErr = tx.Append(ctx, []store.Entry{good, tt.bad}, tiles, treeState(activity, 5))
			return appendErr
		})
		if !errors.Is(appendErr, store.ErrExists) {
			t.Errorf("%s: Append = %v, want ErrExists", tt.name, appendErr)
		}
		if !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: UpdateLog(%q) = %v, want ErrExists", tt.name, activity, err)
		}
		checkState(t, s, activity, baseState)
		checkEntries(t, s, activity, 0, 100, base)
		checkNoEntryByID(t, s, good.ID)
		checkTile(t, s, activity, store.TileID{}, baseTile)
	}
	checkEntryByID(t, s, other)
}

// testAppendDistinct appends entries that share one part of a unique key
// with a stored entry but not the whole key; each must be accepted.
func testAppendDistinct(t *testing.T, s store.Store) {
	commit(t, s, activity, []store.Entry{
		newEntry(activity, 0, "src-a", "c0", true),
		newEntry(activity, 1, "src-a", "c1", false),
	}, nil)
	tests := []struct {
		name    string
		entries []store.Entry
	}{
		{"same client ID, other source", []store.Entry{newEntry(activity, 2, "src-b", "c1", false)}},
		{"same index, other log", []store.Entry{newEntry(oversight, 0, "src-a", "", false), newEntry(oversight, 1, "src-a", "", false)}},
		{"same source and client ID, other log", []store.Entry{newEntry(oversight, 2, "src-a", "c1", true)}},
		{"many without client ID", []store.Entry{newEntry(activity, 3, "src-a", "", false), newEntry(activity, 4, "src-a", "", true)}},
	}
	for _, tt := range tests {
		log := tt.entries[0].Log
		var err error
		err = s.UpdateLog(t.Context(), log, func(tx store.LogTx) error {
			return tx.Append(t.Context(), tt.entries, nil, treeState(log, tt.entries[len(tt.entries)-1].Index+1))
		})
		if err != nil {
			t.Errorf("%s: UpdateLog(%q) = %v, want nil", tt.name, log, err)
			continue
		}
		for _, e := range tt.entries {
			checkEntryByID(t, s, e)
		}
	}
	checkState(t, s, activity, treeState(activity, 5))
	checkState(t, s, oversight, treeState(oversight, 3))
}

func testFindClientIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	// 600 ids: more than a single SQL IN list of 500 holds.
	const n = 600
	var srcA []store.Entry
	var idsA []string
	for i := range uint64(n) {
		id := fmt.Sprintf("c%04d", i)
		srcA = append(srcA, newEntry(activity, i, "src-a", id, i%2 == 0))
		idsA = append(idsA, id)
	}
	commit(t, s, activity, srcA, nil)
	var srcB []store.Entry
	for i := range uint64(10) {
		srcB = append(srcB, newEntry(activity, n+i, "src-b", fmt.Sprintf("c%04d", i), false))
	}
	srcB = append(srcB, newEntry(activity, n+10, "src-b", "", false))
	commit(t, s, activity, srcB, nil)
	var over []store.Entry
	for i := range uint64(5) {
		over = append(over, newEntry(oversight, i, "src-a", fmt.Sprintf("c%04d", i), false))
	}
	commit(t, s, oversight, over, nil)

	byClientID := func(es ...store.Entry) map[string]store.Entry {
		m := make(map[string]store.Entry)
		for _, e := range es {
			m[e.ClientID] = e
		}
		return m
	}
	tests := []struct {
		log, source string
		ids         []string
		want        map[string]store.Entry
	}{
		{activity, "src-a", append(idsA, "c9999"), byClientID(srcA...)},
		{activity, "src-a", []string{"c0001", "c0001", "c0002"}, byClientID(srcA[1], srcA[2])},
		{activity, "src-b", []string{"c0000", "c0005", "c0500"}, byClientID(srcB[0], srcB[5])},
		{activity, "src-c", []string{"c0000"}, nil},
		{activity, "src-a", nil, nil},
		{oversight, "src-a", idsA[:10], byClientID(over...)},
	}
	for _, tt := range tests {
		err := s.UpdateLog(ctx, tt.log, func(tx store.LogTx) error {
			got, err := tx.FindClientIDs(ctx, tt.source, tt.ids)
			if err != nil {
				t.Errorf("FindClientIDs(%q, %d ids) in %s = %v", tt.source, len(tt.ids), tt.log, err)
				return err
			}
			if len(tt.want) == 0 {
				if len(got) != 0 {
					t.Errorf("FindClientIDs(%q, %d ids) in %s = %d entries, want none", tt.source, len(tt.ids), tt.log, len(got))
				}
				return nil
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FindClientIDs(%q, %d ids) in %s mismatch (-want +got):\n%s", tt.source, len(tt.ids), tt.log, diff)
			}
			return nil
		})
		if err != nil {
			t.Errorf("UpdateLog(%q) = %v", tt.log, err)
		}
	}
}

func testTilesReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := store.TileID{Level: 0, Index: 2}
	other := store.TileID{Level: 1, Index: 0}
	commit(t, s, activity, nil, map[store.TileID][]byte{other: tile(activity, other, 2)})
	tests := []struct {
		name string
		data []byte
	}{
		{"partial", tile(activity, id, 3)},
		{"grown", tile(activity, id, 5)},
		{"full", tile(activity, id, 256)},
		{"different bytes", tile(oversight, id, 256)},
	}
	for _, tt := range tests {
		commit(t, s, activity, nil, map[store.TileID][]byte{id: tt.data})
		checkTile(t, s, activity, id, tt.data)
		err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
			got, err := tx.Tiles(ctx, []store.TileID{id})
			if err != nil {
				return err
			}
			if diff := cmp.Diff(map[store.TileID][]byte{id: tt.data}, got); diff != "" {
				t.Errorf("%s: LogTx.Tiles(%+v) mismatch (-want +got):\n%s", tt.name, id, diff)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: UpdateLog(%q) = %v", tt.name, activity, err)
		}
	}
	// Replacing one tile leaves the others alone.
	checkTile(t, s, activity, other, tile(activity, other, 2))
}

func testTxReads(t *testing.T, s store.Store) {
	ctx := t.Context()
	stored := map[store.TileID][]byte{
		{Level: 0, Index: 0}: tile(activity, store.TileID{}, 3),
		{Level: 1, Index: 0}: tile(activity, store.TileID{Level: 1}, 1),
	}
	want := commit(t, s, activity, mixed(activity, 0, 3), stored)
	ids := []store.TileID{{Level: 0, Index: 0}, {Level: 0, Index: 1}, {Level: 1, Index: 0}, {Level: 3, Index: 7}}
	err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("LogTx.State mismatch (-want +got):\n%s", diff)
		}
		got, err := tx.Tiles(ctx, ids)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(stored, got); diff != "" {
			t.Errorf("LogTx.Tiles(%v) mismatch (-want +got):\n%s", ids, diff)
		}
		got, err = tx.Tiles(ctx, nil)
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("LogTx.Tiles(nil) = %d tiles, want none", len(got))
		}
		return nil
	})
	if err != nil {
		t.Errorf("UpdateLog(%q) = %v", activity, err)
	}
	// A transaction on another log sees none of this one's tiles.
	err = s.UpdateLog(ctx, oversight, func(tx store.LogTx) error {
		got, err := tx.Tiles(ctx, ids)
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("LogTx.Tiles(%v) on %s = %d tiles, want none", ids, oversight, len(got))
		}
		return nil
	})
	if err != nil {
		t.Errorf("UpdateLog(%q) = %v", oversight, err)
	}
}

func testLogsIndependent(t *testing.T, s store.Store) {
	id := store.TileID{}
	act := mixed(activity, 0, 3)
	over := mixed(oversight, 0, 2)
	actState := commit(t, s, activity, act, map[store.TileID][]byte{id: tile(activity, id, 3)})
	checkState(t, s, oversight, store.TreeState{})
	checkTile(t, s, oversight, id, nil)
	checkEntries(t, s, oversight, 0, 10, nil)

	overState := commit(t, s, oversight, over, map[store.TileID][]byte{id: tile(oversight, id, 2)})
	checkState(t, s, activity, actState)
	checkState(t, s, oversight, overState)
	checkEntries(t, s, activity, 0, 10, act)
	checkEntries(t, s, oversight, 0, 10, over)
	checkTile(t, s, activity, id, tile(activity, id, 3))
	checkTile(t, s, oversight, id, tile(oversight, id, 2))
	for _, e := range append(act, over...) {
		checkEntryByID(t, s, e)
	}
}

func testCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	cp := func(log string, size uint64) store.Checkpoint {
		return store.Checkpoint{
			Size: size,
			Time: epoch.Add(time.Duration(size) * time.Hour),
			Note: fmt.Appendf(nil, "%s\n%d\n%x\n\n— lbm sig\n", log, size, hash(fmt.Sprint(log, size))),
		}
	}
	// Out of size order, and one log's sizes interleaved with the other's.
	adds := []struct {
		log  string
		size uint64
	}{
		{activity, 5}, {activity, 1}, {oversight, 2}, {activity, 3}, {oversight, 5},
	}
	for _, a := range adds {
		if err := s.AddCheckpoint(ctx, a.log, cp(a.log, a.size)); err != nil {
			t.Fatalf("AddCheckpoint(%q, size %d) = %v, want nil", a.log, a.size, err)
		}
	}
	dup := cp(activity, 3)
	dup.Note = []byte("another note of the same size")
	if err := s.AddCheckpoint(ctx, activity, dup); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddCheckpoint(%q, size 3) again = %v, want ErrExists", activity, err)
	}

	tests := []struct {
		log    string
		latest store.Checkpoint // zero: ErrNotFound
		list   []store.Checkpoint
	}{
		{activity, cp(activity, 5), []store.Checkpoint{cp(activity, 1), cp(activity, 3), cp(activity, 5)}},
		{oversight, cp(oversight, 5), []store.Checkpoint{cp(oversight, 2), cp(oversight, 5)}},
		{"unknown", store.Checkpoint{}, nil},
	}
	for _, tt := range tests {
		got, err := s.LatestCheckpoint(ctx, tt.log)
		switch {
		case tt.latest.Note == nil:
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LatestCheckpoint(%q) = %+v, %v; want ErrNotFound", tt.log, got, err)
			}
		case err != nil:
			t.Errorf("LatestCheckpoint(%q) = %v, want size %d", tt.log, err, tt.latest.Size)
		default:
			// cmp compares times with Time.Equal: the instant, to the nanosecond.
			if diff := cmp.Diff(tt.latest, got); diff != "" {
				t.Errorf("LatestCheckpoint(%q) mismatch (-want +got):\n%s", tt.log, diff)
			}
		}
		list, err := s.ListCheckpoints(ctx, tt.log)
		if err != nil {
			t.Errorf("ListCheckpoints(%q) = %v", tt.log, err)
			continue
		}
		if len(tt.list) == 0 {
			if len(list) != 0 {
				t.Errorf("ListCheckpoints(%q) = %d checkpoints, want none", tt.log, len(list))
			}
			continue
		}
		if diff := cmp.Diff(tt.list, list); diff != "" {
			t.Errorf("ListCheckpoints(%q) mismatch (-want +got):\n%s", tt.log, diff)
		}
	}
}

func testDataKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := func(subject, period string) store.DataKey {
		return store.DataKey{
			ID:      hash("dk " + subject + " " + period)[:16],
			Subject: subject,
			Period:  period,
			KEKID:   "kek-1",
			Wrapped: append([]byte{0}, hash("wrapped "+subject+" "+period)...),
			Created: epoch.Add(time.Duration(len(subject)) * time.Second),
		}
	}
	keys := []store.DataKey{key("alice", "2025-01"), key("alice", "2025-02"), key("bob", "2025-01")}
	for _, k := range keys {
		if err := s.AddDataKey(ctx, k); err != nil {
			t.Fatalf("AddDataKey(%q, %q) = %v, want nil", k.Subject, k.Period, err)
		}
	}
	for _, want := range keys {
		if !want.Destroyed.IsZero() {
			t.Fatalf("fixture key has Destroyed set")
		}
		got, err := s.DataKeyFor(ctx, want.Subject, want.Period)
		if err != nil {
			t.Errorf("DataKeyFor(%q, %q) = %v", want.Subject, want.Period, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DataKeyFor(%q, %q) mismatch (-want +got):\n%s", want.Subject, want.Period, diff)
		}
		got, err = s.DataKeyByID(ctx, want.ID)
		if err != nil {
			t.Errorf("DataKeyByID(%x) = %v", want.ID, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DataKeyByID(%x) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}

	sameSlot := key("alice", "2025-01")
	sameSlot.ID = hash("another id")[:16]
	sameID := key("carol", "2025-01")
	sameID.ID = keys[0].ID
	dups := []struct {
		name string
		k    store.DataKey
	}{
		{"same subject and period", sameSlot},
		{"same ID", sameID},
	}
	for _, tt := range dups {
		if err := s.AddDataKey(ctx, tt.k); !errors.Is(err, store.ErrExists) {
			t.Errorf("AddDataKey(%q, %q) with %s = %v, want ErrExists", tt.k.Subject, tt.k.Period, tt.name, err)
		}
	}
	if got, err := s.DataKeyFor(ctx, "alice", "2025-01"); err != nil || !cmp.Equal(keys[0], got) {
		t.Errorf("DataKeyFor(%q, %q) after duplicates = %+v, %v; want the first key", "alice", "2025-01", got, err)
	}
	if got, err := s.DataKeyByID(ctx, sameSlot.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DataKeyByID(%x) of a refused key = %+v, %v; want ErrNotFound", sameSlot.ID, got, err)
	}

	missing := []struct{ subject, period string }{
		{"alice", "2025-03"},
		{"carol", "2025-01"},
		{"", ""},
	}
	for _, m := range missing {
		if got, err := s.DataKeyFor(ctx, m.subject, m.period); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DataKeyFor(%q, %q) = %+v, %v; want ErrNotFound", m.subject, m.period, got, err)
		}
	}
	for _, id := range [][]byte{hash("no such key")[:16], nil} {
		if got, err := s.DataKeyByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DataKeyByID(%x) = %+v, %v; want ErrNotFound", id, got, err)
		}
	}

	// AddDataKeys stores the new keys of a batch in one go and leaves a
	// subject-period that already has a key with the key it had.
	loser := key("alice", "2025-02")
	loser.ID = hash("losing id")[:16]
	batch := []store.DataKey{key("dave", "2025-01"), loser, key("erin", "2025-01"), key("dave", "2025-01")}
	if err := s.AddDataKeys(ctx, batch); err != nil {
		t.Fatalf("AddDataKeys = %v, want nil", err)
	}
	for _, want := range []store.DataKey{batch[0], keys[1], batch[2]} {
		got, err := s.DataKeyFor(ctx, want.Subject, want.Period)
		if err != nil || !cmp.Equal(want, got) {
			t.Errorf("DataKeyFor(%q, %q) after AddDataKeys = %+v, %v; want %+v", want.Subject, want.Period, got, err, want)
		}
	}
	if err := s.AddDataKeys(ctx, nil); err != nil {
		t.Errorf("AddDataKeys(nil) = %v, want nil", err)
	}
}

func testPrincipals(t *testing.T, s store.Store) {
	ctx := t.Context()
	source := func(id string) store.Source {
		return store.Source{ID: id, Created: epoch.Add(time.Duration(len(id)) * time.Minute)}
	}
	token := func(kind, subject, secret string) store.Token {
		return store.Token{Hash: hash("token " + secret), Kind: kind, Subject: subject, Created: epoch.Add(time.Millisecond)}
	}
	// Added out of ID order.
	srcs := []store.Source{source("src-c"), source("src-a"), source("src-b")}
	var toks []store.Token
	for _, src := range srcs {
		tok := token("source", src.ID, src.ID)
		if err := s.AddSource(ctx, src, tok); err != nil {
			t.Fatalf("AddSource(%q) = %v, want nil", src.ID, err)
		}
		toks = append(toks, tok)
	}
	admin := token("admin", "admin", "admin")
	if err := s.AddToken(ctx, admin); err != nil {
		t.Fatalf("AddToken(admin) = %v, want nil", err)
	}
	toks = append(toks, admin)
	wantSources := []store.Source{source("src-a"), source("src-b"), source("src-c")}

	check := func(when string) {
		t.Helper()
		got, err := s.ListSources(ctx)
		if err != nil {
			t.Errorf("%s: ListSources() = %v", when, err)
		} else if diff := cmp.Diff(wantSources, got); diff != "" {
			t.Errorf("%s: ListSources() mismatch (-want +got):\n%s", when, diff)
		}
		for _, want := range toks {
			got, err := s.TokenByHash(ctx, want.Hash)
			if err != nil {
				t.Errorf("%s: TokenByHash(%x) = %v", when, want.Hash, err)
			} else if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: TokenByHash(%x) mismatch (-want +got):\n%s", when, want.Hash, diff)
			}
		}
	}
	check("after adding")

	tests := []struct {
		name  string
		add   func() error
		ghost []byte // a token hash the refused call must not leave behind
	}{
		{"source exists", func() error {
			return s.AddSource(ctx, source("src-a"), token("source", "src-a", "new secret"))
		}, hash("token new secret")},
		{"token hash exists", func() error {
			return s.AddSource(ctx, source("src-d"), token("source", "src-d", "src-a"))
		}, nil},
		{"both exist", func() error {
			return s.AddSource(ctx, source("src-b"), token("source", "src-b", "src-b"))
		}, nil},
		{"AddToken hash exists", func() error {
			return s.AddToken(ctx, token("source", "src-c", "admin"))
		}, nil},
	}
	for _, tt := range tests {
		if err := tt.add(); !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: add = %v, want ErrExists", tt.name, err)
		}
		// Nothing half-stored: no src-d, no new token, old tokens unchanged.
		check(tt.name)
		if tt.ghost != nil {
			if got, err := s.TokenByHash(ctx, tt.ghost); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: TokenByHash(%x) = %+v, %v; want ErrNotFound", tt.name, tt.ghost, got, err)
			}
		}
	}
	if got, err := s.TokenByHash(ctx, hash("no such token")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(unknown) = %+v, %v; want ErrNotFound", got, err)
	}
}

// testConcurrentAppends runs writers that each read the state and append at
// State.Size. Unless the engine serialises them, two read the same size and
// one fails or an index is skipped.
func testConcurrentAppends(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, appends = 8, 10
	done := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		// A reader alongside: sizes only grow, and reads never fail.
		var last uint64
		for {
			select {
			case <-done:
				return
			default:
			}
			st, err := s.LogState(ctx, activity)
			if err != nil {
				t.Errorf("LogState(%q) during appends = %v", activity, err)
				return
			}
			if st.Size < last {
				t.Errorf("LogState(%q).Size = %d after %d", activity, st.Size, last)
			}
			last = st.Size
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				client := fmt.Sprintf("w%d-%d", w, i)
				err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
					st, err := tx.State(ctx)
					if err != nil {
						return err
					}
					// The ID names the writer and append, not the index, so a
					// lost race shows as a duplicate index, not a duplicate ID.
					e := newEntry(activity, st.Size, "src-a", client, false)
					copy(e.ID[:], hash("concurrent "+client))
					return tx.Append(ctx, []store.Entry{e}, nil, treeState(activity, st.Size+1))
				})
				if err != nil {
					t.Errorf("UpdateLog(%q) by writer %d, append %d = %v, want nil", activity, w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()

	const total = writers * appends
	checkState(t, s, activity, treeState(activity, total))
	got, err := s.Entries(ctx, activity, 0, total+1)
	if err != nil {
		t.Fatalf("Entries(%q, 0, %d) = %v", activity, total+1, err)
	}
	if len(got) != total {
		t.Fatalf("Entries(%q, 0, %d) = %d entries, want %d", activity, total+1, len(got), total)
	}
	seen := make(map[string]bool)
	for i, e := range got {
		if e.Index != uint64(i) {
			t.Errorf("entry %d has Index %d", i, e.Index)
		}
		if seen[e.ClientID] {
			t.Errorf("client id %q appended twice", e.ClientID)
		}
		seen[e.ClientID] = true
	}
}

func testPingClose(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
	// /readyz must not report a closed store as ready.
	if err := s.Ping(t.Context()); err == nil {
		t.Errorf("Ping() after Close = nil, want an error")
	}
}

// testSearchTerms checks that a search returns, in index order, exactly the
// entries of its log and subject in its time range that carry every term.
func testSearchTerms(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(log string, i uint64, subject string, words ...string) store.Entry {
		e := newEntry(log, i, "src-a", "", true)
		e.Subject = subject
		e.Terms = terms(words...)
		return e
	}
	es := []store.Entry{
		mk(activity, 0, "alice", "fox", "quick"),
		mk(activity, 1, "alice", "fox", "lazy"),
		mk(activity, 2, "bob", "fox", "quick"),
		mk(activity, 3, "alice", "dog"),
		newEntry(activity, 4, "src-a", "", false), // alice, no content
		mk(activity, 5, "alice", "quick", "fox", "brown"),
	}
	// A later month, so an engine that partitions by time holds two.
	es[5].Time = epoch.AddDate(0, 1, 0).UnixNano()
	commit(t, s, activity, es, nil)
	other := mk(oversight, 0, "alice", "fox", "quick")
	commit(t, s, oversight, []store.Entry{other}, nil)

	all := [2]int64{math.MinInt64, math.MaxInt64}
	tests := []struct {
		name    string
		log     string
		subject string
		span    [2]int64
		words   []string
		limit   int
		want    []store.Entry
	}{
		{"one term", activity, "alice", all, []string{"fox"}, 0, []store.Entry{es[0], es[1], es[5]}},
		{"every term must match", activity, "alice", all, []string{"fox", "quick"}, 0, []store.Entry{es[0], es[5]}},
		{"no entry has all", activity, "alice", all, []string{"dog", "fox"}, 0, nil},
		{"other subject", activity, "bob", all, []string{"quick"}, 0, []store.Entry{es[2]}},
		{"other log", oversight, "alice", all, []string{"quick"}, 0, []store.Entry{other}},
		{"unknown term", activity, "alice", all, []string{"cat"}, 0, nil},
		{"time range excludes the later month", activity, "alice", [2]int64{epoch.UnixNano(), epoch.AddDate(0, 0, 1).UnixNano()}, []string{"fox"}, 0, []store.Entry{es[0], es[1]}},
		{"time range is half-open", activity, "alice", [2]int64{epoch.UnixNano() + 1, es[5].Time}, []string{"fox"}, 0, []store.Entry{es[1]}},
		{"limit", activity, "alice", all, []string{"fox"}, 2, []store.Entry{es[0], es[1]}},
	}
	for _, tt := range tests {
		q := store.TermQuery{Log: tt.log, Subject: tt.subject, From: tt.span[0], To: tt.span[1], Terms: terms(tt.words...), Limit: tt.limit}
		got, err := s.SearchTerms(ctx, q)
		if err != nil {
			t.Errorf("%s: SearchTerms = %v", tt.name, err)
			continue
		}
		if len(tt.want) == 0 {
			if len(got) != 0 {
				t.Errorf("%s: SearchTerms = %d entries, want none", tt.name, len(got))
			}
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: SearchTerms mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	for _, q := range []store.TermQuery{
		{Log: activity, Subject: "alice", From: all[0], To: all[1]},
		{Log: activity, Subject: "alice", From: all[0], To: all[1], Terms: []string{"fox | dog"}},
		{Log: activity, Subject: "alice", From: all[0], To: all[1], Terms: []string{"Fox"}},
		{Log: activity, Subject: "alice", From: all[0], To: all[1], Terms: []string{"fo%"}},
		{Log: activity, Subject: "alice", From: all[0], To: all[1], Terms: []string{""}},
	} {
		if got, err := s.SearchTerms(ctx, q); err == nil {
			t.Errorf("SearchTerms(terms %q) = %d entries, nil; want an error", q.Terms, len(got))
		}
	}
}

// testBadTerms checks that an entry whose terms are not lower-case letters
// and digits is refused, and the transaction with it.
func testBadTerms(t *testing.T, s store.Store) {
	for _, bad := range [][]string{{"UPPER"}, {"two words"}, {"a&b"}, {""}, {"it's"}} {
		e := newEntry(activity, 0, "src-a", "", true)
		e.Terms = bad
		err := s.UpdateLog(t.Context(), activity, func(tx store.LogTx) error {
			return tx.Append(t.Context(), []store.Entry{e}, nil, treeState(activity, 1))
		})
		if err == nil {
			t.Errorf("Append with terms %q = nil, want an error", bad)
		}
		checkState(t, s, activity, store.TreeState{})
		checkNoEntryByID(t, s, e.ID)
	}
}

// testConcurrentDataKeys has writers add overlapping sets of keys, each in
// its own order, as concurrent appends creating the same people's keys do:
// every call must succeed (an engine that locks rows in caller order can
// deadlock here), and each subject and period must end with one key.
func testConcurrentDataKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, subjects = 6, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			var ks []store.DataKey
			for i := range subjects {
				// A different rotation per writer: the same keys, each writer
				// reaching them in its own order.
				j := (i*7 + w*37) % subjects
				ks = append(ks, store.DataKey{
					ID: hash(fmt.Sprintf("key %d %d", w, j))[:16], Subject: fmt.Sprintf("s%03d", j), Period: "2025-03",
					KEKID: "kek", Wrapped: []byte{byte(w)}, Created: epoch,
				})
			}
			if w%2 == 1 {
				slices.Reverse(ks)
			}
			if err := s.AddDataKeys(ctx, ks); err != nil {
				t.Errorf("writer %d: AddDataKeys = %v", w, err)
			}
		})
	}
	wg.Wait()
	for j := range subjects {
		k, err := s.DataKeyFor(ctx, fmt.Sprintf("s%03d", j), "2025-03")
		if err != nil {
			t.Errorf("DataKeyFor(s%03d) = %v", j, err)
			continue
		}
		byID, err := s.DataKeyByID(ctx, k.ID)
		if err != nil || byID.Subject != k.Subject {
			t.Errorf("DataKeyByID(key of s%03d) = %+v, %v", j, byID, err)
		}
	}
}
