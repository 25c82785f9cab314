package web

import (
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/review"
)

// apiExport answers POST /v1/requests/{id}/exports with the evidence
// bundle itself; the disclosure record's index is in a header, as the
// body is the zip.
func (s *server) apiExport(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in review.ExportInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	ex, err := s.cfg.Review.Export(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeBundle(w, ex)
}

func writeBundle(w http.ResponseWriter, ex review.Export) {
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ex.Name}))
	h.Set("Cache-Control", "no-store")
	h.Set("LBM-Access-Record", strconv.FormatUint(ex.AccessRecord, 10))
	h.Set("LBM-Bundle-SHA256", ex.SHA256)
	w.WriteHeader(http.StatusOK)
	w.Write(ex.Zip)
}

// receiptsPeriod reads ?from= and ?to= (RFC 3339; default the last 90
// days to now).
func (s *server) receiptsPeriod(r *http.Request) (time.Time, time.Time, error) {
	now := s.cfg.Now().UTC()
	from, to := now.AddDate(0, 0, -90), now.Add(time.Second)
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := r.URL.Query().Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return from, to, &validationError{f.name, "a time in RFC 3339 form"}
			}
			*f.t = t
		}
	}
	if !from.Before(to) {
		return from, to, &validationError{"to", "after from"}
	}
	return from, to, nil
}

func (s *server) apiReceipts(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	from, to, err := s.receiptsPeriod(r)
	if err == nil {
		var limit int
		if limit, err = pageLimit(r, 100); err == nil {
			var recs []review.AccessRecord
			var next string
			if recs, next, err = s.cfg.Review.Receipts(r.Context(), p, from, to, r.URL.Query().Get("after"), limit); err == nil {
				writeJSON(w, http.StatusOK, struct {
					Records []review.AccessRecord `json:"records"`
					Next    string                `json:"next,omitempty"`
				}{recs, next})
				return
			}
		}
	}
	writeProblem(w, r, s.cfg.Logger, err)
}

func (s *server) apiReceipt(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	index, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, errNotFound)
		return
	}
	rc, err := s.cfg.Review.Receipt(r.Context(), p, index)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, rc)
}

// accessKinds maps ?kind= of the access log to the oversight-log actions.
var accessKinds = map[string][]string{
	"":        append([]string{review.ActionRefused}, review.AccessActions...),
	"all":     append([]string{review.ActionRefused}, review.AccessActions...),
	"refused": {review.ActionRefused},
	"query":   {review.ActionQuery},
	"export":  {review.ActionExport},
	"live":    {review.ActionLive},
	"reveal":  {review.ActionReveal},
}

// accessLog reads oversight's access log as ?kind=, ?before= and
// ?limit= ask.
func (s *server) accessLog(r *http.Request, def int) ([]review.AccessRecord, uint64, error) {
	q := r.URL.Query()
	actions, ok := accessKinds[q.Get("kind")]
	if !ok {
		return nil, 0, &validationError{"kind", "one of all, refused, query, export, live, reveal"}
	}
	before := uint64(math.MaxUint64)
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			return nil, 0, &validationError{"before", "an oversight-log index"}
		}
		before = n
	}
	limit, err := pageLimit(r, def)
	if err != nil {
		return nil, 0, err
	}
	return s.cfg.Review.AccessLog(r.Context(), actions, before, limit)
}

func (s *server) apiAccessRecords(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	recs, older, err := s.accessLog(r, 100)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := struct {
		Records []review.AccessRecord `json:"records"`
		Before  *uint64               `json:"before,omitempty"`
	}{Records: recs}
	if older > 0 {
		out.Before = &older
	}
	writeJSON(w, http.StatusOK, out)
}
