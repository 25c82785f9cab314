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

// newAlert returns a fully populated alert as a detector raises it; i
// makes its fields distinct and orders its ID. Its Body starts with a NUL
// and a 0xff byte, so an engine that treats bytes as text shows, and its
// Version is one no engine may keep: AddAlerts stores Version 1.
func newAlert(i int) store.StoredAlert {
	return store.StoredAlert{
		ID:        fmt.Sprintf("alert-%03d", i),
		Rule:      fmt.Sprintf("rule-%d", i%3),
		Severity:  "medium",
		Subject:   fmt.Sprintf("p-subject-%d", i),
		Pseudonym: fmt.Sprintf("Subject %d", i),
		State:     "open",
		Time:      epoch.Add(time.Duration(i)*time.Minute + 3),
		Created:   epoch.Add(time.Duration(i) * time.Hour),
		Updated:   epoch.Add(time.Duration(i)*time.Hour + time.Nanosecond),
		Dedup:     fmt.Sprintf("rule-%d/p-subject-%d/%d", i%3, i, i),
		Body:      append([]byte{0, 0xff}, fmt.Sprintf(`{"alert":%d,"text":"Zugriff «%d» — 警報"}`, i, i)...),
		Version:   9,
	}
}

// alertAt returns a as the store holds it at version v: an empty Body
// reads back nil.
func alertAt(a store.StoredAlert, v int64) store.StoredAlert {
	a.Version = v
	a.Body = slices.Clone(a.Body)
	if len(a.Body) == 0 {
		a.Body = nil
	}
	return a
}

// addAlerts adds as to log through through and returns them as stored,
// at version 1.
func addAlerts(t *testing.T, s store.Store, log string, through uint64, as ...store.StoredAlert) []store.StoredAlert {
	t.Helper()
	if err := s.AddAlerts(t.Context(), log, through, as); err != nil {
		t.Fatalf("AddAlerts(%q, %d, %d alerts) = %v", log, through, len(as), err)
	}
	var out []store.StoredAlert
	for _, a := range as {
		out = append(out, alertAt(a, 1))
	}
	return out
}

// checkAlerts checks the store holds exactly all, by ID and in a listing
// of everything, greatest ID first.
func checkAlerts(t *testing.T, s store.Store, when string, all ...store.StoredAlert) {
	t.Helper()
	for _, w := range all {
		got, err := s.AlertByID(t.Context(), w.ID)
		if err != nil {
			t.Errorf("%s: AlertByID(%q) = %v", when, w.ID, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: AlertByID(%q) mismatch (-want +got):\n%s", when, w.ID, diff)
		}
	}
	var ids []string
	for _, a := range all {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	checkListAlerts(t, s, when, store.AlertQuery{Limit: 1000}, all, ids...)
}

// checkNoAlert checks no alert with that ID is stored.
func checkNoAlert(t *testing.T, s store.Store, when, id string) {
	t.Helper()
	if got, err := s.AlertByID(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: AlertByID(%q) = %+v, %v; want ErrNotFound", when, id, got, err)
	}
}

// checkListAlerts checks ListAlerts(q) returns the alerts with IDs want,
// in that order, each as stored in all.
func checkListAlerts(t *testing.T, s store.Store, when string, q store.AlertQuery, all []store.StoredAlert, want ...string) {
	t.Helper()
	got, err := s.ListAlerts(t.Context(), q)
	if err != nil {
		t.Errorf("%s: ListAlerts(%+v) = %v", when, q, err)
		return
	}
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(want, ids) {
		t.Errorf("%s: ListAlerts(%+v) = %q, want %q", when, q, ids, want)
		return
	}
	for _, a := range got {
		i := slices.IndexFunc(all, func(w store.StoredAlert) bool { return w.ID == a.ID })
		if diff := cmp.Diff(all[i], a); diff != "" {
			t.Errorf("%s: ListAlerts(%+v): %s mismatch (-want +got):\n%s", when, q, a.ID, diff)
		}
	}
}

// checkCursor checks log's detection cursor is want.
func checkCursor(t *testing.T, s store.Store, when, log string, want uint64) {
	t.Helper()
	if got, err := s.DetectionCursor(t.Context(), log); err != nil || got != want {
		t.Errorf("%s: DetectionCursor(%q) = %d, %v; want %d", when, log, got, err, want)
	}
}

// testAlerts checks every field of an alert round-trips: Body byte for
// byte, times to the nanosecond, zero times as zero, and that AddAlerts
// stores Version 1 whatever it is given.
func testAlerts(t *testing.T, s store.Store) {
	checkCursor(t, s, "before any", activity, 0)
	checkAlerts(t, s, "before any")
	checkNoAlert(t, s, "before any", "alert-001")

	full := newAlert(1)
	full.Assignee = "p-analyst"
	bare := store.StoredAlert{
		ID:    "alert-000",
		Rule:  "rule-bare",
		State: "open",
		Dedup: "bare",
		Body:  []byte{},
	}
	want := addAlerts(t, s, activity, 7, full, bare)
	if want[1].Body != nil {
		t.Fatalf("alertAt(bare) = %+v, want no body", want[1])
	}
	checkAlerts(t, s, "after adding", want...)
	checkCursor(t, s, "after adding", activity, 7)
	checkNoAlert(t, s, "absent", "alert-002")
	checkNoAlert(t, s, "by dedup", full.Dedup)
	checkNoAlert(t, s, "by prefix", "alert-00")
}

// testAlertDedup checks AddAlerts skips an alert whose Dedup is stored,
// or came earlier in the same call, stores the rest, and moves the
// cursor: a detector replaying the log stores each alert once.
func testAlertDedup(t *testing.T, s store.Store) {
	all := addAlerts(t, s, activity, 10, newAlert(1), newAlert(2))
	through := uint64(10)
	for _, tt := range []struct {
		name   string
		add    []store.StoredAlert
		stored []int // indexes into add of the alerts stored
	}{
		{"a stored Dedup under a new ID", []store.StoredAlert{
			func() store.StoredAlert { a := newAlert(3); a.Dedup = all[0].Dedup; return a }(),
			newAlert(4),
		}, []int{1}},
		{"a replay of a stored alert", []store.StoredAlert{newAlert(5), newAlert(2)}, []int{0}},
		{"a replay with other fields", []store.StoredAlert{
			func() store.StoredAlert { a := newAlert(1); a.State, a.Body = "closed", []byte("{}"); return a }(),
		}, nil},
		{"one Dedup twice in one call", []store.StoredAlert{
			newAlert(6),
			func() store.StoredAlert { a := newAlert(7); a.Dedup = newAlert(6).Dedup; return a }(),
			newAlert(8),
		}, []int{0, 2}},
		{"every one stored", []store.StoredAlert{newAlert(1), newAlert(4), newAlert(6)}, nil},
		{"none at all", nil, nil},
	} {
		through += 5
		if err := s.AddAlerts(t.Context(), activity, through, tt.add); err != nil {
			t.Errorf("%s: AddAlerts(%d alerts) = %v, want nil", tt.name, len(tt.add), err)
		}
		for i, a := range tt.add {
			if slices.Contains(tt.stored, i) {
				all = append(all, alertAt(a, 1))
			} else if !slices.ContainsFunc(all, func(w store.StoredAlert) bool { return w.ID == a.ID }) {
				checkNoAlert(t, s, tt.name, a.ID)
			}
		}
		checkAlerts(t, s, tt.name, all...)
		checkCursor(t, s, tt.name, activity, through)
	}
}

// testAlertExists checks AddAlerts refuses a stored ID, or one given
// twice, with ErrExists, and then stores nothing of the call and leaves
// the cursor where it was.
func testAlertExists(t *testing.T, s store.Store) {
	all := addAlerts(t, s, activity, 10, newAlert(1), newAlert(2))
	renamed := func(i int, id string) store.StoredAlert {
		a := newAlert(i)
		a.ID = id
		return a
	}
	for _, tt := range []struct {
		name string
		add  []store.StoredAlert
	}{
		{"a stored ID", []store.StoredAlert{renamed(3, all[0].ID)}},
		{"a stored ID after a new alert", []store.StoredAlert{newAlert(4), renamed(3, all[1].ID)}},
		{"a stored ID before a new alert", []store.StoredAlert{renamed(3, all[1].ID), newAlert(4)}},
		{"an ID twice", []store.StoredAlert{newAlert(5), renamed(6, newAlert(5).ID)}},
		{"an ID twice among others", []store.StoredAlert{newAlert(4), newAlert(5), newAlert(6), renamed(7, newAlert(5).ID)}},
		// Twice with one Dedup too: the second is not a replay to skip
		// but the same ID given twice.
		{"an alert twice", []store.StoredAlert{newAlert(5), newAlert(5)}},
	} {
		if err := s.AddAlerts(t.Context(), activity, 20, tt.add); !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: AddAlerts = %v, want ErrExists", tt.name, err)
		}
		checkAlerts(t, s, tt.name, all...)
		for _, a := range tt.add {
			if a.ID != all[0].ID && a.ID != all[1].ID {
				checkNoAlert(t, s, tt.name, a.ID)
			}
		}
		checkCursor(t, s, tt.name, activity, 10)
	}

	// What was refused can be added once the clash is gone.
	all = append(all, addAlerts(t, s, activity, 20, newAlert(4), newAlert(5))...)
	checkAlerts(t, s, "after the refusals", all...)
	checkCursor(t, s, "after the refusals", activity, 20)
}

// testDetectionCursor checks the cursor only moves forward, one log at a
// time: a call through an index below the stored cursor is ErrConflict
// and stores nothing, one through the stored cursor itself is not.
func testDetectionCursor(t *testing.T, s store.Store) {
	ctx := t.Context()
	var all []store.StoredAlert
	for _, tt := range []struct {
		name    string
		log     string
		through uint64
		add     []store.StoredAlert
		want    error
		cursors [2]uint64 // activity's and oversight's, afterwards
	}{
		{"nothing seen, at 0", activity, 0, nil, nil, [2]uint64{0, 0}},
		{"first batch", activity, 100, []store.StoredAlert{newAlert(1)}, nil, [2]uint64{100, 0}},
		{"back by one", activity, 99, []store.StoredAlert{newAlert(2)}, store.ErrConflict, [2]uint64{100, 0}},
		{"back to 0", activity, 0, nil, store.ErrConflict, [2]uint64{100, 0}},
		// Refused for the cursor before the stored ID is met.
		{"back with a stored ID", activity, 50, []store.StoredAlert{newAlert(1)}, store.ErrConflict, [2]uint64{100, 0}},
		{"back with a stored Dedup", activity, 50, []store.StoredAlert{
			func() store.StoredAlert { a := newAlert(3); a.Dedup = newAlert(1).Dedup; return a }(),
		}, store.ErrConflict, [2]uint64{100, 0}},
		{"the same again", activity, 100, []store.StoredAlert{newAlert(2)}, nil, [2]uint64{100, 0}},
		{"another log from 0", oversight, 3, []store.StoredAlert{newAlert(4)}, nil, [2]uint64{100, 3}},
		{"another log below the first's", oversight, 4, nil, nil, [2]uint64{100, 4}},
		{"the first log below the other's", activity, 2, nil, store.ErrConflict, [2]uint64{100, 4}},
		{"forward with nothing found", activity, 1 << 40, nil, nil, [2]uint64{1 << 40, 4}},
		{"another log back", oversight, 3, []store.StoredAlert{newAlert(5)}, store.ErrConflict, [2]uint64{1 << 40, 4}},
	} {
		err := s.AddAlerts(ctx, tt.log, tt.through, tt.add)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: AddAlerts(%q, %d) = %v, want %v", tt.name, tt.log, tt.through, err, tt.want)
		}
		if tt.want == nil {
			for _, a := range tt.add {
				all = append(all, alertAt(a, 1))
			}
		}
		checkAlerts(t, s, tt.name, all...)
		checkCursor(t, s, tt.name, activity, tt.cursors[0])
		checkCursor(t, s, tt.name, oversight, tt.cursors[1])
	}
	for _, id := range []string{newAlert(3).ID, newAlert(5).ID} {
		checkNoAlert(t, s, "after the refusals", id)
	}
}

// testAlertUpdate checks UpdateAlert's compare-and-swap: it stores a only
// over Version a.Version-1, never changes Rule, Subject, Pseudonym, Time,
// Created or Dedup, and a refusal stores nothing.
func testAlertUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := addAlerts(t, s, activity, 10, newAlert(1), newAlert(2))

	// next is all[0] as a change from version v would store it: every
	// field that may change changed.
	next := func(v int64) store.StoredAlert {
		a := alertAt(all[0], v+1)
		a.Severity = fmt.Sprintf("severity-%d", v+1)
		a.State = fmt.Sprintf("state-%d", v+1)
		a.Assignee = fmt.Sprintf("p-analyst-%d", v+1)
		a.Updated = all[0].Updated.Add(time.Duration(v)*time.Minute + 1)
		a.Body = append([]byte{0xff, 0}, fmt.Sprintf(`{"version":%d}`, v+1)...)
		return a
	}

	up := next(1)
	if err := s.UpdateAlert(ctx, up); err != nil {
		t.Fatalf("UpdateAlert(%s at version 2) = %v", up.ID, err)
	}
	all[0] = up
	checkAlerts(t, s, "after the first update", all...)

	changed := func(f func(*store.StoredAlert)) store.StoredAlert {
		a := next(2)
		f(&a)
		return a
	}
	for _, tt := range []struct {
		name string
		a    store.StoredAlert
		want error
	}{
		{"stale version", next(1), store.ErrConflict},
		{"version skipped", next(3), store.ErrConflict},
		{"version 1", alertAt(all[0], 1), store.ErrConflict},
		{"version 0", alertAt(all[0], 0), store.ErrConflict},
		{"Rule changed", changed(func(a *store.StoredAlert) { a.Rule = "rule-other" }), store.ErrConflict},
		{"Rule emptied", changed(func(a *store.StoredAlert) { a.Rule = "" }), store.ErrConflict},
		{"Subject changed", changed(func(a *store.StoredAlert) { a.Subject = all[1].Subject }), store.ErrConflict},
		{"Pseudonym changed", changed(func(a *store.StoredAlert) { a.Pseudonym = "Subject X" }), store.ErrConflict},
		{"Time changed", changed(func(a *store.StoredAlert) { a.Time = a.Time.Add(time.Nanosecond) }), store.ErrConflict},
		{"Time zeroed", changed(func(a *store.StoredAlert) { a.Time = time.Time{} }), store.ErrConflict},
		{"Created changed", changed(func(a *store.StoredAlert) { a.Created = a.Created.Add(-time.Nanosecond) }), store.ErrConflict},
		{"Dedup changed", changed(func(a *store.StoredAlert) { a.Dedup = "dedup-other" }), store.ErrConflict},
		{"Dedup of another", changed(func(a *store.StoredAlert) { a.Dedup = all[1].Dedup }), store.ErrConflict},
		// all[0] renamed to all[1]'s ID, at all[1]'s next version: the
		// stored all[1] has another Rule, Subject, Time and Dedup.
		{"ID of another", changed(func(a *store.StoredAlert) { a.ID, a.Version = all[1].ID, 2 }), store.ErrConflict},
		{"ID absent", changed(func(a *store.StoredAlert) { a.ID = "alert-ghost" }), store.ErrNotFound},
		{"absent at version 1", alertAt(newAlert(9), 1), store.ErrNotFound},
	} {
		if err := s.UpdateAlert(ctx, tt.a); !errors.Is(err, tt.want) {
			t.Errorf("%s: UpdateAlert(%s at version %d) = %v, want %v", tt.name, tt.a.ID, tt.a.Version, err, tt.want)
		}
		checkAlerts(t, s, tt.name, all...)
		checkNoAlert(t, s, tt.name, "alert-ghost")
	}

	// Times compare as instants: the same instant in another zone is no
	// change.
	up = next(2)
	up.Time, up.Created = up.Time.UTC(), up.Created.In(time.FixedZone("EST", -5*3600))
	up.Assignee, up.Body = "", nil
	if err := s.UpdateAlert(ctx, up); err != nil {
		t.Fatalf("UpdateAlert(%s at version 3) = %v", up.ID, err)
	}
	all[0] = up
	checkAlerts(t, s, "after the second update", all...)

	// An update keeps the alert's Dedup, so a replay is still skipped.
	if err := s.AddAlerts(ctx, activity, 10, []store.StoredAlert{newAlert(1)}); err != nil {
		t.Errorf("AddAlerts replaying %s after updates = %v", all[0].ID, err)
	}
	checkAlerts(t, s, "after a replay", all...)
}

// testConcurrentAlertUpdate checks that of updates read at one version,
// exactly one is stored.
func testConcurrentAlertUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := addAlerts(t, s, activity, 1, newAlert(1))[0]
	const updaters = 8
	errs := make([]error, updaters)
	tried := make([]store.StoredAlert, updaters)
	var wg sync.WaitGroup
	for i := range updaters {
		a := alertAt(base, 2)
		a.State = fmt.Sprintf("state-%d", i)
		a.Assignee = fmt.Sprintf("p-%d", i)
		a.Body = fmt.Appendf(nil, `{"updater":%d}`, i)
		tried[i] = a
		wg.Go(func() { errs[i] = s.UpdateAlert(ctx, a) })
	}
	wg.Wait()
	winner := soleWinner(t, "UpdateAlert by updater", errs)
	checkAlerts(t, s, "after the race", tried[winner])
}

// testConcurrentAddAlerts races detectors on one log, each through a
// greater index and each raising an alert of one Dedup: the cursor ends
// at the greatest, a detector behind the stored cursor stores nothing,
// and the alert is stored once.
func testConcurrentAddAlerts(t *testing.T, s store.Store) {
	ctx := t.Context()
	const detectors = 8
	errs := make([]error, detectors)
	var wg sync.WaitGroup
	for i := range detectors {
		a := newAlert(i)
		a.Dedup = "one"
		wg.Go(func() { errs[i] = s.AddAlerts(ctx, activity, uint64(i+1)*10, []store.StoredAlert{a}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, store.ErrConflict) {
			t.Errorf("AddAlerts by detector %d = %v, want nil or ErrConflict", i, err)
		}
	}
	if errs[detectors-1] != nil {
		t.Errorf("AddAlerts by the detector furthest on = %v, want nil", errs[detectors-1])
	}
	checkCursor(t, s, "after the race", activity, detectors*10)
	got, err := s.ListAlerts(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatalf("ListAlerts after the race = %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("ListAlerts after the race = %d alerts, want 1", len(got))
	}
	var i int
	if _, err := fmt.Sscanf(got[0].ID, "alert-%d", &i); err != nil || i < 0 || i >= detectors || errs[i] != nil {
		t.Errorf("the stored alert %s is not of a detector that succeeded (errors %v)", got[0].ID, errs)
	}
}

// testListAlerts checks each of ListAlerts' filters, alone and together,
// and paging, greatest ID first whatever the order of adding.
func testListAlerts(t *testing.T, s store.Store) {
	ctx := t.Context()
	with := func(i int, state, assignee string) store.StoredAlert {
		a := newAlert(i)
		a.State, a.Assignee = state, assignee
		return a
	}
	all := addAlerts(t, s, activity, 10,
		with(5, "open", "p-1"),
		with(1, "open", ""),
		with(3, "closed", "p-2"),
	)
	all = append(all, addAlerts(t, s, oversight, 10,
		with(2, "assigned", "p-1"),
		with(6, "open", "p-10"),
		with(4, "assigned", "p-2"),
	)...)
	for _, tt := range []struct {
		name string
		q    store.AlertQuery
		want []string
	}{
		{"all", store.AlertQuery{}, []string{"alert-006", "alert-005", "alert-004", "alert-003", "alert-002", "alert-001"}},
		{"state", store.AlertQuery{State: "open"}, []string{"alert-006", "alert-005", "alert-001"}},
		{"state assigned", store.AlertQuery{State: "assigned"}, []string{"alert-004", "alert-002"}},
		{"state none", store.AlertQuery{State: "dismissed"}, nil},
		{"state prefix", store.AlertQuery{State: "ope"}, nil},
		{"assignee", store.AlertQuery{Assignee: "p-1"}, []string{"alert-005", "alert-002"}},
		{"assignee is not a prefix", store.AlertQuery{Assignee: "p-"}, nil},
		{"assignee is not a subject", store.AlertQuery{Assignee: newAlert(5).Subject}, nil},
		{"state and assignee", store.AlertQuery{State: "assigned", Assignee: "p-2"}, []string{"alert-004"}},
		{"state and assignee none", store.AlertQuery{State: "closed", Assignee: "p-1"}, nil},
		{"before", store.AlertQuery{Before: "alert-004"}, []string{"alert-003", "alert-002", "alert-001"}},
		{"before between", store.AlertQuery{Before: "alert-0045"}, []string{"alert-004", "alert-003", "alert-002", "alert-001"}},
		{"before past the last", store.AlertQuery{Before: "alert-999"}, []string{"alert-006", "alert-005", "alert-004", "alert-003", "alert-002", "alert-001"}},
		{"before the first", store.AlertQuery{Before: "alert-001"}, nil},
		{"before with state", store.AlertQuery{State: "open", Before: "alert-006"}, []string{"alert-005", "alert-001"}},
		{"before with assignee", store.AlertQuery{Assignee: "p-2", Before: "alert-004"}, []string{"alert-003"}},
		{"limit", store.AlertQuery{Limit: 2}, []string{"alert-006", "alert-005"}},
		{"limit with state", store.AlertQuery{State: "open", Limit: 2}, []string{"alert-006", "alert-005"}},
		{"limit before", store.AlertQuery{Before: "alert-005", Limit: 2}, []string{"alert-004", "alert-003"}},
	} {
		checkListAlerts(t, s, tt.name, tt.q, all, tt.want...)
	}

	// Paging by the last ID of each page visits every alert once.
	var got []string
	q := store.AlertQuery{Limit: 4}
	for range 10 {
		page, err := s.ListAlerts(ctx, q)
		if err != nil {
			t.Fatalf("ListAlerts(%+v) = %v", q, err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			got = append(got, a.ID)
		}
		q.Before = page[len(page)-1].ID
	}
	if want := []string{"alert-006", "alert-005", "alert-004", "alert-003", "alert-002", "alert-001"}; !slices.Equal(want, got) {
		t.Errorf("paging by 4 = %q, want %q", got, want)
	}

	// An update moves an alert between the filters' listings.
	i := slices.IndexFunc(all, func(a store.StoredAlert) bool { return a.ID == "alert-001" })
	up := alertAt(all[i], 2)
	up.State, up.Assignee = "assigned", "p-1"
	if err := s.UpdateAlert(ctx, up); err != nil {
		t.Fatalf("UpdateAlert(alert-001) = %v", err)
	}
	all[i] = up
	checkListAlerts(t, s, "after an update", store.AlertQuery{State: "open"}, all, "alert-006", "alert-005")
	checkListAlerts(t, s, "after an update", store.AlertQuery{State: "assigned"}, all, "alert-004", "alert-002", "alert-001")
	checkListAlerts(t, s, "after an update", store.AlertQuery{Assignee: "p-1"}, all, "alert-005", "alert-002", "alert-001")
}

// testListAlertsLimit checks ListAlerts returns 100 alerts when the query
// has no Limit, and as many as it asks for when it has one.
func testListAlertsLimit(t *testing.T, s store.Store) {
	const n = 105
	var as []store.StoredAlert
	var ids []string // greatest first
	for i := range n {
		as = append(as, newAlert(i))
		ids = append(ids, newAlert(n-1-i).ID)
	}
	all := addAlerts(t, s, activity, n, as...)
	checkListAlerts(t, s, "no limit", store.AlertQuery{}, all, ids[:100]...)
	checkListAlerts(t, s, "no limit, by state", store.AlertQuery{State: "open"}, all, ids[:100]...)
	checkListAlerts(t, s, "limit 101", store.AlertQuery{Limit: 101}, all, ids[:101]...)
	checkListAlerts(t, s, "limit above all", store.AlertQuery{Limit: 1000}, all, ids...)
	checkListAlerts(t, s, "no limit, second page", store.AlertQuery{Before: ids[99]}, all, ids[100:]...)
}
