package subjectaccess

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/requests"
)

// State is where a request stands.
type State string

// The states. Answered and Closed are terminal.
const (
	Received  State = "received"  // made; nobody has opened it
	Preparing State = "preparing" // a DPO opened it: the authorisation to look
	Answered  State = "answered"  // the export is released to the person
	Closed    State = "closed"    // closed unanswered, with a recorded reason
)

// States lists every state in order.
var States = []State{Received, Preparing, Answered, Closed}

// Action names a step.
type Action string

// The steps.
const (
	ActOpen     Action = "open"     // the DPO opens the request: the authorisation
	ActExempt   Action = "exempt"   // record an exemption
	ActUnexempt Action = "unexempt" // remove one
	ActExtend   Action = "extend"   // extend the deadline, once
	ActAnswer   Action = "answer"   // release the export
	ActClose    Action = "close"    // close unanswered
)

// table is the whole transition table; nothing leaves Answered or
// Closed. Exemptions are recorded only on an opened request, because
// deciding one needs the look that opening authorises.
//
//	received   open → preparing, extend → received, close → closed
//	preparing  exempt, unexempt, extend → preparing,
//	           answer → answered, close → closed
var table = map[State]map[Action]State{
	Received:  {ActOpen: Preparing, ActExtend: Received, ActClose: Closed},
	Preparing: {ActExempt: Preparing, ActUnexempt: Preparing, ActExtend: Preparing, ActAnswer: Answered, ActClose: Closed},
}

// Allowed reports whether a may be taken in state st.
func Allowed(st State, a Action) bool {
	_, ok := table[st][a]
	return ok
}

// Ground is the exemption a withholding relies on. The list is kept
// short on purpose: these are the grounds an anti-corruption command's
// DPO meets, each cited so that the decision can be checked.
type Ground string

// The grounds.
const (
	// Crime: disclosure would be likely to prejudice the prevention or
	// detection of crime or the apprehension or prosecution of
	// offenders (DPA 2018 Sch 2 Pt 1 para 2).
	Crime Ground = "crime"
	// LegalProceedings: disclosure is needed for, or in connection
	// with, legal proceedings (DPA 2018 Sch 2 Pt 1 para 5).
	LegalProceedings Ground = "legal_proceedings"
	// ThirdParty: complying would disclose information about another
	// identifiable person who has not consented (DPA 2018 Sch 2 Pt 3
	// paras 16–17).
	ThirdParty Ground = "third_party"
)

// Grounds lists every ground, with the provision each cites.
var Grounds = []struct {
	Ground   Ground
	Citation string
}{
	{Crime, "DPA 2018 Sch 2 Pt 1 para 2 (crime and taxation)"},
	{LegalProceedings, "DPA 2018 Sch 2 Pt 1 para 5 (legal proceedings)"},
	{ThirdParty, "DPA 2018 Sch 2 Pt 3 paras 16–17 (other people's data)"},
}

// Citation returns g's provision; "" for an unknown ground.
func (g Ground) Citation() string {
	for _, c := range Grounds {
		if c.Ground == g {
			return c.Citation
		}
	}
	return ""
}

// CloseReason is why a request was closed unanswered.
type CloseReason string

// The reasons (UK GDPR Art 12(5) for the manifestly unfounded or
// excessive).
const (
	Withdrawn           CloseReason = "withdrawn"
	ManifestlyUnfounded CloseReason = "manifestly_unfounded"
	ManifestlyExcessive CloseReason = "manifestly_excessive"
)

// CloseReasons lists every reason.
var CloseReasons = []CloseReason{Withdrawn, ManifestlyUnfounded, ManifestlyExcessive}

// Length limits, in bytes.
const (
	MaxNote       = 4000
	MaxCategories = 50
)

// Request is a subject access request and its handling.
type Request struct {
	ID      string    `json:"id"`
	Person  string    `json:"person"`
	Made    time.Time `json:"made"`
	Details string    `json:"details"`
	State   State     `json:"state"`
	// Due is the calendar date (midnight UTC) the answer is due by:
	// [DueDate] of Made, or after an extension that date moved on.
	Due       time.Time  `json:"due"`
	Extension *Extension `json:"extension,omitempty"`
	// OpenedBy is the DPO whose opening authorised the look at the
	// person's data; "" while received.
	OpenedBy   string      `json:"opened_by,omitempty"`
	OpenedAt   time.Time   `json:"opened_at,omitzero"`
	Exemptions []Exemption `json:"exemptions,omitempty"`
	Answer     *Answer     `json:"answer,omitempty"`
	Closure    *Closure    `json:"closure,omitempty"`
	History    []Step      `json:"history,omitempty"`
	Version    int64       `json:"-"`
}

// Extension records the one extension of the deadline (UK GDPR Art
// 12(3)).
type Extension struct {
	Months int       `json:"months"` // 1 or 2
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Exemption withholds part of the answer: whole categories, or a
// stretch of time, or both (then only those categories in that stretch).
type Exemption struct {
	ID         string   `json:"id"`
	Categories []string `json:"categories,omitempty"` // empty: every category
	// From and To bound the withheld events' times, From inclusive, To
	// exclusive; zero means unbounded on that side.
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
	Ground Ground    `json:"ground"`
	Note   string    `json:"note"` // why; never shown to the person
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Withholds reports whether e withholds an event of category at t.
func (e Exemption) Withholds(category string, t time.Time) bool {
	if len(e.Categories) > 0 && !slices.Contains(e.Categories, category) {
		return false
	}
	return (e.From.IsZero() || !t.Before(e.From)) && (e.To.IsZero() || t.Before(e.To))
}

// Withheld reports whether any of es withholds an event of category at t.
func Withheld(es []Exemption, category string, t time.Time) bool {
	for _, e := range es {
		if e.Withholds(category, t) {
			return true
		}
	}
	return false
}

// Answer records the release of the export.
type Answer struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Events int       `json:"events"`
	SHA256 string    `json:"sha256"` // of the zip
	// AccessRecord is the export's disclosure record in the oversight log.
	AccessRecord uint64 `json:"access_record"`
}

// Closure records how a request was closed unanswered.
type Closure struct {
	Reason CloseReason `json:"reason"`
	Note   string      `json:"note,omitempty"`
	By     string      `json:"by"`
	At     time.Time   `json:"at"`
}

// Step is one step of the history.
type Step struct {
	Action Action    `json:"action"`
	From   State     `json:"from"`
	To     State     `json:"to"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	// OversightIndex is the step's leaf in the oversight log.
	OversightIndex uint64 `json:"oversight_index"`
}

// Overdue reports whether r is unanswered past its due date at now: the
// due date has ended in London.
func (r Request) Overdue(now time.Time) bool {
	return (r.State == Received || r.State == Preparing) && !r.Due.IsZero() && Date(now).After(r.Due)
}

// TransitionError is a step r's state does not allow (HTTP 409).
type TransitionError struct {
	From   State
	Action Action
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("a subject access request that is %s cannot be given %q", e.From, e.Action)
}

// OwnRequestError refuses a DPO acting on their own request: another DPO
// must.
type OwnRequestError struct{}

func (*OwnRequestError) Error() string {
	return "a DPO may not handle their own subject access request: another DPO must"
}

// Input is a step someone takes.
type Input struct {
	Action Action
	By     string
	// Exempt: the exemption (ID, By and At are set by Apply from the
	// input's ExemptionID, By and now).
	Exemption   Exemption
	ExemptionID string // exempt: the new one's id; unexempt: the one to remove
	// Extend: Months (1 or 2) and Reason. Close: Reason as Close and Note.
	Months int
	Reason string
	Close  CloseReason
	Note   string
	// Answer: what was released.
	Answer Answer
}

// Apply returns r after in, taken at now, or why it may not be taken: a
// *TransitionError for a step r's state does not allow, an
// *OwnRequestError for the person acting on their own request,
// requests.FieldErrors for missing or bad input. It does no I/O and never
// leaves Answered or Closed. Only the DPO acts; the caller checks the role.
func Apply(r Request, in Input, now time.Time) (Request, error) {
	to, ok := table[r.State][in.Action]
	if !ok {
		return Request{}, &TransitionError{From: r.State, Action: in.Action}
	}
	if in.By == "" {
		return Request{}, requests.FieldErrors{{Field: "by", Msg: "is required"}}
	}
	if in.By == r.Person {
		return Request{}, &OwnRequestError{}
	}
	now = now.UTC()
	r.History = slices.Clone(r.History)
	r.Exemptions = slices.Clone(r.Exemptions)
	switch in.Action {
	case ActOpen:
		r.OpenedBy, r.OpenedAt = in.By, now
	case ActExempt:
		e, err := checkExemption(in.Exemption)
		if err != nil {
			return Request{}, err
		}
		if in.ExemptionID == "" || slices.ContainsFunc(r.Exemptions, func(x Exemption) bool { return x.ID == in.ExemptionID }) {
			return Request{}, requests.FieldErrors{{Field: "id", Msg: "must be a new exemption id"}}
		}
		e.ID, e.By, e.At = in.ExemptionID, in.By, now
		r.Exemptions = append(r.Exemptions, e)
	case ActUnexempt:
		i := slices.IndexFunc(r.Exemptions, func(x Exemption) bool { return x.ID == in.ExemptionID })
		if i < 0 {
			return Request{}, requests.FieldErrors{{Field: "exemption", Msg: "no such exemption"}}
		}
		r.Exemptions = slices.Delete(r.Exemptions, i, i+1)
	case ActExtend:
		var fes requests.FieldErrors
		if r.Extension != nil {
			fes = append(fes, requests.FieldError{Field: "months", Msg: "the deadline has been extended once already"})
		}
		if in.Months < 1 || in.Months > 2 {
			fes = append(fes, requests.FieldError{Field: "months", Msg: "must be 1 or 2"})
		}
		if err := requests.CheckText("reason", in.Reason, MaxNote); err != nil {
			fes = append(fes, err.(requests.FieldErrors)...)
		}
		if len(fes) > 0 {
			return Request{}, fes
		}
		r.Extension = &Extension{Months: in.Months, Reason: strings.TrimSpace(in.Reason), By: in.By, At: now}
		r.Due = AddMonths(Date(r.Made), 1+in.Months)
	case ActAnswer:
		a := in.Answer
		a.By, a.At = in.By, now
		r.Answer = &a
	case ActClose:
		if !slices.Contains(CloseReasons, in.Close) {
			return Request{}, requests.FieldErrors{{Field: "reason", Msg: "must be withdrawn, manifestly_unfounded or manifestly_excessive"}}
		}
		note := strings.TrimSpace(in.Note)
		if note != "" {
			if err := requests.CheckText("note", note, MaxNote); err != nil {
				return Request{}, err
			}
		}
		r.Closure = &Closure{Reason: in.Close, Note: note, By: in.By, At: now}
	}
	r.History = append(r.History, Step{Action: in.Action, From: r.State, To: to, By: in.By, At: now})
	r.State = to
	return r, nil
}

// checkExemption refuses an exemption without a ground or a note, with a
// malformed category, or with an empty or inverted time range.
func checkExemption(e Exemption) (Exemption, error) {
	var fes requests.FieldErrors
	if e.Ground.Citation() == "" {
		fes = append(fes, requests.FieldError{Field: "ground", Msg: "must be crime, legal_proceedings or third_party"})
	}
	if err := requests.CheckText("note", e.Note, MaxNote); err != nil {
		fes = append(fes, err.(requests.FieldErrors)...)
	}
	if len(e.Categories) > MaxCategories {
		fes = append(fes, requests.FieldError{Field: "categories", Msg: fmt.Sprintf("at most %d", MaxCategories)})
	}
	for _, c := range e.Categories {
		if !validCategory(c) {
			fes = append(fes, requests.FieldError{Field: "categories", Msg: "each must be a category name"})
			break
		}
	}
	if !e.From.IsZero() && !e.To.IsZero() && !e.From.Before(e.To) {
		fes = append(fes, requests.FieldError{Field: "to", Msg: "must be after from"})
	}
	if len(e.Categories) == 0 && e.From.IsZero() && e.To.IsZero() {
		fes = append(fes, requests.FieldError{Field: "categories", Msg: "name categories or a time range to withhold"})
	}
	if len(fes) > 0 {
		return Exemption{}, fes
	}
	e.Categories = slices.Clone(e.Categories)
	slices.Sort(e.Categories)
	e.Categories = slices.Compact(e.Categories)
	e.Note = strings.TrimSpace(e.Note)
	if !e.From.IsZero() {
		e.From = e.From.UTC()
	}
	if !e.To.IsZero() {
		e.To = e.To.UTC()
	}
	return e, nil
}

// validCategory accepts what an event.category may be: lower-case ASCII
// letters, digits, '_', '-' and '.', 1 to 64 bytes.
func validCategory(c string) bool {
	if c == "" || len(c) > 64 {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
