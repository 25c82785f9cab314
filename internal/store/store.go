// Package store defines lbm's storage contract: the entities every engine
// keeps, the small interfaces through which the rest of lbm reaches them, and
// the sentinel errors engines translate their own errors into.
//
// # Engines
//
// internal/store/sqlite is the embedded default; the PostgreSQL engine
// implements the same interfaces. internal/store/storetest is the one
// conformance suite every engine passes, so code above this package never
// knows which engine it talks to.
//
// # What engines do and do not do
//
// Engines do I/O only. The Merkle algorithm (which tiles an append touches,
// what the new root is) lives once in internal/tlog and reaches the engine
// through [LogTx]; commitments and encryption live in internal/event and
// internal/keys. An engine stores bytes it is given and returns them
// unchanged; callers re-check what they read, so a tampered row is caught on
// use whichever engine held it.
//
// # Separation of keys
//
// [DataKeys] are kept apart from the log tables (the SQLite engine keeps them
// in a second database file), so that restoring an old backup of events does
// not bring back data keys destroyed since.
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Engines wrap or return these, never a driver's own type.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("conflicting update")
	// ErrTaken: a put would give two people one e-mail address or one
	// username, so that a message naming it could not be resolved to one
	// person. It is also ErrExists; retrying does not help.
	ErrTaken = fmt.Errorf("name taken: %w", ErrExists)
	// ErrNoStore: a read-only command was pointed at a place that holds
	// no lbm store, and created none.
	ErrNoStore = errors.New("holds no lbm data")
)

// Entry is one stored leaf of a log with what it commits to.
type Entry struct {
	Log      string
	Index    uint64
	ID       [16]byte
	Time     int64 // Unix nanoseconds
	Source   string
	Subject  string   // user.id, the person the event is about
	ClientID string   // the source's event.id; "" when none
	Leaf     []byte   // canonical leaf bytes (internal/event)
	Meta     []byte   // metadata fields with salts, in internal/event's field encoding
	Content  []byte   // content fields with salts, encrypted; nil when none or destroyed
	KeyID    []byte   // the data key that encrypts Content; nil when no content
	Terms    []string // blinded search terms of Content (internal/search), sorted and unique; nil when none
	// Category and Action are the event's event.category and event.action,
	// and Related its related.user (sorted, unique, nil when none): what a
	// scoped review selects on (EventQuery), kept beside Meta so that the
	// store can select without opening entries.
	Category string
	Action   string
	Related  []string
	// ContentDeleted is when retention deleted the content (Unix
	// nanoseconds; 0 while it is stored, or when there was none), Deleted
	// when it deleted the entry, leaving only the leaf, time, source and
	// category; DeletedBy names the schedule of the latest of the two.
	ContentDeleted int64
	Deleted        int64
	DeletedBy      string
}

// TileID names a tlog tile by level and index; tiles are 256 hashes wide.
type TileID struct {
	Level, Index uint64
}

// TreeState is a log's committed tree: its size, root, and the hashes of the
// compact range [0, Size) from which the next append continues.
type TreeState struct {
	Size  uint64
	Root  []byte
	Range [][]byte
}

// LogTx is one write transaction on one log. Its reads see the transaction's
// own snapshot; nothing it writes is visible until the transaction commits.
type LogTx interface {
	// State returns the log's committed tree; a zero TreeState for an empty log.
	State(ctx context.Context) (TreeState, error)
	// Tiles returns the stored tiles among ids; absent tiles are absent from the map.
	Tiles(ctx context.Context, ids []TileID) (map[TileID][]byte, error)
	// FindClientIDs returns the entries of source whose ClientID is among ids, keyed by ClientID.
	FindClientIDs(ctx context.Context, source string, ids []string) (map[string]Entry, error)
	// Append stores entries, replaces tiles, and sets the new tree state. It
	// returns ErrExists if an entry's index, ID or (Source, ClientID) is stored.
	Append(ctx context.Context, entries []Entry, tiles map[TileID][]byte, st TreeState) error
}

// Logs holds the tamper-evident logs.
type Logs interface {
	// UpdateLog runs fn in one write transaction on log, committing if fn
	// returns nil. Writers to one log are serialised, across processes too.
	UpdateLog(ctx context.Context, log string, fn func(LogTx) error) error
	// LogState returns log's committed tree; a zero TreeState for an empty log.
	LogState(ctx context.Context, log string) (TreeState, error)
	// Tile returns the stored hashes of a tile (possibly partial); ErrNotFound if none.
	Tile(ctx context.Context, log string, id TileID) ([]byte, error)
	// LeafTiles returns the level-0 tiles (possibly partial) at the given
	// tile indexes, by index, in one read: a page of entries is checked
	// against the tree without a query per entry. Indexes with no tile are
	// absent from the map.
	LeafTiles(ctx context.Context, log string, indexes []uint64) (map[uint64][]byte, error)
	// Entries returns log's entries with from <= Index < to, in order.
	Entries(ctx context.Context, log string, from, to uint64) ([]Entry, error)
}

// EntryFinder finds entries by identity.
type EntryFinder interface {
	// EntryByID returns the entry with that ID in any log; ErrNotFound if none.
	EntryByID(ctx context.Context, id [16]byte) (Entry, error)
	// EntriesByClientID is LogTx.FindClientIDs of log, read outside any
	// transaction: a writer of one of the activity log's shards looks for
	// a resent event in the others.
	EntriesByClientID(ctx context.Context, log, source string, ids []string) (map[string]Entry, error)
}

// TermQuery asks for the entries of one subject, in a time range, whose
// content carries every one of Terms. Terms are blinded (internal/search):
// each is lower-case letters and digits, and matches a stored term exactly.
type TermQuery struct {
	Log      string
	Subject  string
	From, To int64 // Unix nanoseconds, From <= Time < To
	Terms    []string
	Limit    int // at most this many entries; 0 means DefaultTermLimit
}

// DefaultTermLimit is how many entries a TermQuery with no Limit returns.
const DefaultTermLimit = 1000

// Check refuses a query no engine may run: one with no terms, or a term
// CheckTerms refuses.
func (q TermQuery) Check() error {
	if len(q.Terms) == 0 {
		return fmt.Errorf("searching %s: no terms", q.Log)
	}
	if err := CheckTerms(q.Terms); err != nil {
		return fmt.Errorf("searching %s: %w", q.Log, err)
	}
	return nil
}

// MaxEntries is the query's Limit, or DefaultTermLimit when it has none.
func (q TermQuery) MaxEntries() int {
	if q.Limit <= 0 {
		return DefaultTermLimit
	}
	return q.Limit
}

// MaxTermLen bounds a stored or queried term; blinded terms are 24 bytes.
const MaxTermLen = 64

// CheckTerms refuses a term that is not 1 to MaxTermLen lower-case ASCII
// letters and digits. Engines call it before storing or matching terms: a
// space separates terms in the SQLite column, and quotes, '&' or '|' would
// be read by PostgreSQL as tsquery syntax.
func CheckTerms(terms []string) error {
	for _, term := range terms {
		ok := len(term) > 0 && len(term) <= MaxTermLen
		for i := 0; ok && i < len(term); i++ {
			c := term[i]
			ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		}
		if !ok {
			return fmt.Errorf("search term %q is not 1 to %d lower-case letters and digits", term, MaxTermLen)
		}
	}
	return nil
}

// EventQuery selects what a scoped review may read of one or more logs:
// the entries of People (as the subject, user.id, or named in
// related.user) in a time range, of the given categories, optionally
// narrowed to sources and actions and, with Terms, to entries of
// TermCategories whose content carries every term. Nothing outside it is
// read. Several Logs are read as one: the activity log's shards
// (IsActivityLog), merged in (Time, Log, Index) order.
type EventQuery struct {
	Logs       []string // required, each once
	People     []string // required
	From, To   int64    // Unix nanoseconds, From <= Time < To
	Categories []string // required
	Sources    []string // empty: any source
	Actions    []string // empty: any action
	// Terms are blinded search terms (as in TermQuery); when set, only
	// entries whose Category is in TermCategories and whose Terms hold
	// every one match.
	Terms          []string
	TermCategories []string
	// After pages: only entries after (AfterTime, AfterLog, AfterIndex)
	// in (Time, Log, Index) order; HasAfter false starts at the
	// beginning. The log is part of the cursor because entries of two
	// logs can share a time.
	HasAfter   bool
	AfterTime  int64
	AfterLog   string
	AfterIndex uint64
	// MinIndex and MaxIndex select by log index: only entries with
	// MinIndex <= Index, and when MaxIndex is not 0, Index < MaxIndex. A
	// live feed follows a log by index, not time, because an event can
	// arrive long after the time it carries. Indexes of two logs are not
	// comparable, so a query setting either names exactly one log.
	MinIndex, MaxIndex uint64
	Limit              int // at most this many; 0 means DefaultTermLimit
}

// Check refuses a query no engine may run: one that names no log, a log
// twice, index bounds over several logs, or a cursor in another log, or
// selects no people or no categories, or carries a malformed term.
func (q EventQuery) Check() error {
	logs := strings.Join(q.Logs, ", ")
	switch {
	case len(q.Logs) == 0:
		return errors.New("querying events: no log")
	case slices.Contains(q.Logs, ""):
		return fmt.Errorf("querying %s: a log with no name", logs)
	case len(q.Logs) > 1 && (q.MinIndex > 0 || q.MaxIndex > 0):
		return fmt.Errorf("querying %s: index bounds over more than one log", logs)
	case q.HasAfter && !slices.Contains(q.Logs, q.AfterLog):
		// A cursor names the log of the last entry a page returned: one
		// of these. Any other (above all none, from a caller that forgot
		// it) would repeat or skip the entries that share its time.
		return fmt.Errorf("querying %s: paging after an entry of log %q, not one of them", logs, q.AfterLog)
	case len(q.People) == 0:
		return fmt.Errorf("querying %s: no people", logs)
	case len(q.Categories) == 0:
		return fmt.Errorf("querying %s: no categories", logs)
	case len(q.Terms) > 0 && len(q.TermCategories) == 0:
		return fmt.Errorf("querying %s: terms without categories to search", logs)
	}
	seen := make(map[string]bool, len(q.Logs))
	for _, l := range q.Logs {
		if seen[l] {
			return fmt.Errorf("querying %s: log %s named twice", logs, l)
		}
		seen[l] = true
	}
	if err := CheckTerms(q.Terms); err != nil {
		return fmt.Errorf("querying %s: %w", logs, err)
	}
	return nil
}

// MaxEntries is the query's Limit, or DefaultTermLimit when it has none.
func (q EventQuery) MaxEntries() int {
	if q.Limit <= 0 {
		return DefaultTermLimit
	}
	return q.Limit
}

// CompareEntries orders entries as QueryEvents returns them: by Time,
// then Log, then Index.
func CompareEntries(a, b Entry) int {
	return cmp.Or(cmp.Compare(a.Time, b.Time), strings.Compare(a.Log, b.Log), cmp.Compare(a.Index, b.Index))
}

// EventSearcher runs scoped review queries.
type EventSearcher interface {
	// QueryEvents returns the entries q selects, in (Time, Log, Index)
	// order (CompareEntries), at most q.MaxEntries(). It returns an
	// error, and nothing, for a query q.Check refuses.
	QueryEvents(ctx context.Context, q EventQuery) ([]Entry, error)
}

// TermSearcher finds entries by their blinded search terms.
type TermSearcher interface {
	// SearchTerms returns the entries q matches, in index order. It returns
	// an error, and nothing, for a query with no terms or a malformed term.
	SearchTerms(ctx context.Context, q TermQuery) ([]Entry, error)
}

// Checkpoint is a published signed checkpoint of a log.
type Checkpoint struct {
	Size uint64
	Time time.Time
	Note []byte // the signed note, as served
}

// Checkpoints keeps every published checkpoint, forever.
type Checkpoints interface {
	// AddCheckpoint stores c; ErrExists if log has one of that size.
	AddCheckpoint(ctx context.Context, log string, c Checkpoint) error
	// LatestCheckpoint returns log's largest checkpoint; ErrNotFound if none.
	LatestCheckpoint(ctx context.Context, log string) (Checkpoint, error)
	// ListCheckpoints returns, in size order, at most limit of log's
	// checkpoints whose size is at least from: a log publishes one a
	// second while it grows, too many to read at once.
	ListCheckpoints(ctx context.Context, log string, from uint64, limit int) ([]Checkpoint, error)
}

// DataKey is a wrapped per-subject, per-period content key.
type DataKey struct {
	ID      []byte
	Subject string
	// Period is "2006-01" (the month key: content before per-category
	// keys, and search terms) or "2006-01/category" (keys.CategoryPeriod).
	Period    string
	KEKID     string // which key-encryption key wrapped it
	Wrapped   []byte // nil once destroyed
	Created   time.Time
	Destroyed time.Time // zero while the key exists
}

// DataKeys stores wrapped data keys, apart from the logs.
type DataKeys interface {
	// DataKeyFor returns the key of subject for period; ErrNotFound if none.
	DataKeyFor(ctx context.Context, subject, period string) (DataKey, error)
	// DataKeyByID returns the key with that ID; ErrNotFound if none.
	DataKeyByID(ctx context.Context, id []byte) (DataKey, error)
	// AddDataKey stores k; ErrExists if subject and period already have a key.
	AddDataKey(ctx context.Context, k DataKey) error
	// AddDataKeys stores, in one transaction, each key whose subject and
	// period have none yet, and leaves the others untouched: the caller
	// reads back which key won.
	AddDataKeys(ctx context.Context, ks []DataKey) error
}

// Token is a stored secret that stands for a principal: a bearer token, a
// browser session or a one-time set-up link. Only its SHA-256 is kept.
type Token struct {
	Hash    []byte // SHA-256 of the token
	Kind    string // "admin", "source", "user" (API token), "session" or "setup"
	Subject string // the source id, the person's ID, or "admin" for the bootstrap admin token
	Role    string // the one role a user token or session acts in; "" for other kinds
	Created time.Time
	Expires time.Time // zero: never (admin and source tokens)
	Revoked time.Time // zero while usable
	// SteppedUp is when the session's person last gave a second factor;
	// zero if never.
	SteppedUp time.Time
}

// Source is a machine that pushes events.
type Source struct {
	ID      string
	Created time.Time
}

// Principals stores sources and the tokens that act for them.
type Principals interface {
	// AddSource stores s and its token in one transaction; ErrExists if either exists.
	AddSource(ctx context.Context, s Source, t Token) error
	// AddToken stores t; ErrExists if its hash is stored.
	AddToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with that hash, revoked or not; ErrNotFound if none.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// ListSources returns every source in ID order.
	ListSources(ctx context.Context) ([]Source, error)
	// RevokeToken sets the token's Revoked to at unless it is already
	// revoked; ErrNotFound if no token has that hash.
	RevokeToken(ctx context.Context, hash []byte, at time.Time) error
	// RevokeTokensOf revokes, at at, every unrevoked token whose Subject is
	// subject and whose Kind is among kinds, and returns how many it revoked.
	RevokeTokensOf(ctx context.Context, subject string, kinds []string, at time.Time) (int, error)
	// StepUp sets an unrevoked token's SteppedUp to at; ErrNotFound if no
	// unrevoked token has that hash.
	StepUp(ctx context.Context, hash []byte, at time.Time) error
}

// Person is one member of the organisation as the directory holds them.
// Rank and Grade come only from the HR import or the identity provider;
// Roles and Adviser change only through an approved [Change].
type Person struct {
	ID      string // the HR id; stable and never reused
	Name    string
	Number  string // collar or staff number
	Unit    string
	Manager string   // the line manager's ID; "" if none
	Rank    string   // a rank id (internal/identity); "" if none
	Grade   string   // a police staff grade; "" for officers
	Roles   []string // sorted, unique
	Adviser string   // "legal", "dpo", "ethics" or ""
	// Emails are the person's e-mail addresses, aliases included:
	// lower-cased, sorted and unique (see CleanEmails). No two people
	// share one.
	Emails []string
	// Username is the person's login name on the organisation's systems
	// (e.g. "jsmith"), lower-cased; "" when none, or when it is the ID.
	// No two people share one.
	Username string
	// LeftOn is the leaving date of a leaver (UTC midnight); zero while
	// the person is active. From that instant nothing they hold works.
	LeftOn  time.Time
	Updated time.Time
	// Version counts the person's stored changes, from 1; PutPeople and
	// DecideChange compare it, so that nothing read before a change can
	// overwrite it.
	Version int64
}

// PeopleQuery selects people for a listing.
type PeopleQuery struct {
	// Text, when not empty, keeps people whose ID, name, number, unit,
	// e-mail addresses or username contains it, ignoring ASCII case.
	Text string
	// After keeps people whose ID sorts after it: the last ID of the
	// previous page.
	After string
	Limit int // 0 means 100
}

// People is the directory.
type People interface {
	// PutPeople stores ps in one transaction, comparing versions. A person
	// whose Version is zero is new: it is added at Version 1. A person
	// whose Version is not zero was read at that Version and is written
	// only if the stored person with that ID still has exactly it: replaced
	// and its Version incremented if a stored field (all but Updated and
	// Version) differs, left untouched if none does. It returns how many it
	// added and changed.
	//
	// If a person with Version zero is stored already, or a person with
	// Version n is not stored at n (a change was approved, or another put
	// landed, since the caller read it), PutPeople returns ErrConflict and
	// stores none of ps; the caller reads again and retries. Without the
	// comparison a put of people read before an approval would silently
	// undo the approved Roles and Adviser. It returns ErrExists if ps names
	// one ID twice, and ErrTaken if it would leave two people, in ps or
	// stored, with one e-mail address or username. On any error nothing
	// is stored.
	PutPeople(ctx context.Context, ps []Person) (added, changed int, err error)
	// PersonByID returns the person; ErrNotFound if none.
	PersonByID(ctx context.Context, id string) (Person, error)
	// ListPeople returns the people q selects, in ID order.
	ListPeople(ctx context.Context, q PeopleQuery) ([]Person, error)
	// CountPeople returns how many people the directory holds.
	CountPeople(ctx context.Context) (int, error)
	// LeaversWithTokens returns the IDs, in order, of people whose LeftOn
	// is not after now and who still hold an unrevoked token of any kind.
	LeaversWithTokens(ctx context.Context, now time.Time) ([]string, error)
}

// Credential is how a person signs in locally.
type Credential struct {
	Person   string
	Password string // an argon2id hash in PHC string form; "" if none set
	// TOTPSecret is the second factor's shared secret; nil until enrolled.
	TOTPSecret []byte
	// TOTPStep is the last time step whose code was accepted, so that no
	// code is accepted twice.
	TOTPStep int64
	Updated  time.Time
}

// Credentials stores local sign-in credentials.
type Credentials interface {
	// CredentialOf returns the person's credential; ErrNotFound if none.
	CredentialOf(ctx context.Context, person string) (Credential, error)
	// PutCredential stores c, replacing the person's credential.
	PutCredential(ctx context.Context, c Credential) error
	// UseTOTPStep records step as the person's last accepted step if it is
	// greater than the stored one; ErrConflict if not (a replayed code),
	// ErrNotFound if the person has no credential.
	UseTOTPStep(ctx context.Context, person string, step int64) error
}

// Change is a proposed change that takes effect only once a second admin
// approves it (dual control).
type Change struct {
	ID   string
	Kind string // what it changes: "person", "notice", "catalogue", "consent_policy" or "rules"
	// Target names what it changes: for "person" the person's ID, for
	// "notice" the draft notice's version, for "catalogue" "catalogue",
	// for "consent_policy" "consent_policy", for "rules" "rules".
	Target  string
	Payload []byte // the proposed state as JSON; its shape is the Kind's
	// Base is the target's version the change was proposed against (the
	// person's Version; the published notice's, the catalogue's, the
	// consent policy's or the rule set's version, 0 for none); a change whose target has moved on since cannot be
	// approved.
	Base       int64
	Reason     string
	ProposedBy string
	Proposed   time.Time
	State      string // "pending", "approved", "rejected"
	DecidedBy  string
	Decided    time.Time
}

// Changes stores dual-control changes.
type Changes interface {
	// AddChange stores c; ErrExists if its ID is stored.
	AddChange(ctx context.Context, c Change) error
	// ChangeByID returns the change; ErrNotFound if none.
	ChangeByID(ctx context.Context, id string) (Change, error)
	// ListChanges returns the changes in state (all of them if state is
	// ""), most recently proposed first.
	ListChanges(ctx context.Context, state string) ([]Change, error)
	// DecideChange stores c's State, DecidedBy and Decided, in one
	// transaction with the effect e of an approval. It returns ErrConflict,
	// and stores nothing, if the stored change is no longer pending or e's
	// comparison fails (see [ChangeEffect]); ErrNotFound if the change or
	// what e names is absent.
	DecideChange(ctx context.Context, c Change, e ChangeEffect) error
}

// ChangeEffect is what an approved change does, applied in the decision's
// transaction. At most one field is set; none for a rejection.
type ChangeEffect struct {
	// Person replaces the stored person, whose Version must be
	// Person.Version-1. ErrTaken if another person holds one of its
	// e-mail addresses or its username.
	Person *Person
	// Publish publishes a draft notice.
	Publish *Publication
	// Catalogue adds a catalogue version, whose Version must be one more
	// than the stored latest (1 when none is stored).
	Catalogue *CatalogueVersion
	// ConsentPolicy adds a consent-level policy version, whose Version
	// must be one more than the stored latest (1 when none is stored).
	ConsentPolicy *ConsentPolicyVersion
	// RuleSet adds a detection rule set version, whose Version must be
	// one more than the stored latest (1 when none is stored).
	RuleSet *RuleSetVersion
}

// Check refuses, before an engine writes anything, an effect no decision
// can carry: more than one, one on a decision other than an approval, or
// one that is malformed in itself.
func (e ChangeEffect) Check(c Change) error {
	n := 0
	for _, set := range []bool{e.Person != nil, e.Publish != nil, e.Catalogue != nil, e.ConsentPolicy != nil, e.RuleSet != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil
	case n > 1:
		return fmt.Errorf("deciding change %s: %d effects, want at most one", c.ID, n)
	case c.State != "approved":
		return fmt.Errorf("deciding change %s: an effect on a decision %q, not an approval", c.ID, c.State)
	}
	switch {
	case e.Person != nil:
		if err := CheckPeople([]Person{*e.Person}); err != nil {
			return fmt.Errorf("deciding change %s: %w", c.ID, err)
		}
	case e.Publish != nil:
		// Published zero means a draft: a publication without a time
		// would approve the change and publish nothing.
		if e.Publish.At.IsZero() {
			return fmt.Errorf("deciding change %s: publishing notice %d at the zero time", c.ID, e.Publish.Version)
		}
	case e.Catalogue != nil:
		if e.Catalogue.Change != c.ID {
			return fmt.Errorf("deciding change %s: catalogue version %d names change %q", c.ID, e.Catalogue.Version, e.Catalogue.Change)
		}
	case e.ConsentPolicy != nil:
		if e.ConsentPolicy.Change != c.ID {
			return fmt.Errorf("deciding change %s: consent policy version %d names change %q", c.ID, e.ConsentPolicy.Version, e.ConsentPolicy.Change)
		}
		if e.ConsentPolicy.By != c.DecidedBy {
			return fmt.Errorf("deciding change %s: consent policy version %d approved by %q, not the decider %q", c.ID, e.ConsentPolicy.Version, e.ConsentPolicy.By, c.DecidedBy)
		}
	case e.RuleSet != nil:
		if e.RuleSet.Change != c.ID {
			return fmt.Errorf("deciding change %s: rule set version %d names change %q", c.ID, e.RuleSet.Version, e.RuleSet.Change)
		}
		if e.RuleSet.By != c.DecidedBy {
			return fmt.Errorf("deciding change %s: rule set version %d approved by %q, not the decider %q", c.ID, e.RuleSet.Version, e.RuleSet.By, c.DecidedBy)
		}
	}
	return nil
}

// CheckTarget refuses an effect on anything but the stored change's own
// kind and target (as stored): approving a change to one person must not rewrite
// another, nor publish a notice no one proposed to publish.
func (e ChangeEffect) CheckTarget(c Change, kind, target string) error {
	var wantKind, wantTarget string
	switch {
	case e.Person != nil:
		wantKind, wantTarget = "person", e.Person.ID
	case e.Publish != nil:
		wantKind, wantTarget = "notice", strconv.FormatInt(e.Publish.Version, 10)
	case e.Catalogue != nil:
		wantKind, wantTarget = "catalogue", "catalogue"
	case e.ConsentPolicy != nil:
		wantKind, wantTarget = "consent_policy", "consent_policy"
	case e.RuleSet != nil:
		wantKind, wantTarget = "rules", "rules"
	default:
		return nil
	}
	if kind != wantKind || target != wantTarget {
		return fmt.Errorf("deciding change %s: the effect is on %s %q, not the change's %s %q", c.ID, wantKind, wantTarget, kind, target)
	}
	return nil
}

// Publication publishes the draft notice Version at At. ErrConflict if the
// notice is already published, or the latest published notice's version is
// not Previous (0: none is published).
type Publication struct {
	Version  int64
	Previous int64
	At       time.Time
	By       string // the administrator who approved it
}

// Notice is one version of the monitoring notice staff are asked to
// acknowledge, with the public notice that goes with it. The texts are in
// internal/notice's text format.
type Notice struct {
	Version     int64 // from 1, in order of drafting
	Title       string
	Text        string // the notice for staff
	Short       string // a few sentences for other systems' sign-in screens
	PublicText  string // the notice for members of the public
	PublicShort string // for e-mail footers and auto-replies
	// Categories are the event categories the notice tells staff are
	// monitored, sorted and unique: an acknowledgement of it covers those.
	Categories  []string
	Created     time.Time
	CreatedBy   string
	Published   time.Time // zero while a draft
	PublishedBy string
}

// Acknowledgement records that a person acknowledged a published notice.
type Acknowledgement struct {
	Person  string
	Version int64
	Time    time.Time
	Via     string // "web" or "api"
	// Entry is the index of the acknowledgement's leaf in the oversight
	// log, which `lbm verify inclusion` proves.
	Entry uint64
}

// NoticeCoverage counts who has acknowledged a notice version.
type NoticeCoverage struct {
	Active       int // people in the directory who have not left
	Acknowledged int // of those, how many acknowledged the version
}

// Notices stores monitoring notices and acknowledgements.
type Notices interface {
	// AddNotice stores n as a draft at the next version (ignoring
	// n.Version, n.Published and n.PublishedBy) and returns it as stored.
	AddNotice(ctx context.Context, n Notice) (Notice, error)
	// NoticeByVersion returns that version; ErrNotFound if none.
	NoticeByVersion(ctx context.Context, version int64) (Notice, error)
	// ListNotices returns every version, newest first.
	ListNotices(ctx context.Context) ([]Notice, error)
	// CurrentNotice returns the latest published notice; ErrNotFound if
	// none is published.
	CurrentNotice(ctx context.Context) (Notice, error)
	// AddAcknowledgement stores a. ErrExists if the person acknowledged
	// that version already; ErrNotFound if the person or a published
	// notice of that version is absent.
	AddAcknowledgement(ctx context.Context, a Acknowledgement) error
	// AcknowledgementsOf returns the person's acknowledgements, newest
	// version first.
	AcknowledgementsOf(ctx context.Context, person string) ([]Acknowledgement, error)
	// Unacknowledged returns the people who have not left at now and
	// have not acknowledged version, ordered by unit, then manager, then ID.
	Unacknowledged(ctx context.Context, version int64, now time.Time) ([]Person, error)
	// Coverage counts, among the people who have not left at now, those
	// who acknowledged version.
	Coverage(ctx context.Context, version int64, now time.Time) (NoticeCoverage, error)
}

// CatalogueVersion is one approved version of the catalogues (lawful
// purposes, legislation, proportionality criteria, and the data categories
// with their retention schedule), as the YAML files internal/policy
// parses. Until a version is stored, the embedded default is in force.
type CatalogueVersion struct {
	Version     int64 // from 1
	Purposes    []byte
	Legislation []byte
	Criteria    []byte
	// Categories is categories.yaml, the retention schedule. It is nil in
	// a version approved before the catalogue carried it, which means the
	// categories built into lbm (policy.DefaultFiles().Categories).
	Categories []byte
	Created    time.Time
	Change     string // the ID of the change that approved it
}

// Catalogues keeps the catalogue's version history.
type Catalogues interface {
	// CurrentCatalogue returns the latest version; ErrNotFound if none
	// is stored.
	CurrentCatalogue(ctx context.Context) (CatalogueVersion, error)
	// CatalogueByVersion returns that version; ErrNotFound if none.
	CatalogueByVersion(ctx context.Context, version int64) (CatalogueVersion, error)
	// ListCatalogueVersions returns every version, newest first.
	ListCatalogueVersions(ctx context.Context) ([]CatalogueVersion, error)
}

// ConsentPolicyVersion is one approved version of the consent-level
// policy: the YAML file internal/consent parses, which decides the level,
// minimum rank and advisers a request to monitor needs. Until a version is
// stored, the embedded default is in force. Versions are never changed or
// removed, so every policy a request was ever judged under can be read back.
type ConsentPolicyVersion struct {
	Version int64 // from 1
	Policy  []byte
	Created time.Time
	Change  string // the ID of the change that approved it
	By      string // the administrator who approved it
}

// ConsentPolicies keeps the consent-level policy's version history.
type ConsentPolicies interface {
	// CurrentConsentPolicy returns the latest version; ErrNotFound if none
	// is stored.
	CurrentConsentPolicy(ctx context.Context) (ConsentPolicyVersion, error)
	// ConsentPolicyByVersion returns that version; ErrNotFound if none.
	ConsentPolicyByVersion(ctx context.Context, version int64) (ConsentPolicyVersion, error)
	// ListConsentPolicyVersions returns every version, newest first.
	ListConsentPolicyVersions(ctx context.Context) ([]ConsentPolicyVersion, error)
}

// RuleSetVersion is one approved version of the detection rules: the
// rule file internal/detect parses. Until a version is stored, the
// built-in pack is in force. Versions are never changed or removed, so
// the rules behind every alert can be read back.
type RuleSetVersion struct {
	Version int64 // from 1
	Rules   []byte
	Created time.Time
	Change  string // the ID of the change that approved it
	By      string // the administrator who approved it
}

// RuleSets keeps the detection rules' version history.
type RuleSets interface {
	// CurrentRuleSet returns the latest version; ErrNotFound if none is
	// stored.
	CurrentRuleSet(ctx context.Context) (RuleSetVersion, error)
	// RuleSetByVersion returns that version; ErrNotFound if none.
	RuleSetByVersion(ctx context.Context, version int64) (RuleSetVersion, error)
	// ListRuleSetVersions returns every version, newest first.
	ListRuleSetVersions(ctx context.Context) ([]RuleSetVersion, error)
}

// StoredAlert is an alert raised by a detection rule, as the store keeps
// it: the whole alert as JSON (its shape is internal/alerts'), and the
// fields alerts are found by. Subject is who the alert is about; it is
// shown to nobody without an authorisation (internal/alerts), and the
// store never selects on it for a listing a caller controls.
type StoredAlert struct {
	ID        string // sorts in order of raising: newer alerts sort after
	Rule      string
	Severity  string
	Subject   string // the person the rule's key names
	Pseudonym string // stable per subject, shown instead of the subject
	State     string
	Assignee  string    // person id; "" when unassigned
	Time      time.Time // the time of the event that fired it
	Created   time.Time
	Updated   time.Time
	// Dedup identifies what fired (rule, key and events): raising the
	// same alert twice, as a detector replaying after a restart does,
	// stores it once.
	Dedup string
	Body  []byte // the alert as JSON
	// Version counts the alert's stored changes, from 1; UpdateAlert
	// compares it, as UpdateRequest does.
	Version int64
}

// AlertQuery selects alerts for a listing. Empty fields select all.
type AlertQuery struct {
	State    string
	Assignee string
	// Before keeps alerts whose ID sorts before it (the last ID of the
	// previous page): listings are newest first.
	Before string
	Limit  int // 0 means 100
}

// Alerts stores detection alerts and where the detector has got to in
// each log.
type Alerts interface {
	// AddAlerts stores as (each at Version 1) and sets log's detection
	// cursor to through, in one transaction. An alert whose Dedup is
	// stored already is skipped, not an error; ErrExists if an ID is
	// stored or given twice. ErrConflict, and nothing stored, if through
	// is below the stored cursor: detection never goes back.
	AddAlerts(ctx context.Context, log string, through uint64, as []StoredAlert) error
	// DetectionCursor returns the index of the first entry of log the
	// detector has not seen; 0 when none is stored.
	DetectionCursor(ctx context.Context, log string) (uint64, error)
	// AlertByID returns the alert; ErrNotFound if none.
	AlertByID(ctx context.Context, id string) (StoredAlert, error)
	// UpdateAlert replaces the stored alert whose ID is a.ID with a, as
	// UpdateRequest does: the stored Version must be a.Version-1, else
	// ErrConflict. Rule, Subject, Pseudonym, Time, Created and Dedup
	// never change: ErrConflict if a differs in any. ErrNotFound if no
	// alert has that ID.
	UpdateAlert(ctx context.Context, a StoredAlert) error
	// ListAlerts returns the alerts q selects, newest (greatest ID) first.
	ListAlerts(ctx context.Context, q AlertQuery) ([]StoredAlert, error)
}

// CheckAlertBatch refuses, before an engine writes anything, what
// AddAlerts must refuse whatever is stored: a cursor no column can hold,
// and an ID given twice. A unique index on Dedup alone would let the
// second of two alerts with one ID and one Dedup through as a skipped
// replay.
func CheckAlertBatch(log string, through uint64, as []StoredAlert) error {
	if through > math.MaxInt64 {
		return fmt.Errorf("adding alerts of %s: cursor %d is beyond any log index", log, through)
	}
	seen := make(map[string]bool, len(as))
	for _, a := range as {
		if seen[a.ID] {
			return fmt.Errorf("adding alerts of %s: alert %s given twice: %w", log, a.ID, ErrExists)
		}
		seen[a.ID] = true
	}
	return nil
}

// StoredRequest is a request to monitor, record or review a person's
// information as the store keeps it: the whole request as JSON (its shape
// is internal/requests'), and the fields requests are found by. Requests
// are never deleted by the store: the central record keeps every one,
// refused and withdrawn ones included, at least 5 years after it ends
// (LEGAL.md §4); removing one after that is the retention job's, with a
// record of the removal.
type StoredRequest struct {
	ID        string
	Reference string   // unique human reference, e.g. "ACAC-2026-0001"
	Requester string   // person id
	Subjects  []string // person ids, sorted, unique
	State     string
	Created   time.Time
	Updated   time.Time
	// ExpiresAt is when the authorisation ends; zero until authorised.
	ExpiresAt time.Time
	// Deadline is the earliest time at which the request's state changes
	// by the clock alone (review due, expiry, urgent lapse); zero when
	// none is pending. The deadline sweeper selects on it.
	Deadline time.Time
	Body     []byte // the request as JSON
	// Version counts the request's stored changes, from 1. UpdateRequest
	// compares it, so that two transitions read from the same state cannot
	// both be stored.
	Version int64
}

// RequestQuery selects requests for a listing. Empty fields select all.
type RequestQuery struct {
	State     string
	Requester string
	Subject   string // requests naming this person as a subject
	// DueBy keeps requests whose Deadline is not zero and not after it.
	DueBy time.Time
	// After keeps requests whose ID sorts after it (the last ID of the
	// previous page).
	After string
	Limit int // 0 means 100
}

// Requests stores requests to monitor, record or review.
type Requests interface {
	// AddRequest stores r at Version 1 (r.Version is ignored); ErrExists
	// if its ID or Reference is stored.
	AddRequest(ctx context.Context, r StoredRequest) error
	// RequestByID returns the request; ErrNotFound if none.
	RequestByID(ctx context.Context, id string) (StoredRequest, error)
	// UpdateRequest replaces the stored request whose ID is r.ID with r.
	// r.Version is the new version, as in ChangeEffect.Person: the stored
	// one must be r.Version-1, else ErrConflict and nothing stored.
	// ErrNotFound if no request has that ID. Reference, Requester and
	// Created never change: ErrConflict if r differs in any.
	UpdateRequest(ctx context.Context, r StoredRequest) error
	// ListRequests returns the requests q selects in ID order.
	ListRequests(ctx context.Context, q RequestQuery) ([]StoredRequest, error)
	// NextRequestNumber returns the next number of year's references,
	// from 1, never the same twice even across processes.
	NextRequestNumber(ctx context.Context, year int) (int64, error)
}

// Notification is one entry of a person's in-app inbox: something about a
// request that lbm asks them to do (decide, advise, ratify, review) or
// tells them has happened (a decision, an expiry coming). The inbox is the
// record of what a person was told; e-mail is only a prompt to look at it.
type Notification struct {
	ID        string
	Person    string // who it is for
	Kind      string // one of internal/notify's kinds
	Request   string // the request's ID
	Reference string // the request's human reference, e.g. "ACAC-2026-0001"
	Text      string
	Created   time.Time
	Read      time.Time // zero while unread
}

// DefaultNotificationLimit is how many notifications NotificationsFor
// returns when asked for none in particular.
const DefaultNotificationLimit = 100

// Notifications keeps each person's inbox.
type Notifications interface {
	// AddNotifications stores ns in one transaction: all or, on any
	// error, none. ErrExists if an ID is stored or given twice;
	// ErrNotFound if a Person is absent from the directory.
	AddNotifications(ctx context.Context, ns []Notification) error
	// NotificationsFor returns at most limit (0 means
	// DefaultNotificationLimit) of person's notifications, only the
	// unread ones if unreadOnly, newest first; of those created at one
	// instant the greater ID first. None for an unknown person.
	NotificationsFor(ctx context.Context, person string, unreadOnly bool, limit int) ([]Notification, error)
	// CountUnread counts person's unread notifications; 0 for an unknown
	// person.
	CountUnread(ctx context.Context, person string) (int, error)
	// MarkNotificationRead sets the notification's Read to at unless it is
	// read already (the first reading stands). ErrNotFound if no
	// notification of person has that ID, including another person's:
	// nobody marks, or learns of, another's notifications. at must not be
	// the zero time, which would read as unread.
	MarkNotificationRead(ctx context.Context, person, id string, at time.Time) error
}

// Store is everything an engine provides.
type Store interface {
	Logs
	EntryFinder
	TermSearcher
	EventSearcher
	Checkpoints
	Cosignatures
	DataKeys
	KEKRotation
	Principals
	People
	DirectoryLookup
	Credentials
	Changes
	Notices
	Catalogues
	ConsentPolicies
	SubjectAccess
	Requests
	Notifications
	RuleSets
	Alerts
	RelevantErrors
	Retention
	Holds
	LogRegistry
	// Ping reports whether the store can serve requests (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}
