// Package policy holds the catalogues lbm's monitoring policy is built
// from: the lawful purposes for monitoring, the register of other law a
// policy cites, and the questions of the proportionality test. They are
// data, not code: the facts come from LEGAL.md, ship as YAML files embedded
// in the binary (catalogue/*.yaml), and a force's legal adviser can check
// and correct them without a programmer.
//
// lbm gives no legal advice. The catalogues name the law a decision rests
// on and explain it in a sentence or three; the decision, and the record of
// who made it and why, belong to the people using lbm.
//
// # Purposes
//
// A system controller (here, the force) may monitor communications on its
// own systems without a warrant only for the purposes listed in the
// Investigatory Powers (Interception by Businesses etc. for Monitoring and
// Record-keeping Purposes) Regulations 2018 (SI 2018/356) reg 3, made under
// the Investigatory Powers Act 2016 s.46 (LEGAL.md §1). Every
// live-monitoring authorisation names the [Purpose] it relies on (or a
// warrant), so each has an id that records keep: PREVENT_DETECT_CRIME,
// UNAUTHORISED_USE and so on.
//
// Some purposes carry limits, which the rest of lbm enforces:
//
//   - [Purpose.MonitorOnly]: RELEVANCE_CHECK (reg 3(3)) and
//     CONFIDENTIAL_HELPLINE (reg 3(4)) allow monitoring, never recording.
//   - [Purpose.RestrictedTo]: NATIONAL_SECURITY may be relied on only by the
//     bodies listed in the Investigatory Powers Act 2016 s.18(1).
//
// # The notice condition
//
// The purposes are not enough on their own. Reg 3(1) and reg 4 also
// require that the monitoring is done by or with the express consent of
// the system controller, solely for communications relevant to its
// activities on a system provided for them, and that the controller "has
// made all reasonable efforts to inform every person who may use the
// system" that communications may be intercepted. lbm's monitoring notices
// and the acknowledgement records people make of them are the evidence of
// that last condition; the register entry SI_2018_356 says so where people
// read it.
//
// # Legislation and proportionality
//
// The register ([Law], LEGAL.md §2) lists the other law a monitoring
// policy cites: the Data Protection Act 2018 (s.62's logging duty, which
// lbm's access log fulfils; the s.170 offence; Part 3 and the UK GDPR),
// Article 8, the Computer Misuse Act, RIPA Part II, the police conduct and
// misconduct regulations, whistleblowing protection and misconduct in
// public office.
//
// Monitoring that interferes with private life and correspondence must be
// proportionate. The [Criterion] list is the test of Bărbulescu v Romania
// (ECtHR Grand Chamber 2017, §121–122, LEGAL.md §3): notice, extent,
// legitimate reason, less intrusive means, consequences, safeguards and
// remedy. Every request answers each question and every authoriser records
// a view on each.
//
// # Data categories and detection inputs
//
// Two more lists say what the monitoring notice must tell staff. The data
// categories ([DataCategory], catalogue/categories.yaml) are the kinds of
// activity lbm records, one per event.category value (email, web,
// record_query, file, device, authentication, telephony): what is
// recorded as metadata, what counts as content (stored encrypted, and
// read only under an authorisation that covers content), and how long
// each is kept: the retention schedule. The embedded periods are the
// project's defaults, 12 months for routine activity and 6 for e-mail
// content. The file is the fourth of the catalogue ([Files]), so
// administrators change the schedule under the same dual control as the
// purposes; a change may not drop a category ([Categories.Dropped]).
//
// The detection inputs ([DetectionInput], catalogue/detection.yaml) are
// the reference lists detection rules may compare activity with: VIP and
// restricted records, each person's own surname and address, family
// declared in vetting, leave and absence. Vetting data about family and
// sickness absence are sensitive (LEGAL.md §5), so those lists carry
// special_category: true; a rule using them needs a DPIA reference, and
// the notice names them. The flag is required in the file, so that no list
// passes as ordinary because someone forgot it.
//
// [ParseCategories] and [ParseDetection] are as strict as
// [ParseCatalogue], and [DefaultCategories] and [DefaultDetection] return
// the embedded files.
//
// # Verify
//
// Where LEGAL.md marks a fact "(verify)", the item carries verify: true
// ([Purpose.Verify], [Law.Verify]): the reference has not yet been checked
// against the legislation (for most purposes, the letter of the paragraph
// of reg 3(2)). Anything that shows an item must show the flag, so that
// nobody mistakes an unchecked reference for a checked one. Only the
// force's legal adviser should clear it, by editing the file.
//
// # Files
//
// [Files.Parse] reads the four files ([ParseCatalogue] the first three,
// [ParseCategories] the fourth) and refuses anything doubtful:
// an unknown key, a missing or over-long field, a duplicate id, hidden
// characters. It is strict because these files say what the law allows,
// and a typo (monitor_onyl: true) must not silently turn a limit off. An
// entry of purposes.yaml looks like this:
//
//	purposes:
//	  - id: RELEVANCE_CHECK
//	    title: Check whether communications are business
//	    explanation: >-
//	      Monitoring to check whether communications are relevant to the
//	      force's business. This purpose allows monitoring only: nothing
//	      may be recorded under it.
//	    reference: SI 2018/356 reg 3(3)
//	    verify: true
//	    monitor_only: true
//
// and a program uses the catalogue like this:
//
//	c := policy.Default()
//	p, ok := c.Purpose("RELEVANCE_CHECK")
//	if ok && p.MonitorOnly {
//		// offer monitoring, never recording
//	}
//
// [Default] returns the embedded catalogue; a test checks its ids, limits
// and verify flags against LEGAL.md, so a change to the data that drifts
// from LEGAL.md fails the build.
package policy
