// Package relevanterror keeps the register of relevant errors (LEGAL.md
// §4): data processed outside an authorisation, or an authorisation found
// defective. Each must be reported to the oversight body "as soon as
// reasonably practicable and within 10 working days". A refused attempt
// is not a relevant error: lbm stopped it, and internal/review recorded
// it.
//
// # Working days
//
// A [Calendar] holds the England and Wales bank holidays of whole years,
// in gov.uk's bank-holidays.json format ([ParseCalendar],
// [FormatCalendar]). The years 2024 to 2028 are embedded
// ([DefaultCalendar]); the server reads DATA/bank-holidays.json instead
// when it exists. [Calendar.AddWorkingDays] counts working days in
// London: weekends and bank holidays are skipped, and the day the error
// was identified never counts. The deadline is the end of the 10th
// working day, held as the instant the next day begins in London, so an
// entry is overdue exactly when it is open and the time is not before its
// deadline. A day in a year the calendar does not cover is
// [ErrBeyondCalendar]: a deadline is never guessed.
//
// For example, an error identified at 16:00 on Friday 19 December 2025
// counts Monday 22 to Wednesday 24 December (3), skips Christmas Day and
// Boxing Day, counts 29 to 31 December (6), skips New Year's Day, and
// counts 2, 5, 6 and 7 January 2026 (10): it is due by the end of
// Wednesday 7 January, a deadline of 2026-01-08T00:00:00Z.
//
// # Entries
//
// An [Entry] is open, then reported, then closed, and never goes back:
// the whole table is in entry.go, and [Apply] is the one pure function
// that moves an entry on. A report records what was reported, to whom
// and when; closing needs an outcome. What was raised, the deadline
// included, never changes.
//
// # The service
//
// [Service] keeps the register over the store. Only oversight and
// administrators raise, read, report and close entries (everyone else
// gets [ErrForbidden]). Every step is written to the oversight log before
// it is stored, with the entry's id, reference, kind, request and
// deadline as metadata; the description, the report and the outcome can
// name people, so they go only as encrypted content.
//
// [Service.RaiseLapsed] raises a defective_authorisation itself (source
// "lbm") for each urgent authorisation that lapsed unratified with
// access records under it, once per request; the server runs it every
// few minutes ([Service.Run]).
package relevanterror
