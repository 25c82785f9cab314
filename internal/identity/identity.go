// Package identity knows who is calling: it mints bearer tokens, stores
// only their hashes, and resolves a presented token to a [Principal].
//
// Tokens are 32 random bytes, so a plain SHA-256 of the token is a safe
// lookup key: nothing can be learnt from the stored hash, and a lookup by
// hash leaks no timing about the token itself. The People, roles and ranks
// issue extends this package with staff, sessions and OIDC.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// Kinds of principal, as stored in [store.Token.Kind].
const (
	KindAdmin   = "admin"   // the bootstrap admin token in DATA/admin.token
	KindSource  = "source"  // a machine pushing events
	KindUser    = "user"    // a person's API token, scoped to one role
	KindSession = "session" // a person's browser session, in one role
	KindSetup   = "setup"   // a one-time link to set a password and second factor
)

// Principal is an authenticated caller acting in one role.
type Principal struct {
	Kind    string
	Subject string // the source id, the person's ID, or "admin"
	Role    Role
	// Person is the directory entry of a user or session principal; nil
	// for sources and the bootstrap admin token.
	Person *store.Person
	// SteppedUp is when the session's person last gave a second factor.
	SteppedUp time.Time
	// TokenHash identifies the token or session, to revoke or step it up.
	TokenHash []byte
}

// Rank is the principal's rank for consent levels: the person's rank, or
// the rank equivalent of their staff grade; "" for anyone else.
func (p Principal) Rank(grades GradeMap) Rank {
	if p.Person == nil {
		return ""
	}
	if p.Person.Rank != "" {
		return Rank(p.Person.Rank)
	}
	r, _ := grades.Rank(p.Person.Grade)
	return r
}

// Name is how pages and records name the principal.
func (p Principal) Name() string {
	if p.Person != nil && p.Person.Name != "" {
		return p.Person.Name
	}
	return p.Subject
}

// tokenPrefix marks lbm tokens so that secret scanners can find leaked ones.
const tokenPrefix = "lbm_"

// NewToken returns a fresh token and the hash to store.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the stored form of token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ErrUnauthenticated is returned for a missing, malformed, unknown,
// expired or revoked token, and for a leaver's.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticate resolves token to its principal at now. A token of a kind
// not in kinds is refused as unauthenticated, so that a set-up link is
// never a session and a session cookie never a bearer token.
//
// A user or session token acts only while its person is in the directory,
// has not left, and still holds the token's role: removing a role or a
// leaving date takes effect on the next request, whatever the token's
// expiry. A leaver's tokens found here are revoked on the spot.
func Authenticate(ctx context.Context, st store.Store, token string, now time.Time, kinds ...string) (Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return Principal{}, ErrUnauthenticated
	}
	t, err := st.TokenByHash(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("checking token: %w", err)
	}
	if !slices.Contains(kinds, t.Kind) || !t.Revoked.IsZero() || (!t.Expires.IsZero() && !now.Before(t.Expires)) {
		return Principal{}, ErrUnauthenticated
	}
	p := Principal{Kind: t.Kind, Subject: t.Subject, Role: Role(t.Role), SteppedUp: t.SteppedUp, TokenHash: t.Hash}
	switch t.Kind {
	case KindAdmin:
		p.Role = RoleAdmin
		return p, nil
	case KindSource:
		p.Role = RoleSource
		return p, nil
	}
	person, err := st.PersonByID(ctx, t.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("checking token: %w", err)
	}
	if Left(person, now) {
		if _, err := st.RevokeTokensOf(ctx, person.ID, allPersonKinds, now); err != nil {
			return Principal{}, fmt.Errorf("revoking a leaver's tokens: %w", err)
		}
		return Principal{}, ErrUnauthenticated
	}
	if t.Kind != KindSetup && !slices.Contains(person.Roles, t.Role) {
		return Principal{}, ErrUnauthenticated
	}
	p.Person = &person
	return p, nil
}

// allPersonKinds are the kinds of token a person can hold.
var allPersonKinds = []string{KindUser, KindSession, KindSetup}

// Left reports whether p has left at now: their leaving date has come.
func Left(p store.Person, now time.Time) bool {
	return !p.LeftOn.IsZero() && !now.Before(p.LeftOn)
}

var sourceID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// CheckSourceID reports whether id is a valid source id: lowercase letters,
// digits, '.', '_' and '-', at most 63 bytes, starting with a letter or digit.
func CheckSourceID(id string) error {
	if !sourceID.MatchString(id) {
		return fmt.Errorf("source name %q: use 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// AddSource registers a source and returns its token, which is shown once
// and never stored.
func AddSource(ctx context.Context, st store.Principals, id string, now time.Time) (string, error) {
	if err := CheckSourceID(id); err != nil {
		return "", err
	}
	token, hash := NewToken()
	err := st.AddSource(ctx, store.Source{ID: id, Created: now}, store.Token{Hash: hash, Kind: KindSource, Subject: id, Created: now})
	if errors.Is(err, store.ErrExists) {
		return "", fmt.Errorf("source %q already exists", id)
	}
	if err != nil {
		return "", fmt.Errorf("adding source: %w", err)
	}
	return token, nil
}
