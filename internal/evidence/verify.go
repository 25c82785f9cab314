package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/safetext"
	"github.com/lbm-project/lbm/internal/tlog"
	"golang.org/x/mod/sumdb/note"
)

// Limits on a bundle given to [Verify]. A bundle may come from anyone, so
// every size is bounded before it is read: a small zip can claim, or
// inflate to, any size.
const (
	MaxBundleBytes = 1 << 30 // all files, uncompressed
	MaxFileBytes   = 64 << 20
	MaxFiles       = 1 << 20
	maxProofHashes = 64 // a proof in a tree of 2^64 leaves
)

// Error is a bundle that does not verify: what is wrong, and where. File
// is "" for the zip as a whole; Event is set for an event's file.
type Error struct {
	File  string
	Event bool
	Index uint64
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(safetext.Escape(e.File))
		b.WriteString(": ")
	} else {
		b.WriteString("bundle: ")
	}
	if e.Event {
		fmt.Fprintf(&b, "event %d: ", e.Index)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// fileError returns an *Error about name, naming the event when name is an
// event's file.
func fileError(name, format string, args ...any) *Error {
	e := &Error{File: name, Msg: fmt.Sprintf(format, args...)}
	e.Index, e.Event = eventIndex(name)
	return e
}

// eventIndex returns the index an event file name encodes; only
// EventFile's own spelling counts.
func eventIndex(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, eventsDir)
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ".json")
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || EventFile(i) != name {
		return 0, false
	}
	return i, true
}

// Report is what a bundle that verifies shows.
type Report struct {
	Log    string `json:"log"`
	Origin string `json:"origin"`
	// Size and Root are the signed checkpoint's.
	Size uint64 `json:"size"`
	Root string `json:"root"` // base64
	// VerifierKey is the bundle's own key: trust the result only as far as
	// this key is the one the organisation publishes.
	VerifierKey string `json:"verifier_key"`
	// ManifestSHA256 is the hash of manifest.json, and so of the whole
	// bundle's content, to compare with the disclosure log's record.
	ManifestSHA256 string        `json:"manifest_sha256"`
	Recipient      string        `json:"recipient"`
	Purpose        string        `json:"purpose"`
	Created        time.Time     `json:"created"`
	Events         []EventReport `json:"events"`
	// Totals over Events.
	Disclosed  int `json:"disclosed"`
	Withheld   int `json:"withheld"`
	Pseudonyms int `json:"pseudonyms"`
}

// EventReport is one verified event.
type EventReport struct {
	Index     uint64           `json:"index"`
	ID        string           `json:"id"`
	Time      time.Time        `json:"time"`
	Source    string           `json:"source"`
	Disclosed []DisclosedField `json:"disclosed"`
	// Withheld names the withheld fields (labels only: not proven).
	Withheld   []string    `json:"withheld"`
	Pseudonyms []Pseudonym `json:"pseudonyms,omitempty"`
}

// DisclosedField is a field whose value the bundle proves.
type DisclosedField struct {
	Name  string `json:"name"`
	Value string `json:"value"` // canonical JSON
}

// Pseudonym is an unverified annotation on a withheld field.
type Pseudonym struct {
	Field     string `json:"field"`
	Pseudonym string `json:"pseudonym"`
}

// Verify checks the bundle in r (size bytes) and returns its report. It
// reads nothing but r. Any failure is an *Error naming the file and, for
// an event, its index; a malformed zip is an *Error with no file.
func Verify(r io.ReaderAt, size int64) (Report, error) {
	files, err := readZip(r, size)
	if err != nil {
		return Report{}, err
	}
	if err := checkManifest(files); err != nil {
		return Report{}, err
	}
	var rep Report
	sum := sha256.Sum256(files[ManifestFile])
	rep.ManifestSHA256 = hex.EncodeToString(sum[:])

	vkey := files[KeyFile]
	if len(vkey) > 0 && vkey[len(vkey)-1] == '\n' {
		vkey = vkey[:len(vkey)-1]
	}
	if err := checkText(string(vkey), MaxTextBytes); err != nil || len(vkey) == 0 {
		return Report{}, fileError(KeyFile, "not a verifier key on one line")
	}
	if _, err := note.NewVerifier(string(vkey)); err != nil {
		return Report{}, fileError(KeyFile, "not a note verifier key: %v", err)
	}
	cp, err := tlog.OpenCheckpoint(files[CheckpointFile], string(vkey))
	if err != nil {
		return Report{}, fileError(CheckpointFile, "does not verify with the key in %s: %v", KeyFile, err)
	}
	rep.VerifierKey, rep.Origin, rep.Size, rep.Root = string(vkey), cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root)

	if !json.Valid(files[RequestFile]) {
		return Report{}, fileError(RequestFile, "not JSON")
	}

	var d disclosureJSON
	if err := decodeCanonical(files[DisclosureFile], &d); err != nil {
		return Report{}, fileError(DisclosureFile, "%v", err)
	}
	created, err := time.Parse(time.RFC3339Nano, d.Created)
	if err != nil || created.UTC().Format(time.RFC3339Nano) != d.Created {
		return Report{}, fileError(DisclosureFile, "created is not an RFC 3339 UTC time")
	}
	for _, s := range []string{d.Recipient, d.Purpose, d.Log, d.Origin} {
		if err := checkText(s, MaxTextBytes); err != nil || s == "" {
			return Report{}, fileError(DisclosureFile, "recipient, purpose, log and origin must be given as plain text")
		}
	}
	if d.Origin != cp.Origin {
		return Report{}, fileError(DisclosureFile, "origin %s is not the checkpoint's %s", safetext.Quote(d.Origin), safetext.Quote(cp.Origin))
	}
	var indices []uint64
	for name := range files {
		if i, ok := eventIndex(name); ok {
			indices = append(indices, i)
		}
	}
	slices.Sort(indices)
	if !slices.Equal(indices, d.Events) {
		return Report{}, fileError(DisclosureFile, "events %v, but the bundle holds the files of %v", d.Events, indices)
	}
	rep.Log, rep.Recipient, rep.Purpose, rep.Created = d.Log, d.Recipient, d.Purpose, created

	for _, i := range indices {
		name := EventFile(i)
		er, err := checkEvent(files[name], i, cp)
		if err != nil {
			return Report{}, fileError(name, "%v", err)
		}
		rep.Events = append(rep.Events, er)
		rep.Disclosed += len(er.Disclosed)
		rep.Withheld += len(er.Withheld)
		rep.Pseudonyms += len(er.Pseudonyms)
	}
	return rep, nil
}

// readZip reads every file of the zip, refusing anything a bundle never
// holds: names outside the bundle's fixed set, directories, symlinks,
// duplicates, and more than the size limits.
func readZip(r io.ReaderAt, size int64) (map[string][]byte, error) {
	zr, err := zip.NewReader(r, size)
	// ErrInsecurePath (only with GODEBUG=zipinsecurepath=0) comes with a
	// usable reader; the name checks below refuse the name and say which.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, &Error{Msg: fmt.Sprintf("not a zip file: %v", err)}
	}
	if len(zr.File) > MaxFiles {
		return nil, &Error{Msg: fmt.Sprintf("more than %d files", MaxFiles)}
	}
	files := make(map[string][]byte, len(zr.File))
	var total int64
	for _, f := range zr.File {
		name := f.Name
		switch {
		case strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || slices.Contains(strings.Split(name, "/"), ".."):
			return nil, &Error{File: name, Msg: "path outside the bundle"}
		case f.Mode()&fs.ModeSymlink != 0:
			return nil, &Error{File: name, Msg: "a symbolic link"}
		case f.Mode().IsDir() || strings.HasSuffix(name, "/"):
			return nil, &Error{File: name, Msg: "a directory entry"}
		case !knownName(name):
			return nil, &Error{File: name, Msg: "not a file an evidence bundle holds"}
		case files[name] != nil:
			return nil, fileError(name, "in the zip twice")
		case f.UncompressedSize64 > MaxFileBytes:
			return nil, fileError(name, "larger than %d bytes", MaxFileBytes)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fileError(name, "reading: %v", err)
		}
		// The header's size is the sender's claim; the limit is ours.
		limit := min(int64(MaxFileBytes), MaxBundleBytes-total)
		b, err := io.ReadAll(io.LimitReader(rc, limit+1))
		rc.Close()
		if err != nil {
			return nil, fileError(name, "reading: %v", err)
		}
		if int64(len(b)) > limit {
			return nil, fileError(name, "larger than %d bytes, or the bundle larger than %d", MaxFileBytes, MaxBundleBytes)
		}
		total += int64(len(b))
		if b == nil {
			b = []byte{}
		}
		files[name] = b
	}
	return files, nil
}

func knownName(name string) bool {
	switch name {
	case CheckpointFile, KeyFile, RequestFile, DisclosureFile, ReadmeFile, ManifestFile:
		return true
	}
	_, ok := eventIndex(name)
	return ok
}

// checkManifest checks that manifest.json lists every other file, each
// once, with its size and SHA-256, and nothing else.
func checkManifest(files map[string][]byte) error {
	b, ok := files[ManifestFile]
	if !ok {
		return &Error{File: ManifestFile, Msg: "missing"}
	}
	var m manifestJSON
	if err := decodeCanonical(b, &m); err != nil {
		return fileError(ManifestFile, "%v", err)
	}
	if m.Algorithm != "SHA-256" {
		return fileError(ManifestFile, "algorithm %s, want SHA-256", safetext.Quote(m.Algorithm))
	}
	listed := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		if !knownName(f.Name) || f.Name == ManifestFile {
			return fileError(ManifestFile, "lists %s, which is not a file a bundle holds", safetext.Quote(f.Name))
		}
		if listed[f.Name] {
			return fileError(ManifestFile, "lists %s twice", f.Name)
		}
		listed[f.Name] = true
		data, ok := files[f.Name]
		if !ok {
			return fileError(f.Name, "listed in %s but missing", ManifestFile)
		}
		sum := sha256.Sum256(data)
		if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(data)) {
			return fileError(f.Name, "changed: its SHA-256 or size is not the one %s lists", ManifestFile)
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name != ManifestFile && !listed[name] {
			return fileError(name, "not listed in %s", ManifestFile)
		}
	}
	for _, name := range []string{CheckpointFile, KeyFile, RequestFile, DisclosureFile, ReadmeFile} {
		if !listed[name] {
			return &Error{File: name, Msg: "missing"}
		}
	}
	return nil
}

// decodeCanonical decodes b into v and requires b to be exactly what Write
// would produce for v: no unknown, repeated or differently cased keys, no
// other spacing, nothing after. One content has one encoding, so the
// manifest's hash identifies the content.
func decodeCanonical(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed: %v", err)
	}
	again, err := marshal(v)
	if err != nil || !bytes.Equal(again, b) {
		return errors.New("not in canonical form")
	}
	return nil
}

// checkEvent checks one event file against the checkpoint. Its errors are
// wrapped by the caller with the file and index.
func checkEvent(b []byte, index uint64, cp tlog.Checkpoint) (EventReport, error) {
	var j eventJSON
	if err := decodeCanonical(b, &j); err != nil {
		return EventReport{}, err
	}
	if j.Index != index {
		return EventReport{}, fmt.Errorf("index %d in a file named for %d", j.Index, index)
	}
	leafBytes, err := base64.StdEncoding.Strict().DecodeString(j.Leaf)
	if err != nil {
		return EventReport{}, errors.New("leaf is not base64")
	}
	l, err := event.ParseLeaf(leafBytes)
	if err != nil {
		return EventReport{}, fmt.Errorf("leaf: %v", err)
	}
	if j.ID != l.ID.String() {
		return EventReport{}, errors.New("id is not the leaf's")
	}
	if j.Time != l.Time.Format(time.RFC3339Nano) {
		return EventReport{}, errors.New("time is not the leaf's")
	}
	if j.Source != l.Source {
		return EventReport{}, errors.New("source is not the leaf's")
	}
	er := EventReport{Index: index, ID: j.ID, Time: l.Time, Source: l.Source, Disclosed: []DisclosedField{}, Withheld: []string{}}

	// Every disclosed commitment and every withheld one must be in the
	// leaf, each leaf commitment used once, and none left over: then the
	// bundle accounts for every field of the event, and a field cannot be
	// hidden by listing another twice.
	used := make([]bool, len(l.Commitments))
	take := func(c event.Commitment) bool {
		i, ok := slices.BinarySearchFunc(l.Commitments, c, func(a, b event.Commitment) int { return bytes.Compare(a[:], b[:]) })
		if !ok || used[i] {
			return false
		}
		used[i] = true
		return true
	}
	for k, d := range j.Disclosed {
		if err := checkName(d.Name); err != nil {
			return EventReport{}, err
		}
		if k > 0 && j.Disclosed[k-1].Name >= d.Name {
			return EventReport{}, fmt.Errorf("disclosed field %s out of order or repeated", d.Name)
		}
		f := event.Field{Name: d.Name, Value: []byte(d.Value)}
		salt, err := base64.StdEncoding.Strict().DecodeString(d.Salt)
		if err != nil || len(salt) != event.SaltSize {
			return EventReport{}, fmt.Errorf("field %s: salt is not %d bytes of base64", d.Name, event.SaltSize)
		}
		copy(f.Salt[:], salt)
		if !take(event.Commit(f)) {
			return EventReport{}, fmt.Errorf("field %s does not match its commitment", d.Name)
		}
		er.Disclosed = append(er.Disclosed, DisclosedField{Name: d.Name, Value: d.Value})
	}
	for k, w := range j.Withheld {
		if err := checkName(w.Name); err != nil {
			return EventReport{}, err
		}
		if k > 0 && j.Withheld[k-1].Name+"\x00"+j.Withheld[k-1].Commitment >= w.Name+"\x00"+w.Commitment {
			return EventReport{}, fmt.Errorf("withheld field %s out of order or repeated", w.Name)
		}
		raw, err := hex.DecodeString(w.Commitment)
		if err != nil || len(raw) != 32 || hex.EncodeToString(raw) != w.Commitment {
			return EventReport{}, fmt.Errorf("withheld field %s: commitment is not 64 lowercase hex digits", w.Name)
		}
		if !take(event.Commitment(raw)) {
			return EventReport{}, fmt.Errorf("withheld field %s: commitment is not one of the leaf's", w.Name)
		}
		er.Withheld = append(er.Withheld, w.Name)
		switch {
		case w.Pseudonym == "" && w.Unverified == "":
		case w.Pseudonym == "" || w.Unverified != unverifiedNote:
			return EventReport{}, fmt.Errorf("withheld field %s: a pseudonym must come with the note %q", w.Name, unverifiedNote)
		default:
			if err := checkText(w.Pseudonym, MaxPseudonymBytes); err != nil {
				return EventReport{}, fmt.Errorf("withheld field %s: pseudonym %v", w.Name, err)
			}
			er.Pseudonyms = append(er.Pseudonyms, Pseudonym{Field: w.Name, Pseudonym: w.Pseudonym})
		}
	}
	if n := len(j.Disclosed) + len(j.Withheld); n != len(l.Commitments) {
		return EventReport{}, fmt.Errorf("the leaf commits to %d fields, the file accounts for %d", len(l.Commitments), n)
	}

	if len(j.Proof) > maxProofHashes {
		return EventReport{}, errors.New("inclusion proof too long")
	}
	proof := make([][]byte, len(j.Proof))
	for k, h := range j.Proof {
		if proof[k], err = base64.StdEncoding.Strict().DecodeString(h); err != nil || len(proof[k]) != tlog.HashSize {
			return EventReport{}, fmt.Errorf("proof hash %d is not %d bytes of base64", k, tlog.HashSize)
		}
	}
	if err := tlog.CheckInclusion(index, cp.Size, tlog.HashLeaf(leafBytes), proof, cp.Root); err != nil {
		return EventReport{}, fmt.Errorf("not in the checkpoint's tree: %v", err)
	}
	return er, nil
}
