package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/evidence"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/tlog"
)

// writeTestBundle logs two events in a fresh data directory and writes a
// bundle of the second, its related.user withheld under a pseudonym, to
// DIR/bundle.zip. It returns the path and the log's verifier key.
func writeTestBundle(t *testing.T) (path, vkey string) {
	t.Helper()
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var evs []*event.Event
	for _, line := range []string{
		`{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"u1"}}`,
		`{"@timestamp":"2026-11-02T08:01:00Z","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"u1"},"related":{"user":"u2"}}`,
	} {
		e, err := event.Parse([]byte(line), "pnc")
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	log := n.Logs[server.Activity]
	if _, err := log.Writer.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := n.PublishAll(ctx); err != nil {
		t.Fatal(err)
	}
	cp, err := n.Store.LatestCheckpoint(ctx, server.Activity)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := n.Store.Entries(ctx, server.Activity, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	o, err := n.Opener.Open(ctx, entries[0])
	if err != nil {
		t.Fatal(err)
	}
	proof, err := tlog.ProveInclusion(ctx, tlog.StoreSource(n.Store, server.Activity), 1, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	ev := evidence.Event{Index: 1, Leaf: entries[0].Leaf, Proof: proof}
	for _, f := range o.Event.Fields {
		if f.Name == "related.user" {
			ev.Withheld = append(ev.Withheld, evidence.WithheldField{Name: f.Name, Commitment: event.Commit(f), Pseudonym: "Person A"})
		} else {
			ev.Disclosed = append(ev.Disclosed, f)
		}
	}
	var buf bytes.Buffer
	err = evidence.Write(&buf, evidence.Bundle{
		Logs:    []evidence.Log{{Name: server.Activity, Origin: log.Origin, VerifierKey: log.VerifierKey, Checkpoint: cp.Note}},
		Request: []byte(`{"id":"r1","history":[]}`), Recipient: "Employment Tribunal", Purpose: "hearing",
		Events: []evidence.Event{ev}, Created: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "bundle.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, log.VerifierKey
}

func TestVerifyBundle(t *testing.T) {
	path, vkey := writeTestBundle(t)
	_, otherKey, err := tlog.GenerateKey("lbm.local/activity")
	if err != nil {
		t.Fatal(err)
	}
	zb, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.zip")
	if err := os.WriteFile(truncated, zb[:len(zb)/2], 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		args    []string
		wantErr bool
		want    []string // substrings of stdout
	}{
		{"ok", []string{path}, false, []string{
			"OK: " + path + ": 1 events of lbm.local/activity in its checkpoint of size 2; 3 fields disclosed, 1 withheld, 1 pseudonyms (not proven)",
			"disclosed event.action, event.category, user.id; withheld related.user",
			`related.user shown as "Person A": a pseudonym, not proven`,
			"verifier key (the bundle's own",
		}},
		{"pinned key", []string{path, "--key", vkey}, false, []string{"OK: "}},
		{"other key", []string{path, "--key", otherKey}, true, []string{"FAIL: " + path + ": signed by"}},
		{"json", []string{path, "--json"}, false, []string{`"pseudonyms": 1`, `"pseudonym": "Person A"`}},
		{"truncated", []string{truncated}, true, []string{"FAIL: " + truncated + ": bundle: not a zip file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runLBM(t, append([]string{"verify", "bundle"}, tt.args...)...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("lbm verify bundle %v: err = %v, want error %v\n%s", tt.args, err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("lbm verify bundle %v printed\n%s\nwant it to contain %q", tt.args, out, w)
				}
			}
			if tt.name == "json" {
				var rep evidence.Report
				if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Events) != 1 || rep.Events[0].Index != 1 {
					t.Errorf("--json printed %s (%v), want a report of event 1", out, err)
				}
			}
		})
	}
}

// TestVerifyBundleLogs checks a bundle of events of two logs, each proved
// in its own log: it verifies; pinned to one log's key only, it fails;
// with an event file of the second log changed, it fails naming the file.
func TestVerifyBundleLogs(t *testing.T) {
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	e, err := event.Parse([]byte(`{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"u1"}}`), "pnc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Logs[server.Activity].Writer.Append(ctx, []*event.Event{e}); err != nil {
		t.Fatal(err)
	}
	idx, err := n.OversightAccess(ctx, "inv1", "review_query", map[string]any{"request": "r1", "results": 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.PublishAll(ctx); err != nil {
		t.Fatal(err)
	}
	b := evidence.Bundle{Request: []byte(`{"id":"r1","history":[]}`), Recipient: "Employment Tribunal", Purpose: "hearing",
		Created: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	for _, at := range []struct {
		log   string
		index uint64
	}{{server.Activity, 0}, {server.Oversight, idx}} {
		l := n.Logs[at.log]
		cp, err := n.Store.LatestCheckpoint(ctx, at.log)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := n.Store.Entries(ctx, at.log, at.index, at.index+1)
		if err != nil || len(entries) != 1 {
			t.Fatalf("entry %d of %s: %v", at.index, at.log, err)
		}
		o, err := n.Opener.Open(ctx, entries[0])
		if err != nil {
			t.Fatal(err)
		}
		proof, err := tlog.ProveInclusion(ctx, tlog.StoreSource(n.Store, at.log), at.index, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		b.Logs = append(b.Logs, evidence.Log{Name: at.log, Origin: l.Origin, VerifierKey: l.VerifierKey, Checkpoint: cp.Note})
		b.Events = append(b.Events, evidence.Event{Log: at.log, Index: at.index, Leaf: entries[0].Leaf, Disclosed: o.Event.Fields, Proof: proof})
	}
	var buf bytes.Buffer
	if err := evidence.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "bundle.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The oversight event's file with one byte changed.
	changed := fmt.Sprintf("logs/oversight/events/%08d.json", idx)
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var tb bytes.Buffer
	zw := zip.NewWriter(&tb)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == changed {
			data = bytes.Replace(data, []byte(`"review_query`), []byte(`"review_qvery`), 1)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tamperedPath := filepath.Join(dir, "tampered.zip")
	if err := os.WriteFile(tamperedPath, tb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		args    []string
		wantErr bool
		want    string
	}{
		{"ok", []string{path}, false, "OK: " + path + ": 2 events of 2 logs"},
		{"each log listed", []string{path}, false, "  log oversight (lbm.local/oversight): checkpoint of size"},
		{"each log's key printed", []string{path}, false, "verifier key of activity (the bundle's own"},
		{"events named by log", []string{path}, false, "  event activity/0 ("},
		{"every log's key", []string{path, "--key", n.Logs[server.Activity].VerifierKey + "," + n.Logs[server.Oversight].VerifierKey}, false, "OK: " + path},
		{"json", []string{path, "--json"}, false, `"log": "oversight"`},
		{"one log's key only", []string{path, "--key", n.Logs[server.Activity].VerifierKey}, true, "FAIL: " + path + ": log oversight is signed by"},
		{"an event of the second log changed", []string{tamperedPath}, true, "FAIL: " + tamperedPath + ": " + changed + ": event " + fmt.Sprint(idx) + " of oversight: changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runLBM(t, append([]string{"verify", "bundle"}, tt.args...)...)
			if (err != nil) != tt.wantErr || !strings.Contains(out, tt.want) {
				t.Errorf("lbm verify bundle %v: err = %v, printed\n%s\nwant error %v and %q", tt.args, err, out, tt.wantErr, tt.want)
			}
		})
	}
}
