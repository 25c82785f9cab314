// Package pipeline is the capture.Sink of a node: it maps records under
// the mappings in force, resolving people through an in-memory index of
// the directory, holds each source to its rate limit, and appends the
// events through the activity log's writer.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/mapping"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/store"
)

// Appender appends events durably: the activity log's ingest.Writer.
type Appender interface {
	Append(ctx context.Context, evs []*event.Event) (ingest.Result, error)
}

// Config configures a Pipeline.
type Config struct {
	Log Appender
	// Mappings loads the mappings in force (DATA/mappings); the pipeline
	// calls it at start and whenever Reload is called.
	Mappings func() (*mapping.Set, error)
	// People loads the directory's keys for subject resolution; called on
	// the first Submit and again when DirectoryRefresh has passed.
	People func(ctx context.Context) ([]store.PersonKeys, error)
	// Sources reports whether a source is registered.
	Sources func(ctx context.Context, source string) (bool, error)
	// DirectoryRefresh is how old the directory may grow before it is
	// read again. Default 1 minute.
	DirectoryRefresh time.Duration
	Logger           *slog.Logger
	Now              func() time.Time
}

// Pipeline is the capture.Sink of a node: it maps records under the
// mappings in force, resolving people through the directory, keeps a
// source to its rate limit, and appends to the activity log.
type Pipeline struct {
	cfg      Config
	mappings atomic.Pointer[mapping.Set]
	dir      *Directory

	mu       sync.Mutex
	buckets  map[string]*bucket
	known    map[string]bool
	metrics  *pipelineMetrics
	dirMu    sync.Mutex // one directory refresh at a time
	dirStale atomic.Bool
}

// New loads the mappings and returns the pipeline; a bad mapping file is
// an error here, so a node never serves with a mapping silently ignored.
func New(ctx context.Context, cfg Config) (*Pipeline, error) {
	if cfg.Log == nil || cfg.Mappings == nil || cfg.People == nil || cfg.Sources == nil {
		return nil, errors.New("capture: the pipeline needs a log, mappings, the directory and the sources")
	}
	if cfg.DirectoryRefresh <= 0 {
		cfg.DirectoryRefresh = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Pipeline{cfg: cfg, dir: &Directory{}, buckets: map[string]*bucket{}, known: map[string]bool{}}
	if err := p.Reload(); err != nil {
		return nil, err
	}
	// The directory is read on the first Submit, not here: a node opened
	// by an offline command never captures anything.
	return p, nil
}

// Reload reads the mappings again; on error the ones in force stay.
func (p *Pipeline) Reload() error {
	set, err := p.cfg.Mappings()
	if err != nil {
		return fmt.Errorf("capture mappings: %w", err)
	}
	p.mappings.Store(set)
	p.mu.Lock()
	p.buckets = map[string]*bucket{} // limits may have changed
	p.mu.Unlock()
	return nil
}

// Mappings returns the mappings in force.
func (p *Pipeline) Mappings() *mapping.Set { return p.mappings.Load() }

// Directory returns the resolver the pipeline maps with.
func (p *Pipeline) Directory() *Directory { return p.dir }

// InvalidateDirectory makes the next Submit read the directory again
// (after an import).
func (p *Pipeline) InvalidateDirectory() { p.dirStale.Store(true) }

func (p *Pipeline) refreshDirectory(ctx context.Context) error {
	p.dirMu.Lock()
	defer p.dirMu.Unlock()
	people, err := p.cfg.People(ctx)
	if err != nil {
		return fmt.Errorf("capture: reading the directory: %w", err)
	}
	p.dir.Load(people, p.cfg.Now())
	p.dirStale.Store(false)
	return nil
}

// Route implements Sink.
func (p *Pipeline) Route(in capture.Input, rec capture.Record, fallback string) string {
	if in != capture.Syslog {
		return fallback
	}
	if s, ok := p.mappings.Load().Route(rec); ok {
		return s
	}
	return fallback
}

// Admit implements Sink.
func (p *Pipeline) Admit(source string, n int) error {
	err := p.allow(source, p.mappings.Load().RateLimit(source), n)
	if err != nil {
		p.count("ndjson", source, "rate_limited", n)
	}
	return err
}

// Submit implements Sink.
func (p *Pipeline) Submit(ctx context.Context, in capture.Input, source string, recs []capture.Record) ([]capture.Result, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if !slices.Contains(capture.Inputs, in) {
		return nil, fmt.Errorf("capture: unknown input %q", in)
	}
	if err := p.checkSource(ctx, source); err != nil {
		return nil, err
	}
	set := p.mappings.Load()
	if err := p.allow(source, set.RateLimit(source), len(recs)); err != nil {
		p.count(in, source, "rate_limited", len(recs))
		return nil, err
	}
	if p.dirStale.Load() || p.cfg.Now().Sub(p.dir.Loaded()) > p.cfg.DirectoryRefresh {
		if err := p.refreshDirectory(ctx); err != nil {
			if p.dir.Loaded().IsZero() {
				return nil, err
			}
			// An old directory still resolves everyone it knew.
			p.cfg.Logger.Warn("capture: directory refresh failed", "err", err)
		}
	}
	m := set.For(source, in)
	evs := make([]*event.Event, len(recs))
	out := make([]capture.Result, len(recs))
	for i, rec := range recs {
		if rec.Received.IsZero() {
			rec.Received = p.cfg.Now()
		}
		e, why := p.mapOne(m, in, source, rec)
		evs[i] = e
		if why != "" {
			out[i] = capture.Result{Status: capture.Kept, Why: why}
		}
	}
	res, err := p.cfg.Log.Append(ctx, evs)
	if err != nil {
		p.count(in, source, "failed", len(recs))
		return nil, err
	}
	for i := range out {
		out[i].ID, out[i].Index = res.IDs[i].String(), res.Indexes[i]
		if res.Duplicate != nil && res.Duplicate[i] {
			out[i].Status = capture.Duplicate
		}
		p.count(in, source, out[i].Status.String(), 1)
	}
	return out, nil
}

// mapOne maps one record, falling back to the unparsed event; why is
// empty when the record mapped.
func (p *Pipeline) mapOne(m *mapping.Mapping, in capture.Input, source string, rec capture.Record) (*event.Event, string) {
	e, why, err := Map(m, in, source, rec, p.dir)
	if err != nil {
		// Unparsed builds only fields the model takes; reaching here is a
		// bug, and the bare minimum still keeps the fact of the message.
		p.cfg.Logger.Error("capture: the unparsed event did not parse", "err", err)
		bare := fmt.Appendf(nil, `{"@timestamp":%q,"event.category":"host","event.action":"unparsed","user.id":%q,"lbm.unparsed":"unmappable"}`,
			rec.Received.UTC().Format("2006-01-02T15:04:05.000000000Z"), mapping.Unattributed)
		e, _ = event.Parse(bare, source)
	}
	return e, why
}

// Map makes the event of one record as the pipeline does, storing
// nothing: the mapped event, or the unparsed one with why. It fails only
// if even the unparsed event is refused, which is a bug.
func Map(m *mapping.Mapping, in capture.Input, source string, rec capture.Record, dir mapping.Directory) (e *event.Event, why string, err error) {
	why = rec.Unparsed
	if why == "" {
		ev, err := m.Apply(rec, dir)
		if err == nil {
			e, perr := event.Parse(ev.Line, source)
			if perr == nil {
				return e, "", nil
			}
			err = perr
		}
		why = "mapping: " + err.Error()
	}
	ev := m.Unparsed(in, rec, why, dir)
	e, err = event.Parse(ev.Line, source)
	return e, why, err
}

func (p *Pipeline) checkSource(ctx context.Context, source string) error {
	p.mu.Lock()
	ok := p.known[source]
	p.mu.Unlock()
	if ok {
		return nil
	}
	ok, err := p.cfg.Sources(ctx, source)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", capture.ErrUnknownSource, source)
	}
	p.mu.Lock()
	p.known[source] = true
	p.mu.Unlock()
	return nil
}

// bucket is a token bucket that lets a batch through while any token is
// left, then owes the rest: a batch larger than the burst still passes,
// and the source waits until it has paid.
type bucket struct {
	tokens float64
	last   time.Time
}

func (p *Pipeline) allow(source string, lim mapping.RateLimit, n int) error {
	if lim.EventsPerSecond <= 0 {
		return nil
	}
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.buckets[source]
	if !ok {
		b = &bucket{tokens: float64(lim.Burst), last: now}
		p.buckets[source] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(float64(lim.Burst), b.tokens+d.Seconds()*lim.EventsPerSecond)
		b.last = now
	}
	if b.tokens <= 0 {
		wait := time.Duration(math.Ceil((-b.tokens + 1) / lim.EventsPerSecond * float64(time.Second)))
		return &capture.RateLimitedError{Source: source, RetryAfter: max(wait, time.Millisecond)}
	}
	b.tokens -= float64(n)
	return nil
}

type pipelineMetrics struct {
	records *prometheus.CounterVec
}

// Register counts records in reg from now on (lbm_capture_records_total).
func (p *Pipeline) Register(reg prometheus.Registerer) error {
	m, err := newPipelineMetrics(reg)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.metrics = m
	p.mu.Unlock()
	return nil
}

func newPipelineMetrics(reg prometheus.Registerer) (*pipelineMetrics, error) {
	m := &pipelineMetrics{records: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lbm_capture_records_total",
		Help: "Records captured from other systems' formats, by input, source and outcome (stored, unparsed, duplicate, rate_limited, failed).",
	}, []string{"input", "source", "outcome"})}
	if err := reg.Register(m.records); err != nil {
		return nil, err
	}
	return m, nil
}

func (p *Pipeline) count(in capture.Input, source, outcome string, n int) {
	p.mu.Lock()
	m := p.metrics
	p.mu.Unlock()
	if m != nil {
		m.records.WithLabelValues(string(in), source, outcome).Add(float64(n))
	}
}
