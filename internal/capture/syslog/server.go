package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lbm-project/lbm/internal/capture"
)

// The transports, as network.transport and the metrics' label name them.
const (
	TCP = "tcp"
	UDP = "udp"
	TLS = "tls"
)

// Defaults of Config's zero values.
const (
	DefaultMaxConnections = 1024
	DefaultIdleTimeout    = 10 * time.Minute
	DefaultBatchSize      = 1000
	DefaultBatchDelay     = 50 * time.Millisecond
	// handshakeTimeout bounds a TLS handshake, so that a client that
	// connects and says nothing holds no connection slot for long.
	handshakeTimeout = 30 * time.Second
	// drainTime is how long Shutdown goes on reading what senders have
	// already sent before it closes their connections.
	drainTime = 200 * time.Millisecond
	// udpAttempts is how often a UDP batch is submitted before its
	// records are dropped: UDP senders cannot be slowed down.
	udpAttempts = 4
	// errorAttempts is how often a TCP batch is submitted when the store
	// fails (not for a rate limit or a full queue, which wait as long as
	// they must) before the connection is closed and the batch counted
	// as dropped.
	errorAttempts = 8
	logEvery      = 10 * time.Second
)

// The reasons of lbm_syslog_dropped_total and lbm_syslog_submit_errors_total.
const (
	reasonRateLimited   = "rate_limited"
	reasonOverloaded    = "overloaded"
	reasonUnknownSource = "unknown_source"
	reasonError         = "error"
	reasonShutdown      = "shutdown"
)

// Config configures Listen. Zero values are the documented defaults.
type Config struct {
	// TCP, UDP and TLS are the addresses to listen on ("host:port");
	// empty turns that listener off. At least one is needed.
	TCP, UDP, TLS string
	// TLSConfig serves the TLS listener: its certificate, and ClientCAs
	// with ClientAuth to require client certificates. Needed with TLS;
	// MinVersion is raised to TLS 1.2.
	TLSConfig *tls.Config
	// Sink takes the records; Source is the source of a record its Route
	// names none for. Both are required.
	Sink   capture.Sink
	Source string
	// Registerer, when set, registers the lbm_syslog_* metrics.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// MaxConnections caps open TCP plus TLS connections; more are
	// refused. Default DefaultMaxConnections.
	MaxConnections int
	// IdleTimeout closes a connection that sends nothing for so long.
	// Default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// BatchSize and BatchDelay bound a batch: it is submitted when it
	// holds BatchSize records or BatchDelay after its first.
	BatchSize  int
	BatchDelay time.Duration
	// Now is the clock that stamps Received; default time.Now.
	Now func() time.Time
}

// Server is the running listeners.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	addrs   map[string]net.Addr

	listeners []listener
	udp       *net.UDPConn

	// stop ends retries when Shutdown's context ends.
	stop     context.Context
	hardStop context.CancelFunc

	mu       sync.Mutex
	conns    map[*conn]bool
	draining bool
	serving  sync.WaitGroup // accept loops, connections, the UDP reader and its batcher

	refusedLog, dropLog, errLog every
}

// Listen binds the configured listeners and serves them until Shutdown.
func Listen(cfg Config) (*Server, error) {
	if cfg.TCP == "" && cfg.UDP == "" && cfg.TLS == "" {
		return nil, errors.New("syslog: no listener address")
	}
	if cfg.Sink == nil {
		return nil, errors.New("syslog: capture is not configured")
	}
	if cfg.Source == "" {
		return nil, errors.New("syslog: no default source")
	}
	if cfg.TLS != "" && (cfg.TLSConfig == nil || (len(cfg.TLSConfig.Certificates) == 0 && cfg.TLSConfig.GetCertificate == nil)) {
		return nil, errors.New("syslog: listening for TLS needs a certificate and key")
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.BatchDelay <= 0 {
		cfg.BatchDelay = DefaultBatchDelay
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: m, addrs: map[string]net.Addr{}, conns: map[*conn]bool{}}
	s.stop, s.hardStop = context.WithCancel(context.Background())
	fail := func(err error) (*Server, error) {
		for _, ln := range s.listeners {
			ln.Close()
		}
		if s.udp != nil {
			s.udp.Close()
		}
		s.hardStop()
		return nil, err
	}
	for _, l := range []struct{ transport, addr string }{{TCP, cfg.TCP}, {TLS, cfg.TLS}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return fail(fmt.Errorf("syslog: listening on %s: %v", l.addr, err))
		}
		s.addrs[l.transport] = ln.Addr()
		if l.transport == TLS {
			tc := cfg.TLSConfig.Clone()
			tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
			ln = tls.NewListener(ln, tc)
		}
		s.listeners = append(s.listeners, listener{ln, l.transport})
	}
	if cfg.UDP != "" {
		ua, err := net.ResolveUDPAddr("udp", cfg.UDP)
		if err != nil {
			return fail(fmt.Errorf("syslog: listening on %s: %v", cfg.UDP, err))
		}
		s.udp, err = net.ListenUDP("udp", ua)
		if err != nil {
			return fail(fmt.Errorf("syslog: listening on %s: %v", cfg.UDP, err))
		}
		// A larger receive buffer rides out bursts while a batch is
		// submitted; the kernel may cap it, which is no error.
		s.udp.SetReadBuffer(4 << 20)
		s.addrs[UDP] = s.udp.LocalAddr()
	}
	for _, ln := range s.listeners {
		s.serving.Go(func() { s.accept(ln, ln.transport) })
	}
	if s.udp != nil {
		s.serving.Go(s.readUDP)
	}
	return s, nil
}

type listener struct {
	net.Listener
	transport string
}

// Addr returns the address the transport's listener is bound to, or nil.
func (s *Server) Addr(transport string) net.Addr { return s.addrs[transport] }

// Shutdown stops accepting, reads for a moment more what senders have
// already sent, submits every batch held, and closes the connections. If
// ctx ends first, batches still held are counted as dropped (reason
// shutdown) and Shutdown returns ctx's error once everything has stopped.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, ln := range s.listeners {
		ln.Close()
	}
	deadline := time.Now().Add(drainTime)
	s.mu.Lock()
	s.draining = true
	for c := range s.conns {
		c.SetReadDeadline(deadline)
	}
	s.mu.Unlock()
	if s.udp != nil {
		s.udp.SetReadDeadline(deadline)
	}
	done := make(chan struct{})
	go func() { s.serving.Wait(); close(done) }()
	select {
	case <-done:
		s.hardStop()
		return nil
	case <-ctx.Done():
		s.hardStop()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

func (s *Server) accept(ln net.Listener, transport string) {
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: wait rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Error("syslog: accepting a connection", "transport", transport, "err", err)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := &conn{Conn: nc, s: s}
		s.mu.Lock()
		if s.draining || len(s.conns) >= s.cfg.MaxConnections {
			open := len(s.conns)
			s.mu.Unlock()
			nc.Close()
			s.metrics.refused.WithLabelValues(transport, "limit").Inc()
			s.refusedLog.log(s.log, slog.LevelWarn, "syslog: refusing connections: too many open",
				"transport", transport, "open", open, "limit", s.cfg.MaxConnections, "peer", nc.RemoteAddr().String())
			continue
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.metrics.open.WithLabelValues(transport).Inc()
		s.serving.Go(func() {
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				s.metrics.open.WithLabelValues(transport).Dec()
			}()
			s.serveConn(c, transport)
		})
	}
}

// conn is a connection whose every read waits at most the idle timeout,
// or, once the server drains, until the drain deadline.
type conn struct {
	net.Conn
	s *Server
}

func (c *conn) Read(p []byte) (int, error) {
	c.s.mu.Lock()
	if !c.s.draining {
		c.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
	}
	c.s.mu.Unlock()
	return c.Conn.Read(p)
}

// peer holds the fields every record from one peer carries.
type peer struct {
	ip        string
	port      int64
	transport string
	subject   string // the TLS client certificate's subject
}

func peerOf(a net.Addr, transport string) peer {
	p := peer{transport: transport}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		p.ip, p.port = ap.Addr().Unmap().String(), int64(ap.Port())
	}
	return p
}

func (p peer) fill(rec *capture.Record) {
	if p.ip != "" {
		rec.Fields[FieldSourceIP] = p.ip
		rec.Fields[FieldSourcePort] = p.port
	}
	rec.Fields[FieldTransport] = p.transport
	if p.subject != "" {
		rec.Fields[FieldClientSubject] = p.subject
	}
}

func (s *Server) serveConn(c *conn, transport string) {
	p := peerOf(c.RemoteAddr(), transport)
	if tc, ok := c.Conn.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(s.stop, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			s.metrics.refused.WithLabelValues(transport, "handshake").Inc()
			s.log.Warn("syslog: TLS handshake failed", "peer", c.RemoteAddr().String(), "err", err)
			return
		}
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			p.subject = certs[0].Subject.String()
		}
	}
	b := s.newBatcher(transport, func() { c.Close() })
	s.serving.Go(b.run)
	defer close(b.in)
	fr := NewFramer(c)
	parser := NewParser()
	for {
		f, err := fr.Next()
		if err != nil {
			var ne net.Error
			if !errors.Is(err, net.ErrClosed) && !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, io.EOF) {
				s.log.Info("syslog: connection ended", "transport", transport, "peer", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		s.take(b, parser, p, f.Data, f.Size, f.Short)
	}
}

// take parses one frame and hands it to b.
func (s *Server) take(b *batcher, parser *Parser, p peer, data []byte, size int, short string) {
	rec := parser.Parse(data, s.cfg.Now())
	if short != "" {
		rec = unparsed(rec, short, data)
	}
	p.fill(&rec)
	format, _ := rec.Fields[FieldFormat].(string)
	if rec.Unparsed != "" {
		format = "unparsed"
	}
	s.metrics.messages.WithLabelValues(p.transport, format).Inc()
	s.metrics.bytes.WithLabelValues(p.transport).Add(float64(size))
	source := s.cfg.Sink.Route(capture.Syslog, rec, s.cfg.Source)
	if source == "" {
		source = s.cfg.Source
	}
	b.in <- item{source, rec}
}

func (s *Server) readUDP() {
	b := s.newBatcher(UDP, nil)
	s.serving.Go(b.run)
	defer close(b.in)
	defer s.udp.Close()
	parser := NewParser()
	buf := make([]byte, MaxFrame)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.Is(err, net.ErrClosed) || (errors.As(err, &ne) && ne.Timeout()) {
				return
			}
			s.log.Error("syslog: reading a datagram", "err", err)
			continue
		}
		p := peer{ip: from.Addr().Unmap().String(), port: int64(from.Port()), transport: UDP}
		s.take(b, parser, p, buf[:n], n, "")
	}
}

// every logs at most once an interval, with how many times it was asked
// to since it last did.
type every struct {
	mu    sync.Mutex
	last  time.Time
	count int
}

func (e *every) log(l *slog.Logger, level slog.Level, msg string, attrs ...any) {
	e.mu.Lock()
	e.count++
	now := time.Now()
	if now.Sub(e.last) < logEvery {
		e.mu.Unlock()
		return
	}
	n := e.count
	e.last, e.count = now, 0
	e.mu.Unlock()
	l.Log(context.Background(), level, msg, append(attrs, "times", n)...)
}
