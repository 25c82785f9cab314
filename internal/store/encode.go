package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Encodings both engines share, so that a row means the same on each.

// Nanos is how engines store a time: Unix nanoseconds, 0 for the zero time.
// The instant 1970-01-01T00:00:00Z itself therefore reads back as zero;
// callers that store it mean "never" anyway.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos reverses Nanos, in UTC.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// FormatRoles stores roles as one space-separated column; no roles, nil or
// empty, is "". CheckPeople has refused roles that hold a space.
func FormatRoles(roles []string) string { return strings.Join(roles, " ") }

// ParseRoles reverses FormatRoles; "" reads back nil.
func ParseRoles(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// CheckPeople refuses, before anything is written, a batch no engine can
// store as given: a person with no ID or one not UTF-8, an ID twice in the
// batch (ErrExists, as for an entry ID twice in one append: which of the
// two is meant is the caller's to say), or a role that is empty or holds a
// space (see FormatRoles).
func CheckPeople(ps []Person) error {
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		if p.ID == "" {
			return fmt.Errorf("putting people: person %d has no ID", i)
		}
		if !utf8.ValidString(p.ID) {
			return fmt.Errorf("putting people: person %d: ID %q is not UTF-8", i, p.ID)
		}
		if seen[p.ID] {
			return fmt.Errorf("putting people: %q twice in one batch: %w", p.ID, ErrExists)
		}
		seen[p.ID] = true
		for _, r := range p.Roles {
			if r == "" || strings.ContainsAny(r, " \t\n") {
				return fmt.Errorf("putting people: %s: role %q is empty or holds a space", p.ID, r)
			}
		}
	}
	return nil
}

// likeEscaper escapes LIKE's wildcards and its escape character, '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ContainsPattern is a LIKE pattern, with ESCAPE '\', matching text that
// contains text literally: a person searching for "50%" finds "50%", not
// everything that starts with "50".
func ContainsPattern(text string) string {
	return "%" + likeEscaper.Replace(text) + "%"
}
