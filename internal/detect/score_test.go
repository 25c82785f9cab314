package detect

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestScoreAlerts(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	labels := []Label{
		{Kind: "a", Rules: []string{"r1"}, User: "u1", Start: at(0), End: at(10)},
		{Kind: "b", Rules: []string{"r2"}, User: "u2", Start: at(0), End: at(0)},
		{Kind: "c", Rules: []string{"r1", "r3"}, User: "u3", Start: at(100), End: at(100)},
	}
	alerts := []Alert{
		{Rule: "r1", Subject: "u1", Key: "u1", Time: at(70)},    // within the slack of an hour after the end
		{Rule: "r1", Subject: "u1", Key: "u1", Time: at(71)},    // a minute too late
		{Rule: "r2", Subject: "u1", Key: "u1", Time: at(0)},     // the wrong user
		{Rule: "r1", Subject: "u2", Key: "x u2", Time: at(0)},   // a rule the label does not name
		{Rule: "r3", Subject: "u3", Key: "u3 x", Time: at(100)}, // by the subject, whatever the key
	}
	got := ScoreAlerts(alerts, labels, []string{"r1", "r2", "r3", "r4"}, time.Hour)
	want := Score{Slack: time.Hour, Rules: []RuleScore{
		{Rule: "r1", Alerts: 3, Matched: 1, Precision: 1.0 / 3, Labels: 2, Caught: 1, Recall: 0.5},
		{Rule: "r2", Alerts: 1, Matched: 0, Precision: 0, Labels: 1, Caught: 0, Recall: 0},
		{Rule: "r3", Alerts: 1, Matched: 1, Precision: 1, Labels: 1, Caught: 1, Recall: 1},
		{Rule: "r4", Precision: -1, Recall: -1},
	}, Total: RuleScore{Alerts: 5, Matched: 2, Precision: 0.4, Labels: 3, Caught: 2, Recall: 2.0 / 3}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScoreAlerts (-want +got):\n%s", diff)
	}
}

func TestParseLabels(t *testing.T) {
	good := `{"kind":"k","rules":["r"],"user":"u1","start":"2026-11-02T08:00:00Z","end":"2026-11-02T08:00:00Z"}` + "\n\n"
	ls, err := ParseLabels(strings.NewReader(good), "l.ndjson")
	if err != nil || len(ls) != 1 || ls[0].User != "u1" {
		t.Errorf("ParseLabels(good) = %v, %v", ls, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"kind":"k","rules":["r"],"user":"u1","start":"2026-11-02T08:00:00Z","end":"2026-11-02T07:00:00Z"}`, "l.ndjson: line 1: start and end"},
		{`{"kind":"k","rules":[],"user":"u1","start":"2026-11-02T08:00:00Z","end":"2026-11-02T08:00:00Z"}`, "line 1: rules: missing"},
		{"\n" + `{"kind":"k","rules":["r"],"start":"2026-11-02T08:00:00Z","end":"2026-11-02T08:00:00Z"}`, "line 2: user: missing"},
		{`{"kind":"k","rules":["r"],"user":"u1","scenario":true}`, "line 1: not a label"},
		{`rules:`, "line 1: not a label"},
	} {
		if _, err := ParseLabels(strings.NewReader(tc.in), "l.ndjson"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseLabels(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// TestScoreAlertsKey checks that an alert matches a label by its Key as
// well as by its Subject: a rule counting by related.user fires on
// whoever acted last, and its label names the person the events concern.
func TestScoreAlertsKey(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	label := Label{Kind: "k", Rules: []string{"r"}, User: "u9", Start: at(0), End: at(60)}
	for _, tc := range []struct {
		name  string
		alert Alert
		match bool
	}{
		{"by key", Alert{Rule: "r", Subject: "u5", Key: "u9", Time: at(60)}, true},
		{"by subject", Alert{Rule: "r", Subject: "u9", Key: "u9 x", Time: at(30)}, true},
		{"by both", Alert{Rule: "r", Subject: "u9", Key: "u9", Time: at(30)}, true},
		{"neither", Alert{Rule: "r", Subject: "u5", Key: "u6", Time: at(30)}, false},
		{"key within a longer key", Alert{Rule: "r", Subject: "u5", Key: "u9 x", Time: at(30)}, false},
		{"by key, another rule", Alert{Rule: "q", Subject: "u5", Key: "u9", Time: at(30)}, false},
		{"by key, too late", Alert{Rule: "r", Subject: "u5", Key: "u9", Time: at(121)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ScoreAlerts([]Alert{tc.alert}, []Label{label}, []string{"r"}, time.Hour)
			if m := got.Total.Matched == 1; m != tc.match {
				t.Errorf("ScoreAlerts(%+v) matched = %v, want %v", tc.alert, m, tc.match)
			}
			if c := got.Total.Caught == 1; c != tc.match {
				t.Errorf("ScoreAlerts(%+v) caught = %v, want %v", tc.alert, c, tc.match)
			}
			if got.Total.Matched > 1 || got.Total.Caught > 1 {
				t.Errorf("ScoreAlerts(%+v) = %+v: one alert and one label counted twice", tc.alert, got.Total)
			}
		})
	}
}
