package pages

func (Inbox) template() string { return "inbox.html" }

// Inbox is a person's notifications, newest first (/inbox). Each row links
// to its request and, while unread, offers "Mark as read" (POST
// /inbox/{ID}/read, no fields). Unread counts the unread rows.
type Inbox struct {
	Layout
	Rows   []InboxRow
	Unread int
}

// InboxRow is one notification. Kind is its title ("A request needs your
// decision"); Href is /requests/{request id}.
type InboxRow struct {
	ID, Kind, Reference, Href, Text, Created string
	Unread                                   bool
}
