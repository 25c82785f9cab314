package subjectaccess

import "time"

// London is the zone a request's day of receipt is read in.
var London = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		// time/tzdata is linked in: the zone is always there.
		panic("subjectaccess: loading Europe/London: " + err.Error())
	}
	return l
}()

// Date returns the calendar day of t in London, as midnight UTC of that
// date: the form due dates are kept and compared in.
func Date(t time.Time) time.Time {
	y, m, d := t.In(London).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// AddMonths returns the date n calendar months after date: the same day
// of the month, or the month's last day when it has no such day (31
// January plus one month is 28 or 29 February). This is the ICO's
// reading of "one month" in UK GDPR Art 12(3). date is a [Date].
func AddMonths(date time.Time, n int) time.Time {
	y, m, d := date.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// DueDate is when the answer to a request received at made is due: one
// calendar month from the day of receipt (UK GDPR Art 12(3)).
func DueDate(made time.Time) time.Time { return AddMonths(Date(made), 1) }
