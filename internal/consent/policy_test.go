package consent

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// okPolicy is a small valid policy; the error cases below change it.
const okPolicy = `base:
  level: 1
  min_rank: inspector
  max_duration: 90d
  review_interval: 30d
rules:
  - id: CONTENT
    description: Content is more intrusive.
    when: content
    level: 2
    min_rank: superintendent
urgent:
  when_min_rank: superintendent
  min_rank: inspector
  max_duration: 72h
`

// withRule is okPolicy with rule appended to its rules; the rule's first
// line is line 12.
func withRule(rule string) string {
	i := strings.Index(okPolicy, "urgent:")
	return okPolicy[:i] + rule + okPolicy[i:]
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(okPolicy), ranks())
	if err != nil {
		t.Fatalf("ParsePolicy(okPolicy) = %v", err)
	}
	if len(p.rules) != 1 || p.rules[0].id != "CONTENT" || p.rules[0].line != 7 || p.base.maxDuration != months || p.urgent.maxDuration != 72*3600e9 {
		t.Errorf("ParsePolicy(okPolicy) = %+v", p)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	manyRules := "base: {level: 1, min_rank: inspector, max_duration: 90d, review_interval: 30d}\nrules:\n"
	for i := range MaxRules + 1 {
		manyRules += fmt.Sprintf("  - {id: R%d, description: d, when: live, level: 2}\n", i)
	}
	tests := []struct {
		name, in string
		line     int
		field    string
		msg      string // a part of the message
	}{
		{"empty", "", 1, "", "empty file"},
		{"not a mapping", "- a\n", 1, "", "want a mapping, not a list"},
		{"two documents", okPolicy + "---\nbase: {}\n", 17, "", "more than one YAML document"},
		{"syntax", "base:\n\tlevel: 1\n", 2, "", "found character that cannot start any token"},
		{"unknown top key", okPolicy + "version: 2\n", 16, "version", "unknown key (the keys are base, rules, urgent)"},
		{"repeated top key", okPolicy + "base: {}\n", 16, "base", "repeated key"},
		{"no base", "rules: []\n", 1, "base", "missing"},
		{"base without level", strings.Replace(okPolicy, "  level: 1\n", "", 1), 2, "level", "missing"},
		{"unknown base key", strings.Replace(okPolicy, "  level: 1\n", "  levle: 1\n", 1), 2, "levle", "unknown key"},
		{"level zero", strings.Replace(okPolicy, "level: 1", "level: 0", 1), 2, "level", "not a whole number from 1 to 10"},
		{"level too high", strings.Replace(okPolicy, "level: 2", "level: 11", 1), 10, "level", "from 1 to 10"},
		{"level quoted", strings.Replace(okPolicy, "level: 1", `level: "1"`, 1), 2, "level", "want a whole number, not !!str"},
		{"level hex", strings.Replace(okPolicy, "level: 1", "level: 0x1", 1), 2, "level", "not a whole number"},
		{"bad rank", strings.Replace(okPolicy, "min_rank: superintendent", "min_rank: superintendant", 1), 11, "min_rank", "unknown rank superintendant"},
		{"bad duration", strings.Replace(okPolicy, "90d", "3 months", 1), 4, "max_duration", `"3 months" is not a duration`},
		{"go duration", strings.Replace(okPolicy, "90d", "2160h0m", 1), 4, "max_duration", "not a duration"},
		{"fractional duration", strings.Replace(okPolicy, "72h", "1.5h", 1), 15, "max_duration", "not a duration"},
		{"duration too long", strings.Replace(okPolicy, "90d", "400d", 1), 4, "max_duration", "longer than 366 days"},
		{"review longer than duration", strings.Replace(okPolicy, "review_interval: 30d", "review_interval: 91d", 1), 5, "review_interval", "longer than the base max_duration"},
		{"rules not a list", okPolicy[:strings.Index(okPolicy, "rules:")] + "rules: {}\n", 6, "rules", "want a list of rules, not a mapping"},
		{"unknown rule key", withRule("  - {id: X, description: d, when: live, level: 2, levle: 3}\n"), 12, "levle", "unknown key (the keys are id, description, when, level"},
		{"CEL syntax error", withRule("  - {id: X, description: d, when: 'content &&', level: 2}\n"), 12, "when", "Syntax error"},
		{"non-bool expression", withRule("  - {id: X, description: d, when: subjects + 1, level: 2}\n"), 12, "when", "not int"},
		{"unknown variable", withRule("  - {id: X, description: d, when: contnet, level: 2}\n"), 12, "when", "undeclared reference to 'contnet' (column 1)"},
		{"type error", withRule("  - {id: X, description: d, when: subjects > \"3\", level: 2}\n"), 12, "when", "no matching overload"},
		{"bool condition", withRule("  - {id: X, description: d, when: true, level: 2}\n"), 12, "when", "want text (put it in quotes), not !!bool"},
		{"long condition", withRule("  - {id: X, description: d, when: '" + strings.Repeat("live || ", 130) + "live', level: 2}\n"), 12, "when", "longer than 1000 bytes"},
		{"duplicate rule id", withRule("  - {id: CONTENT, description: d, when: live, level: 3}\n"), 12, "id", "duplicate rule CONTENT (first at line 7)"},
		{"bad rule id", withRule("  - {id: content, description: d, when: live, level: 3}\n"), 12, "id", "content is not a rule id"},
		{"no description", withRule("  - {id: X, when: live, level: 3}\n"), 12, "description", "missing"},
		{"hidden character", withRule("  - {id: X, description: \"a\\u202eb\", when: live, level: 3}\n"), 12, "description", "hidden character U+202E"},
		{"raises nothing", withRule("  - {id: X, description: d, when: live}\n"), 12, "", "rule X raises nothing"},
		{"ripa false", withRule("  - {id: X, description: d, when: live, ripa_required: false}\n"), 12, "ripa_required", "rules only raise"},
		{"ripa yes", withRule("  - {id: X, description: d, when: live, ripa_required: yes}\n"), 12, "ripa_required", "want true or false, not !!str"},
		{"unknown adviser", withRule("  - {id: X, description: d, when: live, advisers: [lawyer]}\n"), 12, "advisers", "unknown adviser lawyer"},
		{"adviser twice", withRule("  - {id: X, description: d, when: live, advisers: [legal, legal]}\n"), 12, "advisers", "legal given twice"},
		{"no advisers", withRule("  - {id: X, description: d, when: live, advisers: []}\n"), 12, "advisers", "want a list of one or more"},
		{"rule not a mapping", withRule("  - live\n"), 12, "rules", "want a mapping, not !!str"},
		{"too many rules", manyRules, 3, "rules", "more than 100 rules"},
		{"anchor", withRule("  - &r {id: X, description: d, when: live, level: 3}\n"), 12, "", "anchors are not allowed"},
		{"alias", okPolicy + "x: *r\n", 0, "", "unknown anchor 'r' referenced"},
		{"alias of anchor", strings.Replace(okPolicy, "  level: 1\n", "  level: &l 1\n", 1) + "other: *l\n", 2, "", "anchors are not allowed"},
		{"merge key", withRule("  - {<<: {id: X}, description: d, when: live, level: 3}\n"), 12, "<<", "merge keys are not allowed"},
		{"urgent rank not below", strings.Replace(okPolicy, "  min_rank: inspector\n  max_duration: 72h", "  min_rank: superintendent\n  max_duration: 72h", 1), 14, "min_rank", "not below when_min_rank"},
		{"urgent missing key", strings.Replace(okPolicy, "  max_duration: 72h\n", "", 1), 13, "max_duration", "missing"},
		{"too long", okPolicy + "#" + strings.Repeat("x", MaxFileSize), 0, "", "longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.in), ranks())
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePolicy = %v, want a *ParseError", err)
			}
			if pe.Line != tt.line || pe.Field != tt.field || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("ParsePolicy = %q (line %d, field %q), want line %d, field %q, message containing %q", err, pe.Line, pe.Field, tt.line, tt.field, tt.msg)
			}
		})
	}
}

func TestParsePolicyRanks(t *testing.T) {
	for _, rs := range [][]string{nil, {"inspector", ""}, {"inspector", "inspector"}} {
		_, err := ParsePolicy([]byte(okPolicy), rs)
		var pe *ParseError
		if err == nil || errors.As(err, &pe) {
			t.Errorf("ParsePolicy(ranks %q) = %v, want a plain error", rs, err)
		}
	}
	// The file names superintendent, which this list lacks.
	_, err := ParsePolicy([]byte(okPolicy), []string{"constable", "inspector"})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "min_rank" {
		t.Errorf("ParsePolicy with too few ranks = %v, want a min_rank *ParseError", err)
	}
}
