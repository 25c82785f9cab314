package pack

import (
	"bytes"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/simulate"
)

// TestSimulatedForce runs the pack over a small simulated force with
// scenarios planted often, as `lbm rules test --builtin --labels` does,
// and holds it to the bar: recall at least 0.9 and precision at
// least 0.5 in total, and no rule failing to evaluate. The seed is one
// of those the pack was developed against; the held-out figures are in
// the report, not here.
func TestSimulatedForce(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and scans 130,000 events")
	}
	cfg := simulate.Config{People: 300, Days: 10, Seed: 5, Misconduct: 2, NearMisses: 2}
	var buf bytes.Buffer
	if _, err := simulate.Generate(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	given, err := simulate.Lists(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lists := detect.Lists{}
	for id, l := range given {
		if l.Keyed {
			m := map[string][]string{}
			for _, row := range l.Rows {
				m[row[0]] = append(m[row[0]], row[1])
			}
			lists[id] = detect.NewKeyedList(m)
			continue
		}
		var vs []string
		for _, row := range l.Rows {
			vs = append(vs, row[0])
		}
		lists[id] = detect.NewList(vs...)
	}
	var staff []detect.Staff
	for _, p := range simulate.People(cfg) {
		staff = append(staff, detect.Staff{ID: p.ID, Unit: p.Unit, Pattern: p.Pattern, LeftAt: p.LeftAt})
	}
	for id, l := range detect.DirectoryLists(staff) {
		lists[id] = l
	}
	simLabels, err := simulate.Labels(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var labels []detect.Label
	for _, l := range simLabels {
		labels = append(labels, detect.Label{Kind: l.Kind, Rules: l.Rules, User: l.User, Start: l.Start, End: l.End})
	}
	rs, err := Rules(policy.DefaultDetection())
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.Compile(rs, lists, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := detect.Replay(e, &buf, "sim", "sim")
	if err != nil {
		t.Fatal(err)
	}
	rep.Label(labels, "labels", time.Hour)
	s := rep.Score
	for _, r := range s.Rules {
		t.Logf("%-28s alerts %3d matched %3d labels %2d caught %2d", r.Rule, r.Alerts, r.Matched, r.Labels, r.Caught)
	}
	if len(labels) < 30 {
		t.Errorf("%d labels, want at least 30", len(labels))
	}
	if s.Total.Recall < 0.9 || s.Total.Precision < 0.5 {
		t.Errorf("total recall %.2f, precision %.2f; want at least 0.9 and 0.5", s.Total.Recall, s.Total.Precision)
	}
	for _, r := range rep.Stats.Rules {
		if r.Errors > 0 {
			t.Errorf("rule %s failed %d evaluations, first %s", r.Rule, r.Errors, r.FirstError)
		}
	}
}
