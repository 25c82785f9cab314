package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/web/pages"
)

type categoryOption struct{ id, title string }

// categories are the data categories a notice may say are monitored.
func (s *server) categories() []categoryOption {
	var out []categoryOption
	for _, c := range policy.DefaultCategories() {
		out = append(out, categoryOption{c.ID, c.Title})
	}
	return out
}

// collectedRows say what is recorded about everyone, and for how long.
func (s *server) collectedRows() []pages.CollectedRow {
	var rows []pages.CollectedRow
	for _, c := range policy.DefaultCategories() {
		row := pages.CollectedRow{Category: c.Title, Collected: c.Collected, Content: c.Content, Retention: months(c.RetentionMonths)}
		if c.Content == "" {
			row.Content = "None"
		} else {
			row.Retention = fmt.Sprintf("Details: %s. Content: %s.", months(c.RetentionMonths), months(c.ContentRetentionMonths))
		}
		rows = append(rows, row)
	}
	return rows
}

func months(n int) string {
	if n == 1 {
		return "1 month"
	}
	return fmt.Sprintf("%d months", n)
}

// maxDocumentBody bounds a body carrying a notice or the catalogue files:
// a notice text alone may be 100,000 bytes, a catalogue file 256 KiB.
const maxDocumentBody = 1 << 20

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
