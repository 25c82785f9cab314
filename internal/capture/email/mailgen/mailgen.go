// Package mailgen generates a corpus of realistic e-mail messages, the
// same for the same seed, and says what the e-mail input should make of
// each: the test corpus of internal/capture/email, also run against the
// real pipeline. It holds multipart messages with text and binary
// attachments, non-ASCII headers in RFC 2047 words (UTF-8 and
// ISO-8859-1), HTML-only mail, body lines beginning "From " (which an
// mbox must escape), messages without a Message-ID or Date, and a share
// of malformed ones: boundaries that never end, bad base64, 8-bit
// headers, text with no headers at all, and empty messages.
package mailgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"mime"
	"slices"
	"strings"
	"time"
)

// Kind is what the e-mail input should make of a message.
type Kind int

const (
	Stored   Kind = iota // parsed into fields
	Unparsed             // kept raw: not a message
	Skipped              // empty: nothing to keep
)

// Message is one generated message and what it says.
type Message struct {
	Raw  []byte
	Kind Kind
	// Checked marks a well-formed message whose fields below are exact.
	Checked     bool
	MessageID   string   // without <>; "" when the message has none
	From        []string // lower-cased addresses
	To, Cc      []string
	Subject     string // decoded
	Attachments []Attachment
	HTMLOnly    bool
}

// Attachment is an attachment as sent.
type Attachment struct {
	Name, MIMEType string
	SHA256         string // hex of the decoded bytes
	Size           int64
}

var (
	givenNames = []string{"Ann", "Bob", "Carol", "Dave", "José", "Zoë", "Søren", "Ewa", "Łukasz", "Amélie", "Ngozi", "Priya", "Mårten", "Ünal"}
	familyName = []string{"Smith", "Müller", "O'Brien", "García", "Nowak", "Østergaard", "Dubois", "Okafor", "Patel", "Lindqvist"}
	domains    = []string{"force.example", "Police.Example.UK", "partner.example.org", "mail.EXAMPLE.net"}
	subjects   = []string{"Quarterly figures", "Réunion de lundi", "Grüße aus München", "Shift rota", "Case file", "Überstunden März", "Café order", "Meeting notes", "Invoice 2026-11", "Ærlig talt"}
	words      = strings.Fields("the report is attached please review before the meeting on monday regards shift custody vehicle log evidence property station duty rota overtime leave training")
)

// Generate returns n messages for seed.
func Generate(seed uint64, n int) []Message {
	g := &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed}
	out := make([]Message, n)
	for i := range out {
		out[i] = g.message(i)
	}
	return out
}

type gen struct {
	rng  *rand.Rand
	seed uint64
}

func (g *gen) pick(l []string) string { return l[g.rng.IntN(len(l))] }

type person struct{ name, addr string }

func (g *gen) person() person {
	given, family := g.pick(givenNames), g.pick(familyName)
	local := strings.NewReplacer("é", "e", "ë", "e", "ø", "o", "Ø", "O", "ü", "u", "Ü", "U", "ł", "l", "Ł", "L", "å", "a", "'", "").Replace(given + "." + family)
	return person{given + " " + family, local + "@" + g.pick(domains)}
}

// header encodes a display name or subject as a sender would: ASCII as
// it is, else RFC 2047 in UTF-8 or, when it fits, ISO-8859-1.
func (g *gen) encode(s string) string {
	ascii := true
	latin1 := true
	for _, r := range s {
		if r >= 0x80 {
			ascii = false
		}
		if r >= 0x100 {
			latin1 = false
		}
	}
	switch {
	case ascii:
		return s
	case latin1 && g.rng.IntN(2) == 0:
		b := make([]byte, 0, len(s))
		for _, r := range s {
			b = append(b, byte(r))
		}
		return mime.QEncoding.Encode("ISO-8859-1", string(b))
	case g.rng.IntN(2) == 0:
		return mime.BEncoding.Encode("UTF-8", s)
	}
	return mime.QEncoding.Encode("UTF-8", s)
}

func (g *gen) addr(p person) string {
	if g.rng.IntN(4) == 0 {
		return p.addr
	}
	name := g.encode(p.name)
	if name == p.name {
		name = `"` + name + `"`
	}
	return name + " <" + p.addr + ">"
}

func (g *gen) text(lines int) string {
	var b strings.Builder
	for range lines {
		if g.rng.IntN(15) == 0 {
			// An mbox must escape this line, and give it back unchanged.
			b.WriteString("From the desk of the duty inspector\n")
		}
		for j := range 6 + g.rng.IntN(8) {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(g.pick(words))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	out.WriteString(s + "\n")
	return out.String()
}

// lower returns the addresses as the input records them: lower-cased,
// each once.
func lower(l []person) []string {
	var out []string
	for _, p := range l {
		if a := strings.ToLower(p.addr); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (g *gen) message(i int) Message {
	switch r := i % 100; {
	case r == 3:
		return Message{Raw: nil, Kind: Skipped}
	case r == 1 || r == 2:
		// No header at all: a stray text file in a mail folder.
		return Message{Raw: fmt.Appendf(nil, "note %d of seed %d\n%s", i, g.seed, g.text(3)), Kind: Unparsed}
	}
	m := Message{Kind: Stored, Checked: true}
	from := g.person()
	to := make([]person, 1+g.rng.IntN(3))
	for k := range to {
		to[k] = g.person()
	}
	var cc []person
	if g.rng.IntN(3) == 0 {
		cc = []person{g.person()}
	}
	m.From, m.To, m.Cc = lower([]person{from}), lower(to), lower(cc)
	m.Subject = fmt.Sprintf("%s #%d", g.pick(subjects), i)
	var h bytes.Buffer
	fmt.Fprintf(&h, "From: %s\n", g.addr(from))
	toList := make([]string, len(to))
	for k, p := range to {
		toList[k] = g.addr(p)
	}
	fmt.Fprintf(&h, "To: %s\n", strings.Join(toList, ", "))
	if cc != nil {
		fmt.Fprintf(&h, "Cc: %s\n", g.addr(cc[0]))
	}
	fmt.Fprintf(&h, "Subject: %s\n", g.encode(m.Subject))
	if i%20 != 7 {
		when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.rng.IntN(300*24*3600)) * time.Second)
		fmt.Fprintf(&h, "Date: %s\n", when.Format(time.RFC1123Z))
	}
	if i%20 != 11 {
		m.MessageID = fmt.Sprintf("gen-%d-%d@corpus.example", g.seed, i)
		fmt.Fprintf(&h, "Message-ID: <%s>\n", m.MessageID)
	}
	h.WriteString("MIME-Version: 1.0\n")
	body := g.text(2 + g.rng.IntN(10))
	switch r := i % 100; {
	case r == 4:
		// The closing boundary never comes.
		m.Checked = false
		fmt.Fprintf(&h, "Content-Type: multipart/mixed; boundary=\"open%d\"\n\n--open%d\nContent-Type: text/plain\n\n%s", i, i, body)
	case r == 5:
		// An attachment whose base64 is broken.
		m.Checked = false
		fmt.Fprintf(&h, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\nContent-Type: text/plain\n\n%s--b%d\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"broken.bin\"\nContent-Transfer-Encoding: base64\n\n!!%%%%not*base64**\n--b%d--\n", i, i, body, i, i)
	case r == 6:
		// A header in raw 8-bit ISO-8859-1, as old mailers sent it.
		m.Checked = false
		h.WriteString("X-Note: r\xe9sum\xe9 \xfcber\n\n")
		h.WriteString(body)
	case r%4 == 0:
		m.HTMLOnly = true
		fmt.Fprintf(&h, "Content-Type: text/html; charset=utf-8\n\n<html><body><p>%s</p></body></html>\n", strings.ReplaceAll(body, "\n", "<br>\n"))
	case r%4 == 1:
		fmt.Fprintf(&h, "Content-Type: multipart/alternative; boundary=\"alt%d\"\n\n--alt%d\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n%s--alt%d\nContent-Type: text/html; charset=utf-8\n\n<p>%s</p>\n--alt%d--\n", i, i, body, i, body, i)
	case r%4 == 2:
		fmt.Fprintf(&h, "Content-Type: multipart/mixed; boundary=\"mix%d\"\n\n--mix%d\nContent-Type: text/plain; charset=utf-8\n\n%s", i, i, body)
		for k := range 1 + g.rng.IntN(3) {
			a, part := g.attachment(i, k)
			m.Attachments = append(m.Attachments, a)
			fmt.Fprintf(&h, "--mix%d\n%s", i, part)
		}
		fmt.Fprintf(&h, "--mix%d--\n", i)
	default:
		h.WriteString("Content-Type: text/plain; charset=utf-8\n\n")
		h.WriteString(body)
	}
	m.Raw = h.Bytes()
	return m
}

// attachment returns an attachment and its MIME part (headers, blank
// line, base64 body).
func (g *gen) attachment(i, k int) (Attachment, string) {
	var a Attachment
	var data []byte
	switch g.rng.IntN(3) {
	case 0:
		a.Name, a.MIMEType = fmt.Sprintf("notes-%d-%d.txt", i, k), "text/plain"
		data = []byte(g.text(2 + g.rng.IntN(5)))
	case 1:
		a.Name, a.MIMEType = fmt.Sprintf("figures-%d-%d.csv", i, k), "text/csv"
		data = fmt.Appendf(nil, "id,value\n%d,%d\n%d,%d\n", i, g.rng.IntN(1000), k, g.rng.IntN(1000))
	default:
		a.Name, a.MIMEType = fmt.Sprintf("scan-%d-%d.pdf", i, k), "application/pdf"
		data = make([]byte, 200+g.rng.IntN(3000))
		for j := range data {
			data[j] = byte(g.rng.Uint32())
		}
	}
	if g.rng.IntN(5) == 0 {
		// A non-ASCII file name, RFC 2047-encoded as Outlook does.
		a.Name = "Übersicht-" + a.Name
	}
	sum := sha256.Sum256(data)
	a.SHA256, a.Size = hex.EncodeToString(sum[:]), int64(len(data))
	ctype := a.MIMEType
	if strings.HasPrefix(ctype, "text/") {
		ctype += "; charset=utf-8"
	}
	name := a.Name
	if enc := mime.BEncoding.Encode("UTF-8", name); enc != name {
		name = enc
	}
	return a, fmt.Sprintf("Content-Type: %s; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n%s", ctype, name, name, base64Lines(data))
}
