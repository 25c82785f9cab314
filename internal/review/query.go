package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// AccessRecorder writes an access record or a refused attempt to the
// oversight log and returns its index once durable. details are metadata
// anyone who reads the oversight log sees; private are content fields
// (the justification, the query), encrypted at rest and committed in the
// leaf like any event's content, because a query names the people under
// investigation and administrators read the oversight log.
type AccessRecorder func(ctx context.Context, actor, action string, details map[string]any, private map[string]string) (uint64, error)

// Service runs scoped queries: the request in force, the scope it grants,
// the query clipped to it, the access record written before anything is
// returned, and the other people in the results pseudonymised.
type Service struct {
	Store    store.Store
	Opener   *record.Opener
	Ring     *keys.Ring
	Requests *authorise.Service
	Record   AccessRecorder
	Now      func() time.Time
	// Secret keys the pseudonyms (at least 32 bytes).
	Secret []byte
	// Logs lists the logs queries read and receipts and bundles prove
	// against: every activity log (store.IsActivityLog) is read as one.
	Logs LogsFunc
	// Confidential recognises confidential material, held back until a
	// legal adviser releases it; nil holds nothing back.
	Confidential *confidential.Matcher
	// Feeds tunes live feeds (live.go); the zero value is the defaults.
	Feeds FeedConfig

	feeds feedTable // the open live feeds
}

// Oversight-log actions of the review flow.
const (
	ActionQuery   = "review_query"   // an access record
	ActionRefused = "review_refused" // a refused attempt
)

// QueryInput is the body of POST /v1/requests/{id}/queries.
type QueryInput struct {
	Filter
	// Justification says why this look is needed now (DPA 2018 s.62).
	Justification string `json:"justification"`
	After         string `json:"after,omitempty"` // the previous page's next
	Limit         int    `json:"limit,omitempty"` // 1 to 1000; default 100
	// HeldBack asks for only the events held back as confidential and not
	// released, in full: a legal adviser's view, which only they may ask.
	HeldBack bool `json:"held_back,omitempty"`
}

// Result is what a query returns, after its access record is durable.
type Result struct {
	AccessRecord uint64       `json:"access_record"` // the record's index in the oversight log
	Events       []ShownEvent `json:"events"`
	Next         string       `json:"next,omitempty"`
}

// ShownEvent is one event as the investigator sees it.
type ShownEvent struct {
	ID string `json:"id"`
	// Log and Index are where the event is: the activity log's shards
	// each number their entries from 0.
	Log    string    `json:"log"`
	Index  uint64    `json:"index"`
	Time   time.Time `json:"time"`
	Source string    `json:"source"`
	Fields []Shown   `json:"fields"`
	// HeldBack says why the event is held back as confidential material
	// until a legal adviser releases it: then Fields is empty.
	HeldBack       []confidential.Hit `json:"held_back,omitempty"`
	ContentDeleted bool               `json:"content_deleted,omitempty"`
}

// ErrNotLegalAdviser refuses a view of held-back material by anyone but
// a legal adviser.
var ErrNotLegalAdviser = errors.New("only a legal adviser sees material held back as confidential")

// ErrNotNamed refuses a query by someone the authorisation does not name
// as an investigator.
var ErrNotNamed = errors.New("only the investigators the authorisation names may use it")

// Query runs in for p under request id. Every refusal that is an
// attempt outside an authorisation in force (a request p cannot use, one
// not in force, a filter out of its scope) is recorded before it is
// returned; a malformed input is not an attempt and is only refused. The
// access record is written before the result is returned, and if it
// cannot be, the query fails and returns nothing.
func (s *Service) Query(ctx context.Context, p identity.Principal, id string, in QueryInput) (Result, error) {
	if err := requests.CheckJustification("justification", in.Justification); err != nil {
		return Result{}, err
	}
	limit := in.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit < 1 || limit > 1000:
		return Result{}, requests.FieldErrors{{Field: "limit", Msg: "must be 1 to 1000"}}
	}
	after, err := parseCursor(in.After)
	if err != nil {
		return Result{}, err
	}
	queryJSON, _ := json.Marshal(struct {
		Filter
		HeldBack bool `json:"held_back,omitempty"`
	}{in.Filter, in.HeldBack})
	private := map[string]string{"justification": in.Justification, "query": string(queryJSON)}
	r, q, err := s.beginFor(ctx, p, id, in.Filter, private, in.HeldBack)
	if err != nil {
		return Result{}, err
	}

	entries, err := s.run(ctx, q, after, limit+1)
	if err != nil {
		return Result{}, err
	}
	next := ""
	if len(entries) > limit {
		entries = entries[:limit]
		last := entries[limit-1]
		next = cursorAfter(last).String()
	}
	pseudo := NewPseudonymiser(s.Secret, r.ID, r.Subjects)
	op, err := s.Opener.Batch(ctx, entries)
	if err != nil {
		return Result{}, err
	}
	shown := make([]ShownEvent, 0, len(entries))
	ids := make([]string, 0, len(entries))
	held := 0
	for _, en := range entries {
		ev, err := s.showEvent(ctx, op, r, q, en, pseudo, in.HeldBack)
		if err != nil {
			// Tampering or a store fault: nothing is shown.
			return Result{}, err
		}
		if ev.HeldBack != nil {
			held++
		} else if in.HeldBack {
			continue // the legal view sees only what is held back
		}
		ids = append(ids, ev.ID)
		shown = append(shown, ev)
	}
	idx, err := s.Record(ctx, p.Subject, ActionQuery, map[string]any{
		"request": r.ID, "reference": r.Reference, "results": len(shown), "events_sha256": eventsDigest(ids),
		"held_back": held, "legal_view": in.HeldBack,
	}, private)
	if err != nil {
		// Fail closed: an access that cannot be recorded does not happen.
		return Result{}, fmt.Errorf("writing the access record: %w", err)
	}
	return Result{AccessRecord: idx, Events: shown, Next: next}, nil
}

// eventsDigest is the hash of the event ids an access record covers, in
// the order they were shown: the SHA-256 of the ids joined by newlines.
func eventsDigest(ids []string) string {
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return hex.EncodeToString(sum[:])
}

// begin finds request id as p may see it, checks that p is one of its
// named investigators and that it is in force, and clips f to its scope.
// A refusal that is an attempt outside an authorisation in force is
// recorded, with private (the justification and the query), before it
// is returned; any other error is only returned.
func (s *Service) begin(ctx context.Context, p identity.Principal, id string, f Filter, private map[string]string) (requests.Request, Query, error) {
	return s.beginFor(ctx, p, id, f, private, false)
}

// beginFor is begin for a named investigator, or, when legalView, for a
// legal adviser asking for the material held back as confidential.
func (s *Service) beginFor(ctx context.Context, p identity.Principal, id string, f Filter, private map[string]string, legalView bool) (requests.Request, Query, error) {
	r, err := s.Requests.Get(ctx, p, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, Query{}, s.refuse(ctx, p, id, "no such request, or not one the caller has a part in", private, err)
	}
	if err != nil {
		return r, Query{}, err
	}
	switch {
	case legalView && !isLegalAdviser(p):
		return r, Query{}, s.refuse(ctx, p, id, "held-back material asked for by someone not a legal adviser", private, ErrNotLegalAdviser)
	case !legalView && !slices.Contains(r.Investigators, p.Subject):
		return r, Query{}, s.refuse(ctx, p, id, "not a named investigator", private, ErrNotNamed)
	}
	scope, err := ScopeOf(r, s.Now().UTC())
	if err != nil {
		return r, Query{}, s.refuse(ctx, p, id, "the authorisation is not in force", private, err)
	}
	q, err := Clip(scope, f)
	var oe *OutOfScopeError
	if errors.As(err, &oe) {
		return r, Query{}, s.refuse(ctx, p, id, "out of scope: "+oe.Field, private, err)
	}
	return r, q, err
}

// refuse records a refused attempt by p under request id and returns
// cause, or the recording's failure if it could not be written.
func (s *Service) refuse(ctx context.Context, p identity.Principal, id, reason string, private map[string]string, cause error) error {
	// The id is the caller's, unchecked until the request is found: the
	// record keeps no more of it than an id can hold.
	if len(id) > 64 {
		id = strings.ToValidUTF8(id[:64], "")
	}
	if _, err := s.Record(ctx, p.Subject, ActionRefused, map[string]any{"request": id, "reason": reason}, private); err != nil {
		return fmt.Errorf("recording a refused attempt: %w", err)
	}
	return cause
}

// run reads the entries q selects in every activity log, at most limit,
// after the cursor. A text search runs once per subject and month,
// because content terms are blinded under each subject's monthly data
// key; it finds the text in events whose subject is a subject of the
// authorisation.
func (s *Service) run(ctx context.Context, q Query, after *cursor, limit int) ([]store.Entry, error) {
	logs, _, err := s.activityLogs(ctx)
	if err != nil {
		return nil, err
	}
	if after != nil && !slices.Contains(logs, after.log) {
		return nil, errNotCursor
	}
	eq := store.EventQuery{Logs: logs, People: q.Subjects, From: q.From.UnixNano(), To: q.To.UnixNano(),
		Categories: q.Categories, Sources: q.Sources, Actions: q.Actions, Limit: limit}
	after.setAfter(&eq)
	if q.Text == "" {
		return s.Store.QueryEvents(ctx, eq)
	}
	var all []store.Entry
	for _, subject := range q.Subjects {
		for month := monthStart(q.From); month.Before(q.To); month = month.AddDate(0, 1, 0) {
			_, terms, err := record.BlindQuery(ctx, s.Ring, subject, month, q.Text)
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, keys.ErrDestroyed) {
				continue // no content that month, or destroyed under retention
			}
			if err != nil {
				return nil, err
			}
			if len(terms) == 0 {
				return nil, requests.FieldErrors{{Field: "text", Msg: "has no word to search for"}}
			}
			sub := eq
			sub.People, sub.Terms, sub.TermCategories = []string{subject}, terms, q.Content
			sub.From = max(eq.From, month.UnixNano())
			sub.To = min(eq.To, month.AddDate(0, 1, 0).UnixNano())
			got, err := s.Store.QueryEvents(ctx, sub)
			if err != nil {
				return nil, err
			}
			all = append(all, got...)
		}
	}
	slices.SortFunc(all, store.CompareEntries)
	all = slices.CompactFunc(all, func(a, b store.Entry) bool { return a.Log == b.Log && a.Index == b.Index })
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// monthStart is the first instant of t's month in UTC, the period data
// keys are made for.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
