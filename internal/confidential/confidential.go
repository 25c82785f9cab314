// Package confidential recognises confidential material in events: the
// channels an organisation configures (its solicitors, occupational
// health and counselling, staff associations and unions, whistleblowing
// lines, the IOPC) and the markers people put on such material ("legally
// privileged"). What matches is held back from investigators until a
// legal adviser's recorded view releases it (internal/review), and is
// never an input to detection rules.
//
// The configuration is a YAML file:
//
//	channels:
//	  - kind: legal_privilege        # legal_privilege, health, journalistic, union, whistleblowing
//	    name: Force Solicitor
//	    addresses: [legal@police.example, "@solicitors.example"]  # an address, or @domain
//	    hosts: [solicitors.example]  # url.domain or destination.domain, and its subdomains
//	markers:
//	  - kind: legal_privilege
//	    phrase: legally privileged   # in any text field, case and spacing ignored
//
// Pure.
package confidential

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/strictyaml"
)

// Kinds are the kinds of confidential material (LEGAL.md §4).
var Kinds = []string{consent.LegalPrivilege, consent.Health, consent.Journalistic, consent.Union, consent.Whistleblowing}

// Limits on a configuration.
const (
	MaxFileSize = 1 << 20
	MaxEntries  = 10000
)

// Channel is one configured confidential channel.
type Channel struct {
	Kind      string   `yaml:"kind" json:"kind"`
	Name      string   `yaml:"name" json:"name"`
	Addresses []string `yaml:"addresses" json:"addresses,omitempty"`
	Hosts     []string `yaml:"hosts" json:"hosts,omitempty"`
}

// Marker is a phrase that marks material as confidential.
type Marker struct {
	Kind   string `yaml:"kind" json:"kind"`
	Phrase string `yaml:"phrase" json:"phrase"`
}

// Config is the whole configuration.
type Config struct {
	Channels []Channel `yaml:"channels" json:"channels"`
	Markers  []Marker  `yaml:"markers" json:"markers"`
}

// Hit is why an event is confidential: the kind, and the channel's name
// or the marker's phrase.
type Hit struct {
	Kind string `json:"kind"`
	What string `json:"what"`
}

// ParseError is a configuration refused: the line (0 when none) and why.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("confidential channels: line %d: %s", e.Line, e.Msg)
	}
	return "confidential channels: " + e.Msg
}

// Parse reads a configuration, refusing unknown keys, unknown kinds,
// empty channels, malformed addresses and hosts, and anything a
// hand-edited YAML file of lbm's may not hold (strictyaml).
func Parse(data []byte) (*Matcher, error) {
	if len(data) > MaxFileSize {
		return nil, &ParseError{Msg: fmt.Sprintf("longer than %d bytes", MaxFileSize)}
	}
	if !utf8.Valid(data) {
		return nil, &ParseError{Msg: "not valid UTF-8"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ParseError{Msg: safetext.Escape(err.Error())}
	}
	if len(root.Content) == 0 {
		return New(Config{})
	}
	if p := strictyaml.CheckTree(&root, 4, "channel", true); p != nil {
		return nil, &ParseError{Line: p.Line, Msg: p.Msg}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ParseError{Msg: safetext.Escape(err.Error())}
	}
	return New(c)
}

// Matcher finds confidential material in events.
type Matcher struct {
	config    Config
	addresses map[string]Hit // lower-case address, or "@domain"
	hosts     map[string]Hit // lower-case host
	markers   []marker
}

type marker struct {
	words []string
	hit   Hit
}

// New checks c and returns its matcher.
func New(c Config) (*Matcher, error) {
	if len(c.Channels)+len(c.Markers) > MaxEntries {
		return nil, &ParseError{Msg: fmt.Sprintf("more than %d channels and markers", MaxEntries)}
	}
	m := &Matcher{config: c, addresses: map[string]Hit{}, hosts: map[string]Hit{}}
	for i, ch := range c.Channels {
		where := fmt.Sprintf("channel %d (%s)", i+1, safetext.Quote(ch.Name))
		if !slices.Contains(Kinds, ch.Kind) {
			return nil, &ParseError{Msg: fmt.Sprintf("%s: kind %s is not one of %s", where, safetext.Quote(ch.Kind), strings.Join(Kinds, ", "))}
		}
		if strings.TrimSpace(ch.Name) == "" || !plain(ch.Name) {
			return nil, &ParseError{Msg: where + ": needs a name, in plain text"}
		}
		if len(ch.Addresses)+len(ch.Hosts) == 0 {
			return nil, &ParseError{Msg: where + ": names no address or host"}
		}
		hit := Hit{Kind: ch.Kind, What: ch.Name}
		for _, a := range ch.Addresses {
			a = strings.ToLower(strings.TrimSpace(a))
			local, domain, ok := strings.Cut(a, "@")
			if !ok || !validHost(domain) || strings.ContainsAny(local, " \t\"<>,;") {
				return nil, &ParseError{Msg: fmt.Sprintf("%s: %s is not an address or @domain", where, safetext.Quote(a))}
			}
			m.addresses[a] = hit
		}
		for _, h := range ch.Hosts {
			h = strings.ToLower(strings.TrimSpace(h))
			if !validHost(h) {
				return nil, &ParseError{Msg: fmt.Sprintf("%s: %s is not a host name", where, safetext.Quote(h))}
			}
			m.hosts[h] = hit
		}
	}
	for i, mk := range c.Markers {
		where := fmt.Sprintf("marker %d", i+1)
		if !slices.Contains(Kinds, mk.Kind) {
			return nil, &ParseError{Msg: fmt.Sprintf("%s: kind %s is not one of %s", where, safetext.Quote(mk.Kind), strings.Join(Kinds, ", "))}
		}
		words := strings.Fields(strings.ToLower(mk.Phrase))
		if len(words) == 0 || !plain(mk.Phrase) {
			return nil, &ParseError{Msg: where + ": needs a phrase, in plain text"}
		}
		m.markers = append(m.markers, marker{words: words, hit: Hit{Kind: mk.Kind, What: mk.Phrase}})
	}
	return m, nil
}

// Config returns the configuration m matches, for the notice and pages.
func (m *Matcher) Config() Config { return m.config }

// plain reports whether s is one short line of text fit to show people.
func plain(s string) bool {
	return len(s) <= 200 && !strings.ContainsFunc(s, safetext.Hidden)
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// addressFields and hostFields are where channels are looked for.
var (
	addressFields = map[string]bool{
		"email.from.address": true, "email.sender.address": true, "email.to.address": true, "email.cc.address": true,
		"email.bcc.address": true, "email.reply_to.address": true, "user.email": true, "destination.user.email": true,
	}
	hostFields = map[string]bool{"url.domain": true, "destination.domain": true}
)

// Match returns why fs (an event's fields, as far as they were opened) are
// confidential, each hit once, or nil. Markers are looked for in every
// string field: content that was not opened cannot match, so a caller
// that shows content must match with it opened.
func (m *Matcher) Match(fs []event.Field) []Hit {
	if m == nil {
		return nil
	}
	var hits []Hit
	add := func(h Hit) {
		if !slices.Contains(hits, h) {
			hits = append(hits, h)
		}
	}
	for _, f := range fs {
		vals := stringsOf(f.Value)
		switch {
		case addressFields[f.Name]:
			for _, v := range vals {
				a := strings.ToLower(strings.TrimSpace(v))
				if h, ok := m.addresses[a]; ok {
					add(h)
				}
				if _, domain, ok := strings.Cut(a, "@"); ok {
					if h, ok := m.addresses["@"+domain]; ok {
						add(h)
					}
				}
			}
		case hostFields[f.Name]:
			for _, v := range vals {
				if h, ok := m.hostHit(strings.ToLower(strings.TrimSpace(v))); ok {
					add(h)
				}
			}
		}
		if len(m.markers) > 0 {
			for _, v := range vals {
				words := strings.Fields(strings.ToLower(v))
				for _, mk := range m.markers {
					if containsRun(words, mk.words) {
						add(mk.hit)
					}
				}
			}
		}
	}
	return hits
}

// hostHit matches host and each domain it is under.
func (m *Matcher) hostHit(host string) (Hit, bool) {
	for host != "" {
		if h, ok := m.hosts[host]; ok {
			return h, true
		}
		_, rest, ok := strings.Cut(host, ".")
		if !ok {
			break
		}
		host = rest
	}
	return Hit{}, false
}

// containsRun reports whether words holds phrase as consecutive words,
// punctuation at a word's edges ignored.
func containsRun(words, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(words); i++ {
		ok := true
		for j, p := range phrase {
			if strings.Trim(words[i+j], ".,;:!?\"'()[]") != p {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// stringsOf returns the strings a field's JSON value holds: itself, or
// the strings of an array.
func stringsOf(raw []byte) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []any
	if json.Unmarshal(raw, &many) != nil {
		return nil
	}
	var out []string
	for _, v := range many {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
