package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RegisteredLog is a log as every process sharing the store knows it: a
// node that starts checks its own keys against these, and readers
// (verification, the tile routes, witnesses) find the logs other nodes
// write, the activity log's shards among them.
type RegisteredLog struct {
	Name        string
	Origin      string
	VerifierKey string
	Created     time.Time
}

// LogRegistry keeps the registered logs. A registration is never changed
// or removed: a log's origin and key are fixed for its life.
type LogRegistry interface {
	// RegisterLog records l. A log registered already with the same
	// origin and verifier key is left as it is; one with another origin
	// or key is ErrConflict, wrapped in a message naming both keys.
	RegisterLog(ctx context.Context, l RegisteredLog) error
	// RegisteredLogs returns every registered log, ordered by name byte
	// by byte.
	RegisteredLogs(ctx context.Context) ([]RegisteredLog, error)
}

// Leaser is implemented by the engines several processes can share
// (PostgreSQL). A lease is held by at most one process at a time across
// them all, for as long as its holder stays connected; a holder that dies
// or loses its connection loses the lease, and another may take it. The
// SQLite engine has one process by construction (DATA/lbm.lock), so it
// has no leases, and a node on it is always the one writer of everything.
type Leaser interface {
	// TryLease takes the named lease, or returns ErrHeld at once if
	// another holder has it.
	TryLease(ctx context.Context, name string) (Lease, error)
}

// A Lease is held until Release, or until Lost is closed.
type Lease interface {
	// Lost is closed when the lease was lost without Release: its
	// holder can no longer be sure no one else holds it, and must stop
	// what the lease guards.
	Lost() <-chan struct{}
	// Release gives the lease up. It is safe to call more than once,
	// and after the lease was lost.
	Release()
}

// ErrHeld reports that another holder has a lease.
var ErrHeld = errors.New("held by another process")

// SameRegistration is nil when stored registers what want does, and
// otherwise the ErrConflict RegisterLog returns: engines share its words.
func SameRegistration(want, stored RegisteredLog) error {
	if want.Origin == stored.Origin && want.VerifierKey == stored.VerifierKey {
		return nil
	}
	return fmt.Errorf("%w: log %s is registered with origin %q and key %q, not origin %q and key %q",
		ErrConflict, want.Name, stored.Origin, stored.VerifierKey, want.Origin, want.VerifierKey)
}
