package pages

// The request pages: the queues, the one-question-per-page journey that
// drafts a request, check your answers, the request itself with the
// actions its viewer may take, and the central record.

func (Requests) template() string        { return "requests.html" }
func (RequestQuestion) template() string { return "request-question.html" }
func (RequestCheck) template() string    { return "request-check.html" }
func (Request) template() string         { return "request.html" }
func (CentralRecord) template() string   { return "central-record.html" }

// Requests is a person's queue at /requests: the requests of the listing
// their role sees first. CanStart offers "Start a new request"
// (/requests/new) to investigators.
type Requests struct {
	Layout
	Heading string
	Intro   string
	Rows    []RequestRow
	// Empty is said instead of the table when Rows is empty.
	Empty    string
	CanStart bool
}

// RequestRow is one request of a queue. Colour is the GOV.UK tag colour
// of the state ("green", "red", "grey", …; "" for the default).
type RequestRow struct {
	Href, Reference, Operation, State, Colour string
	Level, Urgent, Updated                    string
}

// Derivation is the consent level a request's answers derive, as far as
// they go. When Known is false nothing can be derived yet; the page says
// "not enough answered yet".
type Derivation struct {
	Known    bool
	Level    string // e.g. "2"
	MinRank  string // e.g. "Superintendent"
	Advisers string // e.g. "dpo", or "None"
	Summary  string // the requirement in one sentence
	Steps    []string
}

// Field is one input of a form: Kind "textarea", "input", "checkbox" or
// "radio". ID is its id and name (for checkboxes and radios, the name and
// the first option's id). Width, for an input, is a GOV.UK width class
// such as "govuk-input--width-10"; "" is the full width.
type Field struct {
	Kind                          string
	ID, Label, Hint, Value, Error string
	Rows                          int
	Options                       []Option
	Width                         string
}

// RequestQuestion is one page of the request journey: a heading (the
// question), the fields that answer it, and the consent level derived so
// far. The form POSTs to Action; Back links to the previous page.
// ReadOnly, when not empty, is shown under ReadOnlyLabel above the fields
// (the subjects' notice record, which the requester may add to but not
// change).
type RequestQuestion struct {
	Layout
	Reference     string
	Heading       string
	Intro         []string
	ReadOnlyLabel string
	ReadOnly      string
	Action        string
	Back          string
	Fields        []Field
	Button        string
	Derivation    Derivation
}

// SummaryRow is one row of a GOV.UK summary list. ID, when set, is the
// row's id (the error summary links to it); Change, when set, is the
// link to change the answer, with ChangeLabel naming it for screen
// readers. Lines are the value, one per line.
type SummaryRow struct {
	ID, Key     string
	Lines       []string
	Change      string
	ChangeLabel string
}

// RequestCheck is "Check your answers" before a draft is submitted (POST
// Submit). Layout.Errors lists what submitting would refuse, each linked
// to its row.
type RequestCheck struct {
	Layout
	Reference  string
	Rows       []SummaryRow
	Derivation Derivation
	Submit     string // the submit form's action; "" hides it
	Back       string
}

// Request is the request page at /requests/{id}: its answers, what it
// needs and why, the advice and decisions given, its history, and a form
// for each action the viewer may take now.
type Request struct {
	Layout
	Reference   string
	State       string
	Colour      string // the state tag's colour
	Status      []SummaryRow
	Answers     []SummaryRow
	Derivation  Derivation
	Advice      []Remark
	Decisions   []Remark
	History     []HistoryRow
	Continue    string // a draft's requester: link to check answers
	Data        string // a named investigator, while it is in force: link to look at the data
	Waiting     string // why nothing can be done yet, e.g. awaiting advice
	Forms       []ActionForm
	OversightID string // the log the history's indices are in, "oversight"
}

// Remark is one adviser's view or authoriser's decision: who, when, the
// outcome (for decisions), and the text; Views are an authoriser's view
// on each criterion.
type Remark struct {
	Heading string
	By, At  string
	Text    string
	Views   []SummaryRow
	Notes   []string
}

// HistoryRow is one transition of a request, with the index of its
// oversight-log leaf.
type HistoryRow struct {
	At, Action, Actor, From, To, Reasons, Index string
}

// ActionForm is one action the viewer may take on a request: a form that
// POSTs to Action. ID is its section's id (the error summary links to it
// when the problem is not one field's). StepUp, when set, links to
// confirming a second factor first. Criteria are shown beside the
// requester's answers (a decision's views).
type ActionForm struct {
	ID       string
	Heading  string
	Intro    string
	Warning  string
	StepUp   string
	Action   string
	Criteria []CriterionView
	Fields   []Field
	Button   string
	Danger   bool // a button that ends something: warning style
}

// CriterionView is one proportionality criterion in a decision form: the
// question, the requester's answer, and the authoriser's view (a
// textarea with id ID).
type CriterionView struct {
	ID, Title, Question, Answer, View, Error string
}

// CentralRecord is the central record for oversight: every request ever
// made, with a link to the CSV.
type CentralRecord struct {
	Layout
	Rows []CentralRow
	CSV  string
}

// CentralRow is one request of the central record.
type CentralRow struct {
	Href, Reference, State, Colour, Type, Investigation, Purpose, Operation string
	Subjects, Requester, Submitted, Level, MinRank, Authoriser, Granted     string
	Expires, Ended, Outcome, KeepUntil                                      string
}
