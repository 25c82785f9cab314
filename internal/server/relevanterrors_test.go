package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/relevanterror"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

// TestRelevantErrorLapse: a lapsed urgent authorisation with an access
// record in the oversight log naming it is entered in the register once;
// one whose investigators looked only under other requests is not.
func TestRelevantErrorLapse(t *testing.T) {
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx := t.Context()
	authorised := n.Now().Add(-time.Hour)
	for _, rec := range []struct{ actor, request string }{{"inv1", "req-looked"}, {"inv2", "req-other"}} {
		if _, err := n.OversightAccess(ctx, rec.actor, review.ActionQuery, map[string]any{"request": rec.request, "results": 1},
			map[string]string{"justification": "j"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []requests.Request{
		{ID: "req-looked", Reference: "ACAC-2026-0001", Investigators: []string{"inv1"}},
		{ID: "req-unlooked", Reference: "ACAC-2026-0002", Investigators: []string{"inv2"}},
	} {
		r.State, r.AuthorisedAt = requests.Expired, authorised
		r.History = []requests.Transition{{From: requests.Active, To: requests.Expired, Action: requests.ActLapse, Actor: requests.System, At: n.Now()}}
		body, _ := json.Marshal(r)
		if err := n.Store.AddRequest(ctx, store.StoredRequest{ID: r.ID, Reference: r.Reference, Requester: "inv1", State: string(r.State),
			Created: authorised, Updated: authorised, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []int{1, 0} {
		if got, err := n.RelevantErrors.RaiseLapsed(ctx); got != want || err != nil {
			t.Errorf("RaiseLapsed run %d = %d, %v, want %d", i, got, err, want)
		}
	}
	all, err := n.Store.ListRelevantErrors(ctx, store.RelevantErrorQuery{})
	if err != nil || len(all) != 1 || all[0].Request != "req-looked" || all[0].Kind != string(relevanterror.DefectiveAuthorisation) {
		t.Errorf("register = %+v, %v", all, err)
	}
}

// TestBankHolidaysFile: DATA/bank-holidays.json replaces the embedded
// calendar, and one that does not parse stops the node opening.
func TestBankHolidaysFile(t *testing.T) {
	dir := t.TempDir()
	n, err := server.Open(t.Context(), server.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	path := filepath.Join(dir, server.BankHolidaysFile)
	if err := os.WriteFile(path, []byte(`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2030-01-05"}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Open(t.Context(), server.Config{DataDir: dir}); err == nil || !strings.Contains(err.Error(), "bank-holidays.json") {
		t.Errorf("Open with a bad bank-holidays.json = %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"england-and-wales":{"division":"england-and-wales","events":[{"title":"A","date":"2040-01-02"}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err = server.Open(t.Context(), server.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if c := n.RelevantErrors.Calendar; c.First != 2040 || c.Last != 2040 {
		t.Errorf("calendar covers %d to %d, want the file's 2040", c.First, c.Last)
	}
}
