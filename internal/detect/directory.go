package detect

import (
	"time"
)

// Working patterns, as WORKING_PATTERN holds them.
const (
	PatternDays   = "days"   // works days only: never rostered between midnight and 06:00
	PatternShifts = "shifts" // works round-the-clock shifts, nights included
)

// Staff is what DirectoryLists needs to know of one member of staff from
// lbm's own directory.
type Staff struct {
	ID      string    // the user.id their activity carries
	Unit    string    // "" when not known
	Pattern string    // PatternDays, PatternShifts, or "" when not known
	LeftAt  time.Time // zero while serving; else when they left, whose London date is their last day
}

// DirectoryLists builds the reference lists lbm derives from its own
// staff directory rather than receiving from elsewhere, each keyed by
// user id:
//
//   - STAFF_UNIT: the person's unit;
//   - LEAVERS: the last day of service (2026-11-20) of each who has left,
//     for after_date;
//   - WORKING_PATTERN: days or shifts.
//
// A person with an empty field is left out of that list, so that a rule
// never mistakes "not known" for a value. It does no I/O and reads no
// clock: the server calls it whenever its directory changes.
func DirectoryLists(staff []Staff) Lists {
	units, leavers, patterns := NewKeyedList(nil), NewKeyedList(nil), NewKeyedList(nil)
	for _, s := range staff {
		if s.ID == "" {
			continue
		}
		if s.Unit != "" {
			units.add(s.ID, s.Unit)
		}
		if !s.LeftAt.IsZero() {
			leavers.add(s.ID, s.LeftAt.In(london()).Format(time.DateOnly))
		}
		if s.Pattern != "" {
			patterns.add(s.ID, s.Pattern)
		}
	}
	return Lists{"STAFF_UNIT": units, "LEAVERS": leavers, "WORKING_PATTERN": patterns}
}
