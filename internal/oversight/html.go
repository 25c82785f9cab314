package oversight

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

// The report as HTML: one body, which the web page puts in its layout and
// `lbm report oversight --format html` in a document of its own with a
// print stylesheet, so that both read, and print, the same.

//go:embed report.html.tmpl
var reportTemplate string

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{
	"chart":    BarChart,
	"table":    ChartTable,
	"duration": formatSeconds,
	"date":     func(t time.Time) string { return t.In(london).Format("2 January 2006") },
	"when":     func(t time.Time) string { return t.In(london).Format("2 January 2006 15:04") },
	"counts":   countsText,
	"title":    ReportTitle,
	"list":     func(s ...string) []string { return s },
	"unitTable": func(caption string, columns []string) struct {
		Caption string
		Columns []string
	} {
		return struct {
			Caption string
			Columns []string
		}{caption, columns}
	},
	"renewalsOf": func(cs []RenewalCounts, unit string) RenewalCounts {
		return ofUnit(cs, unit, func(c RenewalCounts) string { return c.Unit })
	},
	"expiriesOf": func(cs []ExpiryCounts, unit string) ExpiryCounts {
		return ofUnit(cs, unit, func(c ExpiryCounts) string { return c.Unit })
	},
}).Parse(reportTemplate))

// ofUnit returns the counts of unit among cs, zero when it has none.
func ofUnit[C any](cs []C, unit string, unitOf func(C) string) C {
	for _, c := range cs {
		if unitOf(c) == unit {
			return c
		}
	}
	var zero C
	return zero
}

// london is the time zone the report's dates are in.
var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return l
}()

// ReportBody returns r as the body of an HTML page: a summary, each chart
// with its data table, and the tables by unit. Headings start at h2, for
// the page's own h1.
func ReportBody(r Report) (template.HTML, error) {
	var b bytes.Buffer
	err := reportHTML.ExecuteTemplate(&b, "body", struct {
		Report
		Charts []Chart
	}{r, ReportCharts(r)})
	return template.HTML(b.String()), err
}

// WriteReportHTML writes r as a document of its own, for saving or
// printing: the body, a title, and a stylesheet that needs no other file.
func WriteReportHTML(w io.Writer, r Report, organisation string) error {
	body, err := ReportBody(r)
	if err != nil {
		return err
	}
	return reportHTML.ExecuteTemplate(w, "document", struct {
		Report
		Organisation string
		Body         template.HTML
	}{r, organisation, body})
}

// ReportTitle names the report of the period [from, to), with to's
// previous day as the last day it covers.
func ReportTitle(from, to time.Time) string {
	return "Oversight report, " + PeriodText(from, to)
}

// PeriodText writes the period [from, to) as its first and last days in
// London: "1 October 2026 to 31 October 2026".
func PeriodText(from, to time.Time) string {
	return fmt.Sprintf("%s to %s", from.In(london).Format("2 January 2006"), to.In(london).Add(-time.Nanosecond).Format("2 January 2006"))
}

// formatSeconds shows a duration of whole seconds as days, hours and
// minutes: "2 days 3 h", "5 h 20 min", "45 min", "under a minute" (a
// decision made at once takes no measurable time).
func formatSeconds(s int64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days %d h", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= 24*time.Hour:
		return fmt.Sprintf("1 day %d h", (d-24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%d h %d min", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return "under a minute"
}

// countsText shows counts as "KEY 3, KEY 1", or "none".
func countsText(cs []Count) string {
	if len(cs) == 0 {
		return "none"
	}
	var b bytes.Buffer
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", c.Key, c.Count)
	}
	return b.String()
}
