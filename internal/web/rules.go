package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/detect/pack"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// The detection rules in force are read by those who deal with what
// they raise (investigators, oversight) and by administrators, who
// replace them under dual control; each approved version is reloaded by
// the detectors on their next step.

func (s *server) apiRules(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	s.apiDocument(w, r, rulesDocument)
}

func (s *server) apiRulesVersions(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	s.apiDocumentVersions(w, r, rulesDocument)
}

func (s *server) apiProposeRules(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.apiProposeDocument(w, r, p, rulesDocument)
}

func (s *server) rulesPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	f, current, err := identity.CurrentRulesFile(ctx, s.cfg.Store)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	vs, err := s.cfg.Store.ListRuleSetVersions(ctx)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.RulesHistory{Layout: s.layout(r, p, "Detection rules"), Current: strconv.FormatInt(current, 10),
		YAML: string(f), CanEdit: p.Role == identity.RoleAdmin}
	// Every stored version parsed when it was approved, but the detection
	// catalogue may have moved on since; the page then says so rather than
	// failing, since the history is what oversight needs to see.
	rules, err := identity.ParseRules(f)
	if err != nil {
		page.Unreadable = err.Error()
	}
	for _, rule := range rules {
		page.Rules = append(page.Rules, pages.RuleRow{ID: rule.ID, Title: rule.Title, Severity: string(rule.Severity),
			SeverityColour: severityColours[string(rule.Severity)], SpecialCategory: rule.SpecialCategory, Lists: rule.Lists})
	}
	for _, v := range vs {
		row := pages.VersionRow{Version: strconv.FormatInt(v.Version, 10), Created: displayTime(v.Created), Change: v.Change, ApprovedBy: v.By}
		if c, err := s.cfg.Store.ChangeByID(ctx, v.Change); err == nil {
			row.ProposedBy, row.Reason = c.ProposedBy, c.Reason
		}
		page.Rows = append(page.Rows, row)
	}
	page.Rows = append(page.Rows, pages.VersionRow{Version: "0", Reason: "The rules built into lbm"})
	s.render(w, r, http.StatusOK, page)
}

func (s *server) rulesEditPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	f, v, err := identity.CurrentRulesFile(r.Context(), s.cfg.Store)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, &pages.RulesEdit{Layout: s.layout(r, p, "Propose a change to the detection rules"),
		Version: strconv.FormatInt(v, 10), YAML: string(f)})
}

func (s *server) rulesEdit(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseFormUpTo(w, r, maxDocumentBody); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	data, reason := r.PostFormValue("yaml"), r.PostFormValue("reason")
	_, err := s.proposeDocument(r, p, rulesDocument, []byte(data), reason)
	if err == nil {
		http.Redirect(w, r, "/changes?proposed=rules", http.StatusSeeOther)
		return
	}
	page := &pages.RulesEdit{Layout: s.layout(r, p, "Propose a change to the detection rules"), YAML: data, Reason: reason}
	_, v, _ := identity.CurrentRulesFile(r.Context(), s.cfg.Store)
	page.Version = strconv.FormatInt(v, 10)
	var pe *detect.ParseError
	if errors.As(err, &pe) {
		err = &validationError{"yaml", pe.Error()}
	}
	var ok bool
	if page.Errors, ok = documentErrors(err, "The file is the same as the rules in force: change something first"); !ok {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, page)
}

// rulesChangePage shows what a proposed rules change changes, against the
// version it was proposed on.
func (s *server) rulesChangePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	c, err := s.cfg.Store.ChangeByID(ctx, r.PathValue("id"))
	if err != nil || c.Kind != identity.ChangeRules {
		s.pageError(w, r, p, errNotFound)
		return
	}
	var proposed identity.RulesChange
	if err := json.Unmarshal(c.Payload, &proposed); err != nil {
		s.pageError(w, r, p, fmt.Errorf("change %s: reading payload: %w", c.ID, err))
		return
	}
	base := pack.YAML
	if c.Base > 0 {
		v, err := s.cfg.Store.RuleSetByVersion(ctx, c.Base)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		base = v.Rules
	}
	s.render(w, r, http.StatusOK, &pages.RulesChange{Layout: s.layout(r, p, "Change to the detection rules"),
		Change: s.changeRow(c, p), Files: []pages.FileDiff{fileDiff("rules.yaml", base, []byte(proposed.YAML))}})
}
