package storetest

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// testQueryEvents checks that a scoped query returns, in (time, index)
// order, exactly the entries of its people (as subject or related),
// categories, sources, actions, time range and terms, and that every
// entry comes back with its category, action and related people.
func testQueryEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(i uint64, subject, category, action, source string, related ...string) store.Entry {
		e := newEntry(activity, i, source, "", false)
		e.Subject, e.Category, e.Action = subject, category, action
		if len(related) > 0 {
			e.Related = related
		}
		return e
	}
	es := []store.Entry{
		mk(0, "alice", "record_query", "pnc_person_search", "pnc"),
		mk(1, "bob", "email", "send", "exchange", "alice", "carol"), // alice as related
		mk(2, "bob", "email", "send", "exchange", "carol"),
		mk(3, "alice", "email", "receive", "exchange"),
		mk(4, "alice", "web", "visit", "proxy"),
		mk(5, "carol", "record_query", "niche_record_view", "niche", "alice"),
		// erin's: related only, with content, so that terms are matched on
		// entries found through related.user as well as by subject.
		mk(6, "frank", "email", "send", "exchange", "erin"),
		mk(7, "erin", "email", "send", "exchange"),
		mk(8, "frank", "email", "send", "exchange", "erin", "gina"),
		mk(9, "frank", "web", "visit", "proxy", "erin"),
	}
	es[3].Content, es[3].KeyID, es[3].Terms = []byte("sealed 3"), hash("key alice")[:16], terms("fox", "quick")
	es[4].Content, es[4].KeyID, es[4].Terms = []byte("sealed 4"), hash("key alice")[:16], terms("fox")
	for i, ts := range map[int][]string{6: terms("fox"), 7: terms("fox"), 8: terms("quick"), 9: terms("fox")} {
		es[i].Content, es[i].KeyID, es[i].Terms = []byte(fmt.Sprintf("sealed %d", i)), hash("key frank")[:16], ts
	}
	// A later month, so an engine that partitions by time holds two.
	es[5].Time = epoch.AddDate(0, 1, 0).UnixNano()
	commit(t, s, activity, es, nil)
	other := mk(0, "alice", "email", "send", "exchange")
	other.Log = oversight
	commit(t, s, oversight, []store.Entry{other}, nil)

	// Every column comes back as written.
	got, err := s.Entries(ctx, activity, 0, uint64(len(es)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es, got); diff != "" {
		t.Fatalf("Entries after an append with categories, actions and related people (-want +got):\n%s", diff)
	}

	all := [2]int64{math.MinInt64, math.MaxInt64}
	cats := []string{"email", "record_query", "web"}
	tests := []struct {
		name string
		q    store.EventQuery
		want []int // indexes into es
	}{
		{"a subject and where they are related", store.EventQuery{People: []string{"alice"}, Categories: cats}, []int{0, 1, 3, 4, 5}},
		{"only as related", store.EventQuery{People: []string{"carol"}, Categories: cats}, []int{1, 2, 5}},
		{"two people, each entry once", store.EventQuery{People: []string{"alice", "carol"}, Categories: cats}, []int{0, 1, 2, 3, 4, 5}},
		{"nobody's", store.EventQuery{People: []string{"dave"}, Categories: cats}, nil},
		{"categories", store.EventQuery{People: []string{"alice"}, Categories: []string{"email"}}, []int{1, 3}},
		{"sources", store.EventQuery{People: []string{"alice"}, Categories: cats, Sources: []string{"pnc", "niche"}}, []int{0, 5}},
		{"actions", store.EventQuery{People: []string{"alice"}, Categories: cats, Actions: []string{"send", "visit"}}, []int{1, 4}},
		{"time is half-open", store.EventQuery{People: []string{"alice"}, Categories: cats, From: es[1].Time, To: es[4].Time}, []int{1, 3}},
		{"the later month alone", store.EventQuery{People: []string{"alice"}, Categories: cats, From: es[5].Time, To: es[5].Time + 1}, []int{5}},
		{"terms in the categories searched", store.EventQuery{People: []string{"alice"}, Categories: cats, Terms: terms("fox"), TermCategories: []string{"email", "web"}}, []int{3, 4}},
		{"terms only where content may be read", store.EventQuery{People: []string{"alice"}, Categories: cats, Terms: terms("fox"), TermCategories: []string{"email"}}, []int{3}},
		{"every term", store.EventQuery{People: []string{"alice"}, Categories: cats, Terms: terms("fox", "quick"), TermCategories: cats}, []int{3}},
		{"limit", store.EventQuery{People: []string{"alice"}, Categories: cats, Limit: 2}, []int{0, 1}},
		{"terms where only related", store.EventQuery{People: []string{"gina"}, Categories: cats, Terms: terms("quick"), TermCategories: []string{"email"}}, []int{8}},
		{"terms as subject and as related", store.EventQuery{People: []string{"erin"}, Categories: cats, Terms: terms("fox"), TermCategories: []string{"email"}}, []int{6, 7}},
		{"terms as related, in the categories searched", store.EventQuery{People: []string{"erin"}, Categories: cats, Terms: terms("fox"), TermCategories: []string{"email", "web"}}, []int{6, 7, 9}},
		{"terms as related, none match", store.EventQuery{People: []string{"gina"}, Categories: cats, Terms: terms("fox"), TermCategories: cats}, nil},
		{"related, by source and action", store.EventQuery{People: []string{"erin"}, Categories: cats, Sources: []string{"proxy"}, Actions: []string{"visit"}}, []int{9}},
	}
	for _, tt := range tests {
		q := tt.q
		q.Logs = []string{activity}
		if q.From == 0 && q.To == 0 {
			q.From, q.To = all[0], all[1]
		}
		got, err := s.QueryEvents(ctx, q)
		if err != nil {
			t.Errorf("%s: QueryEvents = %v", tt.name, err)
			continue
		}
		var want []store.Entry
		for _, i := range tt.want {
			want = append(want, es[i])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: QueryEvents mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	// The other log is another log.
	got, err = s.QueryEvents(ctx, store.EventQuery{Logs: []string{oversight}, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1]})
	if err != nil || len(got) != 1 || got[0].ID != other.ID {
		t.Errorf("QueryEvents on the oversight log = %v, %v; want its one entry", got, err)
	}
	one := []string{activity}
	for _, bad := range []store.EventQuery{
		{Logs: one, Categories: cats, From: all[0], To: all[1]},
		{Logs: one, People: []string{"alice"}, From: all[0], To: all[1]},
		{Logs: one, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1], Terms: terms("fox")},
		{Logs: one, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1], Terms: []string{"Fox Or"}, TermCategories: cats},
		{People: []string{"alice"}, Categories: cats, From: all[0], To: all[1]},
		{Logs: []string{}, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1]},
		{Logs: []string{""}, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1]},
		{Logs: []string{activity, oversight, activity}, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1]},
		{Logs: []string{activity, oversight}, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1], MinIndex: 1},
		{Logs: []string{activity, oversight}, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1], MaxIndex: 5},
		{Logs: one, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1], HasAfter: true, AfterTime: es[1].Time, AfterIndex: 1},
		{Logs: one, People: []string{"alice"}, Categories: cats, From: all[0], To: all[1], HasAfter: true, AfterTime: es[1].Time, AfterLog: oversight, AfterIndex: 1},
	} {
		if got, err := s.QueryEvents(ctx, bad); err == nil {
			t.Errorf("QueryEvents(%+v) = %d entries, want an error", bad, len(got))
		}
	}
}

// testQueryEventsPaging checks that paging with After visits every entry
// once, in order, including entries that share a time.
func testQueryEventsPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	var es []store.Entry
	for i := range uint64(25) {
		e := newEntry(activity, i, "pnc", "", false)
		e.Time = epoch.UnixNano() + int64(i/3) // three entries per nanosecond
		es = append(es, e)
	}
	commit(t, s, activity, es, nil)
	pages := func(person string, limit int) []uint64 {
		q := store.EventQuery{Logs: []string{activity}, People: []string{person}, Categories: []string{"record_query"}, From: math.MinInt64, To: math.MaxInt64, Limit: limit}
		var seen []uint64
		for range 50 {
			page, err := s.QueryEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				seen = append(seen, e.Index)
			}
			if len(page) < q.Limit {
				break
			}
			last := page[len(page)-1]
			q.HasAfter, q.AfterTime, q.AfterLog, q.AfterIndex = true, last.Time, last.Log, last.Index
		}
		return seen
	}
	seen := pages("alice", 4)
	want := make([]uint64, len(es))
	for i := range want {
		want[i] = uint64(i)
	}
	if !slices.Equal(seen, want) {
		t.Errorf("pages visited %v, want each entry once in order", seen)
	}

	// bob is the subject of some entries, related in others, and both in
	// some, with three entries to a nanosecond: pages cross from one way
	// of matching to the other, and an entry matching both ways comes once.
	var more []store.Entry
	want = nil
	for i := uint64(25); i < 50; i++ {
		e := newEntry(activity, i, "exchange", "", false)
		e.Time = epoch.UnixNano() + 100 + int64(i/3)
		switch i % 4 {
		case 0:
			e.Subject = "bob"
		case 1:
			e.Subject, e.Related = "carol", []string{"bob"}
		case 2:
			e.Subject, e.Related = "bob", []string{"bob", "carol"}
		case 3:
			e.Subject, e.Related = "carol", []string{"dave"} // not bob's
		}
		if i%4 != 3 {
			want = append(want, i)
		}
		more = append(more, e)
	}
	commit(t, s, activity, more, nil)
	// 50: bob's 19 entries come as one page, which the engines read in
	// parts (store.ReadInParts) and must put back in order.
	for _, limit := range []int{1, 2, 4, 50} {
		if seen := pages("bob", limit); !slices.Equal(seen, want) {
			t.Errorf("pages of %d of bob's entries visited %v, want %v", limit, seen, want)
		}
	}
}

// testQueryEventsByIndex checks MinIndex and MaxIndex: they select by log
// index whatever the entries' times, which here run backwards (a source
// sending late), and the answer stays in (time, index) order. Both ways
// a person matches (subject, related) are bounded.
func testQueryEventsByIndex(t *testing.T, s store.Store) {
	ctx := t.Context()
	var es []store.Entry
	for i := range uint64(6) {
		e := newEntry(activity, i, "exchange", "", false)
		e.Time = epoch.UnixNano() - int64(i)*int64(time.Minute)
		if i%2 == 1 {
			e.Subject, e.Related = "bob", []string{"alice"}
		}
		es = append(es, e)
	}
	commit(t, s, activity, es, nil)
	tests := []struct {
		name     string
		min, max uint64
		want     []int // indexes into es, in the order expected
	}{
		{"every index", 0, 0, []int{5, 4, 3, 2, 1, 0}},
		{"from an index", 2, 0, []int{5, 4, 3, 2}},
		{"below an index", 0, 2, []int{1, 0}},
		{"a range", 1, 4, []int{3, 2, 1}},
		{"one entry", 3, 4, []int{3}},
		{"an empty range", 4, 4, nil},
		{"past the end", 6, 0, nil},
		{"the largest index", math.MaxUint64, 0, nil},
	}
	for _, tt := range tests {
		q := store.EventQuery{Logs: []string{activity}, People: []string{"alice"}, Categories: []string{"record_query"},
			From: math.MinInt64, To: math.MaxInt64, MinIndex: tt.min, MaxIndex: tt.max}
		got, err := s.QueryEvents(ctx, q)
		if err != nil {
			t.Errorf("%s: QueryEvents = %v", tt.name, err)
			continue
		}
		var gotIdx, want []uint64
		for _, e := range got {
			gotIdx = append(gotIdx, e.Index)
		}
		for _, i := range tt.want {
			want = append(want, uint64(i))
		}
		if !slices.Equal(gotIdx, want) {
			t.Errorf("%s: QueryEvents(MinIndex %d, MaxIndex %d) = indexes %v, want %v", tt.name, tt.min, tt.max, gotIdx, want)
		}
	}
}
