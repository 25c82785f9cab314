// Package flat turns the nested documents shippers send (an
// Elasticsearch document, OpenTelemetry attributes) into the flat fields
// of a capture.Record: one dotted name per leaf, and values of the kinds
// a Record may hold (string, bool, int64, float64, []string, []int64,
// []float64), never a nested map.
//
// # Rules
//
//   - An object's members are named parent.member, at any depth:
//     {"host":{"name":"ws1"}} gives host.name = "ws1".
//   - An array of scalars keeps its elements' kind: all strings give
//     []string, all integers []int64, numbers with a fraction []float64;
//     a mix (strings and numbers, or booleans) gives []string, each
//     element written as JSON would.
//   - An array of objects is flattened leaf by leaf into arrays:
//     [{"ip":"a"},{"ip":"b"}] under related gives related.ip =
//     []string{"a","b"}.
//   - Null, an empty object and an empty array give nothing.
//   - A number that is integral and fits int64 is int64, else float64;
//     a float that is not finite (OpenTelemetry doubles may be) is kept
//     as its text, since the event encoding is JSON.
//   - Bytes are kept as standard base64.
//
// When two leaves flatten to one name ({"a.b":1,"a":{"b":2}}), the one
// met last wins: a document that says the same thing twice is its
// sender's to sort out, and either value is what it said.
package flat

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
)

// Add flattens v under name into fields; an empty name flattens an
// object's members under their own names. v is a value as
// encoding/json (with UseNumber) or pcommon.Value.AsRaw gives it:
// map[string]any, []any, string, bool, json.Number, int64, float64,
// []byte or nil.
func Add(fields map[string]any, name string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, m := range v {
			Add(fields, join(name, k), m)
		}
	case []any:
		leaves := map[string][]any{}
		collect(leaves, name, v)
		for n, vs := range leaves {
			if a := array(vs); a != nil {
				fields[n] = a
			}
		}
	default:
		if s, ok := scalar(v); ok {
			fields[name] = s
		}
	}
}

func join(name, k string) string {
	if name == "" {
		return k
	}
	return name + "." + k
}

// collect gathers the scalar leaves of an array's elements by name.
func collect(leaves map[string][]any, name string, vs []any) {
	for _, v := range vs {
		switch v := v.(type) {
		case map[string]any:
			for k, m := range v {
				collect(leaves, join(name, k), []any{m})
			}
		case []any:
			collect(leaves, name, v)
		default:
			if s, ok := scalar(v); ok {
				leaves[name] = append(leaves[name], s)
			}
		}
	}
}

// scalar converts a leaf to a Record value; false for null and for
// anything that is not a leaf.
func scalar(v any) (any, bool) {
	switch v := v.(type) {
	case string, bool, int64:
		return v, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'g', -1, 64), true
		}
		return v, true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		if f, err := v.Float64(); err == nil && !math.IsInf(f, 0) {
			return f, true
		}
		return v.String(), true // out of float64's range: keep what was sent
	case []byte:
		return base64.StdEncoding.EncodeToString(v), true
	case int:
		return int64(v), true
	}
	return nil, false
}

// array types a list of scalars; nil when it is empty.
func array(vs []any) any {
	if len(vs) == 0 {
		return nil
	}
	allStr, allInt, allNum := true, true, true
	for _, v := range vs {
		switch v.(type) {
		case string:
			allInt, allNum = false, false
		case int64:
			allStr = false
		case float64:
			allStr, allInt = false, false
		default:
			allStr, allInt, allNum = false, false, false
		}
	}
	switch {
	case allStr:
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = v.(string)
		}
		return out
	case allInt:
		out := make([]int64, len(vs))
		for i, v := range vs {
			out[i] = v.(int64)
		}
		return out
	case allNum:
		out := make([]float64, len(vs))
		for i, v := range vs {
			switch n := v.(type) {
			case int64:
				out[i] = float64(n)
			case float64:
				out[i] = n
			}
		}
		return out
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = text(v)
	}
	return out
}

// text writes a scalar as JSON would, strings unquoted.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return ""
}
