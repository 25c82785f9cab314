package store

import (
	"context"
	"time"
)

// StoredRelevantError is one entry of the register of relevant errors
// (LEGAL.md §4): data processed outside an authorisation, or an
// authorisation found defective, which must be reported to the oversight
// body within 10 working days. The store keeps the whole entry as JSON
// (its shape is internal/relevanterror's) and the fields entries are found
// by. Entries are never deleted.
type StoredRelevantError struct {
	ID        string
	Reference string // unique human reference, e.g. "RE-2026-0001"
	Kind      string
	Request   string // the request it concerns; "" when none
	State     string
	// Identified is when the error was identified; Raised when it was
	// entered in the register; Deadline when it must have been reported
	// by. None of them ever changes.
	Identified time.Time
	Raised     time.Time
	Deadline   time.Time
	Updated    time.Time
	Body       []byte // the entry as JSON
	// Version counts the entry's stored changes, from 1; UpdateRelevantError
	// compares it, as UpdateRequest does.
	Version int64
}

// RelevantErrorQuery selects register entries. Empty fields select all.
type RelevantErrorQuery struct {
	State   string
	Request string // entries concerning this request, matched exactly
	// DueBy keeps entries whose Deadline is not after it. With State
	// "open" it selects the overdue entries at DueBy.
	DueBy time.Time
	Limit int // 0 means 100
}

// RelevantErrors stores the register of relevant errors.
type RelevantErrors interface {
	// AddRelevantError stores e at Version 1 (e.Version is ignored);
	// ErrExists, and nothing stored, if its ID or Reference is stored.
	AddRelevantError(ctx context.Context, e StoredRelevantError) error
	// RelevantErrorByID returns the entry; ErrNotFound if none.
	RelevantErrorByID(ctx context.Context, id string) (StoredRelevantError, error)
	// UpdateRelevantError replaces the stored entry whose ID is e.ID with
	// e. e.Version is the new version: the stored one must be
	// e.Version-1, else ErrConflict and nothing stored. Reference, Kind,
	// Request, Identified, Raised and Deadline never change: ErrConflict
	// if e differs in any. ErrNotFound if no entry has that ID.
	UpdateRelevantError(ctx context.Context, e StoredRelevantError) error
	// ListRelevantErrors returns the entries q selects, newest first: by
	// Raised, then by ID, greatest first.
	ListRelevantErrors(ctx context.Context, q RelevantErrorQuery) ([]StoredRelevantError, error)
	// NextRelevantErrorNumber returns the next number of year's
	// references, from 1, never the same twice even across processes.
	NextRelevantErrorNumber(ctx context.Context, year int) (int64, error)
}
