package email

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
)

// Batch is what ReadBatch read from one request: a record per message it
// could keep, and the messages it skipped.
type Batch struct {
	Messages int              // messages read, kept or skipped
	Records  []capture.Record // in the order read
	Numbers  []int            // Numbers[i] is the 1-based message number of Records[i]
	Skipped  []Skipped
}

// Skipped is a message not kept, and why.
type Skipped struct {
	Message   int    `json:"message"` // 1-based, in the order read
	MessageID string `json:"message_id"`
	Reason    string `json:"reason"`
}

// Format is how a body holds its messages.
type Format int

const (
	Single Format = iota // one RFC 5322 message (message/rfc822, .eml)
	Mbox                 // several, as an mbox (application/mbox)
)

// ReadBatch reads r in format into records, each parsed by Parse with
// mailbox and received. It reads an mbox message by message; it fails
// only when r does (ErrNotMbox for an mbox that does not begin with a
// "From " line), never on a malformed message.
func ReadBatch(r io.Reader, format Format, mailbox string, received time.Time) (Batch, error) {
	var b Batch
	keep := func(raw []byte, tooLarge bool) {
		b.Messages++
		var rec capture.Record
		var err error
		if tooLarge {
			rec = unparsed(raw, cleanAddress(mailbox), received, fmt.Sprintf("larger than %d MiB", MaxMessageBytes>>20))
		} else {
			rec, err = Parse(raw, mailbox, received)
		}
		if err != nil {
			b.Skipped = append(b.Skipped, Skipped{Message: b.Messages, Reason: err.Error()})
			return
		}
		b.Records = append(b.Records, rec)
		b.Numbers = append(b.Numbers, b.Messages)
	}
	if format == Single {
		raw, err := io.ReadAll(io.LimitReader(r, MaxMessageBytes+1))
		if err != nil {
			return Batch{}, err
		}
		tooLarge := len(raw) > MaxMessageBytes
		if tooLarge {
			// The rest is read and discarded so that the whole message
			// arrived; only the first MaxRaw bytes are kept anyway.
			if _, err := io.Copy(io.Discard, r); err != nil {
				return Batch{}, err
			}
		}
		keep(raw, tooLarge)
		return b, nil
	}
	mr := NewMboxReader(r)
	for {
		raw, _, err := mr.Next(MaxMessageBytes)
		switch {
		case err == io.EOF:
			return b, nil
		case errors.Is(err, ErrTooLarge):
			keep(raw, true)
		case err != nil:
			return Batch{}, err
		default:
			keep(bytes.Clone(raw), false)
		}
	}
}
