package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/store"
)

// How long things last. A session covers a shift; a step-up (the second
// factor) covers the few minutes of one decision or review; a set-up link
// covers a long weekend.
const (
	SessionLifetime   = 12 * time.Hour
	StepUpLifetime    = 15 * time.Minute
	SetupLinkLifetime = 72 * time.Hour
	// UserTokenLifetime is the default life of a person's API token.
	UserTokenLifetime = 90 * 24 * time.Hour
)

// Sign-in errors. ErrBadCredentials covers an unknown user, a wrong
// password, a leaver and a person with no password alike, so that sign-in
// does not tell an attacker which usernames exist.
var (
	ErrBadCredentials  = errors.New("the username or password is not right")
	ErrBadCode         = errors.New("the code is not right, or has been used")
	ErrNoSecondFactor  = errors.New("no second factor is set up for this person")
	ErrStepUpRequired  = errors.New("confirm it's you with your second factor first")
	ErrRoleNotHeld     = errors.New("you do not hold that role")
	ErrPasswordsDiffer = errors.New("the passwords do not match")
)

// ThrottledError is returned, without checking anything, while a username
// or client address must wait after repeated failures.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed attempts: try again in %s", e.Wait.Round(time.Second))
}

// Sessions signs people in and out. It holds the throttle, so one
// Sessions serves a whole process.
type Sessions struct {
	Store    store.Store
	Throttle *Throttle
	KEK      keys.KEK // opens second-factor secrets (SealTOTP)
}

// SignIn checks username and password from clientAddr at now, and opens a
// session in the person's default role ([DefaultRole]). It returns the
// session token, to be set as a cookie and never stored.
func (s *Sessions) SignIn(ctx context.Context, username, password, clientAddr string, now time.Time) (string, Principal, error) {
	keys := []string{"user:" + username, "addr:" + clientAddr}
	for _, k := range keys {
		if wait := s.Throttle.Wait(k, now); wait > 0 {
			return "", Principal{}, &ThrottledError{Wait: wait}
		}
	}
	fail := func() (string, Principal, error) {
		for _, k := range keys {
			s.Throttle.Fail(k, now)
		}
		return "", Principal{}, ErrBadCredentials
	}
	if len(username) > 64 || len(password) > MaxPasswordLen {
		return fail()
	}
	cred, err := s.Store.CredentialOf(ctx, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cred.Password == "") {
		CheckPassword(dummyHash(), password)
		return fail()
	}
	if err != nil {
		return "", Principal{}, fmt.Errorf("signing in: %w", err)
	}
	if !CheckPassword(cred.Password, password) {
		return fail()
	}
	person, err := s.Store.PersonByID(ctx, username)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (Left(person, now) || len(person.Roles) == 0)) {
		return fail()
	}
	if err != nil {
		return "", Principal{}, fmt.Errorf("signing in: %w", err)
	}
	for _, k := range keys {
		s.Throttle.Succeed(k)
	}
	return s.open(ctx, person, DefaultRole(person), now)
}

// SignInExternal opens a session for a person the identity provider
// vouched for, in their default role. The person must be in the directory
// (after [MergeExternal]) and not have left.
func (s *Sessions) SignInExternal(ctx context.Context, person store.Person, now time.Time) (string, Principal, error) {
	if Left(person, now) || len(person.Roles) == 0 {
		return "", Principal{}, ErrBadCredentials
	}
	return s.open(ctx, person, DefaultRole(person), now)
}

func (s *Sessions) open(ctx context.Context, person store.Person, role Role, now time.Time) (string, Principal, error) {
	token, hash := NewToken()
	t := store.Token{Hash: hash, Kind: KindSession, Subject: person.ID, Role: string(role), Created: now, Expires: now.Add(SessionLifetime)}
	if err := s.Store.AddToken(ctx, t); err != nil {
		return "", Principal{}, fmt.Errorf("opening a session: %w", err)
	}
	return token, Principal{Kind: KindSession, Subject: person.ID, Role: role, Person: &person, TokenHash: hash}, nil
}

// DefaultRole is the role a session starts in: the person's most
// powerful, so that an administrator lands on the administrator's home.
func DefaultRole(p store.Person) Role {
	if slices.Contains(p.Roles, string(RoleNationalOversight)) {
		return RoleNationalOversight
	}
	for _, r := range slices.Backward(personRoles) {
		if slices.Contains(p.Roles, string(r)) {
			return r
		}
	}
	return RoleStaff
}

// SwitchRole closes p's session and opens another in role, which the
// person must hold. The new session has not stepped up.
func (s *Sessions) SwitchRole(ctx context.Context, p Principal, role Role, now time.Time) (string, Principal, error) {
	if p.Kind != KindSession || p.Person == nil {
		return "", Principal{}, ErrRoleNotHeld
	}
	if !slices.Contains(p.Person.Roles, string(role)) {
		return "", Principal{}, ErrRoleNotHeld
	}
	if err := s.Store.RevokeToken(ctx, p.TokenHash, now); err != nil {
		return "", Principal{}, fmt.Errorf("switching role: %w", err)
	}
	return s.open(ctx, *p.Person, role, now)
}

// StepUp checks a second-factor code for p's session and, if it is right
// and unused, marks the session stepped up at now.
func (s *Sessions) StepUp(ctx context.Context, p Principal, code string, now time.Time) error {
	if p.Kind != KindSession {
		return ErrNoSecondFactor
	}
	if err := s.CheckCode(ctx, p, code, now); err != nil {
		return err
	}
	if err := s.Store.StepUp(ctx, p.TokenHash, now); err != nil {
		return fmt.Errorf("stepping up: %w", err)
	}
	return nil
}

// CheckCode checks a second-factor code of p's person at now, and spends
// it: a code is accepted once. Failures are throttled per person.
func (s *Sessions) CheckCode(ctx context.Context, p Principal, code string, now time.Time) error {
	if p.Person == nil {
		return ErrNoSecondFactor
	}
	key := "totp:" + p.Subject
	if wait := s.Throttle.Wait(key, now); wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	cred, err := s.Store.CredentialOf(ctx, p.Subject)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cred.TOTPSecret == nil) {
		return ErrNoSecondFactor
	}
	if err != nil {
		return fmt.Errorf("checking code: %w", err)
	}
	secret, err := openTOTP(s.KEK, p.Subject, cred.TOTPSecret)
	if err != nil {
		return err
	}
	step, ok := MatchTOTP(secret, code, now)
	if !ok {
		s.Throttle.Fail(key, now)
		return ErrBadCode
	}
	if err := s.Store.UseTOTPStep(ctx, p.Subject, step); errors.Is(err, store.ErrConflict) {
		s.Throttle.Fail(key, now)
		return ErrBadCode
	} else if err != nil {
		return fmt.Errorf("checking code: %w", err)
	}
	s.Throttle.Succeed(key)
	return nil
}

// SteppedUp reports whether p gave a second factor within StepUpLifetime
// of now.
func SteppedUp(p Principal, now time.Time) bool {
	return !p.SteppedUp.IsZero() && now.Sub(p.SteppedUp) < StepUpLifetime
}

// SignOut revokes p's session or token.
func (s *Sessions) SignOut(ctx context.Context, p Principal, now time.Time) error {
	if err := s.Store.RevokeToken(ctx, p.TokenHash, now); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("signing out: %w", err)
	}
	return nil
}

// NewSetupLink returns a one-time set-up token for person: whoever holds
// it may set the person's password and second factor, once, within
// SetupLinkLifetime. Earlier links of the person stop working.
func NewSetupLink(ctx context.Context, st store.Store, person string, now time.Time) (string, error) {
	if _, err := st.PersonByID(ctx, person); err != nil {
		return "", fmt.Errorf("making a set-up link for %q: %w", person, err)
	}
	if _, err := st.RevokeTokensOf(ctx, person, []string{KindSetup}, now); err != nil {
		return "", fmt.Errorf("making a set-up link: %w", err)
	}
	token, hash := NewToken()
	if err := st.AddToken(ctx, store.Token{Hash: hash, Kind: KindSetup, Subject: person, Created: now, Expires: now.Add(SetupLinkLifetime)}); err != nil {
		return "", fmt.Errorf("making a set-up link: %w", err)
	}
	return token, nil
}

// SetupSecret is the TOTP secret offered to whoever holds setup token. It
// is derived from the token, which only its holder knows and lbm never
// stores, so nothing half-enrolled is ever kept.
func SetupSecret(token string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("lbm/totp-setup/v1"))
	return m.Sum(nil)[:20]
}

// CompleteSetup sets the password and second factor of the person whose
// set-up link token is, if code proves their authenticator holds
// SetupSecret(token), and spends the link. Bad input stores nothing and
// leaves the link usable. The link is spent before the credential is
// written, so a store failure in between costs a new link, never leaves a
// link that could set a second password.
func CompleteSetup(ctx context.Context, st store.Store, kek keys.KEK, token, password, confirm, code string, now time.Time) (store.Person, error) {
	p, err := Authenticate(ctx, st, token, now, KindSetup)
	if err != nil {
		return store.Person{}, err
	}
	if password != confirm {
		return store.Person{}, ErrPasswordsDiffer
	}
	if err := CheckNewPassword(password); err != nil {
		return store.Person{}, err
	}
	secret := SetupSecret(token)
	step, ok := MatchTOTP(secret, code, now)
	if !ok {
		return store.Person{}, ErrBadCode
	}
	sealed, err := SealTOTP(kek, p.Subject, secret)
	if err != nil {
		return store.Person{}, err
	}
	cred := store.Credential{Person: p.Subject, Password: HashPassword(password), TOTPSecret: sealed, TOTPStep: step, Updated: now}
	if err := st.RevokeToken(ctx, p.TokenHash, now); err != nil {
		return store.Person{}, fmt.Errorf("spending the set-up link: %w", err)
	}
	if err := st.PutCredential(ctx, cred); err != nil {
		return store.Person{}, fmt.Errorf("setting the password: %w", err)
	}
	return *p.Person, nil
}

// SetPassword sets person's password directly (the CLI's --password-stdin,
// for bootstrapping), keeping any second factor. A nil totpSecret keeps
// the current one; otherwise it replaces it.
func SetPassword(ctx context.Context, st store.Store, kek keys.KEK, person, password string, totpSecret []byte, now time.Time) error {
	if err := CheckNewPassword(password); err != nil {
		return err
	}
	cred, err := st.CredentialOf(ctx, person)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("setting the password: %w", err)
	}
	cred.Person, cred.Password, cred.Updated = person, HashPassword(password), now
	if totpSecret != nil {
		sealed, err := SealTOTP(kek, person, totpSecret)
		if err != nil {
			return err
		}
		cred.TOTPSecret, cred.TOTPStep = sealed, 0
	}
	if err := st.PutCredential(ctx, cred); err != nil {
		return fmt.Errorf("setting the password: %w", err)
	}
	return nil
}
