package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/notice"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// collectedRows say what is recorded about everyone, and for how long:
// cats are the categories of the catalogue in force, with its schedule.
func collectedRows(cats policy.Categories) []pages.CollectedRow {
	var rows []pages.CollectedRow
	for _, c := range cats {
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

// noticeBlocks are a stored notice text as a page shows it. Stored texts
// were checked when drafted, so a text that no longer parses is shown as
// plain paragraphs rather than hidden.
func noticeBlocks(text string) []pages.TextBlock {
	blocks, err := notice.Parse(text)
	if err != nil {
		var out []pages.TextBlock
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, pages.TextBlock{Paragraph: line})
			}
		}
		return out
	}
	out := make([]pages.TextBlock, 0, len(blocks))
	for _, b := range blocks {
		switch b.Kind {
		case notice.Heading:
			out = append(out, pages.TextBlock{Heading: b.Text})
		case notice.List:
			out = append(out, pages.TextBlock{Items: b.Items})
		default:
			out = append(out, pages.TextBlock{Paragraph: b.Text})
		}
	}
	return out
}

// defaultNotice is the notice generated from the catalogue in force and
// the sources connected.
func (s *server) defaultNotice(r *http.Request) (store.Notice, error) {
	cat, _, err := s.catalogue(r.Context())
	if err != nil {
		return store.Notice{}, err
	}
	sources, err := s.cfg.Store.ListSources(r.Context())
	if err != nil {
		return store.Notice{}, err
	}
	in := inform.DefaultInput{Organisation: s.cfg.Organisation, Catalogue: cat}
	for _, src := range sources {
		in.Sources = append(in.Sources, src.ID)
	}
	if s.cfg.BaseURL != "" {
		in.NoticeURL, in.PublicURL = s.cfg.BaseURL+"/notice", s.cfg.BaseURL+"/public-notice"
	}
	return inform.DefaultNotice(in)
}
