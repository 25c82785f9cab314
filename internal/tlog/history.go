package tlog

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/lbm-project/lbm/internal/store"
)

// HistorySource is a log with the checkpoints it published: HTTPSource,
// or NewStoreLog's.
type HistorySource interface {
	Source
	// Checkpoints returns, in size order, at most limit of the
	// checkpoints the log published, from size from on.
	Checkpoints(ctx context.Context, from uint64, limit int) ([]store.Checkpoint, error)
}

// HistoryPage is how many checkpoints VerifyHistory reads at once.
const HistoryPage = 1000

// MaxHistoryProblems bounds the problems VerifyHistory reports: a
// rewritten log fails every checkpoint after the rewrite, and the first
// hundred say all there is to say.
const MaxHistoryProblems = 100

// History is what VerifyHistory found.
type History struct {
	Checked  uint64 // published checkpoints read
	First    uint64 // the smallest size among them
	Last     uint64 // the largest
	Current  uint64 // the size of the checkpoint the log serves now
	Problems []string
}

// OK reports whether every checkpoint checked.
func (h History) OK() bool { return len(h.Problems) == 0 }

// VerifyHistory checks that the log src serves now extends every
// checkpoint it ever published: each is signed by vkey, and a
// consistency proof from it to the current checkpoint, built from the
// tiles served now, checks. Every published checkpoint is then a prefix
// of one append-only tree, so nobody, however senior or whatever key
// they hold, rewrote what an earlier checkpoint committed to. A
// checkpoint altered where it is kept fails its signature or its proof.
// progress, if not nil, is called with the count checked so far. The
// error is for a log that could not be read at all; what does not check
// is in History.Problems.
func VerifyHistory(ctx context.Context, src HistorySource, vkey string, progress func(done uint64)) (History, error) {
	var h History
	report := func(format string, args ...any) bool {
		if len(h.Problems) < MaxHistoryProblems {
			h.Problems = append(h.Problems, fmt.Sprintf(format, args...))
		}
		return len(h.Problems) < MaxHistoryProblems
	}
	note, err := src.Checkpoint(ctx)
	if err != nil {
		return h, fmt.Errorf("reading the current checkpoint: %w", err)
	}
	now, err := OpenCheckpoint(note, vkey)
	if err != nil {
		report("the current checkpoint: %v", err)
		return h, nil
	}
	h.Current = now.Size
	tiles := &tileCache{src: src, tiles: map[[3]uint64][]byte{}}
	// The proofs are built from the tiles served today: they must be the
	// tree the current checkpoint signs.
	root, err := TreeHash(ctx, tiles, now.Size)
	if err != nil {
		return h, fmt.Errorf("reading the tree of the current checkpoint: %w", err)
	}
	if !bytes.Equal(root, now.Root) {
		report("the log served today hashes to %x, not the root %x its current checkpoint of size %d signs", root, now.Root, now.Size)
		return h, nil
	}
	for from := uint64(0); ; {
		page, err := src.Checkpoints(ctx, from, HistoryPage)
		if err != nil {
			return h, fmt.Errorf("listing the published checkpoints from size %d: %w", from, err)
		}
		for _, c := range page {
			if c.Size < from {
				return h, fmt.Errorf("the checkpoints listed from size %d include one of size %d", from, c.Size)
			}
			from = c.Size + 1
			if c.Size > now.Size {
				// Published after the current checkpoint was read, if the
				// log has grown since; else the log shrank.
				grown, err := grownTo(ctx, src, vkey, c.Size)
				if err != nil {
					return h, err
				}
				if !grown {
					report("checkpoint of size %d was published, and the log now has %d entries: the log shrank", c.Size, now.Size)
				}
				return h, nil
			}
			if h.Checked == 0 {
				h.First = c.Size
			}
			h.Checked++
			h.Last = c.Size
			if !checkPublished(ctx, tiles, c, now, vkey, report) {
				return h, nil
			}
			if progress != nil {
				progress(h.Checked)
			}
		}
		if len(page) < HistoryPage {
			return h, nil
		}
	}
}

// checkPublished checks one published checkpoint c against the current
// one, reporting what does not check; false once report has had enough.
func checkPublished(ctx context.Context, tiles TileSource, c store.Checkpoint, now Checkpoint, vkey string, report func(string, ...any) bool) bool {
	body, err := OpenCheckpoint(c.Note, vkey)
	switch {
	case err != nil:
		return report("checkpoint published at size %d (%s): %v", c.Size, c.Time.UTC().Format("2006-01-02T15:04:05Z"), err)
	case body.Size != c.Size:
		return report("checkpoint published at size %d says size %d", c.Size, body.Size)
	}
	p, err := ProveConsistency(ctx, tiles, body.Size, now.Size)
	if err != nil {
		return report("checkpoint of size %d: building its consistency proof: %v", body.Size, err)
	}
	if err := CheckConsistency(body.Size, now.Size, p, body.Root, now.Root); err != nil {
		return report("checkpoint of size %d (%s) is not a prefix of the log today: %v", body.Size, c.Time.UTC().Format("2006-01-02T15:04:05Z"), err)
	}
	return true
}

// grownTo reports whether the log's current checkpoint, read again, is
// at least size.
func grownTo(ctx context.Context, src Source, vkey string, size uint64) (bool, error) {
	note, err := src.Checkpoint(ctx)
	if err != nil {
		return false, fmt.Errorf("reading the current checkpoint again: %w", err)
	}
	c, err := OpenCheckpoint(note, vkey)
	if err != nil {
		return false, fmt.Errorf("the current checkpoint, read again: %w", err)
	}
	return c.Size >= size, nil
}

// tileCache keeps the tiles read for one history check: the proofs from
// successive checkpoints to the same tree read mostly the same tiles,
// which a server need then serve once.
type tileCache struct {
	src   TileSource
	mu    sync.Mutex
	tiles map[[3]uint64][]byte
}

// maxCachedTiles bounds the cache at some 64 MiB of full tiles.
const maxCachedTiles = 8192

func (c *tileCache) ReadTile(ctx context.Context, level, index, width uint64) ([]byte, error) {
	k := [3]uint64{level, index, width}
	c.mu.Lock()
	t, ok := c.tiles[k]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := c.src.ReadTile(ctx, level, index, width)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.tiles) >= maxCachedTiles {
		clear(c.tiles) // checkpoints come in size order: old tiles are rarely read again
	}
	c.tiles[k] = t
	c.mu.Unlock()
	return t, nil
}
