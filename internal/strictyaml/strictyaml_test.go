package strictyaml

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestCheckTree(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		noAnchors bool
		want      *Problem
	}{
		{"plain", "a: 1\nb: [x, y]\n", true, nil},
		{"anchor allowed", "a: &x 1\n", false, nil},
		{"anchor refused", "a: 1\nb: &x 2\n", true, &Problem{Line: 2, Msg: "anchors are not allowed (write each item out in full)"}},
		{"alias", "a: &x 1\nb: *x\n", false, &Problem{Line: 2, Msg: "aliases are not allowed (write each item out in full)"}},
		{"merge key", "a: {k: 1}\nb:\n  <<: {k: 2}\n", false, &Problem{Line: 3, Field: "<<", Msg: "merge keys are not allowed (write each item out in full)"}},
		{"too many keys", "a: 1\nb: 2\nc: 3\n", false, &Problem{Line: 1, Msg: "more than 2 keys in one mapping"}},
	} {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(tc.in), &root); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, CheckTree(&root, 2, "item", tc.noAnchors)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
