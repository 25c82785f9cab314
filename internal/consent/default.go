package consent

import (
	"bytes"
	_ "embed"
	"strings"
	"sync"
)

//go:embed default.yaml
var defaultFile []byte

// DefaultFile returns the default policy file embedded in the binary
// (default.yaml, following LEGAL.md §4), for showing or for editing into a
// force's own policy.
func DefaultFile() []byte { return bytes.Clone(defaultFile) }

var (
	defaultsMu sync.Mutex
	defaults   = map[string]*Policy{} // by the ranks, joined with spaces
)

// Default returns the default policy (see [DefaultFile]) parsed against
// ranks, the rank ids lowest first: those of identity.AllRanks. It is parsed
// once for each ranks list; the Policy is immutable and shared.
//
// Default panics if the file does not parse against ranks, which happens
// only when ranks lacks a rank the file names (inspector, superintendent,
// assistant_commissioner) or puts inspector at or above superintendent: a
// programming error, which TestDefault rules out for identity.AllRanks.
func Default(ranks []string) *Policy {
	key := strings.Join(ranks, " ")
	defaultsMu.Lock()
	defer defaultsMu.Unlock()
	if p, ok := defaults[key]; ok {
		return p
	}
	p, err := ParsePolicy(defaultFile, ranks)
	if err != nil {
		panic("consent: parsing the default policy: " + err.Error())
	}
	defaults[key] = p
	return p
}
