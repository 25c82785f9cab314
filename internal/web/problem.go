package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/subjectaccess"
	"github.com/lbm-project/lbm/internal/tlog"
	"github.com/lbm-project/lbm/internal/witness"
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
	TypeStepUp           = problemBase + "step-up-required"
	TypeThrottled        = problemBase + "throttled"
	TypeConflict         = problemBase + "conflict"
	TypeNotCosigned      = problemBase + "not-cosigned"
	TypeMisdirected      = problemBase + "misdirected"
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
	// Errors lists every field a request failed, when there are several.
	Errors []fieldProblem `json:"errors,omitempty"`
}

// WriteMisdirected answers a request whose Host names nothing this
// process serves: 421, as RFC 9110 §15.5.20 has it, with a detail that
// names no host the process does serve, so that probing hosts learns
// nothing of which organisations share the service.
func WriteMisdirected(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusMisdirectedRequest)
	json.NewEncoder(w).Encode(Problem{Type: TypeMisdirected, Title: "Misdirected request", Status: http.StatusMisdirectedRequest,
		Detail: "this service answers nothing at the host the request was sent to"})
}

// writeProblem is the one place errors become HTTP responses.
func writeProblem(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	p := Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError,
		Detail: "the server could not complete the request; it has been logged"}
	var pe *event.ParseError
	var mbe *http.MaxBytesError
	var ce *identity.ChangeError
	var de *identity.DecidedError
	var te *identity.ThrottledError
	var rle *capture.RateLimitedError
	var ve *validationError
	var cpe *policy.ParseError
	var lpe *consent.ParseError
	var rpe *detect.ParseError
	var sare *subjectaccess.DetailsError
	var nce *inform.NotCurrentError
	var mte *mediaTypeError
	if rp, ok := requestProblem(err); ok {
		p = rp
		goto write
	}
	if ap, ok := alertProblem(err); ok {
		p = ap
		goto write
	}
	if rp, ok := relevantErrorProblem(err); ok {
		p = rp
		goto write
	}
	if hp, ok := holdProblem(err); ok {
		p = hp
		goto write
	}
	if sp, ok := subjectAccessProblem(err); ok {
		p = sp
		goto write
	}
	switch {
	case errors.As(err, &ve):
		p = Problem{Type: TypeValidation, Title: "Invalid request", Status: http.StatusBadRequest, Detail: ve.Msg, Field: ve.Field}
	case inform.FieldErrors(err) != nil:
		fe := inform.FieldErrors(err)[0]
		p = Problem{Type: TypeValidation, Title: "Invalid notice", Status: http.StatusBadRequest, Detail: err.Error(), Field: fe.Field, Line: fe.Line}
	case errors.As(err, &lpe):
		p = Problem{Type: TypeValidation, Title: "Invalid consent-level policy", Status: http.StatusBadRequest, Detail: lpe.Error(), Field: "yaml", Line: lpe.Line}
	case errors.As(err, &rpe):
		p = Problem{Type: TypeValidation, Title: "Invalid detection rules", Status: http.StatusBadRequest, Detail: rpe.Error(), Field: "yaml", Line: rpe.Line}
	case errors.As(err, &cpe):
		p = Problem{Type: TypeValidation, Title: "Invalid catalogue", Status: http.StatusBadRequest, Detail: cpe.Error(), Field: cpe.File, Line: cpe.Line}
	case errors.As(err, &sare):
		p = Problem{Type: TypeValidation, Title: "Invalid request", Status: http.StatusBadRequest, Detail: sare.Msg, Field: "details"}
	case errors.As(err, &mte):
		p = Problem{Type: TypeValidation, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType, Detail: mte.Error(), Field: "Content-Type"}
	case errors.As(err, &nce):
		p = Problem{Type: TypeConflict, Title: "Not the current notice", Status: http.StatusConflict, Detail: nce.Error()}
	case isDeleted(err):
		// Gone for good under retention: say so, and when and why, rather
		// than an error a reader would take for a fault.
		p = Problem{Type: TypeNotFound, Title: "Deleted under retention", Status: http.StatusGone, Detail: err.Error()}
	case errors.Is(err, inform.ErrNoNotice):
		p = Problem{Type: TypeNotFound, Title: "No notice", Status: http.StatusNotFound, Detail: err.Error()}
	case errors.As(err, &ce):
		p = Problem{Type: TypeValidation, Title: "Invalid change", Status: http.StatusBadRequest, Detail: ce.Msg, Field: ce.Field}
	case errors.Is(err, identity.ErrNoChange):
		p = Problem{Type: TypeValidation, Title: "Invalid change", Status: http.StatusBadRequest, Detail: err.Error()}
	case errors.As(err, &de):
		p = Problem{Type: TypeInvalidTransit, Title: "Already decided", Status: http.StatusConflict, Detail: de.Error()}
	case errors.Is(err, identity.ErrStale), errors.Is(err, store.ErrConflict):
		p = Problem{Type: TypeConflict, Title: "Conflict", Status: http.StatusConflict, Detail: "the resource changed meanwhile; read it again"}
	case errors.Is(err, identity.ErrSelfApproval):
		p = Problem{Type: TypeConflictInterest, Title: "Conflict of interest", Status: http.StatusForbidden, Detail: err.Error()}
	case errors.Is(err, identity.ErrStepUpRequired), errors.Is(err, identity.ErrBadCode), errors.Is(err, identity.ErrNoSecondFactor):
		p = Problem{Type: TypeStepUp, Title: "Second factor required", Status: http.StatusForbidden,
			Detail: "this action needs a current one-time code: sign in again at /step-up, or send it in the LBM-OTP header"}
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(int(te.Wait.Seconds())+1))
		p = Problem{Type: TypeThrottled, Title: "Too many attempts", Status: http.StatusTooManyRequests, Detail: te.Error()}
	case errors.As(err, &rle):
		w.Header().Set("Retry-After", strconv.Itoa(rle.RetryAfterSeconds()))
		p = Problem{Type: TypeThrottled, Title: "Over the source's rate limit", Status: http.StatusTooManyRequests, Detail: rle.Error()}
	case errors.Is(err, capture.ErrUnknownSource):
		p = Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: "the token's source is not registered"}
	case errors.Is(err, identity.ErrNotAdmin):
		p = Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error()}
	case errors.As(err, &pe):
		p = Problem{Type: TypeValidation, Title: "Invalid event", Status: http.StatusBadRequest, Detail: pe.Error(), Line: pe.Line, Field: pe.Field}
	case errors.As(err, &mbe), errors.Is(err, ingest.ErrTooLarge):
		p = Problem{Type: TypeTooLarge, Title: "Request too large", Status: http.StatusRequestEntityTooLarge, Detail: err.Error()}
	case errors.Is(err, identity.ErrUnauthenticated):
		w.Header().Add("WWW-Authenticate", `Bearer realm="lbm"`)
		p = Problem{Type: TypeUnauthenticated, Title: "Unauthenticated", Status: http.StatusUnauthorized, Detail: "a valid bearer token or session is required"}
	case errors.Is(err, errForbidden):
		p = Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: "your role may not do that"}
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, tlog.ErrBadTilePath):
		p = Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound}
	case errors.Is(err, ingest.ErrOverloaded), errors.Is(err, ingest.ErrClosed):
		w.Header().Set("Retry-After", "1")
		p = Problem{Type: TypeOverloaded, Title: "Overloaded", Status: http.StatusServiceUnavailable, Detail: "the ingest queue is full; retry after the given delay"}
	case errors.Is(err, witness.ErrNotCosigned):
		w.Header().Set("Retry-After", "1")
		p = Problem{Type: TypeNotCosigned, Title: "Not yet cosigned", Status: http.StatusServiceUnavailable,
			Detail: "the witness policy fails closed and no checkpoint of this log has its quorum of cosignatures yet"}
	case errors.Is(err, context.Canceled):
		return // the client has gone
	default:
		// The real error stays in our log; the client learns nothing of internals.
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
write:
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

// maxDocumentBody bounds a body carrying a notice or the catalogue files:
// a notice text alone may be 100,000 bytes, each of the four catalogue
// files 256 KiB, and JSON escapes each line break in two bytes.
const maxDocumentBody = 2 << 20

// decodeJSON reads a JSON body of at most maxJSONBody bytes into v,
// refusing unknown fields and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONUpTo(w, r, v, maxJSONBody)
}

// decodeJSONUpTo is decodeJSON for a body of at most limit bytes.
func decodeJSONUpTo(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &validationError{"body", fmt.Sprintf("not the expected JSON: %v", err)}
	}
	if dec.More() {
		return &validationError{"body", "more than one JSON value"}
	}
	return nil
}

// writeList answers {key: [each item, converted]}: an empty list, never
// null, when there are none.
func writeList[T, J any](w http.ResponseWriter, key string, items []T, convert func(T) J) {
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, convert(it))
	}
	writeJSON(w, http.StatusOK, map[string][]J{key: out})
}

// validationError is a bad request body or parameter.
type validationError struct{ Field, Msg string }

func (e *validationError) Error() string { return e.Field + ": " + e.Msg }

func isDeleted(err error) bool {
	_, ok := errors.AsType[*record.DeletedError](err)
	return ok
}
