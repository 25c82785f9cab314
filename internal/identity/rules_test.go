package identity

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/detect/pack"
)

func TestRulesDualControl(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	if f, v, err := CurrentRulesFile(ctx, st); err != nil || v != 0 || !bytes.Equal(f, pack.YAML) {
		t.Fatalf("rules in force at first = version %d, %v; want the built-in pack", v, err)
	}
	// Refused before anything is stored: not an administrator, the same
	// file, a file that does not parse, no reason.
	edited := append(append([]byte{}, pack.YAML...), []byte("# stricter\n")...)
	for name, try := range map[string]func() error{
		"oversight": func() error {
			_, err := ProposeRulesChange(ctx, st, Principal{Kind: KindUser, Subject: "olu", Role: RoleOversight}, edited, "stricter", day0)
			return err
		},
		"unchanged": func() error { _, err := ProposeRulesChange(ctx, st, admin("ann"), pack.YAML, "same", day0); return err },
		"malformed": func() error {
			_, err := ProposeRulesChange(ctx, st, admin("ann"), []byte("rules:\n  - id: Bad\n"), "broken", day0)
			return err
		},
		"no reason": func() error { _, err := ProposeRulesChange(ctx, st, admin("ann"), edited, " ", day0); return err },
	} {
		if try() == nil {
			t.Errorf("%s: proposal accepted", name)
		}
	}
	if cs, _ := st.ListChanges(ctx, ""); len(cs) != 0 {
		t.Fatalf("refused proposals stored %d changes", len(cs))
	}
	c, err := ProposeRulesChange(ctx, st, admin("ann"), edited, "stricter", day0)
	if err != nil || c.Kind != ChangeRules || c.Target != ChangeRules || c.Base != 0 {
		t.Fatalf("proposal = %+v, %v", c, err)
	}
	stale, err := ProposeRulesChange(ctx, st, admin("ann"), append(edited, []byte("# other\n")...), "another", day0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DecideChange(ctx, st, admin("ann"), c.ID, true, day0); !errors.Is(err, ErrSelfApproval) {
		t.Errorf("the proposer approving = %v, want ErrSelfApproval", err)
	}
	at := day0.Add(time.Hour)
	if _, effect, err := DecideChange(ctx, st, admin("bob"), c.ID, true, at); err != nil || effect.RuleSet == nil || effect.RuleSet.Version != 1 {
		t.Fatalf("approval = %+v, %v", effect, err)
	}
	if f, v, err := CurrentRulesFile(ctx, st); err != nil || v != 1 || !bytes.Equal(f, edited) {
		t.Errorf("rules in force after approval = version %d, %v", v, err)
	}
	if _, _, err := DecideChange(ctx, st, admin("bob"), stale.ID, true, at); !errors.Is(err, ErrStale) {
		t.Errorf("approving a change proposed against version 0 = %v, want ErrStale", err)
	}
}
