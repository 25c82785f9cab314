package email

import (
	"bufio"
	"slices"
	"strings"

	"github.com/jhillyerd/enmime/v2"
)

// isJournalReport reports whether env is an Exchange envelope-journal
// report: it says so in a header, or its text is an envelope (Sender: and
// recipient lines) and it carries a message/rfc822 part.
func isJournalReport(env *enmime.Envelope) bool {
	if env.GetHeader("X-MS-Journal-Report") != "" || len(env.GetHeaderValues("X-MS-Journal-Report")) > 0 {
		return true
	}
	if strings.EqualFold(strings.TrimSpace(env.GetHeader("Content-Identifier")), "ExJournalReport") {
		return true
	}
	if journaled(env.Root) == nil {
		return false
	}
	var sender, recipient, msgid bool
	for line := range strings.Lines(env.Text) {
		k, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "sender":
			sender = true
		case "message-id":
			msgid = true
		case "to", "recipient", "cc", "bcc":
			recipient = true
		}
	}
	return sender && recipient && msgid
}

// journaled returns the report's message/rfc822 part: the original.
func journaled(root *enmime.Part) *enmime.Part {
	if root == nil {
		return nil
	}
	return root.BreadthMatchFirst(func(p *enmime.Part) bool {
		return p != root && strings.EqualFold(p.ContentType, "message/rfc822") && len(p.Content) > 0
	})
}

// envelopeRecipients reads the recipients of a journal report's envelope
// part: the address on each To:, Cc:, Bcc: and Recipient: line. Exchange
// appends how it reached the recipient ("To: a@x, Expanded: list@x");
// the list it was expanded from is a recipient too, and is kept.
func envelopeRecipients(text string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "to", "cc", "bcc", "recipient":
		default:
			continue
		}
		for _, m := range looseAddress.FindAllString(v, -1) {
			if a := cleanAddress(m); a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return capList(out)
}
