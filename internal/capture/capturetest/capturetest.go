// Package capturetest gives the inputs' tests a capture.Sink that keeps
// what it is given, so a test can check what an input read from a real
// client before any mapping.
package capturetest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/lbm-project/lbm/internal/capture"
)

// Submitted is one record as a Recorder received it.
type Submitted struct {
	Input  capture.Input
	Source string
	Record capture.Record
}

// Recorder is a capture.Sink that keeps every record submitted. Err, when
// set, fails every Submit with it and keeps nothing; Routes names the
// source Route gives for a record's log.syslog.hostname.
type Recorder struct {
	mu      sync.Mutex
	got     []Submitted
	changed chan struct{}
	Err     error
	Routes  map[string]string
	seen    map[string]bool // source + "\x00" + ID
}

// New returns an empty Recorder.
func New() *Recorder { return &Recorder{changed: make(chan struct{}, 1), seen: map[string]bool{}} }

func (r *Recorder) Submit(ctx context.Context, in capture.Input, source string, recs []capture.Record) ([]capture.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return nil, r.Err
	}
	out := make([]capture.Result, len(recs))
	for i, rec := range recs {
		key := source + "\x00" + rec.ID
		if rec.ID != "" && r.seen[key] {
			out[i] = capture.Result{Status: capture.Duplicate}
			continue
		}
		r.seen[key] = true
		st := capture.Stored
		if rec.Unparsed != "" {
			st = capture.Kept
		}
		out[i] = capture.Result{Status: st, ID: fmt.Sprintf("%032x", len(r.got)), Index: uint64(len(r.got)), Why: rec.Unparsed}
		r.got = append(r.got, Submitted{Input: in, Source: source, Record: rec})
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return out, nil
}

func (r *Recorder) Route(in capture.Input, rec capture.Record, fallback string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := rec.Fields["log.syslog.hostname"].(string); ok {
		if s, ok := r.Routes[h]; ok {
			return s
		}
	}
	return fallback
}

// Admit admits everything unless Err is set.
func (r *Recorder) Admit(source string, n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Err
}

// SetErr sets Err while the Recorder may be in use: later Submits fail
// with err, or succeed again once it is nil.
func (r *Recorder) SetErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Err = err
}

// Records returns a copy of what was submitted, in order.
func (r *Recorder) Records() []Submitted {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// Wait returns once at least n records were submitted, or ctx ends.
func (r *Recorder) Wait(ctx context.Context, n int) ([]Submitted, error) {
	for {
		if got := r.Records(); len(got) >= n {
			return got, nil
		}
		select {
		case <-r.changed:
		case <-ctx.Done():
			return r.Records(), fmt.Errorf("%d of %d records after waiting: %w", len(r.Records()), n, ctx.Err())
		}
	}
}
