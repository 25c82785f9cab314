// Package consent derives, from the facts of a request to monitor, record
// or review a person's information, the level of authority that must
// consent to it: the intrusion level, the authoriser's minimum rank, the
// advisers who must give a view, the longest it may last, how often it is
// reviewed, and whether a RIPA authorisation reference is required
// (LEGAL.md §4).
//
// The rules are data: a YAML policy whose conditions are CEL expressions
// over [Facts]. lbm ships a default that follows LEGAL.md §4; replacing it
// takes dual control. The derivation is explainable step by step, so that
// an authoriser, an inspector or `lbm policy explain` can see why a request
// needs what it needs.
//
// The package is pure: no I/O, no clock. Ranks are the rank ids of
// internal/identity (LEGAL.md §4), given to the policy in order, lowest
// first, so that this package stays free of the directory.
//
// # The policy file
//
// A policy is one YAML document with three keys:
//
//	base:                      # what every request needs at least
//	  level: 1                 # intrusion level, 1 (least) to 10
//	  min_rank: inspector      # the authoriser's lowest rank id
//	  max_duration: 90d        # whole days (d) or hours (h)
//	  review_interval: 30d
//	rules:                     # each rule that matches raises the requirement
//	  - id: CONTENT
//	    description: Reading content is more intrusive than metadata.
//	    when: content          # a CEL condition over the facts
//	    level: 2
//	    min_rank: superintendent
//	  - id: CONFIDENTIAL
//	    description: Confidential material needs a chief officer.
//	    when: size(confidential) > 0
//	    level: 5
//	    min_rank: assistant_commissioner
//	    advisers: [legal]      # legal, dpo, ethics
//	    review_interval: 7d
//	urgent:                    # the urgent route (optional)
//	  when_min_rank: superintendent
//	  min_rank: inspector
//	  max_duration: 72h
//
// A rule, like the base, may give level, min_rank, advisers, max_duration,
// review_interval and ripa_required (only true: rules never lower). The
// base must give the first, second, fourth and fifth.
//
// Conditions are [CEL] expressions whose variables are the [Facts] fields
// in snake case: mode, investigation, collateral and purpose are strings;
// content, live and urgent are bools; subjects and window_days are ints;
// categories and confidential are lists of strings. They are compiled and
// type-checked when the policy is parsed, so that a misspelt variable or a
// condition that is not true-or-false is refused with the line it is on;
// each evaluation is bounded by [MaxCost].
//
// # Deriving a requirement
//
// [Policy.Derive] starts from the base and applies every matching rule:
// the level and the minimum rank are the highest given, the advisers the
// union, the maximum duration and the review interval the shortest, and a
// RIPA reference is required if any matching rule says so. Because rules
// only raise, their order changes the explanation, never the result. For
// example, with the default policy, a live monitoring request in a
// criminal investigation about one officer matches LIVE, LIVE_CONTENT (if
// it asks for content) and RIPA, and needs a Superintendent, for at most
// 90 days, reviewed every 30 days, with a RIPA reference. If the request
// is urgent, the urgent route lets an Inspector authorise it for at most
// 72 hours; the authorisation lapses unless a Superintendent ratifies it.
// The urgent route is open only where the derived minimum rank is exactly
// the route's when_min_rank: below, it is not needed; above (a chief
// officer's decision) it would cut short a safeguard LEGAL.md §4 gives no
// urgent exception to.
//
// The default policy, [Default], is default.yaml in this directory; its
// comments give the reasons for each rule.
//
// [CEL]: https://cel.dev
package consent

import "time"

// Modes of a request (DESIGN.md "Request").
const (
	ModeReview  = "review"  // read what is already held
	ModeMonitor = "monitor" // receive new in-scope events live
	ModeRecord  = "record"  // keep more than the default for the subjects
)

// Investigation types: the RIPA route or the Art 8 / data-protection route.
const (
	Criminal   = "criminal"
	Misconduct = "misconduct"
)

// Kinds of confidential material (LEGAL.md §4).
const (
	LegalPrivilege = "legal_privilege"
	Health         = "health"       // confidential personal information: health, counselling
	Journalistic   = "journalistic" // journalistic material
	Union          = "union"        // trade-union or staff-association communications
	Whistleblowing = "whistleblowing"
)

// Collateral intrusion levels: how far the request reaches people who are
// not its subjects.
const (
	CollateralLow    = "low"
	CollateralMedium = "medium"
	CollateralHigh   = "high"
)

// Facts are what the policy's conditions may look at: the parts of a
// request that make it more or less intrusive. internal/requests builds
// them from a request; each field is a CEL variable of the same name in
// snake case (mode, content, categories, subjects, collateral,
// confidential, investigation, live, urgent, purpose, window_days).
type Facts struct {
	Mode          string   // ModeReview, ModeMonitor or ModeRecord
	Content       bool     // some category is asked for with its content
	Categories    []string // the event categories asked for
	Subjects      int      // how many people the request is about
	Collateral    string   // CollateralLow, CollateralMedium or CollateralHigh
	Confidential  []string // kinds of confidential material likely to be met
	Investigation string   // Criminal or Misconduct
	Live          bool     // monitoring or recording as it happens (ModeMonitor or ModeRecord)
	Urgent        bool     // the requester asks for the urgent route
	Purpose       string   // the lawful purpose's catalogue id
	WindowDays    int      // how many days of history a review reaches back; 0 for live modes
}

// Requirement is what a request needs before it may be authorised, and
// the limits on the authorisation.
type Requirement struct {
	Level          int           // intrusion level, from 1 (least)
	MinRank        string        // the authoriser's lowest rank id, e.g. "superintendent"
	Advisers       []string      // adviser kinds ("legal", "dpo", "ethics") whose view is required, sorted
	MaxDuration    time.Duration // longest authorisation
	ReviewInterval time.Duration // reviews at least this often
	RIPARequired   bool          // a RIPA authorisation reference must be given
	// Urgent, when set, is the urgent route: a lower rank may authorise
	// for a shorter time, and the authorisation lapses unless ratified at
	// MinRank within that time. Nil when the urgent route is not open.
	Urgent *UrgentRoute
}

// UrgentRoute is the urgent route of a requirement.
type UrgentRoute struct {
	MinRank     string        // e.g. "inspector" where MinRank is "superintendent"
	MaxDuration time.Duration // e.g. 72 hours
}
