package pages

// The Inform pages: monitoring notices, acknowledgements, the compliance
// report, the staff self-service page, subject access requests, and the
// catalogues' editing and history.

func (Notice) template() string                { return "notice.html" }
func (Notices) template() string               { return "notices.html" }
func (DraftNotice) template() string           { return "draft-notice.html" }
func (NoticeCompliance) template() string      { return "notice-compliance.html" }
func (Me) template() string                    { return "me.html" }
func (SubjectAccessRequests) template() string { return "subject-access-requests.html" }
func (CatalogueHistory) template() string      { return "catalogue-history.html" }
func (CatalogueEdit) template() string         { return "catalogue-edit.html" }

// TextBlock is one block of a notice's text: exactly one of Heading,
// Paragraph or Items is set. Headings are h2.
type TextBlock struct {
	Heading   string
	Paragraph string
	Items     []string // a bulleted list
}

// Notice shows one monitoring notice: the staff notice at /notice, the
// public notice at /public-notice, or a version's preview at
// /notices/{version}.
type Notice struct {
	Layout
	Heading string // the notice's title
	Status  string // e.g. "Version 2, published 3 November 2026" or "Draft version 3: not published"
	Blocks  []TextBlock
	// Short is a short form of the notice shown in an inset under
	// ShortLabel (e.g. "For other systems' sign-in screens"); "" hides it.
	ShortLabel, Short string
	// ExtraShortLabel and ExtraShort show a second short text (a preview
	// shows both the banner and the e-mail footer); "" hides it.
	ExtraShortLabel, ExtraShort string
	// Acknowledge, when not nil, shows the signed-in person's
	// acknowledgement, or the button to acknowledge (POST
	// /notice/acknowledgement with "version").
	Acknowledge *AcknowledgeBox
	// Publish, when not nil, offers proposing publication of a draft
	// (POST Publish.Action with "reason").
	Publish *PublishForm
	// Preview marks a draft shown to administrators: the page says it is
	// not in force.
	Preview bool
	// Links are related pages (the purposes, the law, the public notice).
	Links []Card
}

// AcknowledgeBox is the acknowledgement part of the staff notice.
type AcknowledgeBox struct {
	Version string // the notice version being acknowledged
	Done    bool   // the person has acknowledged this version
	When    string // when they did, if Done
	Entry   string // the oversight-log entry that records it, if Done
}

// PublishForm proposes publishing a draft notice. Pending, when set, says
// a publication already waits for approval at /changes.
type PublishForm struct {
	Action  string
	Reason  string
	Pending bool
}

// Notices lists every notice version for administrators and oversight,
// with a link to draft a new one (GET /notices/new) when CanDraft.
type Notices struct {
	Layout
	Rows     []NoticeRow
	CanDraft bool
	Current  string // the published version, "" when none
}

// NoticeRow is one notice version. State is "Published", "Draft" or
// "Superseded".
type NoticeRow struct {
	Version, Title, State, Created, CreatedBy, Published, PublishedBy, Href string
}

// DraftNotice is the form for a new notice version (POST /notices with
// "title", "text", "short", "public_text", "public_short" and
// "categories" (repeated)). The texts use the notice format: "## " starts a
// heading, "- " a bullet, a blank line separates paragraphs. Title is the
// notice's title; it hides Layout.Title, so the page's <title> comes from
// Layout.Title explicitly.
type DraftNotice struct {
	Layout
	Title, Text, Short, PublicText, PublicShort string
	Categories                                  []Option // checkboxes
	// Basis says where the prefilled text came from, e.g. "the published
	// version 2" or "the generated default".
	Basis string
}

// NoticeCompliance is the report of who has not acknowledged the current
// notice, by unit and line manager; CSVHref downloads it.
type NoticeCompliance struct {
	Layout
	Version     string // the current notice's version, "" when none is published
	Coverage    string // e.g. "45,120 of 46,000 people (98.1%) have acknowledged"
	Outstanding int
	Units       []ComplianceUnit
	CSVHref     string
}

// ComplianceUnit is one unit's people who have not acknowledged.
type ComplianceUnit struct {
	Unit     string
	Managers []ComplianceManager
}

// ComplianceManager is one line manager's people who have not
// acknowledged. Manager is a display string such as "Chris Lee (p-9)" or
// "No line manager".
type ComplianceManager struct {
	Manager string
	People  []CompliancePerson
}

// CompliancePerson is one person who has not acknowledged.
type CompliancePerson struct {
	ID, Name, Number string
}

// Me is the staff self-service page: the person's acknowledgements, what
// is collected about everyone who uses the systems, and subject access
// requests (POST /me/subject-access-requests with "details"). It never
// shows anything about an authorisation, hold or alert concerning the
// person.
type Me struct {
	Layout
	Name               string
	NoticeVersion      string // the current notice version, "" when none
	NeedsAcknowledging bool   // the current version is not yet acknowledged
	Acknowledgements   []AcknowledgementRow
	Collected          []CollectedRow
	Sources            []string // the systems that send events
	Requests           []SubjectAccessRow
	Details            string // the request form's text, kept on an error
}

// AcknowledgementRow is one of the person's acknowledgements.
type AcknowledgementRow struct {
	Version, Title, When, Via, Entry string
	Current                          bool
}

// CollectedRow is one category of what is collected, and how long it is
// kept.
type CollectedRow struct {
	Category, Collected, Content, Retention string
}

// SubjectAccessRow is one subject access request. On the DPO's list Href
// is its page, and Overdue tags it red; on the person's own page State is
// in plain words, Extended says the due date was moved (never why beyond
// the general reason), and Download is the answer's link once ready.
type SubjectAccessRow struct {
	ID, Person, PersonHref, Made, Details, State string
	Href, Due, Download                          string
	Overdue, Extended                            bool
}

// SubjectAccessRequests lists subject access requests for the DPO.
type SubjectAccessRequests struct {
	Layout
	Rows []SubjectAccessRow
}

// CatalogueHistory lists the catalogue's versions (the purposes, the law,
// the criteria and the retention schedule); CanEdit links to
// /catalogue/edit.
type CatalogueHistory struct {
	Layout
	Current string // the version in force: "0" is the built-in catalogue
	Rows    []VersionRow
	CanEdit bool
}

// VersionRow is one approved version of a document under dual control
// (the catalogue, the consent-level policy, the detection rules), as the
// "versions" template shows it. Version "0" is the one built into lbm.
type VersionRow struct {
	Version, Created, Change, ProposedBy, ApprovedBy, Reason string
}

// CatalogueEdit is the form proposing new catalogue files (POST
// /catalogue/edit with "purposes", "legislation", "criteria",
// "categories" and "reason"), each a YAML file as shipped with lbm.
// Categories is categories.yaml, the data categories and their retention
// schedule.
type CatalogueEdit struct {
	Layout
	Version                                     string // the version being edited
	Purposes, Legislation, Criteria, Categories string
	Reason                                      string
}

func (CatalogueChange) template() string { return "policy-change.html" }

// CatalogueChange shows what a proposed catalogue change changes, file by
// file, so that the second administrator approves what they have read.
// When Change.CanDecide, it offers POST /changes/{ID}/approve and reject.
// The consent-level policy's and the detection rules' changes share its
// template.
type CatalogueChange struct {
	Layout
	Change ChangeRow
	Files  []FileDiff
}

// Heading and What name the change on the page and its buttons.
func (CatalogueChange) Heading() string { return "Catalogue change" }
func (CatalogueChange) What() string    { return "catalogue change" }

// FileDiff is the changed lines of one catalogue file, in hunks; no hunks
// means the file is unchanged.
type FileDiff struct {
	Name  string // e.g. "purposes.yaml"
	Hunks [][]DiffRow
}

// DiffRow is one line of a diff. Op is "kept", "removed" or "added"; the
// line numbers are "" where the line has none.
type DiffRow struct {
	Op, Old, New, Text string
}
