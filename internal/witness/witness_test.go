package witness_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/tlog"
	"github.com/lbm-project/lbm/internal/witness"
)

// fakeWitness follows c2sp.org/tlog-witness for one log, checking proofs
// with x/mod's tlog rather than lbm's: 404 for another origin, 403 for a
// bad signature, 409 with its size, 422 for a bad proof.
type fakeWitness struct {
	t      *testing.T
	origin string
	logKey note.Verifier
	signer note.Signer
	vkey   string

	mu       sync.Mutex
	size     int64
	hash     xtlog.Hash
	requests int
}

func newFakeWitness(t *testing.T, origin, logVKey string) (*fakeWitness, *httptest.Server) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "witness.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWitness{t: t, origin: origin}
	if w.signer, err = fnote.NewSignerForCosignatureV1(skey); err != nil {
		t.Fatal(err)
	}
	if w.vkey, err = fnote.VKeyToCosignatureV1(vkey); err != nil {
		t.Fatal(err)
	}
	if w.logKey, err = note.NewVerifier(logVKey); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	return w, srv
}

func (w *fakeWitness) serve(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/add-checkpoint" {
		http.NotFound(rw, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests++
	head, signed, ok := bytes.Cut(body, []byte("\n\n"))
	sc := bufio.NewScanner(bytes.NewReader(head))
	if !ok || !sc.Scan() || !strings.HasPrefix(sc.Text(), "old ") {
		http.Error(rw, "bad request", http.StatusBadRequest)
		return
	}
	old, err := strconv.ParseInt(strings.TrimPrefix(sc.Text(), "old "), 10, 64)
	if err != nil {
		http.Error(rw, "bad old", http.StatusBadRequest)
		return
	}
	var proof xtlog.TreeProof
	for sc.Scan() {
		h, err := xtlog.ParseHash(sc.Text())
		if err != nil {
			http.Error(rw, "bad hash", http.StatusBadRequest)
			return
		}
		proof = append(proof, h)
	}
	if origin, _, _ := strings.Cut(string(signed), "\n"); origin != w.origin {
		http.Error(rw, "unknown log", http.StatusNotFound)
		return
	}
	n, err := note.Open(signed, note.VerifierList(w.logKey))
	if err != nil {
		http.Error(rw, "bad signature", http.StatusForbidden)
		return
	}
	c, err := tlog.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		http.Error(rw, "bad checkpoint", http.StatusForbidden)
		return
	}
	if old != w.size {
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", w.size)
		return
	}
	var root xtlog.Hash
	copy(root[:], c.Root)
	if old > 0 {
		if err := xtlog.CheckTree(proof, int64(c.Size), root, old, w.hash); err != nil {
			http.Error(rw, "bad proof", http.StatusUnprocessableEntity)
			return
		}
	}
	w.size, w.hash = int64(c.Size), root
	cosigned, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		w.t.Error(err)
	}
	i := bytes.LastIndex(cosigned, []byte("\n\n"))
	rw.Write(cosigned[i+2:])
}

// newNode opens a node in a fresh data directory with some oversight entries.
func newNode(t *testing.T, entries int) *server.Node {
	t.Helper()
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	grow(t, n, entries)
	return n
}

// grow appends entries to the oversight log and publishes.
func grow(t *testing.T, n *server.Node, entries int) {
	t.Helper()
	for i := range entries {
		if _, err := n.Oversight(t.Context(), "test", "witness_test", map[string]any{"i": i}, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.PublishAll(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func newService(t *testing.T, n *server.Node, url, vkey string, fail witness.Fail) *witness.Service {
	t.Helper()
	yaml := fmt.Sprintf("witnesses:\n  - name: w1\n    url: %s\n    key: %s\npolicy:\n  fail: %s\n", url, vkey, fail)
	cfg, err := witness.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := witness.New(t.Context(), witness.ServiceConfig{Config: cfg, Logs: []string{server.Oversight}, Store: n.Store})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkCosigned checks that signed opens with lbm's key alone (as
// existing verifiers do) and carries a valid cosignature by wkey.
func checkCosigned(t *testing.T, signed []byte, lbmKey, wkey string, size uint64) {
	t.Helper()
	c, err := tlog.OpenCheckpoint(signed, lbmKey)
	if err != nil || c.Size != size {
		t.Fatalf("tlog.OpenCheckpoint(served) = size %d, %v; want size %d", c.Size, err, size)
	}
	v, err := fnote.NewVerifierForCosignatureV1(wkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil || len(n.Sigs) != 1 {
		t.Fatalf("note.Open(served, witness key) = %v; want one verified cosignature\n%s", err, signed)
	}
}

func TestPushAndServe(t *testing.T) {
	ctx := t.Context()
	n := newNode(t, 3)
	l := n.Logs[server.Oversight]
	fw, srv := newFakeWitness(t, l.Origin, l.VerifierKey)
	s := newService(t, n, srv.URL, fw.vkey, witness.FailOpen)

	// Fail open serves the checkpoint before any cosignature.
	signed, err := s.Checkpoint(ctx, server.Oversight)
	if c, cerr := tlog.OpenCheckpoint(signed, l.VerifierKey); err != nil || cerr != nil || c.Size != 3 {
		t.Fatalf("Checkpoint before witnessing = %v, %v, size %d; want size 3", err, cerr, c.Size)
	}
	if err := s.PushAll(ctx); err != nil {
		t.Fatalf("PushAll() = %v", err)
	}
	signed, err = s.Checkpoint(ctx, server.Oversight)
	if err != nil {
		t.Fatal(err)
	}
	checkCosigned(t, signed, l.VerifierKey, fw.vkey, 3)

	// Growing: the next push carries a proof from 3, which x/mod checks.
	grow(t, n, 5)
	if err := s.PushAll(ctx); err != nil {
		t.Fatalf("PushAll() after growing = %v", err)
	}
	signed, _ = s.Checkpoint(ctx, server.Oversight)
	checkCosigned(t, signed, l.VerifierKey, fw.vkey, 8)
	// Nothing new: no request.
	before := fw.requests
	if err := s.PushAll(ctx); err != nil || fw.requests != before {
		t.Errorf("PushAll() with nothing new = %v after %d requests, want nil and none", err, fw.requests-before)
	}
	rep := s.Report()
	st := rep.Witnesses[0].Logs[0]
	if st.CosignedSize == nil || *st.CosignedSize != 8 || st.LastError != "" || st.LastAttempt == nil {
		t.Errorf("Report() = %+v, want cosigned 8, an attempt and no error", st)
	}

	// A restarted service starts from the stored cosignature.
	s2 := newService(t, n, srv.URL, fw.vkey, witness.FailOpen)
	if st := s2.Report().Witnesses[0].Logs[0]; st.CosignedSize == nil || *st.CosignedSize != 8 {
		t.Errorf("Report() after restart = %+v, want cosigned 8", st)
	}
}

func TestConflict(t *testing.T) {
	ctx := t.Context()
	n := newNode(t, 4)
	l := n.Logs[server.Oversight]
	fw, srv := newFakeWitness(t, l.Origin, l.VerifierKey)
	s := newService(t, n, srv.URL, fw.vkey, witness.FailOpen)
	if err := s.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	grow(t, n, 2)
	// Another lbm process, or one that lost the store's cosignature,
	// offers from 0: the witness answers 409 with 4, and the push is
	// resent from there with a proof from 4.
	s3 := newServiceNoStoreState(t, n, srv.URL, fw.vkey)
	before := fw.requests
	if err := s3.PushAll(ctx); err != nil {
		t.Fatalf("PushAll() from 0 = %v", err)
	}
	if got := fw.requests - before; got != 2 {
		t.Errorf("requests = %d, want 2 (409, then the resend)", got)
	}
	signed, _ := s3.Checkpoint(ctx, server.Oversight)
	checkCosigned(t, signed, l.VerifierKey, fw.vkey, 6)
}

// newServiceNoStoreState names the witness differently, so the service
// finds no stored cosignature and starts from size 0.
func newServiceNoStoreState(t *testing.T, n *server.Node, url, vkey string) *witness.Service {
	t.Helper()
	cfg, err := witness.Parse([]byte(fmt.Sprintf("witnesses:\n  - name: w1-again\n    url: %s\n    key: %s\n", url, vkey)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := witness.New(t.Context(), witness.ServiceConfig{Config: cfg, Logs: []string{server.Oversight}, Store: n.Store})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRefusals(t *testing.T) {
	ctx := t.Context()
	n := newNode(t, 3)
	l := n.Logs[server.Oversight]
	fw, srv := newFakeWitness(t, l.Origin, l.VerifierKey)
	s := newService(t, n, srv.URL, fw.vkey, witness.FailClosed)

	// Fail closed: nothing is served until a checkpoint is cosigned.
	if _, err := s.Checkpoint(ctx, server.Oversight); !errors.Is(err, witness.ErrNotCosigned) {
		t.Fatalf("Checkpoint() before witnessing, fail closed = %v, want ErrNotCosigned", err)
	}
	if err := s.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	grow(t, n, 2)
	// The witness has seen another history: its hash at 3 is not ours.
	fw.mu.Lock()
	fw.hash[0] ^= 1
	fw.mu.Unlock()
	err := s.PushAll(ctx)
	if !errors.Is(err, witness.ErrBadProof) {
		t.Fatalf("PushAll() to a witness that saw another history = %v, want ErrBadProof", err)
	}
	// Fail closed serves the newest cosigned checkpoint, 3, not 5.
	signed, err := s.Checkpoint(ctx, server.Oversight)
	if err != nil {
		t.Fatal(err)
	}
	checkCosigned(t, signed, l.VerifierKey, fw.vkey, 3)
	st := s.Report().Witnesses[0].Logs[0]
	if !strings.Contains(st.LastError, "422") || *st.CosignedSize != 3 {
		t.Errorf("Report() = %+v, want cosigned 3 and a 422 error", st)
	}
	if cs, err := n.Store.ListCosignatures(ctx, server.Oversight, 5); err != nil || len(cs) != 0 {
		t.Errorf("ListCosignatures(5) = %v, %v; want none", cs, err)
	}

	// A witness with another key: its cosignature does not check.
	_, vkey2, err := note.GenerateKey(rand.Reader, "witness.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	if vkey2, err = fnote.VKeyToCosignatureV1(vkey2); err != nil {
		t.Fatal(err)
	}
	fw.mu.Lock()
	fw.hash[0] ^= 1
	fw.mu.Unlock()
	other := newServiceNoStoreState(t, n, srv.URL, vkey2)
	if err := other.PushAll(ctx); !errors.Is(err, witness.ErrBadCosignature) {
		t.Errorf("PushAll() with the wrong witness key = %v, want ErrBadCosignature", err)
	}

	// A witness that does not know the log.
	fw.mu.Lock()
	fw.origin = "another/origin"
	fw.mu.Unlock()
	grow(t, n, 1)
	if err := s.PushAll(ctx); !errors.Is(err, witness.ErrUnknownLog) {
		t.Errorf("PushAll() to a witness that does not know the log = %v, want ErrUnknownLog", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRunBacksOff runs the push loop on a fake clock against a witness
// that fails three times: the waits double from Interval up to
// MaxBackoff, and once the checkpoint is cosigned nothing is sent again.
func TestRunBacksOff(t *testing.T) {
	n := newNode(t, 2)
	l := n.Logs[server.Oversight]
	fw, _ := newFakeWitness(t, l.Origin, l.VerifierKey)
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var attempts []time.Duration
		fails := 3
		handler := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			attempts = append(attempts, time.Since(start))
			if fails > 0 {
				fails--
				http.Error(rw, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			fw.serve(rw, r)
		})
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, r)
			return rec.Result(), nil
		})}
		cfg, err := witness.Parse([]byte("witnesses:\n  - name: w1\n    url: http://witness.test\n    key: " + fw.vkey + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := witness.New(t.Context(), witness.ServiceConfig{Config: cfg, Logs: []string{server.Oversight}, Store: n.Store,
			HTTP: hc, Interval: time.Second, MaxBackoff: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		time.Sleep(10 * time.Second)
		cancel()
		<-done
		want := []time.Duration{0, time.Second, 3 * time.Second, 6 * time.Second}
		if !slices.Equal(attempts, want) {
			t.Errorf("attempts at %v, want %v (waits of 1s, 2s, then 3s capped, then none once cosigned)", attempts, want)
		}
		if st := s.Report().Witnesses[0].Logs[0]; st.CosignedSize == nil || *st.CosignedSize != 2 || st.LastError != "" {
			t.Errorf("Report() = %+v, want cosigned 2 and no error", st)
		}
	})
}

// A log added while the service runs (a shard another node claimed) is
// witnessed from then on, once however often it is added; a log never
// added is not.
func TestAddLog(t *testing.T) {
	ctx := t.Context()
	n := newNode(t, 2)
	l := n.Logs[server.Oversight]
	fw, srv := newFakeWitness(t, l.Origin, l.VerifierKey)
	s, err := witness.New(ctx, witness.ServiceConfig{Config: mustParse(t, fmt.Sprintf("witnesses:\n  - name: w1\n    url: %s\n    key: %s\n", srv.URL, fw.vkey)),
		Logs: []string{server.Activity}, Store: n.Store})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Push(ctx, "w1", server.Oversight); err == nil {
		t.Fatal("a log never added was pushed")
	}
	for range 2 {
		if err := s.AddLog(ctx, server.Oversight); err != nil {
			t.Fatal(err)
		}
	}
	var logs []string
	for _, st := range s.Report().Witnesses[0].Logs {
		logs = append(logs, st.Log)
	}
	if !slices.Equal(logs, []string{server.Activity, server.Oversight}) {
		t.Errorf("Report() lists %v, want the first log and the added one, once each", logs)
	}
	if err := s.Push(ctx, "w1", server.Oversight); err != nil {
		t.Fatalf("Push of the added log = %v", err)
	}
	signed, err := s.Checkpoint(ctx, server.Oversight)
	if err != nil {
		t.Fatal(err)
	}
	checkCosigned(t, signed, l.VerifierKey, fw.vkey, 2)
}

func mustParse(t *testing.T, yaml string) *witness.Config {
	t.Helper()
	cfg, err := witness.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
