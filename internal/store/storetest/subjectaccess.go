package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// testSubjectAccessRequests checks requests are stored once, at version
// 1, only for a person in the directory, and listed most recent first.
func testSubjectAccessRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	list := func(when, person string, want ...store.SubjectAccessRequest) {
		t.Helper()
		got, err := s.ListSubjectAccessRequests(ctx, person)
		if err != nil {
			t.Errorf("%s: ListSubjectAccessRequests(%q) = %v", when, person, err)
			return
		}
		if len(want) == 0 && len(got) == 0 {
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: ListSubjectAccessRequests(%q) mismatch (-want +got):\n%s", when, person, diff)
		}
	}
	list("before any", "")
	putPeople(t, s, []store.Person{person("p-1", "staff"), person("p-2", "staff")}, 2, 0)
	list("before any", "p-1")

	r1 := store.SubjectAccessRequest{ID: "sar-1", Person: "p-1", Made: epoch, Details: "Alle Daten über mich — 請求 📄\n\tand the \"audit\" trail; DROP TABLE people;", State: "received",
		Due: epoch.AddDate(0, 1, 0), Version: 1}
	r2 := store.SubjectAccessRequest{ID: "sar-2", Person: "p-2", Made: epoch.Add(time.Hour), Details: "", State: "received", Version: 1}
	// Made at one instant: the greater ID first, as changes are listed.
	r3 := store.SubjectAccessRequest{ID: "sar-4", Person: "p-1", Made: epoch.Add(2 * time.Hour), Details: "again", State: "received",
		Body: []byte(`{"x":"\u0000"}`), Version: 1}
	r4 := store.SubjectAccessRequest{ID: "sar-3", Person: "p-1", Made: epoch.Add(2 * time.Hour), Details: "at the same instant", State: "received", Version: 1}
	for _, r := range []store.SubjectAccessRequest{r1, r2, r3, r4} {
		add := r
		add.Version = 7 // ignored: every request starts at 1
		if err := s.AddSubjectAccessRequest(ctx, add); err != nil {
			t.Fatalf("AddSubjectAccessRequest(%s) = %v", r.ID, err)
		}
	}
	checkAll := func(when string) {
		t.Helper()
		list(when, "p-1", r3, r4, r1)
		list(when, "p-2", r2)
		list(when, "", r3, r4, r2, r1)
		list(when, "ghost")
		for _, r := range []store.SubjectAccessRequest{r1, r2, r3, r4} {
			got, err := s.SubjectAccessRequestByID(ctx, r.ID)
			if err != nil {
				t.Errorf("%s: SubjectAccessRequestByID(%s) = %v", when, r.ID, err)
			} else if diff := cmp.Diff(r, got); diff != "" {
				t.Errorf("%s: SubjectAccessRequestByID(%s) mismatch (-want +got):\n%s", when, r.ID, diff)
			}
		}
		if _, err := s.SubjectAccessRequestByID(ctx, "sar-9"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: SubjectAccessRequestByID(absent) = %v, want ErrNotFound", when, err)
		}
	}
	checkAll("after adding")

	for _, tt := range []struct {
		name string
		r    store.SubjectAccessRequest
		want error
	}{
		{"ID stored", store.SubjectAccessRequest{ID: "sar-2", Person: "p-1", Made: epoch.Add(5 * time.Hour), State: "received"}, store.ErrExists},
		{"ID stored, same person", store.SubjectAccessRequest{ID: "sar-1", Person: "p-1", Made: epoch.Add(5 * time.Hour), State: "received"}, store.ErrExists},
		{"absent person", store.SubjectAccessRequest{ID: "sar-9", Person: "ghost", Made: epoch.Add(5 * time.Hour), State: "received"}, store.ErrNotFound},
	} {
		if err := s.AddSubjectAccessRequest(ctx, tt.r); !errors.Is(err, tt.want) {
			t.Errorf("%s: AddSubjectAccessRequest(%s) = %v, want %v", tt.name, tt.r.ID, err, tt.want)
		}
		checkAll(tt.name)
	}
}

// testSubjectAccessUpdate checks the compare-and-swap: a stale version,
// a changed person, time or details, and an absent request store nothing;
// an answer once stored is kept.
func testSubjectAccessUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	putPeople(t, s, []store.Person{person("p-1", "staff"), person("p-2", "staff")}, 2, 0)
	r := store.SubjectAccessRequest{ID: "sar-1", Person: "p-1", Made: epoch, Details: "all of it", State: "received", Due: epoch.AddDate(0, 1, 0), Version: 1}
	if err := s.AddSubjectAccessRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	check := func(when string, want store.SubjectAccessRequest, export []byte) {
		t.Helper()
		got, err := s.SubjectAccessRequestByID(ctx, want.ID)
		if err != nil {
			t.Fatalf("%s: SubjectAccessRequestByID = %v", when, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", when, diff)
		}
		b, err := s.SubjectAccessExport(ctx, want.ID)
		switch {
		case export == nil && !errors.Is(err, store.ErrNotFound):
			t.Errorf("%s: SubjectAccessExport = %q, %v; want ErrNotFound", when, b, err)
		case export != nil && (err != nil || !bytes.Equal(b, export)):
			t.Errorf("%s: SubjectAccessExport = %q, %v; want %q", when, b, err, export)
		}
	}
	check("added", r, nil)

	next := r
	next.State, next.Body, next.Version = "preparing", []byte(`{"opened_by":"dpo-1"}`), 2
	if err := s.UpdateSubjectAccessRequest(ctx, next, nil); err != nil {
		t.Fatalf("UpdateSubjectAccessRequest(v2) = %v", err)
	}
	check("opened", next, nil)

	bad := func(f func(*store.SubjectAccessRequest)) store.SubjectAccessRequest {
		b := next
		b.State, b.Version = "answered", 3
		f(&b)
		return b
	}
	for _, tt := range []struct {
		name string
		r    store.SubjectAccessRequest
		want error
	}{
		{"stale version", bad(func(b *store.SubjectAccessRequest) { b.Version = 2 }), store.ErrConflict},
		{"version from the future", bad(func(b *store.SubjectAccessRequest) { b.Version = 5 }), store.ErrConflict},
		{"other person", bad(func(b *store.SubjectAccessRequest) { b.Person = "p-2" }), store.ErrConflict},
		{"other time", bad(func(b *store.SubjectAccessRequest) { b.Made = epoch.Add(time.Second) }), store.ErrConflict},
		{"other details", bad(func(b *store.SubjectAccessRequest) { b.Details = "less" }), store.ErrConflict},
		{"absent", bad(func(b *store.SubjectAccessRequest) { b.ID = "sar-9" }), store.ErrNotFound},
	} {
		if err := s.UpdateSubjectAccessRequest(ctx, tt.r, []byte("zip")); !errors.Is(err, tt.want) {
			t.Errorf("%s: UpdateSubjectAccessRequest = %v, want %v", tt.name, err, tt.want)
		}
		check(tt.name, next, nil)
	}

	answered := next
	answered.State, answered.Due, answered.Version = "answered", epoch.AddDate(0, 3, 0), 3
	zip := []byte("PK\x03\x04\x00\xff answer")
	if err := s.UpdateSubjectAccessRequest(ctx, answered, zip); err != nil {
		t.Fatalf("UpdateSubjectAccessRequest(answer) = %v", err)
	}
	check("answered", answered, zip)
	again := answered
	again.Version = 4
	if err := s.UpdateSubjectAccessRequest(ctx, again, []byte("another")); err != nil {
		t.Fatalf("UpdateSubjectAccessRequest(v4) = %v", err)
	}
	check("a second answer is not stored", again, zip)
	if _, err := s.SubjectAccessExport(ctx, "sar-9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SubjectAccessExport(absent) = %v, want ErrNotFound", err)
	}
}

// testSubjectAccessConcurrentUpdate races updates read at one version:
// exactly one wins.
func testSubjectAccessConcurrentUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	putPeople(t, s, []store.Person{person("p-1", "staff")}, 1, 0)
	r := store.SubjectAccessRequest{ID: "sar-1", Person: "p-1", Made: epoch, State: "received", Version: 1}
	if err := s.AddSubjectAccessRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u := r
			u.State, u.Version, u.Body = "preparing", 2, []byte{byte('a' + i)}
			errs[i] = s.UpdateSubjectAccessRequest(ctx, u, nil)
		})
	}
	wg.Wait()
	w := soleWinner(t, "concurrent UpdateSubjectAccessRequest", errs)
	got, err := s.SubjectAccessRequestByID(ctx, r.ID)
	if err != nil || got.Version != 2 || !bytes.Equal(got.Body, []byte{byte('a' + w)}) {
		t.Errorf("after the race: %+v, %v; want the winner's body at version 2", got, err)
	}
}

// testSubjectSummary checks the per-category counts and first and last
// times of one subject in one log: never another subject's, never a
// related person's, never another log's.
func testSubjectSummary(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(i uint64, subject, category string, at time.Duration, related ...string) store.Entry {
		e := newEntry(activity, i, "src", "", false)
		e.Subject, e.Category, e.Time = subject, category, epoch.Add(at).UnixNano()
		if len(related) > 0 {
			e.Related = related
		}
		return e
	}
	commit(t, s, activity, []store.Entry{
		mk(0, "alice", "email", time.Hour),
		mk(1, "alice", "web", 3*time.Hour),
		mk(2, "bob", "email", 2*time.Hour, "alice"), // alice only related
		mk(3, "alice", "email", -time.Hour),
		mk(4, "alice", "email", 30*24*time.Hour), // next month
		mk(5, "alicia", "web", time.Hour),
	}, nil)
	other := newEntry(oversight, 0, "src", "", false)
	other.Subject, other.Category, other.Time = "alice", "record_query", epoch.UnixNano()
	commit(t, s, oversight, []store.Entry{other}, nil)

	for _, tt := range []struct {
		log, subject string
		want         []store.CategorySummary
	}{
		{activity, "alice", []store.CategorySummary{
			{Category: "email", Count: 3, First: epoch.Add(-time.Hour), Last: epoch.Add(30 * 24 * time.Hour)},
			{Category: "web", Count: 1, First: epoch.Add(3 * time.Hour), Last: epoch.Add(3 * time.Hour)},
		}},
		{activity, "bob", []store.CategorySummary{{Category: "email", Count: 1, First: epoch.Add(2 * time.Hour), Last: epoch.Add(2 * time.Hour)}}},
		{oversight, "alice", []store.CategorySummary{{Category: "record_query", Count: 1, First: epoch, Last: epoch}}},
		{activity, "ghost", nil},
		{"no-such-log", "alice", nil},
	} {
		got, err := s.SubjectSummary(ctx, []string{tt.log}, tt.subject)
		if err != nil {
			t.Errorf("SubjectSummary(%s, %s) = %v", tt.log, tt.subject, err)
			continue
		}
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("SubjectSummary(%s, %s) mismatch (-want +got):\n%s", tt.log, tt.subject, diff)
		}
	}
}
