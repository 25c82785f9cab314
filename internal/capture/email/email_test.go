package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var received = time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

const mixed = `From: "Ann Example" <Ann@Example.ORG>
To: bob@example.org, "Carol" <CAROL@example.org>
Cc: dave@example.org
Subject: Quarterly figures
Date: Tue, 24 Nov 2026 10:15:00 +0000
Message-ID: <ABC123@mail.example.org>
X-Mailer: Outlook 16.0
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Please find the figures attached.
--b1
Content-Type: text/csv; name="figures.csv"
Content-Disposition: attachment; filename="figures.csv"

a,b
1,2
--b1
Content-Type: application/pdf
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b1--
`

const alternative = `From: ann@example.org
To: bob@example.org
Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=
Date: Wed, 25 Nov 2026 09:00:00 +0100
Message-ID: <alt@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe, the plain part.
--alt
Content-Type: text/html; charset=utf-8

<p>Gr&uuml;&szlig;e, the <b>HTML</b> part.</p>
--alt--
`

const htmlOnly = `From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>
To: bob@example.org
Subject: =?ISO-8859-1?Q?R=E9union?=
Message-ID: <html@example.org>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><h1>Agenda</h1><p>Meet at <b>ten</b>.</p></body></html>
`

const base64Body = `From: ann@example.org
To: bob@example.org
Subject: base64
Message-ID: <b64@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8gZnJvbSBiYXNlNjQu
`

const noDateNoID = `From: ann@example.org
To: bob@example.org
Subject: nothing else

Body.
`

const unterminated = `From: ann@example.org
To: bob@example.org
Subject: broken
Message-ID: <broken@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never"

--never
Content-Type: text/plain

the boundary never ends
`

const badBase64 = `From: ann@example.org
To: bob@example.org
Subject: bad base64
Message-ID: <bad64@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

text
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="x.bin"
Content-Transfer-Encoding: base64

!!!!not base64%%%%
--b--
`

const injection = `From: ann@example.org
To: =?UTF-8?Q?evil=0D=0ABcc=3A_x=40y?= <bob@example.org>
Subject: =?UTF-8?Q?hello=0D=0AX-Injected=3A_yes?=
Message-ID: <inj@example.org>

Body.
`

const eightBit = "From: J\xf6rg <jorg@example.org>\nTo: bob@example.org\nSubject: Gr\xfc\xdfe 8-bit\nMessage-ID: <8bit@example.org>\n\nBody \xe9.\n"

const inlineImage = `From: ann@example.org
To: bob@example.org
Subject: photo
Message-ID: <inline@example.org>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="r"

--r
Content-Type: text/html

<p>see <img src="cid:img1"></p>
--r
Content-Type: image/png
Content-Disposition: inline; filename="photo.png"
Content-ID: <img1>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--r--
`

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		want   map[string]any // fields checked; others may be present
		absent []string
		errs   bool // email.parse_errors expected
	}{
		{"multipart mixed", crlf(mixed), map[string]any{
			"email.from.address":                 []string{"ann@example.org"},
			"email.to.address":                   []string{"bob@example.org", "carol@example.org"},
			"email.cc.address":                   []string{"dave@example.org"},
			"email.subject":                      "Quarterly figures",
			"email.message_id":                   "ABC123@mail.example.org",
			"email.origination_timestamp":        "2026-11-24T10:15:00Z",
			"email.content_type":                 "multipart/mixed",
			"email.x_mailer":                     "Outlook 16.0",
			"email.body.text":                    "Please find the figures attached.",
			"email.attachments.file.name":        []string{"figures.csv", "report.pdf"},
			"email.attachments.file.mime_type":   []string{"text/csv", "application/pdf"},
			"email.attachments.file.size":        []int64{8, 9},
			"email.attachments.file.hash.sha256": []string{sha("a,b\r\n1,2"), sha("%PDF-1.4\n")},
			"email.attachments.text":             "a,b\r\n1,2",
		}, []string{"email.bcc.address", "email.parse_errors", "email.body.text_truncated"}, false},
		{"alternative, RFC 2047 UTF-8 subject, quoted-printable", alternative, map[string]any{
			"email.subject":               "Grüße aus München",
			"email.body.text":             "Grüße, the plain part.",
			"email.origination_timestamp": "2026-11-25T09:00:00+01:00",
		}, []string{"email.attachments.file.name"}, false},
		{"HTML only, ISO-8859-1 words", htmlOnly, map[string]any{
			"email.subject":      "Réunion",
			"email.from.address": []string{"andre@example.org"},
			"email.content_type": "text/html",
		}, []string{"email.origination_timestamp"}, true},
		{"base64 body", base64Body, map[string]any{"email.body.text": "Hello from base64."}, nil, false},
		{"no Date, no Message-ID", noDateNoID, map[string]any{"email.subject": "nothing else", "email.body.text": "Body.\n"},
			[]string{"email.message_id", "email.origination_timestamp"}, false},
		{"boundary never ends", unterminated, map[string]any{"email.subject": "broken"}, nil, true},
		{"bad base64 attachment", badBase64, map[string]any{"email.body.text": "text", "email.attachments.file.name": []string{"x.bin"}}, nil, true},
		{"CRLF inside encoded words", injection, map[string]any{
			"email.subject":    "hello X-Injected: yes",
			"email.to.address": []string{"bob@example.org"},
		}, []string{"email.bcc.address"}, false},
		{"8-bit headers", eightBit, map[string]any{"email.from.address": []string{"jorg@example.org"}, "email.to.address": []string{"bob@example.org"}}, nil, true},
		{"inline image with a file name", inlineImage, map[string]any{
			"email.attachments.file.name":        []string{"photo.png"},
			"email.attachments.file.hash.sha256": []string{sha("\x89PNG\r\n\x1a\n")},
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Parse([]byte(tt.raw), "", received)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if rec.Unparsed != "" {
				t.Fatalf("Parse: unparsed: %s", rec.Unparsed)
			}
			for k, want := range tt.want {
				got := rec.Fields[k]
				if s, ok := got.(string); ok {
					got = strings.TrimSpace(s)
				}
				if ws, ok := want.(string); ok {
					want = strings.TrimSpace(ws)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("field %s (-want +got):\n%s", k, diff)
				}
			}
			for _, k := range tt.absent {
				if v, ok := rec.Fields[k]; ok {
					t.Errorf("field %s = %v, want none", k, v)
				}
			}
			if _, ok := rec.Fields["email.parse_errors"]; ok != tt.errs {
				t.Errorf("email.parse_errors = %v, want present %v", rec.Fields["email.parse_errors"], tt.errs)
			}
			checkValues(t, rec.Fields)
			if len(rec.ID) != 64 {
				t.Errorf("ID = %q, want 64 hex digits", rec.ID)
			}
		})
	}
}

// checkValues checks the contract of capture.Record.Fields: only the
// allowed types, valid UTF-8, no line breaks in one-line values.
func checkValues(t *testing.T, f map[string]any) {
	t.Helper()
	for k, v := range f {
		switch v := v.(type) {
		case string:
			if k != "email.body.text" && k != "email.attachments.text" && strings.ContainsAny(v, "\r\n") {
				t.Errorf("field %s = %q holds a line break", k, v)
			}
		case []string:
			for _, s := range v {
				if strings.ContainsAny(s, "\r\n") {
					t.Errorf("field %s holds %q with a line break", k, s)
				}
			}
		case bool, int64, []int64:
		default:
			t.Errorf("field %s has type %T", k, v)
		}
	}
}

func TestParseIdentity(t *testing.T) {
	a, _ := Parse([]byte(mixed), "", received)
	b, _ := Parse([]byte(crlf(mixed)), "", received)
	if a.ID != b.ID {
		t.Errorf("same Message-ID, different IDs: %s, %s", a.ID, b.ID)
	}
	c, _ := Parse([]byte(mixed), "Bob@Example.org", received)
	if c.ID == a.ID {
		t.Error("another mailbox gave the same ID")
	}
	if got := c.Fields["email.mailbox"]; got != "bob@example.org" {
		t.Errorf("email.mailbox = %v, want bob@example.org", got)
	}
	d, _ := Parse([]byte(noDateNoID), "", received)
	e, _ := Parse([]byte(noDateNoID+"more\n"), "", received)
	if d.ID == e.ID {
		t.Error("messages without Message-ID but different bytes share an ID")
	}
	g, _ := Parse([]byte("From ann@example.org Tue Nov 24 10:15:00 2026\n"+mixed), "", received)
	if g.ID != a.ID || g.Unparsed != "" {
		t.Errorf("a message after an mbox envelope line: ID %s, unparsed %q; want %s", g.ID, g.Unparsed, a.ID)
	}
	f, _ := Parse([]byte("Delivered-To: Carol@Example.org\n"+noDateNoID), "", received)
	if got := f.Fields["email.mailbox"]; got != "carol@example.org" {
		t.Errorf("email.mailbox from Delivered-To = %v", got)
	}
}

func TestParseUnreadable(t *testing.T) {
	for _, tt := range []struct {
		name, raw string
		skipped   bool
	}{
		{"empty", "", true},
		{"blank", " \r\n\r\n", true},
		{"no headers", "just some text\nwith lines\n", false},
		{"binary", "\x00\x01\x02\xff\xfe", false},
	} {
		rec, err := Parse([]byte(tt.raw), "", received)
		if tt.skipped {
			if !errors.Is(err, ErrEmpty) {
				t.Errorf("%s: err = %v, want ErrEmpty", tt.name, err)
			}
			continue
		}
		if err != nil || rec.Unparsed == "" || string(rec.Raw) != tt.raw || rec.ID == "" {
			t.Errorf("%s: Parse = %+v, %v; want unparsed with raw and ID", tt.name, rec, err)
		}
	}
	big := bytes.Repeat([]byte("x"), MaxMessageBytes+1)
	rec, err := Parse(append([]byte("From: a@b\n\n"), big...), "", received)
	if err != nil || rec.Unparsed == "" || len(rec.Raw) != MaxRaw {
		t.Errorf("oversized: unparsed %q raw %d, %v", rec.Unparsed, len(rec.Raw), err)
	}
}

func TestParseBounds(t *testing.T) {
	body := strings.Repeat("é", MaxBodyText)
	att := strings.Repeat("z", MaxAttachmentText)
	raw := "From: a@example.org\nMessage-ID: <big@x>\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain; charset=utf-8\n\n" + body +
		"\n--q\nContent-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\n" + att +
		"\n--q\nContent-Type: text/plain\nContent-Disposition: attachment; filename=b.txt\n\n" + att + "\n--q--\n"
	rec, err := Parse([]byte(raw), "", received)
	if err != nil {
		t.Fatal(err)
	}
	if s := rec.Fields["email.body.text"].(string); len(s) > MaxBodyText || rec.Fields["email.body.text_truncated"] != true {
		t.Errorf("body %d bytes, truncated %v", len(s), rec.Fields["email.body.text_truncated"])
	}
	if s := rec.Fields["email.attachments.text"].(string); len(s) > MaxAttachmentText || rec.Fields["email.attachments.text_truncated"] != true {
		t.Errorf("attachment text %d bytes, truncated %v", len(s), rec.Fields["email.attachments.text_truncated"])
	}
	if got := rec.Fields["email.attachments.file.size"]; !cmp.Equal(got, []int64{MaxAttachmentText, MaxAttachmentText}) {
		t.Errorf("sizes = %v", got)
	}
}

// journalReport wraps orig as Exchange envelope journaling does.
func journalReport(orig string, envelope string) string {
	return `From: MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example
To: journal@lbm.force.example
Subject: Quarterly figures
Message-ID: <report-1@contoso.example>
X-MS-Journal-Report:
Content-Identifier: ExJournalReport
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="jr"

--jr
Content-Type: text/plain; charset=us-ascii

` + envelope + `
--jr
Content-Type: message/rfc822
Content-Disposition: attachment

` + orig + `
--jr--
`
}

const envelope = `Sender: ann@example.org
Subject: Quarterly figures
Message-Id: <ABC123@mail.example.org>
To: bob@example.org
To: carol@example.org, Expanded: team@example.org
Cc: dave@example.org
Bcc: Eve@Example.org
`

func TestJournalReport(t *testing.T) {
	for _, tt := range []struct{ name, raw string }{
		{"headers", journalReport(mixed, envelope)},
		// Without the headers, the envelope's shape tells a report.
		{"envelope only", strings.NewReplacer("X-MS-Journal-Report:\n", "", "Content-Identifier: ExJournalReport\n", "").Replace(journalReport(mixed, envelope))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Parse([]byte(tt.raw), "", received)
			if err != nil || rec.Unparsed != "" {
				t.Fatalf("Parse = %v, %v", rec.Unparsed, err)
			}
			want := map[string]any{
				"email.message_id":            "ABC123@mail.example.org",
				"email.from.address":          []string{"ann@example.org"},
				"email.journal.recipients":    []string{"bob@example.org", "carol@example.org", "team@example.org", "dave@example.org", "eve@example.org"},
				"email.attachments.file.name": []string{"figures.csv", "report.pdf"},
			}
			for k, w := range want {
				if diff := cmp.Diff(w, rec.Fields[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
			plain, _ := Parse([]byte(mixed), "", received)
			if rec.ID != plain.ID {
				t.Error("the journaled copy and the message itself have different IDs")
			}
		})
	}
	// A single envelope recipient is the mailbox.
	rec, _ := Parse([]byte(journalReport(mixed, "Sender: ann@example.org\nMessage-Id: <ABC123@mail.example.org>\nRecipient: bob@example.org\n")), "", received)
	if got := rec.Fields["email.mailbox"]; got != "bob@example.org" {
		t.Errorf("email.mailbox = %v, want bob@example.org", got)
	}
	// A report whose original is not a message is recorded as the
	// report, with the original among its attachments.
	rec, _ = Parse([]byte(journalReport("no headers here\n", envelope)), "", received)
	if rec.Unparsed != "" || rec.Fields["email.message_id"] != "report-1@contoso.example" || rec.Fields["email.attachments.file.mime_type"] == nil {
		t.Errorf("report with an unreadable original: %+v", rec)
	}
	// A report without the original is kept as the report itself.
	rec, _ = Parse([]byte("X-MS-Journal-Report:\nFrom: a@example.org\nMessage-ID: <r@x>\n\nSender: a@example.org\n"), "", received)
	if rec.Unparsed != "" || rec.Fields["email.message_id"] != "r@x" {
		t.Errorf("report without original: %+v", rec)
	}
}

func TestMbox(t *testing.T) {
	msgs := []string{
		"From: a@example.org\nSubject: one\n\nFrom here on\n>From escaped\n",
		"From: b@example.org\nSubject: two\n\nbody\n\n",
		"From: c@example.org\r\nSubject: three\r\n\r\nlast",
	}
	var buf bytes.Buffer
	var offsets []int64
	for _, m := range msgs {
		offsets = append(offsets, int64(buf.Len()))
		if err := WriteMbox(&buf, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	r := NewMboxReader(bytes.NewReader(buf.Bytes()))
	for i, want := range msgs {
		got, off, err := r.Next(1 << 20)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		if string(got) != want || off != offsets[i] {
			t.Errorf("message %d = %q at %d, want %q at %d", i, got, off, want, offsets[i])
		}
	}
	if _, _, err := r.Next(1 << 20); err != io.EOF {
		t.Errorf("after the last: %v, want EOF", err)
	}
	if r.Offset() != int64(buf.Len()) {
		t.Errorf("Offset = %d, want %d", r.Offset(), buf.Len())
	}

	if _, _, err := NewMboxReader(strings.NewReader("Subject: x\n\n")).Next(100); !errors.Is(err, ErrNotMbox) {
		t.Errorf("not an mbox: %v", err)
	}
	if _, _, err := NewMboxReader(strings.NewReader("")).Next(100); err != io.EOF {
		t.Errorf("empty: %v", err)
	}
	r = NewMboxReader(strings.NewReader("From x\n" + strings.Repeat("y", 1000) + "\nFrom z\nSubject: next\n"))
	if got, _, err := r.Next(100); !errors.Is(err, ErrTooLarge) || len(got) != 100 {
		t.Errorf("oversized: %d bytes, %v", len(got), err)
	}
	if got, _, err := r.Next(100); err != nil || string(got) != "Subject: next\n" {
		t.Errorf("after oversized: %q, %v", got, err)
	}
}

var fuzzSeeds = []string{mixed, alternative, htmlOnly, base64Body, noDateNoID, unterminated, badBase64, injection, eightBit, inlineImage,
	journalReport(mixed, envelope), "", "x", "\x00", "From a b\n\n"}

func FuzzParseMessage(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := Parse(raw, "", received)
		if err != nil {
			_, rest, _ := bytes.Cut(raw, []byte("\n"))
			blank := len(bytes.TrimSpace(raw)) == 0 || (bytes.HasPrefix(raw, []byte("From ")) && len(bytes.TrimSpace(rest)) == 0)
			if !errors.Is(err, ErrEmpty) || !blank {
				t.Fatalf("Parse: %v", err)
			}
			return
		}
		if rec.ID == "" {
			t.Fatal("no ID")
		}
		if rec.Unparsed != "" && len(rec.Raw) == 0 {
			t.Fatal("unparsed without raw")
		}
		checkValues(t, rec.Fields)
	})
}

func FuzzMbox(f *testing.F) {
	for _, s := range fuzzSeeds {
		var buf bytes.Buffer
		WriteMbox(&buf, []byte(s))
		WriteMbox(&buf, []byte(s))
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewMboxReader(bytes.NewReader(data))
		last := int64(-1)
		for n := 0; ; n++ {
			msg, off, err := r.Next(1 << 10)
			if err == io.EOF || errors.Is(err, ErrNotMbox) {
				break
			}
			if err != nil && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("message %d: %v", n, err)
			}
			if off <= last || off > int64(len(data)) || len(msg) > 1<<10 {
				t.Fatalf("message %d: offset %d after %d, %d bytes", n, off, last, len(msg))
			}
			last = off
			if n >= 20 {
				// Each reader takes a 64 KiB buffer: round-tripping every
				// message of an input of thousands is needlessly slow.
				continue
			}
			// Written back and read again, a message is the same.
			var buf bytes.Buffer
			WriteMbox(&buf, msg)
			again, _, err := NewMboxReader(&buf).Next(1 << 20)
			if err != nil || !bytes.Equal(bytes.TrimRight(again, "\n"), bytes.TrimRight(msg, "\n")) {
				t.Fatalf("round trip of %q = %q, %v", msg, again, err)
			}
		}
	})
}

// TestParseWorstCase: however many recipients and attachments a message
// has, its record's fields stay under 900 KiB, room left in a 1 MiB line.
func TestParseWorstCase(t *testing.T) {
	var b strings.Builder
	for _, h := range []string{"From", "Sender", "Reply-To", "To", "Cc", "Bcc"} {
		b.WriteString(h + ": ")
		for i := range 3000 {
			if i > 0 {
				b.WriteString(",\n ")
			}
			fmt.Fprintf(&b, "%s%d@%s.example.org", strings.Repeat("a", 60), i, strings.Repeat("d", 60))
		}
		b.WriteString("\n")
	}
	b.WriteString("Message-ID: <worst@x>\nContent-Type: multipart/mixed; boundary=w\n\n--w\nContent-Type: text/plain\n\n")
	b.WriteString(strings.Repeat("body ", MaxBodyText/4))
	for i := range 400 {
		fmt.Fprintf(&b, "\n--w\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"%s%d.txt\"\n\n%s", strings.Repeat("n", 300), i, strings.Repeat("t", 2000))
	}
	b.WriteString("\n--w--\n")
	rec, err := Parse([]byte(b.String()), "", received)
	if err != nil || rec.Unparsed != "" {
		t.Fatalf("Parse = %q, %v", rec.Unparsed, err)
	}
	js, err := json.Marshal(rec.Fields)
	if err != nil {
		t.Fatal(err)
	}
	if len(js) > 900<<10 {
		t.Errorf("fields take %d KiB as JSON, want at most 900", len(js)>>10)
	}
	if n := len(rec.Fields["email.to.address"].([]string)); n == 0 || n >= 3000 {
		t.Errorf("%d To addresses kept, want some, bounded", n)
	}
}
