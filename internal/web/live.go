package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/review"
)

// apiOpenFeed opens a live feed under an authorisation to monitor or
// record: POST, so that the justification is never in a URL, whereas the
// events are read with GET, which is all a browser's EventSource can do.
func (s *server) apiOpenFeed(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in review.FeedInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	feed, err := s.cfg.Review.OpenFeed(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.Header().Set("Location", feed.Events)
	writeJSON(w, http.StatusCreated, feed)
}

// feedWriteTimeout bounds one write of a stream: a client that stops
// reading is dropped rather than holding the stream open. Each write
// sets its own deadline, so a server-wide WriteTimeout does not cut a
// stream that is still being read.
const feedWriteTimeout = 30 * time.Second

// apiFeedEvents streams a feed as server-sent events (text/event-stream,
// [HTML Living Standard §9.2]): "events" messages carrying a query's
// answer (access_record and events), "end" with {"reason"} when the feed
// is over, "error" with {"detail"} when it failed, and comment lines as
// heartbeats. A feed that is not the caller's is 404 before any stream.
//
// [HTML Living Standard §9.2]: https://html.spec.whatwg.org/multipage/server-sent-events.html
func (s *server) apiFeedEvents(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	rc := http.NewResponseController(w)
	// The connection may serve another request after the stream: leave it
	// without a deadline of ours.
	defer rc.SetWriteDeadline(time.Time{})
	started := false
	var gone error // the client's failure, which is not ours to log
	err := s.cfg.Review.Follow(r.Context(), p, r.PathValue("feed"), func(m review.Message) (err error) {
		defer func() { gone = err }()
		rc.SetWriteDeadline(time.Now().Add(feedWriteTimeout))
		if !started {
			h := w.Header()
			h.Set("Content-Type", "text/event-stream")
			h.Set("Cache-Control", "no-store")
			h.Set("X-Accel-Buffering", "no") // proxies must not hold events back
			w.WriteHeader(http.StatusOK)
			// A dropped stream is reconnected after 2s; the feed goes on.
			if _, err := w.Write([]byte("retry: 2000\n\n")); err != nil {
				return err
			}
			started = true
		}
		if _, err := w.Write(formatFeedMessage(m)); err != nil {
			return err
		}
		return rc.Flush()
	})
	switch {
	case err != nil && !started:
		writeProblem(w, r, s.cfg.Logger, err)
	case err != nil && !errors.Is(err, context.Canceled) && (gone == nil || !errors.Is(err, gone)):
		// The client has been told "error"; the cause stays in our log.
		s.cfg.Logger.Error("live feed failed", "path", r.URL.Path, "actor", p.Subject, "err", err)
	}
}

// formatFeedMessage encodes m as one server-sent event. encoding/json
// never writes a newline, so each message's data is one line.
func formatFeedMessage(m review.Message) []byte {
	var data any
	switch m.Kind {
	case review.MessageHeartbeat:
		return []byte(": heartbeat\n\n")
	case review.MessageEvents:
		data = m.Result
	case review.MessageEnd:
		data = map[string]string{"reason": m.Reason}
	default:
		data = map[string]string{"detail": m.Reason}
	}
	b, _ := json.Marshal(data)
	out := make([]byte, 0, len(b)+32)
	out = append(out, "event: "+m.Kind+"\ndata: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}
