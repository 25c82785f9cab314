package server_test

import (
	"io"
	"slices"
	"testing"

	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

func TestLoadDemo(t *testing.T) {
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, events, err := server.LoadDemo(ctx, n, io.Discard); err != nil || events == 0 {
		t.Fatalf("LoadDemo = %d events, %v", events, err)
	}
	rs, err := n.Store.ListRequests(ctx, store.RequestQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range rs {
		states = append(states, r.State)
	}
	slices.Sort(states)
	if want := []string{"active", "draft", "submitted"}; !slices.Equal(states, want) {
		t.Errorf("demo requests in states %v, want %v", states, want)
	}
	// The simulated misconduct raises alerts, with the lists the demo
	// wrote.
	for _, d := range n.Detectors {
		for {
			k, err := d.Step(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				break
			}
		}
	}
	alerts, err := n.Store.ListAlerts(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, a := range alerts {
		rules[a.Rule] = true
	}
	if len(rules) < 5 {
		t.Errorf("the demo raised alerts of %d rules (%v), want several kinds", len(rules), rules)
	}
	t.Logf("demo alerts: %d, of rules %v", len(alerts), rules)
	// A second load, as on a restart with --demo, adds nothing.
	if _, events, err := server.LoadDemo(ctx, n, io.Discard); err != nil || events != 0 {
		t.Fatalf("second LoadDemo = %d events, %v", events, err)
	}
	again, err := n.Store.ListRequests(ctx, store.RequestQuery{})
	if err != nil || len(again) != len(rs) {
		t.Errorf("after a second load %d requests (%v), want %d", len(again), err, len(rs))
	}
}
