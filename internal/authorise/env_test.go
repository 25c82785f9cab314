package authorise_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

// directory is the test force: who holds which role at which rank.
var directory = []struct {
	id, role, rank, adviser, unit string
}{
	{"ivy", "investigator", "sergeant", "", "ACAC"},
	{"ian", "investigator", "constable", "", "ACAC"},
	{"sam", "staff", "constable", "", "Custody"},
	{"tom", "staff", "constable", "", "Response"},
	{"ina", "authoriser", "inspector", "", "ACAC"},
	{"sgt", "authoriser", "sergeant", "", "ACAC"},
	{"sue", "authoriser", "superintendent", "", "ACAC"},
	{"cal", "authoriser", "chief_superintendent", "", "Custody"},
	{"lee", "adviser", "", "legal", "Legal"},
	{"eth", "adviser", "", "ethics", "Legal"},
	{"dee", "dpo", "", "dpo", "Information"},
	{"ola", "oversight", "", "", "Oversight"},
}

// leaf is one call to the recorder.
type leaf struct {
	index   uint64
	actor   string
	action  string
	details map[string]any
}

type env struct {
	node  *server.Node
	svc   *authorise.Service
	close func() error
	ctx   context.Context

	mu     sync.Mutex
	now    time.Time
	leaves []leaf
	// failRecord makes the recorder fail.
	failRecord bool
	notices    []sent
}

type sent struct {
	notice       authorise.Notice
	to, subjects []string
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{ctx: ctx, now: t0}
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir(), Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.close = sync.OnceValue(n.Close)
	t.Cleanup(func() { e.close() })
	e.node = n
	var ps []store.Person
	for _, p := range directory {
		roles := []string{"staff"}
		if p.role != "staff" {
			roles = append(roles, p.role)
		}
		ps = append(ps, store.Person{ID: p.id, Name: "Person " + p.id, Unit: p.unit, Rank: p.rank, Roles: roles, Adviser: p.adviser, Updated: t0})
	}
	if _, _, err := n.Store.PutPeople(ctx, ps); err != nil {
		t.Fatal(err)
	}
	e.svc = &authorise.Service{Store: n.Store, Now: e.clock, Record: e.record, Notify: e.notify}
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func (e *env) record(ctx context.Context, actor, action string, details map[string]any) (uint64, error) {
	e.mu.Lock()
	fail := e.failRecord
	e.mu.Unlock()
	if fail {
		return 0, fmt.Errorf("the oversight log is unavailable")
	}
	idx, err := e.node.Oversight(ctx, actor, action, details, false)
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	e.leaves = append(e.leaves, leaf{idx, actor, action, details})
	e.mu.Unlock()
	return idx, nil
}

func (e *env) notify(_ context.Context, n authorise.Notice, to, subjects []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notices = append(e.notices, sent{n, to, subjects})
}

// as is the principal of person id acting in role.
func (e *env) as(t interface {
	Helper()
	Fatal(...any)
}, id, role string) identity.Principal {
	t.Helper()
	p, err := e.node.Store.PersonByID(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return identity.Principal{Kind: identity.KindUser, Subject: id, Role: identity.Role(role), Person: &p}
}

// vocabulary makes justifications that differ from each other, as real
// ones do: the justification rule refuses one copied from another.
var vocabulary = strings.Fields(`audit bulk check colleague custody disclosure evidence family friend hearing
	intelligence lookup misuse neighbour record report search suspect system victim witness address vehicle
	licence intranet database warrant briefing complaint allegation pattern timeline interview tasking
	ticket station overtime shift leave roster mailbox attachment forward webmail contact phone number
	exhibit statement caution custody charge bail court summons officer sergeant inspector unit team
	borough county night morning weekend monday friday january march june october twelve thirty forty`)

// phrase returns a justification of about 14 words drawn at random.
func phrase(rng *rand.Rand) string {
	var words []string
	for range 14 {
		words = append(words, vocabulary[rng.IntN(len(vocabulary))])
	}
	return strings.Join(words, " ") + "."
}

// written is a complete request by a requester about subjects: e-mail
// content in a misconduct review, which needs a Superintendent.
func written(rng *rand.Rand, subjects ...string) requests.Request {
	return requests.Request{
		Subjects:      subjects,
		Investigators: []string{"ivy"},
		Categories:    []requests.CategoryScope{{Category: "record_query"}, {Category: "email", Content: true}},
		Mode:          consent.ModeReview,
		Window:        &requests.Window{From: t0.AddDate(0, -2, 0), To: t0.AddDate(0, 0, -1)},
		Purpose:       "PREVENT_DETECT_CRIME",
		Investigation: consent.Misconduct,
		Operation:     requests.Operation{Name: "Lantern", Reference: "OP-77"},
		DPIAReference: "DPIA-2026-03",
		Necessity:     phrase(rng),
		Criteria: map[string]string{
			"NOTICE": phrase(rng), "EXTENT": phrase(rng), "LEGITIMATE_REASON": phrase(rng), "LESS_INTRUSIVE": phrase(rng),
			"CONSEQUENCES": phrase(rng), "SAFEGUARDS": phrase(rng), "REMEDY": phrase(rng),
		},
		Collateral: requests.Collateral{Level: consent.CollateralLow, Explanation: phrase(rng)},
	}
}

// views is an authoriser's view on every criterion.
func views(rng *rand.Rand) map[string]string {
	out := map[string]string{}
	for _, id := range []string{"NOTICE", "EXTENT", "LEGITIMATE_REASON", "LESS_INTRUSIVE", "CONSEQUENCES", "SAFEGUARDS", "REMEDY"} {
		out[id] = phrase(rng)
	}
	return out
}

func decode(t testing.TB, body []byte) (requests.Request, error) {
	t.Helper()
	var r requests.Request
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r, nil
}
