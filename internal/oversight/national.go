package oversight

import (
	"bytes"
	"encoding/csv"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

// The national report: for a service of several organisations, what the
// national oversight body sees of each organisation's oversight Report,
// and their total. It is counts alone. Every field of Report was weighed:
//
//   - Units and every ByUnit breakdown: dropped. A unit can be a handful
//     of people, and its name says which.
//   - Urgent.Items, Reviews.Late, Reviews.Overdue, Accesses.Top: dropped.
//     They carry request ids and operation references.
//   - BreakGlass.Actions: dropped (who acted, and the details); its count
//     is kept.
//   - ByPurpose, ByLevel, ByInvestigation, Accesses.ByAction and the
//     alerts' ByState and BySeverity: dropped. Their keys come from each
//     organisation's own catalogue, consent policy and rules, edited there
//     as free text, so a key could name an operation.
//   - Every total count, and the decision times: kept. The median and
//     90th percentile of decision times and accesses are per organisation
//     only; they do not add up across organisations, so the total gives
//     the sums, the least and the most, and no median.
//
// [Reduce] is the one place this happens; a test sets every field of a
// Report and checks that none of its text survives.

// Figures are one organisation's counts for a period, or the total.
type Figures struct {
	Submitted  int `json:"submitted"`
	Authorised int `json:"authorised"`
	Refused    int `json:"refused"`
	Withdrawn  int `json:"withdrawn"`
	Pending    int `json:"pending"`

	Decided int `json:"decided"`
	// DecisionMedianSeconds and DecisionP90Seconds are nil in the total.
	DecisionMedianSeconds *int64 `json:"decision_median_seconds,omitempty"`
	DecisionP90Seconds    *int64 `json:"decision_p90_seconds,omitempty"`
	DecisionMaxSeconds    int64  `json:"decision_max_seconds"`

	UrgentAuthorised int `json:"urgent_authorised"`
	UrgentRatified   int `json:"urgent_ratified"`
	UrgentLapsed     int `json:"urgent_lapsed"`
	UrgentEnded      int `json:"urgent_ended"`
	UrgentPending    int `json:"urgent_pending"`

	Renewals      int `json:"renewals"`
	Cancellations int `json:"cancellations"`

	ReviewsDone    int `json:"reviews_done"`
	ReviewsOnTime  int `json:"reviews_on_time"`
	ReviewsLate    int `json:"reviews_late"`
	ReviewsOverdue int `json:"reviews_overdue"`

	Expired int `json:"expired"`
	Lapsed  int `json:"lapsed"`

	Authorisations int `json:"authorisations"`
	Accesses       int `json:"accesses"`
	AccessesMin    int `json:"accesses_min"`
	// AccessesMedian is nil in the total.
	AccessesMedian       *int `json:"accesses_median,omitempty"`
	AccessesMax          int  `json:"accesses_max"`
	AccessesUnattributed int  `json:"accesses_unattributed"`

	RefusedAttempts int `json:"refused_attempts"`
	AlertsRaised    int `json:"alerts_raised"`

	NoticeStaff        int     `json:"notice_staff"`
	NoticeAcknowledged int     `json:"notice_acknowledged"`
	NoticePercent      float64 `json:"notice_percent"`

	BreakGlass int `json:"break_glass"`
}

// TenantFigures are one organisation's figures, named as the tenants
// file names it.
type TenantFigures struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Figures
}

// NationalReport is the national report of a period [From, To).
type NationalReport struct {
	From    time.Time       `json:"from"`
	To      time.Time       `json:"to"`
	Now     time.Time       `json:"generated_at"`
	Tenants []TenantFigures `json:"tenants"`
	Total   Figures         `json:"total"`
}

// Reduce returns r's counts, with everything that could identify a
// person, a unit or an operation left out (see the list above).
func Reduce(r Report) Figures {
	s, d := r.Submissions.Total, r.DecisionTimes.Total
	u, a := r.Urgent.Total, r.Accesses.Total
	median, p90, accMedian := d.MedianSeconds, d.P90Seconds, a.Median
	return Figures{
		Submitted: s.Submitted, Authorised: s.Authorised, Refused: s.Refused, Withdrawn: s.Withdrawn, Pending: s.Pending,
		Decided: d.Decided, DecisionMedianSeconds: &median, DecisionP90Seconds: &p90, DecisionMaxSeconds: d.MaxSeconds,
		UrgentAuthorised: u.Authorised, UrgentRatified: u.Ratified, UrgentLapsed: u.Lapsed, UrgentEnded: u.Ended, UrgentPending: u.Pending,
		Renewals: r.Renewals.Total.Renewals, Cancellations: r.Renewals.Total.Cancellations,
		ReviewsDone: r.Reviews.Total.Done, ReviewsOnTime: r.Reviews.Total.OnTime, ReviewsLate: r.Reviews.Total.Late, ReviewsOverdue: r.Reviews.Total.Overdue,
		Expired: r.Expiries.Total.Expired, Lapsed: r.Expiries.Total.Lapsed,
		Authorisations: a.Authorisations, Accesses: a.Accesses, AccessesMin: a.Min, AccessesMedian: &accMedian, AccessesMax: a.Max,
		AccessesUnattributed: r.Accesses.Unattributed,
		RefusedAttempts:      r.RefusedAttempts.Total.Attempts,
		AlertsRaised:         r.Alerts.Total.Raised,
		NoticeStaff:          r.Notice.Total.Staff, NoticeAcknowledged: r.Notice.Total.Acknowledged, NoticePercent: r.Notice.Total.Percent,
		BreakGlass: r.BreakGlass.Count,
	}
}

// BuildNational totals the tenants' figures for the period.
func BuildNational(from, to, now time.Time, tenants []TenantFigures) NationalReport {
	rep := NationalReport{From: from, To: to, Now: now, Tenants: nonNilSlice(tenants)}
	t := &rep.Total
	first := true
	for _, tf := range tenants {
		f := tf.Figures
		t.Submitted += f.Submitted
		t.Authorised += f.Authorised
		t.Refused += f.Refused
		t.Withdrawn += f.Withdrawn
		t.Pending += f.Pending
		t.Decided += f.Decided
		t.DecisionMaxSeconds = max(t.DecisionMaxSeconds, f.DecisionMaxSeconds)
		t.UrgentAuthorised += f.UrgentAuthorised
		t.UrgentRatified += f.UrgentRatified
		t.UrgentLapsed += f.UrgentLapsed
		t.UrgentEnded += f.UrgentEnded
		t.UrgentPending += f.UrgentPending
		t.Renewals += f.Renewals
		t.Cancellations += f.Cancellations
		t.ReviewsDone += f.ReviewsDone
		t.ReviewsOnTime += f.ReviewsOnTime
		t.ReviewsLate += f.ReviewsLate
		t.ReviewsOverdue += f.ReviewsOverdue
		t.Expired += f.Expired
		t.Lapsed += f.Lapsed
		// The least is over organisations with authorisations to count.
		if f.Authorisations > 0 {
			if first || f.AccessesMin < t.AccessesMin {
				t.AccessesMin = f.AccessesMin
			}
			first = false
		}
		t.Authorisations += f.Authorisations
		t.Accesses += f.Accesses
		t.AccessesMax = max(t.AccessesMax, f.AccessesMax)
		t.AccessesUnattributed += f.AccessesUnattributed
		t.RefusedAttempts += f.RefusedAttempts
		t.AlertsRaised += f.AlertsRaised
		t.NoticeStaff += f.NoticeStaff
		t.NoticeAcknowledged += f.NoticeAcknowledged
		t.BreakGlass += f.BreakGlass
	}
	t.NoticePercent = noticeCounts("", t.NoticeStaff, t.NoticeAcknowledged).Percent
	return rep
}

// nationalColumns are the CSV's columns after tenant and name, in order.
var nationalColumns = []struct {
	name string
	get  func(Figures) string
}{
	{"submitted", func(f Figures) string { return strconv.Itoa(f.Submitted) }},
	{"authorised", func(f Figures) string { return strconv.Itoa(f.Authorised) }},
	{"refused", func(f Figures) string { return strconv.Itoa(f.Refused) }},
	{"withdrawn", func(f Figures) string { return strconv.Itoa(f.Withdrawn) }},
	{"pending", func(f Figures) string { return strconv.Itoa(f.Pending) }},
	{"decided", func(f Figures) string { return strconv.Itoa(f.Decided) }},
	{"decision_median_seconds", func(f Figures) string { return optional(f.DecisionMedianSeconds) }},
	{"decision_p90_seconds", func(f Figures) string { return optional(f.DecisionP90Seconds) }},
	{"decision_max_seconds", func(f Figures) string { return strconv.FormatInt(f.DecisionMaxSeconds, 10) }},
	{"urgent_authorised", func(f Figures) string { return strconv.Itoa(f.UrgentAuthorised) }},
	{"urgent_ratified", func(f Figures) string { return strconv.Itoa(f.UrgentRatified) }},
	{"urgent_lapsed", func(f Figures) string { return strconv.Itoa(f.UrgentLapsed) }},
	{"urgent_ended", func(f Figures) string { return strconv.Itoa(f.UrgentEnded) }},
	{"urgent_pending", func(f Figures) string { return strconv.Itoa(f.UrgentPending) }},
	{"renewals", func(f Figures) string { return strconv.Itoa(f.Renewals) }},
	{"cancellations", func(f Figures) string { return strconv.Itoa(f.Cancellations) }},
	{"reviews_done", func(f Figures) string { return strconv.Itoa(f.ReviewsDone) }},
	{"reviews_on_time", func(f Figures) string { return strconv.Itoa(f.ReviewsOnTime) }},
	{"reviews_late", func(f Figures) string { return strconv.Itoa(f.ReviewsLate) }},
	{"reviews_overdue", func(f Figures) string { return strconv.Itoa(f.ReviewsOverdue) }},
	{"expired", func(f Figures) string { return strconv.Itoa(f.Expired) }},
	{"lapsed", func(f Figures) string { return strconv.Itoa(f.Lapsed) }},
	{"authorisations", func(f Figures) string { return strconv.Itoa(f.Authorisations) }},
	{"accesses", func(f Figures) string { return strconv.Itoa(f.Accesses) }},
	{"accesses_min", func(f Figures) string { return strconv.Itoa(f.AccessesMin) }},
	{"accesses_median", func(f Figures) string { return optional(f.AccessesMedian) }},
	{"accesses_max", func(f Figures) string { return strconv.Itoa(f.AccessesMax) }},
	{"accesses_unattributed", func(f Figures) string { return strconv.Itoa(f.AccessesUnattributed) }},
	{"refused_attempts", func(f Figures) string { return strconv.Itoa(f.RefusedAttempts) }},
	{"alerts_raised", func(f Figures) string { return strconv.Itoa(f.AlertsRaised) }},
	{"notice_staff", func(f Figures) string { return strconv.Itoa(f.NoticeStaff) }},
	{"notice_acknowledged", func(f Figures) string { return strconv.Itoa(f.NoticeAcknowledged) }},
	{"notice_percent", func(f Figures) string { return strconv.FormatFloat(f.NoticePercent, 'f', 1, 64) }},
	{"break_glass", func(f Figures) string { return strconv.Itoa(f.BreakGlass) }},
}

func optional[T int | int64](p *T) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(int64(*p), 10)
}

// NationalColumns returns the names of the figures, in the order the CSV
// and the page show them.
func NationalColumns() []string {
	out := make([]string, len(nationalColumns))
	for i, c := range nationalColumns {
		out[i] = c.name
	}
	return out
}

// NationalRow returns f's figures as text, in NationalColumns' order; an
// empty cell is a figure the total does not give.
func NationalRow(f Figures) []string {
	out := make([]string, len(nationalColumns))
	for i, c := range nationalColumns {
		out[i] = c.get(f)
	}
	return out
}

// WriteNationalCSV writes rep as CSV: a header, one row per tenant, and
// the total (tenant "total", no name).
func WriteNationalCSV(w io.Writer, rep NationalReport) error {
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"tenant", "name"}, NationalColumns()...))
	for _, t := range rep.Tenants {
		cw.Write(append([]string{cell(t.ID), cell(t.Name)}, NationalRow(t.Figures)...))
	}
	cw.Write(append([]string{"total", ""}, NationalRow(rep.Total)...))
	cw.Flush()
	return cw.Error()
}

// nationalHTML is the national report's body: one row per figure, one
// column per organisation and the total, so that it reads on a page
// however many organisations there are.
var nationalHTML = template.Must(template.New("national").Parse(`<table class="govuk-table" id="national-report">
<caption class="govuk-table__caption govuk-table__caption--m">Figures by organisation</caption>
<thead class="govuk-table__head"><tr class="govuk-table__row"><th scope="col" class="govuk-table__header">Figure</th>
{{- range .Heads}}<th scope="col" class="govuk-table__header govuk-table__header--numeric">{{.}}</th>{{end}}</tr></thead>
<tbody class="govuk-table__body">
{{- range .Rows}}<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">{{.Label}}</th>
{{- range .Cells}}<td class="govuk-table__cell govuk-table__cell--numeric">{{if .}}{{.}}{{else}}–{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>`))

// NationalBody renders rep as HTML for the national report page; a
// figure the total does not give shows as a dash.
func NationalBody(rep NationalReport) (template.HTML, error) {
	type row struct {
		Label string
		Cells []string
	}
	heads := []string{}
	cols := [][]string{}
	for _, t := range rep.Tenants {
		heads = append(heads, t.Name)
		cols = append(cols, NationalRow(t.Figures))
	}
	heads = append(heads, "Total")
	cols = append(cols, NationalRow(rep.Total))
	var rows []row
	for i, name := range NationalColumns() {
		label := strings.ReplaceAll(name, "_", " ")
		r := row{Label: strings.ToUpper(label[:1]) + label[1:]}
		for _, c := range cols {
			r.Cells = append(r.Cells, c[i])
		}
		rows = append(rows, r)
	}
	var b bytes.Buffer
	err := nationalHTML.Execute(&b, struct {
		Heads []string
		Rows  []row
	}{heads, rows})
	return template.HTML(b.String()), err
}
