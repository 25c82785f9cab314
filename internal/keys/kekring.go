package keys

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// KEKRing is the set of key-encryption keys a node holds: one current KEK,
// which wraps every new data key, and older ones kept only to unwrap the
// data keys that name them until a rotation has rewrapped those (see
// [Rotate] and docs/keys.md).
//
// A KEKRing is itself a [KEK] that acts as its current KEK, so the places
// that take one KEK (second-factor secrets, [NewRing]) take a ring
// unchanged. [Ring] finds the ring's KEKs by type assertion and unwraps
// each data key with the KEK its KEKID names.
type KEKRing struct {
	current KEK
	older   []KEK // by id, so that Unwrap's trial order is stable
	byID    map[string]KEK
}

var _ KEK = (*KEKRing)(nil)

// UnknownKEKError reports a data key wrapped by a KEK the ring does not
// hold: an old KEK removed before every key under it was rewrapped, or a
// keys database that belongs to another node. It names the KEK by its id,
// a hash that says nothing of the key.
type UnknownKEKError struct {
	ID string
}

func (e *UnknownKEKError) Error() string {
	return fmt.Sprintf("key-encryption key %s is not configured", e.ID)
}

// NewKEKRing returns a ring whose current KEK is current, able to unwrap
// under older too. Two KEKs with one id are refused: the ring could not
// tell them apart.
func NewKEKRing(current KEK, older ...KEK) (*KEKRing, error) {
	if current == nil {
		return nil, errors.New("no current key-encryption key")
	}
	r := &KEKRing{current: current, byID: map[string]KEK{current.ID(): current}}
	for _, k := range older {
		if _, dup := r.byID[k.ID()]; dup {
			return nil, fmt.Errorf("key-encryption key %s given twice", k.ID())
		}
		r.byID[k.ID()] = k
		r.older = append(r.older, k)
	}
	slices.SortFunc(r.older, func(a, b KEK) int { return cmp.Compare(a.ID(), b.ID()) })
	return r, nil
}

// Current returns the KEK that wraps new keys.
func (r *KEKRing) Current() KEK { return r.current }

// Older returns the ring's other KEKs, in id order.
func (r *KEKRing) Older() []KEK { return slices.Clone(r.older) }

// KEK returns the KEK with that id, or an *UnknownKEKError.
func (r *KEKRing) KEK(id string) (KEK, error) {
	if k, ok := r.byID[id]; ok {
		return k, nil
	}
	return nil, &UnknownKEKError{ID: id}
}

// ID returns the current KEK's id.
func (r *KEKRing) ID() string { return r.current.ID() }

// Wrap wraps under the current KEK.
func (r *KEKRing) Wrap(key, aad []byte) ([]byte, error) { return r.current.Wrap(key, aad) }

// Unwrap unwraps a secret stored without a KEK id (a second factor,
// internal/identity): under the current KEK, else under each older one.
// Trying is safe because wrapping authenticates: a wrong KEK fails, it
// never yields wrong bytes. The error is the current KEK's, so a tampered
// secret reads as one.
func (r *KEKRing) Unwrap(wrapped, aad []byte) ([]byte, error) {
	key, err := r.current.Unwrap(wrapped, aad)
	if err == nil {
		return key, nil
	}
	for _, k := range r.older {
		if key, err2 := k.Unwrap(wrapped, aad); err2 == nil {
			return key, nil
		}
	}
	return nil, err
}

// kekFinder is what [Ring] asks of its KEK to unwrap keys that name an
// older one: a [KEKRing] has it, a lone KEK does not.
type kekFinder interface {
	KEK(id string) (KEK, error)
}

// kekFor returns the KEK of kek (a lone KEK or a ring) whose id is id.
func kekFor(kek KEK, id string) (KEK, error) {
	if f, ok := kek.(kekFinder); ok {
		return f.KEK(id)
	}
	if kek.ID() == id {
		return kek, nil
	}
	return nil, &UnknownKEKError{ID: id}
}
