// Package trial runs a mapping over sample input without storing
// anything, for `lbm mapping test`: an administrator sees what each record
// would become, content marked, before installing the mapping.
package trial

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/mapping"
	"github.com/lbm-project/lbm/internal/capture/pipeline"
	"github.com/lbm-project/lbm/internal/event"
)

// Outcome is what one sample record would become.
type Outcome struct {
	Status string            `json:"status"` // "stored" or "unparsed"
	Why    string            `json:"why,omitempty"`
	Event  map[string]string `json:"event"` // field name -> canonical JSON value
	fields []event.Field
}

// Report is a trial's outcomes, in input order.
type Report struct {
	Records []Outcome `json:"records"`
}

// Run maps recs under m for source, resolving people through dir (nil:
// nobody resolves).
func Run(m *mapping.Mapping, source string, recs []capture.Record, dir mapping.Directory) (Report, error) {
	rep := Report{Records: []Outcome{}}
	for i, rec := range recs {
		e, why, err := pipeline.Map(m, m.Input, source, rec, dir)
		if err != nil {
			return rep, fmt.Errorf("record %d: %w", i+1, err)
		}
		o := Outcome{Status: capture.Stored.String(), Why: why, Event: map[string]string{}, fields: e.Fields}
		if why != "" {
			o.Status = capture.Kept.String()
		}
		o.Event["@timestamp"] = e.Time.UTC().Format("2006-01-02T15:04:05.000000000Z")
		for _, f := range e.Fields {
			o.Event[f.Name] = string(f.Value)
		}
		rep.Records = append(rep.Records, o)
	}
	return rep, nil
}

// WriteText prints the report for people.
func (r Report) WriteText(w io.Writer) error {
	var mapped, unparsed int
	var b strings.Builder
	for i, o := range r.Records {
		if o.Why == "" {
			mapped++
			fmt.Fprintf(&b, "record %d: stored\n", i+1)
		} else {
			unparsed++
			fmt.Fprintf(&b, "record %d: unparsed: %s\n", i+1, o.Why)
		}
		fmt.Fprintf(&b, "  @timestamp = %s\n", o.Event["@timestamp"])
		for _, f := range o.fields {
			mark := ""
			if f.IsContent() {
				mark = "  (content)"
			}
			fmt.Fprintf(&b, "  %s = %s%s\n", f.Name, f.Value, mark)
		}
	}
	fmt.Fprintf(&b, "%d records: %d mapped, %d unparsed\n", len(r.Records), mapped, unparsed)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
