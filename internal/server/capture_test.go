package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

// TestCaptureMapsThroughTheNode: records go through the node's pipeline
// with the source's own mapping file, into the activity log, with content
// sealed and the subject resolved through the directory.
func TestCaptureMapsThroughTheNode(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, server.MappingsDir), 0o700); err != nil {
		t.Fatal(err)
	}
	mappingFile := `input: syslog
match: {hosts: ['records-*']}
rate_limit: {events_per_second: 5, burst: 5}
extract:
  - field: message
    pattern: 'officer=(?P<officer>\d+) record=(?P<record>\S+)'
subject:
  from: [extract.officer]
  resolve: [number]
  default: unattributed
fields:
  event.category: {value: record_query}
  event.action: {value: record-viewed}
  record.id: {from: [extract.record]}
content: [message]
`
	if err := os.WriteFile(filepath.Join(dir, server.MappingsDir, "pnc.yaml"), []byte(mappingFile), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, _, err := n.Store.PutPeople(ctx, []store.Person{{ID: "p100", Name: "Pat Officer", Number: "4711"}}); err != nil {
		t.Fatal(err)
	}
	token, err := identity.AddSource(ctx, n.Store, "pnc", n.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The pipeline read the directory at start; it reads it again
	// within a minute of a change, at once when told.
	n.DirectoryChanged()

	rec := capture.Record{Fields: map[string]any{"log.syslog.hostname": "records-2", "message": "lookup officer=4711 record=PNC/88/123"}}
	if got := n.Capture.Route(capture.Syslog, rec, "fallback"); got != "pnc" {
		t.Fatalf("routed to %s", got)
	}
	unparsed := capture.Record{Unparsed: "no PRI", Raw: []byte("just words"), Fields: map[string]any{"source.ip": "10.9.9.9"}}
	res, err := n.Capture.Submit(ctx, capture.Syslog, "pnc", []capture.Record{rec, unparsed})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != capture.Stored || res[1].Status != capture.Kept {
		t.Fatalf("results %+v", res)
	}
	opened := func(index uint64) map[string]string {
		ens, err := n.Store.Entries(ctx, server.Activity, index, index+1)
		if err != nil || len(ens) != 1 {
			t.Fatalf("entry %d: %v", index, err)
		}
		for _, f := range strings.Split(string(ens[0].Content), "\x00") {
			if strings.Contains(f, "PNC/88") {
				t.Fatalf("content stored in the clear: %q", ens[0].Content)
			}
		}
		o, err := n.Opener.Open(ctx, ens[0])
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{"source": o.Event.Source}
		for _, f := range o.Event.Fields {
			out[f.Name] = string(f.Value)
		}
		return out
	}
	got := opened(res[0].Index)
	for k, v := range map[string]string{
		"source": "pnc", "user.id": `"p100"`, "event.category": `"record_query"`, "event.action": `"record-viewed"`,
		"record.id": `"PNC/88/123"`, "content.message": `"lookup officer=4711 record=PNC/88/123"`,
	} {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	kept := opened(res[1].Index)
	if kept["event.action"] != `"unparsed"` || kept["content.raw"] != `"just words"` || kept["lbm.unparsed"] != `"no PRI"` {
		t.Errorf("unparsed event %v", kept)
	}

	// The mapping's limit (5 a second) holds NDJSON sent to /v1/events too.
	h, err := web.New(server.WebConfig(n))
	if err != nil {
		t.Fatal(err)
	}
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(`{"@timestamp":"2026-11-28T10:00:00.000Z","event.category":"web","event.action":"visit","user.id":"p100"}`+"\n"))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var limited *httptest.ResponseRecorder
	for range 10 {
		if r := post(); r.Code == http.StatusTooManyRequests {
			limited = r
			break
		} else if r.Code != http.StatusOK {
			t.Fatalf("ingest: %d %s", r.Code, r.Body)
		}
	}
	if limited == nil {
		t.Fatal("the source was never held to its rate limit")
	}
	if limited.Header().Get("Retry-After") == "" || !strings.Contains(limited.Body.String(), "urn:lbm:problem:throttled") {
		t.Errorf("429 without Retry-After or problem type: %v %s", limited.Header(), limited.Body)
	}
	if _, err := n.Capture.Submit(ctx, capture.Syslog, "nobody", []capture.Record{rec}); !errors.Is(err, capture.ErrUnknownSource) {
		t.Errorf("unregistered source: %v", err)
	}

	// Serving records the mappings in force in the oversight log, and a
	// SIGHUP reads them again: a good file is taken and recorded, a bad
	// one leaves the mappings in force as they were. The test listens for
	// SIGHUP itself too, so the signal can never end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	serveCtx, stop := context.WithCancel(ctx)
	up := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(serveCtx, n, server.ServeConfig{Addr: "127.0.0.1:0", Listening: func(net.Addr, net.Addr) { close(up) },
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	select {
	case <-up:
	case err := <-served:
		t.Fatal(err)
	}
	actionAfterHangup := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			self.Signal(syscall.SIGHUP)
			res, err := n.Capture.Submit(ctx, capture.Syslog, "pnc", []capture.Record{rec})
			if err != nil && !errors.Is(err, capture.ErrRateLimited) {
				t.Fatal(err)
			}
			if err == nil {
				if got := opened(res[0].Index)["event.action"]; got == want {
					return
				} else if time.Now().After(deadline) {
					t.Fatalf("event.action %s after SIGHUP, want %s", got, want)
				}
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	changed := strings.Replace(mappingFile, "record-viewed", "record-opened", 1)
	if err := os.WriteFile(filepath.Join(dir, server.MappingsDir, "pnc.yaml"), []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	actionAfterHangup(`"record-opened"`)
	if err := os.WriteFile(filepath.Join(dir, server.MappingsDir, "pnc.yaml"), []byte("input: syslog\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.String(), "capture mappings not reloaded"); {
		if time.Now().After(deadline) {
			t.Fatalf("no reload refused in the log:\n%s", logs.String())
		}
		self.Signal(syscall.SIGHUP)
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "pnc.yaml") {
		t.Errorf("the refused reload does not name the file:\n%s", logs.String())
	}
	actionAfterHangup(`"record-opened"`)
	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	size, err := n.Store.LogState(ctx, server.Oversight)
	if err != nil {
		t.Fatal(err)
	}
	ens, err := n.Store.Entries(ctx, server.Oversight, 0, size.Size)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{mappingFile, changed}
	var recorded []string
	for _, en := range ens {
		o, err := n.Opener.Open(ctx, en)
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := o.Event.Field("event.action"); string(a) == `"capture_mappings_in_force"` {
			m, _ := o.Event.Field("lbm.mappings")
			recorded = append(recorded, string(m))
		}
	}
	// At start, then once per successful reload (the test may signal more
	// than once before the change is seen); never for the bad file.
	if len(recorded) < 2 {
		t.Fatalf("capture_mappings_in_force records %v, want the start's and the reload's", recorded)
	}
	for i, r := range recorded {
		sum := sha256.Sum256([]byte(want[min(i, 1)]))
		if r != `"pnc=`+hex.EncodeToString(sum[:])+`"` {
			t.Errorf("record %d of the mappings in force: %s", i, r)
		}
	}
}

// syncBuffer is a bytes.Buffer a logger may write while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
