package identity

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lbm-project/lbm/internal/store"
)

func admin(id string) Principal {
	return Principal{Kind: KindUser, Subject: id, Role: RoleAdmin}
}

func TestDualControl(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	putPerson(t, st, store.Person{ID: "sam", Name: "Sam", Rank: "constable", Roles: []string{"staff"}})
	c, err := ProposePersonChange(ctx, st, admin("ann"), "sam", PersonChange{Roles: []string{"investigator"}}, "joins ACAC", day0)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing changes on proposal.
	if p, _ := st.PersonByID(ctx, "sam"); !slices.Equal(p.Roles, []string{"staff"}) {
		t.Errorf("roles after a proposal = %v, want unchanged", p.Roles)
	}
	// The proposer can neither approve nor reject it.
	for _, approve := range []bool{true, false} {
		if _, _, err := DecideChange(ctx, st, admin("ann"), c.ID, approve, day0); !errors.Is(err, ErrSelfApproval) {
			t.Errorf("proposer deciding (approve=%v) = %v, want ErrSelfApproval", approve, err)
		}
	}
	// Only an administrator decides.
	notAdmin := Principal{Kind: KindUser, Subject: "olu", Role: RoleOversight}
	if _, _, err := DecideChange(ctx, st, notAdmin, c.ID, true, day0); !errors.Is(err, ErrNotAdmin) {
		t.Errorf("oversight deciding = %v, want ErrNotAdmin", err)
	}
	if got, _ := st.ChangeByID(ctx, c.ID); got.State != ChangePending {
		t.Fatalf("refused decisions left the change %s", got.State)
	}
	decided, effect, err := DecideChange(ctx, st, admin("bob"), c.ID, true, day0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if decided.State != ChangeApproved || decided.DecidedBy != "bob" || effect.Person == nil || !slices.Equal(effect.Person.Roles, []string{"investigator", "staff"}) {
		t.Errorf("approved: change %+v, effect %+v", decided, effect)
	}
	if stored, _ := st.PersonByID(ctx, "sam"); !slices.Equal(stored.Roles, []string{"investigator", "staff"}) || stored.Rank != "constable" {
		t.Errorf("stored after approval: roles %v rank %q", stored.Roles, stored.Rank)
	}
	var de *DecidedError
	if _, _, err := DecideChange(ctx, st, admin("cat"), c.ID, false, day0); !errors.As(err, &de) {
		t.Errorf("deciding twice = %v, want DecidedError", err)
	}

	// A change proposed against an older version of the person is stale.
	c1, _ := ProposePersonChange(ctx, st, admin("ann"), "sam", PersonChange{Roles: []string{"dpo"}}, "covers DPO", day0)
	c2, _ := ProposePersonChange(ctx, st, admin("ann"), "sam", PersonChange{Roles: []string{"oversight"}}, "moves", day0)
	if _, _, err := DecideChange(ctx, st, admin("bob"), c1.ID, true, day0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := DecideChange(ctx, st, admin("bob"), c2.ID, true, day0); !errors.Is(err, ErrStale) {
		t.Errorf("approving a stale change = %v, want ErrStale", err)
	}

	for _, c := range []struct {
		name  string
		pc    PersonChange
		why   string
		field string
	}{
		{"unknown role", PersonChange{Roles: []string{"superuser"}}, "x", "roles"},
		{"source is not a person role", PersonChange{Roles: []string{"source"}}, "x", "roles"},
		{"adviser kind without the role", PersonChange{Roles: []string{"staff"}, Adviser: "legal"}, "x", "adviser"},
		{"unknown adviser kind", PersonChange{Roles: []string{"adviser"}, Adviser: "tax"}, "x", "adviser"},
		{"no reason", PersonChange{Roles: []string{"admin"}}, "  ", "reason"},
	} {
		var ce *ChangeError
		if _, err := ProposePersonChange(ctx, st, admin("ann"), "sam", c.pc, c.why, day0); !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%s: ProposePersonChange = %v, want ChangeError on %s", c.name, err, c.field)
		}
	}
	if _, err := ProposePersonChange(ctx, st, admin("ann"), "sam", PersonChange{Roles: []string{"dpo", "staff"}}, "again", day0); !errors.Is(err, ErrNoChange) {
		t.Errorf("a change that changes nothing = %v, want ErrNoChange", err)
	}
	if _, err := ProposePersonChange(ctx, st, Principal{Subject: "ivy", Role: RoleInvestigator}, "sam", PersonChange{Roles: []string{"admin"}}, "x", day0); !errors.Is(err, ErrNotAdmin) {
		t.Errorf("investigator proposing = %v, want ErrNotAdmin", err)
	}
	// Ranks are not part of a change at all.
	var payload map[string]any
	json.Unmarshal(c1.Payload, &payload)
	if _, ok := payload["rank"]; ok {
		t.Error("a change payload carries a rank")
	}
}

// TestDualControlProperties drives random proposals and decisions by
// random administrators and checks, after every step, that the directory
// equals what the approved changes alone explain, that no change was
// decided by its proposer, and that a decided change never moves again.
func TestDualControlProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ctx := t.Context()
		st, err := openRapidStore(t)
		if err != nil {
			rt.Fatal(err)
		}
		defer st.Close()
		people := []string{"p1", "p2"}
		admins := []string{"a1", "a2", "a3"}
		want := map[string][]string{}
		for _, id := range people {
			putPerson(t, st, store.Person{ID: id, Name: id, Roles: []string{"staff"}})
			want[id] = []string{"staff"}
		}
		roleSets := [][]string{{"staff"}, {"investigator"}, {"admin"}, {"authoriser", "investigator"}, {"oversight"}}
		var ids []string
		decidedState := map[string]string{}
		now := day0
		for step := range rapid.IntRange(1, 25).Draw(rt, "steps") {
			now = now.Add(time.Minute)
			actor := admin(rapid.SampledFrom(admins).Draw(rt, "actor"))
			if len(ids) == 0 || rapid.Bool().Draw(rt, "propose") {
				target := rapid.SampledFrom(people).Draw(rt, "target")
				roles := rapid.SampledFrom(roleSets).Draw(rt, "roles")
				c, err := ProposePersonChange(ctx, st, actor, target, PersonChange{Roles: roles}, "step", now)
				if err == nil {
					ids = append(ids, c.ID)
				} else if !errors.Is(err, ErrNoChange) {
					rt.Fatalf("step %d: propose: %v", step, err)
				}
				continue
			}
			id := rapid.SampledFrom(ids).Draw(rt, "change")
			approve := rapid.Bool().Draw(rt, "approve")
			before, _ := st.ChangeByID(ctx, id)
			c, effect, err := DecideChange(ctx, st, actor, id, approve, now)
			switch {
			case before.ProposedBy == actor.Subject:
				if !errors.Is(err, ErrSelfApproval) {
					rt.Fatalf("step %d: proposer decided: %v", step, err)
				}
			case before.State != ChangePending:
				var de *DecidedError
				if !errors.As(err, &de) {
					rt.Fatalf("step %d: re-decided a %s change: %v", step, before.State, err)
				}
			case err == nil:
				decidedState[id] = c.State
				if effect.Person != nil {
					want[c.Target] = effect.Person.Roles
				}
			case errors.Is(err, ErrStale):
			default:
				rt.Fatalf("step %d: decide: %v", step, err)
			}
			for cid, s := range decidedState {
				if got, _ := st.ChangeByID(ctx, cid); got.State != s {
					rt.Fatalf("step %d: decided change %s moved from %s to %s", step, cid, s, got.State)
				}
			}
			for pid, roles := range want {
				if got, _ := st.PersonByID(ctx, pid); !slices.Equal(got.Roles, withStaff(roles)) {
					rt.Fatalf("step %d: %s has roles %v, approved changes explain %v", step, pid, got.Roles, roles)
				}
			}
		}
		cs, _ := st.ListChanges(ctx, "")
		for _, c := range cs {
			if c.State != ChangePending && c.DecidedBy == c.ProposedBy {
				rt.Fatalf("change %s decided by its proposer %s", c.ID, c.ProposedBy)
			}
		}
	})
}

func withStaff(roles []string) []string {
	var out []string
	for _, r := range roles {
		out = withRole(out, Role(r))
	}
	if out == nil {
		out = []string{"staff"}
	}
	return out
}
