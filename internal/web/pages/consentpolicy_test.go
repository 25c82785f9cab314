package pages

import (
	"net/http"
	"strings"
	"testing"
)

const policyYAML = "base:\n  level: 1\n  min_rank: inspector\n  max_duration: 90d\n  review_interval: 30d\nrules: []\n"

// TestConsentPolicyPages renders the policy's pages with the checks every
// page passes, and what each must say and offer.
func TestConsentPolicyPages(t *testing.T) {
	diff := FileDiff{Name: "policy.yaml", Hunks: [][]DiffRow{
		{{"kept", "2", "2", "  level: 1"}, {"removed", "3", "", "  min_rank: inspector"}, {"added", "", "3", "  min_rank: superintendent"}},
	}}
	for _, tt := range []struct {
		name       string
		page       Page
		status     int
		want, not  []string
		wantErrors bool
	}{
		{"history", ConsentPolicyHistory{Layout: admin("Authorisation levels"), Current: "2", Policy: policyYAML, CanEdit: true, Rows: []VersionRow{
			{Version: "2", Created: "12 November 2026", Change: "9f2c41d0", ProposedBy: "adm1", ApprovedBy: "adm2", Reason: "Superintendents for content"},
			{Version: "1", Created: "2 March 2026", Change: "03ab", ProposedBy: "adm2", ApprovedBy: "adm1", Reason: "First"},
			{Version: "0", Reason: "The policy built into lbm, from LEGAL.md"},
		}}, http.StatusOK, []string{
			"Version 2 is in force.", `href="/consent-policy/edit"`, ">Propose a change</a>", `2 <strong class="govuk-tag govuk-tag--green">In force</strong>`,
			"<code>9f2c41d0</code>", "Superintendents for content", `lbm-secondary">Built into lbm</span>`, "<pre><code>base:\n  level: 1\n",
			"second administrator approves",
		}, []string{`1 <strong`, `0 <strong`}, false},
		{"history-built-in", ConsentPolicyHistory{Layout: admin("Authorisation levels"), Current: "0", Policy: policyYAML, Rows: []VersionRow{
			{Version: "0", Reason: "The policy built into lbm, from LEGAL.md"},
		}}, http.StatusOK, []string{
			"The policy built into lbm is in force", `0 <strong class="govuk-tag govuk-tag--green">In force</strong>`,
		}, []string{"/edit", "Version 0"}, false},
		{"edit", ConsentPolicyEdit{Layout: admin("Propose a change to the authorisation levels"), Version: "2", YAML: policyYAML}, http.StatusOK, []string{
			`action="/consent-policy/edit"`, `href="/consent-policy">Cancel`, "Changing policy version 2", "A second administrator must approve this change",
			`id="yaml" name="yaml" rows="30" spellcheck="false"`, `id="reason" name="reason"`, "the error names the line", "min_rank: inspector\n",
		}, nil, false},
		{"edit-errors", ConsentPolicyEdit{Layout: withErrors(admin("Propose a change to the authorisation levels"),
			FieldError{"yaml", "line 3: colour: unknown key"}, FieldError{"reason", "say why the change is needed"}),
			Version: "0", YAML: "base:\n  level: 1\n  colour: red\n"}, http.StatusBadRequest, []string{
			"Changing the policy built into lbm", `href="#yaml"`, "line 3: colour: unknown key", "govuk-textarea--error", "colour: red",
		}, nil, true},
		{"change", ConsentPolicyChange{Layout: admin("Change to the authorisation levels"),
			Change: ChangeRow{ID: "c-9", Target: "Authorisation levels", Summary: "Replace version 0 with version 1", Reason: "Superintendents for content",
				ProposedBy: "adm1", Proposed: "27 November 2026 09:30 UTC", State: "Pending", CanDecide: true},
			Files: []FileDiff{diff}}, http.StatusOK, []string{
			`<tr class="govuk-table__row lbm-diff__removed">`, ">Removed<", ">Added<", "<code>  min_rank: superintendent</code>",
			`action="/changes/c-9/approve"`, `action="/changes/c-9/reject"`, "policy.yaml",
		}, []string{"Unchanged."}, false},
		{"change-decided", ConsentPolicyChange{Layout: admin("Change to the authorisation levels"),
			Change: ChangeRow{ID: "c-9", Summary: "Replace version 0 with version 1", Reason: "r", ProposedBy: "adm1", State: "Approved", DecidedBy: "adm2"},
			Files:  []FileDiff{{Name: "policy.yaml"}}}, http.StatusOK, []string{"Unchanged.", "adm2"}, []string{"/approve"}, false},
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
			// The paths say "consent"; nothing a person reads does.
			text := strings.NewReplacer("/consent-policy", "").Replace(out)
			if strings.Contains(strings.ToLower(text), "consent") {
				t.Error("the page says \"consent\" outside its paths")
			}
		})
	}
}

// TestConsentPolicyEscaping: hostile text in every field stays text.
func TestConsentPolicyEscaping(t *testing.T) {
	const hostile = `<script>alert(1)</script>"'&`
	l := withErrors(admin(hostile), FieldError{"yaml", hostile})
	for _, p := range []Page{
		ConsentPolicyHistory{Layout: l, Current: hostile, Policy: hostile, CanEdit: true, Rows: []VersionRow{{hostile, hostile, hostile, hostile, hostile, hostile}}},
		ConsentPolicyEdit{Layout: l, Version: hostile, YAML: hostile, Reason: hostile},
		ConsentPolicyChange{Layout: l, Change: ChangeRow{ID: hostile, Summary: hostile, Reason: hostile, CanDecide: true},
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
