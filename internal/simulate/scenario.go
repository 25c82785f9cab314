package simulate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ---- what the force knows of each person ----

// address is a home address as the record systems hold it: a UPRN (the
// property's unique reference) and a postcode.
type address struct{ uprn, postcode string }

// relative is a family member or associate declared in vetting.
type relative struct {
	nominal, surname string
	home             address
}

// dayRange is an inclusive range of days counted from 1970-01-01.
type dayRange struct{ from, to int64 }

// Postcodes are in made-up areas (no UK postcode area starts with Z) so
// that none is a real address; there are some 400,000 of them, as in a
// large force's area.
var postcodeAreas = []string{"ZA", "ZB", "ZC", "ZD"}

const postcodeLetters = "ABDEFGHJLNPQRSTUWXYZ" // the letters a postcode's unit uses

func randomAddress(r *rand.Rand) address {
	pc := fmt.Sprintf("%s%d %d%c%c", postcodeAreas[r.IntN(len(postcodeAreas))], 1+r.IntN(25), r.IntN(10),
		postcodeLetters[r.IntN(len(postcodeLetters))], postcodeLetters[r.IntN(len(postcodeLetters))])
	return address{uprn: strconv.FormatInt(100_000_000_000+r.Int64N(900_000_000_000), 10), postcode: pc}
}

// nominalID is the id of a record about a person: ten digits, so that two
// people drawn at random almost never share one.
func nominalID(x uint64) string { return fmt.Sprintf("NOM/%010d", x%10_000_000_000) }

// nRestricted is how many records are VIP or restricted.
const nRestricted = 200

// restrictedRecord returns the i'th restricted record of the force.
func restrictedRecord(seed int64, i int) string {
	return nominalID(mix(uint64(seed)^0x7265737472696374, uint64(i))) // "restrict"
}

// Ofcom's numbers for drama: a member of the public's phone is one of
// these, so that no real line is named.
var dramaRanges = []string{
	"07700 900", "0113 496 0", "0114 496 0", "0115 496 0", "0116 496 0", "0117 496 0", "0118 496 0",
	"0121 496 0", "0131 496 0", "0141 496 0", "0151 496 0", "0161 496 0", "0191 498 0", "020 7946 0",
	"029 2018 0", "01632 960",
}

func publicPhone(r *rand.Rand) string {
	return dramaRanges[r.IntN(len(dramaRanges))] + fmt.Sprintf("%03d", r.IntN(1000))
}

func publicEmail(r *rand.Rand, first, last string) string {
	return fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), 1950+r.IntN(60), webmailDomains[r.IntN(len(webmailDomains))])
}

// private draws what HR and vetting know of p: their home, their record,
// their family, their personal mailbox.
func (p *person) private(r *rand.Rand) {
	p.home = randomAddress(r)
	p.nominal = nominalID(r.Uint64())
	p.webmail = fmt.Sprintf("%s.%s.%d@webmail.example", strings.ToLower(p.first), strings.ToLower(p.last), 1960+r.IntN(45))
	for range 2 + r.IntN(3) {
		rel := relative{nominal: nominalID(r.Uint64()), surname: p.last, home: randomAddress(r)}
		if r.IntN(100) < 35 {
			rel.surname = lastNames[r.IntN(len(lastNames))] // married, or an associate
		}
		p.family = append(p.family, rel)
	}
}

// Everyone takes leave: in each block of eight weeks, counted from
// 1970-01-01 like the rota, a quarter of people take three to seven days.
const leaveBlock = 56

func (p *person) naturalLeave(block int64) (dayRange, bool) {
	r := rand.New(rand.NewPCG(mix(p.seed, uint64(block)), streamPrivate))
	if r.IntN(100) >= 25 {
		return dayRange{}, false
	}
	from := block*leaveBlock + r.Int64N(leaveBlock-7)
	return dayRange{from, from + 2 + r.Int64N(5)}, true
}

// away reports whether p is not working on day: on leave, or gone.
func (p *person) away(day int64) bool {
	if p.leftDay != 0 && day > p.leftDay {
		return true
	}
	for _, l := range p.leave {
		if l.from <= day && day <= l.to {
			return true
		}
	}
	l, ok := p.naturalLeave(floorDiv(day, leaveBlock))
	return ok && l.from <= day && day <= l.to
}

// offDuty reports whether p does not work the shift s beginning on day: a
// night shift ends on the next day, which must not be one p is away.
func (p *person) offDuty(day int64, s shift) bool {
	return p.away(day) || s == night && p.away(day+1)
}

// batch renders an analyst's look-up for an operation, or its export.
func (g *gen) batch(p *person, s slot) header {
	op := mix(p.seed, uint64(s.day)^0x6f70)
	ref := fmt.Sprintf("OP/%d/%04d", g.year, op%10000)
	c := g.newCase(p)
	if s.kind == kindBatchExport {
		return g.writeLookup(lookup{action: "niche_export", system: "Niche", typ: "nominal", reason: "intelligence",
			results: 100 + g.r.IntN(2000), caseRef: ref}, []byte(ref))
	}
	a := randomAddress(g.r)
	l := lookup{action: "niche_person_search", system: "Niche", typ: "nominal", reason: "intelligence", results: g.r.IntN(3),
		id: nominalID(g.r.Uint64()), caseRef: ref, surname: strings.ToUpper(c.suspectLast), role: "associate", uprn: a.uprn, postcode: a.postcode}
	return g.writeLookup(l, c.appendSuspectQuery(g.text[:0], true))
}

// ---- scenarios ----

// A Label says that one person's activity over a span of time is a
// misconduct scenario, and which rules of the built-in pack
// (internal/detect/pack) should catch it. Labels are written apart from
// the events, which carry nothing that marks a scenario.
type Label struct {
	Kind  string    `json:"kind"`
	Rules []string  `json:"rules"`
	User  string    `json:"user"`
	Start time.Time `json:"start"` // the scenario's first event
	End   time.Time `json:"end"`   // and its last
}

// The kinds of misconduct scenario, each with the rules that should
// catch it.
var misconduct = []struct{ kind, rule string }{
	{"self-lookup", "self-lookup"},
	{"family-lookup", "family-lookup"},
	{"neighbour-lookup", "neighbour-lookup"},
	{"colleague-lookup", "colleague-lookup"},
	{"restricted-record", "restricted-record-no-case"},
	{"bulk-lookups", "bulk-record-lookups"},
	{"bulk-export", "bulk-export"},
	{"repeated-denied", "repeated-denied-access"},
	{"out-of-hours", "out-of-hours"},
	{"on-leave", "activity-on-leave"},
	{"after-leaving", "activity-after-leaving"},
	{"webmail-forward", "webmail-attachments"},
	{"victim-contact", "victim-contact"},
}

// The kinds of near-miss: activity that looks like misconduct at a
// glance, and is not.
var nearMisses = []string{
	"namesake", "victim-callback", "restricted-with-case", "own-mail-no-attachment",
	"mail-on-leave", "colleague-with-case", "neighbour-with-case",
}

// injection is one event of a scenario.
type injection struct {
	ms     int64
	person int32
	render func(g *gen, p *person) header
}

type plan struct {
	injections []injection
	labels     []Label
}

// planner places scenarios in the window.
type planner struct {
	cfg      Config
	people   []person
	r        *rand.Rand
	used     []bool
	winStart int64 // ms
	winEnd   int64
	plan
}

// planScenarios chooses the window's leavers, misconduct scenarios and
// near-misses, each of a different person, and sets their leave and
// leaving dates in people. It depends only on cfg and people.
func planScenarios(cfg Config, people []person) *plan {
	pl := &planner{cfg: cfg, people: people, r: rand.New(rand.NewPCG(uint64(cfg.Seed), streamScenarios)),
		used: make([]bool, len(people)), winStart: cfg.Start.UnixMilli()}
	pl.winEnd = pl.winStart + int64(cfg.Days)*msPerDay
	personDays := len(people) * cfg.Days
	// About 0.6% of staff leave each month; their accounts fall silent.
	for range personDays / 5000 {
		if i, ok := pl.pick(func(*person) bool { return true }); ok {
			people[i].leftDay = pl.day(0, cfg.Days)
		}
	}
	if cfg.Misconduct > 0 {
		n := (personDays + 15*cfg.Misconduct) / (30 * cfg.Misconduct)
		off := pl.r.IntN(len(misconduct))
		for i := range n {
			pl.misconduct(misconduct[(i+off)%len(misconduct)].kind, misconduct[(i+off)%len(misconduct)].rule)
		}
	}
	if cfg.NearMisses > 0 {
		n := (personDays + 15*cfg.NearMisses) / (30 * cfg.NearMisses)
		off := pl.r.IntN(len(nearMisses))
		for i := range n {
			pl.nearMiss(nearMisses[(i+off)%len(nearMisses)])
		}
	}
	for i := range people {
		if d := people[i].leftDay; d != 0 {
			people[i].LeftAt = time.UnixMilli(d*msPerDay + 12*msPerHour).UTC()
		}
	}
	return &pl.plan
}

// day returns a day of the window, counted from 1970-01-01, between the
// from'th and the to'th (exclusive) of the window's days.
func (pl *planner) day(from, to int) int64 {
	return floorDiv(pl.winStart, msPerDay) + int64(from+pl.r.IntN(max(1, to-from)))
}

// pick returns a person no scenario has used yet for whom ok holds.
func (pl *planner) pick(ok func(*person) bool) (int, bool) {
	for range 1000 {
		i := pl.r.IntN(len(pl.people))
		if !pl.used[i] && pl.people[i].leftDay == 0 && ok(&pl.people[i]) {
			pl.used[i] = true
			return i, true
		}
	}
	return 0, false
}

// onShift returns a time in the window, at least after, at which p is at
// work with at least room to spare before the shift ends.
func (pl *planner) onShift(p *person, after, room int64) (int64, bool) {
	firstDay := max(floorDiv(pl.winStart, msPerDay), floorDiv(after, msPerDay))
	lastDay := floorDiv(pl.winEnd-1, msPerDay)
	if lastDay < firstDay {
		return 0, false
	}
	days := lastDay - firstDay + 1
	start := pl.r.Int64N(days)
	for k := range days {
		// From a random day, round to the first: any shift will do.
		d := firstDay + (start+k)%days
		s, on := p.shiftOn(d)
		if !on || p.offDuty(d, s) {
			continue
		}
		from := d*msPerDay + shiftStartHour[s]*msPerHour + 20*msPerMinute
		to := from + shiftLength - 40*msPerMinute - room
		from = max(from, after)
		if to > from && to+room < pl.winEnd && from >= pl.winStart {
			return from + pl.r.Int64N(to-from), true
		}
	}
	return 0, false
}

// scenario collects one scenario's events.
type scenario struct {
	pl     *planner
	person int32
	times  []int64
}

func (sc *scenario) add(ms int64, render func(g *gen, p *person) header) {
	sc.pl.injections = append(sc.pl.injections, injection{ms: ms, person: sc.person, render: render})
	sc.times = append(sc.times, ms)
}

func (pl *planner) label(sc *scenario, kind, rule string) {
	if len(sc.times) == 0 {
		return
	}
	pl.labels = append(pl.labels, Label{Kind: kind, Rules: []string{rule}, User: pl.people[sc.person].ID,
		Start: time.UnixMilli(slices.Min(sc.times)).UTC(), End: time.UnixMilli(slices.Max(sc.times)).UTC()})
}

// lookupAt renders a person look-up of l, its query the surname as typed.
func lookupAt(l lookup) func(g *gen, p *person) header {
	return func(g *gen, p *person) header {
		if l.action == "" {
			l.action, l.system, l.typ = "pnc_person_search", "PNC", "person"
			if g.pct(40) {
				l.action, l.system, l.typ = "niche_person_search", "Niche", "nominal"
			}
		}
		if l.reason == "" {
			l.reason = g.pick(recordReasons)
		}
		if l.typ == "" {
			l.typ = "nominal"
		}
		q := g.text[:0]
		if l.surname != "" {
			q = appendUpper(q, l.surname)
			c := g.newCase(p)
			q = append(q, ' ')
			q = appendUpper(q, c.suspectFirst)
		} else {
			q = append(q, l.caseRef...)
		}
		g.text = q
		return g.writeLookup(l, q)
	}
}

func logon(g *gen, p *person) header  { return g.authentication(p, kindLogon) }
func logoff(g *gen, p *person) header { return g.authentication(p, kindLogoff) }

// activity is whatever p's unit usually does, but for e-mail.
func activity(g *gen, p *person) header {
	switch g.r.IntN(3) {
	case 0:
		return g.file(p)
	case 1:
		return g.telephony(p)
	}
	return g.recordQuery(p)
}

func callTo(number string) func(g *gen, p *person) header {
	return func(g *gen, p *person) header {
		w := &g.tail
		w.str("telephony.direction", "outbound")
		w.int("telephony.duration_s", int64(30+g.r.IntN(900)))
		w.str("telephony.number", number)
		w.str("telephony.extension", p.ext)
		return header{category: "telephony", action: "call", dataset: "cucm.cdr"}
	}
}

func mailTo(to string, attachments int) func(g *gen, p *person) header {
	return func(g *gen, p *person) header {
		c := g.newCase(p)
		w := &g.tail
		w.open("email")
		w.str("direction", "outbound")
		w.open("from")
		w.str("address", p.email)
		w.close()
		w.open("to")
		w.strs("address", []string{to})
		w.close()
		if attachments > 0 {
			g.writeAttachments(attachments)
		}
		w.key("message_id")
		w.b = append(w.b, '"', '<')
		w.b = appendHex(w.b, g.r.Uint64())
		w.b = append(w.b, '@')
		w.b = append(w.b, InternalDomain...)
		w.b = append(w.b, '>', '"')
		w.close()
		w.open("content")
		g.text = c.subject(g.text[:0])
		w.strb("subject", g.text)
		g.text = c.body(g.text[:0])
		w.strb("body", g.text)
		w.close()
		return header{category: "email", action: "send", dataset: "exchange.message_tracking"}
	}
}

// session adds a logon, n events spread over span from at, and a logoff.
func (sc *scenario) session(at, span int64, n int, ev func(g *gen, p *person) header) {
	sc.add(at, logon)
	for range n {
		sc.add(at+1+sc.pl.r.Int64N(span), ev)
	}
	sc.add(at+span+1+sc.pl.r.Int64N(5*msPerMinute), logoff)
}

func occRef(r *rand.Rand, year int) string {
	return fmt.Sprintf("%02d/%06d", year%100, r.IntN(1_000_000))
}

func (pl *planner) year(ms int64) int { return time.UnixMilli(ms).UTC().Year() }

// misconduct plans one scenario of kind, labelled for rule.
func (pl *planner) misconduct(kind, rule string) {
	r := pl.r
	i, ok := pl.pick(func(p *person) bool { return kind != "out-of-hours" || p.Pattern == "days" })
	if !ok {
		return
	}
	p := &pl.people[i]
	sc := &scenario{pl: pl, person: int32(i)}
	at, ok := pl.onShift(p, pl.winStart, 2*msPerHour)
	if !ok && kind != "out-of-hours" && kind != "on-leave" && kind != "after-leaving" {
		return
	}
	surname := func() string { return strings.ToUpper(lastNames[r.IntN(len(lastNames))]) }
	switch kind {
	case "self-lookup":
		for k := range 1 + r.IntN(2) {
			sc.add(at+int64(k)*r.Int64N(20*msPerMinute), lookupAt(lookup{id: p.nominal, surname: strings.ToUpper(p.last), role: "associate",
				uprn: p.home.uprn, postcode: p.home.postcode, results: 1}))
		}
	case "family-lookup":
		rel := p.family[r.IntN(len(p.family))]
		for k := range 1 + r.IntN(3) {
			l := lookup{surname: strings.ToUpper(rel.surname), role: "associate", uprn: rel.home.uprn, postcode: rel.home.postcode, results: 1,
				id: nominalID(r.Uint64())}
			if k == 0 || r.IntN(2) == 0 {
				l.id = rel.nominal
			}
			sc.add(at+int64(k)*r.Int64N(30*msPerMinute), lookupAt(l))
		}
	case "neighbour-lookup":
		for k := range 1 + r.IntN(2) {
			name := surname()
			for name == strings.ToUpper(p.last) {
				name = surname()
			}
			a := randomAddress(r)
			sc.add(at+int64(k)*r.Int64N(20*msPerMinute), lookupAt(lookup{id: nominalID(r.Uint64()), surname: name, role: "associate",
				uprn: a.uprn, postcode: p.home.postcode, results: 1}))
		}
	case "colleague-lookup":
		q := &pl.people[r.IntN(len(pl.people))]
		if q == p {
			return
		}
		for k := range 1 + r.IntN(3) {
			sc.add(at+int64(k)*r.Int64N(20*msPerMinute), lookupAt(lookup{id: q.nominal, surname: strings.ToUpper(q.last), role: "associate",
				uprn: q.home.uprn, postcode: q.home.postcode, results: 1}))
		}
	case "restricted-record":
		for k := range 1 + r.IntN(2) {
			l := lookup{id: restrictedRecord(pl.cfg.Seed, r.IntN(nRestricted)), surname: surname(), role: "associate", results: 1}
			if r.IntN(2) == 0 {
				l.failed, l.failReason, l.results = true, "access denied: restricted record", 0
			}
			sc.add(at+int64(k)*r.Int64N(20*msPerMinute), lookupAt(l))
		}
	case "bulk-lookups":
		span := 30*msPerMinute + r.Int64N(20*msPerMinute)
		for range 40 + r.IntN(80) {
			a := randomAddress(r)
			sc.add(at+r.Int64N(span), lookupAt(lookup{id: nominalID(r.Uint64()), surname: surname(), role: "associate",
				uprn: a.uprn, postcode: a.postcode, results: 1}))
		}
	case "bulk-export":
		sc.add(at, lookupAt(lookup{action: "niche_export", system: "Niche", typ: "nominal", reason: "intelligence", results: 500 + r.IntN(4500)}))
	case "repeated-denied":
		for range 5 + r.IntN(4) {
			sc.add(at+r.Int64N(40*msPerMinute), lookupAt(lookup{id: nominalID(r.Uint64()), surname: surname(), role: "associate",
				failed: true, failReason: "access denied"}))
		}
	case "out-of-hours":
		// In the small hours of a day off, or between two day shifts.
		day := pl.day(0, pl.cfg.Days)
		at := day*msPerDay + 30*msPerMinute + r.Int64N(3*msPerHour)
		if at+2*msPerHour >= pl.winEnd || at < pl.winStart || p.away(day) {
			return
		}
		sc.session(at, 20*msPerMinute+r.Int64N(40*msPerMinute), 4+r.IntN(9), activity)
	case "on-leave":
		if pl.cfg.Days < 3 {
			return
		}
		from := pl.day(0, pl.cfg.Days-2)
		to := min(from+2+r.Int64N(5), floorDiv(pl.winEnd-1, msPerDay))
		p.leave = append(p.leave, dayRange{from, to})
		day := from + r.Int64N(to-from+1)
		// Midday in London whatever the season.
		sc.session(day*msPerDay+10*msPerHour+r.Int64N(4*msPerHour), 30*msPerMinute+r.Int64N(30*msPerMinute), 4+r.IntN(7), activity)
	case "after-leaving":
		if pl.cfg.Days < 4 {
			return
		}
		p.leftDay = pl.day(0, pl.cfg.Days-3)
		day := p.leftDay + 1 + r.Int64N(2)
		sc.session(day*msPerDay+9*msPerHour+r.Int64N(6*msPerHour), 20*msPerMinute+r.Int64N(30*msPerMinute), 3+r.IntN(6), activity)
	case "webmail-forward":
		for k := range 1 + r.IntN(3) {
			sc.add(at+int64(k)*r.Int64N(40*msPerMinute), mailTo(p.webmail, 1+r.IntN(4)))
		}
	case "victim-contact":
		first := firstNames[r.IntN(len(firstNames))]
		last := lastNames[r.IntN(len(lastNames))]
		a := randomAddress(r)
		l := lookup{id: nominalID(r.Uint64()), surname: strings.ToUpper(last), role: "victim", uprn: a.uprn, postcode: a.postcode,
			phone: publicPhone(r), results: 1}
		if r.IntN(2) == 0 {
			l.email = publicEmail(r, first, last)
		}
		sc.add(at, lookupAt(l))
		next := at + msPerDay
		for range 1 + r.IntN(3) {
			t, ok := pl.onShift(p, next, msPerHour)
			if !ok || t > at+13*msPerDay {
				break
			}
			if l.email != "" && r.IntN(2) == 0 {
				sc.add(t, mailTo(l.email, 0))
			} else {
				sc.add(t, callTo(l.phone))
			}
			next = t + msPerHour
		}
		if len(sc.times) < 2 {
			// No shift left in the window to make contact in: the look-up
			// alone is no scenario.
			pl.injections = pl.injections[:len(pl.injections)-1]
			return
		}
	}
	pl.label(sc, kind, rule)
}

// nearMiss plans one near-miss of kind: unlabelled, and no rule should
// fire on it.
func (pl *planner) nearMiss(kind string) {
	r := pl.r
	i, ok := pl.pick(func(*person) bool { return true })
	if !ok {
		return
	}
	p := &pl.people[i]
	sc := &scenario{pl: pl, person: int32(i)}
	at, ok := pl.onShift(p, pl.winStart, 4*msPerHour)
	if !ok && kind != "mail-on-leave" {
		return
	}
	occ := occRef(r, pl.year(at))
	switch kind {
	case "namesake":
		// Someone of the same surname elsewhere: common names are common.
		a := randomAddress(r)
		sc.add(at, lookupAt(lookup{id: nominalID(r.Uint64()), surname: strings.ToUpper(p.last), role: "suspect", uprn: a.uprn, postcode: a.postcode, results: 1}))
	case "victim-callback":
		a := randomAddress(r)
		phone := publicPhone(r)
		sc.add(at, lookupAt(lookup{id: nominalID(r.Uint64()), surname: strings.ToUpper(lastNames[r.IntN(len(lastNames))]), role: "victim",
			uprn: a.uprn, postcode: a.postcode, phone: phone, caseRef: occ, results: 1}))
		sc.add(at+10*msPerMinute+r.Int64N(2*msPerHour), callTo(phone))
	case "restricted-with-case":
		sc.add(at, lookupAt(lookup{id: restrictedRecord(pl.cfg.Seed, r.IntN(nRestricted)), surname: strings.ToUpper(lastNames[r.IntN(len(lastNames))]),
			role: "suspect", caseRef: occ, results: 1}))
	case "own-mail-no-attachment":
		// The rota, sent home: no attachment.
		sc.add(at, mailTo(p.webmail, 0))
	case "mail-on-leave":
		if pl.cfg.Days < 3 {
			return
		}
		from := pl.day(0, pl.cfg.Days-2)
		to := min(from+2+r.Int64N(5), floorDiv(pl.winEnd-1, msPerDay))
		p.leave = append(p.leave, dayRange{from, to})
		day := from + r.Int64N(to-from+1)
		sc.add(day*msPerDay+11*msPerHour+r.Int64N(3*msPerHour), mailTo(pl.people[r.IntN(len(pl.people))].email, 0))
	case "colleague-with-case":
		q := &pl.people[r.IntN(len(pl.people))]
		if q == p {
			return
		}
		sc.add(at, lookupAt(lookup{id: q.nominal, surname: strings.ToUpper(q.last), role: "victim", caseRef: occ, results: 1}))
	case "neighbour-with-case":
		a := randomAddress(r)
		sc.add(at, lookupAt(lookup{id: nominalID(r.Uint64()), surname: strings.ToUpper(lastNames[r.IntN(len(lastNames))]), role: "witness",
			uprn: a.uprn, postcode: p.home.postcode, caseRef: occ, results: 1}))
	}
}

// ---- what the generator writes beside the events ----

// Labels returns the misconduct scenarios of cfg's events, in the order
// planned: what a detector should find. The events themselves carry no
// trace of being a scenario.
func Labels(cfg Config) ([]Label, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return planScenarios(cfg, makePeople(cfg)).labels, nil
}

// A List is a reference list the built-in pack reads, as rows: one value
// each for a plain list, a key and a value for a keyed one.
type List struct {
	Keyed bool
	Rows  [][2]string
}

// Lists returns the reference lists that HR, vetting and information
// security would supply for cfg's force, by their ids in the detection
// catalogue: RESTRICTED_RECORDS, OWN_SURNAME_ADDRESS, VETTED_FAMILY,
// STAFF_RECORDS, WEBMAIL_DOMAINS and LEAVE_ABSENCE (the leave that
// touches the window, as London dates). The lists lbm derives from its
// own directory (units, working patterns, leaving dates) come from
// People. Surnames are in capitals, as record systems hold them.
func Lists(cfg Config) (map[string]List, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	people := makePeople(cfg)
	planScenarios(cfg, people)
	out := map[string]List{}
	restricted := List{}
	for i := range nRestricted {
		restricted.Rows = append(restricted.Rows, [2]string{restrictedRecord(cfg.Seed, i)})
	}
	out["RESTRICTED_RECORDS"] = restricted
	webmail := List{}
	for _, d := range webmailDomains {
		webmail.Rows = append(webmail.Rows, [2]string{d})
	}
	out["WEBMAIL_DOMAINS"] = webmail
	own, family, staff, leave := List{Keyed: true}, List{Keyed: true}, List{}, List{Keyed: true}
	firstDay := floorDiv(cfg.Start.UnixMilli(), msPerDay) - 1
	lastDay := firstDay + int64(cfg.Days) + 1
	date := func(d int64) string { return time.UnixMilli(d * msPerDay).UTC().Format(time.DateOnly) }
	for i := range people {
		p := &people[i]
		own.Rows = append(own.Rows, [2]string{p.ID, strings.ToUpper(p.last)}, [2]string{p.ID, p.home.uprn}, [2]string{p.ID, p.home.postcode})
		for _, rel := range p.family {
			family.Rows = append(family.Rows, [2]string{p.ID, rel.nominal}, [2]string{p.ID, rel.home.uprn},
				[2]string{p.ID, strings.ToUpper(rel.surname) + " " + rel.home.postcode})
		}
		staff.Rows = append(staff.Rows, [2]string{p.nominal})
		ranges := slices.Clone(p.leave)
		for b := floorDiv(firstDay, leaveBlock); b <= floorDiv(lastDay, leaveBlock); b++ {
			if l, ok := p.naturalLeave(b); ok && l.to >= firstDay && l.from <= lastDay {
				ranges = append(ranges, l)
			}
		}
		for _, l := range ranges {
			leave.Rows = append(leave.Rows, [2]string{p.ID, date(l.from) + "/" + date(l.to)})
		}
	}
	out["OWN_SURNAME_ADDRESS"], out["VETTED_FAMILY"], out["STAFF_RECORDS"], out["LEAVE_ABSENCE"] = own, family, staff, leave
	return out, nil
}
