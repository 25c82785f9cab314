package store

import (
	"context"
	"time"
)

// DirectoryLookup finds people by the names other systems call them:
// captured syslog, e-mail journals and log shippers name people by login
// username or e-mail address, not by the HR id.
type DirectoryLookup interface {
	// PeopleIndex returns every person's keys (leavers included, with
	// LeftOn), ordered by ID, for building an in-memory resolver. It reads
	// only those columns, in one query, so that a directory of 300,000
	// people loads in well under a second.
	PeopleIndex(ctx context.Context) ([]PersonKeys, error)
}

// PersonKeys is what a message may name a person by.
type PersonKeys struct {
	ID       string
	Number   string
	Username string   // "" if none
	Emails   []string // lower-cased, sorted, unique; nil if none
	LeftOn   time.Time
}
