package detect

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/traits"

	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/safetext"
)

// An Alert is what a rule raises: which rule, how serious, about which
// key, when, on which events and why.
//
// Key is what the rule counted by as the events name it (a user.id, or
// whatever the rule's by gives), and Subject the user.id of the event
// that fired it. Alerts shown to people are to name a pseudonym instead,
// which is the business of where alerts are stored, not of the engine:
// the engine never sees who a pseudonym is. So Why names the field a
// rule counted by but never its value, and can be shown beside a
// pseudonym without revealing whom it is about.
type Alert struct {
	Rule            string
	Title           string
	Severity        Severity
	SpecialCategory bool
	Key             string
	Subject         string
	Time            time.Time  // the time of the event that fired it
	Events          []event.ID // the events that made it fire, in the order observed
	Why             string     // e.g. "51 distinct record.id by user.id within 10m (over 50)"
}

// Stats count what an engine has seen.
type Stats struct {
	Events       int // events observed
	Confidential int // of those, skipped as confidential
	Rules        []RuleStats
}

// RuleStats count what one rule did.
type RuleStats struct {
	Rule   string
	Fired  int
	Errors int // evaluations that failed (a missing field, a wrong type, too costly)
	// FirstError is the first failure, as "FIELD: why", and
	// FirstErrorEvent the event it was on.
	FirstError      string
	FirstErrorEvent event.ID
}

// ErrOutOfOrder is returned (wrapped) by Observe for an event earlier than
// one it has already observed.
var ErrOutOfOrder = errors.New("event earlier than one already observed")

// An Engine runs compiled rules over a stream of events. It is not safe
// for concurrent use: one goroutine observes, in time order.
type Engine struct {
	rules []*running
	conf  *confidential.Matcher
	last  time.Time
	stats Stats
}

// running is one rule with its programs and state.
type running struct {
	rule  *Rule
	when  cel.Program // when rule, or the aggregate's when
	by    cel.Program
	dist  cel.Program // distinct aggregate
	steps []cel.Program
	stats RuleStats
	// cats are the only event.category values the rule can match (nil:
	// any); Observe skips evaluating it on other events.
	cats []string

	windows   map[string]*window    // aggregate: per key
	partials  map[string][]*partial // sequence: per key, the partial match that has done steps 0..i, at i
	nextSweep time.Time
}

// Compile makes an engine of rules (from one or more files), reading the
// reference lists lists, and skipping events that conf finds confidential
// (nil: no confidential channels are configured).
//
// It refuses, with a *[ParseError] naming the rule's file, line and id,
// two rules with one id, and a rule that reads a list not in lists or
// calls in_list with a key on a plain list (or without one on a keyed
// list). Lists are not copied: they must not change afterwards.
func Compile(rules []*Rule, lists Lists, conf *confidential.Matcher) (*Engine, error) {
	return compile(rules, lists, conf, true)
}

// compile is Compile; prefilter false evaluates every rule on every event,
// for tests that show the prefilter changes nothing.
func compile(rules []*Rule, lists Lists, conf *confidential.Matcher, prefilter bool) (*Engine, error) {
	lists = maps.Clone(lists)
	dates := map[string]dateIndex{}
	seen := map[string]*Rule{}
	for _, r := range rules {
		fail := func(field, format string, args ...any) error {
			return &ParseError{File: r.File, Line: r.Line, Rule: r.ID, Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		if first, ok := seen[r.ID]; ok {
			return nil, fail("id", "repeated (first in %s at line %d)", first.File, first.Line)
		}
		seen[r.ID] = r
		for _, x := range r.exprs() {
			for _, u := range x.uses {
				l := lists[u.list]
				switch {
				case l == nil:
					return nil, fail("lists", "reads the list %s, which was not given", u.list)
				case l.keyed && !u.keyed:
					return nil, fail(x.field, "%s is a keyed list: call in_list(%q, key, value)", u.list, u.list)
				case !l.keyed && u.keyed:
					if u.fn == inListFunc {
						return nil, fail(x.field, "%s is a plain list: call in_list(%q, value)", u.list, u.list)
					}
					return nil, fail(x.field, "%s is a plain list: %s needs a keyed list", u.list, u.fn)
				}
				if _, done := dates[u.list]; u.dates && !done {
					idx, err := parseDates(l)
					if err != nil {
						return nil, fail(x.field, "%s reads %s: %v", u.fn, u.list, err)
					}
					dates[u.list] = idx
				}
			}
		}
	}
	env, err := cel.NewEnv(envOptions(lists, dates)...)
	if err != nil {
		return nil, fmt.Errorf("detect: declaring the CEL environment: %v", err)
	}
	e := &Engine{conf: conf}
	for _, r := range rules {
		fail := func(field, format string, args ...any) error {
			return &ParseError{File: r.File, Line: r.Line, Rule: r.ID, Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		prog := func(x *expr) (cel.Program, error) {
			if x == nil {
				return nil, nil
			}
			// Tracking cost as it runs is a third of the time of a cheap
			// condition; a condition whose worst case on any event is
			// within MaxCost is run without it.
			var opts []cel.ProgramOption
			if est, err := env.EstimateCost(x.ast, sizeBound{}); err != nil || est.Max > MaxCost {
				opts = append(opts, cel.CostLimit(MaxCost))
			}
			p, err := env.Program(x.ast, opts...)
			if err != nil {
				return nil, fail(x.field, "%s", safetext.Escape(err.Error()))
			}
			return p, nil
		}
		rr := &running{rule: r, stats: RuleStats{Rule: r.ID}}
		var err error
		switch {
		case r.aggregate != nil:
			rr.windows = map[string]*window{}
			if rr.when, err = prog(r.aggregate.when); err == nil {
				if rr.by, err = prog(r.aggregate.by); err == nil {
					rr.dist, err = prog(r.aggregate.distinct)
				}
			}
		case r.sequence != nil:
			rr.partials = map[string][]*partial{}
			rr.by, err = prog(r.sequence.by)
			for _, s := range r.sequence.steps {
				var p cel.Program
				if err == nil {
					p, err = prog(s)
				}
				rr.steps = append(rr.steps, p)
			}
		default:
			rr.when, err = prog(r.when)
		}
		if err != nil {
			return nil, err
		}
		if prefilter {
			rr.cats = r.categories()
		}
		e.rules = append(e.rules, rr)
	}
	return e, nil
}

// Observe runs every rule on ev and returns the alerts it fires, in the
// order the rules were compiled: at most one per rule and key (a rule
// whose by gives a list counts the event under each of its elements). Events must come in
// time order (equal times are fine); an earlier one is refused with
// ErrOutOfOrder and changes nothing.
//
// An event the confidential matcher finds confidential, by any of its
// fields including content, is counted and otherwise ignored: no rule
// sees it, and it does not advance windows. Rules see only metadata.
//
// Cost: each rule evaluates its expressions once; window state is pruned
// as event time passes (see the package documentation for the bound).
func (e *Engine) Observe(ev *event.Event) ([]Alert, error) {
	if ev.Time.Before(e.last) {
		return nil, fmt.Errorf("%w: %s is before %s", ErrOutOfOrder, ev.Time.Format(time.RFC3339Nano), e.last.Format(time.RFC3339Nano))
	}
	e.stats.Events++
	if len(e.conf.Match(ev.Fields)) > 0 {
		e.stats.Confidential++
		return nil, nil
	}
	e.last = ev.Time
	v := newVars(ev)
	cat, hasCat := "", false
	if raw, ok := ev.Field("event.category"); ok {
		cat, hasCat = event.StringValue(raw)
	}
	var alerts []Alert
	for _, r := range e.rules {
		// A rule whose condition requires another category is false on
		// this event whatever its other parts give (false && x is false
		// in CEL, even when x fails), so skipping it changes nothing.
		skip := hasCat && r.cats != nil && !slices.Contains(r.cats, cat)
		switch {
		case r.rule.aggregate != nil:
			alerts = r.observeAggregate(v, ev, skip, alerts)
		case r.rule.sequence != nil:
			alerts = r.observeSequence(v, ev, skip, alerts)
		case !skip && r.cond(r.when, r.rule.when.field, v, ev):
			a := r.alert(ev, ev.Subject(), []event.ID{ev.ID}, "an event by user.id matched: "+brief(r.rule.when.src))
			alerts = append(alerts, *a)
		}
	}
	return alerts, nil
}

// Stats returns what the engine has seen so far, with one RuleStats per
// rule in the order compiled.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Rules = make([]RuleStats, len(e.rules))
	for i, r := range e.rules {
		s.Rules[i] = r.stats
	}
	return s
}

func (r *running) alert(ev *event.Event, key string, ids []event.ID, why string) *Alert {
	r.stats.Fired++
	return &Alert{
		Rule: r.rule.ID, Title: r.rule.Title, Severity: r.rule.Severity, SpecialCategory: r.rule.SpecialCategory,
		Key: key, Subject: ev.Subject(), Time: ev.Time, Events: ids, Why: why,
	}
}

// fail counts a failed evaluation.
func (r *running) fail(field string, ev *event.Event, err error) {
	if r.stats.Errors == 0 {
		r.stats.FirstError = field + ": " + safetext.Escape(err.Error())
		r.stats.FirstErrorEvent = ev.ID
	}
	r.stats.Errors++
}

// cond evaluates a condition; a failure counts as no match.
func (r *running) cond(p cel.Program, field string, v *vars, ev *event.Event) bool {
	out, _, err := p.Eval(v)
	if err != nil {
		r.fail(field, ev, err)
		return false
	}
	b, ok := out.(types.Bool)
	if !ok {
		// The checker made it a bool; be safe all the same.
		r.fail(field, ev, fmt.Errorf("gave %s, not true or false", out.Type().TypeName()))
		return false
	}
	return bool(b)
}

// keys evaluates a by: text or a whole number, or a list of them, each
// element a key (repeats once). An empty list gives no key.
func (r *running) keys(p cel.Program, field string, v *vars, ev *event.Event) ([]string, bool) {
	out, _, err := p.Eval(v)
	if err != nil {
		r.fail(field, ev, err)
		return nil, false
	}
	if s, ok := text(out); ok {
		return []string{s}, true
	}
	l, ok := out.(traits.Lister)
	if !ok {
		r.fail(field, ev, fmt.Errorf("gave %s, want text, a whole number or a list of them", out.Type().TypeName()))
		return nil, false
	}
	var ks []string
	for it := l.Iterator(); it.HasNext() == types.True; {
		x := it.Next()
		s, ok := text(x)
		if !ok {
			r.fail(field, ev, fmt.Errorf("gave a list holding %s, want text or whole numbers", x.Type().TypeName()))
			return nil, false
		}
		if !slices.Contains(ks, s) {
			ks = append(ks, s)
		}
	}
	return ks, true
}

// key evaluates a distinct value: text or a whole number.
func (r *running) key(p cel.Program, field string, v *vars, ev *event.Event) (string, bool) {
	out, _, err := p.Eval(v)
	if err != nil {
		r.fail(field, ev, err)
		return "", false
	}
	s, ok := text(out)
	if !ok {
		r.fail(field, ev, fmt.Errorf("gave %s, want text or a whole number", out.Type().TypeName()))
		return "", false
	}
	return s, true
}

// entry is one event in an aggregate's window.
type entry struct {
	t     time.Time
	id    event.ID
	value string // distinct: the value
	seq   uint64 // distinct: the entry is live if latest[value] == seq
}

// window is one key's events within an aggregate's window, oldest first.
type window struct {
	entries []entry
	latest  map[string]uint64 // distinct only
	seq     uint64
}

// prune drops entries before cutoff.
func (w *window) prune(cutoff time.Time) {
	i := 0
	for i < len(w.entries) && w.entries[i].t.Before(cutoff) {
		if en := w.entries[i]; w.latest != nil && w.latest[en.value] == en.seq {
			delete(w.latest, en.value)
		}
		i++
	}
	// Reslicing leaves the dropped entries behind in the array until
	// append next grows it, which copies only the live ones.
	w.entries = w.entries[i:]
}

// observeAggregate appends to alerts those ev fires; skip says the
// prefilter found that ev cannot match, but time still sweeps the state.
func (r *running) observeAggregate(v *vars, ev *event.Event, skip bool, alerts []Alert) []Alert {
	a := r.rule.aggregate
	if !ev.Time.Before(r.nextSweep) {
		cutoff := ev.Time.Add(-a.window)
		for k, w := range r.windows {
			if w.prune(cutoff); len(w.entries) == 0 {
				delete(r.windows, k)
			}
		}
		r.nextSweep = ev.Time.Add(a.window)
	}
	if skip || !r.cond(r.when, a.when.field, v, ev) {
		return alerts
	}
	keys, ok := r.keys(r.by, a.by.field, v, ev)
	if !ok {
		return alerts
	}
	var value string
	if r.dist != nil {
		if value, ok = r.key(r.dist, a.distinct.field, v, ev); !ok {
			return alerts
		}
	}
	for _, key := range keys {
		if al := r.count(ev, key, value); al != nil {
			alerts = append(alerts, *al)
		}
	}
	return alerts
}

// count adds ev, with its distinct value, to key's window.
func (r *running) count(ev *event.Event, key, value string) *Alert {
	a := r.rule.aggregate
	w := r.windows[key]
	if w == nil {
		w = &window{}
		if r.dist != nil {
			w.latest = map[string]uint64{}
		}
		r.windows[key] = w
	}
	w.prune(ev.Time.Add(-a.window))
	w.seq++
	w.entries = append(w.entries, entry{t: ev.Time, id: ev.ID, value: value, seq: w.seq})
	n := len(w.entries)
	if r.dist != nil {
		w.latest[value] = w.seq
		n = len(w.latest)
		if len(w.entries) > 2*n+16 {
			w.entries = slices.DeleteFunc(w.entries, func(en entry) bool { return w.latest[en.value] != en.seq })
		}
	}
	if n <= a.over {
		return nil
	}
	var ids []event.ID
	for _, en := range w.entries {
		if w.latest == nil || w.latest[en.value] == en.seq {
			ids = append(ids, en.id)
		}
	}
	delete(r.windows, key)
	what := "events"
	if r.dist != nil {
		what = "distinct " + brief(a.distinct.src)
	}
	return r.alert(ev, key, ids, fmt.Sprintf("%d %s by %s within %s (over %d)", n, what, brief(a.by.src), a.windowS, a.over))
}

// partial is a sequence matched up to some step.
type partial struct {
	start time.Time
	ids   []event.ID
}

// observeSequence appends to alerts those ev fires; skip as for
// observeAggregate.
func (r *running) observeSequence(v *vars, ev *event.Event, skip bool, alerts []Alert) []Alert {
	s := r.rule.sequence
	cutoff := ev.Time.Add(-s.within)
	if !ev.Time.Before(r.nextSweep) {
		for k, ps := range r.partials {
			if !slices.ContainsFunc(ps, func(p *partial) bool { return p != nil && !p.start.Before(cutoff) }) {
				delete(r.partials, k)
			}
		}
		r.nextSweep = ev.Time.Add(s.within)
	}
	if skip {
		return alerts
	}
	matched := make([]bool, len(r.steps))
	hit := false
	for i, p := range r.steps {
		matched[i] = r.cond(p, s.steps[i].field, v, ev)
		hit = hit || matched[i]
	}
	if !hit {
		return alerts
	}
	keys, ok := r.keys(r.by, s.by.field, v, ev)
	if !ok {
		return alerts
	}
	for _, key := range keys {
		if a := r.advance(ev, key, matched, cutoff); a != nil {
			alerts = append(alerts, *a)
		}
	}
	return alerts
}

// advance moves key's partial matches on by ev, which matched the steps
// matched says.
func (r *running) advance(ev *event.Event, key string, matched []bool, cutoff time.Time) *Alert {
	s := r.rule.sequence
	ps := r.partials[key]
	if ps == nil {
		ps = make([]*partial, len(r.steps)-1)
	}
	last := len(r.steps) - 1
	// From the furthest step back, so that this event extends each
	// partial match at most once and never one it has just made.
	for i := last - 1; i >= 0; i-- {
		p := ps[i]
		if p == nil {
			continue
		}
		if p.start.Before(cutoff) {
			ps[i] = nil
			continue
		}
		if !matched[i+1] {
			continue
		}
		ids := append(slices.Clip(p.ids), ev.ID)
		if i+1 == last {
			// Fired: the key starts again from nothing.
			delete(r.partials, key)
			return r.alert(ev, key, ids, fmt.Sprintf("%d steps in order by %s within %s (%s from first to last)",
				len(r.steps), brief(s.by.src), s.withinS, ev.Time.Sub(p.start)))
		}
		// Of two partial matches at one step, the one that started later
		// has more time left, and so is the only one worth keeping.
		if q := ps[i+1]; q == nil || !p.start.Before(q.start) {
			ps[i+1] = &partial{start: p.start, ids: ids}
		}
	}
	if matched[0] {
		ps[0] = &partial{start: ev.Time, ids: []event.ID{ev.ID}}
	}
	if slices.ContainsFunc(ps, func(p *partial) bool { return p != nil }) {
		r.partials[key] = ps
	}
	return nil
}

// sizeBound tells the cost estimator that no value of an event is longer
// than the event's line, so that conditions over strings and lists have a
// finite worst case.
type sizeBound struct{}

func (sizeBound) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: event.MaxLineBytes}
}

func (sizeBound) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// brief returns an expression on one line, shortened for messages.
func brief(src string) string {
	s := strings.Join(strings.Fields(src), " ")
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:120], "") + "…"
	}
	return safetext.Escape(s)
}
