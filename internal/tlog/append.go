package tlog

import (
	"context"
	"fmt"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// TileWidth is the number of hashes in a full tile; TileHeight its log2.
const (
	TileHeight = 8
	TileWidth  = 1 << TileHeight
	HashSize   = 32
)

var hasher = rfc6962.DefaultHasher

var rangeFactory = &compact.RangeFactory{Hash: hasher.HashChildren}

// HashLeaf returns the RFC 6962 leaf hash of data.
func HashLeaf(data []byte) []byte { return hasher.HashLeaf(data) }

// EmptyRoot is the root of the empty tree.
func EmptyRoot() []byte { return hasher.EmptyRoot() }

// TileReader reads the tiles an append touches, inside the append's transaction.
type TileReader interface {
	Tiles(ctx context.Context, ids []store.TileID) (map[store.TileID][]byte, error)
}

// Extend appends leaf hashes to the tree st and returns the new state and
// every tile that changed (full contents, to be stored in place of the old).
// It fails if a right-edge tile the state implies is missing or short: the
// store is then inconsistent and must not be written to.
func Extend(ctx context.Context, r TileReader, st store.TreeState, leafHashes [][]byte) (store.TreeState, map[store.TileID][]byte, error) {
	rng, err := rangeFactory.NewRange(0, st.Size, st.Range)
	if err != nil {
		return st, nil, fmt.Errorf("extending tree of size %d: %v", st.Size, err)
	}
	edge := rightEdge(st.Size)
	tiles, err := r.Tiles(ctx, edge)
	if err != nil {
		return st, nil, fmt.Errorf("reading right-edge tiles: %w", err)
	}
	loaded := make(map[store.TileID]int, len(edge))
	for _, id := range edge {
		want := int(partialWidth(st.Size, id.Level)) * HashSize
		loaded[id] = want
		if len(tiles[id]) < want {
			return st, nil, fmt.Errorf("tile %d/%d holds %d bytes, want %d: store inconsistent", id.Level, id.Index, len(tiles[id]), want)
		}
		// A longer stored tile holds hashes of a failed, rolled-back write
		// that never happened; cut it to the committed width.
		tiles[id] = tiles[id][:want:want]
	}
	var visitErr error
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level%TileHeight != 0 || visitErr != nil {
			return
		}
		tid := store.TileID{Level: uint64(id.Level / TileHeight), Index: id.Index / TileWidth}
		t := tiles[tid]
		if off := int(id.Index%TileWidth) * HashSize; len(t) != off {
			visitErr = fmt.Errorf("tile %d/%d: writing hash %d after %d bytes", tid.Level, tid.Index, id.Index%TileWidth, len(t))
			return
		}
		tiles[tid] = append(t, hash...)
	}
	for _, h := range leafHashes {
		if err := rng.Append(h, visit); err != nil {
			return st, nil, fmt.Errorf("appending leaf: %v", err)
		}
	}
	if visitErr != nil {
		return st, nil, visitErr
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return st, nil, err
	}
	if root == nil {
		root = EmptyRoot()
	}
	next := store.TreeState{Size: rng.End(), Root: root, Range: rng.Hashes()}
	changed := make(map[store.TileID][]byte, len(tiles))
	for id, t := range tiles {
		if len(t) != loaded[id] {
			changed[id] = t
		}
	}
	return next, changed, nil
}

// rightEdge lists the partial tiles of a tree of size n: the only stored
// tiles an append can extend.
func rightEdge(n uint64) []store.TileID {
	var ids []store.TileID
	for level := uint64(0); n>>(TileHeight*level) > 0; level++ {
		nodes := n >> (TileHeight * level)
		if nodes%TileWidth != 0 {
			ids = append(ids, store.TileID{Level: level, Index: nodes / TileWidth})
		}
	}
	return ids
}

// partialWidth is how many hashes the tile at level holds, in a tree of
// size n, in the tile that contains that level's next node.
func partialWidth(n uint64, level uint64) uint64 {
	return (n >> (TileHeight * level)) % TileWidth
}
