package event_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the current code")

const vectorsFile = "testdata/vectors.json"

// vectorFile is the layout of testdata/vectors.json: enough for a verifier
// written from the specification in doc.go alone to check every step from
// an event line to its RFC 6962 leaf hash.
type vectorFile struct {
	Comment []string `json:"comment"`
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Name      string        `json:"name"`
	Event     string        `json:"event"`      // input: one NDJSON line
	Source    string        `json:"source"`     // input: the source the server assigns
	ID        string        `json:"id"`         // input: the server-assigned ID, hex
	UnixNanos int64         `json:"unix_nanos"` // @timestamp as held in the leaf
	Fields    []vectorField `json:"fields"`     // in name order
	Leaf      string        `json:"leaf"`       // hex
	LeafHash  string        `json:"leaf_hash"`  // hex SHA-256(0x00 || leaf)
}

type vectorField struct {
	Name       string `json:"name"`
	Value      string `json:"value"`      // canonical JSON of the value
	Salt       string `json:"salt"`       // input: hex, 32 bytes
	Commitment string `json:"commitment"` // hex
}

var vectorComment = []string{
	"Known-answer vectors for lbm's event commitments (see internal/event/doc.go).",
	"Inputs: event (one NDJSON line), source, id (hex) and each field's salt (hex).",
	"Outputs: the canonical fields in name order with their values, each field's commitment",
	"SHA-256(\"lbm/field/v1\\n\" || salt || be32(len(name)) || name || be32(len(value)) || value),",
	"the leaf \"lbm/leaf/v1\\n\" || id || be64(unix_nanos) || be16(len(source)) || source || be16(n) || sorted commitments,",
	"and the RFC 6962 leaf hash SHA-256(0x00 || leaf).",
	"Salts follow a fixed rule only so the file is reproducible: field i's salt is bytes 32i+1 … 32i+32 (mod 256).",
	"Regenerate with: go test ./internal/event/ -run TestVectors -update",
}

// vectorInputs are the events the vectors cover. Append new ones; never
// change an existing one, since outside verifiers may pin them.
var vectorInputs = []vector{
	{
		Name: "doc example",
		Event: `{"@timestamp":"2026-11-02T08:03:11.123Z","event":{"category":"record_query","action":"pnc_person_search"},` +
			`"user":{"id":"u00042"},"content":{"query":"SMITH 1980-04-01"}}`,
		Source: "pnc-gateway",
		ID:     "000102030405060708090a0b0c0d0e0f",
	},
	{
		Name: "canonical forms",
		Event: `{"@timestamp":"2026-11-02T09:03:11.000000001+01:00","event.category":["email"],` +
			`"event":{"action":"send","outcome":"success","id":"msg-7"},"source":{"id":"mail-gw-01"},"user.id":"u00042",` +
			`"related":{"user":["u00043","u00044"]},"labels":{"score":1.0,"ratio":5e-1,"big":1e21,"flags":[true,false],"none":null,"empty":[]},` +
			`"content.subject":"Re: \u003ccase\u003e \u00e9\/ok","content":{"body":"line 1\r\nline 2\ttab \"q\" \\ \u0001 \ud83d\ude00"}}`,
		Source: "mail-gw-01",
		ID:     "101112131415161718191a1b1c1d1e1f",
	},
	{
		Name: "metadata only",
		Event: `{"@timestamp":"2026-01-01T00:00:00Z","event":{"category":"device","action":"door_open","outcome":"failure"},` +
			`"user":{"id":"u00099","name":"Jo Bloggs"},"host":{"name":"reader-3"}}`,
		Source: "badge-reader",
		ID:     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	},
}

// computeVector fills in v's outputs from its inputs, with the salt rule.
func computeVector(t *testing.T, in vector) vector {
	t.Helper()
	e, err := event.Parse([]byte(in.Event), in.Source)
	if err != nil {
		t.Fatalf("%s: Parse(%q) error = %v", in.Name, in.Event, err)
	}
	if e.ID, err = event.ParseID(in.ID); err != nil {
		t.Fatalf("%s: ParseID(%q) error = %v", in.Name, in.ID, err)
	}
	out := in
	out.UnixNanos = e.Time.UnixNano()
	out.Fields = nil
	for i := range e.Fields {
		f := &e.Fields[i]
		for j := range f.Salt {
			f.Salt[j] = byte(32*i + j + 1)
		}
		c := event.Commit(*f)
		out.Fields = append(out.Fields, vectorField{
			Name:       f.Name,
			Value:      string(f.Value),
			Salt:       hex.EncodeToString(f.Salt[:]),
			Commitment: hex.EncodeToString(c[:]),
		})
	}
	leaf, err := event.FormatLeaf(event.LeafOf(e))
	if err != nil {
		t.Fatalf("%s: FormatLeaf error = %v", in.Name, err)
	}
	out.Leaf = hex.EncodeToString(leaf)
	h := sha256.Sum256(append([]byte{0}, leaf...))
	out.LeafHash = hex.EncodeToString(h[:])
	return out
}

func readVectors(t *testing.T) vectorFile {
	t.Helper()
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("reading vectors: %v (run with -update to create them)", err)
	}
	var vf vectorFile
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&vf); err != nil {
		t.Fatalf("decoding %s: %v", vectorsFile, err)
	}
	return vf
}

// TestVectors recomputes every known-answer vector with the package's code.
func TestVectors(t *testing.T) {
	want := vectorFile{Comment: vectorComment}
	for _, in := range vectorInputs {
		want.Vectors = append(want.Vectors, computeVector(t, in))
	}
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(want); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", vectorsFile)
		return
	}
	got := readVectors(t)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s differs from the code's output (-code +file):\n%s", vectorsFile, diff)
	}

	// Each leaf parses back to itself and verifies its disclosed fields.
	for _, v := range got.Vectors {
		leafBytes, err := hex.DecodeString(v.Leaf)
		if err != nil {
			t.Fatalf("%s: leaf: %v", v.Name, err)
		}
		leaf, err := event.ParseLeaf(leafBytes)
		if err != nil {
			t.Errorf("%s: ParseLeaf error = %v", v.Name, err)
			continue
		}
		var fs []event.Field
		for _, vf := range v.Fields {
			f := event.Field{Name: vf.Name, Value: []byte(vf.Value)}
			salt, err := hex.DecodeString(vf.Salt)
			if err != nil || len(salt) != event.SaltSize {
				t.Fatalf("%s: %s: bad salt %q", v.Name, vf.Name, vf.Salt)
			}
			copy(f.Salt[:], salt)
			fs = append(fs, f)
		}
		if err := event.CheckFields(leaf, fs, true); err != nil {
			t.Errorf("%s: CheckFields(all fields) = %v", v.Name, err)
		}
	}
}

// TestVectorByHand recomputes the first vector from the byte-level
// specification in doc.go, with crypto/sha256 and nothing from package
// event, to show that the specification and the code agree.
func TestVectorByHand(t *testing.T) {
	v := readVectors(t).Vectors[0]
	unhex := func(s string) []byte {
		t.Helper()
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatalf("%s: bad hex %q: %v", v.Name, s, err)
		}
		return b
	}
	be := func(n uint64, size int) []byte {
		b := make([]byte, size)
		for i := range size {
			b[size-1-i] = byte(n >> (8 * i))
		}
		return b
	}

	// The doc example's canonical fields, in name order.
	wantFields := [][2]string{
		{"content.query", `"SMITH 1980-04-01"`},
		{"event.action", `"pnc_person_search"`},
		{"event.category", `"record_query"`},
		{"user.id", `"u00042"`},
	}
	if len(v.Fields) != len(wantFields) {
		t.Fatalf("%s has %d fields, want %d", v.Name, len(v.Fields), len(wantFields))
	}
	var commitments [][]byte
	for i, f := range v.Fields {
		if f.Name != wantFields[i][0] || f.Value != wantFields[i][1] {
			t.Errorf("field %d = %s %s, want %s %s", i, f.Name, f.Value, wantFields[i][0], wantFields[i][1])
		}
		var msg []byte
		msg = append(msg, "lbm/field/v1\n"...)
		msg = append(msg, unhex(f.Salt)...)
		msg = append(msg, be(uint64(len(f.Name)), 4)...)
		msg = append(msg, f.Name...)
		msg = append(msg, be(uint64(len(f.Value)), 4)...)
		msg = append(msg, f.Value...)
		c := sha256.Sum256(msg)
		if got := hex.EncodeToString(c[:]); got != f.Commitment {
			t.Errorf("SHA-256 of field %s by hand = %s, want %s", f.Name, got, f.Commitment)
		}
		commitments = append(commitments, c[:])
	}
	slices.SortFunc(commitments, bytes.Compare)

	nanos := time.Date(2026, 11, 2, 8, 3, 11, 123_000_000, time.UTC).UnixNano()
	if v.UnixNanos != nanos {
		t.Errorf("unix_nanos = %d, want %d", v.UnixNanos, nanos)
	}
	var leaf []byte
	leaf = append(leaf, "lbm/leaf/v1\n"...)
	leaf = append(leaf, unhex(v.ID)...)
	leaf = append(leaf, be(uint64(nanos), 8)...)
	leaf = append(leaf, be(uint64(len(v.Source)), 2)...)
	leaf = append(leaf, v.Source...)
	leaf = append(leaf, be(uint64(len(commitments)), 2)...)
	for _, c := range commitments {
		leaf = append(leaf, c...)
	}
	if got := hex.EncodeToString(leaf); got != v.Leaf {
		t.Errorf("leaf by hand = %s, want %s", got, v.Leaf)
	}
	h := sha256.Sum256(append([]byte{0x00}, leaf...))
	if got := hex.EncodeToString(h[:]); got != v.LeafHash {
		t.Errorf("leaf hash by hand = %s, want %s", got, v.LeafHash)
	}
}
