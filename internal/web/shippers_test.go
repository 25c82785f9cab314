package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/capturetest"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/web"
)

// shipperEnv is a server whose capture sink is a Recorder, with one
// source, "pnc". Every request passes a gate, which serialises them and
// lets a test change the Recorder between two requests without a race.
type shipperEnv struct {
	srv   *httptest.Server
	rec   *capturetest.Recorder
	token string
	// between, when set, runs after each request, inside the gate.
	between func(status int)
}

func newShipperEnv(t *testing.T, maxBody int64) *shipperEnv {
	t.Helper()
	n, tok := sourceNode(t, "pnc")
	e := &shipperEnv{rec: capturetest.New(), token: tok}
	cfg := server.WebConfig(n)
	cfg.Capture = e.rec
	cfg.MaxBodyBytes = maxBody
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var gate sync.Mutex
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gate.Lock()
		defer gate.Unlock()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, r)
		if e.between != nil {
			e.between(sw.status)
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (e *shipperEnv) post(t *testing.T, path, auth, contentType string, body []byte, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// ecsDoc is a Winlogbeat-like logon event.
func ecsDoc(i int) []byte {
	return fmt.Appendf(nil, `{"@timestamp":"2026-11-02T08:%02d:%02d.000Z","message":"An account was successfully logged on","event":{"code":"4624","category":["authentication"],"action":"logged-in","outcome":"success"},"user":{"name":"user%d","domain":"FORCE"},"host":{"name":"ws%d","ip":["10.1.0.%d"]},"agent":{"type":"winlogbeat","version":"8.17.0"},"winlog":{"event_id":4624,"event_data":{"LogonType":"2"}}}`,
		i/60%60, i%60, i, i%50, i%250)
}

func esClient(t *testing.T, cfg elasticsearch.Config) *elasticsearch.Client {
	t.Helper()
	c, err := elasticsearch.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bulk indexes docs through the go-elasticsearch BulkIndexer and returns
// the items' statuses by document number.
func bulk(t *testing.T, es *elasticsearch.Client, action string, n int, id func(int) string) map[int]int {
	t.Helper()
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "logs-windows.security-default",
		NumWorkers: 2, FlushBytes: 64 << 10, OnError: func(_ context.Context, err error) { t.Errorf("bulk indexer: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range n {
		it := esutil.BulkIndexerItem{Action: action, Body: bytes.NewReader(ecsDoc(i)),
			OnSuccess: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem) {
				mu.Lock()
				defer mu.Unlock()
				statuses[i] = res.Status
			},
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("item %d: %v", i, err)
				}
				statuses[i] = res.Status
			}}
		if id != nil {
			it.DocumentID = id(i)
		}
		if err := bi.Add(t.Context(), it); err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	return statuses
}

func countStatuses(m map[int]int) map[int]int {
	out := map[int]int{}
	for _, s := range m {
		out[s]++
	}
	return out
}

// TestElasticsearchClient sends through the go-elasticsearch client and
// its BulkIndexer, as a Go shipper would: the client checks lbm's
// X-Elastic-Product header before it trusts any answer.
func TestElasticsearchClient(t *testing.T) {
	e := newShipperEnv(t, 1<<20)
	es := esClient(t, elasticsearch.Config{Addresses: []string{e.srv.URL + "/es"}, Username: "winlogbeat", Password: e.token,
		CompressRequestBody: true})

	info, err := es.Info()
	if err != nil {
		t.Fatal(err)
	}
	defer info.Body.Close()
	var root struct {
		Version struct{ Number string } `json:"version"`
		Tagline string
	}
	if err := json.NewDecoder(info.Body).Decode(&root); err != nil || info.StatusCode != 200 || root.Version.Number != "8.17.0" {
		t.Fatalf("Info = %d %+v %v, want 200 and version 8.17.0", info.StatusCode, root, err)
	}

	const n = 2000
	if got := countStatuses(bulk(t, es, "create", n, nil)); !cmp.Equal(got, map[int]int{201: n}) {
		t.Fatalf("statuses = %v, want %d × 201", got, n)
	}
	recs := e.rec.Records()
	if len(recs) != n {
		t.Fatalf("recorded %d records, want %d", len(recs), n)
	}
	var first capturetest.Submitted
	for _, s := range recs {
		if s.Record.Fields["user.name"] == "user7" {
			first = s
		}
	}
	want := map[string]any{
		"@timestamp": "2026-11-02T08:00:07.000Z", "message": "An account was successfully logged on",
		"event.code": "4624", "event.category": []string{"authentication"}, "event.action": "logged-in", "event.outcome": "success",
		"user.name": "user7", "user.domain": "FORCE", "host.name": "ws7", "host.ip": []string{"10.1.0.7"},
		"agent.type": "winlogbeat", "agent.version": "8.17.0", "winlog.event_id": int64(4624), "winlog.event_data.LogonType": "2",
		"es.index": "logs-windows.security-default", "es.action": "create",
	}
	if first.Input != capture.ECS || first.Source != "pnc" || first.Record.ID != "" ||
		!first.Record.Time.Equal(time.Date(2026, 11, 2, 8, 0, 7, 0, time.UTC)) {
		t.Errorf("record = %s from %s, id %q, time %v; want ecs from pnc, no id, 08:00:07", first.Input, first.Source, first.Record.ID, first.Record.Time)
	}
	if diff := cmp.Diff(want, first.Record.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}

	// With ids: a shipper's retry of a create is a 409 it counts as
	// delivered, of an index a no-op; nothing is stored twice.
	id := func(i int) string { return fmt.Sprintf("doc-%d", i) }
	if got := countStatuses(bulk(t, es, "create", 100, id)); !cmp.Equal(got, map[int]int{201: 100}) {
		t.Fatalf("first send with ids: statuses = %v, want 100 × 201", got)
	}
	if got := countStatuses(bulk(t, es, "create", 100, id)); !cmp.Equal(got, map[int]int{409: 100}) {
		t.Fatalf("create again: statuses = %v, want 100 × 409", got)
	}
	if got := countStatuses(bulk(t, es, "index", 100, id)); !cmp.Equal(got, map[int]int{200: 100}) {
		t.Fatalf("index again: statuses = %v, want 100 × 200", got)
	}
	if got := len(e.rec.Records()); got != n+100 {
		t.Errorf("recorded %d records, want %d", got, n+100)
	}
}

// TestElasticsearchClientRetries has the sink refuse for a rate limit:
// the client retries the 429, and once the limit lifts every document
// arrives, once.
func TestElasticsearchClientRetries(t *testing.T) {
	e := newShipperEnv(t, 1<<20)
	e.rec.Err = &capture.RateLimitedError{Source: "pnc", RetryAfter: 1500 * time.Millisecond}
	var refused atomic.Int64
	e.between = func(status int) {
		if status == http.StatusTooManyRequests && refused.Add(1) == 3 {
			e.rec.Err = nil
		}
	}
	es := esClient(t, elasticsearch.Config{Addresses: []string{e.srv.URL + "/es"},
		APIKey:        base64.StdEncoding.EncodeToString([]byte("beats-key:" + e.token)),
		RetryOnStatus: []int{429, 502, 503, 504}, MaxRetries: 10,
		RetryBackoff: func(int) time.Duration { return time.Millisecond }})
	const n = 500
	if got := countStatuses(bulk(t, es, "create", n, func(i int) string { return fmt.Sprint(i) })); !cmp.Equal(got, map[int]int{201: n}) {
		t.Fatalf("statuses = %v, want %d × 201", got, n)
	}
	if refused.Load() < 3 {
		t.Errorf("%d requests refused, want at least 3", refused.Load())
	}
	if got := len(e.rec.Records()); got != n {
		t.Errorf("recorded %d records, want %d", got, n)
	}
}

func TestBulkAnswers(t *testing.T) {
	e := newShipperEnv(t, 4096)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("elastic:"+e.token))
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	doc := "{\"create\":{\"_index\":\"logs\"}}\n{\"message\":\"x\"}\n"
	bomb := gz(append([]byte(doc), make([]byte, 1<<20)...))
	if len(bomb) >= 4096 {
		t.Fatalf("the bomb is %d bytes compressed: it would be refused before it is unpacked", len(bomb))
	}
	for _, c := range []struct {
		name    string
		body    []byte
		header  []string
		status  int
		errType string
	}{
		{"plain", []byte(doc), nil, 200, ""},
		{"gzip", gz([]byte(doc)), []string{"Content-Encoding", "gzip"}, 200, ""},
		{"broken structure", []byte("{\"create\":{}}\n"), nil, 400, "illegal_argument_exception"},
		{"not gzip", []byte(doc), []string{"Content-Encoding", "gzip"}, 400, "illegal_argument_exception"},
		{"unknown encoding", []byte(doc), []string{"Content-Encoding", "br"}, 415, "illegal_argument_exception"},
		{"too large", bytes.Repeat([]byte(doc), 200), nil, 413, "content_too_long_exception"},
		// 1 MiB of zeros in about 1 KiB: refused once 4 KiB are unpacked.
		{"decompression bomb", bomb, []string{"Content-Encoding", "gzip"}, 413, "content_too_long_exception"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.rec.Records())
			resp := e.post(t, "/es/_bulk", basic, "application/x-ndjson", c.body, c.header...)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Fatalf("status %d, X-Elastic-Product %q: %s; want %d", resp.StatusCode, resp.Header.Get("X-Elastic-Product"), body, c.status)
			}
			if c.errType == "" {
				return
			}
			var got struct {
				Error struct {
					RootCause []struct{ Type string } `json:"root_cause"`
					Type      string
				}
				Status int
			}
			if err := json.Unmarshal(body, &got); err != nil || got.Error.Type != c.errType || got.Status != c.status || len(got.Error.RootCause) != 1 {
				t.Errorf("body = %s, want an Elasticsearch error of type %s", body, c.errType)
			}
			if n := len(e.rec.Records()); n != before {
				t.Errorf("%d records stored by a refused request", n-before)
			}
		})
	}
}

func TestBulkSinkRefusals(t *testing.T) {
	for _, c := range []struct {
		err        error
		status     int
		retryAfter string
		errType    string
	}{
		{&capture.RateLimitedError{Source: "pnc", RetryAfter: 2500 * time.Millisecond}, 429, "3", "es_rejected_execution_exception"},
		{ingest.ErrOverloaded, 429, "1", "es_rejected_execution_exception"},
		{capture.ErrUnknownSource, 403, "", "security_exception"},
		{io.ErrUnexpectedEOF, 500, "", "exception"},
	} {
		e := newShipperEnv(t, 1<<20)
		e.rec.Err = c.err
		resp := e.post(t, "/es/logs/_bulk", "Bearer "+e.token, "application/x-ndjson", []byte("{\"index\":{}}\n{}\n"))
		body, _ := io.ReadAll(resp.Body)
		var got struct{ Error struct{ Type string } }
		json.Unmarshal(body, &got)
		if resp.StatusCode != c.status || resp.Header.Get("Retry-After") != c.retryAfter || got.Error.Type != c.errType {
			t.Errorf("Submit error %v: %d, Retry-After %q, %s; want %d, %q, %s", c.err, resp.StatusCode, resp.Header.Get("Retry-After"), body,
				c.status, c.retryAfter, c.errType)
		}
	}
}

// TestShipperCredentials: a source token as shippers send it, on the
// shippers' routes only.
func TestShipperCredentials(t *testing.T) {
	e := newShipperEnv(t, 1<<20)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		method, path, auth string
		status             int
	}{
		{"GET", "/es/", "Basic " + b64("filebeat:"+e.token), 200},
		{"GET", "/es/", "basic " + b64(":"+e.token), 200},
		{"GET", "/es/", "ApiKey " + e.token, 200},
		{"GET", "/es/", "ApiKey " + b64("id:"+e.token), 200},
		{"GET", "/es/", "Bearer " + e.token, 200},
		{"HEAD", "/es/", "Bearer " + e.token, 200},
		{"GET", "/es/_license", "ApiKey " + e.token, 200},
		{"GET", "/es/_xpack", "ApiKey " + e.token, 200},
		{"GET", "/es/_cluster/health", "ApiKey " + e.token, 200},
		{"HEAD", "/es/_index_template/filebeat", "ApiKey " + e.token, 200},
		{"PUT", "/es/_ilm/policy/filebeat", "ApiKey " + e.token, 200},
		{"PUT", "/es/_ingest/pipeline/p", "ApiKey " + e.token, 200},
		{"PUT", "/es/_snapshot/x", "ApiKey " + e.token, 404},
		{"HEAD", "/es/logs-pnc", "ApiKey " + e.token, 200},
		{"GET", "/es/_nodes/_local", "ApiKey " + e.token, 404},
		{"GET", "/es/_cat", "ApiKey " + e.token, 404},
		{"PUT", "/es/logs-pnc", "ApiKey " + e.token, 200},
		{"PUT", "/es/_security", "ApiKey " + e.token, 404},
		{"GET", "/es/", "", 401},
		{"GET", "/es/", "Basic " + b64("filebeat:lbm_wrong"), 401},
		{"GET", "/es/", "Basic !!", 401},
		{"GET", "/es/", "Digest x", 401},
		// Elsewhere a Basic or ApiKey header is no credential.
		{"POST", "/v1/events", "Basic " + b64("x:"+e.token), 401},
		{"POST", "/v1/events", "ApiKey " + e.token, 401},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), c.method, e.srv.URL+c.path, strings.NewReader(`{}`))
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s with %q = %d, want %d", c.method, c.path, c.auth, resp.StatusCode, c.status)
		}
		if strings.HasPrefix(c.path, "/es/") {
			if resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Errorf("%s %s: no X-Elastic-Product header", c.method, c.path)
			}
			if c.status == 401 && !strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), ","), `Basic realm="lbm"`) {
				t.Errorf("%s %s: WWW-Authenticate = %q, want a Basic challenge", c.method, c.path, resp.Header.Values("WWW-Authenticate"))
			}
		}
	}
}

// TestShipperRoutesRefuseOthers: a person's token, however sent, is
// refused on the shippers' routes, and a Basic header on a person's
// route is refused.
func TestShipperRoutesRefuseOthers(t *testing.T) {
	e := newPeopleEnv(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, who := range []string{"bootstrap", "staff", "investigator", "admin", "oversight"} {
		tok := e.actors[who].bearer
		for _, auth := range []string{"Bearer " + tok, "Basic " + b64(who+":"+tok), "ApiKey " + tok} {
			for _, path := range []string{"/es/_bulk", "/v1/logs"} {
				req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+path, strings.NewReader("{\"index\":{\"_index\":\"x\"}}\n{}\n"))
				req.Header.Set("Authorization", auth)
				req.Header.Set("Content-Type", "application/json")
				if resp := e.send(t, req); resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s as %s with %.6s… = %d, want 403", path, who, auth, resp.StatusCode)
				}
			}
		}
		// A person's own route takes no Basic credentials.
		req, _ := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+"/v1/me", nil)
		req.Header.Set("Authorization", "Basic "+b64(who+":"+tok))
		if resp := e.send(t, req); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /v1/me as %s with Basic = %d, want 401", who, resp.StatusCode)
		}
	}
}

// TestOTLPExporter sends through OpenTelemetry's OTLP/HTTP log exporter
// and the SDK's batch processor, with and without gzip.
func TestOTLPExporter(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			e := newShipperEnv(t, 1<<20)
			opts := []otlploghttp.Option{otlploghttp.WithEndpointURL(e.srv.URL + "/v1/logs"),
				otlploghttp.WithHeaders(map[string]string{"Authorization": "Bearer " + e.token})}
			if gz {
				opts = append(opts, otlploghttp.WithCompression(otlploghttp.GzipCompression))
			}
			exp, err := otlploghttp.New(t.Context(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			res := resource.NewSchemaless(attribute.String("service.name", "payroll"), attribute.String("host.name", "app1"))
			lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
			logger := lp.Logger("payroll/audit", otellog.WithInstrumentationVersion("1.2.3"))
			t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
			const n = 300
			for i := range n {
				var r otellog.Record
				r.SetTimestamp(t0.Add(time.Duration(i) * time.Second))
				r.SetBody(attribute.StringValue("salary record viewed"))
				r.SetSeverity(otellog.SeverityInfo)
				r.SetSeverityText("INFO")
				r.SetEventName("record.viewed")
				r.AddAttributes(attribute.String("user.name", fmt.Sprintf("user%d", i)), attribute.String("event.category", "database"),
					attribute.Int("records", 3), attribute.Map("db", attribute.String("table", "salaries")),
					attribute.Slice("tags", attribute.StringValue("hr"), attribute.StringValue("pay")))
				logger.Emit(t.Context(), r)
			}
			if err := lp.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			recs := e.rec.Records()
			if len(recs) != n {
				t.Fatalf("recorded %d records, want %d", len(recs), n)
			}
			got := recs[0]
			for _, s := range recs {
				if s.Record.Fields["user.name"] == "user5" {
					got = s
				}
			}
			want := map[string]any{"service.name": "payroll", "host.name": "app1", "otel.scope.name": "payroll/audit",
				"otel.scope.version": "1.2.3", "user.name": "user5", "event.category": "database", "records": int64(3),
				"db.table": "salaries", "tags": []string{"hr", "pay"}, "message": "salary record viewed", "log.level": "INFO",
				"log.severity_number": int64(9), "event.name": "record.viewed"}
			if got.Input != capture.OTLP || got.Source != "pnc" || !got.Record.Time.Equal(t0.Add(5*time.Second)) {
				t.Errorf("record = %s from %s at %v, want otlp from pnc at %v", got.Input, got.Source, got.Record.Time, t0.Add(5*time.Second))
			}
			if diff := cmp.Diff(want, got.Record.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOTLPJSON posts OTLP JSON as the collector's own encoder writes it.
func TestOTLPJSON(t *testing.T) {
	e := newShipperEnv(t, 1<<20)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "vpn")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)))
	lr.Body().SetStr("login failed")
	lr.SetTraceID(pcommon.TraceID{0xab, 1})
	lr.Attributes().PutStr("user.name", "jsmith")
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	resp := e.post(t, "/v1/logs", "Bearer "+e.token, "application/json", body)
	reply, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(reply) != "{}" {
		t.Fatalf("POST /v1/logs = %d %q %s, want 200 application/json {}", resp.StatusCode, resp.Header.Get("Content-Type"), reply)
	}
	recs := e.rec.Records()
	want := map[string]any{"service.name": "vpn", "message": "login failed", "user.name": "jsmith", "trace.id": "ab010000000000000000000000000000"}
	if len(recs) != 1 || !cmp.Equal(want, recs[0].Record.Fields) {
		t.Errorf("records = %+v, want one with %v", recs, want)
	}
}

func TestOTLPRefusals(t *testing.T) {
	for _, c := range []struct {
		name        string
		contentType string
		body        string
		sinkErr     error
		status      int
		retryAfter  string
	}{
		{"not protobuf", "application/x-protobuf", "\xff\xff", nil, 400, ""},
		{"not JSON", "application/json", `{"resourceLogs":`, nil, 400, ""},
		{"other content type", "text/plain", "hello", nil, 415, ""},
		{"rate limited", "application/json", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}`, &capture.RateLimitedError{Source: "pnc", RetryAfter: 2 * time.Second}, 429, "2"},
		{"overloaded", "application/json", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}`, ingest.ErrOverloaded, 503, "1"},
		{"store failed", "application/json", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}`, io.ErrUnexpectedEOF, 503, "1"},
		{"unknown source", "application/json", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}`, capture.ErrUnknownSource, 403, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newShipperEnv(t, 1<<20)
			e.rec.Err = c.sinkErr
			resp := e.post(t, "/v1/logs", "Bearer "+e.token, c.contentType, []byte(c.body))
			if resp.StatusCode != c.status || resp.Header.Get("Retry-After") != c.retryAfter {
				t.Errorf("status %d, Retry-After %q; want %d, %q", resp.StatusCode, resp.Header.Get("Retry-After"), c.status, c.retryAfter)
			}
			if c.sinkErr == nil && len(e.rec.Records()) != 0 {
				t.Errorf("a refused request stored records")
			}
		})
	}
}
