package detect

import (
	"bytes"
	"os"
	"testing"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/simulate"
)

// BenchmarkObserve runs the example rules over a simulated day of 100
// people and reports the cost per event: the number to weigh against the
// ingest benchmark when rules run on ingest.
func BenchmarkObserve(b *testing.B) {
	var buf bytes.Buffer
	if _, err := simulate.Generate(&buf, simulate.Config{People: 100, Days: 1}); err != nil {
		b.Fatal(err)
	}
	var events []*event.Event
	for line := range bytes.Lines(buf.Bytes()) {
		ev, err := event.Parse(bytes.TrimSpace(line), "sim")
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, ev)
	}
	data, err := os.ReadFile("testdata/rules/examples.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rules, err := Parse("examples.yaml", data, policy.DefaultDetection())
	if err != nil {
		b.Fatal(err)
	}
	lists := Lists{"RESTRICTED_RECORDS": NewList("R1"), "VETTED_FAMILY": NewKeyedList(map[string][]string{"u00001": {"u00002"}})}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		e, err := Compile(rules, lists, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range events {
			if _, err := e.Observe(ev); err != nil {
				b.Fatal(err)
			}
		}
		n += len(events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkPack runs the built-in pack, with the reference lists of the
// simulated force, over a simulated day of 300 people: the cost per event
// of detection on ingest, which must keep well ahead of ingest itself.
func BenchmarkPack(b *testing.B) {
	cfg := simulate.Config{People: 300, Days: 2, Seed: 11}
	lines, err := simulate.Events(cfg)
	if err != nil {
		b.Fatal(err)
	}
	events := make([]*event.Event, len(lines))
	for i, line := range lines {
		if events[i], err = event.Parse(line, "sim"); err != nil {
			b.Fatal(err)
		}
	}
	data, err := os.ReadFile("pack/builtin.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rules, err := Parse("builtin.yaml", data, policy.DefaultDetection())
	if err != nil {
		b.Fatal(err)
	}
	lists := simulatedLists(b, cfg)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		e, err := Compile(rules, lists, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range events {
			if _, err := e.Observe(ev); err != nil {
				b.Fatal(err)
			}
		}
		n += len(events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// simulatedLists returns the lists the simulator writes for cfg, as lbm
// simulate --lists does.
func simulatedLists(b *testing.B, cfg simulate.Config) Lists {
	given, err := simulate.Lists(cfg)
	if err != nil {
		b.Fatal(err)
	}
	lists := Lists{}
	for id, l := range given {
		if l.Keyed {
			m := map[string][]string{}
			for _, row := range l.Rows {
				m[row[0]] = append(m[row[0]], row[1])
			}
			lists[id] = NewKeyedList(m)
			continue
		}
		var vs []string
		for _, row := range l.Rows {
			vs = append(vs, row[0])
		}
		lists[id] = NewList(vs...)
	}
	var staff []Staff
	for _, p := range simulate.People(cfg) {
		staff = append(staff, Staff{ID: p.ID, Unit: p.Unit, Pattern: p.Pattern, LeftAt: p.LeftAt})
	}
	for id, l := range DirectoryLists(staff) {
		lists[id] = l
	}
	return lists
}
