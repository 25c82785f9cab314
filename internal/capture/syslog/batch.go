package syslog

import (
	"errors"
	"log/slog"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/ingest"
)

type item struct {
	source string
	rec    capture.Record
}

// batcher groups one connection's records (or all UDP records) by source
// and submits each group when it is full or BatchDelay old. While it
// retries, its channel fills and the reader stops reading: for TCP and TLS
// that is backpressure on the sender.
type batcher struct {
	s         *Server
	transport string
	in        chan item
	// fail closes the connection when its records cannot be stored; nil
	// for UDP.
	fail func()
}

func (s *Server) newBatcher(transport string, fail func()) *batcher {
	return &batcher{s: s, transport: transport, in: make(chan item, s.cfg.BatchSize), fail: fail}
}

// run submits what arrives on b.in until it is closed, then what is left.
func (b *batcher) run() {
	pending := map[string][]capture.Record{}
	held := 0
	timer := time.NewTimer(0)
	<-timer.C
	var due <-chan time.Time
	flush := func(source string) {
		held -= len(pending[source])
		b.submit(source, pending[source])
		delete(pending, source)
	}
	for {
		select {
		case it, ok := <-b.in:
			if !ok {
				for source := range pending {
					flush(source)
				}
				return
			}
			pending[it.source] = append(pending[it.source], it.rec)
			held++
			if len(pending[it.source]) >= b.s.cfg.BatchSize {
				flush(it.source)
			}
			if held > 0 && due == nil {
				timer.Reset(b.s.cfg.BatchDelay)
				due = timer.C
			}
		case <-due:
			due = nil
			for source := range pending {
				flush(source)
			}
		}
	}
}

// submit submits recs until they are durable or it gives up: a UDP batch
// after udpAttempts, a TCP batch the store keeps failing after
// errorAttempts (closing the connection), any batch once the server's
// shutdown deadline passes. A TCP batch refused for a rate limit or a full
// queue is retried as long as it takes.
func (b *batcher) submit(source string, recs []capture.Record) {
	s := b.s
	for attempt := 1; ; attempt++ {
		start := time.Now()
		_, err := s.cfg.Sink.Submit(s.stop, capture.Syslog, source, recs)
		s.metrics.batch.WithLabelValues(b.transport).Observe(time.Since(start).Seconds())
		if err == nil {
			return
		}
		reason, wait := reasonError, backoff(attempt)
		counted := reasonError
		var rl *capture.RateLimitedError
		switch {
		case errors.As(err, &rl):
			reason, wait = reasonRateLimited, max(rl.RetryAfter, 10*time.Millisecond)
			counted = reason
		case errors.Is(err, ingest.ErrOverloaded):
			reason, counted = reasonOverloaded, reasonOverloaded
		case errors.Is(err, capture.ErrUnknownSource):
			counted = reasonUnknownSource
		}
		s.metrics.errors.WithLabelValues(counted).Inc()
		backpressure := reason == reasonRateLimited || reason == reasonOverloaded
		giveUp := ""
		switch {
		case s.stop.Err() != nil:
			giveUp = reasonShutdown
		case b.fail == nil && attempt >= udpAttempts:
			giveUp = reason
		case b.fail != nil && !backpressure && attempt >= errorAttempts:
			giveUp = reason
		}
		if giveUp != "" {
			s.metrics.dropped.WithLabelValues(giveUp).Add(float64(len(recs)))
			s.dropLog.log(s.log, slog.LevelError, "syslog: dropping messages that could not be stored",
				"transport", b.transport, "source", source, "messages", len(recs), "reason", giveUp, "err", err)
			if b.fail != nil {
				b.fail()
			}
			return
		}
		level := slog.LevelWarn
		if !backpressure {
			level = slog.LevelError
		}
		s.errLog.log(s.log, level, "syslog: storing a batch failed; retrying",
			"transport", b.transport, "source", source, "messages", len(recs), "attempt", attempt, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.stop.Done():
			t.Stop()
		}
	}
}

// backoff is the wait before attempt+1: 50ms doubling to at most 5s.
func backoff(attempt int) time.Duration {
	return min(50*time.Millisecond<<min(attempt-1, 7), 5*time.Second)
}
