package esbulk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/capture"
)

var received = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name  string
		body  string
		index string
		items []Item
		recs  []capture.Record
	}{{
		name: "ECS document flattened",
		body: `{"create":{"_index":"logs-winlog-default","_id":"Zq1"}}
{"@timestamp":"2026-11-02T08:00:00.123Z","message":"An account was logged on","host":{"name":"ws1","ip":["10.0.0.1","fe80::1"]},"user":{"name":"jsmith"},"event":{"category":["authentication"],"action":"logon","code":4624},"agent":{"type":"winlogbeat"},"log":{"file":{"path":"/var/log/x"}},"winlog":{"event_data":{"LogonType":"2"}},"score":0.5}
`,
		items: []Item{{Action: "create", Index: "logs-winlog-default", ID: "Zq1", Record: 0}},
		recs: []capture.Record{{Fields: map[string]any{
			"@timestamp": "2026-11-02T08:00:00.123Z", "message": "An account was logged on", "host.name": "ws1",
			"host.ip": []string{"10.0.0.1", "fe80::1"}, "user.name": "jsmith", "event.category": []string{"authentication"},
			"event.action": "logon", "event.code": int64(4624), "agent.type": "winlogbeat", "log.file.path": "/var/log/x",
			"winlog.event_data.LogonType": "2", "score": 0.5, "es.index": "logs-winlog-default", "es.action": "create",
		}, Time: time.Date(2026, 11, 2, 8, 0, 0, 123e6, time.UTC), Received: received, ID: "Zq1"}},
	}, {
		name: "arrays: numbers, mixed, objects leaf-wise, nulls skipped",
		body: `{"index":{}}
{"ints":[1,2,3],"floats":[1,2.5],"mixed":["a",1,true],"bools":[true,false],"empty":[],"nil":null,"obj":{},"related":[{"ip":"a","port":1},{"ip":"b"},{"port":2}],"nested":[[1,2],[3]],"@timestamp":1762070400000}
`,
		index: "vector-2026.11.02",
		items: []Item{{Action: "index", Index: "vector-2026.11.02", Record: 0}},
		recs: []capture.Record{{Fields: map[string]any{
			"ints": []int64{1, 2, 3}, "floats": []float64{1, 2.5}, "mixed": []string{"a", "1", "true"}, "bools": []string{"true", "false"},
			"related.ip": []string{"a", "b"}, "related.port": []int64{1, 2}, "nested": []int64{1, 2, 3},
			"@timestamp": int64(1762070400000), "es.index": "vector-2026.11.02", "es.action": "index",
		}, Time: time.Date(2025, 11, 2, 8, 0, 0, 0, time.UTC), Received: received}},
	}, {
		name: "bad documents kept unparsed; update and delete refused per item",
		body: `{"index":{"_index":"a"}}
{"message": "cut off
{"update":{"_index":"a","_id":"1"}}
{"doc":{"x":1}}
{"delete":{"_index":"a","_id":"1"}}
{"create":{"_index":"a"}}
"just a string"
{"index":{"_index":"a","_id":7}}
{"x":1}
{"index":{}}
{"x":1}
{"create":{"_index":"b"}}
{"a":1} {"b":2}
{"create":{"_index":"a","_id":""}}
{}
{"create":{"_index":"a","_id":"` + strings.Repeat("x", 257) + `"}}
{}
`,
		items: []Item{
			{Action: "index", Index: "a", Record: 0},
			{Action: "update", Index: "a", ID: "1", Record: -1, Err: &Error{400, "action_request_validation_exception", "Validation Failed: 1: lbm is append-only: update is refused;"}},
			{Action: "delete", Index: "a", ID: "1", Record: -1, Err: &Error{400, "action_request_validation_exception", "Validation Failed: 1: lbm is append-only: delete is refused;"}},
			{Action: "create", Index: "a", Record: 1},
			{Action: "index", Index: "a", Record: -1, Err: &Error{400, "illegal_argument_exception", "_id is not a string"}},
			{Action: "index", Record: -1, Err: &Error{400, "action_request_validation_exception", "Validation Failed: 1: index is missing;"}},
			{Action: "create", Index: "b", Record: 2},
			{Action: "create", Index: "a", Record: -1, Err: &Error{400, "action_request_validation_exception", "Validation Failed: 1: if _id is specified it must not be empty;"}},
			{Action: "create", Index: "a", ID: strings.Repeat("x", 257), Record: -1, Err: &Error{400, "action_request_validation_exception",
				"Validation Failed: 1: id [" + strings.Repeat("x", 32) + "…] is too long, must be no longer than 256 bytes;"}},
		},
		recs: []capture.Record{
			{Fields: map[string]any{"es.index": "a", "es.action": "index"}, Received: received,
				Unparsed: "source document is not JSON: unexpected EOF", Raw: []byte(`{"message": "cut off`)},
			{Fields: map[string]any{"es.index": "a", "es.action": "create"}, Received: received,
				Unparsed: "source document is not a JSON object", Raw: []byte(`"just a string"`)},
			{Fields: map[string]any{"es.index": "b", "es.action": "create"}, Received: received,
				Unparsed: "source document is not JSON: data after the JSON value", Raw: []byte(`{"a":1} {"b":2}`)},
		},
	}, {
		name:  "CRLF, blank lines and no final newline",
		body:  "\r\n{\"create\":{\"_index\":\"x\"}}\r\n{\"@timestamp\":\"not a date\",\"a\":{\"b.c\":\"d\"}}",
		items: []Item{{Action: "create", Index: "x", Record: 0}},
		recs:  []capture.Record{{Fields: map[string]any{"@timestamp": "not a date", "a.b.c": "d", "es.index": "x", "es.action": "create"}, Received: received}},
	}, {
		name: "empty body",
		body: "",
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse([]byte(c.body), c.index, received)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(c.items, got.Items); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.recs, got.Records); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRefusesBrokenStructure(t *testing.T) {
	for _, c := range []struct {
		body string
		line int
		want string
	}{
		{"{\"create\":{\"_index\":\"x\"}}\n", 1, "no source document line"},
		{"{\"message\":\"a document where an action should be\"}\n{}\n", 1, "expected [create], [delete], [index] or [update]"},
		{"not json\n{}\n", 1, "not a JSON object"},
		{"{\"index\":{},\"create\":{}}\n{}\n", 1, "exactly one action"},
		{"{\"index\":[]}\n{}\n", 1, "is not a JSON object"},
		{"{\"index\":{}}\n{}\n{\"index\":{}}\n", 3, "no source document line"},
		{"[1]\n{}\n", 1, "not a JSON object"},
	} {
		_, err := Parse([]byte(c.body), "i", received)
		var re *RequestError
		if !errors.As(err, &re) || re.Status != 400 || re.Line != c.line || !strings.Contains(re.Msg, c.want) {
			t.Errorf("Parse(%q) = %v, want a 400 at line %d containing %q", c.body, err, c.line, c.want)
		}
	}
}

func TestParseRefusesTooManyDocuments(t *testing.T) {
	body := strings.Repeat("{\"index\":{}}\n{}\n", MaxDocuments+1)
	_, err := Parse([]byte(body), "i", received)
	var re *RequestError
	if !errors.As(err, &re) || re.Status != 413 {
		t.Fatalf("Parse(%d documents) = %v, want a 413", MaxDocuments+1, err)
	}
	if _, err := Parse([]byte(body[len("{\"index\":{}}\n{}\n"):]), "i", received); err != nil {
		t.Fatalf("Parse(%d documents) = %v, want it read", MaxDocuments, err)
	}
}

func TestReply(t *testing.T) {
	req, err := Parse([]byte(`{"create":{"_index":"a","_id":"x1"}}
{"m":1}
{"create":{"_index":"a","_id":"x2"}}
{"m":2}
{"index":{"_index":"a","_id":"x3"}}
{"m":3}
{"index":{"_index":"a"}}
not json
{"delete":{"_index":"a","_id":"x1"}}
`), "", received)
	if err != nil {
		t.Fatal(err)
	}
	results := []capture.Result{
		{Status: capture.Stored, ID: "0123456789abcdef0123456789abcdef", Index: 41},
		{Status: capture.Duplicate},
		{Status: capture.Duplicate},
		{Status: capture.Kept, ID: "fedcba9876543210fedcba9876543210", Index: 42, Why: "not JSON"},
	}
	var got map[string]any
	if err := json.Unmarshal(Reply(req, results, 7*time.Millisecond), &got); err != nil {
		t.Fatal(err)
	}
	shards := map[string]any{"total": 1.0, "successful": 1.0, "failed": 0.0}
	want := map[string]any{"took": 7.0, "errors": true, "items": []any{
		map[string]any{"create": map[string]any{"_index": "a", "_id": "x1", "_version": 1.0, "result": "created", "_shards": shards,
			"_seq_no": 41.0, "_primary_term": 1.0, "status": 201.0}},
		map[string]any{"create": map[string]any{"_index": "a", "_id": "x2", "status": 409.0,
			"error": map[string]any{"type": "version_conflict_engine_exception", "reason": "[x2]: version conflict, document already exists"}}},
		map[string]any{"index": map[string]any{"_index": "a", "_id": "x3", "_version": 1.0, "result": "noop", "_shards": shards, "status": 200.0}},
		map[string]any{"index": map[string]any{"_index": "a", "_id": "fedcba9876543210fedcba9876543210", "_version": 1.0, "result": "created",
			"_shards": shards, "_seq_no": 42.0, "_primary_term": 1.0, "status": 201.0}},
		map[string]any{"delete": map[string]any{"_index": "a", "_id": "x1", "status": 400.0,
			"error": map[string]any{"type": "action_request_validation_exception", "reason": "Validation Failed: 1: lbm is append-only: delete is refused;"}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Reply (-want +got):\n%s", diff)
	}
}

func TestErrorReply(t *testing.T) {
	var got map[string]any
	if err := json.Unmarshal(ErrorReply(400, "illegal_argument_exception", "line 1: bad"), &got); err != nil {
		t.Fatal(err)
	}
	e := map[string]any{"type": "illegal_argument_exception", "reason": "line 1: bad"}
	want := map[string]any{"error": map[string]any{"root_cause": []any{e}, "type": e["type"], "reason": e["reason"]}, "status": 400.0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ErrorReply (-want +got):\n%s", diff)
	}
}

// FuzzBulk checks that any body either fails whole with a RequestError
// or yields one item per action, each record with its index and action,
// and a reply that is JSON.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{
		"{\"create\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"@timestamp\":\"2026-11-02T08:00:00Z\",\"user\":{\"name\":\"j\"}}\n",
		"{\"index\":{}}\n{\"a\":[{\"b\":1},{\"b\":\"x\"}],\"n\":1e400}\n{\"delete\":{\"_id\":\"1\"}}\n",
		"{\"update\":{\"_index\":\"a\"}}\n{\"doc\":{}}\n{\"index\":{\"_index\":1}}\nnot json\n",
		"\r\n\n{\"index\":{}}",
		"{\"index\":{\"_index\":\"a\"}}\n{\"@timestamp\":99999999999999999999}\n",
	} {
		f.Add([]byte(s), "idx")
	}
	f.Fuzz(func(t *testing.T, body []byte, index string) {
		req, err := Parse(body, index, received)
		if err != nil {
			if _, ok := errors.AsType[*RequestError](err); !ok {
				t.Fatalf("Parse error %T %v, want a *RequestError", err, err)
			}
			return
		}
		results := make([]capture.Result, len(req.Records))
		for i, rec := range req.Records {
			if _, ok := rec.Fields["es.action"].(string); !ok {
				t.Fatalf("record %d has no es.action: %v", i, rec.Fields)
			}
			if (rec.Unparsed == "") == (rec.Raw != nil) {
				t.Fatalf("record %d: Unparsed %q with Raw %q", i, rec.Unparsed, rec.Raw)
			}
			for k, v := range rec.Fields {
				switch v.(type) {
				case string, bool, int64, float64, []string, []int64, []float64:
				default:
					t.Fatalf("field %q has a %T", k, v)
				}
			}
			results[i] = capture.Result{Status: capture.Stored, ID: "x", Index: uint64(i)}
		}
		var reply struct{ Items []map[string]any }
		if err := json.Unmarshal(Reply(req, results, 0), &reply); err != nil || len(reply.Items) != len(req.Items) {
			t.Fatalf("Reply: %v, %d items for %d", err, len(reply.Items), len(req.Items))
		}
	})
}
