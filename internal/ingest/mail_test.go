package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/capture/email"
	"github.com/lbm-project/lbm/internal/capture/email/mailgen"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/web"
)

// mailServer serves the real POST /v1/email with rec as its Capture, and
// returns its URL and a source token.
func mailServer(t *testing.T, rec capture.Sink) (string, string) {
	t.Helper()
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	token, err := identity.AddSource(t.Context(), n.Store, "exchange", n.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.WebConfig(n)
	cfg.Capture = rec
	cfg.Metrics = http.NotFoundHandler()
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, token
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMailCorpus imports 10,000 generated messages, as two mbox files, a
// directory of .eml files and a maildir, through UploadMail into the real
// handler, and checks every message is accounted for, a sample's fields
// exactly, and that importing again stores nothing more.
func TestMailCorpus(t *testing.T) {
	const total = 10000
	msgs := mailgen.Generate(42, total)
	dir := t.TempDir()
	var mbox1, mbox2 bytes.Buffer
	for i, m := range msgs {
		switch {
		case i < 4500:
			email.WriteMbox(&mbox1, m.Raw)
		case i < 9000:
			email.WriteMbox(&mbox2, m.Raw)
		case i < 9500:
			writeFile(t, filepath.Join(dir, "export", fmt.Sprintf("%04d.eml", i)), m.Raw)
		default:
			writeFile(t, filepath.Join(dir, "export", "Maildir", "cur", fmt.Sprintf("%d.host:2,S", i)), m.Raw)
		}
	}
	writeFile(t, filepath.Join(dir, "export", "Inbox"), mbox2.Bytes()) // an mbox without extension
	writeFile(t, filepath.Join(dir, "export", "Inbox.msf"), []byte("// not mail\n"))
	writeFile(t, filepath.Join(dir, "archive.mbox"), mbox1.Bytes())

	want := map[mailgen.Kind]int{}
	for _, m := range msgs {
		want[m.Kind]++
	}
	files, err := ingest.FindFiles([]string{filepath.Join(dir, "archive.mbox"), filepath.Join(dir, "export")}, ingest.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(files); got != 2+500+500 {
		t.Fatalf("FindFiles found %d files, want %d", got, 1002)
	}
	var size int64
	for _, f := range files {
		size += f.Size
	}

	rec := capturetest.New()
	url, token := mailServer(t, rec)
	c := &ingest.Client{Server: url, Token: token}
	var last int64
	st, err := c.UploadMail(t.Context(), files, "", func(read int64) {
		if read < last {
			t.Errorf("progress went back from %d to %d", last, read)
		}
		last = read
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if last != size {
		t.Errorf("progress ended at %d of %d bytes", last, size)
	}
	if st.Messages != total || st.Accepted != want[mailgen.Stored] || st.Unparsed != want[mailgen.Unparsed] || len(st.Skipped) != want[mailgen.Skipped] || st.Duplicates != 0 {
		t.Fatalf("first import: %d messages, %d accepted, %d unparsed, %d skipped, %d duplicates; want %d = %d + %d + %d",
			st.Messages, st.Accepted, st.Unparsed, len(st.Skipped), st.Duplicates, total, want[mailgen.Stored], want[mailgen.Unparsed], want[mailgen.Skipped])
	}
	for _, sk := range st.Skipped {
		if sk.File == "" || sk.Message < 1 || !strings.Contains(sk.Reason, "empty") {
			t.Errorf("skipped %+v: want a file, a message number and the reason", sk)
		}
	}

	got := rec.Records()
	byID := map[string]capture.Record{}
	for _, s := range got {
		if s.Input != capture.Email || s.Source != "exchange" {
			t.Fatalf("submitted as %s/%s, want email/exchange", s.Input, s.Source)
		}
		if id, ok := s.Record.Fields["email.message_id"].(string); ok {
			byID[id] = s.Record
		}
	}
	checked := 0
	for i, m := range msgs {
		if !m.Checked || m.MessageID == "" || i%7 != 0 {
			continue
		}
		r, ok := byID[m.MessageID]
		if !ok {
			t.Errorf("message %d (%s) not stored", i, m.MessageID)
			continue
		}
		checked++
		f := r.Fields
		wantFields := map[string]any{
			"email.from.address": m.From,
			"email.to.address":   m.To,
			"email.subject":      m.Subject,
		}
		if len(m.Cc) > 0 {
			wantFields["email.cc.address"] = m.Cc
		}
		if len(m.Attachments) > 0 {
			var names, hashes []string
			var sizes []int64
			for _, a := range m.Attachments {
				names, hashes, sizes = append(names, a.Name), append(hashes, a.SHA256), append(sizes, a.Size)
			}
			wantFields["email.attachments.file.name"] = names
			wantFields["email.attachments.file.hash.sha256"] = hashes
			wantFields["email.attachments.file.size"] = sizes
		}
		for k, w := range wantFields {
			if diff := cmp.Diff(w, f[k]); diff != "" {
				t.Errorf("message %d: %s (-want +got):\n%s", i, k, diff)
			}
		}
		if text, _ := f["email.body.text"].(string); !strings.Contains(text, "From the desk") && strings.Contains(string(m.Raw), "\nFrom the desk") {
			t.Errorf("message %d: a body line beginning \"From \" was lost: %q", i, text)
		}
		if m.HTMLOnly && f["email.body.text"] == nil {
			t.Errorf("message %d: HTML-only mail has no text", i)
		}
	}
	if checked < 1000 {
		t.Errorf("checked only %d messages' fields", checked)
	}

	// Again: nothing new.
	st, err = c.UploadMail(t.Context(), files, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Accepted != 0 || st.Unparsed != 0 || st.Duplicates != want[mailgen.Stored]+want[mailgen.Unparsed] {
		t.Errorf("second import: %d accepted, %d unparsed, %d duplicates; want 0, 0, %d", st.Accepted, st.Unparsed, st.Duplicates, want[mailgen.Stored]+want[mailgen.Unparsed])
	}
	if n := len(rec.Records()); n != len(got) {
		t.Errorf("second import stored %d more records", n-len(got))
	}
}

func TestFindFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.eml"), []byte("From: a@b\n\nx\n"))
	writeFile(t, filepath.Join(dir, "events.ndjson"), []byte("{}\n"))
	writeFile(t, filepath.Join(dir, "noext-mail"), []byte("Subject: x\n\nbody\n"))
	writeFile(t, filepath.Join(dir, "noext-json"), []byte("{\"a\":1}\n"))
	writeFile(t, filepath.Join(dir, "noext-mbox"), []byte("From x\nSubject: y\n\n"))
	writeFile(t, filepath.Join(dir, "binary"), []byte("\x00\x01"))
	writeFile(t, filepath.Join(dir, "sub", "new", "1"), []byte("Subject: x\n\n"))
	for _, tt := range []struct {
		path string
		want ingest.Format
	}{
		{"a.eml", ingest.FormatEML}, {"events.ndjson", ingest.FormatNDJSON}, {"noext-mail", ingest.FormatEML},
		{"noext-json", ingest.FormatNDJSON}, {"noext-mbox", ingest.FormatMbox},
	} {
		got, err := ingest.FindFiles([]string{filepath.Join(dir, tt.path)}, ingest.FormatAuto)
		if err != nil || len(got) != 1 || got[0].Format != tt.want {
			t.Errorf("FindFiles(%s) = %+v, %v; want %s", tt.path, got, err, tt.want)
		}
	}
	if _, err := ingest.FindFiles([]string{filepath.Join(dir, "binary")}, ingest.FormatAuto); err == nil {
		t.Error("FindFiles(binary) succeeded, want an error naming --format")
	}
	got, err := ingest.FindFiles([]string{dir}, ingest.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		rel, _ := filepath.Rel(dir, f.Path)
		names = append(names, rel+":"+string(f.Format))
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"a.eml:eml", "noext-mbox:mbox", "sub/new/1:eml"}, names); diff != "" {
		t.Errorf("FindFiles(dir) (-want +got):\n%s", diff)
	}
	if _, err := ingest.ParseFormat("pst"); err == nil {
		t.Error("ParseFormat(pst) succeeded")
	}
}

// TestUploadMailRetries: a batch refused for the source's rate limit is
// sent again after the server's Retry-After, and stored once.
func TestUploadMailRetries(t *testing.T) {
	rec := capturetest.New()
	url, token := mailServer(t, rec)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.eml"), []byte("From: a@example.org\nMessage-ID: <r1@x>\n\nhello\n"))
	files, err := ingest.FindFiles([]string{dir}, ingest.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	rec.SetErr(&capture.RateLimitedError{Source: "exchange", RetryAfter: 4 * time.Second})
	var waits []time.Duration
	c := &ingest.Client{Server: url, Token: token, Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		rec.SetErr(nil)
		return nil
	}}
	st, err := c.UploadMail(t.Context(), files, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Accepted != 1 || st.Retries != 1 || !cmp.Equal(waits, []time.Duration{4 * time.Second}) {
		t.Errorf("UploadMail = %+v after waits %v; want 1 accepted after one wait of 4s", st, waits)
	}
}

// TestUploadMailTooLarge: a message over 25 MiB is sent alone and kept
// unparsed, its first 256 KiB as raw; the messages around it are stored.
func TestUploadMailTooLarge(t *testing.T) {
	rec := capturetest.New()
	url, token := mailServer(t, rec)
	dir := t.TempDir()
	var mbox bytes.Buffer
	email.WriteMbox(&mbox, []byte("From: a@example.org\nMessage-ID: <before@x>\n\nhi\n"))
	email.WriteMbox(&mbox, append([]byte("From: a@example.org\nMessage-ID: <huge@x>\n\n"), bytes.Repeat([]byte("0123456789abcde\n"), email.MaxMessageBytes/16+1)...))
	email.WriteMbox(&mbox, []byte("From: a@example.org\nMessage-ID: <after@x>\n\nhi\n"))
	writeFile(t, filepath.Join(dir, "big.mbox"), mbox.Bytes())
	files, err := ingest.FindFiles([]string{filepath.Join(dir, "big.mbox")}, ingest.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	c := &ingest.Client{Server: url, Token: token}
	st, err := c.UploadMail(t.Context(), files, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 3 || st.Accepted != 2 || st.Unparsed != 1 {
		t.Errorf("UploadMail = %+v; want 3 messages, 2 accepted, 1 unparsed", st)
	}
	for _, s := range rec.Records() {
		if s.Record.Unparsed != "" && (len(s.Record.Raw) != email.MaxRaw || !strings.Contains(s.Record.Unparsed, "25 MiB")) {
			t.Errorf("unparsed record: %q, %d raw bytes", s.Record.Unparsed, len(s.Record.Raw))
		}
	}
}
