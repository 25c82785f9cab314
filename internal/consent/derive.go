package consent

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
)

// Bounds on facts, so that a condition's cost stays small.
const (
	maxFactsList = 100 // categories, confidential
	maxFactsText = 200 // a category or the purpose, in bytes
)

// A FactsError says which field of [Facts] is not valid and why. Every
// error CheckFacts returns is a *FactsError.
type FactsError struct {
	Field string // the CEL name, e.g. "collateral"
	Msg   string
}

func (e *FactsError) Error() string { return "request facts: " + e.Field + ": " + e.Msg }

// CheckFacts reports whether f is something a policy can judge: a known
// mode, investigation type and collateral level; known, distinct kinds of
// confidential material; no negative counts; Live set exactly for the
// live modes; and lists of at most 100 short entries.
func CheckFacts(f Facts) error {
	fail := func(field, format string, args ...any) error {
		return &FactsError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !slices.Contains([]string{ModeReview, ModeMonitor, ModeRecord}, f.Mode):
		return fail("mode", "unknown mode %s (want review, monitor or record)", strconv.Quote(f.Mode))
	case !slices.Contains([]string{Criminal, Misconduct}, f.Investigation):
		return fail("investigation", "unknown investigation type %s (want criminal or misconduct)", strconv.Quote(f.Investigation))
	case !slices.Contains([]string{CollateralLow, CollateralMedium, CollateralHigh}, f.Collateral):
		return fail("collateral", "unknown collateral intrusion %s (want low, medium or high)", strconv.Quote(f.Collateral))
	case f.Live != (f.Mode != ModeReview):
		return fail("live", "is %t for mode %s (live is true exactly for monitor and record)", f.Live, f.Mode)
	case f.Subjects < 0:
		return fail("subjects", "negative (%d)", f.Subjects)
	case f.WindowDays < 0:
		return fail("window_days", "negative (%d)", f.WindowDays)
	case len(f.Categories) > maxFactsList:
		return fail("categories", "more than %d", maxFactsList)
	case len(f.Confidential) > maxFactsList:
		return fail("confidential", "more than %d", maxFactsList)
	case len(f.Purpose) > maxFactsText:
		return fail("purpose", "longer than %d bytes", maxFactsText)
	}
	kinds := []string{LegalPrivilege, Health, Journalistic, Union, Whistleblowing}
	for i, k := range f.Confidential {
		if !slices.Contains(kinds, k) {
			return fail("confidential", "unknown kind %s (want %s)", strconv.Quote(k), strings.Join(kinds, ", "))
		}
		if slices.Contains(f.Confidential[:i], k) {
			return fail("confidential", "%s given twice", k)
		}
	}
	for _, c := range f.Categories {
		if c == "" || len(c) > maxFactsText {
			return fail("categories", "a category is empty or longer than %d bytes", maxFactsText)
		}
	}
	return nil
}

// An Explanation is how [Policy.Derive] reached a requirement: the base,
// then each rule in order, then the urgent route. Its String method prints
// it for people, one numbered line per step.
type Explanation struct {
	Steps  []Step
	Result Requirement
}

// A Step is one step of a derivation.
type Step struct {
	// Name is "base", a rule's id, or "urgent".
	Name string
	// Line is the step's line in the policy file; 0 when there is none
	// (an urgent step of a policy without an urgent route).
	Line        int
	Description string // a rule's description; "" for base and urgent
	When        string // a rule's condition; "" for base and urgent
	// Matched is whether the rule's condition held; for the base, always
	// true; for the urgent route, whether it is open.
	Matched bool
	// Changes are what the step set (the base) or raised (a rule): only
	// the values that changed, in the order of the policy keys.
	Changes []Change
	// Note explains the urgent step: why the route is open or not.
	Note string
}

// A Change is one value a step set or raised, as people read it.
type Change struct {
	Field    string // level, min_rank, advisers, max_duration, review_interval or ripa_required
	From, To string // e.g. "Inspector" and "Superintendent"; From is "" in the base step
}

// Derive applies the policy to f: it starts from the base, and each rule
// whose condition holds raises the requirement. The level is the highest
// given, the minimum rank the highest, the advisers the union, the maximum
// duration and review interval the shortest, and a RIPA reference is
// required if any matching rule requires one. Then, if f.Urgent, the urgent
// route is opened when the derived minimum rank is exactly the route's
// when_min_rank: a requirement below it needs no urgent route, and one
// above it (a chief officer's, for confidential material) may not be cut
// short. The route's duration is never longer than the requirement's.
//
// Derive returns a *[FactsError] for facts CheckFacts refuses, and an error
// naming the rule if a condition fails to evaluate (for example by
// exceeding [MaxCost]); it never returns a partial requirement.
func (p *Policy) Derive(f Facts) (Requirement, Explanation, error) {
	if err := CheckFacts(f); err != nil {
		return Requirement{}, Explanation{}, err
	}
	vars := map[string]any{
		"mode":          f.Mode,
		"content":       f.Content,
		"categories":    nonNil(f.Categories),
		"subjects":      int64(f.Subjects),
		"collateral":    f.Collateral,
		"confidential":  nonNil(f.Confidential),
		"investigation": f.Investigation,
		"live":          f.Live,
		"urgent":        f.Urgent,
		"purpose":       f.Purpose,
		"window_days":   int64(f.WindowDays),
	}

	var r Requirement
	var e Explanation
	e.Steps = append(e.Steps, Step{Name: "base", Line: p.baseLine, Matched: true, Changes: p.raise(&r, p.base)})
	for _, ru := range p.rules {
		out, _, err := ru.prg.Eval(vars)
		if err != nil {
			return Requirement{}, Explanation{}, fmt.Errorf("evaluating rule %s (line %d): %v", ru.id, ru.line, err)
		}
		ok, isBool := out.(types.Bool)
		if !isBool {
			return Requirement{}, Explanation{}, fmt.Errorf("evaluating rule %s (line %d): got %s, want true or false", ru.id, ru.line, out.Type())
		}
		s := Step{Name: ru.id, Line: ru.line, Description: ru.description, When: ru.when, Matched: bool(ok)}
		if ok {
			s.Changes = p.raise(&r, ru.effect)
		}
		e.Steps = append(e.Steps, s)
	}
	e.Steps = append(e.Steps, p.urgentStep(&r, f.Urgent))
	e.Result = r
	e.Result.Advisers = slices.Clone(r.Advisers)
	if r.Urgent != nil {
		u := *r.Urgent
		e.Result.Urgent = &u
	}
	return r, e, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// raise applies f to r and returns what changed. On the zero Requirement
// (the base step) every field f sets counts as a change.
func (p *Policy) raise(r *Requirement, f effect) []Change {
	var cs []Change
	change := func(field, from, to string) { cs = append(cs, Change{Field: field, From: from, To: to}) }
	base := r.Level == 0
	if f.level > r.Level {
		change("level", levelText(r.Level), strconv.Itoa(f.level))
		r.Level = f.level
	}
	if f.minRank != "" && p.rankIndex(f.minRank) > p.rankIndex(r.MinRank) {
		change("min_rank", RankTitle(r.MinRank), RankTitle(f.minRank))
		r.MinRank = f.minRank
	}
	if added := slices.DeleteFunc(slices.Clone(f.advisers), func(a string) bool { return slices.Contains(r.Advisers, a) }); len(added) > 0 {
		before := advisersText(r.Advisers)
		r.Advisers = append(r.Advisers, added...)
		slices.Sort(r.Advisers)
		change("advisers", before, advisersText(r.Advisers))
	}
	if f.maxDuration > 0 && (r.MaxDuration == 0 || f.maxDuration < r.MaxDuration) {
		change("max_duration", durationText(r.MaxDuration), formatDuration(f.maxDuration))
		r.MaxDuration = f.maxDuration
	}
	if f.reviewInterval > 0 && (r.ReviewInterval == 0 || f.reviewInterval < r.ReviewInterval) {
		change("review_interval", durationText(r.ReviewInterval), formatDuration(f.reviewInterval))
		r.ReviewInterval = f.reviewInterval
	}
	if f.ripa && !r.RIPARequired {
		change("ripa_required", "not required", "required")
		r.RIPARequired = true
	} else if base {
		change("ripa_required", "", "not required")
	}
	if base {
		// The base's text has no "from".
		for i := range cs {
			cs[i].From = ""
		}
		if len(f.advisers) == 0 {
			cs = slices.Insert(cs, 2, Change{Field: "advisers", To: "none"})
		}
	}
	return cs
}

func (p *Policy) urgentStep(r *Requirement, asked bool) Step {
	s := Step{Name: "urgent"}
	u := p.urgent
	if u != nil {
		s.Line = u.line
	}
	switch {
	case !asked:
		s.Note = "not asked for"
	case u == nil:
		s.Note = "asked for, but this policy has no urgent route"
	case r.MinRank != u.whenMinRank:
		s.Note = fmt.Sprintf("asked for, but not open: it is only for what needs %s %s, and this needs %s %s",
			article(RankTitle(u.whenMinRank)), RankTitle(u.whenMinRank), article(RankTitle(r.MinRank)), RankTitle(r.MinRank))
		if p.rankIndex(r.MinRank) < p.rankIndex(u.whenMinRank) {
			s.Note += ", who can authorise without it"
		}
	default:
		d := min(u.maxDuration, r.MaxDuration)
		r.Urgent = &UrgentRoute{MinRank: u.minRank, MaxDuration: d}
		s.Matched = true
		s.Note = fmt.Sprintf("open: %s %s or above may authorise for at most %s; the authorisation lapses unless %s %s or above ratifies it within that time",
			article(RankTitle(u.minRank)), RankTitle(u.minRank), formatDuration(d), article(RankTitle(r.MinRank)), RankTitle(r.MinRank))
		s.Changes = []Change{{Field: "urgent", From: "closed", To: RankTitle(u.minRank) + " for " + formatDuration(d)}}
	}
	return s
}

// String prints the derivation for people, one numbered step a line, then
// the result, as `lbm policy explain` is to show it:
//
//	$ lbm policy explain request.json
//	1. Base (every request): level 1; minimum rank Inspector; advisers none; ...
//	2. CONTENT applies (content): Reading content ... Raises level 1 → 2; ...
//	3. LIVE does not apply (live).
//	...
//	Result: level 2; authorised by a Superintendent or above; ...
func (e Explanation) String() string {
	var b strings.Builder
	for i, s := range e.Steps {
		fmt.Fprintf(&b, "%d. ", i+1)
		switch s.Name {
		case "base":
			b.WriteString("Base (every request): ")
			for j, c := range s.Changes {
				if j > 0 {
					b.WriteString("; ")
				}
				b.WriteString(fieldText(c.Field) + " " + c.To)
			}
			b.WriteString(".")
		case "urgent":
			b.WriteString("Urgent route: " + s.Note + ".")
		default:
			if !s.Matched {
				fmt.Fprintf(&b, "%s does not apply (%s).", s.Name, s.When)
				break
			}
			fmt.Fprintf(&b, "%s applies (%s): %s", s.Name, s.When, s.Description)
			if !strings.HasSuffix(s.Description, ".") {
				b.WriteString(".")
			}
			if len(s.Changes) == 0 {
				b.WriteString(" It raises nothing further.")
				break
			}
			b.WriteString(" Raises ")
			for j, c := range s.Changes {
				if j > 0 {
					b.WriteString("; ")
				}
				fmt.Fprintf(&b, "%s %s → %s", fieldText(c.Field), c.From, c.To)
			}
			b.WriteString(".")
		}
		b.WriteString("\n")
	}
	b.WriteString("Result: " + e.Result.String() + ".\n")
	return b.String()
}

// String describes the requirement in one line of plain English.
func (r Requirement) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "level %d; authorised by %s %s or above", r.Level, article(RankTitle(r.MinRank)), RankTitle(r.MinRank))
	if len(r.Advisers) > 0 {
		fmt.Fprintf(&b, " after the views of: %s", strings.Join(r.Advisers, ", "))
	}
	fmt.Fprintf(&b, "; for at most %s; reviewed at least every %s", formatDuration(r.MaxDuration), formatDuration(r.ReviewInterval))
	if r.RIPARequired {
		b.WriteString("; a RIPA authorisation reference is required")
	}
	if r.Urgent != nil {
		fmt.Fprintf(&b, "; urgent route: %s %s for at most %s, lapsing unless ratified", article(RankTitle(r.Urgent.MinRank)), RankTitle(r.Urgent.MinRank), formatDuration(r.Urgent.MaxDuration))
	}
	return b.String()
}

// RankTitle writes a rank id as people do: "chief_inspector" is "Chief
// Inspector".
func RankTitle(id string) string {
	words := strings.Split(id, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func article(s string) string {
	if s != "" && strings.ContainsRune("AEIOU", rune(s[0])) {
		return "an"
	}
	return "a"
}

func fieldText(field string) string {
	switch field {
	case "min_rank":
		return "minimum rank"
	case "max_duration":
		return "longest duration"
	case "review_interval":
		return "review interval"
	case "ripa_required":
		return "RIPA reference"
	}
	return field
}

func levelText(l int) string {
	if l == 0 {
		return ""
	}
	return strconv.Itoa(l)
}

func advisersText(a []string) string {
	if len(a) == 0 {
		return "none"
	}
	return strings.Join(a, ", ")
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return formatDuration(d)
}

// formatDuration writes d as people count an authorisation: in days from
// a week up ("90 days", "7 days"), in hours below ("72 hours", "24 hours").
func formatDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d >= 7*24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d > 0 && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	}
	return d.String()
}
