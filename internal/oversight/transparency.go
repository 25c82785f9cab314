package oversight

import (
	"math"
	"time"
)

// DefaultSuppression is the smallest count the public transparency
// figures show: fewer, but more than none, is shown only as "fewer than
// it", so that no case can be recognised from a figure.
const DefaultSuppression = 5

// Transparency is what lbm tells the public about its own use: counts
// only, by quarter, with small counts suppressed. It names no unit, no
// person, no request and no rule.
type Transparency struct {
	Threshold int                  `json:"threshold"`
	Generated time.Time            `json:"generated_at"`
	Periods   []TransparencyPeriod `json:"periods"`
	// NoticePercent is the share of staff who have acknowledged the
	// monitoring notice in force, whole percent; nil while fewer staff
	// than Threshold are counted or no notice is published.
	NoticePercent *int `json:"notice_percent"`
}

// TransparencyPeriod is one period's figures, From inclusive and To
// exclusive; the last is the whole year.
type TransparencyPeriod struct {
	From    time.Time      `json:"from"`
	To      time.Time      `json:"to"`
	Figures []PublicFigure `json:"figures"`
}

// A PublicFigure is one count. Value is nil when it is suppressed:
// above zero and below the threshold.
type PublicFigure struct {
	Measure    string `json:"measure"`
	Value      *int   `json:"value"`
	Suppressed bool   `json:"suppressed"`
}

// PublicMeasures are the measures of a TransparencyPeriod, in order, with
// what the public page calls them.
var PublicMeasures = []struct{ ID, Label string }{
	{"requests_submitted", "Requests to monitor, record or review someone’s information"},
	{"requests_authorised", "Requests authorised"},
	{"requests_refused", "Requests refused"},
	{"urgent_authorisations", "Authorised urgently, to be ratified within days"},
	{"accesses", "Looks at monitored information under an authorisation"},
	{"refused_attempts", "Attempts to look that lbm refused"},
	{"alerts_raised", "Alerts raised by the detection rules"},
	{"break_glass", "Changes made outside dual control (break-glass)"},
}

// QuarterStarts returns the first instants, in London, of the four
// calendar quarters before the one now is in, oldest first, and of now's
// quarter: the bounds of the last four full quarters.
func QuarterStarts(now time.Time) []time.Time {
	t := now.In(london)
	q := time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, london)
	out := make([]time.Time, 5)
	for i := range out {
		out[i] = q.AddDate(0, -3*(4-i), 0).UTC()
	}
	return out
}

// BuildTransparency counts in's records over the last four full quarters
// before in.Now, each and together, suppressing counts below threshold.
// The year's figure is suppressed too where the suppressed quarters
// together hold fewer than threshold: else subtracting the quarters shown
// from it would give them away.
// in must cover them all: Gather from the first quarter's start to the
// last one's end.
func BuildTransparency(in ReportInput, threshold int) Transparency {
	if threshold < 1 {
		threshold = DefaultSuppression
	}
	bounds := QuarterStarts(in.Now)
	out := Transparency{Threshold: threshold, Generated: in.Now.UTC()}
	periods := make([][2]time.Time, 0, 5)
	for i := range 4 {
		periods = append(periods, [2]time.Time{bounds[i], bounds[i+1]})
	}
	periods = append(periods, [2]time.Time{bounds[0], bounds[4]})
	hidden := map[string]int{} // by measure, the quarters' suppressed total
	for i, p := range periods {
		period := in
		period.From, period.To = p[0], p[1]
		r := BuildReport(period)
		counts := map[string]int{
			"requests_submitted":    r.Submissions.Total.Submitted,
			"requests_authorised":   r.Submissions.Total.Authorised,
			"requests_refused":      r.Submissions.Total.Refused,
			"urgent_authorisations": r.Urgent.Total.Authorised,
			"accesses":              r.Accesses.Total.Accesses,
			"refused_attempts":      r.RefusedAttempts.Total.Attempts,
			"alerts_raised":         r.Alerts.Total.Raised,
			"break_glass":           r.BreakGlass.Count,
		}
		tp := TransparencyPeriod{From: p[0], To: p[1]}
		for _, m := range PublicMeasures {
			f := publicFigure(m.ID, counts[m.ID], threshold)
			switch {
			case i < 4 && f.Suppressed:
				hidden[m.ID] += counts[m.ID]
			case i == 4 && hidden[m.ID] > 0 && hidden[m.ID] < threshold:
				// The year less the quarters shown would give what the
				// suppressed quarters hold: the year is suppressed too.
				f = PublicFigure{Measure: m.ID, Suppressed: true}
			}
			tp.Figures = append(tp.Figures, f)
		}
		out.Periods = append(out.Periods, tp)
	}
	if n := in.Notice; n.Staff >= threshold {
		pct := int(math.Round(100 * float64(n.Acknowledged) / float64(n.Staff)))
		out.NoticePercent = &pct
	}
	return out
}

func publicFigure(measure string, n, threshold int) PublicFigure {
	if n > 0 && n < threshold {
		return PublicFigure{Measure: measure, Suppressed: true}
	}
	return PublicFigure{Measure: measure, Value: &n}
}
