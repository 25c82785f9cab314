package tlog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is the body of a C2SP checkpoint.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// FormatCheckpoint returns the checkpoint body.
func FormatCheckpoint(c Checkpoint) []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root))
}

// ErrMalformedCheckpoint is returned (wrapped) by ParseCheckpoint.
var ErrMalformedCheckpoint = errors.New("malformed checkpoint")

// ParseCheckpoint parses a checkpoint body. It accepts extension lines after
// the root (C2SP allows them) but rejects any other deviation: a size with a
// sign or leading zero, a root that is not 32 bytes of standard base64.
func ParseCheckpoint(body []byte) (Checkpoint, error) {
	bad := func(what string) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrMalformedCheckpoint, what)
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		return bad("no final newline")
	}
	lines := strings.Split(string(body[:len(body)-1]), "\n")
	if len(lines) < 3 {
		return bad("fewer than three lines")
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin == "" {
		return bad("empty origin")
	}
	n, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != lines[1] {
		return bad("size is not a decimal number")
	}
	c.Size = n
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return bad("root is not 32 bytes of base64")
	}
	c.Root = root
	for _, ext := range lines[3:] {
		if ext == "" {
			return bad("empty extension line")
		}
	}
	return c, nil
}

// Signer signs checkpoints of one log.
type Signer struct {
	signer note.Signer
	vkey   string
}

// NewSigner returns a signer for the note private key skey; its name is the log's origin.
func NewSigner(skey string) (*Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %v", err)
	}
	return &Signer{signer: s}, nil
}

// Origin returns the origin the signer signs for.
func (s *Signer) Origin() string { return s.signer.Name() }

// Sign returns the signed note of c. c.Origin must be the signer's.
func (s *Signer) Sign(c Checkpoint) ([]byte, error) {
	if c.Origin != s.signer.Name() {
		return nil, fmt.Errorf("signing checkpoint of %q with the key of %q", c.Origin, s.signer.Name())
	}
	return note.Sign(&note.Note{Text: string(FormatCheckpoint(c))}, s.signer)
}

// GenerateKey returns a new Ed25519 note key pair named origin.
func GenerateKey(origin string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// LoadOrCreateKey reads the signing key at path, creating it (mode 0600) for
// origin if there is none. When strict is set, an existing key for another
// origin is an error: a log's origin is fixed for its life.
func LoadOrCreateKey(path, origin string, strict bool) (*Signer, string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		skey, _, err := GenerateKey(origin)
		if err != nil {
			return nil, "", err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, "", fmt.Errorf("creating signing key: %w", err)
		}
		if _, err := f.WriteString(skey + "\n"); err != nil {
			f.Close()
			return nil, "", fmt.Errorf("writing signing key: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, "", err
		}
		if err := f.Close(); err != nil {
			return nil, "", err
		}
		b = []byte(skey)
	} else if err != nil {
		return nil, "", fmt.Errorf("reading signing key: %w", err)
	}
	s, err := NewSigner(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	if strict && s.Origin() != origin {
		return nil, "", fmt.Errorf("%s signs for origin %q, not %q: a log's origin cannot change", path, s.Origin(), origin)
	}
	vkey, err := VerifierKey(string(b))
	if err != nil {
		return nil, "", err
	}
	return s, vkey, nil
}

// VerifierKey derives the public verifier key from a private note key.
func VerifierKey(skey string) (string, error) {
	// PRIVATE+KEY+<name>+<hash>+<base64(alg||seed)>
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("malformed signing key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return "", errors.New("malformed signing key: want an Ed25519 key")
	}
	return note.NewEd25519VerifierKey(parts[2], ed25519PublicKey(raw[1:]))
}

// OpenCheckpoint verifies a signed checkpoint against the verifier key vkey
// and returns its body. The note must carry a valid signature by that key,
// and the body's origin must be the key's name.
func OpenCheckpoint(signed []byte, vkey string) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("reading verifier key: %v", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checking checkpoint signature: %v", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("checkpoint origin %q is not the key's %q", c.Origin, v.Name())
	}
	return c, nil
}

func ed25519PublicKey(seed []byte) ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
}

// DeriveKey returns the note key pair named origin derived from seed (at
// least 32 bytes of secret): every node holding the seed derives the same
// key for an origin, and different keys for different origins. The
// activity log's shards are signed so, so that any node of a service can
// sign a shard whose own node died.
func DeriveKey(seed []byte, origin string) (skey, vkey string, err error) {
	if len(seed) < 32 {
		return "", "", fmt.Errorf("deriving the key of %s: a seed of %d bytes, want at least 32", origin, len(seed))
	}
	priv, err := hkdf.Key(sha256.New, seed, nil, "lbm log signing key\x00"+origin, ed25519.SeedSize)
	if err != nil {
		return "", "", err
	}
	vkey, err = note.NewEd25519VerifierKey(origin, ed25519PublicKey(priv))
	if err != nil {
		return "", "", fmt.Errorf("deriving the key of %s: %v", origin, err)
	}
	// A private note key is the verifier key's name and hash with the
	// seed in place of the public key.
	parts := strings.Split(vkey, "+")
	skey = "PRIVATE+KEY+" + parts[0] + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, priv...))
	return skey, vkey, nil
}
