// Package simulate generates realistic synthetic activity for a police force:
// the NDJSON that lbm would receive from the systems its staff use. It exists
// so that benchmarks, demos and tests can run on data shaped like the real
// thing — the same field names, the same mix of categories, content where
// content belongs — without anyone's real activity being involved.
//
// # The model
//
// A force of [Config.People] staff is drawn from Seed: ids "u00001",
// "u00002", …, names from short lists, a unit ("Response Team 3", "CID
// Northern", "Custody", "Control Room", "Professional Standards", …), a Met
// rank in snake_case (mostly constable), a usual workstation "ws-NNNN" and a
// personal activity rate. [People] returns that directory.
//
// Everyone works four days on, four off, each person's cycle offset so that
// about half the force is on duty on any day. A block of four is all early
// (07:00-15:00 UTC), late (15:00-23:00) or night (23:00-07:00) shifts; teams
// that cover round the clock (response, custody, control room) rotate through
// all three, the rest work days. The rota counts days from 1970-01-01, not
// from Start, so a person's rota is the same in every window.
//
// Events happen only while a person is on shift: a logon (category
// "authentication") within minutes of the start, sometimes after a failed
// attempt, a logoff near the end, and between them the person's work at a
// natural 40-120 events a shift (or exactly [Config.EventsPerPersonDay]).
// The mix depends on the unit — the control room is mostly on the phone,
// response officers query the PNC, CID writes files and e-mail:
//
//	category        actions                                         fields
//	authentication  logon, logoff                                   winlog.*
//	record_query    pnc_person_search, pnc_vehicle_search,          record.system, record.type, record.reason,
//	                niche_record_view, niche_person_search,         record.results; content.query
//	                pnd_search
//	email           send, receive                                   email.from.address, email.to.address (array),
//	                                                                email.message_id; content.subject, content.body
//	web             browse                                          url.domain, url.path, http.response.status_code
//	file            open, write, print                              file.name, file.path, printer.* for print
//	device          usb_insert                                      device.vendor, device.model
//	telephony       call                                            telephony.direction, telephony.duration_s
//
// A small share of events fail (event.outcome "failure", with event.reason):
// a mistyped password, a restricted record, a blocked site or USB stick, an
// unanswered call. Other staff in an event (an internal e-mail's counterparts,
// the colleague on a call) are listed in related.user.
//
// Every line has "@timestamp" (UTC, milliseconds), event.id
// ("sim-<seed>-<n>", n counting lines from 1), event.category, event.action,
// event.outcome, event.dataset (the system that logged it), user.id,
// user.name and host.name (the person's usual workstation), and never
// "source.id", which lbm's server sets. Content — what was searched for,
// what an e-mail said — is only ever under the top-level "content" object,
// because that is what lbm encrypts and withholds from metadata-only scopes;
// metadata that mentions people (a file name, say) is realistic and
// deliberate. Most fields are nested objects, but web, device and telephony
// fields are written dotted ("url.domain": …) so consumers meet both forms
// that lbm accepts. The mean line is about 512 bytes.
//
// Lines are sorted by @timestamp. The same Config always gives the same
// bytes: randomness comes only from math/rand/v2 PCG streams derived from
// Seed. Each shift is scheduled, and each event rendered, from a stream of its
// own, so a day's events are the same (but for event.id) whether the window
// is that day alone or a week around it. Generating a million events takes
// about 1.3 seconds on one core.
//
// Addresses, phone numbers and registrations are made up: e-mail domains end
// in .example and phone numbers are from Ofcom's ranges for drama.
//
// # Example
//
//	n, err := simulate.Generate(os.Stdout, simulate.Config{People: 50, Days: 2, Seed: 7})
//
// writes lines such as
//
//	{"@timestamp":"2026-11-02T00:05:55.449Z","event":{"id":"sim-7-10","category":"record_query",
//	 "action":"pnc_vehicle_search","outcome":"success","dataset":"pnc.audit"},
//	 "user":{"id":"u00017","name":"Samuel Clarke","domain":"FORCE"},"host":{"name":"ws-2033","ip":"10.25.45.53"},
//	 "ecs":{"version":"8.11.0"},"record":{"system":"PNC","type":"vehicle","reason":"vehicle_stop","results":1},
//	 "content":{"query":"JY24 KKH"}}
//
// (one line in the output, wrapped here): Samuel Clarke, a constable in the
// control room, is on a night shift that began at 23:00 the evening before
// the window opened.
//
// For in-process benchmarks, [Events] returns the same lines as byte slices.
package simulate
