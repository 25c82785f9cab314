package pages

// The detection rules' pages: the rules in force with their history, the
// form proposing a new rule file, and a proposed change as a diff. They
// follow the authorisation levels' pages, since both are one YAML file
// replaced under dual control.

func (RulesHistory) template() string { return "rules-history.html" }
func (RulesEdit) template() string    { return "rules-edit.html" }
func (RulesChange) template() string  { return "policy-change.html" }

// RulesHistory shows the rules in force, as a table and as YAML, and every
// approved version, newest first, ending with version "0", the pack built
// into lbm. CanEdit links to the edit form (GET /rules/edit).
type RulesHistory struct {
	Layout
	Current string // the version in force: "0" is the built-in pack
	Rules   []RuleRow
	// Unreadable says why Rules is empty although the file in force has
	// rules: lbm can no longer parse it (say, a reference list it reads
	// has left the detection catalogue). The YAML is still shown.
	Unreadable string
	YAML       string // the file in force
	Rows       []VersionRow
	CanEdit    bool
}

// RuleRow is one rule in force. SeverityColour is a GOV.UK tag colour, as
// on the alerts' pages; Lists are the ids of the reference lists it reads,
// as written in the file.
type RuleRow struct {
	ID, Title, Severity, SeverityColour string
	SpecialCategory                     bool
	Lists                               []string
}

// RulesEdit is the form proposing a new rule file (POST /rules/edit with
// "yaml", the whole file, and "reason").
type RulesEdit struct {
	Layout
	Version string // the version being edited
	YAML    string
	Reason  string
}

// RulesChange shows what a proposed rules change changes against the
// version it was proposed on, so that the second administrator approves
// what they have read. When Change.CanDecide, it offers POST
// /changes/{ID}/approve and reject.
type RulesChange struct {
	Layout
	Change ChangeRow
	Files  []FileDiff // the one file, rules.yaml
}

// Heading and What name the change on the page and its buttons.
func (RulesChange) Heading() string { return "Change to the detection rules" }
func (RulesChange) What() string    { return "change to the detection rules" }
