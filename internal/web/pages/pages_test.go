package pages

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

const hostile = `<script>alert(1)</script>`

var adminNav = []NavItem{
	{Label: "Home", Href: "/"},
	{Label: "People", Href: "/people", Current: true},
	{Label: "Changes", Href: "/changes"},
	{Label: "Sources", Href: "/sources"},
}

func admin(title string) Layout {
	return Layout{
		Title:  title,
		Person: "Sam Patel",
		Role:   "Administrator",
		Roles:  []Option{{Value: "oversight", Label: "Oversight"}, {Value: "staff", Label: "Staff"}},
		Nav:    adminNav,
	}
}

var person = PersonView{
	ID: "p-42", Name: "Alex Morgan", Number: "4821", Unit: "Professional Standards",
	Manager: "Chris Lee", Rank: "Inspector", Grade: "", Roles: "Investigator, Staff",
	Adviser: "", Status: "Active", Version: "7",
	Emails: "alex.morgan@force.example, a.morgan@force.example", Username: "amorgan",
}

var changes = []ChangeRow{
	{ID: "c-1", Target: "Alex Morgan", TargetHref: "/people/p-42", Summary: "Add role Authoriser",
		Reason: "Promoted to inspector", ProposedBy: "Sam Patel", Proposed: "2 March 2026 at 10:04",
		State: "Pending", CanDecide: true},
	{ID: "c-2", Target: "Jo Bloggs", TargetHref: "/people/p-7", Summary: "Remove role Administrator",
		Reason: "Moved unit", ProposedBy: "Sam Patel", Proposed: "1 March 2026 at 16:40", State: "Pending"},
}

var decided = []ChangeRow{
	{ID: "c-0", Target: "Alex Morgan", TargetHref: "/people/p-42", Summary: "Set adviser to DPO",
		Reason: "New DPO", ProposedBy: "Kim Hale", Proposed: "20 February 2026", State: "Approved",
		DecidedBy: "Sam Patel", Decided: "21 February 2026"},
	{ID: "c-00", Target: "Jo Bloggs", Summary: "Add role Oversight", Reason: "Asked to",
		ProposedBy: "Kim Hale", Proposed: "19 February 2026", State: "Rejected",
		DecidedBy: "Sam Patel", Decided: "19 February 2026"},
}

// staff is the layout of a page for someone working as Staff.
func staff(title string) Layout {
	return Layout{
		Title:  title,
		Person: "Alex Morgan",
		Role:   "Staff",
		Nav:    []NavItem{{Label: "Home", Href: "/"}, {Label: "Notice", Href: "/notice"}, {Label: "Your data", Href: "/me", Current: true}},
	}
}

// withErrors is l with errs.
func withErrors(l Layout, errs ...FieldError) Layout {
	l.Errors = errs
	return l
}

var noticeBlocks = []TextBlock{
	{Paragraph: "We monitor the use of our systems to keep them secure and to meet our legal duties. This notice says what is recorded, why, and who may look at it."},
	{Heading: "What we record"},
	{Items: []string{"When you sign in and out, and from where.", "Who you send e-mail to and when; not what it says.", "Which files you open on shared drives."}},
	{Heading: "Who may look at it"},
	{Paragraph: "Nobody may look at what is recorded about a person without an approved request. Every look is itself recorded in a tamper-evident log."},
}

var noticeLinks = []Card{
	{Title: "Why we may monitor", Href: "/purposes", Text: "The lawful purposes monitoring may serve."},
	{Title: "The law", Href: "/legislation", Text: "The legislation that allows it."},
	{Title: "Notice for the public", Href: "/public-notice", Text: "What people who write to us are told."},
}

var draftCategories = []Option{
	{Value: "authentication", Label: "Signing in", Selected: true, Hint: "Sign-ins, sign-outs and failed attempts."},
	{Value: "email", Label: "E-mail", Selected: true},
	{Value: "file_access", Label: "File access"},
	{Value: "web", Label: "Web browsing", Hint: "The sites visited; not what was read there."},
}

const purposesYAML = `# The lawful purposes.
- id: PREVENT_DETECT_CRIME
  title: Prevent or detect crime
  reference: SI 2018/356 reg 3(1)(a)(iii)
  explanation: >-
    To stop crime, or find out who committed it.
`

// samples is one or more representative renderings of every page type.
var samples = []struct {
	name   string
	page   Page
	status int
}{
	{"sign-in", SignIn{Layout: Layout{Title: "Sign in"}, Next: "/people?q=a&b=c", OIDC: true}, 200},
	{"sign-in-errors", SignIn{
		Layout:   Layout{Title: "Sign in", Errors: []FieldError{{"username", "Enter your username"}, {"password", "Enter your password"}}},
		Username: "amorgan",
	}, 400},
	{"step-up", StepUp{Layout: admin("Confirm it’s you"), Next: "/changes"}, 200},
	{"step-up-error", &StepUp{Layout: Layout{Title: "Confirm it’s you", Person: "Sam Patel", Errors: []FieldError{{"code", "Enter the 6-digit code from your authenticator app"}}}}, 400},
	{"setup", Setup{
		Layout: Layout{Title: "Set up your account"}, Token: "tok-123", Account: "amorgan",
		Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		URI:    "otpauth://totp/lbm:amorgan?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=lbm&algorithm=SHA1&digits=6&period=30",
	}, 200},
	{"setup-errors", Setup{
		Layout: Layout{Title: "Set up your account", Errors: []FieldError{{"confirm", "Enter the same password twice"}, {"code", "The code is not right"}}},
		Token:  "tok-123", Account: "amorgan", Secret: "JBSW Y3DP EHPK 3PXP", URI: "otpauth://totp/lbm:amorgan?secret=JBSWY3DPEHPK3PXP",
	}, 400},
	{"home", Home{Layout: Layout{Title: "Home", Person: "Sam Patel", Role: "Administrator", Nav: []NavItem{{"Home", "/", true}, {"People", "/people", false}, {"Changes", "/changes", false}}, Notice: "You are now working as Administrator"}, Cards: []Card{
		{"People", "/people", "Find people, see their roles and propose changes.", ""},
		{"Changes", "/changes", "Approve or reject changes other administrators have proposed.", ""},
		{"Sources", "/sources", "Manage the systems that send events.", ""},
		{"Retention", "/retention", "See and propose how long each kind of data is kept.", ""},
		{"Relevant errors", "/relevant-errors", "Each reported to the oversight body within 10 working days.", "2 relevant errors are overdue"},
	}}, 200},
	{"home-staff", Home{Layout: Layout{Title: "Home", Person: "Alex Morgan", Role: "Staff"}, Me: &person}, 200},
	{"people", People{Layout: admin("People"), Query: "mor", Total: 2, Next: "/people?q=mor&after=p-43", Rows: []PersonRow{
		{"p-42", "Alex Morgan", "4821", "Professional Standards", "Inspector", "Investigator, Staff", "Active"},
		{"p-43", "Robin Morley", "S1033", "ICT", "Grade 6", "Staff", "Left on 2 March 2026"},
	}}, 200},
	{"people-empty", People{Layout: admin("People"), Query: "zzz"}, 200},
	{"person", Person{Layout: admin("Alex Morgan"), P: person, Changes: append(changes[:1:1], decided...), CanPropose: true}, 200},
	{"person-no-changes", Person{Layout: admin("Alex Morgan"), P: person}, 200},
	{"propose-change", ProposeChange{Layout: admin("Propose a change"), P: person,
		RoleOptions: []Option{
			{Value: "staff", Label: "Staff", Selected: true, Hint: "Reads notices and asks for their own data."},
			{Value: "investigator", Label: "Investigator", Selected: true},
			{Value: "authoriser", Label: "Authoriser", Hint: "Decides requests at or below their rank."},
			{Value: "admin", Label: "Administrator"},
		},
		Advisers: []Option{
			{Value: "", Label: "None", Selected: true},
			{Value: "legal", Label: "Legal"},
			{Value: "dpo", Label: "Data protection officer"},
		},
	}, 200},
	{"propose-change-errors", ProposeChange{
		Layout: func() Layout {
			l := admin("Propose a change")
			l.Errors = []FieldError{{"reason", "Enter why this change is needed"}, {"roles", "Select at least one role"}}
			return l
		}(),
		P: person, RoleOptions: []Option{{Value: "staff", Label: "Staff"}}, Advisers: []Option{{Value: "", Label: "None"}},
	}, 400},
	{"changes", Changes{Layout: admin("Changes"), Pending: changes, Decided: decided}, 200},
	{"changes-empty", Changes{Layout: admin("Changes")}, 200},
	{"oversight-log", OversightLog{Layout: admin("Oversight log"), Size: 2, Older: "/oversight?before=1", Rows: []OversightRow{
		{Index: "1", Time: "27 Nov 2026 07:22:00", Actor: "adm1", Action: "person change proposed", Details: []string{"person: staff1"}},
		{Index: "0", Time: "27 Nov 2026 07:20:00", Actor: "cli", Action: "user add", BreakGlass: true, Details: []string{"person: adm1", "role: admin"}},
	}}, 200},
	{"oversight-log-empty", OversightLog{Layout: admin("Oversight log")}, 200},
	{"catalogue", Catalogue{Layout: Layout{Title: "Why we may monitor"}, Heading: "Why we may monitor", Intro: []string{"The law allows monitoring only for these purposes."},
		Items: []CatalogueItem{
			{ID: "PREVENT_DETECT_CRIME", Title: "Prevent or detect crime", Explanation: "To stop crime.", Reference: "SI 2018/356 reg 3(2)", Verify: true},
			{ID: "RELEVANCE_CHECK", Title: "Check relevance", Explanation: "Whether a message is business.", Reference: "reg 3(3)", Limits: []string{"Monitor only."}},
			{ID: "NOTICE", Title: "Notice", Question: "Was the person told?", Explanation: "Acknowledgements show it.", Reference: "Bărbulescu §121"},
		}}, 200},
	{"forbidden", Message{Layout: admin(""), Status: 403, Body: "Your role does not allow this.\n\nAsk an administrator if you think it should."}, 403},
	{"not-found", Message{Status: 404, Body: "Check the address."}, 404},
	{"message", &Message{Layout: admin("Done"), Heading: "Change proposed", Body: "Another administrator must approve it."}, 200},
	{"notice", Notice{Layout: staff("Monitoring notice"), Heading: "How we monitor the use of our systems",
		Status: "Version 3, published 3 November 2026", Blocks: noticeBlocks,
		ShortLabel: "For other systems’ sign-in screens", Short: "Your use of this system is recorded. Read the monitoring notice on lbm.",
		Acknowledge: &AcknowledgeBox{Version: "3"}, Links: noticeLinks}, 200},
	{"notice-acknowledged", Notice{Layout: staff("Monitoring notice"), Heading: "How we monitor the use of our systems",
		Status: "Version 3, published 3 November 2026", Blocks: noticeBlocks,
		Acknowledge: &AcknowledgeBox{Version: "3", Done: true, When: "4 November 2026 at 09:12", Entry: "1207"}, Links: noticeLinks}, 200},
	{"notice-public", Notice{Layout: Layout{Title: "Monitoring notice for the public"}, Heading: "Monitoring of messages you send us",
		Status: "Version 3, published 3 November 2026", Blocks: noticeBlocks[:1]}, 200},
	{"notice-preview", Notice{Layout: admin("Notice version 4"), Heading: "How we monitor the use of our systems",
		Status: "Draft version 4: not published", Blocks: noticeBlocks, Preview: true,
		ShortLabel: "Banner on other systems’ sign-in screens", Short: "Your use of this system is recorded.",
		ExtraShortLabel: "Footer of e-mail to the public", ExtraShort: "Messages to us may be monitored. See our public monitoring notice.",
		Publish: &PublishForm{Action: "/notices/4/publication"}}, 200},
	{"notice-preview-pending", Notice{Layout: admin("Notice version 4"), Heading: "How we monitor the use of our systems",
		Status: "Draft version 4: not published", Blocks: noticeBlocks, Preview: true,
		Publish: &PublishForm{Action: "/notices/4/publication", Pending: true}}, 200},
	{"notice-publish-error", Notice{Layout: withErrors(admin("Notice version 4"), FieldError{"reason", "Enter why this version should be published"}),
		Heading: "How we monitor the use of our systems", Status: "Draft version 4: not published", Blocks: noticeBlocks, Preview: true,
		Publish: &PublishForm{Action: "/notices/4/publication"}}, 400},
	{"notices", Notices{Layout: admin("Monitoring notices"), CanDraft: true, Current: "3", Rows: []NoticeRow{
		{Version: "4", Title: "How we monitor the use of our systems", State: "Draft", Created: "20 November 2026", CreatedBy: "Sam Patel", Href: "/notices/4"},
		{Version: "3", Title: "How we monitor the use of our systems", State: "Published", Created: "1 November 2026", CreatedBy: "Sam Patel",
			Published: "3 November 2026", PublishedBy: "Kim Hale", Href: "/notices/3"},
		{Version: "2", Title: "Monitoring at work", State: "Superseded", Created: "2 March 2026", CreatedBy: "Kim Hale",
			Published: "4 March 2026", PublishedBy: "Sam Patel", Href: "/notices/2"},
	}}, 200},
	{"notices-empty", Notices{Layout: admin("Monitoring notices")}, 200},
	{"draft-notice", DraftNotice{Layout: admin("Draft a new notice version"), Title: "How we monitor the use of our systems",
		Text: "We monitor the use of our systems.\n\n## What we record\n\n- When you sign in.\n- Who you e-mail.", Short: "Your use of this system is recorded.",
		PublicText: "We may monitor messages you send us.", PublicShort: "Messages to us may be monitored.",
		Categories: draftCategories, Basis: "the published version 3"}, 200},
	{"draft-notice-errors", DraftNotice{Layout: withErrors(admin("Draft a new notice version"),
		FieldError{"title", "Enter a title"}, FieldError{"text", "Line 4: a heading needs text after “## ”"}, FieldError{"categories", "Select at least one category"}),
		Text: "## ", Categories: draftCategories[2:]}, 400},
	{"notice-compliance", NoticeCompliance{Layout: admin("Who has not acknowledged the notice"), Version: "3",
		Coverage: "45,120 of 45,123 people (99.9%) have acknowledged", Outstanding: 3, CSVHref: "/notices/compliance.csv",
		Units: []ComplianceUnit{
			{Unit: "Professional Standards", Managers: []ComplianceManager{
				{Manager: "Chris Lee (p-9)", People: []CompliancePerson{{"p-42", "Alex Morgan", "4821"}, {"p-44", "Sam Okafor", ""}}},
			}},
			{Unit: "ICT", Managers: []ComplianceManager{
				{Manager: "No line manager", People: []CompliancePerson{{"p-43", "Robin Morley", "S1033"}}},
			}},
		}}, 200},
	{"notice-compliance-everyone", NoticeCompliance{Layout: admin("Who has not acknowledged the notice"), Version: "3",
		Coverage: "45,123 of 45,123 people (100%) have acknowledged", CSVHref: "/notices/compliance.csv"}, 200},
	{"notice-compliance-none", NoticeCompliance{Layout: admin("Who has not acknowledged the notice")}, 200},
	{"me", Me{Layout: staff("Your data"), Name: "Alex Morgan", NoticeVersion: "3",
		Acknowledgements: []AcknowledgementRow{
			{Version: "3", Title: "How we monitor the use of our systems", When: "4 November 2026 at 09:12", Via: "On the web", Entry: "1207", Current: true},
			{Version: "2", Title: "Monitoring at work", When: "5 March 2026 at 08:30", Via: "Through the API", Entry: "88"},
		},
		Collected: []CollectedRow{
			{Category: "Signing in", Collected: "When you sign in or out, from which device and address, and whether it worked.", Content: "", Retention: "1 year"},
			{Category: "E-mail", Collected: "Who sent each message to whom, and when.", Content: "The subject and the text of the message.", Retention: "6 months"},
		},
		Sources:  []string{"Microsoft 365", "The VPN gateway"},
		Requests: []SubjectAccessRow{{ID: "sar-1", Made: "1 October 2026", Details: "Everything from the VPN in September.", State: "Received"}, {ID: "sar-0", Made: "2 May 2026", State: "Received"}},
	}, 200},
	{"me-needs-acknowledging", Me{Layout: staff("Your data"), Name: "Alex Morgan", NoticeVersion: "3", NeedsAcknowledging: true}, 200},
	{"me-no-notice", Me{Layout: staff("Your data")}, 200},
	{"me-error", Me{Layout: withErrors(staff("Your data"), FieldError{"details", "Write at most 2,000 characters"}),
		Name: "Alex Morgan", NoticeVersion: "3", Details: strings.Repeat("All my data. ", 200)}, 400},
	{"subject-access-requests", SubjectAccessRequests{Layout: admin("Subject access requests"), Rows: []SubjectAccessRow{
		{ID: "sar-1", Person: "Alex Morgan", PersonHref: "/people/p-42", Made: "1 October 2026", Details: "Everything from the VPN in September.", State: "Received"},
		{ID: "sar-2", Person: "p-99", Made: "3 October 2026", State: "Received"},
	}}, 200},
	{"subject-access-requests-empty", SubjectAccessRequests{Layout: admin("Subject access requests")}, 200},
	{"catalogue-history", CatalogueHistory{Layout: admin("Catalogue history"), Current: "2", CanEdit: true, Rows: []VersionRow{
		{Version: "2", Created: "12 November 2026", Change: "9f2c41d07a5be3c1d2e4f6a8", ProposedBy: "Sam Patel", ApprovedBy: "Kim Hale", Reason: "Legislation references verified by Legal"},
		{Version: "1", Created: "2 March 2026", Change: "03ab", ProposedBy: "Kim Hale", ApprovedBy: "Sam Patel", Reason: "Added the relevance check"},
		{Version: "0", Reason: "The catalogue built into lbm, from LEGAL.md"},
	}}, 200},
	{"catalogue-history-built-in", CatalogueHistory{Layout: admin("Catalogue history"), Current: "0", Rows: []VersionRow{
		{Version: "0", Reason: "The catalogue built into lbm, from LEGAL.md"},
	}}, 200},
	{"catalogue-edit", CatalogueEdit{Layout: admin("Propose a catalogue change"), Version: "2",
		Purposes: purposesYAML, Legislation: "- id: IPA_2016\n  title: Investigatory Powers Act 2016\n", Criteria: "- id: NOTICE\n  question: Was the person told?\n",
		Categories: "categories:\n  - id: email\n    retention_months: 12\n"}, 200},
	{"retention", Retention{Layout: Layout{Title: "How long records are kept"}, Version: "3", Rows: []RetentionRow{
		{ID: "email", Category: "E-mail", Collected: "Who wrote to whom.", Content: "The body.", Kept: "12 months", ContentKept: "6 months"},
		{ID: "device", Category: "Devices", Collected: "When devices are unlocked.", Kept: "1 month"},
	}}, 200},
	{"retention-built-in", Retention{Layout: admin("How long records are kept"), Version: "0", Rows: []RetentionRow{
		{ID: "web", Category: "Web browsing", Collected: "Websites visited.", Content: "Full addresses.", Kept: "12 months", ContentKept: "12 months"},
	}}, 200},
	{"catalogue-edit-errors", CatalogueEdit{Layout: withErrors(admin("Propose a catalogue change"),
		FieldError{"purposes", "purposes.yaml: line 3: reference: must not be empty"}, FieldError{"reason", "Enter why the catalogue should change"}),
		Version: "0", Purposes: "- id: X\n  title: X\n  reference:\n", Legislation: "[]\n", Criteria: "[]\n"}, 400},
	{"catalogue-change", CatalogueChange{Layout: admin("Catalogue change"),
		Change: ChangeRow{ID: "c-9", Target: "Catalogue", Summary: "Replace catalogue version 0 with version 1", Reason: "Say misconduct too",
			ProposedBy: "adm1", Proposed: "27 November 2026 09:30 UTC", State: "Pending", CanDecide: true},
		Files: []FileDiff{
			{Name: "purposes.yaml", Hunks: [][]DiffRow{
				{{"kept", "11", "11", "- id: PREVENT_DETECT_CRIME"}, {"removed", "12", "", "  title: Prevent or detect crime"}, {"added", "", "12", "  title: Prevent or detect crime or misconduct"}},
				{{"kept", "40", "40", "- id: SYSTEM_OPERATION"}, {"added", "", "41", "  verify: false"}},
			}},
			{Name: "legislation.yaml"},
		}}, 200},
}

// sample is the page of the sample with the given name.
func sample(name string) Page {
	for _, s := range samples {
		if s.name == name {
			return s.page
		}
	}
	panic("no sample " + name)
}

func render(t *testing.T, p Page, status int) string {
	t.Helper()
	w := httptest.NewRecorder()
	if err := Render(w, status, p); err != nil {
		t.Fatalf("Render: %v", err)
	}
	if w.Code != status {
		t.Errorf("Render status = %d, want %d", w.Code, status)
	}
	if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	return w.Body.String()
}

func TestPages(t *testing.T) {
	for _, tt := range samples {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.page, tt.status)
			l := tt.page.layout()
			checkHTML(t, out)
			checkCSP(t, out)
			checkBranding(t, out)
			checkErrors(t, out, l.Errors)
			checkHeadings(t, out)
			checkTables(t, out)

			title := between(out, "<title>", "</title>")
			if !strings.HasSuffix(title, "lbm") {
				t.Errorf("title %q does not end with lbm", title)
			}
			if l.Title != "" && !strings.Contains(title, l.Title+" – lbm") {
				t.Errorf("title %q lacks %q", title, l.Title+" – lbm")
			}
			if got, want := strings.HasPrefix(title, "Error: "), len(l.Errors) > 0; got != want {
				t.Errorf("title %q: Error: prefix is %v, want %v", title, got, want)
			}

			signedIn := strings.Contains(out, `action="/sign-out"`)
			if signedIn != (l.Person != "") {
				t.Errorf("sign-out form shown = %v, want %v", signedIn, l.Person != "")
			}
			if hasNav := strings.Contains(out, "govuk-service-navigation__list"); hasNav != (l.Person != "" && len(l.Nav) > 0) {
				t.Errorf("navigation shown = %v, want %v", hasNav, l.Person != "" && len(l.Nav) > 0)
			}
			if hasRoles := strings.Contains(out, `action="/session/role"`); hasRoles != (l.Person != "" && len(l.Roles) > 0) {
				t.Errorf("switch role form shown = %v, want %v", hasRoles, len(l.Roles) > 0)
			}
			if l.Notice != "" && !strings.Contains(out, "govuk-notification-banner--success") {
				t.Errorf("notice %q not shown", l.Notice)
			}
			if !strings.Contains(out, "Every access to monitored data is recorded.") {
				t.Error("footer missing")
			}
		})
	}
}

// TestContent checks what each page must say or offer.
func TestContent(t *testing.T) {
	for _, tt := range []struct {
		page Page
		want []string
		not  []string
	}{
		{sample("sign-in"), []string{
			`action="/sign-in"`, `name="username"`, `name="password"`, `type="password"`,
			`name="next" value="/people?q=a&amp;b=c"`,
			`href="/sign-in/oidc?next=%2fpeople%3fq%3da%26b%3dc"`, "Sign in with your organisation account",
		}, nil},
		{SignIn{}, []string{`action="/sign-in"`}, []string{"/sign-in/oidc"}},
		{sample("step-up"), []string{`action="/step-up"`, `id="code"`, `autocomplete="one-time-code"`, `inputmode="numeric"`, `name="next" value="/changes"`}, nil},
		{sample("setup"), []string{
			`action="/setup/tok-123"`, `name="password"`, `name="confirm"`, `name="code"`, "govuk-inset-text",
			`name="username" value="amorgan" autocomplete="username" readonly hidden`,
			"JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP", "otpauth://totp/lbm:amorgan?secret=",
		}, nil},
		{sample("setup-errors"), []string{
			`action="/setup/tok-123"`, ">JBSW Y3DP EHPK 3PXP</p>", `href="#confirm"`, `href="#code"`,
		}, nil},
		{sample("catalogue"), []string{`id="PREVENT_DETECT_CRIME"`, `govuk-tag--yellow">To be verified`, "Monitor only.", "Was the person told?", `href="/purposes"`}, nil},
		{sample("home-staff"), []string{"<h2 class=\"govuk-heading-m\">Your details</h2>", "Investigator, Staff", "You are working as Staff"}, nil},
		{sample("home"), []string{`<h1 class="govuk-heading-l">Home</h1>`, "Administrator", `href="/retention"`, "how long each kind of data is kept"}, nil},
		{sample("people"), []string{
			`action="/people"`, `method="get"`, `name="q"`, `value="mor"`, "govuk-table",
			`href="/people/p-42"`, ">Rank or grade<", `govuk-tag govuk-tag--grey">Left on 2 March 2026`,
			`<strong class="govuk-tag">Active`, `href="/people?q=mor&amp;after=p-43"`, "2 people",
		}, nil},
		{sample("people-empty"), []string{"Nobody matches"}, []string{"govuk-table", "govuk-pagination"}},
		{sample("person"), []string{"govuk-summary-list", "Professional Standards", "alex.morgan@force.example, a.morgan@force.example", "amorgan", `href="/people/p-42/change"`, "Propose a change", "Set adviser to DPO"}, []string{">Person</th>"}},
		{sample("person-no-changes"), []string{"No changes have been proposed"}, []string{"/people/p-42/change"}},
		{sample("propose-change"), []string{
			`action="/people/p-42/change"`, `name="version" value="7"`,
			`id="roles" name="roles" type="checkbox" value="staff" checked`,
			`id="roles-4" name="roles" type="checkbox" value="admin">`,
			`id="adviser" name="adviser" type="radio" value="" checked`,
			`name="reason"`, "required",
			"A second administrator must approve this change before it takes effect. Ranks come only from the HR import or the identity provider and cannot be changed here.",
		}, []string{`name="rank"`}},
		{sample("changes"), []string{
			`action="/changes/c-1/approve"`, `action="/changes/c-1/reject"`, "govuk-button--warning",
			"You proposed this change; another administrator must decide it.", "Approved", "Rejected",
			">Person</th>", `<a class="govuk-link" href="/people/p-42">Alex Morgan</a>`,
		}, []string{`action="/changes/c-2/`}},
		{sample("changes-empty"), []string{"There are no changes waiting", "No changes have been decided"}, []string{"/approve"}},
		{sample("forbidden"), []string{"<title>You cannot see this page – lbm</title>", "Your role does not allow this.</p>", "<p class=\"govuk-body\">Ask an administrator"}, nil},
		{sample("not-found"), []string{"<title>Page not found – lbm</title>", ">Page not found</h1>"}, nil},
		{sample("message"), []string{">Change proposed</h1>", "<title>Done – lbm</title>"}, nil},
		{sample("notice"), []string{
			`<span class="govuk-caption-l">Version 3, published 3 November 2026</span>`,
			`<h1 class="govuk-heading-l">How we monitor the use of our systems</h1>`,
			`<h2 class="govuk-heading-m">What we record</h2>`,
			`<ul class="govuk-list govuk-list--bullet">` + "\n<li>When you sign in and out, and from where.</li>",
			`<p class="govuk-body">Nobody may look at what is recorded about a person`,
			`<h2 class="govuk-heading-m">For other systems’ sign-in screens</h2>` + "\n" + `<div class="govuk-inset-text">` + "\n" + `<p class="govuk-body">Your use of this system is recorded.`,
			`action="/notice/acknowledgement"`, `name="version" value="3"`, ">I acknowledge I have read this notice</button>",
			`href="/public-notice">Notice for the public</a><br>What people who write to us are told.`,
		}, []string{"You acknowledged", "govuk-warning-text", "Propose publishing", `id="reason"`}},
		{sample("notice-acknowledged"), []string{
			"You acknowledged version 3 on 4 November 2026 at 09:12. Oversight log entry 1207 records it.", `govuk-tag--green">Acknowledged`,
		}, []string{"/notice/acknowledgement", "I acknowledge"}},
		{sample("notice-public"), []string{"Monitoring of messages you send us"}, []string{"/notice/acknowledgement", "Propose publishing", "govuk-inset-text", "govuk-warning-text"}},
		{sample("notice-preview"), []string{
			"govuk-warning-text", "This is a draft. It is not in force",
			">Banner on other systems’ sign-in screens</h2>", ">Footer of e-mail to the public</h2>", "See our public monitoring notice.",
			`action="/notices/4/publication"`, `id="reason" name="reason"`, ">Propose publishing this version</button>",
		}, []string{"/notice/acknowledgement", `<a class="govuk-link" href="/changes">`}},
		{sample("notice-preview-pending"), []string{"waiting for a second administrator", `<a class="govuk-link" href="/changes">See the changes waiting for a decision</a>`}, []string{"/notices/4/publication", "Propose publishing", `id="reason"`}},
		{sample("notices"), []string{
			"Version 3 is the notice in force.", `href="/notices/new"`, ">Draft a new version</a>",
			`href="/notices/3"><span class="govuk-visually-hidden">Version </span>3</a>`,
			`govuk-tag govuk-tag--green">Published`, `govuk-tag govuk-tag--yellow">Draft`, `govuk-tag govuk-tag--grey">Superseded`,
			`Kim Hale<br><span class="lbm-secondary">3 November 2026</span>`, "Not published",
		}, nil},
		{sample("notices-empty"), []string{"No version is published yet", "No notice has been drafted yet."}, []string{"govuk-table", "/notices/new"}},
		{sample("draft-notice"), []string{
			"<title>Draft a new notice version – lbm</title>", `action="/notices"`, "Prefilled from the published version 3.",
			`id="title" name="title" type="text" value="How we monitor the use of our systems"`,
			`id="text" name="text" rows="20"`, `id="public_text" name="public_text" rows="20"`, `id="short" name="short"`, `id="public_short" name="public_short"`,
			"“## ” for a heading", "“- ” for a bullet point", "blank line between paragraphs", "govuk-!-width-full",
			`id="categories" name="categories" type="checkbox" value="authentication" checked aria-describedby="categories-item-hint"`,
			`id="categories-3" name="categories" type="checkbox" value="file_access">`,
			"our systems.\n\n## What we record\n\n- When you sign in.\n- Who you e-mail.</textarea>",
		}, nil},
		{sample("draft-notice-errors"), []string{"<title>Error: Draft a new notice version – lbm</title>", `id="categories" name="categories" type="checkbox" value="file_access"`}, []string{"Prefilled"}},
		{sample("notice-compliance"), []string{
			"Monitoring notice version 3", "45,120 of 45,123 people (99.9%) have acknowledged.", "3 people have not acknowledged version 3",
			`href="/notices/compliance.csv" download>Download as CSV<span class="govuk-visually-hidden">`,
			`<h2 class="govuk-heading-m">Professional Standards</h2>`, `<h3 class="govuk-heading-s">Chris Lee (p-9)</h3>`,
			`<h3 class="govuk-heading-s">No line manager</h3>`, "Robin Morley", ">ID</th>", ">Number</th>",
		}, []string{"Everyone has acknowledged"}},
		{NoticeCompliance{Version: "3", Outstanding: 1, Units: []ComplianceUnit{{Managers: []ComplianceManager{{People: []CompliancePerson{{ID: "p-1"}}}}}}},
			[]string{"1 person has not acknowledged", ">No unit</h2>", ">No line manager</h3>"}, []string{"Download as CSV"}},
		{sample("notice-compliance-everyone"), []string{"Everyone has acknowledged version 3."}, []string{"govuk-table", "Download as CSV", "<h2"}},
		{sample("notice-compliance-none"), []string{"No monitoring notice is published yet"}, []string{"Everyone has acknowledged", "govuk-table", "Download as CSV"}},
		{sample("me"), []string{
			">Monitoring notice</h2>", ">Your acknowledgements</h2>", ">What is recorded about everyone who uses the systems</h2>",
			">Ask for your data</h2>", ">Your requests</h2>",
			"You have acknowledged the current monitoring notice, version 3.",
			`3 <strong class="govuk-tag govuk-tag--green">Current</strong>`, "Through the API", ">1207<",
			">Category</th>", ">What counts as content</th>", ">How long it is kept</th>", "6 months",
			"<li>Microsoft 365</li>", "subject access request", "Data Protection Officer",
			`action="/me/subject-access-requests"`, `id="details" name="details"`, ">Send request to the Data Protection Officer</button>",
			"Everything from the VPN in September.", `lbm-secondary">Everything</span>`,
		}, []string{"govuk-warning-text", "No systems are connected yet."}},
		{sample("me-needs-acknowledging"), []string{
			"govuk-warning-text", "You have not acknowledged version 3 of the monitoring notice yet.",
			`<a class="govuk-link" href="/notice">Read and acknowledge the monitoring notice</a>`,
			"You have not acknowledged any version of the notice yet.", "Nothing is recorded yet.",
			"No systems are connected yet.", "You have not asked for your data yet.",
		}, []string{"govuk-table"}},
		{sample("me-no-notice"), []string{"No monitoring notice has been published yet."}, []string{"govuk-warning-text", `<a class="govuk-link" href="/notice">`}},
		{sample("me-error"), []string{">All my data. All my data."}, nil},
		{sample("subject-access-requests"), []string{
			`<a class="govuk-link" href="/people/p-42">Alex Morgan</a>`, "<td class=\"govuk-table__cell\">p-99</td>", "Everything from the VPN in September.",
			`lbm-secondary">Everything</span>`, `<strong class="govuk-tag">Received</strong>`,
		}, nil},
		{sample("subject-access-requests-empty"), []string{"Nobody has asked for their data yet."}, []string{"govuk-table"}},
		{sample("retention"), []string{
			"Retention schedule 3", "approved by two administrators", `<tr class="govuk-table__row" id="email">`, "<code>email</code>",
			"<td class=\"govuk-table__cell\">12 months</td>", "<td class=\"govuk-table__cell\">6 months</td>",
			"<td class=\"govuk-table__cell\">None</td>", "<td class=\"govuk-table__cell\">—</td>", "<td class=\"govuk-table__cell\">1 month</td>",
		}, []string{"built into lbm"}},
		{sample("retention-built-in"), []string{"the schedule built into lbm", "Retention schedule 0"}, []string{"approved by two"}},
		{sample("catalogue-history"), []string{
			"Version 2 is in force.", `href="/purposes"`, `href="/legislation"`, `href="/criteria"`, `href="/retention"`, "second administrator approves",
			`href="/catalogue/edit"`, ">Propose a change</a>", `2 <strong class="govuk-tag govuk-tag--green">In force</strong>`,
			"<code>9f2c41d07a5be3c1d2e4f6a8</code>", "Legislation references verified by Legal", `lbm-secondary">Built into lbm</span>`,
		}, []string{`1 <strong`, `0 <strong`}},
		{sample("catalogue-history-built-in"), []string{
			"The catalogue built into lbm is in force", `0 <strong class="govuk-tag govuk-tag--green">In force</strong>`,
		}, []string{"/catalogue/edit", "Version 0"}},
		{sample("catalogue-edit"), []string{
			`action="/catalogue/edit"`, "Changing catalogue version 2", "A second administrator must approve this change",
			`id="purposes" name="purposes" rows="25"`, `id="legislation" name="legislation" rows="25"`, `id="criteria" name="criteria" rows="25"`,
			`id="categories" name="categories" rows="25"`, "Data categories and retention schedule", "never removed",
			`id="reason" name="reason"`, "the YAML format of the one shipped with lbm", "the error names the line",
			"# The lawful purposes.\n- id: PREVENT_DETECT_CRIME\n  title: Prevent or detect crime\n",
			"explanation: &gt;-",
		}, nil},
		{sample("catalogue-edit-errors"), []string{"Changing the catalogue built into lbm"}, nil},
		{sample("catalogue-change"), []string{
			`<tr class="govuk-table__row lbm-diff__removed">`, ">Removed<", ">Added<", "Unchanged lines left out",
			"<code>  title: Prevent or detect crime or misconduct</code>", `action="/changes/c-9/approve"`, "Unchanged.",
		}, nil},
	} {
		out := render(t, tt.page, http.StatusOK)
		for _, s := range tt.want {
			if !strings.Contains(out, s) {
				t.Errorf("%s: output lacks %q", tt.page.template(), s)
			}
		}
		for _, s := range tt.not {
			if strings.Contains(out, s) {
				t.Errorf("%s: output contains %q", tt.page.template(), s)
			}
		}
	}
}

// TestAcknowledgeNotConsent checks the product rule that staff acknowledge
// a notice and are never asked to consent: monitoring at work does not
// rest on consent, and saying so would mislead. No template and no page
// may use the word.
func TestAcknowledgeNotConsent(t *testing.T) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(templateFS, name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(string(b)), "consent") {
			t.Errorf("%s says \"consent\"; say \"acknowledge\"", name)
		}
	}
	for _, tt := range samples {
		if out := render(t, tt.page, tt.status); strings.Contains(strings.ToLower(out), "consent") {
			t.Errorf("sample %s says \"consent\"; say \"acknowledge\"", tt.name)
		}
	}
}

// TestMeTellsNothing checks that a person's own page says nothing that
// could tip them off about monitoring of them in particular: it names no
// investigation, authorisation, hold or alert, not even to say there is
// none.
func TestMeTellsNothing(t *testing.T) {
	for _, tt := range samples {
		if _, ok := tt.page.(Me); !ok {
			continue
		}
		out := render(t, tt.page, tt.status)
		text := strings.ToLower(textOf(between(out, "<main", "</main>")))
		for _, bad := range []string{"investigat", "authoris", "authoriz", "hold", "alert", "suspect", "warrant"} {
			if strings.Contains(text, bad) {
				t.Errorf("sample %s: the page says %q", tt.name, bad)
			}
		}
	}
}

// TestEscaping puts hostile text in every field a person or an import could
// have written, and checks that none of it reaches the page as markup.
func TestEscaping(t *testing.T) {
	const js = "javascript:alert(1)"
	l := Layout{
		Title: hostile, Person: hostile, Role: hostile, Notice: hostile,
		Roles:  []Option{{Value: hostile, Label: hostile}},
		Nav:    []NavItem{{Label: hostile, Href: js}},
		Errors: []FieldError{{Field: `x" onmouseover="alert(1)`, Message: hostile}},
	}
	row := ChangeRow{ID: hostile, Target: hostile, TargetHref: js, Summary: hostile, Reason: hostile,
		ProposedBy: hostile, Proposed: hostile, State: hostile, DecidedBy: hostile, Decided: hostile, CanDecide: true}
	pv := PersonView{hostile, hostile, hostile, hostile, hostile, hostile, hostile, hostile, hostile, hostile, hostile, hostile, hostile}
	opt := []Option{{Value: hostile, Label: hostile, Hint: hostile}}
	sar := SubjectAccessRow{ID: hostile, Person: hostile, PersonHref: js, Made: hostile, Details: hostile, State: hostile}
	for _, p := range []Page{
		SignIn{Layout: l, Username: hostile, OIDC: true, Next: hostile},
		StepUp{Layout: l, Next: hostile},
		Setup{Layout: l, Token: hostile, Account: hostile, Secret: hostile, URI: hostile},
		Home{Layout: l, Cards: []Card{{Title: hostile, Href: js, Text: hostile}}},
		People{Layout: l, Query: hostile, Next: js, Total: 1, Rows: []PersonRow{{hostile, hostile, hostile, hostile, hostile, hostile, hostile}}},
		Person{Layout: l, P: pv, Changes: []ChangeRow{row}, CanPropose: true},
		ProposeChange{Layout: l, P: pv, RoleOptions: opt, Advisers: opt, Reason: hostile},
		Catalogue{Layout: l, Heading: hostile, Intro: []string{hostile}, Items: []CatalogueItem{{ID: hostile, Title: hostile, Explanation: hostile, Reference: hostile, Question: hostile, Limits: []string{hostile}}}},
		OversightLog{Layout: l, Older: hostile, Rows: []OversightRow{{Index: hostile, Time: hostile, Actor: hostile, Action: hostile, Details: []string{hostile}}}},
		Changes{Layout: l, Pending: []ChangeRow{row}, Decided: []ChangeRow{row}},
		Message{Layout: l, Heading: hostile, Body: hostile, Status: 500},
		Notice{Layout: l, Heading: hostile, Status: hostile,
			Blocks:     []TextBlock{{Heading: hostile}, {Paragraph: hostile}, {Items: []string{hostile}}},
			ShortLabel: hostile, Short: hostile, ExtraShortLabel: hostile, ExtraShort: hostile,
			Acknowledge: &AcknowledgeBox{Version: hostile}, Publish: &PublishForm{Action: js, Reason: hostile}, Preview: true,
			Links: []Card{{Title: hostile, Href: js, Text: hostile}}},
		Notice{Layout: l, Heading: hostile, Acknowledge: &AcknowledgeBox{Version: hostile, Done: true, When: hostile, Entry: hostile}},
		Notices{Layout: l, CanDraft: true, Current: hostile, Rows: []NoticeRow{{hostile, hostile, hostile, hostile, hostile, hostile, hostile, js}}},
		DraftNotice{Layout: l, Title: hostile, Text: hostile, Short: hostile, PublicText: hostile, PublicShort: hostile, Categories: opt, Basis: hostile},
		NoticeCompliance{Layout: l, Version: hostile, Coverage: hostile, Outstanding: 1, CSVHref: js,
			Units: []ComplianceUnit{{Unit: hostile, Managers: []ComplianceManager{{Manager: hostile, People: []CompliancePerson{{hostile, hostile, hostile}}}}}}},
		Me{Layout: l, Name: hostile, NoticeVersion: hostile, NeedsAcknowledging: true,
			Acknowledgements: []AcknowledgementRow{{hostile, hostile, hostile, hostile, hostile, true}},
			Collected:        []CollectedRow{{hostile, hostile, hostile, hostile}},
			Sources:          []string{hostile}, Requests: []SubjectAccessRow{sar}, Details: hostile},
		SubjectAccessRequests{Layout: l, Rows: []SubjectAccessRow{sar}},
		CatalogueHistory{Layout: l, Current: hostile, CanEdit: true, Rows: []VersionRow{{hostile, hostile, hostile, hostile, hostile, hostile}}},
		CatalogueEdit{Layout: l, Version: hostile, Purposes: hostile, Legislation: hostile, Criteria: hostile, Reason: hostile},
		CatalogueChange{Layout: l, Change: ChangeRow{ID: hostile, Summary: hostile, Reason: hostile, CanDecide: true},
			Files: []FileDiff{{Name: hostile, Hunks: [][]DiffRow{{{hostile, hostile, hostile, hostile}}}}}},
	} {
		out := render(t, p, http.StatusOK)
		checkCSP(t, out)
		if strings.Contains(out, "alert(1)</script>") || strings.Contains(out, `" onmouseover=`) {
			t.Errorf("%s: hostile input reached the page unescaped", p.template())
		}
		if strings.Contains(out, `href="javascript:`) {
			t.Errorf("%s: a javascript: link reached the page", p.template())
		}
		if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") && !strings.Contains(out, "%3cscript%3ealert%281%29%3c%2fscript%3e") {
			t.Errorf("%s: hostile input not shown escaped", p.template())
		}
	}
}

// TestRenderError checks that a page that fails to render leaves no half
// page behind: the client gets a plain 500 and the caller the error.
func TestRenderError(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := Render(w, http.StatusOK, broken{})
	if err == nil {
		t.Fatal("Render(broken) = nil, want an error")
	}
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	if strings.Contains(w.Body.String(), "<") {
		t.Errorf("body %q holds markup", w.Body.String())
	}
}

type broken struct{ Layout }

func (broken) template() string { return "no-such.html" }

// TestRenderStatus checks the status Render writes, including a Message's
// own when the caller passes 0.
func TestRenderStatus(t *testing.T) {
	for _, tt := range []struct {
		p          Page
		status     int
		wantStatus int
	}{
		{Message{Status: 404}, 0, 404},
		{&Message{Status: 403}, 0, 403},
		{Message{Status: 404}, 410, 410},
		{Home{}, 0, 200},
	} {
		w := httptest.NewRecorder()
		if err := Render(w, tt.status, tt.p); err != nil {
			t.Fatal(err)
		}
		if w.Code != tt.wantStatus {
			t.Errorf("Render(%T, %d): status %d, want %d", tt.p, tt.status, w.Code, tt.wantStatus)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("Render(%T): Cache-Control = %q, want no-store", tt.p, got)
		}
	}
}

func TestWriteError(t *testing.T) {
	w := failingWriter{httptest.NewRecorder()}
	if err := Render(w, http.StatusOK, Home{}); !errors.Is(err, errWrite) {
		t.Errorf("Render to a failing writer = %v, want %v", err, errWrite)
	}
}

var errWrite = errors.New("write failed")

type failingWriter struct{ *httptest.ResponseRecorder }

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// checkCSP checks that out runs under script-src 'self' and style-src 'self':
// no inline script, style element or style attribute, and no event handler
// attributes.
func checkCSP(t *testing.T, out string) {
	t.Helper()
	const module = `<script type="module" src="/assets/init.js"></script>`
	if n := strings.Count(out, "<script"); n != 1 || strings.Count(out, module) != 1 {
		t.Errorf("want exactly one script, %s; found %d <script", module, n)
	}
	lower := strings.ToLower(out)
	for _, bad := range []string{" style=", "<style", "javascript:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	if m := regexp.MustCompile(`(?i)\son[a-z]+\s*=`).FindString(tagsOnly(out)); m != "" {
		t.Errorf("output has an event handler attribute %q", m)
	}
	if !strings.Contains(out, `<link rel="stylesheet" href="/assets/lbm.css">`) {
		t.Error("stylesheet /assets/lbm.css not linked")
	}
}

// checkBranding checks that no GOV.UK branding reaches a page.
func checkBranding(t *testing.T, out string) {
	t.Helper()
	lower := strings.ToLower(out)
	for _, bad := range []string{"crown", "crest", "gov.uk", "gds transport", "govuk-logo", "logotype", "govuk-header"} {
		if strings.Contains(lower, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
}

// checkErrors checks the GOV.UK error pattern: a summary linking to each
// field, and each field marked and described by its message.
func checkErrors(t *testing.T, out string, errs []FieldError) {
	t.Helper()
	if has := strings.Contains(out, "govuk-error-summary"); has != (len(errs) > 0) {
		t.Errorf("error summary shown = %v, want %v", has, len(errs) > 0)
	}
	for _, e := range errs {
		if !strings.Contains(out, `<a href="#`+e.Field+`">`+e.Message+`</a>`) {
			t.Errorf("error summary lacks a link to #%s", e.Field)
		}
		if !strings.Contains(out, `id="`+e.Field+`"`) {
			t.Errorf("no element has id %q, the error summary's link target", e.Field)
		}
		if !strings.Contains(out, `id="`+e.Field+`-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> `+e.Message+`</p>`) {
			t.Errorf("field %s does not show its message inline", e.Field)
		}
		if !strings.Contains(out, e.Field+`-error"`) || !regexp.MustCompile(`aria-describedby="[^"]*\b`+regexp.QuoteMeta(e.Field)+`-error\b`).MatchString(out) {
			t.Errorf("field %s is not described by its message", e.Field)
		}
	}
	if n := strings.Count(out, "govuk-form-group--error"); n != len(errs) {
		t.Errorf("%d form groups marked in error, want %d", n, len(errs))
	}
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

var tagRE = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>` + "`" + `]+))?)*)\s*(/?)>`)

// checkHTML checks that out is a well-formed document as our templates
// write them: one doctype, every element closed in order, no stray "<", and
// ids unique, with every label's for= naming an element.
func checkHTML(t *testing.T, out string) {
	t.Helper()
	if !strings.HasPrefix(out, "<!DOCTYPE html>\n") {
		t.Errorf("output does not start with the doctype")
	}
	rest := strings.TrimPrefix(out, "<!DOCTYPE html>\n")
	var stack []string
	ids := map[string]bool{}
	var fors []string
	idRE := regexp.MustCompile(`\sid="([^"]*)"`)
	forRE := regexp.MustCompile(`\sfor="([^"]*)"`)
	for len(rest) > 0 {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		if strings.ContainsAny(rest[:i], ">") {
			t.Errorf("stray > in text near %q", snippet(rest[:i]))
		}
		rest = rest[i:]
		m := tagRE.FindStringSubmatchIndex(rest)
		if m == nil || m[0] != 0 {
			t.Errorf("not a tag at %q", snippet(rest))
			return
		}
		tag := rest[:m[1]]
		closing := rest[m[2]:m[3]] == "/"
		name := strings.ToLower(rest[m[4]:m[5]])
		rest = rest[m[1]:]
		switch {
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Errorf("</%s> closes %v", name, stack)
				return
			}
			stack = stack[:len(stack)-1]
		case voidElements[name]:
		default:
			stack = append(stack, name)
			if name == "script" || name == "textarea" || name == "title" {
				end := strings.Index(rest, "</"+name+">")
				if end < 0 {
					t.Errorf("<%s> is never closed", name)
					return
				}
				if strings.Contains(rest[:end], "<") {
					t.Errorf("<%s> holds %q", name, rest[:end])
				}
				rest = rest[end:]
			}
		}
		if id := idRE.FindStringSubmatch(tag); id != nil {
			if ids[id[1]] {
				t.Errorf("id %q used twice", id[1])
			}
			ids[id[1]] = true
		}
		if f := forRE.FindStringSubmatch(tag); f != nil {
			fors = append(fors, f[1])
		}
	}
	if len(stack) != 0 {
		t.Errorf("unclosed elements %v", stack)
	}
	for _, f := range fors {
		if !ids[f] {
			t.Errorf("label for=%q names no element", f)
		}
	}
}

// checkHeadings checks the page's outline: one h1, and after it no level
// skipped on the way down (h1, h2, h3; never h1 then h3). Headings before
// the h1 are the layout's error summary and success banner, which GOV.UK
// puts above it.
func checkHeadings(t *testing.T, out string) {
	t.Helper()
	levels := regexp.MustCompile(`<h([1-6])[\s>]`).FindAllStringSubmatch(between(out, "<main", "</main>"), -1)
	seen, prev := 0, 0
	for _, m := range levels {
		level := int(m[1][0] - '0')
		if level == 1 {
			seen++
		}
		if seen == 0 {
			continue
		}
		if level > prev+1 {
			t.Errorf("h%d follows h%d: a heading level is skipped", level, prev)
		}
		prev = level
	}
	if seen != 1 {
		t.Errorf("page has %d h1 headings, want 1", seen)
	}
}

// checkTables checks that every table sits in a labelled, focusable
// scrolling region, so that at 320 px wide it scrolls on its own rather than
// making the page scroll sideways (WCAG 1.4.10), and keyboard users can
// scroll it.
func checkTables(t *testing.T, out string) {
	t.Helper()
	wrapped := regexp.MustCompile(`<div class="lbm-scroll"[^>]*>\n<table`).FindAllString(out, -1)
	if n := strings.Count(out, "<table"); n != len(wrapped) {
		t.Errorf("%d tables, %d of them in an lbm-scroll region", n, len(wrapped))
	}
	for _, w := range wrapped {
		for _, attr := range []string{` role="region"`, ` tabindex="0"`, ` aria-label="`} {
			if !strings.Contains(w, attr) {
				t.Errorf("scrolling region %q lacks%s", w, attr)
			}
		}
	}
}

// textOf is the text of some HTML, without its tags.
func textOf(html string) string {
	return tagRE.ReplaceAllString(html, " ")
}

// tagsOnly is out without its text, so that attribute checks do not trip on
// text that merely looks like one.
func tagsOnly(out string) string {
	return strings.Join(tagRE.FindAllString(out, -1), "\n")
}

func between(s, start, end string) string {
	_, after, _ := strings.Cut(s, start)
	before, _, _ := strings.Cut(after, end)
	return before
}

func snippet(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
