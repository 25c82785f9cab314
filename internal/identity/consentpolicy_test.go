package identity

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/store"
)

// stricter is the default policy with one more rule line: a comment, so
// that it parses and differs.
func stricter(tag string) []byte {
	return append(consent.DefaultFile(), []byte("# "+tag+"\n")...)
}

func TestConsentPolicyDefault(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	f, v, err := CurrentConsentPolicyFile(ctx, st)
	if err != nil || v != 0 || !bytes.Equal(f, consent.DefaultFile()) {
		t.Fatalf("CurrentConsentPolicyFile on a new store = %d bytes, version %d, %v; want the default, 0", len(f), v, err)
	}
	p, v, err := CurrentConsentPolicy(ctx, st)
	if err != nil || v != 0 || p != DefaultConsentPolicy() {
		t.Fatalf("CurrentConsentPolicy on a new store = %p, version %d, %v; want the shared default, 0", p, v, err)
	}
}

// TestConsentPolicyRefused: a proposal that is not an administrator's,
// has no reason, does not parse or changes nothing stores no change.
func TestConsentPolicyRefused(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	good := stricter("edited")
	for _, tc := range []struct {
		name   string
		actor  Principal
		data   []byte
		reason string
		want   func(error) bool
	}{
		{"oversight", Principal{Kind: KindUser, Subject: "olu", Role: RoleOversight}, good, "stricter", isErr(ErrNotAdmin)},
		{"authoriser", Principal{Kind: KindUser, Subject: "amy", Role: RoleAuthoriser}, good, "stricter", isErr(ErrNotAdmin)},
		{"investigator", Principal{Kind: KindUser, Subject: "ivy", Role: RoleInvestigator}, good, "stricter", isErr(ErrNotAdmin)},
		{"no reason", admin("ann"), good, " \n", isChangeError("reason")},
		{"the policy in force", admin("ann"), consent.DefaultFile(), "no change", isErr(ErrNoChange)},
		{"unknown key", admin("ann"), []byte("base:\n  level: 1\n  min_rank: inspector\n  colour: red\n"), "bad", isParseError(4, "colour")},
		{"unknown rank", admin("ann"), []byte("base:\n  level: 1\n  min_rank: general\n  max_duration: 30d\n  review_interval: 7d\nrules: []\n"), "bad", isParseError(3, "min_rank")},
		{"bad condition", admin("ann"), []byte("base:\n  level: 1\n  min_rank: inspector\n  max_duration: 30d\n  review_interval: 7d\nrules:\n  - id: X\n    description: x\n    when: contnet\n    level: 2\n"), "bad", isParseError(9, "when")},
		{"not YAML", admin("ann"), []byte("base: [\n"), "bad", isParseError(0, "")},
		{"empty", admin("ann"), nil, "bad", isParseError(0, "")},
		{"too long", admin("ann"), bytes.Repeat([]byte("#"), consent.MaxFileSize+1), "bad", isParseError(0, "")},
	} {
		if _, err := ProposeConsentPolicyChange(ctx, st, tc.actor, tc.data, tc.reason, day0); !tc.want(err) {
			t.Errorf("%s: ProposeConsentPolicyChange = %v", tc.name, err)
		}
	}
	if cs, _ := st.ListChanges(ctx, ""); len(cs) != 0 {
		t.Fatalf("refused proposals stored %d changes", len(cs))
	}
}

func TestConsentPolicyDualControl(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	strict := []byte("base:\n  level: 1\n  min_rank: chief_superintendent\n  max_duration: 30d\n  review_interval: 7d\nrules: []\n")
	c1, err := ProposeConsentPolicyChange(ctx, st, admin("ann"), strict, "chief superintendents only", day0)
	if err != nil {
		t.Fatal(err)
	}
	if c1.Kind != ChangeConsentPolicy || c1.Target != ChangeConsentPolicy || c1.Base != 0 || c1.State != ChangePending {
		t.Errorf("proposed change = %+v, want a pending consent_policy change on version 0", c1)
	}
	c2, err := ProposeConsentPolicyChange(ctx, st, admin("ann"), stricter("other"), "another", day0)
	if err != nil {
		t.Fatal(err)
	}
	// Proposing changes nothing in force.
	if _, v, _ := CurrentConsentPolicy(ctx, st); v != 0 {
		t.Fatalf("version in force after a proposal = %d, want 0", v)
	}
	// The proposer can neither approve nor reject, nor can anyone but an
	// administrator decide.
	for _, approve := range []bool{true, false} {
		if _, _, err := DecideChange(ctx, st, admin("ann"), c1.ID, approve, day0); !errors.Is(err, ErrSelfApproval) {
			t.Errorf("proposer deciding (approve=%v) = %v, want ErrSelfApproval", approve, err)
		}
	}
	if _, _, err := DecideChange(ctx, st, Principal{Kind: KindUser, Subject: "olu", Role: RoleOversight}, c1.ID, true, day0); !errors.Is(err, ErrNotAdmin) {
		t.Errorf("oversight approving = %v, want ErrNotAdmin", err)
	}
	if vs, _ := st.ListConsentPolicyVersions(ctx); len(vs) != 0 {
		t.Fatalf("refused decisions stored %d versions", len(vs))
	}

	at := day0.Add(time.Hour)
	decided, effect, err := DecideChange(ctx, st, admin("bob"), c1.ID, true, at)
	if err != nil {
		t.Fatal(err)
	}
	want := store.ConsentPolicyVersion{Version: 1, Policy: strict, Created: at, Change: c1.ID, By: "bob"}
	if decided.State != ChangeApproved || effect.ConsentPolicy == nil || effect.ConsentPolicy.Version != 1 ||
		effect.ConsentPolicy.Change != c1.ID || effect.ConsentPolicy.By != "bob" {
		t.Errorf("approval = %+v, effect %+v; want version 1 from %s by bob", decided, effect.ConsentPolicy, c1.ID)
	}
	if got, err := st.CurrentConsentPolicy(ctx); err != nil || got.Version != want.Version || !bytes.Equal(got.Policy, want.Policy) || got.By != "bob" || !got.Created.Equal(at) {
		t.Errorf("stored version = %+v, %v; want %+v", got, err, want)
	}
	p, v, err := CurrentConsentPolicy(ctx, st)
	if err != nil || v != 1 {
		t.Fatalf("CurrentConsentPolicy = version %d, %v; want 1", v, err)
	}
	req, _, err := p.Derive(consent.Facts{Mode: consent.ModeReview, Categories: []string{"email"}, Subjects: 1,
		Collateral: consent.CollateralLow, Investigation: consent.Misconduct, WindowDays: 7})
	if err != nil || req.MinRank != "chief_superintendent" {
		t.Errorf("the approved policy derives min rank %q, %v; want chief_superintendent", req.MinRank, err)
	}

	// c2 was proposed against version 0: it is stale now, and stays
	// pending, storing nothing.
	if _, _, err := DecideChange(ctx, st, admin("bob"), c2.ID, true, at); !errors.Is(err, ErrStale) {
		t.Errorf("approving a change proposed against version 0 = %v, want ErrStale", err)
	}
	if got, _ := st.ChangeByID(ctx, c2.ID); got.State != ChangePending {
		t.Errorf("stale change is %s, want still pending", got.State)
	}
	// It may still be rejected.
	if _, effect, err := DecideChange(ctx, st, admin("bob"), c2.ID, false, at); err != nil || effect.ConsentPolicy != nil {
		t.Errorf("rejecting the stale change = %+v, %v", effect, err)
	}

	// The next version is 2, approved over 1.
	c3, err := ProposeConsentPolicyChange(ctx, st, admin("bob"), consent.DefaultFile(), "back to the default", at)
	if err != nil {
		t.Fatalf("proposing the default over version 1 = %v", err)
	}
	if c3.Base != 1 {
		t.Errorf("base = %d, want 1", c3.Base)
	}
	if _, effect, err := DecideChange(ctx, st, admin("ann"), c3.ID, true, at); err != nil || effect.ConsentPolicy.Version != 2 {
		t.Fatalf("approving c3 = %+v, %v; want version 2", effect.ConsentPolicy, err)
	}
	vs, err := st.ListConsentPolicyVersions(ctx)
	if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || vs[0].By != "ann" {
		t.Errorf("versions = %+v, %v; want 2 (by ann) then 1", vs, err)
	}
	var de *DecidedError
	if _, _, err := DecideChange(ctx, st, admin("cat"), c3.ID, true, at); !errors.As(err, &de) {
		t.Errorf("approving twice = %v, want DecidedError", err)
	}
}

// TestConsentPolicyReparsedOnApproval: a change whose payload no longer
// parses (written around ProposeConsentPolicyChange) is refused when
// approved, and stays pending.
func TestConsentPolicyReparsedOnApproval(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	c, err := addChange(ctx, st, store.Change{Kind: ChangeConsentPolicy, Target: ChangeConsentPolicy,
		Payload: []byte(`{"yaml":"base: {}\n"}`), Reason: "sneaky", ProposedBy: "ann", Proposed: day0})
	if err != nil {
		t.Fatal(err)
	}
	var pe *consent.ParseError
	if _, _, err := DecideChange(ctx, st, admin("bob"), c.ID, true, day0); !errors.As(err, &pe) {
		t.Errorf("approving an unparsable policy = %v, want a *consent.ParseError", err)
	}
	if got, _ := st.ChangeByID(ctx, c.ID); got.State != ChangePending {
		t.Errorf("change is %s, want still pending", got.State)
	}
	if vs, _ := st.ListConsentPolicyVersions(ctx); len(vs) != 0 {
		t.Errorf("%d versions stored, want none", len(vs))
	}
}

func isParseError(line int, field string) func(error) bool {
	return func(err error) bool {
		var pe *consent.ParseError
		return errors.As(err, &pe) && (line == 0 || pe.Line == line) && (field == "" || strings.Contains(pe.Field, field))
	}
}

// TestConsentPolicyRanks pins the rank list internal/consent's tests copy
// (they cannot import this package), and checks the default policy parses
// against it.
func TestConsentPolicyRanks(t *testing.T) {
	want := []string{"constable", "sergeant", "inspector", "chief_inspector", "superintendent", "chief_superintendent",
		"commander", "deputy_assistant_commissioner", "assistant_commissioner", "deputy_commissioner", "commissioner"}
	if got := RankIDs(); !slices.Equal(got, want) {
		t.Errorf("RankIDs() = %v; update internal/consent/default_test.go's ranks to match", got)
	}
	if _, err := ParseConsentPolicy(consent.DefaultFile()); err != nil {
		t.Errorf("the default policy does not parse against identity's ranks: %v", err)
	}
}
