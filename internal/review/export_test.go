package review_test

import (
	"archive/zip"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/evidence"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
)

const recipient = "Misconduct hearing panel, case MH-2026-14"

func exportIn(f review.Filter, events ...string) review.ExportInput {
	return review.ExportInput{Filter: f, Events: events, Recipient: recipient,
		Purpose: "evidence of the disclosure for the hearing", Justification: why}
}

func verifyZip(t *testing.T, zb []byte) evidence.Report {
	t.Helper()
	rep, err := evidence.Verify(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatalf("the exported bundle does not verify: %v", err)
	}
	return rep
}

func TestExportIsTheInvestigatorsView(t *testing.T) {
	e := newEnv(t)
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	ex, err := e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{Content: true}))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Events != 3 || ex.AccessRecord == 0 || e.leaves[len(e.leaves)-1] != review.ActionExport {
		t.Fatalf("export: %d events, record %d, leaves %v", ex.Events, ex.AccessRecord, e.leaves)
	}
	rep := verifyZip(t, ex.Zip)
	if len(rep.Events) != 3 {
		t.Fatalf("bundle holds %d events", len(rep.Events))
	}
	// What the investigator could not see, the bundle does not disclose:
	// the record query's content, and una's identity (a pseudonym only).
	zs := unzipped(t, ex.Zip)
	if !strings.Contains(zs, "kestrel flat 4") {
		t.Error("the bundle does not hold the content the investigator saw")
	}
	for _, leak := range []string{"SMITH JOHN", `"una"`, `\"una\"`, "una@police.example", "kestrel kestrel", "kestrel early", "kestrel late"} {
		if strings.Contains(zs, leak) {
			t.Errorf("the bundle holds %q", leak)
		}
	}
	pseudonyms := 0
	for _, ev := range rep.Events {
		pseudonyms += len(ev.Pseudonyms)
		if slices.ContainsFunc(ev.Disclosed, func(f evidence.DisclosedField) bool { return f.Name == "content.query" }) {
			t.Errorf("event %d discloses the content of a metadata-only category", ev.Index)
		}
	}
	if pseudonyms == 0 {
		t.Error("no pseudonym in a bundle with una in it")
	}

	// The disclosure record names the recipient and the bundle's hashes;
	// the receipt proves it is in the oversight log.
	rc, err := e.node.Review.Receipt(e.ctx, ivy, ex.AccessRecord)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Record.Action != review.ActionExport || rc.Record.Recipient != recipient || rc.Record.Results == nil || *rc.Record.Results != 3 {
		t.Errorf("disclosure record = %+v", rc.Record)
	}
	if rc.Record.Justification != "" || rc.Record.Query != "" {
		t.Error("a receipt carries the encrypted justification or query")
	}
	if err := review.VerifyReceipt(rc, ""); err != nil {
		t.Errorf("receipt: %v", err)
	}
	oversight, _, _ := e.node.Review.AccessLog(e.ctx, []string{review.ActionExport}, math.MaxUint64, 10)
	if len(oversight) != 1 || oversight[0].Justification != why || !strings.Contains(oversight[0].Purpose, "hearing") {
		t.Errorf("oversight's view of the export: %+v", oversight)
	}
}

func TestExportNamedEvents(t *testing.T) {
	e := newEnv(t)
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{}, res.Events[1].ID))
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyZip(t, ex.Zip)
	if len(rep.Events) != 1 || rep.Events[0].Index != res.Events[1].Index {
		t.Errorf("bundle of one named event holds %+v", rep.Events)
	}
	// Content left out of the filter is withheld: every content field is a
	// commitment only.
	if slices.ContainsFunc(rep.Events[0].Disclosed, func(f evidence.DisclosedField) bool { return strings.HasPrefix(f.Name, "content.") }) {
		t.Errorf("content disclosed without being asked for: %v", rep.Events[0].Disclosed)
	}
}

func TestExportRefusals(t *testing.T) {
	e := newEnv(t)
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	// una's own e-mail is outside the scope: its id exists, but naming it
	// is an attempt outside the authorisation.
	entries, err := e.node.Store.Entries(e.ctx, "activity", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var outside string
	for _, en := range entries {
		if en.Subject == "una" && len(en.Related) == 0 {
			outside = idOf(en)
		}
	}
	if outside == "" {
		t.Fatal("no event of una's alone")
	}
	for _, tt := range []struct {
		name     string
		p        string
		in       review.ExportInput
		recorded bool
	}{
		{"an event outside the scope", "ivy", exportIn(review.Filter{}, outside), true},
		{"a subject outside the scope", "ivy", exportIn(review.Filter{Subjects: []string{"una"}}), true},
		{"content under metadata only", "ivy", exportIn(review.Filter{Categories: []string{"record_query"}, Content: true}), true},
		{"another investigator", "ian", exportIn(review.Filter{}), true},
		{"no recipient", "ivy", review.ExportInput{Purpose: "hearing", Justification: why}, false},
		{"a malformed event id", "ivy", exportIn(review.Filter{}, "nope"), false},
		{"a filter selecting nothing", "ivy", exportIn(review.Filter{Actions: []string{"no_such_action"}}), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.leaves)
			ex, err := e.node.Review.Export(e.ctx, e.as(tt.p, "investigator"), r.ID, tt.in)
			if err == nil || len(ex.Zip) != 0 {
				t.Fatalf("Export = %d bytes, %v", len(ex.Zip), err)
			}
			got := e.leaves[before:]
			if tt.recorded && !slices.Equal(got, []string{review.ActionRefused}) || !tt.recorded && len(got) != 0 {
				t.Errorf("recorded %v (want a refused attempt: %v)", got, tt.recorded)
			}
		})
	}
	// A disclosure that cannot be recorded does not happen.
	e.failing = review.ActionExport
	if ex, err := e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{Content: true})); err == nil || len(ex.Zip) != 0 {
		t.Errorf("with the disclosure record failing: %d bytes, %v", len(ex.Zip), err)
	}
	e.failing = ""
	// A cancelled authorisation exports nothing.
	if _, err := e.node.Requests.Act(e.ctx, ivy, r.ID, func(by requests.Actor) requests.Action {
		return requests.Cancel{By: by, Reasons: "The complaint was withdrawn and there is nothing more to look at here."}
	}); err != nil {
		t.Fatal(err)
	}
	var ie *review.InactiveError
	if _, err := e.node.Review.Export(e.ctx, ivy, r.ID, exportIn(review.Filter{})); !errors.As(err, &ie) || e.leaves[len(e.leaves)-1] != review.ActionRefused {
		t.Errorf("export under a cancelled authorisation = %v", err)
	}
}

// unzipped is every file of a zip, decompressed, one after another.
func unzipped(t *testing.T, zb []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&all, rc)
		rc.Close()
	}
	return all.String()
}

func idOf(en store.Entry) string { return hex.EncodeToString(en.ID[:]) }

func TestReceipts(t *testing.T) {
	e := newEnv(t)
	r := e.authorise()
	ivy := e.as("ivy", "investigator")
	res, err := e.node.Review.Query(e.ctx, ivy, r.ID, review.QueryInput{Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := e.node.Review.Receipt(e.ctx, ivy, res.AccessRecord)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Record.Request != r.ID || rc.Record.Actor != "ivy" || rc.Record.Results == nil || *rc.Record.Results != 3 {
		t.Errorf("receipt record = %+v", rc.Record)
	}
	if err := review.VerifyReceipt(rc, e.node.Logs["oversight"].VerifierKey); err != nil {
		t.Fatalf("receipt does not verify: %v", err)
	}
	// Each part of a receipt matters.
	for name, mutate := range map[string]func(*review.Receipt){
		"another key":   func(rc *review.Receipt) { rc.VerifierKey = e.node.Logs["activity"].VerifierKey },
		"another index": func(rc *review.Receipt) { rc.Record.Index-- },
		"another time":  func(rc *review.Receipt) { rc.Record.Time = rc.Record.Time.Add(time.Second) },
		"a changed leaf": func(rc *review.Receipt) {
			rc.Leaf = bytes.Clone(rc.Leaf)
			rc.Leaf[len(rc.Leaf)-1] ^= 1
		},
		"a changed proof": func(rc *review.Receipt) {
			if len(rc.Proof) == 0 {
				rc.Proof = [][]byte{make([]byte, 32)}
				return
			}
			rc.Proof[0] = bytes.Clone(rc.Proof[0])
			rc.Proof[0][0] ^= 1
		},
		"a changed checkpoint": func(rc *review.Receipt) { rc.Checkpoint = strings.Replace(rc.Checkpoint, "\n", "\n1", 1) },
	} {
		bad := rc
		mutate(&bad)
		if err := review.VerifyReceipt(bad, ""); err == nil {
			t.Errorf("a receipt with %s verifies", name)
		}
	}
	// Receipts are their holder's own: not another investigator's, and not
	// of an entry that is not an access record.
	if _, err := e.node.Review.Receipt(e.ctx, e.as("ian", "investigator"), res.AccessRecord); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ian's receipt of ivy's access = %v", err)
	}
	if _, err := e.node.Review.Receipt(e.ctx, ivy, r.History[0].OversightIndex); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a receipt of a request transition = %v", err)
	}
	if _, err := e.node.Review.Receipt(e.ctx, ivy, 1<<40); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a receipt past the log's end = %v", err)
	}
	// The list holds ivy's access and not the refused attempt of ian.
	e.node.Review.Query(e.ctx, e.as("ian", "investigator"), r.ID, review.QueryInput{Justification: why})
	list, next, err := e.node.Review.Receipts(e.ctx, ivy, time.Time{}, t0.Add(time.Hour), "", 100)
	if err != nil || next != "" || len(list) != 1 || list[0].Index != res.AccessRecord {
		t.Errorf("ivy's receipts = %+v, %q, %v", list, next, err)
	}
	refused, _, err := e.node.Review.AccessLog(e.ctx, []string{review.ActionRefused}, math.MaxUint64, 10)
	if err != nil || len(refused) != 1 || refused[0].Actor != "ian" || refused[0].Justification != why || refused[0].Reason == "" {
		t.Errorf("refused attempts = %+v, %v", refused, err)
	}
}
