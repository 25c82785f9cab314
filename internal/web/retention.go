package web

import (
	"net/http"
	"strconv"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// The retention schedule is public, as the catalogue it belongs to is:
// staff are entitled to know how long what is recorded about them is kept,
// and the Data Protection Officer checks deletions against it. Its version is the catalogue's: the
// retention job names "schedule S" for catalogue version S, which GET
// /v1/catalogue/versions/S then shows in full.

// apiRetentionSchedule is GET /v1/retention-schedule: the data categories
// in force, each with its retention periods, and the catalogue version
// they come from (0: built into lbm).
func (s *server) apiRetentionSchedule(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.apiCatalogue(func(c policy.Catalogue) (string, any) { return "categories", c.Categories })(s, w, r, p)
}

// retentionPage is GET /retention, the schedule for people to read.
func (s *server) retentionPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	cat, version, err := s.catalogue(r.Context())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Retention{Layout: s.layout(r, p, "How long records are kept"), Version: strconv.FormatInt(version, 10)}
	for _, c := range cat.Categories {
		row := pages.RetentionRow{ID: c.ID, Category: c.Title, Collected: c.Collected, Content: c.Content, Kept: months(c.RetentionMonths)}
		if c.Content != "" {
			row.ContentKept = months(c.ContentRetentionMonths)
		}
		page.Rows = append(page.Rows, row)
	}
	s.render(w, r, http.StatusOK, page)
}
