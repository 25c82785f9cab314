package detect

import (
	"slices"

	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"

	celast "github.com/google/cel-go/common/ast"
)

// categories returns the event.category values an event must have for r
// to match it, or nil when the rule can match any: found in its
// conditions alone, so that Observe can skip a rule on most events
// without evaluating it. Most rules are about one kind of activity, and a
// pack of them over every event would otherwise spend its time building
// and comparing the same maps.
//
// The set is sound by construction: it is read only through && and ||
// from the top of a condition, and only from event.category == "x" and
// event.category in ["x", "y"]. On an event whose event.category is a
// string outside the set each such comparison is false, so each && over
// it is false and each || of them is false, whatever the rest gives,
// even an error (CEL's && and || absorb errors when the other side
// decides). An aggregate's set is its when's; a sequence's the union of
// its steps', or nil if any step can match any category.
func (r *Rule) categories() []string {
	var conds []*expr
	switch {
	case r.aggregate != nil:
		conds = []*expr{r.aggregate.when}
	case r.sequence != nil:
		conds = r.sequence.steps
	default:
		conds = []*expr{r.when}
	}
	var all []string
	for _, x := range conds {
		cs, ok := exprCategories(x.ast.NativeRep().Expr())
		if !ok {
			return nil
		}
		all = append(all, cs...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// exprCategories returns the categories e can be true for, and whether e
// restricts them at all.
func exprCategories(e celast.Expr) ([]string, bool) {
	if e.Kind() != celast.CallKind {
		return nil, false
	}
	call := e.AsCall()
	args := call.Args()
	switch call.FunctionName() {
	case operators.LogicalAnd:
		a, aok := exprCategories(args[0])
		b, bok := exprCategories(args[1])
		switch {
		case aok && bok:
			return slices.DeleteFunc(a, func(c string) bool { return !slices.Contains(b, c) }), true
		case aok:
			return a, true
		case bok:
			return b, true
		}
	case operators.LogicalOr:
		a, aok := exprCategories(args[0])
		b, bok := exprCategories(args[1])
		if aok && bok {
			return append(a, b...), true
		}
	case operators.Equals:
		for i := range 2 {
			if isEventCategory(args[i]) {
				if s, ok := stringLiteral(args[1-i]); ok {
					return []string{s}, true
				}
			}
		}
	case operators.In:
		if !isEventCategory(args[0]) || args[1].Kind() != celast.ListKind {
			return nil, false
		}
		var out []string
		for _, el := range args[1].AsList().Elements() {
			s, ok := stringLiteral(el)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// isEventCategory reports whether e is event.category (not has()).
func isEventCategory(e celast.Expr) bool {
	if e.Kind() != celast.SelectKind {
		return false
	}
	sel := e.AsSelect()
	op := sel.Operand()
	return !sel.IsTestOnly() && sel.FieldName() == "category" && op.Kind() == celast.IdentKind && op.AsIdent() == "event"
}

func stringLiteral(e celast.Expr) (string, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}
