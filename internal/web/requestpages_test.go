package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/store"
)

// page sends form (nil for a GET) to the page at path as who, and returns
// the response and its body.
func (e *peopleEnv) page(t *testing.T, who, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	method, body := http.MethodGet, ""
	if form != nil {
		method, body = http.MethodPost, form.Encode()
		if body == "" {
			body = "x=1"
		}
	}
	resp := e.call(t, who, true, method, path, body)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestRequestJourneyPages drafts a review of staff1's e-mail metadata
// through the question pages, submits it, and has a Superintendent
// authorise it, refused first for a missing view.
func TestRequestJourneyPages(t *testing.T) {
	e := newPeopleEnv(t)
	resp, _ := e.page(t, "investigator", "/requests/new", url.Values{"subjects": {"staff1"}})
	loc := resp.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, "/requests/")
	if resp.StatusCode != http.StatusSeeOther || !ok || !strings.HasSuffix(id, "/edit/investigators") {
		t.Fatalf("POST /requests/new = %d, Location %q; want a redirect to the investigators question", resp.StatusCode, loc)
	}
	id = strings.TrimSuffix(id, "/edit/investigators")
	base := "/requests/" + id
	now := e.node.Now().UTC()
	steps := []struct {
		step string
		form url.Values
	}{
		{"investigators", url.Values{"investigators": {"inv1"}}},
		{"categories", url.Values{"categories": {"email"}}},
		{"sources", url.Values{}},
		{"mode", url.Values{"mode": {"review"}, "window-from": {now.AddDate(0, -2, 0).Format("2006-01-02")}, "window-to": {now.AddDate(0, 0, -1).Format("2006-01-02")}}},
		{"purpose", url.Values{"purpose": {"STANDARDS"}}},
		{"investigation", url.Values{"investigation": {"misconduct"}}},
		{"collateral", url.Values{"collateral-level": {"low"}, "collateral-explanation": {"Only internal colleagues appear in the headers and their names are not read further."}}},
		{"confidential", url.Values{}},
		{"urgency", url.Values{"urgent": {"no"}}},
		{"operation", url.Values{"operation-name": {"Quill"}, "operation-reference": {"ACC/1"}}},
		{"necessity", url.Values{"necessity": {"A colleague reported that papers were sent outside the force; the e-mail log shows whether that happened."}}},
		{"criteria-NOTICE", url.Values{"answer": {"The notice published to every member of staff says that e-mail metadata is recorded."}}},
		{"criteria-EXTENT", url.Values{"answer": {"Two months of one person's e-mail headers, and nothing of the messages themselves."}}},
		{"criteria-LEGITIMATE_REASON", url.Values{"answer": {"Leaking restricted papers would be gross misconduct and could put witnesses at risk."}}},
		{"criteria-LESS_INTRUSIVE", url.Values{"answer": {"The document audit trail was checked first; it shows downloads but not where files went."}}},
		{"criteria-CONSEQUENCES", url.Values{"answer": {"A hearing may follow for the officer; correspondents are protected as only headers are read."}}},
		{"criteria-SAFEGUARDS", url.Values{"answer": {"One named investigator reads the results inside lbm, and every access is logged for oversight."}}},
		{"criteria-REMEDY", url.Values{"answer": {"The officer may complain to the IOPC and will be told about the review at interview."}}},
	}
	// A thin justification is refused on its own page, naming its input.
	resp, body := e.page(t, "investigator", base+"/edit/necessity", url.Values{"necessity": {"Needed."}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `<a href="#necessity">`) {
		t.Errorf("a one-word necessity = %d, want 400 linking to #necessity; page:\n%s", resp.StatusCode, body)
	}
	for i, s := range steps {
		resp, body := e.page(t, "investigator", base+"/edit/"+s.step, s.form)
		want := base + "/check"
		if i+1 < len(steps) {
			want = base + "/edit/" + steps[i+1].step
		}
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Fatalf("POST %s = %d, Location %q; want a redirect to %s; page:\n%s", s.step, resp.StatusCode, resp.Header.Get("Location"), want, body)
		}
	}
	resp, body = e.page(t, "investigator", base+"/check", nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "govuk-error-summary") || !strings.Contains(body, "Inspector or above") {
		t.Fatalf("check your answers = %d, want 200 with no problems and an Inspector's level; page:\n%s", resp.StatusCode, body)
	}
	resp, _ = e.page(t, "investigator", base+"/submit", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base+"?done=submitted" {
		t.Fatalf("submit = %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Editing a submitted request is over.
	resp, _ = e.page(t, "investigator", base+"/edit/necessity", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base {
		t.Errorf("editing a submitted request = %d, Location %q; want a redirect to its page", resp.StatusCode, resp.Header.Get("Location"))
	}

	decision := url.Values{
		"decision-authorise":         {"authorise"},
		"decision-directly-involved": {"no"},
		"decision-reasons":           {"The report is credible and headers alone are a modest intrusion for a serious matter."},
		"decision-views-NOTICE":      {"I accept the notice told staff plainly that e-mail headers are recorded at work."},
		"decision-views-EXTENT":      {"Headers only, for two months, is a narrow enough extent for this allegation."},
	}
	resp, body = e.page(t, "authoriser", base+"/decision", decision)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `href="#decision-views-CONSEQUENCES"`) || !strings.Contains(body, "I accept the notice told staff") {
		t.Errorf("a decision without every view = %d, want 400 naming the missing view and keeping what was typed; page:\n%s", resp.StatusCode, body)
	}
	decision["decision-views-LEGITIMATE_REASON"] = []string{"Protecting witnesses from leaked papers is a weighty and legitimate reason here."}
	decision["decision-views-LESS_INTRUSIVE"] = []string{"The audit trail was rightly tried first and cannot say where the papers went."}
	decision["decision-views-CONSEQUENCES"] = []string{"A hearing is a fair consequence if proven; third parties are barely touched."}
	decision["decision-views-SAFEGUARDS"] = []string{"Logged access by a single named investigator is a sufficient safeguard."}
	decision["decision-views-REMEDY"] = []string{"The IOPC route and disclosure at interview give the officer a real remedy."}
	resp, body = e.page(t, "authoriser", base+"/decision", decision)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base+"?done=acted" {
		t.Fatalf("deciding = %d, Location %q; page:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = e.page(t, "investigator", base, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `govuk-tag--green">Active`) || !strings.Contains(body, `action="`+base+`/cancellation"`) {
		t.Errorf("the investigator's request page = %d, want it Active with a cancellation form; page:\n%s", resp.StatusCode, body)
	}
	// The requester cannot review their own authorisation: the page's
	// form is not offered, and posting it anyway is refused by name.
	resp, body = e.page(t, "oversight", "/central-record", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="`+base+`"`) {
		t.Errorf("the central record = %d, want it to link the request; page:\n%s", resp.StatusCode, body)
	}
}

// TestRequestDecisionNeedsStepUp: a session that has not given a second
// factor lately is sent to give one, and then back to the request page,
// before any decision form reaches the request.
func TestRequestDecisionNeedsStepUp(t *testing.T) {
	e := newPeopleEnv(t)
	now := e.node.Now()
	cookie, hash := identity.NewToken()
	if err := e.node.Store.AddToken(t.Context(), store.Token{Hash: hash, Kind: identity.KindSession, Subject: "auth1",
		Role: string(identity.RoleAuthoriser), Created: now, Expires: now.Add(identity.SessionLifetime)}); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"decision", "ratification", "review", "renewal"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+"/requests/"+e.request+"/"+action,
			strings.NewReader("decision-reasons=x"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "lbm_session", Value: cookie})
		resp := e.send(t, req)
		if want := "/step-up?next=" + url.QueryEscape("/requests/"+e.request); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("POST %s without a second factor = %d, Location %q; want a redirect to %s", action, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}
