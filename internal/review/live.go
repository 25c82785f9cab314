package review

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// Live monitoring (issue 7, item 5). An authorisation to monitor or
// record lets its named investigators see events as they arrive. An
// investigator opens a feed ([Service.OpenFeed]: the justification and
// the filter, checked and refused exactly as a query's are) and follows
// it ([Service.Follow]). Every poll re-reads the request, so a feed stops
// at the first poll after the authorisation expires or is cancelled, and
// every batch it delivers has its access record (ActionLive) durable in
// the oversight log before a byte of the batch is sent: if the record
// cannot be written, the feed ends with an error and sends nothing of it.
//
// A feed follows each activity log by its index, not by time: a source
// may send an event long after the time it carries, and a time cursor
// would miss it. Where the activity log is sharded (one log per ingest
// node, store.IsActivityLog), the feed follows every shard, each by its
// own index, and a shard that appears after the feed opened is followed
// from its start. Events outside the authorisation's life (before its
// decision, after its expiry) are out of scope whenever they arrive.

// FeedInput is the body of POST /v1/requests/{id}/feeds: a [Filter]
// without a period (a feed runs from now until the authorisation ends)
// or text search.
type FeedInput struct {
	Subjects   []string `json:"subjects,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Sources    []string `json:"sources,omitempty"`
	Actions    []string `json:"actions,omitempty"`
	Content    bool     `json:"content,omitempty"`
	// Justification says why watching is needed now (DPA 2018 s.62); it
	// is in every access record the feed writes.
	Justification string `json:"justification"`
}

func (in FeedInput) filter() Filter {
	return Filter{Subjects: in.Subjects, Categories: in.Categories, Sources: in.Sources, Actions: in.Actions, Content: in.Content}
}

// Feed is an open feed: its id, and the path its events are read at.
type Feed struct {
	ID     string `json:"feed"`
	Events string `json:"events"`
}

// FeedConfig tunes live feeds. The zero value is the defaults.
type FeedConfig struct {
	// Poll is how often a followed feed looks for new events. Default 1s.
	Poll time.Duration
	// Heartbeat is how often an idle stream sends a heartbeat, so that
	// proxies do not close it. Default 15s.
	Heartbeat time.Duration
	// Stream is the longest one stream lasts. Then it closes without an
	// end, and the client reconnects (an EventSource does by itself),
	// which authenticates the caller again: a revoked token stops
	// watching within this. Default 10 minutes.
	Stream time.Duration
	// Idle is how long a feed nobody follows is kept. Default 5 minutes.
	Idle time.Duration
	// PerPerson bounds the feeds one person holds: opening another ends
	// their oldest. Default 4.
	PerPerson int
}

func (c FeedConfig) withDefaults() FeedConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Poll, time.Second)
	def(&c.Heartbeat, 15*time.Second)
	def(&c.Stream, 10*time.Minute)
	def(&c.Idle, 5*time.Minute)
	if c.PerPerson <= 0 {
		c.PerPerson = 4
	}
	return c
}

// feedScan bounds the log indexes one query of a feed covers, and so the
// events one batch can hold.
const feedScan = 10000

// Kinds of [Message].
const (
	MessageEvents    = "events"    // Result: events, after their access record
	MessageHeartbeat = "heartbeat" // nothing new; keeps the stream open
	MessageEnd       = "end"       // the feed is over: Reason says why
	MessageError     = "error"     // the feed failed and is over; nothing more is sent
)

// Message is one thing a feed sends.
type Message struct {
	Kind   string
	Result Result // MessageEvents: the batch and its access record
	Reason string // MessageEnd and MessageError
}

// Reasons a feed ends ([Message] of kind MessageEnd).
const (
	EndExpired   = "expired"   // the authorisation's expiry (or an urgent one's lapse) passed
	EndCancelled = "cancelled" // the authorisation was cancelled
	EndInactive  = "inactive"  // the authorisation is not in force for another reason
	EndNotNamed  = "not_named" // the caller is no longer a named investigator
	EndReplaced  = "replaced"  // the caller opened more feeds than they may hold
	EndClosed    = "closed"    // the server is shutting down
)

// feed is an open feed. Its fields are fixed at opening except next,
// which only its one follower moves, under poll.
type feed struct {
	id, owner, request string
	filter             Filter
	private            map[string]string

	poll sync.Mutex        // held by the follower for a whole poll
	next map[string]uint64 // by activity log, the first index not yet looked at

	// Guarded by the table's mutex.
	opened   time.Time
	stop     context.CancelCauseFunc // ends the current follower; nil if none
	followed int                     // the current follower's number
	idle     time.Time               // since when nobody follows it
	ended    string                  // why it ended, once it has
}

// feedTable holds the open feeds, in memory: a restart ends them all,
// and the client opens a new one.
type feedTable struct {
	mu    sync.Mutex
	byID  map[string]*feed
	count int
}

var errFeedEnded = errors.New("the feed has ended")

// OpenFeed opens a live feed for p under request id, from the next event
// each activity log takes. It refuses, and records the refusal as Query
// does, a request p cannot use, one not in force, one that is not to
// monitor or record (field "mode"), and a filter out of scope; a
// malformed input is only refused. Opening shows nothing and writes no
// access record; each batch the feed delivers does.
func (s *Service) OpenFeed(ctx context.Context, p identity.Principal, id string, in FeedInput) (Feed, error) {
	if err := requests.CheckJustification("justification", in.Justification); err != nil {
		return Feed{}, err
	}
	f := in.filter()
	private := feedPrivate(in.Justification, f)
	r, _, err := s.begin(ctx, p, id, f, private)
	if err != nil {
		return Feed{}, err
	}
	if !r.Live() {
		return Feed{}, s.refuse(ctx, p, id, "out of scope: mode", private,
			&OutOfScopeError{Field: "mode", Msg: fmt.Sprintf("a %s authorisation covers held data, not live monitoring: query it instead", r.Mode)})
	}
	logs, _, err := s.activityLogs(ctx)
	if err != nil {
		return Feed{}, err
	}
	next := make(map[string]uint64, len(logs))
	for _, log := range logs {
		st, err := s.Store.LogState(ctx, log)
		if err != nil {
			return Feed{}, err
		}
		next[log] = st.Size
	}
	fd := &feed{id: "feed_" + strings.ToLower(rand.Text()), owner: p.Subject, request: r.ID, filter: f, private: private,
		next: next}
	s.feeds.add(fd, s.Now(), s.Feeds.withDefaults())
	return Feed{ID: fd.id, Events: "/v1/feeds/" + fd.id + "/events"}, nil
}

func feedPrivate(justification string, f Filter) map[string]string {
	query, _ := json.Marshal(f)
	return map[string]string{"justification": justification, "query": string(query)}
}

// Follow streams feed id to p through send, until the feed ends, the
// stream has lasted FeedConfig.Stream, ctx ends, or another Follow of
// the same feed takes over. It returns store.ErrNotFound, having sent
// nothing, for a feed that is not p's (or not open); otherwise it sends a
// heartbeat at once, so that a stream starts before the first poll.
//
// Each poll re-reads the request as p may see it: when the authorisation
// is no longer in force or no longer names p, it sends an end and the
// feed is over. New in-scope events are opened, their access record
// written, and only once that is durable are they sent. If the record
// (or reading the events) fails, Follow sends an error message carrying
// no event, ends the feed, and returns the failure; an error from send
// (the client has gone) is returned as it is, and the feed remains for
// a reconnect.
func (s *Service) Follow(ctx context.Context, p identity.Principal, id string, send func(Message) error) error {
	cfg := s.Feeds.withDefaults()
	f, ctx, done, err := s.feeds.follow(ctx, p.Subject, id, s.Now, cfg)
	if err != nil {
		return err
	}
	defer done()
	if err := send(Message{Kind: MessageHeartbeat}); err != nil {
		return err
	}
	poll := time.NewTicker(cfg.Poll)
	defer poll.Stop()
	life := time.NewTimer(cfg.Stream)
	defer life.Stop()
	heartbeat := time.NewTicker(cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		var sent bool
		var end string
		err := ctx.Err()
		if err == nil {
			sent, end, err = s.pollFeed(ctx, p, f, send)
		}
		switch {
		case ctx.Err() != nil:
			// Taken over, ended from outside (replaced, closed), or the
			// client has gone: whatever the poll did is not sent.
			if end := s.feeds.endedWhy(f); end != "" {
				send(Message{Kind: MessageEnd, Reason: end})
			}
			return nil
		case errors.Is(err, errSend):
			return err
		case err != nil:
			s.feeds.end(f, MessageError)
			send(Message{Kind: MessageError, Reason: "the feed failed and nothing more of it is shown; open a new feed"})
			return err
		case end != "":
			s.feeds.end(f, end)
			return send(Message{Kind: MessageEnd, Reason: end})
		}
		if sent {
			heartbeat.Reset(cfg.Heartbeat) // events keep the stream alive
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				break wait
			case <-life.C:
				return nil
			case <-poll.C:
				break wait
			case <-heartbeat.C:
				if err := send(Message{Kind: MessageHeartbeat}); err != nil {
					return err
				}
			}
		}
	}
}

// errSend marks a failure of send, so Follow returns it without ending
// the feed.
var errSend = errors.New("sending a feed's message")

// pollFeed looks once for new events of f and sends them, each batch
// after its access record. end is non-empty when the feed is over.
func (s *Service) pollFeed(ctx context.Context, p identity.Principal, f *feed, send func(Message) error) (sent bool, end string, err error) {
	f.poll.Lock()
	defer f.poll.Unlock()
	r, err := s.Requests.Get(ctx, p, f.request)
	if errors.Is(err, store.ErrNotFound) {
		return false, EndInactive, nil
	}
	if err != nil {
		return false, "", err
	}
	if !slices.Contains(r.Investigators, p.Subject) {
		return false, EndNotNamed, nil
	}
	now := s.Now().UTC()
	scope, err := ScopeOf(r, now)
	var ie *InactiveError
	if errors.As(err, &ie) {
		return false, endReason(r, now), nil
	}
	if err != nil {
		return false, "", err
	}
	// A query's scope ends now; a feed takes what arrives while the
	// authorisation is in force, dated up to its expiry (a source's clock
	// may run a little ahead of ours).
	scope.To = later(scope.To, r.ExpiresAt)
	q, err := Clip(scope, f.filter)
	if err != nil {
		// The scope narrowed under the feed: what it was opened for is
		// no longer authorised.
		return false, EndInactive, nil
	}
	logs, _, err := s.activityLogs(ctx)
	if err != nil {
		return false, "", err
	}
	pseudo := NewPseudonymiser(s.Secret, r.ID, slices.Clone(r.Subjects))
	for _, log := range logs {
		more, err := s.pollLog(ctx, p, f, r, q, pseudo, log, send)
		sent = sent || more
		if err != nil {
			return sent, "", err
		}
	}
	return sent, "", nil
}

// pollLog sends f's new events in one activity log, by index from where
// the feed last looked in it (0 for a log new since the feed opened).
func (s *Service) pollLog(ctx context.Context, p identity.Principal, f *feed, r requests.Request, q Query, pseudo *Pseudonymiser, log string, send func(Message) error) (sent bool, err error) {
	st, err := s.Store.LogState(ctx, log)
	if err != nil {
		return false, err
	}
	for f.next[log] < st.Size {
		next := f.next[log]
		hi := min(st.Size, next+feedScan)
		entries, err := s.Store.QueryEvents(ctx, store.EventQuery{Logs: []string{log}, People: q.Subjects,
			From: q.From.UnixNano(), To: q.To.UnixNano(), Categories: q.Categories, Sources: q.Sources, Actions: q.Actions,
			MinIndex: next, MaxIndex: hi, Limit: int(hi - next)})
		if err != nil {
			return sent, err
		}
		if len(entries) > 0 {
			// As a query shows them: confidential material held back.
			op, err := s.Opener.Batch(ctx, entries)
			if err != nil {
				return sent, err
			}
			shown := make([]ShownEvent, 0, len(entries))
			ids := make([]string, 0, len(entries))
			held := 0
			for _, en := range entries {
				ev, err := s.showEvent(ctx, op, r, q, en, pseudo, false)
				if err != nil {
					// Tampering or a store fault: nothing is shown.
					return sent, err
				}
				if ev.HeldBack != nil {
					held++
				}
				shown, ids = append(shown, ev), append(ids, ev.ID)
			}
			idx, err := s.Record(ctx, p.Subject, ActionLive, map[string]any{
				"request": r.ID, "reference": r.Reference, "feed": f.id, "results": len(shown), "events_sha256": eventsDigest(ids),
				"held_back": held,
			}, f.private)
			if err != nil {
				// Fail closed: events whose access cannot be recorded are
				// never sent.
				return sent, fmt.Errorf("writing the access record: %w", err)
			}
			if ctx.Err() != nil {
				return sent, ctx.Err()
			}
			if err := send(Message{Kind: MessageEvents, Result: Result{AccessRecord: idx, Events: shown}}); err != nil {
				// f.next stays: a reconnect reads (and records) the batch again.
				return sent, fmt.Errorf("%w: %w", errSend, err)
			}
			sent = true
		}
		f.next[log] = hi
	}
	return sent, nil
}

// CloseFeeds ends every open feed: each stream sends its end (reason
// EndClosed) and returns. A server calls it as it shuts down, so that
// streams do not hold the shutdown open (http.Server.RegisterOnShutdown).
func (s *Service) CloseFeeds() {
	s.feeds.mu.Lock()
	defer s.feeds.mu.Unlock()
	for _, f := range s.feeds.byID {
		s.feeds.endLocked(f, EndClosed)
	}
}

// endReason says why r, which is not in force at now, ended a feed.
func endReason(r requests.Request, now time.Time) string {
	lapsed := !r.RatifyBy.IsZero() && r.RatifiedAt.IsZero() && !now.Before(r.RatifyBy)
	switch {
	case r.State == requests.Cancelled:
		return EndCancelled
	case r.State == requests.Expired, !now.Before(r.ExpiresAt), lapsed:
		// Past its deadline it has expired, whether or not the sweeper
		// has moved it yet.
		return EndExpired
	}
	return EndInactive
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// add keeps f, first dropping feeds left idle too long and, if f's owner
// holds too many, ending their oldest.
func (t *feedTable) add(f *feed, now time.Time, cfg FeedConfig) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = map[string]*feed{}
	}
	t.sweep(now, cfg)
	var mine []*feed
	for _, o := range t.byID {
		if o.owner == f.owner {
			mine = append(mine, o)
		}
	}
	slices.SortFunc(mine, func(a, b *feed) int { return a.opened.Compare(b.opened) })
	for len(mine) >= cfg.PerPerson {
		t.endLocked(mine[0], EndReplaced)
		mine = mine[1:]
	}
	f.opened, f.idle = now, now
	t.byID[f.id] = f
}

// sweep drops feeds nobody has followed for cfg.Idle.
func (t *feedTable) sweep(now time.Time, cfg FeedConfig) {
	for id, f := range t.byID {
		if f.stop == nil && now.Sub(f.idle) >= cfg.Idle {
			delete(t.byID, id)
		}
	}
}

// follow makes the caller f's one follower, ending any other, and
// returns f, a context that ends when the follower must stop, and the
// function to call when it has.
func (t *feedTable) follow(ctx context.Context, owner, id string, now func() time.Time, cfg FeedConfig) (*feed, context.Context, func(), error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now(), cfg)
	f, ok := t.byID[id]
	if !ok || f.owner != owner {
		// Another person's feed is as absent as none: its id says nothing.
		return nil, nil, nil, fmt.Errorf("feed %q: %w", id, store.ErrNotFound)
	}
	if f.stop != nil {
		f.stop(errors.New("another stream follows the feed"))
	}
	ctx, stop := context.WithCancelCause(ctx)
	t.count++
	n := t.count
	f.stop, f.followed = stop, n
	done := func() {
		stop(nil)
		t.mu.Lock()
		defer t.mu.Unlock()
		if f.followed == n {
			f.stop, f.idle = nil, now()
		}
	}
	return f, ctx, done, nil
}

// end ends f for why: it is dropped, and its follower, if another, told.
func (t *feedTable) end(f *feed, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.endLocked(f, why)
}

func (t *feedTable) endLocked(f *feed, why string) {
	delete(t.byID, f.id)
	if f.ended == "" {
		f.ended = why
	}
	if f.stop != nil {
		f.stop(errFeedEnded)
	}
}

// endedWhy is why f ended, or "" while it is open.
func (t *feedTable) endedWhy(f *feed) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return f.ended
}
