package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/policy"
)

// TestCataloguesArePublic: the purposes, the legislation and the criteria
// are served to anyone, as JSON and as pages, with "(verify)" flags and
// purpose limits visible.
func TestCataloguesArePublic(t *testing.T) {
	e := newPeopleEnv(t)
	want := policy.Default()
	var got struct {
		Purposes    []policy.Purpose   `json:"purposes"`
		Legislation []policy.Law       `json:"legislation"`
		Criteria    []policy.Criterion `json:"criteria"`
	}
	for _, path := range []string{"/v1/purposes", "/v1/legislation", "/v1/criteria"} {
		resp := e.call(t, "anonymous", false, "GET", path, "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	if len(got.Purposes) != len(want.Purposes) || len(got.Legislation) != len(want.Legislation) || len(got.Criteria) != len(want.Criteria) {
		t.Fatalf("served %d purposes, %d laws, %d criteria; want %d, %d, %d", len(got.Purposes), len(got.Legislation), len(got.Criteria),
			len(want.Purposes), len(want.Legislation), len(want.Criteria))
	}
	for i, p := range want.Purposes {
		if got.Purposes[i] != p {
			t.Errorf("purpose %d = %+v, want %+v", i, got.Purposes[i], p)
		}
	}
	resp := e.call(t, "anonymous", true, "GET", "/purposes", "")
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /purposes signed out = %d", resp.StatusCode)
	}
	for _, p := range want.Purposes {
		if !strings.Contains(page, `id="`+p.ID+`"`) {
			t.Errorf("/purposes has no card for %s", p.ID)
		}
	}
	for _, s := range []string{"To be verified", "Monitor only: communications may be watched for this purpose, never recorded.", "Only for "} {
		if !strings.Contains(page, s) {
			t.Errorf("/purposes does not say %q", s)
		}
	}
	for _, path := range []string{"/legislation", "/criteria"} {
		if resp := e.call(t, "anonymous", true, "GET", path, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s signed out = %d, want 200", path, resp.StatusCode)
		}
	}
}
