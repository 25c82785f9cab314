package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/store"
)

// The kinds of notification.
const (
	KindDecide    = "decide"     // a request waits for the recipient's decision
	KindAdvice    = "advice"     // a request waits for the recipient's advice
	KindRatify    = "ratify"     // an urgent authorisation waits for ratification
	KindReviewDue = "review_due" // an authorisation's review is due
	KindDecision  = "decision"   // a request the recipient made or advised on was decided
	KindExpiring  = "expiring"   // an authorisation is about to expire
)

// kindTitles are the kinds as people read them, in e-mail subjects and
// the inbox.
var kindTitles = map[string]string{
	KindDecide:    "A request needs your decision",
	KindAdvice:    "A request needs your advice",
	KindRatify:    "An urgent authorisation needs ratifying",
	KindReviewDue: "An authorisation is due for review",
	KindDecision:  "A request has been decided",
	KindExpiring:  "An authorisation is about to expire",
}

// Title is how people read kind ("A request needs your decision"); "" for
// an unknown kind.
func Title(kind string) string { return kindTitles[kind] }

// MaxTextLen bounds a message's in-app text, in bytes.
const MaxTextLen = 2000

// Message is what to tell people about one request.
type Message struct {
	Kind      string // one of the Kind constants
	Request   string // the request's ID
	Reference string // the request's reference, e.g. "ACAC-2026-0001"
	// Text is shown in the inbox only, never e-mailed. It may be "".
	Text string
	// Key, when set, makes the message idempotent: each person is told
	// about one Key at most once, however often (and by however many
	// processes) it is sent, as a sweeper re-sending "expiring" would.
	// "" tells people every time.
	Key string
}

// Check refuses a message that cannot be stored or shown safely: an
// unknown kind, no request, or a field holding characters that could
// disguise it (safetext.Hidden) or break an e-mail header.
func (m Message) Check() error {
	if _, ok := kindTitles[m.Kind]; !ok {
		return fmt.Errorf("notifying: unknown kind %q", m.Kind)
	}
	if m.Request == "" {
		return errors.New("notifying: no request")
	}
	if len(m.Text) > MaxTextLen {
		return fmt.Errorf("notifying: text of %d bytes, more than %d", len(m.Text), MaxTextLen)
	}
	for _, f := range []struct{ name, value string }{{"request", m.Request}, {"reference", m.Reference}, {"text", m.Text}} {
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("notifying: %s is not UTF-8", f.name)
		}
		for _, r := range f.value {
			// The text may have line breaks; the ID and reference go into
			// a link and a header, so they may not.
			if safetext.Hidden(r) && !(r == '\n' && f.name == "text") {
				return fmt.Errorf("notifying: %s holds the character %U", f.name, r)
			}
		}
	}
	return nil
}

// Store is what a Notifier needs of the store: the directory, to check
// recipients, and the inbox.
type Store interface {
	store.People
	store.Notifications
}

// Notifier sends notifications. Store and Now are required; the zero
// values of the other fields are documented defaults. A Notifier must not
// be copied once used (it counts e-mails).
type Notifier struct {
	Store Store
	// Mailer e-mails each recipient a prompt; nil means in-app only.
	Mailer Mailer
	// Now is the clock: who has left, and when a notification was made.
	Now func() time.Time
	// Logger receives mail failures; nil discards them.
	Logger *slog.Logger
	// BaseURL is the address people reach lbm at (e.g.
	// https://lbm.example.org), for the link in e-mails; "" gives a
	// link relative to the site, which a mail client cannot follow.
	BaseURL string

	sent, failed atomic.Uint64
	inFlight     atomic.Int64   // e-mail batches being sent
	mailing      sync.WaitGroup // the goroutines sending them
}

// MaxMailBatches bounds the e-mail batches (one per Send) a Notifier sends
// at once. A Send finding that many still in flight (a mail server hanging
// until the Mailer's timeout) stores its inbox entries and counts its
// e-mails as failed rather than queue without bound.
const MaxMailBatches = 16

// Stats counts a Notifier's e-mails.
type Stats struct {
	Sent   uint64 // e-mails a mail server accepted
	Failed uint64 // e-mails not sent: the server refused or failed, or no address could be made
}

// Stats returns the e-mails sent and failed since n was made.
func (n *Notifier) Stats() Stats {
	return Stats{Sent: n.sent.Load(), Failed: n.failed.Load()}
}

// Send tells each of to about m, except those it must never reach (see
// the package doc): subjects of the request, people in a subject's unit,
// leavers and people not in the directory. It stores one inbox entry per
// remaining recipient in one transaction and returns who they are, in the
// order of to; none (and nothing stored) if nobody remains. A keyed
// message ([Message.Key]) leaves out, and does not e-mail, anyone told of
// its Key before.
//
// Then, if n has a Mailer, it e-mails each of them, one at a time, best
// effort, in the background: Send does not wait for a mail server, whose
// failure is logged and counted ([Notifier.Stats]), never returned. The
// Mailer must bound the time it takes, as SMTPMailer does; e-mails outlive
// ctx's cancellation but not the Mailer's timeout. [Notifier.Wait] waits
// for them. Send returns an error, and tells nobody, if m is malformed, a
// person cannot be read, or the inbox entries cannot be stored. Costs one
// directory read per recipient and subject, one write, and at most one
// e-mail per recipient (each bounded by the Mailer's timeout).
func (n *Notifier) Send(ctx context.Context, m Message, to, subjects []string) ([]string, error) {
	if n.Store == nil || n.Now == nil {
		return nil, errors.New("notifying: the notifier has no store or no clock")
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	now := n.Now()
	people, err := n.recipients(ctx, to, subjects, now)
	if err != nil {
		return nil, err
	}
	if len(people) == 0 {
		return nil, nil
	}
	ns := make([]store.Notification, len(people))
	for i, p := range people {
		ns[i] = store.Notification{ID: notificationID(m.Key, p.ID), Person: p.ID, Kind: m.Kind, Request: m.Request,
			Reference: m.Reference, Text: m.Text, Created: now}
	}
	people, err = n.store(ctx, m, ns, people)
	if err != nil {
		return nil, err
	}
	if n.Mailer != nil && len(people) > 0 {
		n.startMail(ctx, m, people)
	}
	var told []string
	for _, p := range people {
		told = append(told, p.ID)
	}
	return told, nil
}

// store adds ns, the notifications of people, in one transaction, and
// returns the people it told. For a keyed message whose batch holds an ID
// stored already (someone was told about the Key before), it adds each
// notification alone, and leaves out those told before.
func (n *Notifier) store(ctx context.Context, m Message, ns []store.Notification, people []store.Person) ([]store.Person, error) {
	err := n.Store.AddNotifications(ctx, ns)
	if err == nil {
		return people, nil
	}
	if m.Key == "" || !errors.Is(err, store.ErrExists) {
		return nil, fmt.Errorf("notifying: storing the inbox entries: %w", err)
	}
	var out []store.Person
	for i, x := range ns {
		err := n.Store.AddNotifications(ctx, []store.Notification{x})
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("notifying: storing the inbox entries: %w", err)
		}
		out = append(out, people[i])
	}
	return out, nil
}

// notificationID is a fresh random ID, or for a keyed message one derived
// from the Key and the person, so that the store's primary key refuses a
// second telling.
func notificationID(key, person string) string {
	if key == "" {
		return "ntf_" + rand.Text()
	}
	h := sha256.Sum256([]byte("lbm/notify/v1\n" + key + "\n" + person))
	return "ntf_" + hex.EncodeToString(h[:16])
}

// recipients returns the people of to whom m may reach, deduplicated, in
// order. Absent subjects still exclude themselves by ID; their unit is
// unknown. A subject or recipient that cannot be read for any reason but
// absence fails the whole: who may be told is never guessed.
func (n *Notifier) recipients(ctx context.Context, to, subjects []string, now time.Time) ([]store.Person, error) {
	excluded := map[string]bool{}
	units := map[string]bool{}
	for _, id := range subjects {
		excluded[id] = true
		p, err := n.Store.PersonByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("notifying: reading subject %s: %w", id, err)
		}
		if p.Unit != "" {
			units[p.Unit] = true
		}
	}
	seen := map[string]bool{}
	var out []store.Person
	for _, id := range to {
		if id == "" || seen[id] || excluded[id] {
			continue
		}
		seen[id] = true
		p, err := n.Store.PersonByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("notifying: reading recipient %s: %w", id, err)
		}
		left := !p.LeftOn.IsZero() && !p.LeftOn.After(now)
		if left || p.Unit != "" && units[p.Unit] {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// Wait waits for the e-mails being sent: for tests, and at shutdown.
func (n *Notifier) Wait() { n.mailing.Wait() }

// startMail e-mails people in the background, unless MaxMailBatches are
// in flight already.
func (n *Notifier) startMail(ctx context.Context, m Message, people []store.Person) {
	if n.inFlight.Add(1) > MaxMailBatches {
		n.inFlight.Add(-1)
		n.failed.Add(uint64(len(people)))
		n.logger().WarnContext(ctx, "notify: too many e-mails in flight; not sending", "kind", m.Kind, "request", m.Request, "recipients", len(people))
		return
	}
	ctx = context.WithoutCancel(ctx)
	n.mailing.Go(func() {
		defer n.inFlight.Add(-1)
		n.mail(ctx, m, people)
	})
}

func (n *Notifier) logger() *slog.Logger {
	if n.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.Logger
}

// mail e-mails each person, one e-mail each, so that no recipient learns
// who else was told.
func (n *Notifier) mail(ctx context.Context, m Message, people []store.Person) {
	logger := n.logger()
	subject, body := n.email(m)
	addresser, _ := n.Mailer.(Addresser)
	for _, p := range people {
		addr := p.ID
		if addresser != nil {
			var err error
			if addr, err = addresser.Address(p); err != nil {
				n.failed.Add(1)
				logger.WarnContext(ctx, "notify: no e-mail address", "person", p.ID, "err", err)
				continue
			}
		}
		if err := n.Mailer.Send(ctx, []string{addr}, subject, body); err != nil {
			n.failed.Add(1)
			// The error only: never the body, and the mailer keeps its
			// password out of its errors.
			logger.WarnContext(ctx, "notify: e-mail failed", "person", p.ID, "kind", m.Kind, "request", m.Request, "err", err)
			continue
		}
		n.sent.Add(1)
	}
}

// email is m's e-mail: its kind, the reference and a link, and nothing
// else (see the package doc).
func (n *Notifier) email(m Message) (subject, body string) {
	title := kindTitles[m.Kind]
	ref := m.Reference
	if ref == "" {
		ref = "a request"
	}
	link := strings.TrimSuffix(n.BaseURL, "/") + "/requests/" + url.PathEscape(m.Request)
	subject = "lbm: " + title + " (" + ref + ")"
	body = title + ": " + ref + ".\n\n" +
		"Sign in to lbm to see it:\n" + link + "\n\n" +
		"This e-mail says nothing more on purpose: what the request is about stays in lbm.\n" +
		"Do not forward it.\n"
	return subject, body
}
