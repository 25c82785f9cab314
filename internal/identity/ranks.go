package identity

import (
	"fmt"
	"slices"
)

// A Rank is a police rank id: snake_case, in the order of LEGAL.md §4. The
// zero Rank is "no rank". Ranks are ordered, so that a consent level can
// say "Superintendent or above"; police staff grades map onto them through
// a [GradeMap].
type Rank string

// Ranks, lowest first (Metropolitan Police order).
const (
	Constable                   Rank = "constable"
	Sergeant                    Rank = "sergeant"
	Inspector                   Rank = "inspector"
	ChiefInspector              Rank = "chief_inspector"
	Superintendent              Rank = "superintendent"
	ChiefSuperintendent         Rank = "chief_superintendent"
	Commander                   Rank = "commander"
	DeputyAssistantCommissioner Rank = "deputy_assistant_commissioner"
	AssistantCommissioner       Rank = "assistant_commissioner"
	DeputyCommissioner          Rank = "deputy_commissioner"
	Commissioner                Rank = "commissioner"
)

// ranks is the order; a rank's level is its index plus one.
var ranks = []Rank{
	Constable, Sergeant, Inspector, ChiefInspector, Superintendent, ChiefSuperintendent,
	Commander, DeputyAssistantCommissioner, AssistantCommissioner, DeputyCommissioner, Commissioner,
}

// AllRanks returns every rank, lowest first.
func AllRanks() []Rank { return slices.Clone(ranks) }

// ParseRank returns the rank with id s. The empty string is the zero Rank.
func ParseRank(s string) (Rank, error) {
	if s == "" || slices.Contains(ranks, Rank(s)) {
		return Rank(s), nil
	}
	return "", fmt.Errorf("unknown rank %q (want one of constable, sergeant, inspector, chief_inspector, superintendent, chief_superintendent, commander, deputy_assistant_commissioner, assistant_commissioner, deputy_commissioner, commissioner)", s)
}

// Level is the rank's place in the order: 1 for constable up to 11 for
// commissioner, 0 for no rank.
func (r Rank) Level() int {
	return slices.Index(ranks, r) + 1
}

// AtLeast reports whether r is min or above. No rank is at least nothing
// and nothing else; an unknown rank is never at least anything.
func (r Rank) AtLeast(min Rank) bool {
	if min.Level() == 0 {
		return min == "" && (r == "" || r.Level() > 0)
	}
	return r.Level() >= min.Level()
}

// Title is the rank as people write it: "Chief Inspector".
func (r Rank) Title() string {
	return map[Rank]string{
		Constable: "Constable", Sergeant: "Sergeant", Inspector: "Inspector",
		ChiefInspector: "Chief Inspector", Superintendent: "Superintendent",
		ChiefSuperintendent: "Chief Superintendent", Commander: "Commander",
		DeputyAssistantCommissioner: "Deputy Assistant Commissioner",
		AssistantCommissioner:       "Assistant Commissioner",
		DeputyCommissioner:          "Deputy Commissioner", Commissioner: "Commissioner",
	}[r]
}
