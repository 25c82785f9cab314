package syslog_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/capture/syslog"
)

// The real clients the issue names: util-linux logger, and rsyslog
// forwarding. LBM_REQUIRE_RSYSLOG (set by scripts/test.sh, which installs
// it) turns a missing rsyslogd into a failure.
const (
	loggerPath   = "/usr/bin/logger"
	rsyslogdPath = "/usr/sbin/rsyslogd"
)

func need(t *testing.T, path, env string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if env != "" && os.Getenv(env) != "" {
			t.Fatalf("%s is missing and %s is set: %v", path, env, err)
		}
		t.Skipf("%s is missing: %v", path, err)
	}
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// checkFields compares the fields a test sent through a client with what
// arrived, and the timestamp with now.
func checkFields(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %#v, want %#v", name, got[name], v)
		}
	}
}

// TestLogger: util-linux logger sends RFC 5424 over TCP, with and without
// octet counting, and over UDP; every field it sends arrives.
func TestLogger(t *testing.T) {
	need(t, loggerPath, "")
	rec := capturetest.New()
	s, _ := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0", UDP: "127.0.0.1:0"})
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name      string
		args      []string
		transport string
	}{
		{"tcp octet-counted", []string{"--tcp", "--octet-count"}, "tcp"},
		{"tcp newline", []string{"--tcp"}, "tcp"},
		{"udp", []string{"--udp"}, "udp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := s.Addr(tc.transport)
			msg := fmt.Sprintf("user ann signed in to %s", tc.name)
			args := append([]string{"--rfc5424", "--server", "127.0.0.1", "--port", port(addr),
				"-t", "lbm-app", "-p", "auth.notice", "--id=4242", "--msgid", "LOGIN",
				"--sd-id", "origin@32473", "--sd-param", `user="ann"`, "--sd-param", `unit="CID"`}, tc.args...)
			args = append(args, msg)
			before := time.Now()
			if out, err := exec.Command(loggerPath, args...).CombinedOutput(); err != nil {
				t.Fatalf("logger %v: %v\n%s", args, err, out)
			}
			got := wait(t, rec, i+1)[i].Record
			if got.Unparsed != "" {
				t.Fatalf("unparsed: %s: %q", got.Unparsed, got.Raw)
			}
			checkFields(t, got.Fields, map[string]any{
				syslog.FieldPriority: int64(37), syslog.FieldFacilityCode: int64(4), syslog.FieldFacilityName: "auth",
				syslog.FieldSeverityCode: int64(5), syslog.FieldSeverityName: "notice", syslog.FieldVersion: int64(1),
				syslog.FieldHostname: host, syslog.FieldAppname: "lbm-app", syslog.FieldProcID: "4242", syslog.FieldMsgID: "LOGIN",
				syslog.FieldSD + "origin@32473.user": "ann", syslog.FieldSD + "origin@32473.unit": "CID",
				// logger adds its own timeQuality element.
				syslog.FieldSD + "timeQuality.tzKnown": "1",
				syslog.FieldMessage:                    msg, syslog.FieldFormat: "rfc5424",
				syslog.FieldSourceIP: "127.0.0.1", syslog.FieldTransport: tc.transport,
			})
			if p, _ := got.Fields[syslog.FieldSourcePort].(int64); p <= 0 {
				t.Errorf("source.port = %v", got.Fields[syslog.FieldSourcePort])
			}
			if d := got.Time.Sub(before); d < -time.Second || d > time.Minute {
				t.Errorf("Time = %v, %v from when logger ran", got.Time, d)
			}
		})
	}
}

// TestRsyslog: a private rsyslogd takes messages from logger and forwards
// them as RFC 5424 over TCP (octet-counted) and over UDP; both arrive with
// every field.
func TestRsyslog(t *testing.T) {
	need(t, loggerPath, "")
	need(t, rsyslogdPath, "LBM_REQUIRE_RSYSLOG")
	rec := capturetest.New()
	s, _ := listen(t, rec, syslog.Config{TCP: "127.0.0.1:0", UDP: "127.0.0.1:0"})

	// A free port for rsyslog's own input.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := port(ln.Addr())
	ln.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(conf, fmt.Appendf(nil, `
global(workDirectory=%q net.enableDNS="off")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port=%q ruleset="forward")
ruleset(name="forward") {
	action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
	action(type="omfwd" target="127.0.0.1" port=%q protocol="udp" template="RSYSLOG_SyslogProtocol23Format")
}
`, dir, in, port(s.Addr(syslog.TCP)), port(s.Addr(syslog.UDP))), 0o600)
	cmd := exec.Command(rsyslogdPath, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = tWriter{t}, tWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	eventually(t, "rsyslogd listening", func() bool {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", in))
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	const msg = "user ann opened record 42"
	args := []string{"--rfc5424", "--tcp", "--octet-count", "--server", "127.0.0.1", "--port", in,
		"-t", "crimes", "-p", "local3.warning", "--id=77", "--msgid", "VIEW",
		"--sd-id", "origin@32473", "--sd-param", `user="ann"`, msg}
	if out, err := exec.Command(loggerPath, args...).CombinedOutput(); err != nil {
		t.Fatalf("logger %v: %v\n%s", args, err, out)
	}
	host, _ := os.Hostname()
	got := wait(t, rec, 2)
	transports := map[any]bool{}
	for _, g := range got {
		r := g.Record
		if r.Unparsed != "" {
			t.Fatalf("unparsed: %s: %q", r.Unparsed, r.Raw)
		}
		transports[r.Fields[syslog.FieldTransport]] = true
		checkFields(t, r.Fields, map[string]any{
			syslog.FieldPriority: int64(19*8 + 4), syslog.FieldFacilityName: "local3", syslog.FieldSeverityName: "warning",
			syslog.FieldVersion: int64(1), syslog.FieldHostname: host, syslog.FieldAppname: "crimes",
			syslog.FieldProcID: "77", syslog.FieldMsgID: "VIEW", syslog.FieldSD + "origin@32473.user": "ann",
			syslog.FieldMessage: msg, syslog.FieldFormat: "rfc5424", syslog.FieldSourceIP: "127.0.0.1",
		})
		if r.Time.IsZero() || time.Since(r.Time).Abs() > time.Minute {
			t.Errorf("Time = %v", r.Time)
		}
	}
	if !transports["tcp"] || !transports["udp"] {
		t.Errorf("arrived over %v, want tcp and udp", transports)
	}
}
