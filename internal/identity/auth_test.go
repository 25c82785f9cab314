package identity

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
)

var day0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// testKEK seals second-factor secrets in tests.
var testKEK = func() keys.KEK {
	k, err := keys.NewLocalKEK(make([]byte, 32))
	if err != nil {
		panic(err)
	}
	return k
}()

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func putPerson(t *testing.T, st store.Store, p store.Person) {
	t.Helper()
	if old, err := st.PersonByID(t.Context(), p.ID); err == nil {
		p.Version = old.Version
	}
	if _, _, err := st.PutPeople(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
}

// TestAuthenticateRefuses covers every way a token stops working.
func TestAuthenticateRefuses(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	putPerson(t, st, store.Person{ID: "ann", Name: "Ann", Roles: []string{"admin", "investigator", "staff"}})
	putPerson(t, st, store.Person{ID: "lee", Name: "Lee", Roles: []string{"investigator", "staff"}, LeftOn: day0.Add(24 * time.Hour)})
	mint := func(person string, role Role) string {
		tok, err := NewUserToken(ctx, st, person, role, day0)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	annInv := mint("ann", RoleInvestigator)
	if p, err := Authenticate(ctx, st, annInv, day0, KindUser); err != nil || p.Role != RoleInvestigator || p.Person == nil || p.Person.Name != "Ann" {
		t.Fatalf("Authenticate(ann as investigator) = %+v, %v", p, err)
	}
	// A token acts in its one role: Ann's investigator token is never an
	// admin, although Ann is one.
	if p, _ := Authenticate(ctx, st, annInv, day0, KindUser); p.Role == RoleAdmin {
		t.Error("an investigator token authenticated as admin")
	}

	revoked := mint("ann", RoleAdmin)
	if err := st.RevokeToken(ctx, HashToken(revoked), day0); err != nil {
		t.Fatal(err)
	}
	lee := mint("lee", RoleInvestigator)
	if _, err := Authenticate(ctx, st, lee, day0.Add(23*time.Hour), KindUser); err != nil {
		t.Errorf("a leaver's token the day before they leave = %v, want it to work", err)
	}
	sessions := &Sessions{Store: st, Throttle: &Throttle{}, KEK: testKEK}
	if err := SetPassword(ctx, st, testKEK, "ann", "a long enough password", nil, day0); err != nil {
		t.Fatal(err)
	}
	session, _, err := sessions.SignIn(ctx, "ann", "a long enough password", "127.0.0.1", day0)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		token string
		at    time.Time
		kinds []string
	}{
		{"expired", annInv, day0.Add(UserTokenLifetime), []string{KindUser}},
		{"revoked", revoked, day0, []string{KindUser}},
		{"leaver on the leaving date", lee, day0.Add(24 * time.Hour), []string{KindUser}},
		{"leaver after", lee, day0.Add(48 * time.Hour), []string{KindUser}},
		{"session as bearer token", session, day0, []string{KindAdmin, KindSource, KindUser}},
		{"bearer token as session", annInv, day0, []string{KindSession}},
		{"session expired", session, day0.Add(SessionLifetime), []string{KindSession}},
	} {
		if _, err := Authenticate(ctx, st, c.token, c.at, c.kinds...); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: Authenticate = %v, want ErrUnauthenticated", c.name, err)
		}
	}
	// The leaver's token was revoked on use, and stays revoked.
	tok, err := st.TokenByHash(ctx, HashToken(lee))
	if err != nil || tok.Revoked.IsZero() {
		t.Errorf("leaver's token after a refused use: %+v, %v; want revoked", tok, err)
	}

	// Removing a role stops the tokens acting in it at once.
	putPerson(t, st, store.Person{ID: "ann", Name: "Ann", Roles: []string{"admin", "staff"}})
	if _, err := Authenticate(ctx, st, annInv, day0, KindUser); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("token in a role the person no longer holds = %v, want ErrUnauthenticated", err)
	}

	// Sign-out revokes the session.
	p, err := Authenticate(ctx, st, session, day0, KindSession)
	if err != nil {
		t.Fatal(err)
	}
	if err := sessions.SignOut(ctx, p, day0); err != nil {
		t.Fatal(err)
	}
	if _, err := Authenticate(ctx, st, session, day0, KindSession); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("session after sign-out = %v, want ErrUnauthenticated", err)
	}
}

func TestRevokeLeavers(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	putPerson(t, st, store.Person{ID: "lee", Name: "Lee", Roles: []string{"staff"}, LeftOn: day0})
	putPerson(t, st, store.Person{ID: "sam", Name: "Sam", Roles: []string{"staff"}})
	leeTok, _ := NewUserToken(ctx, st, "lee", RoleStaff, day0.Add(-time.Hour))
	samTok, _ := NewUserToken(ctx, st, "sam", RoleStaff, day0.Add(-time.Hour))
	if got, err := RevokeLeavers(ctx, st, day0.Add(-time.Minute)); err != nil || len(got) != 0 {
		t.Errorf("RevokeLeavers before the leaving date = %v, %v; want none", got, err)
	}
	got, err := RevokeLeavers(ctx, st, day0)
	if err != nil || len(got) != 1 || got["lee"] != 1 {
		t.Errorf("RevokeLeavers on the leaving date = %v, %v; want lee:1", got, err)
	}
	if tok, _ := st.TokenByHash(ctx, HashToken(leeTok)); tok.Revoked.IsZero() {
		t.Error("leaver's token not revoked")
	}
	if tok, _ := st.TokenByHash(ctx, HashToken(samTok)); !tok.Revoked.IsZero() {
		t.Error("a stayer's token was revoked")
	}
}

func TestPassword(t *testing.T) {
	h := HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("HashPassword = %q, want argon2id PHC string", h)
	}
	if h == HashPassword("correct horse battery staple") {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !CheckPassword(h, "correct horse battery staple") {
		t.Error("CheckPassword(right password) = false")
	}
	for _, c := range []struct{ hash, pw string }{
		{h, "correct horse battery stapl"},
		{h, ""},
		{"", "x"},
		{strings.Replace(h, "m=65536", "m=4194304", 1), "correct horse battery staple"}, // a tampered row must not cost 4 GiB
		{strings.Replace(h, "argon2id", "argon2i", 1), "correct horse battery staple"},
		{h[:len(h)-4], "correct horse battery staple"},
	} {
		if CheckPassword(c.hash, c.pw) {
			t.Errorf("CheckPassword(%q, %q) = true, want false", c.hash, c.pw)
		}
	}
	for _, c := range []struct {
		pw string
		ok bool
	}{{"short", false}, {strings.Repeat("x", 11), false}, {strings.Repeat("x", 12), true}, {strings.Repeat("x", 257), false}, {"\xff" + strings.Repeat("x", 12), false}} {
		if err := CheckNewPassword(c.pw); (err == nil) != c.ok {
			t.Errorf("CheckNewPassword(%d bytes) = %v, want ok=%v", len(c.pw), err, c.ok)
		}
	}
}

func TestThrottleNeverLocksOut(t *testing.T) {
	th := &Throttle{FreeAttempts: 3, BaseDelay: time.Second, MaxDelay: time.Minute}
	now := day0
	for i := range 3 {
		if w := th.Wait("user:ann", now); w != 0 {
			t.Fatalf("attempt %d: wait %v, want 0 within the free attempts", i+1, w)
		}
		th.Fail("user:ann", now)
	}
	// Fourth failure: 1s, then 2s, 4s ... capped at a minute, never forever.
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		th.Fail("user:ann", now)
		if w := th.Wait("user:ann", now); w != want {
			t.Errorf("after %d failures: wait %v, want %v", i+4, w, want)
		}
		now = now.Add(want)
		if w := th.Wait("user:ann", now); w != 0 {
			t.Errorf("after waiting %v: wait %v, want 0", want, w)
		}
	}
	for range 100 {
		th.Fail("user:ann", now)
	}
	if w := th.Wait("user:ann", now); w != time.Minute {
		t.Errorf("after 100 failures: wait %v, want the cap of a minute", w)
	}
	if w := th.Wait("user:bob", now); w != 0 {
		t.Errorf("another user waits %v, want 0", w)
	}
	th.Succeed("user:ann")
	if w := th.Wait("user:ann", now); w != 0 {
		t.Errorf("after success: wait %v, want 0", w)
	}
	small := &Throttle{MaxKeys: 2}
	small.Fail("a", now)
	small.Fail("b", now.Add(time.Second))
	small.Fail("c", now.Add(2*time.Second))
	if len(small.keys) != 2 || small.keys["a"] != nil {
		t.Errorf("throttle over MaxKeys kept %d keys (a kept: %v), want 2 without the oldest", len(small.keys), small.keys["a"] != nil)
	}
}

func TestSignInThrottled(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	putPerson(t, st, store.Person{ID: "ann", Name: "Ann", Roles: []string{"authoriser", "staff"}})
	if err := SetPassword(ctx, st, testKEK, "ann", "a long enough password", nil, day0); err != nil {
		t.Fatal(err)
	}
	s := &Sessions{Store: st, Throttle: &Throttle{FreeAttempts: 2}, KEK: testKEK}
	for range 2 {
		if _, _, err := s.SignIn(ctx, "ann", "wrong password!", "10.0.0.1", day0); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password = %v, want ErrBadCredentials", err)
		}
	}
	s.SignIn(ctx, "ann", "wrong password!", "10.0.0.1", day0)
	var te *ThrottledError
	if _, _, err := s.SignIn(ctx, "ann", "a long enough password", "10.0.0.2", day0); !errors.As(err, &te) {
		t.Fatalf("right password while throttled = %v, want ThrottledError", err)
	}
	// Throttled, not locked: after the wait the right password works.
	_, p, err := s.SignIn(ctx, "ann", "a long enough password", "10.0.0.2", day0.Add(te.Wait))
	if err != nil || p.Role != RoleAuthoriser {
		t.Errorf("after the wait: %+v, %v; want a session as authoriser", p, err)
	}
	for _, c := range []struct{ user, pw string }{{"nobody", "a long enough password"}, {"", ""}, {"ann\x00", "x"}} {
		if _, _, err := s.SignIn(ctx, c.user, c.pw, "10.0.0.3", day0.Add(time.Hour)); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("SignIn(%q) = %v, want ErrBadCredentials", c.user, err)
		}
	}
}

func TestStepUpAndReplay(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	putPerson(t, st, store.Person{ID: "ann", Name: "Ann", Roles: []string{"admin", "staff"}})
	secret := NewTOTPSecret()
	if err := SetPassword(ctx, st, testKEK, "ann", "a long enough password", secret, day0); err != nil {
		t.Fatal(err)
	}
	s := &Sessions{Store: st, Throttle: &Throttle{}, KEK: testKEK}
	token, _, err := s.SignIn(ctx, "ann", "a long enough password", "127.0.0.1", day0)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Authenticate(ctx, st, token, day0, KindSession)
	if SteppedUp(p, day0) {
		t.Fatal("a fresh session counts as stepped up")
	}
	if err := s.StepUp(ctx, p, "123456", day0); !errors.Is(err, ErrBadCode) && TOTPCode(secret, day0) != "123456" {
		t.Errorf("wrong code = %v, want ErrBadCode", err)
	}
	code := TOTPCode(secret, day0)
	if err := s.StepUp(ctx, p, code, day0); err != nil {
		t.Fatalf("right code = %v", err)
	}
	p, _ = Authenticate(ctx, st, token, day0, KindSession)
	if !SteppedUp(p, day0.Add(StepUpLifetime-time.Second)) || SteppedUp(p, day0.Add(StepUpLifetime)) {
		t.Errorf("step-up lasts %v from %v: wrong window", StepUpLifetime, p.SteppedUp)
	}
	// The same code again, even within its 30 s step, is refused.
	if err := s.StepUp(ctx, p, code, day0.Add(time.Second)); !errors.Is(err, ErrBadCode) {
		t.Errorf("replayed code = %v, want ErrBadCode", err)
	}
	// The previous step's code is refused too once a later one was used.
	if err := s.StepUp(ctx, p, TOTPCode(secret, day0.Add(-30*time.Second)), day0); !errors.Is(err, ErrBadCode) {
		t.Errorf("an older step's code = %v, want ErrBadCode", err)
	}
	if err := s.StepUp(ctx, p, TOTPCode(secret, day0.Add(30*time.Second)), day0.Add(30*time.Second)); err != nil {
		t.Errorf("the next step's code = %v", err)
	}
}

func TestSetupLink(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	putPerson(t, st, store.Person{ID: "ann", Name: "Ann", Roles: []string{"staff"}})
	link, err := NewSetupLink(ctx, st, "ann", day0)
	if err != nil {
		t.Fatal(err)
	}
	secret := SetupSecret(link)
	code := TOTPCode(secret, day0)
	for _, c := range []struct {
		name, pw, confirm, code string
		want                    error
	}{
		{"passwords differ", "a long enough password", "a long enough passwork", code, ErrPasswordsDiffer},
		{"wrong code", "a long enough password", "a long enough password", "000000", ErrBadCode},
	} {
		if _, err := CompleteSetup(ctx, st, testKEK, link, c.pw, c.confirm, c.code, day0); !errors.Is(err, c.want) {
			t.Errorf("%s: CompleteSetup = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := CompleteSetup(ctx, st, testKEK, link, "short", "short", code, day0); err == nil {
		t.Error("short password accepted")
	}
	if _, err := st.CredentialOf(ctx, "ann"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused set-ups stored a credential: %v", err)
	}
	if _, err := CompleteSetup(ctx, st, testKEK, link, "a long enough password", "a long enough password", code, day0.Add(SetupLinkLifetime)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("expired link = %v, want ErrUnauthenticated", err)
	}
	if _, err := CompleteSetup(ctx, st, testKEK, link, "a long enough password", "a long enough password", code, day0); err != nil {
		t.Fatalf("CompleteSetup = %v", err)
	}
	if _, err := CompleteSetup(ctx, st, testKEK, link, "another long password", "another long password", TOTPCode(secret, day0.Add(time.Minute)), day0.Add(time.Minute)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("link used twice = %v, want ErrUnauthenticated", err)
	}
	s := &Sessions{Store: st, Throttle: &Throttle{}, KEK: testKEK}
	if _, _, err := s.SignIn(ctx, "ann", "a long enough password", "127.0.0.1", day0); err != nil {
		t.Errorf("sign-in with the password set by the link = %v", err)
	}
	// A new link ends the old one.
	first, _ := NewSetupLink(ctx, st, "ann", day0)
	NewSetupLink(ctx, st, "ann", day0)
	if _, err := Authenticate(ctx, st, first, day0, KindSetup); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("superseded link = %v, want ErrUnauthenticated", err)
	}
}

func TestRanks(t *testing.T) {
	for _, c := range []struct {
		r, min Rank
		want   bool
	}{
		{Superintendent, Superintendent, true},
		{ChiefSuperintendent, Superintendent, true},
		{Inspector, Superintendent, false},
		{Commissioner, Constable, true},
		{"", Constable, false},
		{"captain", Constable, false},
		{Constable, "", true},
	} {
		if got := c.r.AtLeast(c.min); got != c.want {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", c.r, c.min, got, c.want)
		}
	}
	if _, err := ParseRank("Superintendent"); err == nil {
		t.Error("ParseRank accepted a title, want the snake_case id only")
	}
	if len(AllRanks()) != 11 || AllRanks()[0] != Constable || AllRanks()[10] != Commissioner {
		t.Errorf("AllRanks = %v, want the 11 ranks of LEGAL.md §4, lowest first", AllRanks())
	}
}

// openRapidStore opens a store in a fresh directory for one rapid case.
func openRapidStore(t *testing.T) (*sqlite.DB, error) {
	return sqlite.Open(t.Context(), t.TempDir())
}

// TestTOTPSealed: the stored second-factor secret is sealed with the KEK,
// bound to its person: a copy of the database holds no usable secret, and
// a sealed secret copied onto another person's row does not open.
func TestTOTPSealed(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	putPerson(t, st, store.Person{ID: "ann", Name: "Ann", Roles: []string{"admin", "staff"}})
	putPerson(t, st, store.Person{ID: "bob", Name: "Bob", Roles: []string{"admin", "staff"}})
	secret := NewTOTPSecret()
	if err := SetPassword(ctx, st, testKEK, "ann", "a long enough password", secret, day0); err != nil {
		t.Fatal(err)
	}
	cred, err := st.CredentialOf(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(cred.TOTPSecret, secret) {
		t.Fatal("the stored second factor holds the raw secret")
	}
	// Bob's row gets Ann's sealed secret: it must not open for Bob.
	if err := st.PutCredential(ctx, store.Credential{Person: "bob", TOTPSecret: cred.TOTPSecret, Updated: day0}); err != nil {
		t.Fatal(err)
	}
	s := &Sessions{Store: st, Throttle: &Throttle{}, KEK: testKEK}
	bob := Principal{Kind: KindUser, Subject: "bob", Role: RoleAdmin, Person: &store.Person{ID: "bob"}}
	if err := s.CheckCode(ctx, bob, TOTPCode(secret, day0), day0); err == nil || errors.Is(err, ErrBadCode) {
		t.Errorf("Ann's secret on Bob's row = %v, want it not to open", err)
	}
	ann := Principal{Kind: KindUser, Subject: "ann", Role: RoleAdmin, Person: &store.Person{ID: "ann"}}
	if err := s.CheckCode(ctx, ann, TOTPCode(secret, day0), day0); err != nil {
		t.Errorf("Ann's own code = %v", err)
	}
	other, _ := keys.NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	s.KEK = other
	if err := s.CheckCode(ctx, ann, TOTPCode(secret, day0.Add(time.Minute)), day0.Add(time.Minute)); err == nil {
		t.Error("the secret opened under another KEK")
	}
}
