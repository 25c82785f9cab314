// Package detect is lbm's rule engine: rules, written as YAML with [CEL]
// conditions, that look at the stream of events and raise alerts about
// activity that may be misconduct (a person looking up their own family,
// bulk lookups, a lookup followed by an e-mail out of the force).
//
// The package is pure: no I/O beyond the readers and file systems it is
// given, and no clock (time is the events' own). Running rules on ingest,
// reloading them, storing and triaging alerts, and pseudonymising the
// people alerts name are built elsewhere.
//
// # Rules
//
// A rule file is one YAML document, a mapping with the one key rules:
//
//	rules:
//	  - id: restricted-record-lookup          # a-z, 0-9 and -, unique
//	    title: Look-up of a restricted record
//	    description: >-
//	      Every look at a VIP or restricted record is checked.
//	    severity: high                        # low, medium, high or critical
//	    special_category: false               # required: true or false
//	    lists: [RESTRICTED_RECORDS]           # the reference lists it reads
//	    when: >-
//	      event.category == "record_query" && has(record.id) &&
//	      in_list("RESTRICTED_RECORDS", record.id)
//
//	  - id: bulk-record-lookups
//	    title: Bulk record look-ups
//	    description: More than 50 distinct records looked up by one person in 10 minutes.
//	    severity: medium
//	    special_category: false
//	    aggregate:
//	      when: event.category == "record_query" && has(record.id)
//	      by: user.id                         # the key counted per
//	      distinct: record.id                 # or count: true
//	      window: 10m
//	      over: 50                            # fires at 51
//
//	  - id: lookup-then-external-email
//	    title: A look-up, then an e-mail out of the force
//	    description: A record look-up, then within an hour an e-mail to an outside address.
//	    severity: high
//	    special_category: false
//	    sequence:
//	      by: user.id
//	      within: 1h
//	      steps:
//	        - event.category == "record_query"
//	        - >-
//	          event.category == "email" && has(email.to.address) &&
//	          email.to.address.exists(a, !a.endsWith("@police.example"))
//
// A rule has exactly one of when (one event), aggregate (a count, or a
// count of distinct values, of matching events per key within a sliding
// window, firing when it exceeds over) and sequence (steps matched by
// distinct events of one key, in time order, the last within the given
// time of the first). A by that gives a list makes each element a key:
// by: related.user counts an event once for each person it concerns. Durations are a whole number of seconds, minutes,
// hours or days: 30s, 10m, 1h, 7d.
//
// special_category is required. It must be true when the rule reads a
// reference list the detection catalogue (internal/policy) marks special
// category (vetting data about family, leave and sickness absence), and
// may be true for a rule that is special category for another reason (a
// condition over health-related events): it marks the rule and its alerts
// so that their use can be justified and reviewed.
//
// Parsing is strict, because rules decide who is flagged: unknown and
// repeated keys, anchors, aliases and merge keys are refused with their
// line, as is every condition that does not compile, has the wrong type,
// or reads a list the rule does not declare; limits are [MaxFileSize],
// [MaxRules], [MaxExpr], [MaxWindow], [MaxOver], [MaxSteps], [MaxLists].
//
// # What a condition sees
//
// A condition sees one event's metadata and nothing else. Content (the
// fields under "content.", which are sealed at rest) is never an input:
// rules must not read what a person wrote before an authorisation does.
// Events that match a configured confidential channel or marker
// (internal/confidential) are not inputs either: the engine skips them.
//
// The variables are:
//
//   - one map per top-level ECS field set (event, user, related, host,
//     source, destination, email, url, file, process, network, http, …)
//     and lbm's own (record, telephony, printer, lbm), holding the event's
//     metadata fields under it, nested by their dotted names:
//     event.category, event.action, user.id, email.to.address,
//     record.results. Values are strings, integers, doubles, bools or
//     lists of those. related.user is always a list. source.id is the
//     source the event came from. Every map is present, possibly empty;
//     a field the event does not have is absent, and selecting it is an
//     error, so test for it with has(): has(record.id) && …;
//   - fields, the same metadata as one flat map by dotted name, for names
//     outside those field sets: fields["tags"], fields["package.name"];
//   - time, the event's @timestamp as a CEL timestamp:
//     time.getHours("Europe/London") < 6.
//
// A condition whose evaluation fails (a missing field, a value of an
// unexpected type, exceeding [MaxCost]) does not match; the engine counts
// such failures per rule ([RuleStats]) so that a rule's author sees them.
//
// Reference lists are read through one function, with the list's id in
// the detection catalogue as a literal string:
//
//	in_list("RESTRICTED_RECORDS", record.id)        // a plain list: is the value in it?
//	in_list("VETTED_FAMILY", user.id, related.user) // a keyed list: is it among the key's values?
//
// A value (or key) that is a list matches if any element does; numbers
// are compared as their decimal text. Three more functions read lists:
//
//	on_date("LEAVE_ABSENCE", user.id, time) // the event's London date is one of the key's dates
//	after_date("LEAVERS", user.id, time)    // it is after one of them
//	values("STAFF_UNIT", user.id)           // the key's values, as a list
//
// A dated list's values are dates (2026-11-02) or inclusive ranges
// (2026-11-02/2026-11-06); [Compile] refuses any other. Dates are
// London's, because leave and last days are: 23:30 UTC on 31 May is 1
// June. A rule may read only lists named in its lists key, and must read
// every list it names. The lists themselves are given when rules are
// compiled ([Lists], [ReadLists], [DirectoryLists] for those lbm derives
// from its staff directory); see [ParseList] for their file format.
//
// CEL's string extension is available (upperAscii, lowerAscii,
// startsWith, …), and domains(x) gives the lower-cased domains of an
// address or a list of them.
//
// # Alerts
//
// [Engine.Observe] takes events in time order and returns the alerts they
// fire. An alert names its rule, severity, key (the value of by, or for a
// when rule the event's user.id), subject (the user.id of the event that
// fired it), the time of that event, the events that made it fire and a
// sentence saying why:
//
//	51 distinct record.id by user.id within 10m (over 50)
//
// The sentence names the field counted by, never its value: alerts are
// shown with a pseudonym in place of the key, the person revealed only
// under an authorisation, and that is done where alerts are stored and
// shown, not here.
//
// # Cost
//
// Each event is turned into CEL variables once, lazily, for all rules. A
// rule whose conditions require particular event.category values is not
// evaluated on events of other categories (see categories, in
// prefilter.go, for why that changes nothing but time), and a condition
// whose worst-case CEL cost is within [MaxCost] runs without the cost
// tracker.
//
// An aggregate rule that fires starts again from nothing for that key, and
// a completed sequence is consumed, so that a burst raises one alert, not
// one per event.
//
// # Memory
//
// State is kept only for keys with matching events in the last two
// windows: each rule sweeps out keys whose entries have all left the window
// at least once per window of event time. Within a key, a count keeps at
// most over+1 entries, a distinct count at most 2(over+1)+16 (repeated
// values leave entries behind until compacted), and a sequence at most
// one partial match per step, each of at most MaxSteps event ids. So a
// rule's memory is at most about (keys active in two windows) × (over+1)
// entries of some 40 bytes.
//
// [CEL]: https://cel.dev
package detect
