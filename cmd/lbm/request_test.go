package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These tests run `lbm request …` in-process against a fake server that
// records what it was sent and answers with canned JSON: they pin the
// CLI's requests and output, not the server's behaviour (e2e does that).

// testToken is the token the tests send; no output may contain it.
const testToken = "lbm_cli-test-token-never-printed"

// apiCall is what the fake server received.
type apiCall struct {
	Method string
	Path   string // escaped, with the query
	Body   string // JSON, compared as values; "" for none
	OTP    string
}

// cannedAnswer is the fake server's answer.
type cannedAnswer struct {
	status int
	body   string // JSON, or a problem document for 4xx
}

type fakeServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls []apiCall
}

func newFakeServer(t *testing.T, a cannedAnswer) *fakeServer {
	t.Helper()
	fs := &fakeServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization = %q, want the test token", got)
		}
		p := r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			p += "?" + r.URL.RawQuery
		}
		fs.mu.Lock()
		fs.calls = append(fs.calls, apiCall{r.Method, p, string(b), r.Header.Get("LBM-OTP")})
		fs.mu.Unlock()
		ct := "application/json"
		if a.status >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fakeServer) received() []apiCall {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]apiCall(nil), fs.calls...)
}

// runLBM runs lbm with args in-process, as main would.
func runLBM(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot(&out, &errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// A request as the server answers, in each state the tests need.
const (
	draftJSON = `{"id":"r1","reference":"ACAC-2026-0001","requester":"inv1","subjects":["u1"],"investigators":["inv1"],
		"mode":"review","purpose":"UNAUTHORISED_USE","investigation":"misconduct","operation":{"name":"Fox","reference":"OP-1"},
		"state":"draft","advice":[],"decisions":[],"reviews":[],"renewals":[],"directly_involved":false,"history":[]}`
	submittedJSON = `{"id":"r1","reference":"ACAC-2026-0001","state":"submitted","history":[]}`
	activeJSON    = `{"id":"r1","reference":"ACAC-2026-0001","state":"active","expires_at":"2027-02-26T10:00:00Z","history":[]}`
	cancelledJSON = `{"id":"r1","reference":"ACAC-2026-0001","state":"cancelled","expires_at":"2027-02-26T10:00:00Z","ended_at":"2026-12-01T09:00:00Z","history":[]}`
)

const (
	reasons = "The officer's account was used to query records of a named victim twice at night."
	views   = `{"NECESSITY": "Nothing less intrusive would show who ran the queries."}`
)

func TestRequestCommands(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"request.json": `{"subjects": ["u1"], "mode": "review",
  "operation": {"name": "Fox", "reference": "OP-1"}}
`,
		"bad.json":   "{\"subjects\": [\"u1\"],\n  \"mode\": review}\n",
		"array.json": `[{"mode":"review"}]`,
		"null.json":  "null",
		"views.json": views,
		"badviews.json": `{"NECESSITY": "fine",
 "PROPORTIONALITY": 7}`,
		"reasons.txt": reasons + "\n",
		"latin1.txt":  "caf\xe9",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := func(name string) string { return filepath.Join(dir, name) }

	tests := []struct {
		name   string
		args   []string // after "request"
		env    map[string]string
		answer cannedAnswer
		want   *apiCall // nil: nothing may be sent
		stdout string   // exactly, when err is ""
		err    string   // a substring of the error
		hint   string   // a substring of the hint
	}{
		{
			name:   "create",
			args:   []string{"create", file("request.json")},
			answer: cannedAnswer{201, draftJSON},
			want:   &apiCall{"POST", "/v1/requests", `{"subjects":["u1"],"mode":"review","operation":{"name":"Fox","reference":"OP-1"}}`, ""},
			stdout: "created ACAC-2026-0001 (id r1), state draft\n",
		},
		{
			name:   "submit",
			args:   []string{"submit", "r1"},
			answer: cannedAnswer{200, submittedJSON},
			want:   &apiCall{"POST", "/v1/requests/r1/submit", `{}`, ""},
			stdout: "ACAC-2026-0001: submitted\n",
		},
		{
			name:   "advise",
			args:   []string{"advise", "r1", "--view", reasons},
			answer: cannedAnswer{200, submittedJSON},
			want:   &apiCall{"POST", "/v1/requests/r1/advice", `{"view":"` + reasons + `"}`, ""},
			stdout: "ACAC-2026-0001: submitted\n",
		},
		{
			name:   "advise with @FILE",
			args:   []string{"advise", "r1", "--view", "@" + file("reasons.txt")},
			answer: cannedAnswer{200, submittedJSON},
			want:   &apiCall{"POST", "/v1/requests/r1/advice", `{"view":"` + reasons + `"}`, ""},
			stdout: "ACAC-2026-0001: submitted\n",
		},
		{
			name: "decide: authorise",
			args: []string{"decide", "r1", "--authorise", "--reasons", reasons, "--views", file("views.json"),
				"--directly-involved", "--until", "2027-01-01T00:00:00Z", "--otp", "123456"},
			answer: cannedAnswer{200, activeJSON},
			want: &apiCall{"POST", "/v1/requests/r1/decision",
				`{"authorise":true,"reasons":"` + reasons + `","views":` + views + `,"directly_involved":true,"until":"2027-01-01T00:00:00Z"}`, "123456"},
			stdout: "ACAC-2026-0001: active until 2027-02-26T10:00:00Z\n",
		},
		{
			name:   "decide: refuse, code from LBM_OTP",
			args:   []string{"decide", "r1", "--refuse", "--reasons", "@" + file("reasons.txt")},
			env:    map[string]string{"LBM_OTP": "654321"},
			answer: cannedAnswer{200, `{"id":"r1","reference":"ACAC-2026-0001","state":"refused"}`},
			want:   &apiCall{"POST", "/v1/requests/r1/decision", `{"authorise":false,"reasons":"` + reasons + `","directly_involved":false}`, "654321"},
			stdout: "ACAC-2026-0001: refused\n",
		},
		{
			name:   "decide: --otp wins over LBM_OTP",
			args:   []string{"decide", "r1", "--refuse", "--reasons", reasons, "--otp", "111111"},
			env:    map[string]string{"LBM_OTP": "654321"},
			answer: cannedAnswer{200, `{"id":"r1","reference":"ACAC-2026-0001","state":"refused"}`},
			want:   &apiCall{"POST", "/v1/requests/r1/decision", `{"authorise":false,"reasons":"` + reasons + `","directly_involved":false}`, "111111"},
			stdout: "ACAC-2026-0001: refused\n",
		},
		{
			name:   "ratify",
			args:   []string{"ratify", "r1", "--reasons", reasons, "--until", "2026-12-20T12:00:00+01:00", "--otp", "123456"},
			answer: cannedAnswer{200, activeJSON},
			want:   &apiCall{"POST", "/v1/requests/r1/ratification", `{"reasons":"` + reasons + `","until":"2026-12-20T12:00:00+01:00"}`, "123456"},
			stdout: "ACAC-2026-0001: active until 2027-02-26T10:00:00Z\n",
		},
		{
			name:   "review without a code sends no header",
			args:   []string{"review", "r1", "--notes", reasons, "--next", "2026-12-04T10:00:00Z"},
			answer: cannedAnswer{200, activeJSON},
			want:   &apiCall{"POST", "/v1/requests/r1/reviews", `{"notes":"` + reasons + `","next":"2026-12-04T10:00:00Z"}`, ""},
			stdout: "ACAC-2026-0001: active until 2027-02-26T10:00:00Z\n",
		},
		{
			name:   "renew",
			args:   []string{"renew", "r1", "--reasons", reasons, "--directly-involved", "--otp", "123456"},
			answer: cannedAnswer{200, activeJSON},
			want:   &apiCall{"POST", "/v1/requests/r1/renewal", `{"reasons":"` + reasons + `","directly_involved":true}`, "123456"},
			stdout: "ACAC-2026-0001: active until 2027-02-26T10:00:00Z\n",
		},
		{
			name:   "cancel prints no expiry once ended",
			args:   []string{"cancel", "r1", "--reasons", reasons},
			answer: cannedAnswer{200, cancelledJSON},
			want:   &apiCall{"POST", "/v1/requests/r1/cancellation", `{"reasons":"` + reasons + `"}`, ""},
			stdout: "ACAC-2026-0001: cancelled\n",
		},
		{
			name:   "cancel ignores LBM_OTP",
			args:   []string{"cancel", "r1", "--reasons", reasons},
			env:    map[string]string{"LBM_OTP": "654321"},
			answer: cannedAnswer{200, cancelledJSON},
			want:   &apiCall{"POST", "/v1/requests/r1/cancellation", `{"reasons":"` + reasons + `"}`, ""},
			stdout: "ACAC-2026-0001: cancelled\n",
		},
		{
			name:   "withdraw",
			args:   []string{"withdraw", "r1", "--reasons", reasons},
			answer: cannedAnswer{200, `{"id":"r1","reference":"ACAC-2026-0001","state":"withdrawn"}`},
			want:   &apiCall{"POST", "/v1/requests/r1/withdrawal", `{"reasons":"` + reasons + `"}`, ""},
			stdout: "ACAC-2026-0001: withdrawn\n",
		},
		{
			name:   "close",
			args:   []string{"close", "r1", "--outcome", "The queries were the officer's; misconduct proceedings follow.", "--kept", "@" + file("reasons.txt"), "--useful"},
			answer: cannedAnswer{200, `{"id":"r1","reference":"ACAC-2026-0001","state":"closed"}`},
			want: &apiCall{"POST", "/v1/requests/r1/closure",
				`{"outcome":"The queries were the officer's; misconduct proceedings follow.","useful":true,"kept":"` + reasons + `"}`, ""},
			stdout: "ACAC-2026-0001: closed\n",
		},
		{
			name:   "an id is escaped",
			args:   []string{"submit", "a/b c"},
			answer: cannedAnswer{200, submittedJSON},
			want:   &apiCall{"POST", "/v1/requests/a%2Fb%20c/submit", `{}`, ""},
			stdout: "ACAC-2026-0001: submitted\n",
		},
		{
			name:   "list",
			args:   []string{"list", "--view", "decide", "--state", "submitted"},
			answer: cannedAnswer{200, `{"requests":[{"id":"r2","reference":"ACAC-2026-0002","state":"submitted","requester":"inv1","operation":{"name":"Fox","reference":"OP-1"},"mode":"monitor","level":3,"min_rank":"superintendent","urgent":true,"created":"2026-11-27T09:00:00Z","updated":"2026-11-27T10:00:00Z"},{"id":"r1","reference":"ACAC-2026-0001","state":"active","requester":"inv2","operation":{"name":"Badger","reference":""},"mode":"review","level":2,"min_rank":"inspector","urgent":false,"created":"2026-11-20T09:00:00Z","updated":"2026-11-21T10:00:00Z","expires_at":"2027-02-26T10:00:00Z"}]}`},
			want:   &apiCall{"GET", "/v1/requests?state=submitted&view=decide", "", ""},
			stdout: "" +
				"ID  REFERENCE       STATE      MODE     LEVEL  MIN RANK        URGENT  OPERATION   REQUESTER  UPDATED               EXPIRES\n" +
				"r2  ACAC-2026-0002  submitted  monitor  3      superintendent  yes     Fox (OP-1)  inv1       2026-11-27T10:00:00Z  -\n" +
				"r1  ACAC-2026-0001  active     review   2      inspector       -       Badger      inv2       2026-11-21T10:00:00Z  2027-02-26T10:00:00Z\n",
		},
		{
			name:   "list with nothing",
			args:   []string{"list"},
			answer: cannedAnswer{200, `{"requests":[]}`},
			want:   &apiCall{"GET", "/v1/requests", "", ""},
			stdout: "no requests\n",
		},
		{
			name:   "list --json",
			args:   []string{"list", "--json"},
			answer: cannedAnswer{200, `{"requests":[]}`},
			want:   &apiCall{"GET", "/v1/requests", "", ""},
			stdout: "{\n  \"requests\": []\n}\n",
		},
		{
			name:   "submit --json",
			args:   []string{"submit", "r1", "--json"},
			answer: cannedAnswer{200, `{"id":"r1","reference":"ACAC-2026-0001","state":"submitted"}`},
			want:   &apiCall{"POST", "/v1/requests/r1/submit", `{}`, ""},
			stdout: "{\n  \"id\": \"r1\",\n  \"reference\": \"ACAC-2026-0001\",\n  \"state\": \"submitted\"\n}\n",
		},

		{
			name:   "an answer wrapped as show's",
			args:   []string{"submit", "r1"},
			answer: cannedAnswer{200, `{"request":` + submittedJSON + `}`},
			want:   &apiCall{"POST", "/v1/requests/r1/submit", `{}`, ""},
			stdout: "ACAC-2026-0001: submitted\n",
		},
		{
			name:   "an answer that is no request",
			args:   []string{"submit", "r1"},
			answer: cannedAnswer{200, `{"ok":true}`},
			want:   &apiCall{"POST", "/v1/requests/r1/submit", `{}`, ""},
			err:    "the server's answer holds no request reference and state",
			hint:   "--json",
		},

		// Bad local input: nothing is sent.
		{name: "missing ID", args: []string{"submit"}, err: "missing the request ID", hint: "lbm request list"},
		{name: "two IDs", args: []string{"cancel", "r1", "r2", "--reasons", reasons}, err: "want one request ID, got 2 arguments"},
		{name: "empty ID", args: []string{"show", " "}, err: "empty request ID"},
		{name: "create without a file", args: []string{"create"}, err: "missing the request file"},
		{name: "create from a missing file", args: []string{"create", file("nope.json")}, err: "nope.json: no such file"},
		{name: "create from bad JSON", args: []string{"create", file("bad.json")}, err: "bad.json: line 2, column 11: not JSON: invalid character 'r'"},
		{name: "create from an array", args: []string{"create", file("array.json")}, err: "array.json: want a JSON object, found array"},
		{name: "create from null", args: []string{"create", file("null.json")}, err: "null.json: want a JSON object, found null"},
		{name: "both --authorise and --refuse", args: []string{"decide", "r1", "--authorise", "--refuse", "--reasons", reasons, "--views", file("views.json")}, err: "--authorise and --refuse: give one"},
		{name: "neither --authorise nor --refuse", args: []string{"decide", "r1", "--reasons", reasons}, err: "give --authorise or --refuse"},
		{name: "authorise without views", args: []string{"decide", "r1", "--authorise", "--reasons", reasons}, err: "--authorise needs --views FILE.json", hint: "your view on each criterion"},
		{name: "views not text", args: []string{"decide", "r1", "--authorise", "--reasons", reasons, "--views", file("badviews.json")}, err: "badviews.json: line 2, column 21: want a string, found number"},
		{name: "a bad --until", args: []string{"decide", "r1", "--refuse", "--reasons", reasons, "--until", "tomorrow"}, err: `invalid argument "tomorrow" for "--until" flag: not an RFC 3339 time`},
		{name: "a bad --next", args: []string{"review", "r1", "--notes", reasons, "--next", "2026-12-04"}, err: `for "--next" flag: not an RFC 3339 time`},
		{name: "an unreadable @FILE", args: []string{"cancel", "r1", "--reasons", "@" + file("missing.txt")}, err: "--reasons: open " + file("missing.txt")},
		{name: "an @FILE not UTF-8", args: []string{"withdraw", "r1", "--reasons", "@" + file("latin1.txt")}, err: "--reasons: " + file("latin1.txt") + " is not UTF-8 text"},
		{name: "a missing text flag", args: []string{"close", "r1", "--outcome", reasons}, err: `required flag(s) "kept" not set`},
		{name: "an empty text flag", args: []string{"advise", "r1", "--view", " "}, err: "--view is empty"},
		{name: "a bad --otp", args: []string{"renew", "r1", "--reasons", reasons, "--otp", "12345"}, err: "--otp: want the 6-digit code"},
		{name: "a bad LBM_OTP", args: []string{"ratify", "r1", "--reasons", reasons}, env: map[string]string{"LBM_OTP": "12 456"}, err: "LBM_OTP: want the 6-digit code"},
		{name: "a bad --view", args: []string{"list", "--view", "everything"}, err: "--view everything: want mine, decide, advise or all"},
		{name: "no token", args: []string{"submit", "r1"}, env: map[string]string{"LBM_TOKEN": ""}, err: "no API token", hint: "LBM_TOKEN"},

		// The server refuses.
		{
			name: "rank too low",
			args: []string{"decide", "r1", "--authorise", "--reasons", reasons, "--views", file("views.json"), "--otp", "123456"},
			answer: cannedAnswer{403, `{"type":"urn:lbm:problem:rank-too-low","title":"Rank too low","status":403,
				"detail":"this request needs a decision at rank superintendent or above","field":"by"}`},
			want: &apiCall{"POST", "/v1/requests/r1/decision",
				`{"authorise":true,"reasons":"` + reasons + `","views":` + views + `,"directly_involved":false}`, "123456"},
			err: "rank-too-low: this request needs a decision at rank superintendent or above (field by)",
		},
		{
			name: "submit refused field by field",
			args: []string{"submit", "r1"},
			answer: cannedAnswer{400, `{"type":"urn:lbm:problem:validation","title":"Invalid request","status":400,"detail":"the request is not ready to submit","field":"necessity",
				"errors":[{"field":"necessity","message":"at least 40 characters and 8 words"},{"field":"criteria.NOTICE","message":"missing"}]}`},
			want: &apiCall{"POST", "/v1/requests/r1/submit", `{}`, ""},
			err:  "validation: the request is not ready to submit (field necessity); necessity: at least 40 characters and 8 words; criteria.NOTICE: missing",
		},
		{
			name:   "unknown token",
			args:   []string{"show", "r1"},
			answer: cannedAnswer{401, `{"type":"urn:lbm:problem:unauthenticated","title":"Unauthenticated","status":401,"detail":"a valid bearer token or session is required"}`},
			want:   &apiCall{"GET", "/v1/requests/r1", "", ""},
			err:    "unauthenticated: a valid bearer token or session is required",
			hint:   "check LBM_TOKEN",
		},
		{
			name:   "step-up required",
			args:   []string{"review", "r1", "--notes", reasons},
			answer: cannedAnswer{403, `{"type":"urn:lbm:problem:step-up-required","title":"Second factor required","status":403,"detail":"this action needs a current one-time code"}`},
			want:   &apiCall{"POST", "/v1/requests/r1/reviews", `{"notes":"` + reasons + `"}`, ""},
			err:    "step-up-required: this action needs a current one-time code",
			hint:   "--otp CODE or LBM_OTP",
		},
		{
			name:   "invalid transition",
			args:   []string{"withdraw", "r1", "--reasons", reasons},
			answer: cannedAnswer{409, `{"type":"urn:lbm:problem:invalid-transition","title":"Invalid transition","status":409,"detail":"withdrawal not allowed in state active"}`},
			want:   &apiCall{"POST", "/v1/requests/r1/withdrawal", `{"reasons":"` + reasons + `"}`, ""},
			err:    "invalid-transition: withdrawal not allowed in state active",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LBM_TOKEN", testToken)
			t.Setenv("LBM_OTP", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			srv := newFakeServer(t, tt.answer)
			stdout, stderr, err := runLBM(t, append([]string{"request", "--server", srv.URL}, tt.args...)...)

			got := srv.received()
			switch {
			case tt.want == nil && len(got) != 0:
				t.Errorf("lbm request %s sent %+v, want nothing sent", strings.Join(tt.args, " "), got)
			case tt.want != nil && len(got) != 1:
				t.Errorf("lbm request %s sent %d requests, want 1", strings.Join(tt.args, " "), len(got))
			case tt.want != nil:
				checkCall(t, got[0], *tt.want)
			}

			if tt.err == "" {
				if err != nil {
					t.Fatalf("lbm request %s: %v", strings.Join(tt.args, " "), err)
				}
				if stdout != tt.stdout {
					t.Errorf("lbm request %s printed\n%s\nwant\n%s", strings.Join(tt.args, " "), stdout, tt.stdout)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("lbm request %s = %v, want an error containing %q", strings.Join(tt.args, " "), err, tt.err)
				}
				var he *hintError
				switch {
				case tt.hint != "" && (!errors.As(err, &he) || !strings.Contains(he.hint, tt.hint)):
					t.Errorf("lbm request %s: error %q, want a hint containing %q", strings.Join(tt.args, " "), err, tt.hint)
				case tt.hint == "" && errors.As(err, &he):
					t.Errorf("lbm request %s: unexpected hint %q", strings.Join(tt.args, " "), he.hint)
				}
				if stdout != "" {
					t.Errorf("lbm request %s printed %q on failing, want nothing", strings.Join(tt.args, " "), stdout)
				}
			}
			all := stdout + stderr
			if err != nil {
				all += err.Error()
			}
			if strings.Contains(all, testToken) {
				t.Errorf("lbm request %s printed the token", strings.Join(tt.args, " "))
			}
		})
	}
}

// checkCall compares a received call with want, the bodies as JSON values.
func checkCall(t *testing.T, got, want apiCall) {
	t.Helper()
	if got.Method != want.Method || got.Path != want.Path {
		t.Errorf("sent %s %s, want %s %s", got.Method, got.Path, want.Method, want.Path)
	}
	if got.OTP != want.OTP {
		t.Errorf("LBM-OTP = %q, want %q", got.OTP, want.OTP)
	}
	if (got.Body == "") != (want.Body == "") {
		t.Fatalf("body = %q, want %q", got.Body, want.Body)
	}
	if want.Body == "" {
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(got.Body), &g); err != nil {
		t.Fatalf("body %q: %v", got.Body, err)
	}
	if err := json.Unmarshal([]byte(want.Body), &w); err != nil {
		t.Fatalf("want body %q: %v", want.Body, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

// A request in force, with what show prints of it.
const shownJSON = `{"request":{"id":"r1","reference":"ACAC-2026-0001","requester":"inv1",
  "subjects":["u1","u2"],"investigators":["inv1","inv3"],"mode":"monitor","purpose":"PREVENT_DETECT_CRIME",
  "investigation":"criminal","operation":{"name":"Fox","reference":"OP-1"},"state":"active",
  "requirement":{"level":3,"min_rank":"superintendent","advisers":["legal"],"max_duration_hours":2160,"review_interval_hours":168,"ripa_required":true,"urgent":{"min_rank":"inspector","max_duration_hours":72}},
  "authorised_by":"auth1","authoriser_rank":"inspector","directly_involved":false,
  "authorised_at":"2026-11-27T10:00:00Z","expires_at":"2026-11-30T10:00:00Z","ratify_by":"2026-11-30T10:00:00Z","review_due":"2026-12-04T10:00:00Z",
  "history":[
    {"from":"draft","to":"submitted","action":"submit","actor":"inv1","at":"2026-11-27T09:00:00Z","oversight_index":12},
    {"from":"submitted","to":"active","action":"decision","actor":"auth1","at":"2026-11-27T10:00:00Z","reasons":"urgent","oversight_index":15},
    {"from":"active","to":"active","action":"note\u001b[2J","actor":"x","at":"2026-11-27T11:00:00Z"}]},
 "problems":[],"derivation":{"requirement":{},"steps":[],"text":""}}`

const shownText = `reference      ACAC-2026-0001
id             r1
state          active
operation      Fox (OP-1)
mode           monitor
purpose        PREVENT_DETECT_CRIME
investigation  criminal
requester      inv1
subjects       u1, u2
investigators  inv1, inv3

requirement
  level            3
  minimum rank     superintendent
  advisers         legal
  max duration     2160 hours (90 days)
  review interval  168 hours (7 days)
  RIPA             reference required
  urgent route     inspector or above, for at most 72 hours (3 days), unless ratified

authorisation
  by          auth1 (inspector)
  at          2026-11-27T10:00:00Z
  expires     2026-11-30T10:00:00Z
  review due  2026-12-04T10:00:00Z
  ratify by   2026-11-30T10:00:00Z

history
  AT                    ACTION       ACTOR  FROM → TO           OVERSIGHT INDEX
  2026-11-27T09:00:00Z  submit       inv1   draft → submitted   12
  2026-11-27T10:00:00Z  decision     auth1  submitted → active  15
  2026-11-27T11:00:00Z  note\x1b[2J  x      active → active     -
`

const draftShownJSON = `{"request":` + draftJSON + `,"problems":[{"field":"necessity","message":"at least 40 characters and 8 words"},{"field":"criteria","message":"answer all seven criteria"}],"derivation":{}}`

const draftShownText = `reference      ACAC-2026-0001
id             r1
state          draft
operation      Fox (OP-1)
mode           review
purpose        UNAUTHORISED_USE
investigation  misconduct
requester      inv1
subjects       u1
investigators  inv1

problems (what submitting would refuse)
  necessity  at least 40 characters and 8 words
  criteria   answer all seven criteria

history
  none
`

func TestRequestShow(t *testing.T) {
	tests := []struct {
		name, answer, want string
		json               bool
	}{
		{"in force", shownJSON, shownText, false},
		{"draft", draftShownJSON, draftShownText, false},
		{"json", `{"request":{"id":"r1"},"problems":[]}`, "{\n  \"request\": {\n    \"id\": \"r1\"\n  },\n  \"problems\": []\n}\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LBM_TOKEN", testToken)
			srv := newFakeServer(t, cannedAnswer{200, tt.answer})
			args := []string{"request", "show", "r1", "--server", srv.URL}
			if tt.json {
				args = append(args, "--json")
			}
			stdout, _, err := runLBM(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, stdout); diff != "" {
				t.Errorf("lbm request show printed (-want +got):\n%s", diff)
			}
			if got := srv.received(); len(got) != 1 || got[0].Method != "GET" || got[0].Path != "/v1/requests/r1" || got[0].Body != "" {
				t.Errorf("sent %+v, want one GET /v1/requests/r1", got)
			}
		})
	}
}

// TestRequestEnv checks the server, token and code come from the
// environment, and that --help never shows the token.
func TestRequestEnv(t *testing.T) {
	srv := newFakeServer(t, cannedAnswer{200, activeJSON})
	t.Setenv("LBM_SERVER", srv.URL)
	t.Setenv("LBM_TOKEN", testToken)
	t.Setenv("LBM_OTP", "246810")
	stdout, _, err := runLBM(t, "request", "renew", "r1", "--reasons", reasons)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "ACAC-2026-0001: active until 2027-02-26T10:00:00Z\n" {
		t.Errorf("printed %q", stdout)
	}
	if got := srv.received(); len(got) != 1 || got[0].OTP != "246810" {
		t.Errorf("sent %+v, want one call with LBM_OTP's code", got)
	}

	for _, args := range [][]string{{"request", "--help"}, {"request", "decide", "--help"}} {
		stdout, stderr, err := runLBM(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stdout+stderr, testToken) || strings.Contains(stdout+stderr, "246810") {
			t.Errorf("lbm %s shows a secret:\n%s", strings.Join(args, " "), stdout)
		}
	}
}

// TestRequestUnreachable checks a server that does not answer gets a
// hint about the address, and the token is not printed.
func TestRequestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	t.Setenv("LBM_TOKEN", testToken)
	_, _, err := runLBM(t, "request", "list", "--server", addr)
	var he *hintError
	if err == nil || !errors.As(err, &he) || !strings.Contains(he.hint, "LBM_SERVER") {
		t.Fatalf("lbm request list = %v, want an error with a hint about the address", err)
	}
	if !strings.HasPrefix(err.Error(), "GET "+addr+"/v1/requests: ") || strings.Contains(err.Error(), testToken) {
		t.Errorf("error = %q, want it to name the call and not the token", err)
	}
}
