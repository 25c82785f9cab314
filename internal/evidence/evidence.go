package evidence

import (
	"archive/zip"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/safetext"
)

// Event is one disclosed event as [Write] takes it.
type Event struct {
	// Log names the log the event is in, one of the bundle's Logs; it
	// may be left empty in a bundle of one log.
	Log   string
	Index uint64
	// Leaf is the canonical leaf bytes, as the log holds them.
	Leaf []byte
	// Disclosed are the fields shown, with their salts.
	Disclosed []event.Field
	// Withheld are the fields not shown: only their commitments.
	Withheld []WithheldField
	// Proof is the inclusion proof of Leaf at Index in the checkpoint's tree.
	Proof [][]byte
}

// WithheldField is a field of an event that a bundle does not disclose.
type WithheldField struct {
	Name       string // a label for people; not proven
	Commitment event.Commitment
	// Pseudonym, when set, stands in for the value (a person's identifier
	// replaced so that the bundle does not name them). It is an annotation:
	// nothing in the bundle ties it to the commitment.
	Pseudonym string
}

// Log is one log a bundle's events are in: its name, origin and note
// verifier key, and the signed checkpoint its events' proofs are against.
type Log struct {
	Name, Origin, VerifierKey string
	// Checkpoint is the signed note of the tree the log's events' proofs
	// are against.
	Checkpoint []byte
}

// Bundle is everything an evidence bundle holds.
type Bundle struct {
	// Logs are the logs its events are in, at least one, each named once
	// and with its own origin (the activity log's shards are several
	// logs). A bundle of one log is written as bundles always were; one
	// of several keeps each log's checkpoint and key, and its events,
	// under logs/NAME/ (see the package doc).
	Logs []Log
	// Request is the authorisation as JSON, including its history.
	Request            []byte
	Recipient, Purpose string
	Events             []Event
	// Created is when the bundle was made; it dates every zip entry too,
	// so one input always gives the same bytes.
	Created time.Time
	// SubjectAccess says the bundle answers a person's request for their
	// own data (UK GDPR Art 15): its README is written to them, and
	// request.json is their request. That README says nothing of
	// authorisations or of anything left out, which could tip them off
	// about an investigation (internal/subjectaccess).
	SubjectAccess bool
}

// File names inside a bundle.
const (
	CheckpointFile = "checkpoint.txt"
	KeyFile        = "verifier-key.txt"
	RequestFile    = "request.json"
	DisclosureFile = "disclosure.json"
	ReadmeFile     = "README.txt"
	ManifestFile   = "manifest.json"
	eventsDir      = "events/"
)

// EventFile returns the name of the file of the event at index in a
// bundle of one log.
func EventFile(index uint64) string { return fmt.Sprintf("%s%08d.json", eventsDir, index) }

// The files of one log in a bundle of several, under logsDir + the log's
// name + "/".
const (
	logsDir = "logs/"
)

// LogEventFile returns the name of the file of the event at index of log
// in a bundle of several logs.
func LogEventFile(log string, index uint64) string {
	return fmt.Sprintf("%s%s/%s%08d.json", logsDir, log, eventsDir, index)
}

// LogCheckpointFile and LogKeyFile return the names of log's checkpoint
// and verifier key in a bundle of several logs.
func LogCheckpointFile(log string) string { return logsDir + log + "/" + CheckpointFile }
func LogKeyFile(log string) string        { return logsDir + log + "/" + KeyFile }

// MaxLogNameBytes bounds a log's name. A name is lower-case ASCII
// letters, digits and '-', not starting with '-': it names a directory
// of the zip, so it can never climb out of one ("..") or differ from
// another only by case.
const MaxLogNameBytes = 64

// checkLogName refuses a log name a bundle cannot hold.
func checkLogName(name string) error {
	ok := name != "" && len(name) <= MaxLogNameBytes && name[0] != '-'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("log name %s: not 1 to %d lower-case letters, digits and '-'", safetext.Quote(name), MaxLogNameBytes)
	}
	return nil
}

// MaxPseudonymBytes bounds a pseudonym annotation; MaxTextBytes the
// recipient, purpose, log and origin.
const (
	MaxPseudonymBytes = 256
	MaxTextBytes      = 4096
)

// unverifiedNote is written beside every pseudonym, so that no reader of an
// event file takes it for part of the proof.
const unverifiedNote = "pseudonym: an annotation, not part of the proof"

// The JSON forms of the files. Field order is the order people read them in.
type (
	eventJSON struct {
		// Log is set in a bundle of several logs only, so that a bundle
		// of one is what it always was.
		Log       string          `json:"log,omitempty"`
		Index     uint64          `json:"index"`
		ID        string          `json:"id"`
		Time      string          `json:"time"`
		Source    string          `json:"source"`
		Leaf      string          `json:"leaf"`
		Disclosed []disclosedJSON `json:"disclosed"`
		Withheld  []withheldJSON  `json:"withheld"`
		Proof     []string        `json:"proof"`
	}
	disclosedJSON struct {
		Name  string `json:"name"`
		Value string `json:"value"` // canonical JSON text of the value
		Salt  string `json:"salt"`  // base64
	}
	withheldJSON struct {
		Name       string `json:"name"`
		Commitment string `json:"commitment"` // hex
		Pseudonym  string `json:"pseudonym,omitempty"`
		Unverified string `json:"unverified,omitempty"`
	}
	disclosureJSON struct {
		Recipient string   `json:"recipient"`
		Purpose   string   `json:"purpose"`
		Created   string   `json:"created"`
		Log       string   `json:"log"`
		Origin    string   `json:"origin"`
		Events    []uint64 `json:"events"`
	}
	// logsDisclosureJSON is disclosure.json of a bundle of several logs.
	logsDisclosureJSON struct {
		Recipient string           `json:"recipient"`
		Purpose   string           `json:"purpose"`
		Created   string           `json:"created"`
		Logs      []logDisclosJSON `json:"logs"`
	}
	logDisclosJSON struct {
		Log    string   `json:"log"`
		Origin string   `json:"origin"`
		Events []uint64 `json:"events"`
	}
	manifestJSON struct {
		Algorithm string         `json:"algorithm"`
		Files     []manifestFile `json:"files"`
	}
	manifestFile struct {
		Name   string `json:"name"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
)

// Write writes b as a zip to w. The output depends only on b: entries are
// in a fixed order (the fixed files, then events by index, then the
// manifest) and all dated b.Created. It checks only what it must to write
// a well-formed bundle (leaves parse, names are well formed, indices are
// distinct); it does not check proofs or commitments: run [Verify] on the
// result for that.
func Write(w io.Writer, b Bundle) error {
	files, err := render(b)
	if err != nil {
		return err
	}
	return writeZip(w, files, b.Created)
}

type file struct {
	name string
	data []byte
}

// render returns the bundle's files in zip order, the manifest last.
func render(b Bundle) ([]file, error) {
	if b.Created.IsZero() {
		return nil, errors.New("writing bundle: no creation time")
	}
	for what, v := range map[string]string{"recipient": b.Recipient, "purpose": b.Purpose} {
		if v == "" {
			return nil, fmt.Errorf("writing bundle: no %s", what)
		}
		if err := checkText(v, MaxTextBytes); err != nil {
			return nil, fmt.Errorf("writing bundle: %s: %v", what, err)
		}
	}
	if len(b.Logs) == 0 {
		return nil, errors.New("writing bundle: no log")
	}
	logs := slices.Clone(b.Logs)
	slices.SortFunc(logs, func(a, b Log) int { return strings.Compare(a.Name, b.Name) })
	origins := map[string]bool{}
	for i, l := range logs {
		for what, v := range map[string]string{"log": l.Name, "origin": l.Origin} {
			if v == "" {
				return nil, fmt.Errorf("writing bundle: no %s", what)
			}
			if err := checkText(v, MaxTextBytes); err != nil {
				return nil, fmt.Errorf("writing bundle: %s: %v", what, err)
			}
		}
		if len(logs) > 1 {
			if err := checkLogName(l.Name); err != nil {
				return nil, fmt.Errorf("writing bundle: %v", err)
			}
		}
		if i > 0 && logs[i-1].Name == l.Name {
			return nil, fmt.Errorf("writing bundle: log %s given twice", l.Name)
		}
		if origins[l.Origin] {
			return nil, fmt.Errorf("writing bundle: two logs of origin %s", l.Origin)
		}
		origins[l.Origin] = true
	}
	if !json.Valid(b.Request) {
		return nil, errors.New("writing bundle: request is not JSON")
	}
	evs := slices.Clone(b.Events)
	for i, e := range evs {
		switch {
		case e.Log == "" && len(logs) == 1:
			evs[i].Log = logs[0].Name
		case !slices.ContainsFunc(logs, func(l Log) bool { return l.Name == e.Log }):
			return nil, fmt.Errorf("writing bundle: event %d is in log %q, which the bundle does not hold", e.Index, e.Log)
		}
	}
	slices.SortFunc(evs, func(a, b Event) int { return cmp.Or(strings.Compare(a.Log, b.Log), cmp.Compare(a.Index, b.Index)) })
	indices := map[string][]uint64{}
	for i, e := range evs {
		if i > 0 && evs[i-1].Log == e.Log && evs[i-1].Index == e.Index {
			if len(logs) == 1 {
				return nil, fmt.Errorf("writing bundle: event %d given twice", e.Index)
			}
			return nil, fmt.Errorf("writing bundle: event %d of %s given twice", e.Index, e.Log)
		}
		indices[e.Log] = append(indices[e.Log], e.Index)
	}
	if len(logs) == 1 {
		return renderOne(b, logs[0], evs, indices[logs[0].Name])
	}
	return renderMany(b, logs, evs, indices)
}

// renderOne renders a bundle of one log, as every bundle was before logs
// were sharded: its files, and so its bytes, are unchanged.
func renderOne(b Bundle, l Log, evs []Event, indices []uint64) ([]file, error) {
	if indices == nil {
		indices = []uint64{}
	}
	disclosure, err := marshal(disclosureJSON{
		Recipient: b.Recipient, Purpose: b.Purpose, Created: b.Created.UTC().Format(time.RFC3339Nano),
		Log: l.Name, Origin: l.Origin, Events: indices,
	})
	if err != nil {
		return nil, err
	}
	files := []file{
		{CheckpointFile, l.Checkpoint},
		{KeyFile, []byte(strings.TrimSpace(l.VerifierKey) + "\n")},
		{RequestFile, b.Request},
		{DisclosureFile, disclosure},
		{ReadmeFile, []byte(readmeFor(b, l, len(evs)))},
	}
	for _, e := range evs {
		e.Log = "" // the one log is the bundle's
		data, err := renderEvent(e)
		if err != nil {
			return nil, err
		}
		files = append(files, file{EventFile(e.Index), data})
	}
	m, err := manifest(files)
	if err != nil {
		return nil, err
	}
	return append(files, m), nil
}

// renderMany renders a bundle of several logs: each log's checkpoint and
// key under logs/NAME/, then request.json, disclosure.json and
// README.txt, then the events by log and index, each naming its log.
func renderMany(b Bundle, logs []Log, evs []Event, indices map[string][]uint64) ([]file, error) {
	d := logsDisclosureJSON{Recipient: b.Recipient, Purpose: b.Purpose, Created: b.Created.UTC().Format(time.RFC3339Nano)}
	var files []file
	for _, l := range logs {
		events := indices[l.Name]
		if events == nil {
			events = []uint64{}
		}
		d.Logs = append(d.Logs, logDisclosJSON{Log: l.Name, Origin: l.Origin, Events: events})
		files = append(files,
			file{LogCheckpointFile(l.Name), l.Checkpoint},
			file{LogKeyFile(l.Name), []byte(strings.TrimSpace(l.VerifierKey) + "\n")})
	}
	disclosure, err := marshal(d)
	if err != nil {
		return nil, err
	}
	files = append(files,
		file{RequestFile, b.Request},
		file{DisclosureFile, disclosure},
		file{ReadmeFile, []byte(readmeLogs(b, logs, len(evs)))})
	for _, e := range evs {
		data, err := renderEvent(e)
		if err != nil {
			return nil, err
		}
		files = append(files, file{LogEventFile(e.Log, e.Index), data})
	}
	m, err := manifest(files)
	if err != nil {
		return nil, err
	}
	return append(files, m), nil
}

// manifest returns manifest.json for files.
func manifest(files []file) (file, error) {
	m := manifestJSON{Algorithm: "SHA-256", Files: []manifestFile{}}
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		m.Files = append(m.Files, manifestFile{Name: f.name, Size: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	b, err := marshal(m)
	return file{ManifestFile, b}, err
}

func renderEvent(e Event) ([]byte, error) {
	bad := func(format string, args ...any) ([]byte, error) {
		return nil, fmt.Errorf("writing bundle: event %d: "+format, append([]any{e.Index}, args...)...)
	}
	l, err := event.ParseLeaf(e.Leaf)
	if err != nil {
		return bad("%v", err)
	}
	j := eventJSON{
		Log: e.Log, Index: e.Index, ID: l.ID.String(), Time: l.Time.Format(time.RFC3339Nano), Source: l.Source,
		Leaf:      base64.StdEncoding.EncodeToString(e.Leaf),
		Disclosed: []disclosedJSON{}, Withheld: []withheldJSON{}, Proof: []string{},
	}
	ds := slices.Clone(e.Disclosed)
	slices.SortFunc(ds, func(a, b event.Field) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range ds {
		if err := checkName(f.Name); err != nil {
			return bad("%v", err)
		}
		if !utf8.Valid(f.Value) {
			// A JSON string could not carry these bytes exactly.
			return bad("field %s: value is not UTF-8", f.Name)
		}
		j.Disclosed = append(j.Disclosed, disclosedJSON{Name: f.Name, Value: string(f.Value), Salt: base64.StdEncoding.EncodeToString(f.Salt[:])})
	}
	ws := slices.Clone(e.Withheld)
	slices.SortFunc(ws, func(a, b WithheldField) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), bytes.Compare(a.Commitment[:], b.Commitment[:]))
	})
	for _, f := range ws {
		if err := checkName(f.Name); err != nil {
			return bad("%v", err)
		}
		wj := withheldJSON{Name: f.Name, Commitment: hex.EncodeToString(f.Commitment[:])}
		if f.Pseudonym != "" {
			if err := checkText(f.Pseudonym, MaxPseudonymBytes); err != nil {
				return bad("pseudonym of %s: %v", f.Name, err)
			}
			wj.Pseudonym, wj.Unverified = f.Pseudonym, unverifiedNote
		}
		j.Withheld = append(j.Withheld, wj)
	}
	for _, h := range e.Proof {
		j.Proof = append(j.Proof, base64.StdEncoding.EncodeToString(h))
	}
	return marshal(j)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Values are read by people: "<" should read as "<", not "\u003c".
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("writing bundle: %v", err)
	}
	return buf.Bytes(), nil
}

func writeZip(w io.Writer, files []file, created time.Time) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: created.UTC()})
		if err != nil {
			return fmt.Errorf("writing bundle: %v", err)
		}
		if _, err := fw.Write(f.data); err != nil {
			return fmt.Errorf("writing bundle: %v", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing bundle: %v", err)
	}
	return nil
}

// checkName applies event's rules for field names, so that a name in a
// bundle is one an event could have and is safe to print.
func checkName(name string) error {
	if name == "" || len(name) > event.MaxNameBytes {
		return fmt.Errorf("field name %s: empty or longer than %d bytes", safetext.Quote(name), event.MaxNameBytes)
	}
	for seg := range strings.SplitSeq(name, ".") {
		if seg == "" || strings.ContainsFunc(seg, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '@')
		}) {
			return fmt.Errorf("field name %s: not a dotted name of letters, digits, '_', '-' and '@'", safetext.Quote(name))
		}
	}
	return nil
}

// checkText accepts text fit to show people: UTF-8, no hidden characters,
// at most max bytes.
func checkText(s string, max int) error {
	switch {
	case len(s) > max:
		return fmt.Errorf("longer than %d bytes", max)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, safetext.Hidden):
		return fmt.Errorf("%s holds invalid or hidden characters", safetext.Quote(s))
	}
	return nil
}
