package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// TileSource returns the tile at (level, index) holding at least width
// hashes. It may return more: tiles only ever grow.
type TileSource interface {
	ReadTile(ctx context.Context, level, index, width uint64) ([]byte, error)
}

// TileSourceFunc adapts a function to TileSource.
type TileSourceFunc func(ctx context.Context, level, index, width uint64) ([]byte, error)

func (f TileSourceFunc) ReadTile(ctx context.Context, level, index, width uint64) ([]byte, error) {
	return f(ctx, level, index, width)
}

// nodeHash returns the hash of the complete node id in a tree of size n,
// reading it from its tile or recomputing it from the tile below.
func nodeHash(ctx context.Context, src TileSource, n uint64, id compact.NodeID, cache map[[2]uint64][]byte) ([]byte, error) {
	level := uint64(id.Level) / TileHeight
	sub := uint64(id.Level) % TileHeight
	first := id.Index << sub // first node at the tile's base level
	count := uint64(1) << sub
	tileIndex := first / TileWidth
	width := min(TileWidth, (n>>(TileHeight*level))-tileIndex*TileWidth)
	key := [2]uint64{level, tileIndex}
	t, ok := cache[key]
	if !ok || uint64(len(t)) < width*HashSize {
		var err error
		if t, err = src.ReadTile(ctx, level, tileIndex, width); err != nil {
			return nil, fmt.Errorf("reading tile %d/%d: %w", level, tileIndex, err)
		}
		cache[key] = t
	}
	off := first % TileWidth
	if uint64(len(t)) < (off+count)*HashSize {
		return nil, fmt.Errorf("tile %d/%d holds %d hashes, need %d", level, tileIndex, len(t)/HashSize, off+count)
	}
	hs := make([][]byte, count)
	for i := range hs {
		hs[i] = t[(off+uint64(i))*HashSize : (off+uint64(i)+1)*HashSize]
	}
	for len(hs) > 1 {
		next := hs[:0:0]
		for i := 0; i < len(hs); i += 2 {
			next = append(next, hasher.HashChildren(hs[i], hs[i+1]))
		}
		hs = next
	}
	return hs[0], nil
}

func fetch(ctx context.Context, src TileSource, n uint64, nodes proof.Nodes) ([][]byte, error) {
	cache := make(map[[2]uint64][]byte)
	hs := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h, err := nodeHash(ctx, src, n, id, cache)
		if err != nil {
			return nil, err
		}
		hs[i] = h
	}
	return nodes.Rehash(hs, hasher.HashChildren)
}

// ProveInclusion returns the inclusion proof of leaf index in the tree of size n.
func ProveInclusion(ctx context.Context, src TileSource, index, n uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, n)
	if err != nil {
		return nil, err
	}
	return fetch(ctx, src, n, nodes)
}

// ProveConsistency returns the consistency proof from size m to size n.
func ProveConsistency(ctx context.Context, src TileSource, m, n uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(m, n)
	if err != nil {
		return nil, err
	}
	return fetch(ctx, src, n, nodes)
}

// TreeHash computes the root of the tree of size n from its tiles.
func TreeHash(ctx context.Context, src TileSource, n uint64) ([]byte, error) {
	if n == 0 {
		return EmptyRoot(), nil
	}
	cache := make(map[[2]uint64][]byte)
	rng := rangeFactory.NewEmptyRange(0)
	for _, id := range compact.RangeNodes(0, n, nil) {
		h, err := nodeHash(ctx, src, n, id, cache)
		if err != nil {
			return nil, err
		}
		if err := rng.AppendRange(mustRange(id, h), nil); err != nil {
			return nil, err
		}
	}
	return rng.GetRootHash(nil)
}

func mustRange(id compact.NodeID, h []byte) *compact.Range {
	begin, end := id.Coverage()
	r, err := rangeFactory.NewRange(begin, end, [][]byte{h})
	if err != nil {
		panic(err) // a single perfect node always forms a valid range
	}
	return r
}

// ErrProof is returned (wrapped) when a proof does not verify.
var ErrProof = errors.New("proof does not verify")

// CheckInclusion verifies that leafHash is at index in the tree (n, root).
func CheckInclusion(index, n uint64, leafHash []byte, p [][]byte, root []byte) error {
	if err := proof.VerifyInclusion(hasher, index, n, leafHash, p, root); err != nil {
		return fmt.Errorf("%w: inclusion of %d in %d: %v", ErrProof, index, n, err)
	}
	return nil
}

// CheckConsistency verifies that tree (n, root2) extends tree (m, root1).
func CheckConsistency(m, n uint64, p [][]byte, root1, root2 []byte) error {
	if m == n {
		if !bytes.Equal(root1, root2) {
			return fmt.Errorf("%w: two different roots for size %d", ErrProof, m)
		}
		return nil
	}
	if err := proof.VerifyConsistency(hasher, m, n, p, root1, root2); err != nil {
		return fmt.Errorf("%w: consistency of %d with %d: %v", ErrProof, m, n, err)
	}
	return nil
}
