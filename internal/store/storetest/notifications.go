package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// notification returns a fully populated unread notification for person,
// created at, whose ID and fields depend on id.
func notification(id, person string, at time.Time) store.Notification {
	return store.Notification{
		ID:        id,
		Person:    person,
		Kind:      "decide",
		Request:   "req-" + id,
		Reference: "ACAC-2026-" + id,
		Text:      "Décidez — 決定 📨 \"" + id + "\"; DROP TABLE notifications;\n\tsecond line",
		Created:   at,
	}
}

// testNotifications checks the inbox: a batch is stored whole or not at
// all, each person sees only their own notifications newest first, the
// unread count follows reading, and nobody marks another's notification.
func testNotifications(t *testing.T, s store.Store) {
	ctx := t.Context()
	list := func(when, person string, unreadOnly bool, limit int, want ...store.Notification) {
		t.Helper()
		got, err := s.NotificationsFor(ctx, person, unreadOnly, limit)
		if err != nil {
			t.Errorf("%s: NotificationsFor(%q, %v, %d) = %v", when, person, unreadOnly, limit, err)
			return
		}
		if len(want) == 0 && len(got) == 0 {
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: NotificationsFor(%q, %v, %d) mismatch (-want +got):\n%s", when, person, unreadOnly, limit, diff)
		}
	}
	count := func(when, person string, want int) {
		t.Helper()
		if got, err := s.CountUnread(ctx, person); err != nil || got != want {
			t.Errorf("%s: CountUnread(%q) = %d, %v; want %d", when, person, got, err, want)
		}
	}
	list("before any", "p-1", false, 0)
	count("before any", "p-1", 0)
	putPeople(t, s, []store.Person{person("p-1", "staff"), person("p-2", "staff")}, 2, 0)

	n1 := notification("n-1", "p-1", epoch)
	n2 := notification("n-2", "p-2", epoch.Add(time.Hour))
	// Created at one instant: the greater ID first.
	n3 := notification("n-4", "p-1", epoch.Add(2*time.Hour))
	n4 := notification("n-3", "p-1", epoch.Add(2*time.Hour))
	n4.Kind, n4.Text, n4.Reference = "expiring", "", ""
	if err := s.AddNotifications(ctx, []store.Notification{n1, n2, n3, n4}); err != nil {
		t.Fatalf("AddNotifications = %v", err)
	}
	if err := s.AddNotifications(ctx, nil); err != nil {
		t.Errorf("AddNotifications(none) = %v", err)
	}
	list("after adding", "p-1", false, 0, n3, n4, n1)
	list("after adding", "p-1", true, 0, n3, n4, n1)
	list("after adding, limit 2", "p-1", false, 2, n3, n4)
	list("after adding", "p-2", false, 0, n2)
	list("after adding", "ghost", false, 0)
	// A prefix of a person's ID is another person.
	list("after adding", "p-", false, 0)
	count("after adding", "p-1", 3)
	count("after adding", "p-2", 1)
	count("after adding", "ghost", 0)

	// Refused batches leave no trace.
	for _, tt := range []struct {
		name string
		ns   []store.Notification
		want error
	}{
		{"ID stored", []store.Notification{notification("n-9", "p-2", epoch), notification("n-1", "p-2", epoch)}, store.ErrExists},
		{"ID stored, same person", []store.Notification{notification("n-2", "p-2", epoch)}, store.ErrExists},
		{"ID twice in the batch", []store.Notification{notification("n-9", "p-2", epoch), notification("n-9", "p-1", epoch)}, store.ErrExists},
		{"absent person", []store.Notification{notification("n-9", "p-2", epoch), notification("n-8", "ghost", epoch)}, store.ErrNotFound},
	} {
		if err := s.AddNotifications(ctx, tt.ns); !errors.Is(err, tt.want) {
			t.Errorf("%s: AddNotifications = %v, want %v", tt.name, err, tt.want)
		}
		list(tt.name, "p-1", false, 0, n3, n4, n1)
		list(tt.name, "p-2", false, 0, n2)
		list(tt.name, "ghost", false, 0)
		count(tt.name, "p-2", 1)
	}

	// Nobody marks another's notification, nor an absent one; nothing
	// changes when they try.
	for _, tt := range []struct{ person, id string }{{"p-2", "n-1"}, {"p-1", "n-2"}, {"p-1", "n-404"}, {"ghost", "n-1"}, {"", "n-1"}} {
		if err := s.MarkNotificationRead(ctx, tt.person, tt.id, epoch); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("MarkNotificationRead(%q, %q) = %v, want ErrNotFound", tt.person, tt.id, err)
		}
	}
	count("after refused marks", "p-1", 3)
	count("after refused marks", "p-2", 1)
	if err := s.MarkNotificationRead(ctx, "p-1", "n-1", time.Time{}); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkNotificationRead at the zero time = %v, want an error that is not ErrNotFound", err)
	}
	count("after a mark at the zero time", "p-1", 3)

	readAt := epoch.Add(3 * time.Hour)
	if err := s.MarkNotificationRead(ctx, "p-1", "n-4", readAt); err != nil {
		t.Fatalf("MarkNotificationRead(p-1, n-4) = %v", err)
	}
	// Read again later: the first reading stands.
	if err := s.MarkNotificationRead(ctx, "p-1", "n-4", readAt.Add(time.Hour)); err != nil {
		t.Errorf("MarkNotificationRead(p-1, n-4) again = %v, want nil", err)
	}
	read := n3
	read.Read = readAt
	list("after reading", "p-1", false, 0, read, n4, n1)
	list("after reading", "p-1", true, 0, n4, n1)
	list("after reading, limit 1", "p-1", true, 1, n4)
	list("after reading", "p-2", false, 0, n2)
	count("after reading", "p-1", 2)
	count("after reading", "p-2", 1)
}

// testConcurrentNotificationReads checks that of people marking their own
// notifications at once, each mark lands once and only on its own row.
func testConcurrentNotificationReads(t *testing.T, s store.Store) {
	ctx := t.Context()
	const people, each = 4, 8
	var ps []store.Person
	var ns []store.Notification
	for i := range people {
		p := fmt.Sprintf("p-%d", i)
		ps = append(ps, person(p, "staff"))
		for j := range each {
			ns = append(ns, notification(fmt.Sprintf("n-%d-%d", i, j), p, epoch.Add(time.Duration(j)*time.Second)))
		}
	}
	putPeople(t, s, ps, people, 0)
	if err := s.AddNotifications(ctx, ns); err != nil {
		t.Fatalf("AddNotifications = %v", err)
	}
	var wg sync.WaitGroup
	for i := range people {
		for j := range each {
			// Half of each person's notifications, each marked twice at
			// once, and a try at another person's.
			if j%2 == 1 {
				continue
			}
			for range 2 {
				wg.Go(func() {
					p, id := fmt.Sprintf("p-%d", i), fmt.Sprintf("n-%d-%d", i, j)
					if err := s.MarkNotificationRead(ctx, p, id, epoch.Add(time.Hour)); err != nil {
						t.Errorf("MarkNotificationRead(%s, %s) = %v", p, id, err)
					}
					other := fmt.Sprintf("p-%d", (i+1)%people)
					if err := s.MarkNotificationRead(ctx, other, id, epoch.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("MarkNotificationRead(%s, %s) = %v, want ErrNotFound", other, id, err)
					}
				})
			}
		}
	}
	wg.Wait()
	for i := range people {
		p := fmt.Sprintf("p-%d", i)
		if got, err := s.CountUnread(ctx, p); err != nil || got != each/2 {
			t.Errorf("CountUnread(%s) = %d, %v; want %d", p, got, err, each/2)
		}
		unread, err := s.NotificationsFor(ctx, p, true, 0)
		if err != nil {
			t.Fatalf("NotificationsFor(%s) = %v", p, err)
		}
		for _, n := range unread {
			if n.Person != p || !n.Read.IsZero() {
				t.Errorf("NotificationsFor(%s, unread) holds %+v", p, n)
			}
		}
	}
}
