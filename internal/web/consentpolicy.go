package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// The consent-level policy decides which rank authorises a request and
// whose advice it needs. Anyone signed in may read the policy in force, so
// that an investigator can see what their request will need; oversight
// reads its history; administrators replace it under dual control, as the
// catalogue is, and every approved version is kept.

// ConsentPolicyJSON is the body of GET /v1/consent-policy (and of GET
// /v1/rules): the file in force and its version (0: the one built into
// lbm).
type ConsentPolicyJSON struct {
	Version int64  `json:"version"`
	YAML    string `json:"yaml"`
}

// ConsentPolicyVersionJSON is one approved version in GET
// /v1/consent-policy/versions (and /v1/rules/versions): when, by which
// change, approved by whom.
type ConsentPolicyVersionJSON struct {
	Version int64  `json:"version"`
	Created string `json:"created"`
	Change  string `json:"change"`
	By      string `json:"by"`
}

func (s *server) apiConsentPolicy(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	s.apiDocument(w, r, consentPolicyDocument)
}

func (s *server) apiConsentPolicyVersions(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	s.apiDocumentVersions(w, r, consentPolicyDocument)
}

func (s *server) apiProposeConsentPolicy(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.apiProposeDocument(w, r, p, consentPolicyDocument)
}

// ConsentPolicyProposalJSON is the body of POST /v1/consent-policy/changes
// and /v1/rules/changes: the whole file, as YAML, and why.
type ConsentPolicyProposalJSON struct {
	YAML   string `json:"yaml"`
	Reason string `json:"reason"`
}

func (s *server) consentPolicyPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	f, current, err := identity.CurrentConsentPolicyFile(ctx, s.cfg.Store)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	vs, err := s.cfg.Store.ListConsentPolicyVersions(ctx)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.ConsentPolicyHistory{Layout: s.layout(r, p, "Authorisation levels"), Current: strconv.FormatInt(current, 10),
		Policy: string(f), CanEdit: p.Role == identity.RoleAdmin}
	for _, v := range vs {
		row := pages.VersionRow{Version: strconv.FormatInt(v.Version, 10), Created: displayTime(v.Created), Change: v.Change, ApprovedBy: v.By}
		if c, err := s.cfg.Store.ChangeByID(ctx, v.Change); err == nil {
			row.ProposedBy, row.Reason = c.ProposedBy, c.Reason
		}
		page.Rows = append(page.Rows, row)
	}
	page.Rows = append(page.Rows, pages.VersionRow{Version: "0", Reason: "The policy built into lbm, from LEGAL.md"})
	s.render(w, r, http.StatusOK, page)
}

func (s *server) consentPolicyEditPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	f, v, err := identity.CurrentConsentPolicyFile(r.Context(), s.cfg.Store)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, &pages.ConsentPolicyEdit{Layout: s.layout(r, p, "Propose a change to the authorisation levels"),
		Version: strconv.FormatInt(v, 10), YAML: string(f)})
}

func (s *server) consentPolicyEdit(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseFormUpTo(w, r, maxDocumentBody); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	data, reason := r.PostFormValue("yaml"), r.PostFormValue("reason")
	_, err := s.proposeDocument(r, p, consentPolicyDocument, []byte(data), reason)
	if err == nil {
		http.Redirect(w, r, "/changes?proposed=consent_policy", http.StatusSeeOther)
		return
	}
	page := &pages.ConsentPolicyEdit{Layout: s.layout(r, p, "Propose a change to the authorisation levels"), YAML: data, Reason: reason}
	_, v, _ := identity.CurrentConsentPolicyFile(r.Context(), s.cfg.Store)
	page.Version = strconv.FormatInt(v, 10)
	var pe *consent.ParseError
	if errors.As(err, &pe) {
		err = &validationError{"yaml", pe.Error()}
	}
	var ok bool
	if page.Errors, ok = documentErrors(err, "The file is the same as the policy in force: change something first"); !ok {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, page)
}

// documentErrors says against the form's fields why a proposed document
// under dual control (a policy or rule file) was refused: a file that
// does not parse (as a validationError on "yaml"), a ChangeError, or a
// file the same as the one in force (same says so). False for any other
// error, which is not the proposer's to fix.
func documentErrors(err error, same string) ([]pages.FieldError, bool) {
	var ve *validationError
	var ce *identity.ChangeError
	switch {
	case errors.As(err, &ve):
		return []pages.FieldError{{Field: ve.Field, Message: ve.Msg}}, true
	case errors.As(err, &ce):
		return []pages.FieldError{{Field: ce.Field, Message: ce.Msg}}, true
	case errors.Is(err, identity.ErrNoChange):
		return []pages.FieldError{{Field: "yaml", Message: same}}, true
	}
	return nil, false
}

// consentPolicyChangePage shows what a proposed policy change changes,
// against the version it was proposed on.
func (s *server) consentPolicyChangePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	c, err := s.cfg.Store.ChangeByID(ctx, r.PathValue("id"))
	if err != nil || c.Kind != identity.ChangeConsentPolicy {
		s.pageError(w, r, p, errNotFound)
		return
	}
	var proposed identity.ConsentPolicyChange
	if err := json.Unmarshal(c.Payload, &proposed); err != nil {
		s.pageError(w, r, p, fmt.Errorf("change %s: reading payload: %w", c.ID, err))
		return
	}
	base := consent.DefaultFile()
	if c.Base > 0 {
		v, err := s.cfg.Store.ConsentPolicyByVersion(ctx, c.Base)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		base = v.Policy
	}
	s.render(w, r, http.StatusOK, &pages.ConsentPolicyChange{Layout: s.layout(r, p, "Change to the authorisation levels"),
		Change: s.changeRow(c, p), Files: []pages.FileDiff{fileDiff("policy.yaml", base, []byte(proposed.YAML))}})
}

// fileDiff is the changed lines of a file, in hunks with three lines of
// context, as pages show them.
func fileDiff(name string, old, new []byte) pages.FileDiff {
	fd := pages.FileDiff{Name: name}
	for _, h := range policy.Diff(old, new, 3) {
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
	return fd
}
