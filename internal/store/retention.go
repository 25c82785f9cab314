package store

import (
	"context"
	"fmt"
	"time"
)

// What retention deletes, and how a store does it.
//
// An entry's leaf commits to salted fields, never to their values, so
// retention can remove everything an entry says about a person and the
// log still verifies: the leaf, its tiles and every checkpoint stay. Two
// steps, each at its category's own period (internal/policy):
//
//   - content: the entry's encrypted content and its blinded search terms
//     go (ContentDeleted is set), and afterwards the data key, once no
//     entry still holds content under it;
//   - the entry: its metadata and salts, subject, related people, action
//     and client id go too, leaving a tombstone (Deleted is set) of its
//     leaf, time, source and category, which says when and under which
//     schedule it was deleted.

// DeletionStep names what a retention step removes.
type DeletionStep string

const (
	DeleteContent DeletionStep = "content"
	DeleteEntry   DeletionStep = "entry"
)

// ExpiryQuery selects a page of what one retention step would delete in
// one log: entries with From <= Time < To of the given categories, for the
// content step those whose content is still stored, for the entry step
// those not yet deleted. Entries are returned in (Time, Index) order after
// (AfterTime, AfterIndex) (from the start when HasAfter is false). The
// store does not judge holds: the caller does, on the people each entry
// names.
type ExpiryQuery struct {
	Log        string
	Step       DeletionStep
	From, To   int64 // Unix nanoseconds
	Categories []string
	// OtherThan, instead of Categories, selects the entries of every
	// category not among these: those the schedule does not name.
	OtherThan  []string
	HasAfter   bool
	AfterTime  int64
	AfterIndex uint64
	Limit      int // 0 means 1000
}

// Check refuses a query no engine may run.
func (q ExpiryQuery) Check() error {
	switch {
	case q.Step != DeleteContent && q.Step != DeleteEntry:
		return fmt.Errorf("selecting expired entries of %s: unknown step %q", q.Log, q.Step)
	case (len(q.Categories) == 0) == (len(q.OtherThan) == 0):
		return fmt.Errorf("selecting expired entries of %s: want categories or the categories to leave out, not both or neither", q.Log)
	case q.From >= q.To:
		return fmt.Errorf("selecting expired entries of %s: empty time range", q.Log)
	}
	return nil
}

// MaxEntries is the query's Limit, or 1000 when it has none.
func (q ExpiryQuery) MaxEntries() int {
	if q.Limit <= 0 {
		return 1000
	}
	return q.Limit
}

// Expiring is an entry an ExpiryQuery selected: what the caller needs to
// judge holds and find the data keys involved, without opening it.
type Expiring struct {
	Index    uint64
	Time     int64
	Category string
	Subject  string
	Related  []string
	KeyID    []byte // nil when the entry has no content
}

// Deletion is what a retention step stamps on the entries it deletes.
type Deletion struct {
	At time.Time
	// By names the schedule, in words a reader of the entry sees, e.g.
	// "retention schedule v3: web, content after 12 months".
	By string
}

// PendingKey is a data key whose content retention has deleted some of:
// it is destroyed once no entry holds content under it. Pending keys are
// written in the transaction that deletes the content, so a run stopped
// between the two still destroys the key when it resumes.
type PendingKey struct {
	ID      []byte
	Subject string
	Period  string // the key's period, as DataKey.Period
}

// RetentionMark says a retention step has been done for one log,
// category and month: later runs skip it unless Kept entries were held
// back then (a hold may since have ended).
type RetentionMark struct {
	Log      string
	Category string
	Month    string // "2006-01", UTC
	Step     DeletionStep
	Done     time.Time
	Deleted  int64 // entries the step deleted
	Kept     int64 // entries a hold kept
}

// Retention is what the retention job needs of a store.
type Retention interface {
	// ExpiringEntries returns the page q selects; an error, and nothing,
	// for a query q.Check refuses.
	ExpiringEntries(ctx context.Context, q ExpiryQuery) ([]Expiring, error)
	// DeleteExpired runs one step on the entries of log targets names (by
	// Index and Time, as ExpiringEntries returned them) in one transaction, with pending the data keys the step frees: the content
	// step deletes their content and search terms; the entry step also
	// their metadata, subject, related people (and their rows in the
	// related index), action and client id. Entries the step has already
	// done are left as they are, so a repeated call changes nothing. It
	// returns how many entries it changed.
	DeleteExpired(ctx context.Context, log string, step DeletionStep, targets []Expiring, d Deletion, pending []PendingKey) (int, error)
	// PendingKeys returns at most limit keys waiting to be destroyed.
	PendingKeys(ctx context.Context, limit int) ([]PendingKey, error)
	// OldestLive returns the time of log's oldest entry not deleted; ok is
	// false when there is none.
	OldestLive(ctx context.Context, log string) (t int64, ok bool, err error)
	// ContentUnderKey reports whether any entry of subject, in any log,
	// with from <= Time < to, still holds content under key id, or under
	// any key when id is nil.
	ContentUnderKey(ctx context.Context, subject string, from, to int64, id []byte) (bool, error)
	// ForgetPendingKey removes id from the pending keys (it was destroyed,
	// or still encrypts held content).
	ForgetPendingKey(ctx context.Context, id []byte) error
	// DestroyDataKey deletes the wrapped key id for good (Wrapped nil,
	// Destroyed at): its content can never be read again. Destroying a
	// destroyed key changes nothing; ErrNotFound if there is no such key.
	DestroyDataKey(ctx context.Context, id []byte, at time.Time) error
	// RetentionMarks returns every mark of log.
	RetentionMarks(ctx context.Context, log string) ([]RetentionMark, error)
	// SetRetentionMark stores m, replacing the mark of its log, category,
	// month and step.
	SetRetentionMark(ctx context.Context, m RetentionMark) error
	// Scrub makes what retention deleted unrecoverable from the store's
	// own files, as far as the engine can (the SQLite engine zeroes freed
	// space as it deletes and truncates its write-ahead logs; PostgreSQL
	// rewrites the partitions from, to covers). Slow: call it once a run.
	Scrub(ctx context.Context, log string, from, to int64) error
}
