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
