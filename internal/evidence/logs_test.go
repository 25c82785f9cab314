package evidence

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/tlog"
)

// TestOneLogUnchanged: a bundle of one log is, byte for byte, what lbm
// wrote before bundles could hold several logs. testdata/one-log.zip was
// written then from testdata/one-log.json (a Bundle as it was: one Log,
// Origin, VerifierKey and Checkpoint); it still verifies, and the same
// input written today gives the same bytes.
func TestOneLogUnchanged(t *testing.T) {
	golden, err := os.ReadFile("testdata/one-log.zip")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify(golden)
	if err != nil {
		t.Fatalf("Verify(an old bundle) = %v", err)
	}
	if rep.Log != "activity" || len(rep.Logs) != 1 || rep.Logs[0].VerifierKey != rep.VerifierKey || len(rep.Events) != 3 || rep.Events[0].Log != "activity" {
		t.Errorf("Verify(an old bundle) = %+v", rep)
	}
	raw, err := os.ReadFile("testdata/one-log.json")
	if err != nil {
		t.Fatal(err)
	}
	var old struct {
		Log, Origin, VerifierKey string
		Checkpoint, Request      []byte
		Recipient, Purpose       string
		Events                   []Event
		Created                  time.Time
	}
	if err := json.Unmarshal(raw, &old); err != nil {
		t.Fatal(err)
	}
	b := Bundle{Logs: []Log{{Name: old.Log, Origin: old.Origin, VerifierKey: old.VerifierKey, Checkpoint: old.Checkpoint}},
		Request: old.Request, Recipient: old.Recipient, Purpose: old.Purpose, Events: old.Events, Created: old.Created}
	if got := writeBundle(t, b); !bytes.Equal(got, golden) {
		t.Errorf("Write of the old bundle's input no longer gives its bytes")
	}
	// Naming the one log on each event changes nothing.
	for i := range b.Events {
		b.Events[i].Log = old.Log
	}
	if got := writeBundle(t, b); !bytes.Equal(got, golden) {
		t.Errorf("Write with each event naming the one log gives other bytes")
	}
}

// twoLogBundle is a bundle of events of two shards of the activity log,
// each with its own key and checkpoint, and events at the same indexes in
// both (1, 3 and 4), so that only the log tells them apart.
func twoLogBundle(tb testing.TB) Bundle {
	tb.Helper()
	a, b := testBundleOf(tb, "activity-1"), testBundleOf(tb, "activity-2")
	out := a
	out.Logs = append(out.Logs, b.Logs...)
	out.Events = nil
	for _, x := range []Bundle{b, a} { // the order given does not matter
		for _, e := range x.Events {
			e.Log = x.Logs[0].Name
			out.Events = append(out.Events, e)
		}
	}
	return out
}

func TestTwoLogs(t *testing.T) {
	b := twoLogBundle(t)
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
		got = append(got, fmt.Sprintf("%s %d", e.Log, e.Index))
	}
	want := []string{"activity-1 1", "activity-1 3", "activity-1 4", "activity-2 1", "activity-2 3", "activity-2 4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Verify events (-want +got):\n%s", diff)
	}
	if len(rep.Logs) != 2 || rep.Logs[0].Log != "activity-1" || rep.Logs[1].Origin != "lbm.local/activity-2" ||
		rep.Logs[0].VerifierKey != b.Logs[0].VerifierKey || rep.Logs[1].Size != testLogSize || rep.Log != "" || rep.VerifierKey != "" ||
		rep.Disclosed != 32 || rep.Withheld != 4 || rep.Pseudonyms != 2 {
		t.Errorf("Verify report = %+v", rep)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	wantNames := []string{
		"logs/activity-1/checkpoint.txt", "logs/activity-1/verifier-key.txt",
		"logs/activity-2/checkpoint.txt", "logs/activity-2/verifier-key.txt",
		RequestFile, DisclosureFile, ReadmeFile,
		"logs/activity-1/events/00000001.json", "logs/activity-1/events/00000003.json", "logs/activity-1/events/00000004.json",
		"logs/activity-2/events/00000001.json", "logs/activity-2/events/00000003.json", "logs/activity-2/events/00000004.json",
		ManifestFile,
	}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("zip files (-want +got):\n%s", diff)
	}
	f, err := zr.Open(DisclosureFile)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := io.ReadAll(f)
	f.Close()
	if !strings.Contains(string(d), `"logs": [
    {
      "log": "activity-1",
      "origin": "lbm.local/activity-1",
      "events": [
        1,`) {
		t.Errorf("disclosure.json does not list the events by log:\n%s", d)
	}

	// A reader pins the keys the organisation publishes.
	if err := rep.SignedBy(b.Logs[0].VerifierKey, b.Logs[1].VerifierKey); err != nil {
		t.Errorf("SignedBy(both keys) = %v", err)
	}
	if err := rep.SignedBy(b.Logs[0].VerifierKey); err == nil || !strings.Contains(err.Error(), "log activity-2") {
		t.Errorf("SignedBy(one log's key) = %v, want the other log named", err)
	}
	if err := rep.SignedBy(); err == nil {
		t.Errorf("SignedBy(no key) = nil, want an error")
	}
}

// TestTwoLogsTampered changes a bundle of two logs as a forger would,
// rewriting the manifest: every change to what it proves fails, naming
// the file and, for an event, its log and index.
func TestTwoLogsTampered(t *testing.T) {
	b := twoLogBundle(t)
	files, err := render(b)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string][]byte{}
	for _, f := range files {
		data[f.name] = f.data
	}
	with := func(d []byte) func([]byte) []byte { return func([]byte) []byte { return d } }
	otherKey := func(origin string) func([]byte) []byte {
		return func([]byte) []byte {
			_, vkey, err := tlog.GenerateKey(origin)
			if err != nil {
				t.Fatal(err)
			}
			return []byte(vkey + "\n")
		}
	}
	const e1, e2 = "logs/activity-1/events/00000003.json", "logs/activity-2/events/00000003.json"
	tests := []struct {
		name, file string
		mutate     func([]byte) []byte
		want       string
	}{
		{"first log's checkpoint", "logs/activity-1/checkpoint.txt", flip("\n300\n"), "logs/activity-1/checkpoint.txt: does not verify with the key in logs/activity-1/verifier-key.txt"},
		{"second log's checkpoint", "logs/activity-2/checkpoint.txt", flip("\n300\n"), "logs/activity-2/checkpoint.txt: does not verify"},
		{"a checkpoint of the other log", "logs/activity-2/checkpoint.txt", with(data["logs/activity-1/checkpoint.txt"]), "logs/activity-2/checkpoint.txt: does not verify"},
		{"first log's key", "logs/activity-1/verifier-key.txt", otherKey("lbm.local/activity-1"), "logs/activity-1/checkpoint.txt: does not verify"},
		{"second log's key", "logs/activity-2/verifier-key.txt", otherKey("lbm.local/activity-2"), "logs/activity-2/checkpoint.txt: does not verify"},
		{"the other log's key", "logs/activity-2/verifier-key.txt", with(data["logs/activity-1/verifier-key.txt"]), "logs/activity-2/checkpoint.txt: does not verify"},
		{"an event's log", e1, replace(`"log": "activity-1"`, `"log": "activity-2"`), e1 + `: event 3 of activity-1: names the log activity-2, in a file of log activity-1`},
		{"an event's log removed", e1, replace("  \"log\": \"activity-1\",\n", ""), e1 + `: event 3 of activity-1: names no log, in a file of log activity-1`},
		// The other log's event 3, with its proof, named as this log's:
		// the proof is against the other log's tree.
		{"an event moved to the other log", e2, with(replace(`"log": "activity-1"`, `"log": "activity-2"`)(data[e1])), e2 + ": event 3 of activity-2: not in the checkpoint's tree"},
		{"a proof moved to the other log", e2, func(d []byte) []byte {
			return replaceProof(t, d, data[e1])
		}, e2 + ": event 3 of activity-2: not in the checkpoint's tree"},
		{"a log's origin", DisclosureFile, replace(`"origin": "lbm.local/activity-2"`, `"origin": "lbm.local/activity-1"`), "disclosure.json: origin"},
		{"a log's events", DisclosureFile, replace("        3,\n", ""), "disclosure.json: events of activity-1 [1 4], but the bundle holds the files of [1 3 4]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := verify(tampered(t, b, tt.file, tt.mutate, true))
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

// replaceProof returns the event file d with the proof of the event file
// from.
func replaceProof(t *testing.T, d, from []byte) []byte {
	t.Helper()
	var a, b eventJSON
	if json.Unmarshal(d, &a) != nil || json.Unmarshal(from, &b) != nil {
		t.Fatal("event files do not parse")
	}
	a.Proof = b.Proof
	out, err := marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTwoLogsLayout: a bundle is in one layout or the other, whole, and
// its disclosure names exactly the logs it holds.
func TestTwoLogsLayout(t *testing.T) {
	one, two := testBundle(t), twoLogBundle(t)
	oneFiles, err := render(one)
	if err != nil {
		t.Fatal(err)
	}
	twoFiles, err := render(two)
	if err != nil {
		t.Fatal(err)
	}
	// rezip zips files, the manifest rebuilt over them.
	rezip := func(files []file) []byte {
		m, err := manifest(files)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := writeZip(&buf, append(files, m), created); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	// body is files without the manifest, a copy to append to.
	body := func(files []file) []file { return slices.Clone(files[:len(files)-1]) }
	// drop leaves out the files whose names begin with a prefix.
	drop := func(files []file, prefixes ...string) []file {
		return slices.DeleteFunc(files, func(f file) bool {
			return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(f.name, p) })
		})
	}
	tests := []struct {
		name  string
		files []file
		want  string
	}{
		{"a top-level checkpoint beside logs/", append(body(twoFiles), oneFiles[0]), "checkpoint.txt: a bundle of several logs holds its checkpoints, keys and events under logs/"},
		{"a top-level event beside logs/", append(body(twoFiles), file{"events/00000001.json", oneFiles[5].data}), "events/00000001.json: event 1: a bundle of several logs"},
		{"logs/ in a bundle of one", append(body(oneFiles), twoFiles[0]), "checkpoint.txt: a bundle of several logs holds its checkpoints"},
		{"a log's key missing", drop(body(twoFiles), "logs/activity-2/verifier-key.txt"), "logs/activity-2/verifier-key.txt: missing"},
		{"a log's files missing", drop(body(twoFiles), "logs/activity-2/"), "logs/activity-2/checkpoint.txt: missing"},
		{"a log disclosure does not name", append(body(twoFiles), file{"logs/activity-3/checkpoint.txt", oneFiles[0].data}), "logs/activity-3/checkpoint.txt: log activity-3 is not in disclosure.json"},
		{"a log name out of the rules", append(body(twoFiles), file{"logs/Activity/checkpoint.txt", oneFiles[0].data}), "not a file an evidence bundle holds"},
		{"a log name climbing out", append(body(twoFiles), file{"logs/../checkpoint.txt", oneFiles[0].data}), "path outside the bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := verify(rezip(tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.want)
			}
		})
	}

	// One log in the layout of several: one content has one encoding.
	files := drop(body(twoFiles), "logs/activity-2/")
	for i, f := range files {
		if f.name == DisclosureFile {
			var d logsDisclosureJSON
			if err := json.Unmarshal(f.data, &d); err != nil {
				t.Fatal(err)
			}
			d.Logs = d.Logs[:1]
			if files[i].data, err = marshal(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := verify(rezip(files)); err == nil || !strings.Contains(err.Error(), "at least two logs") {
		t.Errorf("Verify(one log under logs/) = %v, want it refused", err)
	}
}

func TestWriteRefusesLogs(t *testing.T) {
	two := twoLogBundle(t)
	tests := []struct {
		name   string
		mutate func(*Bundle)
		want   string
	}{
		{"no log", func(b *Bundle) { b.Logs = nil }, "no log"},
		{"a log twice", func(b *Bundle) { b.Logs[1].Name = b.Logs[0].Name }, "log activity-1 given twice"},
		{"two logs, one origin", func(b *Bundle) { b.Logs[1].Origin = b.Logs[0].Origin }, "two logs of origin"},
		{"a log with no name", func(b *Bundle) { b.Logs[1].Name = "" }, "no log"},
		{"a log name a zip cannot hold", func(b *Bundle) { b.Logs[1].Name = "../x" }, "log name"},
		{"an event of no log, among several", func(b *Bundle) { b.Events[0].Log = "" }, "event 1 is in log \"\""},
		{"an event of a log not held", func(b *Bundle) { b.Events[0].Log = "activity-3" }, "event 1 is in log \"activity-3\""},
		{"an event twice in one log", func(b *Bundle) { b.Events[1] = b.Events[0] }, "event 1 of activity-2 given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := two
			b.Logs = append([]Log(nil), two.Logs...)
			b.Events = append([]Event(nil), two.Events...)
			tt.mutate(&b)
			var buf bytes.Buffer
			if err := Write(&buf, b); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write = %v, want an error containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes of a bundle it refused", buf.Len())
			}
		})
	}
	// A bundle of one log takes events that name it, or none.
	one := testBundle(t)
	one.Events[0].Log = "activity-2"
	if err := Write(io.Discard, one); err == nil {
		t.Errorf("Write(an event of another log than the one) = nil, want an error")
	}
}

// TestTwoLogsReadme: a bundle of several logs says how to check each log,
// and its subject access wording still never tips the person off.
func TestTwoLogsReadme(t *testing.T) {
	b := twoLogBundle(t)
	readmeOf := func(b Bundle) string {
		t.Helper()
		files, err := render(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := verify(writeBundle(t, b)); err != nil {
			t.Fatalf("Verify = %v", err)
		}
		for _, f := range files {
			if f.name == ReadmeFile {
				return string(f.data)
			}
		}
		t.Fatal("no README")
		return ""
	}
	got := readmeOf(b)
	for _, want := range []string{"activity-1", "lbm.local/activity-2", "logs/LOG/verifier-key.txt", "never another log's"} {
		if !strings.Contains(got, want) {
			t.Errorf("the README of two logs does not say %q:\n%s", want, got)
		}
	}
	b.SubjectAccess = true
	got = strings.ToLower(readmeOf(b))
	if !strings.Contains(got, "your request for a copy of your personal data") || !strings.Contains(got, "activity-2") {
		t.Errorf("the subject access README of two logs does not speak to the person or list the logs:\n%s", got)
	}
	for _, never := range []string{"withh", "exempt", "authoris", "investigat", "hold", "alert", "prejudice", "crime", "evidence"} {
		if strings.Contains(got, never) {
			t.Errorf("the subject access README of two logs says %q", never)
		}
	}
}

// The commitments a bundle of two logs discloses are those of the
// events' own fields: a sanity check that twoLogBundle's logs are
// distinct logs.
func TestTwoLogsDistinct(t *testing.T) {
	b := twoLogBundle(t)
	if bytes.Equal(b.Logs[0].Checkpoint, b.Logs[1].Checkpoint) || b.Logs[0].VerifierKey == b.Logs[1].VerifierKey {
		t.Fatal("the two logs share a checkpoint or key")
	}
	l0, _ := event.ParseLeaf(b.Events[0].Leaf)
	l1, _ := event.ParseLeaf(b.Events[3].Leaf)
	if l0.ID == l1.ID {
		t.Fatal("the two logs share an event")
	}
}
