package web

// Subject access requests (internal/subjectaccess): the DPO's API and
// pages, and the person's own view and download. The service checks the
// role again and decides every step; these handlers only translate. What
// the person is shown is subjectaccess.PersonView and nothing else.

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/subjectaccess"
	"github.com/lbm-project/lbm/internal/web/pages"
)

func subjectAccessHref(id string) string { return "/subject-access-requests/" + url.PathEscape(id) }

// subjectAccessProblem maps the flow's errors to problems.
func subjectAccessProblem(err error) (Problem, bool) {
	var te *subjectaccess.TransitionError
	var oe *subjectaccess.OwnRequestError
	switch {
	case errors.Is(err, subjectaccess.ErrForbidden):
		return Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error()}, true
	case errors.As(err, &oe):
		return Problem{Type: TypeConflictInterest, Title: "Conflict of interest", Status: http.StatusForbidden, Detail: oe.Error()}, true
	case errors.As(err, &te):
		return Problem{Type: TypeInvalidTransit, Title: "Not allowed now", Status: http.StatusConflict, Detail: te.Error()}, true
	case errors.Is(err, subjectaccess.ErrNotOpened):
		return Problem{Type: TypeInvalidTransit, Title: "Not opened", Status: http.StatusConflict, Detail: err.Error()}, true
	}
	return Problem{}, false
}

// SubjectAccessJSON is a subject access request as the DPO's API returns
// it: the request, its handling, and whether it is overdue now.
type SubjectAccessJSON struct {
	subjectaccess.Request
	Due     string `json:"due"` // a date, YYYY-MM-DD
	Overdue bool   `json:"overdue"`
}

func (s *server) subjectAccessJSON(q subjectaccess.Request) SubjectAccessJSON {
	return SubjectAccessJSON{Request: q, Due: q.Due.Format(time.DateOnly), Overdue: q.Overdue(s.cfg.Now())}
}

// MySubjectAccessJSON is one of a person's own requests, as they see it.
type MySubjectAccessJSON struct {
	ID       string `json:"id"`
	Made     string `json:"made"`
	Details  string `json:"details"`
	Due      string `json:"due"`
	Extended bool   `json:"extended"`
	// ExtendedBecause is the general reason given for an extension.
	ExtendedBecause string `json:"extended_because,omitempty"`
	State           string `json:"state"`
	Download        string `json:"download,omitempty"`
}

func mySubjectAccessJSON(q subjectaccess.Request) MySubjectAccessJSON {
	v := subjectaccess.ViewFor(q)
	out := MySubjectAccessJSON{ID: v.ID, Made: formatTime(v.Made), Details: v.Details, Due: v.Due.Format(time.DateOnly),
		Extended: v.Extended, State: v.State, Download: v.Download}
	if v.Extended {
		out.ExtendedBecause = subjectaccess.ExtensionNotice
	}
	return out
}

func (s *server) apiMySubjectAccessRequests(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if p.Person == nil {
		// The bootstrap token is nobody: it has no requests.
		writeProblem(w, r, s.cfg.Logger, errForbidden)
		return
	}
	qs, err := s.cfg.SubjectAccess.Mine(r.Context(), p)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeList(w, "requests", qs, mySubjectAccessJSON)
}

func (s *server) apiSubjectAccessRequests(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	qs, err := s.cfg.SubjectAccess.List(r.Context(), p)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeList(w, "requests", qs, s.subjectAccessJSON)
}

func (s *server) apiSubjectAccessRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q, err := s.cfg.SubjectAccess.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, s.subjectAccessJSON(q))
}

// subjectAccessSummaryJSON is what the data holds and the hint.
type subjectAccessSummaryJSON struct {
	Categories []categorySummaryJSON `json:"categories"`
	// MightPrejudice: a request naming the person is in force or awaiting
	// a decision, so an exemption may apply (DPA 2018 Sch 2 para 2). A
	// suggestion only.
	MightPrejudice bool `json:"might_prejudice"`
}

type categorySummaryJSON struct {
	Category string `json:"category"`
	Count    int64  `json:"count"`
	First    string `json:"first"`
	Last     string `json:"last"`
}

func (s *server) apiSubjectAccessSummary(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	sums, err := s.cfg.SubjectAccess.Summary(r.Context(), p, r.PathValue("id"))
	var hint bool
	if err == nil {
		hint, err = s.cfg.SubjectAccess.Hint(r.Context(), p, r.PathValue("id"))
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := subjectAccessSummaryJSON{Categories: []categorySummaryJSON{}, MightPrejudice: hint}
	for _, c := range sums {
		out.Categories = append(out.Categories, categorySummaryJSON{c.Category, c.Count, formatTime(c.First), formatTime(c.Last)})
	}
	writeJSON(w, http.StatusOK, out)
}

// subjectAccessAPIStep runs one DPO step from a JSON body and returns the
// request after it.
func subjectAccessAPIStep[T any](s *server, w http.ResponseWriter, r *http.Request, step func(T) (subjectaccess.Request, error)) {
	var in T
	err := decodeJSON(w, r, &in)
	var q subjectaccess.Request
	if err == nil {
		q, err = step(in)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, s.subjectAccessJSON(q))
}

type noBody struct{}

func (s *server) apiOpenSubjectAccess(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	subjectAccessAPIStep(s, w, r, func(noBody) (subjectaccess.Request, error) {
		return s.cfg.SubjectAccess.Open(r.Context(), p, r.PathValue("id"))
	})
}

func (s *server) apiExemptSubjectAccess(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	subjectAccessAPIStep(s, w, r, func(in subjectaccess.ExemptInput) (subjectaccess.Request, error) {
		return s.cfg.SubjectAccess.Exempt(r.Context(), p, r.PathValue("id"), in)
	})
}

func (s *server) apiUnexemptSubjectAccess(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	subjectAccessAPIStep(s, w, r, func(noBody) (subjectaccess.Request, error) {
		return s.cfg.SubjectAccess.Unexempt(r.Context(), p, r.PathValue("id"), r.PathValue("exemption"))
	})
}

func (s *server) apiExtendSubjectAccess(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	subjectAccessAPIStep(s, w, r, func(in struct {
		Months int    `json:"months"`
		Reason string `json:"reason"`
	}) (subjectaccess.Request, error) {
		return s.cfg.SubjectAccess.Extend(r.Context(), p, r.PathValue("id"), in.Months, in.Reason)
	})
}

func (s *server) apiAnswerSubjectAccess(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	subjectAccessAPIStep(s, w, r, func(noBody) (subjectaccess.Request, error) {
		return s.cfg.SubjectAccess.Answer(r.Context(), p, r.PathValue("id"))
	})
}

func (s *server) apiCloseSubjectAccess(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	subjectAccessAPIStep(s, w, r, func(in struct {
		Reason subjectaccess.CloseReason `json:"reason"`
		Note   string                    `json:"note"`
	}) (subjectaccess.Request, error) {
		return s.cfg.SubjectAccess.Close(r.Context(), p, r.PathValue("id"), in.Reason, in.Note)
	})
}

// downloadSubjectAccess sends the person their own answer; anyone else's
// request, or one not answered, is not found.
func (s *server) downloadSubjectAccess(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var zip []byte
	err := errForbidden // the bootstrap token is nobody
	if p.Person != nil {
		zip, err = s.cfg.SubjectAccess.Download(r.Context(), p, r.PathValue("id"))
	}
	if err != nil {
		if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/v1/") {
			s.pageError(w, r, p, err)
			return
		}
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="your-data.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(zip)))
	w.Write(zip)
}

// Pages.

var subjectAccessStateLabels = map[subjectaccess.State]string{subjectaccess.Received: "Received",
	subjectaccess.Preparing: "Being prepared", subjectaccess.Answered: "Answered", subjectaccess.Closed: "Closed"}

var subjectAccessStateColours = map[subjectaccess.State]string{subjectaccess.Received: "yellow",
	subjectaccess.Preparing: "blue", subjectaccess.Answered: "green", subjectaccess.Closed: "grey"}

var groundLabels = map[subjectaccess.Ground]string{
	subjectaccess.Crime:            "Crime: disclosure would be likely to prejudice the prevention or detection of crime",
	subjectaccess.LegalProceedings: "Legal proceedings",
	subjectaccess.ThirdParty:       "Other people’s data",
}

var closeReasonLabels = map[subjectaccess.CloseReason]string{subjectaccess.Withdrawn: "Withdrawn by the person",
	subjectaccess.ManifestlyUnfounded: "Manifestly unfounded (UK GDPR Art 12(5))", subjectaccess.ManifestlyExcessive: "Manifestly excessive (UK GDPR Art 12(5))"}

func dueDate(t time.Time) string { return t.Format("Monday 2 January 2006") }

func (s *server) subjectAccessPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	qs, err := s.cfg.SubjectAccess.List(r.Context(), p)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	now := s.cfg.Now()
	page := &pages.SubjectAccessRequests{Layout: s.layout(r, p, "Subject access requests")}
	for _, q := range qs {
		page.Rows = append(page.Rows, pages.SubjectAccessRow{ID: q.ID, Person: q.Person, PersonHref: "/people/" + url.PathEscape(q.Person),
			Made: displayTime(q.Made), Details: q.Details, State: subjectAccessStateLabels[q.State], Href: subjectAccessHref(q.ID),
			Due: dueDate(q.Due), Overdue: q.Overdue(now)})
		if q.Person == p.Subject {
			// Another DPO handles it; its page would refuse.
			page.Rows[len(page.Rows)-1].Href = ""
		}
	}
	s.render(w, r, http.StatusOK, page)
}

// subjectAccessDetail is request q's page, its forms holding f, with
// errs. Once opened, reading it records the viewing of the summary.
func (s *server) subjectAccessDetail(r *http.Request, p identity.Principal, q subjectaccess.Request, f url.Values, errs []pages.FieldError) (*pages.SubjectAccessDetail, error) {
	ctx := r.Context()
	action := subjectAccessHref(q.ID)
	page := &pages.SubjectAccessDetail{Layout: s.layout(r, p, s.personName(ctx, q.Person)), Action: action,
		State: subjectAccessStateLabels[q.State], StateColour: subjectAccessStateColours[q.State], Due: dueDate(q.Due),
		Overdue: q.Overdue(s.cfg.Now())}
	page.Errors = errs
	errFor := func(field string) string {
		for _, fe := range errs {
			if fe.Field == field {
				return fe.Message
			}
		}
		return ""
	}
	details := []string{"Everything"}
	if q.Details != "" {
		details = strings.Split(q.Details, "\n")
	}
	page.Summary = []pages.SummaryRow{
		{Key: "Person", Lines: []string{s.personName(ctx, q.Person)}},
		{Key: "Received", Lines: []string{displayTime(q.Made)}},
		{ID: "sar-details", Key: "What they asked for", Lines: details},
	}
	if x := q.Extension; x != nil {
		page.Summary = append(page.Summary, pages.SummaryRow{ID: "sar-extension", Key: "Extended",
			Lines: append([]string{"By " + strconv.Itoa(x.Months) + " month(s), " + displayTime(x.At) + " by " + s.personName(ctx, x.By)}, strings.Split(x.Reason, "\n")...)})
	}
	if a := q.Answer; a != nil {
		page.Summary = append(page.Summary, pages.SummaryRow{ID: "sar-answer", Key: "Answered",
			Lines: []string{displayTime(a.At) + " by " + s.personName(ctx, a.By), strconv.Itoa(a.Events) + " event(s); SHA-256 " + a.SHA256}})
	}
	if c := q.Closure; c != nil {
		page.Summary = append(page.Summary, pages.SummaryRow{ID: "sar-closure", Key: "Closed",
			Lines: append([]string{closeReasonLabels[c.Reason]}, strings.Split(c.Note, "\n")...)})
	}
	own := q.Person == p.Subject
	page.CanOpen = subjectaccess.Allowed(q.State, subjectaccess.ActOpen) && !own
	page.Opened = q.OpenedBy != "" && !own && (q.State == subjectaccess.Preparing || q.State == subjectaccess.Answered)
	if page.Opened {
		var sums []store.CategorySummary
		if page.Preparing = q.State == subjectaccess.Preparing; page.Preparing {
			var err error
			if sums, err = s.cfg.SubjectAccess.Summary(ctx, p, q.ID); err != nil {
				return nil, err
			}
			for _, c := range sums {
				page.Categories = append(page.Categories, pages.SubjectAccessCategory{Category: c.Category, Count: strconv.FormatInt(c.Count, 10),
					First: displayTime(c.First), Last: displayTime(c.Last)})
			}
			if page.Hint, err = s.cfg.SubjectAccess.Hint(ctx, p, q.ID); err != nil {
				return nil, err
			}
		}
		removable := subjectaccess.Allowed(q.State, subjectaccess.ActUnexempt)
		for _, e := range q.Exemptions {
			cats, period := "Every category", "all time"
			if len(e.Categories) > 0 {
				cats = strings.Join(e.Categories, ", ")
			}
			switch {
			case !e.From.IsZero() && !e.To.IsZero():
				period = "from " + displayTime(e.From) + " to " + displayTime(e.To)
			case !e.From.IsZero():
				period = "from " + displayTime(e.From)
			case !e.To.IsZero():
				period = "before " + displayTime(e.To)
			}
			x := pages.SubjectAccessExemption{Categories: cats, Period: period, Ground: e.Ground.Citation(), Note: e.Note,
				By: s.personName(ctx, e.By), At: displayTime(e.At)}
			if removable {
				x.RemoveAction = action + "/exemptions/" + url.PathEscape(e.ID) + "/removal"
			}
			page.Exemptions = append(page.Exemptions, x)
		}
		if subjectaccess.Allowed(q.State, subjectaccess.ActExempt) {
			var cats []pages.Option
			for _, c := range sums {
				cats = append(cats, pages.Option{Value: c.Category, Label: c.Category, Selected: contains(f["categories"], c.Category)})
			}
			var grounds []pages.Option
			for _, g := range subjectaccess.Grounds {
				grounds = append(grounds, pages.Option{Value: string(g.Ground), Label: groundLabels[g.Ground], Hint: g.Citation, Selected: f.Get("ground") == string(g.Ground)})
			}
			page.Exempt = []pages.Field{
				{Kind: "checkbox", ID: "categories", Label: "Categories to withhold", Hint: "Leave all unticked to withhold a period of every category.",
					Options: cats, Error: errFor("categories")},
				{Kind: "text", ID: "from", Label: "From (optional)", Hint: "A date, for example 2026-03-02; empty means from the start.",
					Value: f.Get("from"), Error: errFor("from"), Width: "govuk-input--width-10"},
				{Kind: "text", ID: "to", Label: "Until (optional)", Hint: "A date, not included; empty means until now.",
					Value: f.Get("to"), Error: errFor("to"), Width: "govuk-input--width-10"},
				{Kind: "radio", ID: "ground", Label: "Ground", Options: grounds, Error: errFor("ground")},
				{Kind: "textarea", ID: "note", Label: "Why", Rows: 4, Hint: "Required. Never shown to the person; the oversight log keeps it encrypted.",
					Value: f.Get("note"), Error: errFor("note")},
			}
		}
		page.CanAnswer = subjectaccess.Allowed(q.State, subjectaccess.ActAnswer)
	}
	if subjectaccess.Allowed(q.State, subjectaccess.ActExtend) && q.Extension == nil && !own {
		page.Extend = []pages.Field{
			{Kind: "radio", ID: "months", Label: "By", Options: []pages.Option{{Value: "1", Label: "One more month", Selected: f.Get("months") == "1"},
				{Value: "2", Label: "Two more months", Selected: f.Get("months") == "2"}}, Error: errFor("months"),
				Hint: "Only once, where the request is complex or the person made several (UK GDPR Art 12(3)). The person is told the new date."},
			{Kind: "textarea", ID: "reason", Label: "Why", Rows: 3, Value: f.Get("reason"), Error: errFor("reason")},
		}
	}
	if subjectaccess.Allowed(q.State, subjectaccess.ActClose) && !own {
		var reasons []pages.Option
		for _, c := range subjectaccess.CloseReasons {
			reasons = append(reasons, pages.Option{Value: string(c), Label: closeReasonLabels[c], Selected: f.Get("close_reason") == string(c)})
		}
		// Named apart from the exemption's note and the extension's
		// reason: one page holds all three forms.
		page.Close = []pages.Field{
			{Kind: "radio", ID: "close_reason", Label: "Reason", Options: reasons, Error: errFor("close_reason")},
			{Kind: "textarea", ID: "close_note", Label: "Note (optional)", Rows: 3, Value: f.Get("close_note"), Error: errFor("close_note")},
		}
	}
	stepText := map[subjectaccess.Action]string{subjectaccess.ActOpen: "Opened", subjectaccess.ActExempt: "Exemption recorded",
		subjectaccess.ActUnexempt: "Exemption removed", subjectaccess.ActExtend: "Deadline extended", subjectaccess.ActAnswer: "Answered",
		subjectaccess.ActClose: "Closed"}
	for _, h := range q.History {
		page.History = append(page.History, pages.AlertNote{By: s.personName(ctx, h.By), At: displayTime(h.At),
			Text: stepText[h.Action] + " (oversight log entry " + strconv.FormatUint(h.OversightIndex, 10) + ")"})
	}
	return page, nil
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func (s *server) subjectAccessRequestPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	q, err := s.cfg.SubjectAccess.Get(r.Context(), p, r.PathValue("id"))
	var page *pages.SubjectAccessDetail
	if err == nil {
		page, err = s.subjectAccessDetail(r, p, q, url.Values{}, nil)
	}
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if r.URL.Query().Get("saved") != "" {
		page.Notice = "Saved."
	}
	s.render(w, r, http.StatusOK, page)
}

// subjectAccessStep runs a step from a form on a request's page (formStep).
func (s *server) subjectAccessStep(w http.ResponseWriter, r *http.Request, p identity.Principal, step func(url.Values) error) {
	id := r.PathValue("id")
	s.formStep(w, r, p, subjectAccessHref(id), step, subjectAccessProblem, func(errs []pages.FieldError) (pages.Page, error) {
		q, err := s.cfg.SubjectAccess.Get(r.Context(), p, id)
		if err != nil {
			return nil, err
		}
		return s.subjectAccessDetail(r, p, q, r.PostForm, errs)
	})
}

func (s *server) openSubjectAccessPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.subjectAccessStep(w, r, p, func(url.Values) error {
		_, err := s.cfg.SubjectAccess.Open(r.Context(), p, r.PathValue("id"))
		return err
	})
}

func (s *server) exemptSubjectAccessPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.subjectAccessStep(w, r, p, func(f url.Values) error {
		in := subjectaccess.ExemptInput{Categories: f["categories"], Ground: subjectaccess.Ground(f.Get("ground")), Note: f.Get("note")}
		var fes requests.FieldErrors
		for _, b := range []struct {
			field string
			to    **time.Time
		}{{"from", &in.From}, {"to", &in.To}} {
			t, err := parseWhen(b.field, f.Get(b.field))
			if err != nil {
				fes = append(fes, err.(requests.FieldErrors)...)
			} else if !t.IsZero() {
				*b.to = &t
			}
		}
		if len(fes) > 0 {
			return fes
		}
		_, err := s.cfg.SubjectAccess.Exempt(r.Context(), p, r.PathValue("id"), in)
		return err
	})
}

func (s *server) unexemptSubjectAccessPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.subjectAccessStep(w, r, p, func(url.Values) error {
		_, err := s.cfg.SubjectAccess.Unexempt(r.Context(), p, r.PathValue("id"), r.PathValue("exemption"))
		return err
	})
}

func (s *server) extendSubjectAccessPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.subjectAccessStep(w, r, p, func(f url.Values) error {
		months, err := strconv.Atoi(f.Get("months"))
		if err != nil {
			return requests.FieldErrors{{Field: "months", Msg: "must be 1 or 2"}}
		}
		_, err = s.cfg.SubjectAccess.Extend(r.Context(), p, r.PathValue("id"), months, f.Get("reason"))
		return err
	})
}

func (s *server) answerSubjectAccessPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.subjectAccessStep(w, r, p, func(url.Values) error {
		_, err := s.cfg.SubjectAccess.Answer(r.Context(), p, r.PathValue("id"))
		return err
	})
}

func (s *server) closeSubjectAccessPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.subjectAccessStep(w, r, p, func(f url.Values) error {
		_, err := s.cfg.SubjectAccess.Close(r.Context(), p, r.PathValue("id"), subjectaccess.CloseReason(f.Get("close_reason")), f.Get("close_note"))
		var fes requests.FieldErrors
		if errors.As(err, &fes) {
			// The form's fields are named apart; the service's are not.
			for i := range fes {
				fes[i].Field = "close_" + fes[i].Field
			}
			return fes
		}
		return err
	})
}

// mySubjectAccessRows are the person's own requests as /me shows them.
func (s *server) mySubjectAccessRows(r *http.Request, p identity.Principal) ([]pages.SubjectAccessRow, error) {
	qs, err := s.cfg.SubjectAccess.Mine(r.Context(), p)
	if err != nil {
		return nil, err
	}
	var rows []pages.SubjectAccessRow
	for _, q := range qs {
		v := subjectaccess.ViewFor(q)
		rows = append(rows, pages.SubjectAccessRow{ID: v.ID, Made: displayTime(v.Made), Details: v.Details, State: v.State,
			Due: dueDate(v.Due), Extended: v.Extended, Download: v.Download})
	}
	return rows, nil
}
