package oversight

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parsed is what an SVG holds once read by encoding/xml.
type parsed struct {
	root  xml.StartElement
	texts []string // character data of each <text>, in order
	title string   // the root's <title>
	desc  string
	tags  map[string]int
}

// parseSVG reads the whole of svg as XML and fails t if it is not.
func parseSVG(t *testing.T, svg string) parsed {
	t.Helper()
	p, err := parseSVGErr(svg)
	if err != nil {
		t.Fatalf("parsing the SVG: %v\n%s", err, svg)
	}
	return p
}

func parseSVGErr(svg string) (parsed, error) {
	p := parsed{tags: map[string]int{}}
	d := xml.NewDecoder(strings.NewReader(svg))
	var stack []string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return p, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				p.root = tok.Copy()
			}
			stack = append(stack, tok.Name.Local)
			p.tags[tok.Name.Local]++
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			switch {
			case tok.Name.Local == "text":
				p.texts = append(p.texts, text.String())
			case len(stack) == 2 && tok.Name.Local == "title":
				p.title = text.String()
			case len(stack) == 2 && tok.Name.Local == "desc":
				p.desc = text.String()
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 || p.root.Name.Local != "svg" {
		return p, errors.New("not one whole svg element")
	}
	return p, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestBarChart(t *testing.T) {
	const hostile = `<script>&"`
	long := "Professional Standards Directorate, Counter-Corruption Unit"
	c := Chart{Title: "Requests by unit", XLabel: "Requests", YLabel: "Unit", Bars: []Bar{
		{"North", 5}, {hostile, 2}, {long, 1},
	}}
	svg := string(BarChart(c))
	p := parseSVG(t, svg)

	if got := attr(p.root, "role"); got != "img" {
		t.Errorf("role = %q, want img", got)
	}
	if got := attr(p.root, "viewBox"); !strings.HasPrefix(got, "0 0 ") {
		t.Errorf("viewBox = %q", got)
	}
	if got := attr(p.root, "font-family"); got != "system-ui, sans-serif" {
		t.Errorf("font-family = %q", got)
	}
	if p.title != c.Title {
		t.Errorf("title = %q, want %q", p.title, c.Title)
	}
	for _, want := range []string{"North: 5.", hostile + ": 2.", long + ": 1.", "Requests", "Unit"} {
		if !strings.Contains(p.desc, want) {
			t.Errorf("desc = %q, want it to contain %q", p.desc, want)
		}
	}
	texts := strings.Join(p.texts, "|")
	// The title, both axis titles, the tick labels 0 to 5, each label (the
	// long one cut short) and each value.
	for _, want := range []string{"|Requests by unit|", "|Requests|", "|Unit|", "|0|", "|1|", "|5|", "|North|", "|" + hostile + "|",
		"|Professional Standards Dire…|"} {
		if !strings.Contains("|"+texts+"|", want) {
			t.Errorf("texts %q do not contain %q", texts, want)
		}
	}
	if strings.Contains(texts, long) {
		t.Errorf("the long label is drawn in full: %q", texts)
	}
	if strings.Contains(svg, "<script") || !strings.Contains(svg, "&lt;script&gt;&amp;&#34;") {
		t.Errorf("the label %q is not escaped:\n%s", hostile, svg)
	}
	if p.tags["script"] > 0 || p.tags["style"] > 0 || strings.Contains(svg, "style=") || strings.Contains(svg, "href") {
		t.Errorf("the SVG has a script, style or link: %v", p.tags)
	}
	if p.tags["rect"] != 4 { // the background and three bars
		t.Errorf("%d rects, want 4", p.tags["rect"])
	}
	if got := string(BarChart(c)); got != svg {
		t.Errorf("BarChart is not deterministic")
	}
}

func TestBarChartEmpty(t *testing.T) {
	for _, bars := range [][]Bar{nil, {{"North", 0}, {"South", 0}}, {{"x", math.NaN()}, {"y", -3}}} {
		c := Chart{Title: "Alerts by severity", XLabel: "Alerts", YLabel: "Severity", Bars: bars}
		p := parseSVG(t, string(BarChart(c)))
		if !strings.Contains(strings.Join(p.texts, "|"), NoData) || p.desc != NoData+"." || p.title != c.Title {
			t.Errorf("BarChart(%v): texts %q, desc %q, want %q", bars, p.texts, p.desc, NoData)
		}
		if p.tags["rect"] != 1 {
			t.Errorf("BarChart(%v) draws %d rects, want only the background", bars, p.tags["rect"])
		}
	}
}

func TestChartTable(t *testing.T) {
	long := strings.Repeat("Unit name ", 10)
	c := Chart{Bars: []Bar{{long, 3}, {"<b>", 83.333}, {"neg", -1}}}
	want := []ChartRow{{long, "3"}, {"<b>", "83.33"}, {"neg", "-1"}}
	if diff := cmp.Diff(want, ChartTable(c)); diff != "" {
		t.Errorf("ChartTable (-want +got):\n%s", diff)
	}
	if got := ChartTable(Chart{}); got == nil || len(got) != 0 {
		t.Errorf("ChartTable(empty) = %#v, want an empty slice", got)
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		values    []float64
		top, step float64
	}{
		{[]float64{3}, 3, 1},
		{[]float64{1, 1}, 1, 1},
		{[]float64{6, 2}, 6, 2},
		{[]float64{14}, 15, 5},
		{[]float64{83.3, 33.3}, 100, 20},
		{[]float64{0.5}, 0.5, 0.1},
		{[]float64{172800}, 200000, 50000},
	}
	for _, tt := range tests {
		var bars []Bar
		for _, v := range tt.values {
			bars = append(bars, Bar{"x", v})
		}
		top, step := scale(bars)
		if math.Abs(top-tt.top) > 1e-9 || math.Abs(step-tt.step) > 1e-9 {
			t.Errorf("scale(%v) = %v, %v, want %v, %v", tt.values, top, step, tt.top, tt.step)
		}
	}
}

func TestReportCharts(t *testing.T) {
	for _, c := range ReportCharts(BuildReport(fixture())) {
		p := parseSVG(t, string(BarChart(c)))
		if p.title != c.Title || c.XLabel == "" || c.YLabel == "" {
			t.Errorf("chart %q: title %q, labels %q, %q", c.Title, p.title, c.XLabel, c.YLabel)
		}
	}
	if got := ReportCharts(BuildReport(fixture()))[0].Bars; !cmp.Equal(got, []Bar{{"North", 5}, {"South", 2}, {UnknownUnit, 1}}) {
		t.Errorf("submissions chart bars = %v", got)
	}
}

// FuzzBarChart checks that whatever the title and labels, the chart is
// one well-formed SVG element with no element the input put there.
func FuzzBarChart(f *testing.F) {
	f.Add("Requests", `<script>&"`, "</svg><svg onload=alert(1)>", 3.0)
	f.Add("", "]]><!--", "\x00\xff\ufffe", -1.0)
	f.Add("é", strings.Repeat("ß", 40), "", 1e300)
	f.Fuzz(func(t *testing.T, title, a, b string, v float64) {
		c := Chart{Title: title, XLabel: a, YLabel: b, Bars: []Bar{{a, v}, {b, 1}, {title, v / 2}}}
		p, err := parseSVGErr(string(BarChart(c)))
		if err != nil {
			t.Fatalf("BarChart(%q, %q, %q, %v): %v", title, a, b, v, err)
		}
		for tag := range p.tags {
			switch tag {
			case "svg", "title", "desc", "rect", "text", "line", "g":
			default:
				t.Errorf("BarChart(%q, %q, %q, %v) has a <%s>", title, a, b, v, tag)
			}
		}
	})
}
