package server_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
)

// TestSMTPJournal: Serve with --smtp-journal takes journal mail from a
// source that authenticates with its token over STARTTLS, checked as the
// API checks it, and refuses a revoked or wrong token.
func TestSMTPJournal(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rec := capturetest.New()
	n.Capture = rec
	token, err := identity.AddSource(t.Context(), n.Store, "exchange", n.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		err := server.Serve(ctx, n, server.ServeConfig{Addr: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile,
			SMTPJournalAddr: "127.0.0.1:0", SMTPJournalRecipients: []string{"journal@lbm.force.example"},
			SMTPJournalListening: func(a net.Addr) { addr <- a }})
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait(); n.Close() })
	a := (<-addr).String()

	deliver := func(user, pass string) error {
		c, err := smtp.DialStartTLS(a, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
			return err
		}
		return c.SendMail("x@contoso.example", []string{"journal@lbm.force.example"},
			strings.NewReader("From: ann@contoso.example\r\nTo: bob@contoso.example\r\nMessage-ID: <1@contoso.example>\r\nSubject: hi\r\n\r\nbody\r\n"))
	}
	if err := deliver("exchange", "lbm_s_wrong"); err == nil {
		t.Error("a wrong token was taken")
	}
	if err := deliver("other", token); err == nil {
		t.Error("the token of another source name was taken")
	}
	if err := deliver("exchange", token); err != nil {
		t.Fatalf("delivering with the source's token: %v", err)
	}
	if got := rec.Records(); len(got) != 1 || got[0].Source != "exchange" || got[0].Record.Fields["email.message_id"] != "1@contoso.example" {
		t.Errorf("the sink holds %+v", got)
	}
}

// TestSMTPJournalNeedsCapture: a node without the capture pipeline does
// not start the endpoint, and says why.
func TestSMTPJournalNeedsCapture(t *testing.T) {
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	n.Capture = nil
	err = server.Serve(t.Context(), n, server.ServeConfig{Addr: "127.0.0.1:0", SMTPJournalAddr: "127.0.0.1:0",
		SMTPJournalRecipients: []string{"journal@x.example"}, SMTPJournalSource: "postfix"})
	if err == nil || !strings.Contains(err.Error(), "capture") {
		t.Errorf("Serve = %v, want an error naming the capture pipeline", err)
	}
}
