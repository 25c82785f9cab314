package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/store"
)

// The detection rules in force are read by those who deal with what
// they raise (investigators, oversight) and by administrators, who
// replace them under dual control; each approved version is reloaded by
// the detectors on their next step.

// RulesJSON is the body of GET /v1/rules: the rule file in force and its
// version (0: the pack built into lbm).
type RulesJSON struct {
	Version int64  `json:"version"`
	YAML    string `json:"yaml"`
}

func (s *server) apiRules(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	f, v, err := identity.CurrentRulesFile(r.Context(), s.cfg.Store)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, RulesJSON{Version: v, YAML: string(f)})
}

func (s *server) apiRulesVersions(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	vs, err := s.cfg.Store.ListRuleSetVersions(r.Context())
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := struct {
		Current  int64                      `json:"current"`
		Versions []ConsentPolicyVersionJSON `json:"versions"`
	}{Versions: []ConsentPolicyVersionJSON{}}
	for _, v := range vs {
		out.Current = max(out.Current, v.Version)
		out.Versions = append(out.Versions, ConsentPolicyVersionJSON{Version: v.Version, Created: formatTime(v.Created), Change: v.Change, By: v.By})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) apiProposeRules(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in ConsentPolicyProposalJSON
	if err := decodeJSONUpTo(w, r, &in, maxDocumentBody); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	c, err := s.proposeRules(r, p, []byte(in.YAML), in.Reason)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, changeJSON(c))
}

// proposeRules proposes and records a rules change. The oversight leaf
// carries the proposed file's SHA-256, so that the log alone shows which
// rules were put up for approval.
func (s *server) proposeRules(r *http.Request, p identity.Principal, data []byte, reason string) (store.Change, error) {
	c, err := identity.ProposeRulesChange(r.Context(), s.cfg.Store, p, data, reason, s.cfg.Now())
	if err != nil {
		return store.Change{}, err
	}
	sum := sha256.Sum256(data)
	_, err = s.cfg.Record(r.Context(), p.Subject, "rules_change_proposed", map[string]any{
		"change": c.ID, "base_version": c.Base, "rules_sha256": hex.EncodeToString(sum[:]), "role": string(p.Role),
	})
	return c, err
}
