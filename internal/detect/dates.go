package detect

import (
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // on_date must not depend on the host's zone files

	"github.com/lbm-project/lbm/internal/safetext"
)

// Dates in lists are calendar dates in the force's own zone: a leave day
// or a last day of service is a day in London, and an event at 00:30 BST
// on 1 June is on 1 June, though it is still 31 May in UTC.
var london = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		// time/tzdata is linked in: the zone is always there.
		panic("detect: loading Europe/London: " + err.Error())
	}
	return loc
})

// dateRange is an inclusive range of days since 1970-01-01.
type dateRange struct{ from, to int64 }

// dateIndex is a keyed list's values as date ranges, by key.
type dateIndex map[string][]dateRange

// londonDay returns the day, counted from 1970-01-01, that t falls on in
// London.
func londonDay(t time.Time) int64 {
	y, m, d := t.In(london()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// parseDates reads the values of a keyed list read by on_date or
// after_date: each a date (2026-11-02) or an inclusive range of dates
// (2026-11-02/2026-11-06), as ISO 8601 writes an interval.
func parseDates(l *List) (dateIndex, error) {
	idx := dateIndex{}
	for k, vs := range l.byKey {
		for v := range vs {
			from, to, isRange := strings.Cut(v, "/")
			if !isRange {
				to = from
			}
			f, err1 := time.Parse(time.DateOnly, from)
			t, err2 := time.Parse(time.DateOnly, to)
			if err1 != nil || err2 != nil || t.Before(f) {
				return nil, fmt.Errorf("key %s: %s is not a date or a range of dates (want 2026-11-02 or 2026-11-02/2026-11-06)", safetext.Quote(k), safetext.Quote(v))
			}
			idx[k] = append(idx[k], dateRange{f.Unix() / 86400, t.Unix() / 86400})
		}
	}
	return idx, nil
}
