package keys

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// memKeys is a DataKeys for tests.
type memKeys struct {
	keys    []store.DataKey
	batches int
}

func (m *memKeys) DataKeyFor(_ context.Context, subject, period string) (store.DataKey, error) {
	for _, k := range m.keys {
		if k.Subject == subject && k.Period == period {
			return k, nil
		}
	}
	return store.DataKey{}, store.ErrNotFound
}

func (m *memKeys) DataKeyByID(_ context.Context, id []byte) (store.DataKey, error) {
	for _, k := range m.keys {
		if bytes.Equal(k.ID, id) {
			return k, nil
		}
	}
	return store.DataKey{}, store.ErrNotFound
}

func (m *memKeys) AddDataKey(ctx context.Context, k store.DataKey) error {
	if _, err := m.DataKeyFor(ctx, k.Subject, k.Period); err == nil {
		return store.ErrExists
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) AddDataKeys(ctx context.Context, ks []store.DataKey) error {
	m.batches++
	for _, k := range ks {
		if _, err := m.DataKeyFor(ctx, k.Subject, k.Period); err != nil {
			m.keys = append(m.keys, k)
		}
	}
	return nil
}

var now = func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }

func TestRingCreatesOneKeyPerSubjectMonth(t *testing.T) {
	kek, _ := NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	st := &memKeys{}
	r := NewRing(kek, st, now)
	nov := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	a, err := r.For(t.Context(), "u1", "", nov)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.For(t.Context(), "u1", "", nov.Add(20*24*time.Hour))
	c, _ := r.For(t.Context(), "u1", "", nov.AddDate(0, 1, 0))
	d, _ := r.For(t.Context(), "u2", "", nov)
	if !bytes.Equal(a.ID, b.ID) || bytes.Equal(a.ID, c.ID) || bytes.Equal(a.ID, d.ID) || len(st.keys) != 3 {
		t.Fatalf("keys: same month %v, next month differs %v, other subject differs %v, stored %d",
			bytes.Equal(a.ID, b.ID), !bytes.Equal(a.ID, c.ID), !bytes.Equal(a.ID, d.ID), len(st.keys))
	}
	// A fresh ring (a restart) finds and unwraps the stored key.
	r2 := NewRing(kek, st, now)
	a2, err := r2.ByID(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	ct := a.Seal([]byte("secret"), []byte("aad"))
	if pt, err := a2.Open(ct, []byte("aad")); err != nil || string(pt) != "secret" {
		t.Errorf("Open after restart = %q, %v", pt, err)
	}
	if _, err := a2.Open(ct, []byte("other aad")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open with other aad = %v, want ErrDecrypt", err)
	}
}

func TestWrappedKeyIsBoundToItsRow(t *testing.T) {
	kek, _ := NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	st := &memKeys{}
	r := NewRing(kek, st, now)
	a, _ := r.For(t.Context(), "u1", "", now())
	b, _ := r.For(t.Context(), "u2", "", now())
	// Copy u1's wrapped key onto u2's row: it must not unwrap there.
	st.keys[1].Wrapped = st.keys[0].Wrapped
	if _, err := NewRing(kek, st, now).ByID(t.Context(), b.ID); !errors.Is(err, ErrDecrypt) {
		t.Errorf("ByID of a row holding another row's wrapped key = %v, want ErrDecrypt", err)
	}
	_ = a
}

func TestDestroyedKeyAndWrongKEK(t *testing.T) {
	kek, _ := NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	st := &memKeys{}
	a, _ := NewRing(kek, st, now).For(t.Context(), "u1", "", now())
	other, _ := NewLocalKEK(bytes.Repeat([]byte{2}, 32))
	if _, err := NewRing(other, st, now).ByID(t.Context(), a.ID); err == nil || errors.Is(err, ErrDestroyed) {
		t.Errorf("ByID under another KEK = %v, want a KEK mismatch error", err)
	}
	st.keys[0].Wrapped, st.keys[0].Destroyed = nil, now()
	if _, err := NewRing(kek, st, now).ByID(t.Context(), a.ID); !errors.Is(err, ErrDestroyed) {
		t.Errorf("ByID of a destroyed key = %v, want ErrDestroyed", err)
	}
	if _, err := NewRing(kek, st, now).For(t.Context(), "u1", "", now()); !errors.Is(err, ErrDestroyed) {
		t.Errorf("For a destroyed subject-month = %v, want ErrDestroyed (never recreated)", err)
	}
}

func TestKEKFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	if _, err := LoadOrCreateKEK(path, false); err == nil {
		t.Error("LoadOrCreateKEK(missing, create=false) succeeded")
	}
	k1, err := LoadOrCreateKEK(path, true)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("KEK file mode = %v, want 0600", info.Mode().Perm())
	}
	k2, err := LoadOrCreateKEK(path, true)
	if err != nil || k1.ID() != k2.ID() {
		t.Errorf("reloaded KEK id %q, %v; want %q", k2.ID(), err, k1.ID())
	}
	for _, bad := range []string{"", "not base64!", "AAAA"} {
		if _, err := ParseLocalKEK(bad); err == nil {
			t.Errorf("ParseLocalKEK(%q) succeeded", bad)
		}
	}
}

func TestPrepareCreatesMissingKeysInOneBatch(t *testing.T) {
	kek, _ := NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	st := &memKeys{}
	r := NewRing(kek, st, now)
	existing, _ := r.For(t.Context(), "u0", "", now())
	nov := now()
	var needs []Need
	for _, s := range []string{"u0", "u1", "u2", "u1", "u3"} {
		needs = append(needs, Need{Subject: s, Time: nov})
	}
	if err := NewRing(kek, st, now).Prepare(t.Context(), needs); err != nil {
		t.Fatal(err)
	}
	if st.batches != 1 || len(st.keys) != 4 {
		t.Fatalf("Prepare: %d batches, %d keys stored; want 1 batch, 4 keys", st.batches, len(st.keys))
	}
	again, _ := r.For(t.Context(), "u0", "", nov)
	if !bytes.Equal(again.ID, existing.ID) {
		t.Error("Prepare replaced an existing key")
	}
}

// keyWithRaw returns the Key a ring unwraps for a data key of the given raw
// bytes, so that tests can check what is derived from a known key.
func keyWithRaw(t *testing.T, raw []byte) *Key {
	t.Helper()
	kek, _ := NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	id := bytes.Repeat([]byte{0xaa}, 16)
	wrapped, err := kek.Wrap(raw, wrapAAD(id, "u1", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	st := &memKeys{keys: []store.DataKey{{ID: id, Subject: "u1", Period: "2026-11", KEKID: kek.ID(), Wrapped: wrapped, Created: now()}}}
	k, err := NewRing(kek, st, now).ByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestBlindKnownAnswer(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i)
	}
	k := keyWithRaw(t, raw)
	// Computed outside Go (Python's hmac, hashlib and base64) from the
	// contract's text, for raw key 00 01 … 1f.
	for term, want := range map[string]string{
		"fox":   "hc5bvq5uqunrviollsz62n7a",
		"quick": "wappn7xqlimvnjiepy4s44ku",
		"17":    "75momky726fr7lqq7wdqi4sg",
		"école": "wlcjcfcpexeptqxlkbhnz2qb",
	} {
		if got := k.Blind(term); got != want {
			t.Errorf("Blind(%q) = %q, want %q", term, got, want)
		}
	}
	// The same derivation, written out from the spec step by step.
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	searchKey := mac(raw, "lbm/search/v1")
	for _, term := range []string{"", "a", "the", "ünïcödé", strings.Repeat("x", 64)} {
		want := strings.ToLower(base32.StdEncoding.EncodeToString(mac(searchKey, term)[:15]))
		if got := k.Blind(term); got != want {
			t.Errorf("Blind(%q) = %q, want %q", term, got, want)
		}
	}
}

var blindShape = regexp.MustCompile(`^[a-z2-7]{24}$`)

func TestBlind(t *testing.T) {
	kek, _ := NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	st := &memKeys{}
	r := NewRing(kek, st, now)
	a, _ := r.For(t.Context(), "u1", "", now())
	b, _ := r.For(t.Context(), "u2", "", now())
	// A fresh ring (a restart) unwraps the stored key and derives the same search key.
	a2, err := NewRing(kek, st, now).ByID(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	terms := []string{"brown", "fox", "quick", "the"}
	got := a.BlindAll(terms)
	if len(got) != len(terms) {
		t.Fatalf("BlindAll(%q) returned %d tags", terms, len(got))
	}
	seen := map[string]bool{}
	for i, term := range terms {
		tag := got[i]
		if !blindShape.MatchString(tag) {
			t.Errorf("Blind(%q) = %q, want 24 characters of [a-z2-7]", term, tag)
		}
		if a.Blind(term) != tag || a2.Blind(term) != tag {
			t.Errorf("Blind(%q) differs between calls or across a restart", term)
		}
		if b.Blind(term) == tag {
			t.Errorf("Blind(%q) is the same under two keys", term)
		}
		if seen[tag] {
			t.Errorf("Blind(%q) = %q, the tag of another term", term, tag)
		}
		seen[tag] = true
	}
	if got := a.BlindAll(nil); got != nil {
		t.Errorf("BlindAll(nil) = %q, want nil", got)
	}
}

func TestKeyPrintsOnlyItsID(t *testing.T) {
	k := keyWithRaw(t, bytes.Repeat([]byte{0x5a}, 32))
	secret := []string{
		hex.EncodeToString(k.search),
		fmt.Sprint(k.search),
		fmt.Sprintf("%#v", k.search),
		fmt.Sprint([]byte(bytes.Repeat([]byte{0x5a}, 32))),
		hex.EncodeToString(bytes.Repeat([]byte{0x5a}, 32)),
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		for _, v := range []any{k, *k} {
			out := fmt.Sprintf(format, v)
			for _, s := range secret {
				if strings.Contains(out, s) {
					t.Errorf("Sprintf(%q, %T) = %q: shows key material", format, v, out)
				}
			}
			if !strings.Contains(out, hex.EncodeToString(k.ID)) {
				t.Errorf("Sprintf(%q, %T) = %q, want the key's id", format, v, out)
			}
		}
	}
}

func TestExisting(t *testing.T) {
	kek, _ := NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	st := &memKeys{}
	r := NewRing(kek, st, now)
	if _, err := r.Existing(t.Context(), "u1", now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Existing with no key = %v, want store.ErrNotFound", err)
	}
	if len(st.keys) != 0 {
		t.Fatalf("Existing created %d keys, want none", len(st.keys))
	}
	a, err := r.For(t.Context(), "u1", "", now())
	if err != nil {
		t.Fatal(err)
	}
	for _, ring := range []*Ring{r, NewRing(kek, st, now)} {
		got, err := ring.Existing(t.Context(), "u1", now())
		if err != nil || !bytes.Equal(got.ID, a.ID) {
			t.Errorf("Existing = %v, %v; want %v", got, err, a)
		}
	}
	if _, err := r.Existing(t.Context(), "u1", now().AddDate(0, 1, 0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Existing for another month = %v, want store.ErrNotFound", err)
	}
	// Destroyed while r still caches it: Existing must see the store, and
	// then r stops handing the key out by any route.
	st.keys[0].Wrapped, st.keys[0].Destroyed = nil, now()
	if _, err := r.Existing(t.Context(), "u1", now()); !errors.Is(err, ErrDestroyed) {
		t.Errorf("Existing of a destroyed, cached key = %v, want ErrDestroyed", err)
	}
	if _, err := r.ByID(t.Context(), a.ID); !errors.Is(err, ErrDestroyed) {
		t.Errorf("ByID after Existing saw the key destroyed = %v, want ErrDestroyed", err)
	}
	if _, err := r.For(t.Context(), "u1", "", now()); !errors.Is(err, ErrDestroyed) {
		t.Errorf("For after Existing saw the key destroyed = %v, want ErrDestroyed", err)
	}
}

func TestCategoryKeysArePerCategory(t *testing.T) {
	kek, _ := NewLocalKEK(bytes.Repeat([]byte{1}, 32))
	st := &memKeys{}
	r := NewRing(kek, st, now)
	nov := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	month, _ := r.For(t.Context(), "u1", "", nov)
	email, _ := r.For(t.Context(), "u1", "email", nov)
	web, _ := r.For(t.Context(), "u1", "web", nov.Add(72*time.Hour))
	again, _ := r.For(t.Context(), "u1", "email", nov.Add(24*time.Hour))
	if bytes.Equal(month.ID, email.ID) || bytes.Equal(email.ID, web.ID) || !bytes.Equal(email.ID, again.ID) {
		t.Fatal("want one key per subject, category and month")
	}
	var periods []string
	for _, k := range st.keys {
		periods = append(periods, k.Period)
	}
	slices.Sort(periods)
	if want := []string{"2026-11", "2026-11/email", "2026-11/web"}; !slices.Equal(periods, want) {
		t.Fatalf("stored periods %q, want %q", periods, want)
	}
	for _, tc := range []struct {
		period string
		ok     bool
	}{{"2026-11", true}, {"2026-11/email", true}, {"2026-13", false}, {"", false}, {"x/email", false}} {
		from, to, ok := PeriodRange(tc.period)
		if ok != tc.ok || ok && (!from.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))) {
			t.Errorf("PeriodRange(%q) = %v, %v, %v", tc.period, from, to, ok)
		}
	}
}
