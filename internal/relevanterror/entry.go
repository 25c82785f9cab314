package relevanterror

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/requests"
)

// Kind is what went wrong.
type Kind string

// The kinds of relevant error.
const (
	// OutsideAuthorisation: data was processed outside an authorisation
	// (accessed, kept or disclosed beyond what one allowed).
	OutsideAuthorisation Kind = "outside_authorisation"
	// DefectiveAuthorisation: an authorisation was found defective, so
	// that what was done under it was not authorised after all; an urgent
	// authorisation that lapsed unratified after data was accessed under
	// it is one.
	DefectiveAuthorisation Kind = "defective_authorisation"
)

// Kinds lists every kind.
var Kinds = []Kind{OutsideAuthorisation, DefectiveAuthorisation}

// Source is who raised an entry.
type Source string

// The sources of an entry.
const (
	FromOversight Source = "oversight"
	FromAdmin     Source = "admin"
	FromLBM       Source = "lbm" // raised automatically
)

// State is where an entry stands: open, then reported, then closed.
type State string

// The states.
const (
	Open     State = "open"     // raised, not yet reported to the oversight body
	Reported State = "reported" // reported; the report is recorded
	Closed   State = "closed"   // handled; the outcome is recorded. Terminal
)

// States lists every state in order.
var States = []State{Open, Reported, Closed}

// Action names a step.
type Action string

// The steps after raising.
const (
	ActRaise  Action = "raise"
	ActReport Action = "report"
	ActClose  Action = "close"
)

// table is the whole transition table; nothing leaves Closed, and no
// step goes back.
//
//	open      report → reported
//	reported  close  → closed
var table = map[State]map[Action]State{
	Open:     {ActReport: Reported},
	Reported: {ActClose: Closed},
}

// Allowed reports whether a step a may be taken in state st.
func Allowed(st State, a Action) bool {
	_, ok := table[st][a]
	return ok
}

// Length limits, in bytes.
const (
	MaxDescription = 8000
	MaxReport      = 8000
	MaxRecipient   = 200
	MaxOutcome     = 4000
)

// Entry is one relevant error in the register.
type Entry struct {
	ID        string `json:"id"`
	Reference string `json:"reference"` // RE-YYYY-NNNN
	Kind      Kind   `json:"kind"`
	// Request is the request the error concerns; "" when none.
	Request string `json:"request,omitempty"`
	// Description says what happened. It can name people, so it goes to
	// the oversight log only as encrypted content.
	Description  string    `json:"description"`
	IdentifiedAt time.Time `json:"identified_at"`
	RaisedBy     string    `json:"raised_by"`
	RaisedAt     time.Time `json:"raised_at"`
	Source       Source    `json:"source"`
	// Deadline is when it must have been reported by: the end of the
	// 10th working day after the day it was identified (London). It never
	// changes.
	Deadline time.Time `json:"deadline"`
	State    State     `json:"state"`
	Report   *Report   `json:"report,omitempty"`
	Closure  *Closure  `json:"closure,omitempty"`
	History  []Step    `json:"history"`
	Version  int64     `json:"version"`
}

// Report records the report to the oversight body.
type Report struct {
	Text      string    `json:"text"`      // what was reported
	Recipient string    `json:"recipient"` // to whom
	At        time.Time `json:"at"`        // when it was reported
	By        string    `json:"by"`        // who recorded it
}

// Closure records how an entry was closed.
type Closure struct {
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
}

// Step is one step of an entry's history.
type Step struct {
	Action Action    `json:"action"`
	From   State     `json:"from,omitempty"` // "" for the raise
	To     State     `json:"to"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	// OversightIndex is the step's leaf in the oversight log.
	OversightIndex uint64 `json:"oversight_index"`
}

// Overdue reports whether e is open past its deadline at now.
func (e Entry) Overdue(now time.Time) bool {
	return e.State == Open && !now.Before(e.Deadline)
}

// TransitionError is a step e's state does not allow (HTTP 409).
type TransitionError struct {
	From   State
	Action Action
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("a relevant error that is %s cannot be given %q", e.From, e.Action)
}

// StepInput is a step someone takes: report (Text, Recipient, At) or close
// (Outcome).
type StepInput struct {
	Action    Action
	By        string
	Text      string
	Recipient string
	At        time.Time // when the report was made; zero means now
	Outcome   string
}

// Apply returns e after step in, taken at now, or why it may not be
// taken: a *TransitionError for a step its state does not allow,
// requests.FieldErrors for missing or bad input. It does no I/O, never
// changes what was raised (the deadline included), and never leaves
// Closed. A report needs its text, its recipient and a time not after now
// and not before the error was identified; a closure needs an outcome.
func Apply(e Entry, in StepInput, now time.Time) (Entry, error) {
	to, ok := table[e.State][in.Action]
	if !ok {
		return Entry{}, &TransitionError{From: e.State, Action: in.Action}
	}
	if in.By == "" {
		return Entry{}, requests.FieldErrors{{Field: "by", Msg: "is required"}}
	}
	now = now.UTC()
	e.History = slices.Clone(e.History)
	switch in.Action {
	case ActReport:
		var fes requests.FieldErrors
		for _, c := range []struct {
			field, s string
			max      int
		}{{"text", in.Text, MaxReport}, {"recipient", in.Recipient, MaxRecipient}} {
			if err := requests.CheckText(c.field, c.s, c.max); err != nil {
				fes = append(fes, err.(requests.FieldErrors)...)
			}
		}
		at := in.At
		if at.IsZero() {
			at = now
		}
		if at.After(now) || at.Before(e.IdentifiedAt) {
			fes = append(fes, requests.FieldError{Field: "reported_at", Msg: "must be between when the error was identified and now"})
		}
		if len(fes) > 0 {
			return Entry{}, fes
		}
		e.Report = &Report{Text: strings.TrimSpace(in.Text), Recipient: strings.TrimSpace(in.Recipient), At: at.UTC(), By: in.By}
	case ActClose:
		if err := requests.CheckText("outcome", in.Outcome, MaxOutcome); err != nil {
			return Entry{}, err
		}
		e.Closure = &Closure{Outcome: strings.TrimSpace(in.Outcome), At: now, By: in.By}
	}
	e.History = append(e.History, Step{Action: in.Action, From: e.State, To: to, By: in.By, At: now})
	e.State = to
	return e, nil
}
