package web_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// TestOversightReport counts one authorised request, one access under
// it, one refused attempt and the env's one alert, through the API, the page and
// the CSV, and refuses a wrong period.
func TestOversightReport(t *testing.T) {
	e := newPeopleEnv(t)
	publishNotice(t, e.node)
	_, created := e.apiAs(t, "investigator", "POST", "/v1/requests", requestJSON)
	id := created["id"].(string)
	e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/submit", "")
	if status, body := e.apiAs(t, "authoriser", "POST", "/v1/requests/"+id+"/decision", decisionJSON); status != 200 {
		t.Fatalf("decision = %d %v", status, body)
	}
	const why = `"justification":"Checking whether the officer sent the address to anyone outside the force."`
	if status, _ := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/queries", `{`+why+`}`); status != 200 {
		t.Fatalf("query = %d", status)
	}
	if status, _ := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/queries", `{"subjects":["inv1"],`+why+`}`); status != 403 {
		t.Fatalf("query out of scope = %d", status)
	}
	// The env raised one alert already (about "outsider").

	resp := e.call(t, "oversight", false, "GET", "/v1/reports/oversight", "")
	var rep oversight.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/reports/oversight = %d, %v", resp.StatusCode, err)
	}
	got := map[string]int{
		"submitted": rep.Submissions.Total.Submitted, "authorised": rep.Submissions.Total.Authorised,
		"decided": rep.DecisionTimes.Total.Decided, "accesses": rep.Accesses.Total.Accesses,
		"authorisations": rep.Accesses.Total.Authorisations, "refused": rep.RefusedAttempts.Total.Attempts,
		"alerts": rep.Alerts.Total.Raised, "staff": rep.Notice.Total.Staff,
	}
	want := map[string]int{"submitted": 1, "authorised": 1, "decided": 1, "accesses": 1, "authorisations": 1, "refused": 1, "alerts": 1, "staff": 8}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("report %s = %d, want %d", k, got[k], w)
		}
	}
	if len(rep.Submissions.ByUnit) != 1 || rep.Submissions.ByUnit[0].Unit != "Unit A" {
		t.Errorf("submissions by unit = %+v", rep.Submissions.ByUnit)
	}

	// The page: the charts, each with its table, and the links.
	page := e.call(t, "oversight", true, "GET", "/reports/oversight", "")
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /reports/oversight = %d", page.StatusCode)
	}
	for _, s := range []string{"<h1 class=\"govuk-heading-l\">Oversight report, ", `role="img"`, "Requests submitted, by unit", "Requests submitted</dt>",
		"/reports/oversight.csv?from=", "/v1/reports/oversight?from=", "Refused attempts, by unit"} {
		if !strings.Contains(string(body), s) {
			t.Errorf("the report page lacks %q", s)
		}
	}
	if n := strings.Count(string(body), "<svg"); n != len(oversight.ReportCharts(rep)) {
		t.Errorf("%d charts on the page, want %d", n, len(oversight.ReportCharts(rep)))
	}

	// The CSV: the same figures.
	c := e.call(t, "oversight", true, "GET", "/reports/oversight.csv", "")
	rows, err := csv.NewReader(c.Body).ReadAll()
	if err != nil || c.StatusCode != http.StatusOK || len(rows) < 2 || strings.Join(rows[0], ",") != "section,unit,measure,value" {
		t.Fatalf("CSV = %d, %d rows, %v", c.StatusCode, len(rows), err)
	}
	found := false
	for _, r := range rows {
		if r[0] == "refused_attempts" && r[1] == oversight.AllUnits && r[3] == "1" {
			found = true
		}
	}
	if !found {
		t.Errorf("the CSV has no total of one refused attempt: %q", rows)
	}

	// A wrong period is refused, on the field that is wrong.
	for _, q := range []struct{ query, field string }{
		{"?from=2026-13-01", "from"}, {"?to=yesterday", "to"}, {"?from=2026-10-02&to=2026-10-01", "to"}, {"?from=2010-01-01&to=2026-10-01", "to"},
	} {
		status, p := e.apiAs(t, "oversight", "GET", "/v1/reports/oversight"+q.query, "")
		if status != http.StatusBadRequest || p["field"] != q.field {
			t.Errorf("GET /v1/reports/oversight%s = %d %v, want 400 on %s", q.query, status, p, q.field)
		}
		page := e.call(t, "oversight", true, "GET", "/reports/oversight"+q.query, "")
		b, _ := io.ReadAll(page.Body)
		if page.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `id="`+q.field+`-error"`) || strings.Contains(string(b), "<svg") {
			t.Errorf("GET /reports/oversight%s = %d, want 400 with the error on %s and no report", q.query, page.StatusCode, q.field)
		}
	}
}

// TestLogVerificationPage shows both logs verified against every
// checkpoint they published, and a failure once one is forged.
func TestLogVerificationPage(t *testing.T) {
	e := newPeopleEnv(t)
	if err := e.node.PublishAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	page := e.call(t, "oversight", true, "GET", "/oversight/verification", "")
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != http.StatusOK || strings.Count(string(body), "govuk-tag--green\">Verified") != 2 || strings.Contains(string(body), "Failed") {
		t.Fatalf("GET /oversight/verification = %d:\n%s", page.StatusCode, body)
	}
	// One more record, and a checkpoint of it signed by the log's own
	// key over another history.
	if _, err := e.node.Oversight(t.Context(), "adm1", "test_action", nil, false); err != nil {
		t.Fatal(err)
	}
	l := e.node.Logs["oversight"]
	st, err := e.node.Store.LogState(t.Context(), "oversight")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := l.Publisher.Signer.Sign(tlog.Checkpoint{Origin: l.Publisher.Signer.Origin(), Size: st.Size, Root: tlog.HashLeaf([]byte("rewritten"))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.node.Store.AddCheckpoint(t.Context(), "oversight", store.Checkpoint{Size: st.Size, Time: time.Now(), Note: forged}); err != nil {
		t.Fatal(err)
	}
	page = e.call(t, "oversight", true, "GET", "/oversight/verification", "")
	body, _ = io.ReadAll(page.Body)
	if !strings.Contains(string(body), "Failed") || strings.Count(string(body), "Verified") != 1 {
		t.Errorf("after a forged checkpoint the page says:\n%s", body)
	}
}

// TestTransparencyPage is public and shows counts only.
func TestTransparencyPage(t *testing.T) {
	e := newPeopleEnv(t)
	page := e.call(t, "anonymous", true, "GET", "/transparency", "")
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), "How monitoring is used") || !strings.Contains(string(body), "The year, ") {
		t.Fatalf("GET /transparency = %d:\n%s", page.StatusCode, body)
	}
	resp := e.call(t, "anonymous", false, "GET", "/v1/transparency", "")
	var tr oversight.Transparency
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/transparency = %d, %v", resp.StatusCode, err)
	}
	if tr.Threshold != oversight.DefaultSuppression || len(tr.Periods) != 5 || len(tr.Periods[0].Figures) != len(oversight.PublicMeasures) {
		t.Errorf("transparency = %+v", tr)
	}
	for _, s := range []string{"staff1", "Unit A", "inv1", "ACAC"} {
		if strings.Contains(string(body), s) {
			t.Errorf("the public page names %q", s)
		}
	}
}
