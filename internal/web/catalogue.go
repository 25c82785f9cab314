package web

import (
	"net/http"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// The catalogues are public: anyone who may use the organisation's
// systems is entitled to know why they may be monitored and under which
// law (SI 2018/356 reg 4(1)(c)), signed in or not.

func (s *server) apiPurposes(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, struct {
		Purposes []policy.Purpose `json:"purposes"`
	}{s.cfg.Catalogue.Purposes})
}

func (s *server) apiLegislation(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, struct {
		Legislation []policy.Law `json:"legislation"`
	}{s.cfg.Catalogue.Legislation})
}

func (s *server) apiCriteria(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	writeJSON(w, http.StatusOK, struct {
		Criteria []policy.Criterion `json:"criteria"`
	}{s.cfg.Catalogue.Criteria})
}

func (s *server) purposesPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	page := &pages.Catalogue{Layout: s.layout(r, p, "Why we may monitor"), Heading: "Why we may monitor",
		Intro: []string{
			"The organisation records the use of its computer and communication systems, all the time. The law allows it to monitor its own systems only for the purposes below, and only after making every reasonable effort to tell everyone who uses them.",
			"No one may look at what you did on the systems without an authorisation for one of these purposes, given at the right level, limited in scope and time, and recorded where independent oversight can check it.",
		}}
	for _, it := range s.cfg.Catalogue.Purposes {
		item := pages.CatalogueItem{ID: it.ID, Title: it.Title, Explanation: it.Explanation, Reference: it.Reference, Verify: it.Verify}
		if it.MonitorOnly {
			item.Limits = append(item.Limits, "Monitor only: communications may be watched for this purpose, never recorded.")
		}
		if it.RestrictedTo != "" {
			item.Limits = append(item.Limits, "Only for "+it.RestrictedTo+".")
		}
		page.Items = append(page.Items, item)
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) legislationPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	page := &pages.Catalogue{Layout: s.layout(r, p, "The law"), Heading: "The law",
		Intro: []string{"The laws that allow, limit and govern monitoring of the organisation's systems, and protect the people who use them."}}
	for _, it := range s.cfg.Catalogue.Legislation {
		page.Items = append(page.Items, pages.CatalogueItem{ID: it.ID, Title: it.Title, Explanation: it.Explanation, Reference: it.Reference, Verify: it.Verify})
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) criteriaPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	page := &pages.Catalogue{Layout: s.layout(r, p, "How intrusion is weighed"), Heading: "How intrusion is weighed",
		Intro: []string{"Every request to monitor, record or review a person's information answers each of these questions, and whoever authorises it records a view on each. They come from the European Court of Human Rights (Bărbulescu v Romania)."}}
	for _, it := range s.cfg.Catalogue.Criteria {
		page.Items = append(page.Items, pages.CatalogueItem{ID: it.ID, Title: it.Title, Question: it.Question, Explanation: it.Explanation, Reference: it.Reference})
	}
	s.render(w, r, http.StatusOK, page)
}
