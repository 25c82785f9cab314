package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

// The callers of the access matrix: anonymous, a source, the bootstrap
// admin token, and one person in each role. "admin" is the second
// administrator (adm2); adm1 proposed the pending change.
var callers = []string{"anonymous", "source", "bootstrap", "staff", "investigator", "authoriser", "adviser", "dpo", "oversight", "admin"}

const persons = "staff investigator authoriser adviser dpo oversight admin"

// accessMatrix is the expected access of every route, written by hand
// from DESIGN.md's role table ("Who uses it"), not generated from the
// policy: a change to the policy that this table does not foresee fails.
// allow lists the callers that must get through; "*" is everyone,
// anonymous included. API routes are called with each caller's bearer
// token, pages with their session cookie.
var accessMatrix = []struct {
	route string // the route's pattern
	path  string // a concrete path; {change} and {setup} are filled in
	body  string
	allow string
}{
	{"POST /v1/events", "/v1/events", eventLine, "source"},
	{"POST /v1/email", "/v1/email", "From: a@example.org\nSubject: x\n\nbody\n", "source"},
	// Shippers send as sources, whatever the call: nothing under /es/
	// or at POST /v1/logs is for anyone else, or public.
	{"POST /es/_bulk", "/es/_bulk", bulkBody, "source"},
	{"PUT /es/_bulk", "/es/_bulk", bulkBody, "source"},
	{"POST /es/{index}/_bulk", "/es/logs-pnc/_bulk", bulkBody, "source"},
	{"PUT /es/{index}/_bulk", "/es/logs-pnc/_bulk", bulkBody, "source"},
	{"GET /es/{$}", "/es/", "", "source"},
	{"GET /es/_license", "/es/_license", "", "source"},
	{"GET /es/_xpack", "/es/_xpack", "", "source"},
	{"GET /es/_cluster/health", "/es/_cluster/health", "", "source"},
	{"GET /es/_index_template/{name}", "/es/_index_template/filebeat", "", "source"},
	{"GET /es/_ilm/policy/{name}", "/es/_ilm/policy/filebeat", "", "source"},
	{"GET /es/{index}", "/es/logs-pnc", "", "source"},
	{"PUT /es/{index}", "/es/logs-pnc", "", "source"},
	{"GET /es/{path...}", "/es/_nodes/stats", "", "source"},
	{"POST /es/{path...}", "/es/logs-pnc/_doc", `{"message":"x"}`, "source"},
	{"PUT /es/{path...}", "/es/_index_template/filebeat", `{"index_patterns":["filebeat-*"]}`, "source"},
	{"POST /v1/logs", "/v1/logs", `{"resourceLogs":[]}`, "source"},
	{"GET /v1/transparency-logs", "/v1/transparency-logs", "", "*"},
	{"GET /log/{log}/checkpoint", "/log/activity/checkpoint", "", "*"},
	{"GET /log/{log}/checkpoints", "/log/activity/checkpoints", "", "*"},
	{"GET /log/{log}/tile/{path...}", "/log/activity/tile/0/000.p/1", "", "*"},
	// Whether an entry was deleted under retention: for those who answer
	// for the logs and for data protection.
	{"GET /v1/logs/{log}/entries/{index}", "/v1/logs/activity/entries/0", "", "oversight admin dpo bootstrap"},
	{"GET /healthz", "/healthz", "", "*"},
	{"GET /readyz", "/readyz", "", "*"},
	{"GET /metrics", "/metrics", "", "admin bootstrap"},
	{"GET /v1/purposes", "/v1/purposes", "", "*"},
	{"GET /v1/legislation", "/v1/legislation", "", "*"},
	{"GET /v1/criteria", "/v1/criteria", "", "*"},
	{"GET /v1/retention-schedule", "/v1/retention-schedule", "", "*"},
	{"GET /purposes", "/purposes", "", "*"},
	{"GET /legislation", "/legislation", "", "*"},
	{"GET /criteria", "/criteria", "", "*"},
	{"GET /retention", "/retention", "", "*"},
	{"GET /v1/me", "/v1/me", "", persons + " bootstrap"},
	// The bootstrap admin token lives in a file; signing it out would
	// leave no way back but the CLI, so it is refused.
	{"POST /v1/sign-out", "/v1/sign-out", "", persons},
	{"GET /v1/people", "/v1/people", "", "oversight admin bootstrap"},
	{"GET /v1/people/{id}", "/v1/people/staff1", "", "oversight admin bootstrap"},
	{"POST /v1/people/{id}/changes", "/v1/people/staff1/changes", `{"roles":["staff","investigator"],"reason":"joins the anti-corruption command"}`, "admin bootstrap"},
	{"GET /v1/changes", "/v1/changes", "", "oversight admin bootstrap"},
	// Decisions need a second factor: the bootstrap token has none.
	{"POST /v1/changes/{id}/approval", "/v1/changes/{change}/approval", "", "admin"},
	{"POST /v1/changes/{id}/rejection", "/v1/changes/{change}/rejection", "", "admin"},
	// The oversight log holds no content: oversight reads it, and admins
	// see what they and their colleagues did.
	{"GET /v1/oversight-log", "/v1/oversight-log", "", "oversight admin bootstrap"},
	// Witnesses' status is part of verifying the logs.
	{"GET /v1/witnesses", "/v1/witnesses", "", "oversight admin bootstrap"},
	// The catalogues' history, and changes to them under dual control.
	{"GET /v1/catalogue/versions", "/v1/catalogue/versions", "", "oversight admin bootstrap"},
	{"GET /v1/catalogue/versions/{version}", "/v1/catalogue/versions/0", "", "oversight admin bootstrap"},
	{"POST /v1/catalogue/changes", "/v1/catalogue/changes", "{catalogue}", "admin bootstrap"},
	// The consent-level policy in force: everyone signed in may read it,
	// so that an investigator sees what a request will need; its history
	// and changes to it as for the catalogue.
	{"GET /v1/consent-policy", "/v1/consent-policy", "", persons + " bootstrap"},
	{"GET /v1/consent-policy/versions", "/v1/consent-policy/versions", "", "oversight admin bootstrap"},
	{"POST /v1/consent-policy/changes", "/v1/consent-policy/changes", "{consentpolicy}", "admin bootstrap"},
	// The notice in force and the public notice tell people what happens
	// to them: anyone may read them.
	{"GET /v1/notices/current", "/v1/notices/current", "", "*"},
	{"GET /v1/notices/current/banner", "/v1/notices/current/banner", "", "*"},
	{"GET /v1/public-notice", "/v1/public-notice", "", "*"},
	{"GET /v1/public-notice/short", "/v1/public-notice/short", "", "*"},
	// Only a person acknowledges, for themselves, in any role.
	{"POST /v1/notices/current/acknowledgement", "/v1/notices/current/acknowledgement", `{"version":1}`, persons},
	{"GET /v1/me/acknowledgements", "/v1/me/acknowledgements", "", persons},
	{"GET /v1/notices", "/v1/notices", "", "oversight admin bootstrap"},
	{"GET /v1/notices/default", "/v1/notices/default", "", "admin bootstrap"},
	{"GET /v1/notices/{version}", "/v1/notices/{draft}", "", "oversight admin bootstrap"},
	{"POST /v1/notices", "/v1/notices", "{draft}", "admin bootstrap"},
	{"POST /v1/notices/{version}/publication", "/v1/notices/{draft}/publication", `{"reason":"clearer wording"}`, "admin bootstrap"},
	{"GET /v1/reports/notices", "/v1/reports/notices", "", "oversight admin dpo bootstrap"},
	{"GET /v1/reports/oversight", "/v1/reports/oversight", "", "oversight admin bootstrap"},
	{"GET /v1/transparency", "/v1/transparency", "", "*"},
	{"POST /v1/me/subject-access-requests", "/v1/me/subject-access-requests", `{"details":"all my e-mail metadata"}`, persons},
	{"GET /v1/subject-access-requests", "/v1/subject-access-requests", "", "dpo"},
	// A person reads their own requests and downloads their own answer
	// (anyone else's is not found); only the DPO handles requests, each
	// step with a second factor.
	{"GET /v1/me/subject-access-requests", "/v1/me/subject-access-requests", "", persons},
	{"GET /v1/me/subject-access-requests/{id}/export", "/v1/me/subject-access-requests/{sar}/export", "", persons},
	{"GET /v1/subject-access-requests/{id}", "/v1/subject-access-requests/{sar}", "", "dpo"},
	{"GET /v1/subject-access-requests/{id}/summary", "/v1/subject-access-requests/{sar}/summary", "", "dpo"},
	{"POST /v1/subject-access-requests/{id}/open", "/v1/subject-access-requests/{sar}/open", "{}", "dpo"},
	{"POST /v1/subject-access-requests/{id}/exemptions", "/v1/subject-access-requests/{sar}/exemptions", `{"categories":["email"],"ground":"crime","note":"an inquiry"}`, "dpo"},
	{"POST /v1/subject-access-requests/{id}/exemptions/{exemption}/removal", "/v1/subject-access-requests/{sar}/exemptions/ex-absent/removal", "{}", "dpo"},
	{"POST /v1/subject-access-requests/{id}/extension", "/v1/subject-access-requests/{sar}/extension", `{"months":1,"reason":"many requests"}`, "dpo"},
	{"POST /v1/subject-access-requests/{id}/answer", "/v1/subject-access-requests/{sar}/answer", "{}", "dpo"},
	{"POST /v1/subject-access-requests/{id}/close", "/v1/subject-access-requests/{sar}/close", `{"reason":"withdrawn"}`, "dpo"},
	// Requests: investigators draft; everyone with a part in requests
	// reads those they have a part in (the request decides which);
	// authorisers decide with a second factor; oversight reads the
	// central record. Staff and administrators have no part.
	{"POST /v1/requests", "/v1/requests", `{"subjects":["staff1"],"mode":"review"}`, "investigator"},
	{"GET /v1/requests", "/v1/requests", "", "investigator authoriser adviser dpo oversight"},
	{"POST /v1/requests/derivation", "/v1/requests/derivation", `{"mode":"review","subjects":["staff1"]}`, "investigator authoriser adviser dpo oversight"},
	{"GET /v1/requests/{id}", "/v1/requests/{request}", "", "investigator authoriser adviser dpo oversight"},
	{"PUT /v1/requests/{id}", "/v1/requests/{request}", `{"subjects":["staff1"],"mode":"monitor"}`, "investigator"},
	{"POST /v1/requests/{id}/submit", "/v1/requests/{request}/submit", "{}", "investigator"},
	{"POST /v1/requests/{id}/withdrawal", "/v1/requests/{request}/withdrawal", `{"reasons":"the complaint was resolved informally, so no review of the data is needed now"}`, "investigator"},
	{"POST /v1/requests/{id}/advice", "/v1/requests/{request}/advice", `{"view":"a legal view that the request is lawful and proportionate in every respect"}`, "adviser dpo"},
	// A legal adviser's view on held-back material. The access table
	// admits advisers and the DPO; here a view without "release" is 400,
	// and internal/requests refuses anyone but a legal adviser.
	{"POST /v1/requests/{id}/release", "/v1/requests/{request}/release", `{"events":["0123456789abcdef0123456789abcdef"],"view":"x"}`, "adviser dpo"},
	{"POST /v1/requests/{id}/held-back", "/v1/requests/{request}/held-back", `{"justification":"."}`, "adviser dpo"},
	{"POST /v1/requests/{id}/decision", "/v1/requests/{request}/decision", `{"authorise":false,"reasons":"not enough is known yet to justify any intrusion into this officer's activity","directly_involved":false}`, "authoriser"},
	{"POST /v1/requests/{id}/ratification", "/v1/requests/{request}/ratification", `{"reasons":"ratified at the normal rank after reading the urgent case in full detail"}`, "authoriser"},
	{"POST /v1/requests/{id}/reviews", "/v1/requests/{request}/reviews", `{"notes":"reviewed: the data gathered so far still justifies continuing the review period"}`, "authoriser"},
	{"POST /v1/requests/{id}/renewal", "/v1/requests/{request}/renewal", `{"reasons":"renewed because the investigation continues and the need remains the same","directly_involved":false}`, "authoriser"},
	{"POST /v1/requests/{id}/cancellation", "/v1/requests/{request}/cancellation", `{"reasons":"cancelled because the investigation has found what it needed for the hearing"}`, "investigator authoriser"},
	{"POST /v1/requests/{id}/closure", "/v1/requests/{request}/closure", `{"outcome":"misconduct found","useful":true,"kept":"the bundle, for the hearing"}`, "investigator authoriser"},
	// A query with a thin justification is bad input (400) before any
	// look: the guard is what is tested here; internal/review tests the rest.
	{"POST /v1/requests/{id}/queries", "/v1/requests/{request}/queries", `{"justification":"."}`, "investigator"},
	// A live feed, as a query: a thin justification is 400 before any
	// look; a feed that is not the caller's (here, none) is 404.
	{"POST /v1/requests/{id}/feeds", "/v1/requests/{request}/feeds", `{"justification":"."}`, "investigator"},
	{"GET /v1/feeds/{feed}/events", "/v1/feeds/feed_absent/events", "", "investigator"},
	{"POST /v1/requests/{id}/exports", "/v1/requests/{request}/exports", `{"justification":"."}`, "investigator"},
	// Receipts are their holder's own: another's, or none, is 404.
	{"GET /v1/receipts", "/v1/receipts", "", "investigator"},
	{"GET /v1/receipts/{index}", "/v1/receipts/0", "", "investigator"},
	{"GET /v1/access-records", "/v1/access-records?kind=refused", "", "oversight"},
	{"GET /v1/central-record", "/v1/central-record", "", "oversight"},
	// Alerts: {alert} is about someone outside the directory, so that no
	// caller is kept from it by unit or line management. A thin
	// justification is refused (400) before any reveal is tried.
	{"GET /v1/rules", "/v1/rules", "", "investigator oversight admin bootstrap"},
	{"GET /v1/rules/versions", "/v1/rules/versions", "", "oversight admin bootstrap"},
	{"POST /v1/rules/changes", "/v1/rules/changes", "{rules}", "admin bootstrap"},
	{"GET /v1/alerts", "/v1/alerts", "", "investigator oversight"},
	{"GET /v1/alerts/{id}", "/v1/alerts/{alert}", "", "investigator oversight"},
	{"POST /v1/alerts/{id}/triage", "/v1/alerts/{alert}/triage", `{"action":"assign"}`, "investigator"},
	{"POST /v1/alerts/{id}/notes", "/v1/alerts/{alert}/notes", `{"text":"checked the rota for that night"}`, "investigator"},
	{"POST /v1/alerts/{id}/request", "/v1/alerts/{alert}/request", "", "investigator"},
	{"POST /v1/alerts/{id}/reveal", "/v1/alerts/{alert}/reveal", `{"justification":"."}`, "investigator"},
	{"GET /v1/relevant-errors", "/v1/relevant-errors", "", "oversight admin bootstrap"},
	{"POST /v1/relevant-errors", "/v1/relevant-errors", `{"kind":"outside_authorisation","description":"seen outside the window","identified_at":"2026-11-02T08:00:00Z"}`, "oversight admin bootstrap"},
	{"GET /v1/relevant-errors/{id}", "/v1/relevant-errors/{relevantError}", "", "oversight admin bootstrap"},
	{"POST /v1/relevant-errors/{id}/report", "/v1/relevant-errors/{relevantError}/report", `{"text":"reported","recipient":"IPCO"}`, "oversight admin bootstrap"},
	{"POST /v1/relevant-errors/{id}/close", "/v1/relevant-errors/{relevantError}/close", `{"outcome":"handled"}`, "oversight admin bootstrap"},
	// Legal holds: the DPO's alone to place and release (with a second
	// factor), oversight's to read; nobody else, not even an
	// administrator, may learn one exists. {hold} is the DPO's hold on
	// staff1, who is refused like every other role.
	{"GET /v1/holds", "/v1/holds?all=1", "", "dpo oversight"},
	{"POST /v1/holds", "/v1/holds", `{"person":"staff1","reason":"employment tribunal claim ET/1234/26"}`, "dpo"},
	{"POST /v1/holds/{id}/release", "/v1/holds/{hold}/release", `{"note":"the claim was settled at the hearing"}`, "dpo"},
	// Each person's own inbox; marking another's (or an absent)
	// notification is 404, not a refusal.
	{"GET /v1/inbox", "/v1/inbox?unread=1", "", persons},
	{"POST /v1/inbox/{id}/read", "/v1/inbox/ntf_absent/read", "", persons},

	{"GET /assets/{path...}", "/assets/lbm.css", "", "*"},
	{"GET /sign-in", "/sign-in", "", "*"},
	{"POST /sign-in", "/sign-in", "username=staff1&password=" + url.QueryEscape(staffPassword), "*"},
	{"GET /sign-in/oidc", "/sign-in/oidc", "", "*"},
	{"GET /sign-in/oidc/callback", "/sign-in/oidc/callback?state=x&code=y", "", "*"},
	{"GET /setup/{token}", "/setup/{setup}", "", "*"},
	{"POST /setup/{token}", "/setup/{setup}", "password=short&confirm=short&code=000000", "*"},
	{"POST /sign-out", "/sign-out", "", persons},
	{"GET /step-up", "/step-up", "", persons},
	{"POST /step-up", "/step-up", "code={code}", persons},
	{"POST /session/role", "/session/role", "role=staff", persons},
	{"GET /{$}", "/", "", persons},
	{"GET /people", "/people", "", "oversight admin"},
	{"GET /people/{id}", "/people/staff1", "", "oversight admin"},
	{"GET /people/{id}/change", "/people/staff1/change", "", "admin"},
	{"POST /people/{id}/change", "/people/staff1/change", "roles=staff&roles=investigator&reason=joins+ACAC", "admin"},
	{"GET /changes", "/changes", "", "oversight admin"},
	{"GET /oversight", "/oversight", "", "oversight admin"},
	{"GET /oversight/verification", "/oversight/verification", "", "oversight admin"},
	{"POST /changes/{id}/approve", "/changes/{change}/approve", "", "admin"},
	{"POST /changes/{id}/reject", "/changes/{change}/reject", "", "admin"},
	{"GET /catalogue", "/catalogue", "", "oversight admin"},
	{"GET /catalogue/edit", "/catalogue/edit", "", "admin"},
	{"GET /catalogue/changes/{id}", "/catalogue/changes/{catalogueChange}", "", "oversight admin"},
	{"POST /catalogue/edit", "/catalogue/edit", "{catalogueform}", "admin"},
	{"GET /consent-policy", "/consent-policy", "", "oversight admin"},
	{"GET /consent-policy/edit", "/consent-policy/edit", "", "admin"},
	{"POST /consent-policy/edit", "/consent-policy/edit", "{consentpolicyform}", "admin"},
	{"GET /consent-policy/changes/{id}", "/consent-policy/changes/{consentChange}", "", "oversight admin"},
	{"GET /rules", "/rules", "", "oversight admin"},
	{"GET /rules/edit", "/rules/edit", "", "admin"},
	{"POST /rules/edit", "/rules/edit", "{rulesform}", "admin"},
	{"GET /rules/changes/{id}", "/rules/changes/{rulesChange}", "", "oversight admin"},
	{"GET /notice", "/notice", "", "*"},
	{"GET /public-notice", "/public-notice", "", "*"},
	{"GET /transparency", "/transparency", "", "*"},
	{"POST /notice/acknowledgement", "/notice/acknowledgement", "version=1", persons},
	{"GET /notices", "/notices", "", "oversight admin"},
	{"GET /notices/new", "/notices/new", "", "admin"},
	{"POST /notices", "/notices", "{draftform}", "admin"},
	{"GET /notices/{version}", "/notices/{draft}", "", "oversight admin"},
	{"POST /notices/{version}/publish", "/notices/{draft}/publish", "reason=clearer+wording", "admin"},
	{"GET /reports/notices", "/reports/notices", "", "oversight admin dpo"},
	{"GET /reports/notices.csv", "/reports/notices.csv", "", "oversight admin dpo"},
	{"GET /reports/oversight", "/reports/oversight", "", "oversight admin"},
	{"GET /reports/oversight.csv", "/reports/oversight.csv", "", "oversight admin"},
	{"GET /me", "/me", "", persons},
	{"POST /me/subject-access-requests", "/me/subject-access-requests", "details=all+my+data", persons},
	{"GET /subject-access-requests", "/subject-access-requests", "", "dpo"},
	{"GET /me/subject-access-requests/{id}/export", "/me/subject-access-requests/{sar}/export", "", persons},
	{"GET /subject-access-requests/{id}", "/subject-access-requests/{sar}", "", "dpo"},
	{"POST /subject-access-requests/{id}/open", "/subject-access-requests/{sar}/open", "", "dpo"},
	{"POST /subject-access-requests/{id}/exemptions", "/subject-access-requests/{sar}/exemptions", "categories=email&ground=crime&note=an+inquiry", "dpo"},
	{"POST /subject-access-requests/{id}/exemptions/{exemption}/removal", "/subject-access-requests/{sar}/exemptions/ex-absent/removal", "", "dpo"},
	{"POST /subject-access-requests/{id}/extension", "/subject-access-requests/{sar}/extension", "months=1&reason=many+requests", "dpo"},
	{"POST /subject-access-requests/{id}/answer", "/subject-access-requests/{sar}/answer", "", "dpo"},
	{"POST /subject-access-requests/{id}/close", "/subject-access-requests/{sar}/close", "close_reason=withdrawn", "dpo"},
	{"GET /inbox", "/inbox", "", persons},
	{"POST /inbox/{id}/read", "/inbox/ntf_absent/read", "", persons},
	// The request pages: as the API, with the session cookie. {request}
	// is inv1's draft about staff1, which only inv1 and oversight see;
	// the others get through the access table and find no such request.
	{"GET /requests", "/requests", "", "investigator authoriser adviser dpo oversight"},
	{"GET /requests/new", "/requests/new", "", "investigator"},
	{"POST /requests/new", "/requests/new", "subjects=staff1", "investigator"},
	{"GET /requests/{id}", "/requests/{request}", "", "investigator authoriser adviser dpo oversight"},
	{"GET /requests/{id}/edit/{step}", "/requests/{request}/edit/subjects", "", "investigator"},
	{"POST /requests/{id}/edit/{step}", "/requests/{request}/edit/subjects", "subjects=staff1", "investigator"},
	{"GET /requests/{id}/check", "/requests/{request}/check", "", "investigator"},
	{"POST /requests/{id}/submit", "/requests/{request}/submit", "", "investigator"},
	{"POST /requests/{id}/withdrawal", "/requests/{request}/withdrawal", "withdrawal-reasons=the+complaint+was+resolved+informally+so+no+review+of+the+data+is+needed+now", "investigator"},
	{"POST /requests/{id}/advice", "/requests/{request}/advice", "advice-view=a+legal+view+that+the+request+is+lawful+and+proportionate+in+every+respect", "adviser dpo"},
	{"POST /requests/{id}/decision", "/requests/{request}/decision", "decision-authorise=refuse&decision-directly-involved=no&decision-reasons=not+enough+is+known+yet+to+justify+any+intrusion+into+this+officer", "authoriser"},
	{"POST /requests/{id}/ratification", "/requests/{request}/ratification", "ratification-reasons=ratified+at+the+normal+rank+after+reading+the+urgent+case+in+full", "authoriser"},
	{"POST /requests/{id}/review", "/requests/{request}/review", "review-notes=reviewed+the+data+gathered+so+far+still+justifies+continuing+the+review", "authoriser"},
	{"POST /requests/{id}/renewal", "/requests/{request}/renewal", "renewal-directly-involved=no&renewal-reasons=renewed+because+the+investigation+continues+and+the+need+remains", "authoriser"},
	{"POST /requests/{id}/cancellation", "/requests/{request}/cancellation", "cancellation-reasons=cancelled+because+the+investigation+has+found+what+it+needed", "investigator authoriser"},
	{"POST /requests/{id}/closure", "/requests/{request}/closure", "closure-outcome=misconduct+found&closure-useful=yes&closure-kept=the+bundle", "investigator authoriser"},
	// Looking at the data, as the API: a thin justification is refused
	// before any look, and {request}, a draft, authorises nothing (409).
	{"GET /requests/{id}/data", "/requests/{request}/data", "", "investigator"},
	{"POST /requests/{id}/data", "/requests/{request}/data", "justification=.", "investigator"},
	{"POST /requests/{id}/data/export", "/requests/{request}/data/export", "justification=.", "investigator"},
	{"GET /receipts", "/receipts", "", "investigator"},
	{"GET /access-records", "/access-records?kind=refused", "", "oversight"},
	// The central record is the inspectorate's.
	{"GET /central-record", "/central-record", "", "oversight"},
	{"GET /central-record.csv", "/central-record.csv", "", "oversight"},
	{"GET /alerts", "/alerts", "", "investigator oversight"},
	{"GET /alerts/{id}", "/alerts/{alert}", "", "investigator oversight"},
	{"POST /alerts/{id}/triage", "/alerts/{alert}/triage", "action=assign", "investigator"},
	{"POST /alerts/{id}/notes", "/alerts/{alert}/notes", "text=checked+the+rota+for+that+night", "investigator"},
	{"POST /alerts/{id}/request", "/alerts/{alert}/request", "", "investigator"},
	{"POST /alerts/{id}/reveal", "/alerts/{alert}/reveal", "justification=.", "investigator"},
	{"GET /relevant-errors", "/relevant-errors", "", "oversight admin"},
	{"GET /relevant-errors/new", "/relevant-errors/new", "", "oversight admin"},
	{"POST /relevant-errors/new", "/relevant-errors/new", "kind=outside_authorisation&description=seen+outside&identified_at=2026-11-02", "oversight admin"},
	{"GET /relevant-errors/{id}", "/relevant-errors/{relevantError}", "", "oversight admin"},
	{"POST /relevant-errors/{id}/report", "/relevant-errors/{relevantError}/report", "text=reported&recipient=IPCO", "oversight admin"},
	{"POST /relevant-errors/{id}/close", "/relevant-errors/{relevantError}/close", "outcome=handled", "oversight admin"},
	{"GET /holds", "/holds", "", "dpo oversight"},
	{"POST /holds", "/holds", "person=staff1&reason=employment+tribunal+claim+ET%2F1234%2F26", "dpo"},
	{"POST /holds/{id}/release", "/holds/{hold}/release", "note=the+claim+was+settled+at+the+hearing", "dpo"},
	// The national report is served on the national oversight node alone
	// (national_test.go); on an organisation's node nobody reaches it:
	// allow "" means not found for every caller.
	{"GET /v1/national/report", "/v1/national/report", "", ""},
	{"GET /national/report", "/national/report", "", ""},
}

// bodies fills the placeholders of request bodies that are too long to
// write in the matrix: a catalogue change and a draft notice, as JSON for
// the API and as a form for pages.
func bodies(t *testing.T) *strings.Replacer {
	t.Helper()
	f := policy.DefaultFiles()
	purposes := strings.Replace(string(f.Purposes), "title: ", "title: Edited ", 1)
	catalogue, _ := json.Marshal(map[string]string{"purposes": purposes, "legislation": string(f.Legislation), "criteria": string(f.Criteria), "reason": "clearer title"})
	d, err := inform.DefaultNotice(inform.DefaultInput{Catalogue: policy.Default()})
	if err != nil {
		t.Fatal(err)
	}
	draft, _ := json.Marshal(map[string]any{"title": d.Title, "text": d.Text, "short": d.Short, "public_text": d.PublicText,
		"public_short": d.PublicShort, "categories": d.Categories})
	draftForm := url.Values{"title": {d.Title}, "text": {d.Text}, "short": {d.Short}, "public_text": {d.PublicText},
		"public_short": {d.PublicShort}, "categories": d.Categories}
	catalogueForm := url.Values{"purposes": {purposes}, "legislation": {string(f.Legislation)}, "criteria": {string(f.Criteria)},
		"categories": {string(f.Categories)}, "reason": {"clearer title"}}
	consentPolicy, _ := json.Marshal(map[string]string{"yaml": editedConsentPolicy(), "reason": "stricter"})
	consentPolicyForm := url.Values{"yaml": {editedConsentPolicy()}, "reason": {"stricter"}}
	rules, _ := json.Marshal(map[string]string{"yaml": editedRules(), "reason": "stricter"})
	rulesForm := url.Values{"yaml": {editedRules()}, "reason": {"stricter"}}
	return strings.NewReplacer("{rules}", string(rules), "{catalogue}", string(catalogue), "{draft}", string(draft),
		"{draftform}", draftForm.Encode(), "{catalogueform}", catalogueForm.Encode(),
		"{consentpolicy}", string(consentPolicy), "{consentpolicyform}", consentPolicyForm.Encode(), "{rulesform}", rulesForm.Encode())
}

// bulkBody is a _bulk request of one document.
const bulkBody = `{"create":{"_index":"logs-pnc"}}
{"@timestamp":"2026-11-02T08:00:00Z","message":"query","user":{"name":"jsmith"}}
`

const eventLine = `{"@timestamp":"2026-11-02T08:00:00Z","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"u1"}}`

// TestAccessMatrix runs every route as every caller on a fresh store. A
// caller the matrix does not allow must be refused (401, 403, or a page
// sending them to sign in) and leave the store exactly as it was.
func TestAccessMatrix(t *testing.T) {
	var patterns []string
	for _, r := range web.Routes() {
		patterns = append(patterns, r.Pattern)
	}
	var listed []string
	for _, m := range accessMatrix {
		listed = append(listed, m.route)
	}
	slices.Sort(patterns)
	slices.Sort(listed)
	if diff := cmp.Diff(patterns, listed); diff != "" {
		t.Fatalf("the access matrix does not list exactly the routes served (-served +matrix):\n%s", diff)
	}
	page := map[string]bool{}
	for _, r := range web.Routes() {
		page[r.Pattern] = r.Page
	}
	for _, m := range accessMatrix {
		t.Run(m.route, func(t *testing.T) {
			t.Parallel()
			e := newPeopleEnv(t)
			allowed := func(who string) bool {
				return m.allow == "*" || slices.Contains(strings.Fields(m.allow), who)
			}
			// Refusals first, each checked for side effects, while the
			// store is as set up; then the callers who may act.
			order := slices.Clone(callers)
			slices.SortStableFunc(order, func(a, b string) int {
				switch {
				case !allowed(a) && allowed(b):
					return -1
				case allowed(a) && !allowed(b):
					return 1
				}
				return 0
			})
			method, _, _ := strings.Cut(m.route, " ")
			var consentChange string
			if strings.Contains(m.path, "{consentChange}") {
				consentChange = proposeConsentPolicy(t, e)
			}
			var rulesChange string
			if strings.Contains(m.path, "{rulesChange}") {
				rulesChange = proposeRules(t, e)
			}
			for _, who := range order {
				path := strings.NewReplacer("{change}", e.change, "{setup}", e.setup, "{request}", e.request, "{draft}", e.draft, "{catalogueChange}", e.catalogueChange,
					"{consentChange}", consentChange, "{rulesChange}", rulesChange, "{alert}", e.alert, "{relevantError}", e.relevantError, "{hold}", e.hold, "{sar}", e.sar).Replace(m.path)
				body := bodies(t).Replace(strings.ReplaceAll(m.body, "{code}", e.code(who)))
				before := e.snapshot(t)
				resp := e.call(t, who, page[m.route], method, path, body)
				refused := resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
					(resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/sign-in?next=")) ||
					(resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/step-up")) ||
					(m.allow == "" && resp.StatusCode == http.StatusNotFound)
				if allowed(who) && refused {
					t.Errorf("%s %s as %s = %d (Location %q), want it allowed", method, path, who, resp.StatusCode, resp.Header.Get("Location"))
				}
				if !allowed(who) {
					if !refused {
						t.Errorf("%s %s as %s = %d, want it refused", method, path, who, resp.StatusCode)
					}
					if !page[m.route] && resp.Header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("%s %s as %s: Content-Type = %q, want application/problem+json", method, path, who, resp.Header.Get("Content-Type"))
					}
					if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
						t.Errorf("%s %s as %s was refused but changed the store (-before +after):\n%s", method, path, who, diff)
					}
				}
			}
		})
	}
}

// state is what a refused request must not change.
type state struct {
	People           []store.Person
	Changes          []store.Change
	Notices          []store.Notice
	Acknowledgements map[string][]store.Acknowledgement
	Requests         []store.SubjectAccessRequest
	Catalogues       []store.CatalogueVersion
	StoredRequests   []store.StoredRequest
	ConsentPolicies  []store.ConsentPolicyVersion
	RuleSets         []store.RuleSetVersion
	Alerts           []store.StoredAlert
	RelevantErrors   []store.StoredRelevantError
	Holds            []store.Hold
	LogSizes         map[string]uint64
	Tokens           map[string]store.Token
	TOTPSteps        map[string]int64
	Passwords        map[string]string
}

func (e *peopleEnv) snapshot(t *testing.T) state {
	t.Helper()
	ctx := t.Context()
	st := e.node.Store
	var s state
	var err error
	if s.People, err = st.ListPeople(ctx, store.PeopleQuery{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if s.Changes, err = st.ListChanges(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if s.Notices, err = st.ListNotices(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Requests, err = st.ListSubjectAccessRequests(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if s.Catalogues, err = st.ListCatalogueVersions(ctx); err != nil {
		t.Fatal(err)
	}
	if s.StoredRequests, err = st.ListRequests(ctx, store.RequestQuery{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if s.ConsentPolicies, err = st.ListConsentPolicyVersions(ctx); err != nil {
		t.Fatal(err)
	}
	if s.RuleSets, err = st.ListRuleSetVersions(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Alerts, err = st.ListAlerts(ctx, store.AlertQuery{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if s.RelevantErrors, err = st.ListRelevantErrors(ctx, store.RelevantErrorQuery{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if s.Holds, err = st.ListHolds(ctx, true); err != nil {
		t.Fatal(err)
	}
	s.Acknowledgements = map[string][]store.Acknowledgement{}
	for _, p := range s.People {
		if s.Acknowledgements[p.ID], err = st.AcknowledgementsOf(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	s.LogSizes = map[string]uint64{}
	for _, l := range []string{"activity", "oversight"} {
		ts, err := st.LogState(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		s.LogSizes[l] = ts.Size
	}
	s.Tokens = map[string]store.Token{}
	s.TOTPSteps = map[string]int64{}
	s.Passwords = map[string]string{}
	for who, c := range e.actors {
		for _, tok := range []string{c.bearer, c.cookie} {
			if tok == "" {
				continue
			}
			got, err := st.TokenByHash(ctx, identity.HashToken(tok))
			if err != nil {
				t.Fatal(err)
			}
			s.Tokens[who+"/"+got.Kind] = got
		}
		if c.person != "" {
			cred, err := st.CredentialOf(ctx, c.person)
			if err == nil {
				s.TOTPSteps[c.person], s.Passwords[c.person] = cred.TOTPStep, cred.Password
			}
		}
	}
	return s
}

func TestRoutesNeedPolicy(t *testing.T) {
	// New refuses a configuration it cannot run safely.
	if _, err := web.New(web.Config{}); err == nil {
		t.Error("New without an oversight recorder = nil error, want one")
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	e := newPeopleEnv(t)
	before := e.snapshot(t)
	for _, c := range []struct{ path, body string }{
		{"/people/staff1/change", "roles=staff&roles=admin&reason=x"},
		{"/changes/" + e.change + "/approve", ""},
		{"/sign-out", ""},
		{"/holds", "person=staff1&reason=employment+tribunal+claim"},
		{"/holds/" + e.hold + "/release", "note=the+claim+was+settled"},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		req.AddCookie(&http.Cookie{Name: "lbm_session", Value: e.actors["admin"].cookie})
		resp := e.send(t, req)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s = %d, want 403", c.path, resp.StatusCode)
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("cross-site POSTs changed the store (-before +after):\n%s", diff)
	}
}
