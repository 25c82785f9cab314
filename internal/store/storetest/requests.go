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

// newRequest returns a fully populated request as a caller adds it; i
// makes its fields distinct. Its Body starts with a NUL and a 0xff byte,
// so an engine that treats bytes as text shows, and its Version is one no
// engine may keep: AddRequest stores Version 1 whatever it is given.
func newRequest(i int, requester string, subjects ...string) store.StoredRequest {
	return store.StoredRequest{
		ID:        fmt.Sprintf("req-%03d", i),
		Reference: fmt.Sprintf("ACAC-2026-%04d", i),
		Requester: requester,
		Subjects:  subjects,
		State:     "submitted",
		Created:   epoch.Add(time.Duration(i) * time.Hour),
		Updated:   epoch.Add(time.Duration(i)*time.Hour + time.Nanosecond),
		ExpiresAt: epoch.Add(time.Duration(i)*24*time.Hour + 7),
		Deadline:  epoch.Add(time.Duration(i)*time.Minute + 3),
		Body:      append([]byte{0, 0xff}, fmt.Sprintf(`{"request":%d,"text":"Überwachung «%d» — 監視"}`, i, i)...),
		Version:   7,
	}
}

// atVersion returns r as the store holds it at version v: empty Subjects
// and Body read back nil.
func atVersion(r store.StoredRequest, v int64) store.StoredRequest {
	r.Version = v
	r.Subjects = slices.Clone(r.Subjects)
	if len(r.Subjects) == 0 {
		r.Subjects = nil
	}
	r.Body = slices.Clone(r.Body)
	if len(r.Body) == 0 {
		r.Body = nil
	}
	return r
}

// addRequests adds rs and returns them as stored, at version 1.
func addRequests(t *testing.T, s store.Store, rs ...store.StoredRequest) []store.StoredRequest {
	t.Helper()
	var out []store.StoredRequest
	for _, r := range rs {
		if err := s.AddRequest(t.Context(), r); err != nil {
			t.Fatalf("AddRequest(%s) = %v", r.ID, err)
		}
		out = append(out, atVersion(r, 1))
	}
	return out
}

// checkRequests checks each of want reads back exactly, by ID.
func checkRequests(t *testing.T, s store.Store, when string, want ...store.StoredRequest) {
	t.Helper()
	for _, w := range want {
		got, err := s.RequestByID(t.Context(), w.ID)
		if err != nil {
			t.Errorf("%s: RequestByID(%q) = %v", when, w.ID, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: RequestByID(%q) mismatch (-want +got):\n%s", when, w.ID, diff)
		}
	}
}

// checkNoRequest checks no request with that ID is stored.
func checkNoRequest(t *testing.T, s store.Store, when, id string) {
	t.Helper()
	if got, err := s.RequestByID(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: RequestByID(%q) = %+v, %v; want ErrNotFound", when, id, got, err)
	}
}

// checkListRequests checks ListRequests(q) returns the requests with IDs
// want, in that order, each as stored in all.
func checkListRequests(t *testing.T, s store.Store, when string, q store.RequestQuery, all []store.StoredRequest, want ...string) {
	t.Helper()
	got, err := s.ListRequests(t.Context(), q)
	if err != nil {
		t.Errorf("%s: ListRequests(%+v) = %v", when, q, err)
		return
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(want, ids) {
		t.Errorf("%s: ListRequests(%+v) = %q, want %q", when, q, ids, want)
		return
	}
	for _, r := range got {
		i := slices.IndexFunc(all, func(a store.StoredRequest) bool { return a.ID == r.ID })
		if diff := cmp.Diff(all[i], r); diff != "" {
			t.Errorf("%s: ListRequests(%+v): %s mismatch (-want +got):\n%s", when, q, r.ID, diff)
		}
	}
}

// testRequests checks every field of a request round-trips: Body byte for
// byte, Subjects in order, times to the nanosecond, zero times as zero,
// and that AddRequest stores Version 1 whatever it is given.
func testRequests(t *testing.T, s store.Store) {
	full := newRequest(1, "p-requester", "p-a", "p-b", "p-c")
	bare := store.StoredRequest{
		ID:        "req-bare",
		Reference: "ACAC-2026-0002",
		Requester: "p-requester",
		State:     "draft",
		Created:   epoch,
		Updated:   epoch,
		Body:      []byte{},
	}
	want := addRequests(t, s, full, bare)
	if want[1].Subjects != nil || want[1].Body != nil || !want[1].ExpiresAt.IsZero() || !want[1].Deadline.IsZero() {
		t.Fatalf("atVersion(bare) = %+v, want no subjects, body or times", want[1])
	}
	checkRequests(t, s, "after adding", want...)
	checkNoRequest(t, s, "absent", "req-ghost")
	checkNoRequest(t, s, "by reference", full.Reference)
}

// testRequestExists checks AddRequest refuses a stored ID or Reference
// with ErrExists, and stores nothing of the refused request, its subjects
// included.
func testRequestExists(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := addRequests(t, s, newRequest(1, "p-1", "p-a"), newRequest(2, "p-1", "p-b"))
	for _, tt := range []struct {
		name string
		r    store.StoredRequest
	}{
		{"ID stored", func() store.StoredRequest {
			r := newRequest(3, "p-2", "p-new")
			r.ID = all[0].ID
			return r
		}()},
		{"Reference stored", func() store.StoredRequest {
			r := newRequest(3, "p-2", "p-new")
			r.Reference = all[1].Reference
			return r
		}()},
		{"both stored", newRequest(1, "p-2", "p-new")},
	} {
		if err := s.AddRequest(ctx, tt.r); !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: AddRequest(%s, %s) = %v, want ErrExists", tt.name, tt.r.ID, tt.r.Reference, err)
		}
		checkRequests(t, s, tt.name, all...)
		if tt.r.ID != all[0].ID {
			checkNoRequest(t, s, tt.name, tt.r.ID)
		}
		checkListRequests(t, s, tt.name, store.RequestQuery{}, all, all[0].ID, all[1].ID)
		checkListRequests(t, s, tt.name, store.RequestQuery{Subject: "p-new"}, all)
		checkListRequests(t, s, tt.name, store.RequestQuery{Requester: "p-2"}, all)
	}
}

// testRequestUpdate checks UpdateRequest's compare-and-swap: it stores r
// only over Version r.Version-1, never changes ID, Reference, Requester or
// Created, and a refusal stores nothing.
func testRequestUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := addRequests(t, s, newRequest(1, "p-1", "p-a", "p-b"), newRequest(2, "p-2", "p-c"))

	// next is all[0] as a transition from version v would store it.
	next := func(v int64) store.StoredRequest {
		r := atVersion(all[0], v+1)
		r.State = fmt.Sprintf("state-%d", v+1)
		r.Subjects = []string{"p-b", "p-d"}
		r.Updated = all[0].Updated.Add(time.Duration(v) * time.Minute)
		r.ExpiresAt = time.Time{}
		r.Deadline = all[0].Deadline.Add(time.Duration(v)*time.Hour + 1)
		r.Body = append([]byte{0xff, 0}, fmt.Sprintf(`{"version":%d}`, v+1)...)
		return r
	}
	check := func(when string) {
		t.Helper()
		checkRequests(t, s, when, all...)
		var withB, withD, withA []string
		for _, r := range all {
			if slices.Contains(r.Subjects, "p-a") {
				withA = append(withA, r.ID)
			}
			if slices.Contains(r.Subjects, "p-b") {
				withB = append(withB, r.ID)
			}
			if slices.Contains(r.Subjects, "p-d") {
				withD = append(withD, r.ID)
			}
		}
		checkListRequests(t, s, when, store.RequestQuery{Subject: "p-a"}, all, withA...)
		checkListRequests(t, s, when, store.RequestQuery{Subject: "p-b"}, all, withB...)
		checkListRequests(t, s, when, store.RequestQuery{Subject: "p-d"}, all, withD...)
	}

	up := next(1)
	if err := s.UpdateRequest(ctx, up); err != nil {
		t.Fatalf("UpdateRequest(%s at version 2) = %v", up.ID, err)
	}
	all[0] = up
	check("after the first update")

	type refusal struct {
		name string
		r    store.StoredRequest
		want error
	}
	changed := func(f func(*store.StoredRequest)) store.StoredRequest {
		r := next(2)
		f(&r)
		return r
	}
	for _, tt := range []refusal{
		{"stale version", next(1), store.ErrConflict},
		{"version skipped", next(3), store.ErrConflict},
		{"version 1", atVersion(all[0], 1), store.ErrConflict},
		{"version 0", atVersion(all[0], 0), store.ErrConflict},
		{"Reference changed", changed(func(r *store.StoredRequest) { r.Reference = "ACAC-2026-9999" }), store.ErrConflict},
		{"Reference of another", changed(func(r *store.StoredRequest) { r.Reference = all[1].Reference }), store.ErrConflict},
		{"Requester changed", changed(func(r *store.StoredRequest) { r.Requester = "p-other" }), store.ErrConflict},
		{"Created changed", changed(func(r *store.StoredRequest) { r.Created = r.Created.Add(time.Nanosecond) }), store.ErrConflict},
		{"Created zeroed", changed(func(r *store.StoredRequest) { r.Created = time.Time{} }), store.ErrConflict},
		// all[0] renamed to all[1]'s ID, at all[1]'s next version: the
		// stored all[1] has another Reference, Requester and Created.
		{"ID of another", changed(func(r *store.StoredRequest) { r.ID, r.Version = all[1].ID, 2 }), store.ErrConflict},
		{"ID absent", changed(func(r *store.StoredRequest) { r.ID = "req-ghost" }), store.ErrNotFound},
		{"absent at version 1", func() store.StoredRequest {
			r := newRequest(9, "p-1", "p-a")
			r.Version = 1
			return r
		}(), store.ErrNotFound},
	} {
		if err := s.UpdateRequest(ctx, tt.r); !errors.Is(err, tt.want) {
			t.Errorf("%s: UpdateRequest(%s at version %d) = %v, want %v", tt.name, tt.r.ID, tt.r.Version, err, tt.want)
		}
		check(tt.name)
		checkNoRequest(t, s, tt.name, "req-ghost")
	}

	up = next(2)
	up.Subjects = nil
	up.Body = nil
	if err := s.UpdateRequest(ctx, up); err != nil {
		t.Fatalf("UpdateRequest(%s at version 3) = %v", up.ID, err)
	}
	all[0] = up
	check("after the second update")
}

// testConcurrentRequestUpdate checks that of updates read at one version,
// exactly one is stored.
func testConcurrentRequestUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := addRequests(t, s, newRequest(1, "p-1", "p-a"))[0]
	const updaters = 8
	errs := make([]error, updaters)
	tried := make([]store.StoredRequest, updaters)
	var wg sync.WaitGroup
	for i := range updaters {
		r := atVersion(base, 2)
		r.State = fmt.Sprintf("state-%d", i)
		r.Subjects = []string{fmt.Sprintf("p-%d", i)}
		r.Body = fmt.Appendf(nil, `{"updater":%d}`, i)
		tried[i] = r
		wg.Go(func() { errs[i] = s.UpdateRequest(ctx, r) })
	}
	wg.Wait()
	winner := soleWinner(t, "UpdateRequest by updater", errs)
	all := []store.StoredRequest{tried[winner]}
	checkRequests(t, s, "after the race", all...)
	for i := range updaters {
		var want []string
		if i == winner {
			want = []string{base.ID}
		}
		checkListRequests(t, s, "after the race", store.RequestQuery{Subject: fmt.Sprintf("p-%d", i)}, all, want...)
	}
}

// testListRequests checks each of ListRequests' filters, alone and
// together, and paging, in ID order whatever the order of adding.
func testListRequests(t *testing.T, s store.Store) {
	dl := func(r store.StoredRequest, d time.Time, state string) store.StoredRequest {
		r.Deadline, r.State = d, state
		return r
	}
	at := func(m int) time.Time { return epoch.Add(time.Duration(m) * time.Minute) }
	all := addRequests(t, s,
		dl(newRequest(5, "p-1", "p-a", "p-b"), at(50), "authorised"),
		dl(newRequest(1, "p-1", "p-a"), at(10), "submitted"),
		dl(newRequest(3, "p-2", "p-b"), time.Time{}, "refused"),
		dl(newRequest(2, "p-2"), at(20), "authorised"),
		dl(newRequest(4, "p-1", "p-c", "p-a"), time.Time{}, "submitted"),
		dl(newRequest(6, "p-3", "p-b", "p-c"), at(30), "submitted"),
	)
	for _, tt := range []struct {
		name string
		q    store.RequestQuery
		want []string
	}{
		{"all", store.RequestQuery{}, []string{"req-001", "req-002", "req-003", "req-004", "req-005", "req-006"}},
		{"state", store.RequestQuery{State: "submitted"}, []string{"req-001", "req-004", "req-006"}},
		{"state none", store.RequestQuery{State: "withdrawn"}, nil},
		{"requester", store.RequestQuery{Requester: "p-2"}, []string{"req-002", "req-003"}},
		{"requester is not subject", store.RequestQuery{Requester: "p-a"}, nil},
		{"subject", store.RequestQuery{Subject: "p-a"}, []string{"req-001", "req-004", "req-005"}},
		{"subject b", store.RequestQuery{Subject: "p-b"}, []string{"req-003", "req-005", "req-006"}},
		{"subject is not requester", store.RequestQuery{Subject: "p-1"}, nil},
		{"subject prefix", store.RequestQuery{Subject: "p-"}, nil},
		{"due by", store.RequestQuery{DueBy: at(30)}, []string{"req-001", "req-002", "req-006"}},
		{"due by just before", store.RequestQuery{DueBy: at(30).Add(-time.Nanosecond)}, []string{"req-001", "req-002"}},
		{"due by before any", store.RequestQuery{DueBy: at(10).Add(-time.Nanosecond)}, nil},
		{"due by far future", store.RequestQuery{DueBy: at(1 << 20)}, []string{"req-001", "req-002", "req-005", "req-006"}},
		{"state and subject", store.RequestQuery{State: "submitted", Subject: "p-a"}, []string{"req-001", "req-004"}},
		{"requester and subject", store.RequestQuery{Requester: "p-1", Subject: "p-b"}, []string{"req-005"}},
		{"state and due by", store.RequestQuery{State: "authorised", DueBy: at(20)}, []string{"req-002"}},
		{"subject and due by", store.RequestQuery{Subject: "p-c", DueBy: at(60)}, []string{"req-006"}},
		{"everything", store.RequestQuery{State: "submitted", Requester: "p-1", Subject: "p-a", DueBy: at(10)}, []string{"req-001"}},
		{"after", store.RequestQuery{After: "req-003"}, []string{"req-004", "req-005", "req-006"}},
		{"after between", store.RequestQuery{After: "req-0025"}, []string{"req-003", "req-004", "req-005", "req-006"}},
		{"after last", store.RequestQuery{After: "req-006"}, nil},
		{"after with subject", store.RequestQuery{Subject: "p-a", After: "req-001"}, []string{"req-004", "req-005"}},
		{"after with state", store.RequestQuery{State: "submitted", After: "req-001"}, []string{"req-004", "req-006"}},
		{"after with due by", store.RequestQuery{DueBy: at(60), After: "req-001"}, []string{"req-002", "req-005", "req-006"}},
		{"limit", store.RequestQuery{Limit: 2}, []string{"req-001", "req-002"}},
		{"limit with subject", store.RequestQuery{Subject: "p-b", Limit: 2}, []string{"req-003", "req-005"}},
		{"limit after", store.RequestQuery{After: "req-002", Limit: 2}, []string{"req-003", "req-004"}},
	} {
		checkListRequests(t, s, tt.name, tt.q, all, tt.want...)
	}

	// Paging by the last ID of each page visits every request once.
	var got []string
	q := store.RequestQuery{Limit: 4}
	for range 10 {
		page, err := s.ListRequests(t.Context(), q)
		if err != nil {
			t.Fatalf("ListRequests(%+v) = %v", q, err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		q.After = page[len(page)-1].ID
	}
	if want := []string{"req-001", "req-002", "req-003", "req-004", "req-005", "req-006"}; !slices.Equal(want, got) {
		t.Errorf("paging by 4 = %q, want %q", got, want)
	}
}

// testListRequestsLimit checks ListRequests returns 100 requests when
// the query has no Limit, and as many as it asks for when it has one.
func testListRequestsLimit(t *testing.T, s store.Store) {
	const n = 105
	var all []store.StoredRequest
	var ids []string
	for i := range n {
		r := newRequest(i, "p-1", "p-a")
		all = append(all, addRequests(t, s, r)...)
		ids = append(ids, r.ID)
	}
	checkListRequests(t, s, "no limit", store.RequestQuery{}, all, ids[:100]...)
	checkListRequests(t, s, "no limit, by subject", store.RequestQuery{Subject: "p-a"}, all, ids[:100]...)
	checkListRequests(t, s, "limit 101", store.RequestQuery{Limit: 101}, all, ids[:101]...)
	checkListRequests(t, s, "limit above all", store.RequestQuery{Limit: 1000}, all, ids...)
	checkListRequests(t, s, "no limit, second page", store.RequestQuery{After: ids[99]}, all, ids[100:]...)
}

// testRequestNumbers checks NextRequestNumber counts from 1 in each year,
// each year on its own.
func testRequestNumbers(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, tt := range []struct {
		year int
		want int64
	}{
		{2026, 1}, {2026, 2}, {2026, 3},
		{2027, 1},
		{2026, 4},
		{2025, 1}, {2027, 2}, {2026, 5},
	} {
		if got, err := s.NextRequestNumber(ctx, tt.year); err != nil || got != tt.want {
			t.Errorf("NextRequestNumber(%d) = %d, %v; want %d", tt.year, got, err, tt.want)
		}
	}
}

// testConcurrentRequestNumbers checks concurrent callers never take one
// number twice, and between them take each from 1 on.
func testConcurrentRequestNumbers(t *testing.T, s store.Store) {
	const callers, each = 8, 8
	got := make([][]int64, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			for range each {
				n, err := s.NextRequestNumber(t.Context(), 2026)
				if err != nil {
					errs[i] = err
					return
				}
				got[i] = append(got[i], n)
			}
		})
	}
	wg.Wait()
	var all []int64
	for i, err := range errs {
		if err != nil {
			t.Fatalf("NextRequestNumber by caller %d = %v", i, err)
		}
		all = append(all, got[i]...)
	}
	slices.Sort(all)
	for i, n := range all {
		if n != int64(i+1) {
			t.Fatalf("concurrent callers took %v, want 1 to %d once each", all, callers*each)
		}
	}
	if n, err := s.NextRequestNumber(t.Context(), 2026); err != nil || n != callers*each+1 {
		t.Errorf("NextRequestNumber(2026) after the race = %d, %v; want %d", n, err, callers*each+1)
	}
}
