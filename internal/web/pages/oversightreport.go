package pages

import "html/template"

func (OversightReport) template() string { return "oversight-report.html" }

// OversightReport is the oversight report of a period: a form choosing
// the period (GET, From and To as YYYY-MM-DD, both days included), the
// links to the same report as CSV and JSON, and the report itself, which
// internal/oversight renders (Body). Body is empty when the period is
// wrong; Errors then say why.
type OversightReport struct {
	Layout
	Title             string
	From, To          Field
	Body              template.HTML
	CSVHref, JSONHref string
	// Action is where the period form goes; default /reports/oversight.
	// The national report, whose body this page shows too, sets its own.
	Action string
}
