package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// Mailer sends one e-mail. Its errors must never carry the message's body
// or a credential: the Notifier logs them.
type Mailer interface {
	// Send e-mails body, under subject, to the addresses in to.
	Send(ctx context.Context, to []string, subject, body string) error
}

// Addresser is a Mailer that makes people's e-mail addresses. A Notifier
// whose Mailer is not one hands the Mailer people's directory ids as
// addresses.
type Addresser interface {
	// Address returns p's e-mail address, or an error if it cannot be made.
	Address(p store.Person) (string, error)
}

// DefaultSMTPTimeout bounds one e-mail, from connecting to QUIT.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPMailer sends e-mail through an SMTP submission server with the
// standard library's net/smtp.
//
// It upgrades the connection with STARTTLS whenever the server offers it,
// verifying the server's certificate. It authenticates (AUTH PLAIN) only
// over TLS: if Username is set and the server offers no STARTTLS, it
// sends nothing rather than the password in the clear. Implicit TLS (port
// 465) is not supported. Without a Username it sends to a relay that
// trusts lbm's address, over TLS if offered and in the clear if not.
type SMTPMailer struct {
	Addr string // the server, host:port
	From string // the envelope sender and From address
	// Recipient makes each person's address: "{id}" expands to their
	// directory id, "{number}" to their collar or staff number, e.g.
	// "{id}@force.example". The directory holds no e-mail addresses.
	Recipient string
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN over TLS. The password is never logged nor put in an error.
	Username, Password string
	// Timeout bounds one e-mail; 0 means DefaultSMTPTimeout.
	Timeout time.Duration
	// TLSConfig verifies the server; nil means the system's roots, for
	// the host of Addr.
	TLSConfig *tls.Config
	// Now dates each message; nil leaves the Date header to the
	// submission server (RFC 6409 §8.1).
	Now func() time.Time
}

var _ Addresser = (*SMTPMailer)(nil)

// Check refuses a mailer that cannot send: no server, a From that is not
// a plain address, a Recipient without exactly one of {id} or {number},
// or a password without a username.
func (m *SMTPMailer) Check() error {
	if _, _, err := net.SplitHostPort(m.Addr); err != nil {
		return fmt.Errorf("smtp: server %q is not host:port", m.Addr)
	}
	if err := checkAddress(m.From); err != nil {
		return fmt.Errorf("smtp: from: %v", err)
	}
	if n := strings.Count(m.Recipient, "{id}") + strings.Count(m.Recipient, "{number}"); n != 1 {
		return fmt.Errorf("smtp: recipient template %q: want exactly one {id} or {number}", m.Recipient)
	}
	if err := checkAddress(strings.NewReplacer("{id}", "x", "{number}", "1").Replace(m.Recipient)); err != nil {
		return fmt.Errorf("smtp: recipient template %q: %v", m.Recipient, err)
	}
	if m.Username == "" && m.Password != "" {
		return errors.New("smtp: a password without a username")
	}
	return nil
}

// Address expands the Recipient template for p. It fails for a person with
// no number when the template uses {number}, and when the expansion is not
// a plain address (the HR file's numbers are not checked as addresses).
func (m *SMTPMailer) Address(p store.Person) (string, error) {
	if strings.Contains(m.Recipient, "{number}") && p.Number == "" {
		return "", fmt.Errorf("person %s has no number for %q", p.ID, m.Recipient)
	}
	addr := strings.NewReplacer("{id}", p.ID, "{number}", p.Number).Replace(m.Recipient)
	if err := checkAddress(addr); err != nil {
		return "", fmt.Errorf("person %s: %v", p.ID, err)
	}
	return addr, nil
}

// checkAddress refuses anything but a bare addr-spec: no display name, no
// angle brackets, nothing that could end an SMTP command or a header line.
func checkAddress(addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr || strings.ContainsAny(addr, "\r\n<> ") {
		return fmt.Errorf("%q is not a plain e-mail address", addr)
	}
	return nil
}

// Send sends one message to the addresses in to, over one connection,
// within the mailer's timeout.
func (m *SMTPMailer) Send(ctx context.Context, to []string, subject, body string) error {
	if len(to) == 0 {
		return nil
	}
	for _, a := range to {
		if err := checkAddress(a); err != nil {
			return fmt.Errorf("smtp: to: %v", err)
		}
	}
	msg, err := m.message(to, subject, body)
	if err != nil {
		return err
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("smtp: server %q is not host:port", m.Addr)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("smtp: connecting to %s: %w", m.Addr, ctx.Err())
		}
		return fmt.Errorf("smtp: connecting to %s: %v", m.Addr, err)
	}
	defer conn.Close()
	// The whole conversation shares the deadline, and ends if ctx does.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := m.converse(conn, host, to, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("smtp: sending through %s: %w", m.Addr, ctx.Err())
		}
		return fmt.Errorf("smtp: sending through %s: %v", m.Addr, err)
	}
	return nil
}

// converse runs one SMTP session on conn.
func (m *SMTPMailer) converse(conn net.Conn, host string, to []string, msg []byte) error {
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	secure := false
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{}
		if m.TLSConfig != nil {
			cfg = m.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		if cfg.MinVersion < tls.VersionTLS12 {
			cfg.MinVersion = tls.VersionTLS12
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starting TLS: %v", err)
		}
		secure = true
	}
	if m.Username != "" {
		// net/smtp's PlainAuth would send the password in the clear to
		// a server named localhost; lbm never does.
		if !secure {
			return errors.New("the server offers no STARTTLS: not sending the password in the clear")
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server offers no AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("authenticating as %s: %v", m.Username, err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("MAIL FROM: %v", err)
	}
	for _, a := range to {
		if err := c.Rcpt(a); err != nil {
			return fmt.Errorf("RCPT TO: %v", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %v", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %v", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %v", err)
	}
	return c.Quit()
}

// message formats a plain-text message. The subject is encoded (RFC 2047)
// if it is not ASCII; a subject or body with a line break a header could
// not hold is refused.
func (m *SMTPMailer) message(to []string, subject, body string) ([]byte, error) {
	if strings.ContainsAny(subject, "\r\n") {
		return nil, errors.New("smtp: the subject has a line break")
	}
	var b strings.Builder
	b.WriteString("From: " + m.From + "\r\n")
	b.WriteString("To: " + strings.Join(to, ", ") + "\r\n")
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", subject) + "\r\n")
	if m.Now != nil {
		b.WriteString("Date: " + m.Now().Format(time.RFC1123Z) + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\r\n")
	b.WriteString("Auto-Submitted: auto-generated\r\n")
	b.WriteString("\r\n")
	// The DATA writer turns each \n into \r\n and escapes leading dots.
	b.WriteString(strings.ReplaceAll(body, "\r\n", "\n"))
	return []byte(b.String()), nil
}
