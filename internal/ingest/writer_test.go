package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
	"github.com/lbm-project/lbm/internal/tlog"
	"pgregory.net/rapid"
)

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newRing(t testing.TB, st store.DataKeys) *keys.Ring {
	t.Helper()
	kek, err := keys.NewLocalKEK(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return keys.NewRing(kek, st, func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) })
}

func newWriter(t testing.TB, st store.Store, cfg Config) *Writer {
	t.Helper()
	cfg.Log = "activity"
	if cfg.Store == nil {
		cfg.Store = st
	}
	cfg.Sealer = &record.Sealer{Log: "activity", Ring: newRing(t, st)}
	w, err := NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func line(i int, clientID string) string {
	id := ""
	if clientID != "" {
		id = fmt.Sprintf(`,"id":%q`, clientID)
	}
	return fmt.Sprintf(`{"@timestamp":"2026-11-02T08:00:%02d.000Z","event":{"category":"record_query","action":"pnc_person_search"%s},"user":{"id":"u%05d"},"content":{"query":"SMITH %d"}}`, i%60, id, i%7, i)
}

func events(t testing.TB, source string, lines ...string) []*event.Event {
	t.Helper()
	evs, err := DecodeNDJSON(strings.NewReader(strings.Join(lines, "\n")), source)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestAppendDurableAndIndexed(t *testing.T) {
	st := openStore(t)
	w := newWriter(t, st, Config{})
	res, err := w.Append(t.Context(), events(t, "pnc", line(1, "a"), line(2, "b"), line(3, "")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 3 || res.Duplicates != 0 || res.TreeSize != 3 {
		t.Fatalf("Append = %+v, want 3 accepted, tree size 3", res)
	}
	for i, idx := range res.Indexes {
		if idx != uint64(i) {
			t.Errorf("Indexes[%d] = %d, want %d", i, idx, i)
		}
	}
	stt, err := st.LogState(t.Context(), "activity")
	if err != nil || stt.Size != 3 {
		t.Fatalf("LogState = %+v, %v; want size 3", stt, err)
	}
	root, err := tlog.TreeHash(t.Context(), tlog.StoreSource(st, "activity"), 3)
	if err != nil || string(root) != string(stt.Root) {
		t.Errorf("root from tiles = %x, %v; state says %x", root, err, stt.Root)
	}
}

// TestNoDelayCommitsAtOnce checks that a NoDelay writer commits a lone
// append without waiting for a batch to fill: with an hour's MaxDelay, it
// must still answer within a minute.
func TestNoDelayCommitsAtOnce(t *testing.T) {
	st := openStore(t)
	w := newWriter(t, st, Config{MaxDelay: time.Hour, NoDelay: true})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for i := range 3 {
		res, err := w.Append(ctx, events(t, "pnc", line(i, "")))
		if err != nil || res.Accepted != 1 || res.TreeSize != uint64(i+1) {
			t.Fatalf("Append %d = %+v, %v; want it committed at once", i, res, err)
		}
	}
}

func TestAppendDeduplicatesByClientID(t *testing.T) {
	st := openStore(t)
	w := newWriter(t, st, Config{})
	first, err := w.Append(t.Context(), events(t, "pnc", line(1, "a"), line(2, "b")))
	if err != nil {
		t.Fatal(err)
	}
	// A retry of "a", a repeat of "c" within the batch, and "a" from
	// another source (which is a different event).
	again, err := w.Append(t.Context(), events(t, "pnc", line(1, "a"), line(3, "c"), line(4, "c")))
	if err != nil {
		t.Fatal(err)
	}
	if again.Accepted != 1 || again.Duplicates != 2 {
		t.Errorf("retry: Accepted, Duplicates = %d, %d; want 1, 2", again.Accepted, again.Duplicates)
	}
	if again.IDs[0] != first.IDs[0] || again.Indexes[0] != first.Indexes[0] {
		t.Errorf("retry of a = (%s, %d), want the stored (%s, %d)", again.IDs[0], again.Indexes[0], first.IDs[0], first.Indexes[0])
	}
	if again.Indexes[1] != again.Indexes[2] {
		t.Errorf("repeat within a batch got indexes %d and %d, want one", again.Indexes[1], again.Indexes[2])
	}
	other, err := w.Append(t.Context(), events(t, "niche", line(1, "a")))
	if err != nil {
		t.Fatal(err)
	}
	if other.Accepted != 1 {
		t.Errorf("same event.id from another source: Accepted = %d, want 1", other.Accepted)
	}
	if other.TreeSize != 4 {
		t.Errorf("tree size = %d, want 4", other.TreeSize)
	}
}

// A resend that another shard already stored (Config.Elsewhere) is a
// duplicate reported where it is, unless the log holds it itself; what
// neither holds is stored, and a failing Elsewhere fails the request
// rather than risk a copy.
func TestAppendFindsResendsElsewhere(t *testing.T) {
	st := openStore(t)
	elsewhere := map[string]store.Entry{"b": {Log: "activity-2", Index: 41, ID: [16]byte{7}, ClientID: "b"}}
	var fail error
	var asked [][]string
	w := newWriter(t, st, Config{Elsewhere: func(_ context.Context, source string, ids []string) (map[string]store.Entry, error) {
		asked = append(asked, slices.Clone(ids))
		if fail != nil {
			return nil, fail
		}
		out := map[string]store.Entry{}
		for _, id := range ids {
			if en, ok := elsewhere[id]; ok && source == "pnc" {
				out[id] = en
			}
		}
		return out, nil
	}})
	if _, err := w.Append(t.Context(), events(t, "pnc", line(1, "a"))); err != nil {
		t.Fatal(err)
	}
	// Another shard holding a copy of "a" too (a race lost long ago).
	elsewhere["a"] = store.Entry{Log: "activity-3", Index: 9, ID: [16]byte{9}, ClientID: "a"}
	res, err := w.Append(t.Context(), events(t, "pnc", line(1, "a"), line(2, "b"), line(3, "c"), line(4, "")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Duplicates != 2 {
		t.Fatalf("Accepted, Duplicates = %d, %d; want 2, 2", res.Accepted, res.Duplicates)
	}
	if !slices.Equal(res.Logs, []string{"activity", "activity-2", "activity", "activity"}) || res.Indexes[1] != 41 || res.IDs[1] != (event.ID{7}) {
		t.Errorf("Logs %v, index %d, id %s of the resend stored elsewhere; want activity-2, 41, its id", res.Logs, res.Indexes[1], res.IDs[1])
	}
	if last := asked[len(asked)-1]; !slices.Equal(last, []string{"a", "b", "c"}) {
		t.Errorf("Elsewhere was asked for %v, want every event.id of the request, [a b c]", last)
	}
	fail = errors.New("the other shard is unreachable")
	if _, err := w.Append(t.Context(), events(t, "pnc", line(5, "d"))); err == nil {
		t.Error("an append whose lookup elsewhere failed succeeded")
	}
	if s, _ := st.LogState(t.Context(), "activity"); s.Size != 3 {
		t.Errorf("the log holds %d entries, want 3 (a, c and the event without an id)", s.Size)
	}
}

// blockingStore holds UpdateLog until released, to fill the queue.
type blockingStore struct {
	store.Store
	release chan struct{}
	fail    error
}

func (b *blockingStore) UpdateLog(ctx context.Context, log string, fn func(store.LogTx) error) error {
	<-b.release
	if b.fail != nil {
		return b.fail
	}
	return b.Store.UpdateLog(ctx, log, fn)
}

func TestOverloadRefusesAtOnceAndStoresNothing(t *testing.T) {
	st := openStore(t)
	bs := &blockingStore{Store: st, release: make(chan struct{})}
	w := newWriter(t, st, Config{Store: bs, MaxQueued: 4, MaxBatch: 4})
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := w.Append(t.Context(), events(t, "pnc", line(1, "a"), line(2, "b"), line(3, "c"))); err != nil {
			t.Errorf("first Append = %v", err)
		}
	})
	for w.QueueDepth() != 3 {
		time.Sleep(time.Millisecond)
	}
	_, err := w.Append(t.Context(), events(t, "pnc", line(4, "d"), line(5, "e")))
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Append to a full queue = %v, want ErrOverloaded", err)
	}
	close(bs.release)
	wg.Wait()
	stt, _ := st.LogState(t.Context(), "activity")
	if stt.Size != 3 {
		t.Errorf("log size = %d, want 3: the refused batch must store nothing", stt.Size)
	}
}

func TestCommitFailureFailsEveryRequestOfTheBatch(t *testing.T) {
	st := openStore(t)
	bs := &blockingStore{Store: st, release: make(chan struct{}), fail: errors.New("disk on fire")}
	w := newWriter(t, st, Config{Store: bs})
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := w.Append(t.Context(), events(t, "pnc", line(i, "")))
			errs <- err
		}()
	}
	for w.QueueDepth() != 2 {
		time.Sleep(time.Millisecond)
	}
	close(bs.release)
	for range 2 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("Append with failing store = %v, want the store's error", err)
		}
	}
	if stt, _ := st.LogState(t.Context(), "activity"); stt.Size != 0 {
		t.Errorf("log size = %d after failed commit, want 0", stt.Size)
	}
}

func TestCloseCommitsQueuedThenRefuses(t *testing.T) {
	st := openStore(t)
	w := newWriter(t, st, Config{MaxDelay: time.Hour, MaxBatch: 1000})
	done := make(chan error, 1)
	go func() {
		_, err := w.Append(t.Context(), events(t, "pnc", line(1, "a")))
		done <- err
	}()
	for w.QueueDepth() != 1 {
		time.Sleep(time.Millisecond)
	}
	w.Close()
	if err := <-done; err != nil {
		t.Fatalf("queued Append across Close = %v, want committed", err)
	}
	if _, err := w.Append(t.Context(), events(t, "pnc", line(2, "b"))); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
}

func TestConfigValidation(t *testing.T) {
	st := openStore(t)
	sealer := &record.Sealer{Log: "activity", Ring: newRing(t, st)}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"no log", Config{Store: st, Sealer: sealer}},
		{"no store", Config{Log: "activity", Sealer: sealer}},
		{"sealer for another log", Config{Log: "oversight", Store: st, Sealer: sealer}},
		{"negative", Config{Log: "activity", Store: st, Sealer: sealer, MaxBatch: -1}},
		{"queue below batch", Config{Log: "activity", Store: st, Sealer: sealer, MaxBatch: 10, MaxQueued: 5}},
	} {
		if _, err := NewWriter(c.cfg); err == nil {
			t.Errorf("NewWriter(%s) succeeded, want error", c.name)
		}
	}
}

// TestAppendProperty checks, over random sequences of concurrent batches
// with repeated client ids, that the log holds each distinct event exactly
// once, that every reply points at the stored event it describes, and that
// the tree the tiles give is the tree the state records.
func TestAppendProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		st := openStore(t)
		w := newWriter(t, st, Config{MaxDelay: time.Millisecond, MaxBatch: rapid.IntRange(1, 50).Draw(rt, "maxBatch"), MaxQueued: 1000})
		batches := rapid.SliceOfN(rapid.SliceOfN(rapid.IntRange(0, 30), 1, 20), 1, 8).Draw(rt, "batches")
		results := make([]Result, len(batches))
		var wg sync.WaitGroup
		for i, b := range batches {
			var lines []string
			for _, k := range b {
				id := ""
				if k > 0 { // 0 means no event.id: always a new event
					id = fmt.Sprintf("e%d", k)
				}
				lines = append(lines, line(k, id))
			}
			evs := events(t, "pnc", lines...)
			wg.Go(func() {
				r, err := w.Append(context.Background(), evs)
				if err != nil {
					rt.Errorf("Append = %v", err)
				}
				results[i] = r
			})
		}
		wg.Wait()
		distinct := map[int]bool{}
		anonymous := 0
		for _, b := range batches {
			for _, k := range b {
				if k == 0 {
					anonymous++
				} else {
					distinct[k] = true
				}
			}
		}
		stt, err := st.LogState(context.Background(), "activity")
		if err != nil {
			rt.Fatal(err)
		}
		if want := uint64(len(distinct) + anonymous); stt.Size != want {
			rt.Fatalf("log size = %d, want %d", stt.Size, want)
		}
		for i, b := range batches {
			for j, k := range b {
				en, err := st.EntryByID(context.Background(), results[i].IDs[j])
				if err != nil {
					rt.Fatalf("batch %d event %d: reply id not stored: %v", i, j, err)
				}
				if en.Index != results[i].Indexes[j] {
					rt.Fatalf("batch %d event %d: reply index %d, stored at %d", i, j, results[i].Indexes[j], en.Index)
				}
				if k > 0 && en.ClientID != fmt.Sprintf("e%d", k) {
					rt.Fatalf("batch %d event %d: points at client id %q, want e%d", i, j, en.ClientID, k)
				}
			}
		}
		root, err := tlog.TreeHash(context.Background(), tlog.StoreSource(st, "activity"), stt.Size)
		if err != nil || string(root) != string(stt.Root) {
			rt.Fatalf("tiles give root %x (%v), state says %x", root, err, stt.Root)
		}
	})
}
