package review_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

// The window every test request asks for, and the moment it is decided.
var (
	winFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	winTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t0      = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
)

type env struct {
	t    *testing.T
	ctx  context.Context
	node *server.Node

	mu      sync.Mutex
	now     time.Time
	leaves  []string // actions recorded through the review service, in order
	failing string   // an action the recorder refuses to write
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, ctx: context.Background(), now: t0}
	n, err := server.Open(e.ctx, server.Config{DataDir: t.TempDir(), Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	e.node = n
	people := []store.Person{
		{ID: "ivy", Name: "Ivy", Unit: "ACAC", Rank: "sergeant", Roles: []string{"investigator", "staff"}},
		{ID: "ian", Name: "Ian", Unit: "ACAC", Rank: "sergeant", Roles: []string{"investigator", "staff"}},
		{ID: "sue", Name: "Sue", Unit: "ACAC", Rank: "superintendent", Roles: []string{"authoriser", "staff"}},
		{ID: "sam", Name: "Sam", Unit: "Custody", Rank: "constable", Roles: []string{"staff"}},
		{ID: "una", Name: "Una", Unit: "Response", Rank: "constable", Roles: []string{"staff"}},
		{ID: "ola", Name: "Ola", Unit: "Oversight", Roles: []string{"oversight", "staff"}},
		{ID: "ace", Name: "Ace", Unit: "Command", Rank: "assistant_commissioner", Roles: []string{"authoriser", "staff"}},
		{ID: "leo", Name: "Leo", Unit: "Legal", Roles: []string{"adviser", "staff"}, Adviser: "legal"},
		{ID: "dot", Name: "Dot", Unit: "Information", Roles: []string{"dpo", "staff"}, Adviser: "dpo"},
	}
	for i := range people {
		people[i].Updated = t0
	}
	if _, _, err := n.Store.PutPeople(e.ctx, people); err != nil {
		t.Fatal(err)
	}
	// Wrap the recorder: the tests see what was recorded, and can make
	// one kind of record fail.
	inner := n.Review.Record
	n.Review.Record = func(ctx context.Context, actor, action string, details map[string]any, private map[string]string) (uint64, error) {
		e.mu.Lock()
		fail := e.failing == action
		e.mu.Unlock()
		if fail {
			return 0, errors.New("the oversight log is unavailable")
		}
		idx, err := inner(ctx, actor, action, details, private)
		if err == nil {
			e.mu.Lock()
			e.leaves = append(e.leaves, action)
			e.mu.Unlock()
		}
		return idx, err
	}
	e.ingest(
		// sam's record queries (metadata only in scope) and e-mail (content in scope).
		`{"@timestamp":"2026-10-01T00:00:00Z","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"sam"},"content":{"query":"SMITH JOHN"}}`,
		`{"@timestamp":"2026-10-05T10:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"sam"},"email":{"to":{"address":["una@police.example"]}},"related":{"user":["una"]},"content":{"subject":"the address","body":"kestrel flat 4"}}`,
		// Una writes to sam: in scope, as sam is related; una is pseudonymised.
		`{"@timestamp":"2026-10-06T10:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"una"},"related":{"user":["sam"]},"content":{"body":"meet at kestrel"}}`,
		// Una alone: out of scope, though the text matches.
		`{"@timestamp":"2026-10-07T10:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"una"},"content":{"body":"kestrel kestrel"}}`,
		// sam, one second before and exactly at the end of the window.
		`{"@timestamp":"2026-09-30T23:59:59Z","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"kestrel early"}}`,
		`{"@timestamp":"2026-11-01T00:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"kestrel late"}}`,
		// sam on the web: a category out of scope.
		`{"@timestamp":"2026-10-08T10:00:00Z","event":{"category":"web","action":"visit"},"user":{"id":"sam"}}`,
	)
	return e
}

func (e *env) ingest(lines ...string) {
	var evs []*event.Event
	for i, l := range lines {
		ev, err := event.Parse([]byte(l), "exchange")
		if err != nil {
			e.t.Fatalf("event %d: %v", i, err)
		}
		evs = append(evs, ev)
	}
	if _, err := e.node.Logs["activity"].Writer.Append(e.ctx, evs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) as(id, role string) identity.Principal {
	p, err := e.node.Store.PersonByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return identity.Principal{Kind: identity.KindUser, Subject: id, Role: identity.Role(role), Person: &p}
}

var serial int

// authorise makes a request by ivy about sam, naming ivy, for record
// queries (metadata) and e-mail (content), in the window, authorised by
// sue; or, when it foresees confidential material, advised on by leo
// (legal) and authorised by ace, as the consent policy then needs.
func (e *env) authorise(confidentialKinds ...string) requests.Request {
	serial++
	txt := func(what string) string {
		return fmt.Sprintf("%s for case %d: the checks on one address need explaining by looking at the records", what, serial*7919)
	}
	w := requests.Request{
		Subjects: []string{"sam"}, Investigators: []string{"ivy"},
		Categories: []requests.CategoryScope{{Category: "record_query"}, {Category: "email", Content: true}},
		Mode:       consent.ModeReview, Window: &requests.Window{From: winFrom, To: winTo},
		Purpose: "PREVENT_DETECT_CRIME", Investigation: consent.Misconduct,
		Operation: requests.Operation{Name: "Kestrel", Reference: fmt.Sprintf("OP-%d", serial)}, DPIAReference: "DPIA-1",
		Necessity: txt("necessity"),
		Criteria: map[string]string{"NOTICE": txt("notice"), "EXTENT": txt("extent of it"), "LEGITIMATE_REASON": txt("legitimate"),
			"LESS_INTRUSIVE": txt("less intrusive means"), "CONSEQUENCES": txt("consequences"), "SAFEGUARDS": txt("safeguards"), "REMEDY": txt("remedies")},
		Collateral: requests.Collateral{Level: consent.CollateralLow, Explanation: txt("collateral intrusion")},
	}
	decider := "sue"
	if len(confidentialKinds) > 0 {
		w.Confidential = requests.Confidential{Kinds: confidentialKinds, Explanation: txt("confidential material")}
		decider = "ace"
	}
	ivy := e.as("ivy", "investigator")
	r, err := e.node.Requests.Create(e.ctx, ivy, w)
	if err == nil {
		r, err = e.node.Requests.Submit(e.ctx, ivy, r.ID)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if len(confidentialKinds) > 0 {
		r, err = e.node.Requests.Act(e.ctx, e.as("leo", "adviser"), r.ID, func(by requests.Actor) requests.Action {
			return requests.Advise{By: by, View: txt("the legal view")}
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	views := map[string]string{}
	for id := range w.Criteria {
		views[id] = txt("the authoriser's view on " + strings.ToLower(id))
	}
	r, err = e.node.Requests.Act(e.ctx, e.as(decider, "authoriser"), r.ID, func(by requests.Actor) requests.Action {
		return requests.Decide{By: by, Authorise: true, Reasons: txt("authorised as necessary and proportionate"), Views: views}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

const why = "Checking whether the officer sent the complainant's address to anyone outside the force."

func bodies(res review.Result) []string {
	var out []string
	for _, ev := range res.Events {
		for _, f := range ev.Fields {
			if f.Name == "content.body" {
				out = append(out, string(f.Value))
			}
		}
	}
	return out
}

func TestQueryScoped(t *testing.T) {
	e := newEnv(t)
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why, Filter: review.Filter{Content: true}})
	if err != nil {
		t.Fatal(err)
	}
	// sam's record query, sam's e-mail, una's e-mail naming sam; not una's
	// own, not outside the window, not the web.
	if len(res.Events) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(res.Events), res.Events)
	}
	if res.AccessRecord == 0 || e.leaves[len(e.leaves)-1] != review.ActionQuery {
		t.Errorf("access record %d, leaves %v", res.AccessRecord, e.leaves)
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
	if got := bodies(res); !slices.Equal(got, []string{`"kestrel flat 4"`, `"meet at kestrel"`}) {
		t.Errorf("bodies = %v", got)
	}
	// Metadata only unless content is asked for.
	meta, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why})
	if err != nil || len(bodies(meta)) != 0 || len(meta.Events) != 3 {
		t.Errorf("metadata query = %d events, bodies %v, %v", len(meta.Events), bodies(meta), err)
	}
	// Paging visits the same events.
	var paged []string
	in := review.QueryInput{Justification: why, Limit: 1}
	for range 5 {
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
	if len(paged) != 3 {
		t.Errorf("paging saw %d events, want 3", len(paged))
	}
}

func TestQueryTextClippedToScope(t *testing.T) {
	e := newEnv(t)
	r := e.authorise()
	res, err := e.node.Review.Query(e.ctx, e.as("ivy", "investigator"), r.ID,
		review.QueryInput{Justification: why, Filter: review.Filter{Text: "kestrel", Content: true}})
	if err != nil {
		t.Fatal(err)
	}
	// "kestrel" is in una's own e-mail and outside the window too; only
	// sam's in-window e-mail matches (una's e-mail to sam is sealed under
	// una's key, so a search under sam's finds nothing there).
	if got := bodies(res); !slices.Equal(got, []string{`"kestrel flat 4"`}) {
		t.Errorf("text search found %v", got)
	}
}

func TestQueryRefusalsAreRecorded(t *testing.T) {
	e := newEnv(t)
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	at := func(s string) *time.Time {
		tm, _ := time.Parse(time.RFC3339, s)
		return &tm
	}
	tests := []struct {
		name string
		p    identity.Principal
		id   string
		f    review.Filter
		want func(error) bool
	}{
		{"a subject out of scope", ivy, r.ID, review.Filter{Subjects: []string{"una"}}, isOutOfScope},
		{"one second before the window", ivy, r.ID, review.Filter{From: at("2026-09-30T23:59:59Z")}, isOutOfScope},
		{"one second after the window", ivy, r.ID, review.Filter{To: at("2026-11-01T00:00:01Z")}, isOutOfScope},
		{"a category out of scope", ivy, r.ID, review.Filter{Categories: []string{"web"}}, isOutOfScope},
		{"content under metadata only", ivy, r.ID, review.Filter{Categories: []string{"record_query"}, Content: true}, isOutOfScope},
		{"another investigator", e.as("ian", "investigator"), r.ID, review.Filter{}, func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"oversight reading content", e.as("ola", "oversight"), r.ID, review.Filter{Content: true}, func(err error) bool { return errors.Is(err, review.ErrNotNamed) }},
		{"no such request", ivy, "nope", review.Filter{}, func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.leaves)
			res, err := e.node.Review.Query(e.ctx, tt.p, tt.id, review.QueryInput{Justification: why, Filter: tt.f})
			if !tt.want(err) || len(res.Events) != 0 {
				t.Fatalf("Query = %d events, %v", len(res.Events), err)
			}
			if len(e.leaves) != before+1 || e.leaves[before] != review.ActionRefused {
				t.Errorf("leaves after the refusal: %v, want one %s", e.leaves[before:], review.ActionRefused)
			}
		})
	}
	// A thin justification is bad input, not an attempt: refused, not recorded.
	before := len(e.leaves)
	if _, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: "."}); err == nil || len(e.leaves) != before {
		t.Errorf("a thin justification = %v, %d leaves", err, len(e.leaves)-before)
	}
	// Cancelled, and expired: refused and recorded.
	_, err := e.node.Requests.Act(e.ctx, ivy, r.ID, func(by requests.Actor) requests.Action {
		return requests.Cancel{By: by, Reasons: "The complaint was withdrawn and there is nothing more to look at here."}
	})
	if err != nil {
		t.Fatal(err)
	}
	var ie *review.InactiveError
	if _, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why}); !errors.As(err, &ie) || e.leaves[len(e.leaves)-1] != review.ActionRefused {
		t.Errorf("query of a cancelled authorisation = %v", err)
	}
	r2 := e.authorise()
	e.mu.Lock()
	e.now = r2.ExpiresAt
	e.mu.Unlock()
	if _, err := e.node.Review.Query(e.ctx, ivy, r2.ID, review.QueryInput{Justification: why}); !errors.As(err, &ie) || e.leaves[len(e.leaves)-1] != review.ActionRefused {
		t.Errorf("query at the expiry = %v", err)
	}
}

func isOutOfScope(err error) bool {
	var oe *review.OutOfScopeError
	return errors.As(err, &oe)
}

func TestPseudonymsDoNotLinkAcrossAuthorisations(t *testing.T) {
	e := newEnv(t)
	pseudonym := func(r requests.Request) string {
		res, err := e.node.Review.Query(e.ctx, e.as("ivy", "investigator"), r.ID, review.QueryInput{Justification: why})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range res.Events {
			for _, f := range ev.Fields {
				if f.Name == "related.user" && f.Pseudonymised {
					return string(f.Value)
				}
			}
		}
		t.Fatal("no pseudonymised related.user")
		return ""
	}
	a, b := pseudonym(e.authorise()), pseudonym(e.authorise())
	if a == b {
		t.Errorf("una is %s under both authorisations", a)
	}
}

func TestAccessRecordFailureShowsNothing(t *testing.T) {
	e := newEnv(t)
	r := e.authorise()
	e.failing = review.ActionQuery
	res, err := e.node.Review.Query(e.ctx, e.as("ivy", "investigator"), r.ID,
		review.QueryInput{Justification: why, Filter: review.Filter{Content: true}})
	if err == nil || len(res.Events) != 0 || res.AccessRecord != 0 {
		t.Fatalf("with the access record failing: %d events, record %d, err %v", len(res.Events), res.AccessRecord, err)
	}
}
