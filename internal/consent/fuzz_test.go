package consent

import (
	"errors"
	"slices"
	"testing"
)

// FuzzParsePolicy checks that ParsePolicy never panics, that what it
// refuses it refuses with a *ParseError, and that a policy it accepts
// derives, for a spread of requests, a requirement within its own terms:
// a level from 1 to MaxLevel, a known rank, known advisers sorted and
// once each, positive durations, and an urgent route only when asked for,
// below the minimum rank and no longer than the requirement. A condition
// may still fail to evaluate (an index out of range): that is an error,
// never a panic.
func FuzzParsePolicy(f *testing.F) {
	f.Add(DefaultFile())
	f.Add([]byte(okPolicy))
	f.Add([]byte(combining))
	f.Add([]byte(withRule("  - {id: X, description: d, when: 'categories[3] == \"a\" || subjects / window_days > 1', level: 3}\n")))
	f.Add([]byte(withRule("  - &r {id: X, description: d, when: live, level: 3}\n  - *r\n")))
	f.Add([]byte("base: {level: 1, min_rank: inspector, max_duration: 1h, review_interval: 1h}\nrules:\n  - {id: A, description: \"\\u202e\", when: 'confidential.exists(k, k.matches(\"^u\"))', advisers: [dpo]}\n"))

	r := ranks()
	facts := []Facts{
		review(nil),
		review(func(f *Facts) { f.Content, f.Urgent, f.Subjects, f.WindowDays = true, true, 0, 0 }),
		live(ModeMonitor, func(f *Facts) { f.Investigation, f.Collateral, f.Urgent = Criminal, CollateralHigh, true }),
		live(ModeRecord, func(f *Facts) {
			f.Confidential, f.Categories, f.Subjects, f.Purpose = []string{Union, Whistleblowing}, []string{"a", "b", "c", "d"}, 9, "NATIONAL_SECURITY"
		}),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data, r)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Msg == "" {
				t.Fatalf("ParsePolicy = %#v, want a *ParseError", err)
			}
			return
		}
		for _, f := range facts {
			req, e, err := p.Derive(f)
			if err != nil {
				continue
			}
			if req.Level < 1 || req.Level > MaxLevel || !slices.Contains(r, req.MinRank) ||
				req.MaxDuration <= 0 || req.ReviewInterval <= 0 || req.MaxDuration > MaxDuration ||
				!slices.IsSorted(req.Advisers) || len(slices.Compact(slices.Clone(req.Advisers))) != len(req.Advisers) ||
				len(e.Steps) != len(p.rules)+2 {
				t.Fatalf("Derive(%+v) = %+v with %d steps", f, req, len(e.Steps))
			}
			for _, a := range req.Advisers {
				if !slices.Contains(adviserKinds, a) {
					t.Fatalf("Derive(%+v) = unknown adviser %q", f, a)
				}
			}
			if u := req.Urgent; u != nil && (!f.Urgent || slices.Index(r, u.MinRank) >= slices.Index(r, req.MinRank) || u.MaxDuration > req.MaxDuration) {
				t.Fatalf("Derive(%+v) = urgent route %+v for %+v", f, u, req)
			}
			_ = e.String()
		}
	})
}
