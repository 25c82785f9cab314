package pages

import (
	"net/http"
	"strings"
	"testing"
)

const rulesYAML = "rules:\n  - id: self-lookup\n    title: Look-up of oneself\n    severity: high\n"

// TestRulesPages renders the detection rules' pages with the checks every
// page passes, and what each must say and offer.
func TestRulesPages(t *testing.T) {
	diff := FileDiff{Name: "rules.yaml", Hunks: [][]DiffRow{
		{{"kept", "2", "2", "  - id: self-lookup"}, {"removed", "4", "", "    severity: high"}, {"added", "", "4", "    severity: critical"}},
	}}
	rules := []RuleRow{
		{ID: "self-lookup", Title: "Look-up of oneself or one's household", Severity: "high", SeverityColour: "orange", Lists: []string{"OWN_SURNAME_ADDRESS", "HOUSEHOLD"}},
		{ID: "health-lookup", Title: "Look-up of a medical record", Severity: "critical", SeverityColour: "red", SpecialCategory: true},
	}
	for _, tt := range []struct {
		name      string
		page      Page
		status    int
		want, not []string
	}{
		{"history", RulesHistory{Layout: admin("Detection rules"), Current: "2", YAML: rulesYAML, Rules: rules, CanEdit: true, Rows: []VersionRow{
			{Version: "2", Created: "12 November 2026", Change: "9f2c41d0", ProposedBy: "adm1", ApprovedBy: "adm2", Reason: "Critical for oneself"},
			{Version: "1", Created: "2 March 2026", Change: "03ab", ProposedBy: "adm2", ApprovedBy: "adm1", Reason: "First"},
			{Version: "0", Reason: "The rules built into lbm"},
		}}, http.StatusOK, []string{
			"<h1 class=\"govuk-heading-l\">Detection rules</h1>", "Version 2 is in force.", `href="/rules/edit"`, ">Propose a change</a>",
			`2 <strong class="govuk-tag govuk-tag--green">In force</strong>`, "<code>9f2c41d0</code>", "Critical for oneself",
			`lbm-secondary">Built into lbm</span>`, "<pre><code>rules:\n  - id: self-lookup\n", "second administrator approves",
			"<code>self-lookup</code>", `<strong class="govuk-tag govuk-tag--orange">high</strong>`,
			"<code>OWN_SURNAME_ADDRESS</code>, <code>HOUSEHOLD</code>", "<td class=\"govuk-table__cell\">Yes</td>", "<td class=\"govuk-table__cell\">No</td>",
		}, []string{`1 <strong`, `0 <strong`, "cannot read"}},
		{"history-built-in", RulesHistory{Layout: admin("Detection rules"), Current: "0", YAML: rulesYAML, Rules: rules[:1], Rows: []VersionRow{
			{Version: "0", Reason: "The rules built into lbm"},
		}}, http.StatusOK, []string{
			"The rules built into lbm are in force", `0 <strong class="govuk-tag govuk-tag--green">In force</strong>`,
		}, []string{"/edit", "Version 0"}},
		{"history-unreadable", RulesHistory{Layout: admin("Detection rules"), Current: "3", YAML: rulesYAML,
			Unreadable: "rules.yaml: line 2: rule self-lookup: lists: no list OWN_SURNAME_ADDRESS", Rows: []VersionRow{{Version: "0"}}},
			http.StatusOK, []string{"lbm cannot read the rules in force: rules.yaml: line 2", "<pre><code>rules:"}, []string{"Rules in force</caption>"}},
		{"edit", RulesEdit{Layout: admin("Propose a change to the detection rules"), Version: "2", YAML: rulesYAML}, http.StatusOK, []string{
			`action="/rules/edit"`, `href="/rules">Cancel`, "Changing rules version 2", "A second administrator must approve this change",
			`id="yaml" name="yaml" rows="30" spellcheck="false"`, `id="reason" name="reason"`, "the error names the line", "severity: high\n",
		}, nil},
		{"edit-errors", RulesEdit{Layout: withErrors(admin("Propose a change to the detection rules"),
			FieldError{"yaml", "rules.yaml: line 3: rule bulk: colour: unknown key"}, FieldError{"reason", "say why the change is needed"}),
			Version: "0", YAML: "rules:\n  - id: bulk\n    colour: red\n"}, http.StatusBadRequest, []string{
			"Changing the rules built into lbm", `href="#yaml"`, "line 3: rule bulk: colour: unknown key", "govuk-textarea--error", "colour: red",
		}, nil},
		{"change", RulesChange{Layout: admin("Change to the detection rules"),
			Change: ChangeRow{ID: "c-9", Target: "Detection rules", Summary: "Replace version 0 of the detection rules with version 1", Reason: "Critical for oneself",
				ProposedBy: "adm1", Proposed: "27 November 2026 09:30 UTC", State: "Pending", CanDecide: true},
			Files: []FileDiff{diff}}, http.StatusOK, []string{
			"Change to the detection rules</h1>", `<tr class="govuk-table__row lbm-diff__removed">`, ">Removed<", ">Added<",
			"<code>    severity: critical</code>", `action="/changes/c-9/approve"`, `action="/changes/c-9/reject"`, "rules.yaml",
			"Approve<span class=\"govuk-visually-hidden\"> this change to the detection rules</span>",
		}, []string{"Unchanged."}},
		{"change-decided", RulesChange{Layout: admin("Change to the detection rules"),
			Change: ChangeRow{ID: "c-9", Summary: "Replace version 0 of the detection rules with version 1", Reason: "r", ProposedBy: "adm1", State: "Approved", DecidedBy: "adm2"},
			Files:  []FileDiff{{Name: "rules.yaml"}}}, http.StatusOK, []string{"Unchanged.", "adm2"}, []string{"/approve"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.page, tt.status)
			checkHTML(t, out)
			checkCSP(t, out)
			checkBranding(t, out)
			checkErrors(t, out, tt.page.layout().Errors)
			checkHeadings(t, out)
			checkTables(t, out)
			for _, s := range tt.want {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(out, s) {
					t.Errorf("output contains %q", s)
				}
			}
		})
	}
}

// TestRulesEscaping: hostile text in every field stays text.
func TestRulesEscaping(t *testing.T) {
	const hostile = `<script>alert(1)</script>"'&`
	l := withErrors(admin(hostile), FieldError{"yaml", hostile})
	for _, p := range []Page{
		RulesHistory{Layout: l, Current: hostile, YAML: hostile, Unreadable: hostile, CanEdit: true,
			Rules: []RuleRow{{ID: hostile, Title: hostile, Severity: hostile, SeverityColour: hostile, Lists: []string{hostile}}},
			Rows:  []VersionRow{{hostile, hostile, hostile, hostile, hostile, hostile}}},
		RulesEdit{Layout: l, Version: hostile, YAML: hostile, Reason: hostile},
		RulesChange{Layout: l, Change: ChangeRow{ID: hostile, Summary: hostile, Reason: hostile, CanDecide: true},
			Files: []FileDiff{{Name: hostile, Hunks: [][]DiffRow{{{"added", "1", "1", hostile}}}}}},
	} {
		out := render(t, p, http.StatusBadRequest)
		if strings.Contains(out, "<script>alert") {
			t.Errorf("%s: hostile input reached the page unescaped", p.template())
		}
		if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: hostile input not shown escaped", p.template())
		}
	}
}
