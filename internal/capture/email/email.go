// Package email is the e-mail input of capture: it reads RFC 5322
// messages (single files, mbox files, and copies an SMTP journal sends)
// into capture.Records under the email.* field names the built-in
// e-mail mapping expects.
//
// # Leniency
//
// Mail in the wild is often malformed: boundaries that never end, bad
// base64, 8-bit headers. Parse reads with enmime, which recovers what it
// can and reports the rest; those reports become email.parse_errors, and
// the message is still a record. Only a message with nothing a reader
// could call a header (or one over [MaxMessageBytes]) is kept as an
// unparsed record, raw; only an empty one is skipped.
//
// # Identity
//
// A record's ID is the SHA-256 of the lower-cased Message-ID and the
// journaled mailbox, so the same message found again (a re-import, a
// journal copy sent twice) is stored once per mailbox. A message without
// a Message-ID is identified by its bytes instead.
//
// # Journal reports
//
// Exchange envelope journaling sends each message wrapped in a report:
// a text part listing the envelope (Sender:, Subject:, Message-Id:, then
// To:/Cc:/Bcc:/Recipient: lines) and the original as a message/rfc822
// part. Parse recognises the report and returns the original's record,
// with the envelope's recipients (Bcc included, which the original's
// headers never show) in email.journal.recipients.
//
// [RFC 5322]: https://www.rfc-editor.org/rfc/rfc5322
package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/inbucket/html2text"
	"github.com/jhillyerd/enmime/v2"

	"github.com/lbm-project/lbm/internal/capture"
)

// Limits. A record's fields stay under about 900 KiB in all, so that an
// event line (1 MiB at most, 512 KiB a value) always has room for them.
const (
	// MaxMessageBytes is the largest message read; a larger one is kept
	// unparsed. It is the usual size limit of mail systems.
	MaxMessageBytes = 25 << 20
	// MaxBodyText bounds email.body.text.
	MaxBodyText = 256 << 10
	// MaxAttachmentText bounds email.attachments.text, all attachments
	// together.
	MaxAttachmentText = 256 << 10
	// MaxRaw bounds the raw bytes kept of an unparsed message.
	MaxRaw = 256 << 10
	// maxListed bounds each list field (addresses, errors), and
	// maxListBytes its total size, so that a message with thousands of
	// recipients still fits an event line: the six address lists and the
	// journal's recipients take at most 224 KiB together.
	maxListed    = 500
	maxListBytes = 32 << 10
	// maxAttachments bounds the attachments listed; with names cut at
	// maxName bytes they take at most about 90 KiB.
	maxAttachments = 200
	maxName        = 255
	// maxShort bounds a one-line value: a subject, a name, an error.
	maxShort = 1000
)

// ErrEmpty is returned for input that holds nothing at all: there is no
// message to keep, and the caller reports it as skipped.
var ErrEmpty = errors.New("empty: not a message")

// Parse reads one message into a record. mailbox names the mailbox the
// message was journaled or exported from ("" when unknown: then the
// message's first Delivered-To or X-Original-To is used); received is
// when lbm read it.
//
// Parse never fails on malformed mail: what it cannot read becomes
// email.parse_errors, or an unparsed record carrying the raw bytes. It
// returns ErrEmpty only for input that is empty or blank.
func Parse(raw []byte, mailbox string, received time.Time) (capture.Record, error) {
	if bytes.HasPrefix(raw, []byte("From ")) {
		// An mbox envelope line, as some tools leave at the top of an
		// exported .eml: it is not a header, and not part of the message.
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return capture.Record{}, ErrEmpty
	}
	mailbox = cleanAddress(mailbox)
	if len(raw) > MaxMessageBytes {
		return unparsed(raw, mailbox, received, fmt.Sprintf("larger than %d MiB", MaxMessageBytes>>20)), nil
	}
	return parse(raw, mailbox, received, 0)
}

// maxNesting bounds journal reports inside journal reports.
const maxNesting = 3

func parse(raw []byte, mailbox string, received time.Time, depth int) (capture.Record, error) {
	env, err := parser.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return unparsed(raw, mailbox, received, "not a MIME message: "+short(err.Error())), nil
	}
	if !hasMailHeader(env) {
		return unparsed(raw, mailbox, received, "no message headers"), nil
	}
	if depth < maxNesting && isJournalReport(env) {
		if orig := journaled(env.Root); orig != nil {
			recipients := envelopeRecipients(env.Text)
			if mailbox == "" && len(recipients) == 1 {
				mailbox = recipients[0]
			}
			rec, err := parse(orig.Content, mailbox, received, depth+1)
			if err == nil && rec.Unparsed == "" {
				if len(recipients) > 0 {
					rec.Fields["email.journal.recipients"] = recipients
				}
				return rec, nil
			}
			// The original cannot be read: the report itself is recorded
			// below, its attachment hashed, rather than lose the envelope.
		}
	}
	if mailbox == "" {
		mailbox = cleanAddress(firstAddress(env.GetHeader("Delivered-To") + " " + env.GetHeader("X-Original-To")))
	}
	f := map[string]any{}
	var problems []string
	for _, h := range addressHeaders {
		addrs, err := addressList(env, h.header)
		if err != nil {
			problems = append(problems, h.header+": "+short(err.Error()))
		}
		if len(addrs) > 0 {
			f[h.field] = addrs
		}
	}
	if id := messageID(env.GetHeader("Message-ID")); id != "" {
		f["email.message_id"] = id
	}
	if s := oneLine(env.GetHeader("Subject")); s != "" {
		f["email.subject"] = s
	}
	var when time.Time
	if d := env.GetHeader("Date"); d != "" {
		t, err := mail.ParseDate(d)
		switch {
		case err != nil:
			problems = append(problems, "Date: "+short(err.Error()))
		case t.Year() < 1 || t.Year() > 9999:
			// RFC 3339 has four-digit years.
			problems = append(problems, "Date: year out of range")
		default:
			when = t
			f["email.origination_timestamp"] = t.Format(time.RFC3339)
		}
	}
	if ct := env.Root.ContentType; ct != "" {
		f["email.content_type"] = oneLine(strings.ToLower(ct))
	}
	if m := oneLine(env.GetHeader("X-Mailer")); m != "" {
		f["email.x_mailer"] = m
	}
	if text, over := bounded(env.Text, MaxBodyText); text != "" {
		f["email.body.text"] = text
		if over {
			f["email.body.text_truncated"] = true
		}
	}
	attachments(env, f)
	if mailbox != "" {
		f["email.mailbox"] = mailbox
	}
	for _, e := range env.Errors {
		problems = append(problems, short(e.Error()))
	}
	if len(problems) > 0 {
		f["email.parse_errors"] = capList(problems)
	}
	rec := capture.Record{Fields: f, Time: when, Received: received}
	if id, _ := f["email.message_id"].(string); id != "" {
		rec.ID = recordID([]byte(strings.ToLower(id)), mailbox)
	} else {
		rec.ID = rawID(raw, mailbox)
	}
	return rec, nil
}

// parser reads leniently: a part it cannot decode is reported, and the
// rest of the message kept.
var parser = enmime.NewParser(
	enmime.SkipMalformedParts(true),
	enmime.MultipartWOBoundaryAsSinglePart(true),
	enmime.SetReadPartErrorPolicy(enmime.AllowCorruptTextPartErrorPolicy),
	enmime.MaxStoredPartErrors(20),
)

var addressHeaders = []struct{ header, field string }{
	{"From", "email.from.address"},
	{"Sender", "email.sender.address"},
	{"Reply-To", "email.reply_to.address"},
	{"To", "email.to.address"},
	{"Cc", "email.cc.address"},
	{"Bcc", "email.bcc.address"},
}

// mailHeaders are the headers any message has at least one of; input
// with none of them is not a message, whatever else it holds.
var mailHeaders = []string{"From", "To", "Cc", "Date", "Subject", "Message-ID", "Sender", "Received", "Return-Path", "Delivered-To", "MIME-Version", "X-MS-Journal-Report"}

func hasMailHeader(env *enmime.Envelope) bool {
	for _, h := range mailHeaders {
		if len(env.GetHeaderValues(h)) > 0 {
			return true
		}
	}
	return false
}

func unparsed(raw []byte, mailbox string, received time.Time, why string) capture.Record {
	rec := capture.Record{Received: received, Unparsed: why, ID: rawID(raw, mailbox), Fields: map[string]any{}}
	if len(raw) > MaxRaw {
		rec.Raw = bytes.Clone(raw[:MaxRaw])
		rec.Fields["email.raw_truncated"] = true
	} else {
		rec.Raw = bytes.Clone(raw)
	}
	if mailbox != "" {
		rec.Fields["email.mailbox"] = mailbox
	}
	return rec
}

func recordID(key []byte, mailbox string) string {
	h := sha256.New()
	h.Write(key)
	h.Write([]byte("\n" + strings.ToLower(mailbox)))
	return hex.EncodeToString(h.Sum(nil))
}

func rawID(raw []byte, mailbox string) string {
	sum := sha256.Sum256(raw)
	return recordID([]byte(hex.EncodeToString(sum[:])), mailbox)
}

// addressList returns the lower-cased addresses of header h. A header
// net/mail and enmime both refuse is searched for anything shaped like an
// address, so that a sloppy mailer's recipients are still recorded.
func addressList(env *enmime.Envelope, h string) ([]string, error) {
	v := env.GetHeader(h)
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []string
	list, err := env.AddressList(h)
	if err == nil {
		for _, a := range list {
			if s := cleanAddress(a.Address); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		if len(out) > 0 {
			return capList(out), nil
		}
	}
	for _, m := range looseAddress.FindAllString(v, -1) {
		if s := cleanAddress(m); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if err != nil {
		return capList(out), err
	}
	if len(out) == 0 {
		return nil, errors.New("no address")
	}
	return capList(out), nil
}

var looseAddress = regexp.MustCompile(`[^\s<>(),;:"'\[\]]+@[^\s<>(),;:"'\[\]]+`)

func firstAddress(s string) string { return looseAddress.FindString(s) }

// cleanAddress lower-cases an address and refuses one holding spaces or
// control characters: an encoded word cannot smuggle a line break into
// an address field.
func cleanAddress(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 320 || !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return ""
	}
	return s
}

func messageID(s string) string {
	s = oneLine(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">"))
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[:i] // a comment or a second id after the first
	}
	s = strings.TrimSuffix(s, ">")
	if len(s) > 256 {
		s = s[:256]
	}
	return strings.ToValidUTF8(s, "")
}

// oneLine makes a header value one line of valid UTF-8: decoded encoded
// words may hold CR, LF or other controls, which a header value must not
// carry on into anything that prints it.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxShort {
		s = strings.ToValidUTF8(s[:maxShort], "")
	}
	return s
}

func short(s string) string { return cut(oneLine(s), 200) }

// cut cuts valid UTF-8 s to at most n bytes, on a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// bounded returns s as valid UTF-8 of at most limit bytes, and whether it
// was cut.
func bounded(s string, limit int) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= limit {
		return s, false
	}
	return strings.ToValidUTF8(s[:limit], ""), true
}

// capList bounds a list of strings to maxListed entries and maxListBytes
// bytes in all.
func capList(l []string) []string {
	n := 0
	for i, s := range l {
		if n += len(s); i == maxListed || n > maxListBytes {
			return l[:i]
		}
	}
	return l
}

// attachments fills the email.attachments.* fields: every part sent as
// an attachment, and every inline part that has a file name (an image
// pasted into the body is a file the sender sent too).
func attachments(env *enmime.Envelope, f map[string]any) {
	var parts []*enmime.Part
	add := func(p *enmime.Part) {
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	for _, p := range env.Attachments {
		add(p)
	}
	for _, p := range env.Inlines {
		if p.FileName != "" {
			add(p)
		}
	}
	for _, p := range env.OtherParts {
		if p.FileName != "" || p.ContentType == "message/rfc822" {
			add(p)
		}
	}
	if len(parts) == 0 {
		return
	}
	if len(parts) > maxAttachments {
		parts = parts[:maxAttachments]
	}
	names := make([]string, len(parts))
	types := make([]string, len(parts))
	sizes := make([]int64, len(parts))
	hashes := make([]string, len(parts))
	var text strings.Builder
	truncated := false
	for i, p := range parts {
		names[i] = cut(oneLine(p.FileName), maxName)
		types[i] = cut(oneLine(strings.ToLower(p.ContentType)), 100)
		sizes[i] = int64(len(p.Content))
		sum := sha256.Sum256(p.Content)
		hashes[i] = hex.EncodeToString(sum[:])
		if !strings.HasPrefix(types[i], "text/") || truncated {
			continue
		}
		t := string(p.Content)
		if types[i] == "text/html" {
			if s, err := html2text.FromString(t); err == nil {
				t = s
			}
		}
		if text.Len() > 0 {
			t = "\n--\n" + t
		}
		room := MaxAttachmentText - text.Len()
		s, c := bounded(t, room)
		text.WriteString(s)
		truncated = c
	}
	f["email.attachments.file.name"] = names
	f["email.attachments.file.mime_type"] = types
	f["email.attachments.file.size"] = sizes
	f["email.attachments.file.hash.sha256"] = hashes
	if text.Len() > 0 {
		f["email.attachments.text"] = text.String()
	}
	if truncated {
		f["email.attachments.text_truncated"] = true
	}
}
