package oversight

import (
	"fmt"
	"time"
)

// MaxPeriod is the longest period one report covers: the five years the
// central record keeps a request.
const MaxPeriod = 5 * 366 * 24 * time.Hour

// DefaultPeriodDays is the period a report covers when none is asked for:
// the last 30 days, today included.
const DefaultPeriodDays = 30

// A PeriodError says which of "from" and "to" is wrong, and how.
type PeriodError struct {
	Field string // "from" or "to"
	Msg   string
}

func (e *PeriodError) Error() string { return e.Field + ": " + e.Msg }

// ParsePeriod reads a report's period from two dates, YYYY-MM-DD in
// London, both days included: it returns the first instant of from and
// of the day after to. An empty from or to defaults to the last
// DefaultPeriodDays days to today (now's London date).
func ParsePeriod(from, to string, now time.Time) (time.Time, time.Time, error) {
	today := midnight(now.In(london))
	var start, end time.Time
	if to == "" {
		end = today.AddDate(0, 0, 1)
	} else {
		d, err := time.ParseInLocation(time.DateOnly, to, london)
		if err != nil {
			return start, end, &PeriodError{"to", fmt.Sprintf("%q is not a date like 2026-10-31", to)}
		}
		end = d.AddDate(0, 0, 1)
	}
	if from == "" {
		start = end.AddDate(0, 0, -DefaultPeriodDays)
	} else {
		d, err := time.ParseInLocation(time.DateOnly, from, london)
		if err != nil {
			return start, end, &PeriodError{"from", fmt.Sprintf("%q is not a date like 2026-10-01", from)}
		}
		start = d
	}
	switch {
	case !start.Before(end):
		return start, end, &PeriodError{"to", "must be on or after the first day"}
	case end.Sub(start) > MaxPeriod:
		return start, end, &PeriodError{"to", "must be at most five years after the first day"}
	}
	return start.UTC(), end.UTC(), nil
}

// midnight is the first instant of t's day, in t's location.
func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// PeriodDates returns the dates a period [from, to) is written as: its
// first and last days, YYYY-MM-DD in London.
func PeriodDates(from, to time.Time) (string, string) {
	return from.In(london).Format(time.DateOnly), to.In(london).Add(-time.Nanosecond).Format(time.DateOnly)
}
