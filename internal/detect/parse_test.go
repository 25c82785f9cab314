package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/policy"
)

// rule is a rule with the required keys and the given body, indented for
// the list under rules.
func rule(id, body string) string {
	return "  - id: " + id + "\n    title: T\n    description: D\n    severity: high\n    special_category: false\n" + indent(body)
}

func indent(body string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(strings.TrimRight(body, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

func file(rules ...string) string { return "rules:\n" + strings.Join(rules, "") }

func TestParseGood(t *testing.T) {
	inputs := policy.DefaultDetection()
	files, err := filepath.Glob(filepath.Join("testdata", "rules", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata rule files: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rules, err := Parse(f, data, inputs)
		if err != nil {
			t.Errorf("Parse(%s) = %v", f, err)
			continue
		}
		if len(rules) == 0 {
			t.Errorf("Parse(%s) = no rules", f)
		}
	}

	rules, err := Parse("r.yaml", []byte(file(
		rule("a", "when: event.category == \"record_query\""),
		rule("b-2", "aggregate: {when: 'true', by: user.id, count: true, window: 30s, over: 1}"),
		rule("c", "aggregate:\n  when: has(record.id)\n  by: user.id\n  distinct: record.id\n  window: 31d\n  over: 10000"),
		rule("d", "sequence:\n  by: user.id\n  within: 1h\n  steps:\n    - event.category == \"record_query\"\n    - |\n      event.category == \"email\" &&\n      email.direction == \"outbound\""),
		"  - id: e\n    title: T\n    description: D\n    severity: low\n    special_category: true\n    lists: [VETTED_FAMILY, RESTRICTED_RECORDS]\n    when: in_list(\"VETTED_FAMILY\", user.id, related.user) || in_list(\"RESTRICTED_RECORDS\", fields[\"record.id\"])\n",
		rule("f", "when: time.getHours(\"Europe/London\") < 6 && fields[\"tags\"] == [\"a\"] && source.id == \"pnc\""),
	)), inputs)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	want := []struct {
		id, kind string
		line     int
	}{{"a", "when", 2}, {"b-2", "aggregate", 8}, {"c", "aggregate", 14}, {"d", "sequence", 25}, {"e", "when", 38}, {"f", "when", 45}}
	if len(rules) != len(want) {
		t.Fatalf("Parse = %d rules, want %d", len(rules), len(want))
	}
	for i, w := range want {
		if r := rules[i]; r.ID != w.id || r.Kind() != w.kind || r.Line != w.line {
			t.Errorf("rule %d = %s %s at line %d, want %s %s at line %d", i, r.ID, r.Kind(), r.Line, w.id, w.kind, w.line)
		}
	}
	if c := rules[2].aggregate; c.window != 31*24*time.Hour || c.over != 10000 || c.distinct == nil {
		t.Errorf("rule c = %+v", c)
	}
	if e := rules[4]; !e.SpecialCategory || strings.Join(e.Lists, ",") != "VETTED_FAMILY,RESTRICTED_RECORDS" {
		t.Errorf("rule e = %+v", e)
	}
}

func TestParseBad(t *testing.T) {
	long := strings.Repeat("x", MaxExpr+1)
	many := "rules:\n" + strings.Repeat(rule("x", "when: 'true'"), MaxRules+1)
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "r.yaml: line 1: empty file"},
		{"too big", strings.Repeat("#", MaxFileSize+1), "longer than"},
		{"not UTF-8", "rules: [\xff]", "not valid UTF-8"},
		{"syntax", "rules: [", "r.yaml: line 1: did not find expected node content"},
		{"two documents", file(rule("a", "when: 'true'")) + "---\nrules: []\n", "line 9: more than one YAML document"},
		{"not a mapping", "- a\n", "line 1: want a mapping, not a list"},
		{"no rules", "other: 1\n", "line 1: other: unknown key (the keys are rules)"},
		{"rules missing", "{}\n", "rules: missing"},
		{"rules not a list", "rules: {}\n", "rules: want a list of rules, not a mapping"},
		{"too many rules", many, "more than 200 rules"},
		{"anchor", file(rule("a", "when: &w 'true'")), "anchors are not allowed"},
		{"alias", "rules:\n  - &r {id: a}\n  - *r\n", "anchors are not allowed"},
		{"merge key", "rules:\n  - <<: {id: a}\n", "merge keys are not allowed"},
		{"unknown key", file(rule("a", "when: 'true'\ncolour: red")), "line 8: rule a: colour: unknown key (the keys are id, title,"},
		{"unknown key before id", "rules:\n  - colour: red\n    id: a\n", "line 2: rule a: colour: unknown key"},
		{"repeated key", file(rule("a", "when: 'true'\nwhen: 'false'")), "line 8: rule a: when: repeated key"},
		{"unknown aggregate key", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 1m, over: 1, every: 2}")), "line 7: rule a: aggregate.every: unknown key (the keys are when, by, count, distinct, window, over)"},
		{"unknown sequence key", file(rule("a", "sequence: {by: user.id, within: 1m, steps: ['true', 'true'], then: x}")), "rule a: sequence.then: unknown key"},
		{"id missing", "rules:\n  - {title: T, description: D, severity: low, special_category: false, when: 'true'}\n", "line 2: id: missing"},
		{"id upper case", file(rule("Bulk", "when: 'true'")), `line 2: id: Bulk is not a rule id`},
		{"id ends with dash", file(rule("a-", "when: 'true'")), `id: a- is not a rule id`},
		{"id not text", "rules:\n  - {id: 12, title: T}\n", "id: want text (put it in quotes), not !!int"},
		{"id repeated", file(rule("a", "when: 'true'"), rule("a", "when: 'false'")), "line 8: rule a: id: repeated (first at line 2)"},
		{"title missing", "rules:\n  - {id: a, description: D, severity: low, special_category: false, when: 'true'}\n", "rule a: title: missing"},
		{"title hidden", "rules:\n  - {id: a, title: \"T\\u202e\", description: D, severity: low, special_category: false, when: 'true'}\n", "title: contains the hidden character U+202E"},
		{"title spaces", "rules:\n  - {id: a, title: ' T', description: D, severity: low, special_category: false, when: 'true'}\n", "title: starts or ends with a space"},
		{"description too long", "rules:\n  - {id: a, title: T, description: " + strings.Repeat("d", maxDescription+1) + ", severity: low, special_category: false, when: 'true'}\n", "description: longer than 2000 bytes"},
		{"severity missing", "rules:\n  - {id: a, title: T, description: D, special_category: false, when: 'true'}\n", "rule a: severity: missing"},
		{"severity unknown", "rules:\n  - {id: a, title: T, description: D, severity: urgent, special_category: false, when: 'true'}\n", "severity: urgent is not one of low, medium, high, critical"},
		{"special_category missing", "rules:\n  - {id: a, title: T, description: D, severity: low, when: 'true'}\n", "rule a: special_category: missing"},
		{"special_category not bool", "rules:\n  - {id: a, title: T, description: D, severity: low, special_category: yes, when: 'true'}\n", "special_category: want true or false, not !!str"},
		{"special list, not marked", file(rule("a", "lists: [VETTED_FAMILY]\nwhen: in_list(\"VETTED_FAMILY\", user.id, related.user)")), "rule a: special_category: false, but the rule reads VETTED_FAMILY, a special-category list"},
		{"no kind", file(rule("a", "lists: []")), "rule a: give exactly one of when, aggregate and sequence"},
		{"two kinds", file(rule("a", "when: 'true'\nsequence: {by: user.id, within: 1m, steps: ['true', 'true']}")), "give exactly one of when, aggregate and sequence"},
		{"when does not compile", file(rule("a", "when: event.category ==")), "line 7: rule a: when: Syntax error: mismatched input '<EOF>'"},
		{"when undeclared", file(rule("a", "when: evnt.category == \"x\"")), "rule a: when: undeclared reference to 'evnt'"},
		{"when reads content", file(rule("a", "when: has(content.query)")), "undeclared reference to 'content'"},
		{"when not bool", file(rule("a", "when: event.category")), "rule a: when: want a condition that is true or false, not dyn"},
		{"when a string", file(rule("a", "when: '\"yes\"'")), "want a condition that is true or false, not string"},
		{"when empty", file(rule("a", "when: ''")), "rule a: when: empty"},
		{"when too long", file(rule("a", "when: "+long)), "when: longer than 2000 bytes"},
		{"when a number", file(rule("a", "when: 1")), "when: want text (put it in quotes), not !!int"},
		{"list undeclared", file(rule("a", "when: in_list(\"RESTRICTED_RECORDS\", record.id)")), `rule a: when: reads the list RESTRICTED_RECORDS, which the rule does not declare in lists`},
		{"list unknown", file(rule("a", "lists: [VIPS]\nwhen: 'true'")), "lists: VIPS is not a detection input of the catalogue"},
		{"list unknown in call", file(rule("a", "lists: [RESTRICTED_RECORDS]\nwhen: in_list(\"VIPS\", record.id)")), "when: in_list: VIPS is not a detection input"},
		{"list name not literal", file(rule("a", "lists: [RESTRICTED_RECORDS]\nwhen: in_list(event.action, record.id)")), "in_list's first argument must be a list id in quotes"},
		{"list declared unused", file(rule("a", "lists: [RESTRICTED_RECORDS]\nwhen: 'true'")), "rule a: lists: declares RESTRICTED_RECORDS but never reads it"},
		{"list twice", file(rule("a", "lists: [RESTRICTED_RECORDS, RESTRICTED_RECORDS]\nwhen: in_list(\"RESTRICTED_RECORDS\", record.id)")), "lists: RESTRICTED_RECORDS given twice"},
		{"lists not a list", file(rule("a", "lists: RESTRICTED_RECORDS\nwhen: 'true'")), "lists: want a list of detection input ids, not !!str"},
		{"in_list wrong arity", file(rule("a", "lists: [RESTRICTED_RECORDS]\nwhen: in_list(\"RESTRICTED_RECORDS\")")), "found no matching overload for 'in_list'"},
		{"aggregate missing window", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, over: 1}")), "rule a: aggregate.window: missing"},
		{"aggregate count and distinct", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, distinct: record.id, window: 1m, over: 1}")), "rule a: aggregate: give exactly one of count: true and distinct"},
		{"aggregate neither", file(rule("a", "aggregate: {when: 'true', by: user.id, window: 1m, over: 1}")), "give exactly one of count: true and distinct"},
		{"aggregate count false", file(rule("a", "aggregate: {when: 'true', by: user.id, count: false, window: 1m, over: 1}")), "aggregate.count: write count: true, or distinct"},
		{"aggregate by a bool", file(rule("a", "aggregate: {when: 'true', by: 'has(user.id)', count: true, window: 1m, over: 1}")), "rule a: aggregate.by: want text or a whole number, not bool"},
		{"aggregate distinct a list", file(rule("a", "aggregate: {when: 'true', by: user.id, distinct: '[1]', window: 1m, over: 1}")), "aggregate.distinct: want text or a whole number, not list(int)"},
		{"aggregate when not bool", file(rule("a", "aggregate: {when: user.id, by: user.id, count: true, window: 1m, over: 1}")), "aggregate.when: want a condition that is true or false"},
		{"window bad", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 10x, over: 1}")), `rule a: aggregate.window: 10x is not a duration`},
		{"window Go style", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 1h30m, over: 1}")), "aggregate.window: 1h30m is not a duration"},
		{"window zero", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 0m, over: 1}")), "aggregate.window: 0m is not a duration"},
		{"window too long", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 32d, over: 1}")), "aggregate.window: 32d is longer than 31d"},
		{"window a number", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 10, over: 1}")), "aggregate.window: want a duration such as 10m or 1h, not !!int"},
		{"over zero", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 1m, over: 0}")), "line 7: rule a: aggregate.over: 0 is not a whole number from 1 to 10000"},
		{"over too high", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 1m, over: 10001}")), "aggregate.over: 10001 is not a whole number from 1 to 10000"},
		{"over negative", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 1m, over: -5}")), "is not a whole number from 1 to 10000"},
		{"over text", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 1m, over: many}")), "aggregate.over: want a whole number, not !!str"},
		{"over hex", file(rule("a", "aggregate: {when: 'true', by: user.id, count: true, window: 1m, over: 0x10}")), "is not a whole number"},
		{"sequence one step", file(rule("a", "sequence: {by: user.id, within: 1h, steps: ['true']}")), "rule a: sequence.steps: want 2 to 8 steps, not 1"},
		{"sequence too many steps", file(rule("a", "sequence: {by: user.id, within: 1h, steps: ['true','true','true','true','true','true','true','true','true']}")), "want 2 to 8 steps, not 9"},
		{"sequence steps not a list", file(rule("a", "sequence: {by: user.id, within: 1h, steps: 'true'}")), "sequence.steps: want a list of conditions"},
		{"sequence step not bool", file(rule("a", "sequence: {by: user.id, within: 1h, steps: ['true', 'user.id']}")), "rule a: sequence.steps[1]: want a condition that is true or false"},
		{"sequence within missing", file(rule("a", "sequence: {by: user.id, steps: ['true', 'true']}")), "sequence.within: missing"},
		{"sequence within bad", file(rule("a", "sequence: {by: user.id, within: soon, steps: ['true', 'true']}")), "sequence.within: soon is not a duration"},
		{"sequence by timestamp", file(rule("a", "sequence: {by: time, within: 1h, steps: ['true', 'true']}")), "sequence.by: want text or a whole number, not google.protobuf.Timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tc.data), policy.DefaultDetection())
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, want a *ParseError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %q, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "r.yaml: ") {
				t.Errorf("Parse = %q, want it to name the file", err)
			}
		})
	}
}
