package alerts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/store"
)

// Oversight-log actions of the alert flow. A refused reveal is
// review.ActionRefused, like every refused look.
const (
	ActionTriage = "alert_triage"      // a triage step, a note or a request drafted
	ActionReveal = review.ActionReveal // an access record: who a pseudonym is was shown
)

// Service is the alert queue over the store. Store, Requests, Record
// and Now are required.
type Service struct {
	Store    store.Store
	Requests *authorise.Service
	// Record writes access records and refused attempts (the review
	// flow's recorder) and triage steps to the oversight log.
	Record review.AccessRecorder
	Now    func() time.Time

	mu sync.Mutex // serialises this process's changes to alerts
}

// Errors the web layer maps.
var (
	// ErrNotInvestigator: only investigators triage alerts and ask to
	// reveal them.
	ErrNotInvestigator = errors.New("only an investigator may do this")
	// ErrNoAuthorisation: a reveal needs a request drafted from the alert
	// that is authorised and in force, naming the caller.
	ErrNoAuthorisation = errors.New("no authorisation in force lets you see who this is")
)

// TransitionError is a triage action the alert's state does not allow.
type TransitionError struct {
	From   State
	Action Action
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("an alert that is %s cannot be given %q", e.From, e.Action)
}

// MaxNote bounds a note's length in bytes.
const MaxNote = 4000

// checkNote refuses an empty, oversized or unprintable note.
func checkNote(field, s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return requests.FieldErrors{{Field: field, Msg: "say why"}}
	case len(s) > MaxNote:
		return requests.FieldErrors{{Field: field, Msg: fmt.Sprintf("at most %d bytes", MaxNote)}}
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && r != '\r' && r != '\t' && safetext.Hidden(r) }):
		return requests.FieldErrors{{Field: field, Msg: "holds characters that cannot be shown"}}
	}
	return nil
}

// sees reports whether p may see st at all. Alerts go to the
// investigators and oversight, and never to the person the alert is
// about, to anyone in their unit, or to their line manager, who might
// warn them or be part of what is going on.
func (s *Service) sees(ctx context.Context, p identity.Principal, st store.StoredAlert) (bool, error) {
	if p.Person == nil || (p.Role != identity.RoleInvestigator && p.Role != identity.RoleOversight) {
		return false, nil
	}
	if strings.EqualFold(st.Subject, p.Subject) {
		return false, nil
	}
	subj, err := s.Store.PersonByID(ctx, st.Subject)
	if errors.Is(err, store.ErrNotFound) {
		// A key that names nobody in the directory (a record, a host):
		// nobody is shielded from it.
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if subj.Manager == p.Subject || subj.Unit != "" && subj.Unit == p.Person.Unit {
		return false, nil
	}
	return true, nil
}

// load returns alert id as p may see it; ErrNotFound for an alert p may
// not see, as for one that does not exist.
func (s *Service) load(ctx context.Context, p identity.Principal, id string) (Alert, store.StoredAlert, error) {
	st, err := s.Store.AlertByID(ctx, id)
	if err != nil {
		return Alert{}, st, err
	}
	ok, err := s.sees(ctx, p, st)
	if err != nil {
		return Alert{}, st, err
	}
	if !ok {
		return Alert{}, st, store.ErrNotFound
	}
	a, err := decode(st)
	return a, st, err
}

func decode(st store.StoredAlert) (Alert, error) {
	var a Alert
	if err := json.Unmarshal(st.Body, &a); err != nil {
		return Alert{}, fmt.Errorf("alert %s: %w", st.ID, err)
	}
	return a, nil
}

// Get returns alert id as p may see it.
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (Alert, error) {
	a, _, err := s.load(ctx, p, id)
	return a, err
}

// Query selects alerts for the queue.
type Query struct {
	State    State
	Assignee string
	Before   string // the last ID of the previous page
	Limit    int    // 1 to 500; 0 means 50
}

// List returns the alerts q selects that p may see, newest first, and
// the Before of the next page ("" when this is the last).
func (s *Service) List(ctx context.Context, p identity.Principal, q Query) ([]Alert, string, error) {
	if q.State != "" && !slices.Contains(States, q.State) {
		return nil, "", requests.FieldErrors{{Field: "state", Msg: "not a triage state"}}
	}
	switch {
	case q.Limit == 0:
		q.Limit = 50
	case q.Limit < 1 || q.Limit > 500:
		return nil, "", requests.FieldErrors{{Field: "limit", Msg: "must be 1 to 500"}}
	}
	var out []Alert
	sq := store.AlertQuery{State: string(q.State), Assignee: q.Assignee, Before: q.Before, Limit: 200}
	for {
		page, err := s.Store.ListAlerts(ctx, sq)
		if err != nil {
			return nil, "", err
		}
		for _, st := range page {
			ok, err := s.sees(ctx, p, st)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				continue
			}
			a, err := decode(st)
			if err != nil {
				return nil, "", err
			}
			if len(out) == q.Limit {
				return out, out[len(out)-1].ID, nil
			}
			out = append(out, a)
		}
		if len(page) < sq.Limit {
			return out, "", nil
		}
		sq.Before = page[len(page)-1].ID
	}
}

// TriageInput is the body of a triage action.
type TriageInput struct {
	Action   Action `json:"action"`
	Assignee string `json:"assignee,omitempty"` // for assign: a person id; "" takes it oneself
	Note     string `json:"note,omitempty"`     // required to dismiss, close or reopen
}

// Triage takes a triage action on alert id. Refer is not taken here: it
// is [Service.DraftRequest].
func (s *Service) Triage(ctx context.Context, p identity.Principal, id string, in TriageInput) (Alert, error) {
	if p.Role != identity.RoleInvestigator {
		return Alert{}, ErrNotInvestigator
	}
	if !slices.Contains(Actions, in.Action) || in.Action == ActRefer {
		return Alert{}, requests.FieldErrors{{Field: "action", Msg: "must be assign, dismiss, close or reopen"}}
	}
	if needsNote(in.Action) {
		if err := checkNote("note", in.Note); err != nil {
			return Alert{}, err
		}
	} else if in.Note != "" {
		if err := checkNote("note", in.Note); err != nil {
			return Alert{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, st, err := s.load(ctx, p, id)
	if err != nil {
		return Alert{}, err
	}
	to, ok := next(a.State, in.Action)
	if !ok {
		return Alert{}, &TransitionError{From: a.State, Action: in.Action}
	}
	assignee := a.Assignee
	if in.Action == ActAssign {
		assignee = in.Assignee
		if assignee == "" {
			assignee = p.Subject
		}
		if err := s.checkAssignee(ctx, st, assignee); err != nil {
			return Alert{}, err
		}
	}
	return s.step(ctx, p, a, st, in.Action, to, assignee, in.Note, "")
}

// checkAssignee refuses an assignee who is not an active investigator
// or who may not see the alert.
func (s *Service) checkAssignee(ctx context.Context, st store.StoredAlert, id string) error {
	bad := requests.FieldErrors{{Field: "assignee", Msg: "must be an investigator who may see this alert"}}
	person, err := s.Store.PersonByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return bad
	}
	if err != nil {
		return err
	}
	now := s.Now()
	if !person.LeftOn.IsZero() && !now.Before(person.LeftOn) || !slices.Contains(person.Roles, string(identity.RoleInvestigator)) {
		return bad
	}
	ok, err := s.sees(ctx, identity.Principal{Subject: person.ID, Role: identity.RoleInvestigator, Person: &person}, st)
	if err != nil {
		return err
	}
	if !ok {
		return bad
	}
	return nil
}

// step records a triage step in the oversight log, then stores it.
func (s *Service) step(ctx context.Context, p identity.Principal, a Alert, st store.StoredAlert, act Action, to State, assignee, note, request string) (Alert, error) {
	now := s.Now().UTC()
	details := map[string]any{"alert": a.ID, "action": string(act), "from": string(a.State), "to": string(to)}
	if assignee != a.Assignee {
		details["assignee"] = assignee
	}
	if request != "" {
		details["request"] = request
	}
	private := map[string]string{}
	if note != "" {
		private["note"] = note
	}
	if _, err := s.Record(ctx, p.Subject, ActionTriage, details, private); err != nil {
		return Alert{}, fmt.Errorf("recording the triage step: %w", err)
	}
	a.History = append(a.History, Step{By: p.Subject, At: now, Action: act, From: a.State, To: to, Assignee: assignee})
	if note != "" {
		a.Notes = append(a.Notes, Note{By: p.Subject, At: now, Text: strings.TrimSpace(note)})
	}
	a.State, a.Assignee, a.Updated = to, assignee, now
	if request != "" {
		a.Request = request
	}
	return a, s.store(ctx, st, a)
}

func (s *Service) store(ctx context.Context, st store.StoredAlert, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	st.State, st.Assignee, st.Updated, st.Body, st.Version = string(a.State), a.Assignee, a.Updated, body, st.Version+1
	return s.Store.UpdateAlert(ctx, st)
}

// AddNote adds a note to alert id without changing its state.
func (s *Service) AddNote(ctx context.Context, p identity.Principal, id, text string) (Alert, error) {
	if p.Role != identity.RoleInvestigator {
		return Alert{}, ErrNotInvestigator
	}
	if err := checkNote("text", text); err != nil {
		return Alert{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, st, err := s.load(ctx, p, id)
	if err != nil {
		return Alert{}, err
	}
	now := s.Now().UTC()
	if _, err := s.Record(ctx, p.Subject, ActionTriage, map[string]any{"alert": a.ID, "action": "note"},
		map[string]string{"note": text}); err != nil {
		return Alert{}, fmt.Errorf("recording the note: %w", err)
	}
	a.Notes = append(a.Notes, Note{By: p.Subject, At: now, Text: strings.TrimSpace(text)})
	a.Updated = now
	return a, s.store(ctx, st, a)
}

// DraftRequest drafts a request for authorisation from alert id, as p,
// pre-filled with the alert's evidence: its subject (whom p sees as the
// pseudonym), p as investigator, a review of the evidence's categories
// over the days the evidence covers, the misconduct route, and the
// evidence summary as the start of the necessity statement. The alert
// is then Referred. p completes the draft and submits it as any other.
func (s *Service) DraftRequest(ctx context.Context, p identity.Principal, id string) (requests.Request, error) {
	if p.Role != identity.RoleInvestigator {
		return requests.Request{}, ErrNotInvestigator
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, st, err := s.load(ctx, p, id)
	if err != nil {
		return requests.Request{}, err
	}
	if a.Request != "" {
		return requests.Request{}, &TransitionError{From: a.State, Action: ActRefer}
	}
	if _, ok := next(a.State, ActRefer); !ok {
		return requests.Request{}, &TransitionError{From: a.State, Action: ActRefer}
	}
	written := requests.Request{
		Investigators: []string{p.Subject},
		Mode:          consent.ModeReview,
		Investigation: consent.Misconduct,
		Necessity:     "Raised by a detection alert; complete why this review is necessary.\n\n" + a.Summary(),
	}
	from, to := a.Time, a.Time
	var cats []string
	for _, e := range a.Events {
		if e.Time.Before(from) {
			from = e.Time
		}
		if e.Time.After(to) {
			to = e.Time
		}
		if e.Category != "" && !slices.Contains(cats, e.Category) {
			cats = append(cats, e.Category)
		}
	}
	slices.Sort(cats)
	for _, c := range cats {
		written.Categories = append(written.Categories, requests.CategoryScope{Category: c})
	}
	// Whole days around the evidence, but a review reads only what is
	// already held: never past now.
	from = from.UTC().Truncate(24 * time.Hour)
	end := to.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if now := s.Now().UTC().Truncate(time.Second); end.After(now) {
		end = now
	}
	written.Window = &requests.Window{From: from, To: end}
	r, err := s.Requests.CreateFromAlert(ctx, p, written, requests.AlertOrigin{ID: a.ID, Pseudonym: a.Pseudonym}, st.Subject)
	if err != nil {
		return requests.Request{}, err
	}
	if _, err := s.step(ctx, p, a, st, ActRefer, Referred, a.Assignee, "", r.ID); err != nil {
		return requests.Request{}, fmt.Errorf("request %s drafted, but the alert was not marked referred: %w", r.Reference, err)
	}
	return authorise.AsSeenBy(p, r), nil
}

// Identity is who an alert is about, as a reveal shows it.
type Identity struct {
	Person  string `json:"person"`
	Name    string `json:"name"`
	Number  string `json:"number,omitempty"`
	Unit    string `json:"unit,omitempty"`
	Request string `json:"request"`
	// AccessRecord is the reveal's access record in the oversight log.
	AccessRecord uint64 `json:"access_record"`
}

// Reveal shows p who alert id is about. It takes the request drafted from
// the alert being authorised and in force at the time, with p among the
// investigators it names; the access record, holding the justification,
// is written to the oversight log before anything is returned. Every
// refused attempt on an alert p may see is recorded.
func (s *Service) Reveal(ctx context.Context, p identity.Principal, id, justification string) (Identity, error) {
	if p.Role != identity.RoleInvestigator {
		return Identity{}, ErrNotInvestigator
	}
	if err := requests.CheckJustification("justification", justification); err != nil {
		return Identity{}, err
	}
	private := map[string]string{"justification": justification}
	a, st, err := s.load(ctx, p, id)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, s.refuse(ctx, p, id, "", "no such alert, or one the caller may not see", private, err)
	}
	if err != nil {
		return Identity{}, err
	}
	if a.Request == "" {
		return Identity{}, s.refuse(ctx, p, id, "", "no request drafted from the alert", private, ErrNoAuthorisation)
	}
	r, err := s.Requests.Get(ctx, p, a.Request)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, s.refuse(ctx, p, id, a.Request, "the caller has no part in the alert's request", private, ErrNoAuthorisation)
	}
	if err != nil {
		return Identity{}, err
	}
	switch {
	case !slices.Contains(r.Investigators, p.Subject):
		return Identity{}, s.refuse(ctx, p, id, r.ID, "not a named investigator", private, ErrNoAuthorisation)
	case r.Alert == nil || r.Alert.ID != a.ID || !slices.Contains(r.Subjects, st.Subject):
		return Identity{}, s.refuse(ctx, p, id, r.ID, "the request does not cover the alert's subject", private, ErrNoAuthorisation)
	}
	if _, err := review.ScopeOf(r, s.Now().UTC()); err != nil {
		return Identity{}, s.refuse(ctx, p, id, r.ID, "the authorisation is not in force", private, ErrNoAuthorisation)
	}
	person, err := s.Store.PersonByID(ctx, st.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		person = store.Person{ID: st.Subject}
	case err != nil:
		return Identity{}, err
	}
	idx, err := s.Record(ctx, p.Subject, ActionReveal, map[string]any{
		"alert": a.ID, "request": r.ID, "reference": r.Reference, "pseudonym": a.Pseudonym,
	}, private)
	if err != nil {
		// Fail closed: a reveal that cannot be recorded does not happen.
		return Identity{}, fmt.Errorf("writing the access record: %w", err)
	}
	return Identity{Person: person.ID, Name: person.Name, Number: person.Number, Unit: person.Unit,
		Request: r.ID, AccessRecord: idx}, nil
}

// refuse records a refused reveal of alert id and returns cause, or the
// recording's failure.
func (s *Service) refuse(ctx context.Context, p identity.Principal, id, request, reason string, private map[string]string, cause error) error {
	if len(id) > 64 {
		id = strings.ToValidUTF8(id[:64], "")
	}
	details := map[string]any{"alert": id, "reason": "reveal: " + reason}
	if request != "" {
		details["request"] = request
	}
	if _, err := s.Record(ctx, p.Subject, review.ActionRefused, details, private); err != nil {
		return fmt.Errorf("recording a refused attempt: %w", err)
	}
	return cause
}

// newID returns an alert id that sorts by when it was raised.
func newID(now time.Time) (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("al%016x%s", uint64(now.UnixNano()), hex.EncodeToString(b[:])), nil
}
