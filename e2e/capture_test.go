package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/lbm-project/lbm/internal/identity"
)

var syslogLine = regexp.MustCompile(`(?m)^syslog: (tcp|udp) on (127\.0\.0\.1:[0-9]+)$`)

// TestCaptureFromRealClients sends sam's activity to the real binary the
// way a force's systems would: util-linux logger over syslog TCP and UDP,
// an e-mail file through lbm ingest, go-elasticsearch's BulkIndexer to
// /es/_bulk and OpenTelemetry's OTLP/HTTP exporter to /v1/logs. It then
// reads it back as an investigator would, under an authorisation: each
// event carries the fields its mapping gives it, sam is resolved from the
// name each system uses for him, and content is content.
func TestCaptureFromRealClients(t *testing.T) {
	logger, err := exec.LookPath("logger")
	if err != nil {
		t.Skip("no logger (util-linux) here")
	}
	st := engines[0].newStore(t)
	dir := t.TempDir()
	people := filepath.Join(dir, "people.csv")
	os.WriteFile(people, []byte("id,name,number,email,username,rank,roles\n"+
		"sam,Sam Jones,4711,sam.jones@force.example,sjones,constable,staff\n"+
		"bob,Bob Smith,4712,bob.smith@force.example,bsmith,constable,staff\n"), 0o600)
	lbmOK(t, nil, append([]string{"user", "import", people, "--quiet"}, st.flags()...)...)
	ivy := strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", "ivy", "--role", "investigator", "--rank", "sergeant", "--token"}, st.flags()...)...).stdout)
	sue := strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", "sue", "--role", "authoriser", "--rank", "superintendent", "--token"}, st.flags()...)...).stdout)
	secret := enrolSecondFactor(t, st, "sue")
	addSource(t, st, "linux")
	mail := addSource(t, st, "exchange")
	beats := addSource(t, st, "winlogbeat")
	otel := addSource(t, st, "crime-records")

	srv := startServer(t, st, "--syslog-tcp", "127.0.0.1:0", "--syslog-udp", "127.0.0.1:0", "--syslog-source", "linux")
	addrs := map[string]string{}
	deadline := time.Now().Add(30 * time.Second)
	for len(addrs) < 2 && time.Now().Before(deadline) {
		for _, m := range syslogLine.FindAllStringSubmatch(srv.stdout.String(), -1) {
			addrs[m[1]] = m[2]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(addrs) < 2 {
		t.Fatalf("no syslog addresses printed:\n%s", srv.stdout.String())
	}

	// syslog: an sshd login over TCP (octet-counted), a sudo over UDP.
	for _, args := range [][]string{
		{"--rfc5424", "--tcp", "--octet-count", "--server", host(addrs["tcp"]), "--port", port(addrs["tcp"]), "-t", "sshd", "-p", "authpriv.info",
			"Accepted publickey for sjones from 10.1.2.3 port 50122 ssh2"},
		{"--rfc5424", "--udp", "--server", host(addrs["udp"]), "--port", port(addrs["udp"]), "-t", "sudo", "-p", "authpriv.notice",
			"--sd-id", "meta@32473", "--sd-param", `user="sjones"`, "sjones : TTY=pts/0 ; PWD=/home/sjones ; USER=root ; COMMAND=/usr/bin/id"},
	} {
		if out, err := exec.Command(logger, args...).CombinedOutput(); err != nil {
			t.Fatalf("logger %v: %v\n%s", args, err, out)
		}
	}

	// e-mail: one message sam sent, imported from a file.
	eml := filepath.Join(dir, "sent.eml")
	os.WriteFile(eml, []byte("From: Sam Jones <Sam.Jones@force.example>\r\nTo: someone@outside.example\r\nCc: bob.smith@force.example\r\n"+
		"Subject: =?UTF-8?Q?Witness_addr=C3=A9ss?=\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@force.example>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nShe lives at 12 Harbour Road.\r\n"), 0o600)
	for range 2 {
		out := lbmOK(t, []string{"LBM_TOKEN=" + mail}, "ingest", eml, "--server", srv.URL, "--quiet").stdout
		if !strings.Contains(out, "accepted 1 messages") && !strings.Contains(out, "1 already stored") {
			t.Errorf("lbm ingest of an e-mail printed %q", out)
		}
	}

	// _bulk: a Windows logon from Winlogbeat, through go-elasticsearch.
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL + "/es"}, Username: "winlogbeat", Password: beats})
	if err != nil {
		t.Fatal(err)
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "winlogbeat-8"})
	if err != nil {
		t.Fatal(err)
	}
	var bulkErr error
	bi.Add(context.Background(), esutil.BulkIndexerItem{Action: "create",
		Body: strings.NewReader(`{"@timestamp":"2026-11-27T11:00:00.000Z","event":{"category":["authentication"],"action":"logged-in","code":"4624","outcome":"success"},"user":{"name":"FORCE\\sjones"},"host":{"name":"ws-17"},"message":"An account was successfully logged on."}`),
		OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem, err error) {
			bulkErr = fmt.Errorf("%v %v", r.Error, err)
		}})
	if err := bi.Close(context.Background()); err != nil || bulkErr != nil || bi.Stats().NumFlushed != 1 {
		t.Fatalf("bulk: %v %v %+v", err, bulkErr, bi.Stats())
	}

	// OTLP: the crime records system logs sam viewing a record.
	exp, err := otlploghttp.New(context.Background(), otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"),
		otlploghttp.WithHeaders(map[string]string{"Authorization": "Bearer " + otel}))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	var r otellog.Record
	r.SetTimestamp(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	r.SetBody(attribute.StringValue("viewed nominal record N-88"))
	r.AddAttributes(attribute.String("user.email", "SAM.JONES@force.example"), attribute.String("event.category", "record_query"), attribute.String("event.action", "record-viewed"))
	lp.Logger("crime-records").Emit(context.Background(), r)
	if err := lp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	vkey := verifierKey(t, st.data)
	srv.waitForSize(t, vkey, 5)

	// Read it back under an authorisation to review sam, content included:
	// a review window ends in the past.
	time.Sleep(1100 * time.Millisecond)
	req := strings.NewReplacer("{from}", "2026-01-01T00:00:00Z", "{to}", time.Now().UTC().Format(time.RFC3339)).Replace(urgentRequestJSON)
	req = strings.Replace(req, `"categories": [{"category": "email", "content": true}]`,
		`"categories": [{"category": "email", "content": true}, {"category": "authentication", "content": true}, {"category": "record_query", "content": true}]`, 1)
	req = regexp.MustCompile(`"urgent": \{[^}]*\}`).ReplaceAllString(req, `"urgent": {"urgent": false}`)
	reqFile, viewsFile := filepath.Join(dir, "request.json"), filepath.Join(dir, "views.json")
	os.WriteFile(reqFile, []byte(req), 0o600)
	os.WriteFile(viewsFile, []byte(urgentViewsJSON), 0o600)
	as := func(token string, extra ...string) []string {
		return append([]string{"LBM_SERVER=" + srv.URL, "LBM_TOKEN=" + token}, extra...)
	}
	id := parseRequest(t, lbmOK(t, as(ivy), "request", "create", reqFile, "--json").stdout).ID
	lbmOK(t, as(ivy), "request", "submit", id)
	lbmOK(t, as(sue, "LBM_OTP="+identity.TOTPCode(secret, time.Now())), "request", "decide", id, "--authorise",
		"--reasons", "Authorised: the witness's account makes this look necessary and no gentler way would answer it.", "--views", viewsFile)
	got := lbmOK(t, as(ivy), "request", "query", id, "--content", "--json",
		"--justification", "Checking whether the officer looked up and sent the witness's address to anyone.").stdout
	events := queriedEvents(t, got)
	want := map[string]map[string]any{
		// syslog over TCP: the account in sshd's message, resolved.
		"sshd": {"user.id": "sam", "event.category": "authentication", "content.message": "Accepted publickey for sjones from 10.1.2.3 port 50122 ssh2",
			"log.syslog.facility.name": "authpriv", "network.transport": "tcp", "log.syslog.format": "rfc5424"},
		// syslog over UDP: sudo's account, structured data as metadata.
		"sent": {"user.id": "sam", "event.category": "email", "content.email.subject": "Witness addréss",
			"content.email.body.text": "She lives at 12 Harbour Road.\r\n", "email.message_id": "m1@force.example"},
		"logged-in": {"user.id": "sam", "event.category": "authentication", "host.name": "ws-17", "event.outcome": "success",
			"content.message": "An account was successfully logged on.", "es.index": "winlogbeat-8", "user.name": "FORCE\\sjones"},
		"record-viewed": {"user.id": "sam", "event.category": "record_query", "content.message": "viewed nominal record N-88"},
		"sudo": {"user.id": "sam", "log.syslog.structured_data.meta@32473.user": "sjones", "network.transport": "udp",
			"log.syslog.severity.name": "notice", "content.message": "sjones : TTY=pts/0 ; PWD=/home/sjones ; USER=root ; COMMAND=/usr/bin/id"},
	}
	for action, fields := range want {
		ev, ok := events[action]
		if !ok {
			t.Errorf("no %s event among sam's:\n%s", action, got)
			continue
		}
		for k, v := range fields {
			if ev[k] != v {
				t.Errorf("%s event: %s = %v, want %v", action, k, ev[k], v)
			}
		}
	}
	if len(events) != len(want) {
		t.Errorf("%d events of sam, want %d:\n%s", len(events), len(want), got)
	}
	srv.stop()
}

func host(addr string) string { h, _, _ := strings.Cut(addr, ":"); return h }
func port(addr string) string { _, p, _ := strings.Cut(addr, ":"); return p }

// queriedEvents reads lbm request query --json's events, by event.action.
func queriedEvents(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	var q struct {
		Events []struct {
			Fields []struct {
				Name  string `json:"name"`
				Value any    `json:"value"`
			} `json:"fields"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &q); err != nil {
		t.Fatalf("lbm request query --json: %v\n%s", err, out)
	}
	events := map[string]map[string]any{}
	for _, e := range q.Events {
		fields := map[string]any{}
		for _, f := range e.Fields {
			fields[f.Name] = f.Value
		}
		action, _ := fields["event.action"].(string)
		if _, dup := events[action]; dup {
			t.Errorf("two %s events", action)
		}
		events[action] = fields
	}
	return events
}
