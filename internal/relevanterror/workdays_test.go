package relevanterror

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// easter returns Easter Sunday of year y (the anonymous Gregorian
// algorithm), independent of the embedded data.
func easter(y int) time.Time {
	a, b, c := y%19, y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

func firstMonday(y int, m time.Month) time.Time {
	t := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	for t.Weekday() != time.Monday {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func lastMonday(y int, m time.Month) time.Time {
	t := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	for t.Weekday() != time.Monday {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

// expectedHolidays derives England and Wales's bank holidays of year y
// from the rules (Banking and Financial Dealings Act 1971 and the royal
// proclamations that fix them), with weekend days substituted.
func expectedHolidays(y int) []string {
	weekday := func(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }
	var out []time.Time
	ny := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	for !weekday(ny) {
		ny = ny.AddDate(0, 0, 1)
	}
	e := easter(y)
	out = append(out, ny, e.AddDate(0, 0, -2), e.AddDate(0, 0, 1), firstMonday(y, time.May), lastMonday(y, time.May), lastMonday(y, time.August))
	// Christmas and Boxing Day: each on a weekend moves to the next
	// weekday not already a holiday.
	taken := map[time.Time]bool{}
	for _, d := range []int{25, 26} {
		t := time.Date(y, 12, d, 0, 0, 0, 0, time.UTC)
		for !weekday(t) || taken[t] {
			t = t.AddDate(0, 0, 1)
		}
		taken[t] = true
		out = append(out, t)
	}
	var s []string
	for _, t := range out {
		s = append(s, t.Format(time.DateOnly))
	}
	return s
}

func TestEmbeddedHolidays(t *testing.T) {
	c := DefaultCalendar()
	if c.First != 2024 || c.Last != 2028 {
		t.Fatalf("embedded calendar covers %d to %d, want 2024 to 2028", c.First, c.Last)
	}
	var got, want []string
	for _, h := range c.Holidays {
		d, err := time.Parse(time.DateOnly, h.Date)
		if err != nil {
			t.Fatal(err)
		}
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("%s (%s) falls on a %s", h.Date, h.Title, wd)
		}
		sub := d.Month() == 12 && d.Day() > 26 || d.Month() == 1 && d.Day() > 1
		if sub != (h.Notes == "Substitute day") {
			t.Errorf("%s (%s): notes %q, substitute day %v", h.Date, h.Title, h.Notes, sub)
		}
		got = append(got, h.Date)
	}
	for y := 2024; y <= 2028; y++ {
		want = append(want, expectedHolidays(y)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("embedded holidays:\n got %v\nwant %v", got, want)
	}
	// Spot checks against gov.uk's published list.
	for _, d := range []string{"2026-12-28", "2027-12-27", "2027-12-28", "2028-01-03", "2025-04-18", "2026-04-06"} {
		if !slices.Contains(got, d) {
			t.Errorf("%s missing", d)
		}
	}
}

func london(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, London)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAddWorkingDays(t *testing.T) {
	c := DefaultCalendar()
	for _, tt := range []struct {
		name string
		at   time.Time
		want string // the last day, London
	}{
		{"plain fortnight", london("2025-06-02 10:00"), "2025-06-16"},
		{"from a Friday", london("2025-06-06 10:00"), "2025-06-20"},
		{"from a Sunday", london("2025-06-08 23:59"), "2025-06-20"},
		{"across Christmas and New Year", london("2025-12-19 09:00"), "2026-01-07"},
		{"across Easter", london("2026-03-30 12:00"), "2026-04-15"},
		{"across a substitute Boxing Day", london("2026-12-21 12:00"), "2027-01-07"},
		{"across both substitute days", london("2027-12-20 12:00"), "2028-01-06"},
		{"across the New Year substitute", london("2027-12-29 12:00"), "2028-01-13"},
		{"across the spring clock change", london("2025-03-28 12:00"), "2025-04-11"},
		{"across the autumn clock change", london("2025-10-24 17:00"), "2025-11-07"},
		{"late evening UTC is the next day in BST", time.Date(2025, 6, 5, 23, 30, 0, 0, time.UTC), "2025-06-20"},
		{"across the spring bank holiday", london("2028-05-19 12:00"), "2028-06-05"},
	} {
		got, err := c.AddWorkingDays(tt.at, 10)
		if err != nil {
			t.Errorf("%s: AddWorkingDays(%v, 10) = %v", tt.name, tt.at, err)
			continue
		}
		if h, m, s := got.In(London).Clock(); h != 0 || m != 0 || s != 0 {
			t.Errorf("%s: deadline %v is not a London midnight", tt.name, got)
		}
		if d := LastDay(got).Format(time.DateOnly); d != tt.want {
			t.Errorf("%s: AddWorkingDays(%v, 10) ends %s, want %s", tt.name, tt.at, d, tt.want)
		}
	}
	// The deadline of 2025-03-28 is midnight BST of 12 April: 23:00 UTC.
	got, _ := c.AddWorkingDays(london("2025-03-28 12:00"), 10)
	if want := time.Date(2025, 4, 11, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("deadline = %v, want %v", got.UTC(), want)
	}
}

func TestAddWorkingDaysBeyond(t *testing.T) {
	c := DefaultCalendar()
	for _, at := range []time.Time{london("2028-12-20 12:00"), london("2023-06-01 12:00"), london("2031-01-01 12:00")} {
		if _, err := c.AddWorkingDays(at, 10); !errors.Is(err, ErrBeyondCalendar) {
			t.Errorf("AddWorkingDays(%v, 10) = %v, want ErrBeyondCalendar", at, err)
		}
	}
	if _, err := c.AddWorkingDays(london("2028-12-01 12:00"), 10); err != nil {
		t.Errorf("AddWorkingDays within 2028 = %v", err)
	}
	if _, err := c.AddWorkingDays(london("2026-01-05 12:00"), 0); err == nil {
		t.Error("AddWorkingDays(0) succeeded")
	}
}

func TestParseCalendar(t *testing.T) {
	ok := `{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-01"},{"title":"B","date":"2031-01-01","notes":"","bunting":true}]},
		"scotland":{"division":"scotland","events":[]}}`
	c, err := ParseCalendar([]byte(ok))
	if err != nil {
		t.Fatalf("ParseCalendar = %v", err)
	}
	if c.First != 2030 || c.Last != 2031 {
		t.Errorf("years %d to %d, want 2030 to 2031", c.First, c.Last)
	}
	for _, tt := range []struct{ in, field string }{
		{`{}`, "england-and-wales"},
		{`[]`, ""},
		{`{"england-and-wales":{"division":"england-and-wales","events":[]}}`, "england-and-wales.events"},
		{`{"england-and-wales":{"division":"wales","events":[{"title":"A","date":"2030-01-01"}]}}`, "england-and-wales.division"},
		{`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-1-01"}]}}`, "england-and-wales.events[0].date"},
		{`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-05"}]}}`, "england-and-wales.events[0].date"},
		{`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"","date":"2030-01-01"}]}}`, "england-and-wales.events[0].title"},
		{`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-01","extra":1}]}}`, "england-and-wales"},
		{`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-02"},{"title":"A","date":"2030-01-01"}]}}`, "england-and-wales.events[1].date"},
		{`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-01"},{"title":"A","date":"2032-01-01"}]}}`, "england-and-wales.events"},
		{`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-01"}]}} {}`, ""},
	} {
		_, err := ParseCalendar([]byte(tt.in))
		var ce *CalendarError
		if !errors.As(err, &ce) || ce.Field != tt.field {
			t.Errorf("ParseCalendar(%.60q) = %v, want a CalendarError on %q", tt.in, err, tt.field)
		}
	}
	if _, err := ParseCalendar([]byte(strings.Repeat(" ", MaxCalendarSize+1))); err == nil {
		t.Error("ParseCalendar of an oversized file succeeded")
	}
}

// FuzzParseCalendar: a file either fails to parse, or formats to one
// that parses to the same calendar and formats to the same bytes.
func FuzzParseCalendar(f *testing.F) {
	f.Add(embeddedCalendar)
	f.Add([]byte(`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-01"}]}}`))
	f.Add([]byte(`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-01","notes":"x","bunting":false}]},"scotland":{"division":"scotland","events":[]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCalendar(b)
		if err != nil {
			return
		}
		out := FormatCalendar(c)
		c2, err := ParseCalendar(out)
		if err != nil {
			t.Fatalf("ParseCalendar(FormatCalendar(c)) = %v\n%s", err, out)
		}
		if !slices.Equal(c.Holidays, c2.Holidays) || c.First != c2.First || c.Last != c2.Last {
			t.Fatalf("round trip changed the calendar")
		}
		if string(FormatCalendar(c2)) != string(out) {
			t.Fatalf("FormatCalendar is not stable")
		}
	})
}
