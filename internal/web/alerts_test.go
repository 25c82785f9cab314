package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAlertRequestNeverNamesTheSubject: a request drafted from an alert
// names its subject to the investigator only by the alert's pseudonym,
// in the API and on every page of the draft; oversight, who must judge
// it, sees the person.
func TestAlertRequestNeverNamesTheSubject(t *testing.T) {
	e := newPeopleEnv(t)
	resp := e.call(t, "investigator", false, "POST", "/v1/alerts/"+e.alert+"/request", "")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("drafting from the alert = %d %s", resp.StatusCode, body)
	}
	var out struct {
		Request struct {
			ID       string   `json:"id"`
			Subjects []string `json:"subjects"`
		} `json:"request"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Request.Subjects) != 1 || out.Request.Subjects[0] != "subject-outsider" {
		t.Errorf("subjects = %v, want the pseudonym", out.Request.Subjects)
	}
	id := out.Request.ID
	for _, c := range []struct {
		page bool
		path string
	}{
		{false, "/v1/requests/" + id},
		{true, "/requests/" + id},
		{true, "/requests/" + id + "/check"},
		{true, "/requests/" + id + "/edit/subjects"},
		{true, "/requests/" + id + "/edit/criteria-NOTICE"},
	} {
		resp := e.call(t, "investigator", c.page, "GET", c.path, "")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || strings.Contains(strings.ReplaceAll(body, "subject-outsider", ""), "outsider") {
			t.Errorf("GET %s as the investigator = %d, and names the subject: %s", c.path, resp.StatusCode, body)
		}
	}
	// What the investigator writes cannot change the subject.
	resp = e.call(t, "investigator", true, "POST", "/requests/"+id+"/edit/subjects", "subjects=staff1")
	readBody(t, resp)
	resp = e.call(t, "oversight", false, "GET", "/v1/requests/"+id, "")
	if body := readBody(t, resp); !strings.Contains(body, `"subjects":["outsider"]`) {
		t.Errorf("oversight's view of the request: %s", body)
	}
	// The alert is referred, and a second request is refused.
	resp = e.call(t, "investigator", false, "POST", "/v1/alerts/"+e.alert+"/request", "")
	if body := readBody(t, resp); resp.StatusCode != http.StatusConflict {
		t.Errorf("a second draft = %d %s", resp.StatusCode, body)
	}
	resp = e.call(t, "investigator", false, "GET", "/v1/alerts/"+e.alert, "")
	if body := readBody(t, resp); !strings.Contains(body, `"state":"referred"`) || !strings.Contains(body, `"request":"`+id+`"`) {
		t.Errorf("the alert after the draft: %s", body)
	}
}
