// Package mapping turns what an input read (a capture.Record) into an
// event of lbm's model, as a source's declarative mapping says: where
// each event field comes from, who the subject is (resolved through the
// directory), who else the event is about, and which fields are content.
// Each input has a built-in mapping (builtin/*.yaml); a source's own file,
// DATA/mappings/SOURCE.yaml, replaces it for that source. Pure.
package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/strictyaml"
)

// MaxFileSize bounds a mapping file.
const MaxFileSize = 256 << 10

// Key is a directory key a value may be resolved by.
type Key string

const (
	ByID       Key = "id"       // the directory id
	ByUsername Key = "username" // the login name (DOMAIN\name and name@domain both read as name)
	ByEmail    Key = "email"    // any of the person's addresses ("Name <a@b>" reads as a@b)
	ByNumber   Key = "number"   // the staff or collar number
)

var keys = []Key{ByID, ByUsername, ByEmail, ByNumber}

// Directory resolves the names other systems give people to directory ids.
type Directory interface {
	Resolve(key Key, value string) (id string, ok bool)
}

// Match says which messages of an input belong to a source (syslog: by
// host and app name). Every list given must match; a pattern is a
// path.Match glob, compared ignoring case.
type Match struct {
	Hosts []string `yaml:"hosts"`
	Apps  []string `yaml:"apps"`
}

// RateLimit bounds how fast a source may send; zero means no limit.
type RateLimit struct {
	EventsPerSecond float64 `yaml:"events_per_second"`
	Burst           int     `yaml:"burst"`
}

// Extract reads named groups of a regular expression from a field, as
// extract.GROUP fields the rest of the mapping can read.
type Extract struct {
	Field   string `yaml:"field"`
	Pattern string `yaml:"pattern"`
	re      *regexp.Regexp
}

// Subject says who the event is about.
type Subject struct {
	// From lists fields whose values are tried in order; the first that
	// resolves through the directory is the subject.
	From []string `yaml:"from"`
	// Resolve lists the directory keys tried on each value, in order;
	// empty takes the first value present as it is.
	Resolve []Key `yaml:"resolve"`
	// Otherwise lists fields whose first value present is the subject,
	// as it is, when nothing in From resolves.
	Otherwise []string `yaml:"otherwise"`
	// Default is the subject when nothing else gives one.
	Default string `yaml:"default"`
}

// Related says who else the event involves (related.user): every value of
// the fields, resolved to an id where the directory knows it, else as sent.
type Related struct {
	From    []string `yaml:"from"`
	Resolve []Key    `yaml:"resolve"`
}

// Source is where one event field comes from: a constant, or the first
// field present (translated by Map when it names the value), else Default.
type Source struct {
	Value   string            `yaml:"value"`
	From    []string          `yaml:"from"`
	Map     map[string]string `yaml:"map"`
	Default string            `yaml:"default"`
}

// Mapping is one source's mapping for one input.
type Mapping struct {
	Input     capture.Input     `yaml:"input"`
	Match     Match             `yaml:"match"`
	RateLimit RateLimit         `yaml:"rate_limit"`
	Extract   []Extract         `yaml:"extract"`
	Subject   Subject           `yaml:"subject"`
	Related   Related           `yaml:"related"`
	Fields    map[string]Source `yaml:"fields"`
	// Content lists the record fields (globs allowed) kept as content,
	// encrypted, under content.NAME.
	Content []string `yaml:"content"`
	// Metadata is "all" (default: every other field of the record is kept
	// as metadata under its own name) or "mapped" (only Fields).
	Metadata string `yaml:"metadata"`
	// Drop lists record fields (globs allowed) never kept.
	Drop []string `yaml:"drop"`
}

// Error is a mapping file refused: the file, the line (0 when none) and why.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Parse reads and checks a mapping file; name names it in errors.
func Parse(name string, data []byte) (*Mapping, error) {
	fail := func(line int, format string, args ...any) error {
		return &Error{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) > MaxFileSize {
		return nil, fail(0, "longer than %d bytes", MaxFileSize)
	}
	if !utf8.Valid(data) {
		return nil, fail(0, "not valid UTF-8")
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p := strictyaml.SyntaxError(err)
		return nil, fail(p.Line, "%s", p.Msg)
	}
	if len(root.Content) == 0 {
		return nil, fail(0, "empty: a mapping names at least its input")
	}
	if p := strictyaml.CheckTree(&root, 256, "mapping", true); p != nil {
		return nil, fail(p.Line, "%s", p.Msg)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m Mapping
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, fail(0, "%s", safetext.Escape(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if err := m.check(); err != nil {
		return nil, fail(0, "%s", err.Error())
	}
	return &m, nil
}

// required are the event fields every mapping must say how to fill.
var required = []string{"event.category", "event.action"}

// reserved are the event fields a mapping may not set through Fields:
// lbm sets them itself (the subject, the related people, the time, the id
// and source) or they are content.
func reserved(name string) bool {
	switch name {
	case "user.id", "related.user", "@timestamp", "event.id", "source.id":
		return true
	}
	return strings.HasPrefix(name, event.ContentPrefix) || name == "content"
}

func (m *Mapping) check() error {
	if !slices.Contains(capture.Inputs, m.Input) {
		return fmt.Errorf("input %s is not one of %s", safetext.Quote(string(m.Input)), joinInputs())
	}
	if (len(m.Match.Hosts) > 0 || len(m.Match.Apps) > 0) && m.Input != capture.Syslog {
		return errors.New("match: only a syslog mapping matches messages to its source (other inputs name the source by its token)")
	}
	for _, g := range slices.Concat(m.Match.Hosts, m.Match.Apps, m.Content, m.Drop) {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			return fmt.Errorf("%s is not a pattern", safetext.Quote(g))
		}
	}
	if m.RateLimit.EventsPerSecond < 0 || m.RateLimit.EventsPerSecond > 1e7 || m.RateLimit.Burst < 0 || m.RateLimit.Burst > 1e8 {
		return errors.New("rate_limit: events_per_second from 0 to 10,000,000 and burst from 0 to 100,000,000")
	}
	if m.RateLimit.EventsPerSecond > 0 && m.RateLimit.Burst == 0 {
		m.RateLimit.Burst = max(1, int(m.RateLimit.EventsPerSecond))
	}
	if len(m.Extract) > 32 {
		return errors.New("extract: at most 32 patterns")
	}
	for i := range m.Extract {
		x := &m.Extract[i]
		if x.Field == "" {
			return fmt.Errorf("extract %d: needs a field", i+1)
		}
		re, err := regexp.Compile(x.Pattern)
		if err != nil {
			return fmt.Errorf("extract %d: pattern: %s", i+1, safetext.Escape(err.Error()))
		}
		if len(re.SubexpNames()) < 2 || !slices.ContainsFunc(re.SubexpNames()[1:], func(s string) bool { return s != "" }) {
			return fmt.Errorf("extract %d: pattern has no named group (?P<name>…) to extract", i+1)
		}
		x.re = re
	}
	for _, k := range slices.Concat(m.Subject.Resolve, m.Related.Resolve) {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("resolve: %s is not one of id, username, email, number", safetext.Quote(string(k)))
		}
	}
	if len(m.Subject.From)+len(m.Subject.Otherwise) == 0 && m.Subject.Default == "" {
		return errors.New("subject: give from, otherwise or default: every event is about someone")
	}
	for _, name := range required {
		if _, ok := m.Fields[name]; !ok {
			return fmt.Errorf("fields: %s is required", name)
		}
	}
	for name, src := range m.Fields {
		if reserved(name) {
			return fmt.Errorf("fields: %s is set by lbm (subject, related, time, id) or is content: use subject, related or content", safetext.Quote(name))
		}
		if clean, ok := eventName(name); !ok || clean != name {
			return fmt.Errorf("fields: %s is not an event field name (dotted segments of A-Z a-z 0-9 _ @ -)", safetext.Quote(name))
		}
		if (src.Value != "") == (len(src.From) > 0) {
			return fmt.Errorf("fields: %s: give either value or from", name)
		}
		if src.Value != "" && (src.Default != "" || len(src.Map) > 0) {
			return fmt.Errorf("fields: %s: a value needs no default or map", name)
		}
		if name == "event.category" {
			for _, v := range append(slices.Collect(maps.Values(src.Map)), src.Default) {
				if v != "" && !slices.Contains(event.Categories, v) {
					return fmt.Errorf("fields: event.category: %s is not a category (%s)", safetext.Quote(v), strings.Join(event.Categories, ", "))
				}
			}
		}
	}
	if c, ok := m.Fields["event.category"]; ok && c.Value != "" && !slices.Contains(event.Categories, c.Value) {
		return fmt.Errorf("fields: event.category: %s is not a category (%s)", safetext.Quote(c.Value), strings.Join(event.Categories, ", "))
	}
	switch m.Metadata {
	case "":
		m.Metadata = "all"
	case "all", "mapped":
	default:
		return fmt.Errorf("metadata: %s is not all or mapped", safetext.Quote(m.Metadata))
	}
	return nil
}

func joinInputs() string {
	s := make([]string, len(capture.Inputs))
	for i, in := range capture.Inputs {
		s[i] = string(in)
	}
	return strings.Join(s, ", ")
}

// Matches reports whether a syslog record belongs to this mapping's source.
func (m *Mapping) Matches(rec capture.Record) bool {
	if len(m.Match.Hosts) == 0 && len(m.Match.Apps) == 0 {
		return false
	}
	return globAny(m.Match.Hosts, first(rec.Fields, "log.syslog.hostname")) && globAny(m.Match.Apps, first(rec.Fields, "log.syslog.appname"))
}

// globAny reports whether v matches a pattern, ignoring case; no patterns
// match anything.
func globAny(patterns []string, v string) bool {
	if len(patterns) == 0 {
		return true
	}
	v = strings.ToLower(v)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), v); ok {
			return true
		}
	}
	return false
}
