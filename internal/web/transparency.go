package web

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// The public transparency figures: what lbm tells anyone, signed in or
// not, about its own use. Counts only, by quarter, small counts
// suppressed (internal/oversight.BuildTransparency). Building them reads
// a year of the oversight log, so they are built at most once per
// transparencyTTL whoever asks, and a flood of anonymous requests costs
// one build.

// transparencyTTL is how long built figures are served.
const transparencyTTL = 10 * time.Minute

type transparencyCache struct {
	mu    sync.Mutex
	built time.Time
	t     oversight.Transparency
}

// transparency returns the figures, built anew once they are older than
// transparencyTTL.
func (s *server) transparency(r *http.Request) (oversight.Transparency, error) {
	c := &s.transparencyFigures
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.cfg.Now()
	if !c.built.IsZero() && now.Sub(c.built) < transparencyTTL && now.After(c.built) {
		return c.t, nil
	}
	q := oversight.QuarterStarts(now)
	in, err := oversight.Gather(r.Context(), s.cfg.Store, s.cfg.Opener.OpenMetadata, q[0], q[len(q)-1], now, nil)
	if err != nil {
		return oversight.Transparency{}, err
	}
	c.t, c.built = oversight.BuildTransparency(in, s.cfg.TransparencyThreshold), now
	return c.t, nil
}

func (s *server) apiTransparency(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	t, err := s.transparency(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *server) transparencyPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	t, err := s.transparency(r)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Transparency{Layout: s.layout(r, p, "How monitoring is used"), Organisation: s.cfg.Organisation,
		Threshold: strconv.Itoa(t.Threshold), Built: displayTime(t.Generated)}
	if page.Organisation == "" {
		page.Organisation = "The organisation"
	}
	for _, period := range t.Periods {
		page.Periods = append(page.Periods, oversight.PeriodText(period.From, period.To))
	}
	for i, m := range oversight.PublicMeasures {
		row := pages.TransparencyRow{Label: m.Label}
		for _, period := range t.Periods {
			f := period.Figures[i]
			switch {
			case f.Suppressed:
				row.Values = append(row.Values, "fewer than "+page.Threshold)
			default:
				row.Values = append(row.Values, strconv.Itoa(*f.Value))
			}
		}
		page.Rows = append(page.Rows, row)
	}
	if t.NoticePercent != nil {
		page.NoticePercent = strconv.Itoa(*t.NoticePercent) + "%"
	}
	s.render(w, r, http.StatusOK, page)
}
