package requests

import (
	"maps"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
)

// A Request is a request to review, monitor or record the activity of
// named people, and, once decided, the authorisation it became. It is a
// plain value: [Validate] checks what the requester wrote, [Apply] and
// [Tick] move it through its life, and neither does I/O.
//
// The JSON names are the public contract (docs/contract.md). Times are
// UTC. The first group of fields is what the requester writes; the second
// (from State on) is filled only by [Apply] and [Tick], and a caller that
// accepts a request from a client must take the first group alone.
type Request struct {
	ID        string `json:"id"`
	Reference string `json:"reference"` // unique human reference, e.g. "ACAC-2026-0001", assigned by the caller
	Requester string `json:"requester"` // the person id of the investigator who drafted it

	Subjects []string `json:"subjects"` // person ids of the people the request is about
	// Alert is the detection alert the request was drafted from, set by
	// lbm, never by the requester. Its one subject is the person the
	// alert is about, whom the investigators know only by the alert's
	// pseudonym until an authorisation in force lets them reveal who it
	// is (internal/alerts); authorisers and advisers see the person, as
	// they must to judge the request.
	Alert         *AlertOrigin    `json:"alert,omitempty"`
	Investigators []string        `json:"investigators"` // person ids of those who may use the authorisation
	Categories    []CategoryScope `json:"categories"`
	Sources       []string        `json:"sources"` // source ids; empty means every source
	Mode          string          `json:"mode"`    // consent.ModeReview, ModeMonitor or ModeRecord
	// Window is the stretch of history a review reads; nil for the live
	// modes, which run from the decision until ExpiresAt.
	Window  *Window `json:"window,omitempty"`
	Purpose string  `json:"purpose"` // a purpose id of the policy catalogue
	// LawfulBasis is what live monitoring of communications relies on
	// (LEGAL.md §2): a purpose id, or "warrant" with WarrantReference.
	// Empty for reviews.
	LawfulBasis      string `json:"lawful_basis,omitempty"`
	WarrantReference string `json:"warrant_reference,omitempty"`
	// Investigation is consent.Criminal (the RIPA route) or
	// consent.Misconduct (the Art 8 / data-protection route).
	Investigation string    `json:"investigation"`
	RIPAReference string    `json:"ripa_reference,omitempty"`
	Operation     Operation `json:"operation"`
	DPIAReference string    `json:"dpia_reference,omitempty"`
	Necessity     string    `json:"necessity"`
	// Criteria holds the requester's answer to each proportionality
	// criterion, by criterion id (LEGAL.md §3). The NOTICE answer is the
	// requester's addition to NoticeRecord.
	Criteria map[string]string `json:"criteria"`
	// NoticeRecord is what the subjects' acknowledgement records say
	// about the notice they were given. The system fills it; the
	// requester may add to it (Criteria["NOTICE"]) but never change it,
	// and [Validate] refuses a request whose NoticeRecord differs from
	// the system's.
	NoticeRecord string       `json:"notice_record"`
	Collateral   Collateral   `json:"collateral"`
	Confidential Confidential `json:"confidential"`
	Urgent       Urgency      `json:"urgent"`

	State State `json:"state"`
	// Requirement is what the consent policy derived from [Facts] at
	// submission; it is fixed from then on, so that a later policy change
	// can neither loosen nor tighten a request already in flight.
	Requirement *consent.Requirement `json:"requirement,omitempty"`
	Advice      []Advice             `json:"advice"`
	Decisions   []Decision           `json:"decisions"`
	Reviews     []Review             `json:"reviews"`
	Renewals    []Renewal            `json:"renewals"`
	// Releases are the legal advisers' views on confidential material
	// held back from the investigators, oldest first.
	Releases []ReleaseView `json:"releases,omitempty"`

	AuthorisedBy     string    `json:"authorised_by,omitempty"`
	AuthoriserRank   string    `json:"authoriser_rank,omitempty"`
	DirectlyInvolved bool      `json:"directly_involved"`
	AuthorisedAt     time.Time `json:"authorised_at,omitzero"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	// RatifyBy is set when the request was authorised on the urgent
	// route: unless ratified before it, the authorisation lapses then.
	RatifyBy   time.Time `json:"ratify_by,omitzero"`
	RatifiedBy string    `json:"ratified_by,omitempty"`
	RatifiedAt time.Time `json:"ratified_at,omitzero"`
	ReviewDue  time.Time `json:"review_due,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"` // when it was cancelled or expired
	Closure    *Closure  `json:"closure,omitempty"`
	// History is every transition, in order: the same values [Apply] and
	// [Tick] returned, which the caller writes to the oversight log.
	History []Transition `json:"history"`
}

// AlertOrigin names the alert a request was drafted from.
type AlertOrigin struct {
	ID        string `json:"id"`
	Pseudonym string `json:"pseudonym"`
}

// A CategoryScope is one data category asked for, with or without its
// content.
type CategoryScope struct {
	Category string `json:"category"` // a policy data category id, e.g. "email"
	Content  bool   `json:"content"`  // content as well as metadata
}

// A Window is a stretch of history, From inclusive, To exclusive.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// An Operation names the investigation a request belongs to.
type Operation struct {
	Name      string `json:"name"`
	Reference string `json:"reference"`
}

// Collateral is how far a request reaches people who are not its
// subjects.
type Collateral struct {
	Level       string `json:"level"` // consent.CollateralLow, Medium or High
	Explanation string `json:"explanation"`
}

// Confidential is the confidential material a request is likely to meet.
type Confidential struct {
	Kinds       []string `json:"kinds"` // consent.LegalPrivilege, Health, Journalistic, Union, Whistleblowing
	Explanation string   `json:"explanation,omitempty"`
}

// Urgency is the requester's case for the urgent route.
type Urgency struct {
	Urgent bool   `json:"urgent"`
	Why    string `json:"why,omitempty"`
}

// Advice is one adviser's recorded view.
type Advice struct {
	By   string    `json:"by"`
	Kind string    `json:"kind"` // "legal", "dpo" or "ethics"
	View string    `json:"view"`
	At   time.Time `json:"at"`
}

// A Decision is an authoriser's decision, with their reasons and their
// view on each proportionality criterion.
type Decision struct {
	By               string            `json:"by"`
	Rank             string            `json:"rank"`
	Authorise        bool              `json:"authorise"`
	Reasons          string            `json:"reasons"`
	Views            map[string]string `json:"views,omitempty"`
	DirectlyInvolved bool              `json:"directly_involved"`
	UrgentRoute      bool              `json:"urgent_route"`
	At               time.Time         `json:"at"`
}

// A Review is an authoriser's periodic review of an active authorisation.
type Review struct {
	By    string    `json:"by"`
	Notes string    `json:"notes"`
	Next  time.Time `json:"next,omitzero"` // when the next review is due
	At    time.Time `json:"at"`
}

// A ReleaseView is a legal adviser's view on held-back events: released
// to the investigators, or kept back. The latest view of an event stands.
type ReleaseView struct {
	By       string    `json:"by"`
	Events   []string  `json:"events"`
	View     string    `json:"view"`
	Released bool      `json:"released"`
	At       time.Time `json:"at"`
}

// Released reports whether the latest legal view of event id released it.
func (r Request) Released(id string) bool {
	for i := len(r.Releases) - 1; i >= 0; i-- {
		if slices.Contains(r.Releases[i].Events, id) {
			return r.Releases[i].Released
		}
	}
	return false
}

// A Renewal extends an active authorisation from its expiry.
type Renewal struct {
	By               string    `json:"by"`
	Rank             string    `json:"rank"`
	Reasons          string    `json:"reasons"`
	DirectlyInvolved bool      `json:"directly_involved"`
	From             time.Time `json:"from"`  // the expiry it replaced
	Until            time.Time `json:"until"` // the new expiry
	At               time.Time `json:"at"`
}

// A Closure is how a request ended: what it found, whether the data was
// useful, and what is kept.
type Closure struct {
	By      string    `json:"by"`
	Outcome string    `json:"outcome"`
	Useful  bool      `json:"useful"`
	Kept    string    `json:"kept"`
	At      time.Time `json:"at"`
}

// Live reports whether the request monitors or records as things happen,
// rather than reviewing history.
func (r Request) Live() bool {
	return r.Mode == consent.ModeMonitor || r.Mode == consent.ModeRecord
}

// Facts returns what the consent policy looks at in r. WindowDays is the
// length of the review window in whole days, rounded up, and 0 for the
// live modes or a missing window.
func Facts(r Request) consent.Facts {
	f := consent.Facts{
		Mode:          r.Mode,
		Subjects:      len(r.Subjects),
		Collateral:    r.Collateral.Level,
		Confidential:  slices.Clone(r.Confidential.Kinds),
		Investigation: r.Investigation,
		Live:          r.Live(),
		Urgent:        r.Urgent.Urgent,
		Purpose:       r.Purpose,
	}
	for _, c := range r.Categories {
		f.Categories = append(f.Categories, c.Category)
		f.Content = f.Content || c.Content
	}
	if !f.Live && r.Window != nil && r.Window.To.After(r.Window.From) {
		d := r.Window.To.Sub(r.Window.From)
		f.WindowDays = int((d + 24*time.Hour - 1) / (24 * time.Hour))
	}
	return f
}

// Written returns what the requester wrote in r: the fields a client may
// send, with every field lbm sets (id, reference, requester,
// notice_record and the lifecycle) zero. A request from a client is taken
// through Written, so that no client can set its own state or
// authorisation.
func (r Request) Written() Request {
	c := r.clone()
	return Request{
		Subjects: c.Subjects, Investigators: c.Investigators, Categories: c.Categories, Sources: c.Sources,
		Mode: c.Mode, Window: c.Window, Purpose: c.Purpose, LawfulBasis: c.LawfulBasis,
		WarrantReference: c.WarrantReference, Investigation: c.Investigation, RIPAReference: c.RIPAReference,
		Operation: c.Operation, DPIAReference: c.DPIAReference, Necessity: c.Necessity, Criteria: c.Criteria,
		Collateral: c.Collateral, Confidential: c.Confidential, Urgent: c.Urgent,
	}
}

// clone returns a deep copy of r, so that Apply and Tick never change
// the caller's slices and maps.
func (r Request) clone() Request {
	r.Subjects = slices.Clone(r.Subjects)
	if r.Alert != nil {
		a := *r.Alert
		r.Alert = &a
	}
	r.Investigators = slices.Clone(r.Investigators)
	r.Categories = slices.Clone(r.Categories)
	r.Sources = slices.Clone(r.Sources)
	if r.Window != nil {
		w := *r.Window
		r.Window = &w
	}
	r.Criteria = maps.Clone(r.Criteria)
	r.Confidential.Kinds = slices.Clone(r.Confidential.Kinds)
	if r.Requirement != nil {
		q := *r.Requirement
		q.Advisers = slices.Clone(q.Advisers)
		if q.Urgent != nil {
			u := *q.Urgent
			q.Urgent = &u
		}
		r.Requirement = &q
	}
	r.Advice = slices.Clone(r.Advice)
	r.Releases = slices.Clone(r.Releases)
	r.Decisions = slices.Clone(r.Decisions)
	for i := range r.Decisions {
		r.Decisions[i].Views = maps.Clone(r.Decisions[i].Views)
	}
	r.Reviews = slices.Clone(r.Reviews)
	r.Renewals = slices.Clone(r.Renewals)
	if r.Closure != nil {
		c := *r.Closure
		r.Closure = &c
	}
	r.History = slices.Clone(r.History)
	return r
}
