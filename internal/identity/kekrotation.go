package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/store"
)

// SecondFactorStore is what RewrapSecondFactors reads and writes.
type SecondFactorStore interface {
	ListPeople(ctx context.Context, q store.PeopleQuery) ([]store.Person, error)
	CredentialOf(ctx context.Context, person string) (store.Credential, error)
	PutCredential(ctx context.Context, c store.Credential) error
}

// RewrapSecondFactors rewraps every sealed second-factor secret under
// keks' current KEK, and returns how many it changed. A KEK rotation
// (internal/keys) calls it before the old KEK is removed: a TOTP secret
// carries no KEK id, so the old KEK would otherwise take every enrolled
// second factor with it.
//
// It reads each credential and writes it back whole, so it must run while
// no server uses the store (a sign-in between the read and the write
// would lose its accepted step); `lbm keys rotate-kek` holds the data
// directory's lock. A secret none of keks opens stops it with an error
// naming the person.
func RewrapSecondFactors(ctx context.Context, st SecondFactorStore, keks *keys.KEKRing) (int, error) {
	changed := 0
	q := store.PeopleQuery{Limit: 500}
	for {
		ps, err := st.ListPeople(ctx, q)
		if err != nil {
			return changed, fmt.Errorf("listing people: %w", err)
		}
		if len(ps) == 0 {
			return changed, nil
		}
		for _, p := range ps {
			c, err := st.CredentialOf(ctx, p.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return changed, fmt.Errorf("reading %s's credential: %w", p.ID, err)
			}
			if c.TOTPSecret == nil {
				continue
			}
			sealed, moved, err := keks.Rewrap(c.TOTPSecret, totpAAD(p.ID))
			if err != nil {
				return changed, fmt.Errorf("opening %s's second factor: %w", p.ID, err)
			}
			if !moved {
				continue
			}
			c.TOTPSecret = sealed
			if err := st.PutCredential(ctx, c); err != nil {
				return changed, fmt.Errorf("rewrapping %s's second factor: %w", p.ID, err)
			}
			changed++
		}
		q.After = ps[len(ps)-1].ID
	}
}
