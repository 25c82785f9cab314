package tlog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// maxFetch bounds a fetched checkpoint or tile: a full entry bundle of
// maximal leaves is well under it.
const maxFetch = 4 << 20

// HTTPSource reads a log served as tlog-tiles at URL (ending in "/", e.g.
// "http://host:8080/log/activity/").
type HTTPSource struct {
	URL    string
	Client *http.Client
}

func (h *HTTPSource) get(ctx context.Context, path string) ([]byte, error) {
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	url := strings.TrimSuffix(h.URL, "/") + "/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("fetching %s: %w", url, store.ErrNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", url, err)
	}
	if len(b) > maxFetch {
		return nil, fmt.Errorf("fetching %s: larger than %d bytes", url, maxFetch)
	}
	return b, nil
}

// Checkpoint fetches the signed checkpoint.
func (h *HTTPSource) Checkpoint(ctx context.Context) ([]byte, error) {
	return h.get(ctx, "checkpoint")
}

// PublishedCheckpoints is the body of GET /log/{log}/checkpoints: a page
// of the checkpoints the log published, in size order.
type PublishedCheckpoints struct {
	Checkpoints []PublishedCheckpoint `json:"checkpoints"`
}

// PublishedCheckpoint is one published checkpoint: its size, when it was
// published, and the signed note as GET /log/{log}/checkpoint served it.
type PublishedCheckpoint struct {
	Size uint64    `json:"size"`
	Time time.Time `json:"time"`
	Note string    `json:"note"`
}

// Checkpoints fetches at most limit of the checkpoints the log published,
// from size from on, in size order.
func (h *HTTPSource) Checkpoints(ctx context.Context, from uint64, limit int) ([]store.Checkpoint, error) {
	b, err := h.get(ctx, fmt.Sprintf("checkpoints?from=%d&limit=%d", from, limit))
	if err != nil {
		return nil, err
	}
	var page PublishedCheckpoints
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, fmt.Errorf("reading the published checkpoints: %v", err)
	}
	if len(page.Checkpoints) > limit {
		return nil, fmt.Errorf("asked for %d published checkpoints, got %d", limit, len(page.Checkpoints))
	}
	out := make([]store.Checkpoint, len(page.Checkpoints))
	for i, c := range page.Checkpoints {
		out[i] = store.Checkpoint{Size: c.Size, Time: c.Time, Note: []byte(c.Note)}
	}
	return out, nil
}

// ReadTile fetches a hash tile of at least width hashes.
func (h *HTTPSource) ReadTile(ctx context.Context, level, index, width uint64) ([]byte, error) {
	b, err := h.get(ctx, FormatTilePath(TilePath{Level: level, Index: index, Width: width}))
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) != width*HashSize {
		return nil, fmt.Errorf("tile %d/%d: got %d bytes, want %d", level, index, len(b), width*HashSize)
	}
	return b, nil
}

// Leaf fetches the leaf at index of a tree of size n from its entry bundle.
func (h *HTTPSource) Leaf(ctx context.Context, index, n uint64) ([]byte, error) {
	tile := index / TileWidth
	width := min(TileWidth, n-tile*TileWidth)
	b, err := h.get(ctx, FormatTilePath(TilePath{Entries: true, Index: tile, Width: width}))
	if err != nil {
		return nil, err
	}
	leaves, err := ParseEntryBundle(b)
	if err != nil {
		return nil, err
	}
	if uint64(len(leaves)) != width {
		return nil, fmt.Errorf("entry bundle %d: %d entries, want %d", tile, len(leaves), width)
	}
	return leaves[index%TileWidth], nil
}

// ParseEntryBundle splits a tlog-tiles entry bundle into its entries.
func ParseEntryBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, errors.New("entry bundle: truncated length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, errors.New("entry bundle: truncated entry")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	if len(out) > TileWidth {
		return nil, errors.New("entry bundle: more than 256 entries")
	}
	return out, nil
}

// StoreSource reads a log's tiles from a store.
func StoreSource(st store.Logs, log string) TileSource {
	return TileSourceFunc(func(ctx context.Context, level, index, width uint64) ([]byte, error) {
		t, err := st.Tile(ctx, log, store.TileID{Level: level, Index: index})
		if err != nil {
			return nil, err
		}
		if uint64(len(t)) < width*HashSize {
			return nil, fmt.Errorf("tile %d/%d holds %d hashes, want %d", level, index, len(t)/HashSize, width)
		}
		return t[:width*HashSize], nil
	})
}
