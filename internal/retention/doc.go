// Package retention deletes monitoring data when its category's retention
// period ends, keeps what a legal hold needs, and leaves the logs
// verifiable.
//
// # What is due
//
// Each data category (internal/policy) keeps metadata for
// RetentionMonths and content for ContentRetentionMonths, counted from the
// end of the calendar month (UTC) an event is in: data keys are per
// subject, category and month (keys.CategoryPeriod), so a month is the
// unit a key can be destroyed in. An event of 3 October 2025 in a
// 12-month category is due on 1 November 2026.
//
// # Holds
//
// Nothing of a person is deleted while they are held (Holds): the
// subject of a request awaiting a decision (an open case) or of an
// authorisation in force, or of one that ended within HoldAfterClose;
// the subject of an alert not yet dismissed or closed; anyone with a
// subject access request not yet answered; anyone the DPO has placed a
// hold on. An event is held when its subject or anyone it names in
// related.user is held. Holds name people and never reach the output of
// a plan or run, which counts them by kind only: who is held is itself
// what tipping off would reveal.
//
// # A run
//
// Run pages through each due month of each category, in (time, index)
// order, in batches. For each batch it writes a deletion record to the
// oversight log first (counts, the index range and the data key ids,
// never content), then deletes in one store transaction, which also notes
// the data keys the batch freed. Keys are destroyed after: a key is
// destroyed once no entry, in any log, holds content under it; the
// subject's month key, which blinds search terms, once none of their
// content of that month is left. A month's step is marked done at its
// end, with how many entries holds kept; a mark with none kept is not
// looked at again. Every step can be repeated, so a run stopped at any
// point and started again ends where an uninterrupted run would.
// Finally the store scrubs what it deleted from its files (store.Scrub).
package retention
