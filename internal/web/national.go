package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// The national report (served on the national node alone): every
// organisation's oversight figures for a period, counts only
// (oversight.Reduce), and their total. Each view is recorded in the
// national node's oversight log, naming the viewer and the period,
// before any organisation's store is read: if the record cannot be
// written, nothing is shown.

// nationalReport records p's view of the period r's query names, then
// builds the report. format says how it is shown (json, csv or html).
func (s *server) nationalReport(r *http.Request, p identity.Principal, format string) (oversight.NationalReport, error) {
	q := r.URL.Query()
	now := s.cfg.Now()
	from, to, err := oversight.ParsePeriod(q.Get("from"), q.Get("to"), now)
	if err != nil {
		return oversight.NationalReport{}, err
	}
	if _, err := s.cfg.Record(r.Context(), p.Subject, "national_report_viewed", map[string]any{
		"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339), "format": format, "role": string(p.Role),
	}); err != nil {
		return oversight.NationalReport{}, err
	}
	return s.cfg.National(r.Context(), from, to, now)
}

// apiNationalReport answers JSON, or CSV when format=csv or the client
// accepts text/csv and not JSON.
func (s *server) apiNationalReport(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = "json"
		if accept := r.Header.Get("Accept"); strings.Contains(accept, "text/csv") && !strings.Contains(accept, "application/json") {
			format = "csv"
		}
	case "json", "csv":
	default:
		writeProblem(w, r, s.cfg.Logger, &validationError{"format", "want json or csv"})
		return
	}
	rep, err := s.nationalReport(r, p, format)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, periodProblem(err))
		return
	}
	if format == "json" {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	from, to := oversight.PeriodDates(rep.From, rep.To)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="national-report-%s-to-%s.csv"`, from, to))
	if err := oversight.WriteNationalCSV(w, rep); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "writing the national report as CSV", "err", err)
	}
}

func (s *server) nationalReportPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q := r.URL.Query()
	page := &pages.OversightReport{
		From:   pages.Field{ID: "from", Label: "From", Hint: "The first day, for example 2026-10-01", Value: q.Get("from"), Width: "govuk-input--width-10"},
		To:     pages.Field{ID: "to", Label: "To", Hint: "The last day, for example 2026-10-31", Value: q.Get("to"), Width: "govuk-input--width-10"},
		Action: "/national/report",
	}
	rep, err := s.nationalReport(r, p, "html")
	var pe *oversight.PeriodError
	switch {
	case errors.As(err, &pe):
		page.Layout = s.layout(r, p, "National oversight report")
		page.Title = "National oversight report"
		periodError(page, pe)
		s.render(w, r, http.StatusBadRequest, page)
		return
	case err != nil:
		s.pageError(w, r, p, err)
		return
	}
	from, to := oversight.PeriodDates(rep.From, rep.To)
	page.From.Value, page.To.Value = from, to
	page.Title = "National " + strings.ToLower(oversight.ReportTitle(rep.From, rep.To)[:1]) + oversight.ReportTitle(rep.From, rep.To)[1:]
	page.Layout = s.layout(r, p, page.Title)
	if page.Body, err = oversight.NationalBody(rep); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	period := url.Values{"from": {from}, "to": {to}}.Encode()
	page.CSVHref = "/v1/national/report?format=csv&" + period
	page.JSONHref = "/v1/national/report?" + period
	s.render(w, r, http.StatusOK, page)
}
