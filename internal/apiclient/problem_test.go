package apiclient

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/safetext"
)

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Type: "urn:lbm:problem:rank-too-low", Title: "Rank too low", Status: 403, Detail: "this request needs a decision at rank superintendent or above", Field: "by"},
			"rank-too-low: this request needs a decision at rank superintendent or above (field by)"},
		{Problem{Type: "urn:lbm:problem:not-found", Title: "Not found", Status: 404},
			"not-found: Not found"},
		{Problem{Type: "urn:lbm:problem:validation", Title: "Invalid notice", Status: 400, Detail: "heading too long", Field: "text", Line: 3},
			"validation: heading too long (field text, line 3)"},
		{Problem{Type: "about:blank", Status: 418},
			"418 I'm a teapot"},
		{Problem{Status: 502, Title: "Bad Gateway", Detail: "the server sent no explanation"},
			"502 Bad Gateway: the server sent no explanation"},
		{Problem{Status: 599},
			"status 599"},
		{Problem{Type: "https://example.com/probs/out-of-credit", Title: "You do not have enough credit.", Status: 403},
			"https://example.com/probs/out-of-credit: You do not have enough credit."},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestProblemErrorBoundsErrors(t *testing.T) {
	p := &Problem{Type: typePrefix + "validation", Status: 400, Detail: "not ready"}
	for range maxShownErrors + 5 {
		p.Errors = append(p.Errors, FieldError{"f", "m"})
	}
	if got := p.Error(); !strings.HasSuffix(got, "; f: m; and 5 more") || strings.Count(got, "f: m") != maxShownErrors {
		t.Errorf("Error() = %q, want %d errors and a count of the rest", got, maxShownErrors)
	}
}

func TestProblemIs(t *testing.T) {
	p := &Problem{Type: typePrefix + "step-up-required", Status: 403}
	if !errors.Is(p, ErrStepUpRequired) || errors.Is(p, ErrUnauthenticated) {
		t.Errorf("a step-up problem: Is(ErrStepUpRequired) = %v, Is(ErrUnauthenticated) = %v", errors.Is(p, ErrStepUpRequired), errors.Is(p, ErrUnauthenticated))
	}
	if errors.Is(&Problem{Type: typePrefix + "forbidden", Status: 403}, ErrStepUpRequired) {
		t.Error("a forbidden problem matches ErrStepUpRequired")
	}
}

// FuzzDecodeProblem checks that any error answer decodes to a Problem
// with the answer's status whose message is valid UTF-8, hides nothing
// from the terminal, and never holds the token.
func FuzzDecodeProblem(f *testing.F) {
	f.Add(403, problemType, []byte(`{"type":"urn:lbm:problem:rank-too-low","title":"Rank too low","status":403,"detail":"needs a superintendent","field":"by"}`))
	f.Add(400, problemType, []byte(`{"type":"urn:lbm:problem:validation","detail":"not ready","errors":[{"field":"necessity","message":"too short"},{"field":"x"}]}`))
	f.Add(400, jsonType, []byte(`{"type":"urn:lbm:problem:validation","title":"`+testToken+`","line":-4}`))
	f.Add(404, problemType, []byte(`{"type":"urn:lbm:problem:not-found","status":"four"}`))
	f.Add(500, problemType, []byte(`{"type":7}`))
	f.Add(500, problemType, []byte(`[1,2]`))
	f.Add(502, "text/html", []byte("<html><h1>502 Bad Gateway</h1></html>"))
	f.Add(503, "text/plain; charset=utf-8", []byte("upstream \x1b[2J connect error "+testToken+"\nline 2"))
	f.Add(401, "", []byte(nil))
	f.Add(400, problemType, []byte("{\"detail\":\"\xff\xfe\u202e\u2028\"}"))
	f.Add(-1, "application/problem+json; charset=\"", []byte(`{"detail":"x"}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		p := decodeProblem(status, contentType, body)
		if p == nil {
			t.Fatal("decodeProblem returned nil")
		}
		p.redact(testToken)
		if p.Status != status {
			t.Errorf("Status = %d, want %d", p.Status, status)
		}
		msg := p.Error()
		if msg == "" {
			t.Error("Error() is empty")
		}
		if !utf8.ValidString(msg) {
			t.Errorf("Error() = %q: not UTF-8", msg)
		}
		if strings.ContainsFunc(msg, safetext.Hidden) {
			t.Errorf("Error() = %q: holds hidden characters", msg)
		}
		if strings.Contains(msg, testToken) {
			t.Errorf("Error() = %q: holds the token", msg)
		}
		if p.Line < 0 {
			t.Errorf("Line = %d, want ≥ 0", p.Line)
		}
	})
}
