package web

// The DPO's legal holds (internal/retention): the API and the page of the
// DPO and oversight. internal/retention checks the role again and decides
// every step; these handlers only translate. A hold is never shown to
// anyone else, least of all the person it is about (tipping off).

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/retention"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// holdProblem maps the holds' errors to problems; their field errors are
// requests.FieldErrors, which requestProblem maps.
func holdProblem(err error) (Problem, bool) {
	switch {
	case errors.Is(err, retention.ErrHoldForbidden):
		return Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error()}, true
	case errors.Is(err, retention.ErrHoldReleased):
		return Problem{Type: TypeConflict, Title: "Already released", Status: http.StatusConflict, Detail: retention.ErrHoldReleased.Error()}, true
	}
	return Problem{}, false
}

// holdRecorder writes the holds' leaves: the review service's recorder,
// the one that keeps texts as encrypted content.
func (s *server) holdRecorder() retention.HoldRecorder {
	return retention.HoldRecorder(s.cfg.Review.Record)
}

// holdJSON is a hold as the API returns it.
type holdJSON struct {
	ID          string    `json:"id"`
	Person      string    `json:"person"`
	Reason      string    `json:"reason"`
	PlacedBy    string    `json:"placed_by"`
	Placed      time.Time `json:"placed"`
	Released    time.Time `json:"released,omitzero"`
	ReleasedBy  string    `json:"released_by,omitempty"`
	ReleaseNote string    `json:"release_note,omitempty"`
}

func toHoldJSON(h store.Hold) holdJSON {
	return holdJSON{ID: h.ID, Person: h.Person, Reason: h.Reason, PlacedBy: h.PlacedBy, Placed: h.Placed.UTC(),
		Released: h.Released.UTC(), ReleasedBy: h.ReleasedBy, ReleaseNote: h.ReleaseNote}
}

func (s *server) apiHolds(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var all bool
	switch r.URL.Query().Get("all") {
	case "", "0", "false":
	case "1", "true":
		all = true
	default:
		writeProblem(w, r, s.cfg.Logger, &validationError{"all", "must be true or false"})
		return
	}
	hs, err := retention.ListHolds(r.Context(), s.cfg.Store, p, all)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeList(w, "holds", hs, toHoldJSON)
}

func (s *server) apiPlaceHold(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in struct {
		Person string `json:"person"`
		Reason string `json:"reason"`
	}
	err := decodeJSON(w, r, &in)
	var h store.Hold
	if err == nil {
		h, err = retention.PlaceHold(r.Context(), s.cfg.Store, s.holdRecorder(), p, in.Person, in.Reason, s.cfg.Now())
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, toHoldJSON(h))
}

func (s *server) apiReleaseHold(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in struct {
		Note string `json:"note"`
	}
	err := decodeJSON(w, r, &in)
	var h store.Hold
	if err == nil {
		h, err = retention.ReleaseHold(r.Context(), s.cfg.Store, s.holdRecorder(), p, r.PathValue("id"), in.Note, s.cfg.Now())
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, toHoldJSON(h))
}

// holdForms is what a refused form showed: the values posted, and the
// errors to show against them. failed is the ID of the hold whose release
// was refused; "" for the place form.
type holdForms struct {
	values url.Values
	failed string
	errs   []pages.FieldError
}

// holdsPageFor is the holds page for p, the forms showing f: the DPO's
// forms only for the DPO.
func (s *server) holdsPageFor(r *http.Request, p identity.Principal, f holdForms) (*pages.Holds, error) {
	ctx := r.Context()
	hs, err := retention.ListHolds(ctx, s.cfg.Store, p, true)
	if err != nil {
		return nil, err
	}
	page := &pages.Holds{Layout: s.layout(r, p, "Legal holds")}
	page.Errors = f.errs
	manage := p.Role == identity.RoleDPO
	errFor := func(field string) string {
		for _, e := range f.errs {
			if e.Field == field {
				return e.Message
			}
		}
		return ""
	}
	place := url.Values{}
	if f.failed == "" && f.values != nil {
		place = f.values
	}
	if manage {
		page.Place = []pages.Field{
			{Kind: "text", ID: "person", Label: "Person’s id", Hint: "Their id in the directory, for example a staff number.",
				Value: place.Get("person"), Error: errFor("person"), Width: "govuk-input--width-20"},
			{Kind: "textarea", ID: "reason", Label: "Why", Rows: 5,
				Hint:  "The litigation, complaint or other matter the data must be kept for. 10 to 2,000 characters.",
				Value: place.Get("reason"), Error: errFor("reason")},
		}
	}
	for _, h := range hs {
		row := pages.HoldRow{ID: h.ID, Person: s.personName(ctx, h.Person), Reason: strings.Split(h.Reason, "\n"),
			Placed: displayTime(h.Placed) + " by " + s.personName(ctx, h.PlacedBy)}
		if !h.Released.IsZero() {
			row.Released = displayTime(h.Released) + " by " + s.personName(ctx, h.ReleasedBy)
			row.Note = strings.Split(h.ReleaseNote, "\n")
			page.Released = append(page.Released, row)
			continue
		}
		if manage {
			row.Action = "/holds/" + url.PathEscape(h.ID) + "/release"
			if f.failed == h.ID {
				row.NoteValue, row.NoteError = f.values.Get("note"), errFor("note-"+h.ID)
			}
		}
		page.InForce = append(page.InForce, row)
	}
	return page, nil
}

func (s *server) holdsPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	page, err := s.holdsPageFor(r, p, holdForms{})
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "placed":
		page.Notice = "The hold is placed."
	case "released":
		page.Notice = "The hold is released."
	}
	s.render(w, r, http.StatusOK, page)
}

// holdStep runs a form's step, then goes back to the page; a step refused
// for its input, or on a hold released meanwhile, shows the page again
// with the error against the form.
func (s *server) holdStep(w http.ResponseWriter, r *http.Request, p identity.Principal, failed, done string, step func(url.Values) error) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	err := step(r.PostForm)
	if err == nil {
		http.Redirect(w, r, "/holds?done="+done, http.StatusSeeOther)
		return
	}
	errs, ok := fieldErrorsOf(err)
	status := http.StatusBadRequest
	switch {
	case ok && failed != "":
		// The release form's only field, named per hold on the page.
		for i := range errs {
			errs[i].Field = "note-" + failed
		}
	case ok:
	case errors.Is(err, retention.ErrHoldReleased):
		// Its form is gone: the hold is listed as released.
		errs, status = []pages.FieldError{{Field: "released", Message: "This hold was released meanwhile."}}, http.StatusConflict
	default:
		s.pageError(w, r, p, err)
		return
	}
	page, perr := s.holdsPageFor(r, p, holdForms{values: r.PostForm, failed: failed, errs: errs})
	if perr != nil {
		s.pageError(w, r, p, perr)
		return
	}
	s.render(w, r, status, page)
}

func (s *server) placeHoldPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.holdStep(w, r, p, "", "placed", func(f url.Values) error {
		_, err := retention.PlaceHold(r.Context(), s.cfg.Store, s.holdRecorder(), p, f.Get("person"), f.Get("reason"), s.cfg.Now())
		return err
	})
}

func (s *server) releaseHoldPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	id := r.PathValue("id")
	s.holdStep(w, r, p, id, "released", func(f url.Values) error {
		_, err := retention.ReleaseHold(r.Context(), s.cfg.Store, s.holdRecorder(), p, id, f.Get("note"), s.cfg.Now())
		return err
	})
}
