package consent

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ranks are identity's rank ids (identity.AllRanks), lowest first. The
// package itself takes the ranks as an argument; the tests cannot import
// identity, which imports this package to read the policy in force, so
// they copy its list, and identity's TestConsentPolicyRanks checks the
// copy still matches.
func ranks() []string {
	return []string{"constable", "sergeant", "inspector", "chief_inspector", "superintendent", "chief_superintendent",
		"commander", "deputy_assistant_commissioner", "assistant_commissioner", "deputy_commissioner", "commissioner"}
}

const (
	day    = 24 * time.Hour
	months = 90 * day // "written authorisations last 3 months" (LEGAL.md §4)
	month  = 30 * day
	week   = 7 * day
)

// review is a metadata-only review of one person's records over 30 days
// in a misconduct investigation: the least intrusive request. Cases
// change what makes them more intrusive.
func review(change func(*Facts)) Facts {
	f := Facts{
		Mode:          ModeReview,
		Categories:    []string{"pnc.lookup"},
		Subjects:      1,
		Collateral:    CollateralLow,
		Investigation: Misconduct,
		Purpose:       "UNAUTHORISED_USE",
		WindowDays:    30,
	}
	if change != nil {
		change(&f)
	}
	return f
}

// live is review with the mode changed to a live one.
func live(mode string, change func(*Facts)) Facts {
	return review(func(f *Facts) {
		f.Mode, f.Live, f.WindowDays = mode, true, 0
		if change != nil {
			change(f)
		}
	})
}

func TestDefault(t *testing.T) {
	p, err := ParsePolicy(DefaultFile(), ranks())
	if err != nil {
		t.Fatalf("ParsePolicy(default.yaml) = %v", err)
	}
	if len(p.rules) == 0 || p.urgent == nil {
		t.Fatalf("default policy has %d rules and urgent %v", len(p.rules), p.urgent)
	}
	if Default(ranks()) != Default(ranks()) {
		t.Errorf("Default parsed twice for the same ranks")
	}
}

// TestDefaultPolicy is the table of the default policy. Each case's
// comment says, from LEGAL.md §4 (and §2, §5 where cited), what the
// request should need; the expected Requirement was written from that
// comment before the engine ran.
func TestDefaultPolicy(t *testing.T) {
	p := Default(ranks())
	urgent := &UrgentRoute{MinRank: "inspector", MaxDuration: 72 * time.Hour}
	tests := []struct {
		name  string
		facts Facts
		want  Requirement
	}{
		{
			// The least intrusive request: one constable's PNC lookups
			// over 30 days, metadata already held, misconduct. §4 gives
			// directed surveillance to a Superintendent; a review of the
			// force's own audit records is the policy's base: Inspector,
			// 3 months, reviewed monthly, no RIPA (not live, §2 Bartram).
			name:  "metadata review of one constable's PNC lookups",
			facts: review(nil),
			want:  Requirement{Level: 1, MinRank: "inspector", MaxDuration: months, ReviewInterval: month},
		},
		{
			// Reading e-mail content: content is more intrusive than
			// metadata (§3 EXTENT): a Superintendent, as for directed
			// surveillance (§4).
			name: "content review of e-mail",
			facts: review(func(f *Facts) {
				f.Categories, f.Content = []string{"email.message"}, true
			}),
			want: Requirement{Level: 2, MinRank: "superintendent", MaxDuration: months, ReviewInterval: month},
		},
		{
			// Live monitoring of metadata in a criminal investigation is
			// directed surveillance: Superintendent (§4) and a RIPA
			// reference (§2 RIPA 2000 Part II).
			name: "live monitoring of metadata, criminal",
			facts: live(ModeMonitor, func(f *Facts) {
				f.Investigation, f.Purpose = Criminal, "PREVENT_DETECT_CRIME"
			}),
			want: Requirement{Level: 3, MinRank: "superintendent", MaxDuration: months, ReviewInterval: month, RIPARequired: true},
		},
		{
			// The same in a misconduct-only investigation: outside RIPA
			// (Bartram and Howe v BTP, §2), still a Superintendent.
			name:  "live monitoring of metadata, misconduct",
			facts: live(ModeMonitor, nil),
			want:  Requirement{Level: 3, MinRank: "superintendent", MaxDuration: months, ReviewInterval: month},
		},
		{
			// Live monitoring of e-mail content in a criminal
			// investigation: interception (§2 IPA) at the highest level
			// short of confidential material; Superintendent, RIPA.
			name: "live monitoring of content, criminal",
			facts: live(ModeMonitor, func(f *Facts) {
				f.Investigation, f.Purpose, f.Content = Criminal, "PREVENT_DETECT_CRIME", true
				f.Categories = []string{"email.message"}
			}),
			want: Requirement{Level: 4, MinRank: "superintendent", MaxDuration: months, ReviewInterval: month, RIPARequired: true},
		},
		{
			// Recording keeps message content beyond the default: new
			// processing of personal data, so the DPO's view (§5 DPIA);
			// live, so a Superintendent; misconduct, so no RIPA.
			name: "record mode, misconduct",
			facts: live(ModeRecord, func(f *Facts) {
				f.Content, f.Categories = true, []string{"email.message"}
			}),
			want: Requirement{Level: 4, MinRank: "superintendent", Advisers: []string{"dpo"}, MaxDuration: months, ReviewInterval: month},
		},
		{
			// Recording metadata in a criminal investigation: DPO view,
			// Superintendent, RIPA reference.
			name: "record mode, criminal",
			facts: live(ModeRecord, func(f *Facts) {
				f.Investigation, f.Purpose = Criminal, "PREVENT_DETECT_CRIME"
			}),
			want: Requirement{Level: 4, MinRank: "superintendent", Advisers: []string{"dpo"}, MaxDuration: months, ReviewInterval: month, RIPARequired: true},
		},
		{
			// A content review likely to meet e-mail with the officer's
			// solicitor: legal privilege is confidential material, which
			// needs a chief officer (Assistant Commissioner, verify) and
			// a legal view, reviewed more often (§4).
			name: "content review with legal privilege",
			facts: review(func(f *Facts) {
				f.Content, f.Categories = true, []string{"email.message"}
				f.Confidential = []string{LegalPrivilege}
			}),
			want: Requirement{Level: 5, MinRank: "assistant_commissioner", Advisers: []string{"legal"}, MaxDuration: months, ReviewInterval: week},
		},
		{
			// Metadata that may show calls to the confidential reporting
			// line: whistleblowing material is confidential (§2 PIDA,
			// §4): chief officer, legal view, weekly reviews; and never
			// used to identify a whistleblower, so an ethics view too.
			name: "whistleblowing material",
			facts: review(func(f *Facts) {
				f.Categories = []string{"phone.call"}
				f.Confidential = []string{Whistleblowing}
			}),
			want: Requirement{Level: 5, MinRank: "assistant_commissioner", Advisers: []string{"ethics", "legal"}, MaxDuration: months, ReviewInterval: week},
		},
		{
			// Content that may include an occupational-health referral:
			// health is confidential personal information (§4).
			name: "health material",
			facts: review(func(f *Facts) {
				f.Content, f.Categories = true, []string{"email.message"}
				f.Confidential = []string{Health}
			}),
			want: Requirement{Level: 5, MinRank: "assistant_commissioner", Advisers: []string{"legal"}, MaxDuration: months, ReviewInterval: week},
		},
		{
			// Content of a Federation representative's mailbox: union /
			// staff-association communications are confidential for lbm
			// (§4); like whistleblowing, an ethics view too.
			name: "union communications",
			facts: review(func(f *Facts) {
				f.Content, f.Categories = true, []string{"email.message"}
				f.Confidential = []string{Union}
			}),
			want: Requirement{Level: 5, MinRank: "assistant_commissioner", Advisers: []string{"ethics", "legal"}, MaxDuration: months, ReviewInterval: week},
		},
		{
			// Five officers' PNC lookups: more subjects raise the level;
			// a Superintendent and an ethics view.
			name:  "five subjects",
			facts: review(func(f *Facts) { f.Subjects = 5 }),
			want:  Requirement{Level: 3, MinRank: "superintendent", Advisers: []string{"ethics"}, MaxDuration: months, ReviewInterval: month},
		},
		{
			// Three subjects is still a few people: the base.
			name:  "three subjects",
			facts: review(func(f *Facts) { f.Subjects = 3 }),
			want:  Requirement{Level: 1, MinRank: "inspector", MaxDuration: months, ReviewInterval: month},
		},
		{
			// A shared custody-suite mailbox: high collateral intrusion
			// raises the level and, per §4, reviews are more frequent;
			// Superintendent and ethics view.
			name:  "high collateral intrusion",
			facts: review(func(f *Facts) { f.Collateral = CollateralHigh }),
			want:  Requirement{Level: 3, MinRank: "superintendent", Advisers: []string{"ethics"}, MaxDuration: months, ReviewInterval: week},
		},
		{
			// Medium collateral intrusion on a content review: nothing
			// beyond what content needs.
			name: "medium collateral content review",
			facts: review(func(f *Facts) {
				f.Collateral, f.Content = CollateralMedium, true
			}),
			want: Requirement{Level: 2, MinRank: "superintendent", MaxDuration: months, ReviewInterval: month},
		},
		{
			// Urgent live monitoring in a criminal case (a bribe to be
			// paid tonight): normally a Superintendent, so an Inspector
			// may authorise for at most 72 hours, lapsing unless
			// ratified (§4).
			name: "urgent live monitoring",
			facts: live(ModeMonitor, func(f *Facts) {
				f.Investigation, f.Purpose, f.Urgent = Criminal, "PREVENT_DETECT_CRIME", true
			}),
			want: Requirement{Level: 3, MinRank: "superintendent", MaxDuration: months, ReviewInterval: month, RIPARequired: true, Urgent: urgent},
		},
		{
			// Urgent content review: also a Superintendent's decision, so
			// the urgent route is open.
			name: "urgent content review",
			facts: review(func(f *Facts) {
				f.Content, f.Urgent = true, true
			}),
			want: Requirement{Level: 2, MinRank: "superintendent", MaxDuration: months, ReviewInterval: month, Urgent: urgent},
		},
		{
			// Urgent, but with legal privilege likely: a chief officer's
			// decision; §4's urgent route replaces a Superintendent only,
			// so it is not open.
			name: "urgent with confidential material",
			facts: live(ModeMonitor, func(f *Facts) {
				f.Investigation, f.Purpose, f.Urgent = Criminal, "PREVENT_DETECT_CRIME", true
				f.Confidential = []string{LegalPrivilege}
			}),
			want: Requirement{Level: 5, MinRank: "assistant_commissioner", Advisers: []string{"legal"}, MaxDuration: months, ReviewInterval: week, RIPARequired: true},
		},
		{
			// Urgent metadata review: an Inspector may authorise it
			// anyway, so no urgent route (and no 72-hour limit).
			name:  "urgent metadata review",
			facts: review(func(f *Facts) { f.Urgent = true }),
			want:  Requirement{Level: 1, MinRank: "inspector", MaxDuration: months, ReviewInterval: month},
		},
		{
			// National security (§1: only the bodies IPA s.18(1) lists):
			// exceptional; a chief officer and a legal view (verify).
			name: "national security purpose",
			facts: review(func(f *Facts) {
				f.Purpose, f.Investigation = "NATIONAL_SECURITY", Criminal
			}),
			want: Requirement{Level: 5, MinRank: "assistant_commissioner", Advisers: []string{"legal"}, MaxDuration: months, ReviewInterval: month},
		},
		{
			// Two years of one officer's lookups: not limited in time
			// (§3 EXTENT): a Superintendent.
			name:  "long history",
			facts: review(func(f *Facts) { f.WindowDays = 730 }),
			want:  Requirement{Level: 2, MinRank: "superintendent", MaxDuration: months, ReviewInterval: month},
		},
		{
			// Everything at once: recording content of six officers in a
			// criminal case, high collateral, journalistic material.
			// Chief officer; DPO, ethics and legal views; weekly
			// reviews; RIPA reference.
			name: "record, many subjects, high collateral, journalistic",
			facts: live(ModeRecord, func(f *Facts) {
				f.Investigation, f.Purpose, f.Content = Criminal, "PREVENT_DETECT_CRIME", true
				f.Subjects, f.Collateral = 6, CollateralHigh
				f.Confidential = []string{Journalistic}
			}),
			want: Requirement{Level: 5, MinRank: "assistant_commissioner", Advisers: []string{"dpo", "ethics", "legal"}, MaxDuration: months, ReviewInterval: week, RIPARequired: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, e, err := p.Derive(tt.facts)
			if err != nil {
				t.Fatalf("Derive(%+v) = %v", tt.facts, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Derive(%+v) (-want +got):\n%s\n%s", tt.facts, diff, e)
			}
			if diff := cmp.Diff(got, e.Result); diff != "" {
				t.Errorf("Explanation.Result differs from the requirement (-req +result):\n%s", diff)
			}
		})
	}
}

// TestNoDirectoryImport checks that the package keeps to its word: it
// takes ranks as an argument and does not import the directory.
func TestNoDirectoryImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/lbm-project/lbm/internal/") && !strings.HasSuffix(dep, "/safetext") &&
			!strings.HasSuffix(dep, "/strictyaml") && !strings.HasSuffix(dep, "/consent") {
			t.Errorf("consent depends on %s; it may use only internal/safetext and internal/strictyaml", dep)
		}
	}
	if !bytes.Contains(out, []byte("github.com/google/cel-go/cel")) {
		t.Errorf("go list -deps does not list cel-go: is the test running in internal/consent?")
	}
}
