package web_test

import (
	"bytes"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/evidence"
)

// lookWhy is a justification the review service accepts.
const lookWhy = "Checking whether the officer sent the address to anyone outside the force."

// authorisedRequest stores an event of staff1 that names dpo1, who is not
// a subject, and has auth1 authorise requestJSON (staff1, inv1, August
// and September 2026); it returns the request's id.
func authorisedRequest(t *testing.T, e *peopleEnv) string {
	t.Helper()
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
	return id
}

// reviewCall calls a page as who and returns its status and body.
func (e *peopleEnv) reviewCall(t *testing.T, who, method, path string, form url.Values) (int, string) {
	t.Helper()
	body := ""
	if form != nil {
		body = form.Encode()
	}
	resp := e.call(t, who, true, method, path, body)
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// oversightSize is the number of entries in the oversight log.
func (e *peopleEnv) oversightSize(t *testing.T) uint64 {
	t.Helper()
	st, err := e.node.Store.LogState(t.Context(), "oversight")
	if err != nil {
		t.Fatal(err)
	}
	return st.Size
}

var receiptLinkRE = regexp.MustCompile(`href="/v1/receipts/(\d+)"`)

func TestReviewPage(t *testing.T) {
	e := newPeopleEnv(t)
	id := authorisedRequest(t, e)
	data := "/requests/" + id + "/data"

	// The request page offers the look to its named investigator only.
	if _, out := e.reviewCall(t, "investigator", "GET", "/requests/"+id, nil); !strings.Contains(out, `href="`+data+`"`) {
		t.Error("the request page does not link its investigator to the data")
	}
	if _, out := e.reviewCall(t, "oversight", "GET", "/requests/"+id, nil); strings.Contains(out, data) {
		t.Error("the request page links oversight to the data")
	}

	// A GET shows the scope and the search, and no data: nothing is looked
	// at, and nothing is recorded.
	before := e.oversightSize(t)
	status, out := e.reviewCall(t, "investigator", "GET", data, nil)
	if status != 200 {
		t.Fatalf("GET %s = %d\n%s", data, status, out)
	}
	for _, want := range []string{"Person staff1 (staff1)", "with content", "metadata only", "Every source", "OP-77", `name="justification"`, `method="post" action="` + data + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the review page lacks %q", want)
		}
	}
	for _, not := range []string{"pnc_person_search", "person-", `id="results"`} {
		if strings.Contains(out, not) {
			t.Errorf("the review page shows %q before any search", not)
		}
	}
	if got := e.oversightSize(t); got != before {
		t.Errorf("GET of the review page wrote %d oversight entries", got-before)
	}

	// A thin justification is shown again the GOV.UK way, keeping the
	// form, and writes nothing.
	status, out = e.reviewCall(t, "investigator", "POST", data, url.Values{"justification": {"Because."}, "from": {"2026-08-15"}, "categories": {"record_query"}})
	if status != 400 || !strings.Contains(out, `<a href="#justification">`) || !strings.Contains(out, ">Because.</textarea>") ||
		!strings.Contains(out, `value="2026-08-15"`) || !strings.Contains(out, `value="record_query" checked`) {
		t.Errorf("a thin justification: status %d, want 400 with the error and the form kept:\n%s", status, out)
	}
	if got := e.oversightSize(t); got != before {
		t.Errorf("a thin justification wrote %d oversight entries", got-before)
	}

	// A date outside the window is refused on its input, and recorded.
	status, out = e.reviewCall(t, "investigator", "POST", data, url.Values{"justification": {lookWhy}, "from": {"2026-07-01"}})
	if status != 403 || !strings.Contains(out, `<a href="#from">`) || !strings.Contains(out, "this attempt is recorded") || !strings.Contains(out, lookWhy+"</textarea>") {
		t.Errorf("a search out of scope: status %d, want 403 on #from saying it is recorded:\n%s", status, out)
	}
	if got := e.oversightSize(t); got != before+1 {
		t.Errorf("a search out of scope wrote %d oversight entries, want 1", got-before)
	}

	// A search shows the event, with the person who is not a subject
	// pseudonymised, and links the receipt of its access record.
	status, out = e.reviewCall(t, "investigator", "POST", data, url.Values{"justification": {lookWhy}})
	if status != 200 {
		t.Fatalf("search = %d\n%s", status, out)
	}
	for _, want := range []string{"pnc_person_search", `<strong class="govuk-tag govuk-tag--grey">pseudonym</strong>`, "person-", `id="export-form"`, "lbm verify receipt FILE"} {
		if !strings.Contains(out, want) {
			t.Errorf("the results lack %q", want)
		}
	}
	if strings.Contains(out, "dpo1") {
		t.Error("the results name dpo1, who is not a subject")
	}
	if strings.Contains(out, "NEIGHBOUR") {
		t.Error("the results show content not asked for")
	}
	m := receiptLinkRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the results link no receipt:\n%s", out)
	}
	record := m[1]
	// Asking for content shows only the content the authorisation
	// grants: e-mail's, not record queries'.
	if status, out := e.reviewCall(t, "investigator", "POST", data, url.Values{"justification": {lookWhy}, "content": {"yes"}}); status != 200 || strings.Contains(out, "NEIGHBOUR") {
		t.Errorf("asking for content = %d, and shows a record query's content: %v", status, strings.Contains(out, "NEIGHBOUR"))
	}

	// An export without a recipient is shown again, keeping what was typed.
	exportWhy := "The misconduct hearing panel needs the record of this check as evidence."
	status, out = e.reviewCall(t, "investigator", "POST", data+"/export", url.Values{"justification": {lookWhy}, "purpose": {"evidence for the hearing"}, "export-justification": {exportWhy}})
	if status != 400 || !strings.Contains(out, `<a href="#recipient">`) || !strings.Contains(out, `value="evidence for the hearing"`) || !strings.Contains(out, exportWhy+"</textarea>") {
		t.Errorf("an export without a recipient: status %d, want 400 on #recipient keeping the form:\n%s", status, out)
	}
	// An export downloads a bundle that verifies.
	resp := e.call(t, "investigator", true, "POST", data+"/export", url.Values{"justification": {lookWhy}, "recipient": {"Misconduct hearing panel"},
		"purpose": {"evidence for the hearing"}, "export-justification": {exportWhy}}.Encode())
	zb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export = %d %s\n%s", resp.StatusCode, resp.Header, zb)
	}
	if rep, err := evidence.Verify(bytes.NewReader(zb), int64(len(zb))); err != nil || len(rep.Events) != 1 {
		t.Errorf("the exported bundle: %+v, %v", rep, err)
	}

	// The receipts list the search and the export, each with its receipt.
	status, out = e.reviewCall(t, "investigator", "GET", "/receipts", nil)
	if status != 200 || !strings.Contains(out, `href="/v1/receipts/`+record+`"`) || !strings.Contains(out, `href="/requests/`+id+`"`) ||
		!strings.Contains(out, "Export") || !strings.Contains(out, "lbm verify receipt FILE") {
		t.Errorf("receipts = %d, want the search's record %s and the export:\n%s", status, record, out)
	}
	// The receipt link works with the session cookie.
	if resp := e.call(t, "investigator", true, "GET", "/v1/receipts/"+record, ""); resp.StatusCode != 200 {
		t.Errorf("GET /v1/receipts/%s with the session = %d", record, resp.StatusCode)
	}

	// Oversight reads every look with its justification, and the refused
	// attempts on their own.
	status, out = e.reviewCall(t, "oversight", "GET", "/access-records", nil)
	if status != 200 || !strings.Contains(out, lookWhy) || !strings.Contains(out, exportWhy) || !strings.Contains(out, "To Misconduct hearing panel") {
		t.Errorf("access log = %d, want the justifications and the recipient:\n%s", status, out)
	}
	status, out = e.reviewCall(t, "oversight", "GET", "/access-records?kind=refused", nil)
	if status != 200 || !strings.Contains(out, "<h1 class=\"govuk-heading-l\">Refused attempts</h1>") || !strings.Contains(out, "Out of scope: from") ||
		strings.Contains(out, exportWhy) {
		t.Errorf("refused attempts = %d, want only the refused search:\n%s", status, out)
	}
	if status, _ := e.reviewCall(t, "oversight", "GET", "/access-records?kind=everything", nil); status != 400 {
		t.Errorf("an unknown kind = %d, want 400", status)
	}
}

func TestReviewPageRefusals(t *testing.T) {
	e := newPeopleEnv(t)
	data := "/requests/" + e.request + "/data"
	// A draft authorises nothing: the page says so, without recording.
	before := e.oversightSize(t)
	status, out := e.reviewCall(t, "investigator", "GET", data, nil)
	if status != 409 || !strings.Contains(out, "This request authorises nothing now") || strings.Contains(out, `name="justification"`) {
		t.Errorf("GET of a draft's data = %d:\n%s", status, out)
	}
	if got := e.oversightSize(t); got != before {
		t.Errorf("GET of a draft's data wrote %d oversight entries", got-before)
	}
	// A search under it is an attempt: refused, and recorded.
	status, out = e.reviewCall(t, "investigator", "POST", data, url.Values{"justification": {lookWhy}})
	if status != 403 || !strings.Contains(out, "This attempt is recorded") {
		t.Errorf("a search under a draft = %d:\n%s", status, out)
	}
	if got := e.oversightSize(t); got != before+1 {
		t.Errorf("a search under a draft wrote %d oversight entries, want 1", got-before)
	}
	// The request page of a draft offers no look.
	if _, out := e.reviewCall(t, "investigator", "GET", "/requests/"+e.request, nil); strings.Contains(out, data) {
		t.Error("a draft's page links to its data")
	}
}

func TestReviewNavigation(t *testing.T) {
	e := newPeopleEnv(t)
	for _, tt := range []struct {
		who       string
		want, not string
	}{
		{"investigator", `href="/receipts"`, `href="/access-records"`},
		{"oversight", `href="/access-records"`, `href="/receipts"`},
		{"admin", "", `href="/access-records"`},
	} {
		_, out := e.reviewCall(t, tt.who, "GET", "/", nil)
		nav := out[strings.Index(out, "govuk-service-navigation__list"):]
		nav = nav[:strings.Index(nav, "</ul>")]
		if !strings.Contains(nav, tt.want) || strings.Contains(nav, tt.not) {
			t.Errorf("%s's navigation: want %s, not %s:\n%s", tt.who, tt.want, tt.not, nav)
		}
	}
}
