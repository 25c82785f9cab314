package simulate

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/event"
)

// Config chooses what to simulate. The zero value of every field means its
// documented default, so Config{} is a usable small run.
type Config struct {
	People             int       // members of staff; default 100
	Days               int       // length of the window in days; default 1
	Start              time.Time // start of the window; default 2026-11-02T00:00:00Z, a Monday
	Seed               int64     // default 1; the same Config gives byte-identical output
	EventsPerPersonDay int       // events in each shift; default 0 means the natural rate (~40-120)
	// Misconduct is the rate of labelled misconduct scenarios: one per
	// this many people per 30 days (see Labels). 0 means
	// DefaultMisconduct; a negative value means none.
	Misconduct int
	// NearMisses is the rate of harmless near-misses, such as a look-up
	// of a namesake or a victim called back about their case: one per
	// this many people per 30 days. 0 means DefaultNearMisses; a
	// negative value means none.
	NearMisses int
}

// The default scenario rates.
const (
	DefaultMisconduct = 200
	DefaultNearMisses = 25
)

// DefaultStart is the Start used when Config.Start is zero.
var DefaultStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

const (
	maxEvents     = 1 << 31
	defaultPeople = 100
	defaultDays   = 1
	defaultSeed   = 1
)

func (c Config) withDefaults() (Config, error) {
	if c.People < 0 || c.Days < 0 || c.EventsPerPersonDay < 0 {
		return c, fmt.Errorf("simulate: People, Days and EventsPerPersonDay must not be negative (got %d, %d, %d)",
			c.People, c.Days, c.EventsPerPersonDay)
	}
	if c.People == 0 {
		c.People = defaultPeople
	}
	if c.Days == 0 {
		c.Days = defaultDays
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.Start = c.Start.UTC()
	if c.Seed == 0 {
		c.Seed = defaultSeed
	}
	if c.Misconduct == 0 {
		c.Misconduct = DefaultMisconduct
	}
	if c.NearMisses == 0 {
		c.NearMisses = DefaultNearMisses
	}
	// Every event is scheduled in memory before any is written (24 bytes
	// each), so refuse runs no machine could hold rather than die trying.
	if c.People > 10_000_000 || c.Days > 100_000 || c.EventsPerPersonDay > 1_000_000 ||
		int64(c.People)*int64(c.Days)*int64(max(c.EventsPerPersonDay, 144))/2 > maxEvents {
		return c, fmt.Errorf("simulate: People %d × Days %d would be more than %d events", c.People, c.Days, maxEvents)
	}
	return c, nil
}

// Person describes a synthetic member of staff.
type Person struct {
	ID      string // "u00001", "u00002", …
	Name    string // "Sarah Khan"
	Surname string // "Khan"
	Collar  string // shoulder number such as "4521NA"; empty for inspector and above, who have none
	Unit    string // "Response Team 3", "CID Northern", …
	Rank    string // snake_case Met rank: constable, sergeant, inspector, …
	Pattern string // "shifts" for teams that work nights, else "days"
	// Email is the person's address on the force's mail system, the one
	// their simulated e-mail is sent from ("sarah.khan@police.example",
	// numbered when the name repeats); unique.
	Email string
	// Username is the person's login name ("skhan", numbered when it
	// repeats); unique.
	Username string
	// LeftAt is when the person left the force, at the end of their last
	// day; zero if they are still serving at the end of the window.
	LeftAt time.Time
}

// People returns the staff directory that Generate draws on, in ID order.
// It returns nil when cfg is invalid (Generate reports why).
func People(cfg Config) []Person {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil
	}
	ps := makePeople(cfg)
	planScenarios(cfg, ps)
	out := make([]Person, len(ps))
	for i := range ps {
		out[i] = ps[i].Person
	}
	return out
}

// Generate writes cfg's events to w as NDJSON, one object a line in
// @timestamp order, and returns how many it wrote.
func Generate(w io.Writer, cfg Config) (int, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	n, err := run(cfg, func(line []byte) error {
		bw.Write(line)
		return bw.WriteByte('\n') // bufio keeps the first write error
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// Events returns the lines Generate would write, without their newlines.
func Events(cfg Config) ([][]byte, error) {
	var out [][]byte
	var arena []byte
	_, err := run(cfg, func(line []byte) error {
		// Carving lines from large shared blocks keeps a million events
		// from being a million allocations.
		if cap(arena)-len(arena) < len(line) {
			arena = make([]byte, 0, max(1<<20, len(line)))
		}
		start := len(arena)
		arena = append(arena, line...)
		// The three-index slice stops an append by the caller to one line
		// from overwriting the next.
		out = append(out, arena[start:len(arena):len(arena)])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- the rota ----

type shift uint8

const (
	early shift = iota // 07:00-15:00
	late               // 15:00-23:00
	night              // 23:00-07:00 the next day
)

var shiftStartHour = [...]int64{early: 7, late: 15, night: 23}

const (
	msPerMinute = 60 * 1000
	msPerHour   = 60 * msPerMinute
	msPerDay    = 24 * msPerHour
	shiftLength = 8 * msPerHour
	rotaCycle   = 8 // days: 4 on, 4 off
	rotaOn      = 4
)

// shiftOn reports the shift p works that begins on the given day (days since
// 1970-01-01 UTC). Counting from a fixed epoch rather than from Start keeps a
// person's rota the same whichever window is simulated.
func (p *person) shiftOn(day int64) (shift, bool) {
	d := day + int64(p.rotaOffset)
	if floorMod(d, rotaCycle) >= rotaOn {
		return 0, false
	}
	shifts := units[p.unit].shifts
	block := floorDiv(d, rotaCycle)
	return shifts[floorMod(block+int64(p.shiftBase), int64(len(shifts)))], true
}

// shiftAt returns the start and end (Unix milliseconds) of p's shift that
// contains t, if p is on duty at t.
func (p *person) shiftAt(t int64) (start, end int64, ok bool) {
	day := floorDiv(t, msPerDay)
	// A night shift that began yesterday may still be running.
	for _, d := range [2]int64{day, day - 1} {
		if s, on := p.shiftOn(d); on {
			start = d*msPerDay + shiftStartHour[s]*msPerHour
			if t >= start && t < start+shiftLength {
				return start, start + shiftLength, true
			}
		}
	}
	return 0, 0, false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// ---- people ----

type person struct {
	Person
	first, last string
	email       string
	host        string
	ip          string
	ext         string // four-digit telephone extension
	title       string // how they sign: "PC 4521NA Khan", "DS Patel"
	unit        int
	rate        int // natural events per shift
	rotaOffset  int
	shiftBase   int
	seed        uint64
	home        address
	nominal     string     // the id of the record about them on the force's systems
	family      []relative // declared in vetting
	webmail     string     // their personal e-mail address
	leftDay     int64      // their last day, counted from 1970-01-01; 0 while serving
	leave       []dayRange // leave inside or near the window, by scenario
}

type unit struct {
	name      string
	share     int // per cent of staff
	shifts    []shift
	mix       [nCats]int // relative weight of each activity
	rate      [2]int     // natural events per shift, low and high
	files     string     // the unit's folder on the file server
	detective bool
	analysts  bool // works in bulk, on operations
}

type category uint8

const (
	catRecord category = iota
	catEmail
	catWeb
	catFile
	catTelephony
	catDevice
	nCats
)

// analysts is the index of the intelligence analysts' unit.
var analysts = slices.IndexFunc(units, func(u unit) bool { return u.analysts })

var (
	allShifts = []shift{early, late, night}
	dayShifts = []shift{early, late}
)

// units sets each team's size and habits: the control room lives on the
// phone, custody prints, CID writes files and e-mail, response officers query
// the PNC. The mixes are also tuned so that the mean line is about 512 bytes.
var units = []unit{
	{"Response Team 1", 9, allShifts, [nCats]int{38, 16, 14, 14, 14, 4}, [2]int{50, 100}, "Response", false, false},
	{"Response Team 2", 9, allShifts, [nCats]int{38, 16, 14, 14, 14, 4}, [2]int{50, 100}, "Response", false, false},
	{"Response Team 3", 9, allShifts, [nCats]int{38, 16, 14, 14, 14, 4}, [2]int{50, 100}, "Response", false, false},
	{"Response Team 4", 9, allShifts, [nCats]int{38, 16, 14, 14, 14, 4}, [2]int{50, 100}, "Response", false, false},
	{"Neighbourhood Policing", 8, dayShifts, [nCats]int{28, 24, 18, 14, 14, 2}, [2]int{40, 80}, "Neighbourhoods", false, false},
	{"CID Northern", 10, dayShifts, [nCats]int{24, 28, 8, 24, 14, 2}, [2]int{60, 110}, "CID-Northern", true, false},
	{"CID Southern", 8, dayShifts, [nCats]int{24, 28, 8, 24, 14, 2}, [2]int{60, 110}, "CID-Southern", true, false},
	{"Safeguarding", 6, dayShifts, [nCats]int{26, 28, 8, 24, 14, 0}, [2]int{50, 90}, "Safeguarding", true, false},
	{"Custody", 10, allShifts, [nCats]int{34, 10, 8, 34, 14, 0}, [2]int{50, 90}, "Custody", false, false},
	{"Control Room", 14, allShifts, [nCats]int{34, 10, 8, 4, 44, 0}, [2]int{80, 120}, "Control-Room", false, false},
	{"Professional Standards", 8, []shift{early}, [nCats]int{34, 30, 6, 26, 4, 0}, [2]int{40, 80}, "PSD", true, false},
	// Drawn from the day-working detective units in makePeople, not by
	// share, so that adding it changed no one else's unit or rota.
	{"Intelligence Analysis", 0, dayShifts, [nCats]int{60, 16, 6, 16, 2, 0}, [2]int{60, 110}, "Intelligence", false, true},
}

type rank struct {
	name         string
	share        int    // per cent
	uniform, det string // how the rank signs, in uniform and as a detective
	collar       bool   // only constables and sergeants have shoulder numbers
}

// Met ranks, weighted to a realistic pyramid.
var ranks = []rank{
	{"constable", 78, "PC", "DC", true},
	{"sergeant", 14, "PS", "DS", true},
	{"inspector", 5, "Insp", "DI", false},
	{"chief_inspector", 2, "Ch Insp", "DCI", false},
	{"superintendent", 1, "Supt", "Det Supt", false},
}

var firstNames = []string{
	"James", "Sarah", "Mohammed", "Emma", "Daniel", "Aisha", "Thomas", "Chloe", "Oliver", "Priya",
	"Jack", "Hannah", "Samuel", "Fatima", "George", "Lucy", "Kwame", "Sophie", "Ryan", "Amelia",
	"Liam", "Grace", "Adam", "Zara", "Michael", "Rebecca", "David", "Jade", "Connor", "Niamh",
}

var lastNames = []string{
	"Smith", "Jones", "Khan", "Patel", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson",
	"Thomas", "Johnson", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards",
	"Green", "Hall", "Wood", "Harris", "Lewis", "Martin", "Jackson", "Clarke", "Okafor", "Begum",
	"Murphy", "Ali", "Nowak", "Kowalski", "Campbell", "Stewart",
}

var boroughCodes = []string{"NA", "NW", "CE", "SE", "AW", "EA", "SN", "WA"}

func pickWeighted(r *rand.Rand, total int, weight func(int) int, n int) int {
	x := r.IntN(total)
	for i := range n {
		if x -= weight(i); x < 0 {
			return i
		}
	}
	return n - 1
}

func makePeople(cfg Config) []person {
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), streamPeople))
	unitTotal, rankTotal := 0, 0
	for _, u := range units {
		unitTotal += u.share
	}
	for _, k := range ranks {
		rankTotal += k.share
	}
	ps := make([]person, cfg.People)
	emails := make(map[string]int, cfg.People)
	logins := make(map[string]int, cfg.People)
	for i := range ps {
		p := &ps[i]
		p.unit = pickWeighted(r, unitTotal, func(j int) int { return units[j].share }, len(units))
		u := &units[p.unit]
		k := ranks[pickWeighted(r, rankTotal, func(j int) int { return ranks[j].share }, len(ranks))]
		p.first = firstNames[r.IntN(len(firstNames))]
		p.last = lastNames[r.IntN(len(lastNames))]
		p.ID = fmt.Sprintf("u%05d", i+1)
		p.Name = p.first + " " + p.last
		p.Unit = u.name
		p.Rank = k.name
		if k.collar {
			p.Collar = strconv.Itoa(1000+r.IntN(9000)) + boroughCodes[r.IntN(len(boroughCodes))]
		}
		switch {
		case u.detective:
			p.title = k.det + " " + p.last
		case k.collar:
			p.title = k.uniform + " " + p.Collar + " " + p.last
		default:
			p.title = k.uniform + " " + p.last
		}
		// Like real directories, a repeated name gets a number.
		local := strings.ToLower(p.first + "." + p.last)
		emails[local]++
		if c := emails[local]; c > 1 {
			local += strconv.Itoa(c)
		}
		p.email = local + "@" + InternalDomain
		p.Email = p.email
		login := strings.ToLower(p.first[:1] + p.last) // the names are ASCII letters
		logins[login]++
		if c := logins[login]; c > 1 {
			login += strconv.Itoa(c)
		}
		p.Username = login
		p.host = fmt.Sprintf("ws-%04d", r.IntN(10000))
		p.ip = fmt.Sprintf("10.%d.%d.%d", 16+p.unit, r.IntN(256), 1+r.IntN(254))
		p.ext = strconv.Itoa(2000 + r.IntN(8000))
		p.rate = u.rate[0] + r.IntN(u.rate[1]-u.rate[0]+1)
		p.rotaOffset = r.IntN(rotaCycle)
		p.shiftBase = r.IntN(3)
		p.seed = mix(uint64(cfg.Seed), uint64(i))
		p.Surname = p.last
		p.Pattern = "days"
		if len(u.shifts) == 3 {
			p.Pattern = "shifts"
		}
		// From a stream of the person's own, so that adding details
		// leaves the directory above as it was.
		pr := rand.New(rand.NewPCG(p.seed, streamPrivate))
		p.private(pr)
		if u.detective && len(u.shifts) == 2 && pr.IntN(100) < 15 {
			// An intelligence analyst: the same days and pace, bulk work.
			p.unit = analysts
			p.Unit = units[analysts].name
		}
	}
	return ps
}

// InternalDomain is the force's own mail domain: its people's addresses
// (Person.Email) and its intranet are under it.
const InternalDomain = "police.example"

// Distinct PCG stream constants keep the directory and each person's
// activity independent of one another.
const (
	streamPeople    = 0x70656f706c65     // "people"
	streamEvents    = 0x6576656e7473     // "events"
	streamPrivate   = 0x70726976617465   // "private"
	streamScenarios = 0x7363656e6172696f // "scenario"
	streamOversight = 0x6f766572736565   // "oversee"
)

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func mix(a, b uint64) uint64 { return splitmix(a ^ splitmix(b)) }

// ---- scheduling ----

type slotKind uint8

const (
	kindLogon slotKind = iota
	kindLogonFail
	kindLogoff
	kindActivity
	kindBatch       // an analyst's look-up for an operation
	kindBatchExport // and the export that ends it
	kindInjected    // a scenario's event: seq indexes the injections
)

// slot is an event before rendering. Scheduling only slots, sorting them and
// then rendering each from its own seed keeps memory at 24 bytes an event
// rather than a whole line. The seed is the person, the day the shift began
// and the event's place in the shift, so an event's content depends on
// nothing else: not on the rest of the force, nor on where the window starts.
type slot struct {
	ms     int64
	person int32
	day    int32 // the shift's first day, counted from 1970-01-01
	seq    uint32
	kind   slotKind
}

func schedule(cfg Config, people []person, injections []injection) []slot {
	winStart := cfg.Start.UnixMilli()
	winEnd := winStart + int64(cfg.Days)*msPerDay
	var slots []slot
	// About half the force is on duty each day.
	perShift := cfg.EventsPerPersonDay
	if perShift == 0 {
		perShift = 85
	}
	slots = make([]slot, 0, min(len(people)*cfg.Days*perShift/2+64, 1<<26))
	pcg := rand.NewPCG(0, 0)
	r := rand.New(pcg)
	firstDay := floorDiv(winStart, msPerDay) - 1 // last night's shift runs into the window
	lastDay := floorDiv(winEnd-1, msPerDay)
	for pi := range people {
		p := &people[pi]
		var seq uint32
		var day int64
		add := func(ms int64, k slotKind) {
			// A shift cut by the window's edge keeps the events inside it
			// unchanged: seq counts the clipped ones too.
			if ms >= winStart && ms < winEnd {
				slots = append(slots, slot{ms: ms, person: int32(pi), day: int32(day), seq: seq, kind: k})
			}
			seq++
		}
		for day = firstDay; day <= lastDay; day++ {
			s, on := p.shiftOn(day)
			if !on || p.offDuty(day, s) {
				continue
			}
			start := day*msPerDay + shiftStartHour[s]*msPerHour
			end := start + shiftLength
			if end <= winStart || start >= winEnd {
				continue
			}
			pcg.Seed(mix(p.seed, uint64(day)), streamEvents)
			seq = 0
			n := cfg.EventsPerPersonDay
			if n == 0 {
				// A busy or quiet shift: ±20% about the person's own rate.
				n = p.rate*4/5 + r.IntN(p.rate*2/5+1)
			}
			logon := start + r.Int64N(5*msPerMinute)
			if n >= 3 && r.IntN(100) < 4 {
				// A mistyped password a few seconds before the real logon.
				add(logon, kindLogonFail)
				logon += 3000 + r.Int64N(40000)
				n--
			}
			add(logon, kindLogon)
			n--
			if n <= 0 {
				continue
			}
			logoff := end - 1 - r.Int64N(10*msPerMinute)
			batch := 0
			var batchStart, batchLen int64
			if units[p.unit].analysts && n > 20 && r.IntN(100) < 40 {
				// An analyst's bulk work for an operation: most of the
				// shift's look-ups in an hour or two, then an export.
				batch = (n - 1) * 3 / 5
				batchLen = msPerHour + r.Int64N(msPerHour)
				batchStart = logon + 1 + r.Int64N(max(1, logoff-logon-batchLen-msPerMinute))
			}
			for i := range n - 1 {
				switch {
				case i < batch-1:
					add(batchStart+r.Int64N(batchLen), kindBatch)
				case i == batch-1:
					add(batchStart+batchLen, kindBatchExport)
				default:
					add(logon+1+r.Int64N(logoff-logon-1), kindActivity)
				}
			}
			add(logoff, kindLogoff)
		}
	}
	for i, in := range injections {
		if in.ms >= winStart && in.ms < winEnd {
			slots = append(slots, slot{ms: in.ms, person: in.person, day: int32(floorDiv(in.ms, msPerDay)), seq: uint32(i), kind: kindInjected})
		}
	}
	return sortSlots(slots, winStart, winEnd)
}

// sortSlots orders slots by time, then person, day and seq: a total order,
// so the result is unique. Times are spread evenly over the window, so a
// bucket sort on time is linear; a comparison sort of a million slots was a
// quarter of the cost of a run.
func sortSlots(slots []slot, winStart, winEnd int64) []slot {
	if len(slots) < 2 {
		return slots
	}
	width := max(1, (winEnd-winStart)/int64(len(slots)))
	nb := (winEnd-winStart)/width + 1
	start := make([]int, nb+1)
	for i := range slots {
		start[(slots[i].ms-winStart)/width+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]slot, len(slots))
	next := slices.Clone(start[:nb])
	for _, s := range slots {
		b := (s.ms - winStart) / width
		out[next[b]] = s
		next[b]++
	}
	for b := range nb {
		if lo, hi := start[b], start[b+1]; hi-lo > 1 {
			slices.SortFunc(out[lo:hi], compareSlots)
		}
	}
	return out
}

func compareSlots(a, b slot) int {
	switch {
	case a.ms != b.ms:
		return cmp.Compare(a.ms, b.ms)
	case a.person != b.person:
		return cmp.Compare(a.person, b.person)
	case a.day != b.day:
		return cmp.Compare(a.day, b.day)
	}
	return cmp.Compare(a.seq, b.seq)
}

// ---- rendering ----

type gen struct {
	cfg        Config
	injections []injection
	people     []person
	byUnit     [][]int32
	pcg        *rand.PCG
	r          *rand.Rand
	tail       jw     // category fields, written before the header is known
	text       []byte // scratch for content
	related    []string
	cs         caseCtx
	addrs      [3][]byte
	idPre      []byte // "sim-<seed>-"
	day        int64  // the day g.date holds
	year       int
	date       []byte // `"2026-11-02T`
}

func run(cfg Config, emit func([]byte) error) (int, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0, err
	}
	people := makePeople(cfg)
	plan := planScenarios(cfg, people)
	slots := schedule(cfg, people, plan.injections)
	g := &gen{people: people, byUnit: make([][]int32, len(units)), injections: plan.injections, cfg: cfg}
	for i := range people {
		g.byUnit[people[i].unit] = append(g.byUnit[people[i].unit], int32(i))
	}
	g.pcg = rand.NewPCG(0, 0)
	g.r = rand.New(g.pcg)
	g.idPre = strconv.AppendInt([]byte("sim-"), cfg.Seed, 10)
	g.idPre = append(g.idPre, '-')
	line := make([]byte, 0, 2048)
	for i, s := range slots {
		line = g.render(line[:0], s, i+1)
		if err := emit(line); err != nil {
			return i, err
		}
	}
	return len(slots), nil
}

// setDay caches the calendar date of ms: only the date needs the calendar,
// and it changes once a day, while events come a million a second.
func (g *gen) setDay(ms int64) {
	day := floorDiv(ms, msPerDay)
	if day != g.day || g.date == nil {
		t := time.UnixMilli(day * msPerDay).UTC()
		g.day, g.year = day, t.Year()
		g.date = t.AppendFormat(g.date[:0], `"2006-01-02T`)
	}
}

// appendTime writes ms, on the day setDay last saw, as a quoted
// "2026-11-02T08:03:11.123Z".
func (g *gen) appendTime(b []byte, ms int64) []byte {
	b = append(b, g.date...)
	ms -= g.day * msPerDay
	b = appendDigits(b, int(ms/msPerHour), 2)
	b = append(b, ':')
	b = appendDigits(b, int(ms/msPerMinute%60), 2)
	b = append(b, ':')
	b = appendDigits(b, int(ms/1000%60), 2)
	b = append(b, '.')
	b = appendDigits(b, int(ms%1000), 3)
	return append(b, 'Z', '"')
}

type header struct {
	category, action, dataset, reason string
	failed                            bool
}

func (g *gen) render(b []byte, s slot, seq int) []byte {
	p := &g.people[s.person]
	// splitmix spreads neighbouring seqs, whose raw PCG states would differ
	// only by one.
	g.pcg.Seed(mix(p.seed, uint64(s.day)), splitmix(uint64(s.seq)))
	g.setDay(s.ms)
	g.tail.b = g.tail.b[:0]
	g.tail.comma = true
	g.related = g.related[:0]

	var h header
	switch s.kind {
	case kindLogon, kindLogonFail, kindLogoff:
		h = g.authentication(p, s.kind)
	case kindBatch, kindBatchExport:
		h = g.batch(p, s)
	case kindInjected:
		h = g.injections[s.seq].render(g, p)
	default:
		u := &units[p.unit]
		total := 0
		for _, w := range u.mix {
			total += w
		}
		switch category(pickWeighted(g.r, total, func(i int) int { return u.mix[i] }, int(nCats))) {
		case catRecord:
			h = g.recordQuery(p)
		case catEmail:
			h = g.email(p)
		case catWeb:
			h = g.web(p)
		case catFile:
			h = g.file(p)
		case catTelephony:
			h = g.telephony(p)
		case catDevice:
			h = g.device(p)
		}
	}

	w := jw{b: append(b, '{')}
	w.key("@timestamp")
	w.b = g.appendTime(w.b, s.ms)
	w.open("event")
	w.key("id")
	w.b = append(w.b, '"')
	w.b = append(w.b, g.idPre...)
	w.b = strconv.AppendInt(w.b, int64(seq), 10)
	w.b = append(w.b, '"')
	w.str("category", h.category)
	w.str("action", h.action)
	if h.failed {
		w.str("outcome", "failure")
	} else {
		w.str("outcome", "success")
	}
	w.str("dataset", h.dataset)
	if h.reason != "" {
		w.str("reason", h.reason)
	}
	w.close()
	w.open("user")
	w.str("id", p.ID)
	w.str("name", p.Name)
	w.str("domain", "FORCE")
	w.close()
	w.open("host")
	w.str("name", p.host)
	w.str("ip", p.ip)
	w.close()
	w.open("ecs")
	w.str("version", "8.11.0")
	w.close()
	w.b = append(w.b, g.tail.b...)
	w.b = append(w.b, '}')
	return w.b
}

// pct reports true with probability n per cent.
func (g *gen) pct(n int) bool { return g.r.IntN(100) < n }

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// colleague picks someone else, usually from p's own unit, since most
// internal traffic stays within a team.
func (g *gen) colleague(p *person) *person {
	if len(g.people) < 2 {
		return nil
	}
	for {
		var i int32
		if team := g.byUnit[p.unit]; len(team) > 1 && g.pct(60) {
			i = team[g.r.IntN(len(team))]
		} else {
			i = int32(g.r.IntN(len(g.people)))
		}
		if q := &g.people[i]; q != p {
			return q
		}
	}
}

func (g *gen) writeRelated() {
	if len(g.related) == 0 {
		return
	}
	w := &g.tail
	w.open("related")
	w.strs("user", g.related)
	w.close()
}

var logonFailures = []string{"unknown user name or bad password", "smartcard PIN incorrect"}

func (g *gen) authentication(p *person, k slotKind) header {
	h := header{category: "authentication", dataset: "windows.security", action: "logon"}
	w := &g.tail
	switch k {
	case kindLogoff:
		h.action = "logoff"
	case kindLogonFail:
		h.failed = true
		h.reason = g.pick(logonFailures)
	}
	// Windows security event ids, so the line reads like the real log.
	id := 4624
	switch {
	case k == kindLogoff:
		id = 4634
	case h.failed:
		id = 4625
	}
	w.open("winlog")
	w.int("event_id", int64(id))
	w.str("logon_type", "interactive")
	w.close()
	return h
}

var (
	recordReasons = []string{"stop_search", "arrest", "intelligence", "vehicle_stop", "missing_person", "warrant_check", "custody", "investigation"}
	nicheTypes    = []string{"occurrence", "nominal", "intelligence", "custody", "property"}
)

func (g *gen) recordQuery(p *person) header {
	c := g.newCase(p)
	l := lookup{reason: g.pick(recordReasons), results: g.r.IntN(4)}
	t := g.text[:0]
	switch x := g.r.IntN(100); {
	case x < 35:
		l.action, l.system, l.typ = "pnc_person_search", "PNC", "person"
		t = c.appendSuspectQuery(t, g.pct(50))
	case x < 60:
		l.action, l.system, l.typ = "pnc_vehicle_search", "PNC", "vehicle"
		t = appendVRM(t, c.vrm)
		l.results = min(l.results, 1)
	case x < 85:
		l.action, l.system, l.typ = "niche_record_view", "Niche", g.pick(nicheTypes)
		t = c.appendOcc(t)
		l.results = 1
	case x < 94:
		l.action, l.system, l.typ = "niche_person_search", "Niche", "nominal"
		t = c.appendSuspectQuery(t, true)
	default:
		l.action, l.system, l.typ = "pnd_search", "PND", "person"
		t = c.appendSuspectQuery(t, false)
	}
	g.text = t
	occ := string(c.appendOcc(nil))
	switch l.typ {
	case "vehicle":
		l.id = "VRM/" + strings.ReplaceAll(string(appendVRM(nil, c.vrm)), " ", "")
	case "person", "nominal":
		l.id = nominalID(g.r.Uint64())
		l.surname = strings.ToUpper(c.suspectLast)
		l.role = "suspect"
		switch x := g.r.IntN(100); {
		case x < 15:
			l.role = "victim"
		case x < 27:
			l.role = "witness"
		case x < 35:
			l.role = "associate"
		}
		if g.pct(80) {
			a := randomAddress(g.r)
			l.uprn, l.postcode = a.uprn, a.postcode
		}
		if l.role == "victim" || l.role == "witness" {
			if g.pct(60) {
				l.phone = publicPhone(g.r)
			}
			if g.pct(30) {
				l.email = publicEmail(g.r, c.suspectFirst, c.suspectLast)
			}
		}
	default:
		l.id = occ
	}
	// Most look-ups are made for a case, and the system links them to it;
	// a victim's or witness's record is opened for theirs.
	switch {
	case l.role == "victim" || l.role == "witness":
		if g.r.IntN(1000) >= 2 {
			l.caseRef = occ
		}
	case l.typ != "person" && l.typ != "nominal" && l.typ != "vehicle":
		l.caseRef = occ
	case g.pct(92):
		l.caseRef = occ
	}
	restricted := l.surname != "" && g.pct(1)
	if g.pct(2) {
		// Restricted records (sensitive investigations, VIPs) refuse
		// access to those not cleared for them.
		l.failed, l.failReason, l.results = true, "access denied: restricted record", 0
		restricted = l.surname != ""
	}
	if restricted {
		// Whoever looks at one is working on its case.
		l.id = restrictedRecord(g.cfg.Seed, g.r.IntN(nRestricted))
		l.caseRef = occ
	}
	return g.writeLookup(l, g.text)
}

// lookup is the metadata a record system logs of one look-up.
type lookup struct {
	action, system, typ, reason string
	results                     int
	id                          string // the record viewed
	caseRef                     string // the case it is linked to; "" when none
	surname, role               string // of a record about a person
	uprn, postcode              string // of the person's address
	phone, email                string // a victim's or witness's contact details
	failed                      bool
	failReason                  string
}

var datasets = map[string]string{"PNC": "pnc.audit", "Niche": "niche.audit", "PND": "pnd.audit"}

// writeLookup writes l's fields, with query as its content.
func (g *gen) writeLookup(l lookup, query []byte) header {
	h := header{category: "record_query", action: l.action, dataset: datasets[l.system], failed: l.failed, reason: l.failReason}
	w := &g.tail
	w.open("record")
	w.str("system", l.system)
	w.str("type", l.typ)
	w.str("reason", l.reason)
	w.int("results", int64(l.results))
	for _, f := range [...]struct{ k, v string }{
		{"id", l.id}, {"case", l.caseRef}, {"surname", l.surname}, {"role", l.role},
		{"uprn", l.uprn}, {"postcode", l.postcode}, {"phone", l.phone}, {"email", l.email},
	} {
		if f.v != "" {
			w.str(f.k, f.v)
		}
	}
	w.close()
	w.open("content")
	w.strb("query", query)
	w.close()
	return h
}

var externalDomains = []string{"cps.example", "council.example", "nhs.example", "solicitors.example", "mail.example", "probation.example"}

// webmailDomains are the free personal mail services (WEBMAIL_DOMAINS):
// the public's mailboxes, and staff's own.
var webmailDomains = []string{"mail.example", "webmail.example"}

var attachmentKinds = []string{"pdf", "docx", "xlsx", "jpg"}

// writeAttachments writes n attachments' metadata as ECS flattens an
// array of objects: one array per field.
func (g *gen) writeAttachments(n int) {
	w := &g.tail
	w.open("attachments")
	w.open("file")
	w.key("extension")
	w.b = append(w.b, '[')
	for i := range n {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = event.AppendString(w.b, g.pick(attachmentKinds))
	}
	w.b = append(w.b, ']')
	w.key("size")
	w.b = append(w.b, '[')
	for i := range n {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = strconv.AppendInt(w.b, int64(20_000+g.r.IntN(3_000_000)), 10)
	}
	w.b = append(w.b, ']')
	w.close()
	w.close()
}

func (g *gen) email(p *person) header {
	h := header{category: "email", dataset: "exchange.message_tracking"}
	c := g.newCase(p)
	w := &g.tail
	send := g.pct(45)
	// Sent mail goes to up to three people; about a quarter of
	// counterparts are outside the force.
	n := 1
	if send && g.pct(40) {
		n += g.r.IntN(3)
	}
	addrs := &g.addrs
	var first string
	public := false // a member of the public's personal mailbox
	for i := range n {
		if q := g.colleague(p); q != nil && g.pct(75) {
			addrs[i] = append(addrs[i][:0], q.email...)
			if !slices.Contains(g.related, q.ID) {
				g.related = append(g.related, q.ID)
			}
			if i == 0 {
				first = q.first
			}
		} else {
			fn := g.pick(firstNames)
			addrs[i] = appendLower(addrs[i][:0], fn[:1])
			addrs[i] = append(addrs[i], '.')
			addrs[i] = appendLower(addrs[i], g.pick(lastNames))
			addrs[i] = append(addrs[i], '@')
			d := g.pick(externalDomains)
			public = public || slices.Contains(webmailDomains, d)
			addrs[i] = append(addrs[i], d...)
			if i == 0 {
				first = fn
			}
		}
	}
	c.to = first
	w.open("email")
	if send {
		h.action = "send"
		w.str("direction", "outbound")
		w.open("from")
		w.str("address", p.email)
		w.close()
		w.open("to")
		w.key("address")
		w.b = append(w.b, '[')
		for i := range n {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = event.AppendString(w.b, string(addrs[i]))
		}
		w.b = append(w.b, ']')
		w.close()
		// Files go to colleagues and partner agencies, never to a
		// personal mailbox: force policy, which most people keep.
		if !public && g.pct(15) {
			g.writeAttachments(1 + g.r.IntN(3))
		}
	} else {
		h.action = "receive"
		c.to, c.from = p.first, first
		w.str("direction", "inbound")
		w.open("from")
		w.key("address")
		w.b = event.AppendString(w.b, string(addrs[0]))
		w.close()
		w.open("to")
		w.key("address")
		w.b = append(w.b, '[')
		w.b = event.AppendString(w.b, p.email)
		w.b = append(w.b, ']')
		w.close()
	}
	w.key("message_id")
	w.b = append(w.b, '"', '<')
	w.b = appendHex(w.b, g.r.Uint64())
	w.b = append(w.b, '@')
	// The sender's mail server names the message.
	if send {
		w.b = append(w.b, InternalDomain...)
	} else {
		w.b = append(w.b, addrs[0][bytes.IndexByte(addrs[0], '@')+1:]...)
	}
	w.b = append(w.b, '>', '"')
	w.close()
	if send && g.pct(2) {
		h.failed, h.reason = true, "recipient rejected: mailbox full"
	}
	g.writeRelated()
	w.open("content")
	g.text = c.subject(g.text[:0])
	w.strb("subject", g.text)
	g.text = c.body(g.text[:0])
	w.strb("body", g.text)
	w.close()
	return h
}

type site struct {
	domain string
	paths  []string
	block  bool // the proxy refuses it
}

var sites = []site{
	{"intranet." + InternalDomain, []string{"/news/", "/policies/use-of-force", "/hr/annual-leave", "/directory/search", "/duties/roster", "/forms/overtime-claim", "/guidance/stop-and-search"}, false},
	{"www.legislation.gov.uk", []string{"/ukpga/1984/60/section/24", "/ukpga/1968/60/section/1", "/ukpga/1986/64/section/5", "/ukpga/1988/52/section/170"}, false},
	{"www.college.police.uk", []string{"/app/detention-and-custody", "/app/major-investigation-and-public-protection", "/app/armed-policing", "/guidance/vulnerability"}, false},
	{"www.cps.gov.uk", []string{"/legal-guidance/charging", "/legal-guidance/bail", "/legal-guidance/hate-crime"}, false},
	{"www.gov.uk", []string{"/check-vehicle-tax", "/government/collections/police-powers", "/check-mot-history"}, false},
	{"www.bbc.co.uk", []string{"/news/uk-england-london", "/news/uk", "/sport/football"}, false},
	{"www.google.com", []string{"/maps", "/search"}, false},
	{"www.facebook.com", []string{"/", "/marketplace/"}, true},
	{"www.youtube.com", []string{"/watch", "/"}, true},
}

func (g *gen) web(p *person) header {
	h := header{category: "web", action: "browse", dataset: "proxy.access"}
	s := &sites[g.r.IntN(len(sites))]
	status := 200
	switch x := g.r.IntN(100); {
	case s.block:
		// Social media is blocked by default on force machines.
		status, h.failed, h.reason = 403, true, "blocked by proxy policy: social media"
	case x < 8:
		status = 304
	case x < 11:
		status, h.failed = 404, true
	case x < 12:
		status, h.failed = 503, true
	}
	// Written dotted on purpose: consumers must accept both forms.
	w := &g.tail
	w.str("url.domain", s.domain)
	w.str("url.path", s.paths[g.r.IntN(len(s.paths))])
	w.str("url.scheme", "https")
	w.str("http.request.method", "GET")
	w.int("http.response.status_code", int64(status))
	w.int("http.response.bytes", int64(2000+g.r.IntN(180000)))
	return h
}

type docKind struct {
	name, ext string
	occ       bool // filed under an occurrence number
}

var docs = []docKind{
	{"MG11 witness statement {suspect}", "docx", true},
	{"MG5 case summary {occ-}", "docx", true},
	{"MG6 confidential information {occ-}", "docx", true},
	{"Custody record {custody}", "pdf", true},
	{"CCTV stills {street}", "jpg", true},
	{"Pocket notebook scan {date-}", "pdf", false},
	{"Duty roster {date-}", "xlsx", false},
	{"Intelligence report {ref}", "docx", false},
	{"Risk assessment {suspect}", "docx", true},
	{"Briefing {shift} turn {date-}", "pptx", false},
}

func (g *gen) file(p *person) header {
	h := header{category: "file", dataset: "dlp.file"}
	c := g.newCase(p)
	u := &units[p.unit]
	switch x := g.r.IntN(100); {
	case x < 55:
		h.action = "open"
	case x < 85:
		h.action = "write"
	default:
		h.action = "print"
	}
	if p.Unit == "Custody" && g.pct(30) {
		h.action = "print" // custody prints records and charge sheets for the detained
	}
	d := &docs[g.r.IntN(len(docs))]
	// name and path share one scratch buffer: name first, then path.
	buf := c.expand(g.text[:0], d.name)
	buf = append(buf, '.')
	buf = append(buf, d.ext...)
	nameEnd := len(buf)
	buf = append(buf, `\\fs01\`...)
	buf = append(buf, u.files...)
	if d.occ {
		buf = append(buf, `\Cases\`...)
		buf = c.appendOccDashed(buf)
	} else {
		buf = append(buf, `\Shared\`...)
		buf = strconv.AppendInt(buf, int64(c.year), 10)
	}
	buf = append(buf, '\\')
	buf = append(buf, buf[:nameEnd]...)
	g.text = buf
	name, path := buf[:nameEnd], buf[nameEnd:]
	if g.pct(2) {
		h.failed, h.reason = true, "access denied"
	}
	w := &g.tail
	w.open("file")
	w.strb("name", name)
	w.strb("path", path)
	w.str("extension", d.ext)
	w.int("size", int64(8000+g.r.IntN(2_000_000)))
	w.close()
	if h.action == "print" {
		w.open("printer")
		w.key("name")
		w.b = append(w.b, `"prn-`...)
		w.b = appendLower(w.b, u.files)
		w.b = append(w.b, '-', '0', byte('1'+g.r.IntN(4)), '"')
		w.int("pages", int64(1+g.r.IntN(12)))
		w.close()
	}
	return h
}

func (g *gen) telephony(p *person) header {
	h := header{category: "telephony", action: "call", dataset: "cucm.cdr"}
	w := &g.tail
	dir := "outbound"
	if g.pct(50) {
		dir = "inbound"
	}
	dur := int64(20 + g.r.IntN(120))
	if g.pct(20) {
		dur += int64(g.r.IntN(1200)) // the occasional long call
	}
	if g.pct(6) {
		dur, h.failed, h.reason = 0, true, "no answer"
	}
	// Written dotted, like web and device.
	w.str("telephony.direction", dir)
	w.int("telephony.duration_s", dur)
	if q := g.colleague(p); q != nil && g.pct(45) {
		w.str("telephony.number", q.ext)
		g.related = append(g.related, q.ID)
		w.strs("related.user", g.related)
	} else {
		// Ofcom reserves these ranges for drama, so no real line is named;
		// all of them, so that a call is not by chance to the number of
		// someone looked up earlier much more often than in life.
		w.key("telephony.number")
		w.b = append(w.b, '"')
		w.b = append(w.b, dramaRanges[g.r.IntN(len(dramaRanges))]...)
		w.b = appendDigits(w.b, g.r.IntN(1000), 3)
		w.b = append(w.b, '"')
	}
	w.str("telephony.extension", p.ext)
	return h
}

var usbDevices = [][3]string{
	// vendor, model, whether force policy allows it
	{"Apricorn", "Aegis Secure Key 3NX", "allowed"},
	{"Kingston", "IronKey Vault Privacy 50", "allowed"},
	{"Axon", "Body 3 dock", "allowed"},
	{"Canon", "EOS 250D", "allowed"},
	{"SanDisk", "Cruzer Blade", "blocked"},
	{"Samsung", "Galaxy A54", "blocked"},
	{"Apple", "iPhone 15", "blocked"},
}

func (g *gen) device(p *person) header {
	h := header{category: "device", action: "usb_insert", dataset: "endpoint.usb"}
	d := usbDevices[g.r.IntN(len(usbDevices))]
	if d[2] == "blocked" {
		h.failed, h.reason = true, "blocked by removable media policy"
	}
	w := &g.tail
	w.str("device.vendor", d[0])
	w.str("device.model", d[1])
	w.key("device.serial_number")
	w.b = append(w.b, '"')
	w.b = appendHex(w.b, g.r.Uint64())
	w.b = append(w.b, '"')
	return h
}

// ---- content ----

// caseCtx is the incident an event is about, drawn once so that an e-mail's
// subject, body and the names in it agree with one another.
type caseCtx struct {
	g             *gen
	p             *person
	suspectFirst  string
	suspectLast   string
	dob           [3]int // year, month, day
	vrm           uint64
	occ           int
	cad           int
	year          int
	street, area  string
	offence       string
	suite, marker string
	hour, minute  int
	day, month    int
	to, from      string // first names for greeting and sign-off ("" = p)
}

var (
	streets  = []string{"High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane", "King Street", "Queens Road", "London Road", "The Broadway", "Market Square", "Canal Walk"}
	areas    = []string{"Northgate", "Eastfield", "Riverside", "Hillcrest", "Westbury", "Southmead", "Oakwood", "Kingsbridge"}
	offences = []string{"shoplifting", "burglary", "criminal damage", "assault", "theft of motor vehicle", "domestic incident", "missing person", "public order", "drug possession", "harassment", "robbery", "fraud"}
	suites   = []string{"Northgate", "Eastfield", "Riverside"}
	markers  = []string{"violence", "weapons", "drugs", "mental health", "self harm", "escape risk"}
	shifts   = []string{"early", "late", "night"}
)

func (g *gen) newCase(p *person) *caseCtx {
	r := g.r
	// The event's year, for occurrence numbers: "26/123456".
	year := g.year
	c := &g.cs
	*c = caseCtx{
		g: g, p: p,
		suspectFirst: firstNames[r.IntN(len(firstNames))],
		suspectLast:  lastNames[r.IntN(len(lastNames))],
		dob:          [3]int{year - 16 - r.IntN(60), 1 + r.IntN(12), 1 + r.IntN(28)},
		vrm:          r.Uint64(),
		occ:          r.IntN(1_000_000),
		cad:          1 + r.IntN(9999),
		year:         year,
		street:       streets[r.IntN(len(streets))],
		area:         areas[r.IntN(len(areas))],
		offence:      offences[r.IntN(len(offences))],
		suite:        suites[r.IntN(len(suites))],
		marker:       markers[r.IntN(len(markers))],
		hour:         r.IntN(24),
		minute:       r.IntN(60),
		day:          1 + r.IntN(28),
		month:        1 + r.IntN(12),
	}
	return c
}

// appendSuspectQuery writes search terms as an operator types them:
// surname, perhaps forename, and date of birth.
func (c *caseCtx) appendSuspectQuery(b []byte, forename bool) []byte {
	b = appendUpper(b, c.suspectLast)
	if forename {
		b = append(b, ' ')
		b = appendUpper(b, c.suspectFirst)
	}
	b = append(b, ' ')
	b = appendDigits(b, c.dob[0], 4)
	b = append(b, '-')
	b = appendDigits(b, c.dob[1], 2)
	b = append(b, '-')
	return appendDigits(b, c.dob[2], 2)
}

// vrmAges are the age identifiers of the last ten years' plates.
var vrmAges = []int{16, 66, 17, 67, 18, 68, 19, 69, 20, 70, 21, 71, 22, 72, 23, 73, 24, 74, 25, 75}

// appendVRM writes a current-style UK registration, "AB12 CDE".
func appendVRM(b []byte, x uint64) []byte {
	const letters = "ABCDEFGHJKLMNOPRSTUVWXYZ" // I and Q are not issued
	l := func() byte {
		c := letters[x%uint64(len(letters))]
		x /= uint64(len(letters))
		return c
	}
	b = append(b, l(), l())
	age := vrmAges[x%uint64(len(vrmAges))]
	x /= uint64(len(vrmAges))
	b = appendDigits(b, age, 2)
	return append(b, ' ', l(), l(), l())
}

func (c *caseCtx) appendOcc(b []byte) []byte {
	b = appendDigits(b, c.year%100, 2)
	b = append(b, '/')
	return appendDigits(b, c.occ, 6)
}

func (c *caseCtx) appendOccQuoted(b []byte) []byte {
	b = append(b, '"')
	b = c.appendOcc(b)
	return append(b, '"')
}

func (c *caseCtx) appendOccDashed(b []byte) []byte {
	b = appendDigits(b, c.year%100, 2)
	b = append(b, '-')
	return appendDigits(b, c.occ, 6)
}

var subjects = []string{
	"RE: CAD {cad} - {offence} {street}",
	"{Offence} at {street}, {area} - handover",
	"Custody record {custody} - {SUSPECT}",
	"Statement required: {offence} {occ}",
	"FW: Briefing items for {shift} turn",
	"Annual leave request {date}",
	"PNC update - {vrm}",
	"Case file {occ} - MG forms",
	"Outstanding actions {occ}",
	"RE: RE: {Offence} {area} - CCTV",
}

var sentences = []string{
	"Please see the update below regarding {occ}.",
	"Suspect {suspect} was arrested at {time} on {street} and taken to {suite} custody.",
	"The vehicle {vrm} was seen in the area of {street}, {area} at about {time}.",
	"Can you review the CCTV from {street} before the footage is overwritten?",
	"The victim has been updated and is happy with the action taken so far.",
	"I have completed the MG11 and uploaded it to Niche against {occ}.",
	"House-to-house enquiries on {street} are complete with nothing further of note.",
	"Could you call me on extension {ext} when you are back on duty?",
	"The PNC check showed a {marker} marker, so please approach with care.",
	"Bail date is {date}; the file needs to go to CPS before then.",
	"For {shift} turn: extra patrols around {street} after reports of {offence}.",
	"Duty solicitor has been requested for {suspect} and interview is planned for {time}.",
	"CAD {cad} has been closed with a crime report raised for {offence}.",
	"Body-worn video from the arrest has been uploaded and marked as evidential.",
	"The informant on {street} has asked for a call back after {time} today.",
	"Please make sure the exhibits are booked into the property store before end of tour.",
}

func (c *caseCtx) subject(b []byte) []byte {
	return c.expand(b, subjects[c.g.r.IntN(len(subjects))])
}

// body writes 150-350 characters: a greeting, sentences about the case and
// a sign-off, which is the length of a typical operational e-mail.
func (c *caseCtx) body(b []byte) []byte {
	const lo, hi = 150, 350
	r := c.g.r
	start := len(b)
	b = append(b, "Hi "...)
	if c.to != "" {
		b = append(b, c.to...)
	} else {
		b = append(b, "all"...)
	}
	b = append(b, ",\n"...)
	var sign [64]byte
	signoff := append(sign[:0], "\nThanks, "...)
	if c.from != "" {
		signoff = append(signoff, c.from...)
	} else {
		signoff = append(signoff, c.p.title...)
	}
	target := lo + r.IntN(hi-lo+1) - len(signoff)
	var used uint64 // a sentence said twice reads like a machine wrote it
	for tries := 0; len(b)-start < target && tries < 12; tries++ {
		i := r.IntN(len(sentences))
		if used&(1<<i) != 0 {
			continue
		}
		mark := len(b)
		if b[mark-1] != '\n' {
			b = append(b, ' ')
		}
		b = c.expand(b, sentences[i])
		if len(b)-start+len(signoff) > hi {
			b = b[:mark] // too long: try a shorter sentence
			continue
		}
		used |= 1 << i
	}
	for len(b)-start+len(signoff) < lo {
		b = append(b, " Thanks in advance."...)
	}
	return append(b, signoff...)
}

// expand fills {placeholders} in tpl from the case.
func (c *caseCtx) expand(b []byte, tpl string) []byte {
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			return append(b, tpl...)
		}
		b = append(b, tpl[:i]...)
		j := strings.IndexByte(tpl[i:], '}') + i
		b = c.fill(b, tpl[i+1:j])
		tpl = tpl[j+1:]
	}
}

func (c *caseCtx) fill(b []byte, name string) []byte {
	switch name {
	case "suspect":
		b = append(b, c.suspectFirst...)
		return append(append(b, ' '), c.suspectLast...)
	case "SUSPECT":
		return appendUpper(b, c.suspectLast)
	case "vrm":
		return appendVRM(b, c.vrm)
	case "occ":
		return c.appendOcc(b)
	case "occ-": // for file names, which cannot hold '/'
		return c.appendOccDashed(b)
	case "cad":
		return appendDigits(b, c.cad, 4)
	case "custody":
		b = append(b, c.suite[0], c.suite[1]-'a'+'A', '-')
		return appendDigits(b, c.occ%100000, 5)
	case "street":
		return append(b, c.street...)
	case "area":
		return append(b, c.area...)
	case "offence":
		return append(b, c.offence...)
	case "Offence":
		b = append(b, c.offence[0]-'a'+'A')
		return append(b, c.offence[1:]...)
	case "suite":
		return append(b, c.suite...)
	case "marker":
		return append(b, c.marker...)
	case "time":
		b = appendDigits(b, c.hour, 2)
		b = append(b, ':')
		return appendDigits(b, c.minute, 2)
	case "date", "date-":
		sep := byte('/')
		if name == "date-" {
			sep = '-'
		}
		b = appendDigits(b, c.day, 2)
		b = append(b, sep)
		return appendDigits(b, c.month, 2)
	case "shift":
		return append(b, shifts[c.hour%3]...)
	case "ext":
		return append(b, c.p.ext...)
	case "ref":
		b = append(b, "IR-"...)
		return appendDigits(b, c.occ%10000, 4)
	}
	panic("simulate: unknown placeholder {" + name + "}")
}

// appendUpper and appendLower change ASCII case without the allocation of
// strings.ToUpper; every name here is ASCII.
func appendUpper(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

func appendDigits(b []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n > 0 || i > len(buf)-width {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, buf[i:]...)
}

func appendHex(b []byte, x uint64) []byte {
	const hex = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hex[x>>uint(i)&0xf])
	}
	return b
}

// ---- JSON ----

// jw writes a JSON object in the order its fields are given. Building lines
// by hand rather than through encoding/json keeps field order stable and
// readable and avoids reflection on a path run a million times.
type jw struct {
	b     []byte
	comma bool
}

func (w *jw) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = true
}

func (w *jw) open(k string) {
	w.key(k)
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jw) close() {
	w.b = append(w.b, '}')
	w.comma = true
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = event.AppendString(w.b, v)
}

func (w *jw) strb(k string, v []byte) {
	w.key(k)
	w.b = event.AppendString(w.b, string(v))
}

func (w *jw) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jw) strs(k string, vs []string) {
	w.key(k)
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = event.AppendString(w.b, v)
	}
	w.b = append(w.b, ']')
}
