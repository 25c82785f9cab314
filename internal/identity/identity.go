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
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// Kinds of principal.
const (
	KindAdmin  = "admin"
	KindSource = "source"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind    string
	Subject string // the source id for a source; "admin" for the admin
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

// ErrUnauthenticated is returned for a missing, malformed or unknown token.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticate resolves token to its principal.
func Authenticate(ctx context.Context, st store.Principals, token string) (Principal, error) {
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
	return Principal{Kind: t.Kind, Subject: t.Subject}, nil
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
