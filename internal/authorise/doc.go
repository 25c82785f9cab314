// Package authorise is the "Request and authorise" flow over the store:
// drafting a request, each transition of its life by a named person, the
// deadline sweeper, and who is told.
//
// internal/requests holds every rule (who may act, on what terms, and
// when an authorisation ends) as a pure state machine; internal/consent
// derives what authority a request needs. This package loads, calls them,
// and keeps the record straight:
//
//   - every transition is written to the oversight log first, and stored
//     only once its leaf is durable, with the leaf's index in the
//     request's history; if the log write fails nothing changes, and if
//     the store then refuses (another process changed the request), a
//     second leaf voids the first, so that the log and the central
//     record never disagree;
//   - transitions of this process are serialised, so a conflict needs two
//     processes;
//   - nobody sees a request they have no part in, and no subject ever
//     sees a request about them: [Service.Get] answers store.ErrNotFound
//     for both, so that a refusal tells nothing;
//   - notifications never reach a subject, or anyone in a subject's unit
//     (the notifier drops them).
//
// The leaves carry the request's id, reference, the transition, the new
// version and two hashes: written_sha256 (what the requester wrote, fixed
// at submission) and body_sha256 (the whole request after the transition,
// with that transition's oversight_index zero). They never carry subjects
// or reasons: administrators read the oversight log, and must not learn
// from it who is under investigation.
package authorise
