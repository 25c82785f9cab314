package storetest

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// testRetention pins what the retention job relies on: paging a month by
// category, the two deletion steps (idempotent, each leaving what it must),
// deleted entries gone from every lookup but the log itself, pending keys
// written with the deletion, key destruction, and marks.
func testRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	month := epoch.AddDate(0, 0, 0)
	mk := func(i uint64, subject, category string, content bool, related ...string) store.Entry {
		e := newEntry(activity, i, "src-a", "", content)
		e.Time = month.Add(time.Duration(i) * time.Hour).UnixNano()
		e.Subject, e.Category = subject, category
		if len(related) > 0 {
			e.Related = related
		}
		if content {
			e.KeyID = hash("key " + subject + " " + category)[:16]
		}
		return e
	}
	es := []store.Entry{
		mk(0, "alice", "email", true, "bob"),
		mk(1, "bob", "email", true),
		mk(2, "bob", "web", true),
		mk(3, "carol", "email", false, "bob"),
		mk(4, "bob", "email", true),
	}
	es[1].ClientID = "client-1"
	commit(t, s, activity, es, nil)
	// The next month: outside the range asked for.
	next := mk(5, "bob", "email", true)
	next.Time = month.AddDate(0, 1, 0).UnixNano()
	commit(t, s, activity, []store.Entry{next}, nil)

	from, to := month.UnixNano(), month.AddDate(0, 1, 0).UnixNano()
	if t0, ok, err := s.OldestLive(ctx, activity); err != nil || !ok || t0 != es[0].Time {
		t.Fatalf("OldestLive(activity) = %d, %v, %v; want %d, true", t0, ok, err, es[0].Time)
	}
	if _, ok, err := s.OldestLive(ctx, oversight); err != nil || ok {
		t.Fatalf("OldestLive(empty log) = _, %v, %v; want false", ok, err)
	}
	q := store.ExpiryQuery{Log: activity, Step: store.DeleteContent, From: from, To: to, Categories: []string{"email"}}
	indexes := func(xs []store.Expiring) []uint64 {
		var out []uint64
		for _, x := range xs {
			out = append(out, x.Index)
		}
		return out
	}
	page := func(q store.ExpiryQuery) []store.Expiring {
		t.Helper()
		got, err := s.ExpiringEntries(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := page(q)
	if diff := cmp.Diff([]uint64{0, 1, 4}, indexes(got)); diff != "" {
		t.Fatalf("content step of email (-want +got):\n%s", diff)
	}
	want0 := store.Expiring{Index: 0, Time: es[0].Time, Category: "email", Subject: "alice", Related: []string{"bob"}, KeyID: es[0].KeyID}
	if diff := cmp.Diff(want0, got[0]); diff != "" {
		t.Fatalf("an expiring entry (-want +got):\n%s", diff)
	}
	// Paging by (time, index).
	q.Limit = 2
	first := page(q)
	q.HasAfter, q.AfterTime, q.AfterIndex = true, first[1].Time, first[1].Index
	if diff := cmp.Diff([]uint64{4}, indexes(page(q))); diff != "" {
		t.Fatalf("second page (-want +got):\n%s", diff)
	}
	entryQ := store.ExpiryQuery{Log: activity, Step: store.DeleteEntry, From: from, To: to, Categories: []string{"email", "web"}}
	if diff := cmp.Diff([]uint64{0, 1, 2, 3, 4}, indexes(page(entryQ))); diff != "" {
		t.Fatalf("entry step of email and web (-want +got):\n%s", diff)
	}
	// Every category but these: the schedule's leftovers.
	if diff := cmp.Diff([]uint64{2}, indexes(page(store.ExpiryQuery{Log: activity, Step: store.DeleteEntry, From: from, To: to, OtherThan: []string{"email", "device"}}))); diff != "" {
		t.Fatalf("entry step of categories other than email and device (-want +got):\n%s", diff)
	}
	for _, bad := range []store.ExpiryQuery{
		{Log: activity, Step: store.DeleteEntry, From: from, To: to, Categories: []string{"web"}, OtherThan: []string{"email"}},
		{Log: activity, Step: "all", From: from, To: to, Categories: []string{"email"}},
		{Log: activity, Step: store.DeleteEntry, From: from, To: to},
		{Log: activity, Step: store.DeleteEntry, From: to, To: from, Categories: []string{"email"}},
	} {
		if _, err := s.ExpiringEntries(ctx, bad); err == nil {
			t.Errorf("ExpiringEntries(%+v) = nil error, want a refusal", bad)
		}
	}

	// The content step on bob's two e-mails, with their key pending.
	at := month.AddDate(0, 7, 0)
	d := store.Deletion{At: at, By: "retention schedule v1: email content after 6 months"}
	pending := []store.PendingKey{{ID: es[1].KeyID, Subject: "bob", Period: "1970-01/email"}}
	bobs := []store.Expiring{{Index: 1, Time: es[1].Time}, {Index: 4, Time: es[4].Time}}
	n, err := s.DeleteExpired(ctx, activity, store.DeleteContent, bobs, d, pending)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired(content) = %d, %v; want 2, nil", n, err)
	}
	if n, err := s.DeleteExpired(ctx, activity, store.DeleteContent, bobs, d, pending); err != nil || n != 0 {
		t.Fatalf("DeleteExpired(content) again = %d, %v; want 0, nil", n, err)
	}
	after, err := s.Entries(ctx, activity, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	w1 := es[1]
	w1.Content, w1.Terms, w1.ContentDeleted, w1.DeletedBy = nil, nil, at.UnixNano(), d.By
	if diff := cmp.Diff(w1, after[1]); diff != "" {
		t.Fatalf("entry after the content step (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(es[0], after[0]); diff != "" {
		t.Fatalf("an entry the step did not name changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{0}, indexes(page(store.ExpiryQuery{Log: activity, Step: store.DeleteContent, From: from, To: to, Categories: []string{"email"}}))); diff != "" {
		t.Fatalf("content step after deleting bob's content (-want +got):\n%s", diff)
	}
	// Deleted content is no longer searchable.
	found, err := s.SearchTerms(ctx, store.TermQuery{Log: activity, Subject: "bob", From: from, To: to, Terms: terms("common")})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Index != 2 {
		t.Fatalf("SearchTerms after deleting content found %d entries, want only entry 2", len(found))
	}
	pk, err := s.PendingKeys(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pending, pk); diff != "" {
		t.Fatalf("PendingKeys (-want +got):\n%s", diff)
	}
	has := func(subject string, id []byte) bool {
		t.Helper()
		ok, err := s.ContentUnderKey(ctx, subject, from, to, id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if has("bob", es[1].KeyID) {
		t.Error("ContentUnderKey(bob, email key) = true after the content step")
	}
	if !has("bob", es[2].KeyID) || !has("alice", es[0].KeyID) || !has("bob", nil) {
		t.Error("ContentUnderKey = false for a key whose content is stored")
	}
	if !(func() bool { ok, _ := s.ContentUnderKey(ctx, "bob", next.Time, next.Time+1, next.KeyID); return ok })() {
		t.Error("ContentUnderKey = false for the next month's content")
	}

	// The entry step on bob's and carol's e-mails.
	targets := []store.Expiring{{Index: 1, Time: es[1].Time}, {Index: 3, Time: es[3].Time}, {Index: 4, Time: es[4].Time}}
	d2 := store.Deletion{At: at.Add(time.Hour), By: "retention schedule v1: email after 12 months"}
	if n, err := s.DeleteExpired(ctx, activity, store.DeleteEntry, targets, d2, nil); err != nil || n != 3 {
		t.Fatalf("DeleteExpired(entry) = %d, %v; want 3, nil", n, err)
	}
	if n, err := s.DeleteExpired(ctx, activity, store.DeleteEntry, targets, d2, nil); err != nil || n != 0 {
		t.Fatalf("DeleteExpired(entry) again = %d, %v; want 0, nil", n, err)
	}
	after, err = s.Entries(ctx, activity, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	tomb := func(e store.Entry, contentDeleted int64) store.Entry {
		return store.Entry{Log: e.Log, Index: e.Index, ID: e.ID, Time: e.Time, Source: e.Source, Leaf: e.Leaf, Meta: []byte{},
			KeyID: e.KeyID, Category: e.Category, ContentDeleted: contentDeleted, Deleted: d2.At.UnixNano(), DeletedBy: d2.By}
	}
	for i, want := range map[int]store.Entry{1: tomb(es[1], at.UnixNano()), 3: tomb(es[3], 0), 4: tomb(es[4], at.UnixNano())} {
		got := after[i]
		if len(got.Meta) == 0 {
			got.Meta = []byte{} // nil or empty: either says none
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("entry %d after the entry step (-want +got):\n%s", i, diff)
		}
	}
	// A tombstone is found by nobody: not as subject, not as related, not
	// by its client id.
	evq := store.EventQuery{Logs: []string{activity}, People: []string{"bob", "carol"}, From: math.MinInt64, To: math.MaxInt64, Categories: []string{"email", "web"}}
	sel, err := s.QueryEvents(ctx, evq)
	if err != nil {
		t.Fatal(err)
	}
	var selected []uint64
	for _, e := range sel {
		selected = append(selected, e.Index)
	}
	if diff := cmp.Diff([]uint64{0, 2, 5}, selected); diff != "" {
		t.Fatalf("QueryEvents after the entry step (-want +got):\n%s", diff)
	}
	err = s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		got, err := tx.FindClientIDs(ctx, "src-a", []string{"client-1"})
		if err == nil && len(got) != 0 {
			t.Errorf("FindClientIDs found a deleted entry's client id")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{0, 2}, indexes(page(entryQ))); diff != "" {
		t.Fatalf("entry step after deleting (-want +got):\n%s", diff)
	}
	// The entry step on an entry with content stamps the content deleted too.
	if _, err := s.DeleteExpired(ctx, activity, store.DeleteEntry, []store.Expiring{{Index: 2, Time: es[2].Time}}, d2, nil); err != nil {
		t.Fatal(err)
	}
	if e, err := s.EntryByID(ctx, es[2].ID); err != nil || e.ContentDeleted != d2.At.UnixNano() || e.Content != nil {
		t.Fatalf("EntryByID after deleting an entry with content = %+v, %v", e, err)
	}
	if has("bob", nil) {
		t.Error("ContentUnderKey(bob, any key) = true once all bob's content of the month is deleted")
	}
	// Entry 0 is left of the month: a deleted entry is never the oldest.
	if _, err := s.DeleteExpired(ctx, activity, store.DeleteEntry, []store.Expiring{{Index: 0, Time: es[0].Time}}, d2, nil); err != nil {
		t.Fatal(err)
	}
	if t0, ok, err := s.OldestLive(ctx, activity); err != nil || !ok || t0 != next.Time {
		t.Fatalf("OldestLive after deleting the month = %d, %v, %v; want %d", t0, ok, err, next.Time)
	}

	// Pending keys are forgotten one by one.
	if err := s.ForgetPendingKey(ctx, es[1].KeyID); err != nil {
		t.Fatal(err)
	}
	if pk, err := s.PendingKeys(ctx, 10); err != nil || len(pk) != 0 {
		t.Fatalf("PendingKeys after ForgetPendingKey = %v, %v", pk, err)
	}

	// Destroying a data key.
	dk := store.DataKey{ID: es[1].KeyID, Subject: "bob", Period: "1970-01/email", KEKID: "kek", Wrapped: []byte("wrapped"), Created: epoch}
	if err := s.AddDataKey(ctx, dk); err != nil {
		t.Fatal(err)
	}
	gone := epoch.Add(48 * time.Hour)
	for range 2 {
		if err := s.DestroyDataKey(ctx, dk.ID, gone); err != nil {
			t.Fatal(err)
		}
	}
	k, err := s.DataKeyByID(ctx, dk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.Wrapped != nil || !k.Destroyed.Equal(gone) {
		t.Fatalf("destroyed key reads back %+v", k)
	}
	if err := s.DestroyDataKey(ctx, hash("no key")[:16], gone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DestroyDataKey(unknown) = %v, want ErrNotFound", err)
	}

	// Marks replace by (log, category, month, step).
	m := store.RetentionMark{Log: activity, Category: "email", Month: "1970-01", Step: store.DeleteContent, Done: at, Deleted: 2, Kept: 1}
	if err := s.SetRetentionMark(ctx, m); err != nil {
		t.Fatal(err)
	}
	m.Kept, m.Deleted, m.Done = 0, 3, at.Add(time.Hour)
	if err := s.SetRetentionMark(ctx, m); err != nil {
		t.Fatal(err)
	}
	other := store.RetentionMark{Log: activity, Category: "email", Month: "1970-01", Step: store.DeleteEntry, Done: at, Deleted: 3}
	if err := s.SetRetentionMark(ctx, other); err != nil {
		t.Fatal(err)
	}
	marks, err := s.RetentionMarks(ctx, activity)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.RetentionMark{m, other}, marks, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Fatalf("RetentionMarks (-want +got):\n%s", diff)
	}
	if marks, err := s.RetentionMarks(ctx, oversight); err != nil || len(marks) != 0 {
		t.Fatalf("RetentionMarks(oversight) = %v, %v", marks, err)
	}

	if err := s.Scrub(ctx, activity, from, to); err != nil {
		t.Fatalf("Scrub: %v", err)
	}
	// Scrub changes nothing a reader sees.
	again, err := s.Entries(ctx, activity, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(after[5], again[5]); diff != "" {
		t.Fatalf("entry 5 after Scrub (-want +got):\n%s", diff)
	}
}
