package web

// Detection alerts (internal/alerts): the queue and an alert's page,
// triage, a request drafted from an alert, and the recorded reveal. The
// service decides who sees which alert; these handlers only translate.

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lbm-project/lbm/internal/alerts"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/web/pages"
)

func alertHref(id string) string { return "/alerts/" + url.PathEscape(id) }

// alertProblem maps the alert flow's errors to problems.
func alertProblem(err error) (Problem, bool) {
	var te *alerts.TransitionError
	switch {
	case errors.Is(err, alerts.ErrNoAuthorisation):
		return Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error() + " (this attempt is recorded)"}, true
	case errors.Is(err, alerts.ErrNotInvestigator):
		return Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error()}, true
	case errors.As(err, &te):
		return Problem{Type: TypeInvalidTransit, Title: "Not allowed now", Status: http.StatusConflict, Detail: te.Error()}, true
	}
	return Problem{}, false
}

// alertQuery reads the queue's ?state=, ?assignee=, ?before= and ?limit=.
func alertQuery(r *http.Request) (alerts.Query, error) {
	v := r.URL.Query()
	q := alerts.Query{State: alerts.State(v.Get("state")), Assignee: v.Get("assignee"), Before: v.Get("before")}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, &validationError{"limit", "must be 1 to 500"}
		}
		q.Limit = n
	}
	return q, nil
}

func (s *server) apiAlerts(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q, err := alertQuery(r)
	if err == nil {
		var as []alerts.Alert
		var next string
		if as, next, err = s.cfg.Alerts.List(r.Context(), p, q); err == nil {
			if as == nil {
				as = []alerts.Alert{}
			}
			writeJSON(w, http.StatusOK, struct {
				Alerts []alerts.Alert `json:"alerts"`
				Next   string         `json:"next,omitempty"`
			}{as, next})
			return
		}
	}
	writeProblem(w, r, s.cfg.Logger, err)
}

func (s *server) apiAlert(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	a, err := s.cfg.Alerts.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *server) apiTriageAlert(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in alerts.TriageInput
	err := decodeJSON(w, r, &in)
	var a alerts.Alert
	if err == nil {
		a, err = s.cfg.Alerts.Triage(r.Context(), p, r.PathValue("id"), in)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *server) apiAlertNote(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in struct {
		Text string `json:"text"`
	}
	err := decodeJSON(w, r, &in)
	var a alerts.Alert
	if err == nil {
		a, err = s.cfg.Alerts.AddNote(r.Context(), p, r.PathValue("id"), in.Text)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *server) apiAlertRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, err := s.cfg.Alerts.DraftRequest(r.Context(), p, r.PathValue("id"))
	var v requestView
	if err == nil {
		v, err = s.requestView(r, p, req)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.Header().Set("Location", "/v1/requests/"+url.PathEscape(req.ID))
	writeJSON(w, http.StatusCreated, v)
}

func (s *server) apiRevealAlert(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in struct {
		Justification string `json:"justification"`
	}
	err := decodeJSON(w, r, &in)
	var id alerts.Identity
	if err == nil {
		id, err = s.cfg.Alerts.Reveal(r.Context(), p, r.PathValue("id"), in.Justification)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, id)
}

var severityColours = map[string]string{"low": "grey", "medium": "yellow", "high": "orange", "critical": "red"}

var alertStateColours = map[alerts.State]string{alerts.New: "blue", alerts.Triage: "yellow", alerts.Dismissed: "grey",
	alerts.Referred: "purple", alerts.Closed: "green"}

var alertStateLabels = map[alerts.State]string{alerts.New: "New", alerts.Triage: "In triage", alerts.Dismissed: "Dismissed",
	alerts.Referred: "Referred", alerts.Closed: "Closed"}

var alertActionLabels = map[alerts.Action]string{alerts.ActAssign: "Assign", alerts.ActDismiss: "Dismiss: no misconduct seen",
	alerts.ActClose: "Close", alerts.ActReopen: "Reopen"}

func (s *server) alertsPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q, err := alertQuery(r)
	var as []alerts.Alert
	var next string
	if err == nil {
		as, next, err = s.cfg.Alerts.List(r.Context(), p, q)
	}
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Alerts{Layout: s.layout(r, p, "Alerts")}
	for _, st := range alerts.States {
		page.States = append(page.States, pages.Option{Value: string(st), Label: alertStateLabels[st], Selected: st == q.State})
	}
	for _, a := range as {
		row := pages.AlertRow{ID: a.ID, Href: alertHref(a.ID), Title: a.Title, Severity: a.Severity, SeverityColour: severityColours[a.Severity],
			Pseudonym: a.Pseudonym, Time: displayTime(a.Time), State: alertStateLabels[a.State], StateColour: alertStateColours[a.State],
			SpecialCategory: a.SpecialCategory}
		if a.Assignee != "" {
			row.Assignee = s.personName(r.Context(), a.Assignee)
		}
		page.Rows = append(page.Rows, row)
	}
	if next != "" {
		v := url.Values{"before": {next}}
		if q.State != "" {
			v.Set("state", string(q.State))
		}
		page.Next = "/alerts?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, page)
}

// alertDetail is alert a's page for p.
func (s *server) alertDetail(r *http.Request, p identity.Principal, a alerts.Alert) *pages.AlertDetail {
	ctx := r.Context()
	page := &pages.AlertDetail{Layout: s.layout(r, p, a.Title), Action: alertHref(a.ID), ID: a.ID, Title: a.Title,
		Severity: a.Severity, SeverityColour: severityColours[a.Severity], State: alertStateLabels[a.State],
		StateColour: alertStateColours[a.State], Pseudonym: a.Pseudonym, MoreEvents: a.MoreEvents,
		Investigator: p.Role == identity.RoleInvestigator}
	special := "No"
	if a.SpecialCategory {
		special = "Yes: the rule uses special-category data"
	}
	assignee := ""
	if a.Assignee != "" {
		assignee = s.personName(ctx, a.Assignee)
	}
	page.Summary = []pages.SummaryRow{
		{ID: "alert-pseudonym", Key: "About", Lines: []string{a.Pseudonym}},
		{Key: "Rule", Lines: []string{a.Rule}},
		{Key: "Why", Lines: []string{a.Why}},
		{Key: "When", Lines: []string{displayTime(a.Time)}},
		{Key: "Log", Lines: []string{a.Log}},
		{Key: "Special category", Lines: []string{special}},
		{Key: "Assigned to", Lines: nonEmpty(assignee)},
		{Key: "Raised", Lines: []string{displayTime(a.Created)}},
	}
	for _, e := range a.Events {
		page.Events = append(page.Events, pages.AlertEvent{Time: displayTime(e.Time), Source: e.Source, Category: e.Category,
			Action: e.Action, Outcome: e.Outcome, Index: strconv.FormatUint(e.Index, 10)})
	}
	for _, n := range a.Notes {
		page.Notes = append(page.Notes, pages.AlertNote{By: s.personName(ctx, n.By), At: displayTime(n.At), Text: n.Text})
	}
	for _, h := range a.History {
		text := alertActionLabels[h.Action]
		if h.Action == alerts.ActRefer {
			text = "Request for authorisation drafted"
		}
		if h.Action == alerts.ActAssign && h.Assignee != "" {
			text += " to " + s.personName(ctx, h.Assignee)
		}
		page.History = append(page.History, pages.AlertNote{By: s.personName(ctx, h.By), At: displayTime(h.At), Text: text})
	}
	if a.Request != "" {
		page.Request, page.RequestRef, page.Reveal = requestHref(a.Request), a.Request, page.Investigator
		if req, err := s.cfg.Requests.Get(ctx, p, a.Request); err == nil {
			page.RequestRef = req.Reference
		}
	}
	if page.Investigator {
		page.Refer = a.Request == "" && (a.State == alerts.New || a.State == alerts.Triage)
		for _, act := range []alerts.Action{alerts.ActAssign, alerts.ActDismiss, alerts.ActClose, alerts.ActReopen} {
			if alerts.Allowed(a.State, act) {
				page.Triage = append(page.Triage, pages.Option{Value: string(act), Label: alertActionLabels[act]})
			}
		}
	}
	return page
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func (s *server) alertPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	a, err := s.cfg.Alerts.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := s.alertDetail(r, p, a)
	if r.URL.Query().Get("saved") != "" {
		page.Notice = "Saved."
	}
	s.render(w, r, http.StatusOK, page)
}

// alertFormFailed shows alert id again with what went wrong, or the
// error page when it is not a problem with the form.
func (s *server) alertFormFailed(w http.ResponseWriter, r *http.Request, p identity.Principal, err error, keep func(*pages.AlertDetail)) {
	prob, ok := requestProblem(err)
	if !ok {
		prob, ok = alertProblem(err)
	}
	if !ok {
		s.pageError(w, r, p, err)
		return
	}
	a, gerr := s.cfg.Alerts.Get(r.Context(), p, r.PathValue("id"))
	if gerr != nil {
		s.pageError(w, r, p, gerr)
		return
	}
	page := s.alertDetail(r, p, a)
	if keep != nil {
		keep(page)
	}
	if len(prob.Errors) > 0 {
		for _, e := range prob.Errors {
			page.Errors = append(page.Errors, pages.FieldError{Field: e.Field, Message: e.Message})
		}
	} else {
		field := prob.Field
		if field == "" {
			field = "action"
		}
		page.Errors = []pages.FieldError{{Field: field, Message: prob.Detail}}
	}
	s.render(w, r, prob.Status, page)
}

func (s *server) triageAlertPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	f := r.PostForm
	in := alerts.TriageInput{Action: alerts.Action(f.Get("action")), Assignee: f.Get("assignee"), Note: f.Get("note")}
	if _, err := s.cfg.Alerts.Triage(r.Context(), p, r.PathValue("id"), in); err != nil {
		s.alertFormFailed(w, r, p, err, func(page *pages.AlertDetail) { page.Note = in.Note })
		return
	}
	http.Redirect(w, r, alertHref(r.PathValue("id"))+"?saved=1", http.StatusSeeOther)
}

func (s *server) alertNotePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if _, err := s.cfg.Alerts.AddNote(r.Context(), p, r.PathValue("id"), r.PostForm.Get("text")); err != nil {
		s.alertFormFailed(w, r, p, err, nil)
		return
	}
	http.Redirect(w, r, alertHref(r.PathValue("id"))+"?saved=1", http.StatusSeeOther)
}

func (s *server) alertRequestPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	req, err := s.cfg.Alerts.DraftRequest(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.alertFormFailed(w, r, p, err, nil)
		return
	}
	http.Redirect(w, r, requestHref(req.ID)+"/check", http.StatusSeeOther)
}

func (s *server) revealAlertPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	justification := r.PostForm.Get("justification")
	id, err := s.cfg.Alerts.Reveal(r.Context(), p, r.PathValue("id"), justification)
	if err != nil {
		s.alertFormFailed(w, r, p, err, func(page *pages.AlertDetail) { page.Justification = justification })
		return
	}
	a, err := s.cfg.Alerts.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := s.alertDetail(r, p, a)
	page.Identity = &pages.AlertIdentity{Name: id.Name, Person: id.Person, Number: id.Number, Unit: id.Unit,
		AccessRecord: strconv.FormatUint(id.AccessRecord, 10)}
	s.render(w, r, http.StatusOK, page)
}
