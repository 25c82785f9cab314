package strictyaml

import (
	"errors"
	"testing"

	"go.yaml.in/yaml/v3"
)

func node(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// TestReaders checks each reader's answer and refusals, with the line and
// key they name.
func TestReaders(t *testing.T) {
	keys := []string{"a", "b"}
	tests := []struct {
		name string
		read func(n *yaml.Node) *Problem
		src  string
		want *Problem
	}{
		{"fields", func(n *yaml.Node) *Problem { _, p := Fields(n, "x", "x.", keys); return p }, "a: 1\nb: 2", nil},
		{"fields: not a mapping", func(n *yaml.Node) *Problem { _, p := Fields(n, "x", "x.", keys); return p }, "[1]", &Problem{Line: 1, Field: "x", Msg: "want a mapping, not a list"}},
		{"fields: unknown key", func(n *yaml.Node) *Problem { _, p := Fields(n, "x", "x.", keys); return p }, "a: 1\nc: 2", &Problem{Line: 2, Field: "x.c", Msg: "unknown key (the keys are a, b)"}},
		{"fields: repeated key", func(n *yaml.Node) *Problem { _, p := Fields(n, "", "", keys); return p }, "a: 1\na: 2", &Problem{Line: 2, Field: "a", Msg: "repeated key"}},
		{"fields: key not text", func(n *yaml.Node) *Problem { _, p := Fields(n, "x", "", keys); return p }, "1: 1", &Problem{Line: 1, Field: "x", Msg: "want a key, not !!int"}},
		{"int", func(n *yaml.Node) *Problem { _, p := Int(n, "n", 1, 10); return p }, "7", nil},
		{"int: out of range", func(n *yaml.Node) *Problem { _, p := Int(n, "n", 1, 10); return p }, "11", &Problem{Line: 1, Field: "n", Msg: `11 is not a whole number from 1 to 10`}},
		{"int: octal", func(n *yaml.Node) *Problem { _, p := Int(n, "n", 1, 10); return p }, "0o7", &Problem{Line: 1, Field: "n", Msg: `0o7 is not a whole number from 1 to 10`}},
		{"int: text", func(n *yaml.Node) *Problem { _, p := Int(n, "n", 1, 10); return p }, `"7"`, &Problem{Line: 1, Field: "n", Msg: "want a whole number, not !!str"}},
		{"bool", func(n *yaml.Node) *Problem { _, p := Bool(n, "b"); return p }, "false", nil},
		{"bool: True", func(n *yaml.Node) *Problem { _, p := Bool(n, "b"); return p }, "True", &Problem{Line: 1, Field: "b", Msg: `want true or false, not True`}},
		{"bool: nothing", func(n *yaml.Node) *Problem { _, p := Bool(n, "b"); return p }, "~", &Problem{Line: 1, Field: "b", Msg: "want true or false, not nothing"}},
	}
	for _, tt := range tests {
		got := tt.read(node(t, tt.src))
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if p := SyntaxError(errors.New("yaml: line 3: did not find expected key")); *p != (Problem{Line: 3, Msg: "did not find expected key"}) {
		t.Errorf("SyntaxError = %+v", p)
	}
}
