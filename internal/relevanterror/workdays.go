package relevanterror

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	_ "time/tzdata" // deadlines must not depend on the host's zone files
	"unicode/utf8"
)

// Division is the part of the gov.uk bank-holidays file lbm reads: the
// register's deadlines are England and Wales working days.
const Division = "england-and-wales"

// MaxCalendarSize bounds a bank-holidays file (gov.uk's is about 20 KiB).
const MaxCalendarSize = 1 << 20

// maxEvents bounds the holidays a calendar holds (some 8 a year).
const maxEvents = 2000

//go:embed bank-holidays.json
var embeddedCalendar []byte

// London is the zone working days are counted in.
var London = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		// time/tzdata is linked in: the zone is always there.
		panic("relevanterror: loading Europe/London: " + err.Error())
	}
	return l
}()

// Holiday is one bank holiday, as gov.uk lists it.
type Holiday struct {
	Title   string `json:"title"`
	Date    string `json:"date"` // YYYY-MM-DD
	Notes   string `json:"notes"`
	Bunting bool   `json:"bunting"`
}

// Calendar is the England and Wales bank holidays of whole years, First
// to Last. Working days outside those years are unknown: a deadline that
// needs them is an error, never a guess.
type Calendar struct {
	Holidays    []Holiday // in date order, no date twice
	First, Last int       // the years covered
	days        map[civil]bool
}

type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

// CalendarError is a bank-holidays file that is not in the gov.uk form
// lbm accepts; Field names what is wrong (e.g. "events[3].date").
type CalendarError struct {
	Field string
	Msg   string
}

func (e *CalendarError) Error() string {
	if e.Field == "" {
		return "bank holidays: " + e.Msg
	}
	return "bank holidays: " + e.Field + ": " + e.Msg
}

func calErr(field, format string, args ...any) error {
	return &CalendarError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ErrBeyondCalendar is a date outside the years the bank holidays cover.
var ErrBeyondCalendar = errors.New("outside the years the bank holidays cover")

// DefaultCalendar returns the embedded calendar (2024 to 2028).
func DefaultCalendar() *Calendar {
	c, err := ParseCalendar(embeddedCalendar)
	if err != nil {
		panic("relevanterror: the embedded bank holidays: " + err.Error())
	}
	return c
}

// ParseCalendar parses a gov.uk bank-holidays.json file: an object of
// divisions, of which "england-and-wales" is required and read (others
// are allowed and ignored, as in gov.uk's own file), each holding its
// "division" name and its "events" with "title", "date", and optionally
// "notes" and "bunting". It refuses unknown fields, trailing data, a file
// over MaxCalendarSize, dates not in canonical YYYY-MM-DD form or out of
// order or given twice, a holiday on a Saturday or Sunday (England and
// Wales move those to a substitute weekday), and a year between the first
// and last with no holiday at all, which would mean the file skips it.
func ParseCalendar(b []byte) (*Calendar, error) {
	if len(b) > MaxCalendarSize {
		return nil, calErr("", "larger than %d bytes", MaxCalendarSize)
	}
	if !utf8.Valid(b) {
		return nil, calErr("", "not UTF-8")
	}
	type division struct {
		Division string    `json:"division"`
		Events   []Holiday `json:"events"`
	}
	var raw map[string]json.RawMessage
	if err := decodeStrict(b, &raw); err != nil {
		return nil, calErr("", "%v", err)
	}
	body, ok := raw[Division]
	if !ok {
		return nil, calErr(Division, "missing")
	}
	for name, v := range raw {
		var d division
		if err := decodeStrict(v, &d); err != nil {
			return nil, calErr(name, "%v", err)
		}
		if d.Division != name {
			return nil, calErr(name+".division", "is %q", d.Division)
		}
	}
	var d division
	if err := decodeStrict(body, &d); err != nil {
		return nil, calErr(Division, "%v", err)
	}
	if len(d.Events) == 0 {
		return nil, calErr(Division+".events", "none")
	}
	if len(d.Events) > maxEvents {
		return nil, calErr(Division+".events", "more than %d", maxEvents)
	}
	c := &Calendar{Holidays: d.Events, days: map[civil]bool{}}
	years := map[int]bool{}
	var prev time.Time
	for i, h := range d.Events {
		field := fmt.Sprintf("%s.events[%d]", Division, i)
		t, err := time.Parse(time.DateOnly, h.Date)
		if err != nil || t.Format(time.DateOnly) != h.Date {
			return nil, calErr(field+".date", "%q is not a date YYYY-MM-DD", h.Date)
		}
		if h.Title == "" || len(h.Title) > 200 {
			return nil, calErr(field+".title", "must be 1 to 200 bytes")
		}
		if len(h.Notes) > 200 {
			return nil, calErr(field+".notes", "longer than 200 bytes")
		}
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return nil, calErr(field+".date", "%s is a %s", h.Date, wd)
		}
		if i > 0 && !t.After(prev) {
			return nil, calErr(field+".date", "%s is not after the holiday before it", h.Date)
		}
		prev = t
		c.days[civilOf(t)] = true
		years[t.Year()] = true
	}
	c.First, _, _ = d.Events[0].date()
	c.Last, _, _ = d.Events[len(d.Events)-1].date()
	for y := c.First; y <= c.Last; y++ {
		if !years[y] {
			return nil, calErr(Division+".events", "no holiday in %d", y)
		}
	}
	return c, nil
}

func (h Holiday) date() (int, time.Month, int) {
	t, _ := time.Parse(time.DateOnly, h.Date)
	return t.Date()
}

// decodeStrict decodes exactly one JSON value, refusing unknown fields
// and anything after it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// FormatCalendar encodes c in the form ParseCalendar reads, with only
// the England and Wales division.
func FormatCalendar(c *Calendar) []byte {
	b, err := json.MarshalIndent(map[string]any{Division: map[string]any{"division": Division, "events": c.Holidays}}, "", " ")
	if err != nil {
		panic(err) // strings and booleans always encode
	}
	return append(b, '\n')
}

// IsWorkingDay reports whether the civil date of t (its year, month and
// day, in t's location) is a working day: not a Saturday, Sunday or bank
// holiday. ErrBeyondCalendar if its year is not covered.
func (c *Calendar) IsWorkingDay(t time.Time) (bool, error) {
	if y := t.Year(); y < c.First || y > c.Last {
		return false, fmt.Errorf("%s is %w (%d to %d)", t.Format(time.DateOnly), ErrBeyondCalendar, c.First, c.Last)
	}
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false, nil
	}
	return !c.days[civilOf(t)], nil
}

// AddWorkingDays returns the deadline n working days after the day t
// falls on in London: the end of the nth working day after it, as the
// instant the next day begins in London (so an entry is overdue when the
// time is not before the deadline). The day of t itself never counts,
// whether or not it is a working day. Weekends and bank holidays are
// skipped; a day in a year the calendar does not cover is
// ErrBeyondCalendar. n must be at least 1.
func (c *Calendar) AddWorkingDays(t time.Time, n int) (time.Time, error) {
	if n < 1 {
		return time.Time{}, fmt.Errorf("adding %d working days: must be at least 1", n)
	}
	y, m, d := t.In(London).Date()
	day := time.Date(y, m, d, 12, 0, 0, 0, London) // noon: never skipped or doubled by a clock change
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		ok, err := c.IsWorkingDay(day)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			n--
		}
	}
	y, m, d = day.AddDate(0, 0, 1).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, London), nil
}

// LastDay returns the London date of the last day before deadline, for
// people: "due by the end of" it.
func LastDay(deadline time.Time) time.Time {
	return deadline.Add(-time.Nanosecond).In(London)
}
