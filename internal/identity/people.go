package identity

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

var personID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckPersonID refuses an ID that is not 1-64 letters, digits, '.', '_'
// or '-', starting with a letter or digit.
func CheckPersonID(id string) error {
	if !personID.MatchString(id) {
		return fmt.Errorf("person id %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// NewUser is a person added by `lbm user add`: break-glass, for
// bootstrapping and tests.
type NewUser struct {
	ID    string
	Name  string // default: the ID
	Role  Role
	Rank  Rank
	Token bool // mint an API token in Role
	// National says the directory is the national oversight node's,
	// which holds national_oversight staff and no one else: Role must
	// be RoleNationalOversight there, and may not be anywhere else.
	National bool
}

// putAttempts bounds how often a read, change and put of people is tried.
// A put fails with store.ErrConflict when someone changed a person between
// the read and the put; reading again and retrying is then right, but a
// directory that keeps changing underneath is reported, not chased.
const putAttempts = 3

// retryConflict calls put until it returns anything but store.ErrConflict,
// at most putAttempts times, and returns what it returned last.
func retryConflict(put func() error) error {
	var err error
	for range putAttempts {
		if err = put(); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return err
}

// AddUser adds u to the directory, or gives an existing person u's role
// (and rank, when given), and returns an API token when u.Token. It is the
// offline, break-glass path: the caller records it in the oversight log
// flagged as such. A leaver is refused. A person changed while AddUser
// changes them is read again, up to three times in all.
func AddUser(ctx context.Context, st store.Store, u NewUser, now time.Time) (store.Person, string, error) {
	if err := CheckPersonID(u.ID); err != nil {
		return store.Person{}, "", err
	}
	switch {
	case u.National && u.Role != RoleNationalOversight:
		return store.Person{}, "", fmt.Errorf("the national oversight node's directory holds national_oversight staff only, not %q", u.Role)
	case !u.National:
		if _, err := ParseRole(string(u.Role)); err != nil {
			return store.Person{}, "", err
		}
	}
	if _, err := ParseRank(string(u.Rank)); err != nil {
		return store.Person{}, "", err
	}
	err := retryConflict(func() error {
		// Read at its Version, or new at Version 0: the put compares it.
		p, err := st.PersonByID(ctx, u.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			p = store.Person{ID: u.ID, Name: u.ID, Roles: []string{string(RoleStaff)}}

		case err != nil:
			return fmt.Errorf("adding user: %w", err)
		case Left(p, now):
			return fmt.Errorf("%s left on %s", u.ID, p.LeftOn.Format(time.DateOnly))
		}
		if u.Name != "" {
			p.Name = u.Name
		}
		if u.Rank != "" {
			p.Rank, p.Grade = string(u.Rank), ""
		}
		p.Roles = withRole(p.Roles, u.Role)
		if u.National {
			// Nobody on the national node is staff of it in lbm's sense:
			// it monitors no one.
			p.Roles = []string{string(RoleNationalOversight)}
		}
		p.Updated = now
		if _, _, err := st.PutPeople(ctx, []store.Person{p}); err != nil {
			return fmt.Errorf("adding user: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.Person{}, "", err
	}
	p, err := st.PersonByID(ctx, u.ID)
	if err != nil {
		return store.Person{}, "", fmt.Errorf("adding user: %w", err)
	}
	if !u.Token {
		return p, "", nil
	}
	token, err := NewUserToken(ctx, st, p.ID, u.Role, now)
	return p, token, err
}

// NewUserToken mints an API token for person acting in role, valid for
// UserTokenLifetime.
func NewUserToken(ctx context.Context, st store.Store, person string, role Role, now time.Time) (string, error) {
	token, hash := NewToken()
	t := store.Token{Hash: hash, Kind: KindUser, Subject: person, Role: string(role), Created: now, Expires: now.Add(UserTokenLifetime)}
	if err := st.AddToken(ctx, t); err != nil {
		return "", fmt.Errorf("minting a token: %w", err)
	}
	return token, nil
}

func withRole(roles []string, r Role) []string {
	out := slices.Clone(roles)
	if !slices.Contains(out, string(r)) {
		out = append(out, string(r))
	}
	if !slices.Contains(out, string(RoleStaff)) {
		out = append(out, string(RoleStaff))
	}
	slices.Sort(out)
	return out
}

// RevokeLeavers revokes every token and session of each person whose
// leaving date has come by now, and returns whose it revoked. Authenticate
// refuses a leaver's token anyway; this makes the revocation a recorded
// fact on the leaving date rather than on the next attempt.
func RevokeLeavers(ctx context.Context, st store.Store, now time.Time) (map[string]int, error) {
	ids, err := st.LeaversWithTokens(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("finding leavers: %w", err)
	}
	out := map[string]int{}
	for _, id := range ids {
		n, err := st.RevokeTokensOf(ctx, id, allPersonKinds, now)
		if err != nil {
			return out, fmt.Errorf("revoking %s's tokens: %w", id, err)
		}
		out[id] = n
	}
	return out, nil
}

// External is a person as the identity provider vouches for them.
type External struct {
	ID, Name, Unit, Rank, Grade string
	Roles                       []string // nil when the provider sends no roles claim
	// Email is an address the provider has verified; "" if none.
	Email string
}

// MergeExternal updates the directory from an identity provider's claims
// and returns the person as stored, and the person as they were before
// (zero if new). The provider, like the HR import, is an authority for
// name, unit, rank and grade; when it sends roles it is the authority for
// those too (its group memberships are managed under the organisation's own
// controls), and the caller records any change of roles, rank or e-mail
// addresses in the oversight log. A verified e-mail address is added to the
// person's addresses, never replacing those HR gave: unless another person
// holds it already (store.ErrTaken), when the person is merged without it,
// or the person has store.MaxEmails already. Claims that do not parse, and
// leavers, are refused with nothing stored. A person changed while MergeExternal merges them (a
// change approved, say) is read and merged again, up to three times in
// all, so that the claims never overwrite what they were not merged with.
func MergeExternal(ctx context.Context, st store.Store, e External, grades GradeMap, now time.Time) (after, before store.Person, err error) {
	if err := CheckPersonID(e.ID); err != nil {
		return store.Person{}, store.Person{}, err
	}
	rank, err := ParseRank(e.Rank)
	if err != nil {
		return store.Person{}, store.Person{}, err
	}
	if e.Grade != "" {
		if _, ok := grades.Rank(e.Grade); !ok {
			return store.Person{}, store.Person{}, fmt.Errorf("unknown staff grade %q", e.Grade)
		}
		if e.Rank != "" {
			return store.Person{}, store.Person{}, fmt.Errorf("both a rank (%q) and a staff grade (%q)", e.Rank, e.Grade)
		}
	}
	var roles []string
	for _, r := range e.Roles {
		role, err := ParseRole(r)
		if err != nil {
			return store.Person{}, store.Person{}, err
		}
		roles = withRole(roles, role)
	}
	if e.Roles != nil && roles == nil {
		roles = []string{string(RoleStaff)}
	}
	email := strings.ToLower(e.Email)
	if email != "" {
		if err := store.CheckEmail(email); err != nil {
			return store.Person{}, store.Person{}, fmt.Errorf("e-mail address: %v", err)
		}
	}
	err = retryConflict(func() error {
		// Read at its Version, or new at Version 0: the put compares it.
		p, err := st.PersonByID(ctx, e.ID)
		before = store.Person{}
		switch {
		case errors.Is(err, store.ErrNotFound):
			p = store.Person{ID: e.ID, Roles: []string{string(RoleStaff)}}
		case err != nil:
			return fmt.Errorf("reading %s: %w", e.ID, err)
		case Left(p, now):
			return fmt.Errorf("%s left on %s", e.ID, p.LeftOn.Format(time.DateOnly))
		default:
			before = p
		}
		if e.Name != "" {
			p.Name = e.Name
		}
		if p.Name == "" {
			p.Name = e.ID
		}
		if e.Unit != "" {
			p.Unit = e.Unit
		}
		if e.Rank != "" || e.Grade != "" {
			p.Rank, p.Grade = string(rank), e.Grade
		}
		if e.Roles != nil {
			p.Roles = roles
			if p.Adviser != "" && !adviserAllowed(p.Adviser, roles) {
				p.Adviser = ""
			}
		}
		p.Updated = now
		without := p
		if email != "" && !slices.Contains(p.Emails, email) && len(p.Emails) < store.MaxEmails {
			p.Emails = store.CleanEmails(append(slices.Clone(p.Emails), email))
		}
		_, _, err = st.PutPeople(ctx, []store.Person{p})
		if errors.Is(err, store.ErrTaken) && len(without.Emails) != len(p.Emails) {
			// Another person's address: which of the two it is, is for
			// HR to say, not for whoever signs in first.
			_, _, err = st.PutPeople(ctx, []store.Person{without})
		}
		if err != nil {
			return fmt.Errorf("storing %s: %w", e.ID, err)
		}
		return nil
	})
	if err != nil {
		return store.Person{}, store.Person{}, err
	}
	after, err = st.PersonByID(ctx, e.ID)
	return after, before, err
}
