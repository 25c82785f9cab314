package alerts_test

import (
	"context"
	"slices"
	"testing"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/store"
)

// A person's events spread over the activity log's shards (nodes that
// took them) reach the rules as one stream: three refusals, two on one
// shard and one on the other, are three in the window. A shard that
// appears while the detector runs is followed from its first entry, and
// each shard keeps its own cursor.
func TestDetectorCountsAcrossShards(t *testing.T) {
	e := newEnv(t)
	shards := []string{"activity-1", "activity-2"}
	writers := map[string]*ingest.Writer{}
	for _, name := range append(slices.Clone(shards), "activity-3") {
		w, err := ingest.NewWriter(ingest.Config{Log: name, Store: e.node.Store, Sealer: &record.Sealer{Log: name, Ring: e.node.Ring}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		writers[name] = w
	}
	appendTo := func(log string, lines ...string) {
		t.Helper()
		var evs []*event.Event
		for _, l := range lines {
			ev, err := event.Parse([]byte(l), "pnc")
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev)
		}
		if _, err := writers[log].Append(e.ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	d := e.detector()
	d.Shards = func(context.Context) ([]string, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return slices.Clone(shards), nil
	}
	appendTo("activity-1", refused("sam", "2026-11-02T08:00:00Z"), refused("sam", "2026-11-02T08:20:00Z"))
	appendTo("activity-2", refused("sam", "2026-11-02T08:10:00Z"), refused("stu", "2026-11-02T08:12:00Z"))
	e.drain(d)
	all, err := e.node.Store.ListAlerts(e.ctx, store.AlertQuery{})
	if err != nil || len(all) != 1 || all[0].Subject != "sam" || all[0].Rule != "repeated-refusals" {
		t.Fatalf("alerts over two shards = %s, %v; want sam's repeated refusals", describe(all), err)
	}
	for _, log := range shards {
		st, _ := e.node.Store.LogState(e.ctx, log)
		if c, _ := e.node.Store.DetectionCursor(e.ctx, log); c != st.Size {
			t.Errorf("%s: cursor %d, want its size %d", log, c, st.Size)
		}
	}
	if s := d.Stats(); s.Events != 4 || s.Cursor != 4 {
		t.Errorf("stats = %+v, want 4 events looked at", s)
	}

	// A new shard joins: stu's third refusal, there, completes his window
	// with his two on the older shards.
	appendTo("activity-2", refused("stu", "2026-11-02T08:40:00Z"))
	appendTo("activity-3", refused("stu", "2026-11-02T08:50:00Z"))
	e.mu.Lock()
	shards = append(shards, "activity-3")
	e.mu.Unlock()
	e.drain(d)
	all, _ = e.node.Store.ListAlerts(e.ctx, store.AlertQuery{})
	if len(all) != 2 || all[0].Subject != "stu" {
		t.Fatalf("alerts after a shard joined = %s; want stu's too", describe(all))
	}

	// A fresh detector (a restart, or another node taking the lead)
	// warms up from every shard and raises nothing twice.
	again := e.detector()
	again.Shards = d.Shards
	e.drain(again)
	if all, _ = e.node.Store.ListAlerts(e.ctx, store.AlertQuery{}); len(all) != 2 {
		t.Errorf("%d alerts after a restart, want 2", len(all))
	}
}
