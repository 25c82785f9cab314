package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/lbm-project/lbm/internal/notify"
	"github.com/lbm-project/lbm/internal/store"
)

// mailbox is an in-process SMTP server (emersion/go-smtp) on 127.0.0.1
// and what it received.
type mailbox struct {
	addr string
	// roots trusts the server's certificate when it offers STARTTLS.
	roots *x509.CertPool

	mu       sync.Mutex
	messages []received
	auths    []string // "username:password" of each AUTH attempt
	// rejectRcpt, when set, refuses every recipient.
	rejectRcpt bool
}

type received struct {
	from string
	to   []string
	data string
	tls  bool // the message came over TLS
	user string
}

type smtpOptions struct {
	tls          bool // offer STARTTLS
	auth         bool // offer AUTH PLAIN (over TLS only, unless insecureAuth)
	insecureAuth bool
	rejectRcpt   bool
}

const smtpUser, smtpPassword = "lbm-mailer", "s3cret-Pa55word"

func newMailbox(t *testing.T, o smtpOptions) *mailbox {
	t.Helper()
	mb := &mailbox{rejectRcpt: o.rejectRcpt}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		sess := &session{mb: mb, conn: c}
		if o.auth {
			return &authSession{sess}, nil
		}
		return sess, nil
	}))
	s.Domain = "127.0.0.1"
	s.AllowInsecureAuth = o.insecureAuth
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = testSMTPLog{t}
	if o.tls {
		// Borrow httptest's certificate for 127.0.0.1.
		hs := httptest.NewTLSServer(nil)
		s.TLSConfig = &tls.Config{Certificates: hs.TLS.Certificates}
		mb.roots = x509.NewCertPool()
		mb.roots.AddCert(hs.Certificate())
		hs.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return mb
}

type testSMTPLog struct{ t *testing.T }

func (l testSMTPLog) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l testSMTPLog) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

func (mb *mailbox) received() []received {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return slices.Clone(mb.messages)
}

type session struct {
	mb   *mailbox
	conn *smtp.Conn
	cur  received
}

func (s *session) Reset()        { s.cur = received{user: s.cur.user} }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.mb.rejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.mb.mu.Lock()
	s.mb.messages = append(s.mb.messages, s.cur)
	s.mb.mu.Unlock()
	return nil
}

type authSession struct{ *session }

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		s.mb.mu.Lock()
		s.mb.auths = append(s.mb.auths, username+":"+password)
		s.mb.mu.Unlock()
		if username != smtpUser || password != smtpPassword {
			return smtp.ErrAuthFailed
		}
		s.cur.user = username
		return nil
	}), nil
}

func (mb *mailbox) mailer(recipient string) *notify.SMTPMailer {
	m := &notify.SMTPMailer{Addr: mb.addr, From: "lbm@force.example", Recipient: recipient, Timeout: 5 * time.Second,
		Now: func() time.Time { return now }}
	if mb.roots != nil {
		m.TLSConfig = &tls.Config{RootCAs: mb.roots}
	}
	return m
}

// TestSMTP notifies through a real SMTP conversation: STARTTLS, AUTH
// PLAIN, one message per recipient at the address the template makes, and
// nothing in any message that names a subject or tells the case.
func TestSMTP(t *testing.T) {
	mb := newMailbox(t, smtpOptions{tls: true, auth: true})
	db := newStore(t)
	mailer := mb.mailer("{number}@force.example")
	mailer.Username, mailer.Password = smtpUser, smtpPassword
	if err := mailer.Check(); err != nil {
		t.Fatalf("Check() = %v", err)
	}
	var logs bytes.Buffer
	n := &notify.Notifier{Store: db, Mailer: mailer, Now: func() time.Time { return now }, Logger: testLogger(t, &logs),
		BaseURL: "https://lbm.example.org"}
	told, err := n.Send(t.Context(), message, []string{"auth1", "subj1", "colleague", "auth2", "nonumber"}, []string{"subj1"})
	n.Wait()
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	if want := []string{"auth1", "auth2", "nonumber"}; !slices.Equal(told, want) {
		t.Errorf("Send told %v, want %v", told, want)
	}
	// nonumber is in the inbox but has no address to mail.
	if st := n.Stats(); st != (notify.Stats{Sent: 2, Failed: 1}) {
		t.Errorf("Stats() = %+v, want 2 sent, 1 failed", st)
	}
	got := mb.received()
	var to []string
	for _, m := range got {
		to = append(to, m.to...)
		if !m.tls || m.user != smtpUser || m.from != "lbm@force.example" {
			t.Errorf("message to %v: over TLS %v, as %q, from %q; want TLS, as %q, from lbm@force.example", m.to, m.tls, m.user, m.from, smtpUser)
		}
		if len(m.to) != 1 {
			t.Errorf("message to %v: want one recipient per message", m.to)
		}
		for _, want := range []string{"ACAC-2026-0001", "https://lbm.example.org/requests/req-1", "Subject: lbm: A request needs your decision",
			"Date: Fri, 27 Nov 2026 09:30:00 +0000", "To: " + strings.Join(m.to, ", ")} {
			if !strings.Contains(m.data, want) {
				t.Errorf("message to %v lacks %q:\n%s", m.to, want, m.data)
			}
		}
		for _, p := range directory {
			if strings.Contains(m.data, p.Name) {
				t.Errorf("message to %v names %s (%s):\n%s", m.to, p.ID, p.Name, m.data)
			}
		}
		if strings.Contains(m.data, "PNC") || strings.Contains(m.data, smtpPassword) {
			t.Errorf("message to %v carries the in-app text or the password:\n%s", m.to, m.data)
		}
	}
	if want := []string{"3001@force.example", "3002@force.example"}; !slices.Equal(to, want) {
		t.Errorf("recipients = %v, want %v", to, want)
	}
	if strings.Contains(logs.String(), smtpPassword) {
		t.Errorf("the log holds the password:\n%s", logs.String())
	}
}

// TestSMTPRelay sends without credentials to a relay that offers no TLS.
func TestSMTPRelay(t *testing.T) {
	mb := newMailbox(t, smtpOptions{})
	m := mb.mailer("{id}@force.example")
	if err := m.Send(t.Context(), []string{"auth1@force.example"}, "lbm: test", "body\n.\nmore\n"); err != nil {
		t.Fatalf("Send = %v", err)
	}
	got := mb.received()
	if len(got) != 1 || !slices.Equal(got[0].to, []string{"auth1@force.example"}) || got[0].tls {
		t.Fatalf("received %+v, want one message to auth1@force.example in the clear", got)
	}
	// A lone dot in the body is escaped on the wire and arrives intact.
	if !strings.HasSuffix(got[0].data, "\r\n\r\nbody\r\n.\r\nmore\r\n") {
		t.Errorf("data = %q, want the body intact", got[0].data)
	}
}

// TestSMTPNoPasswordInClear: a server that offers AUTH but no STARTTLS
// never sees the password.
func TestSMTPNoPasswordInClear(t *testing.T) {
	mb := newMailbox(t, smtpOptions{auth: true, insecureAuth: true})
	m := mb.mailer("{id}@force.example")
	m.Username, m.Password = smtpUser, smtpPassword
	err := m.Send(t.Context(), []string{"auth1@force.example"}, "lbm: test", "body")
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send without TLS = %v, want a refusal naming STARTTLS", err)
	}
	if err != nil && strings.Contains(err.Error(), smtpPassword) {
		t.Errorf("the error %q holds the password", err)
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if len(mb.auths) != 0 || len(mb.messages) != 0 {
		t.Errorf("server saw AUTH %v and %d messages, want none", mb.auths, len(mb.messages))
	}
}

// TestSMTPWrongPassword fails without putting the password in the error.
func TestSMTPWrongPassword(t *testing.T) {
	mb := newMailbox(t, smtpOptions{tls: true, auth: true})
	m := mb.mailer("{id}@force.example")
	m.Username, m.Password = smtpUser, "not-the-Pa55word"
	err := m.Send(t.Context(), []string{"auth1@force.example"}, "lbm: test", "body")
	if err == nil || strings.Contains(err.Error(), m.Password) {
		t.Errorf("Send with a wrong password = %v, want an error without the password", err)
	}
	if got := mb.received(); len(got) != 0 {
		t.Errorf("received %d messages, want none", len(got))
	}
}

// TestSMTPFailureDoesNotFailSend: a server refusing every recipient, one
// not listening, and one that never answers, all leave Send successful and
// the inbox stored.
func TestSMTPFailureDoesNotFailSend(t *testing.T) {
	refusing := newMailbox(t, smtpOptions{rejectRcpt: true})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // holds the connection, says nothing
		}
	}()
	for _, tt := range []struct {
		name string
		addr string
	}{{"recipients refused", refusing.addr}, {"nothing listening", closedAddr}, {"server silent", silent.Addr().String()}} {
		t.Run(tt.name, func(t *testing.T) {
			db := newStore(t)
			mailer := &notify.SMTPMailer{Addr: tt.addr, From: "lbm@force.example", Recipient: "{id}@force.example", Timeout: 500 * time.Millisecond}
			var logs bytes.Buffer
			n := &notify.Notifier{Store: db, Mailer: mailer, Now: func() time.Time { return now }, Logger: testLogger(t, &logs)}
			start := time.Now()
			told, err := n.Send(t.Context(), message, []string{"auth1", "auth2"}, []string{"subj1"})
			if err != nil || !slices.Equal(told, []string{"auth1", "auth2"}) {
				t.Fatalf("Send = %v, %v; want [auth1 auth2], nil", told, err)
			}
			// Send does not wait for the mail server; its e-mails end
			// within their timeouts.
			if took := time.Since(start); took > 400*time.Millisecond && tt.name == "server silent" {
				t.Errorf("Send took %v: it waited for a silent mail server", took)
			}
			n.Wait()
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("e-mails took %v with a timeout of 500ms each", took)
			}
			if st := n.Stats(); st != (notify.Stats{Failed: 2}) {
				t.Errorf("Stats() = %+v, want 2 failed", st)
			}
			for _, id := range told {
				if c, err := db.CountUnread(t.Context(), id); err != nil || c != 1 {
					t.Errorf("CountUnread(%s) = %d, %v; want 1", id, c, err)
				}
			}
			if strings.Contains(logs.String(), "Sign in") {
				t.Errorf("the log holds an e-mail body:\n%s", logs.String())
			}
		})
	}
	if got := refusing.received(); len(got) != 0 {
		t.Errorf("refusing server received %d messages", len(got))
	}
}

func TestSMTPCheck(t *testing.T) {
	good := notify.SMTPMailer{Addr: "mail.force.example:587", From: "lbm@force.example", Recipient: "{id}@force.example"}
	if err := good.Check(); err != nil {
		t.Errorf("Check(%+v) = %v", good, err)
	}
	for _, tt := range []struct {
		name string
		edit func(*notify.SMTPMailer)
	}{
		{"no port", func(m *notify.SMTPMailer) { m.Addr = "mail.force.example" }},
		{"from with a name", func(m *notify.SMTPMailer) { m.From = "LBM <lbm@force.example>" }},
		{"from with a line break", func(m *notify.SMTPMailer) { m.From = "lbm@force.example\r\nRCPT TO:<x@y>" }},
		{"no placeholder", func(m *notify.SMTPMailer) { m.Recipient = "all@force.example" }},
		{"two placeholders", func(m *notify.SMTPMailer) { m.Recipient = "{id}.{number}@force.example" }},
		{"not an address", func(m *notify.SMTPMailer) { m.Recipient = "{id}" }},
		{"password without username", func(m *notify.SMTPMailer) { m.Password = "x" }},
	} {
		m := good
		tt.edit(&m)
		if err := m.Check(); err == nil {
			t.Errorf("%s: Check(%+v) = nil, want an error", tt.name, m)
		}
	}
}

func TestAddress(t *testing.T) {
	for _, tt := range []struct {
		template string
		p        store.Person
		want     string // "" for an error
	}{
		{"{id}@force.example", store.Person{ID: "auth1", Number: "3001"}, "auth1@force.example"},
		{"{number}@force.example", store.Person{ID: "auth1", Number: "3001"}, "3001@force.example"},
		{"pc.{number}@force.example", store.Person{ID: "auth1", Number: "3001"}, "pc.3001@force.example"},
		{"{number}@force.example", store.Person{ID: "auth1"}, ""},
		{"{number}@force.example", store.Person{ID: "auth1", Number: "30 01"}, ""},
		{"{number}@force.example", store.Person{ID: "auth1", Number: "x@evil.example>\r\nBcc: y"}, ""},
	} {
		m := notify.SMTPMailer{Recipient: tt.template}
		got, err := m.Address(tt.p)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Address(%q, %+v) = %q, want an error", tt.template, tt.p, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Address(%q, %+v) = %q, %v; want %q", tt.template, tt.p, got, err, tt.want)
		}
	}
}

// TestSMTPCanceled stops at once when the context ends.
func TestSMTPCanceled(t *testing.T) {
	mb := newMailbox(t, smtpOptions{})
	m := mb.mailer("{id}@force.example")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := m.Send(ctx, []string{"auth1@force.example"}, "lbm: test", "body"); err == nil || !errors.Is(err, ctx.Err()) {
		t.Errorf("Send on a canceled context = %v, want %v", err, ctx.Err())
	}
}
