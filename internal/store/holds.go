package store

import (
	"context"
	"time"
)

// Hold is an explicit legal hold the DPO places on a person's monitoring
// data: while it is in force, retention deletes nothing of theirs.
type Hold struct {
	ID          string
	Person      string // the person's directory id
	Reason      string // why, in the DPO's words
	PlacedBy    string
	Placed      time.Time
	Released    time.Time // zero while in force
	ReleasedBy  string
	ReleaseNote string
}

// Holds keeps the DPO's legal holds. Holds are never deleted: a released
// hold stays, with who released it and why.
type Holds interface {
	// AddHold stores h; ErrExists if its ID is stored.
	AddHold(ctx context.Context, h Hold) error
	// ReleaseHold marks hold id released; ErrNotFound if none, ErrConflict if already released.
	ReleaseHold(ctx context.Context, id, by, note string, at time.Time) (Hold, error)
	// HoldByID returns that hold; ErrNotFound if none.
	HoldByID(ctx context.Context, id string) (Hold, error)
	// ListHolds returns holds newest first; only those in force unless includeReleased.
	ListHolds(ctx context.Context, includeReleased bool) ([]Hold, error)
}
