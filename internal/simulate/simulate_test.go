package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
)

// configs cover the default run, a longer multi-day run, a window that does
// not start at midnight, a fixed event rate and a tiny force.
var configs = []struct {
	name string
	cfg  Config
}{
	{"default", Config{}},
	{"week", Config{People: 150, Days: 7, Seed: 42}},
	{"midday start", Config{People: 50, Days: 2, Start: time.Date(2027, 3, 9, 12, 34, 56, 0, time.UTC), Seed: 7}},
	{"fixed rate", Config{People: 80, Days: 3, EventsPerPersonDay: 10}},
	{"one person", Config{People: 1, Days: 9}},
}

func generate(t testing.TB, cfg Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := Generate(&buf, cfg)
	if err != nil {
		t.Fatalf("Generate(%+v) error = %v", cfg, err)
	}
	if got := bytes.Count(buf.Bytes(), []byte("\n")); got != n {
		t.Fatalf("Generate(%+v) = %d, but wrote %d lines", cfg, n, got)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			a, b := generate(t, tc.cfg), generate(t, tc.cfg)
			if !bytes.Equal(a, b) {
				t.Errorf("Generate(%+v) twice gave different output", tc.cfg)
			}
			other, _ := tc.cfg.withDefaults()
			other.Seed++
			if c := generate(t, other); bytes.Equal(a, c) {
				t.Errorf("Generate with seeds %d and %d gave identical output", tc.cfg.Seed, other.Seed)
			}
		})
	}
}

var eventIDRE = regexp.MustCompile(`"id":"sim-[0-9-]+",`)

// TestWindowIndependent checks that a day's events are the same whatever
// window they are generated in, apart from event.id, which numbers lines.
func TestWindowIndependent(t *testing.T) {
	day := DefaultStart
	tests := []struct {
		name string
		cfg  Config
	}{
		{"longer window", Config{Days: 3}},
		{"earlier start", Config{Start: day.Add(-24 * time.Hour), Days: 2}},
		{"midday start", Config{Start: day.Add(-12 * time.Hour), Days: 2}},
	}
	want := strings.Join(linesIn(t, Config{}, day, day.Add(24*time.Hour)), "\n")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(linesIn(t, tc.cfg, day, day.Add(24*time.Hour)), "\n")
			if got != want {
				t.Errorf("Generate(%+v) on %v differs from Generate(Config{})", tc.cfg, day)
			}
		})
	}
}

// linesIn returns cfg's lines in [from, to) without their event ids.
func linesIn(t *testing.T, cfg Config, from, to time.Time) []string {
	t.Helper()
	lines, err := Events(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		var e wireEvent
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		ts, err := time.Parse(time.RFC3339Nano, e.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		if !ts.Before(from) && ts.Before(to) {
			out = append(out, eventIDRE.ReplaceAllString(string(l), ""))
		}
	}
	if len(out) == 0 {
		t.Fatalf("Events(%+v) has nothing in [%v, %v)", cfg, from, to)
	}
	return out
}

func TestEventsMatchesGenerate(t *testing.T) {
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			want := generate(t, tc.cfg)
			lines, err := Events(tc.cfg)
			if err != nil {
				t.Fatalf("Events(%+v) error = %v", tc.cfg, err)
			}
			var got []byte
			for _, l := range lines {
				got = append(append(got, l...), '\n')
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Events(%+v) differs from Generate output (%d vs %d bytes)", tc.cfg, len(got), len(want))
			}
		})
	}
}

func TestPeople(t *testing.T) {
	tests := []struct {
		cfg  Config
		want int
	}{
		{Config{}, 100},
		{Config{People: 1}, 1},
		{Config{People: 2500}, 2500},
	}
	idRE := regexp.MustCompile(`^u[0-9]{5}$`)
	emailRE := regexp.MustCompile(`^[a-z]+\.[a-z]+[0-9]*@police\.example$`)
	loginRE := regexp.MustCompile(`^[a-z]+[0-9]*$`)
	for _, tc := range tests {
		ps := People(tc.cfg)
		if len(ps) != tc.want {
			t.Errorf("len(People(%+v)) = %d, want %d", tc.cfg, len(ps), tc.want)
		}
		constables := 0
		// The directory refuses an address or login two people share.
		emails, logins := map[string]bool{}, map[string]bool{}
		for i, p := range ps {
			if !emailRE.MatchString(p.Email) || emails[p.Email] {
				t.Errorf("People(%+v)[%d].Email = %q, want a unique lower-case address", tc.cfg, i, p.Email)
			}
			if !loginRE.MatchString(p.Username) || logins[p.Username] {
				t.Errorf("People(%+v)[%d].Username = %q, want a unique lower-case login", tc.cfg, i, p.Username)
			}
			emails[p.Email], logins[p.Username] = true, true
			if want := fmt.Sprintf("u%05d", i+1); p.ID != want || !idRE.MatchString(p.ID) {
				t.Errorf("People(%+v)[%d].ID = %q, want %q", tc.cfg, i, p.ID, want)
			}
			if p.Name == "" || p.Unit == "" || p.Rank == "" {
				t.Errorf("People(%+v)[%d] = %+v, want name, unit and rank set", tc.cfg, i, p)
			}
			if p.Rank == "constable" {
				constables++
			}
		}
		if len(ps) >= 100 && constables*2 < len(ps) {
			t.Errorf("People(%+v) has %d constables of %d, want most", tc.cfg, constables, len(ps))
		}
	}
	if People(Config{People: -1}) != nil {
		t.Errorf("People(People: -1) = non-nil, want nil")
	}
}

func TestInvalidConfig(t *testing.T) {
	for _, cfg := range []Config{{People: -1}, {Days: -1}, {EventsPerPersonDay: -5}} {
		if n, err := Generate(io.Discard, cfg); err == nil {
			t.Errorf("Generate(%+v) = %d, nil, want an error", cfg, n)
		}
		if _, err := Events(cfg); err == nil {
			t.Errorf("Events(%+v) error = nil, want an error", cfg)
		}
	}
}

// wireEvent is the part of a line every event must have.
type wireEvent struct {
	Timestamp string `json:"@timestamp"`
	Event     struct {
		ID       string `json:"id"`
		Category string `json:"category"`
		Action   string `json:"action"`
		Outcome  string `json:"outcome"`
	} `json:"event"`
	User struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
	Host struct {
		Name string `json:"name"`
	} `json:"host"`
}

var actions = map[string][]string{
	"authentication": {"logon", "logoff"},
	"record_query":   {"pnc_person_search", "pnc_vehicle_search", "niche_record_view", "niche_person_search", "pnd_search", "niche_export"},
	"email":          {"send", "receive"},
	"web":            {"browse"},
	"file":           {"open", "write", "print"},
	"device":         {"usb_insert"},
	"telephony":      {"call"},
}

// flatten returns the dotted names of obj's leaves.
func flatten(prefix string, obj map[string]any, out map[string]any) {
	for k, v := range obj {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok {
			flatten(name, m, out)
			continue
		}
		out[name] = v
	}
}

func TestLines(t *testing.T) {
	hostRE := regexp.MustCompile(`^ws-[0-9]{4}$`)
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := tc.cfg.withDefaults()
			out := generate(t, tc.cfg)
			ids := map[string]bool{}
			seenCat := map[string]bool{}
			for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
				var e wireEvent
				if err := json.Unmarshal(line, &e); err != nil {
					t.Fatalf("line %d: json.Unmarshal = %v, want nil\n%s", i+1, err, line)
				}
				// The line must also be what lbm's server accepts.
				if _, err := event.Parse(line, "sim"); err != nil {
					t.Fatalf("line %d: event.Parse = %v, want nil\n%s", i+1, err, line)
				}
				if want := fmt.Sprintf("sim-%d-%d", cfg.Seed, i+1); e.Event.ID != want {
					t.Errorf("line %d: event.id = %q, want %q", i+1, e.Event.ID, want)
				}
				ids[e.Event.ID] = true
				if !slices.Contains(actions[e.Event.Category], e.Event.Action) {
					t.Errorf("line %d: category/action = %s/%s, want one of %v", i+1, e.Event.Category, e.Event.Action, actions)
				}
				seenCat[e.Event.Category] = true
				if e.Event.Outcome != "success" && e.Event.Outcome != "failure" {
					t.Errorf("line %d: event.outcome = %q, want success or failure", i+1, e.Event.Outcome)
				}
				if e.User.ID == "" || e.User.Name == "" || !hostRE.MatchString(e.Host.Name) {
					t.Errorf("line %d: user/host = %+v %+v, want user id, name and ws-NNNN", i+1, e.User, e.Host)
				}
				checkFields(t, i+1, line, e.Event.Category)
			}
			if len(ids) != bytes.Count(out, []byte("\n")) {
				t.Errorf("%d distinct event ids in %d lines, want all distinct", len(ids), bytes.Count(out, []byte("\n")))
			}
			if tc.cfg.People >= 100 || tc.cfg.People == 0 {
				for c := range actions {
					if !seenCat[c] {
						t.Errorf("no %s event in Generate(%+v)", c, tc.cfg)
					}
				}
			}
		})
	}
}

// required lists the metadata each category must carry, by dotted name.
var required = map[string][]string{
	"authentication": {},
	"record_query":   {"record.system", "record.type", "content.query"},
	"email":          {"email.from.address", "email.to.address", "email.message_id", "content.subject", "content.body"},
	"web":            {"url.domain", "url.path", "http.response.status_code"},
	"file":           {"file.name", "file.path"},
	"device":         {"device.vendor", "device.model"},
	"telephony":      {"telephony.direction", "telephony.duration_s"},
}

func checkFields(t *testing.T, n int, line []byte, category string) {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(line, &obj); err != nil {
		t.Fatalf("line %d: %v", n, err)
	}
	fields := map[string]any{}
	flatten("", obj, fields)
	for _, name := range required[category] {
		if _, ok := fields[name]; !ok {
			t.Errorf("line %d: %s event has no %s\n%s", n, category, name, line)
		}
	}
	for name, v := range fields {
		if name == "source.id" || strings.HasPrefix(name, "source.") {
			t.Errorf("line %d: has %s, which the server sets", n, name)
		}
		// Content lives only under the top-level "content" object.
		if strings.Contains(name, "content") && !strings.HasPrefix(name, "content.") {
			t.Errorf("line %d: field %s looks like content outside \"content\"", n, name)
		}
		if _, nested := obj["content"]; !nested && strings.HasPrefix(name, "content.") {
			t.Errorf("line %d: %s written dotted, want nested under \"content\"", n, name)
		}
		if name == "related.user" {
			arr, ok := v.([]any)
			if !ok || len(arr) == 0 {
				t.Errorf("line %d: related.user = %v, want a non-empty array", n, v)
			}
			user := fields["user.id"]
			for _, u := range arr {
				if s, ok := u.(string); !ok || s == "" || s == user {
					t.Errorf("line %d: related.user holds %v, want other staff ids", n, u)
				}
			}
		}
	}
	switch category {
	case "email":
		if to, ok := fields["email.to.address"].([]any); !ok || len(to) == 0 {
			t.Errorf("line %d: email.to.address = %v, want a non-empty array", n, fields["email.to.address"])
		}
		body, _ := fields["content.body"].(string)
		if len(body) < 150 || len(body) > 350 {
			t.Errorf("line %d: len(content.body) = %d, want 150-350\n%s", n, len(body), body)
		}
	case "web":
		if _, ok := fields["http.response.status_code"].(float64); !ok {
			t.Errorf("line %d: http.response.status_code = %v, want a number", n, fields["http.response.status_code"])
		}
		if _, dotted := obj["url.domain"]; !dotted {
			t.Errorf("line %d: web fields nested, want dotted to exercise both forms", n)
		}
	case "telephony":
		if _, ok := fields["telephony.duration_s"].(float64); !ok {
			t.Errorf("line %d: telephony.duration_s = %v, want a number", n, fields["telephony.duration_s"])
		}
		if d := fields["telephony.direction"]; d != "inbound" && d != "outbound" {
			t.Errorf("line %d: telephony.direction = %v, want inbound or outbound", n, d)
		}
	}
}

func TestTimes(t *testing.T) {
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := tc.cfg.withDefaults()
			people := makePeople(cfg)
			byID := map[string]*person{}
			for i := range people {
				byID[people[i].ID] = &people[i]
			}
			lines, err := Events(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			winEnd := cfg.Start.Add(time.Duration(cfg.Days) * 24 * time.Hour)
			perShift := map[string]int{}
			var prev time.Time
			for i, line := range lines {
				var e wireEvent
				if err := json.Unmarshal(line, &e); err != nil {
					t.Fatal(err)
				}
				if len(e.Timestamp) != len("2026-11-02T08:03:11.123Z") || !strings.HasSuffix(e.Timestamp, "Z") {
					t.Errorf("line %d: @timestamp = %q, want RFC 3339 UTC with milliseconds", i+1, e.Timestamp)
				}
				ts, err := time.Parse(time.RFC3339Nano, e.Timestamp)
				if err != nil {
					t.Fatalf("line %d: time.Parse(%q) = %v", i+1, e.Timestamp, err)
				}
				if ts.Before(prev) {
					t.Errorf("line %d: @timestamp %v before previous %v", i+1, ts, prev)
				}
				prev = ts
				if ts.Before(cfg.Start) || !ts.Before(winEnd) {
					t.Errorf("line %d: @timestamp %v outside [%v, %v)", i+1, ts, cfg.Start, winEnd)
				}
				p := byID[e.User.ID]
				if p == nil {
					t.Fatalf("line %d: user.id %q not in People", i+1, e.User.ID)
				}
				start, end, ok := p.shiftAt(ts.UnixMilli())
				if !ok {
					t.Errorf("line %d: %s at %v while off duty", i+1, e.User.ID, ts)
					continue
				}
				h := time.UnixMilli(start).UTC().Hour()
				if (h != 7 && h != 15 && h != 23) || end-start != 8*3600*1000 {
					t.Errorf("line %d: shift %v-%v, want an 8-hour shift starting 07, 15 or 23", i+1, time.UnixMilli(start), time.UnixMilli(end))
				}
				if e.Event.Action == "logon" && ts.Sub(time.UnixMilli(start)) > 6*time.Minute {
					t.Errorf("line %d: logon at %v, want within minutes of shift start %v", i+1, ts, time.UnixMilli(start).UTC())
				}
				if start >= cfg.Start.UnixMilli() && end <= winEnd.UnixMilli() {
					perShift[fmt.Sprint(e.User.ID, start)]++
				}
			}
			if cfg.EventsPerPersonDay > 0 {
				for k, n := range perShift {
					if n != cfg.EventsPerPersonDay {
						t.Errorf("shift %s has %d events, want EventsPerPersonDay = %d", k, n, cfg.EventsPerPersonDay)
					}
				}
			}
		})
	}
}

// TestRota checks the 4-on-4-off pattern and that a person never works two
// shifts at once.
func TestRota(t *testing.T) {
	people := makePeople(Config{People: 500, Seed: 3})
	onToday := 0
	for i := range people {
		p := &people[i]
		for day := int64(20000); day < 20000+64; day++ {
			on := 0
			for d := day; d < day+rotaCycle; d++ {
				if _, ok := p.shiftOn(d); ok {
					on++
				}
			}
			if on != rotaOn {
				t.Fatalf("%s works %d of the 8 days from day %d, want %d", p.ID, on, day, rotaOn)
			}
		}
		if _, ok := p.shiftOn(20000); ok {
			onToday++
		}
	}
	// Staggered offsets keep roughly half the force on duty every day.
	if onToday < 150 || onToday > 350 {
		t.Errorf("%d of 500 on duty on one day, want about half", onToday)
	}
}

func TestNaturalRate(t *testing.T) {
	cfg := Config{People: 400, Days: 8}
	n, err := Generate(io.Discard, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Half the force is on a rest day at any time.
	perShift := float64(n) / float64(cfg.People*cfg.Days) * 2
	if perShift < 40 || perShift > 120 {
		t.Errorf("Generate(%+v) = %d events, %.1f per shift, want 40-120", cfg, n, perShift)
	}
}

func TestMeanLineSize(t *testing.T) {
	for _, cfg := range []Config{{}, {People: 1000, Days: 4, Seed: 9}} {
		out := generate(t, cfg)
		n := bytes.Count(out, []byte("\n"))
		mean := float64(len(out)-n) / float64(n)
		t.Logf("Generate(%+v): %d events, mean line %.1f bytes", cfg, n, mean)
		if mean < 400 || mean > 650 {
			t.Errorf("Generate(%+v) mean line = %.1f bytes, want 400-650 (about 512)", cfg, mean)
		}
	}
}

// BenchmarkGenerate reports the cost of one event; about a million events
// are generated per iteration.
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{People: 2500, Days: 10}
	var events, size int
	for b.Loop() {
		var cw countWriter
		n, err := Generate(&cw, cfg)
		if err != nil {
			b.Fatal(err)
		}
		events += n
		size = int(cw)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.SetBytes(int64(size))
}

func BenchmarkEvents(b *testing.B) {
	cfg := Config{People: 2500, Days: 10}
	for b.Loop() {
		if _, err := Events(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
