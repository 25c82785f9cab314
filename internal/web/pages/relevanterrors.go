package pages

func (RelevantErrors) template() string { return "relevant-errors.html" }

// RelevantErrors is the register of relevant errors (/relevant-errors),
// newest first: each entry's reference, kind, state and deadline, an
// overdue one (open past its deadline) tagged red. Overdue counts those,
// shown above the table. States are the filter's choices (GET ?state=,
// or ?overdue=1 for the overdue alone).
type RelevantErrors struct {
	Layout
	Overdue     int
	OverdueOnly bool
	States      []Option
	Rows        []RelevantErrorRow
}

// RelevantErrorRow is one entry of the register. Href is
// /relevant-errors/{id}; Deadline is the last day, a date.
type RelevantErrorRow struct {
	Href, Reference, Kind, Request, State, StateColour, Identified, Deadline string
	Overdue                                                                  bool
}

func (RelevantErrorForm) template() string { return "relevant-error-new.html" }

// RelevantErrorForm raises an entry (POST /relevant-errors/new with
// "kind", "request", "identified_at" (YYYY-MM-DD or an RFC 3339 time) and
// "description").
type RelevantErrorForm struct {
	Layout
	Kinds  []Option
	Fields []Field // identified_at, request, description
}

func (RelevantErrorDetail) template() string { return "relevant-error.html" }

// RelevantErrorDetail is one entry (/relevant-errors/{id}): what was
// raised, its report and closure, its history, and the form its state
// allows: Report (POST Action+"/report" with "text", "recipient" and
// "reported_at") or Close (POST Action+"/close" with "outcome").
type RelevantErrorDetail struct {
	Layout
	Action      string // /relevant-errors/{id}
	Reference   string
	State       string
	StateColour string
	Overdue     bool
	Deadline    string
	Summary     []SummaryRow
	History     []AlertNote
	// Report holds the report form's fields (recipient, reported_at,
	// text) when the state allows a report; Close the close form's
	// (outcome) when it allows closing.
	Report []Field
	Close  []Field
}
