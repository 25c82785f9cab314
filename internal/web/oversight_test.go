package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/web"
)

// TestOversightLogShowsBreakGlass: a change made offline is flagged in the
// oversight log, by API and on the page; one made through dual control is
// not.
func TestOversightLogShowsBreakGlass(t *testing.T) {
	e := newPeopleEnv(t)
	// The environment's own set-up (a draft request) left leaves already.
	st, err := e.node.Store.LogState(t.Context(), "oversight")
	if err != nil {
		t.Fatal(err)
	}
	base := st.Size
	if _, err := e.node.Oversight(t.Context(), "cli", "user_add", map[string]any{"person": "adm2", "role": "admin"}, true); err != nil {
		t.Fatal(err)
	}
	resp := e.call(t, "admin", false, "POST", "/v1/people/inv1/changes", `{"roles":["investigator","oversight"],"reason":"covers oversight"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("proposing = %d", resp.StatusCode)
	}
	resp = e.call(t, "oversight", false, "GET", "/v1/oversight-log", "")
	var out struct {
		Size    uint64                   `json:"size"`
		Entries []web.OversightEntryJSON `json:"entries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/oversight-log = %d, %v", resp.StatusCode, err)
	}
	if out.Size != base+2 || len(out.Entries) != int(base)+2 {
		t.Fatalf("oversight log = size %d, %d entries; want %d", out.Size, len(out.Entries), base+2)
	}
	newest, oldest := out.Entries[0], out.Entries[1]
	if newest.Action != "person_change_proposed" || newest.Actor != "adm2" || newest.BreakGlass || newest.Details["person"] != "inv1" || newest.Index != base+1 {
		t.Errorf("newest entry = %+v, want adm2's proposal, not break-glass", newest)
	}
	if oldest.Action != "user_add" || oldest.Actor != "cli" || !oldest.BreakGlass || oldest.Index != base {
		t.Errorf("oldest entry = %+v, want the CLI's user_add flagged break-glass", oldest)
	}
	// Paging: before=1 gives only the first entry.
	resp = e.call(t, "oversight", false, "GET", "/v1/oversight-log?before=1", "")
	json.NewDecoder(resp.Body).Decode(&out)
	if len(out.Entries) != 1 || out.Entries[0].Index != 0 {
		t.Errorf("before=1: %+v, want entry 0 alone", out.Entries)
	}
	for _, bad := range []string{fmt.Sprintf("?before=%d", base+3), "?before=x", "?limit=0", "?limit=1001"} {
		if resp := e.call(t, "oversight", false, "GET", "/v1/oversight-log"+bad, ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /v1/oversight-log%s = %d, want 400", bad, resp.StatusCode)
		}
	}
	resp = e.call(t, "oversight", true, "GET", "/oversight", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Count(string(body), `govuk-tag--red">Break-glass</strong></td>`) != 1 ||
		!strings.Contains(string(body), "person change proposed") {
		t.Errorf("GET /oversight = %d; want one break-glass row and the proposal:\n%s", resp.StatusCode, body)
	}
}
