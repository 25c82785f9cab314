// Package alerts turns what the detection rules (internal/detect) find
// into pseudonymised alerts, and is the only way from an alert to the
// person it is about.
//
// The [Detector] follows a log in index order, runs the rules in force
// over each committed event and stores what they raise, moving its
// cursor in the same transaction, so that every event is looked at once
// even across restarts. An alert names a pseudonym, stable per person so
// that triage can see that two alerts are about one person, and holds no
// name, number or unit: its evidence is the events' times, categories,
// actions and log positions.
//
// The [Service] is the alert queue: who sees which alert (never the
// person it is about, nobody in their unit and never their line manager),
// triage (states, notes, assignment), a request for authorisation drafted
// from an alert with its evidence, and the reveal: only an investigator
// the request's authorisation names, while it is in force, learns who
// the pseudonym is, and only after the access record is in the oversight
// log. A refused reveal is recorded too.
package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// State is where an alert is in triage.
type State string

// Triage states. An alert is raised New; an investigator takes it into
// Triage (assigned to someone); from there it is Dismissed (no misconduct
// seen, with a note saying why) or Referred (a request for authorisation
// was drafted from it); a referred alert is Closed with its outcome. A
// dismissed or closed alert may be reopened into Triage.
const (
	New       State = "new"
	Triage    State = "triage"
	Dismissed State = "dismissed"
	Referred  State = "referred"
	Closed    State = "closed"
)

// States lists every state, in triage order.
var States = []State{New, Triage, Dismissed, Referred, Closed}

// Action is a triage step.
type Action string

// Triage actions.
const (
	ActAssign  Action = "assign"  // New, Triage -> Triage, with an assignee
	ActDismiss Action = "dismiss" // New, Triage -> Dismissed, with a note
	ActRefer   Action = "refer"   // New, Triage -> Referred (a request is drafted)
	ActClose   Action = "close"   // Referred -> Closed, with a note
	ActReopen  Action = "reopen"  // Dismissed, Closed -> Triage, with a note
)

// Actions lists every action.
var Actions = []Action{ActAssign, ActDismiss, ActRefer, ActClose, ActReopen}

// next is the state action leads to from from, or false when it may not
// be taken there.
func next(from State, a Action) (State, bool) {
	switch a {
	case ActAssign:
		return Triage, from == New || from == Triage
	case ActDismiss:
		return Dismissed, from == New || from == Triage
	case ActRefer:
		return Referred, from == New || from == Triage
	case ActClose:
		return Closed, from == Referred
	case ActReopen:
		return Triage, from == Dismissed || from == Closed
	}
	return "", false
}

// needsNote says which actions must say why: an alert is never put
// aside, closed or reopened without a reason on the record.
func needsNote(a Action) bool { return a == ActDismiss || a == ActClose || a == ActReopen }

// Alert is one alert as it is stored and shown. It never holds who the
// alert is about: that is in the store's Subject column alone, read only
// to route the alert and to reveal it under an authorisation.
type Alert struct {
	ID              string    `json:"id"`
	Rule            string    `json:"rule"`
	Title           string    `json:"title"`
	Severity        string    `json:"severity"`
	SpecialCategory bool      `json:"special_category"`
	Pseudonym       string    `json:"pseudonym"`
	Log             string    `json:"log"`  // the log whose events fired it
	Time            time.Time `json:"time"` // the time of the event that fired it
	// Why says what fired, naming fields and counts, never the person.
	Why string `json:"why"`
	// Events are the events that made it fire (at most MaxEvidence).
	Events []Evidence `json:"events"`
	// MoreEvents counts those left out beyond MaxEvidence.
	MoreEvents int       `json:"more_events,omitempty"`
	State      State     `json:"state"`
	Assignee   string    `json:"assignee,omitempty"`
	Request    string    `json:"request,omitempty"` // the request drafted from it
	Notes      []Note    `json:"notes"`
	History    []Step    `json:"history"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

// MaxEvidence bounds the events an alert lists.
const MaxEvidence = 100

// Evidence is one event behind an alert, as triage may see it: where it
// is in its log and what kind of activity it was, and nothing that names
// anyone.
type Evidence struct {
	// Log and Index are where the event is: the activity log's shards
	// each number their entries from 0. Log is absent from alerts raised
	// before shards, all of the one log "activity".
	Log      string    `json:"log,omitempty"`
	Index    uint64    `json:"index"`
	Time     time.Time `json:"time"`
	Source   string    `json:"source"`
	Category string    `json:"category"`
	Action   string    `json:"action,omitempty"`
	Outcome  string    `json:"outcome,omitempty"`
}

// Note is a triage note.
type Note struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// Step is one triage action taken.
type Step struct {
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Action   Action    `json:"action"`
	From     State     `json:"from"`
	To       State     `json:"to"`
	Assignee string    `json:"assignee,omitempty"`
}

// Summary is the alert's evidence as text, for a request drafted from it:
// what fired and when, with each event's time and kind, and no names.
func (a Alert) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Alert %s, rule %s (%s, severity %s): %s.\n", a.ID, a.Rule, a.Title, a.Severity, a.Why)
	fmt.Fprintf(&b, "Fired at %s on the %s log by %d events:\n", a.Time.UTC().Format(time.RFC3339), a.Log, len(a.Events)+a.MoreEvents)
	for _, e := range a.Events {
		fmt.Fprintf(&b, "- %s %s %s (%s, entry %d)\n", e.Time.UTC().Format(time.RFC3339), e.Category, e.Action, e.Source, e.Index)
	}
	if a.MoreEvents > 0 {
		fmt.Fprintf(&b, "- and %d more\n", a.MoreEvents)
	}
	return b.String()
}

var pseudonymEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Pseudonymiser names the people alerts are about. One person has one
// pseudonym in every alert, so that triage can see a pattern; nobody
// without the secret can reverse one; and a pseudonym never matches
// review's (internal/review), which are keyed per authorisation.
type Pseudonymiser struct{ key []byte }

// NewPseudonymiser keys alert pseudonyms from secret (the server's
// pseudonym secret, at least 32 bytes).
func NewPseudonymiser(secret []byte) *Pseudonymiser {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lbm/alert-pseudonym/v1"))
	return &Pseudonymiser{key: m.Sum(nil)}
}

// Name returns subject's pseudonym, e.g. "subject-k3v7q2mhx4ab2".
func (p *Pseudonymiser) Name(subject string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(subject))))
	return "subject-" + strings.ToLower(pseudonymEncoding.EncodeToString(m.Sum(nil)[:8]))
}

// dedup identifies what fired: the log, the rule, the key and the
// events, so that a detector replaying events after a restart stores
// an alert it raised before only once.
func dedup(log, rule, key string, events [][16]byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", log, rule, key)
	for _, e := range events {
		h.Write(e[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Allowed reports whether action a may be taken on an alert in state s.
func Allowed(s State, a Action) bool {
	_, ok := next(s, a)
	return ok
}
