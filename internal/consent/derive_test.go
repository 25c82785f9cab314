package consent

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(src), ranks())
	if err != nil {
		t.Fatalf("ParsePolicy:\n%s\n= %v", src, err)
	}
	return p
}

// combining is a policy whose rules each raise one thing, some of them
// less than an earlier rule, to check how Derive combines them.
const combining = `base:
  level: 2
  min_rank: chief_inspector
  max_duration: 60d
  review_interval: 14d
rules:
  - {id: HIGH, description: d, when: subjects > 1, level: 6, min_rank: commander, advisers: [legal]}
  - {id: LOWER, description: d, when: subjects > 1, level: 3, min_rank: inspector, advisers: [ethics, legal]}
  - {id: SHORT, description: d, when: live, max_duration: 10d, review_interval: 20d}
  - {id: SHORTER, description: d, when: live, max_duration: 48h, review_interval: 7d}
  - {id: LONGER, description: d, when: live, max_duration: 30d, review_interval: 8d}
  - {id: RIPA, description: d, when: investigation == "criminal", ripa_required: true}
  - {id: DPO, description: d, when: mode == "record", advisers: [dpo]}
urgent:
  when_min_rank: chief_inspector
  min_rank: sergeant
  max_duration: 72h
`

func TestDeriveCombines(t *testing.T) {
	p := mustParse(t, combining)
	tests := []struct {
		name  string
		facts Facts
		want  Requirement
	}{
		{
			name:  "base only",
			facts: review(nil),
			want:  Requirement{Level: 2, MinRank: "chief_inspector", MaxDuration: 60 * day, ReviewInterval: 14 * day},
		},
		{
			name:  "urgent base: the route's duration",
			facts: review(func(f *Facts) { f.Urgent = true }),
			want: Requirement{Level: 2, MinRank: "chief_inspector", MaxDuration: 60 * day, ReviewInterval: 14 * day,
				Urgent: &UrgentRoute{MinRank: "sergeant", MaxDuration: 72 * time.Hour}},
		},
		{
			// HIGH then LOWER: the highest level and rank stay; the
			// advisers are the union, sorted.
			name:  "max level and rank, union of advisers",
			facts: review(func(f *Facts) { f.Subjects = 2 }),
			want:  Requirement{Level: 6, MinRank: "commander", Advisers: []string{"ethics", "legal"}, MaxDuration: 60 * day, ReviewInterval: 14 * day},
		},
		{
			// The shortest duration and interval win, whichever rule
			// gives them; the urgent route is never longer than the
			// requirement.
			name:  "min durations, urgent capped",
			facts: live(ModeRecord, func(f *Facts) { f.Urgent, f.Investigation = true, Criminal }),
			want: Requirement{Level: 2, MinRank: "chief_inspector", Advisers: []string{"dpo"}, MaxDuration: 48 * time.Hour, ReviewInterval: 7 * day, RIPARequired: true,
				Urgent: &UrgentRoute{MinRank: "sergeant", MaxDuration: 48 * time.Hour}},
		},
		{
			name:  "urgent route closed above when_min_rank",
			facts: review(func(f *Facts) { f.Subjects, f.Urgent = 2, true }),
			want:  Requirement{Level: 6, MinRank: "commander", Advisers: []string{"ethics", "legal"}, MaxDuration: 60 * day, ReviewInterval: 14 * day},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := p.Derive(tt.facts)
			if err != nil {
				t.Fatalf("Derive = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Derive(%+v) (-want +got):\n%s", tt.facts, diff)
			}
		})
	}

	// Rules only raise, so their order changes nothing but the
	// explanation: the same rules reversed give the same requirements.
	lines := strings.Split(combining, "\n")
	var rules []string
	for _, l := range lines {
		if strings.HasPrefix(l, "  - ") {
			rules = append([]string{l}, rules...)
		}
	}
	reversed := strings.Join(lines[:6], "\n") + "\n" + strings.Join(rules, "\n") + "\n" + strings.Join(lines[13:], "\n")
	q := mustParse(t, reversed)
	for _, tt := range tests {
		got, _, err := q.Derive(tt.facts)
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("reversed rules: Derive(%+v) = %+v, %v; want %+v", tt.facts, got, err, tt.want)
		}
	}
}

func TestDeriveNoUrgentRoute(t *testing.T) {
	p := mustParse(t, okPolicy[:strings.Index(okPolicy, "urgent:")])
	got, e, err := p.Derive(review(func(f *Facts) { f.Content, f.Urgent = true, true }))
	if err != nil || got.Urgent != nil {
		t.Fatalf("Derive = %+v, %v; want no urgent route", got, err)
	}
	if last := e.Steps[len(e.Steps)-1]; last.Name != "urgent" || last.Matched || !strings.Contains(last.Note, "no urgent route") {
		t.Errorf("urgent step = %+v", last)
	}
}

func TestDeriveExplanation(t *testing.T) {
	p := mustParse(t, okPolicy)
	_, e, err := p.Derive(review(func(f *Facts) { f.Content, f.Urgent = true, true }))
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Name: "base", Line: 2, Matched: true, Changes: []Change{
			{Field: "level", To: "1"}, {Field: "min_rank", To: "Inspector"}, {Field: "advisers", To: "none"},
			{Field: "max_duration", To: "90 days"}, {Field: "review_interval", To: "30 days"}, {Field: "ripa_required", To: "not required"},
		}},
		{Name: "CONTENT", Line: 7, Description: "Content is more intrusive.", When: "content", Matched: true, Changes: []Change{
			{Field: "level", From: "1", To: "2"}, {Field: "min_rank", From: "Inspector", To: "Superintendent"},
		}},
		{Name: "urgent", Line: 13, Matched: true, Changes: []Change{{Field: "urgent", From: "closed", To: "Inspector for 72 hours"}},
			Note: "open: an Inspector or above may authorise for at most 72 hours; the authorisation lapses unless a Superintendent or above ratifies it within that time"},
	}
	if diff := cmp.Diff(want, e.Steps); diff != "" {
		t.Errorf("Derive steps (-want +got):\n%s", diff)
	}
	const text = `1. Base (every request): level 1; minimum rank Inspector; advisers none; longest duration 90 days; review interval 30 days; RIPA reference not required.
2. CONTENT applies (content): Content is more intrusive. Raises level 1 → 2; minimum rank Inspector → Superintendent.
3. Urgent route: open: an Inspector or above may authorise for at most 72 hours; the authorisation lapses unless a Superintendent or above ratifies it within that time.
Result: level 2; authorised by a Superintendent or above; for at most 90 days; reviewed at least every 30 days; urgent route: an Inspector for at most 72 hours, lapsing unless ratified.
`
	if got := e.String(); got != text {
		t.Errorf("Explanation.String() =\n%s\nwant\n%s", got, text)
	}

	_, e, err = p.Derive(review(nil))
	if err != nil {
		t.Fatal(err)
	}
	const plain = `1. Base (every request): level 1; minimum rank Inspector; advisers none; longest duration 90 days; review interval 30 days; RIPA reference not required.
2. CONTENT does not apply (content).
3. Urgent route: not asked for.
Result: level 1; authorised by an Inspector or above; for at most 90 days; reviewed at least every 30 days.
`
	if got := e.String(); got != plain {
		t.Errorf("Explanation.String() =\n%s\nwant\n%s", got, plain)
	}
}

func TestDeriveDefaultExplanation(t *testing.T) {
	_, e, err := Default(ranks()).Derive(live(ModeMonitor, func(f *Facts) {
		f.Investigation, f.Confidential, f.Urgent = Criminal, []string{Whistleblowing}, true
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := e.String()
	for _, want := range []string{
		"CONFIDENTIAL applies (size(confidential) > 0): Confidential material",
		"Raises level 3 → 5; minimum rank Superintendent → Assistant Commissioner; advisers none → legal; review interval 30 days → 7 days.",
		"PROTECTED_VOICE applies",
		"Raises advisers legal → ethics, legal.",
		"RIPA applies",
		"Raises RIPA reference not required → required.",
		"HIGH_COLLATERAL does not apply",
		"Urgent route: asked for, but not open: it is only for what needs a Superintendent, and this needs an Assistant Commissioner.",
		"Result: level 5; authorised by an Assistant Commissioner or above after the views of: ethics, legal; for at most 90 days; reviewed at least every 7 days; a RIPA authorisation reference is required.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("Explanation.String() lacks %q:\n%s", want, s)
		}
	}
}

func TestCheckFacts(t *testing.T) {
	tests := []struct {
		name  string
		facts Facts
		field string
	}{
		{"unknown mode", review(func(f *Facts) { f.Mode = "watch" }), "mode"},
		{"no mode", review(func(f *Facts) { f.Mode = "" }), "mode"},
		{"unknown investigation", review(func(f *Facts) { f.Investigation = "disciplinary" }), "investigation"},
		{"unknown collateral", review(func(f *Facts) { f.Collateral = "none" }), "collateral"},
		{"unknown confidential kind", review(func(f *Facts) { f.Confidential = []string{"medical"} }), "confidential"},
		{"confidential twice", review(func(f *Facts) { f.Confidential = []string{Health, Health} }), "confidential"},
		{"negative subjects", review(func(f *Facts) { f.Subjects = -1 }), "subjects"},
		{"negative window", review(func(f *Facts) { f.WindowDays = -30 }), "window_days"},
		{"live review", review(func(f *Facts) { f.Live = true }), "live"},
		{"monitor not live", live(ModeMonitor, func(f *Facts) { f.Live = false }), "live"},
		{"empty category", review(func(f *Facts) { f.Categories = []string{""} }), "categories"},
		{"too many categories", review(func(f *Facts) { f.Categories = make([]string, 101) }), "categories"},
		{"long purpose", review(func(f *Facts) { f.Purpose = strings.Repeat("P", 201) }), "purpose"},
	}
	p := Default(ranks())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFacts(tt.facts)
			var fe *FactsError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("CheckFacts(%+v) = %v, want a *FactsError for %s", tt.facts, err, tt.field)
			}
			if _, _, err := p.Derive(tt.facts); !errors.As(err, &fe) {
				t.Errorf("Derive(%+v) = %v, want a *FactsError", tt.facts, err)
			}
		})
	}
	if err := CheckFacts(review(nil)); err != nil {
		t.Errorf("CheckFacts(review) = %v", err)
	}
}

func TestDeriveEvalErrors(t *testing.T) {
	tests := []struct {
		name, when string
		facts      Facts
		msg        string
	}{
		{
			// Three nested loops over 100 categories cost about 10⁶.
			name:  "cost limit",
			when:  "categories.all(a, categories.all(b, categories.all(c, a != 'x')))",
			facts: review(func(f *Facts) { f.Categories = strings.Split(strings.Repeat("c,", 99)+"c", ",") }),
			msg:   "actual cost limit exceeded",
		},
		{
			name:  "index out of range",
			when:  "categories[3] == 'email.message'",
			facts: review(nil),
			msg:   "index out of bounds",
		},
		{
			name:  "division by zero",
			when:  "window_days / subjects > 1",
			facts: review(func(f *Facts) { f.Subjects = 0 }),
			msg:   "division by zero",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, withRule(fmt.Sprintf("  - {id: X, description: d, when: %q, level: 3}\n", tt.when)))
			got, e, err := p.Derive(tt.facts)
			if err == nil || !strings.Contains(err.Error(), "evaluating rule X (line 12)") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Derive = %v, want an error naming rule X and containing %q", err, tt.msg)
			}
			if !cmp.Equal(got, Requirement{}) || e.Steps != nil {
				t.Errorf("Derive returned a partial result %+v, %+v", got, e)
			}
		})
	}
	// The same cost-limited rule is fine on small lists.
	p := mustParse(t, withRule(fmt.Sprintf("  - {id: X, description: d, when: %q, level: 3}\n", tests[0].when)))
	if _, _, err := p.Derive(review(nil)); err != nil {
		t.Errorf("Derive on one category = %v", err)
	}
}

func TestDeriveConcurrent(t *testing.T) {
	p := Default(ranks())
	f := live(ModeRecord, func(f *Facts) { f.Confidential = []string{Union}; f.Subjects = 4 })
	want, _, err := p.Derive(f)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, _, err := p.Derive(f)
				if err != nil || !cmp.Equal(got, want) {
					t.Errorf("concurrent Derive = %+v, %v; want %+v", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		90 * day: "90 days", 7 * day: "7 days", 72 * time.Hour: "72 hours", 24 * time.Hour: "24 hours",
		time.Hour: "1 hour", 90 * time.Minute: "1h30m0s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
