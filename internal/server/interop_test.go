package server_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
)

// engines are the stores a node can run on: each returns the Config of a
// new store, removed when the test ends.
var engines = []struct {
	name   string
	config func(t *testing.T) server.Config
}{
	{"sqlite", func(t *testing.T) server.Config {
		return server.Config{DataDir: t.TempDir()}
	}},
	{"postgres", func(t *testing.T) server.Config {
		dsn, keysDSN := pgtest.Databases(t)
		return server.Config{DataDir: t.TempDir(), DB: dsn, KeysDB: keysDSN}
	}},
}

// serve opens a node on cfg and runs its HTTP server for the test; it
// returns the node and the server's base URL.
func serve(t *testing.T, cfg server.Config) (*server.Node, string) {
	t.Helper()
	n, err := server.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		err := server.Serve(ctx, n, server.ServeConfig{Addr: "127.0.0.1:0", CheckpointInterval: 20 * time.Millisecond,
			Listening: func(a, _ net.Addr) { addr <- a }})
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		n.Close()
	})
	return n, "http://" + (<-addr).String()
}

func appendEvents(t *testing.T, n *server.Node, from, count int) {
	t.Helper()
	var evs []*event.Event
	for i := from; i < from+count; i++ {
		line := fmt.Sprintf(`{"@timestamp":"2026-11-02T08:00:00Z","event":{"id":"e%d","category":"record_query","action":"pnc_person_search"},"user":{"id":"u%d"},"content":{"query":"SMITH %d"}}`, i, i%13, i)
		e, err := event.Parse([]byte(line), "pnc")
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	if _, err := n.Logs[server.Activity].Writer.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	if err := n.PublishAll(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestTesseraClientVerifiesOurLog checks the served log with code we did not
// write: Tessera's client fetches the checkpoint, tiles and entry bundles
// over HTTP, x/mod's note checks the signature, and transparency-dev/merkle
// verifies the proofs Tessera's ProofBuilder builds from our tiles. The
// tiles are the engine's to store and serve, so each engine is checked.
func TestTesseraClientVerifiesOurLog(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { testTesseraClient(t, e.config(t)) })
	}
}

func testTesseraClient(t *testing.T, cfg server.Config) {
	n, base := serve(t, cfg)
	log := n.Logs[server.Activity]
	verifier, err := note.NewVerifier(log.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := url.Parse(base + "/log/activity/")
	f, err := client.NewHTTPFetcher(root, nil)
	if err != nil {
		t.Fatal(err)
	}

	appendEvents(t, n, 0, 700)
	old, oldRaw, _, err := client.FetchCheckpoint(t.Context(), f.ReadCheckpoint, verifier, log.Origin)
	if err != nil {
		t.Fatalf("Tessera FetchCheckpoint = %v", err)
	}
	if old.Size != 700 {
		t.Fatalf("checkpoint size = %d, want 700", old.Size)
	}
	appendEvents(t, n, 700, 66000) // crosses a level-1 tile boundary
	cp, _, _, err := client.FetchCheckpoint(t.Context(), f.ReadCheckpoint, verifier, log.Origin)
	if err != nil {
		t.Fatalf("Tessera FetchCheckpoint = %v", err)
	}
	if cp.Size != 66700 {
		t.Fatalf("checkpoint size = %d, want 66700", cp.Size)
	}

	pb, err := client.NewProofBuilder(t.Context(), cp.Size, f.ReadTile)
	if err != nil {
		t.Fatalf("Tessera NewProofBuilder = %v", err)
	}
	for _, i := range []uint64{0, 1, 255, 256, 699, 12345, 65535, 65536, 66699} {
		bundle, err := client.GetEntryBundle(t.Context(), f.ReadEntryBundle, i/256, cp.Size)
		if err != nil {
			t.Fatalf("Tessera GetEntryBundle(%d) = %v", i/256, err)
		}
		leafHash := rfc6962.DefaultHasher.HashLeaf(bundle.Entries[i%256])
		p, err := pb.InclusionProof(t.Context(), i)
		if err != nil {
			t.Fatalf("Tessera InclusionProof(%d) = %v", i, err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, cp.Size, leafHash, p, cp.Hash); err != nil {
			t.Errorf("inclusion of entry %d in %d: %v", i, cp.Size, err)
		}
	}
	p, err := pb.ConsistencyProof(t.Context(), old.Size, cp.Size)
	if err != nil {
		t.Fatalf("Tessera ConsistencyProof = %v", err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cp.Size, p, old.Hash, cp.Hash); err != nil {
		t.Errorf("consistency %d -> %d: %v", old.Size, cp.Size, err)
	}

	// Tessera's own tracker: starting from the old checkpoint, it must
	// accept the log's growth as consistent.
	tracker, err := client.NewLogStateTracker(t.Context(), f.ReadTile, oldRaw, verifier, log.Origin, client.UnilateralConsensus(f.ReadCheckpoint))
	if err != nil {
		t.Fatalf("Tessera NewLogStateTracker = %v", err)
	}
	if _, _, _, err := tracker.Update(t.Context()); err != nil {
		t.Fatalf("Tessera LogStateTracker.Update = %v", err)
	}
	if got := tracker.Latest().Size; got != cp.Size {
		t.Errorf("tracker size = %d, want %d", got, cp.Size)
	}

	// A checkpoint signed by another key of the same name must be refused.
	_, otherV, err := note.GenerateKey(rand.Reader, log.Origin)
	if err != nil {
		t.Fatal(err)
	}
	other, err := note.NewVerifier(otherV)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := client.FetchCheckpoint(t.Context(), f.ReadCheckpoint, other, log.Origin); err == nil {
		t.Error("Tessera accepted our checkpoint under a stranger's key")
	}
}
