package detect

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/policy"
)

var t0 = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

// in is one event for an engine test: its offset from t0 and its fields
// as JSON members, without @timestamp.
type in struct {
	at     time.Duration
	fields string
}

func lookup(user, record string) string {
	return fmt.Sprintf(`"event":{"category":"record_query","action":"pnc_person_search"},"user.id":%q,"record.id":%q,"content.query":"SMITH"`, user, record)
}

func email(user, to string) string {
	return fmt.Sprintf(`"event":{"category":"email","action":"send"},"user.id":%q,"email.to.address":[%q]`, user, to)
}

func web(user string) string {
	return fmt.Sprintf(`"event":{"category":"web","action":"browse"},"user.id":%q`, user)
}

// tb is what the helpers need of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// parseEvent makes the event of line n (its ID is lineID(n)).
func parseEvent(t tb, n int, e in) *event.Event {
	t.Helper()
	line := fmt.Sprintf(`{"@timestamp":%q,%s}`, t0.Add(e.at).Format(time.RFC3339Nano), e.fields)
	ev, err := event.Parse([]byte(line), "test")
	if err != nil {
		t.Fatalf("event.Parse(%s) = %v", line, err)
	}
	ev.ID = lineID(n)
	return ev
}

func engine(t tb, rules string, lists Lists, conf *confidential.Matcher) *Engine {
	t.Helper()
	rs, err := Parse("r.yaml", []byte(rules), policy.DefaultDetection())
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	e, err := Compile(rs, lists, conf)
	if err != nil {
		t.Fatalf("Compile = %v", err)
	}
	return e
}

// fired is an alert as tests compare it: rule, key, and event lines.
type fired struct {
	Rule, Key string
	Lines     []int
}

func observe(t *testing.T, e *Engine, events []in) []fired {
	t.Helper()
	var got []fired
	for i, x := range events {
		alerts, err := e.Observe(parseEvent(t, i+1, x))
		if err != nil {
			t.Fatalf("Observe(event %d) = %v", i+1, err)
		}
		for _, a := range alerts {
			f := fired{Rule: a.Rule, Key: a.Key}
			for _, id := range a.Events {
				f.Lines = append(f.Lines, lineOf(id))
			}
			if !a.Time.Equal(t0.Add(x.at)) {
				t.Errorf("alert %+v at %s, want the time of event %d", f, a.Time, i+1)
			}
			got = append(got, f)
		}
	}
	return got
}

const (
	countRule = `aggregate: {when: 'event.category == "record_query"', by: user.id, count: true, window: 10m, over: 2}`
	distRule  = `aggregate: {when: 'event.category == "record_query"', by: user.id, distinct: record.id, window: 10m, over: 2}`
	seqRule   = "sequence:\n  by: user.id\n  within: 1h\n  steps:\n    - event.category == \"record_query\"\n    - event.category == \"email\" && email.to.address.exists(a, !a.endsWith(\"@police.example\"))"
	seq3Rule  = "sequence:\n  by: user.id\n  within: 1h\n  steps:\n    - event.category == \"record_query\"\n    - event.category == \"web\"\n    - event.category == \"email\""
)

func TestEngine(t *testing.T) {
	restricted := Lists{"RESTRICTED_RECORDS": NewList("R1", "123")}
	family := Lists{"VETTED_FAMILY": NewKeyedList(map[string][]string{"u1": {"u9"}})}
	for _, tc := range []struct {
		name    string
		rule    string
		special bool
		lists   Lists
		events  []in
		want    []fired
	}{
		{
			name:   "when",
			rule:   `when: event.category == "record_query" && record.id == "R1"`,
			events: []in{{0, lookup("u1", "R2")}, {1, lookup("u1", "R1")}, {2, web("u1")}, {3, lookup("u2", "R1")}},
			want:   []fired{{"a", "u1", []int{2}}, {"a", "u2", []int{4}}},
		},
		{
			name:   "when on an absent field does not match",
			rule:   `when: record.id == "R1"`,
			events: []in{{0, web("u1")}, {1, lookup("u1", "R1")}},
			want:   []fired{{"a", "u1", []int{2}}},
		},
		{
			name:   "content is not an input",
			rule:   `when: 'fields["content.query"] == "SMITH" || "content.query" in fields'`,
			events: []in{{0, lookup("u1", "R1")}},
		},
		{
			name:   "time",
			rule:   `when: time.getHours("Europe/London") == 8 && time.getMinutes() == 1`,
			events: []in{{0, web("u1")}, {time.Minute, web("u2")}},
			want:   []fired{{"a", "u2", []int{2}}},
		},
		{
			name:   "numbers",
			rule:   `when: has(record.results) && record.results > 2.5 && fields["record.results"] == 3`,
			events: []in{{0, `"event.category":"record_query","event.action":"a","user.id":"u1","record.results":2`}, {1, `"event.category":"record_query","event.action":"a","user.id":"u1","record.results":3`}},
			want:   []fired{{"a", "u1", []int{2}}},
		},
		{
			name:   "source.id",
			rule:   `when: source.id == "test" && fields["source.id"] == "test"`,
			events: []in{{0, web("u1")}},
			want:   []fired{{"a", "u1", []int{1}}},
		},
		{
			name:   "plain list",
			rule:   "lists: [RESTRICTED_RECORDS]\nwhen: has(record.id) && in_list(\"RESTRICTED_RECORDS\", record.id)",
			lists:  restricted,
			events: []in{{0, lookup("u1", "R2")}, {1, lookup("u1", "R1")}, {2, web("u1")}, {3, `"event.category":"record_query","event.action":"a","user.id":"u3","record.id":123`}},
			want:   []fired{{"a", "u1", []int{2}}, {"a", "u3", []int{4}}},
		},
		{
			name:   "plain list, list value",
			rule:   "lists: [RESTRICTED_RECORDS]\nwhen: in_list(\"RESTRICTED_RECORDS\", [\"x\", fields[\"record.id\"]])",
			lists:  restricted,
			events: []in{{0, lookup("u1", "R1")}},
			want:   []fired{{"a", "u1", []int{1}}},
		},
		{
			name:    "keyed list",
			rule:    "lists: [VETTED_FAMILY]\nwhen: in_list(\"VETTED_FAMILY\", user.id, related.user)",
			special: true,
			lists:   family,
			events: []in{
				{0, web("u1") + `,"related.user":["u8","u9"]`},
				{1, web("u2") + `,"related.user":"u9"`},
				{2, web("u1") + `,"related.user":"u8"`},
				{3, web("u1")},
			},
			want: []fired{{"a", "u1", []int{1}}},
		},
		{
			name:   "count",
			rule:   countRule,
			events: []in{{0, lookup("u1", "R1")}, {time.Minute, lookup("u2", "R1")}, {2 * time.Minute, web("u1")}, {3 * time.Minute, lookup("u1", "R1")}, {4 * time.Minute, lookup("u1", "R1")}},
			want:   []fired{{"a", "u1", []int{1, 4, 5}}},
		},
		{
			name:   "count: first event exactly at the window's start",
			rule:   countRule,
			events: []in{{0, lookup("u1", "R1")}, {time.Minute, lookup("u1", "R1")}, {10 * time.Minute, lookup("u1", "R1")}},
			want:   []fired{{"a", "u1", []int{1, 2, 3}}},
		},
		{
			name:   "count: first event one nanosecond outside",
			rule:   countRule,
			events: []in{{0, lookup("u1", "R1")}, {time.Minute, lookup("u1", "R1")}, {10*time.Minute + 1, lookup("u1", "R1")}},
		},
		{
			name: "count starts again after firing",
			rule: countRule,
			events: []in{
				{0, lookup("u1", "R1")}, {1, lookup("u1", "R1")}, {2, lookup("u1", "R1")},
				{3, lookup("u1", "R1")}, {4, lookup("u1", "R1")}, {5, lookup("u1", "R1")},
				{6, lookup("u1", "R1")},
			},
			want: []fired{{"a", "u1", []int{1, 2, 3}}, {"a", "u1", []int{4, 5, 6}}},
		},
		{
			name: "count survives a sweep of other keys",
			rule: countRule,
			events: []in{
				{0, lookup("u2", "R1")}, {time.Minute, lookup("u1", "R1")}, {9 * time.Minute, lookup("u1", "R1")},
				{11 * time.Minute, web("u3")}, {11 * time.Minute, lookup("u1", "R1")},
			},
			want: []fired{{"a", "u1", []int{2, 3, 5}}},
		},
		{
			name: "distinct",
			rule: distRule,
			events: []in{
				{0, lookup("u1", "R1")}, {1, lookup("u1", "R1")}, {2, lookup("u1", "R2")},
				{3, lookup("u2", "R3")}, {4, lookup("u1", "R1")}, {5, lookup("u1", "R3")},
			},
			want: []fired{{"a", "u1", []int{3, 5, 6}}},
		},
		{
			name: "distinct: a value seen again stays in the window",
			rule: distRule,
			events: []in{
				{0, lookup("u1", "R1")}, {time.Minute, lookup("u1", "R2")}, {9 * time.Minute, lookup("u1", "R1")},
				{10*time.Minute + 1, lookup("u1", "R3")},
			},
			want: []fired{{"a", "u1", []int{2, 3, 4}}},
		},
		{
			name: "distinct: exactly at the boundary, then one nanosecond outside",
			rule: distRule,
			events: []in{
				{0, lookup("u1", "R1")}, {time.Minute, lookup("u1", "R2")}, {10 * time.Minute, lookup("u1", "R3")},
				{20 * time.Minute, lookup("u2", "R1")}, {21 * time.Minute, lookup("u2", "R2")}, {30*time.Minute + 1, lookup("u2", "R3")},
			},
			want: []fired{{"a", "u1", []int{1, 2, 3}}},
		},
		{
			name:   "aggregate key that fails to evaluate",
			rule:   `aggregate: {when: 'true', by: record.id, count: true, window: 10m, over: 1}`,
			events: []in{{0, web("u1")}, {1, web("u1")}, {2, lookup("u1", "R1")}, {3, lookup("u2", "R1")}},
			want:   []fired{{"a", "R1", []int{3, 4}}},
		},
		{
			name:   "sequence in order",
			rule:   seqRule,
			events: []in{{0, lookup("u1", "R1")}, {time.Minute, email("u1", "x@gmail.example")}},
			want:   []fired{{"a", "u1", []int{1, 2}}},
		},
		{
			name:   "sequence exactly within",
			rule:   seqRule,
			events: []in{{0, lookup("u1", "R1")}, {time.Hour, email("u1", "x@gmail.example")}},
			want:   []fired{{"a", "u1", []int{1, 2}}},
		},
		{
			name:   "sequence one nanosecond too late",
			rule:   seqRule,
			events: []in{{0, lookup("u1", "R1")}, {time.Hour + 1, email("u1", "x@gmail.example")}},
		},
		{
			name:   "sequence out of order",
			rule:   seqRule,
			events: []in{{0, email("u1", "x@gmail.example")}, {time.Minute, lookup("u1", "R1")}},
		},
		{
			name:   "sequence of another key",
			rule:   seqRule,
			events: []in{{0, lookup("u1", "R1")}, {time.Minute, email("u2", "x@gmail.example")}, {2 * time.Minute, email("u1", "y@police.example")}},
		},
		{
			name: "sequence: the latest start is kept",
			rule: seqRule,
			events: []in{
				{0, lookup("u1", "R1")}, {50 * time.Minute, lookup("u1", "R2")},
				{70 * time.Minute, email("u1", "x@gmail.example")}, {80 * time.Minute, email("u1", "x@gmail.example")},
			},
			want: []fired{{"a", "u1", []int{2, 3}}},
		},
		{
			name: "sequence of three steps, one event per step",
			rule: seq3Rule,
			events: []in{
				{0, lookup("u1", "R1")}, {1, email("u1", "a@b.example")}, {2, web("u1")}, {3, web("u1")},
				{4, email("u1", "a@b.example")}, {5, email("u1", "a@b.example")},
			},
			want: []fired{{"a", "u1", []int{1, 4, 5}}},
		},
		{
			name: "sequence: one event is not two steps",
			rule: "sequence:\n  by: user.id\n  within: 1h\n  steps: ['event.category == \"web\"', 'event.category == \"web\"']",
			events: []in{
				{0, web("u1")}, {1, web("u1")}, {2, web("u1")},
			},
			want: []fired{{"a", "u1", []int{1, 2}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rule("a", tc.rule)
			if tc.special {
				r = strings.Replace(r, "special_category: false", "special_category: true", 1)
			}
			e := engine(t, file(r), tc.lists, nil)
			got := observe(t, e, tc.events)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
			if s := e.Stats(); s.Rules[0].Fired != len(tc.want) || s.Events != len(tc.events) {
				t.Errorf("Stats = %+v, want %d fired of %d events", s, len(tc.want), len(tc.events))
			}
		})
	}
}

func TestWhy(t *testing.T) {
	rules := file(rule("d", distRule), rule("c", countRule), rule("s", seqRule), rule("w", `when: event.category == "email"`))
	e := engine(t, rules, nil, nil)
	var whys []string
	for i, x := range []in{
		{0, lookup("u1", "R1")}, {time.Minute, lookup("u1", "R2")}, {2 * time.Minute, lookup("u1", "R3")},
		{12*time.Minute + 3*time.Second, email("u1", "x@gmail.example")},
	} {
		alerts, err := e.Observe(parseEvent(t, i+1, x))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			whys = append(whys, a.Rule+": "+a.Why)
			if a.Severity != High || a.Title != "T" || a.SpecialCategory {
				t.Errorf("alert %+v", a)
			}
		}
	}
	want := []string{
		"d: 3 distinct record.id by user.id within 10m (over 2)",
		"c: 3 events by user.id within 10m (over 2)",
		"s: 2 steps in order by user.id within 1h (10m3s from first to last)",
		`w: an event by user.id matched: event.category == "email"`,
	}
	if diff := cmp.Diff(want, whys); diff != "" {
		t.Errorf("why (-want +got):\n%s", diff)
	}
}

func TestConfidentialSkipped(t *testing.T) {
	conf, err := confidential.Parse([]byte("channels:\n  - {kind: union, name: Police Federation, addresses: [\"@polfed.example\"]}\nmarkers:\n  - {kind: legal_privilege, phrase: legally privileged}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rules := file(
		rule("any-email", `when: event.category == "email"`),
		rule("emails", `aggregate: {when: 'event.category == "email"', by: user.id, count: true, window: 1h, over: 1}`),
	)
	e := engine(t, rules, nil, conf)
	got := observe(t, e, []in{
		{0, email("u1", "rep@polfed.example")},
		{1, email("u1", "x@gmail.example") + `,"content.body":"This is Legally  Privileged."`},
		{2, email("u1", "x@gmail.example")},
	})
	want := []fired{{"any-email", "u1", []int{3}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
	if s := e.Stats(); s.Events != 3 || s.Confidential != 2 || s.Rules[1].Fired != 0 {
		t.Errorf("Stats = %+v, want 3 events, 2 confidential, no count", s)
	}
}

func TestEvaluationErrorsCounted(t *testing.T) {
	e := engine(t, file(rule("a", `when: email.direction == "outbound"`)), nil, nil)
	observe(t, e, []in{{0, email("u1", "x@y.example")}, {1, email("u1", "x@y.example")}})
	s := e.Stats().Rules[0]
	if s.Errors != 2 || lineOf(s.FirstErrorEvent) != 1 || !strings.HasPrefix(s.FirstError, "when: no such key: direction") {
		t.Errorf("Stats = %+v, want 2 errors, the first on line 1", s)
	}
}

func TestOutOfOrder(t *testing.T) {
	e := engine(t, file(rule("a", countRule)), nil, nil)
	if _, err := e.Observe(parseEvent(t, 1, in{time.Minute, lookup("u1", "R1")})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Observe(parseEvent(t, 2, in{time.Minute, lookup("u1", "R1")})); err != nil {
		t.Fatalf("Observe(same time) = %v", err)
	}
	_, err := e.Observe(parseEvent(t, 3, in{time.Minute - 1, lookup("u1", "R1")}))
	if !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("Observe(earlier) = %v, want ErrOutOfOrder", err)
	}
	if s := e.Stats(); s.Events != 2 {
		t.Errorf("Stats = %+v, want the refused event not counted", s)
	}
}

func TestCompileBad(t *testing.T) {
	inputs := policy.DefaultDetection()
	parse := func(name, data string) []*Rule {
		rs, err := Parse(name, []byte(data), inputs)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", name, err)
		}
		return rs
	}
	plain := parse("plain.yaml", file(rule("p", "lists: [RESTRICTED_RECORDS]\nwhen: in_list(\"RESTRICTED_RECORDS\", record.id)")))
	keyed := parse("keyed.yaml", file(rule("k", "lists: [RESTRICTED_RECORDS]\nwhen: in_list(\"RESTRICTED_RECORDS\", user.id, record.id)")))
	other := parse("other.yaml", file(rule("x", "when: 'true'"), rule("p", "when: 'true'")))
	for _, tc := range []struct {
		name  string
		rules []*Rule
		lists Lists
		want  string
	}{
		{"missing list", plain, nil, "plain.yaml: line 2: rule p: lists: reads the list RESTRICTED_RECORDS, which was not given"},
		{"keyed list called plain", plain, Lists{"RESTRICTED_RECORDS": NewKeyedList(nil)}, `plain.yaml: line 2: rule p: when: RESTRICTED_RECORDS is a keyed list: call in_list("RESTRICTED_RECORDS", key, value)`},
		{"plain list called keyed", keyed, Lists{"RESTRICTED_RECORDS": NewList()}, `keyed.yaml: line 2: rule k: when: RESTRICTED_RECORDS is a plain list: call in_list("RESTRICTED_RECORDS", value)`},
		{"id in two files", append(append([]*Rule{}, plain...), other...), Lists{"RESTRICTED_RECORDS": NewList()}, "other.yaml: line 8: rule p: id: repeated (first in plain.yaml at line 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.rules, tc.lists, nil)
			var pe *ParseError
			if !errors.As(err, &pe) || err.Error() != tc.want {
				t.Errorf("Compile = %v, want %q", err, tc.want)
			}
		})
	}
}
