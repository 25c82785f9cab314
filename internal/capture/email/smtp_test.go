package email_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/capture/email"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/testcert"
)

// testCert returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	c := testcert.New(t)
	return c.TLS, c.Pool
}

type outcomes struct {
	mu  sync.Mutex
	got []string
}

func (o *outcomes) add(s string) { o.mu.Lock(); o.got = append(o.got, s); o.mu.Unlock() }

// startSMTP serves cfg on 127.0.0.1 with STARTTLS and returns the address.
func startSMTP(t *testing.T, cfg email.SMTPConfig) (string, *x509.CertPool) {
	t.Helper()
	b, err := email.NewSMTPBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cert, pool := testCert(t)
	srv := email.NewSMTPServer(b, "lbm.test", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), pool
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func send(c *smtp.Client, rcpt, msg string) error {
	if err := c.Mail("journal-sender@contoso.example", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(email.CRLF(msg))); err != nil {
		return err
	}
	return w.Close()
}

func TestSMTPJournal(t *testing.T) {
	rec := capturetest.New()
	var out outcomes
	auth := func(_ context.Context, user, pass string) (string, error) {
		if user == "exchange" && pass == "lbm_s_secret" {
			return "exchange", nil
		}
		return "", errors.New("unauthenticated")
	}
	addr, _ := startSMTP(t, email.SMTPConfig{Sink: rec, Recipients: []string{"Journal@lbm.force.example"},
		Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Source: "postfix", Authenticate: auth, Outcome: out.add})

	t.Run("allowed network delivers a journal report", func(t *testing.T) {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := send(c, "journal@lbm.force.example", email.JournalReportForTest); err != nil {
			t.Fatalf("delivering: %v", err)
		}
		// 250 came: the record is already with the sink.
		got := rec.Records()
		if len(got) != 1 || got[0].Source != "postfix" || got[0].Input != capture.Email {
			t.Fatalf("after 250, the sink holds %+v", got)
		}
		if r := got[0].Record.Fields["email.journal.recipients"]; len(r.([]string)) != 5 {
			t.Errorf("email.journal.recipients = %v", r)
		}
		// The same report again is a duplicate, and still 250.
		if err := send(c, "journal@lbm.force.example", email.JournalReportForTest); err != nil {
			t.Fatalf("delivering again: %v", err)
		}
		if n := len(rec.Records()); n != 1 {
			t.Errorf("the second copy was stored: %d records", n)
		}
	})

	t.Run("other recipients are refused", func(t *testing.T) {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := send(c, "ceo@force.example", email.MessageForTest); smtpCode(err) != 550 {
			t.Errorf("RCPT to another address: %v, want 550", err)
		}
	})

	t.Run("empty message is refused", func(t *testing.T) {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := send(c, "journal@lbm.force.example", "\n"); smtpCode(err) != 554 {
			t.Errorf("empty message: %v, want 554", err)
		}
	})

	t.Run("overloaded sink answers 451", func(t *testing.T) {
		rec.Err = ingest.ErrOverloaded
		defer func() { rec.Err = nil }()
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		n := len(rec.Records())
		if err := send(c, "journal@lbm.force.example", email.AlternativeForTest); smtpCode(err) != 451 {
			t.Errorf("overloaded: %v, want 451", err)
		}
		rec.Err = &capture.RateLimitedError{Source: "postfix", RetryAfter: time.Second}
		if err := send(c, "journal@lbm.force.example", email.AlternativeForTest); smtpCode(err) != 451 {
			t.Errorf("rate limited: %v, want 451", err)
		}
		if len(rec.Records()) != n {
			t.Error("a refused message was stored")
		}
	})

	if !strings.Contains(strings.Join(out.got, " "), "stored") || !strings.Contains(strings.Join(out.got, " "), "duplicate") {
		t.Errorf("outcomes = %v", out.got)
	}
}

func TestSMTPJournalAuth(t *testing.T) {
	rec := capturetest.New()
	auth := func(_ context.Context, user, pass string) (string, error) {
		if user == "exchange" && pass == "lbm_s_secret" {
			return "exchange", nil
		}
		return "", errors.New("unauthenticated")
	}
	// 127.0.0.1 is not among the networks: it must authenticate.
	addr, pool := startSMTP(t, email.SMTPConfig{Sink: rec, Recipients: []string{"journal@lbm.force.example"},
		Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Source: "postfix", Authenticate: auth})

	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := send(c, "journal@lbm.force.example", email.MessageForTest); smtpCode(err) != 530 {
		t.Errorf("without AUTH: %v, want 530", err)
	}
	// AUTH is not offered in the clear.
	if err := c.Auth(sasl.NewPlainClient("", "exchange", "lbm_s_secret")); err == nil {
		t.Error("AUTH PLAIN without TLS succeeded")
	}
	c.Close()

	for _, tt := range []struct {
		user, pass string
		ok         bool
	}{
		{"exchange", "wrong", false},
		{"other", "lbm_s_secret", false},
		{"exchange", "lbm_s_secret", true},
	} {
		c, err := smtp.DialStartTLS(addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Auth(sasl.NewPlainClient("", tt.user, tt.pass))
		if (err == nil) != tt.ok {
			t.Errorf("AUTH %s/%s: %v, want ok %v", tt.user, tt.pass, err, tt.ok)
		}
		if tt.ok {
			if err := send(c, "journal@lbm.force.example", email.MessageForTest); err != nil {
				t.Errorf("delivering after AUTH: %v", err)
			}
			if got := rec.Records(); len(got) != 1 || got[0].Source != "exchange" {
				t.Errorf("after 250, the sink holds %+v", got)
			}
		}
		c.Close()
	}
	if len(rec.Records()) != 1 {
		t.Errorf("%d records, want the one authenticated delivery", len(rec.Records()))
	}
}

func TestNewSMTPBackend(t *testing.T) {
	rec := capturetest.New()
	for _, cfg := range []email.SMTPConfig{
		{Recipients: []string{"j@x"}, Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Source: "s"},
		{Sink: rec, Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Source: "s"},
		{Sink: rec, Recipients: []string{"j@x"}, Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{Sink: rec, Recipients: []string{"j@x"}},
		{Sink: rec, Recipients: []string{"not an address"}, Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Source: "s"},
	} {
		if _, err := email.NewSMTPBackend(cfg); err == nil {
			t.Errorf("email.NewSMTPBackend(%+v) succeeded", cfg)
		}
	}
}
