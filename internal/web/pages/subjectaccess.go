package pages

func (SubjectAccessDetail) template() string { return "subject-access-request.html" }

// SubjectAccessDetail is one subject access request as the DPO handles it
// (/subject-access-requests/{id}). Before it is opened the page offers
// Open (POST Action+"/open"), which is the authorisation to look; once
// opened it shows what the activity log holds (Categories), the Hint when
// an investigation might be prejudiced, the exemptions (each removable,
// POST its RemoveAction) and the forms the state allows: Exempt (POST
// Action+"/exemptions" with "categories", "from", "to", "ground",
// "note"), Answer (POST Action+"/answer"), Extend (POST
// Action+"/extension" with "months" and "reason") and Close (POST
// Action+"/close" with "reason" and "note").
type SubjectAccessDetail struct {
	Layout
	Action      string
	State       string
	StateColour string
	Due         string
	Overdue     bool
	Summary     []SummaryRow
	CanOpen     bool
	Opened      bool
	// Preparing: opened and not yet answered; only then are the summary
	// and the hint shown (the look is for the answer).
	Preparing  bool
	Categories []SubjectAccessCategory
	// Hint: a request naming the person is in force or awaiting a
	// decision. A suggestion only: nothing is withheld unless recorded.
	Hint       bool
	Exemptions []SubjectAccessExemption
	Exempt     []Field
	CanAnswer  bool
	Extend     []Field
	Close      []Field
	History    []AlertNote
}

// SubjectAccessCategory is one category of what the log holds about the
// person: how many events and from when to when.
type SubjectAccessCategory struct {
	Category, Count, First, Last string
}

// SubjectAccessExemption is one recorded exemption.
type SubjectAccessExemption struct {
	Categories, Period, Ground, Note, By, At string
	RemoveAction                             string // "" when it can no longer be removed
}
