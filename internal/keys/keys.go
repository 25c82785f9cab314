// Package keys owns the encryption of event content at rest: one data key
// per subject and calendar month, each wrapped by a key-encryption key (KEK).
//
// # Why per subject and month
//
// Deleting content lawfully (retention, a subject's erasure) must not mean
// rewriting the Merkle log. Instead lbm destroys the data key: every
// ciphertext under it becomes noise, while the log's salted commitments stay
// verifiable. A key per subject and month is the unit retention works in:
// small enough to delete one person's old month, large enough that the key
// table stays modest (300,000 people × 12 months is 3.6 million rows a year).
//
// # The KEK
//
// [KEK] is a small interface so that a KMS or HSM can implement it. The
// built-in [LocalKEK] is an AES-256-GCM key read from a file (mode 0600) or
// the LBM_KEK environment variable. Each wrap binds the data key to its id,
// subject and period as additional data, so a wrapped key copied onto
// another row fails to unwrap.
//
// # Search keys
//
// Each data key also yields a search key, HMAC-SHA256(data key,
// "lbm/search/v1"), under which [Key.Blind] turns a content term into an
// opaque tag for the search index (internal/search). The search key is
// derived on unwrap and never stored, so destroying a data key destroys its
// search key too: the tags it made can no longer be tested against guesses,
// not even in a restored backup of the events.
package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// KEK wraps and unwraps data keys.
type KEK interface {
	// ID names the KEK, so a rotated store knows which KEK wrapped each key.
	ID() string
	// Wrap encrypts a data key, binding it to aad.
	Wrap(key, aad []byte) ([]byte, error)
	// Unwrap decrypts a wrapped key; it fails if wrapped or aad was altered.
	Unwrap(wrapped, aad []byte) ([]byte, error)
}

// LocalKEK is an AES-256-GCM KEK held in memory.
type LocalKEK struct {
	id   string
	aead cipher.AEAD
}

var _ KEK = (*LocalKEK)(nil)

// NewLocalKEK returns a KEK for a 32-byte key.
func NewLocalKEK(key []byte) (*LocalKEK, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("key-encryption key is %d bytes, want 32", len(key))
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	// The id is a hash of the key, never the key: it is stored beside every
	// wrapped key and shown in errors.
	sum := sha256.Sum256(append([]byte("lbm/kek-id/v1\n"), key...))
	return &LocalKEK{id: "local:" + hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// ParseLocalKEK reads a KEK from its text form: 32 bytes in standard base64.
func ParseLocalKEK(text string) (*LocalKEK, error) {
	key, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, errors.New("key-encryption key is not base64")
	}
	return NewLocalKEK(key)
}

// LoadOrCreateKEK reads the KEK file at path, creating a random one with mode
// 0600 when there is none and create is set.
func LoadOrCreateKEK(path string, create bool) (*LocalKEK, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		key := make([]byte, 32)
		rand.Read(key)
		text := base64.StdEncoding.EncodeToString(key) + "\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating key-encryption key: %w", err)
		}
		if _, err := f.WriteString(text); err != nil {
			f.Close()
			return nil, fmt.Errorf("writing key-encryption key: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		b = []byte(text)
	} else if err != nil {
		return nil, fmt.Errorf("reading key-encryption key: %w", err)
	}
	return ParseLocalKEK(string(b))
}

func (k *LocalKEK) ID() string { return k.id }

func (k *LocalKEK) Wrap(key, aad []byte) ([]byte, error) {
	return seal(k.aead, key, aad), nil
}

func (k *LocalKEK) Unwrap(wrapped, aad []byte) ([]byte, error) {
	return open(k.aead, wrapped, aad)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// seal returns nonce || ciphertext under a fresh random 96-bit nonce. A data
// key encrypts one subject's month of events, far below the 2^32 messages
// at which random GCM nonces become a risk.
func seal(aead cipher.AEAD, plaintext, aad []byte) []byte {
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(out)
	return aead.Seal(out, out, plaintext, aad)
}

// ErrDecrypt is returned (wrapped) when a ciphertext or wrapped key fails authentication.
var ErrDecrypt = errors.New("decryption failed")

func open(aead cipher.AEAD, ct, aad []byte) ([]byte, error) {
	if len(ct) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: ciphertext too short", ErrDecrypt)
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, nil
}

// Key is an unwrapped data key. It holds the key only as a cipher and as
// the search key derived from it; the raw bytes are dropped once both are
// made.
type Key struct {
	ID     []byte
	aead   cipher.AEAD
	search []byte // HMAC-SHA256(raw key, searchLabel)
}

// searchLabel separates the search key from the data key, so that a search
// tag reveals nothing usable against the ciphertexts and vice versa.
const searchLabel = "lbm/search/v1"

func fromRaw(id, raw []byte) (*Key, error) {
	aead, err := newGCM(raw)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, raw)
	io.WriteString(m, searchLabel)
	return &Key{ID: id, aead: aead, search: m.Sum(nil)}, nil
}

// Format prints a key as its id alone, whatever the verb: the search key
// in a log line would let anyone who reads both the log and the index test
// guesses against every blinded term of that subject's month.
func (k Key) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "data key %x", k.ID) }

// Seal encrypts plaintext under k, bound to aad.
func (k *Key) Seal(plaintext, aad []byte) []byte { return seal(k.aead, plaintext, aad) }

// Open decrypts what Seal returned for the same aad.
func (k *Key) Open(ct, aad []byte) ([]byte, error) { return open(k.aead, ct, aad) }

// BlindLen is the length of a tag from Blind.
const BlindLen = 24

// blindBytes is how much of the HMAC a tag keeps: 120 bits, so that two
// terms under one key share a tag with odds of about 2^-120, and 15 bytes
// fill 24 base32 characters exactly, with no padding.
const blindBytes = 15

var blindEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Blind returns the search tag of term under k: the first 15 bytes of
// HMAC-SHA256(search key, term) in lowercase unpadded base32: 24
// characters of [a-z2-7], a valid PostgreSQL tsvector lexeme and a plain
// SQLite FTS token, so engines can index tags without quoting them.
//
// The same term gives the same tag under one key (so a query finds it) and
// unrelated tags under two keys (so the index does not link one subject's
// month to another's). Without the key a tag says nothing about its term.
func (k *Key) Blind(term string) string {
	return k.blinder().blind(term)
}

// BlindAll returns the tags of terms, in the same order; nil for none.
func (k *Key) BlindAll(terms []string) []string {
	if len(terms) == 0 {
		return nil
	}
	b := k.blinder()
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = b.blind(t)
	}
	return out
}

// blinder computes tags with one HMAC, reset between terms, and one
// scratch buffer: keying the hash and allocating per term would cost an
// e-mail of a few hundred terms more than sealing it.
type blinder struct {
	m   hash.Hash
	buf []byte
}

func (k *Key) blinder() *blinder {
	return &blinder{m: hmac.New(sha256.New, k.search), buf: make([]byte, 0, sha256.Size+BlindLen)}
}

func (b *blinder) blind(term string) string {
	b.m.Reset()
	io.WriteString(b.m, term)
	sum := b.m.Sum(b.buf[:0])
	return string(blindEncoding.AppendEncode(sum[len(sum):], sum[:blindBytes]))
}

// ErrDestroyed is returned when content's data key has been destroyed: the
// content is deleted, lawfully and for good.
var ErrDestroyed = errors.New("data key destroyed")

// Period returns the key period of an event time: its UTC calendar month.
func Period(t time.Time) string { return t.UTC().Format("2006-01") }

// CategoryPeriod returns the period of the key that encrypts the content
// of category's events in the month of t: "2006-01/category", or the
// month alone when category is "". Content has a key per category because
// categories keep content for different periods (e-mail six months, the
// rest twelve): destroying one category's key then deletes only its
// content. The month key alone blinds search terms (BlindQuery), so that
// one search covers every category.
func CategoryPeriod(t time.Time, category string) string {
	if category == "" {
		return Period(t)
	}
	return Period(t) + "/" + category
}

// PeriodRange returns the first instant of a key period's month and of
// the month after it; ok is false for a period CategoryPeriod never made.
func PeriodRange(period string) (from, to time.Time, ok bool) {
	month, _, _ := strings.Cut(period, "/")
	m, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	return m, m.AddDate(0, 1, 0), true
}

// maxCached bounds the unwrapped keys held in memory. At the limit the cache
// is emptied rather than tracked for recency: a refill costs one read and
// one unwrap per key, and the bound is what matters.
const maxCached = 1 << 16

// Ring finds, creates and caches data keys.
type Ring struct {
	kek KEK
	st  store.DataKeys
	now func() time.Time

	mu        sync.Mutex
	bySubject map[[2]string]*Key
	byID      map[string]*Key
}

// NewRing returns a ring over the store's data keys. now is the clock that
// stamps new keys. kek wraps new keys; a [KEKRing] also unwraps the keys
// its older KEKs wrapped, each by the KEK id it is stored with.
func NewRing(kek KEK, st store.DataKeys, now func() time.Time) *Ring {
	return &Ring{kek: kek, st: st, now: now, bySubject: map[[2]string]*Key{}, byID: map[string]*Key{}}
}

// KEKID returns the id of the ring's KEK.
func (r *Ring) KEKID() string { return r.kek.ID() }

func wrapAAD(id []byte, subject, period string) []byte {
	return fmt.Appendf(nil, "lbm/data-key/v1\n%x\n%s\n%s", id, period, subject)
}

func (r *Ring) remember(k *Key, subject, period string) {
	if len(r.byID) >= maxCached {
		clear(r.byID)
		clear(r.bySubject)
	}
	r.byID[string(k.ID)] = k
	r.bySubject[[2]string{subject, period}] = k
}

// For returns the data key of subject for category in the month of t
// (CategoryPeriod; category "" is the month key), creating and storing one
// if there is none. A destroyed key is never recreated: content for that
// subject, category and month can no longer be stored (ErrDestroyed).
func (r *Ring) For(ctx context.Context, subject, category string, t time.Time) (*Key, error) {
	period := CategoryPeriod(t, category)
	r.mu.Lock()
	k, ok := r.bySubject[[2]string{subject, period}]
	r.mu.Unlock()
	if ok {
		return k, nil
	}
	dk, err := r.st.DataKeyFor(ctx, subject, period)
	if errors.Is(err, store.ErrNotFound) {
		dk, err = r.create(ctx, subject, period)
	}
	if err != nil {
		return nil, err
	}
	return r.cache(dk)
}

// Need names a data key a batch of events will use.
type Need struct {
	Subject  string
	Category string // "" for the month key
	Time     time.Time
}

// Prepare makes sure every key in needs exists and is cached, creating the
// missing ones in ONE store transaction. Without it, the first events of a
// month would each wait for their own fsync'd key creation: 300,000 of them
// for a national force.
func (r *Ring) Prepare(ctx context.Context, needs []Need) error {
	type pair = [2]string
	var missing []pair
	seen := map[pair]bool{}
	r.mu.Lock()
	for _, n := range needs {
		p := pair{n.Subject, CategoryPeriod(n.Time, n.Category)}
		if _, ok := r.bySubject[p]; !ok && !seen[p] {
			seen[p] = true
			missing = append(missing, p)
		}
	}
	r.mu.Unlock()
	var create []store.DataKey
	for _, p := range missing {
		dk, err := r.st.DataKeyFor(ctx, p[0], p[1])
		if errors.Is(err, store.ErrNotFound) {
			if dk, err = r.newKey(p[0], p[1]); err != nil {
				return err
			}
			create = append(create, dk)
			continue
		}
		if err != nil {
			return err
		}
		if _, err := r.cache(dk); err != nil && !errors.Is(err, ErrDestroyed) {
			return err
		}
	}
	if len(create) == 0 {
		return nil
	}
	if err := r.st.AddDataKeys(ctx, create); err != nil {
		return fmt.Errorf("storing data keys: %w", err)
	}
	for _, k := range create {
		// Another writer may have created some first; read back the winners.
		dk, err := r.st.DataKeyFor(ctx, k.Subject, k.Period)
		if err != nil {
			return err
		}
		if _, err := r.cache(dk); err != nil && !errors.Is(err, ErrDestroyed) {
			return err
		}
	}
	return nil
}

// cache unwraps dk and remembers it under its id and its subject and period.
func (r *Ring) cache(dk store.DataKey) (*Key, error) {
	k, err := r.unwrap(dk)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.remember(k, dk.Subject, dk.Period)
	r.mu.Unlock()
	return k, nil
}

func (r *Ring) newKey(subject, period string) (store.DataKey, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	id := make([]byte, 16)
	rand.Read(id)
	wrapped, err := r.kek.Wrap(raw, wrapAAD(id, subject, period))
	if err != nil {
		return store.DataKey{}, fmt.Errorf("wrapping data key: %v", err)
	}
	return store.DataKey{ID: id, Subject: subject, Period: period, KEKID: r.kek.ID(), Wrapped: wrapped, Created: r.now()}, nil
}

func (r *Ring) create(ctx context.Context, subject, period string) (store.DataKey, error) {
	dk, err := r.newKey(subject, period)
	if err != nil {
		return dk, err
	}
	err = r.st.AddDataKey(ctx, dk)
	if errors.Is(err, store.ErrExists) {
		// Another writer created it first; use theirs.
		return r.st.DataKeyFor(ctx, subject, period)
	}
	if err != nil {
		return store.DataKey{}, fmt.Errorf("storing data key: %w", err)
	}
	return dk, nil
}

func (r *Ring) unwrap(dk store.DataKey) (*Key, error) {
	if !dk.Destroyed.IsZero() || dk.Wrapped == nil {
		return nil, ErrDestroyed
	}
	// By the KEK the key names, so that keys not yet rewrapped by a
	// rotation still open under the older KEK a KEKRing keeps.
	kek, err := kekFor(r.kek, dk.KEKID)
	if err != nil {
		return nil, fmt.Errorf("data key %x: %w", dk.ID, err)
	}
	raw, err := kek.Unwrap(dk.Wrapped, wrapAAD(dk.ID, dk.Subject, dk.Period))
	if err != nil {
		return nil, fmt.Errorf("unwrapping data key %x: %w", dk.ID, err)
	}
	defer clear(raw)
	return fromRaw(dk.ID, raw)
}

// ByID returns the data key with that id: ErrDestroyed once destroyed.
func (r *Ring) ByID(ctx context.Context, id []byte) (*Key, error) {
	r.mu.Lock()
	k, ok := r.byID[string(id)]
	r.mu.Unlock()
	if ok {
		return k, nil
	}
	dk, err := r.st.DataKeyByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("finding data key %x: %w", id, err)
	}
	return r.cache(dk)
}

// Existing returns the data key of subject for the month of t, never
// creating one: an error wrapping store.ErrNotFound when there is none,
// ErrDestroyed once it is destroyed.
//
// Unlike For and ByID it asks the store every time, and only reuses the
// cached unwrap: a search must stop the moment a key is destroyed, not when
// this process happens to drop it from its cache. The cost is one read per
// call, paid by queries, never by ingest.
func (r *Ring) Existing(ctx context.Context, subject string, t time.Time) (*Key, error) {
	period := Period(t)
	dk, err := r.st.DataKeyFor(ctx, subject, period)
	if err != nil {
		// No subject in the message: errors reach logs, and a subject is a person.
		return nil, fmt.Errorf("finding data key for %s: %w", period, err)
	}
	if !dk.Destroyed.IsZero() || dk.Wrapped == nil {
		r.forget(dk.ID, subject, period)
		return nil, ErrDestroyed
	}
	r.mu.Lock()
	k, ok := r.byID[string(dk.ID)]
	r.mu.Unlock()
	if ok {
		return k, nil
	}
	return r.cache(dk)
}

// Forget drops a key retention destroyed from the cache, so that For and
// ByID in this process stop using it at once.
func (r *Ring) Forget(id []byte, subject, period string) { r.forget(id, subject, period) }

// forget drops a destroyed key from the cache, so that For and ByID in this
// process stop using it too.
func (r *Ring) forget(id []byte, subject, period string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byID, string(id))
	p := [2]string{subject, period}
	if k, ok := r.bySubject[p]; ok && string(k.ID) == string(id) {
		delete(r.bySubject, p)
	}
}
