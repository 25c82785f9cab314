package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// cosigCheckpoint stores log's checkpoint of size.
func cosigCheckpoint(t *testing.T, s store.Store, log string, size uint64) store.Checkpoint {
	t.Helper()
	c := store.Checkpoint{Size: size, Time: epoch.Add(time.Duration(size) * time.Minute),
		Note: fmt.Appendf(nil, "%s\n%d\n%x\n\n— lbm sig\n", log, size, hash(fmt.Sprint(log, size)))}
	if err := s.AddCheckpoint(t.Context(), log, c); err != nil {
		t.Fatalf("AddCheckpoint(%q, size %d) = %v", log, size, err)
	}
	return c
}

// newCosignature returns witness's cosignature of log at size. Its line
// carries a NUL and a 0xff byte, so that an engine treating bytes as text
// shows.
func newCosignature(log string, size uint64, witness string) store.Cosignature {
	return store.Cosignature{Log: log, Size: size, Witness: witness,
		Line: append(fmt.Appendf(nil, "— %s/%s/%d ", witness, log, size), 0, 0xff, '\n'),
		Time: epoch.Add(time.Duration(size)*time.Second + time.Nanosecond)}
}

func testCosignatures(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, size := range []uint64{1, 3, 5} {
		cosigCheckpoint(t, s, activity, size)
	}
	cosigCheckpoint(t, s, oversight, 3)
	if cs, err := s.ListCosignatures(ctx, activity, 3); err != nil || len(cs) != 0 {
		t.Errorf("ListCosignatures before any = %v, %v; want none", cs, err)
	}
	if _, err := s.LastCosignature(ctx, activity, "w1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LastCosignature before any = %v, want ErrNotFound", err)
	}
	adds := []store.Cosignature{
		newCosignature(activity, 3, "w2"),
		newCosignature(activity, 3, "w1"),
		newCosignature(activity, 1, "w1"),
		newCosignature(oversight, 3, "w3"),
	}
	for _, c := range adds {
		if err := s.AddCosignature(ctx, c); err != nil {
			t.Fatalf("AddCosignature(%s %d %s) = %v", c.Log, c.Size, c.Witness, err)
		}
	}
	again := newCosignature(activity, 3, "w1")
	again.Line = []byte("— another line\n")
	if err := s.AddCosignature(ctx, again); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddCosignature of a stored (log, size, witness) = %v, want ErrExists", err)
	}
	for _, size := range []uint64{2, 7, 1 << 63} {
		if err := s.AddCosignature(ctx, newCosignature(activity, size, "w1")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddCosignature at size %d with no checkpoint = %v, want ErrNotFound", size, err)
		}
	}
	if err := s.AddCosignature(ctx, newCosignature(oversight, 5, "w1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddCosignature of the other log's checkpoint size = %v, want ErrNotFound", err)
	}

	got, err := s.ListCosignatures(ctx, activity, 3)
	want := []store.Cosignature{adds[1], adds[0]}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("ListCosignatures(activity, 3) = %v, %v; want %v (by witness)", got, err, want)
	}
	if got, err := s.ListCosignatures(ctx, oversight, 3); err != nil || !cmp.Equal(got, adds[3:]) {
		t.Errorf("ListCosignatures(oversight, 3) = %v, %v; want %v", got, err, adds[3:])
	}
	if got, err := s.LastCosignature(ctx, activity, "w1"); err != nil || !cmp.Equal(got, adds[1]) {
		t.Errorf("LastCosignature(activity, w1) = %v, %v; want %v", got, err, adds[1])
	}
	if _, err := s.LastCosignature(ctx, activity, "w3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LastCosignature(activity, w3), which cosigned only the other log = %v, want ErrNotFound", err)
	}
}

func testLatestCosigned(t *testing.T, s store.Store) {
	ctx := t.Context()
	cps := map[uint64]store.Checkpoint{}
	for _, size := range []uint64{1, 2, 4, 8} {
		cps[size] = cosigCheckpoint(t, s, activity, size)
	}
	cosigCheckpoint(t, s, oversight, 16)
	// w1, w2 cosigned 2; w1 alone 4; w1, w3 cosigned 1; nobody 8; all
	// three cosigned the other log's 16.
	for _, c := range []struct {
		size uint64
		ws   []string
	}{{1, []string{"w1", "w3"}}, {2, []string{"w1", "w2"}}, {4, []string{"w1"}}} {
		for _, w := range c.ws {
			if err := s.AddCosignature(ctx, newCosignature(activity, c.size, w)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, w := range []string{"w1", "w2", "w3"} {
		if err := s.AddCosignature(ctx, newCosignature(oversight, 16, w)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		witnesses []string
		quorum    int
		want      uint64 // 0: ErrNotFound
	}{
		{[]string{"w1", "w2", "w3"}, 1, 4},
		{[]string{"w1", "w2", "w3"}, 2, 2},
		{[]string{"w1", "w3"}, 2, 1},
		{[]string{"w2", "w3"}, 1, 2},
		{[]string{"w3"}, 1, 1},
		{[]string{"w1", "w2", "w3"}, 3, 0},
		{[]string{"w4"}, 1, 0},
		{nil, 1, 0},
		{[]string{"w1"}, 0, 0},
		{[]string{"w1"}, 2, 0},
	}
	for _, tt := range tests {
		got, err := s.LatestCosigned(ctx, activity, tt.witnesses, tt.quorum)
		if tt.want == 0 {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LatestCosigned(activity, %q, %d) = size %d, %v; want ErrNotFound", tt.witnesses, tt.quorum, got.Size, err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, cps[tt.want]) {
			t.Errorf("LatestCosigned(activity, %q, %d) = %v, %v; want size %d", tt.witnesses, tt.quorum, got, err, tt.want)
		}
	}
	if got, err := s.LatestCosigned(ctx, oversight, []string{"w1", "w2", "w3"}, 3); err != nil || got.Size != 16 {
		t.Errorf("LatestCosigned(oversight, all, 3) = size %d, %v; want 16", got.Size, err)
	}
}
