package detect

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// TestAggregateModel checks the sliding-window aggregation against a model
// that keeps every matching event since a key last fired and recounts the
// window from scratch at each event: random times (gaps down to zero and
// one nanosecond, so that events fall exactly on and just past the
// window's edge), keys, values and thresholds, for count and distinct.
func TestAggregateModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		distinct := rapid.Bool().Draw(rt, "distinct")
		windowS := rapid.IntRange(1, 5).Draw(rt, "window seconds")
		window := time.Duration(windowS) * time.Second
		over := rapid.IntRange(1, 4).Draw(rt, "over")
		what := "count: true"
		if distinct {
			what = "distinct: record.id"
		}
		rules := file(rule("a", fmt.Sprintf(`aggregate: {when: 'event.category == "record_query"', by: user.id, %s, window: %ds, over: %d}`, what, windowS, over)))
		e := engine(rt, rules, nil, nil)

		gaps := []time.Duration{0, 1, window - 1, window, window + 1, time.Second / 2, time.Second, 3 * time.Second}
		type mev struct {
			at         time.Duration
			key, value string
			line       int
		}
		history := map[string][]mev{} // the model: matching events since the key last fired
		var want, got []fired
		at := time.Duration(0)
		n := rapid.IntRange(1, 60).Draw(rt, "events")
		for line := 1; line <= n; line++ {
			at += rapid.SampledFrom(gaps).Draw(rt, "gap")
			key := rapid.SampledFrom([]string{"u1", "u2", "u3"}).Draw(rt, "key")
			value := rapid.SampledFrom([]string{"R1", "R2", "R3", "R4", "R5"}).Draw(rt, "value")
			fields := lookup(key, value)
			matches := rapid.IntRange(0, 3).Draw(rt, "matches") > 0
			if !matches {
				fields = web(key)
			}
			alerts, err := e.Observe(parseEvent(rt, line, in{at, fields}))
			if err != nil {
				rt.Fatalf("Observe = %v", err)
			}
			for _, a := range alerts {
				f := fired{Rule: a.Rule, Key: a.Key}
				for _, id := range a.Events {
					f.Lines = append(f.Lines, lineOf(id))
				}
				got = append(got, f)
			}

			if !matches {
				continue
			}
			h := append(history[key], mev{at, key, value, line})
			var inWindow []mev
			for _, x := range h {
				if at-x.at <= window {
					inWindow = append(inWindow, x)
				}
			}
			var lines []int
			if distinct {
				latest := map[string]int{}
				for _, x := range inWindow {
					latest[x.value] = x.line
				}
				for _, l := range latest {
					lines = append(lines, l)
				}
				slices.Sort(lines)
			} else {
				for _, x := range inWindow {
					lines = append(lines, x.line)
				}
			}
			if len(lines) > over {
				want = append(want, fired{Rule: "a", Key: key, Lines: lines})
				h = nil
			}
			history[key] = h
		}
		if diff := cmp.Diff(want, got); diff != "" {
			rt.Fatalf("alerts (-model +engine):\n%s", diff)
		}
	})
}
