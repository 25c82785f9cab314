// Package esbulk reads the Elasticsearch [bulk API] as log shippers send
// it (Beats, Vector, Fluent Bit, Logstash, the go-elasticsearch client)
// into capture records, and writes the reply they expect, with a status
// per item. It does no I/O: the web layer reads the body, hands the
// records to a capture.Sink, and passes the results to [Reply].
//
// # The request
//
// A body is NDJSON: an action line, then (except for delete) a source
// line. lbm is append-only, so of the four actions only index and create
// store anything:
//
//	{"create":{"_index":"logs-winlog-default","_id":"Zq1"}}
//	{"@timestamp":"2026-11-02T08:00:00Z","event":{"action":"logon"},"user":{"name":"jsmith"}}
//	{"delete":{"_index":"logs","_id":"Zq1"}}
//
// gives one record, with the fields @timestamp, event.action, user.name,
// es.index ("logs-winlog-default") and es.action ("create"), and ID
// "Zq1", so that a shipper's retry is stored once. The delete is refused
// for its item alone (400, action_request_validation_exception).
//
// A source document is flattened as package flat describes. One that is
// not a JSON object is not dropped: it becomes a record with Unparsed
// set and the line kept as Raw. An action line that cannot be read, or
// a body whose lines do not pair up, fails the whole request (a
// [*RequestError] of status 400), as Elasticsearch does: there is then no
// telling which line is a document.
//
// # The reply
//
// Each index or create item answers 201 "created" with the _id the
// document was stored under (its own, or the event id lbm gave it). A
// create whose _id was already stored answers 409
// version_conflict_engine_exception, which Beats and Logstash count as
// delivered; an index of a stored _id answers 200 "noop".
//
// [bulk API]: https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
package esbulk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/flat"
	"github.com/lbm-project/lbm/internal/ingest"
)

// MaxDocuments bounds the documents of one request, as for POST
// /v1/events, so that one request's batch stays bounded.
const MaxDocuments = ingest.MaxBatchEvents

// MaxIDBytes bounds an _id: it becomes the event's event.id, which is at
// most 256 bytes.
const MaxIDBytes = 256

// Item is one action of a request, in order.
type Item struct {
	// Action is "index", "create", "update" or "delete".
	Action string
	// Index is the target index or data stream: the action's _index,
	// else the one in the request's path.
	Index string
	// ID is the action's _id; "" when it gave none.
	ID string
	// Err, when set, refuses the item; nothing of it is stored.
	Err *Error
	// Record is the item's position in Request.Records; -1 when Err is
	// set.
	Record int
}

// Request is a decoded bulk request.
type Request struct {
	Items   []Item
	Records []capture.Record
}

// Error is an Elasticsearch error: its type names the exception as
// Elasticsearch would, so a shipper classifies it as it would there.
type Error struct {
	Status int
	Type   string
	Reason string
}

// RequestError refuses a whole request: Status is 400 for a body that is
// not a bulk request, 413 for one over a limit.
type RequestError struct {
	Status int
	Line   int // 1-based; 0 when no line is at fault
	Msg    string
}

func (e *RequestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Parse reads a bulk body. index is the index named in the request's
// path ("" for /_bulk); received is when lbm read it. An error is a
// *RequestError, and then nothing of the body may be stored.
func Parse(body []byte, index string, received time.Time) (*Request, error) {
	req := &Request{}
	lineNo := 0
	next := func() ([]byte, bool) {
		for len(body) > 0 {
			var line []byte
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				line, body = body[:i], body[i+1:]
			} else {
				line, body = body, nil
			}
			lineNo++
			line = bytes.TrimSuffix(line, []byte("\r"))
			return line, true
		}
		return nil, false
	}
	for {
		line, ok := next()
		if !ok {
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // blank lines between pairs carry nothing
		}
		actionLine := lineNo
		it, err := parseAction(line, index)
		if err != nil {
			return nil, &RequestError{Status: 400, Line: actionLine, Msg: err.Error()}
		}
		if it.Action != "delete" {
			src, ok := next()
			if !ok {
				return nil, &RequestError{Status: 400, Line: actionLine, Msg: fmt.Sprintf("%s action has no source document line", it.Action)}
			}
			if it.Err == nil {
				if len(req.Records) == MaxDocuments {
					return nil, &RequestError{Status: 413, Msg: fmt.Sprintf("more than %d documents in one request", MaxDocuments)}
				}
				it.Record = len(req.Records)
				req.Records = append(req.Records, record(src, it, received))
			}
		}
		req.Items = append(req.Items, it)
	}
	return req, nil
}

// parseAction reads an action line. An error breaks the request; an
// action lbm refuses, or metadata it cannot use, refuses its item.
func parseAction(line []byte, index string) (Item, error) {
	var action map[string]json.RawMessage
	if err := decodeOne(line, &action); err != nil || action == nil {
		return Item{}, fmt.Errorf("malformed action/metadata line: not a JSON object")
	}
	if len(action) != 1 {
		return Item{}, fmt.Errorf("malformed action/metadata line: want exactly one action, found %d", len(action))
	}
	it := Item{Index: index, Record: -1}
	var raw json.RawMessage
	for name, meta := range action { // the only one
		it.Action, raw = name, meta
	}
	switch it.Action {
	case "index", "create", "update", "delete":
	default:
		return Item{}, fmt.Errorf("malformed action/metadata line: expected [create], [delete], [index] or [update], found [%.64s]", it.Action)
	}
	var meta map[string]any
	if err := decodeOne(raw, &meta); err != nil || meta == nil {
		return Item{}, fmt.Errorf("malformed action/metadata line: [%s] is not a JSON object", it.Action)
	}
	if v, ok := meta["_index"]; ok {
		s, isStr := v.(string)
		if !isStr {
			it.Err = &Error{Status: 400, Type: "illegal_argument_exception", Reason: "_index is not a string"}
		}
		it.Index = s
	}
	if v, ok := meta["_id"]; ok {
		s, isStr := v.(string)
		if !isStr {
			it.Err = &Error{Status: 400, Type: "illegal_argument_exception", Reason: "_id is not a string"}
		}
		it.ID = s
	}
	switch {
	case it.Err != nil:
	case it.Action == "update" || it.Action == "delete":
		it.Err = &Error{Status: 400, Type: "action_request_validation_exception",
			Reason: "Validation Failed: 1: lbm is append-only: " + it.Action + " is refused;"}
	case it.Index == "":
		it.Err = &Error{Status: 400, Type: "action_request_validation_exception", Reason: "Validation Failed: 1: index is missing;"}
	case it.ID == "" && meta["_id"] != nil:
		it.Err = &Error{Status: 400, Type: "action_request_validation_exception", Reason: "Validation Failed: 1: if _id is specified it must not be empty;"}
	case len(it.ID) > MaxIDBytes:
		// Elasticsearch's limit is 512 bytes; an event id's is 256.
		it.Err = &Error{Status: 400, Type: "action_request_validation_exception",
			Reason: fmt.Sprintf("Validation Failed: 1: id [%.32s…] is too long, must be no longer than %d bytes;", it.ID, MaxIDBytes)}
	}
	return it, nil
}

// decodeOne decodes exactly one JSON value.
func decodeOne(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

// record turns one source document into a record; a document that is
// not a JSON object is kept unparsed.
func record(src []byte, it Item, received time.Time) capture.Record {
	rec := capture.Record{Fields: map[string]any{}, Received: received, ID: it.ID}
	var v any
	err := decodeOne(src, &v)
	doc, isObject := v.(map[string]any)
	switch {
	case err != nil:
		rec.Unparsed = fmt.Sprintf("source document is not JSON: %v", err)
		rec.Raw = bytes.Clone(src)
	case !isObject:
		rec.Unparsed = "source document is not a JSON object"
		rec.Raw = bytes.Clone(src)
	default:
		flat.Add(rec.Fields, "", doc)
		rec.Time = timestamp(doc["@timestamp"])
	}
	rec.Fields["es.index"] = it.Index
	rec.Fields["es.action"] = it.Action
	return rec
}

// timestamp reads @timestamp as Elasticsearch's default date format
// does: RFC 3339, or epoch milliseconds as a number or a string of
// digits. The zero time when it is absent or neither.
func timestamp(v any) time.Time {
	var ms string
	switch v := v.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t
		}
		ms = v
	case json.Number:
		ms = v.String()
	default:
		return time.Time{}
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	// Beyond ±10^15 ms (some 30,000 years) is not a time anyone logged.
	if err != nil || n > 1e15 || n < -1e15 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

// Reply is the bulk response for req, given the results the sink
// returned for req.Records (nil when no record was submitted).
func Reply(req *Request, results []capture.Result, took time.Duration) []byte {
	type shards struct {
		Total      int `json:"total"`
		Successful int `json:"successful"`
		Failed     int `json:"failed"`
	}
	type outcome struct {
		Index       string     `json:"_index"`
		ID          string     `json:"_id,omitempty"`
		Version     int        `json:"_version,omitempty"`
		Result      string     `json:"result,omitempty"`
		Shards      *shards    `json:"_shards,omitempty"`
		SeqNo       *uint64    `json:"_seq_no,omitempty"`
		PrimaryTerm int        `json:"_primary_term,omitempty"`
		Status      int        `json:"status"`
		Error       *errorBody `json:"error,omitempty"`
	}
	out := struct {
		Took   int64                `json:"took"`
		Errors bool                 `json:"errors"`
		Items  []map[string]outcome `json:"items"`
	}{Took: took.Milliseconds(), Items: make([]map[string]outcome, 0, len(req.Items))}
	for _, it := range req.Items {
		o := outcome{Index: it.Index, ID: it.ID}
		switch {
		case it.Err != nil:
			o.Status = it.Err.Status
			o.Error = &errorBody{Type: it.Err.Type, Reason: it.Err.Reason}
		case it.Record >= len(results):
			// No result for a record: the sink broke its contract.
			o.Status = 500
			o.Error = &errorBody{Type: "exception", Reason: "no result for this document"}
		default:
			res := results[it.Record]
			switch res.Status {
			case capture.Duplicate:
				if it.Action == "create" {
					o.Status = 409
					o.Error = &errorBody{Type: "version_conflict_engine_exception",
						Reason: "[" + it.ID + "]: version conflict, document already exists"}
				} else {
					o.Status, o.Result, o.Version = 200, "noop", 1
					o.Shards = &shards{Total: 1, Successful: 1}
				}
			default:
				if o.ID == "" {
					o.ID = res.ID
				}
				idx := res.Index
				o.Status, o.Result, o.Version, o.SeqNo, o.PrimaryTerm = 201, "created", 1, &idx, 1
				o.Shards = &shards{Total: 1, Successful: 1}
			}
		}
		if o.Status >= 300 {
			out.Errors = true
		}
		out.Items = append(out.Items, map[string]outcome{it.Action: o})
	}
	b, _ := json.Marshal(out)
	return b
}

type errorBody struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// ErrorReply is Elasticsearch's body for a request refused whole.
func ErrorReply(status int, typ, reason string) []byte {
	e := errorBody{Type: typ, Reason: reason}
	b, _ := json.Marshal(struct {
		Error struct {
			RootCause []errorBody `json:"root_cause"`
			errorBody
		} `json:"error"`
		Status int `json:"status"`
	}{Error: struct {
		RootCause []errorBody `json:"root_cause"`
		errorBody
	}{RootCause: []errorBody{e}, errorBody: e}, Status: status})
	return b
}
