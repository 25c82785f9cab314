package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/safetext"
)

// typePrefix starts every lbm problem type (docs/contract.md, "HTTP"):
// urn:lbm:problem:validation, …:rank-too-low and so on.
const typePrefix = "urn:lbm:problem:"

// Sentinels a [*Problem] matches under [errors.Is], for callers that give
// advice on the two refusals a person fixes on their own side.
var (
	// ErrUnauthenticated is any 401: no token, or one that is unknown,
	// expired or revoked.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrStepUpRequired is a step-up action sent without a current
	// one-time code (problem type step-up-required).
	ErrStepUpRequired = errors.New("step-up required")
)

// A Problem is an error answer from the server: an [RFC 9457] problem
// document, or, when the answer was not one (a proxy's HTML error page,
// say), its Status with Title the status text and Detail saying what came
// instead.
//
// Every string has been through [safetext.Escape] and has had the
// client's token removed, so a Problem is fit to print as it is.
//
// [RFC 9457]: https://www.rfc-editor.org/rfc/rfc9457
type Problem struct {
	Type   string `json:"type"`   // e.g. "urn:lbm:problem:rank-too-low"; "" when not a problem document
	Title  string `json:"title"`  // short and fixed for the type
	Status int    `json:"status"` // the HTTP status of the answer, whatever the document says
	Detail string `json:"detail"` // this occurrence, for people
	// Field names the field of the request that failed, for validation
	// and rule problems; Line the 1-based line within it, if any.
	Field string `json:"field,omitempty"`
	Line  int    `json:"line,omitempty"`
	// Errors lists every field that failed, when the server reports more
	// than one (a submission refused for several reasons).
	Errors []FieldError `json:"errors,omitempty"`
}

// A FieldError is one refused field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// maxShownErrors bounds how many of Errors [Problem.Error] spells out.
const maxShownErrors = 20

// Error returns the problem on one line: its short type (the part after
// urn:lbm:problem:, or the status when there is none), the detail, the
// field, and each of Errors, e.g. "rank-too-low: this request needs a
// decision at rank superintendent or above (field by)".
func (p *Problem) Error() string {
	var b strings.Builder
	name := strings.TrimPrefix(p.Type, typePrefix)
	if name == "" || name == "about:blank" {
		name = status(p.Status)
	}
	b.WriteString(name)
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if msg != "" && msg != name {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	switch {
	case p.Field != "" && p.Line > 0:
		fmt.Fprintf(&b, " (field %s, line %d)", p.Field, p.Line)
	case p.Field != "":
		fmt.Fprintf(&b, " (field %s)", p.Field)
	}
	for i, e := range p.Errors {
		if i == maxShownErrors {
			fmt.Fprintf(&b, "; and %d more", len(p.Errors)-i)
			break
		}
		fmt.Fprintf(&b, "; %s: %s", e.Field, e.Message)
	}
	return b.String()
}

// Is reports whether p is a case of target: [ErrUnauthenticated] for a
// 401 and [ErrStepUpRequired] for a step-up-required problem.
func (p *Problem) Is(target error) bool {
	switch target {
	case ErrUnauthenticated:
		return p.Status == http.StatusUnauthorized
	case ErrStepUpRequired:
		return p.Type == typePrefix+"step-up-required"
	}
	return false
}

// Limits on the text kept from a problem document, whose body is already
// bounded by maxProblem: enough for any message lbm writes.
const (
	maxProblemText   = 2000 // bytes of each string
	maxProblemErrors = 200
)

// decodeProblem turns an error answer (status, Content-Type and body)
// into a Problem. It never fails: a body that is not a problem document
// (wrong type, not JSON, no type, title or detail) becomes a Problem
// describing what came instead. Status is always status, since RFC 9457
// makes the document's own member advisory. Every string is escaped and
// bounded; the token is removed later, by the caller that knows it.
func decodeProblem(status int, contentType string, body []byte) *Problem {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/problem+json" || mt == "application/json" {
		// The status member is left out: the HTTP status is authoritative,
		// and a malformed one must not make the rest unreadable.
		var doc struct {
			Type, Title, Detail, Field string
			Line                       int
			Errors                     []FieldError
		}
		if json.Unmarshal(body, &doc) == nil && (doc.Type != "" || doc.Title != "" || doc.Detail != "") {
			p := &Problem{Type: clean(doc.Type), Title: clean(doc.Title), Status: status,
				Detail: clean(doc.Detail), Field: clean(doc.Field), Line: max(doc.Line, 0)}
			for i, e := range doc.Errors {
				if i == maxProblemErrors {
					p.Errors = append(p.Errors, FieldError{Field: "…", Message: fmt.Sprintf("%d more not kept", len(doc.Errors)-i)})
					break
				}
				p.Errors = append(p.Errors, FieldError{Field: clean(e.Field), Message: clean(e.Message)})
			}
			return p
		}
	}
	p := &Problem{Status: status, Title: http.StatusText(status)}
	switch {
	case len(body) == 0:
		p.Detail = "the server sent no explanation"
	case mt == "text/plain":
		// A proxy's or load balancer's one-line reason is worth showing.
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		p.Detail = "the server said: " + clean(strings.TrimSpace(line))
	default:
		p.Detail = fmt.Sprintf("the answer is %s, not a problem document: is a proxy in front of lbm failing, or is the server address wrong?", describeType(contentType))
	}
	return p
}

// clean makes server text fit to print and bounds it.
func clean(s string) string {
	if len(s) > maxProblemText {
		cut := maxProblemText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return safetext.Escape(s)
}

// redact replaces every copy of token in p's strings.
func (p *Problem) redact(token string) {
	for _, s := range []*string{&p.Type, &p.Title, &p.Detail, &p.Field} {
		*s = redact(*s, token)
	}
	for i := range p.Errors {
		p.Errors[i].Field = redact(p.Errors[i].Field, token)
		p.Errors[i].Message = redact(p.Errors[i].Message, token)
	}
}

// redact replaces every copy of token in s. An empty token is in
// everything and is never replaced.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[token]")
}
