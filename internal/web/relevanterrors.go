package web

// The register of relevant errors (internal/relevanterror): the API and
// the pages of oversight and administrators. The service checks the
// role again and decides every step; these handlers only translate.

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/relevanterror"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/web/pages"
)

func relevantErrorHref(id string) string { return "/relevant-errors/" + url.PathEscape(id) }

// relevantErrorProblem maps the register's errors to problems.
func relevantErrorProblem(err error) (Problem, bool) {
	var te *relevanterror.TransitionError
	switch {
	case errors.Is(err, relevanterror.ErrForbidden):
		return Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error()}, true
	case errors.As(err, &te):
		return Problem{Type: TypeInvalidTransit, Title: "Not allowed now", Status: http.StatusConflict, Detail: te.Error()}, true
	}
	return Problem{}, false
}

// relevantErrorQuery reads ?state=, ?overdue= and ?limit=.
func relevantErrorQuery(r *http.Request) (relevanterror.Query, error) {
	v := r.URL.Query()
	q := relevanterror.Query{State: relevanterror.State(v.Get("state"))}
	switch v.Get("overdue") {
	case "", "0", "false":
	case "1", "true":
		q.Overdue = true
	default:
		return q, &validationError{"overdue", "must be true or false"}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, &validationError{"limit", "must be 1 to 500"}
		}
		q.Limit = n
	}
	return q, nil
}

// relevantErrorJSON is an entry as the API returns it: the entry and
// whether it is overdue now.
type relevantErrorJSON struct {
	relevanterror.Entry
	Overdue bool `json:"overdue"`
}

func (s *server) relevantErrorJSON(e relevanterror.Entry) relevantErrorJSON {
	return relevantErrorJSON{Entry: e, Overdue: e.Overdue(s.cfg.Now())}
}

func (s *server) apiRelevantErrors(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q, err := relevantErrorQuery(r)
	var es []relevanterror.Entry
	if err == nil {
		es, err = s.cfg.RelevantErrors.List(r.Context(), p, q)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := make([]relevantErrorJSON, 0, len(es))
	for _, e := range es {
		out = append(out, s.relevantErrorJSON(e))
	}
	writeJSON(w, http.StatusOK, struct {
		RelevantErrors []relevantErrorJSON `json:"relevant_errors"`
	}{out})
}

func (s *server) apiRaiseRelevantError(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in relevanterror.RaiseInput
	err := decodeJSON(w, r, &in)
	var e relevanterror.Entry
	if err == nil {
		e, err = s.cfg.RelevantErrors.Raise(r.Context(), p, in)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.Header().Set("Location", "/v1/relevant-errors/"+url.PathEscape(e.ID))
	writeJSON(w, http.StatusCreated, s.relevantErrorJSON(e))
}

func (s *server) apiRelevantError(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	e, err := s.cfg.RelevantErrors.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, s.relevantErrorJSON(e))
}

func (s *server) apiReportRelevantError(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in relevanterror.ReportInput
	err := decodeJSON(w, r, &in)
	var e relevanterror.Entry
	if err == nil {
		e, err = s.cfg.RelevantErrors.Report(r.Context(), p, r.PathValue("id"), in)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, s.relevantErrorJSON(e))
}

func (s *server) apiCloseRelevantError(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in struct {
		Outcome string `json:"outcome"`
	}
	err := decodeJSON(w, r, &in)
	var e relevanterror.Entry
	if err == nil {
		e, err = s.cfg.RelevantErrors.Close(r.Context(), p, r.PathValue("id"), in.Outcome)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, s.relevantErrorJSON(e))
}

var relevantErrorKindLabels = map[relevanterror.Kind]string{
	relevanterror.OutsideAuthorisation:   "Data processed outside an authorisation",
	relevanterror.DefectiveAuthorisation: "An authorisation found defective",
}

var relevantErrorStateLabels = map[relevanterror.State]string{relevanterror.Open: "Open", relevanterror.Reported: "Reported",
	relevanterror.Closed: "Closed"}

var relevantErrorStateColours = map[relevanterror.State]string{relevanterror.Open: "yellow", relevanterror.Reported: "blue",
	relevanterror.Closed: "green"}

var relevantErrorSourceLabels = map[relevanterror.Source]string{relevanterror.FromOversight: "Oversight",
	relevanterror.FromAdmin: "An administrator", relevanterror.FromLBM: "lbm, automatically"}

// deadlineDate is the last day an entry may be reported on, as people
// read it.
func deadlineDate(deadline time.Time) string {
	return relevanterror.LastDay(deadline).Format("Monday 2 January 2006")
}

func (s *server) relevantErrorsPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q, err := relevantErrorQuery(r)
	var es []relevanterror.Entry
	var overdue int
	if err == nil {
		es, err = s.cfg.RelevantErrors.List(r.Context(), p, q)
	}
	if err == nil {
		overdue, err = s.cfg.RelevantErrors.CountOverdue(r.Context(), p)
	}
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	now := s.cfg.Now()
	page := &pages.RelevantErrors{Layout: s.layout(r, p, "Relevant errors"), Overdue: overdue, OverdueOnly: q.Overdue}
	for _, st := range relevanterror.States {
		page.States = append(page.States, pages.Option{Value: string(st), Label: relevantErrorStateLabels[st], Selected: st == q.State})
	}
	for _, e := range es {
		page.Rows = append(page.Rows, pages.RelevantErrorRow{Href: relevantErrorHref(e.ID), Reference: e.Reference,
			Kind: relevantErrorKindLabels[e.Kind], Request: e.Request, State: relevantErrorStateLabels[e.State],
			StateColour: relevantErrorStateColours[e.State], Identified: displayDate(e.IdentifiedAt.In(relevanterror.London)),
			Deadline: deadlineDate(e.Deadline), Overdue: e.Overdue(now)})
	}
	s.render(w, r, http.StatusOK, page)
}

// relevantErrorForm is the raise form holding in, with errs.
func (s *server) relevantErrorForm(r *http.Request, p identity.Principal, f url.Values, errs []pages.FieldError) *pages.RelevantErrorForm {
	page := &pages.RelevantErrorForm{Layout: s.layout(r, p, "Record a relevant error")}
	page.Errors = errs
	errFor := func(field string) string {
		for _, e := range errs {
			if e.Field == field {
				return e.Message
			}
		}
		return ""
	}
	for _, k := range relevanterror.Kinds {
		page.Kinds = append(page.Kinds, pages.Option{Value: string(k), Label: relevantErrorKindLabels[k], Selected: f.Get("kind") == string(k)})
	}
	page.Fields = []pages.Field{
		{Kind: "text", ID: "identified_at", Label: "When it was identified", Hint: "A date, for example 2026-03-02, or a time, for example 2026-03-02T09:30:00Z.",
			Value: f.Get("identified_at"), Error: errFor("identified_at"), Width: "govuk-input--width-20"},
		{Kind: "text", ID: "request", Label: "Request id (optional)", Hint: "The request the error concerns, if any.",
			Value: f.Get("request"), Error: errFor("request"), Width: "govuk-input--width-20"},
		{Kind: "textarea", ID: "description", Label: "What happened", Rows: 6,
			Hint:  "What data, whose if it must be said, and how it was found. Only oversight and administrators read it; the oversight log keeps it encrypted.",
			Value: f.Get("description"), Error: errFor("description")},
	}
	return page
}

func (s *server) newRelevantErrorPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.render(w, r, http.StatusOK, s.relevantErrorForm(r, p, url.Values{}, nil))
}

// parseWhen reads a form's date (YYYY-MM-DD, the start of that day in
// London) or RFC 3339 time; the zero time for "".
func parseWhen(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, relevanterror.London); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, requests.FieldErrors{{Field: field, Msg: "must be a date (2026-03-02) or a time (2026-03-02T09:30:00Z)"}}
}

// fieldErrorsOf turns a validation failure into the form's errors; ok
// false when err is not one.
func fieldErrorsOf(err error) ([]pages.FieldError, bool) {
	prob, ok := requestProblem(err)
	if !ok {
		return nil, false
	}
	if prob.Status != http.StatusBadRequest {
		return nil, false
	}
	var out []pages.FieldError
	for _, e := range prob.Errors {
		out = append(out, pages.FieldError{Field: e.Field, Message: e.Message})
	}
	if len(out) == 0 {
		out = []pages.FieldError{{Field: prob.Field, Message: prob.Detail}}
	}
	return out, true
}

func (s *server) raiseRelevantErrorPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	f := r.PostForm
	at, err := parseWhen("identified_at", f.Get("identified_at"))
	var e relevanterror.Entry
	if err == nil {
		e, err = s.cfg.RelevantErrors.Raise(r.Context(), p, relevanterror.RaiseInput{Kind: relevanterror.Kind(f.Get("kind")),
			Request: f.Get("request"), Description: f.Get("description"), IdentifiedAt: at})
	}
	if err != nil {
		if errs, ok := fieldErrorsOf(err); ok {
			s.render(w, r, http.StatusBadRequest, s.relevantErrorForm(r, p, f, errs))
			return
		}
		s.pageError(w, r, p, err)
		return
	}
	http.Redirect(w, r, relevantErrorHref(e.ID)+"?saved=1", http.StatusSeeOther)
}

// relevantErrorDetail is entry e's page, its forms holding f, with errs.
func (s *server) relevantErrorDetail(r *http.Request, p identity.Principal, e relevanterror.Entry, f url.Values, errs []pages.FieldError) *pages.RelevantErrorDetail {
	ctx := r.Context()
	page := &pages.RelevantErrorDetail{Layout: s.layout(r, p, e.Reference), Action: relevantErrorHref(e.ID), Reference: e.Reference,
		State: relevantErrorStateLabels[e.State], StateColour: relevantErrorStateColours[e.State], Overdue: e.Overdue(s.cfg.Now()),
		Deadline: deadlineDate(e.Deadline)}
	page.Errors = errs
	errFor := func(field string) string {
		for _, fe := range errs {
			if fe.Field == field {
				return fe.Message
			}
		}
		return ""
	}
	var request []string
	if e.Request != "" {
		request = []string{e.Request}
	}
	page.Summary = []pages.SummaryRow{
		{Key: "Kind", Lines: []string{relevantErrorKindLabels[e.Kind]}},
		{Key: "Request", Lines: request},
		{ID: "relevant-error-description", Key: "What happened", Lines: strings.Split(e.Description, "\n")},
		{Key: "Identified", Lines: []string{displayTime(e.IdentifiedAt)}},
		{Key: "Recorded", Lines: []string{displayTime(e.RaisedAt) + " by " + s.personName(ctx, e.RaisedBy)}},
		{Key: "Raised by", Lines: []string{relevantErrorSourceLabels[e.Source]}},
	}
	if rep := e.Report; rep != nil {
		page.Summary = append(page.Summary,
			pages.SummaryRow{ID: "relevant-error-report", Key: "Reported", Lines: append([]string{displayTime(rep.At) + " to " + rep.Recipient}, strings.Split(rep.Text, "\n")...)})
	}
	if c := e.Closure; c != nil {
		page.Summary = append(page.Summary, pages.SummaryRow{ID: "relevant-error-outcome", Key: "Outcome", Lines: strings.Split(c.Outcome, "\n")})
	}
	for _, h := range e.History {
		text := map[relevanterror.Action]string{relevanterror.ActRaise: "Recorded", relevanterror.ActReport: "Report recorded",
			relevanterror.ActClose: "Closed"}[h.Action]
		text += " (oversight log entry " + strconv.FormatUint(h.OversightIndex, 10) + ")"
		page.History = append(page.History, pages.AlertNote{By: s.personName(ctx, h.By), At: displayTime(h.At), Text: text})
	}
	if relevanterror.Allowed(e.State, relevanterror.ActReport) {
		page.Report = []pages.Field{
			{Kind: "text", ID: "recipient", Label: "Reported to", Hint: "The oversight body, and whom there.", Value: f.Get("recipient"),
				Error: errFor("recipient"), Width: "govuk-input--width-20"},
			{Kind: "text", ID: "reported_at", Label: "When (optional)", Hint: "A date or time, for example 2026-03-04T10:00:00Z; empty means now.",
				Value: f.Get("reported_at"), Error: errFor("reported_at"), Width: "govuk-input--width-20"},
			{Kind: "textarea", ID: "text", Label: "What was reported", Rows: 6, Value: f.Get("text"), Error: errFor("text")},
		}
	}
	if relevanterror.Allowed(e.State, relevanterror.ActClose) {
		page.Close = []pages.Field{{Kind: "textarea", ID: "outcome", Label: "Outcome", Hint: "What was done, and what the oversight body said.",
			Rows: 4, Value: f.Get("outcome"), Error: errFor("outcome")}}
	}
	return page
}

func (s *server) relevantErrorPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	e, err := s.cfg.RelevantErrors.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := s.relevantErrorDetail(r, p, e, url.Values{}, nil)
	if r.URL.Query().Get("saved") != "" {
		page.Notice = "Saved."
	}
	s.render(w, r, http.StatusOK, page)
}

// relevantErrorStep runs a step from a form on an entry's page (formStep).
func (s *server) relevantErrorStep(w http.ResponseWriter, r *http.Request, p identity.Principal, step func(url.Values) error) {
	id := r.PathValue("id")
	s.formStep(w, r, p, relevantErrorHref(id), step, relevantErrorProblem, func(errs []pages.FieldError) (pages.Page, error) {
		e, err := s.cfg.RelevantErrors.Get(r.Context(), p, id)
		if err != nil {
			return nil, err
		}
		return s.relevantErrorDetail(r, p, e, r.PostForm, errs), nil
	})
}

func (s *server) reportRelevantErrorPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.relevantErrorStep(w, r, p, func(f url.Values) error {
		at, err := parseWhen("reported_at", f.Get("reported_at"))
		if err != nil {
			return err
		}
		_, err = s.cfg.RelevantErrors.Report(r.Context(), p, r.PathValue("id"),
			relevanterror.ReportInput{Text: f.Get("text"), Recipient: f.Get("recipient"), At: at})
		return err
	})
}

func (s *server) closeRelevantErrorPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.relevantErrorStep(w, r, p, func(f url.Values) error {
		_, err := s.cfg.RelevantErrors.Close(r.Context(), p, r.PathValue("id"), f.Get("outcome"))
		return err
	})
}
