package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// created dates the test bundles.
var created = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

// testLogSize is the size of the test log: past the first tile, so that
// proofs combine full and partial tiles.
const testLogSize = 300

// memTiles is a tree's tiles in memory, read by tlog.Extend.
type memTiles map[store.TileID][]byte

func (m memTiles) Tiles(_ context.Context, ids []store.TileID) (map[store.TileID][]byte, error) {
	out := make(map[store.TileID][]byte, len(ids))
	for _, id := range ids {
		out[id] = bytes.Clone(m[id])
	}
	return out, nil
}

// testBundle builds a log the way lbm does (events parsed and committed by
// internal/event with random salts, the tree extended in batches and
// proofs made from its tiles by internal/tlog, a checkpoint signed with a
// fresh note key) but in memory: the package's tests link no database
// engine, whose size would slow the fuzzer's coverage to a crawl. The
// cmd/lbm test bundles a real data directory's events, read back through
// record.Opener. It bundles three of the first six events:
//
//   - event 1: every field disclosed but content.query, withheld;
//   - event 3: related.user withheld and pseudonymised;
//   - event 4: every field disclosed.
func testBundle(tb testing.TB) Bundle {
	tb.Helper()
	return testBundleOf(tb, "activity")
}

// testBundleOf is testBundle of the log named log, whose origin is
// lbm.local/LOG.
func testBundleOf(tb testing.TB, log string) Bundle {
	tb.Helper()
	ctx := tb.Context()
	skey, vkey, err := tlog.GenerateKey("lbm.local/" + log)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := tlog.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	var evs []*event.Event
	var leaves, hashes [][]byte
	for i := range testLogSize {
		line := fmt.Sprintf(`{"@timestamp":"2026-11-02T08:0%d:11.123Z","event":{"id":"e%d","category":"record_query","action":"pnc_person_search"},`+
			`"user":{"id":"u0004%d"},"related":{"user":["v%d"]},"content":{"query":"SMITH <%d> & 1980"}}`, i%10, i, i, i, i)
		e, err := event.Parse([]byte(line), "pnc")
		if err != nil {
			tb.Fatal(err)
		}
		rand.Read(e.ID[:])
		for j := range e.Fields {
			rand.Read(e.Fields[j].Salt[:])
		}
		leaf, err := event.FormatLeaf(event.LeafOf(e))
		if err != nil {
			tb.Fatal(err)
		}
		evs, leaves, hashes = append(evs, e), append(leaves, leaf), append(hashes, tlog.HashLeaf(leaf))
	}
	tiles := memTiles{}
	var st store.TreeState
	for from := 0; from < testLogSize; from += 100 {
		var changed map[store.TileID][]byte
		if st, changed, err = tlog.Extend(ctx, tiles, st, hashes[from:from+100]); err != nil {
			tb.Fatal(err)
		}
		maps.Copy(tiles, changed)
	}
	cp, err := signer.Sign(tlog.Checkpoint{Origin: signer.Origin(), Size: st.Size, Root: st.Root})
	if err != nil {
		tb.Fatal(err)
	}
	src := tlog.TileSourceFunc(func(_ context.Context, level, index, width uint64) ([]byte, error) {
		return tiles[store.TileID{Level: level, Index: index}][:width*tlog.HashSize], nil
	})
	b := Bundle{
		Logs:      []Log{{Name: log, Origin: signer.Origin(), VerifierKey: vkey, Checkpoint: cp}},
		Request:   []byte(`{"id":"r1","reference":"ACAC-2026-0001","state":"active","history":[{"action":"approve","at":"2026-11-19T09:00:00Z"}]}`),
		Recipient: "Employment Tribunal, case 1234567/2026", Purpose: "disclosure under DPA 2018 s.15 / Sch.2 para 5",
		Created: created,
	}
	withhold := map[uint64]string{1: "content.query", 3: "related.user", 4: ""}
	for _, i := range []uint64{1, 3, 4} {
		p, err := tlog.ProveInclusion(ctx, src, i, st.Size)
		if err != nil {
			tb.Fatal(err)
		}
		e := Event{Index: i, Leaf: leaves[i], Proof: p}
		for _, f := range evs[i].Fields {
			if f.Name != withhold[i] {
				e.Disclosed = append(e.Disclosed, f)
				continue
			}
			w := WithheldField{Name: f.Name, Commitment: event.Commit(f)}
			if f.Name == "related.user" {
				w.Pseudonym = "Person A"
			}
			e.Withheld = append(e.Withheld, w)
		}
		b.Events = append(b.Events, e)
	}
	return b
}

func writeBundle(tb testing.TB, b Bundle) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, b); err != nil {
		tb.Fatalf("Write = %v", err)
	}
	return buf.Bytes()
}

func verify(zb []byte) (Report, error) { return Verify(bytes.NewReader(zb), int64(len(zb))) }

func TestRoundTrip(t *testing.T) {
	b := testBundle(t)
	zb := writeBundle(t, b)
	if again := writeBundle(t, b); !bytes.Equal(zb, again) {
		t.Errorf("Write is not deterministic: two runs differ")
	}
	rep, err := verify(zb)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	var got []string
	for _, e := range rep.Events {
		var d []string
		for _, f := range e.Disclosed {
			d = append(d, f.Name)
		}
		got = append(got, fmt.Sprintf("%d %s disclosed=%v withheld=%v pseudonyms=%v", e.Index, e.Source, d, e.Withheld, e.Pseudonyms))
	}
	want := []string{
		"1 pnc disclosed=[event.action event.category event.id related.user user.id] withheld=[content.query] pseudonyms=[]",
		"3 pnc disclosed=[content.query event.action event.category event.id user.id] withheld=[related.user] pseudonyms=[{related.user Person A}]",
		"4 pnc disclosed=[content.query event.action event.category event.id related.user user.id] withheld=[] pseudonyms=[]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Verify events (-want +got):\n%s", diff)
	}
	if rep.Size != testLogSize || rep.Origin != b.Logs[0].Origin || rep.Log != "activity" || rep.Disclosed != 16 || rep.Withheld != 2 || rep.Pseudonyms != 1 ||
		!rep.Created.Equal(created) || rep.Recipient != b.Recipient {
		t.Errorf("Verify report = %+v", rep)
	}
	if v := rep.Events[2].Disclosed[0].Value; v != `"SMITH <4> & 1980"` {
		t.Errorf("content.query of event 4 = %s, want the canonical JSON", v)
	}
	if len(rep.ManifestSHA256) != 64 {
		t.Errorf("ManifestSHA256 = %q", rep.ManifestSHA256)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(created) {
			t.Errorf("%s dated %v, want %v", f.Name, f.Modified, created)
		}
	}
	wantNames := []string{CheckpointFile, KeyFile, RequestFile, DisclosureFile, ReadmeFile,
		"events/00000001.json", "events/00000003.json", "events/00000004.json", ManifestFile}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("zip files (-want +got):\n%s", diff)
	}
}

// flip changes the byte just after the first occurrence of after in b to
// another of its class (hex digit, letter, digit), so that hex stays hex
// and base64 stays base64 while the content changes.
func flip(after string) func([]byte) []byte {
	return func(b []byte) []byte {
		i := bytes.Index(b, []byte(after))
		if i < 0 {
			panic(fmt.Sprintf("%q not found", after))
		}
		b = bytes.Clone(b)
		i += len(after)
		switch c := b[i]; {
		case c == '9':
			b[i] = '0'
		case c == 'f':
			b[i] = 'a'
		case c == 'z':
			b[i] = 'a'
		case c == 'Z':
			b[i] = 'A'
		case c == '+':
			b[i] = '/'
		case c == '/':
			b[i] = '+'
		default:
			b[i] = c + 1
		}
		return b
	}
}

func replace(old, new string) func([]byte) []byte {
	return func(b []byte) []byte {
		if !bytes.Contains(b, []byte(old)) {
			panic(fmt.Sprintf("%q not found", old))
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
}

// tampered renders b, changes file name with mutate and zips the result,
// with the manifest rebuilt over the change when remanifest is set.
func tampered(tb testing.TB, b Bundle, name string, mutate func([]byte) []byte, remanifest bool) []byte {
	tb.Helper()
	files, err := render(b)
	if err != nil {
		tb.Fatal(err)
	}
	found := false
	for i := range files {
		if files[i].name == name {
			files[i].data = mutate(files[i].data)
			found = true
		}
	}
	if !found {
		tb.Fatalf("no file %s", name)
	}
	if remanifest && name != ManifestFile {
		m, err := manifest(files[:len(files)-1])
		if err != nil {
			tb.Fatal(err)
		}
		files[len(files)-1] = m
	}
	var buf bytes.Buffer
	if err := writeZip(&buf, files, created); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestTamperedFile changes one byte of each kind of file: the manifest
// catches every change and names the file (and event).
func TestTamperedFile(t *testing.T) {
	b := testBundle(t)
	tests := []struct {
		file   string
		mutate func([]byte) []byte
		want   string
	}{
		{CheckpointFile, flip("\n300\n"), "checkpoint.txt: changed"},
		{KeyFile, flip("+"), "verifier-key.txt: changed"},
		{RequestFile, flip("ACAC-"), "request.json: changed"},
		{DisclosureFile, flip("case 1"), "disclosure.json: changed"},
		{ReadmeFile, flip("EVIDENCE "), "README.txt: changed"},
		{"events/00000001.json", flip(`"value": "\"u0004`), "events/00000001.json: event 1: changed"},
		{"events/00000001.json", flip(`"salt": "`), "events/00000001.json: event 1: changed"},
		{"events/00000001.json", flip(`"commitment": "`), "events/00000001.json: event 1: changed"},
		{"events/00000003.json", flip(`"proof": [
    "`), "events/00000003.json: event 3: changed"},
		{"events/00000003.json", flip(`"pseudonym": "Person `), "events/00000003.json: event 3: changed"},
		{ManifestFile, flip(`"sha256": "`), "manifest.json lists"},
		{ManifestFile, flip(`"algorithm": "SHA`), "manifest.json: algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := verify(tampered(t, b, tt.file, tt.mutate, false))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify = %T, want *Error", err)
			}
		})
	}
}

// TestTamperedContent changes a file and rewrites the manifest to match, as
// a forger would: the commitments, proofs and signature must still catch
// every change to what the bundle proves.
func TestTamperedContent(t *testing.T) {
	b := testBundle(t)
	tests := []struct {
		name, file string
		mutate     func([]byte) []byte
		want       string // "" when the change is to something the bundle does not prove
	}{
		{"checkpoint root", CheckpointFile, flip("\n300\n"), "checkpoint.txt: does not verify with the key in verifier-key.txt"},
		{"checkpoint size", CheckpointFile, replace("\n300\n", "\n301\n"), "checkpoint.txt: does not verify"},
		{"verifier key hash", KeyFile, flip("+"), "verifier-key.txt: not a note verifier key"},
		{"verifier key", KeyFile, func([]byte) []byte {
			// Another key for the same origin: well formed, but not the signer's.
			_, vkey, err := tlog.GenerateKey(b.Logs[0].Origin)
			if err != nil {
				t.Fatal(err)
			}
			return []byte(vkey + "\n")
		}, "checkpoint.txt: does not verify with the key in verifier-key.txt"},
		{"request not JSON", RequestFile, replace(`{"id"`, `{id"`), "request.json: not JSON"},
		{"request", RequestFile, replace(`"active"`, `"approved"`), ""},
		{"README", ReadmeFile, replace("EVIDENCE", "EVIDENCE!"), ""},
		{"recipient", DisclosureFile, replace("case 1234567", "case 7654321"), ""},
		{"origin", DisclosureFile, replace(`"origin": "lbm.local`, `"origin": "evil.local`), "disclosure.json: origin"},
		{"events listed", DisclosureFile, replace("    1,\n", ""), "disclosure.json: events [3 4]"},
		{"disclosed value", "events/00000001.json", flip(`"value": "\"u0004`), "events/00000001.json: event 1: field user.id does not match its commitment"},
		{"disclosed name", "events/00000001.json", replace(`"name": "user.id"`, `"name": "user.ie"`), "events/00000001.json: event 1: field user.ie does not match its commitment"},
		{"salt", "events/00000004.json", flip(`"salt": "`), "events/00000004.json: event 4: field content.query does not match its commitment"},
		{"withheld commitment", "events/00000001.json", flip(`"commitment": "`), "events/00000001.json: event 1: withheld field content.query: commitment is not one of the leaf's"},
		{"withheld dropped", "events/00000003.json", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"withheld": [`))
			j := bytes.Index(b[i:], []byte("  ],\n"))
			return append(append(bytes.Clone(b[:i]), `"withheld": [],`+"\n"...), b[i+j+len("  ],\n"):]...)
		}, "events/00000003.json: event 3: the leaf commits to 6 fields, the file accounts for 5"},
		{"pseudonym", "events/00000003.json", replace("Person A", "Person B"), ""},
		{"pseudonym note", "events/00000003.json", replace("not part of the proof", "proven"), "events/00000003.json: event 3: withheld field related.user: a pseudonym must come with the note"},
		{"proof hash", "events/00000003.json", flip(`"proof": [
    "`), "events/00000003.json: event 3: not in the checkpoint's tree"},
		{"proof dropped", "events/00000003.json", replace(`"proof": [
    "`, `"proof": [
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "`), "events/00000003.json: event 3: not in the checkpoint's tree"},
		{"leaf", "events/00000004.json", flip(`"leaf": "bGJtL2xlYWYvdjEK`), "events/00000004.json: event 4: id is not the leaf's"},
		{"leaf id", "events/00000004.json", flip(`"id": "`), "events/00000004.json: event 4: id is not the leaf's"},
		{"leaf time", "events/00000004.json", replace(`08:04:11.123Z`, `08:04:12.123Z`), "events/00000004.json: event 4: time is not the leaf's"},
		{"index", "events/00000004.json", replace(`"index": 4`, `"index": 5`), "events/00000004.json: event 4: index 5 in a file named for 4"},
		{"not canonical", "events/00000004.json", replace(`"index": 4`, `"index":  4`), "events/00000004.json: event 4: not in canonical form"},
		{"unknown key", "events/00000004.json", replace(`"index": 4`, `"Index": 4`), "events/00000004.json: event 4: not in canonical form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := verify(tampered(t, b, tt.file, tt.mutate, true))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Verify = %v, want success: the bundle does not prove this, only its manifest would", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestEventCount checks that a bundle's events are exactly disclosure.json's.
func TestEventCount(t *testing.T) {
	b := testBundle(t)
	files, err := render(b)
	if err != nil {
		t.Fatal(err)
	}
	// Drop event 3's file (and its manifest line): disclosure.json still lists it.
	files = slices.DeleteFunc(files[:len(files)-1], func(f file) bool { return f.name == "events/00000003.json" })
	m, err := manifest(files)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeZip(&buf, append(files, m), created); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "disclosure.json: events [1 3 4], but the bundle holds the files of [1 4]") {
		t.Errorf("Verify = %v, want a mismatch of events", err)
	}
}

type zipEntry struct {
	name string
	mode fs.FileMode
	data []byte
}

func rawZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHostileZip checks that zips no bundle writer makes are refused before
// their content is used.
func TestHostileZip(t *testing.T) {
	good := testBundle(t)
	files, err := render(good)
	if err != nil {
		t.Fatal(err)
	}
	valid := func(extra ...zipEntry) []byte {
		var es []zipEntry
		for _, f := range files {
			es = append(es, zipEntry{name: f.name, data: f.data})
		}
		return rawZip(t, append(es, extra...)...)
	}
	tests := []struct {
		name string
		zip  []byte
		want string
	}{
		{"not a zip", []byte("PK\x03\x04 nothing"), "bundle: not a zip file"},
		{"empty", nil, "bundle: not a zip file"},
		{"traversal", rawZip(t, zipEntry{name: "../../etc/passwd", data: []byte("x")}), "../../etc/passwd: path outside the bundle"},
		{"traversal inside", rawZip(t, zipEntry{name: "events/../checkpoint.txt", data: []byte("x")}), "path outside the bundle"},
		{"absolute", rawZip(t, zipEntry{name: "/etc/passwd", data: []byte("x")}), "/etc/passwd: path outside the bundle"},
		{"backslash", rawZip(t, zipEntry{name: `..\checkpoint.txt`, data: []byte("x")}), "path outside the bundle"},
		{"symlink", rawZip(t, zipEntry{name: CheckpointFile, mode: fs.ModeSymlink | 0o777, data: []byte("/etc/passwd")}), "checkpoint.txt: a symbolic link"},
		{"directory", rawZip(t, zipEntry{name: "events/", mode: fs.ModeDir | 0o755}), "events/: a directory entry"},
		{"unknown file", valid(zipEntry{name: "evil.exe", data: []byte("MZ")}), "evil.exe: not a file an evidence bundle holds"},
		{"event name not canonical", valid(zipEntry{name: "events/4.json", data: []byte("{}")}), "events/4.json: not a file"},
		{"duplicate", valid(zipEntry{name: CheckpointFile, data: []byte("x")}), "checkpoint.txt: in the zip twice"},
		{"unlisted", valid(zipEntry{name: "events/00000005.json", data: []byte("{}")}), "events/00000005.json: event 5: not listed in manifest.json"},
		{"no manifest", rawZip(t, zipEntry{name: CheckpointFile, data: []byte("x")}), "manifest.json: missing"},
		{"too large", rawZip(t, zipEntry{name: ReadmeFile, data: make([]byte, MaxFileBytes+1)}), "README.txt: larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := verify(tt.zip)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteRefuses(t *testing.T) {
	good := testBundle(t)
	tests := []struct {
		name   string
		change func(*Bundle)
		want   string
	}{
		{"no time", func(b *Bundle) { b.Created = time.Time{} }, "no creation time"},
		{"request not JSON", func(b *Bundle) { b.Request = []byte("{") }, "request is not JSON"},
		{"no recipient", func(b *Bundle) { b.Recipient = "" }, "no recipient"},
		{"hidden characters", func(b *Bundle) { b.Purpose = "a\u202eb" }, "purpose"},
		{"event twice", func(b *Bundle) { b.Events = append(b.Events, b.Events[0]) }, "event 1 given twice"},
		{"bad leaf", func(b *Bundle) { b.Events[0].Leaf = []byte("x") }, "event 1: malformed leaf"},
		{"bad pseudonym", func(b *Bundle) { b.Events[1].Withheld[0].Pseudonym = "\x1b[2J" }, "pseudonym of related.user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good
			b.Events = slices.Clone(good.Events)
			for i := range b.Events {
				b.Events[i].Withheld = slices.Clone(b.Events[i].Withheld)
			}
			tt.change(&b)
			var buf bytes.Buffer
			if err := Write(&buf, b); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// FuzzVerify feeds Verify arbitrary bytes, seeded with a valid bundle and
// tampered ones: it must never panic, fail only with *Error, and whatever
// it accepts must carry a signed checkpoint.
func FuzzVerify(f *testing.F) {
	b := testBundle(f)
	valid := writeBundle(f, b)
	if _, err := verify(valid); err != nil {
		f.Fatalf("Verify(seed) = %v", err)
	}
	f.Add(valid)
	f.Add(tampered(f, b, "events/00000001.json", flip(`"salt": "`), true))
	f.Add(tampered(f, b, "events/00000003.json", replace("Person A", "Person B"), true))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	two := twoLogBundle(f)
	f.Add(writeBundle(f, two))
	f.Add(tampered(f, two, "logs/activity-2/events/00000001.json", replace(`"log": "activity-2"`, `"log": "activity-1"`), true))
	f.Fuzz(func(t *testing.T, zb []byte) {
		rep, err := verify(zb)
		if err == nil && (len(rep.Logs) == 0 || slices.ContainsFunc(rep.Logs, func(l LogReport) bool { return l.Origin == "" })) {
			t.Fatalf("Verify accepted a bundle with no origin: %+v", rep)
		}
		for _, e := range rep.Events {
			if !slices.ContainsFunc(rep.Logs, func(l LogReport) bool { return l.Log == e.Log && e.Index < l.Size }) {
				t.Fatalf("Verify accepted event %d of %q, outside its log's checkpoint", e.Index, e.Log)
			}
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify = %T (%v), want *Error", err, err)
			}
		}
	})
}
