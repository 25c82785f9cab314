package storetest

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// The activity log's shards, as several nodes name them. "activity-10"
// sorts before "activity-2": the order among logs is the names' byte
// order, whatever their numbers.
const (
	shard1  = "activity-1"
	shard2  = "activity-2"
	shard10 = "activity-10"
)

// shardEntries commits to each shard of the activity log entries of
// alice's (as subject, or related), interleaved in time and with ties on
// time across shards and within one, and returns them all in (Time, Log,
// Index) order, with bob's entries that do not name alice left out.
func shardEntries(t *testing.T, s store.Store) []store.Entry {
	t.Helper()
	at := func(log string, i uint64, ns int64) store.Entry {
		e := newEntry(log, i, "exchange", "", false)
		e.Time, e.Category, e.Action = epoch.UnixNano()+ns, "email", "send"
		return e
	}
	related := func(e store.Entry) store.Entry {
		e.Subject, e.Related = "bob", []string{"alice", "carol"}
		return e
	}
	other := func(e store.Entry) store.Entry {
		e.Subject = "bob"
		return e
	}
	shards := map[string][]store.Entry{
		shard1: {at(shard1, 0, 0), at(shard1, 1, 20), at(shard1, 2, 20), related(at(shard1, 3, 40)), at(shard1, 4, 70)},
		shard2: {at(shard2, 0, 10), related(at(shard2, 1, 20)), other(at(shard2, 2, 30)), at(shard2, 3, 40), at(shard2, 4, 60)},
		// A later month, so an engine that partitions by time holds two.
		shard10: {at(shard10, 0, 20), at(shard10, 1, 50), at(shard10, 2, epoch.AddDate(0, 1, 0).UnixNano()-epoch.UnixNano())},
	}
	var want []store.Entry
	for log, es := range shards {
		commit(t, s, log, es, nil)
		for _, e := range es {
			if e.Subject == "alice" || slices.Contains(e.Related, "alice") {
				want = append(want, e)
			}
		}
	}
	// The oversight log is not a shard: a query of the shards never
	// reads it, whatever it holds of alice's.
	o := at(oversight, 0, 20)
	o.Log = oversight
	commit(t, s, oversight, []store.Entry{o}, nil)
	slices.SortFunc(want, store.CompareEntries)
	return want
}

// testQueryEventsShards checks that a query of several logs returns their
// entries as one log's, in (Time, Log, Index) order, and no other log's.
func testQueryEventsShards(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := shardEntries(t, s)
	shards := []string{shard2, shard10, shard1} // the order logs are named in does not matter
	q := store.EventQuery{Logs: shards, People: []string{"alice"}, Categories: []string{"email"}, From: math.MinInt64, To: math.MaxInt64}
	got, err := s.QueryEvents(ctx, q)
	if err != nil {
		t.Fatalf("QueryEvents(%v) = %v", shards, err)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("QueryEvents of three shards (-want +got):\n%s", diff)
	}

	only := func(logs ...string) []store.Entry {
		var out []store.Entry
		for _, e := range all {
			if slices.Contains(logs, e.Log) {
				out = append(out, e)
			}
		}
		return out
	}
	tests := []struct {
		name string
		q    store.EventQuery
		want []store.Entry
	}{
		{"one shard", store.EventQuery{Logs: []string{shard1}}, only(shard1)},
		{"two shards", store.EventQuery{Logs: []string{shard1, shard2}}, only(shard1, shard2)},
		{"a log that holds nothing", store.EventQuery{Logs: []string{shard1, "activity-3"}}, only(shard1)},
		{"a time range across shards", store.EventQuery{Logs: shards, From: epoch.UnixNano() + 20, To: epoch.UnixNano() + 41},
			slices.DeleteFunc(slices.Clone(all), func(e store.Entry) bool {
				return e.Time < epoch.UnixNano()+20 || e.Time > epoch.UnixNano()+40
			})},
		{"only as related", store.EventQuery{Logs: shards, People: []string{"carol"}}, []store.Entry{
			all[slices.IndexFunc(all, func(e store.Entry) bool { return e.Log == shard2 && e.Index == 1 })],
			all[slices.IndexFunc(all, func(e store.Entry) bool { return e.Log == shard1 && e.Index == 3 })],
		}},
		{"after a tie, in the next log", store.EventQuery{Logs: shards, HasAfter: true, AfterTime: epoch.UnixNano() + 20, AfterLog: shard10, AfterIndex: 0},
			slices.DeleteFunc(slices.Clone(all), func(e store.Entry) bool {
				return e.Time < epoch.UnixNano()+20 || e.Time == epoch.UnixNano()+20 && e.Log <= shard10
			})},
		{"after a tie, within a log", store.EventQuery{Logs: shards, HasAfter: true, AfterTime: epoch.UnixNano() + 20, AfterLog: shard1, AfterIndex: 1},
			slices.DeleteFunc(slices.Clone(all), func(e store.Entry) bool {
				return e.Time < epoch.UnixNano()+20 || e.Time == epoch.UnixNano()+20 && e.Log == shard1 && e.Index <= 1
			})},
		{"by index, one shard", store.EventQuery{Logs: []string{shard1}, MinIndex: 1, MaxIndex: 4},
			slices.DeleteFunc(only(shard1), func(e store.Entry) bool { return e.Index < 1 || e.Index >= 4 })},
	}
	for _, tt := range tests {
		q := tt.q
		if q.People == nil {
			q.People = []string{"alice"}
		}
		q.Categories = []string{"email"}
		if q.From == 0 && q.To == 0 {
			q.From, q.To = math.MinInt64, math.MaxInt64
		}
		got, err := s.QueryEvents(ctx, q)
		if err != nil {
			t.Errorf("%s: QueryEvents = %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: QueryEvents (-want +got):\n%s", tt.name, diff)
		}
	}
}

// testQueryEventsShardsPaging checks that paging across shards, with the
// log in the cursor, visits every entry once and in order, for every page
// size: pages end on ties of time between shards and within one.
func testQueryEventsShardsPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	all := shardEntries(t, s)
	for limit := 1; limit <= len(all)+1; limit++ {
		q := store.EventQuery{Logs: []string{shard1, shard2, shard10}, People: []string{"alice"}, Categories: []string{"email"},
			From: math.MinInt64, To: math.MaxInt64, Limit: limit}
		var seen []store.Entry
		for range 2 * len(all) {
			page, err := s.QueryEvents(ctx, q)
			if err != nil {
				t.Fatalf("pages of %d: QueryEvents = %v", limit, err)
			}
			seen = append(seen, page...)
			if len(page) < limit {
				break
			}
			last := page[len(page)-1]
			q.HasAfter, q.AfterTime, q.AfterLog, q.AfterIndex = true, last.Time, last.Log, last.Index
		}
		if diff := cmp.Diff(all, seen); diff != "" {
			t.Errorf("pages of %d across shards (-want +got):\n%s", limit, diff)
		}
	}
}

// testSubjectSummaryShards checks that a summary of several logs sums
// their counts and spans their times, counts a log named twice once, and
// says nothing of logs not named.
func testSubjectSummaryShards(t *testing.T, s store.Store) {
	ctx := t.Context()
	shardEntries(t, s)
	at := func(ns int64) time.Time { return store.FromNanos(epoch.UnixNano() + ns) }
	month := epoch.AddDate(0, 1, 0).UnixNano() - epoch.UnixNano()
	tests := []struct {
		logs []string
		want []store.CategorySummary
	}{
		// As subject only: the entries alice is related to are bob's.
		{[]string{shard1, shard2, shard10}, []store.CategorySummary{{Category: "email", Count: 10, First: at(0), Last: at(month)}}},
		{[]string{shard1, shard2}, []store.CategorySummary{{Category: "email", Count: 7, First: at(0), Last: at(70)}}},
		{[]string{shard2, shard2}, []store.CategorySummary{{Category: "email", Count: 3, First: at(10), Last: at(60)}}},
		{[]string{shard2, oversight}, []store.CategorySummary{{Category: "email", Count: 4, First: at(10), Last: at(60)}}},
		{[]string{"activity-3"}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		got, err := s.SubjectSummary(ctx, tt.logs, "alice")
		if err != nil {
			t.Errorf("SubjectSummary(%v, alice) = %v", tt.logs, err)
			continue
		}
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("SubjectSummary(%v, alice) (-want +got):\n%s", tt.logs, diff)
		}
	}
}
