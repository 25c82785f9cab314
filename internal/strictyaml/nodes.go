package strictyaml

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/safetext"
)

// The readers below walk a yaml.Node tree by hand, for the files whose
// every value must be checked as it is read (the consent-level policy,
// detection rules). Each returns a *Problem naming the line and the key;
// the parser turns it into its own error type.

// Fields returns the values of mapping n by key, refusing keys not in keys
// and repeated keys. where names n in messages ("" for the top level);
// prefix goes before a key in messages about that key ("aggregate.").
func Fields(n *yaml.Node, where, prefix string, keys []string) (map[string]*yaml.Node, *Problem) {
	if n.Kind != yaml.MappingNode {
		return nil, &Problem{Line: n.Line, Field: where, Msg: "want a mapping, not " + Describe(n)}
	}
	m := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, &Problem{Line: k.Line, Field: where, Msg: "want a key, not " + Describe(k)}
		}
		name := prefix + k.Value
		if !slices.Contains(keys, k.Value) {
			return nil, &Problem{Line: k.Line, Field: safetext.Quote(name), Msg: "unknown key (the keys are " + strings.Join(keys, ", ") + ")"}
		}
		if _, dup := m[k.Value]; dup {
			return nil, &Problem{Line: k.Line, Field: name, Msg: "repeated key"}
		}
		m[k.Value] = v
	}
	return m, nil
}

// Scalar returns the value of n if it is a scalar with the given tag;
// want says what was wanted ("a whole number").
func Scalar(n *yaml.Node, field, tag, want string) (string, *Problem) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tag {
		return "", &Problem{Line: n.Line, Field: field, Msg: "want " + want + ", not " + Describe(n)}
	}
	return n.Value, nil
}

var decimal = regexp.MustCompile(`^[1-9][0-9]{0,5}$`)

// Int reads a whole number from lo to hi, written in plain decimal.
func Int(n *yaml.Node, field string, lo, hi int) (int, *Problem) {
	v, p := Scalar(n, field, "!!int", "a whole number")
	if p != nil {
		return 0, p
	}
	i, err := strconv.Atoi(v)
	if !decimal.MatchString(v) || err != nil || i < lo || i > hi {
		return 0, &Problem{Line: n.Line, Field: field, Msg: fmt.Sprintf("%s is not a whole number from %d to %d", safetext.Quote(v), lo, hi)}
	}
	return i, nil
}

// Bool reads true or false, as written (not True, yes or "true").
func Bool(n *yaml.Node, field string) (bool, *Problem) {
	v, p := Scalar(n, field, "!!bool", "true or false")
	if p != nil {
		return false, p
	}
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &Problem{Line: n.Line, Field: field, Msg: "want true or false, not " + safetext.Quote(v)}
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// SyntaxError turns a YAML syntax error into a Problem. Only its text is
// kept, escaped: the YAML library's types are not part of our API, and
// its messages quote the input.
func SyntaxError(err error) *Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Problem{Line: line, Msg: safetext.Escape(m[2])}
	}
	return &Problem{Msg: safetext.Escape(msg)}
}
