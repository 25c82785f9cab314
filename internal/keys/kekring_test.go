package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
)

// KEKRotation for memKeys: the rotation's store, in memory.

func (m *memKeys) DataKeysWrappedBy(_ context.Context, kekID string, after []byte, limit int) ([]store.DataKey, error) {
	var out []store.DataKey
	for _, k := range m.keys {
		if k.KEKID == kekID && k.Destroyed.IsZero() && k.Wrapped != nil && bytes.Compare(k.ID, after) > 0 {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b store.DataKey) int { return bytes.Compare(a.ID, b.ID) })
	return out[:min(limit, len(out))], nil
}

func (m *memKeys) RewrapDataKey(_ context.Context, id []byte, from, to string, wrapped []byte) error {
	for i, k := range m.keys {
		if bytes.Equal(k.ID, id) {
			if k.KEKID != from || !k.Destroyed.IsZero() || k.Wrapped == nil {
				return store.ErrConflict
			}
			m.keys[i].KEKID, m.keys[i].Wrapped = to, wrapped
			return nil
		}
	}
	return store.ErrNotFound
}

func (m *memKeys) CountDataKeys(context.Context) (store.KEKCount, error) {
	c := store.KEKCount{Live: map[string]int{}}
	for _, k := range m.keys {
		if k.Destroyed.IsZero() && k.Wrapped != nil {
			c.Live[k.KEKID]++
		} else {
			c.Destroyed++
		}
	}
	return c, nil
}

func testKEK(t *testing.T, b byte) *LocalKEK {
	t.Helper()
	k, err := NewLocalKEK(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKEKRingUnwrapsByID(t *testing.T) {
	old, cur, gone := testKEK(t, 1), testKEK(t, 2), testKEK(t, 3)
	st := &memKeys{}
	// One key under each KEK, each made by a ring whose current KEK it is.
	subjects := map[string]*LocalKEK{"under-old": old, "under-current": cur, "under-gone": gone}
	ids := map[string][]byte{}
	for s, k := range subjects {
		dk, err := NewRing(k, st, now).For(t.Context(), s, "", now())
		if err != nil {
			t.Fatal(err)
		}
		ids[s] = dk.ID
	}
	ring, err := NewKEKRing(cur, old)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		kek     KEK
		subject string
		unknown string // the KEK id the error names; "" when the key unwraps
	}{
		{"ring, key under an older KEK", ring, "under-old", ""},
		{"ring, key under the current KEK", ring, "under-current", ""},
		{"ring, key under a KEK it lacks", ring, "under-gone", gone.ID()},
		{"lone KEK, its own key", old, "under-old", ""},
		{"lone KEK, another's key", old, "under-current", cur.ID()},
	}
	for _, tt := range tests {
		_, err := NewRing(tt.kek, st, now).ByID(t.Context(), ids[tt.subject])
		var uerr *UnknownKEKError
		switch {
		case tt.unknown == "" && err != nil:
			t.Errorf("%s: ByID = %v, want the key", tt.name, err)
		case tt.unknown != "" && (!errors.As(err, &uerr) || uerr.ID != tt.unknown):
			t.Errorf("%s: ByID = %v, want an UnknownKEKError naming %s", tt.name, err, tt.unknown)
		case tt.unknown != "":
			if !strings.Contains(err.Error(), tt.unknown) {
				t.Errorf("%s: error %q does not name the KEK", tt.name, err)
			}
			for _, k := range []byte{1, 2, 3} {
				if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{k}, 32))) {
					t.Errorf("%s: error %q holds key material", tt.name, err)
				}
			}
		}
	}
	// New keys are wrapped by the current KEK only.
	r := NewRing(ring, st, now)
	if _, err := r.For(t.Context(), "new", "", now()); err != nil {
		t.Fatal(err)
	}
	if dk, _ := st.DataKeyFor(t.Context(), "new", Period(now())); dk.KEKID != cur.ID() {
		t.Errorf("a new key is wrapped by %s, want the current %s", dk.KEKID, cur.ID())
	}
	if r.KEKID() != cur.ID() || ring.ID() != cur.ID() {
		t.Errorf("KEKID = %s, ring ID = %s; want the current %s", r.KEKID(), ring.ID(), cur.ID())
	}
}

func TestNewKEKRingRefuses(t *testing.T) {
	a, b := testKEK(t, 1), testKEK(t, 2)
	tests := []struct {
		name    string
		current KEK
		older   []KEK
	}{
		{"no current", nil, []KEK{a}},
		{"current among the older", a, []KEK{b, a}},
		{"an older one twice", a, []KEK{b, b}},
	}
	for _, tt := range tests {
		if _, err := NewKEKRing(tt.current, tt.older...); err == nil {
			t.Errorf("NewKEKRing with %s succeeded", tt.name)
		}
	}
}

// TestKEKRingSecrets: a secret wrapped without a KEK id (a second factor)
// opens under an older KEK, and Rewrap moves it to the current one.
func TestKEKRingSecrets(t *testing.T) {
	old, cur, other := testKEK(t, 1), testKEK(t, 2), testKEK(t, 3)
	ring, _ := NewKEKRing(cur, old)
	aad := []byte("lbm/totp/v1\nalice")
	sealed, _ := old.Wrap([]byte("secret"), aad)
	if got, err := ring.Unwrap(sealed, aad); err != nil || string(got) != "secret" {
		t.Fatalf("Unwrap of a secret under the older KEK = %q, %v", got, err)
	}
	if _, err := ring.Unwrap(sealed, []byte("lbm/totp/v1\nbob")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Unwrap bound to another person = %v, want ErrDecrypt", err)
	}
	moved, changed, err := ring.Rewrap(sealed, aad)
	if err != nil || !changed {
		t.Fatalf("Rewrap = changed %v, %v; want changed", changed, err)
	}
	if got, err := cur.Unwrap(moved, aad); err != nil || string(got) != "secret" {
		t.Errorf("the current KEK opens the rewrapped secret = %q, %v", got, err)
	}
	if again, changed, err := ring.Rewrap(moved, aad); err != nil || changed || !bytes.Equal(again, moved) {
		t.Errorf("Rewrap of a secret under the current KEK = changed %v, %v; want unchanged", changed, err)
	}
	foreign, _ := other.Wrap([]byte("secret"), aad)
	if _, _, err := ring.Rewrap(foreign, aad); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Rewrap of a secret under a KEK the ring lacks = %v, want ErrDecrypt", err)
	}
}
