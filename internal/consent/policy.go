package consent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/strictyaml"
)

// Adviser kinds: whose view a requirement may ask for before the
// authoriser decides.
const (
	AdviserLegal  = "legal"  // a legal adviser: confidential material, lawful basis
	AdviserDPO    = "dpo"    // the data protection officer: data kept beyond the default
	AdviserEthics = "ethics" // the ethics adviser: intrusion into many or uninvolved people
)

var adviserKinds = []string{AdviserDPO, AdviserEthics, AdviserLegal}

// Bounds on a policy file. They keep a mistaken or hostile file from
// costing much to read or to evaluate: the default file is a few KiB with
// a dozen rules of one line each.
const (
	// MaxFileSize is the largest policy file ParsePolicy reads, in bytes.
	MaxFileSize = 64 << 10
	// MaxRules is the most rules a policy may have.
	MaxRules = 100
	// MaxExpr is the longest condition (when), in bytes.
	MaxExpr = 1000
	// MaxLevel is the highest intrusion level a policy may give.
	MaxLevel = 10
	// MaxDuration is the longest max_duration or review_interval a policy
	// may give: a sanity bound, far above the 3 months of LEGAL.md §4.
	MaxDuration = 366 * 24 * time.Hour
	// MaxCost bounds the CEL cost of evaluating one condition. A
	// condition over the facts costs well under 100; the bound stops a
	// condition that loops over lists within lists.
	MaxCost = 10_000

	maxDescription = 500
	maxKeys        = 16 // the most keys of any mapping: a rule has 9
)

// A ParseError is one problem in a policy file: the 1-based line (0 when
// the problem is not on one line), the key that is wrong ("" when it is
// not one key), and what is wrong. Every error ParsePolicy returns for a
// malformed file is a *ParseError; its text reads like
// `line 12: when: undeclared reference to 'contnet' (column 1)`.
type ParseError struct {
	Line  int
	Field string
	Msg   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// A Policy is a parsed consent-level policy: a base requirement, rules that
// raise it, and the urgent route. It is immutable and safe for concurrent
// use.
type Policy struct {
	ranks    []string // lowest first
	base     effect
	baseLine int
	rules    []rule
	urgent   *urgent // nil: no urgent route
}

// An effect is what the base sets or a matching rule raises. The zero value
// of a field raises nothing.
type effect struct {
	level          int
	minRank        string
	advisers       []string // sorted
	maxDuration    time.Duration
	reviewInterval time.Duration
	ripa           bool
}

type rule struct {
	id, description, when string
	line                  int
	prg                   cel.Program
	effect
}

type urgent struct {
	line        int
	whenMinRank string
	minRank     string
	maxDuration time.Duration
}

// celEnv declares the facts as CEL variables. Its type checker makes a
// condition that names an unknown variable, or compares a string with a
// number, fail when the policy is parsed rather than when a request is.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("mode", cel.StringType),
		cel.Variable("content", cel.BoolType),
		cel.Variable("categories", cel.ListType(cel.StringType)),
		cel.Variable("subjects", cel.IntType),
		cel.Variable("collateral", cel.StringType),
		cel.Variable("confidential", cel.ListType(cel.StringType)),
		cel.Variable("investigation", cel.StringType),
		cel.Variable("live", cel.BoolType),
		cel.Variable("urgent", cel.BoolType),
		cel.Variable("purpose", cel.StringType),
		cel.Variable("window_days", cel.IntType),
		cel.ParserRecursionLimit(64),
		cel.ParserExpressionSizeLimit(MaxExpr),
	)
})

var idPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// The keys of each mapping, in the order the messages list them.
var (
	topKeys    = []string{"base", "rules", "urgent"}
	effectKeys = []string{"level", "min_rank", "advisers", "max_duration", "review_interval", "ripa_required"}
	ruleKeys   = append([]string{"id", "description", "when"}, effectKeys...)
	urgentKeys = []string{"when_min_rank", "min_rank", "max_duration"}
)

// ParsePolicy parses a policy file (the format is in the package
// documentation) against ranks, the rank ids lowest first. It compiles and
// type-checks every condition, so that a misspelt variable or a condition
// that is not true-or-false is found here and not when a request is made;
// what only the facts can show (an index out of range, a division by zero,
// exceeding [MaxCost]) is an error from [Policy.Derive].
//
// Parsing is strict, because the file decides who may authorise an
// intrusion: unknown and duplicate keys, anchors, aliases and merge keys
// are refused; every value has one spelling (levels are decimal integers
// 1 to [MaxLevel]; durations are a whole number of days or hours such as
// 90d or 72h, at most [MaxDuration]; ranks are ids from ranks; advisers
// are legal, dpo or ethics, each once); a rule raises at least one thing
// and never writes ripa_required: false, which would read as lowering it.
// The file holds one YAML document of at most [MaxFileSize] bytes and at
// most [MaxRules] rules, each condition at most [MaxExpr] bytes.
//
// Every error for a malformed file is a *[ParseError] naming the line and
// the key; the first problem found is reported. An invalid ranks list (empty,
// with an empty or repeated id) is a programming error, returned as a plain
// error.
func ParsePolicy(data []byte, ranks []string) (*Policy, error) {
	if len(ranks) == 0 {
		return nil, errors.New("consent: parsing a policy: no ranks")
	}
	for i, r := range ranks {
		if r == "" || slices.Contains(ranks[:i], r) {
			return nil, fmt.Errorf("consent: parsing a policy: rank %d is empty or repeated", i)
		}
	}
	p, e := parse(data, ranks)
	if e != nil {
		return nil, e
	}
	return p, nil
}

func parse(data []byte, ranks []string) (*Policy, *ParseError) {
	if len(data) > MaxFileSize {
		return nil, &ParseError{Msg: fmt.Sprintf("longer than %d bytes", MaxFileSize)}
	}
	if !utf8.Valid(data) {
		return nil, &ParseError{Msg: "not valid UTF-8"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if err == io.EOF {
			return nil, &ParseError{Line: 1, Msg: "empty file (want a mapping with base and rules)"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return nil, yamlError(err)
		}
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, &ParseError{Line: line, Msg: "more than one YAML document"}
	}
	if e := checkTree(&root); e != nil {
		return nil, e
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, &ParseError{Line: 1, Msg: "want a mapping with base and rules"}
	}
	top, e := fields(root.Content[0], "", topKeys)
	if e != nil {
		return nil, e
	}
	p := &Policy{ranks: slices.Clone(ranks)}

	b, ok := top["base"]
	if !ok {
		return nil, &ParseError{Line: root.Content[0].Line, Field: "base", Msg: "missing"}
	}
	m, e := fields(b, "base", effectKeys)
	if e != nil {
		return nil, e
	}
	p.baseLine = b.Line
	if p.base, e = p.parseEffect(m); e != nil {
		return nil, e
	}
	for _, k := range []string{"level", "min_rank", "max_duration", "review_interval"} {
		if _, ok := m[k]; !ok {
			return nil, &ParseError{Line: b.Line, Field: k, Msg: "missing (the base sets level, min_rank, max_duration and review_interval)"}
		}
	}
	if p.base.reviewInterval > p.base.maxDuration {
		return nil, &ParseError{Line: m["review_interval"].Line, Field: "review_interval", Msg: "longer than the base max_duration"}
	}

	if n, ok := top["rules"]; ok {
		if p.rules, e = p.parseRules(n); e != nil {
			return nil, e
		}
	}
	if n, ok := top["urgent"]; ok {
		if p.urgent, e = p.parseUrgent(n); e != nil {
			return nil, e
		}
	}
	return p, nil
}

func (p *Policy) parseRules(n *yaml.Node) ([]rule, *ParseError) {
	if n.Kind != yaml.SequenceNode {
		return nil, &ParseError{Line: n.Line, Field: "rules", Msg: "want a list of rules, not " + strictyaml.Describe(n)}
	}
	if len(n.Content) > MaxRules {
		return nil, &ParseError{Line: n.Line, Field: "rules", Msg: fmt.Sprintf("more than %d rules", MaxRules)}
	}
	env, err := celEnv()
	if err != nil {
		// The declarations are constant and tested.
		panic("consent: declaring the CEL variables: " + err.Error())
	}
	rules := make([]rule, 0, len(n.Content))
	seen := make(map[string]int)
	for _, item := range n.Content {
		m, e := fields(item, "rules", ruleKeys)
		if e != nil {
			return nil, e
		}
		r := rule{line: item.Line}
		if r.id, e = idField(m, item.Line); e != nil {
			return nil, e
		}
		if first, ok := seen[r.id]; ok {
			return nil, &ParseError{Line: m["id"].Line, Field: "id", Msg: fmt.Sprintf("duplicate rule %s (first at line %d)", r.id, first)}
		}
		seen[r.id] = item.Line
		if r.description, e = textField(m, "description", item.Line, maxDescription); e != nil {
			return nil, e
		}
		if r.when, e = textField(m, "when", item.Line, MaxExpr); e != nil {
			return nil, e
		}
		if r.prg, e = compile(env, r.when, m["when"].Line); e != nil {
			return nil, e
		}
		if r.effect, e = p.parseEffect(m); e != nil {
			return nil, e
		}
		if v, ok := m["ripa_required"]; ok && !r.ripa {
			return nil, &ParseError{Line: v.Line, Field: "ripa_required", Msg: "rules only raise: write true or leave it out"}
		}
		if r.effect.isZero() {
			return nil, &ParseError{Line: item.Line, Msg: "rule " + r.id + " raises nothing (give at least one of " + strings.Join(effectKeys, ", ") + ")"}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// compile compiles and type-checks a condition, which must be a bool.
func compile(env *cel.Env, src string, line int) (cel.Program, *ParseError) {
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		msg := "does not compile"
		if errs := iss.Errors(); len(errs) > 0 {
			// The checker names the (empty) container: noise here.
			m := strings.ReplaceAll(errs[0].Message, " (in container '')", "")
			msg = fmt.Sprintf("%s (column %d)", m, errs[0].Location.Column()+1)
		}
		return nil, &ParseError{Line: line, Field: "when", Msg: safetext.Escape(msg)}
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) {
		return nil, &ParseError{Line: line, Field: "when", Msg: "want a condition that is true or false, not " + safetext.Escape(t.String())}
	}
	prg, err := env.Program(ast, cel.CostLimit(MaxCost))
	if err != nil {
		return nil, &ParseError{Line: line, Field: "when", Msg: safetext.Escape(err.Error())}
	}
	return prg, nil
}

func (p *Policy) parseUrgent(n *yaml.Node) (*urgent, *ParseError) {
	m, e := fields(n, "urgent", urgentKeys)
	if e != nil {
		return nil, e
	}
	u := &urgent{line: n.Line}
	for _, k := range urgentKeys {
		if _, ok := m[k]; !ok {
			return nil, &ParseError{Line: n.Line, Field: k, Msg: "missing (the urgent route sets when_min_rank, min_rank and max_duration)"}
		}
	}
	if u.whenMinRank, e = p.rankField(m["when_min_rank"], "when_min_rank"); e != nil {
		return nil, e
	}
	if u.minRank, e = p.rankField(m["min_rank"], "min_rank"); e != nil {
		return nil, e
	}
	if p.rankIndex(u.minRank) >= p.rankIndex(u.whenMinRank) {
		return nil, &ParseError{Line: m["min_rank"].Line, Field: "min_rank", Msg: "not below when_min_rank (the urgent route lets a lower rank authorise)"}
	}
	if u.maxDuration, e = durationField(m["max_duration"], "max_duration"); e != nil {
		return nil, e
	}
	return u, nil
}

// parseEffect reads the effect keys present in m.
func (p *Policy) parseEffect(m map[string]*yaml.Node) (f effect, e *ParseError) {
	if n, ok := m["level"]; ok {
		if f.level, e = intField(n, "level", 1, MaxLevel); e != nil {
			return f, e
		}
	}
	if n, ok := m["min_rank"]; ok {
		if f.minRank, e = p.rankField(n, "min_rank"); e != nil {
			return f, e
		}
	}
	if n, ok := m["advisers"]; ok {
		if f.advisers, e = advisersField(n); e != nil {
			return f, e
		}
	}
	if n, ok := m["max_duration"]; ok {
		if f.maxDuration, e = durationField(n, "max_duration"); e != nil {
			return f, e
		}
	}
	if n, ok := m["review_interval"]; ok {
		if f.reviewInterval, e = durationField(n, "review_interval"); e != nil {
			return f, e
		}
	}
	if n, ok := m["ripa_required"]; ok {
		if f.ripa, e = boolField(n, "ripa_required"); e != nil {
			return f, e
		}
	}
	return f, nil
}

func (f effect) isZero() bool {
	return f.level == 0 && f.minRank == "" && len(f.advisers) == 0 && f.maxDuration == 0 && f.reviewInterval == 0 && !f.ripa
}

// rankIndex returns the place of rank r in the policy's order, or -1.
func (p *Policy) rankIndex(r string) int { return slices.Index(p.ranks, r) }

// checkTree refuses anchors, aliases and merge keys, and mappings with
// more keys than any policy mapping has (strictyaml.CheckTree).
func checkTree(n *yaml.Node) *ParseError {
	return problem(strictyaml.CheckTree(n, maxKeys, "rule", true))
}

// fields, scalar, intField, boolField and yamlError are strictyaml's
// readers, with their Problems as ParseErrors.
func fields(n *yaml.Node, where string, keys []string) (map[string]*yaml.Node, *ParseError) {
	m, p := strictyaml.Fields(n, where, "", keys)
	return m, problem(p)
}

func scalar(n *yaml.Node, name, tag, want string) (string, *ParseError) {
	v, p := strictyaml.Scalar(n, name, tag, want)
	return v, problem(p)
}

func intField(n *yaml.Node, name string, lo, hi int) (int, *ParseError) {
	i, p := strictyaml.Int(n, name, lo, hi)
	return i, problem(p)
}

func boolField(n *yaml.Node, name string) (bool, *ParseError) {
	b, p := strictyaml.Bool(n, name)
	return b, problem(p)
}

func yamlError(err error) *ParseError { return problem(strictyaml.SyntaxError(err)) }

func problem(p *strictyaml.Problem) *ParseError {
	if p == nil {
		return nil
	}
	return &ParseError{Line: p.Line, Field: p.Field, Msg: p.Msg}
}

var durationPattern = regexp.MustCompile(`^([1-9][0-9]{0,5})([dh])$`)

// durationField reads a duration written as whole days (90d) or hours
// (72h): what an authorisation's length is counted in. Go's other units
// (72h0m, 1.5h) are refused so that a duration has few spellings.
func durationField(n *yaml.Node, name string) (time.Duration, *ParseError) {
	v, e := scalar(n, name, "!!str", "a duration such as 90d or 72h")
	if e != nil {
		return 0, e
	}
	m := durationPattern.FindStringSubmatch(v)
	if m == nil {
		return 0, &ParseError{Line: n.Line, Field: name, Msg: fmt.Sprintf("%s is not a duration (want whole days or hours, such as 90d or 72h)", safetext.Quote(v))}
	}
	i, _ := strconv.Atoi(m[1])
	d := time.Duration(i) * time.Hour
	if m[2] == "d" {
		d *= 24
	}
	if d > MaxDuration {
		return 0, &ParseError{Line: n.Line, Field: name, Msg: fmt.Sprintf("%s is longer than %s", v, formatDuration(MaxDuration))}
	}
	return d, nil
}

func (p *Policy) rankField(n *yaml.Node, name string) (string, *ParseError) {
	v, e := scalar(n, name, "!!str", "a rank id")
	if e != nil {
		return "", e
	}
	if p.rankIndex(v) < 0 {
		return "", &ParseError{Line: n.Line, Field: name, Msg: fmt.Sprintf("unknown rank %s (want one of %s)", safetext.Quote(v), strings.Join(p.ranks, ", "))}
	}
	return v, nil
}

func advisersField(n *yaml.Node) ([]string, *ParseError) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, &ParseError{Line: n.Line, Field: "advisers", Msg: "want a list of one or more of legal, dpo, ethics"}
	}
	var out []string
	for _, c := range n.Content {
		v, e := scalar(c, "advisers", "!!str", "legal, dpo or ethics")
		if e != nil {
			return nil, e
		}
		if !slices.Contains(adviserKinds, v) {
			return nil, &ParseError{Line: c.Line, Field: "advisers", Msg: fmt.Sprintf("unknown adviser %s (want legal, dpo or ethics)", safetext.Quote(v))}
		}
		if slices.Contains(out, v) {
			return nil, &ParseError{Line: c.Line, Field: "advisers", Msg: v + " given twice"}
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

func idField(m map[string]*yaml.Node, itemLine int) (string, *ParseError) {
	v, e := textField(m, "id", itemLine, 64)
	if e != nil {
		return "", e
	}
	if !idPattern.MatchString(v) {
		return "", &ParseError{Line: m["id"].Line, Field: "id", Msg: fmt.Sprintf("%s is not a rule id (want A-Z, 0-9 and _, starting with a letter, at most 64 characters)", safetext.Quote(v))}
	}
	return v, nil
}

// textField reads the required key name of a rule at itemLine: a
// non-empty YAML string of at most max bytes, one line, without hidden
// characters or surrounding spaces.
func textField(m map[string]*yaml.Node, name string, itemLine, max int) (string, *ParseError) {
	n, ok := m[name]
	if !ok {
		return "", &ParseError{Line: itemLine, Field: name, Msg: "missing"}
	}
	v, e := scalar(n, name, "!!str", "text (put it in quotes)")
	fail := func(msg string) (string, *ParseError) {
		return "", &ParseError{Line: n.Line, Field: name, Msg: msg}
	}
	switch {
	case e != nil:
		return "", e
	case v == "":
		return fail("empty")
	case strings.ContainsFunc(v, safetext.Hidden):
		i := strings.IndexFunc(v, safetext.Hidden)
		r, _ := utf8.DecodeRuneInString(v[i:])
		return fail(fmt.Sprintf("contains the hidden character %U (write one line; fold long text with >-)", r))
	case strings.TrimSpace(v) != v:
		return fail("starts or ends with a space")
	case len(v) > max:
		return fail(fmt.Sprintf("longer than %d bytes", max))
	}
	return v, nil
}
