package detect

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/strictyaml"
)

// Bounds on a rule file. They keep a mistaken or hostile file cheap to
// read and its rules cheap to run on every event: a pack of a few dozen
// rules is a few KiB.
const (
	// MaxFileSize is the largest rule file Parse reads, in bytes.
	MaxFileSize = 256 << 10
	// MaxRules is the most rules one file may hold.
	MaxRules = 200
	// MaxExpr is the longest CEL expression, in bytes.
	MaxExpr = 2000
	// MaxWindow is the longest window or within: a month, so that
	// "many refused requests about one subject" fits.
	MaxWindow = 31 * 24 * time.Hour
	// MaxOver is the highest over of an aggregate. A key keeps up to
	// over+1 entries, so this bounds memory per key.
	MaxOver = 10_000
	// MaxSteps is the most steps of a sequence.
	MaxSteps = 8
	// MaxLists is the most reference lists one rule may read.
	MaxLists = 8
	// MaxCost bounds the CEL cost of evaluating one expression on one
	// event; a condition over an event's fields costs well under 1,000.
	MaxCost = 100_000

	maxTitle       = 200
	maxDescription = 2000
	maxKeys        = 16 // the most keys of any mapping: a rule has 9
)

// A ParseError is one problem with rules or reference lists: the file,
// the 1-based line (0 when not on one line), the rule's id ("" when not
// in a rule, or the id itself is at fault), the key that is wrong ("" when
// not one key) and what is wrong. Every error Parse, ParseList, ReadLists
// and Compile return for bad input is a *ParseError; its text reads like
//
//	rules.yaml: line 12: rule bulk-lookups: aggregate.window: "10x" is not a duration (want …)
type ParseError struct {
	File  string
	Line  int
	Rule  string
	Field string
	Msg   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Rule != "" {
		b.WriteString("rule ")
		b.WriteString(e.Rule)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Severity is how serious what a rule flags would be.
type Severity string

// The severities, least first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

var severities = []Severity{Low, Medium, High, Critical}

// A Rule is one parsed rule: every expression compiled and type-checked,
// every list it reads checked against the catalogue. It is immutable.
// [Compile] turns rules into an [Engine].
type Rule struct {
	ID              string
	Title           string
	Description     string
	Severity        Severity
	SpecialCategory bool
	Lists           []string // the ids of the reference lists it reads, as written
	File            string   // the file it came from, for messages
	Line            int      // its line in that file

	when      *expr // exactly one of when, aggregate and sequence is set
	aggregate *aggregate
	sequence  *sequence
}

// Kind returns "when", "aggregate" or "sequence": how the rule matches.
func (r *Rule) Kind() string {
	switch {
	case r.aggregate != nil:
		return "aggregate"
	case r.sequence != nil:
		return "sequence"
	}
	return "when"
}

// expr is one compiled expression of a rule.
type expr struct {
	src   string
	field string // the key it was written under, e.g. "aggregate.by"
	line  int
	ast   *cel.Ast
	uses  []listUse
}

// listUse is one call of a list function (in_list, on_date, after_date,
// values): which list, with a key or not, and whether its values must be
// dates.
type listUse struct {
	fn    string
	list  string
	keyed bool
	dates bool
}

type aggregate struct {
	when, by *expr
	distinct *expr // nil: count events
	window   time.Duration
	windowS  string // as written, for why
	over     int
}

type sequence struct {
	by      *expr
	within  time.Duration
	withinS string
	steps   []*expr
}

// The keys of each mapping, in the order the messages list them.
var (
	topKeys       = []string{"rules"}
	ruleKeys      = []string{"id", "title", "description", "severity", "special_category", "lists", "when", "aggregate", "sequence"}
	aggregateKeys = []string{"when", "by", "count", "distinct", "window", "over"}
	sequenceKeys  = []string{"by", "within", "steps"}
)

var idPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// Parse parses the rule file data, named file in messages, against the
// detection inputs the monitoring notice names (internal/policy's
// catalogue): the format is in the package documentation. It compiles
// and type-checks every expression, so that a misspelt field set, a
// condition that is not true-or-false, or a list the rule did not declare
// is found here, not when events arrive.
//
// Every error for a malformed file is a *[ParseError] naming the file,
// line, rule and key; the first problem found is reported. Rules from
// several files may be compiled together; [Compile] checks that their ids
// are unique across files.
func Parse(file string, data []byte, inputs policy.Detection) ([]*Rule, error) {
	p := parser{file: file, inputs: inputs}
	rules, e := p.parse(data)
	if e != nil {
		return nil, e
	}
	return rules, nil
}

type parser struct {
	file   string
	inputs policy.Detection
	rule   string // the id of the rule being parsed, for messages
}

func (p *parser) errorf(line int, field, format string, args ...any) *ParseError {
	return &ParseError{File: p.file, Line: line, Rule: p.rule, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse(data []byte) ([]*Rule, *ParseError) {
	if len(data) > MaxFileSize {
		return nil, p.errorf(0, "", "longer than %d bytes", MaxFileSize)
	}
	if !utf8.Valid(data) {
		return nil, p.errorf(0, "", "not valid UTF-8")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if err == io.EOF {
			return nil, p.errorf(1, "", "empty file (want a mapping with the key rules)")
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return nil, p.yamlError(err)
		}
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, p.errorf(line, "", "more than one YAML document")
	}
	if e := p.problem(strictyaml.CheckTree(&root, maxKeys, "rule", true)); e != nil {
		return nil, e
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, p.errorf(1, "", "want a mapping with the key rules")
	}
	top, e := p.fields(root.Content[0], "", topKeys)
	if e != nil {
		return nil, e
	}
	n, ok := top["rules"]
	if !ok {
		return nil, p.errorf(root.Content[0].Line, "rules", "missing")
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n.Line, "rules", "want a list of rules, not %s", strictyaml.Describe(n))
	}
	if len(n.Content) > MaxRules {
		return nil, p.errorf(n.Line, "rules", "more than %d rules", MaxRules)
	}
	env, err := checkEnv()
	if err != nil {
		// The declarations are constant and tested.
		panic("detect: declaring the CEL environment: " + err.Error())
	}
	var rules []*Rule
	seen := map[string]int{}
	for _, item := range n.Content {
		p.rule = ""
		r, e := p.parseRule(env, item)
		if e != nil {
			return nil, e
		}
		if first, ok := seen[r.ID]; ok {
			return nil, p.errorf(item.Line, "id", "repeated (first at line %d)", first)
		}
		seen[r.ID] = item.Line
		rules = append(rules, r)
	}
	return rules, nil
}

func (p *parser) parseRule(env *cel.Env, item *yaml.Node) (*Rule, *ParseError) {
	// Name the rule in every message about it, even one about a key
	// before its id.
	if item.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(item.Content); i += 2 {
			if k, v := item.Content[i], item.Content[i+1]; k.Value == "id" && v.Kind == yaml.ScalarNode && idPattern.MatchString(v.Value) {
				p.rule = v.Value
			}
		}
	}
	m, e := p.fields(item, "rules", ruleKeys)
	if e != nil {
		return nil, e
	}
	r := &Rule{File: p.file, Line: item.Line}
	p.rule = ""
	if r.ID, e = p.text(m, "id", item.Line, 64); e != nil {
		return nil, e
	}
	if !idPattern.MatchString(r.ID) {
		return nil, p.errorf(m["id"].Line, "id", "%s is not a rule id (want a-z, 0-9 and -, at most 64, not starting or ending with -)", safetext.Quote(r.ID))
	}
	p.rule = r.ID
	if r.Title, e = p.text(m, "title", item.Line, maxTitle); e != nil {
		return nil, e
	}
	if r.Description, e = p.text(m, "description", item.Line, maxDescription); e != nil {
		return nil, e
	}
	sev, e := p.text(m, "severity", item.Line, 16)
	if e != nil {
		return nil, e
	}
	r.Severity = Severity(sev)
	if !slices.Contains(severities, r.Severity) {
		return nil, p.errorf(m["severity"].Line, "severity", "%s is not one of low, medium, high, critical", safetext.Quote(sev))
	}
	sc, ok := m["special_category"]
	if !ok {
		return nil, p.errorf(item.Line, "special_category", "missing (want true or false: does the rule use special-category data?)")
	}
	if r.SpecialCategory, e = p.boolField(sc, "special_category"); e != nil {
		return nil, e
	}
	if n, ok := m["lists"]; ok {
		if r.Lists, e = p.listsField(n); e != nil {
			return nil, e
		}
	}
	for _, id := range r.Lists {
		if in, _ := p.inputs.Input(id); in.SpecialCategory && !r.SpecialCategory {
			return nil, p.errorf(sc.Line, "special_category", "false, but the rule reads %s, a special-category list (write true)", id)
		}
	}

	kinds := 0
	for _, k := range []string{"when", "aggregate", "sequence"} {
		if _, ok := m[k]; ok {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, p.errorf(item.Line, "", "give exactly one of when, aggregate and sequence")
	}
	switch {
	case m["when"] != nil:
		if r.when, e = p.expr(env, m["when"], "when", boolResult); e != nil {
			return nil, e
		}
	case m["aggregate"] != nil:
		if r.aggregate, e = p.parseAggregate(env, m["aggregate"]); e != nil {
			return nil, e
		}
	default:
		if r.sequence, e = p.parseSequence(env, m["sequence"]); e != nil {
			return nil, e
		}
	}

	// Every list the rule calls must be declared, and every list declared
	// must be called: lists says what data the rule reads, for the notice
	// and for special_category, so it must be exactly true.
	used := map[string]bool{}
	for _, x := range r.exprs() {
		for _, u := range x.uses {
			if !slices.Contains(r.Lists, u.list) {
				return nil, p.errorf(x.line, x.field, "reads the list %s, which the rule does not declare in lists", safetext.Quote(u.list))
			}
			used[u.list] = true
		}
	}
	for _, id := range r.Lists {
		if !used[id] {
			return nil, p.errorf(m["lists"].Line, "lists", "declares %s but never reads it (with in_list, on_date, after_date or values)", id)
		}
	}
	return r, nil
}

// exprs returns every expression of r.
func (r *Rule) exprs() []*expr {
	switch {
	case r.aggregate != nil:
		a := r.aggregate
		if a.distinct != nil {
			return []*expr{a.when, a.by, a.distinct}
		}
		return []*expr{a.when, a.by}
	case r.sequence != nil:
		return append([]*expr{r.sequence.by}, r.sequence.steps...)
	}
	return []*expr{r.when}
}

func (p *parser) parseAggregate(env *cel.Env, n *yaml.Node) (*aggregate, *ParseError) {
	m, e := p.fields(n, "aggregate", aggregateKeys)
	if e != nil {
		return nil, e
	}
	for _, k := range []string{"when", "by", "window", "over"} {
		if _, ok := m[k]; !ok {
			return nil, p.errorf(n.Line, "aggregate."+k, "missing (an aggregate has when, by, count or distinct, window and over)")
		}
	}
	a := &aggregate{}
	if a.when, e = p.expr(env, m["when"], "aggregate.when", boolResult); e != nil {
		return nil, e
	}
	if a.by, e = p.expr(env, m["by"], "aggregate.by", keyResult); e != nil {
		return nil, e
	}
	c, hasCount := m["count"]
	d, hasDistinct := m["distinct"]
	switch {
	case hasCount == hasDistinct:
		return nil, p.errorf(n.Line, "aggregate", "give exactly one of count: true and distinct")
	case hasCount:
		v, e := p.boolField(c, "aggregate.count")
		if e != nil {
			return nil, e
		}
		if !v {
			return nil, p.errorf(c.Line, "aggregate.count", "write count: true, or distinct")
		}
	default:
		if a.distinct, e = p.expr(env, d, "aggregate.distinct", keyResult); e != nil {
			return nil, e
		}
	}
	if a.window, a.windowS, e = p.duration(m["window"], "aggregate.window"); e != nil {
		return nil, e
	}
	if a.over, e = p.intField(m["over"], "aggregate.over", 1, MaxOver); e != nil {
		return nil, e
	}
	return a, nil
}

func (p *parser) parseSequence(env *cel.Env, n *yaml.Node) (*sequence, *ParseError) {
	m, e := p.fields(n, "sequence", sequenceKeys)
	if e != nil {
		return nil, e
	}
	for _, k := range sequenceKeys {
		if _, ok := m[k]; !ok {
			return nil, p.errorf(n.Line, "sequence."+k, "missing (a sequence has by, within and steps)")
		}
	}
	s := &sequence{}
	if s.by, e = p.expr(env, m["by"], "sequence.by", keyResult); e != nil {
		return nil, e
	}
	if s.within, s.withinS, e = p.duration(m["within"], "sequence.within"); e != nil {
		return nil, e
	}
	steps := m["steps"]
	if steps.Kind != yaml.SequenceNode {
		return nil, p.errorf(steps.Line, "sequence.steps", "want a list of conditions, not %s", strictyaml.Describe(steps))
	}
	if len(steps.Content) < 2 || len(steps.Content) > MaxSteps {
		return nil, p.errorf(steps.Line, "sequence.steps", "want 2 to %d steps, not %d (one step is a when rule)", MaxSteps, len(steps.Content))
	}
	for i, c := range steps.Content {
		x, e := p.expr(env, c, fmt.Sprintf("sequence.steps[%d]", i), boolResult)
		if e != nil {
			return nil, e
		}
		s.steps = append(s.steps, x)
	}
	return s, nil
}

// resultKind is what an expression must give.
type resultKind int

const (
	boolResult resultKind = iota // a condition: exactly bool
	keyResult                    // a key or value: string, int or dyn (checked when run); a by may be a list of them
)

// expr compiles and type-checks the expression in n, and finds the lists
// it reads.
func (p *parser) expr(env *cel.Env, n *yaml.Node, field string, want resultKind) (*expr, *ParseError) {
	src, e := p.scalarText(n, field, MaxExpr, true)
	if e != nil {
		return nil, e
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		msg := "does not compile"
		if errs := iss.Errors(); len(errs) > 0 {
			// The checker names the (empty) container: noise here.
			m := strings.ReplaceAll(errs[0].Message, " (in container '')", "")
			msg = fmt.Sprintf("%s (line %d, column %d of the expression)", m, errs[0].Location.Line(), errs[0].Location.Column()+1)
			if strings.Contains(m, "undeclared reference") {
				msg += `; a field outside the known field sets is fields["name.of.field"], and content is never an input`
			}
		}
		return nil, p.errorf(n.Line, field, "%s", safetext.Escape(msg))
	}
	t := ast.OutputType()
	switch want {
	case boolResult:
		if !t.IsExactType(cel.BoolType) {
			return nil, p.errorf(n.Line, field, "want a condition that is true or false, not %s", safetext.Escape(t.String()))
		}
	case keyResult:
		if !keyType(t) && !(field != "aggregate.distinct" && t.Kind() == types.ListKind && keyType(t.Parameters()[0])) {
			return nil, p.errorf(n.Line, field, "want text or a whole number, not %s", safetext.Escape(t.String()))
		}
	}
	x := &expr{src: src, field: field, line: n.Line, ast: ast}
	var bad *ParseError
	celast.PreOrderVisit(ast.NativeRep().Expr(), celast.NewExprVisitor(func(ex celast.Expr) {
		if bad != nil || ex.Kind() != celast.CallKind {
			return
		}
		fn := ex.AsCall().FunctionName()
		takesKey, isListFunc := listFuncs[fn]
		if !isListFunc {
			return
		}
		args := ex.AsCall().Args()
		var name string
		if len(args) > 0 && args[0].Kind() == celast.LiteralKind {
			if s, ok := args[0].AsLiteral().(types.String); ok {
				name = string(s)
			}
		}
		if name == "" {
			bad = p.errorf(n.Line, field, `%s's first argument must be a list id in quotes, such as in_list("RESTRICTED_RECORDS", record.id)`, funcName(fn))
			return
		}
		if _, ok := p.inputs.Input(name); !ok {
			bad = p.errorf(n.Line, field, "%s: %s is not a detection input of the catalogue (the lists are %s)", funcName(fn), safetext.Quote(name), p.inputIDs())
			return
		}
		x.uses = append(x.uses, listUse{fn: funcName(fn), list: name, keyed: takesKey || len(args) == 3, dates: fn == onDateFunc || fn == afterDateFunc})
	}))
	if bad != nil {
		return nil, bad
	}
	return x, nil
}

// keyType reports whether t can be a key: text, a whole number, or dyn
// (checked when run).
func keyType(t *cel.Type) bool {
	return t.IsExactType(cel.StringType) || t.IsExactType(cel.IntType) || t.IsExactType(cel.DynType)
}

func (p *parser) inputIDs() string {
	var ids []string
	for _, in := range p.inputs {
		ids = append(ids, in.ID)
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

func (p *parser) listsField(n *yaml.Node) ([]string, *ParseError) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n.Line, "lists", "want a list of detection input ids, not %s", strictyaml.Describe(n))
	}
	if len(n.Content) > MaxLists {
		return nil, p.errorf(n.Line, "lists", "more than %d lists", MaxLists)
	}
	var out []string
	for _, c := range n.Content {
		v, e := p.scalar(c, "lists", "!!str", "a detection input id")
		if e != nil {
			return nil, e
		}
		if _, ok := p.inputs.Input(v); !ok {
			return nil, p.errorf(c.Line, "lists", "%s is not a detection input of the catalogue (the lists are %s)", safetext.Quote(v), p.inputIDs())
		}
		if slices.Contains(out, v) {
			return nil, p.errorf(c.Line, "lists", "%s given twice", v)
		}
		out = append(out, v)
	}
	return out, nil
}

var durationPattern = regexp.MustCompile(`^([1-9][0-9]{0,6})([smhd])$`)

// duration reads a whole number of one unit: 30s, 10m, 1h, 7d.
func (p *parser) duration(n *yaml.Node, field string) (time.Duration, string, *ParseError) {
	v, e := p.scalar(n, field, "!!str", "a duration such as 10m or 1h")
	if e != nil {
		return 0, "", e
	}
	m := durationPattern.FindStringSubmatch(v)
	if m == nil {
		return 0, "", p.errorf(n.Line, field, "%s is not a duration (want a whole number of s, m, h or d, such as 10m or 1h)", safetext.Quote(v))
	}
	i, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	d := time.Duration(i) * unit
	if d > MaxWindow {
		return 0, "", p.errorf(n.Line, field, "%s is longer than %dd", v, MaxWindow/(24*time.Hour))
	}
	return d, v, nil
}

func (p *parser) intField(n *yaml.Node, field string, lo, hi int) (int, *ParseError) {
	i, pr := strictyaml.Int(n, field, lo, hi)
	return i, p.problem(pr)
}

func (p *parser) boolField(n *yaml.Node, field string) (bool, *ParseError) {
	b, pr := strictyaml.Bool(n, field)
	return b, p.problem(pr)
}

// text reads the required key name of the mapping m at line: a string of
// one line.
func (p *parser) text(m map[string]*yaml.Node, name string, line, max int) (string, *ParseError) {
	n, ok := m[name]
	if !ok {
		return "", p.errorf(line, name, "missing")
	}
	return p.scalarText(n, name, max, false)
}

// scalarText reads a non-empty YAML string of at most max bytes, without
// hidden characters (newlines only where multiline) or surrounding spaces.
func (p *parser) scalarText(n *yaml.Node, field string, max int, multiline bool) (string, *ParseError) {
	v, e := p.scalar(n, field, "!!str", "text (put it in quotes)")
	if e != nil {
		return "", e
	}
	if multiline {
		// A block scalar (|) ends with a newline.
		v = strings.TrimRight(v, "\n")
	}
	hidden := func(r rune) bool { return safetext.Hidden(r) && !(multiline && (r == '\n' || r == '\t')) }
	switch {
	case v == "":
		return "", p.errorf(n.Line, field, "empty")
	case len(v) > max:
		return "", p.errorf(n.Line, field, "longer than %d bytes", max)
	case strings.ContainsFunc(v, hidden):
		i := strings.IndexFunc(v, hidden)
		r, _ := utf8.DecodeRuneInString(v[i:])
		return "", p.errorf(n.Line, field, "contains the hidden character %U (write one line; fold long text with >-)", r)
	case strings.TrimSpace(v) != v:
		return "", p.errorf(n.Line, field, "starts or ends with a space")
	}
	return v, nil
}

func (p *parser) scalar(n *yaml.Node, field, tag, want string) (string, *ParseError) {
	v, pr := strictyaml.Scalar(n, field, tag, want)
	return v, p.problem(pr)
}

// fields reads mapping n (strictyaml.Fields); keys below the top level
// and a rule's own are named in messages with where before them
// ("aggregate.window").
func (p *parser) fields(n *yaml.Node, where string, keys []string) (map[string]*yaml.Node, *ParseError) {
	prefix := ""
	if where != "" && where != "rules" {
		prefix = where + "."
	}
	m, pr := strictyaml.Fields(n, where, prefix, keys)
	return m, p.problem(pr)
}

func (p *parser) yamlError(err error) *ParseError { return p.problem(strictyaml.SyntaxError(err)) }

// problem is pr as a *ParseError of this file and rule; nil when pr is.
func (p *parser) problem(pr *strictyaml.Problem) *ParseError {
	if pr == nil {
		return nil
	}
	return p.errorf(pr.Line, pr.Field, "%s", pr.Msg)
}
