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
// is "" for the zip as a whole; Event is set for an event's file, and Log
// too in a bundle of several logs.
type Error struct {
	File  string
	Event bool
	Log   string
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
	switch {
	case e.Event && e.Log != "":
		fmt.Fprintf(&b, "event %d of %s: ", e.Index, safetext.Escape(e.Log))
	case e.Event:
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
	if !e.Event {
		e.Log, e.Index, e.Event = logEventIndex(name)
	}
	return e
}

// eventIndex returns the index an event file name of a bundle of one log
// encodes; only EventFile's own spelling counts.
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

// logOf returns the log and the rest of a name under logs/LOG/.
func logOf(name string) (log, rest string, ok bool) {
	rest, ok = strings.CutPrefix(name, logsDir)
	if !ok {
		return "", "", false
	}
	log, rest, ok = strings.Cut(rest, "/")
	if !ok || checkLogName(log) != nil {
		return "", "", false
	}
	return log, rest, true
}

// logEventIndex returns the log and index an event file name of a bundle
// of several logs encodes; only LogEventFile's own spelling counts.
func logEventIndex(name string) (string, uint64, bool) {
	log, rest, ok := logOf(name)
	if !ok {
		return "", 0, false
	}
	i, ok := eventIndex(rest)
	if !ok {
		return "", 0, false
	}
	return log, i, true
}

// Report is what a bundle that verifies shows.
type Report struct {
	// Log, Origin, Size, Root and VerifierKey are those of the bundle's
	// one log; in a bundle of several they are empty, and Logs says.
	Log    string `json:"log"`
	Origin string `json:"origin"`
	// Size and Root are the signed checkpoint's.
	Size uint64 `json:"size"`
	Root string `json:"root"` // base64
	// VerifierKey is the bundle's own key: trust the result only as far as
	// this key is the one the organisation publishes.
	VerifierKey string `json:"verifier_key"`
	// Logs are the bundle's logs, by name, each with its checkpoint and
	// its own key (trust each only as far as that key is the one
	// published for the log).
	Logs []LogReport `json:"logs"`
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

// LogReport is one verified log of a bundle: its signed checkpoint and
// the key that signed it.
type LogReport struct {
	Log         string `json:"log"`
	Origin      string `json:"origin"`
	Size        uint64 `json:"size"`
	Root        string `json:"root"` // base64
	VerifierKey string `json:"verifier_key"`
}

// SignedBy checks that every log of the bundle is signed by one of keys,
// the verifier keys the reader trusts (those the organisation
// publishes): a bundle carries its own keys, which prove nothing of
// whose logs they are. It names the first log signed by none.
func (r Report) SignedBy(keys ...string) error {
	for _, l := range r.Logs {
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.TrimSpace(k) == l.VerifierKey }) {
			return fmt.Errorf("log %s is signed by %s, not by a key given", l.Log, l.VerifierKey)
		}
	}
	return nil
}

// EventReport is one verified event.
type EventReport struct {
	Log       string           `json:"log"`
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
// an event, its index (and log, in a bundle of several); a malformed zip
// is an *Error with no file.
func Verify(r io.ReaderAt, size int64) (Report, error) {
	files, err := readZip(r, size)
	if err != nil {
		return Report{}, err
	}
	many := false
	for name := range files {
		if strings.HasPrefix(name, logsDir) {
			many = true
		}
	}
	if err := checkManifest(files, many); err != nil {
		return Report{}, err
	}
	var rep Report
	sum := sha256.Sum256(files[ManifestFile])
	rep.ManifestSHA256 = hex.EncodeToString(sum[:])
	if !json.Valid(files[RequestFile]) {
		return Report{}, fileError(RequestFile, "not JSON")
	}
	if many {
		err = verifyMany(files, &rep)
	} else {
		err = verifyOne(files, &rep)
	}
	if err != nil {
		return Report{}, err
	}
	for _, er := range rep.Events {
		rep.Disclosed += len(er.Disclosed)
		rep.Withheld += len(er.Withheld)
		rep.Pseudonyms += len(er.Pseudonyms)
	}
	return rep, nil
}

// openLog checks a log's verifier key file and its checkpoint, signed by
// that key.
func openLog(files map[string][]byte, keyFile, checkpointFile string) (string, tlog.Checkpoint, error) {
	vkey := files[keyFile]
	if len(vkey) > 0 && vkey[len(vkey)-1] == '\n' {
		vkey = vkey[:len(vkey)-1]
	}
	if err := checkText(string(vkey), MaxTextBytes); err != nil || len(vkey) == 0 {
		return "", tlog.Checkpoint{}, fileError(keyFile, "not a verifier key on one line")
	}
	if _, err := note.NewVerifier(string(vkey)); err != nil {
		return "", tlog.Checkpoint{}, fileError(keyFile, "not a note verifier key: %v", err)
	}
	cp, err := tlog.OpenCheckpoint(files[checkpointFile], string(vkey))
	if err != nil {
		return "", tlog.Checkpoint{}, fileError(checkpointFile, "does not verify with the key in %s: %v", keyFile, err)
	}
	return string(vkey), cp, nil
}

// checkCreated parses disclosure.json's created.
func checkCreated(created string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, created)
	if err != nil || t.UTC().Format(time.RFC3339Nano) != created {
		return time.Time{}, fileError(DisclosureFile, "created is not an RFC 3339 UTC time")
	}
	return t, nil
}

// verifyOne checks a bundle of one log, laid out as bundles always were.
func verifyOne(files map[string][]byte, rep *Report) error {
	vkey, cp, err := openLog(files, KeyFile, CheckpointFile)
	if err != nil {
		return err
	}
	rep.VerifierKey, rep.Origin, rep.Size, rep.Root = vkey, cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root)

	var d disclosureJSON
	if err := decodeCanonical(files[DisclosureFile], &d); err != nil {
		return fileError(DisclosureFile, "%v", err)
	}
	created, err := checkCreated(d.Created)
	if err != nil {
		return err
	}
	for _, s := range []string{d.Recipient, d.Purpose, d.Log, d.Origin} {
		if err := checkText(s, MaxTextBytes); err != nil || s == "" {
			return fileError(DisclosureFile, "recipient, purpose, log and origin must be given as plain text")
		}
	}
	if d.Origin != cp.Origin {
		return fileError(DisclosureFile, "origin %s is not the checkpoint's %s", safetext.Quote(d.Origin), safetext.Quote(cp.Origin))
	}
	var indices []uint64
	for name := range files {
		if i, ok := eventIndex(name); ok {
			indices = append(indices, i)
		}
	}
	slices.Sort(indices)
	if !slices.Equal(indices, d.Events) {
		return fileError(DisclosureFile, "events %v, but the bundle holds the files of %v", d.Events, indices)
	}
	rep.Log, rep.Recipient, rep.Purpose, rep.Created = d.Log, d.Recipient, d.Purpose, created
	rep.Logs = []LogReport{{Log: d.Log, Origin: cp.Origin, Size: cp.Size, Root: rep.Root, VerifierKey: vkey}}

	for _, i := range indices {
		name := EventFile(i)
		er, err := checkEvent(files[name], "", i, cp)
		if err != nil {
			return fileError(name, "%v", err)
		}
		er.Log = d.Log
		rep.Events = append(rep.Events, er)
	}
	return nil
}

// verifyMany checks a bundle of several logs: each log's key and
// checkpoint, and each event against its own log's checkpoint, never
// another's. disclosure.json names every log whose files the bundle
// holds, and nothing else.
func verifyMany(files map[string][]byte, rep *Report) error {
	var d logsDisclosureJSON
	if err := decodeCanonical(files[DisclosureFile], &d); err != nil {
		return fileError(DisclosureFile, "%v", err)
	}
	created, err := checkCreated(d.Created)
	if err != nil {
		return err
	}
	for _, s := range []string{d.Recipient, d.Purpose} {
		if err := checkText(s, MaxTextBytes); err != nil || s == "" {
			return fileError(DisclosureFile, "recipient and purpose must be given as plain text")
		}
	}
	if len(d.Logs) < 2 {
		// One content, one encoding: a bundle of one log has the layout
		// of one.
		return fileError(DisclosureFile, "logs: a bundle of logs/ holds at least two logs")
	}
	// Which files each log has, from the names alone.
	held := map[string][]uint64{}
	for name := range files {
		if log, rest, ok := logOf(name); ok {
			if i, ok := eventIndex(rest); ok {
				held[log] = append(held[log], i)
			} else if _, ok := held[log]; !ok {
				held[log] = nil
			}
		}
	}
	origins := map[string]bool{}
	for k, l := range d.Logs {
		if err := checkLogName(l.Log); err != nil {
			return fileError(DisclosureFile, "logs: %v", err)
		}
		if k > 0 && d.Logs[k-1].Log >= l.Log {
			return fileError(DisclosureFile, "logs: %s out of order or repeated", l.Log)
		}
		if _, ok := held[l.Log]; !ok {
			return &Error{File: LogCheckpointFile(l.Log), Msg: "missing"}
		}
		for _, name := range []string{LogCheckpointFile(l.Log), LogKeyFile(l.Log)} {
			if _, ok := files[name]; !ok {
				return &Error{File: name, Msg: "missing"}
			}
		}
		vkey, cp, err := openLog(files, LogKeyFile(l.Log), LogCheckpointFile(l.Log))
		if err != nil {
			return err
		}
		if l.Origin != cp.Origin {
			return fileError(DisclosureFile, "origin %s of log %s is not its checkpoint's %s", safetext.Quote(l.Origin), l.Log, safetext.Quote(cp.Origin))
		}
		if origins[cp.Origin] {
			return fileError(LogCheckpointFile(l.Log), "origin %s is another log's too", safetext.Quote(cp.Origin))
		}
		origins[cp.Origin] = true
		indices := held[l.Log]
		slices.Sort(indices)
		if indices == nil {
			indices = []uint64{}
		}
		if !slices.Equal(indices, l.Events) {
			return fileError(DisclosureFile, "events of %s %v, but the bundle holds the files of %v", l.Log, l.Events, indices)
		}
		rep.Logs = append(rep.Logs, LogReport{Log: l.Log, Origin: cp.Origin, Size: cp.Size,
			Root: base64.StdEncoding.EncodeToString(cp.Root), VerifierKey: vkey})
		for _, i := range indices {
			name := LogEventFile(l.Log, i)
			er, err := checkEvent(files[name], l.Log, i, cp)
			if err != nil {
				return fileError(name, "%v", err)
			}
			er.Log = l.Log
			rep.Events = append(rep.Events, er)
		}
		delete(held, l.Log)
	}
	for log := range held {
		return &Error{File: LogCheckpointFile(log), Msg: fmt.Sprintf("log %s is not in %s", safetext.Quote(log), DisclosureFile)}
	}
	rep.Recipient, rep.Purpose, rep.Created = d.Recipient, d.Purpose, created
	return nil
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
	if _, ok := eventIndex(name); ok {
		return true
	}
	_, rest, ok := logOf(name)
	if !ok {
		return false
	}
	if rest == CheckpointFile || rest == KeyFile {
		return true
	}
	_, ok = eventIndex(rest)
	return ok
}

// checkManifest checks that manifest.json lists every other file, each
// once, with its size and SHA-256, and nothing else. many says the bundle
// is of several logs, whose checkpoints and keys are under logs/ and
// never at the top.
func checkManifest(files map[string][]byte, many bool) error {
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
	required := []string{CheckpointFile, KeyFile, RequestFile, DisclosureFile, ReadmeFile}
	if many {
		for _, name := range names {
			if _, ok := eventIndex(name); ok || name == CheckpointFile || name == KeyFile {
				return fileError(name, "a bundle of several logs holds its checkpoints, keys and events under %s", logsDir)
			}
		}
		required = required[2:]
	}
	for _, name := range required {
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

// checkEvent checks one event file against the checkpoint of its log,
// which the file must name in a bundle of several logs (log) and must
// not in a bundle of one (log ""). Its errors are wrapped by the caller
// with the file and index.
func checkEvent(b []byte, log string, index uint64, cp tlog.Checkpoint) (EventReport, error) {
	var j eventJSON
	if err := decodeCanonical(b, &j); err != nil {
		return EventReport{}, err
	}
	switch {
	case j.Log == log:
	case j.Log == "":
		return EventReport{}, fmt.Errorf("names no log, in a file of log %s", log)
	case log == "":
		return EventReport{}, fmt.Errorf("names the log %s, in a bundle of one log", safetext.Quote(j.Log))
	default:
		return EventReport{}, fmt.Errorf("names the log %s, in a file of log %s", safetext.Quote(j.Log), log)
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
