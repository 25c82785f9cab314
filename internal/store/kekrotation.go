package store

import "context"

// KEKCount says how many data keys each key-encryption key wraps.
type KEKCount struct {
	// Live counts the keys not destroyed, by the id of the KEK that wraps
	// them; a KEK that wraps none is absent.
	Live map[string]int
	// Destroyed counts the destroyed keys, whatever KEK once wrapped them:
	// nothing is left of them to rewrap.
	Destroyed int
}

// KEKRotation is what rotating the key-encryption key needs of the keys
// database: find the data keys a KEK wraps, and rewrap them one by one
// under another.
//
// A data key counts as destroyed when its Destroyed time is set or its
// Wrapped is nil, as internal/keys treats it: neither is ever rewrapped.
type KEKRotation interface {
	// DataKeysWrappedBy returns up to limit data keys (limit at least 1)
	// wrapped by kekID and not destroyed, in ascending id order (bytes
	// compared unsigned), starting after the id after (nil: from the
	// first). None, and no error, when no more are.
	DataKeysWrappedBy(ctx context.Context, kekID string, after []byte, limit int) ([]DataKey, error)
	// RewrapDataKey replaces the wrapped key and KEK id of the data key id
	// with wrapped and to, only if the key is still wrapped by from and not
	// destroyed: ErrConflict otherwise (another rotation moved it, or it
	// was destroyed meanwhile, which a rewrap must never undo), ErrNotFound
	// if no key has that id. wrapped must not be nil.
	RewrapDataKey(ctx context.Context, id []byte, from, to string, wrapped []byte) error
	// CountDataKeys counts the data keys by KEK, for `lbm keys status` and
	// to tell when an old KEK wraps nothing any more. It reads every row.
	CountDataKeys(ctx context.Context) (KEKCount, error)
}
