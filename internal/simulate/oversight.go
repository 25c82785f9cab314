package simulate

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"
)

// ---- the oversight log ----
//
// The oversight log is what lbm writes of its monitors: the investigators
// of Professional Standards asking for authorisations about colleagues in
// other units, the authorisers deciding, the investigators' looks at the
// data and their refused attempts. Oversight writes it as the detector
// presents it to the built-in pack's oversight rules: lbm's own record,
// and related.user, the subjects of the request the record is about, which
// the detector adds from the request store.

// Oversight-log actions, as lbm's authorise and review services write them.
const (
	actCreated  = "request_created"
	actSubmit   = "request_submit"
	actDecision = "request_decision"
	actQuery    = "review_query"
	actExport   = "review_export"
	actRefused  = "review_refused"
)

// The kinds of misconduct in the oversight log, each with the rule that
// should catch it.
var oversightMisconduct = []struct{ kind, rule string }{
	{"oversight-refused-attempt", "oversight-refused-attempt"},
	{"oversight-colleague-query", "oversight-colleague-query"},
	{"oversight-repeated-refusals", "oversight-repeated-refusals"},
}

// The kinds of near-miss in the oversight log.
var oversightNearMisses = []string{
	"two-refusals", "refusals-different-subjects", "namesake-query", "refusals-over-31-days",
}

// Scenario rates, relative to Config.Misconduct and Config.NearMisses:
// the monitors are a few hundred of a force's thousands, so their
// misconduct is rarer than the rest's.
const (
	oversightMisconductDivisor = 3  // a third of the rate of activity scenarios
	oversightNearMissDivisor   = 16 // a sixteenth of the rate of activity near-misses
	oversightRequestsPer       = 100
	refusedDecisionPct         = 12 // of routine requests
)

// repeatedRefusals is how many refusals about one person the
// oversight-repeated-refusals rule waits for, in refusalWindow.
const (
	repeatedRefusals = 3
	refusalWindow    = 31 * msPerDay
)

var psdUnit = slices.IndexFunc(units, func(u unit) bool { return u.files == "PSD" })

// ovRequest is an authorisation request as the oversight log sees it.
type ovRequest struct {
	id, reference string
	created       int64
	subjects      []string // sorted person ids
	written       string   // written_sha256: the request as written
	version       int64
}

// ovRecord is one record of the oversight log before rendering.
type ovRecord struct {
	ms     int64
	actor  int32
	action string
	req    *ovRequest // nil for an attempt on no known request
	reqID  string     // the id tried, when req is nil
	lbm    []ovField  // after request and reference
}

// ovField is one lbm.* field: a string, or an integer if isInt.
type ovField struct {
	key   string
	s     string
	n     int64
	isInt bool
}

func lbmStr(k, v string) ovField     { return ovField{key: k, s: v} }
func lbmInt(k string, v int) ovField { return ovField{key: k, n: int64(v), isInt: true} }

// overseer plans the oversight log.
type overseer struct {
	cfg              Config
	people           []person
	r                *rand.Rand
	winStart, winEnd int64
	team             []int32 // the named investigators
	psd              []int32 // everyone in Professional Standards
	others           []int32 // everyone else: the people investigated
	authorisers      []int32
	refusals         map[int32]int // refusals about each person so far
	requests         []*ovRequest
	records          []ovRecord
	labels           []Label
	near             map[string]int // near-misses planned, by kind, for tests
}

// planOversight plans cfg's oversight log. It depends only on cfg, and
// on the activity's plan only for who is away or gone, so the activity
// is the same whether or not the oversight log is written.
func planOversight(cfg Config) *overseer {
	people := makePeople(cfg)
	planScenarios(cfg, people)
	o := &overseer{cfg: cfg, people: people, r: rand.New(rand.NewPCG(uint64(cfg.Seed), streamOversight)),
		winStart: cfg.Start.UnixMilli(), refusals: map[int32]int{}, near: map[string]int{}}
	o.winEnd = o.winStart + int64(cfg.Days)*msPerDay
	var pool []int32
	for i := range people {
		p := &people[i]
		switch {
		case p.unit != psdUnit:
			o.others = append(o.others, int32(i))
		case p.leftDay != 0:
		case p.Rank == "chief_inspector" || p.Rank == "superintendent":
			o.authorisers = append(o.authorisers, int32(i))
			o.psd = append(o.psd, int32(i))
		default:
			pool = append(pool, int32(i))
			o.psd = append(o.psd, int32(i))
		}
	}
	if len(o.authorisers) == 0 {
		// A small force's authorisations go to its senior officers.
		for i := range people {
			if p := &people[i]; p.leftDay == 0 && p.unit != psdUnit && (p.Rank == "chief_inspector" || p.Rank == "superintendent") {
				o.authorisers = append(o.authorisers, int32(i))
			}
		}
	}
	// The anti-corruption team: some of Professional Standards, named on
	// its requests.
	o.r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	o.team = pool[:min(len(pool), 4+len(pool)/10)]
	if len(o.team) == 0 || len(o.authorisers) == 0 || len(o.others) < 4 {
		return o
	}
	personDays := len(people) * cfg.Days
	// Routine requests, some begun before the window, whose records
	// before it are not written.
	for range (personDays + 15*oversightRequestsPer) / (30 * oversightRequestsPer) {
		o.routine()
	}
	if cfg.Misconduct > 0 {
		d := oversightMisconductDivisor * cfg.Misconduct
		off := o.r.IntN(len(oversightMisconduct))
		for i := range (personDays + 15*d) / (30 * d) {
			m := oversightMisconduct[(i+off)%len(oversightMisconduct)]
			o.misconduct(m.kind, m.rule)
		}
	}
	if cfg.NearMisses > 0 {
		d := oversightNearMissDivisor * cfg.NearMisses
		off := o.r.IntN(len(oversightNearMisses))
		for i := range (personDays + 15*d) / (30 * d) {
			o.nearMiss(oversightNearMisses[(i+off)%len(oversightNearMisses)])
		}
	}
	// References number requests in the order they were made, each year
	// from 1, as lbm's store does.
	slices.SortStableFunc(o.requests, func(a, b *ovRequest) int { return cmp.Compare(a.created, b.created) })
	n, year := 0, 0
	for _, q := range o.requests {
		if y := time.UnixMilli(q.created).UTC().Year(); y != year {
			n, year = 0, y
		}
		n++
		q.reference = fmt.Sprintf("ACAC-%d-%04d", year, n)
	}
	return o
}

func (o *overseer) pick(xs []int32) int32 { return xs[o.r.IntN(len(xs))] }

// freshSubject returns someone outside Professional Standards whom
// nobody has been refused about, or false.
func (o *overseer) freshSubject() (int32, bool) {
	for range 100 {
		if s := o.pick(o.others); o.refusals[s] == 0 {
			return s, true
		}
	}
	return 0, false
}

// at returns a time no earlier than after in one of p's shifts, within
// days of after, or false.
func (o *overseer) at(p int32, after int64, days int) (int64, bool) {
	q := &o.people[p]
	first := floorDiv(after, msPerDay) - 1 // a night shift begun the day before
	for d := first; d <= first+int64(days); d++ {
		s, on := q.shiftOn(d)
		if !on || q.offDuty(d, s) {
			continue
		}
		from := d*msPerDay + shiftStartHour[s]*msPerHour + 15*msPerMinute
		to := from + shiftLength - 30*msPerMinute
		from = max(from, after)
		if to > from {
			return from + o.r.Int64N(min(to-from, 3*msPerHour)), true
		}
	}
	return 0, false
}

func (o *overseer) inWindow(ms int64) bool { return o.winStart <= ms && ms < o.winEnd }

func (o *overseer) hex256() string {
	b := make([]byte, 0, 64)
	for range 4 {
		b = appendHex(b, o.r.Uint64())
	}
	return string(b)
}

// story collects the records of one request's life, or of one scenario,
// and adds them to the log only if it completes.
type story struct {
	o       *overseer
	records []ovRecord
	reqs    []*ovRequest
}

func (o *overseer) story() *story { return &story{o: o} }

func (st *story) add(ms int64, actor int32, action string, req *ovRequest, fields ...ovField) {
	st.records = append(st.records, ovRecord{ms: ms, actor: actor, action: action, req: req, lbm: fields})
}

// request drafts and submits a request by investigator about subjects,
// begun at or after after; it returns the request and when it was
// submitted.
func (st *story) request(investigator int32, subjects []int32, after int64) (*ovRequest, int64, bool) {
	o := st.o
	t, ok := o.at(investigator, after, 14)
	if !ok {
		return nil, 0, false
	}
	q := &ovRequest{created: t, written: o.hex256()}
	q.id = fmt.Sprintf("%016x%012x", uint64(t)*1e6, o.r.Uint64()>>16)
	for _, s := range subjects {
		q.subjects = append(q.subjects, o.people[s].ID)
	}
	slices.Sort(q.subjects)
	q.subjects = slices.Compact(q.subjects)
	st.reqs = append(st.reqs, q)
	q.version = 1
	st.add(t, investigator, actCreated, q, lbmInt("version", 1))
	submitted := t + 5*msPerMinute + o.r.Int64N(55*msPerMinute)
	st.transition(submitted, investigator, q, actSubmit, "draft", "submitted")
	return q, submitted, true
}

func (st *story) transition(ms int64, actor int32, q *ovRequest, action, from, to string) {
	q.version++
	st.add(ms, actor, action, q, lbmStr("from", from), lbmStr("to", to), lbmInt("version", int(q.version)),
		lbmStr("written_sha256", q.written), lbmStr("body_sha256", st.o.hex256()))
}

// decide has an authoriser decide q, submitted at submitted, and
// returns when. The authoriser is neither one of not nor a subject of q.
func (st *story) decide(q *ovRequest, submitted int64, refuse bool, not ...int32) (int64, bool) {
	o := st.o
	for range 10 {
		a := o.pick(o.authorisers)
		if slices.Contains(not, a) || slices.Contains(q.subjects, o.people[a].ID) {
			continue
		}
		t, ok := o.at(a, submitted+20*msPerMinute, 7)
		if !ok {
			return 0, false
		}
		to := "active"
		if refuse {
			to = "refused"
		}
		st.transition(t, a, q, actDecision, "submitted", to)
		return t, true
	}
	return 0, false
}

// looks has investigator query q n times from after, perhaps then
// export, and returns the time of the last.
func (st *story) looks(investigator int32, q *ovRequest, after int64, n int, export bool) int64 {
	o := st.o
	t := after
	for k := range n {
		gap := 10*msPerMinute + o.r.Int64N(3*msPerHour)
		if k > 0 && o.r.IntN(3) == 0 {
			gap += o.r.Int64N(3 * msPerDay)
		}
		next, ok := o.at(investigator, t+gap, 7)
		if !ok {
			return t
		}
		t = next
		held := 0
		if o.r.IntN(10) == 0 {
			held = 1 + o.r.IntN(3)
		}
		st.add(t, investigator, actQuery, q, lbmInt("results", o.r.IntN(400)),
			lbmStr("events_sha256", o.hex256()), lbmInt("held_back", held))
	}
	if export {
		if next, ok := o.at(investigator, t+30*msPerMinute, 7); ok {
			t = next
			st.add(t, investigator, actExport, q, lbmStr("recipient", exportRecipients[o.r.IntN(len(exportRecipients))]),
				lbmInt("results", 1+o.r.IntN(300)), lbmStr("events_sha256", o.hex256()), lbmStr("bundle_sha256", o.hex256()))
		}
	}
	return t
}

var exportRecipients = []string{"IOPC", "CPS", "hearing panel", "Appropriate Authority"}

// refused records a refused attempt by actor on q (or on an unknown id).
func (st *story) refused(ms int64, actor int32, q *ovRequest, reason string) {
	if q == nil {
		id := fmt.Sprintf("%016x%012x", uint64(ms-st.o.r.Int64N(90*msPerDay))*1e6, st.o.r.Uint64()>>16)
		st.records = append(st.records, ovRecord{ms: ms, actor: actor, action: actRefused, reqID: id, lbm: []ovField{lbmStr("reason", reason)}})
		return
	}
	st.add(ms, actor, actRefused, q, lbmStr("reason", reason))
}

// commit adds the story's records to the log. A scenario commits only
// if all its records are in the window; a routine request keeps those
// that are.
func (st *story) commit(whole bool) bool {
	o := st.o
	if whole {
		for _, r := range st.records {
			if !o.inWindow(r.ms) {
				return false
			}
		}
	}
	o.requests = append(o.requests, st.reqs...)
	for _, r := range st.records {
		if o.inWindow(r.ms) {
			o.records = append(o.records, r)
		}
	}
	return true
}

// subjects returns one or two people outside Professional Standards.
func (o *overseer) subjects() []int32 {
	s := []int32{o.pick(o.others)}
	if o.r.IntN(100) < 15 {
		s = append(s, o.pick(o.others))
	}
	return s
}

// routine plans one request of the anti-corruption team's ordinary
// work: about people in other units, mostly authorised and looked into,
// now and then refused.
func (o *overseer) routine() {
	st := o.story()
	inv := o.pick(o.team)
	subjects := o.subjects()
	after := o.winStart - 14*msPerDay + o.r.Int64N(int64(o.cfg.Days+14)*msPerDay)
	q, submitted, ok := st.request(inv, subjects, after)
	if !ok {
		return
	}
	// A single refusal, and about someone nobody else has been refused
	// about: refusals are rare, and the rules count them per person.
	refuse := o.r.IntN(100) < refusedDecisionPct
	for _, s := range subjects {
		refuse = refuse && o.refusals[s] == 0
	}
	decided, ok := st.decide(q, submitted, refuse, inv)
	if !ok {
		return
	}
	if refuse {
		for _, s := range subjects {
			o.refusals[s]++
		}
	} else {
		st.looks(inv, q, decided, 1+o.r.IntN(6), o.r.IntN(100) < 30)
		if o.r.IntN(100) < 25 {
			// A second named investigator on the same inquiry.
			st.looks(o.pick(o.team), q, decided, 1+o.r.IntN(3), false)
		}
	}
	st.commit(false)
}

// label labels a committed scenario's records.
func (o *overseer) label(st *story, kind, rule, user string) {
	times := make([]int64, len(st.records))
	for i, r := range st.records {
		times[i] = r.ms
	}
	o.labels = append(o.labels, Label{Kind: kind, Rules: []string{rule}, User: user,
		Start: time.UnixMilli(slices.Min(times)).UTC(), End: time.UnixMilli(slices.Max(times)).UTC()})
}

// start returns a time early enough in the window to leave span after it.
func (o *overseer) start(span int64) int64 {
	room := o.winEnd - o.winStart - span
	if room <= 0 {
		return o.winStart
	}
	return o.winStart + o.r.Int64N(room)
}

// misconduct plans one scenario of kind, labelled for rule.
func (o *overseer) misconduct(kind, rule string) {
	r := o.r
	st := o.story()
	switch kind {
	case "oversight-refused-attempt":
		// An investigator's look refused: on an inquiry they are not
		// named on, on a request that is not theirs or not there, before
		// the authorisation is in force, or beyond its scope.
		actor := o.pick(o.team)
		s, ok := o.freshSubject()
		if !ok {
			return
		}
		attempts := 1 + r.IntN(2)
		switch r.IntN(4) {
		case 0:
			owner := o.pick(o.team)
			if owner == actor {
				return
			}
			q, submitted, ok := st.request(owner, []int32{s}, o.start(3*msPerDay))
			if !ok {
				return
			}
			decided, ok := st.decide(q, submitted, false, owner, actor)
			if !ok {
				return
			}
			st.looks(owner, q, decided, 1+r.IntN(2), false)
			t := decided
			for range attempts {
				if t, ok = o.at(actor, t+5*msPerMinute, 5); !ok {
					return
				}
				st.refused(t, actor, q, "not a named investigator")
			}
		case 1:
			s = -1 // no request, so about no one
			t, ok := o.at(actor, o.start(2*msPerDay), 2)
			if !ok {
				return
			}
			for k := range attempts {
				st.refused(t+int64(k)*(1+r.Int64N(10*msPerMinute)), actor, nil, "no such request, or not one the caller has a part in")
			}
		case 2:
			q, submitted, ok := st.request(actor, []int32{s}, o.start(4*msPerDay))
			if !ok {
				return
			}
			t := submitted
			for range attempts {
				t += 5*msPerMinute + r.Int64N(30*msPerMinute)
				st.refused(t, actor, q, "the authorisation is not in force")
			}
			decided, ok := st.decide(q, t, false, actor)
			if !ok {
				return
			}
			st.looks(actor, q, decided, 1+r.IntN(3), false)
		case 3:
			q, submitted, ok := st.request(actor, []int32{s}, o.start(4*msPerDay))
			if !ok {
				return
			}
			decided, ok := st.decide(q, submitted, false, actor)
			if !ok {
				return
			}
			t := st.looks(actor, q, decided, r.IntN(3), false)
			field := []string{"subjects", "from", "to", "categories", "content", "text"}[r.IntN(6)]
			for range attempts {
				if t, ok = o.at(actor, t+5*msPerMinute, 3); !ok {
					return
				}
				st.refused(t, actor, q, "out of scope: "+field)
			}
		}
		if !st.commit(true) {
			return
		}
		if s >= 0 {
			o.refusals[s] += attempts
		}
		o.label(st, kind, rule, o.people[actor].ID)
	case "oversight-colleague-query":
		// An investigator looks into someone in their own unit.
		inv := o.pick(o.team)
		colleague := o.pick(o.psd)
		if colleague == inv {
			return
		}
		q, submitted, ok := st.request(inv, []int32{colleague}, o.start(5*msPerDay))
		if !ok {
			return
		}
		decided, ok := st.decide(q, submitted, false, inv, colleague)
		if !ok {
			return
		}
		st.looks(inv, q, decided, 1+r.IntN(4), r.IntN(100) < 30)
		if !st.commit(true) {
			return
		}
		o.label(st, kind, rule, o.people[inv].ID)
	case "oversight-repeated-refusals":
		// Request after request about one person, each refused: whoever
		// asks, whoever refuses.
		s, ok := o.freshSubject()
		if !ok {
			return
		}
		n := repeatedRefusals + r.IntN(2)
		span := min(int64(o.cfg.Days)*msPerDay, 24*msPerDay)
		t := o.start(span)
		gap := span / int64(n+1)
		var first, last int64
		for k := range n {
			inv := o.pick(o.team)
			q, submitted, ok := st.request(inv, []int32{s}, t)
			if !ok {
				return
			}
			decided, ok := st.decide(q, submitted, true, inv)
			if !ok {
				return
			}
			if k == 0 {
				first = decided
			}
			last = decided
			t = decided + r.Int64N(gap+1)
		}
		if last-first >= refusalWindow-msPerDay || !st.commit(true) {
			return
		}
		o.refusals[s] += n
		o.label(st, kind, rule, o.people[s].ID)
	}
}

// nearMiss plans one harmless look-alike of kind: unlabelled, and no
// rule should fire on it.
func (o *overseer) nearMiss(kind string) {
	r := o.r
	st := o.story()
	refusedOnce := func(inv, s int32, after int64) (int64, bool) {
		q, submitted, ok := st.request(inv, []int32{s}, after)
		if !ok {
			return 0, false
		}
		return st.decide(q, submitted, true, inv)
	}
	var refused []int32
	switch kind {
	case "two-refusals":
		// Refused twice about one person: below the rule's three.
		s, ok := o.freshSubject()
		if !ok {
			return
		}
		t := o.start(15 * msPerDay)
		for range 2 {
			d, ok := refusedOnce(o.pick(o.team), s, t)
			if !ok {
				return
			}
			t = d + r.Int64N(10*msPerDay)
			refused = append(refused, s)
		}
	case "refusals-different-subjects":
		// One investigator refused three times, about three people.
		inv := o.pick(o.team)
		t := o.start(10 * msPerDay)
		for range 3 {
			s, ok := o.freshSubject()
			if !ok || slices.Contains(refused, s) {
				return
			}
			d, ok := refusedOnce(inv, s, t)
			if !ok {
				return
			}
			t = d + r.Int64N(3*msPerDay)
			refused = append(refused, s)
		}
	case "namesake-query":
		// A look into someone in another unit who shares the
		// investigator's surname.
		inv := o.pick(o.team)
		var namesakes []int32
		for _, s := range o.others {
			if o.people[s].last == o.people[inv].last {
				namesakes = append(namesakes, s)
			}
		}
		if len(namesakes) == 0 {
			return
		}
		q, submitted, ok := st.request(inv, []int32{o.pick(namesakes)}, o.start(5*msPerDay))
		if !ok {
			return
		}
		decided, ok := st.decide(q, submitted, false, inv)
		if !ok {
			return
		}
		st.looks(inv, q, decided, 1+r.IntN(3), false)
	case "refusals-over-31-days":
		// Three refusals about one person, the first and the last more
		// than 31 days apart: the rule's window never holds three.
		if o.cfg.Days < 36 {
			return
		}
		s, ok := o.freshSubject()
		if !ok {
			return
		}
		first, ok := refusedOnce(o.pick(o.team), s, o.start(35*msPerDay))
		if !ok {
			return
		}
		if _, ok := refusedOnce(o.pick(o.team), s, first+3*msPerDay+r.Int64N(20*msPerDay)); !ok {
			return
		}
		last, ok := refusedOnce(o.pick(o.team), s, first+refusalWindow+msPerDay)
		if !ok || last-first <= refusalWindow+msPerDay {
			return
		}
		refused = append(refused, s, s, s)
	}
	if !st.commit(true) {
		return
	}
	for _, s := range refused {
		o.refusals[s]++
	}
	o.near[kind]++
}

// ---- writing the oversight log ----

// Oversight writes the oversight log of cfg's force to w as NDJSON, one
// record a line in @timestamp order, and returns how many it wrote. The
// records are lbm's own (event.category "configuration", lbm.break_glass
// false, lbm.request and the fields lbm's authorise and review services
// write) with related.user, the request's subjects, added as the detector
// adds it: the shape the built-in pack's oversight rules read. Nothing in
// a record marks a scenario; [OversightLabels] says which are.
func Oversight(w io.Writer, cfg Config) (int, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0, err
	}
	o := planOversight(cfg)
	recs := o.records
	slices.SortStableFunc(recs, func(a, b ovRecord) int { return cmp.Compare(a.ms, b.ms) })
	bw := bufio.NewWriter(w)
	var line []byte
	for _, r := range recs {
		line = o.render(line[:0], r)
		bw.Write(line) // bufio keeps the first write error
		bw.WriteByte('\n')
	}
	return len(recs), bw.Flush()
}

// OversightLabels returns the misconduct scenarios of cfg's oversight
// log, in the order planned. A label's user is the investigator who
// acted, but for oversight-repeated-refusals, which many people's
// requests and refusals make, it is the person refused about: the key
// that rule counts by.
func OversightLabels(cfg Config) ([]Label, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return planOversight(cfg).labels, nil
}

func (o *overseer) render(b []byte, r ovRecord) []byte {
	w := jw{b: append(b, '{')}
	w.key("@timestamp")
	w.b = append(w.b, '"')
	w.b = time.UnixMilli(r.ms).UTC().AppendFormat(w.b, "2006-01-02T15:04:05.000Z")
	w.b = append(w.b, '"')
	w.open("event")
	w.str("category", "configuration")
	w.str("action", r.action)
	w.str("outcome", "success")
	w.close()
	w.open("user")
	w.str("id", o.people[r.actor].ID)
	w.close()
	w.open("lbm")
	w.key("break_glass")
	w.b = append(w.b, "false"...)
	if r.req != nil {
		w.str("request", r.req.id)
		if r.action != actRefused {
			w.str("reference", r.req.reference)
		}
	} else {
		w.str("request", r.reqID)
	}
	for _, f := range r.lbm {
		if f.isInt {
			w.int(f.key, f.n)
		} else {
			w.str(f.key, f.s)
		}
	}
	w.close()
	if r.req != nil {
		// What the detector adds from the request store.
		w.open("related")
		w.strs("user", r.req.subjects)
		w.close()
	}
	return append(w.b, '}')
}
