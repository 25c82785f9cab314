package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRelevantErrorBadInput: input the register refuses is a 400 naming
// the field, through the API and the form, and leaves no entry and no
// oversight-log leaf behind.
func TestRelevantErrorBadInput(t *testing.T) {
	e := newPeopleEnv(t)
	before := e.snapshot(t)
	for _, tt := range []struct{ body, field string }{
		{`{"kind":"outside_authorisation","identified_at":"2025-01-02T09:00:00Z"}`, "description"},
		{`{"kind":"oops","description":"seen","identified_at":"2025-01-02T09:00:00Z"}`, "kind"},
		{`{"kind":"outside_authorisation","description":"seen"}`, "identified_at"},
		{`{"kind":"outside_authorisation","description":"seen","identified_at":"2020-01-02T09:00:00Z"}`, "identified_at"},
		{`{"kind":"outside_authorisation","description":"seen","identified_at":"2099-01-02T09:00:00Z"}`, "identified_at"},
		{`{"kind":"outside_authorisation","description":"seen","identified_at":"2025-01-02T09:00:00Z","request":"no-such"}`, "request"},
		{`{"kind":"outside_authorisation","description":"` + strings.Repeat("x", 8001) + `","identified_at":"2025-01-02T09:00:00Z"}`, "description"},
	} {
		resp := e.call(t, "oversight", false, "POST", "/v1/relevant-errors", tt.body)
		body := readBody(t, resp)
		var prob struct {
			Field string `json:"field"`
		}
		json.Unmarshal([]byte(body), &prob)
		if resp.StatusCode != http.StatusBadRequest || prob.Field != tt.field {
			t.Errorf("POST %.80s = %d %s, want 400 on %s", tt.body, resp.StatusCode, body, tt.field)
		}
	}
	for _, tt := range []struct{ form, field string }{
		{"kind=outside_authorisation&identified_at=2025-01-02", "description"},
		{"kind=outside_authorisation&description=seen&identified_at=yesterday", "identified_at"},
	} {
		resp := e.call(t, "admin", true, "POST", "/relevant-errors/new", tt.form)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="`+tt.field+`-error"`) {
			t.Errorf("POST /relevant-errors/new %s = %d, want 400 showing the error on %s", tt.form, resp.StatusCode, tt.field)
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused input changed the store (-before +after):\n%s", diff)
	}
}

// TestRelevantErrorFlow raises an overdue entry, sees it flagged on the
// register and the home pages, reports it and closes it.
func TestRelevantErrorFlow(t *testing.T) {
	e := newPeopleEnv(t)
	size := e.oversightSize(t)
	resp := e.call(t, "oversight", false, "POST", "/v1/relevant-errors",
		`{"kind":"defective_authorisation","description":"the authoriser was below the rank needed","identified_at":"2025-01-02T09:00:00Z"}`)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("raising = %d %s", resp.StatusCode, body)
	}
	var got struct {
		ID        string `json:"id"`
		Reference string `json:"reference"`
		State     string `json:"state"`
		Deadline  string `json:"deadline"`
		Overdue   bool   `json:"overdue"`
		Source    string `json:"source"`
	}
	json.Unmarshal([]byte(body), &got)
	// 2 January 2025 (Thursday): ten working days end on Thursday 16 January.
	if !got.Overdue || got.State != "open" || got.Deadline != "2025-01-17T00:00:00Z" || got.Source != "oversight" || !strings.HasPrefix(got.Reference, "RE-") {
		t.Errorf("raised = %s", body)
	}
	if e.oversightSize(t) != size+1 {
		t.Errorf("the raise wrote %d oversight leaves, want 1", e.oversightSize(t)-size)
	}
	for _, who := range []string{"oversight", "admin"} {
		resp := e.call(t, who, true, "GET", "/", "")
		if body := readBody(t, resp); !strings.Contains(body, `href="/relevant-errors"`) || !strings.Contains(body, "1 relevant error is overdue") {
			t.Errorf("home of %s does not flag the overdue entry", who)
		}
	}
	resp = e.call(t, "investigator", true, "GET", "/", "")
	if body := readBody(t, resp); strings.Contains(body, "/relevant-errors") {
		t.Error("an investigator's home links the register")
	}
	resp = e.call(t, "oversight", true, "GET", "/relevant-errors", "")
	if body := readBody(t, resp); !strings.Contains(body, got.Reference) || !strings.Contains(body, `govuk-tag--red">Overdue`) ||
		!strings.Contains(body, "Thursday 16 January 2025") {
		t.Errorf("the register does not show the overdue entry: %s", body)
	}
	resp = e.call(t, "oversight", false, "GET", "/v1/relevant-errors?overdue=true", "")
	if body := readBody(t, resp); !strings.Contains(body, got.ID) {
		t.Errorf("overdue listing = %s", body)
	}
	resp = e.call(t, "admin", false, "POST", "/v1/relevant-errors/"+got.ID+"/close", `{"outcome":"done"}`)
	if body := readBody(t, resp); resp.StatusCode != http.StatusConflict {
		t.Errorf("closing an open entry = %d %s, want 409", resp.StatusCode, body)
	}
	resp = e.call(t, "admin", true, "POST", "/relevant-errors/"+got.ID+"/report", "recipient=IPCO")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="text-error"`) {
		t.Errorf("a report without text = %d, want 400 naming text", resp.StatusCode)
	}
	resp = e.call(t, "admin", true, "POST", "/relevant-errors/"+got.ID+"/report", "recipient=IPCO&text=reported+by+letter")
	if readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reporting = %d", resp.StatusCode)
	}
	resp = e.call(t, "oversight", true, "GET", "/", "")
	if body := readBody(t, resp); strings.Contains(body, "overdue") {
		t.Error("home still flags a reported entry as overdue")
	}
	resp = e.call(t, "oversight", false, "POST", "/v1/relevant-errors/"+got.ID+"/close", `{"outcome":"retrained"}`)
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"state":"closed"`) {
		t.Errorf("closing = %d %s", resp.StatusCode, body)
	}
	stored, err := e.node.Store.RelevantErrorByID(t.Context(), got.ID)
	if err != nil || stored.Version != 3 || stored.State != "closed" {
		t.Errorf("stored = %+v, %v", stored, err)
	}
	// The description never reaches the oversight log's plain metadata.
	entries, err := e.node.Store.Entries(t.Context(), "oversight", size, e.oversightSize(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if strings.Contains(string(en.Meta), "below the rank") || strings.Contains(string(en.Meta), "by letter") {
			t.Errorf("oversight entry %d holds the text in its metadata", en.Index)
		}
	}
}
