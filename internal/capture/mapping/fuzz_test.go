package mapping

import (
	"testing"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/event"
)

// FuzzParse: any file is refused or gives a mapping whose every output,
// mapped or unparsed, is an event the model takes.
func FuzzParse(f *testing.F) {
	for _, in := range capture.Inputs {
		f.Add(BuiltinYAML(in), "message", "Accepted password for jsmith from 10.0.0.1")
	}
	f.Add([]byte("input: ecs\nsubject: {from: [a]}\nfields:\n  event.category: {from: [c], map: {x: web}}\n  event.action: {value: a}\nmetadata: mapped\n"), "a", "x")
	f.Add([]byte("input: syslog\nextract: [{field: m, pattern: '(?P<a>.*)'}]\nsubject: {from: [extract.a]}\nfields: {event.category: {value: host}, event.action: {from: [extract.a]}}\n"), "m", "\xff\x00bob")
	f.Fuzz(func(t *testing.T, data []byte, name, value string) {
		m, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		rec := capture.Record{Received: received, Fields: map[string]any{name: value, "message": value, "user.name": value}, Raw: []byte(value), ID: value}
		if ev, err := m.Apply(rec, people); err == nil {
			if _, err := event.Parse(ev.Line, "src"); err != nil {
				// Refused by the model: the pipeline keeps it unparsed.
				rec.Unparsed = err.Error()
			}
		}
		un := m.Unparsed(m.Input, rec, "fuzz", people)
		if _, err := event.Parse(un.Line, "src"); err != nil {
			t.Fatalf("the unparsed event does not parse: %v\n%s", err, un.Line)
		}
	})
}
