package simulate

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
)

// scenarioCfg has scenarios often enough that every kind occurs.
var scenarioCfg = Config{People: 300, Days: 10, Seed: 5, Misconduct: 2, NearMisses: 2}

func TestLabels(t *testing.T) {
	labels, err := Labels(scenarioCfg)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Labels(scenarioCfg)
	if !slices.EqualFunc(labels, again, func(a, b Label) bool { return a.Kind == b.Kind && a.User == b.User && a.Start.Equal(b.Start) }) {
		t.Errorf("Labels(%+v) twice gave different labels", scenarioCfg)
	}
	kinds := map[string]int{}
	users := map[string]bool{}
	for _, l := range labels {
		kinds[l.Kind]++
		if users[l.User] {
			t.Errorf("%s is in two scenarios", l.User)
		}
		users[l.User] = true
		if len(l.Rules) == 0 || l.End.Before(l.Start) {
			t.Errorf("label %+v: want rules and start <= end", l)
		}
	}
	for _, m := range misconduct {
		if kinds[m.kind] == 0 {
			t.Errorf("no %s scenario in %d labels", m.kind, len(labels))
		}
	}

	lines, err := Events(scenarioCfg)
	if err != nil {
		t.Fatal(err)
	}
	// Each label spans events of its user, and the events are ordinary:
	// every line is one lbm accepts, and nothing in it is about labels.
	inSpan := map[int]int{}
	for n, line := range lines {
		ev, err := event.Parse(line, "sim")
		if err != nil {
			t.Fatalf("line %d: %v\n%s", n+1, err, line)
		}
		if n > 0 {
			prev, _ := event.Parse(lines[n-1], "sim")
			if ev.Time.Before(prev.Time) {
				t.Fatalf("line %d: out of order", n+1)
			}
		}
		for _, word := range []string{"scenario", "label", "misconduct", "near_miss", "near-miss"} {
			if bytes.Contains(bytes.ToLower(line), []byte(word)) {
				t.Errorf("line %d mentions %q: %s", n+1, word, line)
			}
		}
		for i, l := range labels {
			if ev.Subject() == l.User && !ev.Time.Before(l.Start) && !ev.Time.After(l.End) {
				inSpan[i]++
			}
		}
	}
	for i, l := range labels {
		if inSpan[i] == 0 {
			t.Errorf("label %+v: no events of its user in its span", l)
		}
	}
}

func TestWindowStillIndependentOfScenarios(t *testing.T) {
	// The default rates give the small default force no scenario, so the
	// output of Config{} is a pure function of the rota.
	cfg, _ := Config{}.withDefaults()
	if p := planScenarios(cfg, makePeople(cfg)); len(p.injections) != 0 {
		t.Errorf("Config{} has %d scenario events, want none", len(p.injections))
	}
}

func TestLists(t *testing.T) {
	lists, err := Lists(scenarioCfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"RESTRICTED_RECORDS", "OWN_SURNAME_ADDRESS", "VETTED_FAMILY", "STAFF_RECORDS", "WEBMAIL_DOMAINS", "LEAVE_ABSENCE"} {
		l, ok := lists[id]
		if !ok || len(l.Rows) == 0 {
			t.Errorf("Lists has no %s", id)
			continue
		}
		for _, row := range l.Rows {
			if row[0] == "" || l.Keyed != (row[1] != "") {
				t.Errorf("%s row %q: want a value (and a key if keyed)", id, row)
				break
			}
		}
	}
	for _, row := range lists["LEAVE_ABSENCE"].Rows {
		from, to, ok := strings.Cut(row[1], "/")
		f, err1 := time.Parse(time.DateOnly, from)
		tt, err2 := time.Parse(time.DateOnly, to)
		if !ok || err1 != nil || err2 != nil || tt.Before(f) {
			t.Errorf("LEAVE_ABSENCE %q: want a range of dates", row)
		}
	}
	// Nobody works on leave or after leaving unless a scenario says so.
	people := People(scenarioCfg)
	left := map[string]time.Time{}
	for _, p := range people {
		if !p.LeftAt.IsZero() {
			left[p.ID] = p.LeftAt
		}
	}
	if len(left) == 0 {
		t.Fatal("no leavers")
	}
	labels, _ := Labels(scenarioCfg)
	labelled := map[string]bool{}
	for _, l := range labels {
		labelled[l.User] = true
	}
	lines, _ := Events(scenarioCfg)
	for _, line := range lines {
		var e wireEvent
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		ts, _ := time.Parse(time.RFC3339Nano, e.Timestamp)
		if at, ok := left[e.User.ID]; ok && !labelled[e.User.ID] && ts.Format(time.DateOnly) > at.Format(time.DateOnly) {
			t.Errorf("%s active at %s after leaving on %s", e.User.ID, ts, at)
		}
	}
}
