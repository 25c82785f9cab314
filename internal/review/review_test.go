package review

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/requests"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// authorised is a review of sam and tom's record queries (metadata) and
// e-mail (with content) from September to October, authorised at t0.
func authorised() requests.Request {
	return requests.Request{
		ID: "r1", State: requests.Active, Subjects: []string{"sam", "tom"}, Investigators: []string{"ivy"},
		Categories:   []requests.CategoryScope{{Category: "record_query"}, {Category: "email", Content: true}},
		Mode:         consent.ModeReview,
		Window:       &requests.Window{From: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		AuthorisedAt: t0, ExpiresAt: t0.Add(90 * 24 * time.Hour),
	}
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestScopeOf(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(r *requests.Request)
		now    time.Time
		active bool
	}{
		{"in force", func(*requests.Request) {}, t0.Add(time.Hour), true},
		{"before the decision", func(*requests.Request) {}, t0.Add(-time.Second), false},
		{"at expiry", func(*requests.Request) {}, t0.Add(90 * 24 * time.Hour), false},
		{"expired", func(r *requests.Request) { r.State = requests.Expired }, t0.Add(time.Hour), false},
		{"cancelled", func(r *requests.Request) { r.State = requests.Cancelled }, t0.Add(time.Hour), false},
		{"submitted", func(r *requests.Request) { r.State = requests.Submitted }, t0.Add(time.Hour), false},
		{"urgent, lapsed", func(r *requests.Request) { r.RatifyBy = t0.Add(72 * time.Hour) }, t0.Add(72 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := authorised()
			tt.edit(&r)
			s, err := ScopeOf(r, tt.now)
			var ie *InactiveError
			if tt.active != (err == nil) || !tt.active && !errors.As(err, &ie) {
				t.Fatalf("ScopeOf = %+v, %v; want active %v", s, err, tt.active)
			}
		})
	}
	// A live authorisation sees from its decision to now, nothing before.
	live := authorised()
	live.Mode, live.Window = consent.ModeMonitor, nil
	s, err := ScopeOf(live, t0.Add(time.Hour))
	if err != nil || !s.From.Equal(t0) || !s.To.Equal(t0.Add(time.Hour)) {
		t.Errorf("live scope = %v to %v (%v), want t0 to t0+1h", s.From, s.To, err)
	}
}

func TestClip(t *testing.T) {
	s, err := ScopeOf(authorised(), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		f     Filter
		field string // the refused field, "" if allowed
		check func(t *testing.T, q Query)
	}{
		{"the whole scope", Filter{}, "", func(t *testing.T, q Query) {
			if !slices.Equal(q.Subjects, []string{"sam", "tom"}) || !slices.Equal(q.Categories, []string{"email", "record_query"}) ||
				!q.From.Equal(s.From) || !q.To.Equal(s.To) || q.Content != nil {
				t.Errorf("q = %+v", q)
			}
		}},
		{"one subject", Filter{Subjects: []string{"tom"}}, "", func(t *testing.T, q Query) {
			if !slices.Equal(q.Subjects, []string{"tom"}) {
				t.Errorf("subjects = %v", q.Subjects)
			}
		}},
		{"a subject out of scope", Filter{Subjects: []string{"tom", "una"}}, "subjects", nil},
		{"the window's first second", Filter{From: at("2026-09-01T00:00:00Z")}, "", nil},
		{"one second before the window", Filter{From: at("2026-08-31T23:59:59Z")}, "from", nil},
		{"to at the window's end", Filter{To: at("2026-11-01T00:00:00Z")}, "", nil},
		{"one second after the window", Filter{To: at("2026-11-01T00:00:01Z")}, "to", nil},
		{"from at the window's end", Filter{From: at("2026-11-01T00:00:00Z")}, "from", nil},
		{"to at the window's start", Filter{To: at("2026-09-01T00:00:00Z")}, "to", nil},
		{"from after to", Filter{From: at("2026-10-02T00:00:00Z"), To: at("2026-10-01T00:00:00Z")}, "from", nil},
		{"a category out of scope", Filter{Categories: []string{"web"}}, "categories", nil},
		{"content where granted", Filter{Categories: []string{"email"}, Content: true}, "", func(t *testing.T, q Query) {
			if !slices.Equal(q.Content, []string{"email"}) {
				t.Errorf("content = %v", q.Content)
			}
		}},
		{"content under metadata only", Filter{Categories: []string{"record_query"}, Content: true}, "content", nil},
		{"text under metadata only", Filter{Categories: []string{"record_query"}, Text: "smith"}, "text", nil},
		{"text searches only content it may read", Filter{Text: "smith"}, "", func(t *testing.T, q Query) {
			if !slices.Equal(q.Content, []string{"email"}) || q.Text != "smith" {
				t.Errorf("q = %+v", q)
			}
		}},
		{"a source when every source is granted", Filter{Sources: []string{"exchange"}}, "", func(t *testing.T, q Query) {
			if !slices.Equal(q.Sources, []string{"exchange"}) {
				t.Errorf("sources = %v", q.Sources)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Clip(s, tt.f)
			var oe *OutOfScopeError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Clip = %v, want allowed", err)
			case tt.field != "" && (!errors.As(err, &oe) || oe.Field != tt.field):
				t.Fatalf("Clip = %+v, %v; want refused on %s", q, err, tt.field)
			}
			if tt.check != nil {
				tt.check(t, q)
			}
			// Whatever is allowed stays inside the scope.
			if err == nil {
				if q.From.Before(s.From) || q.To.After(s.To) || len(q.Subjects) == 0 || len(q.Categories) == 0 {
					t.Errorf("clipped query leaves the scope: %+v", q)
				}
			}
		})
	}
	// Sources: a scope naming sources refuses any other.
	s.Sources = []string{"exchange"}
	if _, err := Clip(s, Filter{Sources: []string{"pnc"}}); err == nil {
		t.Error("a source outside the scope's sources was allowed")
	}
	if q, err := Clip(s, Filter{}); err != nil || !slices.Equal(q.Sources, []string{"exchange"}) {
		t.Errorf("open sources = %v, %v; want the scope's", q.Sources, err)
	}
}

func field(name, value string) event.Field { return event.Field{Name: name, Value: []byte(value)} }

func TestPseudonyms(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	a := NewPseudonymiser(secret, "r1", []string{"sam", "Sam.Smith@police.example"})
	b := NewPseudonymiser(secret, "r2", []string{"sam"})
	if a.Name("sam") != "sam" || a.Name("sam.smith@police.example") != "sam.smith@police.example" {
		t.Error("a subject was pseudonymised")
	}
	if a.Name("una") == "una" || !strings.HasPrefix(a.Name("una"), "person-") {
		t.Errorf("pseudonym of una = %q", a.Name("una"))
	}
	if a.Name("una") != a.Name(" UNA ") {
		t.Error("one person has two pseudonyms in one authorisation")
	}
	if a.Name("una") == b.Name("una") {
		t.Error("pseudonyms link across two authorisations")
	}
	if a.Name("una") == a.Name("uma") {
		t.Error("two people share a pseudonym")
	}
	if NewPseudonymiser([]byte(strings.Repeat("j", 32)), "r1", nil).Name("una") == a.Name("una") {
		t.Error("the pseudonym does not depend on the secret")
	}

	fs := []event.Field{
		field("user.id", `"sam"`),
		field("related.user", `["sam","una"]`),
		field("email.to.address", `["una.jones@police.example"]`),
		field("email.from.address", `"Sam.Smith@police.example"`),
		field("destination.user.name", `{"not":"a name"}`),
		field("content.body", `"Hi Una"`),
	}
	show := func(content bool) map[string]Shown {
		m := map[string]Shown{}
		for _, f := range a.Fields(fs, content) {
			m[f.Name] = f
		}
		return m
	}
	meta := show(false)
	if _, ok := meta["content.body"]; ok {
		t.Error("content shown under metadata only")
	}
	if _, ok := meta["destination.user.name"]; ok {
		t.Error("a person field that is not an identifier was shown as it is")
	}
	var related []string
	json.Unmarshal(meta["related.user"].Value, &related)
	if len(related) != 2 || related[0] != "sam" || related[1] != a.Name("una") || !meta["related.user"].Pseudonymised {
		t.Errorf("related.user = %s", meta["related.user"].Value)
	}
	if strings.Contains(string(meta["email.to.address"].Value), "una") || meta["email.from.address"].Pseudonymised {
		t.Errorf("e-mail addresses = %s, %s", meta["email.to.address"].Value, meta["email.from.address"].Value)
	}
	if string(meta["user.id"].Value) != `"sam"` {
		t.Errorf("user.id = %s", meta["user.id"].Value)
	}
	if _, ok := show(true)["content.body"]; !ok {
		t.Error("content withheld where granted")
	}
}
