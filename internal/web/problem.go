package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// Problem types. The list is only ever appended to: clients match on these.
const (
	problemBase          = "urn:lbm:problem:"
	TypeValidation       = problemBase + "validation"
	TypeForbidden        = problemBase + "forbidden"
	TypeOutOfScope       = problemBase + "out-of-scope"
	TypeRankTooLow       = problemBase + "rank-too-low"
	TypeConflictInterest = problemBase + "conflict-of-interest"
	TypeInvalidTransit   = problemBase + "invalid-transition"
	TypeUnauthenticated  = problemBase + "unauthenticated"
	TypeNotFound         = problemBase + "not-found"
	TypeOverloaded       = problemBase + "overloaded"
	TypeTooLarge         = problemBase + "too-large"
	TypeInternal         = problemBase + "internal"
)

var (
	errNotFound  = errors.New("not found")
	errForbidden = errors.New("forbidden")
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Line and Field locate a validation error in an ingest request.
	Line  int    `json:"line,omitempty"`
	Field string `json:"field,omitempty"`
}

// writeProblem is the one place errors become HTTP responses.
func writeProblem(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	p := Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError,
		Detail: "the server could not complete the request; it has been logged"}
	var pe *event.ParseError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &pe):
		p = Problem{Type: TypeValidation, Title: "Invalid event", Status: http.StatusBadRequest, Detail: pe.Error(), Line: pe.Line, Field: pe.Field}
	case errors.As(err, &mbe), errors.Is(err, ingest.ErrTooLarge):
		p = Problem{Type: TypeTooLarge, Title: "Request too large", Status: http.StatusRequestEntityTooLarge, Detail: err.Error()}
	case errors.Is(err, identity.ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="lbm"`)
		p = Problem{Type: TypeUnauthenticated, Title: "Unauthenticated", Status: http.StatusUnauthorized, Detail: "a valid bearer token is required"}
	case errors.Is(err, errForbidden):
		p = Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: "this token may not do that"}
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, tlog.ErrBadTilePath):
		p = Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound}
	case errors.Is(err, ingest.ErrOverloaded), errors.Is(err, ingest.ErrClosed):
		w.Header().Set("Retry-After", "1")
		p = Problem{Type: TypeOverloaded, Title: "Overloaded", Status: http.StatusServiceUnavailable, Detail: "the ingest queue is full; retry after the given delay"}
	case errors.Is(err, context.Canceled):
		return // the client has gone
	default:
		// The real error stays in our log; the client learns nothing of internals.
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
