package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/lbm-project/lbm/internal/capture"
)

// SMTPConfig configures the SMTP journal endpoint: the address a mail
// platform journals to (Exchange Online journal rules, Postfix
// always_bcc), which takes each copy as a record.
type SMTPConfig struct {
	// Sink takes the records. Required.
	Sink capture.Sink
	// Recipients are the addresses mail is accepted for (the journal
	// address); any other recipient is refused with 550. Required.
	Recipients []string
	// Networks are client networks that may deliver without
	// authenticating; their mail is submitted as Source.
	Networks []netip.Prefix
	Source   string
	// Authenticate checks AUTH PLAIN credentials (the source's name and
	// its token) and returns the source; nil refuses AUTH. The server
	// offers AUTH only over TLS.
	Authenticate func(ctx context.Context, username, password string) (source string, err error)
	// Outcome, when set, is told what became of each message: stored,
	// duplicate, unparsed, empty, refused, failed.
	Outcome func(outcome string)
	Logger  *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// SubmitTimeout bounds one Submit. Default 2 minutes.
	SubmitTimeout time.Duration
}

// SMTPBackend is a go-smtp Backend for the journal endpoint. It answers
// DATA with 250 only once the Sink says the record is durable, so that a
// message the platform was told is delivered is never lost; a rate limit,
// an overload or any other failure answers 451 and the platform retries.
type SMTPBackend struct {
	cfg        SMTPConfig
	recipients map[string]bool
}

var _ smtp.Backend = (*SMTPBackend)(nil)

// NewSMTPBackend checks cfg and returns the backend.
func NewSMTPBackend(cfg SMTPConfig) (*SMTPBackend, error) {
	if cfg.Sink == nil {
		return nil, errors.New("the SMTP journal endpoint needs the capture pipeline")
	}
	if len(cfg.Recipients) == 0 {
		return nil, errors.New("the SMTP journal endpoint needs at least one recipient address")
	}
	if len(cfg.Networks) > 0 && cfg.Source == "" {
		return nil, errors.New("SMTP journal networks need the source their mail is submitted as")
	}
	if len(cfg.Networks) == 0 && cfg.Authenticate == nil {
		return nil, errors.New("the SMTP journal endpoint needs client networks or authentication")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SubmitTimeout == 0 {
		cfg.SubmitTimeout = 2 * time.Minute
	}
	if cfg.Outcome == nil {
		cfg.Outcome = func(string) {}
	}
	b := &SMTPBackend{cfg: cfg, recipients: map[string]bool{}}
	for _, r := range cfg.Recipients {
		a := cleanAddress(r)
		if a == "" || !strings.Contains(a, "@") {
			return nil, fmt.Errorf("SMTP journal recipient %q is not an address", r)
		}
		b.recipients[a] = true
	}
	return b, nil
}

// NewSMTPServer returns a go-smtp server for b: messages up to
// MaxMessageBytes, STARTTLS when tlsConfig is set, AUTH only over TLS.
func NewSMTPServer(b *SMTPBackend, domain string, tlsConfig *tls.Config) *smtp.Server {
	s := smtp.NewServer(b)
	s.TLSConfig = tlsConfig
	s.Domain = domain
	s.MaxMessageBytes = MaxMessageBytes
	s.MaxRecipients = 100
	s.ReadTimeout, s.WriteTimeout = 5*time.Minute, time.Minute
	s.AllowInsecureAuth = false
	return s
}

// NewSession starts a session; a client from an allowed network acts as
// the configured source at once, any other must authenticate.
func (b *SMTPBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := &smtpSession{b: b}
	if ap, err := netip.ParseAddrPort(c.Conn().RemoteAddr().String()); err == nil {
		ip := ap.Addr().Unmap()
		if slices.ContainsFunc(b.cfg.Networks, func(p netip.Prefix) bool { return p.Contains(ip) }) {
			s.source = b.cfg.Source
		}
	}
	return s, nil
}

type smtpSession struct {
	b      *SMTPBackend
	source string
	rcpts  int
}

var (
	errSMTPAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	errSMTPNoRecipient  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such recipient here: this server takes journal mail only"}
	errSMTPEmpty        = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "empty message"}
	errSMTPTryLater     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store the message now; try again later"}
)

func (s *smtpSession) AuthMechanisms() []string {
	if s.b.cfg.Authenticate == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || s.b.cfg.Authenticate == nil {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		src, err := s.b.cfg.Authenticate(ctx, username, password)
		if err != nil || src != username {
			// Which of name or token was wrong is not said.
			s.b.cfg.Logger.Info("smtp journal authentication refused", "username", username)
			return smtp.ErrAuthFailed
		}
		s.source = src
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.source == "" {
		s.b.cfg.Outcome("refused")
		return errSMTPAuthRequired
	}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.source == "" {
		return errSMTPAuthRequired
	}
	if !s.b.recipients[cleanAddress(to)] {
		s.b.cfg.Outcome("refused")
		return errSMTPNoRecipient
	}
	s.rcpts++
	return nil
}

// Data reads the message and answers only once it is durable.
func (s *smtpSession) Data(r io.Reader) error {
	if s.source == "" || s.rcpts == 0 {
		return errSMTPAuthRequired
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		// Too large, or the client went: go-smtp answers.
		s.b.cfg.Outcome("failed")
		return err
	}
	rec, err := Parse(raw, "", s.b.cfg.Now())
	if errors.Is(err, ErrEmpty) {
		s.b.cfg.Outcome("empty")
		return errSMTPEmpty
	}
	if err != nil {
		s.b.cfg.Outcome("failed")
		return errSMTPTryLater
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.b.cfg.SubmitTimeout)
	defer cancel()
	res, err := s.b.cfg.Sink.Submit(ctx, capture.Email, s.source, []capture.Record{rec})
	if err != nil {
		s.b.cfg.Outcome("failed")
		if !errors.Is(err, capture.ErrRateLimited) {
			s.b.cfg.Logger.Error("smtp journal: storing a message", "source", s.source, "err", err)
		}
		return errSMTPTryLater
	}
	if len(res) == 1 {
		s.b.cfg.Outcome(res[0].Status.String())
	}
	return nil
}

func (s *smtpSession) Reset() { s.rcpts = 0 }

func (s *smtpSession) Logout() error { return nil }
