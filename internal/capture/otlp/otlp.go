// Package otlp reads OpenTelemetry log records sent over [OTLP/HTTP]
// (an ExportLogsServiceRequest, in protobuf or JSON) into capture
// records, and writes the responses the protocol expects. It does no
// I/O: the web layer reads the body and hands the records to a
// capture.Sink.
//
// # Fields
//
// Each LogRecord becomes one record whose fields are, in order of
// precedence (a later one overrides an earlier one of the same name):
//
//   - the resource's attributes under their own names (service.name,
//     host.name);
//   - otel.scope.name and otel.scope.version, when set;
//   - the log record's attributes under their own names (user.name,
//     event.category), a map flattened to dotted names and an array kept
//     as package flat describes;
//   - message, the body when it is a string; a map body is flattened
//     under body., any other body kept under body;
//   - log.level (the severity text), log.severity_number, trace.id and
//     span.id (hex), event.name, each when set.
//
// The record's time is the log record's time, else its observed time.
// OTLP gives a log record no stable identity, so records carry no ID: an
// export the client sends again is stored again.
//
// [OTLP/HTTP]: https://opentelemetry.io/docs/specs/otlp/#otlphttp
package otlp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/flat"
	"github.com/lbm-project/lbm/internal/ingest"
)

// MaxRecords bounds the log records of one request, as for POST
// /v1/events.
const MaxRecords = ingest.MaxBatchEvents

// Encoding is how a request's body, and so its response, is encoded.
type Encoding int

const (
	Proto Encoding = iota // application/x-protobuf
	JSON                  // application/json
)

// ContentType is the media type of e.
func (e Encoding) ContentType() string {
	if e == JSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// ParseError is a body that is not an ExportLogsServiceRequest in its
// encoding.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

// TooManyError is a request with more than MaxRecords log records.
type TooManyError struct{ N int }

func (e *TooManyError) Error() string {
	return fmt.Sprintf("%d log records in one request, more than %d", e.N, MaxRecords)
}

// Parse decodes an ExportLogsServiceRequest body. received is when lbm
// read it. An error is a *ParseError or a *TooManyError.
func Parse(body []byte, enc Encoding, received time.Time) ([]capture.Record, error) {
	// An ExportLogsServiceRequest is, field for field, a LogsData
	// (resource_logs = 1), whose decoders pdata's plog has without the
	// gRPC service plogotlp would bring into the binary.
	var logs plog.Logs
	var err error
	if enc == JSON {
		// As for protobuf below; "{}" is a log record in two bytes, so a
		// smaller body cannot hold too many.
		if len(body) > 2*MaxRecords {
			if n := countJSON(body); n > MaxRecords {
				return nil, &TooManyError{N: n}
			}
		}
		logs, err = (&plog.JSONUnmarshaler{}).UnmarshalLogs(body)
	} else {
		// Count before decoding: an empty log record is two bytes on the
		// wire but hundreds in memory, so a body within the size limit
		// could otherwise make millions of them.
		if n := countProto(body); n > MaxRecords {
			return nil, &TooManyError{N: n}
		}
		logs, err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(body)
	}
	if err != nil {
		return nil, &ParseError{Msg: fmt.Sprintf("not an ExportLogsServiceRequest: %v", err)}
	}
	if n := logs.LogRecordCount(); n > MaxRecords {
		return nil, &TooManyError{N: n}
	}
	var out []capture.Record
	rls := logs.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		res := fields(rl.Resource().Attributes())
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			scope := maps.Clone(res)
			if n := sl.Scope().Name(); n != "" {
				scope["otel.scope.name"] = n
			}
			if v := sl.Scope().Version(); v != "" {
				scope["otel.scope.version"] = v
			}
			lrs := sl.LogRecords()
			for k := range lrs.Len() {
				rec := record(lrs.At(k), scope, received)
				if lrs.At(k).Timestamp() != 0 {
					rec.ID = recordID(rec)
				}
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

// countProto counts the log records of an ExportLogsServiceRequest on
// the wire (resource_logs = 1, scope_logs = 2, log_records = 2), without
// decoding them, and stops past MaxRecords. What it cannot read,
// UnmarshalProto refuses after.
func countProto(b []byte) int {
	n := 0
	eachField(b, 1, func(rl []byte) bool {
		eachField(rl, 2, func(sl []byte) bool {
			eachField(sl, 2, func([]byte) bool { n++; return n <= MaxRecords })
			return n <= MaxRecords
		})
		return n <= MaxRecords
	})
	return n
}

// countJSON counts the objects in arrays named logRecords (or
// log_records, which decoders accept too), stopping past MaxRecords.
// What it cannot read, UnmarshalJSON refuses after.
func countJSON(b []byte) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	type level struct {
		array   bool
		key     string // in an object: the last key; in an array: the array's
		wantKey bool
	}
	stack := []level{{}}
	n := 0
	for n <= MaxRecords {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		top := &stack[len(stack)-1]
		if s, ok := tok.(string); ok && !top.array && top.wantKey {
			top.key, top.wantKey = s, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			if top.array && (top.key == "logRecords" || top.key == "log_records") {
				n++
			}
			stack = append(stack, level{wantKey: true, key: top.key})
		case json.Delim('['):
			stack = append(stack, level{array: true, key: top.key})
		case json.Delim('}'), json.Delim(']'):
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		}
		// After a value in an object, the next string is a key.
		if top := &stack[len(stack)-1]; !top.array {
			top.wantKey = true
		}
	}
	return n
}

// eachField calls f with each length-delimited field numbered num of
// message b, while f returns true.
func eachField(b []byte, num protowire.Number, f func([]byte) bool) {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 || !f(v) {
				return
			}
			b = b[l:]
			continue
		}
		if l = protowire.ConsumeFieldValue(n, typ, b); l < 0 {
			return
		}
		b = b[l:]
	}
}

func fields(attrs pcommon.Map) map[string]any {
	f := map[string]any{}
	flat.Add(f, "", attrs.AsRaw())
	return f
}

func record(lr plog.LogRecord, scope map[string]any, received time.Time) capture.Record {
	f := maps.Clone(scope)
	flat.Add(f, "", lr.Attributes().AsRaw())
	switch b := lr.Body(); b.Type() {
	case pcommon.ValueTypeEmpty:
	case pcommon.ValueTypeStr:
		f["message"] = b.Str()
	default:
		flat.Add(f, "body", b.AsRaw())
	}
	if s := lr.SeverityText(); s != "" {
		f["log.level"] = s
	}
	if n := lr.SeverityNumber(); n != plog.SeverityNumberUnspecified {
		f["log.severity_number"] = int64(n)
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		f["trace.id"] = id.String()
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		f["span.id"] = id.String()
	}
	if n := lr.EventName(); n != "" {
		f["event.name"] = n
	}
	rec := capture.Record{Fields: f, Received: received}
	switch {
	case lr.Timestamp() != 0:
		rec.Time = lr.Timestamp().AsTime().UTC()
	case lr.ObservedTimestamp() != 0:
		rec.Time = lr.ObservedTimestamp().AsTime().UTC()
	}
	return rec
}

// Response is an ExportLogsServiceResponse in enc: empty when every
// record was stored, else with partialSuccess naming how many were
// rejected and why.
func Response(enc Encoding, rejected int64, msg string) []byte {
	if rejected == 0 && msg == "" {
		// The empty message: the specification asks for no
		// partialSuccess when everything was accepted.
		if enc == JSON {
			return []byte("{}")
		}
		return []byte{}
	}
	if enc == JSON {
		// OTLP JSON writes 64-bit integers as strings.
		b, _ := json.Marshal(map[string]map[string]string{"partialSuccess": {
			"rejectedLogRecords": strconv.FormatInt(rejected, 10), "errorMessage": msg}})
		return b
	}
	// partial_success = 1 {rejected_log_records = 1, error_message = 2}
	var ps []byte
	if rejected != 0 {
		ps = protowire.AppendTag(ps, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, uint64(rejected))
	}
	if msg != "" {
		ps = protowire.AppendTag(ps, 2, protowire.BytesType)
		ps = protowire.AppendString(ps, msg)
	}
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(b, ps)
}

// Status is a google.rpc.Status in enc, the body OTLP/HTTP gives an
// error response. code is a gRPC status code (3 invalid argument, 8
// resource exhausted, 14 unavailable).
func Status(enc Encoding, code int32, msg string) []byte {
	st := &spb.Status{Code: code, Message: msg}
	var b []byte
	if enc == JSON {
		b, _ = protojson.Marshal(st)
	} else {
		b, _ = proto.Marshal(st)
	}
	return b
}

// recordID names a log record by everything it says: its time to the
// nanosecond, resource, scope, attributes and body. OTLP gives records no
// id, and an exporter that gets no answer sends the whole request again;
// with this, a record sent twice is stored once. Two records that say
// exactly the same at exactly the same nanosecond are taken for one. A
// record without its own time gets none: without it, two records that say
// the same are as likely two events as one sent twice.
func recordID(rec capture.Record) string {
	h := sha256.New()
	fmt.Fprintf(h, "otlp/v1\n%d\n", rec.Time.UnixNano())
	for _, name := range slices.Sorted(maps.Keys(rec.Fields)) {
		fmt.Fprintf(h, "%q=%T:%#v\n", name, rec.Fields[name], rec.Fields[name])
	}
	return "otlp-" + hex.EncodeToString(h.Sum(nil))
}
