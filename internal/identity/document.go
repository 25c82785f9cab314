package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// A document is a whole file replaced under dual control, as the
// consent-level policy and the detection rules are: one administrator
// proposes a new file, which must parse and differ from the one in force,
// and a second approves it as the version after the one it was proposed
// against, if that is still the one in force.
type document struct {
	kind string // the change's kind and target
	// parse refuses a malformed file with an error naming the line.
	parse func(data []byte) error
	// current is the file in force and its version (0: built in).
	current func(ctx context.Context, st store.Store) ([]byte, int64, error)
}

// documentChange is the payload of a document's change: the file as
// proposed (ConsentPolicyChange and RulesChange have its shape).
type documentChange struct {
	YAML string `json:"yaml"`
}

// propose stores a pending change replacing the document with data.
func (d document) propose(ctx context.Context, st store.Store, actor Principal, data []byte, reason string, now time.Time) (store.Change, error) {
	if actor.Role != RoleAdmin {
		return store.Change{}, ErrNotAdmin
	}
	reason, err := checkReason(reason)
	if err != nil {
		return store.Change{}, err
	}
	if err := d.parse(data); err != nil {
		return store.Change{}, err
	}
	cur, base, err := d.current(ctx, st)
	if err != nil {
		return store.Change{}, err
	}
	if bytes.Equal(cur, data) {
		return store.Change{}, ErrNoChange
	}
	payload, _ := json.Marshal(documentChange{YAML: string(data)})
	return addChange(ctx, st, store.Change{Kind: d.kind, Target: d.kind, Payload: payload, Base: base,
		Reason: reason, ProposedBy: actor.Subject, Proposed: now})
}

// approved is the file c proposed, parsed again, and the version it
// becomes; ErrStale if the document has moved on since c was proposed.
func (d document) approved(ctx context.Context, st store.Store, c store.Change) ([]byte, int64, error) {
	var dc documentChange
	if err := json.Unmarshal(c.Payload, &dc); err != nil {
		return nil, 0, fmt.Errorf("change %s: reading payload: %v", c.ID, err)
	}
	if err := d.parse([]byte(dc.YAML)); err != nil {
		return nil, 0, err
	}
	_, base, err := d.current(ctx, st)
	if err != nil {
		return nil, 0, err
	}
	if base != c.Base {
		return nil, 0, ErrStale
	}
	return []byte(dc.YAML), c.Base + 1, nil
}
