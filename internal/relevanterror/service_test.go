package relevanterror

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
)

type leaf struct {
	actor, action string
	details       map[string]any
	private       map[string]string
}

type env struct {
	svc    *Service
	st     store.Store
	leaves []leaf
	fail   error
	now    time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	e.svc = &Service{Store: st, Now: func() time.Time { return e.now },
		Record: func(ctx context.Context, actor, action string, details map[string]any, private map[string]string) (uint64, error) {
			if e.fail != nil {
				return 0, e.fail
			}
			e.leaves = append(e.leaves, leaf{actor, action, details, private})
			return uint64(len(e.leaves)), nil
		}}
	return e
}

var (
	oversight    = identity.Principal{Subject: "ov1", Role: identity.RoleOversight}
	admin        = identity.Principal{Subject: "adm1", Role: identity.RoleAdmin}
	investigator = identity.Principal{Subject: "inv1", Role: identity.RoleInvestigator}
)

func (e *env) stored(t *testing.T) []store.StoredRelevantError {
	t.Helper()
	all, err := e.st.ListRelevantErrors(t.Context(), store.RelevantErrorQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestRaiseReportClose(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	in := RaiseInput{Kind: OutsideAuthorisation, Description: "PC Smith's mailbox was searched outside the window", IdentifiedAt: e.now.Add(-time.Hour)}
	re, err := e.svc.Raise(ctx, oversight, in)
	if err != nil {
		t.Fatalf("Raise = %v", err)
	}
	if re.Reference != "RE-2026-0001" || re.State != Open || re.Source != FromOversight || re.RaisedBy != "ov1" {
		t.Errorf("Raise = %+v", re)
	}
	if want := time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC); !re.Deadline.Equal(want) {
		t.Errorf("Deadline = %v, want %v", re.Deadline, want)
	}
	if len(e.leaves) != 1 || e.leaves[0].action != ActionRaised || e.leaves[0].details["reference"] != re.Reference ||
		e.leaves[0].private["description"] != in.Description {
		t.Fatalf("leaves = %+v", e.leaves)
	}
	for k, v := range e.leaves[0].details {
		if s, ok := v.(string); ok && strings.Contains(s, "Smith") {
			t.Errorf("the description is in plain metadata %q", k)
		}
	}
	if re.History[0].OversightIndex != 1 {
		t.Errorf("raise step's leaf = %d", re.History[0].OversightIndex)
	}

	if _, err := e.svc.Close(ctx, oversight, re.ID, "done"); !errors.As(err, new(*TransitionError)) {
		t.Errorf("Close of an open entry = %v, want a TransitionError", err)
	}
	e.now = e.now.Add(24 * time.Hour)
	got, err := e.svc.Report(ctx, admin, re.ID, ReportInput{Text: "reported by e-mail", Recipient: "IPCO"})
	if err != nil {
		t.Fatalf("Report = %v", err)
	}
	if got.State != Reported || got.Report.By != "adm1" || !got.Report.At.Equal(e.now) || got.Version != 2 {
		t.Errorf("Report = %+v", got)
	}
	got, err = e.svc.Close(ctx, oversight, re.ID, "the investigator was retrained")
	if err != nil {
		t.Fatalf("Close = %v", err)
	}
	if got.State != Closed || len(got.History) != 3 || got.Version != 3 {
		t.Errorf("Close = %+v", got)
	}
	actions := []string{}
	for _, l := range e.leaves {
		actions = append(actions, l.action)
	}
	if strings.Join(actions, " ") != "relevant_error_raised relevant_error_reported relevant_error_closed" {
		t.Errorf("leaves = %v", actions)
	}
	back, err := e.svc.Get(ctx, oversight, re.ID)
	if err != nil || back.State != Closed || back.Closure.Outcome != "the investigator was retrained" {
		t.Errorf("Get = %+v, %v", back, err)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	good := RaiseInput{Kind: DefectiveAuthorisation, Description: "the authoriser was not of the rank needed", IdentifiedAt: e.now}
	for _, p := range []identity.Principal{investigator, {Subject: "x", Role: identity.RoleAuthoriser}, {Subject: "x", Role: identity.RoleDPO},
		{Subject: "x", Role: identity.RoleStaff}, {Subject: "x", Role: identity.RoleAdviser}, {Subject: "x"}} {
		if _, err := e.svc.Raise(ctx, p, good); !errors.Is(err, ErrForbidden) {
			t.Errorf("Raise as %q = %v, want ErrForbidden", p.Role, err)
		}
		if _, err := e.svc.List(ctx, p, Query{}); !errors.Is(err, ErrForbidden) {
			t.Errorf("List as %q = %v, want ErrForbidden", p.Role, err)
		}
	}
	for _, tt := range []struct {
		field string
		in    RaiseInput
	}{
		{"kind", RaiseInput{Kind: "other", Description: "d", IdentifiedAt: e.now}},
		{"description", RaiseInput{Kind: OutsideAuthorisation, IdentifiedAt: e.now}},
		{"description", RaiseInput{Kind: OutsideAuthorisation, Description: strings.Repeat("x", MaxDescription+1), IdentifiedAt: e.now}},
		{"identified_at", RaiseInput{Kind: OutsideAuthorisation, Description: "d"}},
		{"identified_at", RaiseInput{Kind: OutsideAuthorisation, Description: "d", IdentifiedAt: e.now.Add(time.Hour)}},
		{"identified_at", RaiseInput{Kind: OutsideAuthorisation, Description: "d", IdentifiedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"request", RaiseInput{Kind: OutsideAuthorisation, Description: "d", IdentifiedAt: e.now, Request: "no-such"}},
	} {
		_, err := e.svc.Raise(ctx, oversight, tt.in)
		var fes requests.FieldErrors
		if !errors.As(err, &fes) || fes[0].Field != tt.field {
			t.Errorf("Raise(%+v) = %v, want a field error on %s", tt.in, err, tt.field)
		}
	}
	e.fail = errors.New("log down")
	if _, err := e.svc.Raise(ctx, oversight, good); err == nil {
		t.Error("Raise with the oversight log down succeeded")
	}
	if len(e.leaves) != 0 || len(e.stored(t)) != 0 {
		t.Errorf("refusals left %d leaves and %d entries", len(e.leaves), len(e.stored(t)))
	}
}

func TestOverdueList(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a, _ := e.svc.Raise(ctx, oversight, RaiseInput{Kind: OutsideAuthorisation, Description: "a", IdentifiedAt: e.now})
	b, _ := e.svc.Raise(ctx, oversight, RaiseInput{Kind: OutsideAuthorisation, Description: "b", IdentifiedAt: e.now})
	if _, err := e.svc.Report(ctx, oversight, b.ID, ReportInput{Text: "t", Recipient: "r"}); err != nil {
		t.Fatal(err)
	}
	e.now = a.Deadline
	got, err := e.svc.List(ctx, oversight, Query{Overdue: true})
	if err != nil || len(got) != 1 || got[0].ID != a.ID {
		t.Errorf("List(overdue) = %v, %v, want %s alone", got, err, a.ID)
	}
	if n, err := e.svc.CountOverdue(ctx, admin); n != 1 || err != nil {
		t.Errorf("CountOverdue = %d, %v", n, err)
	}
	e.now = a.Deadline.Add(-time.Nanosecond)
	if n, _ := e.svc.CountOverdue(ctx, admin); n != 0 {
		t.Errorf("CountOverdue before the deadline = %d", n)
	}
}

func addRequest(t *testing.T, st store.Store, r requests.Request) {
	t.Helper()
	body, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddRequest(t.Context(), store.StoredRequest{ID: r.ID, Reference: r.Reference, Requester: "inv1", State: string(r.State),
		Created: r.AuthorisedAt, Updated: r.AuthorisedAt, Body: body}); err != nil {
		t.Fatal(err)
	}
}

func TestRaiseLapsed(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	at := e.now.Add(-48 * time.Hour)
	lapse := requests.Request{ID: "req-lapsed", Reference: "ACAC-2026-0001", State: requests.Expired, Investigators: []string{"inv1"},
		AuthorisedAt: at, History: []requests.Transition{{From: requests.Active, To: requests.Expired, Action: requests.ActLapse, Actor: requests.System, At: at.Add(72 * time.Hour)}}}
	quiet := lapse
	quiet.ID, quiet.Reference = "req-quiet", "ACAC-2026-0002"
	expired := lapse
	expired.ID, expired.Reference = "req-expired", "ACAC-2026-0003"
	expired.History = []requests.Transition{{From: requests.Active, To: requests.Expired, Action: requests.ActExpiry, Actor: requests.System, At: at}}
	for _, r := range []requests.Request{lapse, quiet, expired} {
		addRequest(t, e.st, r)
	}
	if n, err := e.svc.RaiseLapsed(ctx); n != 0 || err != nil {
		t.Errorf("RaiseLapsed without Accessed = %d, %v", n, err)
	}
	var asked []string
	e.svc.Accessed = func(ctx context.Context, r requests.Request) (bool, error) {
		asked = append(asked, r.ID)
		return r.ID != "req-quiet", nil
	}
	if n, err := e.svc.RaiseLapsed(ctx); n != 1 || err != nil {
		t.Fatalf("RaiseLapsed = %d, %v, want 1", n, err)
	}
	for range 2 {
		if n, err := e.svc.RaiseLapsed(ctx); n != 0 || err != nil {
			t.Fatalf("RaiseLapsed again = %d, %v, want 0", n, err)
		}
	}
	all := e.stored(t)
	if len(all) != 1 || all[0].Request != "req-lapsed" || all[0].Kind != string(DefectiveAuthorisation) {
		t.Fatalf("stored = %+v", all)
	}
	got, _ := e.svc.Get(ctx, oversight, all[0].ID)
	if got.Source != FromLBM || got.RaisedBy != requests.System || e.leaves[0].actor != requests.System {
		t.Errorf("automatic entry = %+v", got)
	}
	for _, id := range asked {
		if id == "req-expired" {
			t.Error("asked about a request that expired, not lapsed")
		}
	}
	// An entry oversight raised on the request does not stop lbm's own.
	e2 := newEnv(t)
	addRequest(t, e2.st, lapse)
	if _, err := e2.svc.Raise(ctx, oversight, RaiseInput{Kind: OutsideAuthorisation, Request: lapse.ID, Description: "d", IdentifiedAt: e2.now}); err != nil {
		t.Fatal(err)
	}
	e2.svc.Accessed = e.svc.Accessed
	if n, err := e2.svc.RaiseLapsed(ctx); n != 1 || err != nil {
		t.Errorf("RaiseLapsed with oversight's entry = %d, %v, want 1", n, err)
	}
}
