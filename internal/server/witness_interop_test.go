package server_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/tlog"
)

// TestCosignedCheckpointInterop serves checkpoints with a witness's
// cosignature appended and checks that verifiers knowing only lbm's key,
// Tessera's client and lbm's own, still accept them, and that the
// cosignature checks with the witness's key.
func TestCosignedCheckpointInterop(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "witness.test/interop")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	if vkey, err = fnote.VKeyToCosignatureV1(vkey); err != nil {
		t.Fatal(err)
	}
	// A witness that cosigns whatever it is sent: the protocol's checks
	// are internal/witness's tests and the e2e test's.
	wsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, signed, _ := bytes.Cut(body, []byte("\n\n"))
		text := signed[:bytes.LastIndex(signed, []byte("\n\n"))+1]
		cosigned, err := note.Sign(&note.Note{Text: string(text)}, signer)
		if err != nil {
			t.Error(err)
		}
		w.Write(cosigned[bytes.LastIndex(cosigned, []byte("\n\n"))+2:])
	}))
	t.Cleanup(wsrv.Close)

	dir := t.TempDir()
	config := fmt.Sprintf("witnesses:\n  - name: interop\n    url: %s\n    key: %s\n", wsrv.URL, vkey)
	if err := os.WriteFile(filepath.Join(dir, "witnesses.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	n, base := serve(t, server.Config{DataDir: dir})
	appendEvents(t, n, 0, 300)
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
	cosigner, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		cp, raw, _, err := client.FetchCheckpoint(t.Context(), f.ReadCheckpoint, verifier, log.Origin)
		if err != nil {
			t.Fatalf("Tessera FetchCheckpoint = %v", err)
		}
		if c, err := tlog.OpenCheckpoint(raw, log.VerifierKey); err != nil || c.Size != cp.Size {
			t.Fatalf("tlog.OpenCheckpoint(served) = %v, %v", c, err)
		}
		if cp.Size == 300 && strings.Contains(string(raw), "— witness.test/interop ") {
			if _, err := note.Open(raw, note.VerifierList(cosigner)); err != nil {
				t.Fatalf("the served cosignature does not check: %v\n%s", err, raw)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cosigned checkpoint of size 300 served within 30s; last:\n%s", raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
