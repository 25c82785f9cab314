package web

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"time"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
)

// maxRequestBody bounds a request's JSON: seven criteria answers and the
// other justifications, each at most 20,000 bytes, fit easily.
const maxRequestBody = 512 << 10

// decodeWritten reads a request as its requester wrote it, refusing the
// fields lbm sets so that no client can set its own state or
// authorisation.
func decodeWritten(w http.ResponseWriter, r *http.Request) (requests.Request, error) {
	var req requests.Request
	if err := decodeJSONUpTo(w, r, &req, maxRequestBody); err != nil {
		return requests.Request{}, err
	}
	if !reflect.DeepEqual(req, req.Written()) {
		return requests.Request{}, &validationError{"request", "id, reference, requester, notice_record, state and the lifecycle fields are set by lbm, not sent"}
	}
	return req, nil
}

// requestView is GET /v1/requests/{id}'s answer.
type requestView struct {
	Request    requests.Request     `json:"request"`
	Problems   requests.FieldErrors `json:"problems"`
	Derivation *consent.Explanation `json:"derivation"`
}

// requestView is req as p sees it (authorise.AsSeenBy), with what
// submitting it would refuse and the level it needs.
func (s *server) requestView(r *http.Request, p identity.Principal, req requests.Request) (requestView, error) {
	v := requestView{Request: authorise.AsSeenBy(p, req), Problems: requests.FieldErrors{}}
	problems, ex, err := s.checkFor(r.Context(), p, req)
	if err != nil {
		return v, err
	}
	if req.State == requests.Draft && problems != nil {
		v.Problems = problems
	}
	v.Derivation = ex
	return v, nil
}

func (s *server) apiCreateRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, err := decodeWritten(w, r)
	if err == nil {
		req, err = s.cfg.Requests.Create(r.Context(), p, req)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, req)
}

func (s *server) apiUpdateRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, err := decodeWritten(w, r)
	if err == nil {
		req, err = s.cfg.Requests.Update(r.Context(), p, r.PathValue("id"), req)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, authorise.AsSeenBy(p, req))
}

// requestSummary is one request in a listing.
type requestSummary struct {
	ID        string    `json:"id"`
	Reference string    `json:"reference"`
	State     string    `json:"state"`
	Requester string    `json:"requester"`
	Operation string    `json:"operation"`
	Mode      string    `json:"mode"`
	Level     int       `json:"level"`
	MinRank   string    `json:"min_rank"`
	Urgent    bool      `json:"urgent"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func summarise(r requests.Request) requestSummary {
	sum := requestSummary{ID: r.ID, Reference: r.Reference, State: string(r.State), Requester: r.Requester,
		Operation: r.Operation.Name, Mode: r.Mode, Urgent: r.Urgent.Urgent, ExpiresAt: r.ExpiresAt}
	if q := r.Requirement; q != nil {
		sum.Level, sum.MinRank = q.Level, q.MinRank
	}
	if n := len(r.History); n > 0 {
		sum.Created, sum.Updated = r.History[0].At, r.History[n-1].At
	}
	return sum
}

func (s *server) apiListRequests(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	rs, err := s.cfg.Requests.List(r.Context(), p, r.URL.Query().Get("view"), r.URL.Query().Get("state"))
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeList(w, "requests", rs, summarise)
}

func (s *server) apiRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, err := s.cfg.Requests.Get(r.Context(), p, r.PathValue("id"))
	var v requestView
	if err == nil {
		v, err = s.requestView(r, p, req)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// apiDeriveRequest explains what a request would need, storing nothing.
func (s *server) apiDeriveRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, err := decodeWritten(w, r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	req.Requester = p.Subject
	problems, ex, err := s.cfg.Requests.Check(r.Context(), req)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if problems == nil {
		problems = requests.FieldErrors{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"problems": problems, "derivation": ex})
}

func (s *server) apiSubmitRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var body struct{}
	if err := decodeOptionalJSON(w, r, &body); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	s.answerTransition(w, r, func() (requests.Request, error) {
		return s.cfg.Requests.Submit(r.Context(), p, r.PathValue("id"))
	})
}

// decodeOptionalJSON is decodeJSON for a body that may be empty.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(w, r, v)
}

func (s *server) answerTransition(w http.ResponseWriter, r *http.Request, act func() (requests.Request, error)) {
	req, err := act()
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

// actOn decodes body, then takes the action build makes of it.
func actOn[T any](s *server, w http.ResponseWriter, r *http.Request, p identity.Principal, build func(T, requests.Actor) requests.Action) {
	var body T
	if err := decodeJSONUpTo(w, r, &body, maxRequestBody); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	s.answerTransition(w, r, func() (requests.Request, error) {
		return s.cfg.Requests.Act(r.Context(), p, r.PathValue("id"), func(by requests.Actor) requests.Action { return build(body, by) })
	})
}

type adviceBody struct {
	View string `json:"view"`
}

type releaseBody struct {
	Events  []string `json:"events"`
	View    string   `json:"view"`
	Release *bool    `json:"release"`
}

type decisionBody struct {
	Authorise        *bool             `json:"authorise"`
	Reasons          string            `json:"reasons"`
	Views            map[string]string `json:"views"`
	DirectlyInvolved *bool             `json:"directly_involved"`
	Until            time.Time         `json:"until"`
}

type ratificationBody struct {
	Reasons string    `json:"reasons"`
	Until   time.Time `json:"until"`
}

type reviewBody struct {
	Notes string    `json:"notes"`
	Next  time.Time `json:"next"`
}

type renewalBody struct {
	Reasons          string    `json:"reasons"`
	DirectlyInvolved *bool     `json:"directly_involved"`
	Until            time.Time `json:"until"`
}

type reasonsBody struct {
	Reasons string `json:"reasons"`
}

type closureBody struct {
	Outcome string `json:"outcome"`
	Useful  bool   `json:"useful"`
	Kept    string `json:"kept"`
}

func (s *server) apiAdvise(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	actOn(s, w, r, p, func(b adviceBody, by requests.Actor) requests.Action { return requests.Advise{By: by, View: b.View} })
}

func (s *server) apiRelease(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var b releaseBody
	if err := decodeJSONUpTo(w, r, &b, maxRequestBody); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	// Releasing is never a default: the view says which way it goes.
	if b.Release == nil {
		writeProblem(w, r, s.cfg.Logger, &validationError{"release", "required: true to release the events, false to keep them back"})
		return
	}
	s.answerTransition(w, r, func() (requests.Request, error) {
		return s.cfg.Requests.Act(r.Context(), p, r.PathValue("id"), func(by requests.Actor) requests.Action {
			return requests.Release{By: by, Events: b.Events, View: b.View, Release: *b.Release}
		})
	})
}

func (s *server) apiDecideRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var b decisionBody
	if err := decodeJSONUpTo(w, r, &b, maxRequestBody); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	// A decision states both, rather than defaulting either to a value
	// that would let an omission authorise or hide involvement.
	switch {
	case b.Authorise == nil:
		writeProblem(w, r, s.cfg.Logger, &validationError{"authorise", "required: true to authorise, false to refuse"})
		return
	case b.DirectlyInvolved == nil:
		writeProblem(w, r, s.cfg.Logger, &validationError{"directly_involved", "required: declare whether you are directly involved in the investigation"})
		return
	}
	s.answerTransition(w, r, func() (requests.Request, error) {
		return s.cfg.Requests.Act(r.Context(), p, r.PathValue("id"), func(by requests.Actor) requests.Action {
			return requests.Decide{By: by, Authorise: *b.Authorise, Reasons: b.Reasons, Views: b.Views,
				DirectlyInvolved: *b.DirectlyInvolved, Until: b.Until}
		})
	})
}

func (s *server) apiRatify(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	actOn(s, w, r, p, func(b ratificationBody, by requests.Actor) requests.Action {
		return requests.Ratify{By: by, Reasons: b.Reasons, Until: b.Until}
	})
}

func (s *server) apiReview(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	actOn(s, w, r, p, func(b reviewBody, by requests.Actor) requests.Action {
		return requests.ReviewAction{By: by, Notes: b.Notes, Next: b.Next}
	})
}

func (s *server) apiRenew(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var b renewalBody
	if err := decodeJSONUpTo(w, r, &b, maxRequestBody); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if b.DirectlyInvolved == nil {
		writeProblem(w, r, s.cfg.Logger, &validationError{"directly_involved", "required: declare whether you are directly involved in the investigation"})
		return
	}
	s.answerTransition(w, r, func() (requests.Request, error) {
		return s.cfg.Requests.Act(r.Context(), p, r.PathValue("id"), func(by requests.Actor) requests.Action {
			return requests.Renew{By: by, Reasons: b.Reasons, DirectlyInvolved: *b.DirectlyInvolved, Until: b.Until}
		})
	})
}

func (s *server) apiCancel(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	actOn(s, w, r, p, func(b reasonsBody, by requests.Actor) requests.Action {
		return requests.Cancel{By: by, Reasons: b.Reasons}
	})
}

func (s *server) apiWithdraw(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	actOn(s, w, r, p, func(b reasonsBody, by requests.Actor) requests.Action {
		return requests.Withdraw{By: by, Reasons: b.Reasons}
	})
}

func (s *server) apiClose(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	actOn(s, w, r, p, func(b closureBody, by requests.Actor) requests.Action {
		return requests.Close{By: by, Outcome: b.Outcome, Useful: b.Useful, Kept: b.Kept}
	})
}

// centralRecord returns every request's row, oldest first.
func (s *server) centralRecord(r *http.Request) ([]oversight.Row, error) {
	all, err := s.cfg.Requests.All(r.Context())
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		p, err := s.cfg.Store.PersonByID(r.Context(), id)
		if err != nil {
			return ""
		}
		names[id] = p.Name
		return p.Name
	}
	rows := make([]oversight.Row, 0, len(all))
	for _, req := range all {
		rows = append(rows, oversight.CentralRecordRow(req, name))
	}
	return rows, nil
}

func (s *server) apiCentralRecord(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	rows, err := s.centralRecord(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if r.URL.Query().Get("format") == "csv" || r.Header.Get("Accept") == "text/csv" {
		var b bytes.Buffer
		if err := oversight.WriteCentralRecordCSV(&b, rows); err != nil {
			writeProblem(w, r, s.cfg.Logger, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="central-record.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b.Bytes())
		return
	}
	writeJSON(w, http.StatusOK, map[string][]oversight.Row{"requests": rows})
}

// apiQuery runs a scoped query: POST, so that the justification never
// appears in a URL or an access log.
func (s *server) apiQuery(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in review.QueryInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	res, err := s.cfg.Review.Query(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// apiHeldBack is the legal adviser's view of the material held back
// under an authorisation: a query of only that, in full, recorded as any
// look is.
func (s *server) apiHeldBack(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in review.QueryInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	in.HeldBack = true
	res, err := s.cfg.Review.Query(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// requestProblem maps the request flow's errors to problems; ok is false
// for an error it does not know.
func requestProblem(err error) (Problem, bool) {
	var fes requests.FieldErrors
	var re *requests.RuleError
	var te *requests.TransitionError
	var ve *authorise.ViewError
	var fe *consent.FactsError
	var oe *review.OutOfScopeError
	var ie *review.InactiveError
	switch {
	case asErr(err, &oe):
		return Problem{Type: TypeOutOfScope, Title: "Out of scope", Status: http.StatusForbidden, Detail: oe.Msg + " (this attempt is recorded)", Field: oe.Field}, true
	case asErr(err, &ie):
		return Problem{Type: TypeOutOfScope, Title: "Not in force", Status: http.StatusForbidden, Detail: ie.Error() + " (this attempt is recorded)"}, true
	case errors.Is(err, review.ErrNotNamed), errors.Is(err, review.ErrNotLegalAdviser):
		return Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error() + " (this attempt is recorded)"}, true
	case asErr(err, &fes) && len(fes) > 0:
		p := Problem{Type: TypeValidation, Title: "Invalid request", Status: http.StatusBadRequest, Detail: fes.Error(), Field: fes[0].Field}
		for _, e := range fes {
			p.Errors = append(p.Errors, fieldProblem{Field: e.Field, Message: e.Msg})
		}
		return p, true
	case asErr(err, &re):
		p := Problem{Status: http.StatusForbidden, Detail: re.Msg, Field: re.Field}
		switch re.Rule {
		case requests.RuleSelf, requests.RuleSubject:
			p.Type, p.Title = TypeConflictInterest, "Conflict of interest"
		case requests.RuleRank:
			p.Type, p.Title = TypeRankTooLow, "Rank too low"
		case requests.RuleRole, requests.RuleInvolvement:
			p.Type, p.Title = TypeForbidden, "Forbidden"
		case requests.RuleAdvisers, requests.RuleClock:
			p.Type, p.Title, p.Status = TypeInvalidTransit, "Not yet", http.StatusConflict
		default:
			p.Type, p.Title, p.Status = TypeValidation, "Invalid request", http.StatusBadRequest
		}
		return p, true
	case asErr(err, &te):
		return Problem{Type: TypeInvalidTransit, Title: "Not allowed now", Status: http.StatusConflict, Detail: te.Error()}, true
	case asErr(err, &ve):
		return Problem{Type: TypeValidation, Title: "Invalid view", Status: http.StatusBadRequest, Detail: ve.Error(), Field: "view"}, true
	case asErr(err, &fe):
		return Problem{Type: TypeValidation, Title: "Invalid request", Status: http.StatusBadRequest, Detail: fe.Error(), Field: fe.Field}, true
	}
	return Problem{}, false
}

// fieldProblem is one of a validation problem's errors.
type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func asErr[T any](err error, target *T) bool { return errors.As(err, target) }
