package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/detect/pack"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/web"
)

// editedRules is the built-in pack with a comment added: it parses, and
// differs from the rules in force.
func editedRules() string {
	return string(pack.YAML) + "# Reviewed by Professional Standards.\n"
}

// badRules does not parse: its rule has a key rules do not have, on line 3.
const badRules = "rules:\n  - id: bulk\n    colour: red\n"

// proposeRules proposes editedRules as adm1 and returns the change's ID.
func proposeRules(t *testing.T, e *peopleEnv) string {
	t.Helper()
	adm1 := identity.Principal{Kind: identity.KindUser, Subject: "adm1", Role: identity.RoleAdmin}
	c, err := identity.ProposeRulesChange(t.Context(), e.node.Store, adm1, []byte(editedRules()), "reviewed by Professional Standards", e.node.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestRulesAPIRefusesBadFile: a rule file that does not parse is bad
// input, naming the line, not a server error.
func TestRulesAPIRefusesBadFile(t *testing.T) {
	e := newPeopleEnv(t)
	before := e.snapshot(t)
	resp := e.call(t, "admin", false, "POST", "/v1/rules/changes", proposal(badRules, "stricter"))
	var p web.Problem
	readJSON(t, resp, &p)
	if resp.StatusCode != http.StatusBadRequest || p.Type != web.TypeValidation || p.Field != "yaml" || p.Line != 3 {
		t.Errorf("POST /v1/rules/changes with a bad file = %d %+v; want 400, field yaml, line 3", resp.StatusCode, p)
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("the refused proposal changed the store:\n%s", diff)
	}
}

// TestRulesPages: the rules in force and their history, the edit form
// with its errors, the change as a diff and its place in the change list,
// and the approved version in force.
func TestRulesPages(t *testing.T) {
	e := newPeopleEnv(t)
	resp := e.call(t, "oversight", true, "GET", "/rules", "")
	body := readBody(t, resp)
	for _, want := range []string{"The rules built into lbm are in force", "<code>self-lookup</code>", "<code>OWN_SURNAME_ADDRESS</code>",
		"The rules built into lbm</td>", "<pre><code># lbm&#39;s built-in detection pack"} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /rules as oversight lacks %q", want)
		}
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `href="/rules/edit"`) {
		t.Errorf("GET /rules as oversight = %d; want 200 and no edit link", resp.StatusCode)
	}
	for _, who := range []string{"admin", "oversight"} {
		resp = e.call(t, who, true, "GET", "/", "")
		if body := readBody(t, resp); !strings.Contains(body, `href="/rules"`) {
			t.Errorf("the home page of %s does not link to /rules", who)
		}
	}

	resp = e.call(t, "admin", true, "GET", "/rules/edit", "")
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/rules/edit"`) || !strings.Contains(body, "Changing the rules built into lbm") {
		t.Errorf("GET /rules/edit = %d", resp.StatusCode)
	}

	before := e.snapshot(t)
	for _, tc := range []struct {
		name string
		form url.Values
		want []string
	}{
		{"bad file", url.Values{"yaml": {badRules}, "reason": {"stricter"}}, []string{`href="#yaml"`, "line 3: rule bulk: colour: ", "colour: red"}},
		{"no reason", url.Values{"yaml": {editedRules()}}, []string{`href="#reason"`}},
		{"unchanged", url.Values{"yaml": {string(pack.YAML)}, "reason": {"stricter"}}, []string{`href="#yaml"`, "The file is the same as the rules in force"}},
	} {
		resp := e.call(t, "admin", true, "POST", "/rules/edit", tc.form.Encode())
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: POST /rules/edit = %d, want 400", tc.name, resp.StatusCode)
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("%s: POST /rules/edit lacks %q", tc.name, want)
			}
		}
	}
	if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
		t.Errorf("refused forms changed the store:\n%s", diff)
	}

	form := url.Values{"yaml": {editedRules()}, "reason": {"reviewed by Professional Standards"}}
	resp = e.call(t, "proposer", true, "POST", "/rules/edit", form.Encode())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/changes?proposed=rules" {
		t.Fatalf("POST /rules/edit = %d %s, want a redirect to /changes?proposed=rules", resp.StatusCode, resp.Header.Get("Location"))
	}
	cs, err := e.node.Store.ListChanges(t.Context(), identity.ChangePending)
	if err != nil || len(cs) == 0 || cs[0].Kind != identity.ChangeRules {
		t.Fatalf("newest pending change = %+v, %v; want the rules change", cs, err)
	}
	id := cs[0].ID
	if got := oversightActions(t, e)[0]; got.Action != "rules_change_proposed" || got.Actor != "adm1" || got.Details["change"] != id {
		t.Errorf("newest oversight entry = %+v, want adm1's rules_change_proposed", got)
	}

	resp = e.call(t, "admin", true, "GET", "/changes?proposed=rules", "")
	body = readBody(t, resp)
	if !strings.Contains(body, `href="/rules/changes/`+id+`"`) || !strings.Contains(body, "Replace version 0 of the detection rules") {
		t.Error("/changes does not link to the rules change with its summary")
	}
	resp = e.call(t, "admin", true, "GET", "/rules/changes/"+id, "")
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<code># Reviewed by Professional Standards.</code>") || !strings.Contains(body, ">Added<") ||
		!strings.Contains(body, "Change to the detection rules") || !strings.Contains(body, `action="/changes/`+id+`/approve"`) {
		t.Errorf("GET /rules/changes/%s as adm2 = %d; want the added line and the decision buttons", id, resp.StatusCode)
	}
	resp = e.call(t, "proposer", true, "GET", "/rules/changes/"+id, "")
	if body := readBody(t, resp); strings.Contains(body, `/approve"`) {
		t.Error("the proposer is offered the approve button")
	}
	if resp := e.call(t, "admin", true, "GET", "/rules/changes/"+e.catalogueChange, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a catalogue change at /rules/changes = %d, want 404", resp.StatusCode)
	}

	resp = e.call(t, "admin", true, "POST", "/changes/"+id+"/approve", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approving on the page = %d", resp.StatusCode)
	}
	resp = e.call(t, "admin", true, "GET", "/rules", "")
	body = readBody(t, resp)
	for _, want := range []string{"Version 1 is in force.", `1 <strong class="govuk-tag govuk-tag--green">In force</strong>`, `href="/rules/edit"`,
		"# Reviewed by Professional Standards.", "reviewed by Professional Standards", "adm1", "adm2", "<code>" + id + "</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("/rules after approval lacks %q", want)
		}
	}
	f, v, err := identity.CurrentRulesFile(t.Context(), e.node.Store)
	if err != nil || v != 1 || string(f) != editedRules() {
		t.Errorf("CurrentRulesFile after approval = version %d, %v; want version 1, the edited file", v, err)
	}
}
