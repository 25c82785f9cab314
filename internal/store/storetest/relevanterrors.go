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

// The register of relevant errors. A stored entry's empty Body reads back
// nil. AddRelevantError refuses a stored ID or Reference with
// [store.ErrExists] and stores nothing. UpdateRelevantError compares
// Version and the six fields that never change (times as instants);
// State, Updated and Body change. ListRelevantErrors orders by Raised,
// then ID, greatest first, and matches State and Request exactly; DueBy
// keeps deadlines not after it.

// newRelevantError returns a fully populated entry; i makes its fields
// distinct and orders its Raised. Its Version is one no engine keeps.
func newRelevantError(i int) store.StoredRelevantError {
	return store.StoredRelevantError{
		ID:         fmt.Sprintf("re-%03d", i),
		Reference:  fmt.Sprintf("RE-2025-%04d", i),
		Kind:       "outside_authorisation",
		Request:    fmt.Sprintf("req-%d", i%2),
		State:      "open",
		Identified: epoch.Add(time.Duration(i)*time.Hour - 3),
		Raised:     epoch.Add(time.Duration(i) * time.Hour),
		Deadline:   epoch.Add(time.Duration(i)*24*time.Hour + 7),
		Updated:    epoch.Add(time.Duration(i)*time.Hour + time.Nanosecond),
		Body:       append([]byte{0, 0xff}, fmt.Sprintf(`{"entry":%d,"text":"Fehler «%d» — 誤り"}`, i, i)...),
		Version:    9,
	}
}

func relevantErrorAt(e store.StoredRelevantError, v int64) store.StoredRelevantError {
	e.Version = v
	e.Body = slices.Clone(e.Body)
	if len(e.Body) == 0 {
		e.Body = nil
	}
	return e
}

func addRelevantErrors(t *testing.T, s store.Store, es ...store.StoredRelevantError) []store.StoredRelevantError {
	t.Helper()
	var out []store.StoredRelevantError
	for _, e := range es {
		if err := s.AddRelevantError(t.Context(), e); err != nil {
			t.Fatalf("AddRelevantError(%s) = %v", e.ID, err)
		}
		out = append(out, relevantErrorAt(e, 1))
	}
	return out
}

// checkRelevantErrors checks the store holds exactly all, by ID and in
// a listing of everything.
func checkRelevantErrors(t *testing.T, s store.Store, when string, all ...store.StoredRelevantError) {
	t.Helper()
	for _, w := range all {
		got, err := s.RelevantErrorByID(t.Context(), w.ID)
		if err != nil {
			t.Errorf("%s: RelevantErrorByID(%q) = %v", when, w.ID, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: RelevantErrorByID(%q) mismatch (-want +got):\n%s", when, w.ID, diff)
		}
	}
	want := slices.Clone(all)
	slices.SortFunc(want, func(a, b store.StoredRelevantError) int {
		if c := b.Raised.Compare(a.Raised); c != 0 {
			return c
		}
		return cmpString(b.ID, a.ID)
	})
	got, err := s.ListRelevantErrors(t.Context(), store.RelevantErrorQuery{Limit: 1000})
	if err != nil {
		t.Fatalf("%s: ListRelevantErrors = %v", when, err)
	}
	if want == nil {
		want = []store.StoredRelevantError{}
	}
	if got == nil {
		got = []store.StoredRelevantError{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: ListRelevantErrors mismatch (-want +got):\n%s", when, diff)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testRelevantErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.RelevantErrorByID(ctx, "re-001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RelevantErrorByID on an empty store = %v, want ErrNotFound", err)
	}
	checkRelevantErrors(t, s, "empty")
	empty := newRelevantError(3)
	empty.Body = []byte{}
	empty.Request = ""
	all := addRelevantErrors(t, s, newRelevantError(1), newRelevantError(2), empty)
	checkRelevantErrors(t, s, "after adding", all...)

	dupID := newRelevantError(4)
	dupID.ID = all[0].ID
	dupRef := newRelevantError(5)
	dupRef.Reference = all[1].Reference
	for _, e := range []store.StoredRelevantError{dupID, dupRef} {
		if err := s.AddRelevantError(ctx, e); !errors.Is(err, store.ErrExists) {
			t.Errorf("AddRelevantError(%s, %s) = %v, want ErrExists", e.ID, e.Reference, err)
		}
	}
	checkRelevantErrors(t, s, "after refused adds", all...)
}

func testRelevantErrorUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := addRelevantErrors(t, s, newRelevantError(1), newRelevantError(2))
	next := func(v int64) store.StoredRelevantError {
		e := relevantErrorAt(all[0], v+1)
		e.State = fmt.Sprintf("state-%d", v+1)
		e.Updated = all[0].Updated.Add(time.Duration(v)*time.Minute + 1)
		e.Body = append([]byte{0xff, 0}, fmt.Sprintf(`{"version":%d}`, v+1)...)
		return e
	}
	up := next(1)
	if err := s.UpdateRelevantError(ctx, up); err != nil {
		t.Fatalf("UpdateRelevantError(%s at version 2) = %v", up.ID, err)
	}
	all[0] = up
	checkRelevantErrors(t, s, "after the first update", all...)

	changed := func(f func(*store.StoredRelevantError)) store.StoredRelevantError {
		e := next(2)
		f(&e)
		return e
	}
	absent := next(2)
	absent.ID = "re-absent"
	for _, tt := range []struct {
		name string
		e    store.StoredRelevantError
		want error
	}{
		{"stale version", next(1), store.ErrConflict},
		{"version skipped", next(3), store.ErrConflict},
		{"version 0", relevantErrorAt(all[0], 0), store.ErrConflict},
		{"Reference changed", changed(func(e *store.StoredRelevantError) { e.Reference = "RE-2025-9999" }), store.ErrConflict},
		{"Kind changed", changed(func(e *store.StoredRelevantError) { e.Kind = "defective_authorisation" }), store.ErrConflict},
		{"Request changed", changed(func(e *store.StoredRelevantError) { e.Request = all[1].Request }), store.ErrConflict},
		{"Request emptied", changed(func(e *store.StoredRelevantError) { e.Request = "" }), store.ErrConflict},
		{"Identified changed", changed(func(e *store.StoredRelevantError) { e.Identified = e.Identified.Add(time.Nanosecond) }), store.ErrConflict},
		{"Raised changed", changed(func(e *store.StoredRelevantError) { e.Raised = e.Raised.Add(-time.Nanosecond) }), store.ErrConflict},
		{"Deadline changed", changed(func(e *store.StoredRelevantError) { e.Deadline = e.Deadline.Add(24 * time.Hour) }), store.ErrConflict},
		{"Deadline zeroed", changed(func(e *store.StoredRelevantError) { e.Deadline = time.Time{} }), store.ErrConflict},
		{"renamed to another", changed(func(e *store.StoredRelevantError) { e.ID = all[1].ID }), store.ErrConflict},
		{"absent", absent, store.ErrNotFound},
	} {
		if err := s.UpdateRelevantError(ctx, tt.e); !errors.Is(err, tt.want) {
			t.Errorf("UpdateRelevantError(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
	checkRelevantErrors(t, s, "after refused updates", all...)

	// The time, as an instant, in another zone is the same time.
	same := next(2)
	same.Identified = same.Identified.In(time.UTC)
	same.Deadline = same.Deadline.In(time.FixedZone("X", -5*3600))
	if err := s.UpdateRelevantError(ctx, same); err != nil {
		t.Fatalf("UpdateRelevantError(times in other zones) = %v", err)
	}
	all[0] = next(2)
	checkRelevantErrors(t, s, "after the second update", all...)
}

func testConcurrentRelevantErrorUpdate(t *testing.T, s store.Store) {
	all := addRelevantErrors(t, s, newRelevantError(1))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			e := relevantErrorAt(all[0], 2)
			e.State = fmt.Sprintf("state-%d", i)
			errs[i] = s.UpdateRelevantError(t.Context(), e)
		})
	}
	wg.Wait()
	soleWinner(t, "UpdateRelevantError by updater", errs)
}

func testListRelevantErrors(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := addRelevantErrors(t, s, newRelevantError(1), newRelevantError(2), newRelevantError(3), newRelevantError(4))
	// Two raised at one instant order by ID, greatest first.
	tie := newRelevantError(5)
	tie.Raised = all[3].Raised
	all = append(all, addRelevantErrors(t, s, tie)...)
	closed := relevantErrorAt(all[1], 2)
	closed.State = "closed"
	if err := s.UpdateRelevantError(ctx, closed); err != nil {
		t.Fatal(err)
	}
	all[1] = closed
	ids := func(es []store.StoredRelevantError) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		q    store.RelevantErrorQuery
		want []string
	}{
		{"all", store.RelevantErrorQuery{}, []string{"re-005", "re-004", "re-003", "re-002", "re-001"}},
		{"limit", store.RelevantErrorQuery{Limit: 2}, []string{"re-005", "re-004"}},
		{"state", store.RelevantErrorQuery{State: "closed"}, []string{"re-002"}},
		{"state prefix", store.RelevantErrorQuery{State: "clos"}, nil},
		{"request", store.RelevantErrorQuery{Request: "req-1"}, []string{"re-005", "re-003", "re-001"}},
		{"request prefix", store.RelevantErrorQuery{Request: "req"}, nil},
		{"due by, exactly at a deadline", store.RelevantErrorQuery{DueBy: all[2].Deadline}, []string{"re-003", "re-002", "re-001"}},
		{"due by, just before", store.RelevantErrorQuery{DueBy: all[2].Deadline.Add(-time.Nanosecond)}, []string{"re-002", "re-001"}},
		{"overdue", store.RelevantErrorQuery{State: "open", DueBy: all[2].Deadline}, []string{"re-003", "re-001"}},
	} {
		got, err := s.ListRelevantErrors(ctx, tt.q)
		if err != nil {
			t.Fatalf("ListRelevantErrors(%s) = %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
			t.Errorf("ListRelevantErrors(%s) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func testRelevantErrorNumbers(t *testing.T, s store.Store) {
	const n = 10
	var wg sync.WaitGroup
	got := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = s.NextRelevantErrorNumber(t.Context(), 2026) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("NextRelevantErrorNumber = %v", err)
		}
	}
	slices.Sort(got)
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("NextRelevantErrorNumber numbers = %v, want 1 to %d once each", got, n)
		}
	}
	if v, err := s.NextRelevantErrorNumber(t.Context(), 2027); err != nil || v != 1 {
		t.Errorf("NextRelevantErrorNumber(2027) = %d, %v, want 1", v, err)
	}
	// The request numbers are a sequence of their own.
	if v, err := s.NextRequestNumber(t.Context(), 2026); err != nil || v != 1 {
		t.Errorf("NextRequestNumber(2026) = %d, %v, want 1", v, err)
	}
}
