package bench

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/simulate"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

// tinyQuery is a query benchmark small enough for a test: a few thousand
// events over three weeks.
func tinyQuery(t *testing.T) QueryConfig {
	return QueryConfig{Events: 3000, Days: 21, EmailEvents: 1000, Window: 7, Queries: 4, Clients: 2, Batch: 250,
		Engines: []Engine{SQLite}, Keep: t.TempDir()}
}

// TestQuery runs the query benchmark at a tiny size, checks the report,
// then checks the stores it kept against the simulator's own output,
// counted here, and that a second run reuses them. It asserts nothing
// about speed.
func TestQuery(t *testing.T) {
	cfg := tinyQuery(t)
	var bar bytes.Buffer
	cfg.Progress = NewBar(&bar)
	rep, err := RunQuery(t.Context(), cfg)
	if err != nil {
		t.Fatalf("RunQuery() error = %v", err)
	}
	checkQueryReport(t, rep, SQLite, false)
	if !strings.Contains(bar.String(), "sqlite/events") || !strings.Contains(bar.String(), "sqlite/email") {
		t.Errorf("progress shows no build of both stores:\n%s", bar.String())
	}

	if err := cfg.valid(); err != nil {
		t.Fatal(err)
	}
	specs := corpora(cfg)
	for _, spec := range specs {
		t.Run(spec.name, func(t *testing.T) {
			c, err := openCorpus(t.Context(), cfg, SQLite, spec, true)
			if err != nil {
				t.Fatalf("reopening the kept store: %v", err)
			}
			defer c.close()
			checkAgainstSimulator(t, c, spec, cfg.Window)
		})
	}

	// A second run reuses both stores; different settings are refused.
	again, err := RunQuery(t.Context(), cfg)
	if err != nil {
		t.Fatalf("RunQuery() again error = %v", err)
	}
	checkQueryReport(t, again, SQLite, true)
	other := cfg
	other.Events++
	if _, err := RunQuery(t.Context(), other); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("RunQuery() with other settings on a kept store: error = %v, want one about other settings", err)
	}
}

// TestQueryPostgres runs the tiny query benchmark on PostgreSQL, in
// temporary stores, and checks that the run dropped its databases.
func TestQueryPostgres(t *testing.T) {
	admin := pgtest.Server(t)
	needPSQL(t)
	srv, err := newPGServer(admin)
	if err != nil {
		t.Fatal(err)
	}
	list := func() string {
		out, err := srv.query(t.Context(), "", `SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE datname LIKE 'lbm\_bench\_%'`)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := list()
	cfg := tinyQuery(t)
	cfg.Engines, cfg.DB, cfg.Keep = []Engine{PostgreSQL}, admin, ""
	rep, err := RunQuery(t.Context(), cfg)
	if err != nil {
		t.Fatalf("RunQuery() error = %v", err)
	}
	checkQueryReport(t, rep, PostgreSQL, false)
	if after := list(); after != before {
		t.Errorf("databases lbm_bench_* before the run: %q, after: %q", before, after)
	}
}

func checkQueryReport(t *testing.T, rep *QueryReport, e Engine, reused bool) {
	t.Helper()
	type store struct {
		Name                    string
		Events, Emails, Planted int
		Reused                  bool
	}
	var stores []store
	for _, st := range rep.Stores {
		if st.Engine != string(e) || st.People <= 0 || st.BuildSeconds <= 0 || st.StoreBytes <= 0 || !st.From.Before(st.To) {
			t.Errorf("store %+v: want engine %s and positive people, build time, size and span", st, e)
		}
		stores = append(stores, store{st.Name, st.Events, st.Emails, st.Planted, st.Reused})
	}
	// The e-mail store holds only e-mails, every 20th planted.
	want := []store{{Name: "events", Events: 3000, Reused: reused}, {Name: "email", Events: 1000, Emails: 1000, Planted: 1000 / PlantEvery, Reused: reused}}
	if len(stores) > 0 {
		want[0].Emails = stores[0].Emails // the simulator's mix
		if want[0].Emails < 300 || want[0].Emails > 1200 {
			t.Errorf("events store holds %d e-mails of 3000 events; the simulator writes about a fifth", want[0].Emails)
		}
	}
	if diff := cmp.Diff(want, stores); diff != "" {
		t.Errorf("stores (-want +got):\n%s", diff)
	}
	var got [][2]string
	for _, res := range rep.Results {
		got = append(got, [2]string{res.Kind, res.Path})
		switch {
		case res.Engine != string(e) || res.Queries != 4:
			t.Errorf("%s/%s: engine %s, %d queries; want %s, 4", res.Kind, res.Path, res.Engine, res.Queries, e)
		case res.P50Millis <= 0 || res.P99Millis < res.P50Millis || res.MaxMillis < res.P99Millis:
			t.Errorf("%s/%s: p50 %v, p99 %v, max %v ms: want 0 < p50 <= p99 <= max", res.Kind, res.Path, res.P50Millis, res.P99Millis, res.MaxMillis)
		case res.MeanResults <= 0 || res.MeanResults > res.MeanInScope:
			t.Errorf("%s/%s: %.1f results a query of %.1f in scope: want some, and no more than in scope", res.Kind, res.Path, res.MeanResults, res.MeanInScope)
		}
	}
	wantKinds := [][2]string{{KindMetadata, PathReview}, {KindMetadata, PathStore}, {KindContent, PathReview}, {KindContent, PathStore}, {KindText, PathReview}, {KindText, PathStore}}
	if diff := cmp.Diff(wantKinds, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	var text, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"p99", "metadata", "content", "text", "review", "store", PlantWord} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, text.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"p50_ms"`, `"p99_ms"`, `"max_ms"`, `"mean_results"`, `"build_seconds"`, `"reused"`} {
		if !strings.Contains(js.String(), s) {
			t.Errorf("the JSON lacks %s", s)
		}
	}
}

// checkAgainstSimulator regenerates the store's events with the
// simulator, finds here what one person's review and text search must
// return, and checks that review.Service.Query on the kept store returns
// exactly those events, by their event.id.
func checkAgainstSimulator(t *testing.T, c *corpus, spec corpusSpec, window int) {
	t.Helper()
	lines, err := simulate.Events(simulate.Config{People: spec.people, Days: spec.days, Start: QueryStart, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	var planted []bool
	emails := 0
	for _, l := range lines {
		if len(evs) == spec.events {
			break
		}
		if bytes.Contains(l, []byte(PlantWord)) {
			t.Fatalf("the simulator wrote %q itself: %s", PlantWord, l)
		}
		isEmail := bytes.Contains(l, []byte(`"category":"email"`))
		if spec.email && !isEmail {
			continue
		}
		p := false
		if spec.email {
			p = emails%PlantEvery == 0
			emails++
			if p {
				l = bytes.Replace(l, []byte(`"body":"`), []byte(`"body":"`+PlantWord+" "), 1)
			}
		}
		ev, err := event.Parse(l, source)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
		planted = append(planted, p)
	}
	if len(evs) != spec.events {
		t.Fatalf("the simulator gave %d events, want %d", len(evs), spec.events)
	}

	// The busiest person's first window of days, and their planted e-mails.
	from := QueryStart.AddDate(0, 0, 3)
	to := from.AddDate(0, 0, window)
	counts := map[string]int{}
	for _, ev := range evs {
		counts[ev.Subject()]++
	}
	subject := ""
	for s, n := range counts {
		if subject == "" || n > counts[subject] || n == counts[subject] && s < subject {
			subject = s
		}
	}
	var inScope, withWord []string
	for i, ev := range evs {
		if ev.Time.Before(from) || !ev.Time.Before(to) {
			continue
		}
		if ev.Subject() == subject || slices.Contains(ev.Related(), subject) {
			inScope = append(inScope, ev.ClientID())
		}
		// A text search finds only what the subject's own key sealed.
		if planted[i] && ev.Subject() == subject {
			withWord = append(withWord, ev.ClientID())
		}
	}
	if len(inScope) == 0 || spec.email && len(withWord) == 0 {
		t.Fatalf("%s has %d events and %d planted e-mails in the window: pick another", subject, len(inScope), len(withWord))
	}
	if len(inScope) > 1000 {
		t.Fatalf("%s has %d events in the window, more than a page", subject, len(inScope))
	}

	var pr probe
	pr.person, _ = c.m.Census.person(subject)
	pr.from, pr.to = 3, 3+window
	if n := c.m.Census.inScope(pr.person, pr.from, pr.to); n != len(inScope) {
		t.Errorf("the census counts %d events in scope, the simulator %d", n, len(inScope))
	}
	inv, err := c.investigators(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	pr.investigator = inv[0]
	id, err := c.authorise(t.Context(), pr)
	if err != nil {
		t.Fatal(err)
	}
	ivy, err := c.principal(t.Context(), pr.investigator, identity.RoleInvestigator)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(in review.QueryInput) []string {
		t.Helper()
		in.Justification, in.Limit = justification, 1000
		res, err := c.node.Review.Query(t.Context(), ivy, id, in)
		if err != nil {
			t.Fatalf("Query(%+v) error = %v", in.Filter, err)
		}
		var out []string
		for _, ev := range res.Events {
			for _, f := range ev.Fields {
				if f.Name == "event.id" {
					s, _ := event.StringValue(f.Value)
					out = append(out, s)
				}
			}
		}
		return out
	}
	sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }
	if diff := cmp.Diff(sorted(inScope), sorted(ids(review.QueryInput{}))); diff != "" {
		t.Errorf("metadata query for %s, days 3-%d (-want +got):\n%s", subject, 3+window, diff)
	}
	if !spec.email {
		return
	}
	got := ids(review.QueryInput{Filter: review.Filter{Text: PlantWord, Content: true}})
	if diff := cmp.Diff(sorted(withWord), sorted(got)); diff != "" {
		t.Errorf("text search for %s, days 3-%d (-want +got):\n%s", subject, 3+window, diff)
	}
	if n := c.m.Census.planted(pr.person, pr.from, pr.to); n != len(withWord) {
		t.Errorf("the census counts %d planted e-mails, the simulator %d", n, len(withWord))
	}
}
