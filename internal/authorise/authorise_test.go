package authorise_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// authorised takes a fresh request about sam from draft to active: ivy
// drafts and submits, sue (a Superintendent) authorises.
func authorised(t *testing.T, e *env, rng *rand.Rand) requests.Request {
	t.Helper()
	r, err := e.svc.Create(e.ctx, e.as(t, "ivy", "investigator"), written(rng, "sam"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err = e.svc.Submit(e.ctx, e.as(t, "ivy", "investigator"), r.ID); err != nil {
		t.Fatal(err)
	}
	if r.State != requests.Submitted {
		t.Fatalf("submitted request in state %s, want submitted", r.State)
	}
	r, err = e.svc.Act(e.ctx, e.as(t, "sue", "authoriser"), r.ID, func(by requests.Actor) requests.Action {
		return requests.Decide{By: by, Authorise: true, Reasons: phrase(rng), Views: views(rng)}
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFlowRecordsEveryTransition(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(1, 2))
	r := authorised(t, e, rng)
	if r.State != requests.Active || !r.Active(e.clock()) || r.AuthorisedBy != "sue" {
		t.Fatalf("authorised request = state %s, by %q", r.State, r.AuthorisedBy)
	}
	if r.Reference != "ACAC-2026-0001" || r.Requester != "ivy" {
		t.Errorf("reference %q requester %q", r.Reference, r.Requester)
	}
	// The leaves: created, then one per transition, in order, each named
	// in the history by its index.
	var actions []string
	for _, l := range e.leaves {
		actions = append(actions, l.action)
		if l.details["request"] != r.ID {
			t.Errorf("leaf %s names request %v", l.action, l.details["request"])
		}
		for _, secret := range []string{"subjects", "reasons", "necessity"} {
			if _, ok := l.details[secret]; ok {
				t.Errorf("leaf %s carries %s, which administrators must not read", l.action, secret)
			}
		}
	}
	if want := []string{"request_created", "request_submit", "request_decision"}; !slices.Equal(actions, want) {
		t.Fatalf("leaves = %v, want %v", actions, want)
	}
	for i, h := range r.History {
		if h.OversightIndex != e.leaves[i+1].index {
			t.Errorf("history[%d] (%s) oversight_index = %d, want %d", i, h.Action, h.OversightIndex, e.leaves[i+1].index)
		}
	}
	// The stored request is what Act returned.
	got, err := e.svc.Get(e.ctx, e.as(t, "ola", "oversight"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != r.State || len(got.History) != len(r.History) {
		t.Errorf("stored request differs: %s with %d transitions", got.State, len(got.History))
	}
	// The decision was announced to the requester and investigators, and
	// the submission to authorisers who may decide it, never to sam.
	for _, n := range e.notices {
		if n.notice.Request != r.ID || !slices.Equal(n.subjects, []string{"sam"}) {
			t.Errorf("notice %+v does not name the request and its subjects", n)
		}
		if slices.Contains(n.to, "sam") {
			t.Errorf("notice %s sent to the subject", n.notice.Kind)
		}
		switch n.notice.Kind {
		case authorise.NoticeDecide:
			if !slices.Equal(n.to, []string{"cal", "sue"}) {
				t.Errorf("decide notice to %v, want the Superintendents and above [cal sue]", n.to)
			}
		case authorise.NoticeDecision:
			if !slices.Equal(n.to, []string{"ivy"}) {
				t.Errorf("decision notice to %v, want [ivy]", n.to)
			}
		}
	}
}

func TestRulesNoPathCanBypass(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(3, 4))
	ivy := e.as(t, "ivy", "investigator")
	r, err := e.svc.Create(e.ctx, ivy, written(rng, "sam"))
	if err != nil {
		t.Fatal(err)
	}
	decide := func(by requests.Actor) requests.Action {
		return requests.Decide{By: by, Authorise: true, Reasons: phrase(rng), Views: views(rng)}
	}
	// Deciding a draft is impossible, whoever tries.
	if _, err := e.svc.Act(e.ctx, e.as(t, "sue", "authoriser"), r.ID, decide); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an authoriser acting on a draft = %v, want not found (drafts are the requester's)", err)
	}
	if r, err = e.svc.Submit(e.ctx, ivy, r.ID); err != nil {
		t.Fatal(err)
	}
	leaves := len(e.leaves)
	tests := []struct {
		name string
		who  string
		role string
		rule requests.Rule
	}{
		{"the requester", "ivy", "investigator", requests.RuleSelf},
		{"an authoriser below the rank", "ina", "authoriser", requests.RuleRank},
		{"a sergeant", "sgt", "authoriser", requests.RuleRank},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Act(e.ctx, e.as(t, tt.who, tt.role), r.ID, decide)
			var re *requests.RuleError
			if !errors.As(err, &re) || re.Rule != tt.rule {
				t.Fatalf("decision by %s = %v, want rule %s", tt.who, err, tt.rule)
			}
		})
	}
	// A subject never even sees the request, whatever role they act in.
	if _, err := e.svc.Get(e.ctx, e.as(t, "sam", "staff"), r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the subject reading the request = %v, want not found", err)
	}
	// A thin reason is refused, naming the field.
	_, err = e.svc.Act(e.ctx, e.as(t, "sue", "authoriser"), r.ID, func(by requests.Actor) requests.Action {
		return requests.Decide{By: by, Authorise: true, Reasons: ".", Views: views(rng)}
	})
	var re *requests.RuleError
	if !errors.As(err, &re) || re.Rule != requests.RuleJustification || re.Field != "reasons" {
		t.Errorf("decision with reasons \".\" = %v, want a justification refusal of reasons", err)
	}
	if len(e.leaves) != leaves {
		t.Errorf("refused actions wrote %d leaves", len(e.leaves)-leaves)
	}
	st, err := e.node.Store.RequestByID(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != string(requests.Submitted) {
		t.Errorf("after refusals the request is %s, want submitted", st.State)
	}
}

func TestVisibility(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(5, 6))
	r := authorised(t, e, rng)
	tests := []struct {
		who, role string
		sees      bool
	}{
		{"ivy", "investigator", true},
		{"ian", "investigator", false}, // not named on it
		{"sue", "authoriser", true},
		{"ola", "oversight", true},
		{"lee", "adviser", false}, // no legal view was needed
		{"dee", "dpo", false},
		{"sam", "staff", false},
		{"tom", "staff", false},
	}
	for _, tt := range tests {
		_, err := e.svc.Get(e.ctx, e.as(t, tt.who, tt.role), r.ID)
		if sees := err == nil; sees != tt.sees {
			t.Errorf("%s as %s sees the request: %v (err %v), want %v", tt.who, tt.role, sees, err, tt.sees)
		}
		list, err := e.svc.List(e.ctx, e.as(t, tt.who, tt.role), "", "")
		var ve *authorise.ViewError
		if err != nil && !errors.As(err, &ve) {
			t.Fatal(err)
		}
		listed := slices.ContainsFunc(list, func(x requests.Request) bool { return x.ID == r.ID })
		if listed && !tt.sees {
			t.Errorf("%s as %s lists a request they may not see", tt.who, tt.role)
		}
	}
	// The subject, made an authoriser, still never sees it.
	p := e.as(t, "sam", "authoriser")
	if _, err := e.svc.Get(e.ctx, p, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the subject acting as an authoriser reads the request: %v", err)
	}
}

func TestLogFailureChangesNothing(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(7, 8))
	ivy := e.as(t, "ivy", "investigator")
	r, err := e.svc.Create(e.ctx, ivy, written(rng, "sam"))
	if err != nil {
		t.Fatal(err)
	}
	e.failRecord = true
	if _, err := e.svc.Submit(e.ctx, ivy, r.ID); err == nil {
		t.Fatal("submit with the oversight log down succeeded")
	}
	if _, err := e.svc.Create(e.ctx, ivy, written(rng, "tom")); err == nil {
		t.Fatal("create with the oversight log down succeeded")
	}
	st, err := e.node.Store.RequestByID(e.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != string(requests.Draft) || st.Version != 1 {
		t.Errorf("after a failed log write the request is %s at version %d", st.State, st.Version)
	}
	all, err := e.node.Store.ListRequests(e.ctx, store.RequestQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Errorf("%d requests stored, want only the first", len(all))
	}
}

// conflictStore refuses every update, as when another process changed the
// request after this one read it.
type conflictStore struct{ store.Store }

func (conflictStore) UpdateRequest(ctx context.Context, r store.StoredRequest) error {
	return store.ErrConflict
}

func TestStoreConflictVoidsTheLeaf(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(9, 10))
	ivy := e.as(t, "ivy", "investigator")
	r, err := e.svc.Create(e.ctx, ivy, written(rng, "sam"))
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Store = conflictStore{e.node.Store}
	if _, err := e.svc.Submit(e.ctx, ivy, r.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("submit on a conflicting store = %v, want ErrConflict", err)
	}
	n := len(e.leaves)
	if n < 2 || e.leaves[n-2].action != "request_submit" || e.leaves[n-1].action != "request_change_void" ||
		e.leaves[n-1].details["void_index"] != e.leaves[n-2].index {
		t.Errorf("leaves after the conflict: %+v, want request_submit then request_change_void naming it", e.leaves)
	}
}

func TestDeadlines(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(11, 12))
	r := authorised(t, e, rng)
	// Nothing moves before the review date.
	e.advance(29 * 24 * time.Hour)
	if n, err := e.svc.Sweep(e.ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the review date = %d, %v", n, err)
	}
	e.advance(2 * 24 * time.Hour)
	if n, err := e.svc.Sweep(e.ctx); err != nil || n != 1 {
		t.Fatalf("sweep after the review date = %d, %v; want 1", n, err)
	}
	got, err := e.svc.Get(e.ctx, e.as(t, "ivy", "investigator"), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != requests.ReviewDue || !got.Active(e.clock()) {
		t.Fatalf("after the review date: %s, active %v", got.State, got.Active(e.clock()))
	}
	last := got.History[len(got.History)-1]
	if last.Actor != requests.System || last.OversightIndex == 0 {
		t.Errorf("the review-due transition = %+v, want lbm's, with a leaf", last)
	}
	// Past expiry: expired, and not active even before a sweep.
	e.advance(60 * 24 * time.Hour)
	got, _ = e.svc.Get(e.ctx, e.as(t, "ivy", "investigator"), r.ID)
	if got.Active(e.clock()) {
		t.Fatal("active past its expiry")
	}
	if _, err := e.svc.Sweep(e.ctx); err != nil {
		t.Fatal(err)
	}
	st, _ := e.node.Store.RequestByID(e.ctx, r.ID)
	if st.State != string(requests.Expired) || !st.Deadline.IsZero() {
		t.Errorf("stored after expiry: %s, deadline %v", st.State, st.Deadline)
	}
	// Setting the clock back revives nothing, and no action can be timed
	// before what is recorded.
	e.advance(-80 * 24 * time.Hour)
	got, _ = e.svc.Get(e.ctx, e.as(t, "ivy", "investigator"), r.ID)
	if got.State != requests.Expired || got.Active(e.clock()) {
		t.Errorf("with the clock set back the request is %s, active %v", got.State, got.Active(e.clock()))
	}
	_, err = e.svc.Act(e.ctx, e.as(t, "sue", "authoriser"), r.ID, func(by requests.Actor) requests.Action {
		return requests.Renew{By: by, Reasons: phrase(rng)}
	})
	if err == nil {
		t.Error("renewal of an expired authorisation with the clock set back succeeded")
	}
	e.advance(80 * 24 * time.Hour)
	// A second sweep changes nothing and writes no leaf.
	n := len(e.leaves)
	if moved, err := e.svc.Sweep(e.ctx); err != nil || moved != 0 || len(e.leaves) != n {
		t.Errorf("a second sweep moved %d, wrote %d leaves (%v)", moved, len(e.leaves)-n, err)
	}
}
