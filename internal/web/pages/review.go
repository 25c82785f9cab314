package pages

// The review pages: an investigator looking at monitored data under an
// authorisation in force, their receipts, and oversight's access log.
// Every look is recorded before it is shown, so the pages never look on a
// GET: a search, its next page and an export are POSTs carrying the
// justification, which must never sit in a URL or a server's access log.

func (ReviewData) template() string { return "review-data.html" }
func (Receipts) template() string   { return "receipts.html" }
func (AccessLog) template() string  { return "access-log.html" }

// ReviewData is the review page at /requests/{id}/data: a banner with the
// scope of the authorisation, the search form (POST Action with
// "justification", "from", "to", "categories" (repeated), "content",
// "text" and "after"), and, after a search, its results and the export
// form (POST ExportAction with "recipient", "purpose",
// "export-justification", "events" (repeated) and the filter's fields).
// Every input keeps what was posted, so that a refused search loses
// nothing.
type ReviewData struct {
	Layout
	Reference string
	Request   string       // the request page
	Scope     []SummaryRow // the banner: who, what, from which systems, until when
	Action    string       // the search form's action
	// ExportAction is the export form's action.
	ExportAction string
	Filter       ReviewFilter
	// Categories are the checkboxes of the categories in scope.
	Categories []Option
	// Content offers "content" and "text": some category in scope grants
	// its content.
	Content bool
	Results *ReviewResults // nil before a search
	Export  *ReviewExport  // nil hides the export form
}

// ReviewFilter is a search as posted: each field as typed.
type ReviewFilter struct {
	Justification string
	From, To      string
	Categories    []string
	Content       bool
	Text          string
	After         string // the page the results start after; "" for the first
}

// ReviewResults is one page of a search's results and the access record
// that recorded it. Receipt links to the record's receipt; Next, when set,
// is the cursor of the next page, which a form POSTs with the same filter
// and justification.
type ReviewResults struct {
	AccessRecord string
	Receipt      string
	Events       []ReviewEvent
	Next         string
}

// ReviewEvent is one event as the investigator sees it.
type ReviewEvent struct {
	ID             string // its id, the value of an "events" checkbox of the export form
	Time, Source   string
	Fields         []ReviewField
	ContentDeleted bool // its content was destroyed under retention
	// HeldBack, when set, says why the event is held back as confidential
	// material until a legal adviser releases it ("kind: what"); it then
	// has no fields and cannot be ticked for export.
	HeldBack []string
}

// ReviewField is one field of an event; Pseudonym marks a value replaced
// by the pseudonym of someone who is not a subject.
type ReviewField struct {
	Name, Value string
	Pseudonym   bool
}

// ReviewExport is the export form as posted. Events are ticked events
// kept (as hidden inputs) when the results are not shown again.
type ReviewExport struct {
	Recipient, Purpose, Justification string
	Events                            []string
}

// Receipts lists the investigator's own access records at /receipts,
// each with a link to its receipt (the record's inclusion proof in the
// oversight log, which `lbm verify receipt FILE` checks offline). Next,
// when set, links to the next page.
type Receipts struct {
	Layout
	Period string // e.g. "the last 90 days"
	Rows   []ReceiptRow
	Next   string
}

// ReceiptRow is one access record of [Receipts].
type ReceiptRow struct {
	Index, Time, Action      string
	Reference, RequestHref   string
	Results, Recipient, Href string // Href downloads the receipt
	DownloadName             string // the file name the receipt is saved as
}

// AccessLog is oversight's access log at /access-records: every look at
// monitored data and every refused attempt, newest first, with the
// justification and query each was made with. Kinds are links to the
// other kinds (Current marks the one shown); Older, when set, links to
// older entries.
type AccessLog struct {
	Layout
	Heading string
	Intro   string
	Kinds   []NavItem
	Rows    []AccessRow
	Older   string
}

// AccessRow is one access record or refused attempt. Outcome is the
// results, the recipient of an export, or why an attempt was refused.
type AccessRow struct {
	Index, Time, Actor, Action string
	Request, RequestHref       string
	Outcome                    []string
	Justification, Query       string
	Refused                    bool
}

// reviewInputs are the labels and hints of the review page's text inputs.
var reviewInputs = map[string][2]string{
	"from":      {"From (optional)", "The first moment to search, in UTC, for example 2026-09-01 or 2026-09-01T14:30. Leave empty for the start of the authorised period."},
	"to":        {"Up to (optional)", "The moment to search up to, not included. Leave empty for the end of the authorised period."},
	"text":      {"Words in the content (optional)", "Finds events of the subjects whose content has all these words. Searching text reads content."},
	"recipient": {"Who it is for", "For example, the misconduct hearing panel."},
	"purpose":   {"What they need it for", "One line; it is written into the bundle."},
}

// Input is the text input id of the page ("from", "to", "text",
// "recipient" or "purpose"), holding what was posted and its error.
func (p ReviewData) Input(id string) Field {
	f := Field{Kind: "input", ID: id, Label: reviewInputs[id][0], Hint: reviewInputs[id][1], Width: "govuk-input--width-20"}
	switch id {
	case "from":
		f.Value = p.Filter.From
	case "to":
		f.Value = p.Filter.To
	case "text":
		f.Value = p.Filter.Text
	case "recipient", "purpose":
		f.Width = ""
		if p.Export != nil {
			f.Value = map[string]string{"recipient": p.Export.Recipient, "purpose": p.Export.Purpose}[id]
		}
	}
	for _, e := range p.Errors {
		if e.Field == id {
			f.Error = e.Message
			break
		}
	}
	return f
}

// ContentOptions is the single checkbox that asks for content.
func (p ReviewData) ContentOptions() []Option {
	return []Option{{Value: "yes", Label: "Show the content of the records whose content is authorised", Selected: p.Filter.Content}}
}
