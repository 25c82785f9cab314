package detect

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	celparser "github.com/google/cel-go/parser"

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
	inListFunc = "in_list"
	// inListCall is the function in_list calls are rewritten to as they
	// are parsed: CEL's own overload for "x in [list]" has the id
	// "in_list", and its dispatcher shares one namespace between function
	// names and overload ids, so a function really named in_list would
	// be called for every "in" over a list.
	inListCall    = "@in_list"
	onDateFunc    = "on_date"
	afterDateFunc = "after_date"
	valuesFunc    = "values"
	domainsFunc   = "domains"
	timeVar       = "time"
	fieldsVar     = "fields"
	inListPlain   = "lbm_in_list_string_dyn"
	inListKeyed   = "lbm_in_list_string_dyn_dyn"
)

// listFuncs are the functions whose first argument is a reference list's
// id, and whether they take a key (and so need a keyed list).
var listFuncs = map[string]bool{inListCall: false, onDateFunc: true, afterDateFunc: true, valuesFunc: true}

// funcName is the name a rule's author wrote for fn.
func funcName(fn string) string {
	if fn == inListCall {
		return inListFunc
	}
	return fn
}

// inListMacro rewrites in_list(…) to a call of inListCall.
func inListMacro(eh celparser.ExprHelper, _ celast.Expr, args []celast.Expr) (celast.Expr, *common.Error) {
	if len(args) != 2 && len(args) != 3 {
		id := int64(0)
		if len(args) > 0 {
			id = args[0].ID()
		}
		return nil, eh.NewError(id, "found no matching overload for 'in_list': it takes a list id and a value, or a list id, a key and a value")
	}
	return eh.NewCall(inListCall, args...), nil
}

// envOptions declares the variables and the functions. lists gives the
// lists' values and dates the parsed dates of those read by on_date and
// after_date; both nil when only checking.
func envOptions(lists Lists, dates map[string]dateIndex) []cel.EnvOption {
	dynMap := cel.MapType(cel.StringType, cel.DynType)
	dateFunc := func(name string, match func([]dateRange, int64) bool) cel.EnvOption {
		return cel.Function(name,
			cel.Overload(name+"_string_dyn_timestamp", []*cel.Type{cel.StringType, cel.DynType, cel.TimestampType}, cel.BoolType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					idx, ok := dates[string(args[0].(types.String))]
					if !ok {
						return types.NewErr("%s: no dated list %s", name, args[0])
					}
					day := londonDay(args[2].(types.Timestamp).Time)
					found := false
					each(args[1], func(k string) bool {
						found = match(idx[k], day)
						return !found
					})
					return types.Bool(found)
				})))
	}
	opts := []cel.EnvOption{
		// lowerAscii, upperAscii, startsWith and the like, so that a rule
		// can compare a surname however a system happens to case it.
		ext.Strings(),
		cel.Macros(cel.GlobalVarArgMacro(inListFunc, inListMacro)),
		dateFunc(onDateFunc, func(rs []dateRange, day int64) bool {
			return slices.ContainsFunc(rs, func(r dateRange) bool { return r.from <= day && day <= r.to })
		}),
		dateFunc(afterDateFunc, func(rs []dateRange, day int64) bool {
			return slices.ContainsFunc(rs, func(r dateRange) bool { return day > r.to })
		}),
		cel.Function(valuesFunc,
			cel.Overload("values_string_dyn", []*cel.Type{cel.StringType, cel.DynType}, cel.ListType(cel.StringType),
				cel.BinaryBinding(func(name, key ref.Val) ref.Val {
					l := lists[string(name.(types.String))]
					if l == nil || !l.keyed {
						return types.NewErr("values: no keyed list %s", name)
					}
					var out []string
					each(key, func(k string) bool {
						for v := range l.byKey[k] {
							out = append(out, v)
						}
						return true
					})
					slices.Sort(out)
					return types.NewStringList(types.DefaultTypeAdapter, slices.Compact(out))
				}))),
		cel.Function(domainsFunc,
			cel.Overload("domains_dyn", []*cel.Type{cel.DynType}, cel.ListType(cel.StringType),
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					var out []string
					each(v, func(a string) bool {
						if i := strings.LastIndexByte(a, '@'); i >= 0 && i+1 < len(a) {
							out = append(out, strings.ToLower(a[i+1:]))
						}
						return true
					})
					return types.NewStringList(types.DefaultTypeAdapter, out)
				}))),
		cel.Variable(timeVar, cel.TimestampType),
		cel.Variable(fieldsVar, dynMap),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserRecursionLimit(64),
		cel.ParserExpressionSizeLimit(MaxExpr),
		cel.Function(inListCall,
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
var checkEnv = sync.OnceValues(func() (*cel.Env, error) { return cel.NewEnv(envOptions(nil, nil)...) })

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

// vars is one event as CEL variables. A field set is a lazy map over the
// event's sorted fields: a rule reads two or three fields of an event that
// has tens, so decoding each only when read, rather than building maps of
// all of them, is most of the cost of a condition saved.
type vars struct {
	ev   *event.Event
	sets []*lazyMap     // those resolved so far
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
	for _, m := range v.sets {
		if m.prefix[:len(m.prefix)-1] == name {
			return m, true
		}
	}
	if !slices.Contains(fieldSets, name) {
		return nil, false
	}
	m := v.lazy(name+".", v.ev.Fields)
	v.sets = append(v.sets, m)
	return m, true
}

// lazy returns the map of the fields of fs under prefix.
func (v *vars) lazy(prefix string, fs []event.Field) *lazyMap {
	// Fields are sorted by name: those under a prefix are one run.
	cmp := func(f event.Field, p string) int { return strings.Compare(f.Name, p) }
	lo, _ := slices.BinarySearchFunc(fs, prefix, cmp)
	hi := lo
	for hi < len(fs) && strings.HasPrefix(fs[hi].Name, prefix) {
		hi++
	}
	return &lazyMap{v: v, prefix: prefix, fields: fs[lo:hi]}
}

// lazyMap is the metadata fields under a prefix ("record.", or
// "email.to.") as a CEL map, keyed by the next part of their names. A
// lookup decodes one field, or makes the map one level down; anything
// else (iterating, comparing, converting) builds the whole map first.
type lazyMap struct {
	v      *vars
	prefix string
	fields []event.Field // those whose names start with prefix
	full   ref.Val       // the whole map, once built
	// found are the keys looked up so far and what they gave (nil: not
	// there): rules of a pack read the same few fields.
	found []lookedUp
}

type lookedUp struct {
	key string
	val ref.Val
}

var _ traits.Mapper = (*lazyMap)(nil)

// Find implements traits.Mapper.
func (m *lazyMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return m.materialise().(traits.Mapper).Find(key)
	}
	for _, f := range m.found {
		if f.key == string(k) {
			return f.val, f.val != nil
		}
	}
	val := m.find(string(k))
	m.found = append(m.found, lookedUp{string(k), val})
	return val, val != nil
}

// find looks up key; nil when absent.
func (m *lazyMap) find(key string) ref.Val {
	name := m.prefix + key
	if name == "source.id" && m.v.ev.Source != "" {
		return types.String(m.v.ev.Source)
	}
	i, found := slices.BinarySearchFunc(m.fields, name, func(f event.Field, n string) int { return strings.Compare(f.Name, n) })
	if found {
		var x any
		m.v.metadata(m.fields[i:i+1], func(_ string, val any) { x = val })
		if x != nil {
			return types.DefaultTypeAdapter.NativeToValue(x)
		}
	}
	sub := m.v.lazy(name+".", m.fields)
	if len(sub.fields) == 0 || sub.materialise().(traits.Sizer).Size() == types.IntZero {
		return nil
	}
	return sub
}

// materialise returns the whole map as a CEL value.
func (m *lazyMap) materialise() ref.Val {
	if m.full == nil {
		out := map[string]any{}
		m.v.metadata(m.fields, func(name string, x any) { put(out, name[len(m.prefix):], x) })
		if m.prefix == "source." && m.v.ev.Source != "" {
			out["id"] = m.v.ev.Source
		}
		m.full = types.DefaultTypeAdapter.NativeToValue(out)
	}
	return m.full
}

// Contains implements traits.Container.
func (m *lazyMap) Contains(key ref.Val) ref.Val {
	_, ok := m.Find(key)
	return types.Bool(ok)
}

// Get implements traits.Indexer.
func (m *lazyMap) Get(key ref.Val) ref.Val {
	if v, ok := m.Find(key); ok {
		return v
	}
	return m.materialise().(traits.Indexer).Get(key) // its "no such key" error
}

func (m *lazyMap) Iterator() traits.Iterator { return m.materialise().(traits.Iterable).Iterator() }
func (m *lazyMap) Size() ref.Val             { return m.materialise().(traits.Sizer).Size() }
func (m *lazyMap) ConvertToNative(t reflect.Type) (any, error) {
	return m.materialise().ConvertToNative(t)
}
func (m *lazyMap) ConvertToType(t ref.Type) ref.Val { return m.materialise().ConvertToType(t) }
func (m *lazyMap) Equal(o ref.Val) ref.Val          { return m.materialise().Equal(o) }
func (m *lazyMap) Type() ref.Type                   { return types.MapType }
func (m *lazyMap) Value() any                       { return m.materialise().Value() }

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
