package web

// The inbox: each person's notifications (internal/notify), their own
// only, whichever role they act in.

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/notify"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// NotificationJSON is one notification in GET /v1/inbox.
type NotificationJSON struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Request   string `json:"request"`
	Reference string `json:"reference"`
	Text      string `json:"text"`
	Created   string `json:"created"`
	Read      string `json:"read"` // "" while unread
}

// InboxJSON is the body of GET /v1/inbox.
type InboxJSON struct {
	Notifications []NotificationJSON `json:"notifications"`
	Unread        int                `json:"unread"`
}

func notificationJSON(n store.Notification) NotificationJSON {
	return NotificationJSON{ID: n.ID, Kind: n.Kind, Request: n.Request, Reference: n.Reference, Text: n.Text,
		Created: formatTime(n.Created), Read: formatTime(n.Read)}
}

// maxInboxLimit bounds a page of the inbox.
const maxInboxLimit = 1000

// inboxQuery reads ?unread= (1 or true: unread only; 0, false or absent:
// all) and ?limit= (1 to maxInboxLimit; default
// store.DefaultNotificationLimit).
func inboxQuery(r *http.Request) (unread bool, limit int, err error) {
	q := r.URL.Query()
	switch q.Get("unread") {
	case "", "0", "false":
	case "1", "true":
		unread = true
	default:
		return false, 0, &validationError{"unread", "must be 1 or 0"}
	}
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > maxInboxLimit {
			return false, 0, &validationError{"limit", "must be a whole number from 1 to " + strconv.Itoa(maxInboxLimit)}
		}
	}
	return unread, limit, nil
}

// inbox returns p's notifications as q selects them, and p's unread count.
// Only a person has an inbox: the bootstrap admin token and sources are
// refused.
func (s *server) inbox(r *http.Request, p identity.Principal, unread bool, limit int) ([]store.Notification, int, error) {
	if p.Person == nil {
		return nil, 0, errForbidden
	}
	ns, err := s.cfg.Store.NotificationsFor(r.Context(), p.Subject, unread, limit)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.cfg.Store.CountUnread(r.Context(), p.Subject)
	if err != nil {
		return nil, 0, err
	}
	return ns, n, nil
}

// markRead marks p's own notification read. Another person's is not
// found, as an absent one is: nobody learns another's notification ids.
func (s *server) markRead(r *http.Request, p identity.Principal) error {
	if p.Person == nil {
		return errForbidden
	}
	return s.cfg.Store.MarkNotificationRead(r.Context(), p.Subject, r.PathValue("id"), s.cfg.Now())
}

func (s *server) apiInbox(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	unread, limit, err := inboxQuery(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	ns, n, err := s.inbox(r, p, unread, limit)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := InboxJSON{Notifications: make([]NotificationJSON, 0, len(ns)), Unread: n}
	for _, x := range ns {
		out.Notifications = append(out.Notifications, notificationJSON(x))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) apiMarkRead(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := s.markRead(r, p); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) inboxPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ns, n, err := s.inbox(r, p, false, 0)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Inbox{Layout: s.layout(r, p, "Inbox"), Unread: n}
	for _, x := range ns {
		kind := notify.Title(x.Kind)
		if kind == "" {
			kind = x.Kind
		}
		page.Rows = append(page.Rows, pages.InboxRow{ID: x.ID, Kind: kind, Reference: x.Reference,
			Href: "/requests/" + url.PathEscape(x.Request), Text: x.Text, Created: displayTime(x.Created), Unread: x.Read.IsZero()})
	}
	if r.URL.Query().Has("read") {
		page.Notice = "Marked as read."
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) markReadPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if err := s.markRead(r, p); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/inbox?read=1", http.StatusSeeOther)
}
