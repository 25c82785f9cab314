package detect

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"

	"github.com/lbm-project/lbm/internal/event"
)

// fieldSets are the top-level names a condition reads an event's metadata
// by, each a map: the field sets of the Elastic Common Schema that hold
// fields (not "as" and "package", which CEL reserves: use fields[…]), and
// lbm's own (record, telephony, printer, lbm). They are fixed, so that the
// type checker refuses a misspelt one when the rule is parsed.
var fieldSets = []string{
	"agent", "client", "cloud", "container", "data_stream", "destination", "device", "dll", "dns",
	"ecs", "email", "error", "event", "faas", "file", "group", "host", "http", "labels", "log",
	"network", "observer", "orchestrator", "organization", "process", "registry", "related",
	"rule", "server", "service", "source", "threat", "tls", "url", "user", "user_agent",
	"vulnerability",
	"lbm", "printer", "record", "telephony",
}

const (
	inListFunc  = "in_list"
	timeVar     = "time"
	fieldsVar   = "fields"
	inListPlain = "in_list_string_dyn"
	inListKeyed = "in_list_string_dyn_dyn"
)

// envOptions declares the variables and in_list. lists gives in_list's
// values; nil when only checking.
func envOptions(lists Lists) []cel.EnvOption {
	dynMap := cel.MapType(cel.StringType, cel.DynType)
	opts := []cel.EnvOption{
		cel.Variable(timeVar, cel.TimestampType),
		cel.Variable(fieldsVar, dynMap),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserRecursionLimit(64),
		cel.ParserExpressionSizeLimit(MaxExpr),
		cel.Function(inListFunc,
			cel.Overload(inListPlain, []*cel.Type{cel.StringType, cel.DynType}, cel.BoolType,
				cel.BinaryBinding(func(name, v ref.Val) ref.Val {
					l := lists[string(name.(types.String))]
					if l == nil || l.keyed {
						// Compile checks every list is there, in its shape.
						return types.NewErr("in_list: no plain list %s", name)
					}
					return types.Bool(anyIn(v, l.set))
				})),
			cel.Overload(inListKeyed, []*cel.Type{cel.StringType, cel.DynType, cel.DynType}, cel.BoolType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					name := string(args[0].(types.String))
					l := lists[name]
					if l == nil || !l.keyed {
						return types.NewErr("in_list: no keyed list %s", name)
					}
					found := false
					each(args[1], func(k string) bool {
						found = anyIn(args[2], l.byKey[k])
						return !found
					})
					return types.Bool(found)
				})),
		),
	}
	for _, s := range fieldSets {
		opts = append(opts, cel.Variable(s, dynMap))
	}
	return opts
}

// checkEnv is the environment Parse type-checks with. in_list is declared
// but has no lists: Compile makes the environment rules run in.
var checkEnv = sync.OnceValues(func() (*cel.Env, error) { return cel.NewEnv(envOptions(nil)...) })

// anyIn reports whether v, or any element of v when it is a list, is in
// set (by text: numbers as decimals).
func anyIn(v ref.Val, set map[string]struct{}) bool {
	if len(set) == 0 {
		return false
	}
	found := false
	each(v, func(s string) bool {
		_, found = set[s]
		return !found
	})
	return found
}

// each calls f with the text of v, or of each element of a list v, while
// f returns true. Values that have no text (bools, maps, doubles) are
// skipped: a list holds text.
func each(v ref.Val, f func(string) bool) {
	if s, ok := text(v); ok {
		f(s)
		return
	}
	l, ok := v.(traits.Lister)
	if !ok {
		return
	}
	it := l.Iterator()
	for it.HasNext() == types.True {
		if s, ok := text(it.Next()); ok && !f(s) {
			return
		}
	}
}

// text returns the text of a string or whole number.
func text(v ref.Val) (string, bool) {
	switch v := v.(type) {
	case types.String:
		return string(v), true
	case types.Int:
		return strconv.FormatInt(int64(v), 10), true
	case types.Uint:
		return strconv.FormatUint(uint64(v), 10), true
	}
	return "", false
}

// vars is one event as CEL variables. Maps are built when a rule first
// reads them, and at most once per event: most rules read one or two
// field sets, and an event has tens of fields.
type vars struct {
	ev   *event.Event
	sets map[string]map[string]any
	flat map[string]any // the variable fields
}

func newVars(ev *event.Event) *vars { return &vars{ev: ev} }

var _ interpreter.Activation = (*vars)(nil)

// ResolveName returns the value of a declared variable.
func (v *vars) ResolveName(name string) (any, bool) {
	switch name {
	case timeVar:
		return types.Timestamp{Time: v.ev.Time}, true
	case fieldsVar:
		if v.flat == nil {
			v.flat = make(map[string]any, len(v.ev.Fields)+1)
			v.metadata(v.ev.Fields, func(name string, x any) { v.flat[name] = x })
			if v.ev.Source != "" {
				v.flat["source.id"] = v.ev.Source
			}
		}
		return v.flat, true
	}
	if m, ok := v.sets[name]; ok {
		return m, true
	}
	if !slices.Contains(fieldSets, name) {
		return nil, false
	}
	// Fields are sorted by name: the set's are one run.
	prefix := name + "."
	cmp := func(f event.Field, p string) int { return strings.Compare(f.Name, p) }
	lo, _ := slices.BinarySearchFunc(v.ev.Fields, prefix, cmp)
	hi := lo
	for hi < len(v.ev.Fields) && strings.HasPrefix(v.ev.Fields[hi].Name, prefix) {
		hi++
	}
	m := map[string]any{}
	v.metadata(v.ev.Fields[lo:hi], func(name string, x any) { put(m, name[len(prefix):], x) })
	if name == "source" && v.ev.Source != "" {
		m["id"] = v.ev.Source
	}
	if v.sets == nil {
		v.sets = map[string]map[string]any{}
	}
	v.sets[name] = m
	return m, true
}

// Parent implements interpreter.Activation.
func (v *vars) Parent() interpreter.Activation { return nil }

// metadata calls f with the name and value of each metadata field of fs.
// Content is skipped here, so no condition can ever read it.
func (v *vars) metadata(fs []event.Field, f func(string, any)) {
	for _, fl := range fs {
		if fl.IsContent() || len(fl.Value) == 0 {
			continue
		}
		if fl.Name == "related.user" {
			if rs := v.ev.Related(); rs != nil {
				f(fl.Name, rs)
			}
			continue
		}
		if x, ok := value(fl.Value); ok {
			f(fl.Name, x)
		}
	}
}

// put stores x in m under the dotted name, making maps on the way. A name
// that is both a value and an object (which event.Parse refuses) keeps
// whichever came first.
func put(m map[string]any, name string, x any) {
	for {
		head, rest, nested := strings.Cut(name, ".")
		if !nested {
			if _, ok := m[head]; !ok {
				m[head] = x
			}
			return
		}
		sub, ok := m[head].(map[string]any)
		if !ok {
			if _, taken := m[head]; taken {
				return
			}
			sub = map[string]any{}
			m[head] = sub
		}
		m, name = sub, rest
	}
}

// value decodes a canonical JSON value: a string, an int64 for integral
// numbers, a float64, a bool, or a []any of those.
func value(raw []byte) (any, bool) {
	switch raw[0] {
	case '"':
		return event.StringValue(raw)
	case 't':
		return true, true
	case 'f':
		return false, true
	case '[':
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var xs []any
		if dec.Decode(&xs) != nil {
			return nil, false
		}
		for i, x := range xs {
			if n, ok := x.(json.Number); ok {
				xs[i] = number(string(n))
			}
		}
		return xs, true
	}
	if c := raw[0]; c == '-' || c >= '0' && c <= '9' {
		return number(string(raw)), true
	}
	return nil, false
}

func number(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
