package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/capture/email"
	"github.com/lbm-project/lbm/internal/capture/email/mailgen"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

// TestMailCorpusThroughThePipeline imports the 10,000-message corpus
// through lbm ingest's client, POST /v1/email and the node's real
// pipeline, then reads the whole activity log back: as many entries as
// messages kept; what was written (subject, body, attachment names and
// text) only ever as content, headers as metadata; internal senders
// resolved to the directory; and a second import adds nothing.
func TestMailCorpusThroughThePipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 messages")
	}
	const total = 10000
	ctx := t.Context()
	n, err := server.Open(ctx, server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	// The corpus's people at force.example are staff; everyone else is
	// outside the force.
	msgs := mailgen.Generate(7, total)
	var people []store.Person
	seen := map[string]bool{}
	for _, m := range msgs {
		for _, a := range slices.Concat(m.From, m.To, m.Cc) {
			if strings.HasSuffix(a, "@force.example") && !seen[a] {
				seen[a] = true
				people = append(people, store.Person{ID: fmt.Sprintf("p%04d", len(people)), Name: a, Emails: []string{a}})
			}
		}
	}
	if _, _, err := n.Store.PutPeople(ctx, people); err != nil {
		t.Fatal(err)
	}
	token, err := identity.AddSource(ctx, n.Store, "exchange", n.Now())
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.New(server.WebConfig(n))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	var mbox bytes.Buffer
	want := map[mailgen.Kind]int{}
	for _, m := range msgs {
		email.WriteMbox(&mbox, m.Raw)
		want[m.Kind]++
	}
	path := filepath.Join(t.TempDir(), "journal.mbox")
	if err := os.WriteFile(path, mbox.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := ingest.FindFiles([]string{path}, ingest.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	c := &ingest.Client{Server: srv.URL, Token: token}
	st, err := c.UploadMail(ctx, files, "journal@force.example", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept := want[mailgen.Stored] + want[mailgen.Unparsed]
	if st.Messages != total || st.Accepted != want[mailgen.Stored] || st.Unparsed != want[mailgen.Unparsed] || len(st.Skipped) != want[mailgen.Skipped] {
		t.Fatalf("import: %d messages, %d accepted, %d unparsed, %d skipped; want %d, %d, %d, %d",
			st.Messages, st.Accepted, st.Unparsed, len(st.Skipped), total, want[mailgen.Stored], want[mailgen.Unparsed], want[mailgen.Skipped])
	}
	state, err := n.Store.LogState(ctx, server.Activity)
	if err != nil {
		t.Fatal(err)
	}
	if state.Size != uint64(kept) {
		t.Fatalf("the log holds %d entries, want %d", state.Size, kept)
	}

	byID := map[string]mailgen.Message{}
	for _, m := range msgs {
		if m.Checked && m.MessageID != "" {
			byID[m.MessageID] = m
		}
	}
	writtenWords := []string{"email.subject", "email.body.text", "email.attachments.file.name", "email.attachments.text"}
	var unparsed, internal, checked int
	for from := uint64(0); from < state.Size; from += 1000 {
		ens, err := n.Store.Entries(ctx, server.Activity, from, min(from+1000, state.Size))
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range ens {
			o, err := n.Opener.Open(ctx, en)
			if err != nil {
				t.Fatal(err)
			}
			fields := map[string]string{}
			for _, f := range o.Event.Fields {
				fields[f.Name] = string(f.Value)
			}
			for _, name := range writtenWords {
				if _, ok := fields[name]; ok {
					t.Fatalf("entry %d: %s is metadata, not content", en.Index, name)
				}
			}
			if fields["event.action"] == `"unparsed"` {
				unparsed++
				if fields["content.raw"] == "" && fields["content.raw_base64"] == "" {
					t.Errorf("entry %d: unparsed without the raw message", en.Index)
				}
				continue
			}
			if fields["event.category"] != `"email"` {
				t.Errorf("entry %d: category %s", en.Index, fields["event.category"])
			}
			if strings.HasPrefix(fields["user.id"], `"p`) {
				internal++
			}
			id := strings.Trim(fields["email.message_id"], `"`)
			m, ok := byID[id]
			if !ok {
				continue
			}
			checked++
			var subject string
			if m.Subject != "" {
				if err := json.Unmarshal([]byte(fields["content.email.subject"]), &subject); err != nil || subject != m.Subject {
					t.Errorf("entry %d: subject %s, want %q", en.Index, fields["content.email.subject"], m.Subject)
				}
			}
			if len(m.From) > 0 && strings.HasSuffix(m.From[0], "@force.example") {
				if !strings.HasPrefix(fields["user.id"], `"p`) || fields["event.action"] != `"sent"` {
					t.Errorf("entry %d: internal sender %s made user.id %s, action %s", en.Index, m.From[0], fields["user.id"], fields["event.action"])
				}
			}
			for _, a := range m.Attachments {
				if !strings.Contains(fields["email.attachments.file.hash.sha256"], a.SHA256) {
					t.Errorf("entry %d: attachment %s's SHA-256 is not in the metadata", en.Index, a.Name)
				}
			}
		}
	}
	if unparsed != want[mailgen.Unparsed] || checked < 1000 || internal == 0 {
		t.Errorf("%d unparsed (want %d), %d messages checked, %d from internal senders", unparsed, want[mailgen.Unparsed], checked, internal)
	}

	again, err := c.UploadMail(ctx, files, "journal@force.example", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Accepted != 0 || again.Duplicates != kept {
		t.Errorf("second import: %d accepted, %d duplicates, want all %d duplicates", again.Accepted, again.Duplicates, kept)
	}
	if after, _ := n.Store.LogState(ctx, server.Activity); after.Size != state.Size {
		t.Errorf("the second import grew the log from %d to %d", state.Size, after.Size)
	}
	t.Logf("%d messages: %d stored (%d from internal senders), %d kept unparsed, %d skipped; %d checked field by field",
		total, kept-unparsed, internal, unparsed, len(st.Skipped), checked)
}
