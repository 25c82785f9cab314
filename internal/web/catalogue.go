package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// The catalogues are public: anyone who may use the organisation's
// systems is entitled to know why they may be monitored and under which
// law (SI 2018/356 reg 4(1)(c)), signed in or not. Administrators change
// them under dual control; every approved version is kept.

// catalogueCache holds the parsed catalogue of one version, so that a
// request parses the YAML only when the version in force has changed.
type catalogueCache struct {
	mu      sync.Mutex
	version int64
	valid   bool
	cat     policy.Catalogue
}

// catalogue returns the catalogue in force and its version (0: built in).
func (s *server) catalogue(ctx context.Context) (policy.Catalogue, int64, error) {
	f, v, err := identity.CurrentCatalogueFiles(ctx, s.cfg.Store)
	if err != nil {
		return policy.Catalogue{}, 0, err
	}
	if v == 0 {
		return policy.Default(), 0, nil
	}
	c := &s.catalogues
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.version != v {
		cat, err := f.Parse()
		if err != nil {
			return policy.Catalogue{}, 0, fmt.Errorf("catalogue version %d no longer parses: %w", v, err)
		}
		c.cat, c.version, c.valid = cat, v, true
	}
	return c.cat, c.version, nil
}

// CatalogueJSON is the body of GET /v1/purposes, /v1/legislation and
// /v1/criteria: one list, and the catalogue version it comes from.
func (s *server) apiCatalogue(list func(policy.Catalogue) (string, any)) handlerFunc {
	return func(s *server, w http.ResponseWriter, r *http.Request, _ identity.Principal) {
		cat, version, err := s.catalogue(r.Context())
		if err != nil {
			writeProblem(w, r, s.cfg.Logger, err)
			return
		}
		key, items := list(cat)
		writeJSON(w, http.StatusOK, map[string]any{key: items, "catalogue_version": version})
	}
}

func (s *server) apiPurposes(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.apiCatalogue(func(c policy.Catalogue) (string, any) { return "purposes", c.Purposes })(s, w, r, p)
}

func (s *server) apiLegislation(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.apiCatalogue(func(c policy.Catalogue) (string, any) { return "legislation", c.Legislation })(s, w, r, p)
}

func (s *server) apiCriteria(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.apiCatalogue(func(c policy.Catalogue) (string, any) { return "criteria", c.Criteria })(s, w, r, p)
}

func (s *server) purposesPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	cat, _, err := s.catalogue(r.Context())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Catalogue{Layout: s.layout(r, p, "Why we may monitor"), Heading: "Why we may monitor",
		Intro: []string{
			"The organisation records the use of its computer and communication systems, all the time. The law allows it to monitor its own systems only for the purposes below, and only after making every reasonable effort to tell everyone who uses them.",
			"No one may look at what you did on the systems without an authorisation for one of these purposes, given at the right level, limited in scope and time, and recorded where independent oversight can check it.",
		}}
	for _, it := range cat.Purposes {
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
	cat, _, err := s.catalogue(r.Context())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Catalogue{Layout: s.layout(r, p, "The law"), Heading: "The law",
		Intro: []string{"The laws that allow, limit and govern monitoring of the organisation's systems, and protect the people who use them."}}
	for _, it := range cat.Legislation {
		page.Items = append(page.Items, pages.CatalogueItem{ID: it.ID, Title: it.Title, Explanation: it.Explanation, Reference: it.Reference, Verify: it.Verify})
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) criteriaPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	cat, _, err := s.catalogue(r.Context())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Catalogue{Layout: s.layout(r, p, "How intrusion is weighed"), Heading: "How intrusion is weighed",
		Intro: []string{"Every request to monitor, record or review a person's information answers each of these questions, and whoever authorises it records a view on each. They come from the European Court of Human Rights (Bărbulescu v Romania)."}}
	for _, it := range cat.Criteria {
		page.Items = append(page.Items, pages.CatalogueItem{ID: it.ID, Title: it.Title, Question: it.Question, Explanation: it.Explanation, Reference: it.Reference})
	}
	s.render(w, r, http.StatusOK, page)
}

// CatalogueVersionJSON is one catalogue version in GET /v1/catalogue/versions.
type CatalogueVersionJSON struct {
	Version     int64  `json:"version"`
	Created     string `json:"created"`
	Change      string `json:"change"`
	Purposes    string `json:"purposes,omitempty"`
	Legislation string `json:"legislation,omitempty"`
	Criteria    string `json:"criteria,omitempty"`
	Categories  string `json:"categories,omitempty"`
}

func catalogueVersionJSON(v store.CatalogueVersion, files bool) CatalogueVersionJSON {
	out := CatalogueVersionJSON{Version: v.Version, Created: formatTime(v.Created), Change: v.Change}
	if files {
		// A version approved before the catalogue carried categories
		// shows the built-in ones, which were in force with it.
		f := identity.VersionFiles(v)
		out.Purposes, out.Legislation, out.Criteria, out.Categories = string(f.Purposes), string(f.Legislation), string(f.Criteria), string(f.Categories)
	}
	return out
}

func (s *server) apiCatalogueVersions(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	vs, err := s.cfg.Store.ListCatalogueVersions(r.Context())
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := struct {
		Current  int64                  `json:"current"`
		Versions []CatalogueVersionJSON `json:"versions"`
	}{Versions: []CatalogueVersionJSON{}}
	for _, v := range vs {
		out.Current = max(out.Current, v.Version)
		out.Versions = append(out.Versions, catalogueVersionJSON(v, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) apiCatalogueVersion(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	n, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || n < 0 {
		writeProblem(w, r, s.cfg.Logger, errNotFound)
		return
	}
	v := store.CatalogueVersion{Version: 0}
	if n == 0 {
		f := policy.DefaultFiles()
		v.Purposes, v.Legislation, v.Criteria, v.Categories = f.Purposes, f.Legislation, f.Criteria, f.Categories
	} else if v, err = s.cfg.Store.CatalogueByVersion(r.Context(), n); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, catalogueVersionJSON(v, true))
}

// CatalogueProposalJSON is the body of POST /v1/catalogue/changes: the
// catalogue files in full, as YAML, and why. Categories (categories.yaml,
// the retention schedule) may be left out, or null, to keep the one in
// force; the other three are required.
type CatalogueProposalJSON struct {
	Purposes    string  `json:"purposes"`
	Legislation string  `json:"legislation"`
	Criteria    string  `json:"criteria"`
	Categories  *string `json:"categories"`
	Reason      string  `json:"reason"`
}

func (s *server) apiProposeCatalogue(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in CatalogueProposalJSON
	if err := decodeJSONUpTo(w, r, &in, maxDocumentBody); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	// Clients written before the catalogue carried the schedule send
	// three files: they change those and keep the schedule.
	cc := identity.CatalogueChange{Purposes: in.Purposes, Legislation: in.Legislation, Criteria: in.Criteria, KeepCategories: in.Categories == nil}
	if in.Categories != nil {
		cc.Categories = *in.Categories
	}
	c, err := s.proposeCatalogue(r, p, cc, in.Reason)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, changeJSON(c))
}

func (s *server) proposeCatalogue(r *http.Request, p identity.Principal, cc identity.CatalogueChange, reason string) (store.Change, error) {
	c, err := identity.ProposeCatalogueChange(r.Context(), s.cfg.Store, p, cc, reason, s.cfg.Now())
	if err != nil {
		return store.Change{}, err
	}
	_, err = s.cfg.Record(r.Context(), p.Subject, "catalogue_change_proposed", map[string]any{
		"change": c.ID, "base_version": c.Base, "role": string(p.Role),
	})
	return c, err
}

func (s *server) catalogueHistoryPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	vs, err := s.cfg.Store.ListCatalogueVersions(ctx)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.CatalogueHistory{Layout: s.layout(r, p, "Catalogue history"), Current: "0", CanEdit: p.Role == identity.RoleAdmin}
	for i, v := range vs {
		if i == 0 {
			page.Current = strconv.FormatInt(v.Version, 10)
		}
		row := pages.VersionRow{Version: strconv.FormatInt(v.Version, 10), Created: displayTime(v.Created), Change: v.Change}
		if c, err := s.cfg.Store.ChangeByID(ctx, v.Change); err == nil {
			row.ProposedBy, row.ApprovedBy, row.Reason = c.ProposedBy, c.DecidedBy, c.Reason
		}
		page.Rows = append(page.Rows, row)
	}
	page.Rows = append(page.Rows, pages.VersionRow{Version: "0", Reason: "The catalogue built into lbm, from LEGAL.md"})
	s.render(w, r, http.StatusOK, page)
}

func (s *server) catalogueEditPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	f, v, err := identity.CurrentCatalogueFiles(r.Context(), s.cfg.Store)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, &pages.CatalogueEdit{Layout: s.layout(r, p, "Propose a catalogue change"),
		Version: strconv.FormatInt(v, 10), Purposes: string(f.Purposes), Legislation: string(f.Legislation), Criteria: string(f.Criteria),
		Categories: string(f.Categories)})
}

func (s *server) catalogueEdit(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseFormUpTo(w, r, maxDocumentBody); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	cc := identity.CatalogueChange{Purposes: r.PostFormValue("purposes"), Legislation: r.PostFormValue("legislation"), Criteria: r.PostFormValue("criteria"),
		Categories: r.PostFormValue("categories")}
	reason := r.PostFormValue("reason")
	_, err := s.proposeCatalogue(r, p, cc, reason)
	if err == nil {
		http.Redirect(w, r, "/changes?proposed=catalogue", http.StatusSeeOther)
		return
	}
	var pe *policy.ParseError
	var ce *identity.ChangeError
	page := &pages.CatalogueEdit{Layout: s.layout(r, p, "Propose a catalogue change"),
		Purposes: cc.Purposes, Legislation: cc.Legislation, Criteria: cc.Criteria, Categories: cc.Categories, Reason: reason}
	_, v, _ := identity.CurrentCatalogueFiles(r.Context(), s.cfg.Store)
	page.Version = strconv.FormatInt(v, 10)
	switch {
	case errors.As(err, &pe):
		page.Errors = []pages.FieldError{{Field: catalogueField(pe.File), Message: pe.Error()}}
	case errors.As(err, &ce):
		page.Errors = []pages.FieldError{{Field: ce.Field, Message: ce.Msg}}
	case errors.Is(err, identity.ErrNoChange):
		page.Errors = []pages.FieldError{{Field: "purposes", Message: "The files are the same as the catalogue in force: change something first"}}
	default:
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, page)
}

// catalogueField is the form field of a catalogue file's ParseError.
func catalogueField(file string) string {
	switch file {
	case "legislation.yaml":
		return "legislation"
	case "criteria.yaml":
		return "criteria"
	case "categories.yaml":
		return "categories"
	}
	return "purposes"
}

// catalogueChangePage shows what a proposed catalogue change changes,
// against the version it was proposed on.
func (s *server) catalogueChangePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	c, err := s.cfg.Store.ChangeByID(ctx, r.PathValue("id"))
	if err != nil || c.Kind != identity.ChangeCatalogue {
		s.pageError(w, r, p, errNotFound)
		return
	}
	var proposed identity.CatalogueChange
	if err := json.Unmarshal(c.Payload, &proposed); err != nil {
		s.pageError(w, r, p, fmt.Errorf("change %s: reading payload: %w", c.ID, err))
		return
	}
	base := policy.DefaultFiles()
	if c.Base > 0 {
		v, err := s.cfg.Store.CatalogueByVersion(ctx, c.Base)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		base = identity.VersionFiles(v)
	}
	next := proposed.Files(base)
	page := &pages.CatalogueChange{Layout: s.layout(r, p, "Catalogue change"), Change: s.changeRow(c, p)}
	for _, f := range []struct {
		name     string
		old, new []byte
	}{
		{"purposes.yaml", base.Purposes, next.Purposes},
		{"legislation.yaml", base.Legislation, next.Legislation},
		{"criteria.yaml", base.Criteria, next.Criteria},
		{"categories.yaml", base.Categories, next.Categories},
	} {
		fd := pages.FileDiff{Name: f.name}
		for _, h := range policy.Diff(f.old, f.new, 3) {
			var rows []pages.DiffRow
			for _, l := range h {
				row := pages.DiffRow{Op: map[byte]string{' ': "kept", '-': "removed", '+': "added"}[l.Op], Text: l.Text}
				if l.Old > 0 {
					row.Old = strconv.Itoa(l.Old)
				}
				if l.New > 0 {
					row.New = strconv.Itoa(l.New)
				}
				rows = append(rows, row)
			}
			fd.Hunks = append(fd.Hunks, rows)
		}
		page.Files = append(page.Files, fd)
	}
	s.render(w, r, http.StatusOK, page)
}
