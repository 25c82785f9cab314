package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lbm-project/lbm/internal/capture/email"
	"github.com/lbm-project/lbm/internal/identity"
)

// startSMTPJournal listens for journal mail on cfg.SMTPJournalAddr and
// serves it until the returned server is closed. Mail is accepted from
// cfg.SMTPJournalNetworks as cfg.SMTPJournalSource, and from anyone who
// authenticates with AUTH PLAIN as a source (name and token), which the
// server offers only after STARTTLS, with the main listener's
// certificate.
func startSMTPJournal(n *Node, cfg ServeConfig, tlsConfig *tls.Config) (*smtp.Server, net.Listener, error) {
	if n.Capture == nil {
		return nil, nil, errors.New("the SMTP journal endpoint needs the capture pipeline, which this node does not have")
	}
	if tlsConfig == nil && len(cfg.SMTPJournalNetworks) == 0 {
		return nil, nil, errors.New("the SMTP journal endpoint needs --smtp-journal-network, or --tls-cert and --tls-key for authenticated delivery")
	}
	bcfg := email.SMTPConfig{
		Sink: n.Capture, Recipients: cfg.SMTPJournalRecipients,
		Networks: cfg.SMTPJournalNetworks, Source: cfg.SMTPJournalSource,
		Logger: cfg.Logger, Now: n.Now,
		Outcome: func(outcome string) { cfg.Metrics.smtpJournal.WithLabelValues(outcome).Inc() },
	}
	if tlsConfig != nil {
		bcfg.Authenticate = func(ctx context.Context, username, password string) (string, error) {
			// The same check as a source's bearer token on the API.
			p, err := identity.Authenticate(ctx, n.Store, password, n.Now(), identity.KindSource)
			if err != nil {
				return "", err
			}
			return p.Subject, nil
		}
	}
	b, err := email.NewSMTPBackend(bcfg)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", cfg.SMTPJournalAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("listening on %s: %v", cfg.SMTPJournalAddr, err)
	}
	srv := email.NewSMTPServer(b, "lbm", tlsConfig)
	srv.ErrorLog = slogSMTP{cfg.Logger}
	return srv, ln, nil
}

// slogSMTP passes go-smtp's own error log to slog.
type slogSMTP struct{ l *slog.Logger }

func (s slogSMTP) Printf(format string, v ...any) {
	s.l.Warn("smtp journal", "msg", fmt.Sprintf(format, v...))
}

func (s slogSMTP) Println(v ...any) { s.l.Warn("smtp journal", "msg", fmt.Sprint(v...)) }

func newSMTPJournalMetric(reg *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lbm_smtp_journal_messages_total",
		Help: "Messages delivered to the SMTP journal endpoint, by outcome (stored, duplicate, unparsed, empty, refused, failed).",
	}, []string{"outcome"})
	reg.MustRegister(c)
	return c
}
