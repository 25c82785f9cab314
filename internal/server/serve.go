package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/lbm-project/lbm/internal/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics implements ingest.Observer with Prometheus collectors.
type Metrics struct {
	Registry   *prometheus.Registry
	events     *prometheus.CounterVec
	commitTime *prometheus.HistogramVec
	logSize    *prometheus.GaugeVec
}

// NewMetrics registers lbm's collectors in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lbm_ingest_events_total", Help: "Events committed to each log.",
	}, []string{"log"})
	m.commitTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lbm_commit_duration_seconds", Help: "Time to commit one batch durably.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"log"})
	m.logSize = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lbm_log_size", Help: "Committed entries in each log.",
	}, []string{"log"})
	m.Registry.MustRegister(m.events, m.commitTime, m.logSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Committed records one commit.
func (m *Metrics) Committed(log string, events int, took time.Duration, size uint64) {
	m.events.WithLabelValues(log).Add(float64(events))
	m.commitTime.WithLabelValues(log).Observe(took.Seconds())
	m.logSize.WithLabelValues(log).Set(float64(size))
}

// watch adds the collectors that read the node's state at scrape time.
func (m *Metrics) watch(n *Node) {
	for _, name := range LogNames {
		l := n.Logs[name]
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lbm_ingest_queue_depth", Help: "Events waiting to be committed.", ConstLabels: prometheus.Labels{"log": name},
		}, func() float64 { return float64(l.Writer.QueueDepth()) }))
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lbm_checkpoint_age_seconds", Help: "Age of the latest published checkpoint.", ConstLabels: prometheus.Labels{"log": name},
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			c, err := n.Store.LatestCheckpoint(ctx, name)
			if err != nil {
				return -1
			}
			return n.Now().Sub(c.Time).Seconds()
		}))
	}
}

// ServeConfig configures Serve.
type ServeConfig struct {
	Addr      string // main listener, e.g. ":8080"
	AdminAddr string // optional listener serving /metrics without a token
	// CheckpointInterval is how often checkpoints are published. Default 1s.
	CheckpointInterval time.Duration
	Metrics            *Metrics
	Logger             *slog.Logger
	// Listening is called with the bound addresses once both listen.
	Listening func(addr, adminAddr net.Addr)
}

// Serve serves n until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish, commits what the writers hold,
// and publishes a final checkpoint.
func Serve(ctx context.Context, n *Node, cfg ServeConfig) error {
	if cfg.CheckpointInterval == 0 {
		cfg.CheckpointInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	cfg.Metrics.watch(n)
	// Publish at once, so a fresh log serves a checkpoint of size 0.
	if err := n.PublishAll(ctx); err != nil {
		return err
	}
	var logs []web.Log
	for _, name := range LogNames {
		l := n.Logs[name]
		logs = append(logs, web.Log{Name: l.Name, Origin: l.Origin, VerifierKey: l.VerifierKey, Writer: l.Writer})
	}
	metricsHandler := promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{})
	wcfg := web.Config{Store: n.Store, Logs: logs, Metrics: metricsHandler, Logger: cfg.Logger,
		Ready: func(ctx context.Context) error { return n.Store.Ping(ctx) }}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %v", cfg.Addr, err)
	}
	servers := []*http.Server{{Handler: web.New(wcfg), ReadHeaderTimeout: 10 * time.Second}}
	listeners := []net.Listener{ln}
	var adminAddr net.Addr
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listening on %s: %v", cfg.AdminAddr, err)
		}
		acfg := wcfg
		acfg.Unguarded = []string{"metrics.read"}
		servers = append(servers, &http.Server{Handler: web.New(acfg), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, aln)
		adminAddr = aln.Addr()
	}
	if cfg.Listening != nil {
		cfg.Listening(ln.Addr(), adminAddr)
	}
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	for _, name := range LogNames {
		p := n.Logs[name].Publisher
		go p.Run(pubCtx, cfg.CheckpointInterval, func(err error) {
			cfg.Logger.Error("publishing checkpoint", "log", p.Log, "err", err)
		})
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, srv := range servers {
		srv.Shutdown(shutdown)
	}
	stopPub()
	for _, name := range LogNames {
		n.Logs[name].Writer.Close()
	}
	if perr := n.PublishAll(shutdown); perr != nil {
		cfg.Logger.Error("publishing final checkpoints", "err", perr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
