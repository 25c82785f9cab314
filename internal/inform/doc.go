// Package inform is the Inform flow over the store: monitoring notices
// drafted and published (publication itself is dual control, in
// internal/identity), each person's acknowledgements, the compliance report
// of who has not acknowledged the current notice, the question the request
// workflow asks ("did X acknowledge a notice covering category C, and
// when?"). Subject access requests are internal/subjectaccess's.
//
// The notice texts and their format are internal/notice's; the catalogues
// are internal/policy's.
//
// Nothing here may tell a person about an authorisation, hold or alert
// concerning them (tipping off, LEGAL.md §5): a person's own view is their
// acknowledgements, what is collected about everyone, and their own
// subject access requests.
package inform
