package otlp

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lbm-project/lbm/internal/capture"
)

var (
	received = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	t0       = time.Date(2026, 11, 2, 8, 0, 0, 5, time.UTC)
)

// sample is an export of three log records from one service, built with
// the collector's own data model.
func sample() plogotlp.ExportRequest {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "payroll")
	rl.Resource().Attributes().PutStr("host.name", "app1")
	rl.Resource().Attributes().PutStr("user.name", "overridden")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("payroll/audit")
	sl.Scope().SetVersion("1.2.3")

	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(t0))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Second)))
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr("salary record viewed")
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	lr.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	lr.SetEventName("record.viewed")
	a := lr.Attributes()
	a.PutStr("user.name", "jsmith")
	a.PutStr("event.category", "database")
	a.PutInt("records", 3)
	a.PutDouble("ratio", 0.25)
	a.PutBool("ok", true)
	m := a.PutEmptyMap("http")
	m.PutStr("method", "GET")
	s := a.PutEmptySlice("tags")
	s.AppendEmpty().SetStr("a")
	s.AppendEmpty().SetStr("b")
	a.PutEmptyBytes("blob").FromRaw([]byte{0xff})

	lr2 := sl.LogRecords().AppendEmpty()
	lr2.SetObservedTimestamp(pcommon.NewTimestampFromTime(t0))
	lr2.Body().SetEmptyMap().PutStr("query", "SELECT 1")

	sl.LogRecords().AppendEmpty().Body().SetInt(42)
	return plogotlp.NewExportRequestFromLogs(ld)
}

func TestParse(t *testing.T) {
	common := map[string]any{"service.name": "payroll", "host.name": "app1", "user.name": "overridden",
		"otel.scope.name": "payroll/audit", "otel.scope.version": "1.2.3"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range common {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	want := []capture.Record{
		{Fields: with("user.name", "jsmith", "event.category", "database", "records", int64(3), "ratio", 0.25, "ok", true,
			"http.method", "GET", "tags", []string{"a", "b"}, "blob", "/w==", "message", "salary record viewed", "log.level", "INFO",
			"log.severity_number", int64(9), "trace.id", "0102030405060708090a0b0c0d0e0f10", "span.id", "0102030405060708",
			"event.name", "record.viewed"),
			Time: t0, Received: received},
		{Fields: with("body.query", "SELECT 1"), Time: t0, Received: received},
		{Fields: with("body", int64(42)), Received: received},
	}
	req := sample()
	pb, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	js, err := req.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		enc  Encoding
		body []byte
	}{{Proto, pb}, {JSON, js}} {
		got, err := Parse(c.body, c.enc, received)
		if err != nil {
			t.Fatalf("Parse(%s): %v", c.enc.ContentType(), err)
		}
		// Ids are TestRecordIDs'.
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(capture.Record{}, "ID")); diff != "" {
			t.Errorf("Parse(%s) (-want +got):\n%s", c.enc.ContentType(), diff)
		}
	}
}

// TestParseJSONSpec reads OTLP JSON as the specification writes it: ids
// in hex, 64-bit integers as strings, enums as numbers, lowerCamelCase.
func TestParseJSONSpec(t *testing.T) {
	body := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"vpn"}}]},
	"scopeLogs":[{"logRecords":[{"timeUnixNano":"1762070400000000000","severityNumber":17,"severityText":"ERROR",
	"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","body":{"stringValue":"login failed"},
	"attributes":[{"key":"user.name","value":{"stringValue":"jsmith"}},{"key":"attempts","value":{"intValue":"3"}}]}]}]}]}`
	got, err := Parse([]byte(body), JSON, received)
	if err != nil {
		t.Fatal(err)
	}
	want := []capture.Record{{Fields: map[string]any{"service.name": "vpn", "message": "login failed", "log.level": "ERROR",
		"log.severity_number": int64(17), "trace.id": "5b8efff798038103d269b633813fc60c", "span.id": "eee19b7ec3c1b174",
		"user.name": "jsmith", "attempts": int64(3)}, Time: time.Unix(1762070400, 0).UTC(), Received: received}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(capture.Record{}, "ID")); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		enc  Encoding
		body string
	}{
		{JSON, `{"resourceLogs":`},
		{JSON, `[1,2]`},
		{JSON, `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"not hex"}]}]}]}`},
		{Proto, "\xff\xff\xff"},
		{Proto, "\x0a\x05\x0a"},
	} {
		_, err := Parse([]byte(c.body), c.enc, received)
		if _, ok := errors.AsType[*ParseError](err); !ok {
			t.Errorf("Parse(%q, %s) = %v, want a *ParseError", c.body, c.enc.ContentType(), err)
		}
	}
}

func TestParseRefusesTooMany(t *testing.T) {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	lrs.EnsureCapacity(MaxRecords + 1)
	for range MaxRecords + 1 {
		lrs.AppendEmpty()
	}
	b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b, Proto, received); !errors.As(err, new(*TooManyError)) {
		t.Fatalf("Parse(%d records) = %v, want a *TooManyError", MaxRecords+1, err)
	}
}

func TestResponseAndStatus(t *testing.T) {
	for _, enc := range []Encoding{Proto, JSON} {
		resp := plogotlp.NewExportResponse()
		unmarshal := resp.UnmarshalProto
		if enc == JSON {
			unmarshal = resp.UnmarshalJSON
		}
		if err := unmarshal(Response(enc, 0, "2 log records stored unparsed")); err != nil {
			t.Fatal(err)
		}
		if ps := resp.PartialSuccess(); ps.RejectedLogRecords() != 0 || ps.ErrorMessage() != "2 log records stored unparsed" {
			t.Errorf("%s: partial success = %d, %q", enc.ContentType(), ps.RejectedLogRecords(), ps.ErrorMessage())
		}
		resp = plogotlp.NewExportResponse()
		unmarshal = resp.UnmarshalProto
		if enc == JSON {
			unmarshal = resp.UnmarshalJSON
		}
		if err := unmarshal(Response(enc, 3, "three refused")); err != nil {
			t.Fatal(err)
		}
		if ps := resp.PartialSuccess(); ps.RejectedLogRecords() != 3 || ps.ErrorMessage() != "three refused" {
			t.Errorf("%s: partial success = %d, %q; want 3, three refused", enc.ContentType(), ps.RejectedLogRecords(), ps.ErrorMessage())
		}
		if len(Response(enc, 0, "")) > 2 {
			t.Errorf("%s: a full success is %q, want an empty message", enc.ContentType(), Response(enc, 0, ""))
		}
		var st spb.Status
		b := Status(enc, 3, "bad")
		if enc == JSON {
			err := protojson.Unmarshal(b, &st)
			if err != nil {
				t.Fatal(err)
			}
		} else if err := proto.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		if st.Code != 3 || st.Message != "bad" {
			t.Errorf("%s: Status = %v", enc.ContentType(), &st)
		}
	}
}

func fuzzCheck(t *testing.T, recs []capture.Record, err error) {
	if err != nil {
		_, pe := errors.AsType[*ParseError](err)
		_, tm := errors.AsType[*TooManyError](err)
		if !pe && !tm {
			t.Fatalf("Parse error %T %v, want a *ParseError or *TooManyError", err, err)
		}
		return
	}
	for i, rec := range recs {
		for k, v := range rec.Fields {
			switch v.(type) {
			case string, bool, int64, float64, []string, []int64, []float64:
			default:
				t.Fatalf("record %d: field %q has a %T", i, k, v)
			}
		}
	}
}

func FuzzOTLPJSON(f *testing.F) {
	js, _ := sample().MarshalJSON()
	f.Add(js)
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"doubleValue":"NaN"}]}}}]}}}]}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := Parse(body, JSON, received)
		fuzzCheck(t, recs, err)
	})
}

func FuzzOTLPProto(f *testing.F) {
	pb, _ := sample().MarshalProto()
	f.Add(pb)
	f.Add([]byte{})
	f.Add([]byte("\x0a\x02\x12\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := Parse(body, Proto, received)
		fuzzCheck(t, recs, err)
	})
}

func TestCountJSON(t *testing.T) {
	for _, c := range []struct {
		body string
		want int
	}{
		{`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{"body":{"kvlistValue":{"values":[{"key":"a"}]}}},{}]},{"log_records":[{}]}]}]}`, 4},
		{`{"resourceLogs":[{"resource":{"attributes":[{"key":"logRecords","value":{}}]}}]}`, 0},
		{`{"logRecords":"x","other":[{}]}`, 0},
		{`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{}`, 2},
	} {
		if got := countJSON([]byte(c.body)); got != c.want {
			t.Errorf("countJSON(%s) = %d, want %d", c.body, got, c.want)
		}
	}
}

func TestParseJSONRefusesTooMany(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}`)
	for range MaxRecords {
		b.WriteString(`,{}`)
	}
	b.WriteString(`]}]}]}`)
	if _, err := Parse(b.Bytes(), JSON, received); !errors.As(err, new(*TooManyError)) {
		t.Fatalf("Parse(%d records) = %v, want a *TooManyError", MaxRecords+1, err)
	}
}

// TestRecordIDs: a record with its own time is named by all it says, so
// the same export parsed again (an exporter's retry) gives the same ids,
// in protobuf or JSON, and a record that differs in anything, or has no
// time of its own, gets another id or none.
func TestRecordIDs(t *testing.T) {
	req := sample()
	pb, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	js, err := req.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	first, err := Parse(pb, Proto, received)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(pb, Proto, received.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	asJSON, err := Parse(js, JSON, received)
	if err != nil {
		t.Fatal(err)
	}
	if first[0].ID == "" || first[0].ID != again[0].ID || first[0].ID != asJSON[0].ID {
		t.Errorf("ids of the same record: %q, %q, %q", first[0].ID, again[0].ID, asJSON[0].ID)
	}
	if first[1].ID != "" || first[2].ID != "" {
		t.Errorf("records without their own time got ids %q, %q", first[1].ID, first[2].ID)
	}
	req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutInt("records", 4)
	pb2, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	changed, err := Parse(pb2, Proto, received)
	if err != nil {
		t.Fatal(err)
	}
	if changed[0].ID == first[0].ID || len(changed[0].ID) > 256 {
		t.Errorf("a record saying something else has id %q", changed[0].ID)
	}
}
