package pages

// The consent-level policy's pages: its history, the form proposing a new
// version, and a proposed change as a diff. The pages call it
// "authorisation levels", and their templates never say "consent" (see
// TestAcknowledgeNotConsent): a person reading them must not take the
// policy, which decides who may authorise monitoring, for anything staff
// are asked to agree to. So the templates take the pages' fixed paths,
// which do say it, from the methods below.

func (ConsentPolicyHistory) template() string { return "consentpolicy-history.html" }
func (ConsentPolicyEdit) template() string    { return "consentpolicy-edit.html" }
func (ConsentPolicyChange) template() string  { return "policy-change.html" }

// consentPolicyPath is where the pages live.
const consentPolicyPath = "/consent-policy"

// ConsentPolicyHistory shows the policy in force (its YAML) and every
// approved version, newest first, ending with version "0", the policy
// built into lbm. CanEdit links to the edit form.
type ConsentPolicyHistory struct {
	Layout
	Current string // the version in force: "0" is the built-in policy
	Policy  string // the file in force
	Rows    []VersionRow
	CanEdit bool
}

// EditHref is the address of the form proposing a change.
func (ConsentPolicyHistory) EditHref() string { return consentPolicyPath + "/edit" }

// ConsentPolicyEdit is the form proposing a new policy file (POST
// /consent-policy/edit with "yaml", the whole file, and "reason").
type ConsentPolicyEdit struct {
	Layout
	Version string // the version being edited
	YAML    string
	Reason  string
}

// Action is the address the form posts to.
func (ConsentPolicyEdit) Action() string { return consentPolicyPath + "/edit" }

// CancelHref is the address the form's cancel link leads back to.
func (ConsentPolicyEdit) CancelHref() string { return consentPolicyPath }

// ConsentPolicyChange shows what a proposed policy change changes against
// the version it was proposed on, so that the second administrator
// approves what they have read. When Change.CanDecide, it offers POST
// /changes/{ID}/approve and reject.
type ConsentPolicyChange struct {
	Layout
	Change ChangeRow
	Files  []FileDiff // the one file, policy.yaml
}

// Heading and What name the change on the page and its buttons.
func (ConsentPolicyChange) Heading() string { return "Change to the authorisation levels" }
func (ConsentPolicyChange) What() string    { return "change to the authorisation levels" }
