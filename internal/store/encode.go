package store

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
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

// FormatEmails stores e-mail addresses as one space-separated column, as
// FormatRoles does roles; CheckPeople has refused an address with a space.
func FormatEmails(emails []string) string { return strings.Join(emails, " ") }

// ParseEmails reverses FormatEmails; "" reads back nil.
func ParseEmails(s string) []string { return ParseRoles(s) }

// CleanEmails returns emails as Person.Emails holds them: trimmed,
// lower-cased, sorted and unique, empty ones dropped; nil if none. It does
// not check them (CheckEmail does).
func CleanEmails(emails []string) []string {
	var out []string
	for _, e := range emails {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Bounds on a person's names on other systems.
const (
	MaxEmailLen    = 254 // bytes: RFC 5321's limit on a forward path
	MaxEmails      = 16  // addresses per person
	MaxUsernameLen = 64  // bytes
)

// CheckEmail refuses what cannot be an e-mail address: it wants one '@'
// between a non-empty local part and a non-empty domain, at most
// MaxEmailLen bytes of UTF-8 with no space or control character. It does
// not ask that the address exist, nor check the finer grammar of RFC 5322:
// the directory holds what the organisation's mail system calls people.
func CheckEmail(e string) error {
	local, domain, ok := strings.Cut(e, "@")
	switch {
	case len(e) > MaxEmailLen:
		return fmt.Errorf("longer than %d bytes", MaxEmailLen)
	case !utf8.ValidString(e):
		return fmt.Errorf("not valid UTF-8")
	case strings.IndexFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("%q holds a space or control character", e)
	case !ok || strings.Contains(domain, "@"):
		return fmt.Errorf("%q is not an address (want one '@')", e)
	case local == "" || domain == "":
		return fmt.Errorf("%q is not an address (want text either side of '@')", e)
	}
	return nil
}

// CheckUsername refuses a username that is not 1 to MaxUsernameLen bytes
// of printable characters other than space.
func CheckUsername(u string) error {
	switch {
	case u == "":
		return fmt.Errorf("empty")
	case len(u) > MaxUsernameLen:
		return fmt.Errorf("longer than %d bytes", MaxUsernameLen)
	case !utf8.ValidString(u):
		return fmt.Errorf("not valid UTF-8")
	case strings.IndexFunc(u, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		return fmt.Errorf("%q holds a space or a character that does not print", u)
	}
	return nil
}

// checkNames refuses a person's e-mail addresses and username that are
// bad or not in their one stored form (see Person.Emails and Username).
func checkNames(p Person) error {
	if len(p.Emails) > MaxEmails {
		return fmt.Errorf("putting people: %s: %d e-mail addresses, more than %d", p.ID, len(p.Emails), MaxEmails)
	}
	for _, e := range p.Emails {
		if err := CheckEmail(e); err != nil {
			return fmt.Errorf("putting people: %s: e-mail: %v", p.ID, err)
		}
	}
	if !slices.Equal(p.Emails, CleanEmails(p.Emails)) {
		return fmt.Errorf("putting people: %s: e-mail addresses are not lower-cased, sorted and unique", p.ID)
	}
	if p.Username != "" {
		if err := CheckUsername(p.Username); err != nil {
			return fmt.Errorf("putting people: %s: username: %v", p.ID, err)
		}
		if p.Username != strings.ToLower(p.Username) {
			return fmt.Errorf("putting people: %s: username %q is not lower-cased", p.ID, p.Username)
		}
	}
	return nil
}

// TakenError is the message of an ErrTaken: what kind of name ("e-mail
// address", or "email" as people_keys says it, or "username") name is,
// who holds it, and who else was to.
func TakenError(kind, name, holder, other string) error {
	if kind == "email" {
		kind = "e-mail address" // people_keys' kind, said as people say it
	}
	return fmt.Errorf("putting people: %s %q is %s's, so cannot be %s's too: %w", kind, name, holder, other, ErrTaken)
}

// CheckPeople refuses, before anything is written, a batch no engine can
// store as given: a person with no ID or one not UTF-8, an ID twice in the
// batch (ErrExists, as for an entry ID twice in one append: which of the
// two is meant is the caller's to say), a role that is empty or holds a
// space (see FormatRoles), an e-mail address or username that CheckEmail
// or CheckUsername refuses or that is not in its stored form, or one
// e-mail address or username given to two people (ErrTaken). Whether a
// stored person holds one is for the engine to check.
func CheckPeople(ps []Person) error {
	seen := make(map[string]bool, len(ps))
	emails := make(map[string]string) // address to ID
	usernames := make(map[string]string)
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
		if err := checkNames(p); err != nil {
			return err
		}
		for _, e := range p.Emails {
			if other, ok := emails[e]; ok {
				return TakenError("e-mail address", e, other, p.ID)
			}
			emails[e] = p.ID
		}
		if p.Username != "" {
			if other, ok := usernames[p.Username]; ok {
				return TakenError("username", p.Username, other, p.ID)
			}
			usernames[p.Username] = p.ID
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
