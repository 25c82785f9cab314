package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/evidence"
	"github.com/lbm-project/lbm/internal/review"
)

// requestJSON is a complete request by inv1 about staff1: e-mail content
// in a misconduct review, which the default policy sends to a
// Superintendent.
const requestJSON = `{
 "subjects": ["staff1"], "investigators": ["inv1"],
 "categories": [{"category": "record_query", "content": false}, {"category": "email", "content": true}],
 "mode": "review", "window": {"from": "2026-08-01T00:00:00Z", "to": "2026-10-01T00:00:00Z"},
 "purpose": "PREVENT_DETECT_CRIME", "investigation": "misconduct",
 "operation": {"name": "Lantern", "reference": "OP-77"}, "dpia_reference": "DPIA-2026-03",
 "necessity": "Intelligence shows the subject ran twelve PNC checks on a neighbour with no linked case or tasking.",
 "criteria": {
  "NOTICE": "The subject also attended the information security briefing in January where monitoring was explained.",
  "EXTENT": "Query metadata for two months and e-mail content only for the three days around each check.",
  "LEGITIMATE_REASON": "Suspected misuse of police systems for a personal purpose is gross misconduct under the standards.",
  "LESS_INTRUSIVE": "Asking the subject first would alert them; the audit summary alone cannot show who was searched.",
  "CONSEQUENCES": "Findings may lead to a misconduct hearing; unrelated personal messages are not read or kept.",
  "SAFEGUARDS": "Two named investigators only, other people pseudonymised, results held in the case file for six years.",
  "REMEDY": "The subject can challenge the use of the material at the hearing and complain to the IOPC afterwards."
 },
 "collateral": {"level": "low", "explanation": "The neighbour's own record appears in results; no other colleague's activity is examined."},
 "confidential": {"kinds": []}, "urgent": {"urgent": false}
}`

const decisionJSON = `{"authorise": true, "directly_involved": false,
 "reasons": "The pattern of checks on one address with no tasking justifies a short, limited review now.",
 "views": {
  "NOTICE": "Acknowledged notice plus the briefing means the subject knew such checks could be examined.",
  "EXTENT": "Two months of metadata with content for only three days each is the narrowest useful scope.",
  "LEGITIMATE_REASON": "Misuse for personal ends would be gross misconduct, a legitimate aim for the force.",
  "LESS_INTRUSIVE": "I accept that asking first would alert the subject and that summaries cannot answer the question.",
  "CONSEQUENCES": "A hearing may follow; I am content personal messages are excluded from what is kept.",
  "SAFEGUARDS": "Access is limited to two named officers with pseudonyms for everyone else involved here.",
  "REMEDY": "The subject keeps every right to challenge the material at a hearing and before the IOPC."
 }}`

// apiAs calls the API as who with their stepped-up session, so that a
// sequence of decisions needs no fresh one-time codes.
func (e *peopleEnv) apiAs(t *testing.T, who, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.AddCookie(&http.Cookie{Name: "lbm_session", Value: e.actors[who].cookie})
	resp := e.send(t, req)
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, out
}

func TestRequestAPIFlow(t *testing.T) {
	e := newPeopleEnv(t)
	status, created := e.apiAs(t, "investigator", "POST", "/v1/requests", requestJSON)
	if status != http.StatusCreated {
		t.Fatalf("create = %d %v", status, created)
	}
	id := created["id"].(string)
	if created["requester"] != "inv1" || created["state"] != "draft" || !strings.HasPrefix(created["reference"].(string), "ACAC-") {
		t.Errorf("created = %v", created)
	}
	if created["notice_record"] == "" {
		t.Error("the notice record was not filled from staff1's acknowledgements")
	}
	status, view := e.apiAs(t, "investigator", "GET", "/v1/requests/"+id, "")
	if status != 200 {
		t.Fatalf("read = %d %v", status, view)
	}
	if p := view["problems"].([]any); len(p) != 0 {
		t.Errorf("a complete request has problems: %v", p)
	}
	req := view["derivation"].(map[string]any)["requirement"].(map[string]any)
	if req["min_rank"] != "superintendent" {
		t.Errorf("derived minimum rank = %v, want superintendent", req["min_rank"])
	}
	if status, body := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/submit", ""); status != 200 || body["state"] != "submitted" {
		t.Fatalf("submit = %d %v", status, body)
	}

	// Refusals, each naming its type and field, none changing anything.
	before := e.snapshot(t)
	tests := []struct {
		name, who, path, body string
		status                int
		typ, field            string
	}{
		{"missing involvement", "authoriser", "decision", `{"authorise":true,"reasons":"x"}`, 400, "validation", "directly_involved"},
		{"missing authorise", "authoriser", "decision", `{"directly_involved":false,"reasons":"x"}`, 400, "validation", "authorise"},
		{"thin reasons", "authoriser", "decision", strings.Replace(decisionJSON, "The pattern of checks on one address with no tasking justifies a short, limited review now.", ".", 1), 400, "validation", "reasons"},
		{"unknown field", "authoriser", "decision", `{"authorise":true,"directly_involved":false,"approve":true}`, 400, "validation", "body"},
		{"investigator decides", "investigator", "decision", decisionJSON, 403, "forbidden", ""},
		{"adviser not needed", "adviser", "advice", `{"view":"a view long enough to count as a view on the request in question"}`, 404, "not-found", ""},
		{"withdraw without reason", "investigator", "withdrawal", `{"reasons":""}`, 400, "validation", "reasons"},
		{"close before the end", "investigator", "closure", `{"outcome":"o","kept":"k"}`, 409, "invalid-transition", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, p := e.apiAs(t, tt.who, "POST", "/v1/requests/"+id+"/"+tt.path, tt.body)
			if status != tt.status || p["type"] != "urn:lbm:problem:"+tt.typ || (tt.field != "" && p["field"] != tt.field) {
				t.Errorf("= %d %v, want %d %s field %q", status, p, tt.status, tt.typ, tt.field)
			}
		})
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused transitions changed the store (-before +after):\n%s", diff)
	}

	status, body := e.apiAs(t, "authoriser", "POST", "/v1/requests/"+id+"/decision", decisionJSON)
	if status != 200 || body["state"] != "active" || body["authorised_by"] != "auth1" {
		t.Fatalf("decision = %d %v", status, body)
	}
	if status, p := e.apiAs(t, "authoriser", "POST", "/v1/requests/"+id+"/decision", decisionJSON); status != 409 || p["type"] != "urn:lbm:problem:invalid-transition" {
		t.Errorf("second decision = %d %v, want 409 invalid-transition", status, p)
	}
	// Each transition's leaf is in the oversight log at the index the
	// history names.
	for _, h := range body["history"].([]any) {
		idx := h.(map[string]any)["oversight_index"].(float64)
		if idx == 0 {
			t.Errorf("transition %v has no oversight leaf", h)
		}
	}

	// The central record: oversight only, JSON and CSV.
	status, cr := e.apiAs(t, "oversight", "GET", "/v1/central-record", "")
	if status != 200 {
		t.Fatalf("central record = %d", status)
	}
	rows := cr["requests"].([]any)
	var row map[string]any
	for _, r := range rows {
		if r.(map[string]any)["id"] == id {
			row = r.(map[string]any)
		}
	}
	if row == nil || row["authoriser"] != "auth1" || row["authoriser_name"] != "Person auth1" || row["authoriser_rank"] != "superintendent" ||
		row["granted_at"] == nil || row["operation"] != "Lantern (OP-77)" {
		t.Errorf("central record row = %v", row)
	}
	req2, _ := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+"/v1/central-record?format=csv", nil)
	req2.Header.Set("Authorization", "Bearer "+e.actors["oversight"].bearer)
	resp := e.send(t, req2)
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.StatusCode != 200 || len(recs) != len(rows)+1 || recs[0][0] != "reference" {
		t.Errorf("central record CSV = %d, %d records, %v", resp.StatusCode, len(recs), err)
	}
}

func TestRequestAPIRefusesWhatLbmSets(t *testing.T) {
	e := newPeopleEnv(t)
	before := e.snapshot(t)
	for _, field := range []string{`"state":"active"`, `"authorised_by":"auth1"`, `"requester":"auth1"`, `"notice_record":"told"`,
		`"expires_at":"2030-01-01T00:00:00Z"`, `"history":[{"action":"decision"}]`} {
		body := strings.Replace(requestJSON, `"subjects"`, field+`, "subjects"`, 1)
		status, p := e.apiAs(t, "investigator", "POST", "/v1/requests", body)
		if status != 400 || p["field"] != "request" {
			t.Errorf("create with %s = %d %v, want 400 on field request", field, status, p)
		}
		status, _ = e.apiAs(t, "investigator", "PUT", "/v1/requests/"+e.request, body)
		if status != 400 {
			t.Errorf("update with %s = %d, want 400", field, status)
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused requests changed the store (-before +after):\n%s", diff)
	}
}

func TestQueryAPI(t *testing.T) {
	e := newPeopleEnv(t)
	_, created := e.apiAs(t, "investigator", "POST", "/v1/requests", requestJSON)
	id := created["id"].(string)
	e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/submit", "")
	if status, body := e.apiAs(t, "authoriser", "POST", "/v1/requests/"+id+"/decision", decisionJSON); status != 200 {
		t.Fatalf("decision = %d %v", status, body)
	}
	const why = `"justification":"Checking whether the officer sent the address to anyone outside the force."`
	tests := []struct {
		name, who, body string
		status          int
		typ, field      string
	}{
		{"a thin justification", "investigator", `{"justification":"."}`, 400, "validation", "justification"},
		{"out of scope", "investigator", `{"subjects":["inv1"],` + why + `}`, 403, "out-of-scope", "subjects"},
		{"an unknown filter", "investigator", `{"subject":"staff1",` + why + `}`, 400, "validation", "body"},
	}
	for _, tt := range tests {
		status, p := e.apiAs(t, tt.who, "POST", "/v1/requests/"+id+"/queries", tt.body)
		if status != tt.status || p["type"] != "urn:lbm:problem:"+tt.typ || p["field"] != tt.field {
			t.Errorf("%s: %d %v, want %d %s on %s", tt.name, status, p, tt.status, tt.typ, tt.field)
		}
	}
	status, res := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/queries", `{`+why+`}`)
	if status != 200 || res["access_record"].(float64) == 0 {
		t.Fatalf("query = %d %v", status, res)
	}
	// The access record and the refused attempt are in the oversight log,
	// without the justification or the query in their readable details.
	status, log := e.apiAs(t, "oversight", "GET", "/v1/oversight-log", "")
	if status != 200 {
		t.Fatal(status)
	}
	var actions []string
	for _, en := range log["entries"].([]any) {
		m := en.(map[string]any)
		actions = append(actions, m["action"].(string))
		if b, _ := json.Marshal(m); strings.Contains(string(b), "outside the force") || strings.Contains(string(b), "inv1\\\"]") {
			t.Errorf("the oversight log shows a justification or query: %s", b)
		}
	}
	if !slices.Contains(actions, "review_query") || !slices.Contains(actions, "review_refused") {
		t.Errorf("oversight log actions %v, want review_query and review_refused", actions)
	}
}

func TestExportReceiptAndAccessLogAPI(t *testing.T) {
	e := newPeopleEnv(t)
	ev, err := event.Parse([]byte(`{"@timestamp":"2026-09-01T10:00:00Z","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"staff1"},"related":{"user":["dpo1"]},"content":{"query":"NEIGHBOUR"}}`), "pnc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Logs["activity"].Writer.Append(t.Context(), []*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	_, created := e.apiAs(t, "investigator", "POST", "/v1/requests", requestJSON)
	id := created["id"].(string)
	e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/submit", "")
	if status, body := e.apiAs(t, "authoriser", "POST", "/v1/requests/"+id+"/decision", decisionJSON); status != 200 {
		t.Fatalf("decision = %d %v", status, body)
	}
	const why = `"justification":"Checking whether the officer sent the address to anyone outside the force."`
	const to = `"recipient":"Misconduct hearing panel","purpose":"evidence for the hearing",`

	// Refused: bad input (not recorded), and a subject out of scope (recorded).
	for _, tt := range []struct {
		body   string
		status int
		field  string
	}{
		{`{` + why + `}`, 400, "recipient"},
		{`{` + to + `"events":["zz"],` + why + `}`, 400, "events"},
		{`{` + to + `"subjects":["inv1"],` + why + `}`, 403, "subjects"},
	} {
		if status, p := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/exports", tt.body); status != tt.status || p["field"] != tt.field {
			t.Errorf("export %s = %d %v, want %d on %s", tt.body, status, p, tt.status, tt.field)
		}
	}

	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/v1/requests/"+id+"/exports", strings.NewReader(`{`+to+why+`}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "lbm_session", Value: e.actors["investigator"].cookie})
	resp := e.send(t, req)
	zb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.Contains(resp.Header.Get("Content-Disposition"), ".zip") {
		t.Fatalf("export = %d %s %s", resp.StatusCode, resp.Header, zb)
	}
	rep, err := evidence.Verify(bytes.NewReader(zb), int64(len(zb)))
	if err != nil || len(rep.Events) != 1 || len(rep.Events[0].Pseudonyms) != 1 {
		t.Fatalf("the exported bundle: %+v, %v", rep, err)
	}
	record := resp.Header.Get("LBM-Access-Record")

	// The receipt is the investigator's, and verifies.
	status, rc := e.apiAs(t, "investigator", "GET", "/v1/receipts/"+record, "")
	if status != 200 {
		t.Fatalf("receipt = %d %v", status, rc)
	}
	b, _ := json.Marshal(rc)
	var receipt review.Receipt
	if err := json.Unmarshal(b, &receipt); err != nil || review.VerifyReceipt(receipt, e.node.Logs["oversight"].VerifierKey) != nil {
		t.Errorf("receipt %s: %v, verify %v", b, err, review.VerifyReceipt(receipt, e.node.Logs["oversight"].VerifierKey))
	}
	if status, _ := e.apiAs(t, "investigator", "GET", "/v1/receipts/not-a-number", ""); status != 404 {
		t.Errorf("a receipt of no index = %d", status)
	}
	status, list := e.apiAs(t, "investigator", "GET", "/v1/receipts?from=2020-01-01T00:00:00Z", "")
	if recs, _ := list["records"].([]any); status != 200 || len(recs) != 1 {
		t.Errorf("receipts = %d %v", status, list)
	}

	// Oversight sees the refused attempt with its justification; the
	// export with its recipient.
	status, log := e.apiAs(t, "oversight", "GET", "/v1/access-records?kind=refused", "")
	recs, _ := log["records"].([]any)
	if status != 200 || len(recs) != 1 || !strings.Contains(fmt.Sprint(recs[0]), "outside the force") {
		t.Errorf("refused attempts = %d %v", status, log)
	}
	status, log = e.apiAs(t, "oversight", "GET", "/v1/access-records?kind=export", "")
	if recs, _ := log["records"].([]any); status != 200 || len(recs) != 1 || !strings.Contains(fmt.Sprint(recs[0]), "Misconduct hearing panel") {
		t.Errorf("exports = %d %v", status, log)
	}
	if status, _ := e.apiAs(t, "oversight", "GET", "/v1/access-records?kind=everything", ""); status != 400 {
		t.Errorf("an unknown kind = %d", status)
	}
}
