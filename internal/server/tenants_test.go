package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/tenancy"
)

// TestDispatch: a request reaches the handler of the tenant whose hosts
// hold its Host, without case, port or final dot; any other Host is
// misdirected, and the answer names no tenant; health answers for the
// process whatever the Host.
func TestDispatch(t *testing.T) {
	ctx := t.Context()
	var nodes []*tenantNode
	byHost := map[string]*tenantNode{}
	for _, id := range []string{"force-a", "force-b"} {
		n, err := Open(ctx, Config{DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		tn := &tenantNode{id: id, node: n, handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "handled by "+id)
		})}
		nodes = append(nodes, tn)
		byHost[id+".lbm.example"] = tn
	}
	byHost["b.example"] = nodes[1]
	h := dispatch(byHost, nodes)
	for _, tc := range []struct {
		host, path string
		status     int
		body       string
	}{
		{"force-a.lbm.example", "/v1/me", 200, "handled by force-a"},
		{"FORCE-A.lbm.example:8443", "/v1/me", 200, "handled by force-a"},
		{"force-a.lbm.example.", "/", 200, "handled by force-a"},
		{"force-b.lbm.example", "/v1/me", 200, "handled by force-b"},
		{"b.example:80", "/v1/people", 200, "handled by force-b"},
		{"force-c.lbm.example", "/v1/me", 421, "misdirected"},
		{"lbm.example", "/v1/me", 421, "misdirected"},
		{"force-a.lbm.example.evil.example", "/v1/me", 421, "misdirected"},
		{"127.0.0.1:8080", "/v1/me", 421, "misdirected"},
		{"[::1]:8080", "/v1/me", 421, "misdirected"},
		{"", "/v1/me", 421, "misdirected"},
		{"force-c.lbm.example", "/healthz", 200, "ok"},
		{"127.0.0.1", "/readyz", 200, "ready"},
		{"force-a.lbm.example", "/healthz", 200, "ok"},
	} {
		req := httptest.NewRequest("GET", "http://x"+tc.path, nil)
		req.Host = tc.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s Host %q = %d %q, want %d %q", tc.path, tc.host, rec.Code, body, tc.status, tc.body)
		}
		if rec.Code == 421 {
			var p struct{ Type string }
			if json.Unmarshal(rec.Body.Bytes(), &p) != nil || rec.Header().Get("Content-Type") != "application/problem+json" ||
				strings.Contains(body, "force") || strings.Contains(body, "example") {
				t.Errorf("Host %q: misdirected answer %q (%s) is not problem+json naming nothing", tc.host, body, rec.Header().Get("Content-Type"))
			}
		}
	}
	// A store that does not answer makes the process not ready.
	nodes[1].node.Store.Close()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with a tenant's store closed = %d, want 503", rec.Code)
	}
}

// TestTenantMetrics: the process's /metrics serves every node's metrics
// with a tenant label, and the Go and process metrics once.
func TestTenantMetrics(t *testing.T) {
	a, b := &tenantNode{id: "force-a", metrics: NewMetrics()}, &tenantNode{id: "", metrics: NewMetrics()}
	a.metrics.Committed("activity", 3, time.Millisecond, 3)
	b.metrics.Committed("activity", 5, time.Millisecond, 5)
	fs, err := newTenantGatherer([]*tenantNode{a, b}).Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	goroutines := 0
	for _, f := range fs {
		if f.GetName() == "go_goroutines" {
			goroutines += len(f.Metric)
		}
		if f.GetName() != "lbm_log_size" {
			continue
		}
		for _, m := range f.Metric {
			labels := ""
			for _, l := range m.Label {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			got[labels] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{"log=activity,tenant=force-a,": 3, "log=activity,tenant=national,": 5}
	if len(got) != len(want) || got["log=activity,tenant=force-a,"] != 3 || got["log=activity,tenant=national,"] != 5 {
		t.Errorf("lbm_log_size = %v, want %v", got, want)
	}
	if goroutines != 1 {
		t.Errorf("go_goroutines served %d times, want once", goroutines)
	}
}

// TestServeTenantsRefuses: what cannot tell tenants apart is refused
// before anything is opened.
func TestServeTenantsRefuses(t *testing.T) {
	f := &tenancy.File{Tenants: []tenancy.Tenant{{ID: "a", Name: "A", Hosts: []string{"a.example"}, Data: t.TempDir(), Origin: "a.example"}}}
	for _, tc := range []struct {
		name string
		cfg  TenantsConfig
		want string
	}{
		{"no tenants", TenantsConfig{File: &tenancy.File{}}, "no tenants"},
		{"syslog", TenantsConfig{File: f, Serve: ServeConfig{SyslogConfig: SyslogConfig{SyslogTCP: ":0", SyslogSource: "s"}}}, "syslog"},
		{"smtp journal", TenantsConfig{File: f, Serve: ServeConfig{SMTPJournalAddr: ":0"}}, "SMTP journal"},
		{"metrics", TenantsConfig{File: f, Serve: ServeConfig{Metrics: NewMetrics()}}, "per tenant"},
		{"half tls", TenantsConfig{File: f, Serve: ServeConfig{TLSCert: "c.pem"}}, "both a certificate and a key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := ServeTenants(ctx, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ServeTenants = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestNationalMark: the national node's directory is marked on first
// open; an organisation's existing directory never becomes national,
// and the mark is found by whatever opens it later.
func TestNationalMark(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	n, err := Open(ctx, Config{DataDir: dir, National: true})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	if n, err = Open(ctx, Config{DataDir: dir}); err != nil || !n.National {
		t.Fatalf("reopening the national directory: National %v, %v", n != nil && n.National, err)
	}
	n.Close()
	force := t.TempDir()
	if n, err = Open(ctx, Config{DataDir: force}); err != nil || n.National {
		t.Fatalf("opening a force's directory: %v", err)
	}
	n.Close()
	if _, err := Open(ctx, Config{DataDir: force, National: true}); err == nil || !strings.Contains(err.Error(), "not the national oversight node's") {
		t.Errorf("opening a force's directory as the national node = %v, want refused", err)
	}
}
