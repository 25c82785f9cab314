package subjectaccess

import (
	"errors"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lbm-project/lbm/internal/requests"
)

var t0 = time.Date(2027, 1, 31, 14, 0, 0, 0, time.UTC)

func received() Request {
	return Request{ID: "sar-1", Person: "pat", Made: t0, State: Received, Due: DueDate(t0), Version: 1}
}

var exemption = Exemption{Categories: []string{"email"}, Ground: Crime, Note: "an investigation is under way"}

// inputs are valid inputs of every action.
func inputs() map[Action]Input {
	return map[Action]Input{
		ActOpen:     {Action: ActOpen, By: "dpo"},
		ActExempt:   {Action: ActExempt, By: "dpo", Exemption: exemption, ExemptionID: "ex-new"},
		ActUnexempt: {Action: ActUnexempt, By: "dpo", ExemptionID: "ex-1"},
		ActExtend:   {Action: ActExtend, By: "dpo", Months: 2, Reason: "many requests at once"},
		ActAnswer:   {Action: ActAnswer, By: "dpo"},
		ActClose:    {Action: ActClose, By: "dpo", Close: Withdrawn},
	}
}

func TestApplyTable(t *testing.T) {
	want := map[State][]Action{
		Received:  {ActOpen, ActExtend, ActClose},
		Preparing: {ActExempt, ActUnexempt, ActExtend, ActAnswer, ActClose},
	}
	for _, st := range States {
		for act, in := range inputs() {
			r := received()
			r.State = st
			r.Exemptions = []Exemption{{ID: "ex-1", Categories: []string{"web"}, Ground: Crime, Note: "n"}}
			got, err := Apply(r, in, t0.Add(time.Hour))
			allowed := slices.Contains(want[st], act)
			var te *TransitionError
			switch {
			case allowed && err != nil:
				t.Errorf("Apply(%s, %s) = %v, want it allowed", st, act, err)
			case !allowed && !errors.As(err, &te):
				t.Errorf("Apply(%s, %s) = %v, want a TransitionError", st, act, err)
			case allowed && len(got.History) != 1:
				t.Errorf("Apply(%s, %s) recorded %d steps, want 1", st, act, len(got.History))
			}
		}
	}
}

func TestApplyRefuses(t *testing.T) {
	open := received()
	open.State, open.OpenedBy = Preparing, "dpo"
	extended, _ := Apply(open, inputs()[ActExtend], t0)
	for _, tt := range []struct {
		name string
		r    Request
		in   Input
	}{
		{"no actor", received(), Input{Action: ActOpen}},
		{"exempt without a note", open, Input{Action: ActExempt, By: "dpo", ExemptionID: "x", Exemption: Exemption{Categories: []string{"email"}, Ground: Crime}}},
		{"exempt without a ground", open, Input{Action: ActExempt, By: "dpo", ExemptionID: "x", Exemption: Exemption{Categories: []string{"email"}, Note: "n"}}},
		{"exempt, unknown ground", open, Input{Action: ActExempt, By: "dpo", ExemptionID: "x", Exemption: Exemption{Categories: []string{"email"}, Ground: "national_security", Note: "n"}}},
		{"exempt nothing", open, Input{Action: ActExempt, By: "dpo", ExemptionID: "x", Exemption: Exemption{Ground: Crime, Note: "n"}}},
		{"exempt, bad category", open, Input{Action: ActExempt, By: "dpo", ExemptionID: "x", Exemption: Exemption{Categories: []string{"E Mail"}, Ground: Crime, Note: "n"}}},
		{"exempt, inverted range", open, Input{Action: ActExempt, By: "dpo", ExemptionID: "x", Exemption: Exemption{From: t0, To: t0, Ground: Crime, Note: "n"}}},
		{"exempt, hidden characters", open, Input{Action: ActExempt, By: "dpo", ExemptionID: "x", Exemption: Exemption{Categories: []string{"email"}, Ground: Crime, Note: "a\u202eb"}}},
		{"exempt, no id", open, Input{Action: ActExempt, By: "dpo", Exemption: exemption}},
		{"unexempt an unknown one", open, Input{Action: ActUnexempt, By: "dpo", ExemptionID: "ex-9"}},
		{"extend by three months", open, Input{Action: ActExtend, By: "dpo", Months: 3, Reason: "r"}},
		{"extend by none", open, Input{Action: ActExtend, By: "dpo", Reason: "r"}},
		{"extend without a reason", open, Input{Action: ActExtend, By: "dpo", Months: 1}},
		{"extend twice", extended, Input{Action: ActExtend, By: "dpo", Months: 1, Reason: "again"}},
		{"close without a reason", open, Input{Action: ActClose, By: "dpo"}},
		{"close, unknown reason", open, Input{Action: ActClose, By: "dpo", Close: "bored"}},
	} {
		if _, err := Apply(tt.r, tt.in, t0); !errors.As(err, new(requests.FieldErrors)) {
			t.Errorf("%s: Apply = %v, want FieldErrors", tt.name, err)
		}
	}
	// The DPO's own request: another DPO must handle it, at every step.
	for act, in := range inputs() {
		in.By = "pat"
		r := received()
		if act != ActOpen && act != ActExtend && act != ActClose {
			r.State = Preparing
		}
		if _, err := Apply(r, in, t0); !errors.As(err, new(*OwnRequestError)) {
			t.Errorf("Apply(own request, %s) = %v, want OwnRequestError", act, err)
		}
	}
}

func TestDueDate(t *testing.T) {
	london := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, London) }
	for _, tt := range []struct {
		made time.Time
		want string
	}{
		{london(2027, 1, 31, 10), "2027-02-28"},
		{london(2028, 1, 31, 10), "2028-02-29"}, // leap year
		{london(2027, 1, 30, 10), "2027-02-28"},
		{london(2027, 3, 31, 10), "2027-04-30"},
		{london(2027, 1, 15, 10), "2027-02-15"},
		{london(2027, 12, 31, 10), "2028-01-31"},
		{london(2027, 8, 31, 23), "2027-09-30"},                        // 23:00 BST is 22:00 UTC: still the 31st in London
		{time.Date(2027, 3, 31, 23, 30, 0, 0, time.UTC), "2027-05-01"}, // 00:30 BST on 1 April
	} {
		if got := DueDate(tt.made).Format(time.DateOnly); got != tt.want {
			t.Errorf("DueDate(%s) = %s, want %s", tt.made, got, tt.want)
		}
	}
	// An extension counts from receipt, not from the first due date.
	r := received()
	r.State = Preparing
	got, err := Apply(r, Input{Action: ActExtend, By: "dpo", Months: 2, Reason: "complex"}, t0)
	if err != nil || got.Due.Format(time.DateOnly) != "2027-04-30" {
		t.Errorf("extended by 2 months from 31 January: due %s, %v; want 2027-04-30", got.Due.Format(time.DateOnly), err)
	}
}

func TestOverdue(t *testing.T) {
	r := received() // due 28 February 2027
	for _, tt := range []struct {
		now   time.Time
		state State
		want  bool
	}{
		{time.Date(2027, 2, 28, 23, 59, 0, 0, time.UTC), Received, false},
		{time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), Received, true},
		{time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), Preparing, true},
		{time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), Answered, false},
		{time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), Closed, false},
	} {
		r.State = tt.state
		if got := r.Overdue(tt.now); got != tt.want {
			t.Errorf("Overdue(%s, %s) = %v, want %v", tt.state, tt.now, got, tt.want)
		}
	}
}

func TestWithheld(t *testing.T) {
	jan := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	es := []Exemption{
		{Categories: []string{"email"}},
		{Categories: []string{"web"}, From: jan, To: feb},
		{From: feb.AddDate(0, 1, 0)}, // everything from March
	}
	for _, tt := range []struct {
		category string
		at       time.Time
		want     bool
	}{
		{"email", jan.AddDate(-1, 0, 0), true},
		{"web", jan, true},
		{"web", feb.Add(-time.Nanosecond), true},
		{"web", feb, false},
		{"web", jan.Add(-time.Nanosecond), false},
		{"record_query", feb, false},
		{"record_query", feb.AddDate(0, 1, 0), true},
	} {
		if got := Withheld(es, tt.category, tt.at); got != tt.want {
			t.Errorf("Withheld(%s, %s) = %v, want %v", tt.category, tt.at, got, tt.want)
		}
	}
	if Withheld(nil, "email", jan) {
		t.Error("Withheld with no exemptions withholds")
	}
}

// TestApplyProperties: any sequence of steps never leaves a terminal
// state, keeps one history step per accepted step, extends at most once,
// never moves the due date before one month from receipt, and never lets
// the person act.
func TestApplyProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := received()
		steps := len(r.History)
		now := t0
		acts := []Action{ActOpen, ActExempt, ActUnexempt, ActExtend, ActAnswer, ActClose}
		for range rapid.IntRange(1, 20).Draw(t, "n") {
			in := inputs()[rapid.SampledFrom(acts).Draw(t, "action")]
			in.By = rapid.SampledFrom([]string{"dpo", "dpo2", "pat"}).Draw(t, "by")
			in.ExemptionID = rapid.SampledFrom([]string{"ex-1", "ex-2", "ex-new"}).Draw(t, "exemption")
			in.Months = rapid.IntRange(0, 3).Draw(t, "months")
			now = now.Add(time.Duration(rapid.IntRange(0, 48).Draw(t, "hours")) * time.Hour)
			before := r
			got, err := Apply(r, in, now)
			if err != nil {
				continue
			}
			switch {
			case before.State == Answered || before.State == Closed:
				t.Fatalf("left terminal %s by %s", before.State, in.Action)
			case in.By == r.Person:
				t.Fatalf("the person took %s on their own request", in.Action)
			case got.Due.Before(DueDate(got.Made)):
				t.Fatalf("due %s before one month from receipt", got.Due)
			case before.Extension != nil && got.Due != before.Due:
				t.Fatalf("extended twice")
			case got.State == Answered && before.State != Preparing:
				t.Fatalf("answered from %s", before.State)
			}
			steps++
			if len(got.History) != steps {
				t.Fatalf("history has %d steps, want %d", len(got.History), steps)
			}
			r = got
		}
	})
}
