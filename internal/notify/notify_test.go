package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/notify"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
)

var now = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// The directory of every test: subjects, their colleagues, authorisers,
// leavers. Names are what no e-mail may show.
var directory = []store.Person{
	{ID: "subj1", Name: "Sam Subject", Number: "1001", Unit: "Unit S"},
	{ID: "subj2", Name: "Bea Second", Number: "1002", Unit: "Unit T"},
	{ID: "subj3", Name: "Una Unitless", Number: "1003"},
	{ID: "colleague", Name: "Cal Colleague", Number: "2001", Unit: "Unit S"},
	{ID: "colleague2", Name: "Tia Teammate", Number: "2002", Unit: "Unit T"},
	{ID: "auth1", Name: "Ava Authoriser", Number: "3001", Unit: "Unit A"},
	{ID: "auth2", Name: "Ben Authoriser", Number: "3002", Unit: "Unit A"},
	{ID: "nounit", Name: "Nia Nounit", Number: "3003"},
	{ID: "left", Name: "Lee Leaver", Number: "4001", Unit: "Unit A", LeftOn: now.Add(-24 * time.Hour)},
	{ID: "leftnow", Name: "Lou Leaving", Number: "4002", Unit: "Unit A", LeftOn: now},
	{ID: "leaving", Name: "Max Later", Number: "4003", Unit: "Unit A", LeftOn: now.Add(24 * time.Hour)},
	{ID: "nonumber", Name: "Nel Nonumber", Unit: "Unit A"},
}

func newStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ps := slices.Clone(directory)
	for i := range ps {
		ps[i].Roles, ps[i].Updated = []string{"staff"}, now
	}
	if _, _, err := db.PutPeople(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	return db
}

// testLogger sends the notifier's log to t.Logf and to buf.
func testLogger(t *testing.T, buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		t.Logf("%s", bytes.TrimSpace(p))
		return buf.Write(p)
	}), nil))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var message = notify.Message{Kind: notify.KindDecide, Request: "req-1", Reference: "ACAC-2026-0001",
	Text: "Sam Subject is suspected of misusing the PNC."}

// inboxes returns every directory person's notifications.
func inboxes(t *testing.T, db *sqlite.DB) map[string][]store.Notification {
	t.Helper()
	got := map[string][]store.Notification{}
	for _, p := range directory {
		ns, err := db.NotificationsFor(t.Context(), p.ID, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) > 0 {
			got[p.ID] = ns
		}
	}
	return got
}

func TestSendDrops(t *testing.T) {
	for _, tt := range []struct {
		name         string
		to, subjects []string
		want         []string
	}{
		{"recipients kept", []string{"auth1", "auth2"}, []string{"subj1"}, []string{"auth1", "auth2"}},
		{"a subject", []string{"subj1", "auth1"}, []string{"subj1"}, []string{"auth1"}},
		{"the second subject", []string{"auth1", "subj2"}, []string{"subj1", "subj2"}, []string{"auth1"}},
		{"same unit as a subject", []string{"colleague", "auth1"}, []string{"subj1"}, []string{"auth1"}},
		{"same unit as the second subject", []string{"colleague", "colleague2", "auth1"}, []string{"subj1", "subj2"}, []string{"auth1"}},
		{"another unit's colleague kept", []string{"colleague2", "auth1"}, []string{"subj1"}, []string{"colleague2", "auth1"}},
		{"leavers", []string{"left", "leftnow", "leaving"}, []string{"subj1"}, []string{"leaving"}},
		{"unknown", []string{"ghost", "auth1", ""}, []string{"subj1"}, []string{"auth1"}},
		{"duplicates", []string{"auth1", "auth1", "auth2", "auth1"}, []string{"subj1"}, []string{"auth1", "auth2"}},
		{"no unit is not a shared unit", []string{"nounit"}, []string{"subj3"}, []string{"nounit"}},
		{"an absent subject still excludes its id", []string{"ghost-subject", "auth1"}, []string{"ghost-subject"}, []string{"auth1"}},
		{"subject and colleague of the subject only", []string{"subj1", "colleague"}, []string{"subj1"}, nil},
		{"nobody", nil, []string{"subj1"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := newStore(t)
			mailer := &fakeMailer{}
			n := &notify.Notifier{Store: db, Mailer: mailer, Now: func() time.Time { return now }}
			got, err := n.Send(t.Context(), message, tt.to, tt.subjects)
			n.Wait()
			if err != nil {
				t.Fatalf("Send(%v, %v) = %v", tt.to, tt.subjects, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Send(%v, %v) notified (-want +got):\n%s", tt.to, tt.subjects, diff)
			}
			want := map[string][]store.Notification{}
			for _, id := range tt.want {
				want[id] = []store.Notification{{Person: id, Kind: message.Kind, Request: message.Request,
					Reference: message.Reference, Text: message.Text, Created: now}}
			}
			if diff := cmp.Diff(want, inboxes(t, db), cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".ID"
			}, cmp.Ignore())); diff != "" {
				t.Errorf("inboxes after Send(%v, %v) (-want +got):\n%s", tt.to, tt.subjects, diff)
			}
			var mailed []string
			for _, m := range mailer.sent {
				mailed = append(mailed, m.to...)
			}
			if diff := cmp.Diff(tt.want, mailed); diff != "" {
				t.Errorf("Send(%v, %v) e-mailed (-want +got):\n%s", tt.to, tt.subjects, diff)
			}
		})
	}
}

// fakeMailer records what it is asked to send; err, when set, fails it.
type fakeMailer struct {
	mu   sync.Mutex
	sent []mail
	err  error
}

type mail struct {
	to            []string
	subject, body string
}

func (m *fakeMailer) Send(_ context.Context, to []string, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.sent = append(m.sent, mail{slices.Clone(to), subject, body})
	return nil
}

func TestEmailSaysNoMore(t *testing.T) {
	db := newStore(t)
	mailer := &fakeMailer{}
	n := &notify.Notifier{Store: db, Mailer: mailer, Now: func() time.Time { return now }, BaseURL: "https://lbm.example.org/"}
	for _, kind := range []string{notify.KindDecide, notify.KindAdvice, notify.KindRatify, notify.KindReviewDue, notify.KindDecision, notify.KindExpiring} {
		m := message
		m.Kind = kind
		if _, err := n.Send(t.Context(), m, []string{"auth1"}, []string{"subj1"}); err != nil {
			t.Fatalf("Send(%s) = %v", kind, err)
		}
	}
	n.Wait()
	if len(mailer.sent) != 6 {
		t.Fatalf("sent %d e-mails, want 6", len(mailer.sent))
	}
	for _, m := range mailer.sent {
		all := m.subject + "\n" + m.body
		for _, want := range []string{"ACAC-2026-0001", "https://lbm.example.org/requests/req-1"} {
			if !strings.Contains(all, want) {
				t.Errorf("e-mail %q lacks %q:\n%s", m.subject, want, all)
			}
		}
		for _, p := range directory {
			if strings.Contains(all, p.Name) || strings.Contains(all, p.ID) && p.ID != "auth1" {
				t.Errorf("e-mail %q names %s:\n%s", m.subject, p.ID, all)
			}
		}
		if strings.Contains(all, "PNC") || strings.Contains(all, message.Text) {
			t.Errorf("e-mail %q carries the in-app text:\n%s", m.subject, all)
		}
	}
}

func TestMailFailureDoesNotFailSend(t *testing.T) {
	db := newStore(t)
	var logs bytes.Buffer
	n := &notify.Notifier{Store: db, Mailer: &fakeMailer{err: errors.New("421 try later")}, Now: func() time.Time { return now },
		Logger: testLogger(t, &logs)}
	got, err := n.Send(t.Context(), message, []string{"auth1", "auth2"}, []string{"subj1"})
	n.Wait()
	if err != nil || !slices.Equal(got, []string{"auth1", "auth2"}) {
		t.Fatalf("Send with a failing mailer = %v, %v; want [auth1 auth2], nil", got, err)
	}
	if st := n.Stats(); st != (notify.Stats{Failed: 2}) {
		t.Errorf("Stats() = %+v, want 2 failed", st)
	}
	if c, err := db.CountUnread(t.Context(), "auth1"); err != nil || c != 1 {
		t.Errorf("CountUnread(auth1) = %d, %v; want 1: the inbox is the record", c, err)
	}
	if !strings.Contains(logs.String(), "421 try later") {
		t.Errorf("log lacks the mail failure:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "PNC") || strings.Contains(logs.String(), "Sign in") {
		t.Errorf("log carries a message's text or body:\n%s", logs.String())
	}
}

func TestSendRefuses(t *testing.T) {
	db := newStore(t)
	n := &notify.Notifier{Store: db, Now: func() time.Time { return now }}
	for _, tt := range []struct {
		name string
		m    notify.Message
	}{
		{"unknown kind", notify.Message{Kind: "gossip", Request: "req-1"}},
		{"no request", notify.Message{Kind: notify.KindDecide}},
		{"a line break in the reference", notify.Message{Kind: notify.KindDecide, Request: "req-1", Reference: "ACAC\r\nBcc: all@force.example"}},
		{"a line break in the request", notify.Message{Kind: notify.KindDecide, Request: "req-1\n"}},
		{"a bidi override in the text", notify.Message{Kind: notify.KindDecide, Request: "req-1", Text: "approve \u202egnissim"}},
		{"not UTF-8", notify.Message{Kind: notify.KindDecide, Request: "req-1", Text: "\xff"}},
		{"too long", notify.Message{Kind: notify.KindDecide, Request: "req-1", Text: strings.Repeat("a", notify.MaxTextLen+1)}},
	} {
		if got, err := n.Send(t.Context(), tt.m, []string{"auth1"}, nil); err == nil {
			t.Errorf("%s: Send = %v, nil; want an error", tt.name, got)
		}
	}
	if got := inboxes(t, db); len(got) != 0 {
		t.Errorf("refused messages were stored: %v", got)
	}
	// A text may have line breaks.
	m := message
	m.Text = "First line.\nSecond line."
	if _, err := n.Send(t.Context(), m, []string{"auth1"}, nil); err != nil {
		t.Errorf("Send of a two-line text = %v", err)
	}
	if _, err := (&notify.Notifier{Store: db}).Send(t.Context(), message, []string{"auth1"}, nil); err == nil {
		t.Error("Send without a clock = nil error, want one")
	}
}

// failingStore fails every directory read.
type failingStore struct{ notify.Store }

func (failingStore) PersonByID(context.Context, string) (store.Person, error) {
	return store.Person{}, errors.New("disk on fire")
}

func TestSendFailsClosed(t *testing.T) {
	db := newStore(t)
	n := &notify.Notifier{Store: failingStore{db}, Mailer: &fakeMailer{}, Now: func() time.Time { return now }}
	if got, err := n.Send(t.Context(), message, []string{"auth1"}, []string{"subj1"}); err == nil {
		t.Errorf("Send with an unreadable directory = %v, nil; want an error", got)
	}
	if got := inboxes(t, db); len(got) != 0 {
		t.Errorf("Send with an unreadable directory stored %v", got)
	}
}

func TestSendKeyed(t *testing.T) {
	db := newStore(t)
	mailer := &fakeMailer{}
	n := &notify.Notifier{Store: db, Mailer: mailer, Now: func() time.Time { return now }}
	m := message
	m.Kind, m.Key = notify.KindExpiring, "req-1:expiring:2026-11-28T09:00:00Z"
	for _, tt := range []struct {
		to   []string
		want []string
	}{
		{[]string{"auth1"}, []string{"auth1"}},
		{[]string{"auth1"}, nil},
		{[]string{"auth1", "auth2", "colleague"}, []string{"auth2"}},
		{[]string{"auth2", "auth1"}, nil},
	} {
		got, err := n.Send(t.Context(), m, tt.to, []string{"subj1"})
		n.Wait()
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Send(key, %v) = %v, %v; want %v, nil", tt.to, got, err, tt.want)
		}
	}
	var mailed []string
	for _, x := range mailer.sent {
		mailed = append(mailed, x.to...)
	}
	if want := []string{"auth1", "auth2"}; !slices.Equal(mailed, want) {
		t.Errorf("e-mailed %v, want each once: %v", mailed, want)
	}
	// Another key, and no key, tell again.
	m.Key = "req-1:expiring:2026-12-28T09:00:00Z"
	if got, err := n.Send(t.Context(), m, []string{"auth1"}, nil); err != nil || !slices.Equal(got, []string{"auth1"}) {
		t.Errorf("Send(another key) = %v, %v; want [auth1]", got, err)
	}
	m.Key = ""
	for range 2 {
		if got, err := n.Send(t.Context(), m, []string{"auth1"}, nil); err != nil || !slices.Equal(got, []string{"auth1"}) {
			t.Errorf("Send(no key) = %v, %v; want [auth1]", got, err)
		}
	}
	if c, err := db.CountUnread(t.Context(), "auth1"); err != nil || c != 4 {
		t.Errorf("CountUnread(auth1) = %d, %v; want 4", c, err)
	}
}

// blockingMailer holds every e-mail until release is closed.
type blockingMailer struct {
	started chan struct{}
	release chan struct{}
}

func (m *blockingMailer) Send(ctx context.Context, _ []string, _, _ string) error {
	m.started <- struct{}{}
	<-m.release
	return nil
}

// TestSendDoesNotWaitForMail: Send returns while the mail server hangs,
// and past MaxMailBatches in flight counts e-mails failed rather than
// queueing them.
func TestSendDoesNotWaitForMail(t *testing.T) {
	db := newStore(t)
	mailer := &blockingMailer{started: make(chan struct{}, notify.MaxMailBatches+1), release: make(chan struct{})}
	n := &notify.Notifier{Store: db, Mailer: mailer, Now: func() time.Time { return now }}
	for range notify.MaxMailBatches {
		if _, err := n.Send(t.Context(), message, []string{"auth1"}, nil); err != nil {
			t.Fatalf("Send = %v", err)
		}
	}
	for range notify.MaxMailBatches {
		<-mailer.started
	}
	if got, err := n.Send(t.Context(), message, []string{"auth1", "auth2"}, nil); err != nil || len(got) != 2 {
		t.Fatalf("Send with %d batches in flight = %v, %v; want both told", notify.MaxMailBatches, got, err)
	}
	if st := n.Stats(); st != (notify.Stats{Failed: 2}) {
		t.Errorf("Stats() with the mail server hanging = %+v, want 2 failed", st)
	}
	close(mailer.release)
	n.Wait()
	if st := n.Stats(); st != (notify.Stats{Sent: notify.MaxMailBatches, Failed: 2}) {
		t.Errorf("Stats() = %+v, want %d sent, 2 failed", st, notify.MaxMailBatches)
	}
	if c, err := db.CountUnread(t.Context(), "auth1"); err != nil || c != notify.MaxMailBatches+1 {
		t.Errorf("CountUnread(auth1) = %d, %v; want %d", c, err, notify.MaxMailBatches+1)
	}
}
