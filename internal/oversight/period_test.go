package oversight

import (
	"errors"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)   // 23:30 in London too (GMT)
	summer := time.Date(2026, 7, 10, 23, 30, 0, 0, time.UTC) // 00:30 on 11 July in London (BST)
	tests := []struct {
		from, to   string
		now        time.Time
		start, end string // RFC 3339, UTC
		field      string // of the error; "" for none
	}{
		{"", "", now, "2026-10-29T00:00:00Z", "2026-11-28T00:00:00Z", ""},
		{"", "", summer, "2026-06-11T23:00:00Z", "2026-07-11T23:00:00Z", ""},
		{"2026-10-01", "2026-10-31", now, "2026-09-30T23:00:00Z", "2026-11-01T00:00:00Z", ""}, // summer time ends on 25 October
		{"2026-10-01", "2026-10-01", now, "2026-09-30T23:00:00Z", "2026-10-01T23:00:00Z", ""},
		{"", "2026-03-31", now, "2026-03-02T00:00:00Z", "2026-03-31T23:00:00Z", ""}, // summer time starts on 29 March
		{"2026-10-02", "2026-10-01", now, "", "", "to"},
		{"2026-13-01", "", now, "", "", "from"},
		{"1 October", "", now, "", "", "from"},
		{"", "2026-02-30", now, "", "", "to"},
		{"2020-01-01", "2026-10-01", now, "", "", "to"},
	}
	for _, tt := range tests {
		start, end, err := ParsePeriod(tt.from, tt.to, tt.now)
		var pe *PeriodError
		switch {
		case tt.field != "":
			if !errors.As(err, &pe) || pe.Field != tt.field {
				t.Errorf("ParsePeriod(%q, %q) = %v, want an error on %s", tt.from, tt.to, err, tt.field)
			}
		case err != nil:
			t.Errorf("ParsePeriod(%q, %q) = %v", tt.from, tt.to, err)
		case start.Format(time.RFC3339) != tt.start || end.Format(time.RFC3339) != tt.end:
			t.Errorf("ParsePeriod(%q, %q) = %s to %s, want %s to %s", tt.from, tt.to, start.Format(time.RFC3339), end.Format(time.RFC3339), tt.start, tt.end)
		}
	}
}

func TestFormatSeconds(t *testing.T) {
	for s, want := range map[int64]string{0: "under a minute", 30: "under a minute", 60: "1 min", 3599: "59 min", 3600: "1 h 0 min",
		5*3600 + 20*60: "5 h 20 min", 86400: "1 day 0 h", 86400 + 3*3600: "1 day 3 h", 3*86400 + 7200: "3 days 2 h"} {
		if got := formatSeconds(s); got != want {
			t.Errorf("formatSeconds(%d) = %q, want %q", s, got, want)
		}
	}
}
