// Package pages renders lbm's web UI: server-side HTML pages built from
// GOV.UK Frontend's components, styled by the stylesheet in
// [github.com/lbm-project/lbm/internal/web/assets].
//
// # Model
//
// Each page is a struct (SignIn, People, Changes, …) that embeds [Layout],
// which carries what every page shows around its content: the title, who is
// signed in and in which role, the navigation for that role, form errors and
// a success notice. A handler fills one struct and calls [Render]:
//
//	pages.Render(w, http.StatusOK, pages.People{
//		Layout: pages.Layout{Title: "People", Person: "Sam Patel", Role: "Administrator", Nav: nav},
//		Query:  q,
//		Rows:   rows,
//	})
//
// The structs hold display strings: formatting dates, names and states is
// the handler's job, so the templates hold no logic beyond showing or hiding.
//
// # Forms and errors
//
// A form that failed validation is shown again with [Layout.Errors] set. Each
// [FieldError] names the id of its input: the error summary at the top of
// the page links to it, the input's form group is marked as in error and
// shows the message, and the page title starts "Error: ", as the GOV.UK
// Design System's error pattern asks. Every form POSTs to a fixed path;
// fields keep the names documented on each page.
//
// # Security
//
// Templates are html/template, so every value is escaped for where it lands
// (text, attribute, URL), and a link to a javascript: URL is defused. Pages
// carry no inline script, no style attribute and no style element, so they
// work under a Content Security Policy of default-src 'self' with no
// 'unsafe-inline'. The only script is the module /assets/init.js, and every
// page works without it.
//
// No page carries the crown, the GOV.UK logotype or the GDS Transport
// typeface, which are reserved for GOV.UK itself.
package pages

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// Page is one of the page types below. Both a page struct and a pointer to
// one are Pages.
type Page interface {
	template() string
	layout() *Layout
}

// Layout is what every page shows around its content. Each page struct
// embeds it.
type Layout struct {
	Title  string       // page <title> is Title + " – lbm"
	Person string       // signed-in person's display name; "" when signed out
	Role   string       // the role's title ("Administrator") the session acts in
	Roles  []Option     // the person's other roles, for a "switch role" form (POST /session/role, field "role"); empty hides it
	Nav    []NavItem    // navigation for the role; shown in the header's service navigation
	Errors []FieldError // GOV.UK error summary at the top of main when not empty, and "Error: " prefixed <title>
	Notice string       // a success notification banner when not empty
	// Inbox shows, for a signed-in person, the header link "Inbox (Unread)"
	// to /inbox.
	Inbox  bool
	Unread int
}

func (l Layout) layout() *Layout { return &l }

// NavItem is one link of the service navigation. Current marks the section
// the page belongs to.
type NavItem struct {
	Label, Href string
	Current     bool
}

// FieldError is one problem with a submitted form. Field is the id of the
// input, linked as #Field from the error summary; the input shows
// govuk-form-group--error and the message inline.
type FieldError struct{ Field, Message string }

// Option is one choice of a select, a checkbox group or a radio group. Hint,
// when set, is shown under the label of a checkbox or radio.
type Option struct {
	Value, Label string
	Selected     bool
	Hint         string
}

// Card is one entry of the home page: a link and what it is for.
type Card struct {
	Title, Href, Text string
	// Warning, when set, is shown prominently (a red tag) under the text:
	// something on that page is overdue.
	Warning string
}

// SignIn asks for a username and password (POST /sign-in with "username",
// "password" and "next"). When OIDC is set it also offers signing in with
// the organisation's identity provider at /sign-in/oidc?next=Next.
type SignIn struct {
	Layout
	Username string
	OIDC     bool
	Next     string
}

// StepUp asks a signed-in person for a fresh one-time code before something
// sensitive (POST /step-up with "code" and "next").
type StepUp struct {
	Layout
	Next string
}

// Setup is the one-time set-up link at /setup/{Token}: one form (POST
// /setup/{Token} with "password", "confirm" and "code") sets the password
// and the second factor together, showing the authenticator Secret and its
// otpauth URI.
type Setup struct {
	Layout
	Token   string
	Account string // the person's id, for password managers
	Secret  string // base32, shown in groups of four (any spaces in it are ignored)
	URI     string // otpauth:// URI, shown as text; "" hides it
}

// Home is a role's home page: what the role is for, and links to its tasks.
type Home struct {
	Layout
	Cards []Card
	Me    *PersonView // the signed-in person's own directory entry; nil hides it
}

// People lists people for administrators, with a search (GET /people?q=).
// Next, when set, is the URL of the next page; Total is the number of people
// matching Query.
type People struct {
	Layout
	Query string
	Rows  []PersonRow
	Next  string
	Total int
}

// PersonRow is one row of [People]. Status is "Active" or, for a leaver,
// something like "Left on 2 March 2026", shown grey.
type PersonRow struct {
	ID, Name, Number, Unit, RankOrGrade, Roles, Status string
}

// Person shows one person and the changes proposed to them. CanPropose
// offers the "Propose a change" link to /people/{ID}/change.
type Person struct {
	Layout
	P          PersonView
	Changes    []ChangeRow
	CanPropose bool
}

// PersonView is a person as shown to administrators. Empty fields are shown
// as "None". Emails is the e-mail addresses joined with ", ". Version is
// the record's version, sent back with a proposed change so that a change
// to a record edited meanwhile is refused.
type PersonView struct {
	ID, Name, Number, Unit, Manager     string
	Rank, Grade, Roles, Adviser, Status string
	Version                             string
	Emails, Username                    string
}

// ProposeChange is the form for proposing a change to a person's roles and
// adviser (POST /people/{ID}/change with "roles" (repeated), "adviser",
// "reason" and "version"). Advisers should include a "None" option with
// Value "". Rank is not offered: it comes only from the HR import or the
// identity provider.
type ProposeChange struct {
	Layout
	P           PersonView
	RoleOptions []Option // checkboxes; not Layout.Roles, the viewer's own roles
	Advisers    []Option
	Reason      string
}

// Changes is the dual-control queue: changes waiting for a second
// administrator (each with POST /changes/{ID}/approve and
// POST /changes/{ID}/reject), and those already decided.
type Changes struct {
	Layout
	Pending []ChangeRow
	Decided []ChangeRow
}

// ChangeRow is one proposed change. CanDecide is false when the viewer
// proposed it: nobody decides their own change.
type ChangeRow struct {
	ID, Target, TargetHref, Summary, Reason         string
	ProposedBy, Proposed, State, DecidedBy, Decided string
	CanDecide                                       bool
}

// Message is a page with a heading and some text: errors (403, 404, 500)
// and plain messages. Blank lines in Body separate paragraphs. An empty
// Heading is taken from Status.
type Message struct {
	Layout
	Heading string
	Body    string
	Status  int
}

func (SignIn) template() string        { return "sign-in.html" }
func (StepUp) template() string        { return "step-up.html" }
func (Setup) template() string         { return "setup.html" }
func (Home) template() string          { return "home.html" }
func (People) template() string        { return "people.html" }
func (Person) template() string        { return "person.html" }
func (ProposeChange) template() string { return "propose-change.html" }
func (Changes) template() string       { return "changes.html" }
func (Message) template() string       { return "message.html" }
func (OversightLog) template() string  { return "oversight-log.html" }
func (Catalogue) template() string     { return "catalogue.html" }

// Catalogue is a public page listing one catalogue: the lawful purposes,
// the legislation register or the proportionality criteria.
type Catalogue struct {
	Layout
	Heading string
	Intro   []string // paragraphs
	Items   []CatalogueItem
}

// CatalogueItem is one entry; its ID is also the card's anchor.
type CatalogueItem struct {
	ID, Title, Explanation, Reference string
	Question                          string   // criteria only
	Verify                            bool     // shows "To be verified" by the reference
	Limits                            []string // e.g. "Monitor only: never record."
}

// OversightLog lists the latest leaves of the oversight log, newest first:
// what the monitors and administrators did, with changes made offline
// (break-glass) marked.
type OversightLog struct {
	Layout
	Rows  []OversightRow
	Older string // link to the next older page; "" when none
	Size  uint64 // entries in the log
}

// OversightRow is one oversight-log leaf.
type OversightRow struct {
	Index      string
	Time       string
	Actor      string
	Action     string
	BreakGlass bool
	Details    []string // "name: value", in name order
}

var funcs = template.FuncMap{
	// errorFor is the message for the input with the given id, or "".
	"errorFor": func(errs []FieldError, field string) string {
		for _, e := range errs {
			if e.Field == field {
				return e.Message
			}
		}
		return ""
	},
	// optionID is the id of the i-th checkbox or radio of a group: the
	// first has the group's name as its id, so that the error summary's
	// #name link lands on it.
	"optionID": func(name string, i int) string {
		if i == 0 {
			return name
		}
		return fmt.Sprintf("%s-%d", name, i+1)
	},
	// group4 spaces a secret into groups of four characters for reading,
	// whatever spacing it came with.
	"group4": func(s string) string {
		var b strings.Builder
		for i, r := range []rune(strings.Join(strings.Fields(s), "")) {
			if i > 0 && i%4 == 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
		return b.String()
	},
	// paragraphs splits text at blank lines.
	"paragraphs": func(s string) []string {
		var ps []string
		for p := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				ps = append(ps, p)
			}
		}
		return ps
	},
	"statusHeading": statusHeading,
	"changeTable": func(rows []ChangeRow, target bool) changeTable {
		return changeTable{rows, target}
	},
	"textarea": newTextarea,
	"versions": func(label, current string, rows []VersionRow) versionsTable {
		return versionsTable{Label: label, Current: current, Rows: rows}
	},
	"choices": newChoices,
}

// choices is the argument of the "choices" template: a GOV.UK group of
// checkboxes or radios in a fieldset, with its hint and error.
type choices struct {
	Type, Module              string // "checkbox" and "checkboxes", or "radio" and "radios"
	Name, Legend, Hint, Error string
	Options                   []Option
}

// newChoices builds a choices' argument: kind "checkbox" or "radio", the
// inputs' name (the first input's id, for the error summary's link), the
// legend, hint, options and error message.
func newChoices(kind, name, legend, hint string, opts []Option, err string) (choices, error) {
	c := choices{Type: kind, Name: name, Legend: legend, Hint: hint, Options: opts, Error: err}
	switch kind {
	case "checkbox":
		c.Module = "checkboxes"
	case "radio":
		c.Module = "radios"
	default:
		return c, fmt.Errorf("choices %s: unknown kind %q", name, kind)
	}
	return c, nil
}

// textarea is the argument of the "textarea" template: one labelled
// textarea in a GOV.UK form group, with its hint and error.
type textarea struct {
	ID, Label, Hint, Value, Error string
	Rows                          int
	Small                         bool // a small label, for a form's only or last field
	Code                          bool // a file to edit: monospace intent, no spellcheck or capitals
	Required, Narrow              bool // Narrow: not the full width of the column
}

// newTextarea builds a textarea's argument: its id (also its name), label,
// hint, rows, value and error message, then any of the flags "small",
// "code", "required" and "narrow".
func newTextarea(id, label, hint string, rows int, value, err string, flags ...string) (textarea, error) {
	t := textarea{ID: id, Label: label, Hint: hint, Rows: rows, Value: value, Error: err}
	for _, f := range flags {
		switch f {
		case "small":
			t.Small = true
		case "code":
			t.Code = true
		case "required":
			t.Required = true
		case "narrow":
			t.Narrow = true
		default:
			return t, fmt.Errorf("textarea %s: unknown flag %q", id, f)
		}
	}
	return t, nil
}

// changeTable is the argument of the "change-table" template: the rows, and
// whether to name the person each change is to (not on that person's page).
type changeTable struct {
	Rows   []ChangeRow
	Target bool
}

// statusHeading is the heading of a [Message] that has none.
func statusHeading(status int) string {
	switch status {
	case http.StatusForbidden:
		return "You cannot see this page"
	case http.StatusNotFound:
		return "Page not found"
	case 0, http.StatusOK:
		return ""
	}
	if status >= 500 {
		return "Sorry, there is a problem with the service"
	}
	return http.StatusText(status)
}

// templates holds one template set per page: the layout and the shared
// partials, with that page's "main" block (and, optionally, its "title"). They are parsed once, at start-up, so that a broken template
// stops the program (and its tests) rather than a request.
var templates = mustParse(templateFS)

func mustParse(fsys fs.FS) map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/partials.html"))
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		panic(err)
	}
	ts := make(map[string]*template.Template)
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		t := template.Must(template.Must(layout.Clone()).ParseFS(fsys, name))
		ts[base] = t
	}
	return ts
}

// Render writes p with status, buffered so that a template error never
// leaves half a page: then it writes a plain 500 and returns the error for
// the caller to log. A status of 0 means p's own: a [Message]'s Status, or
// 200.
//
// Render sets Content-Type text/html; charset=utf-8 and, unless the caller
// set Cache-Control, "no-store", since pages show people and their roles.
func Render(w http.ResponseWriter, status int, p Page) error {
	if status == 0 {
		status = http.StatusOK
		if m, ok := p.(Message); ok && m.Status != 0 {
			status = m.Status
		} else if m, ok := p.(*Message); ok && m.Status != 0 {
			status = m.Status
		}
	}
	var buf bytes.Buffer
	if err := execute(&buf, p); err != nil {
		http.Error(w, "Sorry, there is a problem with the service.", http.StatusInternalServerError)
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// execute renders p into buf.
func execute(buf *bytes.Buffer, p Page) error {
	t, ok := templates[p.template()]
	if !ok {
		return fmt.Errorf("rendering page: no template %q", p.template())
	}
	if err := t.ExecuteTemplate(buf, "layout.html", p); err != nil {
		return fmt.Errorf("rendering %s: %v", p.template(), err)
	}
	return nil
}

// versionsTable is what the "versions" template shows: the rows, which of
// them is in force, and the table's accessible name.
type versionsTable struct {
	Label, Current string
	Rows           []VersionRow
}
