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

// The consent-level policy is kept as the catalogue is: versions added
// only by an approved change, each the one after the latest, never
// altered. Its effect also names its approver, who must be the decider.

// newConsentPolicy returns consent policy version v approved by change and
// admin-2. Its file is YAML with text outside ASCII, ending in bytes no
// text column would keep.
func newConsentPolicy(v int64, change string) store.ConsentPolicyVersion {
	return store.ConsentPolicyVersion{
		Version: v,
		Policy:  append(fmt.Appendf(nil, "base:\n  level: %d\n  description: \"Prävention – ✓\"\n", v), 0, 0xff),
		Created: epoch.Add(time.Duration(v) * time.Hour).Add(time.Nanosecond),
		Change:  change,
		By:      "admin-2",
	}
}

// consentPolicyChange returns a pending consent policy change proposed
// against the consent policy version base.
func consentPolicyChange(id string, base int64) store.Change {
	return store.Change{
		ID:         id,
		Kind:       "consent_policy",
		Target:     "consent_policy",
		Payload:    []byte(`{"yaml":"..."}`),
		Base:       base,
		Reason:     "reason for " + id,
		ProposedBy: "admin-1",
		Proposed:   epoch,
		State:      "pending",
	}
}

// decideConsentPolicy proposes a consent policy change and approves it,
// as admin-2, with v, Change set to the change's ID. It returns the change
// as proposed, as decided, and DecideChange's error.
func decideConsentPolicy(t *testing.T, s store.Store, id string, v store.ConsentPolicyVersion) (proposed, decided store.Change, err error) {
	t.Helper()
	proposed = consentPolicyChange(id, v.Version-1)
	addChanges(t, s, proposed)
	decided = approval(proposed, "admin-2", epoch.Add(time.Hour))
	v.Change = id
	err = s.DecideChange(t.Context(), decided, store.ChangeEffect{ConsentPolicy: &v})
	return proposed, decided, err
}

// checkConsentPolicies checks CurrentConsentPolicy, ConsentPolicyByVersion
// and ListConsentPolicyVersions against want, oldest first.
func checkConsentPolicies(t *testing.T, s store.Store, when string, want ...store.ConsentPolicyVersion) {
	t.Helper()
	ctx := t.Context()
	got, err := s.CurrentConsentPolicy(ctx)
	switch {
	case len(want) == 0 && !errors.Is(err, store.ErrNotFound):
		t.Errorf("%s: CurrentConsentPolicy() = version %d, %v; want ErrNotFound", when, got.Version, err)
	case len(want) > 0 && err != nil:
		t.Errorf("%s: CurrentConsentPolicy() = %v", when, err)
	case len(want) > 0:
		if diff := cmp.Diff(want[len(want)-1], got); diff != "" {
			t.Errorf("%s: CurrentConsentPolicy() mismatch (-want +got):\n%s", when, diff)
		}
	}
	for _, w := range want {
		got, err := s.ConsentPolicyByVersion(ctx, w.Version)
		if err != nil {
			t.Errorf("%s: ConsentPolicyByVersion(%d) = %v", when, w.Version, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: ConsentPolicyByVersion(%d) mismatch (-want +got):\n%s", when, w.Version, diff)
		}
	}
	for _, absent := range []int64{0, int64(len(want) + 1)} {
		if got, err := s.ConsentPolicyByVersion(ctx, absent); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: ConsentPolicyByVersion(%d) = %+v, %v; want ErrNotFound", when, absent, got, err)
		}
	}
	list, err := s.ListConsentPolicyVersions(ctx)
	if err != nil {
		t.Errorf("%s: ListConsentPolicyVersions() = %v", when, err)
		return
	}
	newest := slices.Clone(want)
	slices.Reverse(newest)
	if len(newest) == 0 && len(list) == 0 {
		return
	}
	if diff := cmp.Diff(newest, list); diff != "" {
		t.Errorf("%s: ListConsentPolicyVersions() mismatch (-want +got):\n%s", when, diff)
	}
}

// testConsentPolicies checks consent policy versions through
// DecideChange: each must be the one after the latest, and one refused
// stores neither the decision nor the version.
func testConsentPolicies(t *testing.T, s store.Store) {
	checkConsentPolicies(t, s, "before any")
	var want []store.ConsentPolicyVersion
	refuse := func(stage string, versions ...int64) {
		t.Helper()
		for _, v := range versions {
			when := fmt.Sprintf("%s: version %d", stage, v)
			proposed, _, err := decideConsentPolicy(t, s, fmt.Sprintf("cp-%s-%d", stage, v), newConsentPolicy(v, ""))
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("%s: DecideChange = %v, want ErrConflict", when, err)
			}
			checkChanges(t, s, when, proposed)
			checkConsentPolicies(t, s, when, want...)
		}
	}
	refuse("none stored", 2, 0, -1)

	// An empty file is stored as none, and reads back nil.
	v1 := newConsentPolicy(1, "cp-1")
	v1.Policy = []byte{}
	_, decided, err := decideConsentPolicy(t, s, "cp-1", v1)
	if err != nil {
		t.Fatalf("DecideChange(cp-1) adding version 1 = %v", err)
	}
	v1.Policy = nil
	want = append(want, v1)
	checkChanges(t, s, "after version 1", decided)
	checkConsentPolicies(t, s, "after version 1", want...)

	refuse("1 stored", 1, 3, 0)

	v2 := newConsentPolicy(2, "cp-2")
	if _, decided, err = decideConsentPolicy(t, s, "cp-2", v2); err != nil {
		t.Fatalf("DecideChange(cp-2) adding version 2 = %v", err)
	}
	want = append(want, v2)
	checkChanges(t, s, "after version 2", decided)
	checkConsentPolicies(t, s, "after version 2", want...)

	refuse("2 stored", 2, 1, 4)

	// The consent policy's history is its own: a catalogue version does
	// not move it, nor it the catalogue's.
	if _, _, err := decideCatalogue(t, s, "c-cat-1", newCatalogue(1, "")); err != nil {
		t.Fatalf("DecideChange(c-cat-1) adding catalogue version 1 = %v", err)
	}
	checkConsentPolicies(t, s, "after a catalogue version", want...)
	v3 := newConsentPolicy(3, "cp-3")
	if _, _, err = decideConsentPolicy(t, s, "cp-3", v3); err != nil {
		t.Fatalf("DecideChange(cp-3) adding version 3 = %v", err)
	}
	want = append(want, v3)
	checkConsentPolicies(t, s, "after version 3", want...)
	if vs, err := s.ListCatalogueVersions(t.Context()); err != nil || len(vs) != 1 {
		t.Errorf("ListCatalogueVersions() after consent policy versions = %d versions, %v; want 1", len(vs), err)
	}
}

// testConcurrentConsentPolicy races approvals of different changes that
// each add the next consent policy version: exactly one adds it.
func testConcurrentConsentPolicy(t *testing.T, s store.Store) {
	ctx := t.Context()
	const racers = 4
	var want []store.ConsentPolicyVersion
	for round := range 3 {
		when := fmt.Sprintf("round %d", round)
		v := int64(round + 1)
		errs := make([]error, racers)
		decided := make([]store.Change, racers)
		versions := make([]store.ConsentPolicyVersion, racers)
		var wg sync.WaitGroup
		for i := range racers {
			id := fmt.Sprintf("cp-%d-%d", round, i)
			c := consentPolicyChange(id, v-1)
			addChanges(t, s, c)
			decided[i], versions[i] = approval(c, "admin-2", epoch.Add(time.Duration(i)*time.Second)), newConsentPolicy(v, id)
			versions[i].Policy = fmt.Appendf(versions[i].Policy, "# by %s\n", id)
			e := store.ChangeEffect{ConsentPolicy: &versions[i]}
			wg.Go(func() { errs[i] = s.DecideChange(ctx, decided[i], e) })
		}
		wg.Wait()
		winner := soleWinner(t, fmt.Sprintf("%s: DecideChange by decider", when), errs)
		want = append(want, versions[winner])
		checkChanges(t, s, when, decided[winner])
		checkConsentPolicies(t, s, when, want...)
	}
}

// testConsentPolicyEffects checks DecideChange refuses a consent policy
// effect that is not the change's to have, storing nothing, and then
// stores the right one.
func testConsentPolicyEffects(t *testing.T, s store.Store) {
	ctx := t.Context()
	cCat, cPolicy := catalogueChange("c-cat", 0), consentPolicyChange("c-policy", 0)
	addChanges(t, s, cCat, cPolicy)
	at := epoch.Add(time.Hour)
	policy := newConsentPolicy(1, "c-policy")
	unsigned := policy
	unsigned.Change = "c-other"
	otherApprover := policy
	otherApprover.By = "admin-3"
	onCatalogue := policy
	onCatalogue.Change = "c-cat"
	catalogue := newCatalogue(1, "c-policy")

	for _, tt := range []struct {
		name string
		c    store.Change
		e    store.ChangeEffect
	}{
		{"two effects", approval(cPolicy, "admin-2", at), store.ChangeEffect{ConsentPolicy: &policy, Catalogue: &catalogue}},
		{"an effect on a rejection", func() store.Change {
			c := approval(cPolicy, "admin-2", at)
			c.State = "rejected"
			return c
		}(), store.ChangeEffect{ConsentPolicy: &policy}},
		{"a consent policy by a catalogue change", approval(cCat, "admin-2", at), store.ChangeEffect{ConsentPolicy: &onCatalogue}},
		{"a catalogue by a consent policy change", approval(cPolicy, "admin-2", at), store.ChangeEffect{Catalogue: &catalogue}},
		{"a consent policy naming another change", approval(cPolicy, "admin-2", at), store.ChangeEffect{ConsentPolicy: &unsigned}},
		{"a consent policy naming another approver", approval(cPolicy, "admin-2", at), store.ChangeEffect{ConsentPolicy: &otherApprover}},
	} {
		err := s.DecideChange(ctx, tt.c, tt.e)
		if err == nil {
			t.Errorf("%s: DecideChange(%s) = nil, want an error", tt.name, tt.c.ID)
		} else if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) {
			t.Errorf("%s: DecideChange(%s) = %v, want an error that is none of the sentinels", tt.name, tt.c.ID, err)
		}
		checkChanges(t, s, tt.name, cCat, cPolicy)
		checkConsentPolicies(t, s, tt.name)
		checkCatalogues(t, s, tt.name)
	}

	decided := approval(cPolicy, "admin-2", at)
	if err := s.DecideChange(ctx, decided, store.ChangeEffect{ConsentPolicy: &policy}); err != nil {
		t.Fatalf("DecideChange(c-policy) with its own effect = %v", err)
	}
	checkChanges(t, s, "after deciding", decided, cCat)
	checkConsentPolicies(t, s, "after deciding", policy)
	checkCatalogues(t, s, "after deciding")
}
