package identity

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/store"
)

// TestRewrapSecondFactors: after the rewrap every enrolled second factor
// opens under the new KEK alone, and the rest of each credential is kept.
func TestRewrapSecondFactors(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	old, _ := keys.NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	cur, _ := keys.NewLocalKEK(bytes.Repeat([]byte{2}, 32))
	ring, _ := keys.NewKEKRing(cur, old)
	secrets := map[string][]byte{}
	for i, tt := range []struct {
		person string
		kek    keys.KEK // nil: password only
	}{
		{"ann", old}, {"bob", cur}, {"cat", nil}, {"dan", old},
	} {
		putPerson(t, st, store.Person{ID: tt.person, Name: tt.person, Roles: []string{"staff"}})
		c := store.Credential{Person: tt.person, Password: "hash-" + tt.person, TOTPStep: int64(i + 10), Updated: day0}
		if tt.kek != nil {
			secrets[tt.person] = NewTOTPSecret()
			var err error
			if c.TOTPSecret, err = SealTOTP(tt.kek, tt.person, secrets[tt.person]); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.PutCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	putPerson(t, st, store.Person{ID: "eve", Name: "Eve", Roles: []string{"staff"}}) // no credential
	n, err := RewrapSecondFactors(ctx, st, ring)
	if err != nil || n != 2 {
		t.Fatalf("RewrapSecondFactors = %d, %v; want 2 (ann and dan)", n, err)
	}
	for i, p := range []string{"ann", "bob", "cat", "dan"} {
		c, err := st.CredentialOf(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if c.Password != "hash-"+p || c.TOTPStep != int64(i+10) {
			t.Errorf("%s's credential after the rewrap = %+v, want password and step kept", p, c)
		}
		if secrets[p] == nil {
			if c.TOTPSecret != nil {
				t.Errorf("%s gained a second factor", p)
			}
			continue
		}
		if got, err := openTOTP(cur, p, c.TOTPSecret); err != nil || !bytes.Equal(got, secrets[p]) {
			t.Errorf("%s's second factor under the new KEK alone = %v; want the same secret", p, err)
		}
	}
	if n, err := RewrapSecondFactors(ctx, st, ring); err != nil || n != 0 {
		t.Errorf("RewrapSecondFactors again = %d, %v; want nothing left to do", n, err)
	}
	// A secret no KEK of the ring opens stops the rewrap, naming whose.
	stranger, _ := keys.NewLocalKEK(bytes.Repeat([]byte{3}, 32))
	sealed, _ := SealTOTP(stranger, "eve", NewTOTPSecret())
	st.PutCredential(ctx, store.Credential{Person: "eve", TOTPSecret: sealed, Updated: day0})
	if _, err := RewrapSecondFactors(ctx, st, ring); err == nil || !strings.Contains(err.Error(), "eve") {
		t.Errorf("RewrapSecondFactors over a foreign secret = %v, want an error naming eve", err)
	}
}
