// Package subjectaccess answers a person's request for their own data
// (UK GDPR Art 15), end to end: the request reaches the DPO, who opens it
// (the opening is the authorisation, recorded in the oversight log,
// scoped to the person's own events: every category, all time, content
// included), sees what the data holds ([Service.Summary]: categories,
// counts and period), is told when an investigation might be prejudiced
// ([Service.Hint]: a suggestion, never a decision), records any exemption
// with its ground and a note ([Service.Exempt]), and answers
// ([Service.Answer]): an evidence bundle of the person's own events minus
// the withheld ones, other people pseudonymised, that the person
// downloads and anyone can verify. Every step is an oversight-log leaf
// written before the step is stored.
//
// # States
//
//	received ──open──▶ preparing ──answer──▶ answered
//	    │                  │ exempt, unexempt, extend
//	    └──close──▶ closed ◀┘
//
// [Apply] is the whole machine, pure; only a DPO acts, and never on
// their own request.
//
// # The deadline
//
// One calendar month from the day of receipt (UK GDPR Art 12(3)): the
// same day next month, or the month's last day when it has none, so that
// a request received on 31 January is due on 28 (or 29) February
// ([DueDate]). It can be extended once by up to two further months with
// a recorded reason.
//
// # Tipping off
//
// The person sees only [PersonView]: when they asked, when it is due
// (and that it was extended, with the general reason the law allows),
// and a state in plain words. Nothing they receive, page or zip, says
// that anything was withheld or names an exemption, an authorisation, a
// hold, an alert or an investigation (DPA 2018 Sch 2 para 2).
package subjectaccess
