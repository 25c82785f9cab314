package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/simulate"
	"github.com/lbm-project/lbm/internal/store"
)

// The query benchmark plants PlantWord at the start of the body of every
// PlantEvery-th e-mail of the e-mail store (the 1st, the 21st, …, in the
// order they are ingested), so that a text search has a known answer. The
// simulator's vocabulary never contains it.
const (
	PlantWord  = "zanzibar"
	PlantEvery = 20
)

// QueryStart is the first day of the simulated activity in a query
// benchmark's stores: a year before simulate.DefaultStart, so that every
// review window lies in the past, as a review's must.
var QueryStart = simulate.DefaultStart.AddDate(-1, 0, 0)

// Simulated rates the default force sizes are derived from: a person
// averages about 38 events and 7.5 e-mails a day. Aiming a little low
// makes the simulation overshoot, and the build stops at the count asked.
const (
	eventsPerPersonDay = 34
	emailsPerPersonDay = 6
)

// QueryConfig configures RunQuery. Zero values are the documented defaults.
type QueryConfig struct {
	// Events is how many simulated events the events store holds; the
	// metadata and content queries run on it. Default 10,000,000.
	Events int
	// People is the size of the simulated force in the events store.
	// Default: enough people for Events over Days (about 760 for ten
	// million events over a year).
	People int
	// Days is how long the simulated activity lasts, from QueryStart.
	// Default 365.
	Days int
	// EmailEvents is how many simulated e-mails the e-mail store holds;
	// the text search runs on it. Its force is sized for EmailEvents over
	// Days. Default 1,000,000.
	EmailEvents int
	// Window is the days one query covers. Default 30.
	Window int
	// Queries is how many queries each kind and path runs. Default 200.
	Queries int
	// Limit is the page size of every query: at most this many results,
	// as POST /v1/requests/{id}/queries returns. Default and most 1000.
	Limit int
	// Clients and Batch are the appenders and events per append that
	// build a store, as in Config. Defaults 8 and 1000.
	Clients, Batch int
	// Engines and DB are as in Config.
	Engines []Engine
	DB      string
	// Keep is a directory that keeps the stores, ENGINE-events and
	// ENGINE-email under it, for a later run to reuse rather than rebuild:
	// a store whose manifest matches the settings is reused; one that does
	// not, or an unfinished build, is refused. On PostgreSQL the manifest
	// names the databases, which are then not dropped; they live as long
	// as the server's cluster. Default: temporary stores, removed
	// afterwards.
	Keep string
	// Progress, when set, is told how each build advances.
	Progress Progress
}

func (c *QueryConfig) valid() error {
	if c.Events < 0 || c.People < 0 || c.Days < 0 || c.EmailEvents < 0 || c.Window < 0 || c.Queries < 0 || c.Limit < 0 ||
		c.Clients < 0 || c.Batch < 0 {
		return errors.New("sizes and counts must not be negative")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Events, 10_000_000)
	def(&c.Days, 365)
	def(&c.People, (c.Events+c.Days*eventsPerPersonDay-1)/(c.Days*eventsPerPersonDay))
	def(&c.EmailEvents, 1_000_000)
	def(&c.Window, 30)
	def(&c.Queries, 200)
	def(&c.Limit, 1000)
	def(&c.Clients, 8)
	def(&c.Batch, 1000)
	switch {
	case c.Limit > 1000:
		return fmt.Errorf("limit %d exceeds the 1000 results a review query returns at most", c.Limit)
	case c.Window > c.Days:
		return fmt.Errorf("a window of %d days does not fit in %d days of activity", c.Window, c.Days)
	}
	ingest := Config{Events: c.Events, Clients: c.Clients, Batch: c.Batch, Engines: c.Engines, DB: c.DB}
	if err := ingest.valid(); err != nil {
		return err
	}
	c.Engines = ingest.Engines
	return nil
}

// ParseQueryEngines is ParseEngines that also takes "both" for "all".
func ParseQueryEngines(s string, withDB bool) ([]Engine, error) {
	if s == "both" {
		s = "all"
	}
	return ParseEngines(s, withDB)
}

// Query kinds.
const (
	KindMetadata = "metadata" // one subject's window, every category, metadata only
	KindContent  = "content"  // the same, with the content the scope grants opened
	KindText     = "text"     // a text search for PlantWord in the subject's e-mail
)

// Query paths.
const (
	PathReview = "review" // review.Service.Query end to end, access record included
	PathStore  = "store"  // store.QueryEvents alone, as review runs it
)

// QueryReport is what RunQuery prints.
type QueryReport struct {
	Title    string        `json:"title"`
	Settings QuerySettings `json:"settings"`
	Stores   []StoreInfo   `json:"stores"`
	Results  []QueryResult `json:"results"`
}

// QuerySettings records what was run and on what machine.
type QuerySettings struct {
	Window  int `json:"window_days"`
	Queries int `json:"queries"`
	Limit   int `json:"limit"`
	Settings
}

// StoreInfo describes one store the queries ran on.
type StoreInfo struct {
	Engine string `json:"engine"`
	Name   string `json:"name"` // "events" or "email"
	Events int    `json:"events"`
	// Emails is how many of Events are e-mails, Planted how many of those
	// carry PlantWord.
	Emails  int       `json:"emails"`
	Planted int       `json:"planted,omitempty"`
	People  int       `json:"people"`
	From    time.Time `json:"from"` // the first event's time
	To      time.Time `json:"to"`   // the last event's time
	// Reused says the store was built by an earlier run; BuildSeconds is
	// then that run's.
	Reused       bool    `json:"reused"`
	BuildSeconds float64 `json:"build_seconds"`
	StoreBytes   int64   `json:"store_bytes"`
}

// QueryResult is the latency of one kind of query on one path and engine.
type QueryResult struct {
	Engine    string  `json:"engine"`
	Kind      string  `json:"kind"`
	Path      string  `json:"path"`
	Queries   int     `json:"queries"`
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
	MaxMillis float64 `json:"max_ms"`
	// MeanResults is the mean number of events a query returned (at most
	// Limit); MeanInScope the mean number the store holds that the query
	// selects, before the page limit. Every query was checked to return
	// exactly min(in scope, Limit) events.
	MeanResults float64 `json:"mean_results"`
	MeanInScope float64 `json:"mean_in_scope"`
}

// Result returns the result of kind on path and engine, if r has one.
func (r *QueryReport) Result(engine, kind, path string) (QueryResult, bool) {
	for _, res := range r.Results {
		if res.Engine == engine && res.Kind == kind && res.Path == path {
			return res, true
		}
	}
	return QueryResult{}, false
}

// RunQuery builds (or, with Keep, reuses) an events store and an e-mail
// store on each engine, and measures scoped review queries on them:
// cfg.Queries queries of each kind, each under its own authorisation in
// force for one simulated person over cfg.Window days, both end to end
// through review.Service.Query and on the store alone. It fails if any
// query returns other than the events it should; on an error the report
// holds what was measured before it, or is nil.
func RunQuery(ctx context.Context, cfg QueryConfig) (*QueryReport, error) {
	if err := cfg.valid(); err != nil {
		return nil, err
	}
	kept := cfg.Keep != ""
	if !kept {
		dir, err := os.MkdirTemp("", "lbm-bench-query-")
		if err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Keep = dir
	}
	rep := &QueryReport{
		Title: "lbm scoped review queries (authorisation checked, access record durable before results, content decrypted and re-checked)",
		Settings: QuerySettings{Window: cfg.Window, Queries: cfg.Queries, Limit: cfg.Limit,
			Settings: NewSettings(cfg.Events, cfg.People, cfg.Batch, cfg.Clients)},
	}
	for _, e := range cfg.Engines {
		note, err := describe(ctx, Config{DB: cfg.DB}, e)
		if err != nil {
			return nil, err
		}
		rep.Settings.Notes = append(rep.Settings.Notes, note)
	}
	partial := func(err error) (*QueryReport, error) {
		if len(rep.Results) == 0 {
			return nil, err
		}
		return rep, err
	}
	for _, e := range cfg.Engines {
		for _, spec := range corpora(cfg) {
			c, err := openCorpus(ctx, cfg, e, spec, kept)
			if err != nil {
				return partial(fmt.Errorf("%s %s store: %w", e, spec.name, err))
			}
			info := c.info
			results, err := c.measure(ctx, cfg)
			if err == nil {
				info.StoreBytes, err = c.storeBytes(ctx)
			}
			c.close()
			if err != nil {
				return partial(fmt.Errorf("measuring queries on the %s %s store: %w", e, spec.name, err))
			}
			rep.Stores = append(rep.Stores, info)
			rep.Results = append(rep.Results, results...)
		}
	}
	return rep, nil
}

// corpusSpec says what one store holds.
type corpusSpec struct {
	name   string // "events" or "email"
	events int
	people int
	days   int
	email  bool // only e-mails, every PlantEvery-th planted
}

func corpora(cfg QueryConfig) []corpusSpec {
	var out []corpusSpec
	if cfg.Events > 0 {
		out = append(out, corpusSpec{"events", cfg.Events, cfg.People, cfg.Days, false})
	}
	if cfg.EmailEvents > 0 {
		people := (cfg.EmailEvents + cfg.Days*emailsPerPersonDay - 1) / (cfg.Days * emailsPerPersonDay)
		out = append(out, corpusSpec{"email", cfg.EmailEvents, people, cfg.Days, true})
	}
	return out
}

// manifest is what a finished build writes beside its store, so that a
// later run can check and reuse it. It is written last: a store without
// one is an unfinished build.
type manifest struct {
	Version      int       `json:"version"`
	Name         string    `json:"name"`
	Events       int       `json:"events"`
	People       int       `json:"people"`
	Days         int       `json:"days"`
	Start        time.Time `json:"start"`
	PlantWord    string    `json:"plant_word,omitempty"`
	PlantEvery   int       `json:"plant_every,omitempty"`
	DBs          []string  `json:"databases,omitempty"` // PostgreSQL events and keys databases
	BuildSeconds float64   `json:"build_seconds"`
	Census       *census   `json:"census"`
}

const manifestVersion = 1

func (m *manifest) matches(spec corpusSpec) bool {
	want := manifest{Version: manifestVersion, Name: spec.name, Events: spec.events, People: spec.people, Days: spec.days, Start: QueryStart}
	if spec.email {
		want.PlantWord, want.PlantEvery = PlantWord, PlantEvery
	}
	return m.Version == want.Version && m.Name == want.Name && m.Events == want.Events && m.People == want.People &&
		m.Days == want.Days && m.Start.Equal(want.Start) && m.PlantWord == want.PlantWord && m.PlantEvery == want.PlantEvery
}

// census counts what a store holds, per person, day and category, so that
// every query's answer is known without asking the store. An event counts
// for its subject and for each person its related.user names, once each,
// as the store's scoped query selects it.
type census struct {
	People  int       `json:"people"`
	Days    int       `json:"days"`
	Counts  []int32   `json:"counts"`  // [person][day][category]
	Planted []int32   `json:"planted"` // [person][day]: planted e-mails the person sent, sealed under their key
	Emails  int       `json:"emails"`
	Plants  int       `json:"plants"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// scopeCategories are the categories every benchmark authorisation
// covers (every one the simulator writes), and contentCategories those of
// them whose content it grants.
var (
	scopeCategories   = []string{"authentication", "device", "email", "file", "record_query", "telephony", "web"}
	contentCategories = []string{"email", "file", "record_query", "web"}
)

func newCensus(people, days int) *census {
	return &census{People: people, Days: days,
		Counts:  make([]int32, people*days*len(scopeCategories)),
		Planted: make([]int32, people*days)}
}

// person returns the index of a simulated person id, "u00001" being 0.
func (c *census) person(id string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "u"))
	if err != nil || !strings.HasPrefix(id, "u") || n < 1 || n > c.People {
		return 0, false
	}
	return n - 1, true
}

func (c *census) day(t time.Time) (int, bool) {
	d := int(t.Sub(QueryStart) / (24 * time.Hour))
	return d, t.Compare(QueryStart) >= 0 && d < c.Days
}

// add counts e, which is planted if it carries PlantWord.
func (c *census) add(e *event.Event, planted bool) error {
	d, ok := c.day(e.Time)
	cat := slices.Index(scopeCategories, e.Category())
	if !ok || cat < 0 {
		return fmt.Errorf("simulated event at %s of category %q is outside what the benchmark's authorisations cover", e.Time, e.Category())
	}
	if c.First.IsZero() {
		c.First = e.Time
	}
	c.Last = e.Time
	if e.Category() == "email" {
		c.Emails++
	}
	subject := e.Subject()
	seen := make([]string, 0, 4)
	for _, id := range append([]string{subject}, e.Related()...) {
		p, ok := c.person(id)
		if !ok || slices.Contains(seen, id) {
			continue
		}
		seen = append(seen, id)
		c.Counts[(p*c.Days+d)*len(scopeCategories)+cat]++
	}
	if planted {
		c.Plants++
		if p, ok := c.person(subject); ok {
			c.Planted[p*c.Days+d]++
		}
	}
	return nil
}

// inScope returns how many events person p has in days [from, to).
func (c *census) inScope(p, from, to int) int {
	n := 0
	for d := from; d < to; d++ {
		for k := range scopeCategories {
			n += int(c.Counts[(p*c.Days+d)*len(scopeCategories)+k])
		}
	}
	return n
}

// planted returns how many planted e-mails person p sent in days [from, to).
func (c *census) planted(p, from, to int) int {
	n := 0
	for d := from; d < to; d++ {
		n += int(c.Planted[p*c.Days+d])
	}
	return n
}

// corpus is one opened store of a query benchmark.
type corpus struct {
	spec  corpusSpec
	m     *manifest
	node  *server.Node
	r     *run // for storeBytes
	info  StoreInfo
	drop  func() // drops PostgreSQL databases not kept; nil when kept
	label string
}

// openCorpus opens spec's store on engine e under cfg.Keep, reusing a
// finished build whose manifest matches and building one otherwise. A
// store that is not kept has its PostgreSQL databases dropped by close.
func openCorpus(ctx context.Context, cfg QueryConfig, e Engine, spec corpusSpec, kept bool) (_ *corpus, err error) {
	dir := filepath.Join(cfg.Keep, string(e)+"-"+spec.name)
	c := &corpus{spec: spec, label: string(e) + "/" + spec.name, r: &run{engine: e, dir: dir}}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if e == PostgreSQL {
		if c.r.pg, err = newPGServer(cfg.DB); err != nil {
			return nil, err
		}
	}
	mpath := filepath.Join(dir, "bench-manifest.json")
	if b, err := os.ReadFile(mpath); err == nil {
		var m manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("reading %s: %v", mpath, err)
		}
		if !m.matches(spec) {
			return nil, fmt.Errorf("%s holds a store built with other settings; give another --keep directory or remove it", dir)
		}
		c.m, c.r.dbs = &m, m.DBs
		if err := c.open(ctx, e, dir); err != nil {
			return nil, err
		}
		if _, err := checkLog(ctx, c.node, m.Events); err != nil {
			return nil, err
		}
		c.info = c.storeInfo(e, true)
		return c, nil
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%s holds an unfinished build or something else; remove it", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	m := &manifest{Version: manifestVersion, Name: spec.name, Events: spec.events, People: spec.people, Days: spec.days, Start: QueryStart}
	if spec.email {
		m.PlantWord, m.PlantEvery = PlantWord, PlantEvery
	}
	if e == PostgreSQL {
		events, keys, drop, err := c.r.pg.createDatabases(ctx)
		if err != nil {
			return nil, err
		}
		c.r.dbs, m.DBs = []string{events, keys}, []string{events, keys}
		c.drop = drop
	}
	c.m = m
	if err := c.open(ctx, e, dir); err != nil {
		return nil, err
	}
	if err := c.build(ctx, cfg); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(mpath, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing the store's manifest: %w", err)
	}
	if kept {
		c.drop = nil // it must outlive this run
	}
	c.info = c.storeInfo(e, false)
	return c, nil
}

func (c *corpus) open(ctx context.Context, e Engine, dir string) error {
	scfg := server.Config{DataDir: dir}
	if e == PostgreSQL {
		if len(c.r.dbs) != 2 {
			return errors.New("the store's manifest names no PostgreSQL databases")
		}
		scfg.DB, scfg.KeysDB = c.r.pg.dsn(c.r.dbs[0]), c.r.pg.dsn(c.r.dbs[1])
	}
	n, err := server.Open(ctx, scfg)
	if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	c.node = n
	return nil
}

func (c *corpus) storeInfo(e Engine, reused bool) StoreInfo {
	m := c.m
	return StoreInfo{Engine: string(e), Name: m.Name, Events: m.Events, Emails: m.Census.Emails, Planted: m.Census.Plants,
		People: m.People, From: m.Census.First, To: m.Census.Last, Reused: reused, BuildSeconds: m.BuildSeconds}
}

func (c *corpus) storeBytes(ctx context.Context) (int64, error) { return c.r.storeBytes(ctx) }

func (c *corpus) close() {
	if c.node != nil {
		c.node.Close()
		c.node = nil
	}
	if c.drop != nil {
		c.drop()
	}
}

// benchAuthoriser decides every benchmark request. Each request has an
// investigator of its own (see investigators).
const benchAuthoriser = "sue"

// build fills the store: the simulated force and two reviewers in the
// directory, then spec.events simulated events appended through the
// activity log's writer (parsed, sealed, committed) from cfg.Clients
// goroutines, counted in the census as they go.
func (c *corpus) build(ctx context.Context, cfg QueryConfig) error {
	now := time.Now().UTC()
	sim := simulate.Config{People: c.spec.people, Days: c.spec.days, Start: QueryStart, Seed: 1}
	var people []store.Person
	for _, p := range simulate.People(sim) {
		people = append(people, store.Person{ID: p.ID, Name: p.Name, Number: p.Collar, Unit: p.Unit, Rank: p.Rank,
			Roles: []string{"staff"}, Updated: now})
	}
	people = append(people, store.Person{ID: benchAuthoriser, Name: "Sue Bench", Unit: "ACAC", Rank: "superintendent", Roles: []string{"authoriser", "staff"}, Updated: now})
	if _, _, err := c.node.Store.PutPeople(ctx, people); err != nil {
		return fmt.Errorf("storing the simulated force: %w", err)
	}

	cs := newCensus(c.spec.people, c.spec.days)
	c.m.Census = cs
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := c.node.Logs[c.node.ActivityLog].Writer
	queue := make(chan []*event.Event, cfg.Clients)
	var wg sync.WaitGroup
	if cfg.Progress != nil {
		cfg.Progress.Start(c.label, c.spec.events)
		defer cfg.Progress.Finish()
	}
	start := time.Now()
	for range cfg.Clients {
		wg.Go(func() {
			for evs := range queue {
				if ctx.Err() != nil {
					continue // drain
				}
				if _, err := appendAll(ctx, w, evs); err != nil {
					cancel(err)
					continue
				}
				if cfg.Progress != nil {
					cfg.Progress.Add(len(evs))
				}
			}
		})
	}
	n, emails := 0, 0
	batch := make([]*event.Event, 0, cfg.Batch)
	err := generate(ctx, sim, func(line []byte) (bool, error) {
		if c.spec.email && !bytes.Contains(line, []byte(`"category":"email"`)) {
			return true, nil
		}
		planted := false
		if c.spec.email {
			planted = emails%PlantEvery == 0
			emails++
			if planted {
				line = plant(line)
			}
		}
		ev, err := event.Parse(line, source)
		if err != nil {
			return false, fmt.Errorf("parsing simulated event: %w", err)
		}
		if err := cs.add(ev, planted); err != nil {
			return false, err
		}
		n++
		batch = append(batch, ev)
		if len(batch) == cfg.Batch || n == c.spec.events {
			select {
			case queue <- batch:
			case <-ctx.Done():
				return false, context.Cause(ctx)
			}
			batch = make([]*event.Event, 0, cfg.Batch)
		}
		return n < c.spec.events, nil
	})
	close(queue)
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		return err
	}
	if n < c.spec.events {
		return fmt.Errorf("%d simulated people over %d days gave only %d events, not %d: give more people", c.spec.people, c.spec.days, n, c.spec.events)
	}
	if _, err := checkLog(ctx, c.node, n); err != nil {
		return err
	}
	if c.r.pg != nil {
		// In service, autovacuum marks the pages of finished months
		// all-visible, which lets a scoped query choose its page by
		// index-only scans; a store loaded minutes ago is not yet
		// vacuumed, so the build does what autovacuum would, and its time
		// counts in the build's.
		if _, err := c.r.pg.query(ctx, c.r.dbs[0], `VACUUM (ANALYZE)`); err != nil {
			return fmt.Errorf("vacuuming the store: %w", err)
		}
	}
	c.m.BuildSeconds = time.Since(start).Seconds()
	return nil
}

// plant returns line with PlantWord at the start of its content.body.
func plant(line []byte) []byte {
	return bytes.Replace(line, []byte(`"body":"`), []byte(`"body":"`+PlantWord+` `), 1)
}

var errEnough = errors.New("enough events")

// generate streams sim's events to keep, a copy of each line, in order,
// until keep says stop or fails; it never holds more than a buffer of
// them, so that ten million events need no gigabytes.
func generate(ctx context.Context, sim simulate.Config, keep func(line []byte) (bool, error)) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := simulate.Generate(pw, sim)
		pw.CloseWithError(err)
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var err error
	for sc.Scan() {
		if err = ctx.Err(); err != nil {
			break
		}
		var more bool
		if more, err = keep(bytes.Clone(sc.Bytes())); err != nil || !more {
			break
		}
	}
	if err == nil {
		err = sc.Err()
	}
	pr.CloseWithError(errEnough)
	if gerr := <-done; err == nil && gerr != nil && !errors.Is(gerr, errEnough) {
		err = fmt.Errorf("generating events: %w", gerr)
	}
	return err
}

// probe is one planned query: a person and a window of days.
type probe struct {
	person       int
	from, to     int    // days from QueryStart, [from, to)
	investigator string // who asked for and uses the authorisation
	request      string
}

func (p probe) subject() string { return fmt.Sprintf("u%05d", p.person+1) }

func dayTime(d int) time.Time { return QueryStart.AddDate(0, 0, d) }

// plan draws n probes over the store's whole days, the same ones for the
// same seed and store.
func (c *corpus) plan(seed uint64, n, window int) []probe {
	cs := c.m.Census
	days := min(cs.Days, int(cs.Last.Sub(QueryStart)/(24*time.Hour))) // whole days held
	window = min(window, max(days, 1))
	r := rand.New(rand.NewPCG(seed, uint64(cs.People)))
	out := make([]probe, n)
	for i := range out {
		from := 0
		if days > window {
			from = r.IntN(days - window + 1)
		}
		out[i] = probe{person: r.IntN(cs.People), from: from, to: from + window}
	}
	return out
}

// measure runs cfg.Queries queries of each kind this store serves on both
// paths, each on probes of its own, so that no query finds its data in a
// cache that an earlier one of the same subject and window filled.
func (c *corpus) measure(ctx context.Context, cfg QueryConfig) ([]QueryResult, error) {
	var out []QueryResult
	kinds := []string{KindMetadata, KindContent}
	if c.spec.email {
		kinds = []string{KindText}
	}
	for i, kind := range kinds {
		for j, path := range []string{PathReview, PathStore} {
			probes := c.plan(uint64(1+2*i+j), cfg.Queries, cfg.Window)
			res, err := c.measureKind(ctx, cfg, kind, path, probes)
			if err != nil {
				return nil, fmt.Errorf("%s queries through %s: %w", kind, path, err)
			}
			out = append(out, res)
		}
	}
	return out, nil
}

const justification = "Checking whether the officer looked up or sent the complainant's address to anyone outside the force."

func (c *corpus) measureKind(ctx context.Context, cfg QueryConfig, kind, path string, probes []probe) (QueryResult, error) {
	res := QueryResult{Engine: string(c.r.engine), Kind: kind, Path: path, Queries: len(probes)}
	if path == PathReview {
		ids, err := c.investigators(ctx, len(probes))
		if err != nil {
			return res, err
		}
		for i := range probes {
			probes[i].investigator = ids[i]
			if probes[i].request, err = c.authorise(ctx, probes[i]); err != nil {
				return res, fmt.Errorf("authorising query %d: %w", i+1, err)
			}
		}
	}
	latencies := make([]time.Duration, 0, len(probes))
	var results, inScope int
	for i, p := range probes {
		want := c.m.Census.inScope(p.person, p.from, p.to)
		if kind == KindText {
			want = c.m.Census.planted(p.person, p.from, p.to)
		}
		var took time.Duration
		var got int
		var err error
		if path == PathReview {
			in := review.QueryInput{Justification: justification, Limit: cfg.Limit, Filter: review.Filter{Content: kind != KindMetadata}}
			if kind == KindText {
				in.Text = PlantWord
			}
			var inv identity.Principal
			if inv, err = c.principal(ctx, p.investigator, identity.RoleInvestigator); err != nil {
				return res, err
			}
			t0 := time.Now()
			var r review.Result
			r, err = c.node.Review.Query(ctx, inv, p.request, in)
			took = time.Since(t0)
			got = len(r.Events)
			if err == nil && r.AccessRecord == 0 {
				err = errors.New("no access record")
			}
			if err == nil && kind != KindMetadata {
				err = checkOpened(r, kind)
			}
		} else {
			took, got, err = c.storeQuery(ctx, p, kind, cfg.Limit)
		}
		if err != nil {
			return res, fmt.Errorf("query %d (%s, days %d-%d): %w", i+1, p.subject(), p.from, p.to, err)
		}
		if w := min(want, cfg.Limit); got != w {
			return res, fmt.Errorf("query %d (%s, days %d-%d) returned %d events, want %d (of %d in scope)", i+1, p.subject(), p.from, p.to, got, w, want)
		}
		latencies = append(latencies, took)
		results += got
		inScope += want
	}
	slices.Sort(latencies)
	res.P50Millis = millis(quantile(latencies, 0.50))
	res.P99Millis = millis(quantile(latencies, 0.99))
	if len(latencies) > 0 {
		res.MaxMillis = millis(latencies[len(latencies)-1])
		res.MeanResults = float64(results) / float64(len(latencies))
		res.MeanInScope = float64(inScope) / float64(len(latencies))
	}
	return res, nil
}

// checkOpened fails unless the content a query asked for was opened: a
// text search shows every result's body with the planted word, a
// content query some content field in every e-mail it shows.
func checkOpened(r review.Result, kind string) error {
	for _, ev := range r.Events {
		var content, word bool
		for _, f := range ev.Fields {
			if strings.HasPrefix(f.Name, "content.") {
				content = true
				word = word || bytes.Contains(f.Value, []byte(PlantWord))
			}
		}
		switch {
		case kind == KindText && !word:
			return fmt.Errorf("event %s came back from a search for %q without it", ev.ID, PlantWord)
		case !content && slices.ContainsFunc(ev.Fields, func(f review.Shown) bool {
			return f.Name == "event.category" && string(f.Value) == `"email"`
		}):
			return fmt.Errorf("e-mail %s came back without its content", ev.ID)
		}
	}
	return nil
}

// storeQuery runs on the store alone what review.Service.Query would for
// p: the same EventQuery (and, for a text search, one per month with the
// terms blinded under the subject's key for it, blinded before the clock
// starts), and returns the time the store took and how many entries the
// page holds.
func (c *corpus) storeQuery(ctx context.Context, p probe, kind string, limit int) (time.Duration, int, error) {
	q := store.EventQuery{Logs: []string{server.Activity}, People: []string{p.subject()}, From: dayTime(p.from).UnixNano(), To: dayTime(p.to).UnixNano(),
		Categories: scopeCategories, Limit: limit + 1}
	if kind != KindText {
		t0 := time.Now()
		got, err := c.node.Store.QueryEvents(ctx, q)
		return time.Since(t0), min(len(got), limit), err
	}
	var subs []store.EventQuery
	from, to := dayTime(p.from), dayTime(p.to)
	for month := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); month.Before(to); month = month.AddDate(0, 1, 0) {
		_, terms, err := record.BlindQuery(ctx, c.node.Ring, p.subject(), month, PlantWord)
		if errors.Is(err, store.ErrNotFound) {
			continue // the subject has no content that month
		}
		if err != nil {
			return 0, 0, err
		}
		sub := q
		sub.Terms, sub.TermCategories = terms, contentCategories
		sub.From, sub.To = max(q.From, month.UnixNano()), min(q.To, month.AddDate(0, 1, 0).UnixNano())
		subs = append(subs, sub)
	}
	n := 0
	t0 := time.Now()
	for _, sub := range subs {
		got, err := c.node.Store.QueryEvents(ctx, sub)
		if err != nil {
			return 0, 0, err
		}
		n += len(got)
	}
	return time.Since(t0), min(n, limit), nil
}

func (c *corpus) principal(ctx context.Context, id string, role identity.Role) (identity.Principal, error) {
	p, err := c.node.Store.PersonByID(ctx, id)
	if err != nil {
		return identity.Principal{}, fmt.Errorf("finding %s: %w", id, err)
	}
	return identity.Principal{Kind: identity.KindUser, Subject: id, Role: role, Person: &p}, nil
}

// investigators adds n investigators to the directory, new ones on every
// call, and returns their ids. Each request gets its own: the request
// flow refuses justifications that copy the same requester's recent
// requests, and compares a new request with every one of them, so one
// investigator making hundreds of requests would measure that instead.
func (c *corpus) investigators(ctx context.Context, n int) ([]string, error) {
	now := time.Now().UTC()
	run := strconv.FormatInt(now.UnixNano(), 36)
	ids := make([]string, n)
	people := make([]store.Person, n)
	for i := range people {
		ids[i] = fmt.Sprintf("bench-%s-%d", run, i+1)
		people[i] = store.Person{ID: ids[i], Name: fmt.Sprintf("Investigator %d", i+1), Unit: "ACAC", Rank: "sergeant",
			Roles: []string{"investigator", "staff"}, Updated: now}
	}
	if _, _, err := c.node.Store.PutPeople(ctx, people); err != nil {
		return nil, fmt.Errorf("adding investigators: %w", err)
	}
	return ids, nil
}

// authorise makes, submits and authorises a review of p's subject and
// window through the request flow, as investigator and authoriser would,
// and returns the request's id.
func (c *corpus) authorise(ctx context.Context, p probe) (string, error) {
	ivy, err := c.principal(ctx, p.investigator, identity.RoleInvestigator)
	if err != nil {
		return "", err
	}
	sue, err := c.principal(ctx, benchAuthoriser, identity.RoleAuthoriser)
	if err != nil {
		return "", err
	}
	// Every justification must stand on its own: no two in a request may
	// be near copies, so each is written apart, and the reference keeps
	// requests apart.
	ref := fmt.Sprintf("BENCH-%d", time.Now().UnixNano())
	txt := func(s string) string { return s + " (" + ref + ")" }
	cats := make([]requests.CategoryScope, len(scopeCategories))
	for i, cat := range scopeCategories {
		cats[i] = requests.CategoryScope{Category: cat, Content: slices.Contains(contentCategories, cat)}
	}
	w := requests.Request{
		Subjects: []string{p.subject()}, Investigators: []string{p.investigator}, Categories: cats,
		Mode: consent.ModeReview, Window: &requests.Window{From: dayTime(p.from), To: dayTime(p.to)},
		Purpose: "PREVENT_DETECT_CRIME", Investigation: consent.Misconduct,
		Operation: requests.Operation{Name: "Bench", Reference: ref}, DPIAReference: "DPIA-BENCH",
		Necessity: txt("A member of the public reports that the officer knew her new address days after she moved; only police systems held it."),
		Criteria: map[string]string{
			"NOTICE":            txt("The officer acknowledged the force monitoring notice that covers every category this review reads."),
			"EXTENT":            txt("One month of activity of one officer, with content only for mail, files, records and the web."),
			"LEGITIMATE_REASON": txt("Using police systems to trace a former partner would be gross misconduct and possibly an offence."),
			"LESS_INTRUSIVE":    txt("The audit summary shows a lookup happened but not its purpose; asking first would warn them."),
			"CONSEQUENCES":      txt("A misconduct meeting or hearing may follow; unrelated private correspondence is neither read nor kept."),
			"SAFEGUARDS":        txt("One named investigator, everyone else pseudonymised, results held in the standards case file only."),
			"REMEDY":            txt("The officer sees the evidence before any hearing, may challenge it there, and may complain to the IOPC."),
		},
		Collateral: requests.Collateral{Level: consent.CollateralLow,
			Explanation: txt("Colleagues who exchanged mail with the officer appear in the results, under pseudonyms only.")},
	}
	r, err := c.node.Requests.Create(ctx, ivy, w)
	if err == nil {
		r, err = c.node.Requests.Submit(ctx, ivy, r.ID)
	}
	if err != nil {
		return "", err
	}
	views := map[string]string{
		"NOTICE":            txt("The notice covered these categories, so monitoring of this kind was foreseeable to the officer."),
		"EXTENT":            txt("A month, with content only where the scope names it, is as narrow as the question allows."),
		"LEGITIMATE_REASON": txt("Protecting a member of the public from misuse of police data is a pressing and legitimate aim."),
		"LESS_INTRUSIVE":    txt("I agree the audit summary cannot show purpose and that asking first would defeat the inquiry."),
		"CONSEQUENCES":      txt("Serious for the officer if proven; the handling rules keep private matters out of the file."),
		"SAFEGUARDS":        txt("Named investigators and pseudonyms for others are proportionate to what is being examined."),
		"REMEDY":            txt("The officer keeps every route of challenge, at the hearing and to the IOPC, as the request says."),
	}
	r, err = c.node.Requests.Act(ctx, sue, r.ID, func(by requests.Actor) requests.Action {
		return requests.Decide{By: by, Authorise: true, Views: views,
			Reasons: txt("The complainant's account is specific and only police systems held the address, so a focused review is justified.")}
	})
	if err != nil {
		return "", err
	}
	return r.ID, nil
}

// WriteJSON writes r as one indented JSON object.
func (r *QueryReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as tables for people.
func (r *QueryReport) WriteText(w io.Writer) error {
	s := r.Settings
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n\n", r.Title)
	fmt.Fprintf(tw, "query\tone simulated person, %d days, every category; page of at most %d results\n", s.Window, s.Limit)
	fmt.Fprintf(tw, "queries\t%d of each kind and path, each under its own authorisation\n", s.Queries)
	fmt.Fprintf(tw, "text\t%q, planted in every %dth e-mail of the e-mail store\n", PlantWord, PlantEvery)
	s.writeMachine(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tstore\tevents\te-mails\tplanted\tpeople\tfrom\tto\tbuilt in\treused\tstored B/event\t")
	for _, st := range r.Stores {
		perEvent := 0.0
		if st.Events > 0 {
			perEvent = float64(st.StoreBytes) / float64(st.Events)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%t\t%.0f\t\n", st.Engine, st.Name, st.Events, st.Emails, st.Planted, st.People,
			st.From.Format(time.DateOnly), st.To.Format(time.DateOnly), time.Duration(st.BuildSeconds*float64(time.Second)).Round(time.Second), st.Reused, perEvent)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tquery\tthrough\tqueries\tp50\tp99\tmax\tresults/query\tin scope/query\t")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.1f\t%.1f\t\n", res.Engine, res.Kind, res.Path, res.Queries,
			formatMillis(res.P50Millis), formatMillis(res.P99Millis), formatMillis(res.MaxMillis), res.MeanResults, res.MeanInScope)
	}
	return tw.Flush()
}
