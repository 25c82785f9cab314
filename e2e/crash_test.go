package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/tlog"
)

// ingestReply is the part of POST /v1/events' answer the tests read.
type ingestReply struct {
	Log        string   `json:"log"`
	Accepted   int      `json:"accepted"`
	Duplicates int      `json:"duplicates"`
	TreeSize   uint64   `json:"tree_size"`
	IDs        []string `json:"ids"`
	Indexes    []uint64 `json:"indexes"`
	Logs       []string `json:"logs"`
}

// post sends an NDJSON body to /v1/events with token and returns the
// status, the body and, for a 200, the decoded reply.
func post(ctx context.Context, url, token string, body []byte) (int, []byte, ingestReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return 0, nil, ingestReply{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, ingestReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, ingestReply{}, err
	}
	var rep ingestReply
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &rep); err != nil {
			return resp.StatusCode, b, rep, fmt.Errorf("decoding reply %q: %v", b, err)
		}
	}
	return resp.StatusCode, b, rep, nil
}

// eventLine is one valid event with client id cid, with content, so that
// the crash hits encryption and data keys as well as the tree.
func eventLine(cid string, n int) string {
	return fmt.Sprintf(`{"@timestamp":"2026-11-02T08:%02d:%02d.%03dZ","event":{"id":%q,"category":"record_query","action":"pnc_person_search","outcome":"success"},"user":{"id":"u%05d"},"host":{"name":"ws-%04d"},"content":{"query":"SMITH %d"}}`,
		n/60%60, n%60, n%1000, cid, n%17+1, n%5, n)
}

// batch is one request of the crash test and what became of it.
type batch struct {
	cids  []string
	body  []byte
	acked bool
	reply ingestReply
}

type ack struct {
	id    string
	index uint64
}

// TestCrash SIGKILLs the server while several clients post batches, again
// and again, and checks after every restart that no acknowledged event was
// lost, that the log still extends every checkpoint it ever served, and
// that the store verifies. Run more cycles with -e2e.kills=N.
func TestCrash(t *testing.T) {
	forEachEngine(t, testCrash)
}

func testCrash(t *testing.T, e engine) {
	const (
		clients   = 4
		batchSize = 25
	)
	st := e.newStore(t)
	srv := startServer(t, st)
	token := addSource(t, st, "crash")
	vkey := verifierKey(t, st.data)
	cpDir := t.TempDir()

	acked := map[string]ack{} // client event.id -> server id and index
	sent := 0                 // distinct client ids sent
	var saved []string        // checkpoint files saved during the runs
	for cycle := 1; cycle <= *kills; cycle++ {
		// Kill at a random moment 2-3 s in, so kills land in different
		// phases of a commit.
		runFor := 2*time.Second + rand.N(time.Second)
		batches, notes := load(t, srv, token, cycle, clients, batchSize, runFor)
		var unacked []*batch
		for _, b := range batches {
			sent += len(b.cids)
			if !b.acked {
				unacked = append(unacked, b)
				continue
			}
			for i, cid := range b.cids {
				acked[cid] = ack{b.reply.IDs[i], b.reply.Indexes[i]}
			}
		}
		for _, n := range notes {
			p := filepath.Join(cpDir, fmt.Sprintf("cycle%d-%d.checkpoint", cycle, len(saved)))
			if err := os.WriteFile(p, n, 0o600); err != nil {
				t.Fatal(err)
			}
			saved = append(saved, p)
		}
		t.Logf("cycle %d: %d batches, %d unacknowledged when killed, %d events acknowledged in all, %d checkpoints saved",
			cycle, len(batches), len(unacked), len(acked), len(notes))
		if len(notes) == 0 || len(unacked) == len(batches) {
			t.Fatalf("cycle %d: the server acknowledged nothing or published nothing before the kill", cycle)
		}

		srv = startServer(t, st)
		_, c := srv.checkpoint(t, vkey)
		if c.Size < uint64(len(acked)) {
			t.Fatalf("cycle %d: after restart the log holds %d entries, fewer than the %d acknowledged", cycle, c.Size, len(acked))
		}
		if c.Size > uint64(sent) {
			t.Fatalf("cycle %d: after restart the log holds %d entries, more than the %d sent", cycle, c.Size, sent)
		}
		checkAcked(t, srv, c.Size, acked)

		// A sample of acknowledged events, proved by lbm against the server.
		idx := make([]uint64, 0, len(acked))
		for _, a := range acked {
			idx = append(idx, a.index)
		}
		for range 3 {
			i := idx[rand.IntN(len(idx))]
			r := lbmOK(t, nil, "verify", "inclusion", "--server", srv.URL, "--index", strconv.FormatUint(i, 10))
			if !strings.HasPrefix(r.stdout, fmt.Sprintf("OK: entry %d is in the activity log's checkpoint of size %d", i, c.Size)) {
				t.Errorf("lbm verify inclusion --index %d: %v", i, r)
			}
		}
		// The log extends everything it served before the crash.
		for _, p := range saved {
			r := lbm(t, nil, "verify", "consistency", "--server", srv.URL, "--old", p)
			if r.code != 0 {
				t.Errorf("cycle %d: lbm verify consistency --old %s: %v", cycle, filepath.Base(p), r)
			}
		}

		// Sources retry what was not acknowledged; event.id makes that safe:
		// afterwards every event sent is in the log exactly once.
		for _, b := range unacked {
			status, body, rep, err := post(t.Context(), srv.URL, token, b.body)
			if err != nil || status != http.StatusOK {
				t.Fatalf("retrying a batch after restart: %d %s %v", status, body, err)
			}
			for i, cid := range b.cids {
				acked[cid] = ack{rep.IDs[i], rep.Indexes[i]}
			}
		}
		// An acknowledged batch sent again is all duplicates, at the same places.
		for _, b := range batches[:min(3, len(batches))] {
			if !b.acked {
				continue
			}
			status, body, rep, err := post(t.Context(), srv.URL, token, b.body)
			if err != nil || status != http.StatusOK || rep.Accepted != 0 || rep.Duplicates != len(b.cids) {
				t.Fatalf("resending an acknowledged batch: %d %s %v; want all %d duplicates", status, body, err, len(b.cids))
			}
			for i, cid := range b.cids {
				if a := acked[cid]; rep.IDs[i] != a.id || rep.Indexes[i] != a.index {
					t.Errorf("resent %s: stored as %s at %d, earlier acknowledged as %s at %d", cid, rep.IDs[i], rep.Indexes[i], a.id, a.index)
				}
			}
		}
		if len(acked) != sent {
			t.Fatalf("cycle %d: %d distinct events acknowledged, %d sent", cycle, len(acked), sent)
		}
		srv.waitForSize(t, vkey, uint64(sent))
		_, c = srv.checkpoint(t, vkey)
		if c.Size != uint64(sent) {
			t.Fatalf("cycle %d: after retries the log holds %d entries, want exactly the %d events sent", cycle, c.Size, sent)
		}
		checkAcked(t, srv, c.Size, acked)

		// The whole store, while the restarted server is idle.
		r := lbm(t, nil, verifyStore(st)...)
		if want := fmt.Sprintf("OK: activity log: %d entries, every commitment, tile and checkpoint checks\n", sent); r.code != 0 || !strings.HasPrefix(r.stdout, want) {
			t.Fatalf("cycle %d: lbm verify store: %v\nwant exit 0 and %q", cycle, r, want)
		}
		if t.Failed() {
			return
		}
	}

	srv.stop()
	r := lbm(t, nil, verifyStore(st)...)
	if r.code != 0 || strings.Contains(r.stdout, "FAIL") {
		t.Errorf("lbm verify store after the last graceful stop: %v", r)
	}
	for _, p := range saved {
		if r := lbm(t, nil, append([]string{"verify", "consistency", "--old", p}, st.flags()...)...); r.code != 0 {
			t.Errorf("lbm verify consistency --old %s %s: %v", filepath.Base(p), strings.Join(st.flags(), " "), r)
		}
	}
}

// load runs clients posting batches to srv for runFor, saving each new
// checkpoint served meanwhile, then SIGKILLs the server while they are
// still posting. It returns every batch sent, acknowledged or not.
func load(t *testing.T, srv *lbmServer, token string, cycle, clients, batchSize int, runFor time.Duration) ([]*batch, [][]byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var (
		mu      sync.Mutex
		batches []*batch
		killed  = make(chan struct{})
		wg      sync.WaitGroup
	)
	for c := range clients {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				b := &batch{}
				var body strings.Builder
				for i := range batchSize {
					cid := fmt.Sprintf("k%d-c%d-b%d-e%d", cycle, c, seq, i)
					b.cids = append(b.cids, cid)
					body.WriteString(eventLine(cid, seq*batchSize+i))
					body.WriteByte('\n')
				}
				b.body = []byte(body.String())
				mu.Lock()
				batches = append(batches, b)
				mu.Unlock()
				status, resp, rep, err := post(ctx, srv.URL, token, b.body)
				select {
				case <-killed:
					// Whatever the answer, the batch counts as acknowledged
					// only if a 200 arrived.
					if err == nil && status == http.StatusOK {
						b.acked, b.reply = true, rep
					}
					return
				default:
				}
				switch {
				case err != nil:
					t.Errorf("client %d: posting before the kill: %v", c, err)
					return
				case status == http.StatusServiceUnavailable:
					time.Sleep(100 * time.Millisecond) // overloaded: not stored, retried after restart
				case status != http.StatusOK:
					t.Errorf("client %d: posting before the kill: %d %s", c, status, resp)
					return
				case len(rep.IDs) != len(b.cids) || len(rep.Indexes) != len(b.cids) || rep.Accepted != len(b.cids):
					t.Errorf("client %d: reply %+v for %d new events", c, rep, len(b.cids))
					return
				default:
					b.acked, b.reply = true, rep
				}
			}
		})
	}
	var notes [][]byte
	var last []byte
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	stopAt := time.After(runFor)
poll:
	for {
		select {
		case <-tick.C:
			n, err := httpGet(ctx, srv.URL+"/log/activity/checkpoint")
			if err != nil {
				t.Errorf("fetching the checkpoint during load: %v", err)
				break poll
			}
			if !bytes.Equal(n, last) {
				notes, last = append(notes, n), n
			}
		case <-stopAt:
			break poll
		}
	}
	close(killed)
	srv.kill()
	wg.Wait()
	return batches, notes
}

// checkAcked reads every entry bundle of the tree of the given size, as any
// tlog-tiles client would, and checks each acknowledged event's leaf is at
// its acknowledged index with its acknowledged id.
func checkAcked(t *testing.T, srv *lbmServer, size uint64, acked map[string]ack) {
	t.Helper()
	leaves := make([][]byte, 0, size)
	for tile := uint64(0); tile*tlog.TileWidth < size; tile++ {
		width := min(tlog.TileWidth, size-tile*tlog.TileWidth)
		path := tlog.FormatTilePath(tlog.TilePath{Entries: true, Index: tile, Width: width})
		b, err := httpGet(t.Context(), srv.URL+"/log/activity/"+path)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := tlog.ParseEntryBundle(b)
		if err != nil || uint64(len(ls)) != width {
			t.Fatalf("%s: %d leaves, %v; want %d", path, len(ls), err, width)
		}
		leaves = append(leaves, ls...)
	}
	lost := 0
	for cid, a := range acked {
		if a.index >= size {
			t.Errorf("%s acknowledged at index %d, beyond the log's %d entries", cid, a.index, size)
			lost++
			continue
		}
		l, err := event.ParseLeaf(leaves[a.index])
		if err != nil {
			t.Fatalf("leaf %d: %v", a.index, err)
		}
		if l.ID.String() != a.id {
			t.Errorf("%s acknowledged as %s at index %d, but that leaf is %s", cid, a.id, a.index, l.ID)
			lost++
		}
		if lost > 10 {
			t.Fatal("giving up after 10 lost events")
		}
	}
}
