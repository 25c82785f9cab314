package subjectaccess

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
)

// Oversight-log actions of the flow. Every step is a leaf, written before
// the step is stored.
const (
	ActionOpened           = "subject_access_opened"
	ActionSummaryViewed    = "subject_access_summary_viewed"
	ActionExempted         = "subject_access_exempted"
	ActionExemptionRemoved = "subject_access_exemption_removed"
	ActionExtended         = "subject_access_extended"
	ActionAnswered         = "subject_access_answered"
	ActionClosed           = "subject_access_closed"
	ActionDownloaded       = "subject_access_downloaded"
)

// ErrForbidden: only a DPO handles subject access requests.
var ErrForbidden = errors.New("only the data protection officer handles subject access requests")

// ErrNotOpened: the summary and the hint are seen only while the request
// is opened and not yet answered or closed, because opening is the
// authorisation to look, for the answer.
var ErrNotOpened = errors.New("the person's data is looked at only while the request is being prepared: opening it is the authorisation to look")

// Service handles subject access requests over the store. Every field is
// required.
type Service struct {
	Store store.Store
	// Record writes each step to the oversight log before it is stored:
	// details as metadata, private (notes, reasons) as encrypted content.
	Record review.AccessRecorder
	// Review builds the export (review.Service.ExportSubjectAccess).
	Review *review.Service
	Now    func() time.Time

	mu sync.Mutex // serialises this process's steps
}

func dpo(p identity.Principal) error {
	if p.Role != identity.RoleDPO || p.Subject == "" {
		return ErrForbidden
	}
	return nil
}

// Decode returns the request st holds.
func Decode(st store.SubjectAccessRequest) (Request, error) {
	var r Request
	if len(st.Body) > 0 {
		if err := json.Unmarshal(st.Body, &r); err != nil {
			return Request{}, fmt.Errorf("subject access request %s: %v", st.ID, err)
		}
	}
	r.ID, r.Person, r.Made, r.Details, r.State, r.Version = st.ID, st.Person, st.Made.UTC(), st.Details, State(st.State), st.Version
	r.Due = st.Due.UTC()
	if r.Due.IsZero() {
		r.Due = DueDate(st.Made)
	}
	return r, nil
}

// List returns every request for the DPO, most recent first; of the
// DPO's own requests only what the person sees of one (another DPO
// handles it, and its handling may be exactly what must not reach them).
func (s *Service) List(ctx context.Context, p identity.Principal) ([]Request, error) {
	if err := dpo(p); err != nil {
		return nil, err
	}
	rs, err := s.list(ctx, "")
	for i, r := range rs {
		if r.Person == p.Subject {
			rs[i] = ownView(r)
		}
	}
	return rs, err
}

// ownView is r without its handling: what its person may know of it.
func ownView(r Request) Request {
	out := Request{ID: r.ID, Person: r.Person, Made: r.Made, Details: r.Details, State: r.State, Due: r.Due, Version: r.Version}
	if r.Extension != nil {
		out.Extension = &Extension{Months: r.Extension.Months, Reason: ExtensionNotice}
	}
	return out
}

// Mine returns p's own requests, most recent first.
func (s *Service) Mine(ctx context.Context, p identity.Principal) ([]Request, error) {
	return s.list(ctx, p.Subject)
}

func (s *Service) list(ctx context.Context, person string) ([]Request, error) {
	sts, err := s.Store.ListSubjectAccessRequests(ctx, person)
	if err != nil {
		return nil, err
	}
	out := make([]Request, 0, len(sts))
	for _, st := range sts {
		r, err := Decode(st)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Get returns request id for the DPO; ErrNotFound if none, an
// *OwnRequestError for the DPO's own request (they see it as its person
// does, on their own page).
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (Request, error) {
	if err := dpo(p); err != nil {
		return Request{}, err
	}
	st, err := s.Store.SubjectAccessRequestByID(ctx, id)
	if err != nil {
		return Request{}, err
	}
	if st.Person == p.Subject {
		return Request{}, &OwnRequestError{}
	}
	return Decode(st)
}

// scope is what opening authorises, as the oversight leaf records it:
// "activity" is the activity log, every shard of it.
func scope(r Request) map[string]any {
	return map[string]any{"log": "activity", "subject": r.Person, "categories": "all", "period": "all", "content": true}
}

// Open opens request id as p: the authorisation, scoped to the person's
// own data, recorded naming the DPO, the request and the person.
func (s *Service) Open(ctx context.Context, p identity.Principal, id string) (Request, error) {
	return s.step(ctx, p, id, Input{Action: ActOpen}, ActionOpened, func(r Request) (map[string]any, map[string]string) {
		return map[string]any{"scope": scope(r)}, nil
	})
}

// ExemptInput is the body of an exemption.
type ExemptInput struct {
	Categories []string   `json:"categories,omitempty"`
	From       *time.Time `json:"from,omitempty"`
	To         *time.Time `json:"to,omitempty"`
	Ground     Ground     `json:"ground"`
	Note       string     `json:"note"`
}

// Exempt records an exemption on request id.
func (s *Service) Exempt(ctx context.Context, p identity.Principal, id string, in ExemptInput) (Request, error) {
	e := Exemption{Categories: in.Categories, Ground: in.Ground, Note: in.Note}
	if in.From != nil {
		e.From = *in.From
	}
	if in.To != nil {
		e.To = *in.To
	}
	eid := newID("ex-")
	return s.step(ctx, p, id, Input{Action: ActExempt, Exemption: e, ExemptionID: eid}, ActionExempted, func(r Request) (map[string]any, map[string]string) {
		x := r.Exemptions[len(r.Exemptions)-1]
		d := map[string]any{"exemption": x.ID, "ground": string(x.Ground), "citation": x.Ground.Citation(), "categories": x.Categories}
		if !x.From.IsZero() {
			d["from"] = x.From.Format(time.RFC3339)
		}
		if !x.To.IsZero() {
			d["to"] = x.To.Format(time.RFC3339)
		}
		return d, map[string]string{"note": x.Note}
	})
}

// Unexempt removes exemption eid from request id.
func (s *Service) Unexempt(ctx context.Context, p identity.Principal, id, eid string) (Request, error) {
	return s.step(ctx, p, id, Input{Action: ActUnexempt, ExemptionID: eid}, ActionExemptionRemoved, func(Request) (map[string]any, map[string]string) {
		return map[string]any{"exemption": eid}, nil
	})
}

// Extend extends request id's deadline by months (1 or 2), once.
func (s *Service) Extend(ctx context.Context, p identity.Principal, id string, months int, reason string) (Request, error) {
	return s.step(ctx, p, id, Input{Action: ActExtend, Months: months, Reason: reason}, ActionExtended, func(r Request) (map[string]any, map[string]string) {
		return map[string]any{"months": months, "due": r.Due.Format(time.DateOnly)}, map[string]string{"reason": r.Extension.Reason}
	})
}

// Close closes request id unanswered, for reason.
func (s *Service) Close(ctx context.Context, p identity.Principal, id string, reason CloseReason, note string) (Request, error) {
	return s.step(ctx, p, id, Input{Action: ActClose, Close: reason, Note: note}, ActionClosed, func(r Request) (map[string]any, map[string]string) {
		var private map[string]string
		if r.Closure.Note != "" {
			private = map[string]string{"note": r.Closure.Note}
		}
		return map[string]any{"reason": string(r.Closure.Reason)}, private
	})
}

// Answer builds the export of the person's own events minus those the
// exemptions withhold, records its disclosure, then the answer, and
// stores it for the person to download.
func (s *Service) Answer(ctx context.Context, p identity.Principal, id string) (Request, error) {
	if err := dpo(p); err != nil {
		return Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, r, err := s.load(ctx, id)
	if err != nil {
		return Request{}, err
	}
	// Check the step before anything is exported.
	if _, err := Apply(r, Input{Action: ActAnswer, By: p.Subject}, s.Now()); err != nil {
		return Request{}, err
	}
	logs, err := s.Review.ActivityLogs(ctx)
	if err != nil {
		return Request{}, err
	}
	sums, err := s.Store.SubjectSummary(ctx, logs, r.Person)
	if err != nil {
		return Request{}, err
	}
	cats := CategoriesOf(sums)
	reqJSON, err := json.Marshal(struct {
		ID      string    `json:"id"`
		Made    time.Time `json:"made"`
		Details string    `json:"details"`
	}{r.ID, r.Made, r.Details})
	if err != nil {
		return Request{}, err
	}
	ex, err := s.Review.ExportSubjectAccess(ctx, p.Subject, review.SubjectAccessScope{Request: r.ID, Person: r.Person,
		Categories: cats, RequestJSON: reqJSON, Withhold: func(c string, t time.Time) bool { return Withheld(r.Exemptions, c, t) }})
	if err != nil {
		return Request{}, err
	}
	zip, ans := ex.Zip, Answer{Events: ex.Events, SHA256: ex.SHA256, AccessRecord: ex.AccessRecord}
	next, err := Apply(r, Input{Action: ActAnswer, By: p.Subject, Answer: ans}, s.Now())
	if err != nil {
		return Request{}, err
	}
	return s.save(ctx, p, st, next, ActionAnswered, map[string]any{"events": ans.Events, "bundle_sha256": ans.SHA256, "access_record": ans.AccessRecord}, nil, zip)
}

// Summary returns what the activity log (every shard of it) holds about
// the person of request id, per category; only while the request is being prepared,
// and only after the viewing is recorded.
func (s *Service) Summary(ctx context.Context, p identity.Principal, id string) ([]store.CategorySummary, error) {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	// Only while preparing: the opening authorised a look for the
	// answer, and once it is given there is nothing left to look for.
	if r.OpenedBy == "" || r.State != Preparing {
		return nil, ErrNotOpened
	}
	if r.Person == p.Subject {
		return nil, &OwnRequestError{}
	}
	logs, err := s.Review.ActivityLogs(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.Record(ctx, p.Subject, ActionSummaryViewed, map[string]any{"request": r.ID, "person": r.Person, "scope": scope(r)}, nil); err != nil {
		return nil, fmt.Errorf("recording the viewing: %w", err)
	}
	return s.Store.SubjectSummary(ctx, logs, r.Person)
}

// Hint reports whether a request to monitor, record or review naming the
// person of request id as a subject is in force or awaiting a decision
// now: a suggestion to the DPO that disclosure might prejudice an
// investigation. It decides nothing; only the DPO withholds. Only while
// the request is being prepared.
func (s *Service) Hint(ctx context.Context, p identity.Principal, id string) (bool, error) {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return false, err
	}
	if r.OpenedBy == "" || r.State != Preparing {
		return false, ErrNotOpened
	}
	return Investigated(ctx, s.Store, r.Person, s.Now())
}

// Investigated reports whether any request naming person as a subject is
// in force at now (requests.Request.Active) or awaiting a decision.
func Investigated(ctx context.Context, st store.Requests, person string, now time.Time) (bool, error) {
	q := store.RequestQuery{Subject: person, Limit: 500}
	for {
		page, err := st.ListRequests(ctx, q)
		if err != nil {
			return false, err
		}
		for _, sr := range page {
			var r requests.Request
			if err := json.Unmarshal(sr.Body, &r); err != nil {
				return false, fmt.Errorf("request %s: %v", sr.ID, err)
			}
			if r.Active(now) || r.State == requests.Submitted || r.State == requests.AwaitingAdvice {
				return true, nil
			}
		}
		if len(page) < q.Limit {
			return false, nil
		}
		q.After = page[len(page)-1].ID
	}
}

// Download returns the answer to p's own request id; ErrNotFound for
// anyone else's or one not answered, so that nobody learns of another's
// request. The download is recorded first.
func (s *Service) Download(ctx context.Context, p identity.Principal, id string) ([]byte, error) {
	st, err := s.Store.SubjectAccessRequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if st.Person != p.Subject || p.Subject == "" || State(st.State) != Answered {
		return nil, fmt.Errorf("subject access request %s: %w", id, store.ErrNotFound)
	}
	zip, err := s.Store.SubjectAccessExport(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.Record(ctx, p.Subject, ActionDownloaded, map[string]any{"request": id, "person": p.Subject}, nil); err != nil {
		return nil, fmt.Errorf("recording the download: %w", err)
	}
	return zip, nil
}

func (s *Service) load(ctx context.Context, id string) (store.SubjectAccessRequest, Request, error) {
	st, err := s.Store.SubjectAccessRequestByID(ctx, id)
	if err != nil {
		return st, Request{}, err
	}
	r, err := Decode(st)
	return st, r, err
}

// step loads id, applies in, records the step, then stores it with a
// compare-and-swap on the version.
func (s *Service) step(ctx context.Context, p identity.Principal, id string, in Input, action string,
	record func(Request) (map[string]any, map[string]string)) (Request, error) {
	if err := dpo(p); err != nil {
		return Request{}, err
	}
	in.By = p.Subject
	s.mu.Lock()
	defer s.mu.Unlock()
	st, r, err := s.load(ctx, id)
	if err != nil {
		return Request{}, err
	}
	next, err := Apply(r, in, s.Now())
	if err != nil {
		return Request{}, err
	}
	extra, private := record(next)
	return s.save(ctx, p, st, next, action, extra, private, nil)
}

// save records next's last step naming the DPO, the request and the
// person, then stores it.
func (s *Service) save(ctx context.Context, p identity.Principal, st store.SubjectAccessRequest, next Request, action string,
	extra map[string]any, private map[string]string, export []byte) (Request, error) {
	d := map[string]any{"request": next.ID, "person": next.Person, "state": string(next.State), "due": next.Due.Format(time.DateOnly)}
	for k, v := range extra {
		d[k] = v
	}
	idx, err := s.Record(ctx, p.Subject, action, d, private)
	if err != nil {
		return Request{}, fmt.Errorf("recording the step: %w", err)
	}
	next.History[len(next.History)-1].OversightIndex = idx
	next.Version = st.Version + 1
	body, err := json.Marshal(next)
	if err != nil {
		return Request{}, err
	}
	st.State, st.Due, st.Body, st.Version = string(next.State), next.Due, body, next.Version
	if err := s.Store.UpdateSubjectAccessRequest(ctx, st, export); err != nil {
		return Request{}, err
	}
	return next, nil
}

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// PersonView is all a person is shown of their own request: never the
// handling (exemptions, notes, who opened it), which could tip them off
// about an investigation.
type PersonView struct {
	ID       string    `json:"id"`
	Made     time.Time `json:"made"`
	Details  string    `json:"details"`
	Due      time.Time `json:"due"`
	Extended bool      `json:"extended"`
	// State is in plain words: "received", "being prepared", "ready to
	// download" or "closed".
	State    string `json:"state"`
	Download string `json:"download,omitempty"` // the export's path once ready
}

// ExtensionNotice is what a person is told of an extension (UK GDPR Art
// 12(3) requires telling them, with reasons, which may be general).
const ExtensionNotice = "extended because of the complexity or number of requests"

// ViewFor returns r as its person sees it.
func ViewFor(r Request) PersonView {
	v := PersonView{ID: r.ID, Made: r.Made, Details: r.Details, Due: r.Due, Extended: r.Extension != nil}
	switch r.State {
	case Received:
		v.State = "received"
	case Preparing:
		v.State = "being prepared"
	case Answered:
		v.State = "ready to download"
		v.Download = "/me/subject-access-requests/" + r.ID + "/export"
	case Closed:
		v.State = "closed"
	}
	return v
}

// CategoriesOf lists the categories of sums.
func CategoriesOf(sums []store.CategorySummary) []string {
	out := make([]string, 0, len(sums))
	for _, c := range sums {
		out = append(out, c.Category)
	}
	return slices.Compact(out)
}
