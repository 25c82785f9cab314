package pages

func (Alerts) template() string { return "alerts.html" }

// Alerts is the alert queue (/alerts): the alerts the viewer may see,
// newest first, each naming a pseudonym, never a person. States are the
// filter's choices (GET ?state=); Next, when set, is the next page's
// link.
type Alerts struct {
	Layout
	States []Option
	Rows   []AlertRow
	Next   string
}

// AlertRow is one alert of the queue. Href is /alerts/{id}.
type AlertRow struct {
	ID, Href, Title, Severity, SeverityColour, Pseudonym, Time, State, StateColour, Assignee string
	SpecialCategory                                                                          bool
}

func (AlertDetail) template() string { return "alert.html" }

// AlertDetail is one alert (/alerts/{id}): what fired and its evidence,
// its notes and history, and, for an investigator, the triage forms
// (POST Action+"/triage" with "action", "assignee" and "note"; POST
// Action+"/notes" with "text"), "Request authorisation" (POST
// Action+"/request") and the reveal form (POST Action+"/reveal" with
// "justification"). Identity is set only on the answer to a reveal.
type AlertDetail struct {
	Layout
	Action   string // /alerts/{id}
	ID       string
	Title    string
	Severity string
	// SeverityColour and StateColour are GOV.UK tag colours.
	SeverityColour, State, StateColour string
	Pseudonym                          string
	Summary                            []SummaryRow
	Events                             []AlertEvent
	MoreEvents                         int
	Notes                              []AlertNote
	History                            []AlertNote
	// Investigator shows the forms; Triage lists the actions the state
	// allows (as radios); Refer offers "Request authorisation"; Request
	// links the request drafted from it.
	Investigator bool
	Triage       []Option
	Refer        bool
	Request      string
	RequestRef   string
	// Reveal offers the reveal form: a request was drafted from it.
	Reveal        bool
	Justification string
	Note          string
	Identity      *AlertIdentity
}

// AlertEvent is one event behind an alert.
type AlertEvent struct {
	Time, Source, Category, Action, Outcome, Index string
}

// AlertNote is a note or a history line.
type AlertNote struct{ By, At, Text string }

// AlertIdentity is who an alert is about, shown after a recorded reveal.
type AlertIdentity struct {
	Name, Person, Number, Unit, AccessRecord string
}
