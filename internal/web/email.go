package web

import (
	"errors"
	"mime"
	"net/http"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/email"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
)

// MailReply is the answer to POST /v1/email (see ingest.MailReply).
type MailReply = ingest.MailReply

// mediaTypeError is a body of a type a route does not take.
type mediaTypeError struct{ got, want string }

func (e *mediaTypeError) Error() string {
	return "Content-Type " + e.got + " is not taken here: send " + e.want
}

// ingestEmail takes one message (message/rfc822) or an mbox
// (application/mbox) from a source, parses each message into a record,
// and submits them as one batch; it answers once they are durable.
func (s *server) ingestEmail(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var format email.Format
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "message/rfc822":
		format = email.Single
	case "application/mbox":
		format = email.Mbox
	default:
		writeProblem(w, r, s.cfg.Logger, &mediaTypeError{got: mt, want: "message/rfc822 or application/mbox"})
		return
	}
	mailbox := r.URL.Query().Get("mailbox")
	if len(mailbox) > 320 {
		writeProblem(w, r, s.cfg.Logger, &validationError{"mailbox", "longer than an address can be"})
		return
	}
	release, ok := s.takeIngestSlot()
	if !ok {
		writeProblem(w, r, s.cfg.Logger, ingest.ErrOverloaded)
		return
	}
	defer release()
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	b, err := email.ReadBatch(body, format, mailbox, s.cfg.Now())
	if errors.Is(err, email.ErrNotMbox) {
		err = &validationError{"body", err.Error()}
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	reply := MailReply{Messages: b.Messages, Skipped: []ingest.MailSkipped{}, IDs: []string{}, Indexes: []uint64{}}
	for _, sk := range b.Skipped {
		reply.Skipped = append(reply.Skipped, ingest.MailSkipped(sk))
	}
	if len(b.Records) > 0 {
		res, err := s.cfg.Capture.Submit(r.Context(), capture.Email, p.Subject, b.Records)
		if err != nil {
			writeProblem(w, r, s.cfg.Logger, err)
			return
		}
		for _, x := range res {
			switch x.Status {
			case capture.Stored:
				reply.Accepted++
			case capture.Kept:
				reply.Unparsed++
			case capture.Duplicate:
				reply.Duplicates++
			}
			reply.IDs = append(reply.IDs, x.ID)
			reply.Indexes = append(reply.Indexes, x.Index)
		}
	}
	writeJSON(w, http.StatusOK, reply)
}
