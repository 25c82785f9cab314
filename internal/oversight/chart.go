package oversight

import (
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Chart is a horizontal bar chart: one bar per category, drawn down the
// page, with its value along the horizontal axis. A page shows it with
// [BarChart] and, beside it, the same numbers as a table from
// [ChartTable], which is the chart's accessible equivalent and carries
// the full labels.
type Chart struct {
	Title  string `json:"title"`
	XLabel string `json:"x_label"` // the horizontal axis's title: what the values count
	YLabel string `json:"y_label"` // the vertical axis's title: what the bars are
	Bars   []Bar  `json:"bars"`
}

// A Bar is one category and its value. Values below zero, infinite or
// NaN draw as an empty bar, and values above 10¹⁵ as 10¹⁵; the table
// shows them as given.
type Bar struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

// A ChartRow is one row of a chart's data table.
type ChartRow struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// NoData is what an empty chart says.
const NoData = "No data in this period"

// MaxLabel is the longest bar label drawn, in characters; a longer one is
// cut short with an ellipsis (the table has it in full).
const MaxLabel = 28

// Chart geometry, in viewBox units.
const (
	chartWidth = 720
	plotLeft   = 240 // category labels end just left of it
	plotRight  = 650 // room after it for the last bar's value
	plotTop    = 52
	rowHeight  = 30
	barHeight  = 20
)

// Colours: on white, the text is 16:1 and the bars 7:1 (WCAG AAA for
// text, well over 3:1 for graphics); grid lines are light on purpose.
const (
	colourText = "#1a1a1a"
	colourBar  = "#1d4f91"
	colourAxis = "#595959"
	colourGrid = "#d9d9d9"
)

// BarChart returns c as an SVG image to put inline in an HTML page. Every
// text in it is escaped, so any title or label is safe to show; it has no
// script, no style sheet or style attribute (so a strict Content Security
// Policy allows it), and no external font. It is role="img", labelled by
// its <title> and described by a <desc> that lists every bar. It sizes
// to its container through its viewBox. A chart with no bars, or none
// above zero, says [NoData]. The cost is linear in the bars.
func BarChart(c Chart) template.HTML {
	id := chartID(c)
	var b strings.Builder
	draw := drawable(c.Bars)
	height := 120
	if draw {
		height = plotTop + len(c.Bars)*rowHeight + 64
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" font-family="system-ui, sans-serif" font-size="13" fill="%s">`,
		chartWidth, height, id, id, colourText)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, id, esc(c.Title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`, id, esc(describe(c, draw)))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`, chartWidth, height)
	fmt.Fprintf(&b, `<text x="12" y="26" font-size="16" font-weight="600">%s</text>`, esc(c.Title))
	if !draw {
		fmt.Fprintf(&b, `<text x="%d" y="80" text-anchor="middle">%s</text></svg>`, chartWidth/2, NoData)
		return template.HTML(b.String())
	}

	top, step := scale(c.Bars)
	bottom := plotTop + len(c.Bars)*rowHeight
	x := func(v float64) float64 {
		return plotLeft + (plotRight-plotLeft)*clamp(v)/top
	}
	// Grid lines and tick labels along the value axis.
	for i := 0; i <= 10 && float64(i)*step <= top*(1+1e-9); i++ {
		v := float64(i) * step
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`, x(v), plotTop, x(v), bottom, colourGrid)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(v), bottom+18, esc(number(v)))
	}
	// Bars, each with its full label and value as a tooltip, a (maybe
	// shortened) category label, and its value.
	for i, bar := range c.Bars {
		y := plotTop + i*rowHeight + (rowHeight-barHeight)/2
		mid := y + barHeight/2 + 4
		fmt.Fprintf(&b, `<g><title>%s: %s</title>`, esc(bar.Label), esc(number(bar.Value)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, plotLeft, y, x(bar.Value)-plotLeft, barHeight, colourBar)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, plotLeft-8, mid, esc(shorten(bar.Label)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text></g>`, x(bar.Value)+6, mid, esc(number(bar.Value)))
	}
	// Axes and their titles.
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, plotLeft, plotTop, plotLeft, bottom, colourAxis)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, plotLeft, bottom, plotRight, bottom, colourAxis)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-weight="600">%s</text>`, (plotLeft+plotRight)/2, bottom+44, esc(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(18 %d) rotate(-90)" text-anchor="middle" font-weight="600">%s</text>`, (plotTop+bottom)/2, esc(c.YLabel))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// ChartTable returns c's data table: one row per bar, in order, with the
// full label and the value as the chart prints it.
func ChartTable(c Chart) []ChartRow {
	rows := make([]ChartRow, 0, len(c.Bars))
	for _, bar := range c.Bars {
		rows = append(rows, ChartRow{Label: bar.Label, Value: number(bar.Value)})
	}
	return rows
}

// drawable reports whether any bar has something to draw.
func drawable(bars []Bar) bool {
	for _, b := range bars {
		if clamp(b.Value) > 0 {
			return true
		}
	}
	return false
}

// maxDrawn is the largest value a bar draws at; a larger one draws as
// this, so the axis arithmetic never overflows.
const maxDrawn = 1e15

func clamp(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return min(v, maxDrawn)
}

// scale returns the value axis's end and tick step: a round step (1, 2
// or 5 times a power of ten, at least 1 when every value is whole) giving
// at most five intervals, and the first multiple of it at or above the
// largest value.
func scale(bars []Bar) (top, step float64) {
	high, whole := 0.0, true
	for _, b := range bars {
		v := clamp(b.Value)
		high = max(high, v)
		whole = whole && v == math.Trunc(v)
	}
	raw := high / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if whole {
		step = max(step, 1)
	}
	return math.Ceil(high/step-1e-9) * step, step
}

// number formats v for people: whole numbers without a point, others to
// at most two decimals.
func number(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// shorten cuts s to MaxLabel characters, the last an ellipsis.
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= MaxLabel {
		return s
	}
	r := []rune(s)
	return string(r[:MaxLabel-1]) + "…"
}

// describe is the chart's text alternative: what it shows and every bar.
func describe(c Chart, draw bool) string {
	if !draw {
		return NoData + "."
	}
	var b strings.Builder
	b.WriteString("Bar chart")
	if c.XLabel != "" {
		b.WriteString(" of " + c.XLabel)
	}
	if c.YLabel != "" {
		b.WriteString(" by " + c.YLabel)
	}
	b.WriteString(".")
	for _, bar := range c.Bars {
		fmt.Fprintf(&b, " %s: %s.", bar.Label, number(bar.Value))
	}
	return b.String()
}

// chartID names a chart's title and desc elements for aria-labelledby:
// the same chart gets the same id, and two charts on a page differ
// unless they show the same thing.
func chartID(c Chart) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%q %q %q", c.Title, c.XLabel, c.YLabel)
	for _, b := range c.Bars {
		fmt.Fprintf(h, " %q %v", b.Label, b.Value)
	}
	return fmt.Sprintf("chart-%016x", h.Sum64())
}

// esc escapes s as XML character data, safe inside an element or a
// quoted attribute; characters XML cannot hold become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ReportCharts returns the standard charts of r, in the order a report
// page shows them: submissions by unit, outcomes, purposes, median time
// to decision by unit, the most accessed authorisations, refused attempts
// by unit, alerts by severity and notice coverage by unit.
func ReportCharts(r Report) []Chart {
	counts := func(cs []Count) []Bar {
		out := []Bar{}
		for _, c := range cs {
			out = append(out, Bar{c.Key, float64(c.Count)})
		}
		return out
	}
	bars := func(n int, bar func(i int) Bar) []Bar {
		out := []Bar{}
		for i := range n {
			out = append(out, bar(i))
		}
		return out
	}
	s, d, a := r.Submissions, r.DecisionTimes.ByUnit, r.Accesses.Top
	rf, n := r.RefusedAttempts.ByUnit, r.Notice.ByUnit
	return []Chart{
		{Title: "Requests submitted, by unit", XLabel: "Requests", YLabel: "Unit",
			Bars: bars(len(s.ByUnit), func(i int) Bar { return Bar{s.ByUnit[i].Unit, float64(s.ByUnit[i].Submitted)} })},
		{Title: "Outcomes of the requests submitted", XLabel: "Requests", YLabel: "Outcome", Bars: []Bar{
			{"Authorised", float64(s.Total.Authorised)}, {"Refused", float64(s.Total.Refused)},
			{"Withdrawn", float64(s.Total.Withdrawn)}, {"Pending", float64(s.Total.Pending)}}},
		{Title: "Requests submitted, by purpose", XLabel: "Requests", YLabel: "Purpose", Bars: counts(s.Total.ByPurpose)},
		{Title: "Median time from submission to decision, by unit", XLabel: "Hours", YLabel: "Unit",
			Bars: bars(len(d), func(i int) Bar { return Bar{d[i].Unit, float64(d[i].MedianSeconds) / 3600} })},
		{Title: "Most accessed authorisations", XLabel: "Accesses", YLabel: "Authorisation",
			Bars: bars(len(a), func(i int) Bar { return Bar{a[i].Reference, float64(a[i].Accesses)} })},
		{Title: "Refused attempts, by unit", XLabel: "Refused attempts", YLabel: "Unit",
			Bars: bars(len(rf), func(i int) Bar { return Bar{rf[i].Unit, float64(rf[i].Attempts)} })},
		{Title: "Alerts raised, by severity", XLabel: "Alerts", YLabel: "Severity", Bars: counts(r.Alerts.Total.BySeverity)},
		{Title: "Notice acknowledged, by unit", XLabel: "Percent of staff", YLabel: "Unit",
			Bars: bars(len(n), func(i int) Bar { return Bar{n[i].Unit, n[i].Percent} })},
	}
}
