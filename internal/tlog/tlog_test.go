package tlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
	xtlog "golang.org/x/mod/sumdb/tlog"
)

// memTiles is a tile store for tests: what an engine keeps, in a map.
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

func (m memTiles) ReadTile(_ context.Context, level, index, width uint64) ([]byte, error) {
	t, ok := m[store.TileID{Level: level, Index: index}]
	if !ok || uint64(len(t)) < width*HashSize {
		return nil, fmt.Errorf("tile %d/%d width %d: %w", level, index, width, store.ErrNotFound)
	}
	return t, nil
}

func leafData(i uint64) []byte { return binary.BigEndian.AppendUint64([]byte("leaf "), i) }

// grow appends leaves [st.Size, n) in batches of the given size.
func grow(t *testing.T, tiles memTiles, st store.TreeState, n uint64, batch int) store.TreeState {
	t.Helper()
	for st.Size < n {
		var hs [][]byte
		for i := st.Size; i < n && len(hs) < batch; i++ {
			hs = append(hs, HashLeaf(leafData(i)))
		}
		next, changed, err := Extend(t.Context(), tiles, st, hs)
		if err != nil {
			t.Fatalf("Extend(size %d, %d leaves) = %v", st.Size, len(hs), err)
		}
		for id, h := range changed {
			tiles[id] = h
		}
		st = next
	}
	return st
}

// xHashes is the independent reference: x/mod's tlog over the same leaves.
type xHashes []xtlog.Hash

func (x xHashes) ReadHashes(idx []int64) ([]xtlog.Hash, error) {
	out := make([]xtlog.Hash, len(idx))
	for i, j := range idx {
		out[i] = x[j]
	}
	return out, nil
}

func reference(t *testing.T, n uint64) xHashes {
	t.Helper()
	var x xHashes
	for i := uint64(0); i < n; i++ {
		hs, err := xtlog.StoredHashes(int64(i), leafData(i), x)
		if err != nil {
			t.Fatal(err)
		}
		x = append(x, hs...)
	}
	return x
}

func TestExtendMatchesIndependentTlog(t *testing.T) {
	const n = 70000 // spans three tile levels
	x := reference(t, n)
	for _, batch := range []int{1, 7, 256, 1000, 4096} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			tiles := memTiles{}
			var st store.TreeState
			for _, size := range []uint64{1, 2, 255, 256, 257, 1000, 65535, 65536, 65537, n} {
				if batch == 1 && size > 5000 {
					break
				}
				st = grow(t, tiles, st, size, batch)
				want, err := xtlog.TreeHash(int64(size), x)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(st.Root, want[:]) {
					t.Fatalf("root at size %d = %x, want %x", size, st.Root, want)
				}
				got, err := TreeHash(t.Context(), tiles, size)
				if err != nil || !bytes.Equal(got, want[:]) {
					t.Fatalf("TreeHash(%d) from tiles = %x, %v; want %x", size, got, err, want)
				}
			}
		})
	}
}

func TestProofsVerifyIndependently(t *testing.T) {
	const n = 66000
	x := reference(t, n)
	tiles := memTiles{}
	st := grow(t, tiles, store.TreeState{}, n, 3000)
	for _, c := range []struct{ index, size uint64 }{{0, 1}, {0, n}, {255, 256}, {256, 1000}, {65535, 65536}, {65536, 65537}, {12345, n}, {n - 1, n}} {
		p, err := ProveInclusion(t.Context(), tiles, c.index, c.size)
		if err != nil {
			t.Fatalf("ProveInclusion(%d, %d) = %v", c.index, c.size, err)
		}
		root, _ := xtlog.TreeHash(int64(c.size), x)
		xp := make(xtlog.RecordProof, len(p))
		for i := range p {
			copy(xp[i][:], p[i])
		}
		if err := xtlog.CheckRecord(xp, int64(c.size), root, int64(c.index), xtlog.RecordHash(leafData(c.index))); err != nil {
			t.Errorf("x/mod CheckRecord of our inclusion proof (%d in %d) = %v", c.index, c.size, err)
		}
		if err := CheckInclusion(c.index, c.size, HashLeaf(leafData(c.index)), p, root[:]); err != nil {
			t.Errorf("CheckInclusion(%d, %d) = %v", c.index, c.size, err)
		}
	}
	for _, c := range []struct{ m, n uint64 }{{1, 2}, {1, n}, {256, 257}, {1000, 65537}, {65536, n}, {n - 1, n}, {7, 7}} {
		p, err := ProveConsistency(t.Context(), tiles, c.m, c.n)
		if err != nil {
			t.Fatalf("ProveConsistency(%d, %d) = %v", c.m, c.n, err)
		}
		r1, _ := xtlog.TreeHash(int64(c.m), x)
		r2, _ := xtlog.TreeHash(int64(c.n), x)
		xp := make(xtlog.TreeProof, len(p))
		for i := range p {
			copy(xp[i][:], p[i])
		}
		if c.m != c.n {
			if err := xtlog.CheckTree(xp, int64(c.n), r2, int64(c.m), r1); err != nil {
				t.Errorf("x/mod CheckTree of our consistency proof (%d to %d) = %v", c.m, c.n, err)
			}
		}
		if err := CheckConsistency(c.m, c.n, p, r1[:], r2[:]); err != nil {
			t.Errorf("CheckConsistency(%d, %d) = %v", c.m, c.n, err)
		}
	}
	if !bytes.Equal(st.Root, func() []byte { r, _ := xtlog.TreeHash(n, x); return r[:] }()) {
		t.Errorf("final root mismatch")
	}
}

func TestExtendRefusesMissingEdgeTile(t *testing.T) {
	tiles := memTiles{}
	st := grow(t, tiles, store.TreeState{}, 300, 300)
	delete(tiles, store.TileID{Level: 0, Index: 1})
	if _, _, err := Extend(t.Context(), tiles, st, [][]byte{HashLeaf([]byte("x"))}); err == nil {
		t.Fatal("Extend with its right-edge tile missing succeeded, want error")
	}
}

func TestEmptyRoot(t *testing.T) {
	want := sha256.Sum256(nil)
	if !bytes.Equal(EmptyRoot(), want[:]) {
		t.Errorf("EmptyRoot() = %x, want %x", EmptyRoot(), want)
	}
}

// TestAccumulatedRoots pins every root of a log grown one leaf at a time to
// 3000 leaves, hashed together: any change to hashing, tiling or the
// compact range shows here, whatever size it affects.
func TestAccumulatedRoots(t *testing.T) {
	const want = "ea3166e4d05aeecc5cdad8dfed0eabe8e949f41a4f46d42eee20aabb06706cc5"
	tiles := memTiles{}
	var st store.TreeState
	acc := sha256.New()
	for size := uint64(1); size <= 3000; size++ {
		st = grow(t, tiles, st, size, 1)
		acc.Write(st.Root)
	}
	if got := fmt.Sprintf("%x", acc.Sum(nil)); got != want {
		t.Errorf("accumulated roots = %s, want %s", got, want)
	}
}
