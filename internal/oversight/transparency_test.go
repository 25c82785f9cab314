package oversight

import (
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/review"
)

func TestQuarterStarts(t *testing.T) {
	got := QuarterStarts(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	want := []string{"2025-09-30T23:00:00Z", "2026-01-01T00:00:00Z", "2026-03-31T23:00:00Z", "2026-06-30T23:00:00Z", "2026-09-30T23:00:00Z"}
	for i := range want {
		if got[i].Format(time.RFC3339) != want[i] {
			t.Errorf("QuarterStarts[%d] = %s, want %s (midnight in London)", i, got[i].Format(time.RFC3339), want[i])
		}
	}
}

// TestTransparencySuppresses counts by hand: break-glass 3 in the first
// quarter (suppressed, and so the year too), 10 in the third; refused
// attempts 2 and 4 (both suppressed, together 6, so the year shows), 7;
// nothing else; and a refused attempt in the current quarter, not
// counted.
func TestTransparencySuppresses(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }
	in := ReportInput{Now: day(2026, 11, 27), Notice: NoticeCoverage{Staff: 200, Acknowledged: 151}}
	add := func(n int, at time.Time, breakGlass bool) {
		for range n {
			if breakGlass {
				in.BreakGlass = append(in.BreakGlass, BreakGlassAction{At: at, Actor: "cli", Action: "user_add"})
			} else {
				in.Accesses = append(in.Accesses, review.AccessRecord{Time: at, Actor: "inv1", Action: review.ActionRefused, Request: "r1"})
			}
		}
	}
	add(3, day(2025, 11, 15), true)
	add(10, day(2026, 8, 1), true)
	add(2, day(2025, 12, 1), false)
	add(4, day(2026, 2, 1), false)
	add(7, day(2026, 9, 30), false)
	add(1, day(2026, 10, 5), false)

	got := BuildTransparency(in, 5)
	if len(got.Periods) != 5 || got.NoticePercent == nil || *got.NoticePercent != 76 {
		t.Fatalf("BuildTransparency = %d periods, notice %v", len(got.Periods), got.NoticePercent)
	}
	const hide = -1
	want := map[string][5]int{
		"break_glass":        {hide, 0, 0, 10, hide},
		"refused_attempts":   {hide, hide, 0, 7, 13},
		"requests_submitted": {0, 0, 0, 0, 0},
		"accesses":           {0, 0, 0, 0, 0},
		"alerts_raised":      {0, 0, 0, 0, 0},
	}
	for i, p := range got.Periods {
		if len(p.Figures) != len(PublicMeasures) {
			t.Fatalf("period %d has %d figures", i, len(p.Figures))
		}
		for _, f := range p.Figures {
			w, ok := want[f.Measure]
			if !ok {
				continue
			}
			switch {
			case w[i] == hide && (!f.Suppressed || f.Value != nil):
				t.Errorf("period %d %s = %+v, want suppressed", i, f.Measure, f)
			case w[i] != hide && (f.Suppressed || f.Value == nil || *f.Value != w[i]):
				t.Errorf("period %d %s = %+v, want %d", i, f.Measure, f, w[i])
			}
		}
	}
	// Few staff: no percentage.
	in.Notice = NoticeCoverage{Staff: 4, Acknowledged: 4}
	if got := BuildTransparency(in, 5); got.NoticePercent != nil {
		t.Errorf("notice percent of 4 staff = %d, want none", *got.NoticePercent)
	}
}
