package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// The oversight report: the figures an inspector asks for, for any
// period, as a page with charts, as CSV and as JSON. All three read the
// same report, built from the store on each request.

// oversightReport builds the report of the period r's query names
// ("from" and "to", London dates, both days included; the last 30 days
// by default).
func (s *server) oversightReport(r *http.Request) (oversight.Report, error) {
	q := r.URL.Query()
	now := s.cfg.Now()
	from, to, err := oversight.ParsePeriod(q.Get("from"), q.Get("to"), now)
	if err != nil {
		return oversight.Report{}, err
	}
	in, err := oversight.Gather(r.Context(), s.cfg.Store, s.cfg.Opener.OpenMetadata, from, to, now, nil)
	if err != nil {
		return oversight.Report{}, err
	}
	return oversight.BuildReport(in), nil
}

func (s *server) apiOversightReport(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	rep, err := s.oversightReport(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, periodProblem(err))
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// periodProblem makes a wrong period a validation error on its field.
func periodProblem(err error) error {
	var pe *oversight.PeriodError
	if errors.As(err, &pe) {
		return &validationError{pe.Field, pe.Msg}
	}
	return err
}

func (s *server) oversightReportCSV(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	rep, err := s.oversightReport(r)
	if err != nil {
		s.pageError(w, r, p, periodProblem(err))
		return
	}
	from, to := oversight.PeriodDates(rep.From, rep.To)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="oversight-report-%s-to-%s.csv"`, from, to))
	if err := oversight.WriteReportCSV(w, rep); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "writing the oversight report as CSV", "err", err)
	}
}

func (s *server) oversightReportPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q := r.URL.Query()
	page := &pages.OversightReport{
		From: pages.Field{ID: "from", Label: "From", Hint: "The first day, for example 2026-10-01", Value: q.Get("from"), Width: "govuk-input--width-10"},
		To:   pages.Field{ID: "to", Label: "To", Hint: "The last day, for example 2026-10-31", Value: q.Get("to"), Width: "govuk-input--width-10"},
	}
	rep, err := s.oversightReport(r)
	var pe *oversight.PeriodError
	switch {
	case errors.As(err, &pe):
		page.Layout = s.layout(r, p, "Oversight report")
		page.Title = "Oversight report"
		periodError(page, pe)
		s.render(w, r, http.StatusBadRequest, page)
		return
	case err != nil:
		s.pageError(w, r, p, err)
		return
	}
	from, to := oversight.PeriodDates(rep.From, rep.To)
	page.From.Value, page.To.Value = from, to
	page.Title = oversight.ReportTitle(rep.From, rep.To)
	page.Layout = s.layout(r, p, page.Title)
	if page.Body, err = oversight.ReportBody(rep); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	period := url.Values{"from": {from}, "to": {to}}.Encode()
	page.CSVHref = "/reports/oversight.csv?" + period
	page.JSONHref = "/v1/reports/oversight?" + period
	s.render(w, r, http.StatusOK, page)
}

// periodError shows pe on the report form's field it is about.
func periodError(page *pages.OversightReport, pe *oversight.PeriodError) {
	page.Errors = []pages.FieldError{{Field: pe.Field, Message: "“" + map[string]string{"from": "From", "to": "To"}[pe.Field] + "” " + pe.Msg}}
	if pe.Field == "from" {
		page.From.Error = page.Errors[0].Message
	} else {
		page.To.Error = page.Errors[0].Message
	}
}
