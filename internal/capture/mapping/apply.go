package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/event"
)

const (
	// Unattributed is the subject of an event no mapping could attribute
	// to anyone, unless the mapping names another default.
	Unattributed = "unattributed"
	// maxValueBytes keeps each value inside the event model's 512 KiB.
	maxValueBytes = 500 << 10
	// maxRawBytes bounds the raw message an unparsed event keeps.
	maxRawBytes = 256 << 10
	// maxFields leaves room under the model's 256 for lbm's own fields.
	maxFields  = 240
	maxRelated = 1000
	maxDepth   = 8
	maxName    = 128
	// timeLayout always has 9 fraction digits, as @timestamp requires.
	timeLayout = "2006-01-02T15:04:05.000000000Z"
)

// Event is a mapped record: one JSON object for event.Parse, and what the
// mapping left out.
type Event struct {
	Line []byte
	// Dropped counts record fields not kept: over the field limit, names
	// that could not become event names, values of no kept type.
	Dropped int
}

// Apply maps rec under m. An unparsed record, or one m cannot make a valid
// event of, is an error: the caller keeps it with Unparsed instead.
func (m *Mapping) Apply(rec capture.Record, dir Directory) (Event, error) {
	if rec.Unparsed != "" {
		return Event{}, errors.New(rec.Unparsed)
	}
	fields := m.withExtracts(rec.Fields)
	b := newBuilder()
	b.set("@timestamp", eventTime(rec, b))
	if rec.ID != "" {
		b.set("event.id", eventID(rec.ID))
	}
	subject, from := m.subject(fields, dir)
	if subject == "" {
		return Event{}, errors.New("no subject: none of the subject's fields is present and the mapping has no default")
	}
	b.set("user.id", subject)
	fields["subject.from"] = from
	if rel := m.related(fields, dir, subject); len(rel) > 0 {
		b.set("related.user", rel)
	}
	for _, name := range sortedKeys(m.Fields) {
		v, ok := m.Fields[name].value(fields)
		if !ok {
			continue
		}
		if name == "event.category" {
			v = category(fields, m.Fields[name])
		}
		if name == "event.outcome" && !slices.Contains([]string{"success", "failure", "unknown"}, v) {
			continue
		}
		b.set(name, v)
	}
	delete(fields, "subject.from")
	for _, name := range required {
		if _, ok := b.out[name]; !ok {
			return Event{}, fmt.Errorf("%s: none of its fields is present and it has no default", name)
		}
	}
	m.copyRest(b, fields)
	line, err := b.line()
	if err != nil {
		return Event{}, err
	}
	return Event{Line: line, Dropped: b.dropped}, nil
}

// Unparsed makes the event that keeps a record Apply refused: the raw
// message as content, why as lbm.unparsed, and what metadata can be kept.
// It never fails for a record an input produced.
func (m *Mapping) Unparsed(in capture.Input, rec capture.Record, why string, dir Directory) Event {
	fields := m.withExtracts(rec.Fields)
	b := newBuilder()
	b.set("@timestamp", eventTime(rec, b))
	if rec.ID != "" {
		b.set("event.id", eventID(rec.ID))
	}
	subject, _ := m.subject(fields, dir)
	if subject == "" {
		subject = Unattributed
	}
	b.set("user.id", subject)
	cat := defaultCategory[in]
	if c, ok := m.Fields["event.category"]; ok && c.Value != "" {
		cat = c.Value
	}
	b.set("event.category", cat)
	b.set("event.action", "unparsed")
	b.set("lbm.unparsed", truncate(why, 1000))
	b.set("lbm.input", string(in))
	raw := rec.Raw
	if len(raw) > maxRawBytes {
		raw = raw[:maxRawBytes]
		b.set("lbm.raw_truncated", true)
	}
	if utf8.Valid(raw) {
		b.set("content.raw", string(raw))
	} else {
		b.set("content.raw_base64", base64.StdEncoding.EncodeToString(raw))
	}
	// The fields an input did read go in too, as far as they fit: a field
	// that broke the mapping is among them at worst, and is dropped then.
	m.copyRest(b, fields)
	line, err := b.line()
	if err == nil {
		if _, perr := event.Parse(line, "check"); perr == nil {
			return Event{Line: line, Dropped: b.dropped}
		}
	}
	bare := newBuilder()
	for _, k := range []string{"@timestamp", "event.id", "user.id", "event.category", "event.action", "lbm.unparsed", "lbm.input", "lbm.raw_truncated", "content.raw", "content.raw_base64"} {
		if v, ok := b.out[k]; ok {
			bare.set(k, v)
		}
	}
	line, _ = bare.line()
	return Event{Line: line, Dropped: len(fields)}
}

var defaultCategory = map[capture.Input]string{
	capture.Syslog: "host", capture.Email: "email", capture.ECS: "host", capture.OTLP: "host",
}

// withExtracts copies fields and adds extract.GROUP for each named group
// of each pattern that matches its field's first string.
func (m *Mapping) withExtracts(in map[string]any) map[string]any {
	fields := make(map[string]any, len(in)+4)
	for k, v := range in {
		fields[k] = v
	}
	for _, x := range m.Extract {
		s := first(fields, x.Field)
		if s == "" {
			continue
		}
		match := x.re.FindStringSubmatch(s)
		for i, name := range x.re.SubexpNames() {
			if i > 0 && name != "" && match != nil && match[i] != "" {
				if _, taken := fields["extract."+name]; !taken {
					fields["extract."+name] = match[i]
				}
			}
		}
	}
	return fields
}

// subject returns the subject and the field it came from.
func (m *Mapping) subject(fields map[string]any, dir Directory) (string, string) {
	for _, f := range m.Subject.From {
		for _, v := range values(fields[f]) {
			if len(m.Subject.Resolve) == 0 {
				return v, f
			}
			if id, ok := resolve(dir, m.Subject.Resolve, v); ok {
				return id, f
			}
		}
	}
	for _, f := range m.Subject.Otherwise {
		if vs := values(fields[f]); len(vs) > 0 {
			return normalise(vs[0]), f
		}
	}
	return m.Subject.Default, "default"
}

func (m *Mapping) related(fields map[string]any, dir Directory, subject string) []string {
	var out []string
	seen := map[string]bool{subject: true}
	for _, f := range m.Related.From {
		for _, v := range values(fields[f]) {
			id, ok := resolve(dir, m.Related.Resolve, v)
			if !ok {
				id = normalise(v)
			}
			if id != "" && !seen[id] && len(out) < maxRelated {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// resolve tries each key on v, as other systems write it.
func resolve(dir Directory, keys []Key, v string) (string, bool) {
	if dir == nil {
		return "", false
	}
	for _, k := range keys {
		if id, ok := dir.Resolve(k, Normalise(k, v)); ok {
			return id, true
		}
	}
	return "", false
}

// Normalise writes v as the directory keeps key k: addresses bare and
// lower-cased, user names without domain, lower-cased.
func Normalise(k Key, v string) string {
	v = strings.TrimSpace(v)
	switch k {
	case ByEmail:
		if a, err := mail.ParseAddress(v); err == nil {
			v = a.Address
		}
		return strings.ToLower(v)
	case ByUsername:
		if _, name, ok := strings.Cut(v, `\`); ok {
			v = name
		}
		if name, _, ok := strings.Cut(v, "@"); ok {
			v = name
		}
		return strings.ToLower(v)
	}
	return v
}

// normalise writes an unresolved person as consistently as it can: an
// address bare and lower-cased, anything else trimmed.
func normalise(v string) string {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "@") {
		return Normalise(ByEmail, v)
	}
	return v
}

func (s Source) value(fields map[string]any) (string, bool) {
	if s.Value != "" {
		return s.Value, true
	}
	for _, f := range s.From {
		if v := first(fields, f); v != "" {
			if t, ok := s.Map[v]; ok {
				return t, true
			}
			if t, ok := s.Map[strings.ToLower(v)]; ok {
				return t, true
			}
			return v, true
		}
	}
	return s.Default, s.Default != ""
}

// category takes, of the values its fields give, the first that is an
// event category (ECS sends arrays of them), else the default.
func category(fields map[string]any, s Source) string {
	if s.Value != "" {
		return s.Value
	}
	for _, f := range s.From {
		for _, v := range values(fields[f]) {
			if t, ok := s.Map[strings.ToLower(v)]; ok {
				v = t
			}
			if v = strings.ToLower(v); slices.Contains(event.Categories, v) {
				return v
			}
		}
	}
	if s.Default != "" {
		return s.Default
	}
	return "host"
}

// copyRest adds the record's other fields: content where m says so, the
// rest as metadata unless m keeps only what it maps.
func (m *Mapping) copyRest(b *builder, fields map[string]any) {
	for _, name := range sortedKeys(fields) {
		if anyPattern(m.Drop, name) {
			continue
		}
		content := anyPattern(m.Content, name)
		if !content && m.Metadata == "mapped" {
			continue
		}
		clean, ok := eventName(name)
		if !ok {
			b.dropped++
			continue
		}
		if strings.HasPrefix(clean, "lbm.") {
			// lbm's own markers (lbm.unparsed…) are never taken from input.
			b.dropped++
			continue
		}
		switch {
		case content:
			clean = event.ContentPrefix + clean
		case clean == "user.name" || clean == "host.name" || clean == "event.action":
			// The model takes these as one string: the first, unless the
			// mapping set the field itself.
			if _, set := b.out[clean]; !set {
				if s := first(fields, name); s != "" {
					b.add(clean, s)
				}
			}
			continue
		case reserved(clean) || clean == "event.outcome" || clean == "event.category":
			// lbm or the mapping sets these, by the model's rules for them.
			continue
		}
		v, ok := value(fields[name])
		if !ok {
			b.dropped++
			continue
		}
		b.add(clean, v)
	}
}

// anyPattern reports whether a field name matches one of patterns, as
// written (field names are case-sensitive); no patterns match nothing.
func anyPattern(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// eventName makes name an event field name: each dotted segment of
// A-Za-z0-9_@- (others become _), at most 8 segments (the rest joined by
// _) and 128 bytes.
func eventName(name string) (string, bool) {
	var segs []string
	for _, s := range strings.Split(name, ".") {
		if s == "" {
			continue
		}
		segs = append(segs, strings.Map(func(r rune) rune {
			if r == '_' || r == '@' || r == '-' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return r
			}
			return '_'
		}, s))
	}
	if len(segs) == 0 {
		return "", false
	}
	if len(segs) > maxDepth {
		segs = append(segs[:maxDepth-1], strings.Join(segs[maxDepth-1:], "_"))
	}
	out := strings.Join(segs, ".")
	return out, len(out) <= maxName
}

// value converts a record value to one the event model keeps.
func value(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return truncate(x, maxValueBytes), true
	case bool, int64, int:
		return x, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64), true
		}
		return x, true
	case []string:
		if len(x) == 0 {
			return nil, false
		}
		out := make([]string, len(x))
		total := 0
		for i, s := range x {
			out[i] = truncate(s, maxValueBytes-total)
			total += len(out[i]) + 3
		}
		return out, true
	case []int64:
		return x, len(x) > 0
	case []float64:
		out := make([]any, len(x))
		for i, f := range x {
			out[i], _ = value(f)
		}
		return out, len(x) > 0
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	}
	return nil, false
}

// values returns a field's values as strings.
func values(v any) []string {
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return nil
		}
		return []string{x}
	case []string:
		out := make([]string, 0, len(x))
		for _, s := range x {
			if strings.TrimSpace(s) != "" {
				out = append(out, s)
			}
		}
		return out
	case int64:
		return []string{strconv.FormatInt(x, 10)}
	case int:
		return []string{strconv.Itoa(x)}
	case float64:
		return []string{strconv.FormatFloat(x, 'g', -1, 64)}
	case bool:
		return []string{strconv.FormatBool(x)}
	case []int64:
		out := make([]string, len(x))
		for i, n := range x {
			out[i] = strconv.FormatInt(n, 10)
		}
		return out
	}
	return nil
}

// first returns the first value of a field as a string, "" if none.
func first(fields map[string]any, name string) string {
	if vs := values(fields[name]); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func truncate(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// eventTime is the record's time, or when it was received when the
// record gives none or one the model cannot hold (kept as lbm.claimed_time).
func eventTime(rec capture.Record, b *builder) string {
	t := rec.Time
	if t.IsZero() {
		t = rec.Received
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		if !rec.Time.IsZero() {
			b.set("lbm.claimed_time", rec.Time.UTC().Format(time.RFC3339Nano))
		}
		t = rec.Received
		if t.IsZero() || t.Year() < 1970 || t.Year() > 2200 {
			t = time.Unix(0, 0)
		}
	}
	return t.UTC().Format(timeLayout)
}

// eventID keeps an input's id within the model's 256 bytes.
func eventID(id string) string {
	if len(id) <= 256 && utf8.ValidString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// builder collects an event's fields by dotted name.
type builder struct {
	out map[string]any
	// objects holds every proper prefix of a name in out ("a" and "a.b"
	// for "a.b.c"): a name that is one, or that has a prefix in out,
	// would be a value and an object at once.
	objects map[string]bool
	dropped int
}

func newBuilder() *builder { return &builder{out: map[string]any{}, objects: map[string]bool{}} }

// set puts a field lbm or the mapping decides; it always fits.
func (b *builder) set(name string, v any) {
	b.out[name] = v
	b.addPrefixes(name)
}

func (b *builder) addPrefixes(name string) {
	for i := range len(name) {
		if name[i] == '.' {
			b.objects[name[:i]] = true
		}
	}
}

// add puts a copied field, unless the name is taken, would clash with a
// field as value and object at once, or the event is full.
func (b *builder) add(name string, v any) {
	if _, taken := b.out[name]; taken || b.objects[name] || len(b.out) >= maxFields {
		b.dropped++
		return
	}
	for i := range len(name) {
		if name[i] == '.' {
			if _, leaf := b.out[name[:i]]; leaf {
				b.dropped++
				return
			}
		}
	}
	b.out[name] = v
	b.addPrefixes(name)
}

func (b *builder) line() ([]byte, error) {
	if b.dropped > 0 {
		b.out["lbm.fields_dropped"] = b.dropped
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b.out); err != nil {
		return nil, err
	}
	line := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(line) > event.MaxLineBytes {
		return nil, fmt.Errorf("the event would be %d bytes, over %d", len(line), event.MaxLineBytes)
	}
	return line, nil
}
