package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/detect/pack"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
)

// The detection rules decide who is flagged for possible misconduct.
// Whoever could change them alone could blind them to their own conduct
// or aim them at someone, so they are replaced as the consent-level
// policy is: one administrator proposes a whole rule file, a second
// approves it, every approved version is kept, and the detectors reload
// the new version on their next step.

// ChangeRules is the kind, and the target, of a change replacing the
// detection rules.
const ChangeRules = "rules"

// RulesChange is the payload of a "rules" change: the rule file as
// proposed.
type RulesChange struct {
	YAML string `json:"yaml"`
}

// ParseRules parses a rule file against the detection catalogue; a
// malformed file is a *detect.ParseError naming the line.
func ParseRules(data []byte) ([]*detect.Rule, error) {
	return detect.Parse("rules.yaml", data, policy.DefaultDetection())
}

// CurrentRulesFile returns the rule file in force: the latest approved
// version's, or the built-in pack's (version 0) when none is stored.
func CurrentRulesFile(ctx context.Context, st store.RuleSets) ([]byte, int64, error) {
	v, err := st.CurrentRuleSet(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return pack.YAML, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the detection rules: %w", err)
	}
	return v.Rules, v.Version, nil
}

// ProposeRulesChange stores a pending change replacing the detection
// rules with the file data, which must parse and differ from the rules in
// force. Nothing changes until a second administrator approves it through
// [DecideChange].
func ProposeRulesChange(ctx context.Context, st store.Store, actor Principal, data []byte, reason string, now time.Time) (store.Change, error) {
	return rulesDocument.propose(ctx, st, actor, data, reason, now)
}

// rulesDocument is the detection rules as a document under dual control.
var rulesDocument = document{
	kind: ChangeRules,
	parse: func(data []byte) error {
		_, err := ParseRules(data)
		return err
	},
	current: func(ctx context.Context, st store.Store) ([]byte, int64, error) { return CurrentRulesFile(ctx, st) },
}

// rulesEffect is what approving a rules change does: the proposed file,
// parsed again, as the version after the one it was proposed against, if
// that is still the one in force.
func rulesEffect(ctx context.Context, st store.Store, c store.Change, actor Principal, now time.Time) (store.ChangeEffect, error) {
	rules, version, err := rulesDocument.approved(ctx, st, c)
	if err != nil {
		return store.ChangeEffect{}, err
	}
	return store.ChangeEffect{RuleSet: &store.RuleSetVersion{
		Version: version, Rules: rules, Created: now, Change: c.ID, By: actor.Subject,
	}}, nil
}
