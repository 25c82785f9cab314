package authorise

import (
	"context"
	"sync"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/store"
)

// PolicyInForce returns a Service.Policy that reads the consent-level
// policy in force from st, parsing (and compiling its CEL) once per
// approved version rather than on every request.
func PolicyInForce(st store.ConsentPolicies) func(ctx context.Context) (*consent.Policy, error) {
	var mu sync.Mutex
	version := int64(-1)
	var parsed *consent.Policy
	return func(ctx context.Context) (*consent.Policy, error) {
		data, v, err := identity.CurrentConsentPolicyFile(ctx, st)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if v == version {
			return parsed, nil
		}
		p := identity.DefaultConsentPolicy()
		if v != 0 {
			if p, err = identity.ParseConsentPolicy(data); err != nil {
				return nil, err
			}
		}
		version, parsed = v, p
		return p, nil
	}
}
