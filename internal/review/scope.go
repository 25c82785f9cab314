// Package review is what an investigator may see of monitored data under
// an authorisation (DESIGN.md "The flows" 4; issue 7): the scope a
// request in force grants ([ScopeOf]), every query checked and clipped to
// it ([Clip]: what a filter names outside the scope is refused, never
// quietly narrowed), the other people in the data replaced by pseudonyms
// that never link across authorisations ([Pseudonymiser]), and
// [Service.Query], which runs the clipped query on the store, opens only
// the content the scope grants, and writes the access record to the
// oversight log before it returns anything, failing if it cannot. Every
// attempt outside an authorisation in force is refused and recorded.
// ScopeOf, Clip and the Pseudonymiser are pure.
package review

import (
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/requests"
)

// Scope is what an authorisation in force lets its investigators see:
// whose events, of which categories (each with or without content), from
// which sources, in which stretch of time.
type Scope struct {
	Request  string   // the request's id
	Subjects []string // person ids: events whose user.id or related.user names one
	// Content says, for each category in scope, whether its content is.
	Content map[string]bool
	Sources []string // source ids; empty means every source
	// From and To bound the events' times, From inclusive, To exclusive:
	// the review window, or for live modes the authorisation's life.
	From, To time.Time
	// Investigators are the people who may use it.
	Investigators []string
}

// InactiveError is a query under a request that authorises nothing now:
// not authorised, expired, cancelled, or not yet in force.
type InactiveError struct {
	Request string
	State   requests.State
}

func (e *InactiveError) Error() string {
	return fmt.Sprintf("request %s authorises nothing now (it is %s)", e.Request, e.State)
}

// ScopeOf returns the scope r grants at now, or an *InactiveError when r
// is not in force at now ([requests.Request.Active] decides, reading the
// expiry, not the state).
func ScopeOf(r requests.Request, now time.Time) (Scope, error) {
	if !r.Active(now) {
		return Scope{}, &InactiveError{Request: r.ID, State: r.State}
	}
	s := Scope{Request: r.ID, Subjects: slices.Clone(r.Subjects), Content: map[string]bool{},
		Sources: slices.Clone(r.Sources), Investigators: slices.Clone(r.Investigators)}
	for _, c := range r.Categories {
		s.Content[c.Category] = s.Content[c.Category] || c.Content
	}
	if r.Live() || r.Window == nil {
		// Live modes see what happens while the authorisation is in force,
		// and nothing before it.
		s.From, s.To = r.AuthorisedAt, now
	} else {
		s.From, s.To = r.Window.From, r.Window.To
	}
	return s, nil
}

// Filter is what an investigator asks for within a scope. Every field is
// optional; what is left out is the whole scope.
type Filter struct {
	Subjects   []string   `json:"subjects,omitempty"`
	From       *time.Time `json:"from,omitempty"`
	To         *time.Time `json:"to,omitempty"`
	Categories []string   `json:"categories,omitempty"`
	Sources    []string   `json:"sources,omitempty"`
	Actions    []string   `json:"actions,omitempty"`
	// Content asks for content fields as well as metadata.
	Content bool `json:"content,omitempty"`
	// Text searches the content of the events in scope.
	Text string `json:"text,omitempty"`
}

// OutOfScopeError is a filter that explicitly asks for something the
// scope does not grant: it is refused, and recorded as a refused attempt,
// never silently narrowed.
type OutOfScopeError struct {
	Field string // the filter's field: subjects, from, to, categories, sources, content, text
	Msg   string
}

func (e *OutOfScopeError) Error() string { return "out of scope: " + e.Field + ": " + e.Msg }

// Query is a filter clipped to a scope: what the store is asked for, and
// nothing outside the scope can match it.
type Query struct {
	Subjects   []string
	From, To   time.Time // From inclusive, To exclusive
	Categories []string  // sorted; never empty
	Sources    []string  // empty means every source in scope (the scope has none)
	Actions    []string
	// Content lists the categories whose content is shown; a category
	// not in it is shown as metadata only.
	Content []string
	Text    string
}

func outOfScope(field, format string, args ...any) error {
	return &OutOfScopeError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Clip checks f against s and returns the query to run: everything f
// leaves open is the whole scope, everything it names must be inside it.
// One second outside the window is outside. Content is shown only for
// categories whose content s grants, and asking for content (or a text
// search, which reads content) where no category in the query grants it
// is refused.
func Clip(s Scope, f Filter) (Query, error) {
	q := Query{Subjects: slices.Clone(s.Subjects), From: s.From, To: s.To, Actions: slices.Clone(f.Actions), Text: f.Text}
	if len(f.Subjects) > 0 {
		for _, id := range f.Subjects {
			if !slices.Contains(s.Subjects, id) {
				return Query{}, outOfScope("subjects", "%q is not a subject of this authorisation", id)
			}
		}
		q.Subjects = slices.Clone(f.Subjects)
	}
	slices.Sort(q.Subjects)
	q.Subjects = slices.Compact(q.Subjects)
	if f.From != nil {
		if f.From.Before(s.From) || !f.From.Before(s.To) {
			return Query{}, outOfScope("from", "%s is outside the authorised period %s to %s", stamp(*f.From), stamp(s.From), stamp(s.To))
		}
		q.From = f.From.UTC()
	}
	if f.To != nil {
		if f.To.After(s.To) || !f.To.After(s.From) {
			return Query{}, outOfScope("to", "%s is outside the authorised period %s to %s", stamp(*f.To), stamp(s.From), stamp(s.To))
		}
		q.To = f.To.UTC()
	}
	if !q.From.Before(q.To) {
		return Query{}, outOfScope("from", "from %s is not before to %s", stamp(q.From), stamp(q.To))
	}
	for c := range s.Content {
		q.Categories = append(q.Categories, c)
	}
	if len(f.Categories) > 0 {
		for _, c := range f.Categories {
			if _, ok := s.Content[c]; !ok {
				return Query{}, outOfScope("categories", "category %q is not authorised", c)
			}
		}
		q.Categories = slices.Clone(f.Categories)
	}
	slices.Sort(q.Categories)
	q.Categories = slices.Compact(q.Categories)
	if len(f.Sources) > 0 {
		for _, src := range f.Sources {
			if len(s.Sources) > 0 && !slices.Contains(s.Sources, src) {
				return Query{}, outOfScope("sources", "source %q is not authorised", src)
			}
		}
		q.Sources = slices.Clone(f.Sources)
	} else {
		q.Sources = slices.Clone(s.Sources)
	}
	for _, c := range q.Categories {
		if s.Content[c] {
			q.Content = append(q.Content, c)
		}
	}
	switch {
	case f.Content && len(q.Content) == 0:
		return Query{}, outOfScope("content", "this authorisation covers metadata only for %v", q.Categories)
	case f.Text != "" && len(q.Content) == 0:
		return Query{}, outOfScope("text", "searching text reads content, which this authorisation does not cover for %v", q.Categories)
	}
	if !f.Content && f.Text == "" {
		q.Content = nil
	}
	return q, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
