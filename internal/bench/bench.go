package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/simulate"
)

// Mode is a way of feeding the log.
type Mode string

// Modes.
const (
	InProcess Mode = "inprocess" // parse and ingest.Writer.Append, no HTTP
	HTTP      Mode = "http"      // POST /v1/events to the real server on loopback
	Syslog    Mode = "syslog"    // RFC 5424 over TCP to the real server's listener
)

// ParseModes parses "inprocess", "http", "syslog", "nodes", "both" (in
// process and HTTP) or "all" (but nodes).
func ParseModes(s string) ([]Mode, error) {
	switch s {
	case "both":
		return []Mode{InProcess, HTTP}, nil
	case "all":
		return []Mode{InProcess, HTTP, Syslog}, nil
	case string(InProcess), string(HTTP), string(Syslog), string(Nodes):
		return []Mode{Mode(s)}, nil
	}
	return nil, fmt.Errorf("unknown mode %q", s)
}

// Engine is a storage engine lbm runs on.
type Engine string

// Engines.
const (
	SQLite     Engine = "sqlite"   // the embedded default: files in the data directory
	PostgreSQL Engine = "postgres" // fresh databases on Config.DB's server
)

// ParseEngines parses "sqlite", "postgres" or "all"; all is SQLite, and
// PostgreSQL too when withDB.
func ParseEngines(s string, withDB bool) ([]Engine, error) {
	switch s {
	case "all":
		if withDB {
			return []Engine{SQLite, PostgreSQL}, nil
		}
		return []Engine{SQLite}, nil
	case string(SQLite), string(PostgreSQL):
		return []Engine{Engine(s)}, nil
	}
	return nil, fmt.Errorf("unknown engine %q", s)
}

// Progress is told how a timed run advances. Add is called from several
// goroutines at once; Start and Finish are not.
type Progress interface {
	Start(run string, total int) // the clock starts for total events of run, "ENGINE/MODE"
	Add(n int)                   // n more events were acknowledged
	Finish()                     // the run is over, successful or not
}

// Timer brackets the timed part of a run. *testing.B satisfies it, so that a
// Go benchmark measures only what the command measures.
type Timer interface {
	StartTimer()
	StopTimer()
}

// Config configures a run. Zero values are the documented defaults.
type Config struct {
	// Events is how many events to ingest. Default 100000.
	Events int
	// People is the size of the simulated force. Default 1000, which gives
	// about 38000 events a simulated day.
	People int
	// Clients is the number of concurrent appenders (InProcess) or HTTP
	// clients (HTTP). Default 8. The server admits 64 ingest requests at a
	// time; more clients get 503s, which they retry (counted in
	// Result.Retries).
	Clients int
	// Batch is the number of events per append or request. Default 1000;
	// at most ingest.MaxBatchEvents.
	Batch int
	// Modes are the modes Run measures, in order. Default both.
	Modes []Mode
	// Engines are the engines Run measures each mode on, in order. Default
	// SQLite, then PostgreSQL when DB is set.
	Engines []Engine
	// DB is the URL of a PostgreSQL server, postgres://USER@HOST/NAME,
	// whose role may create databases. Each PostgreSQL run creates a fresh
	// events and keys database there (named lbm_bench_*) and drops both
	// when it ends. Required for PostgreSQL; the databases also need psql
	// on PATH.
	DB string
	// DataDir is where each run opens its data directory: DataDir/MODE on
	// SQLite, DataDir/postgres-MODE (keys only) on PostgreSQL. Default: a
	// temporary directory, removed afterwards. A run refuses a data
	// directory that is already in use.
	DataDir string
	// Detect runs the detection rules in force (the built-in pack) on the
	// activity log while ingesting, as lbm serve does: the runs then
	// measure ingest with detection competing for the same cores, and
	// each Result says how long detection took to catch up afterwards.
	Detect bool
	// Progress, when set, is told how each run advances.
	Progress Progress
	// Timer, when set, is started and stopped around each timed part.
	Timer Timer
}

func (c *Config) valid() error {
	switch {
	case c.Events < 0 || c.People < 0 || c.Clients < 0 || c.Batch < 0:
		return errors.New("events, people, clients and batch must not be negative")
	case c.Batch > ingest.MaxBatchEvents:
		return fmt.Errorf("batch %d exceeds the server's limit of %d events a request", c.Batch, ingest.MaxBatchEvents)
	}
	if c.Events == 0 {
		c.Events = 100_000
	}
	if c.People == 0 {
		c.People = 1000
	}
	if c.Clients == 0 {
		c.Clients = 8
	}
	if c.Batch == 0 {
		c.Batch = 1000
	}
	if len(c.Modes) == 0 {
		c.Modes = []Mode{InProcess, HTTP}
	}
	for _, m := range c.Modes {
		if m != InProcess && m != HTTP && m != Syslog && m != Nodes {
			return fmt.Errorf("unknown mode %q", m)
		}
	}
	if len(c.Engines) == 0 {
		c.Engines, _ = ParseEngines("all", c.DB != "")
	}
	if slices.Contains(c.Modes, Nodes) && (c.DB == "" || slices.Contains(c.Engines, SQLite)) {
		return errors.New("measuring several nodes needs PostgreSQL (--db, --engine postgres): a SQLite store serves one node")
	}
	for _, e := range c.Engines {
		switch {
		case e != SQLite && e != PostgreSQL:
			return fmt.Errorf("unknown engine %q", e)
		case e == PostgreSQL && c.DB == "":
			return errors.New("measuring PostgreSQL needs the URL of a server to create databases on")
		}
	}
	return nil
}

// Lines returns n events from internal/simulate (seed 1) for a force of
// people, as NDJSON lines without newlines: the first n lines of the
// shortest whole number of simulated days that has n. The same n and people
// always give the same bytes. It costs about 1.3 s of CPU a million events.
func Lines(n, people int) ([][]byte, error) {
	if n <= 0 || people <= 0 {
		return nil, fmt.Errorf("generating events: need a positive count and force size, not %d and %d", n, people)
	}
	// A simulated person averages about 38 events a day; aim a little low
	// and grow the window until it holds n.
	days := max(1, (n+people*45-1)/(people*45))
	for {
		lines, err := simulate.Events(simulate.Config{People: people, Days: days, Seed: 1})
		if err != nil {
			return nil, fmt.Errorf("generating events: %w", err)
		}
		if len(lines) >= n {
			return lines[:n:n], nil
		}
		if len(lines) == 0 {
			// A tiny force can be off duty for days: widen the window.
			days *= 2
			continue
		}
		days = max(days+1, int(float64(days)*float64(n)/float64(len(lines))*1.05)+1)
	}
}

// Run generates cfg.Events lines and measures each of cfg.Modes on them on
// each of cfg.Engines, in order, each in a fresh data directory and store.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.valid(); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "lbm-bench-")
		if err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	lines, err := Lines(cfg.Events, cfg.People)
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Title:    "lbm durable ingest (every event acknowledged only once committed, content encrypted)",
		Settings: NewSettings(cfg.Events, cfg.People, cfg.Batch, cfg.Clients),
	}
	for _, e := range cfg.Engines {
		note, err := describe(ctx, cfg, e)
		if err != nil {
			return nil, err
		}
		rep.Settings.Notes = append(rep.Settings.Notes, note)
	}
	for _, e := range cfg.Engines {
		for _, m := range cfg.Modes {
			var res Result
			var err error
			switch m {
			case InProcess:
				res, err = RunInProcess(ctx, cfg, e, lines)
			case HTTP:
				res, err = RunHTTP(ctx, cfg, e, lines)
			case Syslog:
				res, err = RunSyslog(ctx, cfg, e, lines)
			case Nodes:
				for _, k := range []int{1, 2} {
					if res, err = RunNodes(ctx, cfg, lines, k); err != nil {
						break
					}
					if k == 1 {
						rep.Results = append(rep.Results, res)
					}
				}
			}
			if err != nil {
				return nil, fmt.Errorf("measuring %s ingest on %s: %w", m, e, err)
			}
			rep.Results = append(rep.Results, res)
		}
	}
	return rep, nil
}

// describe says how engine e makes a commit durable, for the report.
func describe(ctx context.Context, cfg Config, e Engine) (string, error) {
	if e == SQLite {
		return "sqlite: WAL, synchronous=FULL, in the data directory", nil
	}
	srv, err := newPGServer(cfg.DB)
	if err != nil {
		return "", err
	}
	d, err := srv.describe(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the PostgreSQL server's settings: %w", err)
	}
	return "postgres: " + d, nil
}

// modeDir returns the data directory of mode m on engine e under
// cfg.DataDir, or a new temporary one (and a function removing it) when
// cfg.DataDir is empty, as it is for direct calls of RunInProcess and
// RunHTTP.
func modeDir(cfg Config, e Engine, m Mode) (string, func(), error) {
	if cfg.DataDir != "" {
		if e == SQLite {
			// Where runs before there were engines kept them.
			return filepath.Join(cfg.DataDir, string(m)), func() {}, nil
		}
		return filepath.Join(cfg.DataDir, string(e)+"-"+string(m)), func() {}, nil
	}
	dir, err := os.MkdirTemp("", "lbm-bench-")
	if err != nil {
		return "", nil, fmt.Errorf("creating data directory: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// batches splits lines into runs of at most n.
func batches(lines [][]byte, n int) [][][]byte {
	var out [][][]byte
	for len(lines) > 0 {
		k := min(n, len(lines))
		out = append(out, lines[:k:k])
		lines = lines[k:]
	}
	return out
}

// ndjsonBytes is the size of lines as NDJSON, a newline after each.
func ndjsonBytes(lines [][]byte) int64 {
	var n int64
	for _, l := range lines {
		n += int64(len(l)) + 1
	}
	return n
}

// Settings records what was run and where.
type Settings struct {
	Events     int      `json:"events"`
	People     int      `json:"people"`
	Batch      int      `json:"batch"`
	Clients    int      `json:"clients"`
	Notes      []string `json:"notes,omitempty"` // settings particular to the system measured
	GOMAXPROCS int      `json:"gomaxprocs"`
	NumCPU     int      `json:"num_cpu"`
	CPU        string   `json:"cpu"` // model name from /proc/cpuinfo
	Go         string   `json:"go"`  // runtime.Version()
	Platform   string   `json:"platform"`
}

// writeMachine writes the settings' notes and the machine's details, a
// line each, as every report's header ends.
func (s Settings) writeMachine(w io.Writer) {
	for _, n := range s.Notes {
		fmt.Fprintf(w, "setting\t%s\n", n)
	}
	fmt.Fprintf(w, "cpu\t%s, %d CPUs, GOMAXPROCS %d\n", s.CPU, s.NumCPU, s.GOMAXPROCS)
	fmt.Fprintf(w, "go\t%s %s\n", s.Go, s.Platform)
}

// NewSettings returns the settings with this machine's details filled in.
func NewSettings(events, people, batch, clients int) Settings {
	return Settings{
		Events: events, People: people, Batch: batch, Clients: clients,
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), CPU: cpuModel(),
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Result is one measured run.
type Result struct {
	Mode            string  `json:"mode"`
	Engine          string  `json:"engine"`
	Events          int     `json:"events"` // acknowledged
	Bytes           int64   `json:"bytes"`  // NDJSON bytes of the acknowledged events
	Seconds         float64 `json:"seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	MBPerSecond     float64 `json:"mb_per_second"`
	// Sample says what one latency sample is: "batch", "request", "entry".
	Sample    string  `json:"latency_sample"`
	Samples   int     `json:"latency_samples"`
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
	Retries   int     `json:"retries"`  // batches refused as overloaded and sent again
	LogSize   uint64  `json:"log_size"` // entries in the log afterwards, checked equal to Events
	// Commits is how many transactions the activity log's single writer
	// committed, and WriterBusy the fraction of the run's wall time it
	// spent in them (the store's UpdateLog: duplicate lookup, tree
	// extension, writing entries and tiles, commit). Near 1, the writer is
	// the bottleneck; well below, the callers' parsing and sealing are.
	Commits    int     `json:"commits"`
	WriterBusy float64 `json:"writer_busy"`
	// StoreBytes is how much the run grew the store on disk: the SQLite
	// files, or pg_database_size of both PostgreSQL databases (not the
	// cluster's write-ahead log).
	StoreBytes int64 `json:"store_bytes"`
	// Detect says the detection rules ran during the run; DetectCatchUp
	// is how long after the last acknowledgement they took to reach the
	// end of the log, and Alerts how many alerts they raised.
	Detect        bool    `json:"detect"`
	DetectCatchUp float64 `json:"detect_catch_up_seconds"`
	Alerts        uint64  `json:"alerts"`
}

// NewResult computes a Result from raw measurements. It sorts latencies.
func NewResult(mode string, events int, bytes int64, elapsed time.Duration, sample string, latencies []time.Duration) Result {
	slices.Sort(latencies)
	s := elapsed.Seconds()
	r := Result{
		Mode: mode, Events: events, Bytes: bytes, Seconds: s,
		Sample: sample, Samples: len(latencies),
		P50Millis: millis(quantile(latencies, 0.50)),
		P99Millis: millis(quantile(latencies, 0.99)),
	}
	if s > 0 {
		r.EventsPerSecond = float64(events) / s
		r.MBPerSecond = float64(bytes) / 1e6 / s
	}
	return r
}

// quantile returns the nearest-rank q-quantile of sorted, or 0 if empty.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
