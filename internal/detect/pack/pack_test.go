package pack

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/policy"
)

// wantFires is how often each rule must fire on its own fire.ndjson.
// Every rule of the pack must be here, and have both files.
var wantFires = map[string]int{
	"self-lookup":                 2,
	"family-lookup":               3,
	"neighbour-lookup":            1,
	"colleague-lookup":            1,
	"restricted-record-no-case":   2,
	"bulk-record-lookups":         1,
	"bulk-export":                 1,
	"repeated-denied-access":      1,
	"out-of-hours":                2,
	"activity-on-leave":           2,
	"activity-after-leaving":      2,
	"webmail-attachments":         1,
	"victim-contact":              2, // one look-up, then contact by phone and by e-mail
	"oversight-refused-attempt":   2,
	"oversight-colleague-query":   1,
	"oversight-repeated-refusals": 1,
}

func rules(t *testing.T) []*detect.Rule {
	t.Helper()
	rs, err := Rules(policy.DefaultDetection())
	if err != nil {
		t.Fatalf("Rules: %v", err)
	}
	return rs
}

func lists(t *testing.T) detect.Lists {
	t.Helper()
	ls, err := detect.ReadLists(os.DirFS("testdata/lists"), policy.DefaultDetection())
	if err != nil {
		t.Fatalf("ReadLists: %v", err)
	}
	return ls
}

// replay runs the whole pack, as the detector does, over file.
func replay(t *testing.T, rs []*detect.Rule, ls detect.Lists, file string) *detect.Report {
	t.Helper()
	e, err := detect.Compile(rs, ls, nil)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := detect.Replay(e, bytes.NewReader(data), file, "test")
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return rep
}

// TestPack runs the whole pack over each rule's fire and no-fire files.
// On fire.ndjson the rule must fire exactly as often as wantFires says
// and no other rule may fire; on nofire.ndjson, which holds the
// near-misses, no rule may fire at all. No rule may fail to evaluate on
// any event, since a failure is a missing has() that hides a match.
func TestPack(t *testing.T) {
	rs, ls := rules(t), lists(t)
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
		if _, ok := wantFires[r.ID]; !ok {
			t.Errorf("rule %s has no entry in wantFires", r.ID)
		}
		if r.Title == "" || r.Description == "" || r.Severity == "" {
			t.Errorf("rule %s lacks a title, description or severity", r.ID)
		}
	}
	for id := range wantFires {
		if !slices.Contains(ids, id) {
			t.Errorf("wantFires names %s, which is not in the pack", id)
		}
	}
	for _, r := range rs {
		for _, kind := range []string{"fire", "nofire"} {
			file := filepath.Join("testdata", r.ID, kind+".ndjson")
			if _, err := os.Stat(file); err != nil {
				t.Errorf("rule %s: %v", r.ID, err)
				continue
			}
			rep := replay(t, rs, ls, file)
			if rep.Stats.Events == 0 {
				t.Errorf("%s: no events", file)
			}
			for _, s := range rep.Stats.Rules {
				want := 0
				if kind == "fire" && s.Rule == r.ID {
					want = wantFires[r.ID]
				}
				if s.Fired != want {
					t.Errorf("%s: rule %s fired %d times, want %d", file, s.Rule, s.Fired, want)
				}
				if s.Errors > 0 {
					t.Errorf("%s: rule %s failed %d evaluations, first %s", file, s.Rule, s.Errors, s.FirstError)
				}
			}
			for _, a := range rep.Alerts {
				if a.Rule == r.ID && kind == "fire" {
					continue
				}
				t.Logf("%s: %s %s: %s", file, a.Rule, a.Key, a.Why)
			}
		}
	}
}

// TestSpecialCategory checks each rule's flag against the lists it reads:
// Parse refuses a rule that reads a special-category list unmarked, and
// this refuses one marked without a reason, which would make its alerts
// harder to use than they need be.
func TestSpecialCategory(t *testing.T) {
	inputs := policy.DefaultDetection()
	for _, r := range rules(t) {
		special := slices.ContainsFunc(r.Lists, func(id string) bool {
			in, _ := inputs.Input(id)
			return in.SpecialCategory
		})
		if r.SpecialCategory != special {
			t.Errorf("rule %s special_category = %v, but it reads %v", r.ID, r.SpecialCategory, r.Lists)
		}
	}
}

// TestOwnLog checks that each rule matches events of only one log: every
// fire.ndjson holds either only oversight records (event.category
// configuration with lbm.break_glass) or none.
func TestOwnLog(t *testing.T) {
	for id := range wantFires {
		data, err := os.ReadFile(filepath.Join("testdata", id, "fire.ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		oversight := bytes.HasPrefix([]byte(id), []byte("oversight-"))
		for line := range bytes.Lines(data) {
			if isOversight := bytes.Contains(line, []byte(`"break_glass"`)); isOversight != oversight {
				t.Errorf("%s/fire.ndjson: %s: oversight record = %v, want %v", id, bytes.TrimSpace(line), isOversight, oversight)
			}
		}
	}
}

// The server runs the pack before an organisation has supplied any
// list: every list is then empty, and nothing fires for want of one.
func TestWithoutLists(t *testing.T) {
	rs := rules(t)
	if _, err := detect.Compile(rs, detect.WithEmpty(rs, nil), nil); err != nil {
		t.Errorf("Compile(pack, WithEmpty(pack, nil)) = %v", err)
	}
}
