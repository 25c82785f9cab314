package review

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"strings"

	"github.com/lbm-project/lbm/internal/event"
)

// A Pseudonymiser replaces the people in events who are not subjects of
// an authorisation with pseudonyms. Its key is derived from a secret and
// the authorisation, so one person has one pseudonym throughout a case
// and unrelated pseudonyms in any other: an investigator holding two
// authorisations cannot link them, and nobody without the secret can
// reverse one.
type Pseudonymiser struct {
	key      []byte
	subjects map[string]bool
}

// NewPseudonymiser returns the pseudonymiser of authorisation request,
// keyed from secret (at least 32 bytes, kept by the server), that leaves
// the identifiers in keep (the subjects' person ids and addresses) as
// they are.
func NewPseudonymiser(secret []byte, request string, keep []string) *Pseudonymiser {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lbm/pseudonym/v1\n" + request))
	p := &Pseudonymiser{key: m.Sum(nil), subjects: map[string]bool{}}
	for _, k := range keep {
		p.subjects[normalise(k)] = true
	}
	return p
}

// normalise is the form identifiers are compared and keyed in: an e-mail
// address or a person id, case and surrounding space ignored.
func normalise(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

var pseudonymEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Name returns the pseudonym of identifier v (a person id or an address),
// or v itself when it is kept.
func (p *Pseudonymiser) Name(v string) string {
	n := normalise(v)
	if p.subjects[n] {
		return v
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(n))
	return "person-" + strings.ToLower(pseudonymEncoding.EncodeToString(m.Sum(nil)[:8]))
}

// personFields are the metadata fields that name people other than the
// event's subject: their values are person ids or e-mail addresses.
var personFields = map[string]bool{
	"related.user":           true,
	"email.from.address":     true,
	"email.sender.address":   true,
	"email.to.address":       true,
	"email.cc.address":       true,
	"email.bcc.address":      true,
	"email.reply_to.address": true,
	"destination.user.id":    true,
	"destination.user.name":  true,
	"source.user.id":         true,
	"source.user.name":       true,
}

// userFields name the event's own user: shown as they are when that
// user is a subject, pseudonymised when the event is in scope only
// because a subject is related to it.
var userFields = map[string]bool{
	"user.id":        true,
	"user.name":      true,
	"user.full_name": true,
	"user.email":     true,
}

// Shown is one field as an investigator sees it: its name, its value
// (pseudonymised where it names someone else), and whether it was.
type Shown struct {
	Name          string          `json:"name"`
	Value         json.RawMessage `json:"value"`
	Pseudonymised bool            `json:"pseudonymised,omitempty"`
}

// Fields returns fs as an investigator sees them: content fields only
// when content is true, and every value naming a person who is not kept
// replaced by their pseudonym. A field whose value cannot be read as the
// identifiers it should hold is withheld rather than shown as it is.
func (p *Pseudonymiser) Fields(fs []event.Field, content bool) []Shown {
	var out []Shown
	for _, v := range p.views(fs, content) {
		if !v.hidden {
			out = append(out, v.shown)
		}
	}
	return out
}

// fieldView is what an investigator is shown of one field, if anything.
type fieldView struct {
	field  event.Field
	shown  Shown
	hidden bool
}

// views decides, field by field, what Fields shows and an evidence bundle
// discloses: the two must never differ.
func (p *Pseudonymiser) views(fs []event.Field, content bool) []fieldView {
	// An event in scope because a subject is related to it belongs to
	// someone else: its user.* fields name that person.
	ownerKept := true
	for _, f := range fs {
		if f.Name == "user.id" {
			var id string
			ownerKept = json.Unmarshal(f.Value, &id) == nil && p.subjects[normalise(id)]
		}
	}
	out := make([]fieldView, 0, len(fs))
	for _, f := range fs {
		v := fieldView{field: f, shown: Shown{Name: f.Name, Value: json.RawMessage(f.Value)}}
		switch {
		case f.IsContent() && !content:
			v.hidden = true
		case personFields[f.Name] || userFields[f.Name] && !ownerKept:
			value, changed, ok := p.value(f.Value)
			v.shown.Value, v.shown.Pseudonymised, v.hidden = value, changed, !ok
		}
		out = append(out, v)
	}
	return out
}

// value pseudonymises a string or an array of strings.
func (p *Pseudonymiser) value(raw []byte) (json.RawMessage, bool, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		name := p.Name(one)
		b, _ := json.Marshal(name)
		return b, name != one, true
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return nil, false, false
	}
	changed := false
	for i, v := range many {
		if n := p.Name(v); n != v {
			many[i], changed = n, true
		}
	}
	b, _ := json.Marshal(many)
	return b, changed, true
}
