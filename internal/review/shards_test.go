package review_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/tlog"
)

// shardedEnv is newEnv with the activity log sharded as several nodes
// shard it: activity-1 and activity-2, each its own log with its own
// writer, key and checkpoints. The review service reads the shards and
// the oversight log; the node's own "activity" log, where newEnv put its
// events, is not among its logs, so nothing of it shows.
type shardedEnv struct {
	*env
	shards  map[string]*ingest.Writer
	proofs  map[string]review.ProofLog
	failing error // when set, listing the logs fails with it
}

func newShardedEnv(t *testing.T) *shardedEnv {
	e := &shardedEnv{env: newEnv(t), shards: map[string]*ingest.Writer{}, proofs: map[string]review.ProofLog{}}
	e.addShard("activity-1")
	e.addShard("activity-2")
	o := e.node.Logs["oversight"]
	oversight := review.ProofLog{Origin: o.Origin, VerifierKey: o.VerifierKey, Publish: o.Publisher.Publish}
	e.node.Review.Logs = func(context.Context) (map[string]review.ProofLog, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.failing != nil {
			return nil, e.failing
		}
		logs := map[string]review.ProofLog{"oversight": oversight}
		for name, p := range e.proofs {
			logs[name] = p
		}
		return logs, nil
	}
	return e
}

// addShard starts a shard of the activity log, as a node joining would.
func (e *shardedEnv) addShard(name string) {
	skey, vkey, err := tlog.GenerateKey("lbm.local/" + name)
	if err != nil {
		e.t.Fatal(err)
	}
	signer, err := tlog.NewSigner(skey)
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := ingest.NewWriter(ingest.Config{Log: name, Store: e.node.Store, Sealer: &record.Sealer{Log: name, Ring: e.node.Ring}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { w.Close() })
	pub := &tlog.Publisher{Log: name, Signer: signer, Store: e.node.Store, Now: e.clock}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.shards[name] = w
	e.proofs[name] = review.ProofLog{Origin: signer.Origin(), VerifierKey: vkey, Publish: pub.Publish}
}

// into appends events to one shard.
func (e *shardedEnv) into(log string, lines ...string) {
	e.t.Helper()
	var evs []*event.Event
	for i, l := range lines {
		ev, err := event.Parse([]byte(l), "exchange")
		if err != nil {
			e.t.Fatalf("event %d: %v", i, err)
		}
		evs = append(evs, ev)
	}
	if _, err := e.shards[log].Append(e.ctx, evs); err != nil {
		e.t.Fatal(err)
	}
}

func mail(at, from, body string, related ...string) string {
	rel := ""
	if len(related) > 0 {
		rel = `,"related":{"user":["` + strings.Join(related, `","`) + `"]}`
	}
	return `{"@timestamp":"` + at + `","event":{"category":"email","action":"send"},"user":{"id":"` + from + `"}` + rel + `,"content":{"body":"` + body + `"}}`
}

// ingestShards gives sam's events to both shards, interleaved in time,
// with a tie on time across them, and events out of scope in each.
func (e *shardedEnv) ingestShards() {
	e.into("activity-1",
		mail("2026-10-02T10:00:00Z", "sam", "one kestrel"),
		mail("2026-10-04T10:00:00Z", "sam", "three"),
		mail("2026-10-06T10:00:00Z", "sam", "five-a"),
		`{"@timestamp":"2026-10-20T10:00:00Z","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"sam"},"content":{"query":"SMITH JOHN"}}`,
		// Out of scope: the web, and one second before the window.
		`{"@timestamp":"2026-10-10T10:00:00Z","event":{"category":"web","action":"visit"},"user":{"id":"sam"}}`,
		mail("2026-09-30T23:59:59Z", "sam", "kestrel early"),
	)
	e.into("activity-2",
		mail("2026-10-03T10:00:00Z", "sam", "two"),
		// una writes to sam, at the same second as five-a in the other shard.
		mail("2026-10-06T10:00:00Z", "una", "five-b", "sam"),
		mail("2026-10-08T10:00:00Z", "sam", "six kestrel"),
		// Out of scope: una alone, and the window's end.
		mail("2026-10-09T10:00:00Z", "una", "kestrel una"),
		mail("2026-11-01T00:00:00Z", "sam", "kestrel late"),
	)
}

// inScope is what a query of the whole scope with content shows, in
// order: the shards merged by time, activity-1 first on a tie.
var inScope = []string{`"one kestrel"`, `"two"`, `"three"`, `"five-a"`, `"five-b"`, `"six kestrel"`, ``}

// shown is each event's body ("" for none) and log.
func shown(evs []review.ShownEvent) (bodies, logs []string) {
	for _, ev := range evs {
		body := ""
		for _, f := range ev.Fields {
			if f.Name == "content.body" {
				body = string(f.Value)
			}
		}
		bodies, logs = append(bodies, body), append(logs, ev.Log)
	}
	return bodies, logs
}

func TestShardsQuery(t *testing.T) {
	e := newShardedEnv(t)
	e.ingestShards()
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why, Filter: review.Filter{Content: true}})
	if err != nil {
		t.Fatal(err)
	}
	bodies, logs := shown(res.Events)
	if !slices.Equal(bodies, inScope) {
		t.Errorf("bodies = %v, want %v", bodies, inScope)
	}
	if want := []string{"activity-1", "activity-2", "activity-1", "activity-1", "activity-2", "activity-2", "activity-1"}; !slices.Equal(logs, want) {
		t.Errorf("logs = %v, want %v", logs, want)
	}
	for i := 1; i < len(res.Events); i++ {
		if res.Events[i].Time.Before(res.Events[i-1].Time) {
			t.Errorf("event %d (%s) before event %d (%s)", i, res.Events[i].Time, i-1, res.Events[i-1].Time)
		}
	}
	for _, ev := range res.Events {
		for _, f := range ev.Fields {
			if f.Name == "content.query" {
				t.Error("content of a metadata-only category was shown")
			}
			if strings.Contains(string(f.Value), `"una`) {
				t.Errorf("una, not a subject, shown by name in %s: %s", f.Name, f.Value)
			}
		}
	}

	// Pages of every size visit the same events once each, in order,
	// across the shards and across the tie.
	var all []string
	for _, ev := range res.Events {
		all = append(all, ev.ID)
	}
	for limit := 1; limit <= len(all); limit++ {
		var paged []string
		in := review.QueryInput{Justification: why, Limit: limit}
		for range len(all) + 1 {
			page, err := e.node.Review.Query(e.ctx, ivy, r.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page.Events {
				paged = append(paged, ev.ID)
			}
			if page.Next == "" {
				break
			}
			in.After = page.Next
		}
		if !slices.Equal(paged, all) {
			t.Errorf("pages of %d visited %v, want %v", limit, paged, all)
		}
	}

	// Clipped to the window on both shards.
	from, to := time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 7, 0, 0, 0, 0, time.UTC)
	res, err = e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why, Filter: review.Filter{Content: true, From: &from, To: &to}})
	if bodies, _ := shown(res.Events); err != nil || !slices.Equal(bodies, []string{`"three"`, `"five-a"`, `"five-b"`}) {
		t.Errorf("a narrower period = %v, %v", bodies, err)
	}
	// A text search finds the text in each shard, and only in scope.
	res, err = e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why, Filter: review.Filter{Content: true, Text: "kestrel"}})
	if bodies, logs := shown(res.Events); err != nil || !slices.Equal(bodies, []string{`"one kestrel"`, `"six kestrel"`}) || !slices.Equal(logs, []string{"activity-1", "activity-2"}) {
		t.Errorf("text search = %v in %v, %v", bodies, logs, err)
	}
}

func TestShardsQueryRefusals(t *testing.T) {
	e := newShardedEnv(t)
	e.ingestShards()
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	at := func(s string) *time.Time {
		tm, _ := time.Parse(time.RFC3339, s)
		return &tm
	}
	for _, tt := range []struct {
		name string
		f    review.Filter
	}{
		{"a subject out of scope", review.Filter{Subjects: []string{"una"}}},
		{"a category out of scope", review.Filter{Categories: []string{"web"}}},
		{"before the window", review.Filter{From: at("2026-09-30T23:59:59Z")}},
		{"content under metadata only", review.Filter{Categories: []string{"record_query"}, Content: true}},
	} {
		before := len(e.leaves)
		res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why, Filter: tt.f})
		if !isOutOfScope(err) || len(res.Events) != 0 || len(e.leaves) != before+1 || e.leaves[before] != review.ActionRefused {
			t.Errorf("%s: %d events, %v, leaves %v", tt.name, len(res.Events), err, e.leaves[before:])
		}
	}
	// Every other role, and an investigator the request does not name,
	// is refused whatever the shards hold.
	for _, p := range []struct{ id, role string }{{"ian", "investigator"}, {"ola", "oversight"}, {"sue", "authoriser"}, {"dot", "dpo"}, {"sam", "staff"}} {
		res, err := e.node.Review.Query(e.ctx, e.as(p.id, p.role), r.ID, review.QueryInput{Justification: why})
		if err == nil || len(res.Events) != 0 {
			t.Errorf("%s as %s: %d events, %v; want refused", p.id, p.role, len(res.Events), err)
		}
	}
	// A cursor of the form before shards cannot say which log it is in.
	before := len(e.leaves)
	var fe requests.FieldErrors
	for _, after := range []string{"1790000000000000000.3", "1.activity-1", "1.Activity-1.3", "1.activity.1.2", "x.activity-1.3", "1.activity-1.-3",
		"1.activity-3.3", "1.oversight.3", "1.activity.3"} { // the last three: logs the query does not read
		if _, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why, After: after}); !errors.As(err, &fe) {
			t.Errorf("Query(after %q) = %v, want a field error", after, err)
		}
	}
	if len(e.leaves) != before {
		t.Errorf("a malformed cursor was recorded: %v", e.leaves[before:])
	}
	// Receipts page the oversight log alone.
	if _, _, err := e.node.Review.Receipts(e.ctx, ivy, t0.AddDate(0, -1, 0), t0.AddDate(0, 1, 0), "1.activity-1.3", 10); !errors.As(err, &fe) {
		t.Errorf("Receipts(after a cursor of activity-1) = %v, want a field error", err)
	}
	if _, _, err := e.node.Review.Receipts(e.ctx, ivy, t0.AddDate(0, -1, 0), t0.AddDate(0, 1, 0), "1.oversight.3", 10); err != nil {
		t.Errorf("Receipts(after a cursor of the oversight log) = %v", err)
	}
	// If the logs cannot be listed, nothing is shown and no access record
	// claims otherwise.
	e.mu.Lock()
	e.failing = errors.New("the node's logs are unavailable")
	e.mu.Unlock()
	before = len(e.leaves)
	if res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why}); err == nil || len(res.Events) != 0 {
		t.Errorf("with the logs unlisted: %d events, %v", len(res.Events), err)
	}
	if _, err := e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{})); err == nil {
		t.Errorf("export with the logs unlisted = nil error")
	}
	if len(e.leaves) != before {
		t.Errorf("with the logs unlisted, recorded %v", e.leaves[before:])
	}
}

func TestShardsExport(t *testing.T) {
	e := newShardedEnv(t)
	e.ingestShards()
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	ex, err := e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{Content: true}))
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyZip(t, ex.Zip)
	if len(rep.Events) != len(inScope) || ex.Events != len(inScope) || e.leaves[len(e.leaves)-1] != review.ActionExport {
		t.Fatalf("export: %d events in the bundle, %d exported, leaves %v", len(rep.Events), ex.Events, e.leaves)
	}
	if len(rep.Logs) != 2 {
		t.Fatalf("the bundle is of %d logs, want both shards: %+v", len(rep.Logs), rep.Logs)
	}
	for _, l := range rep.Logs {
		if l.VerifierKey != e.proofs[l.Log].VerifierKey {
			t.Errorf("log %s is signed by %s, not the shard's key", l.Log, l.VerifierKey)
		}
	}
	count := map[string]int{}
	for _, ev := range rep.Events {
		count[ev.Log]++
	}
	if count["activity-1"] != 4 || count["activity-2"] != 3 {
		t.Errorf("events by log = %v, want 4 of activity-1 and 3 of activity-2", count)
	}
	if err := rep.SignedBy(e.proofs["activity-1"].VerifierKey, e.proofs["activity-2"].VerifierKey); err != nil {
		t.Errorf("SignedBy(the shards' keys) = %v", err)
	}
	zs := unzipped(t, ex.Zip)
	for _, leak := range []string{"SMITH JOHN", `\"una\"`, "kestrel una", "kestrel early", "kestrel late"} {
		if strings.Contains(zs, leak) {
			t.Errorf("the bundle holds %q", leak)
		}
	}
	// The disclosure record names the checkpoint of each shard.
	ens, err := e.node.Store.Entries(e.ctx, "oversight", ex.AccessRecord, ex.AccessRecord+1)
	if err != nil || len(ens) != 1 {
		t.Fatalf("the disclosure record: %v", err)
	}
	o, err := e.node.Opener.OpenMetadata(e.ctx, ens[0])
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := o.Event.Field("lbm.checkpoint_sizes"); !ok || string(v) != `"activity-1:6 activity-2:5"` {
		t.Errorf("lbm.checkpoint_sizes = %s (%v)", v, ok)
	}

	// Named events, one of each shard.
	res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	ex, err = e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{}, res.Events[0].ID, res.Events[1].ID))
	if err != nil {
		t.Fatal(err)
	}
	if rep := verifyZip(t, ex.Zip); len(rep.Events) != 2 || rep.Events[0].Log == rep.Events[1].Log {
		t.Errorf("a bundle of one event of each shard = %+v", rep.Events)
	}
	// Of one shard only: a bundle of one log, in the layout of one.
	ex, err = e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{}, res.Events[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if rep := verifyZip(t, ex.Zip); rep.Log != "activity-1" || len(rep.Logs) != 1 || rep.VerifierKey != e.proofs["activity-1"].VerifierKey {
		t.Errorf("a bundle of one shard = log %q, %d logs, key %s", rep.Log, len(rep.Logs), rep.VerifierKey)
	}
}

func TestShardsSubjectAccess(t *testing.T) {
	e := newShardedEnv(t)
	e.ingestShards()
	logs, err := e.node.Review.ActivityLogs(e.ctx)
	if err != nil || !slices.Equal(logs, []string{"activity-1", "activity-2"}) {
		t.Fatalf("ActivityLogs = %v, %v", logs, err)
	}
	sums, err := e.node.Store.SubjectSummary(e.ctx, logs, "sam")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, s := range sums {
		got[s.Category] = s.Count
	}
	if got["email"] != 7 || got["record_query"] != 1 || got["web"] != 1 {
		t.Errorf("summary of sam over the shards = %v", got)
	}
	ex, err := e.node.Review.ExportSubjectAccess(e.ctx, "dot", review.SubjectAccessScope{Request: "sar1", Person: "sam",
		Categories: []string{"email", "record_query", "web"}, RequestJSON: []byte(`{"id":"sar1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyZip(t, ex.Zip)
	count := map[string]int{}
	for _, ev := range rep.Events {
		count[ev.Log]++
	}
	// sam's own, whatever the category and time: six of activity-1's and
	// three of activity-2's; never una's e-mail to sam.
	if count["activity-1"] != 6 || count["activity-2"] != 3 || len(rep.Logs) != 2 {
		t.Errorf("subject access events by log = %v, logs %+v", count, rep.Logs)
	}
	if zs := unzipped(t, ex.Zip); strings.Contains(zs, "five-b") || strings.Contains(zs, "kestrel una") {
		t.Error("the answer holds another person's e-mail")
	}
	// Nothing to give: the answer proves its emptiness in both shards.
	ex, err = e.node.Review.ExportSubjectAccess(e.ctx, "dot", review.SubjectAccessScope{Request: "sar2", Person: "ola", RequestJSON: []byte(`{"id":"sar2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if rep := verifyZip(t, ex.Zip); len(rep.Events) != 0 || len(rep.Logs) != 2 {
		t.Errorf("an empty answer = %d events of %d logs", len(rep.Events), len(rep.Logs))
	}
}

func TestShardsFeed(t *testing.T) {
	e := newShardedEnv(t)
	fastFeeds(e.env)
	e.ingestShards()
	r := e.authoriseLive()
	ivy := e.as("ivy", "investigator")
	at := func(d time.Duration) string { return stamp(r.AuthorisedAt.Add(d)) }
	// In scope, but in the shards before the feed opens.
	e.into("activity-1", mail(at(time.Minute), "sam", "before one"))
	e.into("activity-2", mail(at(2*time.Minute), "sam", "before two"))
	feed, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why, Content: true})
	if err != nil {
		t.Fatal(err)
	}
	s := e.follow(ivy, feed.ID)
	e.into("activity-2", mail(at(10*time.Minute), "sam", "live two"))
	e.into("activity-1", mail(at(11*time.Minute), "sam", "live one"), mail(at(12*time.Minute), "una", "live una"))
	got := s.events(2)
	bodies, logs := shown(got)
	slices.Sort(bodies)
	slices.Sort(logs)
	if !slices.Equal(bodies, []string{`"live one"`, `"live two"`}) || !slices.Equal(logs, []string{"activity-1", "activity-2"}) {
		t.Errorf("the feed delivered %v from %v", bodies, logs)
	}
	// A shard that starts after the feed opened is followed from its
	// start: all it holds arrived after the feed opened.
	e.addShard("activity-3")
	e.into("activity-3", mail(at(13*time.Minute), "sam", "live three"))
	got = s.events(1)
	if bodies, logs := shown(got); !slices.Equal(bodies, []string{`"live three"`}) || logs[0] != "activity-3" {
		t.Errorf("the new shard's event = %v from %v", bodies, logs)
	}
	// The events in the shards before the feed opened never come: the
	// next one is the next to arrive.
	e.into("activity-1", mail(at(14*time.Minute), "sam", "live last"))
	if bodies, _ := shown(s.events(1)); !slices.Equal(bodies, []string{`"live last"`}) {
		t.Errorf("the last event = %v", bodies)
	}
}

// TestShardsNoActivityLog: a service that knows no activity log refuses
// to read, rather than showing an empty result as if there were nothing.
func TestShardsNoActivityLog(t *testing.T) {
	e := newShardedEnv(t)
	r := e.authorise()
	e.node.Review.Logs = func(context.Context) (map[string]review.ProofLog, error) {
		return map[string]review.ProofLog{"oversight": {}}, nil
	}
	if _, err := e.node.Review.Query(e.ctx, e.as("ivy", "investigator"), r.ID, review.QueryInput{Justification: why}); err == nil ||
		!strings.Contains(err.Error(), "no activity log") {
		t.Errorf("Query with no activity log = %v", err)
	}
	if _, err := e.node.Review.ActivityLogs(e.ctx); err == nil {
		t.Error("ActivityLogs with none = nil error")
	}
}
