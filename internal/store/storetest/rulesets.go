package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// The detection rules are kept as the consent-level policy is: versions
// added only by an approved "rules" change, each the one after the
// latest, never altered, each naming its approver, who must be the
// decider. An alert's rules can then always be read back.

// newRuleSet returns rule set version v approved by change and admin-2.
// Its file carries text outside ASCII and ends in bytes no text column
// would keep.
func newRuleSet(v int64, change string) store.RuleSetVersion {
	return store.RuleSetVersion{
		Version: v,
		Rules:   append(fmt.Appendf(nil, "rules:\n  - id: r%d\n    title: \"Zugriff außerhalb – ✓\"\n", v), 0, 0xff),
		Created: epoch.Add(time.Duration(v) * time.Hour).Add(time.Nanosecond),
		Change:  change,
		By:      "admin-2",
	}
}

// ruleSetChange returns a pending rules change proposed against the rule
// set version base.
func ruleSetChange(id string, base int64) store.Change {
	return store.Change{
		ID:         id,
		Kind:       "rules",
		Target:     "rules",
		Payload:    []byte(`{"rules":"..."}`),
		Base:       base,
		Reason:     "reason for " + id,
		ProposedBy: "admin-1",
		Proposed:   epoch,
		State:      "pending",
	}
}

// decideRuleSet proposes a rules change and approves it, as admin-2, with
// v, Change set to the change's ID. It returns the change as proposed, as
// decided, and DecideChange's error.
func decideRuleSet(t *testing.T, s store.Store, id string, v store.RuleSetVersion) (proposed, decided store.Change, err error) {
	t.Helper()
	proposed = ruleSetChange(id, v.Version-1)
	addChanges(t, s, proposed)
	decided = approval(proposed, "admin-2", epoch.Add(time.Hour))
	v.Change = id
	err = s.DecideChange(t.Context(), decided, store.ChangeEffect{RuleSet: &v})
	return proposed, decided, err
}

// checkRuleSets checks CurrentRuleSet, RuleSetByVersion and
// ListRuleSetVersions against want, oldest first.
func checkRuleSets(t *testing.T, s store.Store, when string, want ...store.RuleSetVersion) {
	t.Helper()
	ctx := t.Context()
	got, err := s.CurrentRuleSet(ctx)
	switch {
	case len(want) == 0 && !errors.Is(err, store.ErrNotFound):
		t.Errorf("%s: CurrentRuleSet() = version %d, %v; want ErrNotFound", when, got.Version, err)
	case len(want) > 0 && err != nil:
		t.Errorf("%s: CurrentRuleSet() = %v", when, err)
	case len(want) > 0:
		if diff := cmp.Diff(want[len(want)-1], got); diff != "" {
			t.Errorf("%s: CurrentRuleSet() mismatch (-want +got):\n%s", when, diff)
		}
	}
	for _, w := range want {
		got, err := s.RuleSetByVersion(ctx, w.Version)
		if err != nil {
			t.Errorf("%s: RuleSetByVersion(%d) = %v", when, w.Version, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: RuleSetByVersion(%d) mismatch (-want +got):\n%s", when, w.Version, diff)
		}
	}
	for _, absent := range []int64{0, -1, int64(len(want) + 1)} {
		if got, err := s.RuleSetByVersion(ctx, absent); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: RuleSetByVersion(%d) = %+v, %v; want ErrNotFound", when, absent, got, err)
		}
	}
	list, err := s.ListRuleSetVersions(ctx)
	if err != nil {
		t.Errorf("%s: ListRuleSetVersions() = %v", when, err)
		return
	}
	newest := slices.Clone(want)
	slices.Reverse(newest)
	if len(newest) == 0 && len(list) == 0 {
		return
	}
	if diff := cmp.Diff(newest, list); diff != "" {
		t.Errorf("%s: ListRuleSetVersions() mismatch (-want +got):\n%s", when, diff)
	}
}

// testRuleSets checks rule set versions through DecideChange: each must
// be the one after the latest, and one refused stores neither the
// decision nor the version.
func testRuleSets(t *testing.T, s store.Store) {
	checkRuleSets(t, s, "before any")
	var want []store.RuleSetVersion
	refuse := func(stage string, versions ...int64) {
		t.Helper()
		for _, v := range versions {
			when := fmt.Sprintf("%s: version %d", stage, v)
			proposed, _, err := decideRuleSet(t, s, fmt.Sprintf("rs-%s-%d", stage, v), newRuleSet(v, ""))
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("%s: DecideChange = %v, want ErrConflict", when, err)
			}
			checkChanges(t, s, when, proposed)
			checkRuleSets(t, s, when, want...)
		}
	}
	refuse("none stored", 2, 0, -1)

	// An empty file is stored as none, and reads back nil.
	v1 := newRuleSet(1, "rs-1")
	v1.Rules = []byte{}
	_, decided, err := decideRuleSet(t, s, "rs-1", v1)
	if err != nil {
		t.Fatalf("DecideChange(rs-1) adding version 1 = %v", err)
	}
	v1.Rules = nil
	want = append(want, v1)
	checkChanges(t, s, "after version 1", decided)
	checkRuleSets(t, s, "after version 1", want...)

	refuse("1 stored", 1, 3, 0)

	v2 := newRuleSet(2, "rs-2")
	if _, decided, err = decideRuleSet(t, s, "rs-2", v2); err != nil {
		t.Fatalf("DecideChange(rs-2) adding version 2 = %v", err)
	}
	want = append(want, v2)
	checkChanges(t, s, "after version 2", decided)
	checkRuleSets(t, s, "after version 2", want...)

	refuse("2 stored", 2, 1, 4)

	// The rules' history is their own: a consent policy version does not
	// move it, nor it the consent policy's.
	if _, _, err := decideConsentPolicy(t, s, "cp-1", newConsentPolicy(1, "")); err != nil {
		t.Fatalf("DecideChange(cp-1) adding consent policy version 1 = %v", err)
	}
	checkRuleSets(t, s, "after a consent policy version", want...)
	v3 := newRuleSet(3, "rs-3")
	if _, _, err = decideRuleSet(t, s, "rs-3", v3); err != nil {
		t.Fatalf("DecideChange(rs-3) adding version 3 = %v", err)
	}
	want = append(want, v3)
	checkRuleSets(t, s, "after version 3", want...)
	if vs, err := s.ListConsentPolicyVersions(t.Context()); err != nil || len(vs) != 1 {
		t.Errorf("ListConsentPolicyVersions() after rule set versions = %d versions, %v; want 1", len(vs), err)
	}
}

// testConcurrentRuleSet races approvals of different changes that each
// add the next rule set version: exactly one adds it.
func testConcurrentRuleSet(t *testing.T, s store.Store) {
	ctx := t.Context()
	const racers = 4
	var want []store.RuleSetVersion
	for round := range 3 {
		when := fmt.Sprintf("round %d", round)
		v := int64(round + 1)
		errs := make([]error, racers)
		decided := make([]store.Change, racers)
		versions := make([]store.RuleSetVersion, racers)
		var wg sync.WaitGroup
		for i := range racers {
			id := fmt.Sprintf("rs-%d-%d", round, i)
			c := ruleSetChange(id, v-1)
			addChanges(t, s, c)
			decided[i], versions[i] = approval(c, "admin-2", epoch.Add(time.Duration(i)*time.Second)), newRuleSet(v, id)
			versions[i].Rules = fmt.Appendf(versions[i].Rules, "# by %s\n", id)
			e := store.ChangeEffect{RuleSet: &versions[i]}
			wg.Go(func() { errs[i] = s.DecideChange(ctx, decided[i], e) })
		}
		wg.Wait()
		winner := soleWinner(t, fmt.Sprintf("%s: DecideChange by decider", when), errs)
		want = append(want, versions[winner])
		checkChanges(t, s, when, decided[winner])
		checkRuleSets(t, s, when, want...)
	}
}

// testRuleSetEffects checks DecideChange refuses a rule set effect that
// is not the change's to have, storing nothing, and then stores the right
// one.
func testRuleSetEffects(t *testing.T, s store.Store) {
	ctx := t.Context()
	cPolicy, cRules := consentPolicyChange("c-policy", 0), ruleSetChange("c-rules", 0)
	addChanges(t, s, cPolicy, cRules)
	at := epoch.Add(time.Hour)
	rules := newRuleSet(1, "c-rules")
	unsigned := rules
	unsigned.Change = "c-other"
	otherApprover := rules
	otherApprover.By = "admin-3"
	onPolicy := rules
	onPolicy.Change = "c-policy"
	policy := newConsentPolicy(1, "c-rules")
	// A rules change whose Target is not "rules" names something else;
	// approving it must not add a rule set version.
	cMistargeted := ruleSetChange("c-mistargeted", 0)
	cMistargeted.Target = "consent_policy"
	addChanges(t, s, cMistargeted)
	mistargeted := rules
	mistargeted.Change = cMistargeted.ID

	for _, tt := range []struct {
		name string
		c    store.Change
		e    store.ChangeEffect
	}{
		{"two effects", approval(cRules, "admin-2", at), store.ChangeEffect{RuleSet: &rules, ConsentPolicy: &policy}},
		{"an effect on a rejection", func() store.Change {
			c := approval(cRules, "admin-2", at)
			c.State = "rejected"
			return c
		}(), store.ChangeEffect{RuleSet: &rules}},
		{"a rule set by a consent policy change", approval(cPolicy, "admin-2", at), store.ChangeEffect{RuleSet: &onPolicy}},
		{"a consent policy by a rules change", approval(cRules, "admin-2", at), store.ChangeEffect{ConsentPolicy: &policy}},
		{"a rule set by a change of another target", approval(cMistargeted, "admin-2", at), store.ChangeEffect{RuleSet: &mistargeted}},
		{"a rule set naming another change", approval(cRules, "admin-2", at), store.ChangeEffect{RuleSet: &unsigned}},
		{"a rule set naming another approver", approval(cRules, "admin-2", at), store.ChangeEffect{RuleSet: &otherApprover}},
	} {
		err := s.DecideChange(ctx, tt.c, tt.e)
		if err == nil {
			t.Errorf("%s: DecideChange(%s) = nil, want an error", tt.name, tt.c.ID)
		} else if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) {
			t.Errorf("%s: DecideChange(%s) = %v, want an error that is none of the sentinels", tt.name, tt.c.ID, err)
		}
		checkChanges(t, s, tt.name, cPolicy, cRules, cMistargeted)
		checkRuleSets(t, s, tt.name)
		checkConsentPolicies(t, s, tt.name)
	}

	// A rule set effect on an absent change is ErrNotFound, and adds no
	// version.
	ghost := approval(ruleSetChange("c-ghost", 0), "admin-2", at)
	ghostRules := newRuleSet(1, ghost.ID)
	if err := s.DecideChange(ctx, ghost, store.ChangeEffect{RuleSet: &ghostRules}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DecideChange(%s) of an absent change = %v, want ErrNotFound", ghost.ID, err)
	}
	checkRuleSets(t, s, "an absent change")

	decided := approval(cRules, "admin-2", at)
	if err := s.DecideChange(ctx, decided, store.ChangeEffect{RuleSet: &rules}); err != nil {
		t.Fatalf("DecideChange(c-rules) with its own effect = %v", err)
	}
	checkChanges(t, s, "after deciding", decided, cPolicy, cMistargeted)
	checkRuleSets(t, s, "after deciding", rules)
	checkConsentPolicies(t, s, "after deciding")

	// A decided change is not decided again, nor does its effect repeat.
	again := newRuleSet(2, "c-rules")
	if err := s.DecideChange(ctx, decided, store.ChangeEffect{RuleSet: &again}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DecideChange(c-rules) a second time = %v, want ErrConflict", err)
	}
	checkChanges(t, s, "after deciding again", decided)
	checkRuleSets(t, s, "after deciding again", rules)
}
