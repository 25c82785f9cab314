// Package strictyaml holds the checks lbm's hand-edited YAML files (the
// catalogues, the consent-level policy, detection rules) share before they
// are read: each entry must read on its own, and a hostile file must stay
// cheap to read; and the readers (nodes.go) of the parsers that walk the
// node tree themselves. Pure.
package strictyaml

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/safetext"
)

// Problem is what CheckTree refused: the 1-based line, the key at fault
// ("" when none) and why. Each parser turns it into its own error type.
type Problem struct {
	Line       int
	Field, Msg string
}

// CheckTree refuses aliases and merge keys (and anchors too, when
// noAnchors), so that each entry reads on its own, and mappings with more
// than maxKeys keys, before a decoder whose duplicate-key check is
// quadratic sees them. unit names an entry in messages ("rule", "item").
func CheckTree(n *yaml.Node, maxKeys int, unit string, noAnchors bool) *Problem {
	inFull := " (write each " + unit + " out in full)"
	if noAnchors && n.Anchor != "" {
		return &Problem{Line: n.Line, Msg: "anchors are not allowed" + inFull}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return &Problem{Line: n.Line, Msg: "aliases are not allowed" + inFull}
	case yaml.MappingNode:
		if len(n.Content) > 2*maxKeys {
			return &Problem{Line: n.Line, Msg: fmt.Sprintf("more than %d keys in one mapping", maxKeys)}
		}
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				return &Problem{Line: k.Line, Field: "<<", Msg: "merge keys are not allowed" + inFull}
			}
		}
	}
	for _, c := range n.Content {
		if p := CheckTree(c, maxKeys, unit, noAnchors); p != nil {
			return p
		}
	}
	return nil
}

// Describe names what node n is, for "want X, not Y" messages.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return safetext.Escape(n.ShortTag())
	}
	return "a document"
}
