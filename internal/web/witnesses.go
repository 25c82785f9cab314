package web

import (
	"context"
	"net/http"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/witness"
)

// Witnesses has independent witnesses cosign the logs' checkpoints
// (internal/witness). Checkpoint returns the checkpoint GET
// /log/{log}/checkpoint serves, cosignature lines appended: store.ErrNotFound
// when the log published none, witness.ErrNotCosigned when the policy
// fails closed and none has its quorum yet. Report is the witnesses'
// status.
type Witnesses interface {
	Checkpoint(ctx context.Context, log string) ([]byte, error)
	Report() witness.Report
}

// apiWitnesses serves GET /v1/witnesses: the policy and each witness's
// status; no witnesses (and quorum 0) when none is configured.
func (s *server) apiWitnesses(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	rep := witness.Report{Witnesses: []witness.WitnessReport{}}
	if s.cfg.Witnesses != nil {
		rep = s.cfg.Witnesses.Report()
	}
	writeJSON(w, http.StatusOK, rep)
}
