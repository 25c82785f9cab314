package review_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
)

const channels = `channels:
  - kind: legal_privilege
    name: Force Solicitor
    addresses: [legal@police.example]
markers:
  - kind: legal_privilege
    phrase: legally privileged
`

// heldBackEnv is newEnv with the confidential channels configured and two
// of sam's e-mails in the window that they catch: one to the solicitor,
// one marked in its body.
func heldBackEnv(t *testing.T) *env {
	e := newEnv(t)
	m, err := confidential.Parse([]byte(channels))
	if err != nil {
		t.Fatal(err)
	}
	e.node.Review.Confidential = m
	e.ingest(
		`{"@timestamp":"2026-10-10T10:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"sam"},"email":{"to":{"address":["legal@police.example"]}},"content":{"subject":"my hearing","body":"advice sought on kestrel"}}`,
		`{"@timestamp":"2026-10-11T10:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"LEGALLY PRIVILEGED: notes for counsel on kestrel"}}`,
	)
	return e
}

func heldIDs(res review.Result) (held, shown []string) {
	for _, ev := range res.Events {
		if ev.HeldBack != nil {
			if len(ev.Fields) != 0 {
				panic("a held-back event with fields")
			}
			held = append(held, ev.ID)
		} else {
			shown = append(shown, ev.ID)
		}
	}
	return held, shown
}

func TestConfidentialHeldBackUntilReleased(t *testing.T) {
	e := heldBackEnv(t)
	r := e.authorise("legal_privilege")
	ivy := e.as("ivy", "investigator")
	for _, content := range []bool{false, true} {
		res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why, Filter: review.Filter{Content: content}})
		if err != nil {
			t.Fatal(err)
		}
		held, shown := heldIDs(res)
		if len(held) != 2 || len(shown) != 3 {
			t.Fatalf("content %v: %d held back, %d shown; want 2 and 3", content, len(held), len(shown))
		}
		for _, b := range bodies(res) {
			if strings.Contains(b, "counsel") || strings.Contains(b, "advice sought") {
				t.Errorf("held-back content shown: %s", b)
			}
		}
	}
	// The export holds the held-back events as commitments only.
	ex, err := e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{Content: true}))
	if err != nil {
		t.Fatal(err)
	}
	zs := unzipped(t, ex.Zip)
	for _, leak := range []string{"counsel", "advice sought", "legal@police.example", "my hearing"} {
		if strings.Contains(zs, leak) {
			t.Errorf("the bundle holds held-back %q", leak)
		}
	}
	verifyZip(t, ex.Zip)

	// Only a legal adviser sees what is held back; anyone else asking is
	// refused and recorded.
	for _, who := range [][2]string{{"ivy", "investigator"}, {"dot", "dpo"}, {"ola", "oversight"}} {
		before := len(e.leaves)
		_, err := e.node.Review.Query(e.ctx, e.as(who[0], who[1]), r.ID, review.QueryInput{Justification: why, HeldBack: true})
		if err == nil || e.leaves[before] != review.ActionRefused {
			t.Errorf("%s asking for held-back material = %v, recorded %v", who[0], err, e.leaves[before:])
		}
	}
	leo := e.as("leo", "adviser")
	legal, err := e.node.Review.Query(e.ctx, leo, r.ID, review.QueryInput{Justification: why, HeldBack: true, Filter: review.Filter{Content: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(legal.Events) != 2 || !slices.ContainsFunc(bodies(legal), func(b string) bool { return strings.Contains(b, "counsel") }) {
		t.Fatalf("the legal view: %+v", legal.Events)
	}
	if e.leaves[len(e.leaves)-1] != review.ActionQuery {
		t.Error("the legal view was not recorded")
	}

	// Leo releases the e-mail to the solicitor; the marked one stays back.
	released := legal.Events[0].ID
	release := func(who, role string) error {
		_, err := e.node.Requests.Act(e.ctx, e.as(who, role), r.ID, func(by requests.Actor) requests.Action {
			return requests.Release{By: by, Events: []string{released}, Release: true,
				View: "Not privileged: the officer asks the force solicitor about an unrelated matter of leave."}
		})
		return err
	}
	// The DPO has no part in the request (not found); were they to, the
	// machine would refuse them as no legal adviser.
	var re *requests.RuleError
	if err := release("dot", "dpo"); !errors.As(err, &re) && !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the DPO releasing = %v", err)
	}
	if err := release("leo", "adviser"); err != nil {
		t.Fatal(err)
	}
	res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why, Filter: review.Filter{Content: true}})
	if err != nil {
		t.Fatal(err)
	}
	held, shown := heldIDs(res)
	if len(held) != 1 || !slices.Contains(shown, released) {
		t.Errorf("after the release: held %v, shown %v", held, shown)
	}
}

// TestHeldBackUnforeseen: under a request that did not foresee
// confidential material no legal adviser has a part, so what it meets
// stays held back.
func TestHeldBackUnforeseen(t *testing.T) {
	e := heldBackEnv(t)
	r := e.authorise()
	res, err := e.node.Review.Query(e.ctx, e.as("ivy", "investigator"), r.ID, review.QueryInput{Justification: why})
	if held, _ := heldIDs(res); err != nil || len(held) != 2 {
		t.Fatalf("held back %v, %v", held, err)
	}
	before := len(e.leaves)
	if _, err := e.node.Review.Query(e.ctx, e.as("leo", "adviser"), r.ID, review.QueryInput{Justification: why, HeldBack: true}); !errors.Is(err, store.ErrNotFound) ||
		!slices.Equal(e.leaves[before:], []string{review.ActionRefused}) {
		t.Errorf("a legal view under an unforeseeing request = %v, recorded %v", err, e.leaves[before:])
	}
}
