package retention

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
)

type holdLeaf struct {
	actor, action string
	details       map[string]any
	private       map[string]string
}

// holdEnv is a store with staff1 and dpo1 in the directory, and a
// recorder that keeps its leaves, or fails with fail.
type holdEnv struct {
	st     store.Store
	leaves []holdLeaf
	fail   error
	now    time.Time
	// seen is how many holds the store held (in force or not) when each
	// leaf was written.
	seen []int
}

func newHoldEnv(t *testing.T) *holdEnv {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &holdEnv{st: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	if _, _, err := st.PutPeople(t.Context(), []store.Person{
		{ID: "staff1", Name: "Sam Staff", Roles: []string{"staff"}, Updated: e.now},
		{ID: "dpo1", Name: "Dee Officer", Roles: []string{"dpo", "staff"}, Updated: e.now},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *holdEnv) record(ctx context.Context, actor, action string, details map[string]any, private map[string]string) (uint64, error) {
	if e.fail != nil {
		return 0, e.fail
	}
	all, err := e.st.ListHolds(ctx, true)
	if err != nil {
		return 0, err
	}
	e.seen = append(e.seen, len(all))
	e.leaves = append(e.leaves, holdLeaf{actor, action, details, private})
	return uint64(len(e.leaves) - 1), nil
}

func (e *holdEnv) holds(t *testing.T) []store.Hold {
	t.Helper()
	all, err := e.st.ListHolds(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

var (
	dpo       = identity.Principal{Kind: identity.KindUser, Subject: "dpo1", Role: identity.RoleDPO}
	oversight = identity.Principal{Kind: identity.KindUser, Subject: "ovs1", Role: identity.RoleOversight}
	// notDPO is every principal but the DPO: none may place or release.
	notDPO = []identity.Principal{
		{},
		{Kind: identity.KindSource, Subject: "pnc", Role: identity.RoleSource},
		{Kind: identity.KindAdmin, Subject: "admin", Role: identity.RoleAdmin},
		{Kind: identity.KindUser, Subject: "staff1", Role: identity.RoleStaff},
		{Kind: identity.KindUser, Subject: "inv1", Role: identity.RoleInvestigator},
		{Kind: identity.KindUser, Subject: "auth1", Role: identity.RoleAuthoriser},
		{Kind: identity.KindUser, Subject: "adv1", Role: identity.RoleAdviser},
		oversight,
		{Kind: identity.KindUser, Subject: "adm1", Role: identity.RoleAdmin},
		{Kind: identity.KindUser, Role: identity.RoleDPO}, // a DPO with no subject
	}
)

const goodReason = "Employment tribunal claim ET/1234/26: keep everything"

func fieldsOf(err error) []string {
	var fes requests.FieldErrors
	if !errors.As(err, &fes) {
		return nil
	}
	var out []string
	for _, fe := range fes {
		out = append(out, fe.Field)
	}
	return out
}

func TestPlaceHoldRefused(t *testing.T) {
	for _, tt := range []struct {
		name, person, reason string
		fields               []string // the fields refused; nil for ErrHoldForbidden
	}{
		{"empty reason", "staff1", "", []string{"reason"}},
		{"blank reason", "staff1", " \n\t ", []string{"reason"}},
		{"reason too short", "staff1", "tribunal ", []string{"reason"}},
		{"reason too long", "staff1", strings.Repeat("é", MaxHoldText+1), []string{"reason"}},
		{"reason with a NUL", "staff1", "tribunal claim\x00 ET/1234", []string{"reason"}},
		{"reason with a tab", "staff1", "tribunal claim\tET/1234", []string{"reason"}},
		{"reason with a lone CR", "staff1", "tribunal claim\rET/1234", []string{"reason"}},
		{"reason with a bidi override", "staff1", "tribunal claim \u202eET/1234", []string{"reason"}},
		{"reason with a zero-width space", "staff1", "tribunal\u200bclaim ET/1234", []string{"reason"}},
		{"reason with a line separator", "staff1", "tribunal claim\u2028ET/1234", []string{"reason"}},
		{"reason not UTF-8", "staff1", "tribunal claim \xff ET/1234", []string{"reason"}},
		{"unknown person", "nobody", goodReason, []string{"person"}},
		{"no person", " ", goodReason, []string{"person"}},
		{"person with a hidden character", "staff1\u202e", goodReason, []string{"person"}},
		{"person too long", strings.Repeat("p", maxPersonID+1), goodReason, []string{"person"}},
		{"both", "nobody", "", []string{"person", "reason"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newHoldEnv(t)
			_, err := PlaceHold(t.Context(), e.st, e.record, dpo, tt.person, tt.reason, e.now)
			if got := fieldsOf(err); !cmp.Equal(got, tt.fields) {
				t.Errorf("PlaceHold(%q, %q) = %v; want field errors on %v", tt.person, tt.reason, err, tt.fields)
			}
			if len(e.leaves) != 0 || len(e.holds(t)) != 0 {
				t.Errorf("a refused hold wrote %d leaves and stored %v", len(e.leaves), e.holds(t))
			}
		})
	}
	for _, p := range notDPO {
		t.Run("as "+string(p.Role)+" "+p.Subject, func(t *testing.T) {
			e := newHoldEnv(t)
			if _, err := PlaceHold(t.Context(), e.st, e.record, p, "staff1", goodReason, e.now); !errors.Is(err, ErrHoldForbidden) {
				t.Errorf("PlaceHold as %+v = %v, want ErrHoldForbidden", p, err)
			}
			if len(e.leaves) != 0 || len(e.holds(t)) != 0 {
				t.Errorf("a refused hold wrote %d leaves and stored %v", len(e.leaves), e.holds(t))
			}
		})
	}
}

func TestPlaceHoldBounds(t *testing.T) {
	for _, reason := range []string{
		strings.Repeat("x", MinHoldText),
		strings.Repeat("訴", MaxHoldText), // characters, not bytes
		"  first line\r\nsecond line\n",
	} {
		e := newHoldEnv(t)
		h, err := PlaceHold(t.Context(), e.st, e.record, dpo, "staff1", reason, e.now)
		if err != nil {
			t.Errorf("PlaceHold(%.20q…) = %v, want it placed", reason, err)
			continue
		}
		if want := strings.TrimSpace(strings.ReplaceAll(reason, "\r\n", "\n")); h.Reason != want {
			t.Errorf("PlaceHold(%.20q…).Reason = %.20q…, want %.20q…", reason, h.Reason, want)
		}
	}
}

func TestPlaceAndReleaseHold(t *testing.T) {
	e := newHoldEnv(t)
	ctx := t.Context()
	h, err := PlaceHold(ctx, e.st, e.record, dpo, " staff1 ", "  "+goodReason+"\n", e.now)
	if err != nil {
		t.Fatalf("PlaceHold = %v", err)
	}
	want := store.Hold{ID: h.ID, Person: "staff1", Reason: goodReason, PlacedBy: "dpo1", Placed: e.now}
	if !strings.HasPrefix(h.ID, "hold-") || !cmp.Equal(h, want) {
		t.Errorf("PlaceHold = %+v, want %+v", h, want)
	}
	if diff := cmp.Diff([]store.Hold{want}, e.holds(t)); diff != "" {
		t.Errorf("stored holds (-want +got):\n%s", diff)
	}
	// The leaf names the hold in its metadata and the person and reason
	// only as content; it was written while the store held no hold.
	wantLeaf := holdLeaf{"dpo1", ActionHoldPlaced, map[string]any{"hold": h.ID}, map[string]string{"person": "staff1", "reason": goodReason}}
	if len(e.leaves) != 1 || !cmp.Equal(e.leaves[0], wantLeaf, cmp.AllowUnexported(holdLeaf{})) {
		t.Errorf("leaves = %+v, want [%+v]", e.leaves, wantLeaf)
	}
	if e.seen[0] != 0 {
		t.Errorf("the store held %d holds when the leaf was written, want 0: the leaf comes first", e.seen[0])
	}

	for _, p := range []identity.Principal{dpo, oversight} {
		if got, err := ListHolds(ctx, e.st, p, false); err != nil || !cmp.Equal(got, []store.Hold{want}) {
			t.Errorf("ListHolds as %s = %v, %v; want [%+v]", p.Role, got, err, want)
		}
	}

	// Release: refused input first, then the release, then again.
	for _, p := range notDPO {
		if _, err := ReleaseHold(ctx, e.st, e.record, p, h.ID, "the claim was settled", e.now); !errors.Is(err, ErrHoldForbidden) {
			t.Errorf("ReleaseHold as %+v = %v, want ErrHoldForbidden", p, err)
		}
	}
	for _, note := range []string{"", "settled", "settled\u202e at the hearing", strings.Repeat("n", MaxHoldText+1)} {
		if _, err := ReleaseHold(ctx, e.st, e.record, dpo, h.ID, note, e.now); !cmp.Equal(fieldsOf(err), []string{"note"}) {
			t.Errorf("ReleaseHold with note %.20q = %v, want a field error on note", note, err)
		}
	}
	if _, err := ReleaseHold(ctx, e.st, e.record, dpo, "hold-absent", "the claim was settled", e.now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReleaseHold of an absent hold = %v, want ErrNotFound", err)
	}
	if len(e.leaves) != 1 {
		t.Fatalf("refused releases wrote leaves: %+v", e.leaves[1:])
	}
	at := e.now.Add(24 * time.Hour)
	released, err := ReleaseHold(ctx, e.st, e.record, dpo, h.ID, " the claim was settled \r\n at the hearing", at)
	if err != nil {
		t.Fatalf("ReleaseHold = %v", err)
	}
	want.Released, want.ReleasedBy, want.ReleaseNote = at, "dpo1", "the claim was settled \n at the hearing"
	if !cmp.Equal(released, want) {
		t.Errorf("ReleaseHold = %+v, want %+v", released, want)
	}
	wantLeaf = holdLeaf{"dpo1", ActionHoldReleased, map[string]any{"hold": h.ID}, map[string]string{"person": "staff1", "note": want.ReleaseNote}}
	if len(e.leaves) != 2 || !cmp.Equal(e.leaves[1], wantLeaf, cmp.AllowUnexported(holdLeaf{})) {
		t.Errorf("leaves = %+v, want the release second: %+v", e.leaves, wantLeaf)
	}
	if got, err := ListHolds(ctx, e.st, dpo, false); err != nil || len(got) != 0 {
		t.Errorf("ListHolds in force after the release = %v, %v; want none", got, err)
	}
	if got, err := ListHolds(ctx, e.st, oversight, true); err != nil || !cmp.Equal(got, []store.Hold{want}) {
		t.Errorf("ListHolds with released = %v, %v; want [%+v]", got, err, want)
	}
	if _, err := ReleaseHold(ctx, e.st, e.record, dpo, h.ID, "released a second time", at); !errors.Is(err, ErrHoldReleased) {
		t.Errorf("ReleaseHold again = %v, want ErrHoldReleased", err)
	}
	if len(e.leaves) != 2 {
		t.Errorf("a refused second release wrote a leaf: %+v", e.leaves[2:])
	}
}

func TestListHoldsRefused(t *testing.T) {
	e := newHoldEnv(t)
	if _, err := PlaceHold(t.Context(), e.st, e.record, dpo, "staff1", goodReason, e.now); err != nil {
		t.Fatal(err)
	}
	for _, p := range notDPO {
		if p.Role == identity.RoleDPO || p.Role == identity.RoleOversight {
			continue
		}
		for _, all := range []bool{false, true} {
			if got, err := ListHolds(t.Context(), e.st, p, all); !errors.Is(err, ErrHoldForbidden) || got != nil {
				t.Errorf("ListHolds(%t) as %+v = %v, %v; want ErrHoldForbidden", all, p, got, err)
			}
		}
	}
}

// TestHoldLeafFirst: a recorder that fails leaves nothing stored, placing
// or releasing.
func TestHoldLeafFirst(t *testing.T) {
	e := newHoldEnv(t)
	ctx := t.Context()
	boom := errors.New("oversight log unavailable")
	e.fail = boom
	if _, err := PlaceHold(ctx, e.st, e.record, dpo, "staff1", goodReason, e.now); !errors.Is(err, boom) {
		t.Errorf("PlaceHold with a failing recorder = %v, want %v", err, boom)
	}
	if got := e.holds(t); len(got) != 0 {
		t.Errorf("PlaceHold with a failing recorder stored %v", got)
	}
	e.fail = nil
	h, err := PlaceHold(ctx, e.st, e.record, dpo, "staff1", goodReason, e.now)
	if err != nil {
		t.Fatal(err)
	}
	e.fail = boom
	if _, err := ReleaseHold(ctx, e.st, e.record, dpo, h.ID, "the claim was settled", e.now); !errors.Is(err, boom) {
		t.Errorf("ReleaseHold with a failing recorder = %v, want %v", err, boom)
	}
	if got, err := e.st.HoldByID(ctx, h.ID); err != nil || !got.Released.IsZero() {
		t.Errorf("after a failed release the hold is %+v, %v; want it in force", got, err)
	}
}

// racingStore releases every hold, as another DPO would, between the
// service's read and its release; and fails every add with addErr.
type racingStore struct {
	store.Store
	addErr error
}

func (s racingStore) AddHold(ctx context.Context, h store.Hold) error {
	if s.addErr != nil {
		return s.addErr
	}
	return s.Store.AddHold(ctx, h)
}

func (s racingStore) ReleaseHold(ctx context.Context, id, by, note string, at time.Time) (store.Hold, error) {
	if _, err := s.Store.ReleaseHold(ctx, id, "dpo2", "released by the other DPO first", at); err != nil {
		return store.Hold{}, err
	}
	return s.Store.ReleaseHold(ctx, id, by, note, at)
}

// TestHoldVoided: a step the store refuses after its leaf is written gets
// a leaf voiding it.
func TestHoldVoided(t *testing.T) {
	e := newHoldEnv(t)
	ctx := t.Context()
	boom := errors.New("disk full")
	if _, err := PlaceHold(ctx, racingStore{e.st, boom}, e.record, dpo, "staff1", goodReason, e.now); !errors.Is(err, boom) {
		t.Errorf("PlaceHold on a failing store = %v, want %v", err, boom)
	}
	h, err := PlaceHold(ctx, e.st, e.record, dpo, "staff1", goodReason, e.now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReleaseHold(ctx, racingStore{Store: e.st}, e.record, dpo, h.ID, "the claim was settled", e.now)
	if !errors.Is(err, ErrHoldReleased) || !errors.Is(err, store.ErrConflict) {
		t.Errorf("ReleaseHold that lost a race = %v, want ErrHoldReleased", err)
	}
	actions := make([]string, len(e.leaves))
	for i, l := range e.leaves {
		actions[i] = l.action
	}
	if want := []string{ActionHoldPlaced, ActionHoldVoid, ActionHoldPlaced, ActionHoldReleased, ActionHoldVoid}; !cmp.Equal(actions, want) {
		t.Fatalf("leaves %v, want %v", actions, want)
	}
	for _, c := range []struct{ void, voided int }{{1, 0}, {4, 3}} {
		l := e.leaves[c.void]
		if l.actor != requests.System || l.details["void_index"] != uint64(c.voided) || l.details["hold"] != e.leaves[c.voided].details["hold"] || l.private != nil {
			t.Errorf("leaf %d = %+v, want it to void leaf %d", c.void, l, c.voided)
		}
	}
	if got, err := e.st.HoldByID(ctx, h.ID); err != nil || got.ReleasedBy != "dpo2" {
		t.Errorf("the hold = %+v, %v; want the other DPO's release to stand", got, err)
	}
}
