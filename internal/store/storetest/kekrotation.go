package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// The KEK rotation behaviours pin store.KEKRotation: a listing in
// unsigned byte order of id that skips destroyed keys (Destroyed set or
// Wrapped nil) and other KEKs' keys; a rewrap that is a compare-and-swap
// on the KEK id, never revives a destroyed key, and changes nothing but
// Wrapped and KEKID; and counts by KEK.

// rotationKey is a data key with id byte b first (so that 0x80 and above
// show an engine comparing ids as signed), under kek. A destroyed one has
// Wrapped nil, as the ring treats it.
func rotationKey(b byte, kek string, destroyed bool) store.DataKey {
	k := store.DataKey{
		ID:      append([]byte{b}, hash(fmt.Sprint("rotation key ", b))[:15]...),
		Subject: fmt.Sprintf("subject-%d", b),
		Period:  "2025-03",
		KEKID:   kek,
		// A NUL and a 0xff byte, so that an engine treating bytes as text shows.
		Wrapped: append([]byte{0, 0xff}, hash(fmt.Sprint("wrapped ", b))...),
		Created: epoch.Add(time.Duration(b) * time.Second),
	}
	if destroyed {
		k.Wrapped = nil
	}
	return k
}

func testKEKRotation(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.DataKeysWrappedBy(ctx, "kek-a", nil, 10); err != nil || len(got) != 0 {
		t.Errorf("DataKeysWrappedBy in an empty store = %d keys, %v; want none", len(got), err)
	}
	if c, err := s.CountDataKeys(ctx); err != nil || len(c.Live) != 0 || c.Destroyed != 0 {
		t.Errorf("CountDataKeys in an empty store = %+v, %v; want zero", c, err)
	}
	// Added out of id order, so that the listing's order is the engine's.
	var underA []store.DataKey
	for _, b := range []byte{0x90, 0x01, 0xff, 0x40, 0x7f} {
		k := rotationKey(b, "kek-a", false)
		underA = append(underA, k)
		if err := s.AddDataKey(ctx, k); err != nil {
			t.Fatalf("AddDataKey(%x) = %v", k.ID, err)
		}
	}
	others := []store.DataKey{rotationKey(0x02, "kek-b", false), rotationKey(0x03, "kek-b", false), rotationKey(0x41, "kek-a", true)}
	if err := s.AddDataKeys(ctx, others); err != nil {
		t.Fatalf("AddDataKeys = %v", err)
	}
	wantOrder := []byte{0x01, 0x40, 0x7f, 0x90, 0xff}

	var got []byte
	var after []byte
	for page := 0; ; page++ {
		ks, err := s.DataKeysWrappedBy(ctx, "kek-a", after, 2)
		if err != nil {
			t.Fatalf("DataKeysWrappedBy(kek-a, after %x, 2) = %v", after, err)
		}
		if len(ks) > 2 || page > len(wantOrder) {
			t.Fatalf("DataKeysWrappedBy(kek-a, after %x, 2) = %d keys, or never ends", after, len(ks))
		}
		if len(ks) == 0 {
			break
		}
		for _, k := range ks {
			got = append(got, k.ID[0])
			if want := rotationKey(k.ID[0], "kek-a", false); !cmp.Equal(want, k) {
				t.Errorf("DataKeysWrappedBy key %x mismatch (-want +got):\n%s", k.ID, cmp.Diff(want, k))
			}
		}
		after = ks[len(ks)-1].ID
	}
	if !bytes.Equal(got, wantOrder) {
		t.Errorf("DataKeysWrappedBy(kek-a) in pages of 2 = first bytes %x, want %x (ascending unsigned, destroyed skipped)", got, wantOrder)
	}
	if ks, err := s.DataKeysWrappedBy(ctx, "kek-b", nil, 10); err != nil || len(ks) != 2 {
		t.Errorf("DataKeysWrappedBy(kek-b) = %d keys, %v; want 2", len(ks), err)
	}
	if ks, err := s.DataKeysWrappedBy(ctx, "kek-", nil, 10); err != nil || len(ks) != 0 {
		t.Errorf("DataKeysWrappedBy(a prefix of a KEK id) = %d keys, %v; want none", len(ks), err)
	}
	if _, err := s.DataKeysWrappedBy(ctx, "kek-a", nil, 0); err == nil {
		t.Error("DataKeysWrappedBy(limit 0) succeeded")
	}

	target := rotationKey(0x40, "kek-a", false)
	rewrapped := append([]byte{0xff, 0}, hash("rewrapped")...)
	if err := s.RewrapDataKey(ctx, target.ID, "kek-a", "kek-c", rewrapped); err != nil {
		t.Fatalf("RewrapDataKey(kek-a to kek-c) = %v", err)
	}
	want := target
	want.KEKID, want.Wrapped = "kek-c", rewrapped
	if k, err := s.DataKeyByID(ctx, target.ID); err != nil || !cmp.Equal(want, k) {
		t.Errorf("DataKeyByID after a rewrap = %+v, %v; want only Wrapped and KEKID changed (%s)", k, err, cmp.Diff(want, k))
	}

	refused := []struct {
		name     string
		id       []byte
		from, to string
		wrapped  []byte
		want     error
	}{
		{"from a KEK it is no longer under", target.ID, "kek-a", "kek-d", []byte("again"), store.ErrConflict},
		{"of a destroyed key", rotationKey(0x41, "", true).ID, "kek-a", "kek-c", []byte("revived"), store.ErrConflict},
		{"of an absent key", hash("absent")[:16], "kek-a", "kek-c", []byte("x"), store.ErrNotFound},
		{"to nil", rotationKey(0x01, "", false).ID, "kek-a", "kek-c", nil, nil},
		{"to no KEK id", rotationKey(0x01, "", false).ID, "kek-a", "", []byte("x"), nil},
	}
	for _, tt := range refused {
		err := s.RewrapDataKey(ctx, tt.id, tt.from, tt.to, tt.wrapped)
		switch {
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("RewrapDataKey %s = %v, want %v", tt.name, err, tt.want)
		case tt.want == nil && (err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists)):
			t.Errorf("RewrapDataKey %s = %v, want an error that is none of the sentinels", tt.name, err)
		}
	}
	// Nothing refused changed anything.
	for _, k := range append(append([]store.DataKey{want}, others...), underA...) {
		if bytes.Equal(k.ID, target.ID) && k.KEKID == "kek-a" {
			continue
		}
		if got, err := s.DataKeyByID(ctx, k.ID); err != nil || !cmp.Equal(k, got) {
			t.Errorf("DataKeyByID(%x) after refused rewraps = %+v, %v; want unchanged (%s)", k.ID, got, err, cmp.Diff(k, got))
		}
	}

	c, err := s.CountDataKeys(ctx)
	wantCount := store.KEKCount{Live: map[string]int{"kek-a": 4, "kek-b": 2, "kek-c": 1}, Destroyed: 1}
	if err != nil || !cmp.Equal(wantCount, c) {
		t.Errorf("CountDataKeys = %+v, %v; want %+v", c, err, wantCount)
	}
}

// testConcurrentRewrap: of rewraps racing on one key from one KEK, exactly
// one lands, and the key holds what it wrote.
func testConcurrentRewrap(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := rotationKey(0x10, "kek-old", false)
	if err := s.AddDataKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.RewrapDataKey(ctx, k.ID, "kek-old", fmt.Sprint("kek-", i), []byte{byte(i)})
		})
	}
	wg.Wait()
	w := soleWinner(t, "RewrapDataKey", errs)
	if got, err := s.DataKeyByID(ctx, k.ID); err != nil || got.KEKID != fmt.Sprint("kek-", w) || !bytes.Equal(got.Wrapped, []byte{byte(w)}) {
		t.Errorf("DataKeyByID after racing rewraps = %s %x, %v; want the winner's kek-%d %x", got.KEKID, got.Wrapped, err, w, []byte{byte(w)})
	}
}
