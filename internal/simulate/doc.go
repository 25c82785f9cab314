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
//	                niche_record_view, niche_person_search,         record.results, record.id, record.case,
//	                pnd_search, niche_export                        and of a person record.surname, record.role,
//	                                                                record.uprn, record.postcode, record.phone,
//	                                                                record.email; content.query
//	email           send, receive                                   email.from.address, email.to.address (array),
//	                                                                email.message_id, email.attachments.file.*
//	                                                                (arrays); content.subject, content.body
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
// about 2 seconds on one core.
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
//
// # What record systems log
//
// A look-up names the record viewed (record.id: "NOM/0123456789" for a
// person, "VRM/AB12CDE" for a vehicle, the occurrence for a Niche record)
// and, as most are, the case it is linked to (record.case); a victim's or
// witness's record nearly always is. A record about a person carries the
// surname in capitals, their role and their address (a UPRN, and a
// postcode in made-up areas starting with Z), and a victim's or witness's
// a phone number from Ofcom's drama ranges and perhaps an e-mail address.
// About 1% are VIP or restricted records (RESTRICTED_RECORDS), opened for
// their case. E-mail to colleagues and partner agencies sometimes has
// attachments; e-mail to a personal mailbox never does.
//
// People take leave (a quarter of them three to seven days in each eight
// weeks, counted from 1970 like the rota) and a few leave the force; they
// do not work then. The intelligence analysts often spend an hour or two
// of a shift on bulk look-ups for an operation, linked to it, and export
// the results.
//
// # Scenarios
//
// At Config.Misconduct (one per 200 people per 30 days by default) the
// generator plants misconduct scenarios, one person each: looking up
// oneself, one's family, a neighbour or a colleague; a restricted record
// with no case; bulk look-ups or an export with no case; repeated refused
// look-ups; a days-only worker busy in the small hours; activity on leave
// or after leaving; attachments to one's own webmail; a victim found
// through the systems, then called or e-mailed. At Config.NearMisses it
// plants harmless look-alikes: a namesake at another address, a victim
// called back about their case, a restricted record for its case, mail to
// oneself with no attachment, mail read on leave, a colleague or
// neighbour looked up for a case. Scenario events are rendered like any
// other and carry nothing that marks them: [Labels] says which they are,
// apart, and [Lists] gives the reference lists (HR, vetting, security)
// that go with the force, and [People] the directory (units, working
// patterns, leaving dates). A small force over a short window has no
// scenario at the default rates, so its output depends only on the rota.
//
// # The oversight log
//
// [Oversight] writes what lbm's own oversight log would hold of the same
// force's monitors over the window, as the detector presents it to the
// built-in pack's oversight rules: lbm's records (event.category
// "configuration", lbm.break_glass false, lbm.request and the fields
// the authorise and review services write) with related.user, the
// subjects of the request a record is about, which the detector adds
// from the request store. A few of Professional Standards' constables to
// inspectors are the anti-corruption team; its chief inspectors and
// superintendents authorise (a force too small to have any borrows its
// senior officers). Everyone acts only on shift. The routine work, one
// request per 100 people per 30 days, is about people in other units:
// created, submitted, decided (about one in eight refused, never twice
// about one person) and, once in force, looked into with review_query
// and now and then review_export. At a third of Config.Misconduct's rate
// it plants scenarios (a refused look, a look into someone of one's own
// unit, three or more refusals about one person within 31 days) and at
// a sixteenth of Config.NearMisses's rate their look-alikes (two
// refusals about one person, three about three people, a look into a
// namesake in another unit, refusals more than 31 days apart).
// [OversightLabels] says which are scenarios. The oversight log draws
// from a random stream of its own, so writing it changes nothing of the
// activity.
package simulate
