package event

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ID is the server-assigned identity of an event: 16 bytes (internal/record
// fills them with the event time in milliseconds, then 80 random bits),
// written as 32 lowercase hex digits. It is distinct from the client's
// "event.id", which only deduplicates retries.
type ID [16]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID parses the 32-hex-digit form of an ID. Upper case is rejected so
// that an ID has one text form.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 32 || strings.ToLower(s) != s {
		return id, fmt.Errorf("event id %q: want 32 lowercase hex digits", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("event id %q: want 32 lowercase hex digits", s)
	}
	return id, nil
}

// SaltSize is the size of each field's random salt. 32 bytes keeps a
// commitment to a guessable value (a yes/no, a short code) unguessable.
const SaltSize = 32

// Field is one committed member of an event.
type Field struct {
	Name  string // dotted ECS name, e.g. "user.id", "content.body"
	Value []byte // canonical JSON of the value
	Salt  [SaltSize]byte
}

// ContentPrefix begins the name of every content field.
const ContentPrefix = "content."

// IsContent reports whether f is content (and so encrypted at rest and
// withheld from metadata-only scopes) rather than metadata.
func (f Field) IsContent() bool { return strings.HasPrefix(f.Name, ContentPrefix) }

// Event is a validated, canonical event. Fields are sorted by Name with no
// repeats; Time is UTC.
type Event struct {
	ID     ID
	Time   time.Time
	Source string
	Fields []Field
}

// Field returns the value of the named field and whether it is present.
func (e *Event) Field(name string) ([]byte, bool) {
	i, ok := slices.BinarySearchFunc(e.Fields, name, func(f Field, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return nil, false
	}
	return e.Fields[i].Value, true
}

// Commitment is the 32-byte commitment to one field.
type Commitment [32]byte

const (
	fieldPrefix = "lbm/field/v1\n"
	leafPrefix  = "lbm/leaf/v1\n"
)

// Commit returns the commitment to f. It depends on the name, the value and
// the salt, so the same value under two names, or twice under one, commits
// differently.
func Commit(f Field) Commitment {
	// One contiguous buffer and sha256.Sum256: this runs for every field
	// of every event, and the streaming hasher allocates.
	var stack [256]byte
	b := append(stack[:0], fieldPrefix...)
	b = append(b, f.Salt[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(f.Name)))
	b = append(b, f.Name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(f.Value)))
	b = append(b, f.Value...)
	return sha256.Sum256(b)
}

// Leaf is what the Merkle log holds for an event: its identity, time and
// source in the clear, and the sorted commitments to its fields.
type Leaf struct {
	ID          ID
	Time        time.Time
	Source      string
	Commitments []Commitment
}

// LeafOf returns e's leaf.
func LeafOf(e *Event) Leaf {
	l := Leaf{ID: e.ID, Time: e.Time, Source: e.Source, Commitments: make([]Commitment, len(e.Fields))}
	for i, f := range e.Fields {
		l.Commitments[i] = Commit(f)
	}
	slices.SortFunc(l.Commitments, func(a, b Commitment) int { return compareCommitments(a, b) })
	return l
}

func compareCommitments(a, b Commitment) int { return bytes.Compare(a[:], b[:]) }

// MaxSourceLen bounds a source id so that the leaf's 16-bit length holds it.
const MaxSourceLen = 128

// MaxFields bounds the fields of one event (and so the commitments of a leaf).
const MaxFields = 256

// FormatLeaf returns the canonical bytes of l. It fails only for a leaf that
// no valid event produces: an over-long source or too many commitments.
func FormatLeaf(l Leaf) ([]byte, error) {
	if len(l.Source) > MaxSourceLen {
		return nil, fmt.Errorf("formatting leaf: source longer than %d bytes", MaxSourceLen)
	}
	if len(l.Commitments) > MaxFields {
		return nil, fmt.Errorf("formatting leaf: more than %d commitments", MaxFields)
	}
	b := make([]byte, 0, len(leafPrefix)+16+8+2+len(l.Source)+2+32*len(l.Commitments))
	b = append(b, leafPrefix...)
	b = append(b, l.ID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(l.Time.UnixNano()))
	b = binary.BigEndian.AppendUint16(b, uint16(len(l.Source)))
	b = append(b, l.Source...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(l.Commitments)))
	for _, c := range l.Commitments {
		b = append(b, c[:]...)
	}
	return b, nil
}

// ErrMalformedLeaf is returned (wrapped) by ParseLeaf for bytes that are not
// the canonical encoding of a leaf.
var ErrMalformedLeaf = errors.New("malformed leaf")

// ParseLeaf parses the canonical bytes of a leaf. It rejects anything
// FormatLeaf would not produce: a wrong prefix, unsorted or repeated
// commitments, or trailing bytes, so that one leaf has one encoding.
func ParseLeaf(b []byte) (Leaf, error) {
	var l Leaf
	bad := func(what string) (Leaf, error) { return Leaf{}, fmt.Errorf("%w: %s", ErrMalformedLeaf, what) }
	if !strings.HasPrefix(string(b), leafPrefix) {
		return bad("wrong prefix")
	}
	b = b[len(leafPrefix):]
	if len(b) < 16+8+2 {
		return bad("truncated")
	}
	copy(l.ID[:], b)
	l.Time = time.Unix(0, int64(binary.BigEndian.Uint64(b[16:]))).UTC()
	n := int(binary.BigEndian.Uint16(b[24:]))
	b = b[26:]
	if n > MaxSourceLen || len(b) < n+2 {
		return bad("bad source length")
	}
	l.Source = string(b[:n])
	m := int(binary.BigEndian.Uint16(b[n:]))
	b = b[n+2:]
	if m > MaxFields || len(b) != 32*m {
		return bad("bad commitment count")
	}
	l.Commitments = make([]Commitment, m)
	for i := range m {
		copy(l.Commitments[i][:], b[32*i:])
		if i > 0 && compareCommitments(l.Commitments[i-1], l.Commitments[i]) >= 0 {
			return bad("commitments not sorted")
		}
	}
	return l, nil
}
