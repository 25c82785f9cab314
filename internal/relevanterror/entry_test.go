package relevanterror

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lbm-project/lbm/internal/requests"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func raised() Entry {
	return Entry{ID: "re-1", Reference: "RE-2026-0001", Kind: OutsideAuthorisation, Description: "seen too much",
		IdentifiedAt: t0.Add(-time.Hour), RaisedBy: "ov1", RaisedAt: t0, Source: FromOversight,
		Deadline: t0.Add(14 * 24 * time.Hour), State: Open, History: []Step{{Action: ActRaise, To: Open, By: "ov1", At: t0}}}
}

var report = StepInput{Action: ActReport, By: "ov1", Text: "told them", Recipient: "IOPC"}

func TestApplyTable(t *testing.T) {
	for _, st := range States {
		for _, act := range []Action{ActRaise, ActReport, ActClose, "reopen"} {
			e := raised()
			e.State = st
			in := StepInput{Action: act, By: "ov1", Text: "t", Recipient: "r", Outcome: "o"}
			got, err := Apply(e, in, t0.Add(time.Hour))
			want := st == Open && act == ActReport || st == Reported && act == ActClose
			var te *TransitionError
			switch {
			case want && err != nil:
				t.Errorf("Apply(%s, %s) = %v, want it allowed", st, act, err)
			case !want && !errors.As(err, &te):
				t.Errorf("Apply(%s, %s) = %v, want a TransitionError", st, act, err)
			case want && got.State == st:
				t.Errorf("Apply(%s, %s) stayed %s", st, act, st)
			}
		}
	}
}

func TestApplyNeeds(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, tt := range []struct {
		name  string
		state State
		in    StepInput
		field string
	}{
		{"report without text", Open, StepInput{Action: ActReport, By: "ov1", Recipient: "IOPC"}, "text"},
		{"report of spaces", Open, StepInput{Action: ActReport, By: "ov1", Text: "  \n", Recipient: "IOPC"}, "text"},
		{"report without recipient", Open, StepInput{Action: ActReport, By: "ov1", Text: "t"}, "recipient"},
		{"report in the future", Open, StepInput{Action: ActReport, By: "ov1", Text: "t", Recipient: "r", At: now.Add(time.Minute)}, "reported_at"},
		{"report before identified", Open, StepInput{Action: ActReport, By: "ov1", Text: "t", Recipient: "r", At: t0.Add(-2 * time.Hour)}, "reported_at"},
		{"hidden characters", Open, StepInput{Action: ActReport, By: "ov1", Text: "t\u202e", Recipient: "r"}, "text"},
		{"close without outcome", Reported, StepInput{Action: ActClose, By: "ov1"}, "outcome"},
		{"oversized outcome", Reported, StepInput{Action: ActClose, By: "ov1", Outcome: string(make([]byte, MaxOutcome+1))}, "outcome"},
	} {
		e := raised()
		e.State = tt.state
		_, err := Apply(e, tt.in, now)
		var fes requests.FieldErrors
		if !errors.As(err, &fes) || fes[0].Field != tt.field {
			t.Errorf("%s: Apply = %v, want a field error on %s", tt.name, err, tt.field)
		}
	}
}

// TestApplyProperties runs random sequences of steps: no step goes back,
// Closed is never left, a reported entry has its report whole, a closed
// one its outcome, and what was raised (the deadline included) never
// changes.
func TestApplyProperties(t *testing.T) {
	rank := map[State]int{Open: 0, Reported: 1, Closed: 2}
	rapid.Check(t, func(t *rapid.T) {
		e := raised()
		orig := e
		now := t0
		n := rapid.IntRange(1, 20).Draw(t, "steps")
		for i := range n {
			now = now.Add(time.Duration(rapid.IntRange(0, 100).Draw(t, fmt.Sprint("gap", i))) * time.Hour)
			in := StepInput{
				Action:    rapid.SampledFrom([]Action{ActRaise, ActReport, ActClose, "other"}).Draw(t, fmt.Sprint("action", i)),
				By:        rapid.SampledFrom([]string{"ov1", "adm1", ""}).Draw(t, fmt.Sprint("by", i)),
				Text:      rapid.SampledFrom([]string{"", "told them", " "}).Draw(t, fmt.Sprint("text", i)),
				Recipient: rapid.SampledFrom([]string{"", "IOPC"}).Draw(t, fmt.Sprint("recipient", i)),
				Outcome:   rapid.SampledFrom([]string{"", "handled"}).Draw(t, fmt.Sprint("outcome", i)),
			}
			next, err := Apply(e, in, now)
			if err != nil {
				continue
			}
			if rank[next.State] <= rank[e.State] {
				t.Fatalf("%s went from %s to %s", in.Action, e.State, next.State)
			}
			if e.State == Closed {
				t.Fatalf("left Closed")
			}
			if next.ID != orig.ID || next.Reference != orig.Reference || next.Kind != orig.Kind || !next.Deadline.Equal(orig.Deadline) ||
				!next.IdentifiedAt.Equal(orig.IdentifiedAt) || !next.RaisedAt.Equal(orig.RaisedAt) || next.Description != orig.Description {
				t.Fatalf("what was raised changed: %+v", next)
			}
			if len(next.History) != len(e.History)+1 {
				t.Fatalf("history grew by %d", len(next.History)-len(e.History))
			}
			if next.State != Open && (next.Report == nil || next.Report.Text == "" || next.Report.Recipient == "" || next.Report.At.IsZero()) {
				t.Fatalf("%s without a whole report: %+v", next.State, next.Report)
			}
			if next.State == Closed && (next.Closure == nil || next.Closure.Outcome == "") {
				t.Fatalf("closed without an outcome")
			}
			e = next
		}
	})
}

func TestOverdue(t *testing.T) {
	e := raised()
	if e.Overdue(e.Deadline.Add(-time.Nanosecond)) || !e.Overdue(e.Deadline) {
		t.Error("Overdue is not 'open and not before the deadline'")
	}
	e.State = Reported
	if e.Overdue(e.Deadline.Add(time.Hour)) {
		t.Error("a reported entry is overdue")
	}
}
