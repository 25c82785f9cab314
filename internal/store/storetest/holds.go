package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// Legal holds. A hold reads back exactly as added, a zero Released as the
// zero time; AddHold refuses a stored ID with [store.ErrExists] and stores
// nothing. ReleaseHold sets Released, ReleasedBy and ReleaseNote of a hold
// in force, changes nothing else, and returns the hold as stored; a
// released hold is [store.ErrConflict] and keeps its first release, an
// absent one [store.ErrNotFound]. Of concurrent releases exactly one wins.
// ListHolds orders by Placed, then ID, greatest first, and leaves out
// released holds unless asked for them.

// newHold returns a hold in force; i makes its fields distinct and orders
// its Placed.
func newHold(i int) store.Hold {
	return store.Hold{
		ID:       fmt.Sprintf("hold-%03d", i),
		Person:   fmt.Sprintf("person-%d", i%2),
		Reason:   fmt.Sprintf("Rechtsstreit «%d» — 訴訟; a claim in the employment tribunal\nsecond line", i),
		PlacedBy: "dpo1",
		Placed:   epoch.Add(time.Duration(i) * time.Hour),
	}
}

func addHolds(t *testing.T, s store.Store, hs ...store.Hold) {
	t.Helper()
	for _, h := range hs {
		if err := s.AddHold(t.Context(), h); err != nil {
			t.Fatalf("AddHold(%s) = %v", h.ID, err)
		}
	}
}

// checkHolds checks the store holds exactly all, by ID and in both
// listings.
func checkHolds(t *testing.T, s store.Store, when string, all ...store.Hold) {
	t.Helper()
	for _, w := range all {
		got, err := s.HoldByID(t.Context(), w.ID)
		if err != nil {
			t.Errorf("%s: HoldByID(%q) = %v", when, w.ID, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: HoldByID(%q) mismatch (-want +got):\n%s", when, w.ID, diff)
		}
	}
	want := slices.Clone(all)
	slices.SortFunc(want, func(a, b store.Hold) int {
		if c := b.Placed.Compare(a.Placed); c != 0 {
			return c
		}
		return cmpString(b.ID, a.ID)
	})
	inForce := slices.DeleteFunc(slices.Clone(want), func(h store.Hold) bool { return !h.Released.IsZero() })
	for _, c := range []struct {
		includeReleased bool
		want            []store.Hold
	}{{true, want}, {false, inForce}} {
		got, err := s.ListHolds(t.Context(), c.includeReleased)
		if err != nil {
			t.Fatalf("%s: ListHolds(%t) = %v", when, c.includeReleased, err)
		}
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: ListHolds(%t) mismatch (-want +got):\n%s", when, c.includeReleased, diff)
		}
	}
}

func testHolds(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.HoldByID(ctx, "hold-001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("HoldByID on an empty store = %v, want ErrNotFound", err)
	}
	checkHolds(t, s, "empty")
	// An added hold may be released already (one brought over from
	// another system); two placed at one instant order by ID.
	released := newHold(3)
	released.Released, released.ReleasedBy, released.ReleaseNote = released.Placed.Add(time.Nanosecond), "dpo2", "the claim was settled"
	tie := newHold(4)
	tie.Placed = newHold(2).Placed
	all := []store.Hold{newHold(1), newHold(2), released, tie}
	addHolds(t, s, all...)
	checkHolds(t, s, "after adding", all...)

	again := newHold(5)
	again.ID = all[0].ID
	if err := s.AddHold(ctx, again); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddHold of a stored ID = %v, want ErrExists", err)
	}
	checkHolds(t, s, "after a refused add", all...)
}

func testHoldRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := []store.Hold{newHold(1), newHold(2)}
	addHolds(t, s, all...)
	at := epoch.Add(48*time.Hour + time.Nanosecond)
	got, err := s.ReleaseHold(ctx, all[0].ID, "dpo2", "the complaint was withdrawn in writing", at)
	if err != nil {
		t.Fatalf("ReleaseHold(%s) = %v", all[0].ID, err)
	}
	all[0].Released, all[0].ReleasedBy, all[0].ReleaseNote = at, "dpo2", "the complaint was withdrawn in writing"
	if diff := cmp.Diff(all[0], got); diff != "" {
		t.Errorf("ReleaseHold(%s) returned (-want +got):\n%s", all[0].ID, diff)
	}
	checkHolds(t, s, "after releasing", all...)

	if _, err := s.ReleaseHold(ctx, all[0].ID, "dpo3", "released a second time", at.Add(time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("ReleaseHold of a released hold = %v, want ErrConflict", err)
	}
	if _, err := s.ReleaseHold(ctx, "hold-absent", "dpo2", "no such hold", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReleaseHold of an absent hold = %v, want ErrNotFound", err)
	}
	if _, err := s.ReleaseHold(ctx, all[1].ID, "dpo2", "at the zero time", time.Time{}); err == nil ||
		errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrExists) {
		t.Errorf("ReleaseHold at the zero time = %v, want an error that is none of the sentinels", err)
	}
	checkHolds(t, s, "after refused releases", all...)
}

func testConcurrentHoldRelease(t *testing.T, s store.Store) {
	h := newHold(1)
	addHolds(t, s, h)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]store.Hold, n)
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = s.ReleaseHold(t.Context(), h.ID, fmt.Sprintf("dpo%d", i), fmt.Sprintf("note %d", i),
				epoch.Add(time.Duration(i+10)*time.Hour))
		})
	}
	wg.Wait()
	w := soleWinner(t, "ReleaseHold by releaser", errs)
	h.Released, h.ReleasedBy, h.ReleaseNote = epoch.Add(time.Duration(w+10)*time.Hour), fmt.Sprintf("dpo%d", w), fmt.Sprintf("note %d", w)
	if diff := cmp.Diff(h, got[w]); diff != "" {
		t.Errorf("the winning ReleaseHold returned (-want +got):\n%s", diff)
	}
	checkHolds(t, s, "after the race", h)
}
