package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/store"
)

// A dualControlDocument is one YAML file that administrators replace under
// dual control and every approved version of which is kept: the
// consent-level policy and the detection rules. The API reads the file in
// force and its versions, and proposes a new file, the same way for both.
type dualControlDocument struct {
	// current returns the file in force and its version (0: built in).
	current func(ctx context.Context, st store.Store) ([]byte, int64, error)
	// versions lists the approved versions, newest first.
	versions func(ctx context.Context, st store.Store) ([]ConsentPolicyVersionJSON, error)
	// propose stores a pending change to data.
	propose func(ctx context.Context, st store.Store, p identity.Principal, data []byte, reason string, now time.Time) (store.Change, error)
	// proposed is the oversight-log action of a proposal, and sumKey the
	// detail carrying the proposed file's SHA-256.
	proposed, sumKey string
}

var consentPolicyDocument = dualControlDocument{
	current: func(ctx context.Context, st store.Store) ([]byte, int64, error) {
		return identity.CurrentConsentPolicyFile(ctx, st)
	},
	versions: func(ctx context.Context, st store.Store) ([]ConsentPolicyVersionJSON, error) {
		vs, err := st.ListConsentPolicyVersions(ctx)
		out := make([]ConsentPolicyVersionJSON, 0, len(vs))
		for _, v := range vs {
			out = append(out, ConsentPolicyVersionJSON{Version: v.Version, Created: formatTime(v.Created), Change: v.Change, By: v.By})
		}
		return out, err
	},
	propose:  identity.ProposeConsentPolicyChange,
	proposed: "consent_policy_change_proposed", sumKey: "policy_sha256",
}

var rulesDocument = dualControlDocument{
	current: func(ctx context.Context, st store.Store) ([]byte, int64, error) {
		return identity.CurrentRulesFile(ctx, st)
	},
	versions: func(ctx context.Context, st store.Store) ([]ConsentPolicyVersionJSON, error) {
		vs, err := st.ListRuleSetVersions(ctx)
		out := make([]ConsentPolicyVersionJSON, 0, len(vs))
		for _, v := range vs {
			out = append(out, ConsentPolicyVersionJSON{Version: v.Version, Created: formatTime(v.Created), Change: v.Change, By: v.By})
		}
		return out, err
	},
	propose:  identity.ProposeRulesChange,
	proposed: "rules_change_proposed", sumKey: "rules_sha256",
}

// apiDocument is GET of the file in force: {"version","yaml"}.
func (s *server) apiDocument(w http.ResponseWriter, r *http.Request, d dualControlDocument) {
	f, v, err := d.current(r.Context(), s.cfg.Store)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, ConsentPolicyJSON{Version: v, YAML: string(f)})
}

// apiDocumentVersions is GET of the approved versions:
// {"current","versions":[…]}.
func (s *server) apiDocumentVersions(w http.ResponseWriter, r *http.Request, d dualControlDocument) {
	vs, err := d.versions(r.Context(), s.cfg.Store)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := struct {
		Current  int64                      `json:"current"`
		Versions []ConsentPolicyVersionJSON `json:"versions"`
	}{Versions: vs}
	for _, v := range vs {
		out.Current = max(out.Current, v.Version)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiProposeDocument is POST of a whole new file and why:
// {"yaml","reason"} → 201 and the change.
func (s *server) apiProposeDocument(w http.ResponseWriter, r *http.Request, p identity.Principal, d dualControlDocument) {
	var in ConsentPolicyProposalJSON
	if err := decodeJSONUpTo(w, r, &in, maxDocumentBody); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	c, err := s.proposeDocument(r, p, d, []byte(in.YAML), in.Reason)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, changeJSON(c))
}

// proposeDocument proposes and records a change; pages and the API share
// it. The oversight leaf carries the proposed file's SHA-256, so that the
// log alone shows which text was put up for approval.
func (s *server) proposeDocument(r *http.Request, p identity.Principal, d dualControlDocument, data []byte, reason string) (store.Change, error) {
	c, err := d.propose(r.Context(), s.cfg.Store, p, data, reason, s.cfg.Now())
	if err != nil {
		return store.Change{}, err
	}
	sum := sha256.Sum256(data)
	_, err = s.cfg.Record(r.Context(), p.Subject, d.proposed, map[string]any{
		"change": c.ID, "base_version": c.Base, d.sumKey: hex.EncodeToString(sum[:]), "role": string(p.Role),
	})
	return c, err
}
