package keys

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
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
	a, err := r.For(t.Context(), "u1", nov)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.For(t.Context(), "u1", nov.Add(20*24*time.Hour))
	c, _ := r.For(t.Context(), "u1", nov.AddDate(0, 1, 0))
	d, _ := r.For(t.Context(), "u2", nov)
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
	a, _ := r.For(t.Context(), "u1", now())
	b, _ := r.For(t.Context(), "u2", now())
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
	a, _ := NewRing(kek, st, now).For(t.Context(), "u1", now())
	other, _ := NewLocalKEK(bytes.Repeat([]byte{2}, 32))
	if _, err := NewRing(other, st, now).ByID(t.Context(), a.ID); err == nil || errors.Is(err, ErrDestroyed) {
		t.Errorf("ByID under another KEK = %v, want a KEK mismatch error", err)
	}
	st.keys[0].Wrapped, st.keys[0].Destroyed = nil, now()
	if _, err := NewRing(kek, st, now).ByID(t.Context(), a.ID); !errors.Is(err, ErrDestroyed) {
		t.Errorf("ByID of a destroyed key = %v, want ErrDestroyed", err)
	}
	if _, err := NewRing(kek, st, now).For(t.Context(), "u1", now()); !errors.Is(err, ErrDestroyed) {
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
	existing, _ := r.For(t.Context(), "u0", now())
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
	again, _ := r.For(t.Context(), "u0", nov)
	if !bytes.Equal(again.ID, existing.ID) {
		t.Error("Prepare replaced an existing key")
	}
}
