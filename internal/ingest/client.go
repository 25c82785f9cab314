package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client pushes NDJSON batches to a server's POST /v1/events, retrying on
// overload (503) and rate limits (429) as Retry-After says. Retries are safe
// for events that carry event.id: the server recognises them as duplicates.
type Client struct {
	Server string // base URL, e.g. "http://127.0.0.1:8080"
	Token  string // a source token; sent only as a bearer header
	HTTP   *http.Client
	// MaxAttempts bounds tries per batch. Default 20.
	MaxAttempts int
	// Sleep waits between attempts; tests replace it. Default time.Sleep
	// honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Reply is the answer to POST /v1/events, sent only once every event of the
// request is durable. IDs and Indexes follow the request's line order; a
// line already stored (same source and event.id) reports the stored event.
// The server (internal/web) encodes it and the client decodes it.
type Reply struct {
	Log        string   `json:"log"`
	Accepted   int      `json:"accepted"`
	Duplicates int      `json:"duplicates"`
	FirstIndex *uint64  `json:"first_index,omitempty"`
	LastIndex  *uint64  `json:"last_index,omitempty"`
	TreeSize   uint64   `json:"tree_size"`
	IDs        []string `json:"ids"`
	Indexes    []uint64 `json:"indexes"`
	// Logs names the log of each event, in line order, only when a
	// resent event was found in another shard than Log.
	Logs []string `json:"logs,omitempty"`
}

// ProblemError is a refusal the server explained (RFC 9457).
type ProblemError struct {
	Status int
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Line   int    `json:"line"`
	Field  string `json:"field"`
}

func (e *ProblemError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s (server refused the batch: %d %s)", e.Line, strings.TrimPrefix(e.Detail, fmt.Sprintf("line %d: ", e.Line)), e.Status, e.Title)
	}
	if e.Detail != "" {
		return fmt.Sprintf("server refused the batch (%d %s): %s", e.Status, e.Title, e.Detail)
	}
	return fmt.Sprintf("server refused the batch (%d %s)", e.Status, e.Title)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Push sends one batch of NDJSON lines and returns the server's reply. It
// retries on 503, 429 and connection failures, up to MaxAttempts; retried
// reports each retry (attempt number and wait) when set.
func (c *Client) Push(ctx context.Context, body []byte, retried func(attempt int, wait time.Duration, why string)) (Reply, error) {
	var r Reply
	err := c.post(ctx, "/v1/events", "application/x-ndjson", body, retried, &r)
	return r, err
}

// post sends body to path and decodes the 200 reply into reply, retrying
// as Push describes.
func (c *Client) post(ctx context.Context, path, contentType string, body []byte, retried func(attempt int, wait time.Duration, why string), reply any) error {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	sleep := c.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	attempts := c.MaxAttempts
	if attempts == 0 {
		attempts = 20
	}
	backoff := 100 * time.Millisecond
	var lastErr error
	refused := 0 // consecutive connection failures
	for attempt := 1; attempt <= attempts; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Server, "/")+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.Token)
		req.Header.Set("Content-Type", contentType)
		resp, err := hc.Do(req)
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			lastErr = fmt.Errorf("posting to %s: %v", path, err)
			wait, why = backoff, "connection failed"
			// A server that is down stays down for longer than a person
			// wants to wait; an overloaded one answers, and is waited for.
			if refused++; refused >= maxConnectionFailures {
				return fmt.Errorf("giving up after %d connection failures: %w", refused, lastErr)
			}
		case resp.StatusCode == http.StatusOK:
			err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(reply)
			resp.Body.Close()
			if err != nil {
				return fmt.Errorf("reading reply: %v", err)
			}
			return nil
		case resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests:
			refused = 0
			wait = retryAfter(resp.Header.Get("Retry-After"), backoff)
			why = resp.Status
			lastErr = problemFrom(resp)
		default:
			return problemFrom(resp)
		}
		if attempt == attempts {
			break
		}
		if retried != nil {
			retried(attempt, wait, why)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	return fmt.Errorf("giving up after %d attempts: %w", attempts, lastErr)
}

// maxConnectionFailures bounds retries of a server that does not answer.
const maxConnectionFailures = 6

func retryAfter(h string, fallback time.Duration) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 && s < 3600 {
		return time.Duration(s) * time.Second
	}
	return fallback
}

func problemFrom(resp *http.Response) error {
	defer resp.Body.Close()
	pe := &ProblemError{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err := json.Unmarshal(b, pe); err != nil && len(b) > 0 {
		pe.Detail = strings.TrimSpace(string(b))
	}
	return pe
}

// ErrBadInput marks a file the client could not read as NDJSON batches.
var ErrBadInput = errors.New("bad input")

// UploadStats sums an upload.
type UploadStats struct {
	Lines, Accepted, Duplicates int
	Retries                     int
}

// Upload reads NDJSON from r and pushes it in batches of batchLines lines
// (and at most batchBytes bytes). progress, when set, is told the bytes read
// so far after each batch. A batch the server refuses stops the upload with
// an error naming the line of the FILE (not of the batch) at fault; batches
// before it are stored, the rest are not sent.
func (c *Client) Upload(ctx context.Context, r io.Reader, batchLines, batchBytes int, progress func(read int64), retried func(attempt int, wait time.Duration, why string)) (UploadStats, error) {
	var st UploadStats
	br := newLineReader(r)
	var batch bytes.Buffer
	firstLine, n := 1, 0
	var read int64
	flush := func() error {
		if n == 0 {
			return nil
		}
		rep, err := c.Push(ctx, batch.Bytes(), func(a int, w time.Duration, why string) {
			st.Retries++
			if retried != nil {
				retried(a, w, why)
			}
		})
		if err != nil {
			var pe *ProblemError
			if errors.As(err, &pe) && pe.Line > 0 {
				// Name the line of the file, not of the batch.
				pe.Detail = strings.TrimPrefix(pe.Detail, fmt.Sprintf("line %d: ", pe.Line))
				pe.Line = firstLine + pe.Line - 1
			}
			return err
		}
		st.Accepted += rep.Accepted
		st.Duplicates += rep.Duplicates
		batch.Reset()
		firstLine += n
		n = 0
		if progress != nil {
			progress(read)
		}
		return nil
	}
	for {
		line, err := br.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("line %d: %w", firstLine+n, err)
		}
		read += int64(len(line)) + 1
		st.Lines++
		batch.Write(line)
		batch.WriteByte('\n')
		n++
		if n >= batchLines || batch.Len() >= batchBytes {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	return st, flush()
}

// MailReply is the answer to POST /v1/email, sent once every kept
// message is durable. IDs and Indexes follow the order of the messages
// kept (stored, duplicate or unparsed); skipped ones are listed apart.
type MailReply struct {
	Messages   int           `json:"messages"`
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Unparsed   int           `json:"unparsed"`
	Skipped    []MailSkipped `json:"skipped"`
	IDs        []string      `json:"ids"`
	Indexes    []uint64      `json:"indexes"`
}

// MailSkipped is a message the server read but did not keep: one that
// held nothing at all.
type MailSkipped struct {
	Message   int    `json:"message"` // 1-based, in the request
	MessageID string `json:"message_id"`
	Reason    string `json:"reason"`
}
