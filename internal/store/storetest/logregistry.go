package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// The log registry. A registered log reads back exactly as registered,
// ordered by name byte by byte ("activity-10" before "activity-2").
// Registering it again with the same origin and key changes nothing (not
// even Created); with another origin or key it is [store.ErrConflict],
// and the first registration stands. Of concurrent registrations of one
// name with different keys exactly one wins.
//
// Leases, where the engine has them ([store.Leaser]): a lease is held by
// one holder at a time; TryLease of a held lease is [store.ErrHeld] at
// once; after Release (which may be called twice) it can be taken again;
// leases of different names are independent.

func testLogRegistry(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.RegisteredLogs(ctx); err != nil || len(got) != 0 {
		t.Fatalf("RegisteredLogs of an empty store = %v, %v", got, err)
	}
	logs := []store.RegisteredLog{
		{Name: "activity-2", Origin: "lbm.example/activity-2", VerifierKey: "lbm.example/activity-2+0badc0de+AQID", Created: epoch.Add(2)},
		{Name: "oversight", Origin: "lbm.example/oversight", VerifierKey: "lbm.example/oversight+01234567+BAUG", Created: epoch.Add(time.Hour)},
		{Name: "activity-10", Origin: "lbm.example/activity-10", VerifierKey: "lbm.example/activity-10+89abcdef+BwgJ", Created: epoch},
	}
	for _, l := range logs {
		if err := s.RegisterLog(ctx, l); err != nil {
			t.Fatalf("RegisterLog(%s) = %v", l.Name, err)
		}
	}
	again := logs[0]
	again.Created = epoch.Add(99 * time.Hour)
	if err := s.RegisterLog(ctx, again); err != nil {
		t.Errorf("registering %s again with its own key = %v, want nil", again.Name, err)
	}
	for _, bad := range []store.RegisteredLog{
		{Name: "oversight", Origin: "other.example/oversight", VerifierKey: logs[1].VerifierKey, Created: epoch},
		{Name: "oversight", Origin: logs[1].Origin, VerifierKey: "lbm.example/oversight+76543210+CgsM", Created: epoch},
	} {
		if err := s.RegisterLog(ctx, bad); !errors.Is(err, store.ErrConflict) {
			t.Errorf("registering oversight with origin %q key %q = %v, want ErrConflict", bad.Origin, bad.VerifierKey, err)
		}
	}
	got, err := s.RegisteredLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.RegisteredLog{logs[2], logs[0], logs[1]}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("RegisteredLogs mismatch (-want +got):\n%s", diff)
	}

	// Racing registrations of one name: one key stands, and every other
	// racer is told it lost.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.RegisterLog(ctx, store.RegisteredLog{Name: "activity-3", Origin: "lbm.example/activity-3",
				VerifierKey: "lbm.example/activity-3+0000000" + string(rune('0'+i)) + "+AQ", Created: epoch})
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racer %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d racing registrations won, want 1", won)
	}
}

func testLeases(t *testing.T, s store.Store) {
	leaser, ok := s.(store.Leaser)
	if !ok {
		t.Skip("the engine has no leases: one process has it")
	}
	ctx := t.Context()
	a, err := leaser.TryLease(ctx, "leader")
	if err != nil {
		t.Fatalf("TryLease(leader) = %v", err)
	}
	if _, err := leaser.TryLease(ctx, "leader"); !errors.Is(err, store.ErrHeld) {
		t.Fatalf("second TryLease(leader) = %v, want ErrHeld", err)
	}
	b, err := leaser.TryLease(ctx, "shard/activity-1")
	if err != nil {
		t.Fatalf("TryLease of another name = %v", err)
	}
	defer b.Release()
	select {
	case <-a.Lost():
		t.Fatal("a lease held was reported lost")
	default:
	}
	a.Release()
	a.Release()
	c, err := leaser.TryLease(ctx, "leader")
	if err != nil {
		t.Fatalf("TryLease after Release = %v", err)
	}
	c.Release()
}
