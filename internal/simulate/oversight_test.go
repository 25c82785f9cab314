package simulate

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/detect/pack"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/policy"
)

// oversightCfg has oversight scenarios and near-misses often enough
// that every kind occurs, over a window long enough for refusals more
// than 31 days apart.
var oversightCfg = Config{People: 600, Days: 40, Seed: 11, Misconduct: 3, NearMisses: 1}

// oversightSource is the source lbm's own oversight records come from
// (internal/server.OversightSource).
const oversightSource = "lbm"

func oversight(t *testing.T, cfg Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := Oversight(&buf, cfg)
	if err != nil {
		t.Fatalf("Oversight(%+v) error = %v", cfg, err)
	}
	if got := bytes.Count(buf.Bytes(), []byte("\n")); got != n {
		t.Fatalf("Oversight(%+v) = %d, but wrote %d lines", cfg, n, got)
	}
	return buf.Bytes()
}

func TestOversightDeterministic(t *testing.T) {
	a, b := oversight(t, oversightCfg), oversight(t, oversightCfg)
	if len(a) == 0 {
		t.Fatalf("Oversight(%+v) wrote nothing", oversightCfg)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("Oversight(%+v) twice gave different output", oversightCfg)
	}
	other := oversightCfg
	other.Seed++
	if c := oversight(t, other); bytes.Equal(a, c) {
		t.Errorf("Oversight with seeds %d and %d gave identical output", oversightCfg.Seed, other.Seed)
	}
	l1, _ := OversightLabels(oversightCfg)
	l2, _ := OversightLabels(oversightCfg)
	if !slices.Equal(labelStrings(l1), labelStrings(l2)) {
		t.Errorf("OversightLabels(%+v) twice gave different labels", oversightCfg)
	}
}

func labelStrings(ls []Label) []string {
	var out []string
	for _, l := range ls {
		b, _ := json.Marshal(l)
		out = append(out, string(b))
	}
	return out
}

// TestOversightLeavesActivity checks that writing the oversight log
// changes nothing of the activity or its labels: it draws from a stream
// of its own.
func TestOversightLeavesActivity(t *testing.T) {
	cfg := Config{People: 200, Days: 3, Seed: 3, Misconduct: 2, NearMisses: 2}
	before, _ := Labels(cfg)
	a := generate(t, cfg)
	oversight(t, cfg)
	after, _ := Labels(cfg)
	if b := generate(t, cfg); !bytes.Equal(a, b) {
		t.Error("Generate changed after Oversight")
	}
	if !slices.Equal(labelStrings(before), labelStrings(after)) {
		t.Error("Labels changed after Oversight")
	}
}

// TestOversightRecords checks that every record is one lbm accepts from
// its own source, in the shape the oversight rules read, in time order,
// and that nothing in it marks a scenario.
func TestOversightRecords(t *testing.T) {
	out := oversight(t, oversightCfg)
	labels, err := OversightLabels(oversightCfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := map[string]Person{}
	for _, p := range People(oversightCfg) {
		dir[p.ID] = p
	}
	marks := []string{"scenario", "label", "misconduct", "near", "oversight", "colleague", "repeated", "namesake"}
	actions := map[string]int{}
	var prev time.Time
	for n, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		ev, err := event.Parse(line, oversightSource)
		if err != nil {
			t.Fatalf("line %d: %v\n%s", n+1, err, line)
		}
		if ev.Time.Before(prev) {
			t.Fatalf("line %d: out of order", n+1)
		}
		prev = ev.Time
		var rec struct {
			Timestamp string `json:"@timestamp"`
			Event     struct{ Category, Action, Outcome string }
			User      struct{ ID string }
			LBM       struct {
				BreakGlass *bool  `json:"break_glass"`
				Request    string `json:"request"`
				Reference  string `json:"reference"`
				Reason     string `json:"reason"`
				To         string `json:"to"`
			} `json:"lbm"`
			Related struct{ User []string }
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if ts, err := time.Parse(time.RFC3339, rec.Timestamp); err != nil || !strings.HasSuffix(rec.Timestamp, "Z") || !ts.Equal(ev.Time) {
			t.Errorf("line %d: @timestamp %q: want RFC 3339 in UTC", n+1, rec.Timestamp)
		}
		if rec.Event.Category != "configuration" || rec.Event.Outcome != "success" || rec.LBM.BreakGlass == nil || *rec.LBM.BreakGlass ||
			rec.LBM.Request == "" {
			t.Errorf("line %d: want category configuration, outcome success, break_glass false and a request: %s", n+1, line)
		}
		if _, ok := dir[rec.User.ID]; !ok {
			t.Errorf("line %d: actor %q is not in the force", n+1, rec.User.ID)
		}
		for _, s := range rec.Related.User {
			if _, ok := dir[s]; !ok {
				t.Errorf("line %d: subject %q is not in the force", n+1, s)
			}
		}
		if (rec.Event.Action == "review_refused") != (rec.LBM.Reason != "") {
			t.Errorf("line %d: want a reason exactly on a refusal: %s", n+1, line)
		}
		if rec.Event.Action != "review_refused" && (rec.LBM.Reference == "" || len(rec.Related.User) == 0) {
			t.Errorf("line %d: want a reference and related.user: %s", n+1, line)
		}
		if rec.Event.Action == "review_query" && dir[rec.User.ID].Unit != "Professional Standards" {
			t.Errorf("line %d: a look by %s of %s, not an investigator", n+1, rec.User.ID, dir[rec.User.ID].Unit)
		}
		lower := bytes.ToLower(line)
		for _, word := range marks {
			if bytes.Contains(lower, []byte(word)) {
				t.Errorf("line %d mentions %q: %s", n+1, word, line)
			}
		}
		actions[rec.Event.Action]++
	}
	for _, a := range []string{"request_created", "request_submit", "request_decision", "review_query", "review_export", "review_refused"} {
		if actions[a] == 0 {
			t.Errorf("no %s in %d records", a, len(out))
		}
	}
	kinds := map[string]int{}
	for _, l := range labels {
		kinds[l.Kind]++
		if !slices.Equal(l.Rules, []string{l.Kind}) || l.End.Before(l.Start) || l.Start.Before(oversightCfg.Start.Add(-time.Nanosecond)) {
			t.Errorf("label %+v: want its kind as its rule, and start <= end in the window", l)
		}
		if _, ok := dir[l.User]; !ok {
			t.Errorf("label %+v: user not in the force", l)
		}
	}
	for _, m := range oversightMisconduct {
		if kinds[m.kind] == 0 {
			t.Errorf("no %s scenario in %d labels", m.kind, len(labels))
		}
	}
	cfg, _ := oversightCfg.withDefaults()
	near := planOversight(cfg).near
	for _, k := range oversightNearMisses {
		if near[k] == 0 {
			t.Errorf("no %s near-miss planned (%v)", k, near)
		}
	}
}

// TestOversightRules runs the built-in pack over the oversight log and
// scores it against the labels: each scenario is caught, by its own
// rule only, each near-miss and the routine work of investigators and
// authorisers fire nothing, and no activity rule fires.
func TestOversightRules(t *testing.T) {
	e := packEngine(t, oversightCfg)
	rep, err := detect.Replay(e, bytes.NewReader(oversight(t, oversightCfg)), "oversight", oversightSource)
	if err != nil {
		t.Fatal(err)
	}
	simLabels, _ := OversightLabels(oversightCfg)
	var labels []detect.Label
	for _, l := range simLabels {
		labels = append(labels, detect.Label{Kind: l.Kind, Rules: l.Rules, User: l.User, Start: l.Start, End: l.End})
	}
	rep.Label(labels, "labels", time.Hour)
	for _, r := range rep.Score.Rules {
		t.Logf("%-28s alerts %3d matched %3d labels %2d caught %2d", r.Rule, r.Alerts, r.Matched, r.Labels, r.Caught)
		oversightRule := strings.HasPrefix(r.Rule, "oversight-")
		switch {
		case !oversightRule && r.Alerts > 0:
			t.Errorf("activity rule %s fired %d times on the oversight log", r.Rule, r.Alerts)
		case oversightRule && (r.Matched != r.Alerts || r.Caught != r.Labels || r.Labels == 0):
			t.Errorf("%s: %d of %d alerts match a label, %d of %d labels caught", r.Rule, r.Matched, r.Alerts, r.Caught, r.Labels)
		}
	}
	for _, r := range rep.Stats.Rules {
		if r.Errors > 0 {
			t.Errorf("rule %s failed %d evaluations, first %s", r.Rule, r.Errors, r.FirstError)
		}
	}
}

// TestOversightRulesQuietOnActivity checks the other half of the
// separation: no oversight rule fires on activity.
func TestOversightRulesQuietOnActivity(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and scans 130,000 events")
	}
	e := packEngine(t, scenarioCfg)
	rep, err := detect.Replay(e, bytes.NewReader(generate(t, scenarioCfg)), "activity", "sim")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Alerts {
		if strings.HasPrefix(a.Rule, "oversight-") {
			t.Errorf("%s fired on activity: %s", a.Rule, a.Why)
		}
	}
}

// packEngine compiles the built-in pack with cfg's lists, as lbm
// simulate --lists writes them.
func packEngine(t *testing.T, cfg Config) *detect.Engine {
	t.Helper()
	given, err := Lists(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lists := detect.Lists{}
	for id, l := range given {
		m := map[string][]string{}
		var vs []string
		for _, row := range l.Rows {
			m[row[0]] = append(m[row[0]], row[1])
			vs = append(vs, row[0])
		}
		if l.Keyed {
			lists[id] = detect.NewKeyedList(m)
		} else {
			lists[id] = detect.NewList(vs...)
		}
	}
	var staff []detect.Staff
	for _, p := range People(cfg) {
		staff = append(staff, detect.Staff{ID: p.ID, Unit: p.Unit, Pattern: p.Pattern, LeftAt: p.LeftAt})
	}
	for id, l := range detect.DirectoryLists(staff) {
		lists[id] = l
	}
	rs, err := pack.Rules(policy.DefaultDetection())
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.Compile(rs, lists, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
