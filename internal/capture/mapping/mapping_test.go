package mapping

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/event"
)

// dir is a directory of two people.
type dir map[Key]map[string]string

func (d dir) Resolve(k Key, v string) (string, bool) {
	id, ok := d[k][v]
	return id, ok
}

var people = dir{
	ByID:       {"p001": "p001", "p002": "p002"},
	ByUsername: {"jsmith": "p001", "bjones": "p002"},
	ByEmail:    {"jane.smith@force.example": "p001", "j.smith@force.example": "p001", "bob.jones@force.example": "p002"},
	ByNumber:   {"4711": "p001"},
}

var received = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

// mapped applies m and parses the result as the pipeline does, returning
// the event's fields by name.
func mapped(t *testing.T, m *Mapping, rec capture.Record) map[string]string {
	t.Helper()
	ev, err := m.Apply(rec, people)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return parsed(t, ev.Line)
}

func parsed(t *testing.T, line []byte) map[string]string {
	t.Helper()
	e, err := event.Parse(line, "src")
	if err != nil {
		t.Fatalf("event.Parse(%s): %v", line, err)
	}
	out := map[string]string{"@timestamp": `"` + e.Time.UTC().Format(timeLayout) + `"`}
	for _, f := range e.Fields {
		out[f.Name] = string(f.Value)
	}
	return out
}

func TestBuiltinMappings(t *testing.T) {
	tests := []struct {
		name   string
		in     capture.Input
		rec    capture.Record
		want   map[string]string // field -> canonical JSON value
		absent []string
	}{
		{
			name: "sshd login resolves the account in the message",
			in:   capture.Syslog,
			rec: capture.Record{Received: received, Time: received.Add(-time.Second), Fields: map[string]any{
				"log.syslog.facility.name": "authpriv", "log.syslog.appname": "sshd", "log.syslog.hostname": "web-1",
				"message": "Accepted publickey for jsmith from 10.0.0.9 port 50122 ssh2", "source.ip": "10.0.0.9", "log.syslog.severity.code": int64(6),
			}},
			want: map[string]string{
				"user.id": `"p001"`, "event.category": `"authentication"`, "event.action": `"sshd"`, "host.name": `"web-1"`,
				"content.message": `"Accepted publickey for jsmith from 10.0.0.9 port 50122 ssh2"`, "extract.user": `"jsmith"`,
				"log.syslog.severity.code": `6`, "@timestamp": `"2026-11-28T09:29:59.000000000Z"`,
			},
			absent: []string{"message"},
		},
		{
			name: "sudo: the account that ran it, not whom it ran as",
			in:   capture.Syslog,
			rec: capture.Record{Received: received, Fields: map[string]any{
				"log.syslog.facility.name": "authpriv", "log.syslog.appname": "sudo",
				"message": "bjones : TTY=pts/0 ; PWD=/home/bjones ; USER=root ; COMMAND=/usr/bin/id",
			}},
			want: map[string]string{"user.id": `"p002"`, "extract.user": `"bjones"`},
		},
		{
			name: "syslog without a person is unattributed",
			in:   capture.Syslog,
			rec: capture.Record{Received: received, Fields: map[string]any{
				"log.syslog.facility.name": "daemon", "log.syslog.appname": "cron", "message": "(root) CMD (run-parts)", "log.syslog.msgid": "-",
			}},
			want: map[string]string{"user.id": `"unattributed"`, "event.category": `"host"`, "event.action": `"-"`},
		},
		{
			name: "internal sender is the subject and the mail is sent",
			in:   capture.Email,
			rec: capture.Record{Received: received, ID: "abc", Fields: map[string]any{
				"email.from.address": []string{"Jane Smith <Jane.Smith@force.example>"},
				"email.to.address":   []string{"bob.jones@force.example", "someone@outside.example"},
				"email.bcc.address":  []string{"j.smith@force.example"},
				"email.subject":      "Quarterly figures", "email.body.text": "See attached.",
				"email.attachments.file.name":        []string{"q3.xlsx"},
				"email.attachments.file.hash.sha256": []string{"aa11"},
				"email.attachments.file.size":        []int64{2048},
				"email.message_id":                   "m1@force.example",
			}},
			want: map[string]string{
				"user.id": `"p001"`, "event.category": `"email"`, "event.action": `"sent"`, "event.id": `"abc"`,
				"related.user":          `["p002","someone@outside.example"]`,
				"content.email.subject": `"Quarterly figures"`, "content.email.body.text": `"See attached."`,
				"content.email.attachments.file.name": `["q3.xlsx"]`,
				"email.attachments.file.hash.sha256":  `["aa11"]`, "email.attachments.file.size": `[2048]`,
				"email.message_id": `"m1@force.example"`,
			},
			absent: []string{"email.subject", "email.body.text", "email.attachments.file.name"},
		},
		{
			name: "external sender: the journaled mailbox is the subject",
			in:   capture.Email,
			rec: capture.Record{Received: received, Fields: map[string]any{
				"email.from.address": []string{"stranger@outside.example"},
				"email.to.address":   []string{"bob.jones@force.example"},
				"email.mailbox":      "Bob.Jones@force.example",
			}},
			want: map[string]string{"user.id": `"p002"`, "event.action": `"received"`, "related.user": `["stranger@outside.example"]`},
		},
		{
			name: "mailbox outside the directory is kept as sent",
			in:   capture.Email,
			rec: capture.Record{Received: received, Fields: map[string]any{
				"email.from.address": []string{"stranger@outside.example"}, "email.mailbox": "Shared.Inbox@force.example",
			}},
			want: map[string]string{"user.id": `"shared.inbox@force.example"`, "event.action": `"received"`},
		},
		{
			name: "ECS document: first category lbm knows, outcome checked, lbm.* never taken",
			in:   capture.ECS,
			rec: capture.Record{Received: received, Fields: map[string]any{
				"event.category": []string{"iam", "authentication"}, "event.action": "logged-in", "event.outcome": "sideways",
				"user.name": "CORP\\bjones", "host.name": "ws-7", "message": "An account was logged on", "lbm.unparsed": "spoofed",
				"agent.ephemeral_id": "x", "winlog.event_id": int64(4624), "weird key!": "v", "a.b.c.d.e.f.g.h.i.j": "deep",
			}},
			want: map[string]string{
				"user.id": `"p002"`, "event.category": `"iam"`, "event.action": `"logged-in"`, "user.name": `"CORP\\bjones"`,
				"content.message": `"An account was logged on"`, "winlog.event_id": `4624`, "weird_key_": `"v"`,
				"a.b.c.d.e.f.g.h_i_j": `"deep"`, "lbm.fields_dropped": `1`,
			},
			absent: []string{"event.outcome", "lbm.unparsed", "agent.ephemeral_id"},
		},
		{
			name: "OTLP record by staff number",
			in:   capture.OTLP,
			rec: capture.Record{Received: received, Fields: map[string]any{
				"user.id": "4711", "service.name": "crime-records", "event.name": "record.viewed", "message": "viewed record 88",
				"event.category": "record_query",
			}},
			want: map[string]string{"user.id": `"p001"`, "event.category": `"record_query"`, "event.action": `"record.viewed"`, "content.message": `"viewed record 88"`, "service.name": `"crime-records"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapped(t, Builtin(tt.in), tt.rec)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %s, want %s", k, got[k], v)
				}
			}
			for _, k := range tt.absent {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %s, want it absent", k, v)
				}
			}
		})
	}
}

func TestUnparsedKeepsTheMessage(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want map[string]string
	}{
		{"text", []byte("<999>garbage \x01"), map[string]string{"content.raw": `"<999>garbage \u0001"`}},
		{"binary", []byte{0xff, 0xfe, 0x00}, map[string]string{"content.raw_base64": `"//4A"`}},
		{"huge", []byte(strings.Repeat("x", maxRawBytes+10)), map[string]string{"lbm.raw_truncated": `true`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := capture.Record{Received: received, Unparsed: "not syslog", Raw: tt.raw, Fields: map[string]any{"source.ip": "10.1.1.1", "network.transport": "udp"}}
			if _, err := Builtin(capture.Syslog).Apply(rec, people); err == nil {
				t.Fatal("Apply took an unparsed record")
			}
			got := parsed(t, Builtin(capture.Syslog).Unparsed(capture.Syslog, rec, "not syslog", people).Line)
			want := map[string]string{"event.action": `"unparsed"`, "lbm.unparsed": `"not syslog"`, "user.id": `"unattributed"`, "event.category": `"host"`, "source.ip": `"10.1.1.1"`, "lbm.input": `"syslog"`}
			for k, v := range tt.want {
				want[k] = v
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %.80s, want %.80s", k, got[k], v)
				}
			}
		})
	}
}

func TestTooManyFieldsAreCountedNotFatal(t *testing.T) {
	fields := map[string]any{"event.action": "x"}
	for i := range 400 {
		fields["f"+strings.Repeat("0", 3-len(itoa(i)))+itoa(i)] = "v"
	}
	got := mapped(t, Builtin(capture.ECS), capture.Record{Received: received, Fields: fields})
	if got["lbm.fields_dropped"] == "" {
		t.Fatal("no lbm.fields_dropped")
	}
	if len(got) > 256 {
		t.Fatalf("%d fields", len(got))
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestParseRefuses(t *testing.T) {
	base := "input: syslog\nsubject: {default: x}\nfields:\n  event.category: {value: host}\n  event.action: {value: log}\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "", "empty"},
		{"unknown key", base + "colour: red\n", "colour"},
		{"unknown input", strings.Replace(base, "syslog", "carrier-pigeon", 1), "input"},
		{"no subject", "input: syslog\nfields:\n  event.category: {value: host}\n  event.action: {value: log}\n", "subject"},
		{"no action", "input: syslog\nsubject: {default: x}\nfields:\n  event.category: {value: host}\n", "event.action is required"},
		{"reserved", base + "  user.id: {value: bob}\n", "set by lbm"},
		{"content through fields", base + "  content.x: {from: [a]}\n", "set by lbm"},
		{"bad category", strings.Replace(base, "value: host", "value: gossip", 1), "not a category"},
		{"bad mapped category", strings.Replace(base, "{value: host}", "{from: [a], map: {x: gossip}}", 1), "not a category"},
		{"value and from", base + "  host.name: {value: a, from: [b]}\n", "either value or from"},
		{"bad name", base + "  \"bad name\": {value: a}\n", "not an event field name"},
		{"pattern without group", base + "extract: [{field: message, pattern: 'for (\\S+)'}]\n", "no named group"},
		{"bad pattern", base + "extract: [{field: message, pattern: '(?P<u>'}]\n", "pattern"},
		{"bad resolve", strings.Replace(base, "{default: x}", "{from: [a], resolve: [shoe-size]}", 1), "resolve"},
		{"match on email", strings.Replace(base, "syslog", "email", 1) + "match: {hosts: [a]}\n", "only a syslog mapping"},
		{"bad glob", base + "content: ['[']\n", "not a pattern"},
		{"alias", base + "content: &a [x]\ndrop: *a\n", "not allowed"},
		{"bad metadata", base + "metadata: some\n", "metadata"},
		{"negative rate", base + "rate_limit: {events_per_second: -1}\n", "rate_limit"},
		{"not UTF-8", "input: \xff\n", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("src.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "src.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestRouteAndRateLimit(t *testing.T) {
	fsys := mapFS(map[string]string{
		"linux.yaml": "input: syslog\nmatch: {hosts: ['srv-*'], apps: [sshd, sudo]}\nrate_limit: {events_per_second: 100}\nsubject: {default: x}\nfields:\n  event.category: {value: host}\n  event.action: {value: log}\n",
		"mail.yaml":  "input: email\nsubject: {from: [email.mailbox]}\nfields:\n  event.category: {value: email}\n  event.action: {value: mail}\n",
	})
	set, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(host, app string) capture.Record {
		return capture.Record{Fields: map[string]any{"log.syslog.hostname": host, "log.syslog.appname": app}}
	}
	for _, tt := range []struct {
		host, app string
		want      bool
	}{{"SRV-1", "sshd", true}, {"srv-2", "sudo", true}, {"srv-2", "cron", false}, {"web-1", "sshd", false}, {"", "", false}} {
		if _, ok := set.Route(rec(tt.host, tt.app)); ok != tt.want {
			t.Errorf("Route(%s, %s) = %v, want %v", tt.host, tt.app, ok, tt.want)
		}
	}
	if got := set.RateLimit("linux"); got.EventsPerSecond != 100 || got.Burst != 100 {
		t.Errorf("rate limit = %+v", got)
	}
	if set.For("linux", capture.ECS) != Builtin(capture.ECS) || set.For("mail", capture.Email) == Builtin(capture.Email) {
		t.Error("For picks the wrong mapping")
	}
	if _, err := Load(mapFS(map[string]string{"x.yml": "input: syslog"})); err == nil {
		t.Error("a file not named SOURCE.yaml was taken")
	}
	if _, err := Load(mapFS(map[string]string{"good.yaml": "input: bad"})); err == nil || !strings.Contains(err.Error(), "good.yaml") {
		t.Errorf("a bad file: %v", err)
	}
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}
