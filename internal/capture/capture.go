// Package capture takes messages as other systems already send them
// (syslog, e-mail journals, log shippers' Elasticsearch _bulk and OTLP)
// and turns them into events of the activity log. Each input reads its
// protocol into Records; a source's mapping (internal/capture/mapping)
// decides which fields are metadata, which are content and who the
// subject is; internal/capture/pipeline appends the events through the
// log's writer.
//
// Nothing an input could read is dropped: a message that cannot be parsed,
// or that the mapping cannot turn into a valid event, is kept whole as an
// "unparsed" event, so that the record of use stays complete.
package capture

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Input names the channel a record came through. Each input has a
// built-in mapping, which a source's own mapping file replaces.
type Input string

const (
	Syslog Input = "syslog" // RFC 5424 and RFC 3164 over TCP, UDP or TLS
	Email  Input = "email"  // messages: files, mbox, the SMTP journal endpoint
	ECS    Input = "ecs"    // Elasticsearch _bulk documents from shippers
	OTLP   Input = "otlp"   // OpenTelemetry log records over OTLP/HTTP
)

// Inputs lists every input, in the order docs and metrics show them.
var Inputs = []Input{Syslog, Email, ECS, OTLP}

// Record is one message as an input read it, before mapping.
type Record struct {
	// Fields holds what the message says, under dotted names as the
	// input calls them (docs/ingest.md lists each input's). Values are
	// string, bool, int64, float64, or []string, []int64, []float64.
	// Names may hold any character: the mapping makes them event names.
	Fields map[string]any
	// Time is when the message says it happened; zero when it says
	// nothing, and Received is used.
	Time time.Time
	// Received is when lbm read it.
	Received time.Time
	// ID, when not empty, becomes event.id, so a message delivered
	// again is stored once (deduplicated per source).
	ID string
	// Unparsed, when not empty, says why the input could not read the
	// message; Raw is then kept whole, as content.
	Unparsed string
	// Raw is the message as received, kept (as content) only when the
	// message is unparsed or the mapping cannot make an event of it.
	Raw []byte
}

// Status is what became of one record.
type Status int

const (
	Stored    Status = iota // appended as mapped
	Kept                    // appended, but as an unparsed event (see Result.Why)
	Duplicate               // its ID was already stored for the source
)

func (s Status) String() string {
	switch s {
	case Stored:
		return "stored"
	case Kept:
		return "unparsed"
	case Duplicate:
		return "duplicate"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is what became of one record, in the order submitted.
type Result struct {
	Status Status
	ID     string // the event's id (32 hex digits)
	Index  uint64 // its index in the activity log
	Why    string // for Kept: why it could not be mapped or parsed
}

// Sink takes records and returns once they are durable in the log.
type Sink interface {
	// Submit maps recs under source's mapping for input and appends
	// them in one batch. It returns a Result per record, in order, once
	// all are durable; an error means none was stored (ErrRateLimited,
	// ingest.ErrOverloaded, ErrUnknownSource, or the store's).
	Submit(ctx context.Context, input Input, source string, recs []Record) ([]Result, error)
	// Route names the source a record belongs to, by the match rules
	// of the mappings of that input (syslog: host and app name), or
	// fallback when none matches.
	Route(input Input, rec Record, fallback string) string
	// Admit holds events sent as NDJSON to POST /v1/events, which need
	// no mapping, to the source's rate limit: *RateLimitedError when
	// n more events would go over it.
	Admit(source string, n int) error
}

// ErrUnknownSource is returned for a source that is not registered.
var ErrUnknownSource = errors.New("unknown source")

// RateLimitedError is returned when a source sends faster than its
// mapping's rate limit allows; nothing of the batch was stored.
type RateLimitedError struct {
	Source     string
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("source %s is over its rate limit: retry after %s", e.Source, e.RetryAfter.Round(time.Millisecond))
}

// RetryAfterSeconds is the whole seconds a Retry-After header should say.
func (e *RateLimitedError) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// ErrRateLimited matches every *RateLimitedError under errors.Is.
var ErrRateLimited = errors.New("rate limited")

func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }
