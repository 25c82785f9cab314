package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/web"
)

// scheduleJSON is the body of GET /v1/retention-schedule.
type scheduleJSON struct {
	CatalogueVersion int64                 `json:"catalogue_version"`
	Categories       []policy.DataCategory `json:"categories"`
}

func schedule(t *testing.T, e *peopleEnv, who string) scheduleJSON {
	t.Helper()
	return decode[scheduleJSON](t, e.call(t, who, false, "GET", "/v1/retention-schedule", ""), http.StatusOK)
}

func monthsOf(t *testing.T, s scheduleJSON, id string) [2]int {
	t.Helper()
	c, ok := policy.Categories(s.Categories).Category(id)
	if !ok {
		t.Fatalf("schedule %d has no category %s", s.CatalogueVersion, id)
	}
	return [2]int{c.RetentionMonths, c.ContentRetentionMonths}
}

// dropCategory returns categories.yaml without the item whose id is id.
func dropCategory(t *testing.T, yaml, id string) string {
	t.Helper()
	start := strings.Index(yaml, "  - id: "+id+"\n")
	if start < 0 {
		t.Fatalf("no category %s in the file", id)
	}
	if end := strings.Index(yaml[start+1:], "  - id: "); end >= 0 {
		return yaml[:start] + yaml[start+1+end:]
	}
	return yaml[:start]
}

// catalogueProposal is the JSON body of POST /v1/catalogue/changes with the
// embedded purposes, legislation and criteria, categories unless nil, and
// reason.
func catalogueProposal(purposes string, categories *string, reason string) string {
	f := policy.DefaultFiles()
	m := map[string]any{"purposes": purposes, "legislation": string(f.Legislation), "criteria": string(f.Criteria), "reason": reason}
	if categories != nil {
		m["categories"] = *categories
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// TestRetentionScheduleDualControl changes the retention schedule through
// the catalogue: a change needs a second administrator, one removing a
// category is refused with nothing stored, and what is approved is what
// GET /v1/retention-schedule and /retention then say.
func TestRetentionScheduleDualControl(t *testing.T) {
	e := newPeopleEnv(t)
	f := policy.DefaultFiles()

	// Anyone may read the schedule in force: at first, the built-in one.
	for _, who := range []string{"anonymous", "staff", "dpo"} {
		s := schedule(t, e, who)
		if s.CatalogueVersion != 0 || len(s.Categories) != len(policy.DefaultCategories()) || monthsOf(t, s, "email") != [2]int{12, 6} {
			t.Errorf("%s reads schedule %d with %d categories, e-mail %v; want 0, %d, [12 6]", who, s.CatalogueVersion, len(s.Categories),
				monthsOf(t, s, "email"), len(policy.DefaultCategories()))
		}
	}

	// Refused proposals store nothing.
	purposes := string(f.Purposes)
	noTelephony := dropCategory(t, string(f.Categories), "telephony")
	noEmail := dropCategory(t, string(f.Categories), "email")
	empty := ""
	tooLong := strings.Replace(string(f.Categories), "retention_months: 12\n    content_retention_months: 6\n", "retention_months: 12\n    content_retention_months: 600\n", 1)
	before := e.snapshot(t)
	for _, c := range []struct {
		name, who, body string
		status          int
		field, detail   string
	}{
		{"removing a category", "proposer", catalogueProposal(purposes, &noTelephony, "no phones"), 400, "categories", "telephony"},
		{"removing e-mail", "admin", catalogueProposal(purposes, &noEmail, "no e-mail"), 400, "categories", "email"},
		{"an empty schedule", "proposer", catalogueProposal(purposes, &empty, "none"), 400, "categories.yaml", "empty file"},
		{"a period past the bound", "proposer", catalogueProposal(purposes, &tooLong, "long"), 400, "categories.yaml", "content_retention_months"},
		{"the schedule in force", "proposer", catalogueProposal(purposes, nil, "same"), 400, "", ""},
		{"as the DPO", "dpo", catalogueProposal(purposes, &tooLong, "dpo"), 403, "", ""},
		{"as staff", "staff", catalogueProposal(purposes, &noTelephony, "staff"), 403, "", ""},
	} {
		resp := e.call(t, c.who, false, "POST", "/v1/catalogue/changes", c.body)
		p := problemOf(t, resp)
		if resp.StatusCode != c.status || (c.field != "" && p.Field != c.field) || !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s: %d %+v, want %d naming field %q and %q", c.name, resp.StatusCode, p, c.status, c.field, c.detail)
		}
	}
	// The form says the same, on the categories box.
	form := url.Values{"purposes": {purposes}, "legislation": {string(f.Legislation)}, "criteria": {string(f.Criteria)},
		"categories": {noTelephony}, "reason": {"no phones"}}
	resp := e.call(t, "proposer", true, "POST", "/catalogue/edit", form.Encode())
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `href="#categories"`) || !strings.Contains(string(body), "telephony") {
		t.Errorf("the edit form removing telephony = %d, want 400 with the error on the categories box:\n%s", resp.StatusCode, body)
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused proposals changed the store (-before +after):\n%s", diff)
	}

	// E-mail content kept 3 months instead of 6.
	shorter := strings.Replace(string(f.Categories), "retention_months: 12\n    content_retention_months: 6\n", "retention_months: 12\n    content_retention_months: 3\n", 1)
	var c web.ChangeJSON
	resp = e.call(t, "proposer", false, "POST", "/v1/catalogue/changes", catalogueProposal(purposes, &shorter, "e-mail content for 3 months"))
	readJSON(t, resp, &c)
	if resp.StatusCode != http.StatusCreated || c.Kind != "catalogue" || c.State != "pending" {
		t.Fatalf("proposing the shorter schedule = %d %+v", resp.StatusCode, c)
	}
	if s := schedule(t, e, "staff"); s.CatalogueVersion != 0 || monthsOf(t, s, "email") != [2]int{12, 6} {
		t.Errorf("a proposal changed the schedule in force: %d, %v", s.CatalogueVersion, monthsOf(t, s, "email"))
	}
	// The change page shows the schedule's diff.
	resp = e.call(t, "admin", true, "GET", "/catalogue/changes/"+c.ID, "")
	body, _ = io.ReadAll(resp.Body)
	for _, want := range []string{"categories.yaml", "content_retention_months: 6", "content_retention_months: 3"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the change page does not show %q", want)
		}
	}

	// The proposer cannot approve it, nor can anyone but an administrator.
	for _, who := range []string{"proposer", "dpo", "oversight"} {
		if resp := e.call(t, who, false, "POST", "/v1/changes/"+c.ID+"/approval", ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s approving the schedule change = %d, want 403", who, resp.StatusCode)
		}
	}
	if vs, _ := e.node.Store.ListCatalogueVersions(t.Context()); len(vs) != 0 {
		t.Fatalf("%d catalogue versions after refused approvals, want 0", len(vs))
	}
	var d web.DecisionJSON
	resp = e.call(t, "admin", false, "POST", "/v1/changes/"+c.ID+"/approval", "")
	readJSON(t, resp, &d)
	if resp.StatusCode != http.StatusOK || d.CatalogueVersion != 1 {
		t.Fatalf("a second administrator approving = %d %+v", resp.StatusCode, d)
	}

	// What was approved is the schedule in force, version 1.
	s := schedule(t, e, "anonymous")
	if s.CatalogueVersion != 1 || monthsOf(t, s, "email") != [2]int{12, 3} || monthsOf(t, s, "web") != [2]int{12, 12} {
		t.Errorf("schedule after approval = %d, e-mail %v, web %v; want 1, [12 3], [12 12]", s.CatalogueVersion, monthsOf(t, s, "email"), monthsOf(t, s, "web"))
	}
	v1 := decode[web.CatalogueVersionJSON](t, e.call(t, "oversight", false, "GET", "/v1/catalogue/versions/1", ""), http.StatusOK)
	if v1.Categories != shorter {
		t.Errorf("catalogue version 1's categories differ from those approved")
	}
	resp = e.call(t, "anonymous", true, "GET", "/retention", "")
	body, _ = io.ReadAll(resp.Body)
	for _, want := range []string{"Retention schedule 1", "3 months", "<code>email</code>", "<code>telephony</code>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/retention after approval does not show %q", want)
		}
	}
	// The notice an administrator drafts now states the new period.
	dn := decode[web.NoticeJSON](t, e.call(t, "admin", false, "GET", "/v1/notices/default", ""), http.StatusOK)
	if !strings.Contains(dn.Text, "3 months") {
		t.Errorf("the default notice does not state e-mail content's 3 months:\n%s", dn.Text)
	}

	// A client that sends three files keeps the schedule in force.
	edited := strings.Replace(purposes, "title: ", "title: Edited ", 1)
	resp = e.call(t, "proposer", false, "POST", "/v1/catalogue/changes", catalogueProposal(edited, nil, "clearer title"))
	readJSON(t, resp, &c)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("proposing three files = %d %+v", resp.StatusCode, c)
	}
	// (On the page: a one-time code is good for one API request.)
	if resp := e.call(t, "admin", true, "POST", "/changes/"+c.ID+"/approve", ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approving the three-file change = %d", resp.StatusCode)
	}
	if s := schedule(t, e, "staff"); s.CatalogueVersion != 2 || monthsOf(t, s, "email") != [2]int{12, 3} {
		t.Errorf("schedule after a change to the purposes only = %d, e-mail %v; want 2, [12 3]", s.CatalogueVersion, monthsOf(t, s, "email"))
	}
}

// TestRetentionPage: the built-in schedule, readable without signing in,
// with each category's periods and no content period where there is no
// content.
func TestRetentionPage(t *testing.T) {
	e := newPeopleEnv(t)
	resp := e.call(t, "anonymous", true, "GET", "/retention", "")
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/retention = %d", resp.StatusCode)
	}
	for _, want := range []string{"How long records are kept", "the schedule built into lbm", "Retention schedule 0", "12 months", "6 months", `id="device"`} {
		if !strings.Contains(page, want) {
			t.Errorf("/retention does not show %q", want)
		}
	}
	for _, c := range policy.DefaultCategories() {
		if !strings.Contains(page, "<code>"+c.ID+"</code>") {
			t.Errorf("/retention does not list %s", c.ID)
		}
	}
	// The catalogue edit form carries the schedule as its fourth file.
	resp = e.call(t, "admin", true, "GET", "/catalogue/edit", "")
	body, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `id="categories" name="categories"`) || !strings.Contains(string(body), "Data categories and retention schedule") {
		t.Errorf("/catalogue/edit has no categories box")
	}
}
