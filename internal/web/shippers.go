package web

import (
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/esbulk"
	"github.com/lbm-project/lbm/internal/capture/otlp"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
)

// The shippers' inputs: the Elasticsearch API under /es/ and OTLP/HTTP
// logs at /v1/logs, so that Beats, Vector, Fluent Bit, Logstash and the
// OpenTelemetry Collector send to lbm as they would to their usual
// backend. Only sources may call them (access.go).

// shipperActions are the actions whose routes also take a source token
// the way shippers send credentials: as the password of HTTP Basic
// authentication, or as an Elasticsearch API key. Every other route
// takes only a bearer token, so a Basic header there stays refused.
var shipperActions = map[string]bool{
	"events.ingest.es":      true,
	"events.ingest.es-info": true,
	"events.ingest.otlp":    true,
}

// esActions are the actions under /es/: every answer there carries the
// X-Elastic-Product header, which the go-elasticsearch client checks.
var esActions = map[string]bool{"events.ingest.es": true, "events.ingest.es-info": true}

// shipperToken reads a token from the schemes shippers use: Basic with
// any user name and the token as password (Beats, Fluent Bit, Logstash,
// Vector), or ApiKey with the token itself or base64("id:token") (Beats'
// api_key, the go-elasticsearch client's APIKey).
func shipperToken(r *http.Request, h string) (string, bool) {
	if _, pw, ok := r.BasicAuth(); ok {
		return pw, true
	}
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "ApiKey") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	// An lbm token is base64url with an underscore, never valid standard
	// base64, so the two forms cannot be confused.
	if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
		if _, key, ok := strings.Cut(string(b), ":"); ok {
			return key, true
		}
	}
	return cred, true
}

// bodyError refuses a shipper's body before it is decoded.
type bodyError struct {
	status int
	msg    string
}

func (e *bodyError) Error() string { return e.msg }

// readShipperBody reads a body of at most limit bytes, gunzipping it when
// the shipper says it is gzip: the limit holds after decompression too,
// so a small bomb cannot expand without bound.
func readShipperBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	tooLarge := &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", limit)}
	var rd io.Reader = body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, tooLarge
			}
			return nil, &bodyError{http.StatusBadRequest, fmt.Sprintf("reading gzip body: %v", err)}
		}
		rd = io.LimitReader(zr, limit+1)
	default:
		return nil, &bodyError{http.StatusUnsupportedMediaType, fmt.Sprintf("content encoding %q is not supported: send gzip or none", enc)}
	}
	b, err := io.ReadAll(rd)
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok || int64(len(b)) > limit {
		return nil, tooLarge
	}
	if err != nil {
		return nil, &bodyError{http.StatusBadRequest, fmt.Sprintf("reading body: %v", err)}
	}
	return b, nil
}

// retryAfter is the Retry-After value for a refusal by the sink.
func retryAfter(err error) string {
	if rl, ok := errors.AsType[*capture.RateLimitedError](err); ok {
		return strconv.Itoa(rl.RetryAfterSeconds())
	}
	return "1"
}

// Elasticsearch.

// esVersion is the Elasticsearch version lbm answers as: clients pick
// their request format by it, and the v8 one is what current shippers
// send by default.
const esVersion = "8.17.0"

func writeES(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

func writeESError(w http.ResponseWriter, status int, typ, reason string) {
	writeES(w, status, esbulk.ErrorReply(status, typ, reason))
}

func (s *server) esInfo(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":         "lbm",
		"cluster_name": "lbm",
		// Fixed: shippers only log it, and lbm is one "cluster".
		"cluster_uuid": "bG9nLWJ5LW1lcmtsZS0x",
		"version": map[string]any{
			"number":                              esVersion,
			"build_flavor":                        "default",
			"build_type":                          "docker",
			"lucene_version":                      "9.12.0",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
}

func (s *server) esLicense(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"license": map[string]any{
		"status": "active", "uid": "00000000-0000-4000-8000-000000000000", "type": "basic", "mode": "basic",
		"issue_date_in_millis": 0, "max_nodes": 1000, "issued_to": "lbm", "issuer": "lbm", "start_date_in_millis": -1,
	}})
}

func (s *server) esXpack(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	off := map[string]bool{"available": false, "enabled": false}
	writeJSON(w, http.StatusOK, map[string]any{
		"build":    map[string]string{"hash": "lbm", "date": "2026-01-01T00:00:00Z"},
		"license":  map[string]string{"uid": "00000000-0000-4000-8000-000000000000", "type": "basic", "mode": "basic", "status": "active"},
		"features": map[string]any{"ilm": off, "security": off, "monitoring": off, "ml": off, "watcher": off},
	})
}

func (s *server) esHealth(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"cluster_name": "lbm", "status": "green", "timed_out": false,
		"number_of_nodes": 1, "number_of_data_nodes": 1, "active_primary_shards": 0, "active_shards": 0,
		"relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0, "active_shards_percent_as_number": 100.0})
}

// The set-up calls (index templates, ILM policies, indices) change
// nothing in lbm, where mappings decide what fields mean: they are
// acknowledged, and reads say the thing exists, so that a shipper whose
// set-up is left on still starts.

// esPut acknowledges the set-up calls that create a template, a policy
// or a pipeline, and refuses any other PUT as not served.
func (s *server) esPut(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	parts := strings.Split(r.PathValue("path"), "/")
	switch {
	case len(parts) == 2 && (parts[0] == "_index_template" || parts[0] == "_component_template") && parts[1] != "",
		len(parts) == 3 && (parts[0] == "_ilm" && parts[1] == "policy" || parts[0] == "_ingest" && parts[1] == "pipeline") && parts[2] != "":
		writeJSON(w, http.StatusOK, map[string]bool{"acknowledged": true})
	default:
		s.esNotFound(w, r, p)
	}
}

func (s *server) esTemplate(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"index_templates": []any{map[string]any{
		"name": r.PathValue("name"), "index_template": map[string]any{"index_patterns": []string{r.PathValue("name") + "*"}}}}})
}

func (s *server) esPolicy(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{r.PathValue("name"): map[string]any{
		"version": 1, "policy": map[string]any{"phases": map[string]any{}}}})
}

// esIndex says an index exists (a HEAD or GET of it). A name starting
// with "_" is no index but an API lbm does not serve.
func (s *server) esIndex(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if strings.HasPrefix(r.PathValue("index"), "_") {
		s.esNotFound(w, r, p)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{r.PathValue("index"): map[string]any{
		"aliases": map[string]any{}, "mappings": map[string]any{}, "settings": map[string]any{}}})
}

func (s *server) esCreateIndex(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if strings.HasPrefix(r.PathValue("index"), "_") {
		s.esNotFound(w, r, p)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": r.PathValue("index")})
}

func (s *server) esNotFound(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeESError(w, http.StatusNotFound, "illegal_argument_exception",
		fmt.Sprintf("lbm does not serve [%s %s]: only _bulk and the calls shippers make at start-up", r.Method, r.URL.Path))
}

// esBulk takes a _bulk request: it stores every index and create
// document as a record, and answers a status per item once they are
// durable.
func (s *server) esBulk(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	start := time.Now()
	release, ok := s.takeIngestSlot()
	if !ok {
		w.Header().Set("Retry-After", "1")
		writeESError(w, http.StatusTooManyRequests, "es_rejected_execution_exception", "too many ingest requests in flight")
		return
	}
	defer release()
	body, err := readShipperBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		be := err.(*bodyError)
		typ := "illegal_argument_exception"
		if be.status == http.StatusRequestEntityTooLarge {
			typ = "content_too_long_exception"
		}
		writeESError(w, be.status, typ, be.msg)
		return
	}
	req, err := esbulk.Parse(body, r.PathValue("index"), s.cfg.Now())
	if err != nil {
		re := err.(*esbulk.RequestError)
		typ := "illegal_argument_exception"
		if re.Status == http.StatusRequestEntityTooLarge {
			typ = "content_too_long_exception"
		}
		writeESError(w, re.Status, typ, re.Error())
		return
	}
	var results []capture.Result
	if len(req.Records) > 0 {
		results, err = s.cfg.Capture.Submit(r.Context(), capture.ECS, p.Subject, req.Records)
		if err != nil {
			s.esSubmitError(w, r, err)
			return
		}
	}
	writeES(w, http.StatusOK, esbulk.Reply(req, results, time.Since(start)))
}

// esSubmitError answers a batch the sink refused whole. Every shipper
// retries 429, so both a rate limit and a full queue answer it.
func (s *server) esSubmitError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, capture.ErrRateLimited), errors.Is(err, ingest.ErrOverloaded), errors.Is(err, ingest.ErrClosed):
		w.Header().Set("Retry-After", retryAfter(err))
		writeESError(w, http.StatusTooManyRequests, "es_rejected_execution_exception", err.Error())
	case errors.Is(err, capture.ErrUnknownSource):
		writeESError(w, http.StatusForbidden, "security_exception", "this source is not registered for capture")
	case errors.Is(err, context.Canceled):
	default:
		s.cfg.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeESError(w, http.StatusInternalServerError, "exception", "lbm could not store the documents; it has been logged")
	}
}

// OTLP.

// otlpLogs takes an OTLP/HTTP ExportLogsServiceRequest and answers, in
// the request's encoding, once its records are durable.
func (s *server) otlpLogs(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var enc otlp.Encoding
	switch mt {
	case "application/x-protobuf":
		enc = otlp.Proto
	case "application/json":
		enc = otlp.JSON
	default:
		writeOTLPStatus(w, otlp.JSON, http.StatusUnsupportedMediaType, 3, "content type must be application/x-protobuf or application/json")
		return
	}
	release, ok := s.takeIngestSlot()
	if !ok {
		w.Header().Set("Retry-After", "1")
		writeOTLPStatus(w, enc, http.StatusServiceUnavailable, 14, "too many ingest requests in flight")
		return
	}
	defer release()
	body, err := readShipperBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		be := err.(*bodyError)
		writeOTLPStatus(w, enc, be.status, 3, be.msg)
		return
	}
	recs, err := otlp.Parse(body, enc, s.cfg.Now())
	if err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*otlp.TooManyError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		writeOTLPStatus(w, enc, status, 3, err.Error())
		return
	}
	var results []capture.Result
	if len(recs) > 0 {
		results, err = s.cfg.Capture.Submit(r.Context(), capture.OTLP, p.Subject, recs)
	}
	switch {
	case err == nil:
	case errors.Is(err, capture.ErrRateLimited):
		w.Header().Set("Retry-After", retryAfter(err))
		writeOTLPStatus(w, enc, http.StatusTooManyRequests, 8, err.Error())
		return
	case errors.Is(err, capture.ErrUnknownSource):
		writeOTLPStatus(w, enc, http.StatusForbidden, 7, "this source is not registered for capture")
		return
	case errors.Is(err, context.Canceled):
		return
	default:
		// A full queue, or a store that failed: nothing was stored, and
		// 503 is what OTLP clients retry, so nothing is lost.
		if !errors.Is(err, ingest.ErrOverloaded) && !errors.Is(err, ingest.ErrClosed) {
			s.cfg.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		w.Header().Set("Retry-After", "1")
		writeOTLPStatus(w, enc, http.StatusServiceUnavailable, 14, "lbm could not store the log records now; retry")
		return
	}
	// Every record was stored; one that could not be mapped was kept
	// unparsed, which the partial success reports as a warning (zero
	// rejected), so that the sender's operators can fix their mapping.
	var kept int
	var why string
	for _, res := range results {
		if res.Status == capture.Kept {
			kept++
			why = res.Why
		}
	}
	msg := ""
	if kept > 0 {
		msg = fmt.Sprintf("%d log records stored unparsed, e.g.: %s", kept, why)
	}
	w.Header().Set("Content-Type", enc.ContentType())
	w.WriteHeader(http.StatusOK)
	w.Write(otlp.Response(enc, 0, msg))
}

func writeOTLPStatus(w http.ResponseWriter, enc otlp.Encoding, status int, code int32, msg string) {
	w.Header().Set("Content-Type", enc.ContentType())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(otlp.Status(enc, code, msg))
}
