package retention

import (
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/store"
)

// TestDeletionsCoverStamps checks what lbm verify store asks of every
// deletion stamp: a record of its step, log, category and month whose
// index range holds it, and no more stamps than the records deleted.
func TestDeletionsCoverStamps(t *testing.T) {
	rec, err := event.Parse([]byte(`{"@timestamp":"2026-11-28T09:00:00Z","event":{"category":"configuration","action":"retention_deleted"},"user":{"id":"lbm"},
		"lbm.log":"activity","lbm.step":"entry","lbm.category":"web","lbm.month":"2025-03","lbm.count":2,"lbm.first_index":10,"lbm.last_index":20}`), "lbm")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := DeletionOf(rec)
	want := DeletionRecord{Log: "activity", Category: "web", Month: "2025-03", Step: store.DeleteEntry, First: 10, Last: 20, Count: 2}
	if !ok || d != want {
		t.Fatalf("DeletionOf = %+v, %v; want %+v", d, ok, want)
	}
	other, _ := event.Parse([]byte(`{"@timestamp":"2026-11-28T09:00:00Z","event":{"category":"configuration","action":"review_query"},"user":{"id":"ivy"}}`), "lbm")
	if _, ok := DeletionOf(other); ok {
		t.Error("DeletionOf read a review record as a deletion")
	}
	ds := Deletions{d}
	march := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC).UnixNano()
	stamped := func(index uint64, category string, at int64, deleted bool) store.Entry {
		en := store.Entry{Log: "activity", Index: index, Time: at, Category: category}
		if deleted {
			en.Deleted = 1
		} else {
			en.ContentDeleted = 1
		}
		return en
	}
	for _, tc := range []struct {
		name string
		en   store.Entry
		ok   bool
	}{
		{"covered", stamped(10, "web", march, true), true},
		{"not stamped", store.Entry{Log: "activity", Index: 99, Time: march, Category: "email"}, true},
		{"outside the range", stamped(21, "web", march, true), false},
		{"another category", stamped(12, "email", march, true), false},
		{"another month", stamped(12, "web", time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).UnixNano(), true), false},
		{"another step", stamped(12, "web", march, false), false},
		{"another log", func() store.Entry { e := stamped(12, "web", march, true); e.Log = "oversight"; return e }(), false},
	} {
		if err := ds.Check(tc.en); (err == nil) != tc.ok {
			t.Errorf("%s: Check = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
	tally := Tally{}
	tally.Add(stamped(10, "web", march, true))
	tally.Add(stamped(15, "web", march, true))
	if p := ds.CheckCounts(tally); len(p) != 0 {
		t.Errorf("two stamps under a record of two: %q", p)
	}
	// A third, forged on an entry a hold kept inside the batch's range.
	tally.Add(stamped(17, "web", march, true))
	if p := ds.CheckCounts(tally); len(p) != 1 || !strings.Contains(p[0], "3 entries of web in 2025-03 are marked entry deleted under retention, but its records deleted 2") {
		t.Errorf("three stamps under a record of two: %q", p)
	}
}

// TestUnscheduledDeletionsCover checks the records of categories the
// schedule does not name: they cover any category, and their counts
// absorb the stamps no category's own record does.
func TestUnscheduledDeletionsCover(t *testing.T) {
	march := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC).UnixNano()
	ds := Deletions{
		{Log: "activity", Category: Unscheduled, Month: "2025-03", Step: store.DeleteEntry, First: 0, Last: 9, Count: 2},
		{Log: "activity", Category: "web", Month: "2025-03", Step: store.DeleteEntry, First: 0, Last: 9, Count: 1},
	}
	stamp := func(index uint64, category string) store.Entry {
		return store.Entry{Log: "activity", Index: index, Time: march, Category: category, Deleted: 1}
	}
	if err := ds.Check(stamp(3, "print")); err != nil {
		t.Errorf("an unscheduled category's stamp under an unscheduled record: %v", err)
	}
	tally := Tally{}
	for i, c := range []string{"web", "print", "api"} {
		tally.Add(stamp(uint64(i), c))
	}
	if p := ds.CheckCounts(tally); len(p) != 0 {
		t.Errorf("three stamps under records of one web and two others: %q", p)
	}
	tally.Add(stamp(5, "print"))
	if p := ds.CheckCounts(tally); len(p) != 1 || !strings.Contains(p[0], "2 entries of print in 2025-03 are marked entry deleted under retention, but its records deleted 1") {
		t.Errorf("four stamps under records of three: %q", p)
	}
}
