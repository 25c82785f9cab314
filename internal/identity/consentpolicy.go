package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/store"
)

// The consent-level policy decides which rank must authorise a request to
// monitor, record or review, and whose advice it needs. Whoever could
// change it alone could lower the bar for their own request, so it is
// replaced as the catalogue is: one administrator proposes a whole file,
// a second approves it, and every approved version is kept.

// ChangeConsentPolicy is the kind, and the target, of a change replacing
// the consent-level policy.
const ChangeConsentPolicy = "consent_policy"

// ConsentPolicyChange is the payload of a "consent_policy" change: the
// policy file as proposed.
type ConsentPolicyChange struct {
	YAML string `json:"yaml"`
}

// RankIDs are the rank ids, lowest first: the order consent policies are
// parsed against and the request state machine compares ranks in.
func RankIDs() []string {
	ids := make([]string, len(ranks))
	for i, r := range ranks {
		ids[i] = string(r)
	}
	return ids
}

// ParseConsentPolicy parses a consent-level policy file against lbm's
// ranks; a malformed file is a *consent.ParseError naming the line.
func ParseConsentPolicy(data []byte) (*consent.Policy, error) {
	return consent.ParsePolicy(data, RankIDs())
}

// DefaultConsentPolicy returns the consent-level policy built into lbm,
// parsed against lbm's ranks.
func DefaultConsentPolicy() *consent.Policy {
	return consent.Default(RankIDs())
}

// CurrentConsentPolicyFile returns the consent-level policy in force: the
// latest approved version's file, or the embedded default (version 0)
// when none is stored.
func CurrentConsentPolicyFile(ctx context.Context, st store.ConsentPolicies) ([]byte, int64, error) {
	v, err := st.CurrentConsentPolicy(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return consent.DefaultFile(), 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the consent policy: %w", err)
	}
	return v.Policy, v.Version, nil
}

// CurrentConsentPolicy returns the consent-level policy in force, parsed,
// and its version (0: the default built into lbm).
func CurrentConsentPolicy(ctx context.Context, st store.ConsentPolicies) (*consent.Policy, int64, error) {
	f, v, err := CurrentConsentPolicyFile(ctx, st)
	if err != nil {
		return nil, 0, err
	}
	if v == 0 {
		return DefaultConsentPolicy(), 0, nil
	}
	p, err := ParseConsentPolicy(f)
	if err != nil {
		// Every stored version was parsed when proposed and again when
		// approved: this is a corrupt store, not a bad edit.
		return nil, 0, fmt.Errorf("consent policy version %d no longer parses: %w", v, err)
	}
	return p, v, nil
}

// ProposeConsentPolicyChange stores a pending change replacing the
// consent-level policy with the file data. The file must parse (a
// *consent.ParseError says where not) and differ from the one in force.
// Nothing changes until a second administrator approves it through
// [DecideChange], and a change proposed against a version that has since
// been replaced cannot be approved ([ErrStale]).
func ProposeConsentPolicyChange(ctx context.Context, st store.Store, actor Principal, data []byte, reason string, now time.Time) (store.Change, error) {
	return consentPolicyDocument.propose(ctx, st, actor, data, reason, now)
}

// consentPolicyDocument is the consent-level policy as a document under
// dual control.
var consentPolicyDocument = document{
	kind: ChangeConsentPolicy,
	parse: func(data []byte) error {
		_, err := ParseConsentPolicy(data)
		return err
	},
	current: func(ctx context.Context, st store.Store) ([]byte, int64, error) {
		return CurrentConsentPolicyFile(ctx, st)
	},
}

// consentPolicyEffect is what approving a consent policy change does: the
// proposed file, parsed again, as the version after the one it was
// proposed against, if that is still the one in force.
func consentPolicyEffect(ctx context.Context, st store.Store, c store.Change, actor Principal, now time.Time) (store.ChangeEffect, error) {
	policy, version, err := consentPolicyDocument.approved(ctx, st, c)
	if err != nil {
		return store.ChangeEffect{}, err
	}
	return store.ChangeEffect{ConsentPolicy: &store.ConsentPolicyVersion{
		Version: version, Policy: policy, Created: now, Change: c.ID, By: actor.Subject,
	}}, nil
}
