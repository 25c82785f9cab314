package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FormatFields returns the storage encoding of a field list (with salts):
//
//	be16(n) || n × (be16(len(name)) || name || salt(32) || be32(len(value)) || value)
//
// in name order. The store keeps metadata in this form and content in this
// form encrypted, so that destroying content's data key destroys its salts
// too: a salt left behind would let anyone test guesses of a short value
// against the public commitment.
func FormatFields(fs []Field) []byte {
	n := 2
	for _, f := range fs {
		n += 2 + len(f.Name) + SaltSize + 4 + len(f.Value)
	}
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint16(b, uint16(len(fs)))
	for _, f := range fs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.Name)))
		b = append(b, f.Name...)
		b = append(b, f.Salt[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(f.Value)))
		b = append(b, f.Value...)
	}
	return b
}

// ErrMalformedFields is returned (wrapped) by ParseFields.
var ErrMalformedFields = errors.New("malformed field list")

// ParseFields parses FormatFields' encoding, rejecting truncation, trailing
// bytes, and names out of order or repeated.
func ParseFields(b []byte) ([]Field, error) {
	bad := func(what string) ([]Field, error) { return nil, fmt.Errorf("%w: %s", ErrMalformedFields, what) }
	if len(b) < 2 {
		return bad("truncated")
	}
	n := int(binary.BigEndian.Uint16(b))
	if n > MaxFields {
		return bad("too many fields")
	}
	b = b[2:]
	fs := make([]Field, n)
	for i := range fs {
		if len(b) < 2 {
			return bad("truncated")
		}
		l := int(binary.BigEndian.Uint16(b))
		if l > MaxNameBytes {
			return bad("name too long")
		}
		if len(b) < 2+l+SaltSize+4 {
			return bad("truncated name")
		}
		fs[i].Name = string(b[2 : 2+l])
		b = b[2+l:]
		copy(fs[i].Salt[:], b)
		vl := int(binary.BigEndian.Uint32(b[SaltSize:]))
		b = b[SaltSize+4:]
		if vl > MaxValueBytes || len(b) < vl {
			return bad("truncated value")
		}
		fs[i].Value = b[:vl:vl]
		b = b[vl:]
		if i > 0 && fs[i-1].Name >= fs[i].Name {
			return bad("names out of order")
		}
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	return fs, nil
}

// CommitmentError reports fields whose commitments a leaf does not hold: the
// stored event was altered after it was logged.
type CommitmentError struct {
	ID     ID
	Fields []string // names of fields that do not match; empty when only the count is wrong
}

func (e *CommitmentError) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("event %s: stored fields do not match the leaf's commitment count", e.ID)
	}
	return fmt.Sprintf("event %s: fields %s do not match the leaf's commitments", e.ID, strings.Join(e.Fields, ", "))
}

// CheckFields verifies that each field's commitment is in l. When complete is
// true (every field of the event is given), the count must match too, so a
// deleted field is caught as surely as an altered one. It returns a
// *CommitmentError on mismatch.
func CheckFields(l Leaf, fs []Field, complete bool) error {
	var bad []string
	matched := make([]bool, len(l.Commitments))
	distinct := 0
	for _, f := range fs {
		c := Commit(f)
		i, ok := slices.BinarySearchFunc(l.Commitments, c, compareCommitments)
		if !ok {
			bad = append(bad, f.Name)
			continue
		}
		if !matched[i] {
			matched[i] = true
			distinct++
		}
	}
	// Counting distinct matches, not fields, stops a field given twice from
	// standing in for one that was deleted.
	if len(bad) > 0 || (complete && distinct != len(l.Commitments)) || distinct != len(fs) {
		return &CommitmentError{ID: l.ID, Fields: bad}
	}
	return nil
}

// Split returns e's metadata and content fields, each in name order.
func Split(fs []Field) (meta, content []Field) {
	i, _ := slices.BinarySearchFunc(fs, ContentPrefix, func(f Field, n string) int { return strings.Compare(f.Name, n) })
	j := i
	for j < len(fs) && fs[j].IsContent() {
		j++
	}
	meta = append(append(make([]Field, 0, len(fs)-(j-i)), fs[:i]...), fs[j:]...)
	return meta, fs[i:j:j]
}

// HasContent reports whether the name-ordered fields hold any content.
func HasContent(fs []Field) bool {
	i, _ := slices.BinarySearchFunc(fs, ContentPrefix, func(f Field, n string) int { return strings.Compare(f.Name, n) })
	return i < len(fs) && fs[i].IsContent()
}
