package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/lbm-project/lbm/internal/store"
)

// RewrapOptions tunes [Rewrap]. Zero values are the defaults.
type RewrapOptions struct {
	// Batch is how many data keys one listing reads. Default 500.
	Batch int
	// Progress, when set, is called after each batch with the number of
	// keys rewrapped so far by this call.
	Progress func(rewrapped int)
}

// Rewrap rewraps, under keks' current KEK, every live data key that one of
// its older KEKs wraps, and returns how many it rewrapped. It reads in
// batches and rewraps each key by itself with a compare-and-swap
// ([store.KEKRotation.RewrapDataKey]), so it may stop at any point (an
// error, ctx ending, a crash) and be run again: keys already rewrapped are
// no longer listed, and a key destroyed meanwhile is skipped, never
// revived.
//
// Before rewrapping anything it checks that keks holds every KEK that
// wraps a live key: a key under a KEK it lacks is an *UnknownKEKError and
// nothing is rewrapped. Each key is unwrapped with the binding to its id,
// subject and period, so a tampered row stops the rewrap with ErrDecrypt
// rather than being rewrapped into a valid one.
func Rewrap(ctx context.Context, st store.KEKRotation, keks *KEKRing, opt RewrapOptions) (int, error) {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	count, err := st.CountDataKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("counting data keys: %w", err)
	}
	var from []KEK
	for _, id := range slices.Sorted(maps.Keys(count.Live)) {
		if id == keks.ID() || count.Live[id] == 0 {
			continue
		}
		k, err := keks.KEK(id)
		if err != nil {
			return 0, fmt.Errorf("%d data keys: %w", count.Live[id], err)
		}
		from = append(from, k)
	}
	to := keks.Current()
	done := 0
	for _, old := range from {
		var after []byte
		for {
			// Checked here as well as by the store, so that an interrupt
			// stops between batches whatever the store does with ctx.
			if err := ctx.Err(); err != nil {
				return done, err
			}
			batch, err := st.DataKeysWrappedBy(ctx, old.ID(), after, opt.Batch)
			if err != nil {
				return done, fmt.Errorf("listing data keys under %s: %w", old.ID(), err)
			}
			if len(batch) == 0 {
				break
			}
			for _, dk := range batch {
				ok, err := rewrapOne(ctx, st, old, to, dk)
				if err != nil {
					return done, err
				}
				if ok {
					done++
				}
			}
			after = bytes.Clone(batch[len(batch)-1].ID)
			if opt.Progress != nil {
				opt.Progress(done)
			}
		}
	}
	return done, nil
}

// rewrapOne moves one data key from old to to; false when another writer
// moved or destroyed it first.
func rewrapOne(ctx context.Context, st store.KEKRotation, old, to KEK, dk store.DataKey) (bool, error) {
	aad := wrapAAD(dk.ID, dk.Subject, dk.Period)
	raw, err := old.Unwrap(dk.Wrapped, aad)
	if err != nil {
		return false, fmt.Errorf("unwrapping data key %x: %w", dk.ID, err)
	}
	wrapped, err := to.Wrap(raw, aad)
	clear(raw)
	if err != nil {
		return false, fmt.Errorf("wrapping data key %x: %v", dk.ID, err)
	}
	err = st.RewrapDataKey(ctx, dk.ID, old.ID(), to.ID(), wrapped)
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("rewrapping data key %x: %w", dk.ID, err)
	}
	return true, nil
}

// Rewrap returns wrapped, which one of r's KEKs wrapped bound to aad,
// wrapped under the current KEK; changed is false, and out is wrapped,
// when the current KEK wraps it already. It is for secrets stored without
// a KEK id (second factors); data keys name theirs and go through
// [Rewrap].
func (r *KEKRing) Rewrap(wrapped, aad []byte) (out []byte, changed bool, err error) {
	if key, err := r.current.Unwrap(wrapped, aad); err == nil {
		clear(key)
		return wrapped, false, nil
	}
	key, err := r.Unwrap(wrapped, aad)
	if err != nil {
		return nil, false, err
	}
	defer clear(key)
	out, err = r.current.Wrap(key, aad)
	return out, err == nil, err
}
