package requests

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/policy"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const noticeRecord = "Acknowledged the monitoring notice v3 on 2025-11-04."

// validRequest returns a request that passes Validate with validInput.
// Every justification is written to be unlike every other.
func validRequest() Request {
	return Request{
		ID:            "r1",
		Reference:     "ACAC-2026-0001",
		Requester:     "ivy",
		Subjects:      []string{"sam"},
		Investigators: []string{"ivy", "ian"},
		Categories:    []CategoryScope{{Category: "record_query"}, {Category: "email", Content: true}},
		Mode:          consent.ModeReview,
		Window:        &Window{From: t0.AddDate(0, -2, 0), To: t0.AddDate(0, 0, -1)},
		Purpose:       "PREVENT_DETECT_CRIME",
		Investigation: consent.Misconduct,
		Operation:     Operation{Name: "Lantern", Reference: "OP-77"},
		DPIAReference: "DPIA-2026-03",
		Necessity:     "Intelligence shows the subject ran twelve PNC checks on a neighbour with no linked case or tasking.",
		Criteria: map[string]string{
			"NOTICE":            "The subject also attended the information security briefing in January where monitoring was explained.",
			"EXTENT":            "Query metadata for two months and e-mail content only for the three days around each check.",
			"LEGITIMATE_REASON": "Suspected misuse of police systems for a personal purpose is gross misconduct under the standards.",
			"LESS_INTRUSIVE":    "Asking the subject first would alert them; the audit summary alone cannot show who was searched.",
			"CONSEQUENCES":      "Findings may lead to a misconduct hearing; unrelated personal messages are not read or kept.",
			"SAFEGUARDS":        "Two named investigators only, other people pseudonymised, results held in the case file for six years.",
			"REMEDY":            "The subject can challenge the use of the material at the hearing and complain to the IOPC afterwards.",
		},
		NoticeRecord: noticeRecord,
		Collateral:   Collateral{Level: consent.CollateralLow, Explanation: "The neighbour's own record appears in results; no other colleague's activity is examined."},
	}
}

func validInput() ValidationInput {
	people := map[string]bool{"ivy": true, "ian": true, "sam": true, "sue": true}
	return ValidationInput{
		Catalogue:    policy.Default(),
		Categories:   policy.DefaultCategories(),
		PersonExists: func(id string) bool { return people[id] },
		NoticeRecord: noticeRecord,
		Now:          t0,
	}
}

func TestValidateValid(t *testing.T) {
	if err := Validate(validRequest(), validInput()); err != nil {
		t.Fatalf("Validate(valid) = %v, want nil", err)
	}
	live := validRequest()
	live.Mode, live.Window, live.LawfulBasis = consent.ModeMonitor, nil, "PREVENT_DETECT_CRIME"
	if err := Validate(live, validInput()); err != nil {
		t.Fatalf("Validate(live) = %v, want nil", err)
	}
	// NOTICE may be left to the acknowledgement records.
	r := validRequest()
	delete(r.Criteria, "NOTICE")
	if err := Validate(r, validInput()); err != nil {
		t.Fatalf("Validate(no NOTICE addition) = %v, want nil", err)
	}
}

func TestValidate(t *testing.T) {
	long := "This explanation is long enough and has more than eight distinct words in it, really."
	tests := []struct {
		name  string
		edit  func(r *Request, in *ValidationInput)
		field string // the field that must be reported
		msg   string // a substring of its message
	}{
		{"no requester", func(r *Request, _ *ValidationInput) { r.Requester = "" }, "requester", "required"},
		{"unknown requester", func(r *Request, _ *ValidationInput) { r.Requester = "ghost" }, "requester", "not in the directory"},
		{"no subjects", func(r *Request, _ *ValidationInput) { r.Subjects = nil }, "subjects", "required"},
		{"empty subject", func(r *Request, _ *ValidationInput) { r.Subjects = []string{""} }, "subjects[0]", "empty"},
		{"duplicate subject", func(r *Request, _ *ValidationInput) { r.Subjects = []string{"sam", "sam"} }, "subjects[1]", "twice"},
		{"unknown subject", func(r *Request, _ *ValidationInput) { r.Subjects = []string{"nobody"} }, "subjects[0]", "not in the directory"},
		{"nil directory", func(_ *Request, in *ValidationInput) { in.PersonExists = nil }, "subjects[0]", "not in the directory"},
		{"requester is subject", func(r *Request, _ *ValidationInput) { r.Subjects = []string{"sam", "ivy"} }, "subjects", "themselves"},
		{"no investigators", func(r *Request, _ *ValidationInput) { r.Investigators = nil }, "investigators", "required"},
		{"unknown investigator", func(r *Request, _ *ValidationInput) { r.Investigators = []string{"ghost"} }, "investigators[0]", "not in the directory"},
		{"investigator is subject", func(r *Request, _ *ValidationInput) { r.Investigators = []string{"sam"} }, "investigators[0]", "subject"},
		{"no categories", func(r *Request, _ *ValidationInput) { r.Categories = nil }, "categories", "required"},
		{"unknown category", func(r *Request, _ *ValidationInput) { r.Categories = []CategoryScope{{Category: "dreams"}} }, "categories[0].category", "unknown"},
		{"duplicate category", func(r *Request, _ *ValidationInput) {
			r.Categories = []CategoryScope{{Category: "email"}, {Category: "email", Content: true}}
		}, "categories[1].category", "twice"},
		{"empty source", func(r *Request, _ *ValidationInput) { r.Sources = []string{""} }, "sources[0]", "empty"},
		{"duplicate source", func(r *Request, _ *ValidationInput) { r.Sources = []string{"pnc", "pnc"} }, "sources[1]", "twice"},
		{"no mode", func(r *Request, _ *ValidationInput) { r.Mode = "" }, "mode", "required"},
		{"unknown mode", func(r *Request, _ *ValidationInput) { r.Mode = "watch" }, "mode", "unknown"},
		{"no purpose", func(r *Request, _ *ValidationInput) { r.Purpose = "" }, "purpose", "required"},
		{"unknown purpose", func(r *Request, _ *ValidationInput) { r.Purpose = "CURIOSITY" }, "purpose", "unknown"},
		{"monitor-only purpose, record", func(r *Request, _ *ValidationInput) {
			r.Mode, r.Window, r.LawfulBasis, r.Purpose = consent.ModeRecord, nil, "PREVENT_DETECT_CRIME", "RELEVANCE_CHECK"
		}, "purpose", "never recording"},
		{"monitor-only lawful basis, record", func(r *Request, _ *ValidationInput) {
			r.Mode, r.Window, r.LawfulBasis = consent.ModeRecord, nil, "CONFIDENTIAL_HELPLINE"
		}, "lawful_basis", "never recording"},
		{"restricted purpose", func(r *Request, _ *ValidationInput) { r.Purpose = "NATIONAL_SECURITY" }, "purpose", "only by"},
		{"no window", func(r *Request, _ *ValidationInput) { r.Window = nil }, "window", "required"},
		{"window backwards", func(r *Request, _ *ValidationInput) { r.Window.From, r.Window.To = r.Window.To, r.Window.From }, "window", "before"},
		{"window empty", func(r *Request, _ *ValidationInput) { r.Window.From = r.Window.To }, "window", "before"},
		{"window in the future", func(r *Request, _ *ValidationInput) { r.Window.To = t0.Add(time.Hour) }, "window.to", "future"},
		{"lawful basis on review", func(r *Request, _ *ValidationInput) { r.LawfulBasis = "PREVENT_DETECT_CRIME" }, "lawful_basis", "only for live"},
		{"warrant reference on review", func(r *Request, _ *ValidationInput) { r.WarrantReference = "W-1" }, "warrant_reference", "only for live"},
		{"live with window", func(r *Request, _ *ValidationInput) {
			r.Mode, r.LawfulBasis = consent.ModeMonitor, "PREVENT_DETECT_CRIME"
		}, "window", "not for live"},
		{"live without lawful basis", func(r *Request, _ *ValidationInput) { r.Mode, r.Window = consent.ModeMonitor, nil }, "lawful_basis", "required"},
		{"live, unknown lawful basis", func(r *Request, _ *ValidationInput) {
			r.Mode, r.Window, r.LawfulBasis = consent.ModeMonitor, nil, "HUNCH"
		}, "lawful_basis", "unknown"},
		{"warrant without reference", func(r *Request, _ *ValidationInput) {
			r.Mode, r.Window, r.LawfulBasis = consent.ModeMonitor, nil, Warrant
		}, "warrant_reference", "required"},
		{"warrant reference without warrant", func(r *Request, _ *ValidationInput) {
			r.Mode, r.Window, r.LawfulBasis, r.WarrantReference = consent.ModeMonitor, nil, "PREVENT_DETECT_CRIME", "W-1"
		}, "warrant_reference", "only when"},
		{"criminal live without RIPA", func(r *Request, _ *ValidationInput) {
			r.Mode, r.Window, r.LawfulBasis, r.Investigation = consent.ModeMonitor, nil, "PREVENT_DETECT_CRIME", consent.Criminal
		}, "ripa_reference", "RIPA"},
		{"misconduct with RIPA", func(r *Request, _ *ValidationInput) { r.RIPAReference = "RIPA-1" }, "ripa_reference", "Art 8"},
		{"no investigation", func(r *Request, _ *ValidationInput) { r.Investigation = "" }, "investigation", "required"},
		{"unknown investigation", func(r *Request, _ *ValidationInput) { r.Investigation = "hunch" }, "investigation", "unknown"},
		{"no operation name", func(r *Request, _ *ValidationInput) { r.Operation.Name = " " }, "operation.name", "required"},
		{"no operation reference", func(r *Request, _ *ValidationInput) { r.Operation.Reference = "" }, "operation.reference", "required"},
		{"content without DPIA", func(r *Request, _ *ValidationInput) { r.DPIAReference = "" }, "dpia_reference", "required"},
		{"notice record changed", func(r *Request, _ *ValidationInput) { r.NoticeRecord = "" }, "notice_record", "cannot be changed"},
		{"unknown criterion", func(r *Request, _ *ValidationInput) { r.Criteria["VIBES"] = long }, "criteria.VIBES", "unknown"},
		{"criterion missing", func(r *Request, _ *ValidationInput) { delete(r.Criteria, "REMEDY") }, "criteria.REMEDY", "required"},
		{"NOTICE missing without records", func(r *Request, in *ValidationInput) {
			delete(r.Criteria, "NOTICE")
			r.NoticeRecord, in.NoticeRecord = "", ""
		}, "criteria.NOTICE", "required"},
		{"no collateral level", func(r *Request, _ *ValidationInput) { r.Collateral.Level = "" }, "collateral.level", "required"},
		{"unknown collateral level", func(r *Request, _ *ValidationInput) { r.Collateral.Level = "tiny" }, "collateral.level", "unknown"},
		{"no collateral explanation", func(r *Request, _ *ValidationInput) { r.Collateral.Explanation = "" }, "collateral.explanation", "required"},
		{"unknown confidential kind", func(r *Request, _ *ValidationInput) {
			r.Confidential = Confidential{Kinds: []string{"gossip"}, Explanation: long}
		}, "confidential.kinds[0]", "unknown"},
		{"duplicate confidential kind", func(r *Request, _ *ValidationInput) {
			r.Confidential = Confidential{Kinds: []string{consent.Health, consent.Health}, Explanation: long}
		}, "confidential.kinds[1]", "twice"},
		{"confidential without explanation", func(r *Request, _ *ValidationInput) {
			r.Confidential.Kinds = []string{consent.Union}
		}, "confidential.explanation", "required"},
		{"urgent without why", func(r *Request, _ *ValidationInput) { r.Urgent.Urgent = true }, "urgent.why", "required"},

		// The justification rule.
		{"a dot", func(r *Request, _ *ValidationInput) { r.Necessity = "." }, "necessity", "too short"},
		{"white space", func(r *Request, _ *ValidationInput) { r.Necessity = " \t\n " }, "necessity", "required"},
		{"long but few words", func(r *Request, _ *ValidationInput) {
			r.Necessity = "Supercalifragilisticexpialidocious antidisestablishmentarianism"
		}, "necessity", "too short"},
		{"many short words", func(r *Request, _ *ValidationInput) { r.Necessity = "a b c d e f g h i j" }, "necessity", "too short"},
		{"copy and paste", func(r *Request, _ *ValidationInput) {
			r.Criteria["LESS_INTRUSIVE"] = r.Necessity
		}, "criteria.LESS_INTRUSIVE", "the same as necessity"},
		{"copy with case and spacing changed", func(r *Request, _ *ValidationInput) {
			r.Criteria["SAFEGUARDS"] = "  " + strings.ToUpper(strings.ReplaceAll(r.Criteria["EXTENT"], " ", "\n  ")) + " "
		}, "criteria.SAFEGUARDS", "the same as criteria.EXTENT"},
		{"near duplicate", func(r *Request, _ *ValidationInput) {
			r.Criteria["CONSEQUENCES"] = "In short, " + r.Criteria["LEGITIMATE_REASON"]
		}, "criteria.CONSEQUENCES", "nearly the same as criteria.LEGITIMATE_REASON"},
		{"copied from a recent request", func(r *Request, in *ValidationInput) {
			old := validRequest()
			old.ID, old.Reference = "r0", "ACAC-2025-0099"
			old.Necessity = r.Collateral.Explanation + " Also relevant."
			r.Collateral.Explanation = strings.TrimSuffix(old.Necessity, " Also relevant.") + " Also relevant!"
			in.Recent = []Request{old}
		}, "collateral.explanation", "ACAC-2025-0099"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, in := validRequest(), validInput()
			tt.edit(&r, &in)
			err := Validate(r, in)
			var errs FieldErrors
			if !errors.As(err, &errs) {
				t.Fatalf("Validate = %v, want FieldErrors", err)
			}
			for _, e := range errs {
				if e.Field == tt.field && strings.Contains(e.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("Validate = %v, want %s: …%s…", err, tt.field, tt.msg)
		})
	}
}

// Recent requests by someone else, or r itself, are not compared.
func TestValidateRecentIgnored(t *testing.T) {
	r, in := validRequest(), validInput()
	other := validRequest()
	other.ID, other.Requester = "r9", "ian"
	in.Recent = []Request{other, r}
	if err := Validate(r, in); err != nil {
		t.Errorf("Validate = %v, want nil", err)
	}
}

func TestRestrictedBody(t *testing.T) {
	r, in := validRequest(), validInput()
	r.Purpose, in.RestrictedBody = "NATIONAL_SECURITY", true
	if err := Validate(r, in); err != nil {
		t.Errorf("Validate(NATIONAL_SECURITY, restricted body) = %v, want nil", err)
	}
}

func TestSimilarity(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"", "", 1},
		{"", "abc", 0},
		{"abc", "ABC", 1},
		{"a  b\tc", "a b c", 1},
		{"abcd", "abce", 1.0 / 3}, // {abc, bcd} vs {abc, bce}
		{"ab", "ab", 1},
		{"ab", "abc", 0},
		{"xyz", "abc", 0},
		{"ééé", "ééé", 1},
	}
	for _, tt := range tests {
		if got := Similarity(tt.a, tt.b); got != tt.want {
			t.Errorf("Similarity(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Similarity(tt.b, tt.a); got != tt.want {
			t.Errorf("Similarity(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	if got, want := Normalize("  Hello\t\n WORLD  "), "hello world"; got != want {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
}

func TestFacts(t *testing.T) {
	r := validRequest()
	r.Confidential.Kinds = []string{consent.Health}
	r.Urgent.Urgent = true
	f := Facts(r)
	want := consent.Facts{
		Mode: consent.ModeReview, Content: true, Categories: []string{"record_query", "email"}, Subjects: 1,
		Collateral: consent.CollateralLow, Confidential: []string{consent.Health}, Investigation: consent.Misconduct,
		Urgent: true, Purpose: "PREVENT_DETECT_CRIME", WindowDays: 58,
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("Facts mismatch (-want +got):\n%s", diff)
	}
	r.Mode, r.Window = consent.ModeRecord, nil
	if f := Facts(r); !f.Live || f.WindowDays != 0 {
		t.Errorf("Facts(record) = %+v, want Live and WindowDays 0", f)
	}
}

// The JSON names are the public contract: this list changes only with
// docs/contract.md.
func TestJSONNames(t *testing.T) {
	r := validRequest()
	r.Confidential = Confidential{Kinds: []string{consent.Health}, Explanation: "x"}
	r.LawfulBasis, r.WarrantReference, r.RIPAReference = Warrant, "W-1", "RIPA-1"
	r.Requirement = &consent.Requirement{}
	r.AuthorisedBy, r.AuthoriserRank, r.RatifiedBy = "sue", "superintendent", "ace"
	r.AuthorisedAt, r.ExpiresAt, r.RatifyBy, r.RatifiedAt, r.ReviewDue, r.EndedAt = t0, t0, t0, t0, t0, t0
	r.Closure = &Closure{}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{
		"advice", "authorised_at", "authorised_by", "authoriser_rank", "categories", "closure", "collateral",
		"confidential", "criteria", "decisions", "directly_involved", "dpia_reference", "ended_at", "expires_at",
		"history", "id", "investigation", "investigators", "lawful_basis", "mode", "necessity", "notice_record",
		"operation", "purpose", "ratified_at", "ratified_by", "ratify_by", "reference", "renewals", "requester",
		"requirement", "review_due", "reviews", "ripa_reference", "sources", "state", "subjects", "urgent",
		"warrant_reference", "window",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON names (-want +got):\n%s", diff)
	}
	var back Request
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}
