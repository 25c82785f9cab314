package server_test

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

// recordingMailer records the addresses it is asked to e-mail.
type recordingMailer struct {
	mu sync.Mutex
	to []string
}

func (m *recordingMailer) Send(_ context.Context, to []string, _, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.to = append(m.to, to...)
	return nil
}

func (m *recordingMailer) sent() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.to)
}

// TestServeNotifies: Serve hands the request flow a notifier that fills
// the inbox and e-mails through the configured mailer, never reaching a
// subject's unit, and telling a keyed notice once.
func TestServeNotifies(t *testing.T) {
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	now := n.Now()
	people := []store.Person{
		{ID: "subj1", Name: "Sam Subject", Unit: "Unit S", Roles: []string{"staff"}, Updated: now},
		{ID: "colleague", Name: "Cal Colleague", Unit: "Unit S", Roles: []string{"authoriser", "staff"}, Updated: now},
		{ID: "auth1", Name: "Ava Authoriser", Unit: "Unit A", Roles: []string{"authoriser", "staff"}, Updated: now},
	}
	if _, _, err := n.Store.PutPeople(t.Context(), people); err != nil {
		t.Fatal(err)
	}
	mailer := &recordingMailer{}
	listening := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := server.Serve(ctx, n, server.ServeConfig{Addr: "127.0.0.1:0", Mailer: mailer, BaseURL: "https://lbm.example.org",
			Listening: func(net.Addr, net.Addr) { close(listening) }}); err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	defer func() {
		cancel()
		wg.Wait()
		n.Close()
	}()
	<-listening
	if n.Requests.Notify == nil {
		t.Fatal("Serve gave the request flow no notifier")
	}
	notice := authorise.Notice{Kind: authorise.NoticeDecide, Request: "req-1", Reference: "ACAC-2026-0001",
		Text: "A request awaits a decision.", Key: "req-1:submitted:1"}
	for range 2 {
		n.Requests.Notify(t.Context(), notice, []string{"auth1", "colleague", "subj1"}, []string{"subj1"})
	}
	for id, want := range map[string]int{"auth1": 1, "colleague": 0, "subj1": 0} {
		if got, err := n.Store.CountUnread(t.Context(), id); err != nil || got != want {
			t.Errorf("CountUnread(%s) = %d, %v; want %d", id, got, err, want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(mailer.sent()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Shutting down waits for e-mails in flight.
	cancel()
	wg.Wait()
	if got := mailer.sent(); !slices.Equal(got, []string{"auth1"}) {
		t.Errorf("e-mailed %v, want [auth1] once", got)
	}
}
