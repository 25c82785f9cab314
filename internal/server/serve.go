package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"crypto/tls"

	"github.com/emersion/go-smtp"
	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/notify"
	"github.com/lbm-project/lbm/internal/oversight"
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
	// smtpJournal counts the SMTP journal endpoint's messages.
	smtpJournal *prometheus.CounterVec
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
	m.smtpJournal = newSMTPJournalMetric(m.Registry)
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
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lbm_leader", Help: "1 while this node leads the service (signs the oversight log's checkpoints, runs detection, sweeps and retention), else 0.",
	}, func() float64 {
		if n.Leading() {
			return 1
		}
		return 0
	}))
	for _, name := range n.logNames {
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

// watchMail counts the notifier's e-mails at scrape time.
func (m *Metrics) watchMail(nt *notify.Notifier) {
	for outcome, count := range map[string]func() uint64{
		"sent":   func() uint64 { return nt.Stats().Sent },
		"failed": func() uint64 { return nt.Stats().Failed },
	} {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lbm_notify_emails_total", Help: "Notification e-mails by outcome (a failure never fails the notification).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { return float64(count()) }))
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
	// TLSCert and TLSKey, both set, serve the main listener over HTTPS.
	TLSCert, TLSKey string
	// SecureCookies marks cookies Secure although lbm itself serves plain
	// HTTP: for TLS ended at a proxy in front. Implied by TLSCert.
	SecureCookies bool
	// OIDC, when set, offers sign-in through the identity provider.
	OIDC web.OIDC
	// Grades maps staff grades to ranks; default identity.DefaultGradeMap.
	Grades identity.GradeMap
	// DetectIdle is how long detection rests once it has caught up with
	// the logs, before it looks for new entries. Default 500ms.
	DetectIdle time.Duration
	// LeaverSweep is how often leavers' tokens are revoked. Default 1m.
	LeaverSweep time.Duration
	// RequestSweep is how often requests' deadlines (review due, expiry,
	// urgent lapse) are recorded. Default 1m.
	RequestSweep time.Duration
	// RetentionEvery is how often retention runs (default RetentionEvery,
	// first RetentionFirst after start); negative turns it off, for a
	// node that another runs retention for.
	RetentionEvery time.Duration
	// Organisation and BaseURL go into the generated monitoring notice:
	// the organisation's name, and the address the notice is read at.
	// BaseURL is also the link in notification e-mails.
	Organisation, BaseURL string
	// Mailer e-mails notifications (internal/notify); nil keeps them in
	// the in-app inbox only.
	Mailer notify.Mailer
	// TransparencyThreshold is the smallest count the public
	// transparency page shows (web.Config.TransparencyThreshold).
	TransparencyThreshold int
	// SyslogConfig starts the syslog listeners (syslog.go).
	SyslogConfig
	// SMTPJournalAddr, when set, serves the SMTP journal endpoint
	// (internal/capture/email) there: mail for SMTPJournalRecipients is
	// taken as e-mail records, from SMTPJournalNetworks as the source
	// SMTPJournalSource, and from sources authenticating with AUTH PLAIN
	// (their name and token) after STARTTLS with TLSCert.
	SMTPJournalAddr       string
	SMTPJournalRecipients []string
	SMTPJournalSource     string
	SMTPJournalNetworks   []netip.Prefix
	// SMTPJournalListening is called with the journal endpoint's bound
	// address once it listens.
	SMTPJournalListening func(addr net.Addr)
	// Mount, when set, makes Serve listen on nothing itself: it hands
	// the node's web handler to Mount once the background jobs run, and
	// serves until ctx ends. ServeTenants mounts each tenant's handler
	// on the one listener of the process (tenants.go).
	Mount func(http.Handler)
	// National, set for the national oversight node alone, builds the
	// national report from the organisations' nodes (web.Config.National).
	National func(ctx context.Context, from, to, now time.Time) (oversight.NationalReport, error)
}

// Serve serves n until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish, commits what the writers hold,
// and publishes a final checkpoint.
func Serve(ctx context.Context, n *Node, cfg ServeConfig) error {
	// Held while serving, so that a KEK rotation, which rewraps the keys
	// this process caches unwrapped, refuses to run beside it.
	unlock, err := lockDataDir(n.dataDir)
	if err != nil {
		return err
	}
	defer unlock()
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
	if n.captureErr != nil {
		return n.captureErr
	}
	if n.capture != nil {
		if err := n.capture.Register(cfg.Metrics.Registry); err != nil {
			return err
		}
	}
	if err := n.registerLogs(ctx); err != nil {
		return err
	}
	if err := recordMappings(ctx, n, false); err != nil {
		return fmt.Errorf("recording the capture mappings in force: %w", err)
	}
	// Publish at once, so a fresh log serves a checkpoint of size 0.
	if err := n.PublishAll(ctx); err != nil {
		return err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return errors.New("serving TLS needs both a certificate and a key")
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %v", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	metricsHandler := promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{})
	wcfg := WebConfig(n)
	wcfg.Metrics, wcfg.Logger, wcfg.Grades, wcfg.OIDC = metricsHandler, cfg.Logger, cfg.Grades, cfg.OIDC
	wcfg.SecureCookies = cfg.SecureCookies || tlsConfig != nil
	wcfg.Organisation, wcfg.BaseURL = cfg.Organisation, strings.TrimSuffix(cfg.BaseURL, "/")
	wcfg.TransparencyThreshold = cfg.TransparencyThreshold
	wcfg.National = cfg.National
	notifier := &notify.Notifier{Store: n.Store, Mailer: cfg.Mailer, Now: n.Now, Logger: cfg.Logger, BaseURL: wcfg.BaseURL}
	wcfg.Notify = notifier
	cfg.Metrics.watchMail(notifier)
	// Before the sweeper starts and before anything is served: the
	// request flow tells people through the one notifier.
	n.Requests.Notify = notifyRequests(notifier, cfg.Logger)
	handler, err := web.New(wcfg)
	if err != nil {
		return err
	}
	var servers []*http.Server
	var listeners []net.Listener
	var adminAddr net.Addr
	if cfg.Mount == nil {
		if servers, listeners, adminAddr, err = listen(cfg, wcfg, handler, tlsConfig); err != nil {
			return err
		}
	}
	sys, err := startSyslog(ctx, n, cfg)
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		return err
	}
	var journal *smtp.Server
	if cfg.SMTPJournalAddr != "" {
		srv, jln, err := startSMTPJournal(n, cfg, tlsConfig)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			if sys != nil {
				sys.Shutdown(ctx)
			}
			return err
		}
		journal = srv
		go func() {
			if err := srv.Serve(jln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
				cfg.Logger.Error("smtp journal endpoint stopped", "err", err)
			}
		}()
		if cfg.SMTPJournalListening != nil {
			cfg.SMTPJournalListening(jln.Addr())
		}
	}
	if cfg.Listening != nil && cfg.Mount == nil {
		cfg.Listening(listeners[0].Addr(), adminAddr)
	}
	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	own := n.Logs[n.ActivityLog].Publisher
	go own.Run(pubCtx, cfg.CheckpointInterval, func(err error) {
		cfg.Logger.Error("publishing checkpoint", "log", own.Log, "err", err)
	})
	if cfg.RequestSweep == 0 {
		cfg.RequestSweep = requestSweepInterval()
	}
	n.Requests.Grades, n.Requests.Logger = cfg.Grades, cfg.Logger
	if cfg.RetentionEvery == 0 {
		cfg.RetentionEvery = RetentionEvery
	}
	go reloadMappingsOnHangup(pubCtx, n, cfg.Logger)
	// What the service needs done once runs on one node, the leader
	// (leader.go); waited for before the writers close, so that nothing
	// it does outlives the store.
	var detecting sync.WaitGroup
	detecting.Go(func() { n.lead(pubCtx, cfg.Logger, func(ctx context.Context) { n.leaderTerm(ctx, cfg) }) })
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	if cfg.Mount != nil {
		cfg.Mount(handler)
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Live feeds end (each stream is told so) rather than hold the
	// shutdown open until its timeout, with the store closing under them.
	n.Review.CloseFeeds()
	for _, srv := range servers {
		srv.Shutdown(shutdown)
	}
	if sys != nil {
		// Before the writers close: its last batches are appended
		// through them.
		if serr := sys.Shutdown(shutdown); serr != nil {
			cfg.Logger.Error("stopping the syslog listeners", "err", serr)
		}
	}
	if journal != nil {
		// Messages being stored finish: their senders wait for the 250.
		journal.Shutdown(shutdown)
	}
	stopPub()
	detecting.Wait()
	// E-mails already begun finish, each within the mailer's timeout.
	notifier.Wait()
	for _, name := range n.logNames {
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

// listen binds the main listener (over TLS when tlsConfig is set) and,
// with cfg.AdminAddr, the admin listener serving /metrics unguarded.
func listen(cfg ServeConfig, wcfg web.Config, handler http.Handler, tlsConfig *tls.Config) ([]*http.Server, []net.Listener, net.Addr, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listening on %s: %v", cfg.Addr, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	servers := []*http.Server{{Handler: handler, ReadHeaderTimeout: 10 * time.Second}}
	listeners := []net.Listener{ln}
	var adminAddr net.Addr
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return nil, nil, nil, fmt.Errorf("listening on %s: %v", cfg.AdminAddr, err)
		}
		acfg := wcfg
		acfg.Unguarded = []string{"metrics.read"}
		ahandler, err := web.New(acfg)
		if err != nil {
			ln.Close()
			aln.Close()
			return nil, nil, nil, err
		}
		servers = append(servers, &http.Server{Handler: ahandler, ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, aln)
		adminAddr = aln.Addr()
	}
	return servers, listeners, adminAddr, nil
}

// sweepLeavers revokes leavers' tokens and sessions on their leaving date,
// every interval (default a minute) until ctx ends, and records each
// revocation in the oversight log. Authentication refuses a leaver anyway;
// the sweep makes the revocation happen, and be recorded, on the day.
func sweepLeavers(ctx context.Context, n *Node, interval time.Duration, logger *slog.Logger) {
	if interval == 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := RevokeLeavers(ctx, n); err != nil && ctx.Err() == nil {
			logger.Error("revoking leavers' tokens", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RevokeLeavers revokes the tokens and sessions of everyone whose leaving
// date has come, recording each person's revocation in the oversight log.
func RevokeLeavers(ctx context.Context, n *Node) error {
	revoked, err := identity.RevokeLeavers(ctx, n.Store, n.Now())
	for id, count := range revoked {
		if _, rerr := n.Oversight(ctx, "lbm", "leaver_tokens_revoked", map[string]any{"person": id, "tokens": count}, false); rerr != nil {
			return rerr
		}
	}
	return err
}

// WebConfig is the part of the web configuration that comes from n: its
// store, logs, clock and keys, readiness, and the recorder of oversight
// leaves for actions taken through the web.
func WebConfig(n *Node) web.Config {
	var logs []web.Log
	for _, name := range n.logNames {
		l := n.Logs[name]
		logs = append(logs, web.Log{Name: l.Name, Origin: l.Origin, VerifierKey: l.VerifierKey, Writer: l.Writer})
	}
	var witnesses web.Witnesses
	if n.Witnesses != nil {
		witnesses = n.Witnesses
	}
	return web.Config{
		Store: n.Store, Logs: logs, ActivityLog: n.ActivityLog, OtherLogs: n.otherWebLogs, Opener: n.Opener, KEK: n.KEK, Now: n.Now,
		Ready: func(ctx context.Context) error { return n.Store.Ping(ctx) },
		Record: func(ctx context.Context, actor, action string, details map[string]any) (uint64, error) {
			return n.Oversight(ctx, actor, action, details, false)
		},
		Requests:       n.Requests,
		Review:         n.Review,
		Alerts:         n.Alerts,
		RelevantErrors: n.RelevantErrors,
		// In-app only; Serve replaces it with one that also e-mails.
		Notify:    &notify.Notifier{Store: n.Store, Now: n.Now},
		Witnesses: witnesses,
		Capture:   n.Capture,
	}
}

// notifyRequests adapts nt to the request flow: a notification that
// cannot be stored is logged and never fails the transition that sent it
// (the request itself and the queues are the record).
func notifyRequests(nt *notify.Notifier, logger *slog.Logger) authorise.Notifier {
	return func(ctx context.Context, an authorise.Notice, to, subjects []string) {
		m := notify.Message{Kind: an.Kind, Request: an.Request, Reference: an.Reference, Text: an.Text, Key: an.Key}
		if _, err := nt.Send(ctx, m, to, subjects); err != nil {
			logger.ErrorContext(ctx, "notifying", "kind", an.Kind, "request", an.Request, "err", err)
		}
	}
}
