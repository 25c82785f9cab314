package relevanterror

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

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
)

// Oversight-log actions of the register.
const (
	ActionRaised   = "relevant_error_raised"
	ActionReported = "relevant_error_reported"
	ActionClosed   = "relevant_error_closed"
)

// WorkingDays is how many working days the oversight body must be told
// within (LEGAL.md §4).
const WorkingDays = 10

// ErrForbidden: only oversight and administrators keep the register.
var ErrForbidden = errors.New("only oversight and administrators keep the register of relevant errors")

// Service keeps the register over the store. Store, Record and Now are
// required; Calendar nil means [DefaultCalendar].
type Service struct {
	Store store.Store
	// Record writes each step to the oversight log, before the step is
	// stored: details as metadata, private (the description, the report,
	// the outcome) as encrypted content.
	Record   review.AccessRecorder
	Now      func() time.Time
	Calendar *Calendar
	// Accessed reports whether access records exist under request r, for
	// [Service.RaiseLapsed]; nil finds none. [AccessedUnder] makes one.
	Accessed func(ctx context.Context, r requests.Request) (bool, error)

	mu sync.Mutex // serialises this process's changes to the register
}

func (s *Service) calendar() *Calendar {
	if s.Calendar == nil {
		return defaultCalendar()
	}
	return s.Calendar
}

var defaultCalendar = sync.OnceValue(DefaultCalendar)

// source returns whom p raises entries as; ErrForbidden for every role
// but oversight and admin (deny by default).
func source(p identity.Principal) (Source, error) {
	switch p.Role {
	case identity.RoleOversight:
		return FromOversight, nil
	case identity.RoleAdmin:
		return FromAdmin, nil
	}
	return "", ErrForbidden
}

// RaiseInput is the body of a new entry.
type RaiseInput struct {
	Kind         Kind      `json:"kind"`
	Request      string    `json:"request,omitempty"`
	Description  string    `json:"description"`
	IdentifiedAt time.Time `json:"identified_at"`
}

// Raise enters a relevant error in the register as p. Its deadline is
// [WorkingDays] working days after the day it was identified.
func (s *Service) Raise(ctx context.Context, p identity.Principal, in RaiseInput) (Entry, error) {
	src, err := source(p)
	if err != nil {
		return Entry{}, err
	}
	return s.raise(ctx, p.Subject, src, in)
}

func (s *Service) raise(ctx context.Context, by string, src Source, in RaiseInput) (Entry, error) {
	now := s.Now().UTC()
	var fes requests.FieldErrors
	if !slices.Contains(Kinds, in.Kind) {
		fes = append(fes, requests.FieldError{Field: "kind", Msg: "must be outside_authorisation or defective_authorisation"})
	}
	if err := requests.CheckText("description", in.Description, MaxDescription); err != nil {
		fes = append(fes, err.(requests.FieldErrors)...)
	}
	var deadline time.Time
	switch {
	case in.IdentifiedAt.IsZero():
		fes = append(fes, requests.FieldError{Field: "identified_at", Msg: "is required"})
	case in.IdentifiedAt.After(now):
		fes = append(fes, requests.FieldError{Field: "identified_at", Msg: "must not be in the future"})
	default:
		var err error
		if deadline, err = s.calendar().AddWorkingDays(in.IdentifiedAt, WorkingDays); err != nil {
			fes = append(fes, requests.FieldError{Field: "identified_at", Msg: "the working days after it are not known: " + err.Error()})
		}
	}
	in.Request = strings.TrimSpace(in.Request)
	if in.Request != "" {
		if len(in.Request) > 200 {
			fes = append(fes, requests.FieldError{Field: "request", Msg: "no such request"})
		} else if _, err := s.Store.RequestByID(ctx, in.Request); errors.Is(err, store.ErrNotFound) {
			fes = append(fes, requests.FieldError{Field: "request", Msg: "no such request"})
		} else if err != nil {
			return Entry{}, err
		}
	}
	if len(fes) > 0 {
		return Entry{}, fes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	year := now.In(London).Year()
	n, err := s.Store.NextRelevantErrorNumber(ctx, year)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{ID: newID(), Reference: fmt.Sprintf("RE-%d-%04d", year, n), Kind: in.Kind, Request: in.Request,
		Description: strings.TrimSpace(in.Description), IdentifiedAt: in.IdentifiedAt.UTC(), RaisedBy: by, RaisedAt: now,
		Source: src, Deadline: deadline.UTC(), State: Open}
	idx, err := s.Record(ctx, by, ActionRaised, s.details(e, nil), map[string]string{"description": e.Description})
	if err != nil {
		return Entry{}, fmt.Errorf("recording the relevant error: %w", err)
	}
	e.History = []Step{{Action: ActRaise, To: Open, By: by, At: now, OversightIndex: idx}}
	e.Version = 1
	body, err := json.Marshal(e)
	if err != nil {
		return Entry{}, err
	}
	st := store.StoredRelevantError{ID: e.ID, Reference: e.Reference, Kind: string(e.Kind), Request: e.Request,
		State: string(e.State), Identified: e.IdentifiedAt, Raised: e.RaisedAt, Deadline: e.Deadline, Updated: now, Body: body}
	if err := s.Store.AddRelevantError(ctx, st); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// details is what every leaf of e says in plain metadata: never the
// description, the report or the outcome, which can name people.
func (s *Service) details(e Entry, extra map[string]any) map[string]any {
	d := map[string]any{"id": e.ID, "reference": e.Reference, "kind": string(e.Kind),
		"deadline": e.Deadline.UTC().Format(time.RFC3339)}
	if e.Request != "" {
		d["request"] = e.Request
	}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "re-" + hex.EncodeToString(b[:])
}

func decode(st store.StoredRelevantError) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(st.Body, &e); err != nil {
		return Entry{}, fmt.Errorf("relevant error %s: %v", st.ID, err)
	}
	e.Version = st.Version
	return e, nil
}

// Get returns entry id; ErrNotFound if none.
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (Entry, error) {
	if _, err := source(p); err != nil {
		return Entry{}, err
	}
	st, err := s.Store.RelevantErrorByID(ctx, id)
	if err != nil {
		return Entry{}, err
	}
	return decode(st)
}

// Query selects entries of the register.
type Query struct {
	State   State
	Overdue bool // only those open past their deadline now
	Limit   int  // 1 to 500; 0 means 100
}

// List returns the entries q selects, newest first.
func (s *Service) List(ctx context.Context, p identity.Principal, q Query) ([]Entry, error) {
	if _, err := source(p); err != nil {
		return nil, err
	}
	if q.State != "" && !slices.Contains(States, q.State) {
		return nil, requests.FieldErrors{{Field: "state", Msg: "must be open, reported or closed"}}
	}
	switch {
	case q.Limit == 0:
		q.Limit = 100
	case q.Limit < 1 || q.Limit > 500:
		return nil, requests.FieldErrors{{Field: "limit", Msg: "must be 1 to 500"}}
	}
	sq := store.RelevantErrorQuery{State: string(q.State), Limit: q.Limit}
	if q.Overdue {
		if q.State != "" && q.State != Open {
			return []Entry{}, nil
		}
		sq.State, sq.DueBy = string(Open), s.Now()
	}
	page, err := s.Store.ListRelevantErrors(ctx, sq)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(page))
	for _, st := range page {
		e, err := decode(st)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// CountOverdue counts the entries open past their deadline now, at most
// 1000.
func (s *Service) CountOverdue(ctx context.Context, p identity.Principal) (int, error) {
	if _, err := source(p); err != nil {
		return 0, err
	}
	page, err := s.Store.ListRelevantErrors(ctx, store.RelevantErrorQuery{State: string(Open), DueBy: s.Now(), Limit: 1000})
	return len(page), err
}

// ReportInput is the body of a report.
type ReportInput struct {
	Text      string    `json:"text"`
	Recipient string    `json:"recipient"`
	At        time.Time `json:"reported_at,omitzero"` // zero means now
}

// Report records that entry id was reported to the oversight body.
func (s *Service) Report(ctx context.Context, p identity.Principal, id string, in ReportInput) (Entry, error) {
	return s.step(ctx, p, id, StepInput{Action: ActReport, Text: in.Text, Recipient: in.Recipient, At: in.At}, ActionReported,
		func(e Entry) (map[string]any, map[string]string) {
			return map[string]any{"reported_at": e.Report.At.Format(time.RFC3339Nano)},
				map[string]string{"report": e.Report.Text, "recipient": e.Report.Recipient}
		})
}

// Close closes entry id, reported already, with its outcome.
func (s *Service) Close(ctx context.Context, p identity.Principal, id, outcome string) (Entry, error) {
	return s.step(ctx, p, id, StepInput{Action: ActClose, Outcome: outcome}, ActionClosed,
		func(e Entry) (map[string]any, map[string]string) {
			return nil, map[string]string{"outcome": e.Closure.Outcome}
		})
}

// step loads id, applies in, records the step in the oversight log, then
// stores it with a compare-and-swap on the version.
func (s *Service) step(ctx context.Context, p identity.Principal, id string, in StepInput, action string,
	record func(Entry) (map[string]any, map[string]string)) (Entry, error) {
	if _, err := source(p); err != nil {
		return Entry{}, err
	}
	in.By = p.Subject
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.Store.RelevantErrorByID(ctx, id)
	if err != nil {
		return Entry{}, err
	}
	e, err := decode(st)
	if err != nil {
		return Entry{}, err
	}
	next, err := Apply(e, in, s.Now())
	if err != nil {
		return Entry{}, err
	}
	extra, private := record(next)
	idx, err := s.Record(ctx, p.Subject, action, s.details(next, extra), private)
	if err != nil {
		return Entry{}, fmt.Errorf("recording the step: %w", err)
	}
	next.History[len(next.History)-1].OversightIndex = idx
	next.Version = st.Version + 1
	body, err := json.Marshal(next)
	if err != nil {
		return Entry{}, err
	}
	st.State, st.Updated, st.Body, st.Version = string(next.State), next.History[len(next.History)-1].At, body, next.Version
	if err := s.Store.UpdateRelevantError(ctx, st); err != nil {
		return Entry{}, err
	}
	return next, nil
}
