package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

	// Serving records the mappings in force in the oversight log.
	serveCtx, stop := context.WithCancel(ctx)
	up := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(serveCtx, n, server.ServeConfig{Addr: "127.0.0.1:0", Listening: func(net.Addr, net.Addr) { close(up) }})
	}()
	select {
	case <-up:
	case err := <-served:
		t.Fatal(err)
	}
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
	sum := sha256.Sum256([]byte(mappingFile))
	found := false
	for _, en := range ens {
		o, err := n.Opener.Open(ctx, en)
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := o.Event.Field("event.action"); string(a) == `"capture_mappings_in_force"` {
			m, _ := o.Event.Field("lbm.mappings")
			found = string(m) == `"pnc=`+hex.EncodeToString(sum[:])+`"`
			if !found {
				t.Errorf("mappings recorded as %s", m)
			}
		}
	}
	if !found {
		t.Error("no capture_mappings_in_force record in the oversight log")
	}
}
