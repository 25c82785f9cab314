package detect

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/simulate"
)

// at is an event at a given time, for tests about dates.
func at(t *testing.T, ts, fields string) *event.Event {
	t.Helper()
	ev, err := event.Parse([]byte(`{"@timestamp":"`+ts+`",`+fields+`}`), "test")
	if err != nil {
		t.Fatalf("event.Parse: %v", err)
	}
	return ev
}

func fires(t *testing.T, e *Engine, ev *event.Event) int {
	t.Helper()
	as, err := e.Observe(ev)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return len(as)
}

// CEL's own "x in [list]" has the overload id in_list; the engine's
// in_list must not capture it.
func TestInOperatorBesideInList(t *testing.T) {
	e := engine(t, file(
		rule("cats", `when: event.category in ["record_query", "email"]`),
		rule("listed", "lists: [RESTRICTED_RECORDS]\nwhen: in_list(\"RESTRICTED_RECORDS\", user.id)"),
	), Lists{"RESTRICTED_RECORDS": NewList("u9")}, nil)
	got := observe(t, e, []in{{0, lookup("u1", "R1")}, {time.Minute, web("u1")}, {2 * time.Minute, email("u9", "a@b.example")}})
	want := []fired{{"cats", "u1", []int{1}}, {"cats", "u9", []int{3}}, {"listed", "u9", []int{3}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

func TestDates(t *testing.T) {
	lists := Lists{"LEAVE_ABSENCE": NewKeyedList(map[string][]string{
		"u1": {"2026-11-09/2026-11-13", "2026-06-01"},
	}), "LEAVERS": NewKeyedList(map[string][]string{"u2": {"2026-06-20"}})}
	rs := file(
		rule("leave", "special_category: true\nlists: [LEAVE_ABSENCE]\nwhen: on_date(\"LEAVE_ABSENCE\", user.id, time)"),
		rule("left", "lists: [LEAVERS]\nwhen: after_date(\"LEAVERS\", user.id, time)"),
	)
	rs = strings.Replace(rs, "special_category: false\n    special_category: true", "special_category: true", 1)
	for _, tc := range []struct {
		ts, user string
		want     int
	}{
		{"2026-11-08T23:59:59Z", "u1", 0},
		{"2026-11-09T00:00:00Z", "u1", 1},
		{"2026-11-13T23:59:59Z", "u1", 1},
		{"2026-11-14T00:00:00Z", "u1", 0},
		{"2026-05-31T22:59:59Z", "u1", 0}, // 23:59:59 BST on 31 May
		{"2026-05-31T23:00:00Z", "u1", 1}, // 00:00 BST on 1 June
		{"2026-06-01T22:59:59Z", "u1", 1},
		{"2026-06-01T23:00:00Z", "u1", 0},
		{"2026-11-10T12:00:00Z", "u2", 1}, // after leaving
		{"2026-06-20T22:59:59Z", "u2", 0}, // the last day, in London
		{"2026-06-20T23:00:00Z", "u2", 1},
		{"2026-06-20T12:00:00Z", "u3", 0}, // on neither list
	} {
		e := engine(t, rs, lists, nil)
		if got := fires(t, e, at(t, tc.ts, `"event":{"category":"web","action":"browse"},"user":{"id":"`+tc.user+`"}`)); got != tc.want {
			t.Errorf("%s at %s: %d alerts, want %d", tc.user, tc.ts, got, tc.want)
		}
	}
}

func TestDatesBad(t *testing.T) {
	rs, err := Parse("r.yaml", []byte(file(rule("left", "lists: [LEAVERS]\nwhen: after_date(\"LEAVERS\", user.id, time)"))), policy.DefaultDetection())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"20/11/2026", "2026-11-20/2026-11-19", "2026-11-20/", "soon"} {
		_, err := Compile(rs, Lists{"LEAVERS": NewKeyedList(map[string][]string{"u1": {v}})}, nil)
		if err == nil || !strings.Contains(err.Error(), "is not a date") {
			t.Errorf("Compile with LEAVERS value %q = %v, want not a date", v, err)
		}
	}
	_, err = Compile(rs, Lists{"LEAVERS": NewList("2026-11-20")}, nil)
	if err == nil || !strings.Contains(err.Error(), "after_date needs a keyed list") {
		t.Errorf("Compile with a plain LEAVERS = %v, want needs a keyed list", err)
	}
}

func TestValuesAndListKeys(t *testing.T) {
	units := Lists{"STAFF_UNIT": NewKeyedList(map[string][]string{"u1": {"PSD"}, "u2": {"PSD"}, "u3": {"CID"}})}
	e := engine(t, file(
		rule("same-unit", "lists: [STAFF_UNIT]\nwhen: has(related.user) && in_list(\"STAFF_UNIT\", related.user, values(\"STAFF_UNIT\", user.id))"),
		rule("per-subject", `aggregate: {when: 'has(related.user)', by: related.user, count: true, window: 1h, over: 1}`),
	), units, nil)
	rel := func(user string, related ...string) string {
		return `"event":{"category":"configuration","action":"review_query"},"user.id":"` + user + `","related.user":["` + strings.Join(related, `","`) + `"]`
	}
	got := observe(t, e, []in{{0, rel("u1", "u3")}, {time.Minute, rel("u1", "u2", "u3")}, {2 * time.Minute, rel("u9", "u2")}})
	want := []fired{
		{"same-unit", "u1", []int{2}},
		{"per-subject", "u3", []int{1, 2}},
		{"per-subject", "u2", []int{2, 3}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

func TestDomains(t *testing.T) {
	e := engine(t, file(rule("webmail", "lists: [WEBMAIL_DOMAINS]\nwhen: has(email.to) && in_list(\"WEBMAIL_DOMAINS\", domains(email.to.address))")),
		Lists{"WEBMAIL_DOMAINS": NewList("gmail.com")}, nil)
	got := observe(t, e, []in{
		{0, email("u1", "A.Person@GMail.com")},
		{time.Minute, email("u2", "gmail.com@police.example")},
		{2 * time.Minute, email("u3", "nobody")},
	})
	if diff := cmp.Diff([]fired{{"webmail", "u1", []int{1}}}, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

func TestCategories(t *testing.T) {
	for _, tc := range []struct {
		when string
		want []string
	}{
		{`event.category == "email"`, []string{"email"}},
		{`"email" == event.category && has(email.to)`, []string{"email"}},
		{`has(user.id) && event.category in ["web", "email"]`, []string{"email", "web"}},
		{`event.category == "web" || event.category == "file"`, []string{"file", "web"}},
		{`event.category in ["web", "file"] && event.category == "web"`, []string{"web"}},
		{`event.category == "web" || has(user.id)`, nil},
		{`event.category != "web"`, nil},
		{`!(event.category == "web")`, nil},
		{`[1].exists(event, event == 1) && true`, nil},
		{`has(event.category)`, nil},
	} {
		rs, err := Parse("r.yaml", []byte(file(rule("r", "when: '"+tc.when+"'"))), policy.DefaultDetection())
		if err != nil {
			t.Fatalf("Parse(%s): %v", tc.when, err)
		}
		if got := rs[0].categories(); !slices.Equal(got, tc.want) {
			t.Errorf("categories(%s) = %q, want %q", tc.when, got, tc.want)
		}
	}
}

// TestPrefilterChangesNothing runs the built-in pack, and the example
// rules, over simulated activity and the pack's test events, with and
// without the prefilter: the alerts and every rule's statistics,
// failures included, must be the same.
func TestPrefilterChangesNothing(t *testing.T) {
	inputs := policy.DefaultDetection()
	packYAML, err := os.ReadFile("pack/builtin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	packRules, err := Parse("builtin.yaml", packYAML, inputs)
	if err != nil {
		t.Fatal(err)
	}
	exYAML, err := os.ReadFile("testdata/rules/examples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exRules, err := Parse("examples.yaml", exYAML, inputs)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := ReadLists(os.DirFS("pack/testdata/lists"), inputs)
	if err != nil {
		t.Fatal(err)
	}
	var files [][]byte
	sim, err := simulate.Events(simulate.Config{People: 40, Days: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, bytes.Join(sim, []byte("\n")))
	names, _ := filepath.Glob("pack/testdata/*/*.ndjson")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	for _, rules := range [][]*Rule{packRules, exRules} {
		for i, data := range files {
			var reps [2]*Report
			for j, pre := range []bool{true, false} {
				e, err := compile(rules, WithEmpty(rules, lists), nil, pre)
				if err != nil {
					t.Fatal(err)
				}
				if reps[j], err = Replay(e, bytes.NewReader(data), "f", "test"); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(reps[1].Alerts, reps[0].Alerts); diff != "" {
				t.Errorf("file %d: alerts with the prefilter (-without +with):\n%s", i, diff)
			}
			if diff := cmp.Diff(reps[1].Stats, reps[0].Stats); diff != "" {
				t.Errorf("file %d: stats with the prefilter (-without +with):\n%s", i, diff)
			}
		}
	}
}

func TestDirectoryLists(t *testing.T) {
	left := time.Date(2026, 6, 20, 23, 30, 0, 0, time.UTC) // 00:30 BST on 21 June
	ls := DirectoryLists([]Staff{
		{ID: "u1", Unit: "CID Northern", Pattern: PatternDays},
		{ID: "u2", Unit: "Custody", Pattern: PatternShifts, LeftAt: left},
		{ID: "u3"},
		{Unit: "no id"},
	})
	want := map[string]string{
		"STAFF_UNIT":      "key,value\nu1,CID Northern\nu2,Custody\n",
		"LEAVERS":         "key,value\nu2,2026-06-21\n",
		"WORKING_PATTERN": "key,value\nu1,days\nu2,shifts\n",
	}
	if len(ls) != len(want) {
		t.Errorf("DirectoryLists gave %d lists, want %d", len(ls), len(want))
	}
	for id, w := range want {
		got := string(FormatList(ls[id]))
		if got != w {
			t.Errorf("FormatList(%s) = %q, want %q", id, got, w)
		}
		back, err := ParseList(id+".csv", []byte(got))
		if err != nil {
			t.Fatalf("ParseList(FormatList(%s)) = %v", id, err)
		}
		if again := string(FormatList(back)); again != got {
			t.Errorf("FormatList(ParseList(FormatList(%s))) = %q, want %q", id, again, got)
		}
	}
	if got := string(FormatList(NewList("b", "a,c"))); got != "value\n\"a,c\"\nb\n" {
		t.Errorf("FormatList(plain) = %q", got)
	}
}

// A field set is looked up lazily; iterating, sizing and comparing it
// must see the same map as before.
func TestLazyFieldSets(t *testing.T) {
	e := engine(t, file(
		rule("size", `when: size(record) == 2 && size(email) == 0`),
		rule("keys", `when: record.exists(k, k == "id") && !record.exists(k, k == "query")`),
		rule("equal", `when: 'record == {"id": "R1", "system": {"name": "PNC"}} && record.system == {"name": "PNC"}'`),
		rule("nested", `when: has(record.system) && has(record.system.name) && !has(record.other) && record.system.name == "PNC"`),
		rule("source", `when: source.id == "test" && fields["record.id"] == "R1"`),
	), nil, nil)
	ev := at(t, "2026-11-02T08:00:00Z", `"event":{"category":"record_query","action":"x"},"user":{"id":"u1"},"record":{"id":"R1","system":{"name":"PNC"}},"content":{"query":"SMITH"}`)
	as, err := e.Observe(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range as {
		got = append(got, a.Rule)
	}
	if want := []string{"size", "keys", "equal", "nested", "source"}; !slices.Equal(got, want) {
		t.Errorf("fired %q, want %q; stats %+v", got, want, e.Stats().Rules)
	}
}
