package syslog_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/capture/syslog"
)

// testLogger sends the listener's log to t.Logf.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimSpace(string(p)))
	return len(p), nil
}

// listen starts a Server on 127.0.0.1 with rec as its sink and "syslog"
// as its default source, shut down at the end of the test.
func listen(t testing.TB, rec *capturetest.Recorder, cfg syslog.Config) (*syslog.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Sink, cfg.Source, cfg.Registerer, cfg.Logger = rec, "syslog", reg, testLogger(t)
	s, err := syslog.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown = %v", err)
		}
	})
	return s, reg
}

func wait(t testing.TB, rec *capturetest.Recorder, n int) []capturetest.Submitted {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := rec.Wait(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("got %d records, want %d", len(got), n)
	}
	return got
}

// counter reads a counter's value as the registry would show it.
func counter(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return 0
}

// eventually polls cond until it holds or 20s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 20s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func octet(msg string) string { return fmt.Sprintf("%d %s", len(msg), msg) }

// TestTCP: one connection sends octet-counted and LF-framed messages,
// valid and not; every one arrives, in order, with the peer's address.
func TestTCP(t *testing.T) {
	rec := capturetest.New()
	s, reg := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0"})
	c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	stream := octet("<165>1 2026-03-01T10:00:00Z web1 sshd 42 ID1 [origin@32473 user=\"ann\"] first\nline") +
		"<38>Mar  1 10:00:01 web2 su: second\n" +
		"\n" + // an empty line is no message
		"not syslog at all\n" +
		octet("<13>1 - web3 app - - - third")
	if _, err := io.WriteString(c, stream); err != nil {
		t.Fatal(err)
	}
	c.Close()
	got := wait(t, rec, 4)
	local := c.LocalAddr().(*net.TCPAddr)
	for i, g := range got {
		if g.Input != capture.Syslog || g.Source != "syslog" {
			t.Errorf("record %d: input %s, source %s; want syslog, syslog", i, g.Input, g.Source)
		}
		f := g.Record.Fields
		if f[syslog.FieldSourceIP] != "127.0.0.1" || f[syslog.FieldSourcePort] != int64(local.Port) || f[syslog.FieldTransport] != "tcp" {
			t.Errorf("record %d: peer %v:%v over %v, want 127.0.0.1:%d over tcp", i, f[syslog.FieldSourceIP], f[syslog.FieldSourcePort], f[syslog.FieldTransport], local.Port)
		}
	}
	if f := got[0].Record.Fields; f[syslog.FieldMessage] != "first\nline" || f[syslog.FieldSD+"origin@32473.user"] != "ann" || f[syslog.FieldFormat] != "rfc5424" {
		t.Errorf("first record's fields = %v", f)
	}
	if f := got[1].Record.Fields; f[syslog.FieldMessage] != "second" || f[syslog.FieldHostname] != "web2" || f[syslog.FieldFacilityName] != "auth" || f[syslog.FieldFormat] != "rfc3164" {
		t.Errorf("second record's fields = %v", f)
	}
	if r := got[2].Record; r.Unparsed == "" || string(r.Raw) != "not syslog at all" {
		t.Errorf("third record = unparsed %q raw %q, want the line kept unparsed", r.Unparsed, r.Raw)
	}
	if f := got[3].Record.Fields; f[syslog.FieldMessage] != "third" {
		t.Errorf("fourth record's fields = %v", f)
	}
	if n := counter(t, reg, "lbm_syslog_messages_total", "transport", "tcp", "format", "unparsed"); n != 1 {
		t.Errorf("unparsed messages counted %v, want 1", n)
	}
	if n := counter(t, reg, "lbm_syslog_messages_total", "transport", "tcp", "format", "rfc5424"); n != 2 {
		t.Errorf("rfc5424 messages counted %v, want 2", n)
	}
}

// TestRoute: each record goes to the source Route names, in batches per
// source.
func TestRoute(t *testing.T) {
	rec := capturetest.New()
	rec.Routes = map[string]string{"web1": "web"}
	s, _ := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0"})
	c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "<13>1 - web1 app - - - a\n<13>1 - other app - - - b\n<13>1 - web1 app - - - c\n")
	c.Close()
	got := wait(t, rec, 3)
	sources := map[string]string{}
	for _, g := range got {
		sources[g.Record.Fields[syslog.FieldMessage].(string)] = g.Source
	}
	if want := map[string]string{"a": "web", "b": "syslog", "c": "web"}; fmt.Sprint(sources) != fmt.Sprint(want) {
		t.Errorf("sources = %v, want %v", sources, want)
	}
}

// TestUDP: each datagram is one message.
func TestUDP(t *testing.T) {
	rec := capturetest.New()
	s, reg := listen(t, rec, syslog.Config{UDP: "127.0.0.1:0"})
	c, err := net.Dial("udp", s.Addr(syslog.UDP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []string{"<14>1 2026-03-01T10:00:00Z h app - - - one\n", "<14>Mar  1 10:00:00 h app: two", "garbage", ""} {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	got := wait(t, rec, 4)
	local := c.LocalAddr().(*net.UDPAddr)
	want := []string{"one", "two"}
	for i, g := range got {
		f := g.Record.Fields
		if f[syslog.FieldTransport] != "udp" || f[syslog.FieldSourcePort] != int64(local.Port) {
			t.Errorf("record %d: fields %v, want udp from port %d", i, f, local.Port)
		}
		if i < 2 && f[syslog.FieldMessage] != want[i] {
			t.Errorf("record %d: message %q, want %q", i, f[syslog.FieldMessage], want[i])
		}
	}
	if r := got[2].Record; r.Unparsed == "" || string(r.Raw) != "garbage" {
		t.Errorf("garbage = unparsed %q raw %q", r.Unparsed, r.Raw)
	}
	if r := got[3].Record; r.Unparsed != "empty message" {
		t.Errorf("an empty datagram = unparsed %q, want \"empty message\"", r.Unparsed)
	}
	if n := counter(t, reg, "lbm_syslog_bytes_total", "transport", "udp"); n == 0 {
		t.Errorf("no bytes counted")
	}
}

// TestOversized: a message longer than MaxFrame is kept, cut, unparsed, and
// the next one arrives whole.
func TestOversized(t *testing.T) {
	rec := capturetest.New()
	s, _ := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0"})
	c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	long := "<13>1 - h app - - - " + strings.Repeat("x", syslog.MaxFrame)
	io.WriteString(c, octet(long)+long+"\n"+octet("<13>1 - h app - - - after"))
	c.Close()
	got := wait(t, rec, 3)
	for i := range 2 {
		r := got[i].Record
		if r.Unparsed != "longer than 65536 bytes" || len(r.Raw) != syslog.MaxFrame || r.Fields[syslog.FieldPriority] != int64(13) {
			t.Errorf("record %d: unparsed %q, %d raw bytes, priority %v; want cut to 65536 bytes with the priority", i, r.Unparsed, len(r.Raw), r.Fields[syslog.FieldPriority])
		}
	}
	if m := got[2].Record.Fields[syslog.FieldMessage]; m != "after" {
		t.Errorf("after the oversized frames: message %q, want \"after\"", m)
	}
}

// TestBackpressure: while the sink refuses for a rate limit, a TCP
// connection's messages wait; once it takes them, all arrive, in order.
func TestBackpressure(t *testing.T) {
	rec := capturetest.New()
	rec.Err = &capture.RateLimitedError{Source: "syslog", RetryAfter: 20 * time.Millisecond}
	s, reg := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0", BatchSize: 10})
	c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<13>1 - h app - - - %d\n", i)
	}
	go io.WriteString(c, b.String())
	eventually(t, "retrying", func() bool {
		return counter(t, reg, "lbm_syslog_submit_errors_total", "reason", "rate_limited") >= 3
	})
	if got := rec.Records(); len(got) != 0 {
		t.Fatalf("%d records stored while rate limited", len(got))
	}
	rec.SetErr(nil)
	got := wait(t, rec, n)
	for i, g := range got {
		if m := g.Record.Fields[syslog.FieldMessage]; m != fmt.Sprint(i) {
			t.Fatalf("record %d: message %v, want %d", i, m, i)
		}
	}
	if d := counter(t, reg, "lbm_syslog_dropped_total", "reason", "rate_limited"); d != 0 {
		t.Errorf("%v dropped", d)
	}
}

// TestUDPDrops: UDP cannot wait: a batch the sink keeps refusing is
// dropped after a few tries, and counted.
func TestUDPDrops(t *testing.T) {
	rec := capturetest.New()
	rec.Err = errors.New("the store is down")
	s, reg := listen(t, rec, syslog.Config{UDP: "127.0.0.1:0"})
	c, err := net.Dial("udp", s.Addr(syslog.UDP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("<13>1 - h app - - - lost"))
	eventually(t, "dropped", func() bool { return counter(t, reg, "lbm_syslog_dropped_total", "reason", "error") == 1 })
	if n := counter(t, reg, "lbm_syslog_submit_errors_total", "reason", "error"); n != 4 {
		t.Errorf("%v submit errors, want 4 tries", n)
	}
}

// TestConnectionLimit: a connection over the limit is closed at once and
// counted.
func TestConnectionLimit(t *testing.T) {
	rec := capturetest.New()
	s, reg := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0", MaxConnections: 1})
	first, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	eventually(t, "open", func() bool { return counter(t, reg, "lbm_syslog_connections_open", "transport", "tcp") == 1 })
	second, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("reading the connection over the limit: %v, want it closed", err)
	}
	if n := counter(t, reg, "lbm_syslog_connections_refused_total", "transport", "tcp", "reason", "limit"); n != 1 {
		t.Errorf("refused %v, want 1", n)
	}
	io.WriteString(first, "<13>1 - h app - - - still served\n")
	wait(t, rec, 1)
}

// TestShutdownFlushes: Shutdown submits what batches hold.
func TestShutdownFlushes(t *testing.T) {
	rec := capturetest.New()
	reg := prometheus.NewRegistry()
	s, err := syslog.Listen(syslog.Config{TCP: "127.0.0.1:0", Sink: rec, Source: "syslog", Registerer: reg, BatchDelay: time.Hour, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "<13>1 - h app - - - held\n")
	eventually(t, "read", func() bool {
		return counter(t, reg, "lbm_syslog_messages_total", "transport", "tcp", "format", "rfc5424") == 1
	})
	if len(rec.Records()) != 0 {
		t.Fatal("submitted before the batch delay")
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := rec.Records(); len(got) != 1 {
		t.Errorf("after Shutdown %d records, want 1", len(got))
	}
	if _, err := net.Dial("tcp", s.Addr(syslog.TCP).String()); err == nil {
		t.Errorf("connecting after Shutdown succeeded")
	}
}

// TestListenRefuses: a configuration that cannot work is refused.
func TestListenRefuses(t *testing.T) {
	rec := capturetest.New()
	for _, tc := range []struct {
		name string
		cfg  syslog.Config
		want string
	}{
		{"no address", syslog.Config{Sink: rec, Source: "s"}, "no listener address"},
		{"no sink", syslog.Config{TCP: "127.0.0.1:0", Source: "s"}, "capture is not configured"},
		{"no source", syslog.Config{TCP: "127.0.0.1:0", Sink: rec}, "no default source"},
		{"TLS without a certificate", syslog.Config{TLS: "127.0.0.1:0", Sink: rec, Source: "s"}, "certificate"},
		{"a bad address", syslog.Config{UDP: "127.0.0.1:notaport", Sink: rec, Source: "s"}, "listening on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := syslog.Listen(tc.cfg)
			if err == nil {
				s.Shutdown(t.Context())
				t.Fatalf("Listen = nil, want an error saying %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Listen = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// certificate makes a certificate for name signed by parent (self-signed
// when nil).
func certificate(t testing.TB, name string, parent *tls.Certificate, client bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name, Organization: []string{"lbm test"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: parent == nil}
	switch {
	case client:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case parent == nil:
		tmpl.ExtKeyUsage = nil // a CA for both servers and clients
	}
	signer, signerKey := tmpl, any(key)
	if parent != nil {
		signer, signerKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// TestTLS: octet-counted messages over TLS arrive, with the client
// certificate's subject when the listener asks for one; a client without
// a certificate is refused when one is required.
func TestTLS(t *testing.T) {
	ca := certificate(t, "lbm test CA", nil, false)
	serverCert := certificate(t, "127.0.0.1", &ca, false)
	clientCert := certificate(t, "web1.example", &ca, true)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Leaf)

	t.Run("server certificate only", func(t *testing.T) {
		rec := capturetest.New()
		s, _ := listen(t, rec, syslog.Config{TLS: "127.0.0.1:0", TLSConfig: &tls.Config{Certificates: []tls.Certificate{serverCert}}})
		c, err := tls.Dial("tcp", s.Addr(syslog.TLS).String(), &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, octet("<13>1 - h app - - - over tls\nsecond line"))
		c.Close()
		got := wait(t, rec, 1)
		f := got[0].Record.Fields
		if f[syslog.FieldMessage] != "over tls\nsecond line" || f[syslog.FieldTransport] != "tls" {
			t.Errorf("fields = %v", f)
		}
		if _, ok := f[syslog.FieldClientSubject]; ok {
			t.Errorf("a client subject without a client certificate: %v", f[syslog.FieldClientSubject])
		}
	})

	t.Run("client certificate required", func(t *testing.T) {
		rec := capturetest.New()
		s, reg := listen(t, rec, syslog.Config{TLS: "127.0.0.1:0", TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}})
		addr := s.Addr(syslog.TLS).String()

		// Without a certificate: the handshake fails and nothing is read.
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
		if err == nil {
			io.WriteString(c, octet("<13>1 - h app - - - refused"))
			// TLS 1.3 reports the server's refusal on the first read.
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err = c.Read(make([]byte, 1)); err == nil {
				t.Fatal("a client without a certificate was served")
			}
			c.Close()
		}
		eventually(t, "refused", func() bool {
			return counter(t, reg, "lbm_syslog_connections_refused_total", "transport", "tls", "reason", "handshake") == 1
		})

		// With one from the CA: served, and its subject recorded.
		c, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, octet("<13>1 - h app - - - with a certificate"))
		c.Close()
		got := wait(t, rec, 1)
		if s := got[0].Record.Fields[syslog.FieldClientSubject]; s != "CN=web1.example,O=lbm test" {
			t.Errorf("client subject = %v, want CN=web1.example,O=lbm test", s)
		}
		if m := got[0].Record.Fields[syslog.FieldMessage]; m != "with a certificate" {
			t.Errorf("message = %v", m)
		}
	})
}

// BenchmarkSyslogTCP measures messages a second through one TCP
// connection, framed, parsed, routed and batched into a Recorder. Each
// operation is a fresh listener taking 10,000 messages, so that the
// Recorder, which keeps everything, stays small.
func BenchmarkSyslogTCP(b *testing.B) {
	const perOp = 10000
	msg := octet(`<86>1 2026-03-01T10:00:00.123456Z web1.force.example sshd 4242 - [origin@32473 user="ann" ip="192.0.2.10"] Accepted publickey for ann from 192.0.2.10 port 51234 ssh2`)
	stream := []byte(strings.Repeat(msg, perOp))
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		rec := capturetest.New()
		s, err := syslog.Listen(syslog.Config{TCP: "127.0.0.1:0", Sink: rec, Source: "syslog", BatchDelay: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(stream); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := rec.Wait(ctx, perOp); err != nil {
			b.Fatal(err)
		}
		cancel()
		c.Close()
		s.Shutdown(context.Background())
	}
	b.ReportMetric(float64(perOp*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// TestTCPErrorCloses: a batch the store keeps failing (not a rate limit)
// is retried, then counted as dropped, and the connection is closed, so
// the sender sees it and reconnects.
func TestTCPErrorCloses(t *testing.T) {
	if testing.Short() {
		t.Skip("retries for about 6 seconds")
	}
	rec := capturetest.New()
	rec.Err = errors.New("the store is down")
	s, reg := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0"})
	c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "<13>1 - h app - - - lost\n")
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("reading the connection: %v, want io.EOF (closed by lbm)", err)
	}
	if n := counter(t, reg, "lbm_syslog_dropped_total", "reason", "error"); n != 1 {
		t.Errorf("dropped %v, want 1", n)
	}
	if n := counter(t, reg, "lbm_syslog_submit_errors_total", "reason", "error"); n != 8 {
		t.Errorf("%v submit errors, want 8 tries", n)
	}
}

// TestShutdownDeadline: batches still refused when Shutdown's context
// ends are counted as dropped, and Shutdown says so.
func TestShutdownDeadline(t *testing.T) {
	rec := capturetest.New()
	rec.Err = &capture.RateLimitedError{Source: "syslog", RetryAfter: 10 * time.Millisecond}
	reg := prometheus.NewRegistry()
	s, err := syslog.Listen(syslog.Config{TCP: "127.0.0.1:0", Sink: rec, Source: "syslog", Registerer: reg, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "<13>1 - h app - - - one\n<13>1 - h app - - - two\n")
	eventually(t, "retrying", func() bool {
		return counter(t, reg, "lbm_syslog_submit_errors_total", "reason", "rate_limited") >= 1
	})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want %v", err, context.DeadlineExceeded)
	}
	if n := counter(t, reg, "lbm_syslog_dropped_total", "reason", "shutdown"); n != 2 {
		t.Errorf("dropped at shutdown %v, want 2", n)
	}
}

// TestIdleTimeout: a connection that sends nothing for IdleTimeout is
// closed, and what it sent before arrives.
func TestIdleTimeout(t *testing.T) {
	rec := capturetest.New()
	s, reg := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0", IdleTimeout: 100 * time.Millisecond})
	c, err := net.Dial("tcp", s.Addr(syslog.TCP).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "<13>1 - h app - - - before going quiet\n")
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("reading an idle connection: %v, want io.EOF (closed by lbm)", err)
	}
	wait(t, rec, 1)
	eventually(t, "closed", func() bool { return counter(t, reg, "lbm_syslog_connections_open", "transport", "tcp") == 0 })
}
