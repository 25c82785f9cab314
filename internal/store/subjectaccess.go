package store

import (
	"context"
	"time"
)

// SubjectAccessRequest is a person's request for their own data (UK GDPR
// Art 15), routed to the DPO, as the store keeps it: the fields requests
// are found and listed by, and the handling (internal/subjectaccess's) as
// JSON.
type SubjectAccessRequest struct {
	ID      string
	Person  string
	Made    time.Time
	Details string // what the person asked for, in their words; may be ""
	State   string // internal/subjectaccess's states
	// Due is when the answer is due (UK GDPR Art 12(3)); an extension
	// moves it. Zero only for requests stored before it was kept.
	Due time.Time
	// Body is the handling as JSON (who opened it, exemptions, the
	// closure); nil while nobody has acted on it.
	Body []byte
	// Version counts the request's stored changes, from 1, as
	// StoredRequest.Version does.
	Version int64
}

// SubjectAccessRequests stores subject access requests.
type SubjectAccessRequests interface {
	// AddSubjectAccessRequest stores r at Version 1 (r.Version is
	// ignored); ErrExists if its ID is stored, ErrNotFound if the person
	// is absent.
	AddSubjectAccessRequest(ctx context.Context, r SubjectAccessRequest) error
	// SubjectAccessRequestByID returns the request; ErrNotFound if none.
	SubjectAccessRequestByID(ctx context.Context, id string) (SubjectAccessRequest, error)
	// UpdateSubjectAccessRequest replaces the stored request whose ID is
	// r.ID with r, and when export is not nil stores it as the request's
	// answer (an answer, once stored, is never replaced). r.Version is the
	// new version: the stored one must be r.Version-1, else ErrConflict
	// and nothing stored. ErrNotFound if no request has that ID. Person,
	// Made and Details never change: ErrConflict if r differs in any.
	UpdateSubjectAccessRequest(ctx context.Context, r SubjectAccessRequest, export []byte) error
	// ListSubjectAccessRequests returns the requests of person (everyone's
	// if person is ""), most recent first.
	ListSubjectAccessRequests(ctx context.Context, person string) ([]SubjectAccessRequest, error)
}

// SubjectAccessExports reads the answers to subject access requests.
type SubjectAccessExports interface {
	// SubjectAccessExport returns the answer stored for request id;
	// ErrNotFound if there is no such request or it has no answer.
	SubjectAccessExport(ctx context.Context, id string) ([]byte, error)
}

// CategorySummary is what one log holds about one subject in one
// category: how many entries, and the times of the first and last.
type CategorySummary struct {
	Category    string
	Count       int64
	First, Last time.Time
}

// SubjectSummaries summarises what logs hold about a person.
type SubjectSummaries interface {
	// SubjectSummary returns, for the entries of logs whose subject
	// (user.id) is subject, one CategorySummary per category summed over
	// the logs (the activity log's shards read as one), in category
	// order; none for an unknown subject or log, or no logs. A log named
	// twice counts once. It reads the subject index alone, never an
	// entry.
	SubjectSummary(ctx context.Context, logs []string, subject string) ([]CategorySummary, error)
}

// SubjectAccess is what subject access requests need of a store.
type SubjectAccess interface {
	SubjectAccessRequests
	SubjectAccessExports
	SubjectSummaries
}
