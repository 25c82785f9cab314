package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"

	"github.com/lbm-project/lbm/internal/capture/syslog"
	"github.com/lbm-project/lbm/internal/store"
)

// SyslogConfig is the part of ServeConfig that starts the syslog
// listeners (internal/capture/syslog); all empty, none is started.
type SyslogConfig struct {
	// SyslogTCP, SyslogUDP and SyslogTLS are the addresses to listen on.
	SyslogTCP, SyslogUDP, SyslogTLS string
	// SyslogTLSCert and SyslogTLSKey serve SyslogTLS (PEM); with
	// SyslogTLSClientCA, only clients with a certificate it issued are
	// served.
	SyslogTLSCert, SyslogTLSKey, SyslogTLSClientCA string
	// SyslogSource is the source of a message no mapping routes
	// elsewhere; it must be registered.
	SyslogSource string
	// SyslogListening is called with each listener's transport ("tcp",
	// "udp" or "tls") and bound address once all listen.
	SyslogListening func(transport string, addr net.Addr)
}

// startSyslog starts the configured syslog listeners, feeding n.Capture;
// nil without any. It refuses to start without capture, with a default
// source that is not registered, or with TLS settings that do not load.
func startSyslog(ctx context.Context, n *Node, cfg ServeConfig) (*syslog.Server, error) {
	sc := cfg.SyslogConfig
	if sc.SyslogTCP == "" && sc.SyslogUDP == "" && sc.SyslogTLS == "" {
		if sc.SyslogTLSCert != "" || sc.SyslogTLSKey != "" || sc.SyslogTLSClientCA != "" || sc.SyslogSource != "" {
			return nil, errors.New("syslog: settings given but no syslog listener address")
		}
		return nil, nil
	}
	if n.Capture == nil {
		return nil, errors.New("syslog: capture is not configured")
	}
	if sc.SyslogSource == "" {
		return nil, errors.New("syslog: a default source is needed")
	}
	sources, err := n.Store.ListSources(ctx)
	if err != nil {
		return nil, fmt.Errorf("syslog: listing sources: %w", err)
	}
	if !slices.ContainsFunc(sources, func(s store.Source) bool { return s.ID == sc.SyslogSource }) {
		return nil, fmt.Errorf("syslog: the default source %q is not registered (lbm source add %s)", sc.SyslogSource, sc.SyslogSource)
	}
	var tlsConfig *tls.Config
	if sc.SyslogTLS != "" {
		if sc.SyslogTLSCert == "" || sc.SyslogTLSKey == "" {
			return nil, errors.New("syslog: TLS needs a certificate and a key")
		}
		cert, err := tls.LoadX509KeyPair(sc.SyslogTLSCert, sc.SyslogTLSKey)
		if err != nil {
			return nil, fmt.Errorf("syslog: loading the TLS certificate: %v", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if sc.SyslogTLSClientCA != "" {
			pem, err := os.ReadFile(sc.SyslogTLSClientCA)
			if err != nil {
				return nil, fmt.Errorf("syslog: reading the client CA: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("syslog: %s holds no PEM certificate", sc.SyslogTLSClientCA)
			}
			tlsConfig.ClientCAs, tlsConfig.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
	} else if sc.SyslogTLSClientCA != "" {
		return nil, errors.New("syslog: a client CA without a TLS listener")
	}
	s, err := syslog.Listen(syslog.Config{
		TCP: sc.SyslogTCP, UDP: sc.SyslogUDP, TLS: sc.SyslogTLS, TLSConfig: tlsConfig,
		Sink: n.Capture, Source: sc.SyslogSource, Registerer: cfg.Metrics.Registry, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	if sc.SyslogListening != nil {
		for _, t := range []string{syslog.TCP, syslog.UDP, syslog.TLS} {
			if a := s.Addr(t); a != nil {
				sc.SyslogListening(t, a)
			}
		}
	}
	return s, nil
}
