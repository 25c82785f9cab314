// Package notify tells people what lbm needs of them: a request to decide,
// advice wanted, an urgent authorisation to ratify, a review due, a
// decision made, an authorisation about to expire. The top complaint
// about tools like lbm is that approvers are never told; this package is
// the one place they are.
//
// # The model
//
// A [Notifier] takes a [Message] about one request, the people it is for
// and the request's subjects. It stores one inbox entry
// ([store.Notification]) per remaining recipient in one transaction, then,
// if a [Mailer] is configured, e-mails each of them a prompt to look.
//
// The inbox is the record: [Notifier.Send] fails only if the inbox entries
// cannot be stored. E-mail is best effort, and sent in the background (at
// most [MaxMailBatches] Sends' worth at once), so a hanging mail server
// never holds up the request flow that notified. A failed e-mail is logged
// (never with its body, its addresses' credentials or the mail server's
// password) and counted in [Notifier.Stats]; it never fails the Send, so a
// mail server being down never blocks an authorisation.
//
// # Who is never told
//
// A request is about its subjects, and nothing may tip them off. Send
// drops, before anything is stored or sent:
//
//   - a recipient who is a subject of the request;
//   - a recipient in the same unit as any subject (colleagues talk, and a
//     line manager in the unit is the likeliest leak);
//   - a recipient who has left (LeftOn not after now) or is not in the
//     directory;
//   - a recipient named twice (told once).
//
// The check is here, once, rather than in each flow that notifies, so
// that a new flow cannot forget it. Send returns who was notified, so the
// caller can record it.
//
// # Telling once
//
// A message with a [Message.Key] is told to each person at most once: the
// notification's ID derives from the Key and the person, so the store's
// primary key refuses a second telling, across restarts and processes.
// The request flow's sweeper, which finds an authorisation about to expire
// every minute, relies on it.
//
// # What e-mail says
//
// E-mail leaves the system: it is kept by mail servers, forwarded, read on
// phones. An e-mail therefore says only what kind of thing is waiting, the
// request's reference and a link to it (BaseURL + "/requests/" + ID):
// never a subject's name, the request's text or any case detail, which
// stay behind sign-in. The in-app text ([Message.Text]) is shown only in
// the inbox.
//
// # Addresses
//
// The directory holds no e-mail addresses. An [SMTPMailer] makes each
// person's address from a template: "{id}@force.example" expands the
// person's directory id, "{number}@force.example" their collar or staff
// number. A person whose address cannot be made (no number, or an
// expansion that is not a plain address) gets no e-mail, and the failure
// is counted like any other.
//
// # Example
//
//	n := &notify.Notifier{Store: st, Mailer: mailer, Now: time.Now, BaseURL: "https://lbm.example.org"}
//	told, err := n.Send(ctx, notify.Message{
//		Kind:      notify.KindDecide,
//		Request:   r.ID,
//		Reference: r.Reference,
//		Text:      "A request needs your decision.",
//	}, []string{"auth-17", "auth-22"}, r.Subjects)
//
// told lists those of auth-17 and auth-22 who were notified; an authoriser
// in a subject's unit is not among them.
package notify
