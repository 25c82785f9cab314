package tlog

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// historyLog is a HistorySource for tests: a tree's tiles, the
// checkpoints it published, and the one it serves now, which next, when
// set, replaces once it has been read (the log growing meanwhile).
type historyLog struct {
	memTiles
	mu        sync.Mutex
	published []store.Checkpoint
	current   []byte
	next      []byte
	listed    int // pages listed
}

func (h *historyLog) Checkpoint(context.Context) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.current
	if h.next != nil {
		h.current, h.next = h.next, nil
	}
	return c, nil
}

func (h *historyLog) Leaf(context.Context, uint64, uint64) ([]byte, error) {
	return nil, store.ErrNotFound
}

func (h *historyLog) Checkpoints(_ context.Context, from uint64, limit int) ([]store.Checkpoint, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listed++
	var out []store.Checkpoint
	for _, c := range h.published {
		if c.Size >= from && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

// historyFixture grows a tree to the largest of sizes, signing a
// checkpoint at each size; it returns the log serving the last one, the
// signer and the verifier key.
func historyFixture(t *testing.T, sizes ...uint64) (*historyLog, *Signer, string) {
	t.Helper()
	skey, vkey, err := GenerateKey("example.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	h := &historyLog{memTiles: memTiles{}}
	var st store.TreeState
	for i, size := range sizes {
		st = grow(t, h.memTiles, st, size, 97)
		root := st.Root
		if size == 0 {
			root = EmptyRoot()
		}
		note, err := signer.Sign(Checkpoint{Origin: "example.test/log", Size: st.Size, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		h.published = append(h.published, store.Checkpoint{Size: size, Time: time.Unix(int64(i), 0), Note: note})
		h.current = note
	}
	return h, signer, vkey
}

func TestVerifyHistory(t *testing.T) {
	sizes := []uint64{0, 5, 300, 700, 1000}
	tests := []struct {
		name   string
		change func(t *testing.T, h *historyLog, s *Signer)
		want   History
		fail   string // in the only problem; "" for none
	}{
		{name: "every checkpoint extended", want: History{Checked: 5, First: 0, Last: 1000, Current: 1000}},
		{name: "a stored checkpoint altered", change: func(t *testing.T, h *historyLog, _ *Signer) {
			n := h.published[2].Note
			i := bytes.Index(n, []byte("300\n")) + 5 // a letter of the root
			n[i] ^= 1
		}, want: History{Checked: 5, First: 0, Last: 1000, Current: 1000}, fail: "checkpoint published at size 300 (1970-01-01T00:00:02Z): "},
		{name: "a checkpoint re-signed over another history", change: func(t *testing.T, h *historyLog, s *Signer) {
			forged, err := s.Sign(Checkpoint{Origin: "example.test/log", Size: 300, Root: HashLeaf([]byte("rewritten"))})
			if err != nil {
				t.Fatal(err)
			}
			h.published[2].Note = forged
		}, want: History{Checked: 5, First: 0, Last: 1000, Current: 1000}, fail: "checkpoint of size 300 (1970-01-01T00:00:02Z) is not a prefix of the log today"},
		{name: "a checkpoint published as another size", change: func(t *testing.T, h *historyLog, _ *Signer) {
			h.published[3].Note = h.published[2].Note
		}, want: History{Checked: 5, First: 0, Last: 1000, Current: 1000}, fail: "checkpoint published at size 700 says size 300"},
		{name: "a log that shrank", change: func(t *testing.T, h *historyLog, _ *Signer) {
			h.current = h.published[3].Note
		}, want: History{Checked: 4, First: 0, Last: 700, Current: 700}, fail: "checkpoint of size 1000 was published, and the log now has 700 entries: the log shrank"},
		{name: "a log that grew while being checked", change: func(t *testing.T, h *historyLog, _ *Signer) {
			h.current, h.next = h.published[3].Note, h.current
		}, want: History{Checked: 4, First: 0, Last: 700, Current: 700}},
		{name: "a tree that is not the current checkpoint's", change: func(t *testing.T, h *historyLog, _ *Signer) {
			id := store.TileID{Level: 1, Index: 0} // the hashes TreeHash reads
			h.memTiles[id] = bytes.Clone(h.memTiles[id])
			h.memTiles[id][7] ^= 1
		}, want: History{Current: 1000}, fail: "not the root"},
		{name: "a current checkpoint signed by another key", change: func(t *testing.T, h *historyLog, _ *Signer) {
			other, _, _ := historyFixture(t, 1000)
			h.current = other.current
		}, want: History{}, fail: "the current checkpoint: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, s, vkey := historyFixture(t, sizes...)
			if tt.change != nil {
				tt.change(t, h, s)
			}
			got, err := VerifyHistory(t.Context(), h, vkey, nil)
			if err != nil {
				t.Fatal(err)
			}
			problems := got.Problems
			got.Problems = nil
			if got.Checked != tt.want.Checked || got.First != tt.want.First || got.Last != tt.want.Last || got.Current != tt.want.Current {
				t.Errorf("VerifyHistory = %+v, want %+v", got, tt.want)
			}
			switch {
			case tt.fail == "" && len(problems) != 0:
				t.Errorf("problems: %q", problems)
			case tt.fail != "" && (len(problems) != 1 || !strings.Contains(problems[0], tt.fail)):
				t.Errorf("problems: %q, want one with %q", problems, tt.fail)
			}
		})
	}
}

// TestVerifyHistoryPages reads a long history a page at a time, and
// reports progress as it goes.
func TestVerifyHistoryPages(t *testing.T) {
	var sizes []uint64
	for n := uint64(1); n <= 2*HistoryPage+10; n++ {
		sizes = append(sizes, n)
	}
	h, _, vkey := historyFixture(t, sizes...)
	var progress []uint64
	got, err := VerifyHistory(t.Context(), h, vkey, func(n uint64) {
		if n%HistoryPage == 0 {
			progress = append(progress, n)
		}
	})
	if err != nil || !got.OK() || got.Checked != uint64(len(sizes)) || got.First != 1 || got.Last != sizes[len(sizes)-1] {
		t.Fatalf("VerifyHistory = %+v, %v", got, err)
	}
	if h.listed != 3 || len(progress) != 2 {
		t.Errorf("%d pages listed, progress at %v", h.listed, progress)
	}
}

// TestVerifyHistoryBoundsProblems stops at MaxHistoryProblems.
func TestVerifyHistoryBoundsProblems(t *testing.T) {
	var sizes []uint64
	for n := uint64(1); n <= MaxHistoryProblems+50; n++ {
		sizes = append(sizes, n)
	}
	h, _, vkey := historyFixture(t, sizes...)
	for i := range h.published[:len(h.published)-1] {
		h.published[i].Note = []byte("not a checkpoint\n")
	}
	got, err := VerifyHistory(t.Context(), h, vkey, nil)
	if err != nil || len(got.Problems) != MaxHistoryProblems || got.Checked != MaxHistoryProblems {
		t.Errorf("VerifyHistory = %d problems, %d checked, %v", len(got.Problems), got.Checked, err)
	}
}
