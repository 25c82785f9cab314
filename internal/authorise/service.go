package authorise

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// Recorder writes one action to the oversight log and returns the leaf's
// index once it is durable.
type Recorder func(ctx context.Context, actor, action string, details map[string]any) (uint64, error)

// A Notice is one thing people are told about a request. Key, when set,
// makes it once-only: the notifier stores one notice per person and key.
type Notice struct {
	Kind      string // decide, advice, ratify, review_due, decision, expiring
	Request   string // request id
	Reference string
	Text      string
	Key       string
}

// Notice kinds.
const (
	NoticeDecide    = "decide"
	NoticeAdvice    = "advice"
	NoticeRatify    = "ratify"
	NoticeReviewDue = "review_due"
	NoticeDecision  = "decision"
	NoticeExpiring  = "expiring"
)

// Notifier tells people to about n, never the subjects or anyone in a
// subject's unit. It must not fail the transition that called it: the
// request page and the queues are the record, the notice a courtesy.
type Notifier func(ctx context.Context, n Notice, to, subjects []string)

// Service runs the request flow. Store, Record and Now are required.
type Service struct {
	Store  store.Store
	Record Recorder
	Now    func() time.Time
	// Notify tells people; nil tells no one.
	Notify Notifier
	// Policy returns the consent-level policy in force; nil is the
	// built-in default.
	Policy func(ctx context.Context) (*consent.Policy, error)
	// Catalogue returns the catalogue in force; nil reads the store's.
	Catalogue func(ctx context.Context) (policy.Catalogue, error)
	// Categories are the data categories; nil is those of the catalogue
	// in force.
	Categories policy.Categories
	// Grades maps staff grades to ranks; nil is the default map.
	Grades identity.GradeMap
	// RestrictedBody is set when the organisation may rely on a
	// restricted purpose (NATIONAL_SECURITY).
	RestrictedBody bool
	// Prefix starts every reference; default "ACAC".
	Prefix string
	Logger *slog.Logger

	mu sync.Mutex // serialises this process's transitions
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Service) policy(ctx context.Context) (*consent.Policy, error) {
	if s.Policy == nil {
		return identity.DefaultConsentPolicy(), nil
	}
	return s.Policy(ctx)
}

func (s *Service) catalogue(ctx context.Context) (policy.Catalogue, error) {
	if s.Catalogue == nil {
		c, _, err := identity.CurrentCatalogue(ctx, s.Store)
		return c, err
	}
	return s.Catalogue(ctx)
}

func (s *Service) categories(cat policy.Catalogue) policy.Categories {
	if s.Categories == nil {
		return cat.Categories
	}
	return s.Categories
}

func (s *Service) grades() identity.GradeMap {
	if s.Grades == nil {
		return identity.DefaultGradeMap()
	}
	return s.Grades
}

// Actor is p as the state machine sees it: acting in one role, at the
// rank the directory (or the grade map) gives, and, as an adviser or the
// DPO, with their adviser kind.
func (s *Service) Actor(p identity.Principal) requests.Actor {
	a := requests.Actor{ID: p.Subject, Roles: []string{string(p.Role)}, Ranks: identity.RankIDs()}
	if p.Kind != identity.KindUser && p.Kind != identity.KindSession || p.Person == nil {
		// Sources and the bootstrap admin token are not people.
		return requests.Actor{Ranks: a.Ranks}
	}
	a.Rank = string(p.Rank(s.grades()))
	switch p.Role {
	case identity.RoleAdviser:
		a.Adviser = p.Person.Adviser
	case identity.RoleDPO:
		// The DPO gives the data-protection view in their own role.
		if p.Person.Adviser == identity.AdviserDPO {
			a.Roles = append(a.Roles, requests.RoleAdviser)
			a.Adviser = identity.AdviserDPO
		}
	}
	return a
}

// newID returns a request id that sorts by creation time, so that the
// store's ID order is the order requests were made.
func newID(now time.Time) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%016x%s", uint64(now.UnixNano()), hex.EncodeToString(b[:])), nil
}

func (s *Service) prefix() string {
	if s.Prefix == "" {
		return "ACAC"
	}
	return s.Prefix
}

// maxText bounds any one text a requester or decider writes.
const maxText = 20000

// checkSizes refuses a draft too large to be a real request, before
// anything is stored.
func checkSizes(r requests.Request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if len(b) > 256<<10 {
		return requests.FieldErrors{{Field: "request", Msg: "larger than 256 KiB"}}
	}
	var errs requests.FieldErrors
	long := func(field, v string) {
		if len(v) > maxText {
			errs = append(errs, requests.FieldError{Field: field, Msg: fmt.Sprintf("longer than %d bytes", maxText)})
		}
	}
	long("necessity", r.Necessity)
	long("collateral.explanation", r.Collateral.Explanation)
	long("confidential.explanation", r.Confidential.Explanation)
	long("urgent.why", r.Urgent.Why)
	for id, v := range r.Criteria {
		long("criteria."+id, v)
	}
	if len(r.Subjects) > 100 {
		errs = append(errs, requests.FieldError{Field: "subjects", Msg: "more than 100 people: make separate requests"})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Create stores a draft of what p wrote, with lbm's fields set: a new id
// and reference, p as the requester, and the subjects' notice record. A
// draft may be incomplete; [Service.Check] says what submitting would
// refuse. The draft's creation is an oversight leaf.
func (s *Service) Create(ctx context.Context, p identity.Principal, written requests.Request) (requests.Request, error) {
	return s.create(ctx, p, written, nil, "")
}

// CreateFromAlert is Create for a request drafted from a detection alert:
// its one subject is the alert's subject, whom the requester does not
// know (they see origin's pseudonym), and stays so whatever the requester
// writes later.
func (s *Service) CreateFromAlert(ctx context.Context, p identity.Principal, written requests.Request, origin requests.AlertOrigin, subject string) (requests.Request, error) {
	if origin.ID == "" || origin.Pseudonym == "" || subject == "" {
		return requests.Request{}, errors.New("authorise: a request from an alert needs the alert, its pseudonym and its subject")
	}
	return s.create(ctx, p, written, &origin, subject)
}

func (s *Service) create(ctx context.Context, p identity.Principal, written requests.Request, origin *requests.AlertOrigin, subject string) (requests.Request, error) {
	now := s.Now().UTC()
	r := written.Written()
	if origin != nil {
		r.Alert, r.Subjects = origin, []string{subject}
	}
	if err := checkSizes(r); err != nil {
		return requests.Request{}, err
	}
	id, err := newID(now)
	if err != nil {
		return requests.Request{}, err
	}
	n, err := s.Store.NextRequestNumber(ctx, now.Year())
	if err != nil {
		return requests.Request{}, fmt.Errorf("numbering the request: %w", err)
	}
	r.ID, r.Reference, r.Requester, r.State = id, fmt.Sprintf("%s-%d-%04d", s.prefix(), now.Year(), n), p.Subject, requests.Draft
	if r.NoticeRecord, err = s.noticeRecord(ctx, r); err != nil {
		return requests.Request{}, err
	}
	idx, err := s.Record(ctx, p.Subject, "request_created", map[string]any{"request": r.ID, "reference": r.Reference, "version": 1})
	if err != nil {
		return requests.Request{}, err
	}
	st, err := stored(r, now, now, 1)
	if err != nil {
		return requests.Request{}, err
	}
	if err := s.Store.AddRequest(ctx, st); err != nil {
		s.void(ctx, r, idx, err)
		return requests.Request{}, fmt.Errorf("storing request %s: %w", r.Reference, err)
	}
	return r, nil
}

// Update replaces what the requester wrote in a draft.
func (s *Service) Update(ctx context.Context, p identity.Principal, id string, written requests.Request) (requests.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, st, err := s.load(ctx, p, id)
	if err != nil {
		return requests.Request{}, err
	}
	if cur.Requester != p.Subject {
		return requests.Request{}, &requests.RuleError{Rule: requests.RuleRole, Field: "requester", Msg: "only the requester edits a draft"}
	}
	if cur.State != requests.Draft {
		return requests.Request{}, &requests.TransitionError{From: cur.State, Action: "edit", Msg: "only a draft can be edited"}
	}
	w := written.Written()
	if err := checkSizes(w); err != nil {
		return requests.Request{}, err
	}
	w.ID, w.Reference, w.Requester, w.State, w.History = cur.ID, cur.Reference, cur.Requester, cur.State, cur.History
	if cur.Alert != nil {
		// The requester knows the subject only by a pseudonym, so what
		// they write cannot name them: the alert's subject stands.
		w.Alert, w.Subjects = cur.Alert, cur.Subjects
	}
	if w.NoticeRecord, err = s.noticeRecord(ctx, w); err != nil {
		return requests.Request{}, err
	}
	next, err := stored(w, st.Created, s.Now().UTC(), st.Version+1)
	if err != nil {
		return requests.Request{}, err
	}
	if err := s.Store.UpdateRequest(ctx, next); err != nil {
		return requests.Request{}, err
	}
	return w, nil
}

// noticeRecord is what the subjects' acknowledgement records say about
// the categories r asks for.
func (s *Service) noticeRecord(ctx context.Context, r requests.Request) (string, error) {
	if len(r.Subjects) == 0 || len(r.Categories) == 0 {
		return "", nil
	}
	var cats []string
	for _, c := range r.Categories {
		cats = append(cats, c.Category)
	}
	return inform.NoticeRecord(ctx, s.Store, r.Subjects, cats)
}

// stored is r as the store keeps it at version.
func stored(r requests.Request, created, updated time.Time, version int64) (store.StoredRequest, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return store.StoredRequest{}, err
	}
	subjects := slices.Clone(r.Subjects)
	slices.Sort(subjects)
	subjects = slices.Compact(subjects)
	return store.StoredRequest{
		ID: r.ID, Reference: r.Reference, Requester: r.Requester, Subjects: subjects, State: string(r.State),
		Created: created, Updated: updated, ExpiresAt: r.ExpiresAt, Deadline: r.NextDeadline(), Body: body, Version: version,
	}, nil
}

// Decode reads a stored request.
func Decode(st store.StoredRequest) (requests.Request, error) {
	var r requests.Request
	if err := json.Unmarshal(st.Body, &r); err != nil {
		return requests.Request{}, fmt.Errorf("request %s: stored body: %w", st.ID, err)
	}
	if r.ID != st.ID || string(r.State) != st.State {
		return requests.Request{}, fmt.Errorf("request %s: stored body disagrees with its row", st.ID)
	}
	return r, nil
}

// load reads request id for p: store.ErrNotFound unless p may see it.
func (s *Service) load(ctx context.Context, p identity.Principal, id string) (requests.Request, store.StoredRequest, error) {
	st, err := s.Store.RequestByID(ctx, id)
	if err != nil {
		return requests.Request{}, store.StoredRequest{}, err
	}
	r, err := Decode(st)
	if err != nil {
		return requests.Request{}, store.StoredRequest{}, err
	}
	if !CanSee(p, r) {
		return requests.Request{}, store.StoredRequest{}, store.ErrNotFound
	}
	return r, st, nil
}

// CanSee reports whether p, in the role they act in, has a part in r. A
// subject never sees a request about them, whatever their role.
func CanSee(p identity.Principal, r requests.Request) bool {
	if p.Subject == "" || slices.Contains(r.Subjects, p.Subject) {
		return false
	}
	switch p.Role {
	case identity.RoleOversight:
		return true
	case identity.RoleInvestigator:
		return r.Requester == p.Subject || slices.Contains(r.Investigators, p.Subject)
	case identity.RoleAuthoriser:
		return r.State != requests.Draft
	case identity.RoleAdviser, identity.RoleDPO:
		if r.State == requests.Draft || r.Requirement == nil || p.Person == nil || p.Person.Adviser == "" {
			return false
		}
		if p.Role == identity.RoleDPO && p.Person.Adviser != identity.AdviserDPO {
			return false
		}
		return slices.Contains(r.Requirement.Advisers, p.Person.Adviser) ||
			slices.ContainsFunc(r.Advice, func(a requests.Advice) bool { return a.By == p.Subject })
	}
	return false
}

// AsSeenBy is r as p is to be shown it: for a request drafted from an
// alert, an investigator sees the subject as the alert's pseudonym.
// Only for showing: the review flow works on the request itself.
func AsSeenBy(p identity.Principal, r requests.Request) requests.Request {
	if r.Alert == nil || p.Role != identity.RoleInvestigator {
		return r
	}
	r.NoticeRecord = MaskText(p, r, r.NoticeRecord)
	r.Subjects = []string{r.Alert.Pseudonym}
	return r
}

// MaskText is text about r (a message, the notice record) as p is to be
// shown it: for a request drafted from an alert, an investigator sees
// the subject's id as the alert's pseudonym.
func MaskText(p identity.Principal, r requests.Request, text string) string {
	if r.Alert == nil || p.Role != identity.RoleInvestigator {
		return text
	}
	for _, s := range r.Subjects {
		if s != "" && s != r.Alert.Pseudonym {
			text = strings.ReplaceAll(text, s, r.Alert.Pseudonym)
		}
	}
	return text
}

// Get returns request id as p may see it. A deadline that has passed
// and the sweeper has not yet recorded is recorded first (oversight leaf
// and all), so that what anyone reads is what the log says.
func (s *Service) Get(ctx context.Context, p identity.Principal, id string) (requests.Request, error) {
	r, _, err := s.load(ctx, p, id)
	if err != nil {
		return requests.Request{}, err
	}
	now := s.Now().UTC()
	if _, ts := requests.Tick(r, now); len(ts) == 0 {
		return r, nil
	}
	if _, err := s.tick(ctx, id, now); err != nil {
		return requests.Request{}, err
	}
	r, _, err = s.load(ctx, p, id)
	return r, err
}

// Check returns what submitting r would refuse (nil if nothing) and the
// consent level the policy in force derives for it. The derivation is nil
// while the facts are too incomplete to derive from; for a submitted
// request it is recomputed, but the request keeps the requirement fixed
// at its submission.
func (s *Service) Check(ctx context.Context, r requests.Request) (requests.FieldErrors, *consent.Explanation, error) {
	var problems requests.FieldErrors
	in, err := s.validationInput(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	if err := requests.Validate(r, in); err != nil {
		if !errors.As(err, &problems) {
			return nil, nil, err
		}
	}
	pol, err := s.policy(ctx)
	if err != nil {
		return nil, nil, err
	}
	_, ex, err := pol.Derive(requests.Facts(r))
	var fe *consent.FactsError
	if errors.As(err, &fe) {
		return problems, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return problems, &ex, nil
}

func (s *Service) validationInput(ctx context.Context, r requests.Request) (requests.ValidationInput, error) {
	cat, err := s.catalogue(ctx)
	if err != nil {
		return requests.ValidationInput{}, err
	}
	record, err := s.noticeRecord(ctx, r)
	if err != nil {
		return requests.ValidationInput{}, err
	}
	recent, err := s.recent(ctx, r.Requester)
	if err != nil {
		return requests.ValidationInput{}, err
	}
	var lookupErr error
	exists := func(id string) bool {
		_, err := s.Store.PersonByID(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			lookupErr = err
		}
		return err == nil
	}
	in := requests.ValidationInput{Catalogue: cat, Categories: s.categories(cat), PersonExists: exists,
		RestrictedBody: s.RestrictedBody, NoticeRecord: record, Recent: recent, Now: s.Now().UTC()}
	if lookupErr != nil {
		return requests.ValidationInput{}, lookupErr
	}
	return in, nil
}

// recentWindow is how far back a copied justification is looked for.
const recentWindow = 365 * 24 * time.Hour

// recent returns requester's requests of the last year.
func (s *Service) recent(ctx context.Context, requester string) ([]requests.Request, error) {
	if requester == "" {
		return nil, nil
	}
	since := s.Now().Add(-recentWindow)
	var out []requests.Request
	err := s.each(ctx, store.RequestQuery{Requester: requester}, func(r requests.Request, st store.StoredRequest) error {
		if st.Updated.After(since) {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// each calls fn for every request q selects, page by page.
func (s *Service) each(ctx context.Context, q store.RequestQuery, fn func(requests.Request, store.StoredRequest) error) error {
	q.Limit = 500
	for {
		page, err := s.Store.ListRequests(ctx, q)
		if err != nil {
			return err
		}
		for _, st := range page {
			r, err := Decode(st)
			if err != nil {
				return err
			}
			if err := fn(r, st); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return nil
		}
		q.After = page[len(page)-1].ID
	}
}

// hashJSON is the SHA-256, in hex, of v as JSON.
func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Requests are plain values: they always marshal.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// leaf writes t to the oversight log and returns its index. body is the
// hash of the request as it will be stored at version, with the indices
// of this version's transitions still zero.
func (s *Service) leaf(ctx context.Context, r requests.Request, t requests.Transition, version int64, body string) (uint64, error) {
	return s.Record(ctx, t.Actor, "request_"+t.Action, map[string]any{
		"request": r.ID, "reference": r.Reference, "from": string(t.From), "to": string(t.To),
		"version": version, "written_sha256": hashJSON(r.Written()), "body_sha256": body,
	})
}

// void records that the leaf at index describes a change the store then
// refused, so that the log does not claim what did not happen.
func (s *Service) void(ctx context.Context, r requests.Request, index uint64, cause error) {
	_, err := s.Record(ctx, requests.System, "request_change_void", map[string]any{
		"request": r.ID, "reference": r.Reference, "void_index": index,
	})
	if err != nil {
		s.logger().Error("the oversight log names a request change that was not stored, and voiding it failed",
			"request", r.ID, "index", index, "cause", cause, "err", err)
	}
}

// commit writes ts (the transitions that took prev to next) to the
// oversight log, in order, then stores next at version st.Version+1.
func (s *Service) commit(ctx context.Context, st store.StoredRequest, next requests.Request, ts []requests.Transition) (requests.Request, store.StoredRequest, error) {
	n := len(next.History) - len(ts)
	version := st.Version + 1
	body := hashJSON(next)
	var written []uint64
	for i := range ts {
		idx, err := s.leaf(ctx, next, ts[i], version, body)
		if err != nil {
			for _, w := range written {
				s.void(ctx, next, w, err)
			}
			return requests.Request{}, store.StoredRequest{}, err
		}
		written = append(written, idx)
		next.History[n+i].OversightIndex = idx
	}
	row, err := stored(next, st.Created, s.Now().UTC(), version)
	if err != nil {
		return requests.Request{}, store.StoredRequest{}, err
	}
	if err := s.Store.UpdateRequest(ctx, row); err != nil {
		for _, w := range written {
			s.void(ctx, next, w, err)
		}
		return requests.Request{}, store.StoredRequest{}, err
	}
	return next, row, nil
}
