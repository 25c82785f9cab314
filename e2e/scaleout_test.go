package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
	"github.com/lbm-project/lbm/internal/tlog"
)

// TestScaleOut runs two nodes on one PostgreSQL, each appending to its
// own shard of the activity log, ingests to both at once, and kills the
// leading node mid-ingest. Nothing either node acknowledged may be lost;
// the survivor takes the lead (it signs the oversight log's checkpoints
// and the dead node's shard's); each shard verifies with Tessera's client
// under a key derived independently from the service's seed; and lbm
// verify store checks every shard. What the dead node acknowledged, resent
// to the survivor, is stored once. The killed node, back with --shard
// auto, takes its shard back.
func TestScaleOut(t *testing.T) {
	pgtest.Server(t)
	e := engines[1]
	if e.name != "postgres" {
		t.Fatalf("engines[1] is %s, want postgres", e.name)
	}
	st := e.newStore(t)
	a := startServer(t, st, "--shard", "1", "--checkpoint-interval", "200ms")
	// The second node holds the service's secrets: the KEK, the
	// oversight log's key, the pseudonym secret and the shard seed.
	b := lbmStore{data: filepath.Join(t.TempDir(), "data"), db: st.db}
	copyKeys(t, filepath.Join(st.data, "keys"), filepath.Join(b.data, "keys"))
	bsrv := startServer(t, b, "--shard", "2", "--checkpoint-interval", "200ms")
	waitFor(t, "node 1 to lead", func() bool { return strings.Contains(a.stderr.String(), "leading the service") })
	if strings.Contains(bsrv.stderr.String(), "leading the service") {
		t.Fatal("both nodes lead")
	}
	token := addSource(t, st, "pc")

	// Ingest to both nodes at once, two clients each, until told to
	// stop; node 1 is killed under its clients.
	ctx, stop := context.WithCancel(t.Context())
	var mu sync.Mutex
	acked := map[string]string{} // event.id -> the shard that took it
	sent := map[string]string{}  // event.id -> its line
	var wg sync.WaitGroup
	for c := range 4 {
		node := []*lbmServer{a, bsrv}[c%2]
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				var body strings.Builder
				var cids []string
				var lines []string
				for j := range 10 {
					cid := fmt.Sprintf("c%d-%05d-%02d", c, i, j)
					cids = append(cids, cid)
					lines = append(lines, eventLine(cid, i*10+j))
					body.WriteString(lines[j] + "\n")
				}
				code, _, rep, err := post(ctx, node.URL, token, []byte(body.String()))
				if err != nil || code != 200 {
					if node == a {
						time.Sleep(20 * time.Millisecond) // node 1 may be dead: not acknowledged
					}
					continue
				}
				mu.Lock()
				for j, cid := range cids {
					acked[cid], sent[cid] = rep.Log, lines[j]
				}
				mu.Unlock()
				// A steady stream, not a flood: the test proves what
				// becomes of it, and the benchmark measures the rate.
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	a.kill()
	killed := time.Now()
	time.Sleep(1000 * time.Millisecond)
	stop()
	wg.Wait()
	perShard := map[string]int{}
	for _, log := range acked {
		perShard[log]++
	}
	t.Logf("acknowledged %d events: %v", len(acked), perShard)
	if perShard["activity-1"] == 0 || perShard["activity-2"] == 0 {
		t.Fatalf("acknowledged per shard %v: both nodes must have taken events", perShard)
	}

	// The survivor takes the lead, and with it the oversight log's
	// checkpoints: a record it writes after the kill is published.
	waitFor(t, "node 2 to lead", func() bool { return strings.Contains(bsrv.stderr.String(), "leading the service") })
	t.Logf("node 2 led %v after node 1 was killed", time.Since(killed).Round(time.Millisecond))
	conn, err := pgx.Connect(t.Context(), st.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	treeSize := func(log string) uint64 {
		var n int64
		if err := conn.QueryRow(t.Context(), `SELECT size FROM tree_state WHERE log = $1`, log).Scan(&n); err != nil {
			t.Fatalf("tree size of %s: %v", log, err)
		}
		return uint64(n)
	}
	before := treeSize("oversight")
	bsrv.cmd.Process.Signal(syscall.SIGHUP) // records the capture mappings in force
	waitFor(t, "node 2's oversight record", func() bool { return treeSize("oversight") > before })
	oversightKey := verifierKeyOf(t, filepath.Join(b.data, "keys", "oversight.key"))
	waitFor(t, "node 2 to publish the oversight log", func() bool {
		return servedSize(t, bsrv.URL, "oversight", oversightKey) == treeSize("oversight")
	})

	// Every acknowledged event is stored, in the shard that took it.
	stored := map[string]string{}
	rows, err := conn.Query(t.Context(), `SELECT client_id, log FROM client_ids WHERE log IN ('activity-1', 'activity-2')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var cid, log string
		if err := rows.Scan(&cid, &log); err != nil {
			t.Fatal(err)
		}
		stored[cid] = log
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for cid, log := range acked {
		if stored[cid] != log {
			lost++
			if lost <= 5 {
				t.Errorf("event %s, acknowledged by %s, is stored in %q", cid, log, stored[cid])
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged events lost", lost, len(acked))
	}

	// The dead node's shard is published by the survivor, and each shard
	// verifies under the key the seed derives, with Tessera's client.
	seed, err := os.ReadFile(filepath.Join(st.data, "keys", "shards.seed"))
	if err != nil {
		t.Fatal(err)
	}
	for _, log := range []string{"activity-1", "activity-2"} {
		_, vkey, err := tlog.DeriveKey(seed, "lbm.local/"+log)
		if err != nil {
			t.Fatal(err)
		}
		size := treeSize(log)
		waitFor(t, "a checkpoint of all of "+log, func() bool { return servedSize(t, bsrv.URL, log, vkey) == size })
		t.Logf("%s: %d entries published, %v after the kill", log, size, time.Since(killed).Round(time.Millisecond))
		tesseraVerifiesLog(t, bsrv.URL, log, vkey, size)
		t.Logf("%s verified by Tessera's client, %v after the kill", log, time.Since(killed).Round(time.Millisecond))
	}

	// A source resends to the survivor what the dead node acknowledged:
	// it is found in the dead node's shard and stored once.
	var resend strings.Builder
	var resent []string
	for cid, log := range acked {
		if log == "activity-1" && len(resent) < 20 {
			resent = append(resent, cid)
			resend.WriteString(sent[cid] + "\n")
		}
	}
	before1, before2 := treeSize("activity-1"), treeSize("activity-2")
	code, body, rep, err := post(t.Context(), bsrv.URL, token, []byte(resend.String()))
	if err != nil || code != 200 || rep.Accepted != 0 || rep.Duplicates != len(resent) {
		t.Fatalf("resending %d events to node 2: %d %s %+v %v; want every one a duplicate", len(resent), code, body, rep, err)
	}
	for i, log := range rep.Logs {
		if log != "activity-1" {
			t.Errorf("resent event %s reported in %q, want activity-1", resent[i], log)
		}
	}
	if treeSize("activity-1") != before1 || treeSize("activity-2") != before2 {
		t.Error("a resend of stored events grew a shard")
	}

	// Every node lists every shard, with the key the seed derives.
	listed, err := httpGet(t.Context(), bsrv.URL+"/v1/transparency-logs")
	if err != nil {
		t.Fatal(err)
	}
	for _, log := range []string{"activity-1", "activity-2"} {
		_, vkey, _ := tlog.DeriveKey(seed, "lbm.local/"+log)
		if !strings.Contains(string(listed), `"verifier_key":"`+vkey+`"`) {
			t.Errorf("GET /v1/transparency-logs lists no %s with key %s: %s", log, vkey, listed)
		}
	}

	// Node 1 comes back with --shard auto: it takes back the shard no
	// live node holds rather than adding one, and appends to it.
	a = startServer(t, st, "--shard", "auto")
	code, body, rep, err = post(t.Context(), a.URL, token, []byte(eventLine("after-restart", 1)+"\n"))
	if err != nil || code != 200 || rep.Log != "activity-1" || rep.Accepted != 1 {
		t.Fatalf("ingest to the restarted node: %d %s %+v %v, want 1 accepted in activity-1", code, body, rep, err)
	}
	if strings.Contains(a.stderr.String(), "leading the service") {
		t.Error("the restarted node leads beside node 2")
	}

	// lbm verify store covers every shard.
	a.stop()
	bsrv.stop()
	out := lbmOK(t, nil, "verify", "store", "--data", b.data, "--db", b.db).stdout
	for _, want := range []string{"OK: activity-1 log", "OK: activity-2 log", "OK: oversight log"} {
		if !strings.Contains(out, want) {
			t.Errorf("lbm verify store printed no %q:\n%s", want, out)
		}
	}
	out = lbmOK(t, nil, "verify", "history", "--data", b.data, "--db", b.db).stdout
	for _, want := range []string{"OK: activity-1 log", "OK: activity-2 log", "OK: oversight log"} {
		if !strings.Contains(out, want) {
			t.Errorf("lbm verify history printed no %q:\n%s", want, out)
		}
	}
}

// copyKeys copies a node's key directory to a new node's data directory.
func copyKeys(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// verifierKeyOf reads the verifier key of the signing key at path.
func verifierKeyOf(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := tlog.VerifierKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// servedSize is the size of log's checkpoint served at base, checked
// under vkey; 0 while none is served.
func servedSize(t *testing.T, base, log, vkey string) uint64 {
	t.Helper()
	note, err := httpGet(t.Context(), base+"/log/"+log+"/checkpoint")
	if err != nil {
		return 0
	}
	c, err := tlog.OpenCheckpoint(note, vkey)
	if err != nil {
		t.Fatalf("the served %s checkpoint does not check: %v", log, err)
	}
	return c.Size
}
