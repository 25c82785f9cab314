package storetest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// newNotice returns a fully populated draft as a caller gives it; i makes
// its texts and creation time distinct. The texts carry newlines and
// characters outside ASCII, as notices in internal/notice's format do.
func newNotice(i int) store.Notice {
	return store.Notice{
		Title:       fmt.Sprintf("Monitoring notice %d", i),
		Text:        fmt.Sprintf("# Monitoring of force systems\n\nVersion %d. We record what you do «on duty» — see §3.\n\n- Anmeldung, ログイン\n", i),
		Short:       fmt.Sprintf("Your use of this system is recorded (notice %d).", i),
		PublicText:  fmt.Sprintf("# How we monitor our staff\n\nPublic notice %d.\n", i),
		PublicShort: fmt.Sprintf("Staff use of our systems is monitored (%d).", i),
		Categories:  []string{"authentication", "file", "network"},
		Created:     epoch.Add(time.Duration(i) * time.Hour),
		CreatedBy:   "admin-1",
	}
}

// draft returns n as the store holds it at version v, unpublished.
func draft(n store.Notice, v int64) store.Notice {
	n.Version, n.Published, n.PublishedBy = v, time.Time{}, ""
	n.Categories = slices.Clone(n.Categories)
	if len(n.Categories) == 0 {
		n.Categories = nil
	}
	return n
}

// published returns n as published at at by by.
func published(n store.Notice, at time.Time, by string) store.Notice {
	n.Published, n.PublishedBy = at, by
	return n
}

// addNotices adds ns in order and checks each is returned as stored at the
// next version, counting from first.
func addNotices(t *testing.T, s store.Store, first int64, ns ...store.Notice) []store.Notice {
	t.Helper()
	var out []store.Notice
	for i, n := range ns {
		want := draft(n, first+int64(i))
		got, err := s.AddNotice(t.Context(), n)
		if err != nil {
			t.Fatalf("AddNotice(%q) = %v", n.Title, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AddNotice(%q) returned (-want +got):\n%s", n.Title, diff)
		}
		out = append(out, want)
	}
	return out
}

// checkNotices checks each of want reads back exactly, by version.
func checkNotices(t *testing.T, s store.Store, when string, want ...store.Notice) {
	t.Helper()
	for _, w := range want {
		got, err := s.NoticeByVersion(t.Context(), w.Version)
		if err != nil {
			t.Errorf("%s: NoticeByVersion(%d) = %v", when, w.Version, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: NoticeByVersion(%d) mismatch (-want +got):\n%s", when, w.Version, diff)
		}
	}
}

// checkListNotices checks ListNotices returns want, in order.
func checkListNotices(t *testing.T, s store.Store, when string, want ...store.Notice) {
	t.Helper()
	got, err := s.ListNotices(t.Context())
	if err != nil {
		t.Errorf("%s: ListNotices() = %v", when, err)
		return
	}
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: ListNotices() mismatch (-want +got):\n%s", when, diff)
	}
}

// checkCurrentNotice checks CurrentNotice returns want, or ErrNotFound
// when want has no Version.
func checkCurrentNotice(t *testing.T, s store.Store, when string, want store.Notice) {
	t.Helper()
	got, err := s.CurrentNotice(t.Context())
	if want.Version == 0 {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: CurrentNotice() = version %d, %v; want ErrNotFound", when, got.Version, err)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: CurrentNotice() = %v, want version %d", when, err, want.Version)
	} else if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: CurrentNotice() mismatch (-want +got):\n%s", when, diff)
	}
}

// noticeChange returns a pending change publishing notice version,
// proposed against the published version previous.
func noticeChange(id string, version, previous int64) store.Change {
	return store.Change{
		ID:         id,
		Kind:       "notice",
		Target:     strconv.FormatInt(version, 10),
		Payload:    []byte("{}"),
		Base:       previous,
		Reason:     "reason for " + id,
		ProposedBy: "admin-1",
		Proposed:   epoch,
		State:      "pending",
	}
}

// approval returns c approved by by at at.
func approval(c store.Change, by string, at time.Time) store.Change {
	c.State, c.DecidedBy, c.Decided = "approved", by, at
	return c
}

// addChanges stores cs, each pending.
func addChanges(t *testing.T, s store.Store, cs ...store.Change) {
	t.Helper()
	for _, c := range cs {
		if err := s.AddChange(t.Context(), c); err != nil {
			t.Fatalf("AddChange(%q) = %v", c.ID, err)
		}
	}
}

// publish proposes and approves, by admin-2 at at, the publication of
// notice version against previous. It returns the change as proposed, the
// change as decided, and DecideChange's error.
func publish(t *testing.T, s store.Store, id string, version, previous int64, at time.Time) (proposed, decided store.Change, err error) {
	t.Helper()
	proposed = noticeChange(id, version, previous)
	addChanges(t, s, proposed)
	decided = approval(proposed, "admin-2", at)
	err = s.DecideChange(t.Context(), decided, store.ChangeEffect{Publish: &store.Publication{Version: version, Previous: previous, At: at, By: "admin-2"}})
	return proposed, decided, err
}

// mustPublish publishes notice version against previous, failing the test
// if it is refused, and returns the notice as published.
func mustPublish(t *testing.T, s store.Store, id string, n store.Notice, previous int64, at time.Time) store.Notice {
	t.Helper()
	if _, _, err := publish(t, s, id, n.Version, previous, at); err != nil {
		t.Fatalf("DecideChange(%s) publishing notice %d against %d = %v", id, n.Version, previous, err)
	}
	return published(n, at, "admin-2")
}

// testNotices checks drafting: versions from 1 in order whatever the
// caller gives, every field read back exactly, newest first.
func testNotices(t *testing.T, s store.Store) {
	ctx := t.Context()
	checkListNotices(t, s, "before any")
	checkCurrentNotice(t, s, "before any", store.Notice{})
	if n, err := s.NoticeByVersion(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("NoticeByVersion(1) before any = %+v, %v; want ErrNotFound", n, err)
	}

	// AddNotice ignores the version and publication it is given.
	n1 := newNotice(1)
	n1.Version, n1.Published, n1.PublishedBy = 7, epoch, "admin-9"
	n2 := newNotice(2)
	n2.Version, n2.Categories = -1, nil
	n3 := newNotice(3)
	n3.Version, n3.Categories, n3.Short, n3.PublicShort = 1, []string{}, "", ""
	n4 := newNotice(4)
	n4.Categories = []string{"a category with spaces", "ünïcode"}
	want := addNotices(t, s, 1, n1, n2, n3, n4)
	// The store keeps its own copy of the caller's categories.
	n1.Categories[0] = "scribbled"
	checkNotices(t, s, "after adding", want...)
	checkListNotices(t, s, "after adding", want[3], want[2], want[1], want[0])
	// Drafts are not current.
	checkCurrentNotice(t, s, "with drafts only", store.Notice{})
	for _, v := range []int64{0, -1, 5, math.MaxInt64} {
		if n, err := s.NoticeByVersion(ctx, v); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("NoticeByVersion(%d) = %+v, %v; want ErrNotFound", v, n, err)
		}
	}
}

// testConcurrentNotices races drafts: each takes its own version, and
// together they take 1 to n with none skipped.
func testConcurrentNotices(t *testing.T, s store.Store) {
	const drafters = 8
	errs := make([]error, drafters)
	got := make([]store.Notice, drafters)
	var wg sync.WaitGroup
	for i := range drafters {
		wg.Go(func() { got[i], errs[i] = s.AddNotice(t.Context(), newNotice(i)) })
	}
	wg.Wait()
	var want []store.Notice
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent AddNotice %d = %v", i, err)
		}
		want = append(want, got[i])
	}
	slices.SortFunc(want, func(a, b store.Notice) int { return int(b.Version - a.Version) })
	for i, n := range want {
		if v := int64(drafters - i); n.Version != v {
			t.Errorf("concurrent drafts took versions %v, want 1 to %d once each", versions(want), drafters)
			break
		}
	}
	checkNotices(t, s, "after concurrent drafts", want...)
	checkListNotices(t, s, "after concurrent drafts", want...)
}

func versions(ns []store.Notice) []int64 {
	var out []int64
	for _, n := range ns {
		out = append(out, n.Version)
	}
	return out
}

// testNoticePublication checks publication's compare-and-swap through
// DecideChange: a refused publication stores neither the decision nor the
// publication, and the current notice is the published one of the
// greatest version.
func testNoticePublication(t *testing.T, s store.Store) {
	ctx := t.Context()
	notices := addNotices(t, s, 1, newNotice(1), newNotice(2), newNotice(3))
	var current store.Notice // none yet
	at := epoch.Add(24 * time.Hour)

	type refusal struct {
		name              string
		version, previous int64
		want              error
	}
	refuse := func(stage string, tests []refusal) {
		t.Helper()
		for i, tt := range tests {
			when := stage + ": " + tt.name
			proposed, _, err := publish(t, s, fmt.Sprintf("c-%s-%d", stage, i), tt.version, tt.previous, at.Add(time.Hour))
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: DecideChange publishing %d against %d = %v, want %v", when, tt.version, tt.previous, err, tt.want)
			}
			checkChanges(t, s, when, proposed)
			checkNotices(t, s, when, notices...)
			checkCurrentNotice(t, s, when, current)
		}
	}

	refuse("none published", []refusal{
		{"absent version", 9, 0, store.ErrNotFound},
		{"version 0", 0, 0, store.ErrNotFound},
		{"previous not published", 1, 1, store.ErrConflict},
		{"previous absent", 2, 7, store.ErrConflict},
	})

	notices[0] = mustPublish(t, s, "c-pub-1", notices[0], 0, at)
	current = notices[0]
	checkNotices(t, s, "after publishing 1", notices...)
	checkCurrentNotice(t, s, "after publishing 1", current)

	refuse("1 published", []refusal{
		{"already published", 1, 1, store.ErrConflict},
		{"already published, against none", 1, 0, store.ErrConflict},
		{"stale previous", 2, 0, store.ErrConflict},
		{"previous a draft", 3, 2, store.ErrConflict},
		{"absent version", 9, 1, store.ErrNotFound},
	})

	// Publishing 3 against 1 passes over 2, which stays a draft.
	at = at.Add(24 * time.Hour)
	notices[2] = mustPublish(t, s, "c-pub-3", notices[2], 1, at)
	current = notices[2]
	checkNotices(t, s, "after publishing 3", notices...)
	checkCurrentNotice(t, s, "after publishing 3", current)
	checkListNotices(t, s, "after publishing 3", notices[2], notices[1], notices[0])

	refuse("3 published", []refusal{
		{"stale previous", 2, 1, store.ErrConflict},
		{"already published", 3, 3, store.ErrConflict},
		{"already published, stale", 1, 1, store.ErrConflict},
	})

	// A rejection publishes nothing, and a rejected change stays rejected.
	c := noticeChange("c-reject", 2, 3)
	addChanges(t, s, c)
	rejected := c
	rejected.State, rejected.DecidedBy, rejected.Decided = "rejected", "admin-2", at
	if err := s.DecideChange(ctx, rejected, store.ChangeEffect{}); err != nil {
		t.Fatalf("DecideChange(c-reject, rejected) = %v", err)
	}
	checkChanges(t, s, "after rejecting", rejected)
	checkNotices(t, s, "after rejecting", notices...)
	err := s.DecideChange(ctx, approval(c, "admin-3", at), store.ChangeEffect{Publish: &store.Publication{Version: 2, Previous: 3, At: at, By: "admin-3"}})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("DecideChange(c-reject, approved) after rejecting = %v, want ErrConflict", err)
	}
	checkChanges(t, s, "after approving a rejected change", rejected)
	checkNotices(t, s, "after approving a rejected change", notices...)
	checkCurrentNotice(t, s, "after approving a rejected change", current)
}

// testConcurrentPublication races decisions on publications all proposed
// against the same current notice: of different drafts, each its own
// change, and of one draft by one change decided many times at once.
// Exactly one wins; the others get ErrConflict and store nothing.
func testConcurrentPublication(t *testing.T, s store.Store) {
	ctx := t.Context()
	const racers = 4
	var current store.Notice
	next := int64(1)
	for round, sameChange := range []bool{false, false, true, false, true} {
		when := fmt.Sprintf("round %d", round)
		var drafts []store.Notice
		var changes []store.Change
		for i := range racers {
			if i == 0 || !sameChange {
				drafts = append(drafts, addNotices(t, s, next, newNotice(int(next)))...)
				changes = append(changes, noticeChange(fmt.Sprintf("c-%d-%d", round, i), next, current.Version))
				addChanges(t, s, changes[i])
				next++
			} else {
				drafts = append(drafts, drafts[0])
				changes = append(changes, changes[0])
			}
		}
		errs := make([]error, racers)
		decided := make([]store.Change, racers)
		wants := make([]store.Notice, racers)
		var wg sync.WaitGroup
		for i := range racers {
			by, at := fmt.Sprintf("admin-%d", i+2), epoch.Add(time.Duration(round*racers+i)*time.Minute)
			decided[i], wants[i] = approval(changes[i], by, at), published(drafts[i], at, by)
			e := store.ChangeEffect{Publish: &store.Publication{Version: drafts[i].Version, Previous: current.Version, At: at, By: by}}
			wg.Go(func() { errs[i] = s.DecideChange(ctx, decided[i], e) })
		}
		wg.Wait()
		winner := soleWinner(t, fmt.Sprintf("%s: DecideChange by decider", when), errs)
		current = wants[winner]
		checkCurrentNotice(t, s, when, current)
		checkChanges(t, s, when, decided[winner])
		checkNotices(t, s, when, current)
		if !sameChange {
			for i := range racers {
				if i != winner {
					checkChanges(t, s, when, changes[i])
					checkNotices(t, s, when, drafts[i])
				}
			}
		}
	}
}

// newCatalogue returns catalogue version v approved by change. Its files
// are YAML with text outside ASCII, and Criteria and Categories end in
// bytes no text column would keep.
func newCatalogue(v int64, change string) store.CatalogueVersion {
	return store.CatalogueVersion{
		Version:     v,
		Purposes:    fmt.Appendf(nil, "purposes:\n  - id: p%d\n    title: \"Prävention – ✓\"\n", v),
		Legislation: fmt.Appendf(nil, "legislation:\n  - id: ipa-2016\n    title: Investigatory Powers Act %d\n", v),
		Criteria:    append(fmt.Appendf(nil, "criteria: %d\n", v), 0, 0xff),
		Categories:  append(fmt.Appendf(nil, "categories:\n  - id: email\n    title: \"E-Mail – ✓\"\n    retention_months: %d\n", v), 0, 0xff),
		Created:     epoch.Add(time.Duration(v) * time.Hour).Add(time.Nanosecond),
		Change:      change,
	}
}

// catalogueChange returns a pending catalogue change proposed against the
// catalogue version base.
func catalogueChange(id string, base int64) store.Change {
	return store.Change{
		ID:         id,
		Kind:       "catalogue",
		Target:     "catalogue",
		Payload:    []byte(`{"purposes":"..."}`),
		Base:       base,
		Reason:     "reason for " + id,
		ProposedBy: "admin-1",
		Proposed:   epoch,
		State:      "pending",
	}
}

// decideCatalogue proposes a catalogue change and approves it with v,
// Change set to the change's ID. It returns the change as proposed, as
// decided, and DecideChange's error.
func decideCatalogue(t *testing.T, s store.Store, id string, v store.CatalogueVersion) (proposed, decided store.Change, err error) {
	t.Helper()
	proposed = catalogueChange(id, v.Version-1)
	addChanges(t, s, proposed)
	decided = approval(proposed, "admin-2", epoch.Add(time.Hour))
	v.Change = id
	err = s.DecideChange(t.Context(), decided, store.ChangeEffect{Catalogue: &v})
	return proposed, decided, err
}

// checkCatalogues checks CurrentCatalogue, CatalogueByVersion and
// ListCatalogueVersions against want, oldest first.
func checkCatalogues(t *testing.T, s store.Store, when string, want ...store.CatalogueVersion) {
	t.Helper()
	ctx := t.Context()
	got, err := s.CurrentCatalogue(ctx)
	switch {
	case len(want) == 0 && !errors.Is(err, store.ErrNotFound):
		t.Errorf("%s: CurrentCatalogue() = version %d, %v; want ErrNotFound", when, got.Version, err)
	case len(want) > 0 && err != nil:
		t.Errorf("%s: CurrentCatalogue() = %v", when, err)
	case len(want) > 0:
		if diff := cmp.Diff(want[len(want)-1], got); diff != "" {
			t.Errorf("%s: CurrentCatalogue() mismatch (-want +got):\n%s", when, diff)
		}
	}
	for _, w := range want {
		got, err := s.CatalogueByVersion(ctx, w.Version)
		if err != nil {
			t.Errorf("%s: CatalogueByVersion(%d) = %v", when, w.Version, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: CatalogueByVersion(%d) mismatch (-want +got):\n%s", when, w.Version, diff)
		}
	}
	absent := int64(len(want) + 1)
	if got, err := s.CatalogueByVersion(ctx, absent); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: CatalogueByVersion(%d) = %+v, %v; want ErrNotFound", when, absent, got, err)
	}
	list, err := s.ListCatalogueVersions(ctx)
	if err != nil {
		t.Errorf("%s: ListCatalogueVersions() = %v", when, err)
		return
	}
	newest := slices.Clone(want)
	slices.Reverse(newest)
	if len(newest) == 0 && len(list) == 0 {
		return
	}
	if diff := cmp.Diff(newest, list); diff != "" {
		t.Errorf("%s: ListCatalogueVersions() mismatch (-want +got):\n%s", when, diff)
	}
}

// testCatalogues checks catalogue versions through DecideChange: each
// must be the one after the latest, and one refused stores neither the
// decision nor the version.
func testCatalogues(t *testing.T, s store.Store) {
	checkCatalogues(t, s, "before any")
	var want []store.CatalogueVersion
	refuse := func(stage string, versions ...int64) {
		t.Helper()
		for _, v := range versions {
			when := fmt.Sprintf("%s: version %d", stage, v)
			proposed, _, err := decideCatalogue(t, s, fmt.Sprintf("c-%s-%d", stage, v), newCatalogue(v, ""))
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("%s: DecideChange = %v, want ErrConflict", when, err)
			}
			checkChanges(t, s, when, proposed)
			checkCatalogues(t, s, when, want...)
		}
	}
	refuse("none stored", 2, 0, -1)

	// Empty files are stored as none, and read back nil, as an empty
	// change payload does.
	v1 := newCatalogue(1, "c-cat-1")
	v1.Legislation, v1.Criteria, v1.Categories = nil, []byte{}, []byte{}
	_, decided, err := decideCatalogue(t, s, "c-cat-1", v1)
	if err != nil {
		t.Fatalf("DecideChange(c-cat-1) adding version 1 = %v", err)
	}
	v1.Criteria, v1.Categories = nil, nil
	want = append(want, v1)
	checkChanges(t, s, "after version 1", decided)
	checkCatalogues(t, s, "after version 1", want...)

	refuse("1 stored", 1, 3, 0)

	v2 := newCatalogue(2, "c-cat-2")
	if _, decided, err = decideCatalogue(t, s, "c-cat-2", v2); err != nil {
		t.Fatalf("DecideChange(c-cat-2) adding version 2 = %v", err)
	}
	want = append(want, v2)
	checkChanges(t, s, "after version 2", decided)
	checkCatalogues(t, s, "after version 2", want...)

	refuse("2 stored", 2, 1, 4)
}

// testConcurrentCatalogue races approvals of different changes that each
// add the next catalogue version: exactly one adds it.
func testConcurrentCatalogue(t *testing.T, s store.Store) {
	ctx := t.Context()
	const racers = 4
	var want []store.CatalogueVersion
	for round := range 3 {
		when := fmt.Sprintf("round %d", round)
		v := int64(round + 1)
		errs := make([]error, racers)
		decided := make([]store.Change, racers)
		versions := make([]store.CatalogueVersion, racers)
		var wg sync.WaitGroup
		for i := range racers {
			id := fmt.Sprintf("c-%d-%d", round, i)
			c := catalogueChange(id, v-1)
			addChanges(t, s, c)
			decided[i], versions[i] = approval(c, "admin-2", epoch.Add(time.Duration(i)*time.Second)), newCatalogue(v, id)
			versions[i].Purposes = fmt.Appendf(versions[i].Purposes, "# by %s\n", id)
			e := store.ChangeEffect{Catalogue: &versions[i]}
			wg.Go(func() { errs[i] = s.DecideChange(ctx, decided[i], e) })
		}
		wg.Wait()
		winner := soleWinner(t, fmt.Sprintf("%s: DecideChange by decider", when), errs)
		want = append(want, versions[winner])
		checkChanges(t, s, when, decided[winner])
		checkCatalogues(t, s, when, want...)
	}
}

// testEffects checks DecideChange refuses an effect that is not the
// change's to have: more than one, one on a rejection, one on another
// kind or target. Each refusal stores nothing; then the right effects,
// on the same changes, are stored.
func testEffects(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := person("p-1", "staff")
	putPeople(t, s, []store.Person{p}, 1, 0)
	notices := addNotices(t, s, 1, newNotice(1), newNotice(2))
	cPerson, cNotice, cCat := newChange("c-person", "p-1", 1, 0), noticeChange("c-notice", 1, 0), catalogueChange("c-cat", 0)
	addChanges(t, s, cPerson, cNotice, cCat)

	at := epoch.Add(time.Hour)
	toPerson := stored(p, 2)
	toPerson.Roles, toPerson.Updated = []string{"admin", "staff"}, at
	publication := store.Publication{Version: 1, Previous: 0, At: at, By: "admin-2"}
	catalogue := newCatalogue(1, "c-cat")
	other := publication
	other.Version = 2
	unsigned := catalogue
	unsigned.Change = "c-other"
	untimed := publication
	untimed.At = time.Time{}
	rejected := cNotice
	rejected.State, rejected.DecidedBy, rejected.Decided = "rejected", "admin-2", at
	wrongNoticeCatalogue := catalogue
	wrongNoticeCatalogue.Change = "c-notice"

	tests := []struct {
		name string
		c    store.Change
		e    store.ChangeEffect
	}{
		{"two effects", approval(cNotice, "admin-2", at), store.ChangeEffect{Publish: &publication, Catalogue: &catalogue}},
		{"an effect on a rejection", rejected, store.ChangeEffect{Publish: &publication}},
		{"a publication by a person change", approval(cPerson, "admin-2", at), store.ChangeEffect{Publish: &publication}},
		{"a person by a catalogue change", approval(cCat, "admin-2", at), store.ChangeEffect{Person: &toPerson}},
		{"a catalogue by a notice change", approval(cNotice, "admin-2", at), store.ChangeEffect{Catalogue: &wrongNoticeCatalogue}},
		{"another notice", approval(cNotice, "admin-2", at), store.ChangeEffect{Publish: &other}},
		{"a catalogue naming another change", approval(cCat, "admin-2", at), store.ChangeEffect{Catalogue: &unsigned}},
		{"a publication at the zero time", approval(cNotice, "admin-2", at), store.ChangeEffect{Publish: &untimed}},
	}
	for _, tt := range tests {
		if err := s.DecideChange(ctx, tt.c, tt.e); err == nil {
			t.Errorf("%s: DecideChange(%s) = nil, want an error", tt.name, tt.c.ID)
		}
		checkChanges(t, s, tt.name, cPerson, cNotice, cCat)
		checkPeople(t, s, tt.name, stored(p, 1))
		checkNotices(t, s, tt.name, notices...)
		checkCatalogues(t, s, tt.name)
	}

	for _, ok := range []struct {
		c store.Change
		e store.ChangeEffect
	}{
		{approval(cPerson, "admin-2", at), store.ChangeEffect{Person: &toPerson}},
		{approval(cNotice, "admin-2", at), store.ChangeEffect{Publish: &publication}},
		{approval(cCat, "admin-2", at), store.ChangeEffect{Catalogue: &catalogue}},
	} {
		if err := s.DecideChange(ctx, ok.c, ok.e); err != nil {
			t.Errorf("DecideChange(%s) with its own effect = %v", ok.c.ID, err)
		}
		checkChanges(t, s, "after deciding", ok.c)
	}
	checkPeople(t, s, "after deciding", toPerson)
	checkNotices(t, s, "after deciding", published(notices[0], at, "admin-2"), notices[1])
	checkCatalogues(t, s, "after deciding", catalogue)
}

// checkAcks checks AcknowledgementsOf(person) returns want, in order.
func checkAcks(t *testing.T, s store.Store, when, person string, want ...store.Acknowledgement) {
	t.Helper()
	got, err := s.AcknowledgementsOf(t.Context(), person)
	if err != nil {
		t.Errorf("%s: AcknowledgementsOf(%q) = %v", when, person, err)
		return
	}
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: AcknowledgementsOf(%q) mismatch (-want +got):\n%s", when, person, diff)
	}
}

// testAcknowledgements checks an acknowledgement is stored only of a
// published notice by a person in the directory, once, and reads back
// exactly, newest version first.
func testAcknowledgements(t *testing.T, s store.Store) {
	ctx := t.Context()
	putPeople(t, s, []store.Person{person("p-1", "staff"), person("p-2", "staff"), person("p-3")}, 3, 0)
	notices := addNotices(t, s, 1, newNotice(1), newNotice(2), newNotice(3))
	mustPublish(t, s, "c-pub-1", notices[0], 0, epoch.Add(time.Hour))
	mustPublish(t, s, "c-pub-2", notices[1], 1, epoch.Add(2*time.Hour))

	ack := func(person string, version int64, via string, entry uint64) store.Acknowledgement {
		return store.Acknowledgement{Person: person, Version: version, Time: epoch.Add(time.Duration(version) * 24 * time.Hour), Via: via, Entry: entry}
	}
	var want1, want2 []store.Acknowledgement // newest first
	refuse := func(stage string) {
		t.Helper()
		for _, tt := range []struct {
			name string
			a    store.Acknowledgement
		}{
			{"absent person", ack("ghost", 1, "web", 1)},
			{"absent version", ack("p-1", 9, "web", 1)},
			{"version 0", ack("p-1", 0, "web", 1)},
			{"draft", ack("p-1", 3, "web", 1)},
			{"draft, another person", ack("p-2", 3, "api", 1)},
		} {
			when := stage + ": " + tt.name
			if err := s.AddAcknowledgement(ctx, tt.a); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: AddAcknowledgement(%s, %d) = %v, want ErrNotFound", when, tt.a.Person, tt.a.Version, err)
			}
			checkAcks(t, s, when, "p-1", want1...)
			checkAcks(t, s, when, "p-2", want2...)
			checkAcks(t, s, when, "ghost")
		}
	}
	refuse("none stored")

	// Entry is a log index, a uint64: all 64 bits are kept.
	a1 := ack("p-1", 1, "web", 0)
	a2 := ack("p-1", 2, "api", 1<<63|7)
	a3 := ack("p-2", 2, "web", math.MaxUint64)
	for _, a := range []store.Acknowledgement{a1, a2, a3} {
		if err := s.AddAcknowledgement(ctx, a); err != nil {
			t.Fatalf("AddAcknowledgement(%s, %d) = %v", a.Person, a.Version, err)
		}
	}
	want1, want2 = []store.Acknowledgement{a2, a1}, []store.Acknowledgement{a3}
	checkAcks(t, s, "after adding", "p-1", want1...)
	checkAcks(t, s, "after adding", "p-2", want2...)
	checkAcks(t, s, "after adding", "p-3")

	// A second acknowledgement of one version, however it differs, is
	// refused and changes nothing.
	again := ack("p-1", 1, "api", 99)
	again.Time = epoch.Add(365 * 24 * time.Hour)
	if err := s.AddAcknowledgement(ctx, again); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddAcknowledgement(p-1, 1) again = %v, want ErrExists", err)
	}
	checkAcks(t, s, "after acknowledging twice", "p-1", want1...)
	refuse("some stored")

	// Once published, the draft can be acknowledged.
	mustPublish(t, s, "c-pub-3", notices[2], 2, epoch.Add(3*time.Hour))
	a4 := ack("p-1", 3, "web", 42)
	if err := s.AddAcknowledgement(ctx, a4); err != nil {
		t.Fatalf("AddAcknowledgement(p-1, 3) once published = %v", err)
	}
	checkAcks(t, s, "after publishing 3", "p-1", a4, a2, a1)
	checkAcks(t, s, "after publishing 3", "p-2", want2...)
}

// testUnacknowledged checks who is asked to acknowledge a version: the
// people who have not left, less those who acknowledged that version (an
// older version's acknowledgement does not count), in order of unit,
// manager and ID compared byte by byte; and that Coverage counts the same
// people.
func testUnacknowledged(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	check := func(when string, version int64, at time.Time, want []store.Person, acknowledged int) {
		t.Helper()
		got, err := s.Unacknowledged(ctx, version, at)
		if err != nil {
			t.Errorf("%s: Unacknowledged(%d, %v) = %v", when, version, at, err)
		} else if len(want) > 0 || len(got) > 0 {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: Unacknowledged(%d, %v) mismatch (-want +got):\n%s", when, version, at, diff)
			}
		}
		wantCov := store.NoticeCoverage{Active: len(want) + acknowledged, Acknowledged: acknowledged}
		if cov, err := s.Coverage(ctx, version, at); err != nil || cov != wantCov {
			t.Errorf("%s: Coverage(%d, %v) = %+v, %v; want %+v", when, version, at, cov, err, wantCov)
		}
	}
	check("empty directory", 1, now, nil, 0)

	mk := func(id, unit, manager string, leftOn time.Time) store.Person {
		p := person(id, "staff")
		p.Unit, p.Manager, p.LeftOn = unit, manager, leftOn
		return p
	}
	// In byte order "North" < "South" < "north" and "m-B" < "m-a" < "m-b";
	// a collation that ignores case would order them otherwise.
	ps := []store.Person{
		mk("p-01", "north", "m-a", time.Time{}),
		mk("p-02", "North", "m-b", time.Time{}),
		mk("p-03", "North", "m-B", time.Time{}),
		mk("p-10", "North", "m-B", time.Time{}),
		mk("p-04", "North", "m-B", time.Time{}),
		mk("p-05", "South", "", time.Time{}),
		mk("l-yesterday", "North", "m-a", now.AddDate(0, 0, -1)),
		mk("l-today", "North", "m-a", now), // not after now: left
		mk("l-tomorrow", "North", "m-a", now.AddDate(0, 0, 1)),
	}
	putPeople(t, s, ps, len(ps), 0)
	by := make(map[string]store.Person)
	for _, p := range ps {
		by[p.ID] = stored(p, 1)
	}
	people := func(ids ...string) []store.Person {
		var out []store.Person
		for _, id := range ids {
			out = append(out, by[id])
		}
		return out
	}
	check("no notice", 1, now, people("p-03", "p-04", "p-10", "l-tomorrow", "p-02", "p-05", "p-01"), 0)

	notices := addNotices(t, s, 1, newNotice(1), newNotice(2), newNotice(3))
	mustPublish(t, s, "c-pub-1", notices[0], 0, epoch)
	mustPublish(t, s, "c-pub-2", notices[1], 1, epoch)
	for _, a := range []struct {
		person  string
		version int64
	}{
		{"p-01", 1},
		{"p-02", 2},
		{"p-03", 1}, {"p-03", 2},
		{"l-yesterday", 2}, // left: neither asked nor counted
		{"l-tomorrow", 1},
	} {
		if err := s.AddAcknowledgement(ctx, store.Acknowledgement{Person: a.person, Version: a.version, Time: epoch, Via: "web", Entry: 1}); err != nil {
			t.Fatalf("AddAcknowledgement(%s, %d) = %v", a.person, a.version, err)
		}
	}

	check("version 2", 2, now, people("p-04", "p-10", "l-tomorrow", "p-05", "p-01"), 2)
	check("version 1", 1, now, people("p-04", "p-10", "p-02", "p-05"), 3)
	check("version 2, a day later", 2, now.AddDate(0, 0, 1), people("p-04", "p-10", "p-05", "p-01"), 2)
	check("version 1, a day later", 1, now.AddDate(0, 0, 1), people("p-04", "p-10", "p-02", "p-05"), 2)
	check("version 2, before anyone left", 2, now.AddDate(0, 0, -1).Add(-time.Nanosecond),
		people("p-04", "p-10", "l-today", "l-tomorrow", "p-05", "p-01"), 3)
	check("version 2, a nanosecond before today", 2, now.Add(-time.Nanosecond),
		people("p-04", "p-10", "l-today", "l-tomorrow", "p-05", "p-01"), 2)
	check("a draft", 3, now, people("p-03", "p-04", "p-10", "l-tomorrow", "p-02", "p-05", "p-01"), 0)
}

// BenchmarkUnacknowledged50k times Unacknowledged (list) and Coverage
// (coverage) of a published notice over a directory of 50,000 people
// (HRImport), one in twenty of whom has left and one in ten of whom has
// acknowledged, on a store open makes.
func BenchmarkUnacknowledged50k(b *testing.B, open func(b *testing.B) store.Store) {
	const n = 50000
	ctx := b.Context()
	s := open(b)
	left := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := left.AddDate(0, 6, 0)
	ps := HRImport(n, "")
	for i := range ps {
		if i%20 == 0 {
			ps[i].LeftOn = left
		}
	}
	if _, _, err := s.PutPeople(ctx, ps); err != nil {
		b.Fatalf("PutPeople = %v", err)
	}
	notice, err := s.AddNotice(ctx, newNotice(1))
	if err != nil {
		b.Fatalf("AddNotice = %v", err)
	}
	c := noticeChange("c-pub", notice.Version, 0)
	if err := s.AddChange(ctx, c); err != nil {
		b.Fatalf("AddChange = %v", err)
	}
	err = s.DecideChange(ctx, approval(c, "admin-2", left), store.ChangeEffect{Publish: &store.Publication{Version: notice.Version, At: left, By: "admin-2"}})
	if err != nil {
		b.Fatalf("DecideChange = %v", err)
	}
	// i%10 == 1 is never i%20 == 0: every acknowledgement is of an active
	// person.
	acked := 0
	for i := 1; i < n; i += 10 {
		a := store.Acknowledgement{Person: ps[i].ID, Version: notice.Version, Time: left, Via: "web", Entry: uint64(i)}
		if err := s.AddAcknowledgement(ctx, a); err != nil {
			b.Fatalf("AddAcknowledgement(%s) = %v", a.Person, err)
		}
		acked++
	}
	active := n - n/20
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			got, err := s.Unacknowledged(ctx, notice.Version, now)
			if err != nil || len(got) != active-acked {
				b.Fatalf("Unacknowledged = %d people, %v; want %d", len(got), err, active-acked)
			}
		}
	})
	b.Run("coverage", func(b *testing.B) {
		want := store.NoticeCoverage{Active: active, Acknowledged: acked}
		for b.Loop() {
			if got, err := s.Coverage(ctx, notice.Version, now); err != nil || got != want {
				b.Fatalf("Coverage = %+v, %v; want %+v", got, err, want)
			}
		}
	})
}
