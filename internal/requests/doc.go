// Package requests is the request to review, monitor or record people's
// activity, as a structured legal object: what it asks for, whether it is
// well formed, and the state machine that takes it from draft to an
// authorisation in force and on to its end (DESIGN.md, "The flows" 3;
// LEGAL.md §3 and §4).
//
// The package is pure. It does no I/O and never reads the clock: every
// function that depends on time takes `now`. It does not know the
// directory either: people come in as [Actor] values, with their rank and
// the rank order, and existence checks as a function. The caller loads,
// calls, and persists with compare-and-swap, writing each returned
// [Transition] to the oversight log in the same transaction.
//
// # The request
//
// A [Request] says who is asked about (subjects), who will look
// (investigators), what (data categories, each with or without content,
// and sources), how (mode: review history in a window, or monitor or
// record live until expiry), why (a catalogue purpose, and for live
// monitoring of communications the lawful basis relied on), under which
// route (a criminal investigation takes the RIPA route and needs a RIPA
// reference for covert live monitoring; misconduct-only takes the Art 8
// route), and the case for it: necessity, an answer to each
// proportionality criterion, collateral intrusion, likely confidential
// material and urgency. [Validate] checks all of it and returns every
// problem at once as [FieldErrors]; [Facts] gives the consent policy what
// it needs to derive the [consent.Requirement].
//
// # Justifications
//
// A reason of "." is no reason. Every justification must be at least
// [MinChars] characters and [MinWords] words after [Normalize], and must
// not equal, or be [MaxSimilarity] or more [Similarity] to, any other
// justification in the same request or in the requester's recent
// requests. The same rule holds for an authoriser's reasons and views,
// which also may not copy the requester's answers.
//
// # The life of a request
//
//	draft ──submit──▶ awaiting_advice ──advice (all required)──▶ submitted
//	  │                    │                                        │
//	  └──────withdrawal────┴────────────────withdrawal──────────────┤
//	                                                                 ▼
//	            refused ◀──decision──┬──decision──▶ active ◀──review── review_due
//	                                 │              │ ▲ ratification,  ▲   │
//	                                 │              │ └ review, renewal │   │
//	                                 │              ├──Tick: review date┘   │
//	                                 │              ├──Tick: expiry/lapse──▶ expired ──closure──▶ closed
//	                                 │              └──cancellation────────▶ cancelled ─closure─▶ closed
//
// Refused, withdrawn and closed are terminal. [Apply] takes one action
// and returns the new request and its [Transition]; an action the state
// does not allow is a *[TransitionError] (HTTP 409), an action a rule
// refuses a *[RuleError] naming the [Rule] and the field (HTTP 403 or
// 400). [Tick] moves a request past its deadlines. [Request.Active] is
// the only answer to "may this authorisation be used now?", and it reads
// the expiry, not the state, so a sweeper that has not run yet, or a
// clock set back, can never extend an authorisation.
//
// # Example
//
// An investigator asks to review two months of a constable's PNC queries
// in a misconduct investigation. The policy says a superintendent must
// decide after a legal adviser's view:
//
//	r, _, err := requests.Apply(r, requests.Submit{By: ivy, Requirement: q}, now) // awaiting_advice
//	r, _, err = requests.Apply(r, requests.Advise{By: lee, View: "…"}, now)       // submitted
//	r, _, err = requests.Apply(r, requests.Decide{By: sue, Authorise: true,
//		Reasons: "…", Views: views}, now)                                        // active
//	r.Active(now)                                                             // true until r.ExpiresAt
//	r, ts := requests.Tick(r, later)                                          // review_due, expired, …
//
// Had ivy tried to decide, Apply would have returned a *RuleError with
// Rule [RuleSelf]; had sue been an inspector, [RuleRank].
package requests
