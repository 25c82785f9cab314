package tlog

import (
	"bytes"
	"context"
	"fmt"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/transparency-dev/merkle/compact"
)

// CheckStore is what CheckLog reads.
type CheckStore interface {
	store.Logs
	store.Checkpoints
}

// CheckConfig configures CheckLog.
type CheckConfig struct {
	Store       CheckStore
	Log         string
	VerifierKey string
	// CheckEntry re-checks an entry's contents (commitments, decryption);
	// nil checks only the tree.
	CheckEntry func(context.Context, store.Entry) error
	// Progress, when set, is told how many entries of total are checked.
	Progress func(done, total uint64)
	// MaxProblems stops the check after this many problems. Default 1000.
	MaxProblems int
}

// checkChunk is how many entries CheckLog reads at once.
const checkChunk = 8192

// checkpointPage is how many checkpoints one read of the store returns.
const checkpointPage = 10_000

// CheckLog recomputes a log from its entries and compares everything stored
// against it: every tile, the tree state, and every published checkpoint
// (signature, origin, and root at its size). It returns the problems found,
// each naming what is wrong; err is reserved for failing to read the store.
// An empty list means the stored log is exactly what its entries imply.
func CheckLog(ctx context.Context, cfg CheckConfig) (problems []string, err error) {
	if cfg.MaxProblems == 0 {
		cfg.MaxProblems = 1000
	}
	report := func(format string, args ...any) bool {
		problems = append(problems, fmt.Sprintf("%s log: ", cfg.Log)+fmt.Sprintf(format, args...))
		return len(problems) < cfg.MaxProblems
	}
	// A server may be appending while we check. Checkpoints are read before
	// the state (every published checkpoint is then within it), the check
	// covers the tree the state describes, and tiles, which only grow, are
	// compared by prefix; the strict end-of-log checks run only if the log
	// did not grow meanwhile.
	var cps []store.Checkpoint
	for from := uint64(0); ; {
		page, err := cfg.Store.ListCheckpoints(ctx, cfg.Log, from, checkpointPage)
		if err != nil {
			return nil, err
		}
		cps = append(cps, page...)
		if len(page) < checkpointPage {
			break
		}
		from = page[len(page)-1].Size + 1
	}
	st, err := cfg.Store.LogState(ctx, cfg.Log)
	if err != nil {
		return nil, err
	}
	roots := map[uint64][][]byte{}
	for _, c := range cps {
		body, err := OpenCheckpoint(c.Note, cfg.VerifierKey)
		switch {
		case err != nil:
			report("checkpoint of size %d: %v", c.Size, err)
		case body.Size != c.Size:
			report("checkpoint stored as size %d says size %d", c.Size, body.Size)
		case body.Size > st.Size:
			report("checkpoint of size %d is beyond the tree's %d entries", body.Size, st.Size)
		default:
			roots[body.Size] = append(roots[body.Size], body.Root)
		}
	}
	if r, ok := roots[0]; ok {
		for _, root := range r {
			if !bytes.Equal(root, EmptyRoot()) {
				report("checkpoint of size 0 has a non-empty root")
			}
		}
	}

	rng := rangeFactory.NewEmptyRange(0)
	pending := map[store.TileID][]byte{}
	var tileErr error
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level%TileHeight != 0 {
			return
		}
		tid := store.TileID{Level: uint64(id.Level / TileHeight), Index: id.Index / TileWidth}
		pending[tid] = append(pending[tid], hash...)
		if len(pending[tid]) == TileWidth*HashSize {
			stored, err := cfg.Store.Tile(ctx, cfg.Log, tid)
			if err != nil && tileErr == nil {
				tileErr = fmt.Errorf("tile %d/%d: %w", tid.Level, tid.Index, err)
			}
			if err == nil && !bytes.Equal(stored, pending[tid]) {
				report("tile %d/%d differs from the tree recomputed from the entries", tid.Level, tid.Index)
			}
			delete(pending, tid)
		}
	}
	for from := uint64(0); from < st.Size; from += checkChunk {
		to := min(from+checkChunk, st.Size)
		entries, err := cfg.Store.Entries(ctx, cfg.Log, from, to)
		if err != nil {
			return problems, err
		}
		for i, e := range entries {
			if e.Index != from+uint64(i) {
				report("entry %d is missing", from+uint64(i))
				return problems, nil
			}
			if cfg.CheckEntry != nil {
				if err := cfg.CheckEntry(ctx, e); err != nil {
					if !report("%v", err) {
						return problems, nil
					}
				}
			}
			if err := rng.Append(HashLeaf(e.Leaf), visit); err != nil {
				return problems, err
			}
			if tileErr != nil {
				report("%v", tileErr)
				return problems, nil
			}
			if want, ok := roots[rng.End()]; ok {
				got, _ := rng.GetRootHash(nil)
				for _, w := range want {
					if !bytes.Equal(got, w) {
						report("checkpoint of size %d does not match the entries: root %x, recomputed %x", rng.End(), w, got)
					}
				}
			}
			if len(problems) >= cfg.MaxProblems {
				return problems, nil
			}
		}
		if uint64(len(entries)) != to-from {
			report("entries %d to %d: found %d of %d", from, to-1, len(entries), to-from)
			return problems, nil
		}
		if cfg.Progress != nil {
			cfg.Progress(to, st.Size)
		}
	}
	end, err := cfg.Store.LogState(ctx, cfg.Log)
	if err != nil {
		return problems, err
	}
	quiet := end.Size == st.Size
	if extra, err := cfg.Store.Entries(ctx, cfg.Log, st.Size, st.Size+1); quiet && err == nil && len(extra) > 0 {
		report("entries exist beyond the tree size %d", st.Size)
	}
	for tid, want := range pending {
		stored, err := cfg.Store.Tile(ctx, cfg.Log, tid)
		if err != nil || !bytes.HasPrefix(stored, want) || (quiet && len(stored) != len(want)) {
			report("tile %d/%d (partial) differs from the tree recomputed from the entries", tid.Level, tid.Index)
		}
	}
	root, _ := rng.GetRootHash(nil)
	if root == nil {
		root = EmptyRoot()
	}
	if st.Size > 0 && !bytes.Equal(root, st.Root) {
		report("tree state root %x differs from the recomputed %x", st.Root, root)
	}
	if len(rng.Hashes()) != len(st.Range) {
		report("tree state compact range differs from the recomputed one")
	} else {
		for i, h := range rng.Hashes() {
			if !bytes.Equal(h, st.Range[i]) {
				report("tree state compact range differs from the recomputed one")
				break
			}
		}
	}
	return problems, nil
}
