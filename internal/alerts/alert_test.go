package alerts

import (
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestTriageStateMachine drives an alert through random triage actions
// and checks what must hold whatever the order.
func TestTriageStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		state, referred := New, false
		for _, a := range rapid.SliceOfN(rapid.SampledFrom(Actions), 1, 30).Draw(t, "actions") {
			to, ok := next(state, a)
			if !ok {
				if Allowed(state, a) {
					t.Fatalf("Allowed(%s, %s) but next refuses", state, a)
				}
				continue
			}
			if !slices.Contains(States, to) {
				t.Fatalf("%s from %s gives %q, not a state", a, state, to)
			}
			if to == New {
				t.Fatalf("%s from %s goes back to new: an alert is new only once", a, state)
			}
			if to == Referred && a != ActRefer {
				t.Fatalf("%s from %s refers without drafting a request", a, state)
			}
			if to == Closed && state != Referred {
				t.Fatalf("closed from %s, not from referred", state)
			}
			if needsNote(a) != (a == ActDismiss || a == ActClose || a == ActReopen) {
				t.Fatalf("%s: note rule", a)
			}
			referred = referred || a == ActRefer
			state = to
		}
		if state == Closed && !referred {
			t.Fatal("closed without ever being referred")
		}
	})
}

func TestPseudonyms(t *testing.T) {
	p := NewPseudonymiser([]byte(strings.Repeat("s", 32)))
	other := NewPseudonymiser([]byte(strings.Repeat("t", 32)))
	a, b := p.Name("u00012"), p.Name("u00013")
	switch {
	case a != p.Name("u00012") || a != p.Name(" U00012 "):
		t.Error("one person has two pseudonyms")
	case a == b:
		t.Error("two people share a pseudonym")
	case a == other.Name("u00012"):
		t.Error("a pseudonym does not depend on the secret")
	case !strings.HasPrefix(a, "subject-") || len(a) != len("subject-")+13 || strings.Contains(a, "u00012"):
		t.Errorf("pseudonym %q", a)
	}
}

func TestDedup(t *testing.T) {
	e1, e2 := [16]byte{1}, [16]byte{2}
	base := dedup("activity", "r", "k", [][16]byte{e1, e2})
	for name, d := range map[string]string{
		"log":    dedup("oversight", "r", "k", [][16]byte{e1, e2}),
		"rule":   dedup("activity", "s", "k", [][16]byte{e1, e2}),
		"key":    dedup("activity", "r", "j", [][16]byte{e1, e2}),
		"events": dedup("activity", "r", "k", [][16]byte{e1}),
		"order":  dedup("activity", "r", "k", [][16]byte{e2, e1}),
		// The separators keep fields from running into each other.
		"split": dedup("activity", "r\nk", "", [][16]byte{e1, e2}),
	} {
		if d == base {
			t.Errorf("a different %s gives the same dedup", name)
		}
	}
	if dedup("activity", "r", "k", [][16]byte{e1, e2}) != base {
		t.Error("dedup is not deterministic")
	}
}
