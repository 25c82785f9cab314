package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/web"
)

// editedConsentPolicy is the default consent-level policy with a comment
// added: it parses, and differs from the policy in force.
func editedConsentPolicy() string {
	return string(consent.DefaultFile()) + "# Reviewed by Legal.\n"
}

// proposeConsentPolicy proposes editedConsentPolicy as adm1 and returns the
// change's ID.
func proposeConsentPolicy(t *testing.T, e *peopleEnv) string {
	t.Helper()
	adm1 := identity.Principal{Kind: identity.KindUser, Subject: "adm1", Role: identity.RoleAdmin}
	c, err := identity.ProposeConsentPolicyChange(t.Context(), e.node.Store, adm1, []byte(editedConsentPolicy()), "reviewed by Legal", e.node.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func readJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", resp.Request.URL.Path, err)
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// oversightActions returns the actions of the oversight log, newest first.
func oversightActions(t *testing.T, e *peopleEnv) []web.OversightEntryJSON {
	t.Helper()
	var out struct {
		Entries []web.OversightEntryJSON `json:"entries"`
	}
	readJSON(t, e.call(t, "oversight", false, "GET", "/v1/oversight-log", ""), &out)
	return out.Entries
}

// TestConsentPolicyAPI follows a policy change through the API: read by an
// investigator, refused when it does not parse (naming the line) or when
// the proposer approves it, approved by a second administrator, and then
// in force, with the stale proposal refused.
func TestConsentPolicyAPI(t *testing.T) {
	e := newPeopleEnv(t)
	var cur web.ConsentPolicyJSON
	resp := e.call(t, "investigator", false, "GET", "/v1/consent-policy", "")
	readJSON(t, resp, &cur)
	if resp.StatusCode != http.StatusOK || cur.Version != 0 || cur.YAML != string(consent.DefaultFile()) {
		t.Fatalf("GET /v1/consent-policy = %d, version %d; want 200 and the default, version 0", resp.StatusCode, cur.Version)
	}
	var versions struct {
		Current  int64                          `json:"current"`
		Versions []web.ConsentPolicyVersionJSON `json:"versions"`
	}
	resp = e.call(t, "oversight", false, "GET", "/v1/consent-policy/versions", "")
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || body != `{"current":0,"versions":[]}`+"\n" {
		t.Errorf("GET /v1/consent-policy/versions on a new store = %d %s", resp.StatusCode, body)
	}

	before := e.snapshot(t)
	for _, tc := range []struct {
		name, body string
		status     int
		field      string
		line       int
	}{
		{"unknown key", proposal("base:\n  level: 1\n  colour: red\n", "x"), http.StatusBadRequest, "yaml", 3},
		{"bad condition", proposal("base:\n  level: 1\n  min_rank: inspector\n  max_duration: 30d\n  review_interval: 7d\nrules:\n  - id: X\n    description: x\n    when: contnet\n    level: 2\n", "x"), http.StatusBadRequest, "yaml", 9},
		{"no reason", proposal(editedConsentPolicy(), ""), http.StatusBadRequest, "reason", 0},
		{"unchanged", proposal(string(consent.DefaultFile()), "x"), http.StatusBadRequest, "", 0},
		{"unknown field", `{"yaml":"x","reason":"x","colour":"red"}`, http.StatusBadRequest, "body", 0},
	} {
		resp := e.call(t, "admin", false, "POST", "/v1/consent-policy/changes", tc.body)
		var p web.Problem
		readJSON(t, resp, &p)
		if resp.StatusCode != tc.status || p.Type != web.TypeValidation || p.Field != tc.field || p.Line != tc.line {
			t.Errorf("%s: POST = %d %+v; want %d, field %q, line %d", tc.name, resp.StatusCode, p, tc.status, tc.field, tc.line)
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused proposals changed the store:\n%s", diff)
	}

	propose := func(who string) web.ChangeJSON {
		t.Helper()
		resp := e.call(t, who, false, "POST", "/v1/consent-policy/changes", proposal(editedConsentPolicy(), "reviewed by Legal"))
		var c web.ChangeJSON
		readJSON(t, resp, &c)
		if resp.StatusCode != http.StatusCreated || c.Kind != "consent_policy" || c.State != "pending" {
			t.Fatalf("proposing as %s = %d %+v", who, resp.StatusCode, c)
		}
		return c
	}
	c1 := propose("proposer")
	stale := propose("proposer")
	if got := oversightActions(t, e)[0]; got.Action != "consent_policy_change_proposed" || got.Actor != "adm1" || got.Details["change"] != stale.ID ||
		got.Details["policy_sha256"] == nil {
		t.Errorf("newest oversight entry = %+v, want adm1's consent_policy_change_proposed with the file's hash", got)
	}

	// The proposer cannot approve; a second administrator can.
	resp = e.call(t, "proposer", false, "POST", "/v1/changes/"+c1.ID+"/approval", "")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the proposer approving = %d, want 403", resp.StatusCode)
	}
	var d web.DecisionJSON
	resp = e.call(t, "admin", false, "POST", "/v1/changes/"+c1.ID+"/approval", "")
	readJSON(t, resp, &d)
	if resp.StatusCode != http.StatusOK || d.ConsentPolicyVersion != 1 || d.Change.State != "approved" {
		t.Fatalf("approving as adm2 = %d %+v", resp.StatusCode, d)
	}
	if got := oversightActions(t, e)[0]; got.Action != "consent_policy_change_approved" || got.Details["consent_policy_version"] != float64(1) {
		t.Errorf("newest oversight entry = %+v, want consent_policy_change_approved of version 1", got)
	}
	readJSON(t, e.call(t, "staff", false, "GET", "/v1/consent-policy", ""), &cur)
	if cur.Version != 1 || cur.YAML != editedConsentPolicy() {
		t.Errorf("policy in force after approval = version %d; want 1, the edited file", cur.Version)
	}
	readJSON(t, e.call(t, "admin", false, "GET", "/v1/consent-policy/versions", ""), &versions)
	if versions.Current != 1 || len(versions.Versions) != 1 || versions.Versions[0].Change != c1.ID || versions.Versions[0].By != "adm2" {
		t.Errorf("versions = %+v, want version 1 from %s approved by adm2", versions, c1.ID)
	}

	// The second proposal was made against version 0. (On the page: a
	// one-time code is good for one API request.)
	resp = e.call(t, "admin", true, "POST", "/changes/"+stale.ID+"/approve", "")
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("approving a stale proposal = %d, want 409", resp.StatusCode)
	}
	if vs, _ := e.node.Store.ListConsentPolicyVersions(t.Context()); len(vs) != 1 {
		t.Errorf("%d versions stored after the stale approval, want 1", len(vs))
	}
}

// TestConsentPolicyPages: the history, the edit form with its errors, the
// change as a diff and its place in the change list.
func TestConsentPolicyPages(t *testing.T) {
	e := newPeopleEnv(t)
	resp := e.call(t, "oversight", true, "GET", "/consent-policy", "")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The policy built into lbm is in force") || strings.Contains(body, `href="/consent-policy/edit"`) {
		t.Errorf("GET /consent-policy as oversight = %d; want the built-in policy in force and no edit link", resp.StatusCode)
	}
	resp = e.call(t, "admin", true, "GET", "/", "")
	if body := readBody(t, resp); !strings.Contains(body, `href="/consent-policy"`) {
		t.Error("an administrator's home page does not link to /consent-policy")
	}

	resp = e.call(t, "admin", true, "GET", "/consent-policy/edit", "")
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/consent-policy/edit"`) || !strings.Contains(body, "Changing the policy built into lbm") {
		t.Errorf("GET /consent-policy/edit = %d", resp.StatusCode)
	}

	before := e.snapshot(t)
	form := url.Values{"yaml": {"base:\n  level: 1\n  colour: red\n"}, "reason": {"stricter"}}
	resp = e.call(t, "admin", true, "POST", "/consent-policy/edit", form.Encode())
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `href="#yaml"`) || !strings.Contains(body, "line 3: colour: ") ||
		!strings.Contains(body, "colour: red") {
		t.Errorf("POST /consent-policy/edit with a bad file = %d, want 400 naming line 3 and keeping the text", resp.StatusCode)
	}
	resp = e.call(t, "admin", true, "POST", "/consent-policy/edit", url.Values{"yaml": {editedConsentPolicy()}}.Encode())
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `href="#reason"`) {
		t.Errorf("POST /consent-policy/edit without a reason = %d, want 400 linking #reason", resp.StatusCode)
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused forms changed the store:\n%s", diff)
	}

	form = url.Values{"yaml": {editedConsentPolicy()}, "reason": {"reviewed by Legal"}}
	resp = e.call(t, "proposer", true, "POST", "/consent-policy/edit", form.Encode())
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/changes?proposed=") {
		t.Fatalf("POST /consent-policy/edit = %d %s, want a redirect to /changes", resp.StatusCode, resp.Header.Get("Location"))
	}
	cs, err := e.node.Store.ListChanges(t.Context(), identity.ChangePending)
	if err != nil || len(cs) == 0 || cs[0].Kind != identity.ChangeConsentPolicy {
		t.Fatalf("newest pending change = %+v, %v; want the consent policy change", cs, err)
	}
	id := cs[0].ID

	resp = e.call(t, "admin", true, "GET", "/changes", "")
	if body := readBody(t, resp); !strings.Contains(body, `href="/consent-policy/changes/`+id+`"`) || !strings.Contains(body, "Replace version 0 of the authorisation-level policy") {
		t.Error("/changes does not link to the consent policy change with its summary")
	}
	resp = e.call(t, "admin", true, "GET", "/consent-policy/changes/"+id, "")
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<code># Reviewed by Legal.</code>") || !strings.Contains(body, ">Added<") ||
		!strings.Contains(body, `action="/changes/`+id+`/approve"`) {
		t.Errorf("GET /consent-policy/changes/%s as adm2 = %d; want the added line and the decision buttons", id, resp.StatusCode)
	}
	resp = e.call(t, "proposer", true, "GET", "/consent-policy/changes/"+id, "")
	if body := readBody(t, resp); strings.Contains(body, `/approve"`) {
		t.Error("the proposer is offered the approve button")
	}
	if resp := e.call(t, "admin", true, "GET", "/consent-policy/changes/"+e.catalogueChange, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a catalogue change at /consent-policy/changes = %d, want 404", resp.StatusCode)
	}

	resp = e.call(t, "admin", true, "POST", "/changes/"+id+"/approve", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approving on the page = %d", resp.StatusCode)
	}
	resp = e.call(t, "admin", true, "GET", "/consent-policy", "")
	body = readBody(t, resp)
	for _, want := range []string{"Version 1 is in force.", `href="/consent-policy/edit"`, "# Reviewed by Legal.", "reviewed by Legal", "adm1", "adm2"} {
		if !strings.Contains(body, want) {
			t.Errorf("/consent-policy after approval lacks %q", want)
		}
	}
}

func proposal(yaml, reason string) string {
	b, _ := json.Marshal(web.ConsentPolicyProposalJSON{YAML: yaml, Reason: reason})
	return string(b)
}
