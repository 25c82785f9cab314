package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
)

// TestServeSyslogRefuses: Serve will not start syslog listeners it could
// not feed: without capture, without a registered default source, or with
// settings that do not fit together.
func TestServeSyslogRefuses(t *testing.T) {
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := identity.AddSource(t.Context(), n.Store, "firewall", n.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		capture bool
		cfg     server.SyslogConfig
		want    string
	}{
		{"no capture", false, server.SyslogConfig{SyslogTCP: "127.0.0.1:0", SyslogSource: "firewall"}, "no capture pipeline configured"},
		{"no source", true, server.SyslogConfig{SyslogTCP: "127.0.0.1:0"}, "a default source is needed"},
		{"an unregistered source", true, server.SyslogConfig{SyslogUDP: "127.0.0.1:0", SyslogSource: "nosuch"}, `"nosuch" is not registered`},
		{"TLS without a key", true, server.SyslogConfig{SyslogTLS: "127.0.0.1:0", SyslogSource: "firewall", SyslogTLSCert: "cert.pem"}, "certificate and a key"},
		{"a client CA without TLS", true, server.SyslogConfig{SyslogTCP: "127.0.0.1:0", SyslogSource: "firewall", SyslogTLSClientCA: "ca.pem"}, "client CA without a TLS listener"},
		{"a source without a listener", true, server.SyslogConfig{SyslogSource: "firewall"}, "no syslog listener"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n.Capture = nil
			if tc.capture {
				n.Capture = capturetest.New()
			}
			err := server.Serve(t.Context(), n, server.ServeConfig{Addr: "127.0.0.1:0", RetentionEvery: -1, SyslogConfig: tc.cfg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Serve = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestServeSyslog: Serve's syslog listeners feed n.Capture under the
// default source, over TCP and TLS, and stop with it.
func TestServeSyslog(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := identity.AddSource(t.Context(), n.Store, "firewall", n.Now()); err != nil {
		t.Fatal(err)
	}
	rec := capturetest.New()
	n.Capture = rec
	ctx, cancel := context.WithCancel(context.Background())
	addrs := map[string]string{}
	var mu sync.Mutex
	listening := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		err := server.Serve(ctx, n, server.ServeConfig{Addr: "127.0.0.1:0", RetentionEvery: -1,
			SyslogConfig: server.SyslogConfig{SyslogTCP: "127.0.0.1:0", SyslogTLS: "127.0.0.1:0", SyslogSource: "firewall",
				SyslogTLSCert: certFile, SyslogTLSKey: keyFile,
				SyslogListening: func(transport string, a net.Addr) {
					mu.Lock()
					addrs[transport] = a.String()
					mu.Unlock()
				}},
			Listening: func(net.Addr, net.Addr) { close(listening) }})
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		n.Close()
	})
	<-listening
	mu.Lock()
	tcpAddr, tlsAddr := addrs["tcp"], addrs["tls"]
	mu.Unlock()
	c, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "<13>1 - fw1 filter - - - over tcp\n")
	c.Close()
	tc, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(tc, "11 <13>Oct 1 1")
	tc.Close()
	wctx, wcancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer wcancel()
	got, err := rec.Wait(wctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	transports := map[any]bool{}
	for _, g := range got {
		if g.Source != "firewall" {
			t.Errorf("source %q, want firewall", g.Source)
		}
		transports[g.Record.Fields["network.transport"]] = true
	}
	if !transports["tcp"] || !transports["tls"] {
		t.Errorf("transports %v, want tcp and tls", transports)
	}
}
