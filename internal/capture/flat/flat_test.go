package flat

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAdd(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want map[string]any
	}{
		{"scalar under a name", "x", map[string]any{"n": "x"}},
		{"null gives nothing", nil, map[string]any{}},
		{"nested object", map[string]any{"a": map[string]any{"b": map[string]any{"c": true}}}, map[string]any{"n.a.b.c": true}},
		{"numbers", map[string]any{"i": json.Number("12"), "f": json.Number("1.5"), "big": json.Number("1e400"), "huge": json.Number("18446744073709551616")},
			map[string]any{"n.i": int64(12), "n.f": 1.5, "n.big": "1e400", "n.huge": 18446744073709551616.0}},
		{"not finite floats kept as text", []any{math.NaN(), math.Inf(1)}, map[string]any{"n": []string{"NaN", "+Inf"}}},
		{"non-finite scalar", math.Inf(-1), map[string]any{"n": "-Inf"}},
		{"bytes as base64", []byte{0xff, 0}, map[string]any{"n": "/wA="}},
		{"array of bytes", []any{[]byte{1}}, map[string]any{"n": []string{"AQ=="}}},
		{"ints and floats", []any{int64(1), 2.5}, map[string]any{"n": []float64{1, 2.5}}},
		{"array of objects with nested arrays", []any{map[string]any{"a": []any{"x", "y"}}, map[string]any{"a": "z", "b": nil}},
			map[string]any{"n.a": []string{"x", "y", "z"}}},
		{"only nulls", []any{nil, map[string]any{}}, map[string]any{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]any{}
			Add(got, "n", c.in)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Add(%v) (-want +got):\n%s", c.in, diff)
			}
		})
	}
}
