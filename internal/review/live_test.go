package review_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
)

// authoriseLive is authorise for a live authorisation: monitoring sam's
// record queries (metadata) and e-mail (content), decided at t0. The
// clock then moves an hour on, into the authorisation's life.
func (e *env) authoriseLive() requests.Request {
	serial++
	txt := func(what string) string {
		return fmt.Sprintf("%s for live case %d: the checks on one address need explaining by watching the records", what, serial*7919)
	}
	w := requests.Request{
		Subjects: []string{"sam"}, Investigators: []string{"ivy"},
		Categories: []requests.CategoryScope{{Category: "record_query"}, {Category: "email", Content: true}},
		Mode:       consent.ModeMonitor, LawfulBasis: "PREVENT_DETECT_CRIME",
		Purpose: "PREVENT_DETECT_CRIME", Investigation: consent.Misconduct,
		Operation: requests.Operation{Name: "Kestrel", Reference: fmt.Sprintf("OP-L%d", serial)}, DPIAReference: "DPIA-1",
		Necessity: txt("necessity"),
		Criteria: map[string]string{"NOTICE": txt("notice"), "EXTENT": txt("extent of it"), "LEGITIMATE_REASON": txt("legitimate"),
			"LESS_INTRUSIVE": txt("less intrusive means"), "CONSEQUENCES": txt("consequences"), "SAFEGUARDS": txt("safeguards"), "REMEDY": txt("remedies")},
		Collateral: requests.Collateral{Level: consent.CollateralLow, Explanation: txt("collateral intrusion")},
	}
	ivy := e.as("ivy", "investigator")
	r, err := e.node.Requests.Create(e.ctx, ivy, w)
	if err == nil {
		r, err = e.node.Requests.Submit(e.ctx, ivy, r.ID)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	views := map[string]string{}
	for id := range w.Criteria {
		views[id] = txt("the authoriser's view on " + strings.ToLower(id))
	}
	r, err = e.node.Requests.Act(e.ctx, e.as("sue", "authoriser"), r.ID, func(by requests.Actor) requests.Action {
		return requests.Decide{By: by, Authorise: true, Reasons: txt("authorised as necessary and proportionate"), Views: views}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if !r.Active(r.AuthorisedAt) || !r.Live() {
		e.t.Fatalf("the live authorisation is %s, mode %s", r.State, r.Mode)
	}
	e.setNow(r.AuthorisedAt.Add(time.Hour))
	return r
}

func (e *env) setNow(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

func (e *env) count(action string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, l := range e.leaves {
		if l == action {
			n++
		}
	}
	return n
}

// stream follows a feed in the background, as a handler would.
type stream struct {
	t    *testing.T
	msgs chan review.Message
	done chan error
	stop context.CancelFunc
}

// follow starts following feed as p. Each events message is checked
// as it is sent: its access record, and one for each batch, must already
// be in the oversight log.
func (e *env) follow(p identity.Principal, feed string) *stream {
	ctx, stop := context.WithCancel(e.ctx)
	s := &stream{t: e.t, msgs: make(chan review.Message, 100), done: make(chan error, 1), stop: stop}
	e.t.Cleanup(func() {
		stop()
		<-s.done
	})
	records, batches := e.count(review.ActionLive), 0
	go func() {
		s.done <- e.node.Review.Follow(ctx, p, feed, func(m review.Message) error {
			if m.Kind == review.MessageEvents {
				batches++
				if n := e.count(review.ActionLive) - records; n != batches {
					e.t.Errorf("batch %d sent after %d %s records, want one each, written first", batches, n, review.ActionLive)
				}
				e.checkRecord(m.Result)
			}
			s.msgs <- m
			return nil
		})
	}()
	return s
}

// checkRecord checks res's access record in the oversight log: a
// review_live leaf counting res's events and hashing their ids.
func (e *env) checkRecord(res review.Result) {
	e.t.Helper()
	ens, err := e.node.Store.Entries(e.ctx, "oversight", res.AccessRecord, res.AccessRecord+1)
	if err != nil || len(ens) != 1 {
		e.t.Errorf("access record %d: %d entries, %v", res.AccessRecord, len(ens), err)
		return
	}
	o, err := e.node.Opener.OpenMetadata(e.ctx, ens[0])
	if err != nil {
		e.t.Errorf("opening access record %d: %v", res.AccessRecord, err)
		return
	}
	var ids []string
	for _, ev := range res.Events {
		ids = append(ids, ev.ID)
	}
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	want := map[string]string{"event.action": `"review_live"`, "lbm.results": fmt.Sprint(len(res.Events)),
		"lbm.events_sha256": `"` + hex.EncodeToString(sum[:]) + `"`, "user.id": `"ivy"`}
	for _, f := range o.Event.Fields {
		if w, ok := want[f.Name]; ok {
			if string(f.Value) != w {
				e.t.Errorf("access record %d: %s = %s, want %s", res.AccessRecord, f.Name, f.Value, w)
			}
			delete(want, f.Name)
		}
		if strings.Contains(string(f.Value), "Checking whether") {
			e.t.Errorf("access record %d shows the justification in %s", res.AccessRecord, f.Name)
		}
	}
	if len(want) > 0 {
		e.t.Errorf("access record %d lacks %v", res.AccessRecord, want)
	}
}

// next returns the next message that is not a heartbeat.
func (s *stream) next() review.Message {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-s.msgs:
			if m.Kind != review.MessageHeartbeat {
				return m
			}
		case <-timeout:
			s.t.Fatal("no message from the feed in 10s")
		}
	}
}

// events collects events until n have come, failing on any other message.
func (s *stream) events(n int) []review.ShownEvent {
	s.t.Helper()
	var got []review.ShownEvent
	for len(got) < n {
		m := s.next()
		if m.Kind != review.MessageEvents {
			s.t.Fatalf("after %d of %d events: a %s message (%s)", len(got), n, m.Kind, m.Reason)
		}
		got = append(got, m.Result.Events...)
	}
	if len(got) > n {
		for _, ev := range got {
			s.t.Logf("event %d %s %+v", ev.Index, ev.Time, ev.Fields)
		}
		s.t.Fatalf("%d events, want %d", len(got), n)
	}
	return got
}

// wait returns what Follow returned.
func (s *stream) wait() error {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		s.t.Fatal("Follow did not return in 10s")
		return nil
	}
}

func fastFeeds(e *env) {
	e.node.Review.Feeds = review.FeedConfig{Poll: 5 * time.Millisecond, Heartbeat: 20 * time.Millisecond}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func TestFeedDeliversNewEventsInScope(t *testing.T) {
	e := newEnv(t)
	fastFeeds(e)
	r := e.authoriseLive()
	ivy := e.as("ivy", "investigator")
	// Before the feed: sam's e-mail, in scope but already there.
	at := func(d time.Duration) string { return stamp(r.AuthorisedAt.Add(d)) }
	e.ingest(`{"@timestamp":"` + at(time.Minute) + `","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"kestrel before the feed"}}`)
	feed, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why, Content: true})
	if err != nil {
		t.Fatal(err)
	}
	if feed.Events != "/v1/feeds/"+feed.ID+"/events" || !strings.HasPrefix(feed.ID, "feed_") {
		t.Errorf("feed = %+v", feed)
	}
	s := e.follow(ivy, feed.ID)
	if m := <-s.msgs; m.Kind != review.MessageHeartbeat {
		t.Errorf("first message = %s, want a heartbeat that opens the stream", m.Kind)
	}
	e.ingest(
		`{"@timestamp":"`+at(10*time.Minute)+`","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"kestrel live"}}`,
		// una alone, in the authorised category: not a subject.
		`{"@timestamp":"`+at(11*time.Minute)+`","event":{"category":"email","action":"send"},"user":{"id":"una"},"content":{"body":"kestrel una"}}`,
		// sam on the web: a category out of scope.
		`{"@timestamp":"`+at(12*time.Minute)+`","event":{"category":"web","action":"visit"},"user":{"id":"sam"}}`,
		// sam, arriving late, dated before the authorisation: out of scope.
		`{"@timestamp":"`+at(-time.Hour)+`","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"kestrel before the authorisation"}}`,
	)
	e.ingest(
		// una writes to sam: in scope, una pseudonymised.
		`{"@timestamp":"`+at(20*time.Minute)+`","event":{"category":"email","action":"send"},"user":{"id":"una"},"related":{"user":["sam"]},"content":{"body":"meet at kestrel"}}`,
		// sam's record query, dated a little ahead of the clock: metadata only.
		`{"@timestamp":"`+at(2*time.Hour)+`","event":{"category":"record_query","action":"pnc_person_search"},"user":{"id":"sam"},"content":{"query":"SMITH JOHN"}}`,
	)
	got := s.events(3)
	var bodies []string
	for _, ev := range got {
		for _, f := range ev.Fields {
			switch {
			case f.Name == "content.body":
				bodies = append(bodies, string(f.Value))
			case f.Name == "content.query":
				t.Error("content of a metadata-only category was shown")
			case strings.Contains(string(f.Value), `"una`):
				t.Errorf("una, not a subject, shown by name in %s: %s", f.Name, f.Value)
			}
		}
	}
	slices.Sort(bodies)
	if want := []string{`"kestrel live"`, `"meet at kestrel"`}; !slices.Equal(bodies, want) {
		t.Errorf("bodies = %v, want %v", bodies, want)
	}
	// A later event comes after everything ingested before it: nothing
	// out of scope slipped in meanwhile.
	e.ingest(`{"@timestamp":"` + at(30*time.Minute) + `","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"kestrel last"}}`)
	last := s.events(1)
	if last[0].Index <= got[len(got)-1].Index {
		t.Errorf("the last event has index %d, not after %d", last[0].Index, got[len(got)-1].Index)
	}
	if n := e.count(review.ActionLive); n < 2 {
		t.Errorf("%d %s records for at least two batches", n, review.ActionLive)
	}
}

func TestFeedMetadataUnlessContentAsked(t *testing.T) {
	e := newEnv(t)
	fastFeeds(e)
	r := e.authoriseLive()
	ivy := e.as("ivy", "investigator")
	feed, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why, Categories: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	s := e.follow(ivy, feed.ID)
	e.ingest(`{"@timestamp":"` + stamp(r.AuthorisedAt.Add(time.Minute)) + `","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"kestrel live"}}`)
	for _, f := range s.events(1)[0].Fields {
		if strings.HasPrefix(f.Name, "content.") {
			t.Errorf("content shown without being asked for: %s", f.Name)
		}
	}
}

func TestFeedRecordFailureSendsNothing(t *testing.T) {
	e := newEnv(t)
	fastFeeds(e)
	r := e.authoriseLive()
	ivy := e.as("ivy", "investigator")
	feed, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why, Content: true})
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.failing = review.ActionLive
	e.mu.Unlock()
	s := e.follow(ivy, feed.ID)
	e.ingest(`{"@timestamp":"` + stamp(r.AuthorisedAt.Add(time.Minute)) + `","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"kestrel secret"}}`)
	m := s.next()
	if m.Kind != review.MessageError || len(m.Result.Events) != 0 {
		t.Fatalf("with the access record failing: a %s message with %d events", m.Kind, len(m.Result.Events))
	}
	if err := s.wait(); err == nil {
		t.Error("Follow = nil after the access record failed")
	}
	close(s.msgs)
	for m := range s.msgs {
		if m.Kind != review.MessageHeartbeat {
			t.Errorf("after the error: a %s message", m.Kind)
		}
	}
	b, _ := json.Marshal(m)
	if strings.Contains(string(b), "kestrel") || strings.Contains(string(b), "sam") {
		t.Errorf("the error message carries event data: %s", b)
	}
	// The feed is over.
	err = e.node.Review.Follow(e.ctx, ivy, feed.ID, func(review.Message) error { return nil })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("following a failed feed = %v, want ErrNotFound", err)
	}
}

func TestFeedEnds(t *testing.T) {
	for _, how := range []string{review.EndCancelled, review.EndExpired, review.EndClosed} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t)
			fastFeeds(e)
			r := e.authoriseLive()
			ivy := e.as("ivy", "investigator")
			feed, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why})
			if err != nil {
				t.Fatal(err)
			}
			s := e.follow(ivy, feed.ID)
			<-s.msgs // the stream is open
			switch how {
			case review.EndCancelled:
				_, err = e.node.Requests.Act(e.ctx, ivy, r.ID, func(by requests.Actor) requests.Action {
					return requests.Cancel{By: by, Reasons: "The complaint was withdrawn and there is nothing more to watch here."}
				})
				if err != nil {
					t.Fatal(err)
				}
			case review.EndExpired:
				e.setNow(r.ExpiresAt)
			case review.EndClosed:
				e.node.Review.CloseFeeds()
			}
			// An event dated inside the authorisation arrives after its end.
			e.ingest(`{"@timestamp":"` + stamp(r.AuthorisedAt.Add(time.Minute)) + `","event":{"category":"email","action":"send"},"user":{"id":"sam"}}`)
			m := s.next()
			if m.Kind != review.MessageEnd || m.Reason != how {
				t.Fatalf("message = %s %q, want end %q", m.Kind, m.Reason, how)
			}
			if err := s.wait(); err != nil {
				t.Errorf("Follow = %v after the end", err)
			}
			if n := e.count(review.ActionLive); n != 0 {
				t.Errorf("%d access records after the end, want none", n)
			}
			if err := e.node.Review.Follow(e.ctx, ivy, feed.ID, func(review.Message) error { return nil }); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("following an ended feed = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestFeedIsItsOpenersOnly(t *testing.T) {
	e := newEnv(t)
	fastFeeds(e)
	r := e.authoriseLive()
	feed, err := e.node.Review.OpenFeed(e.ctx, e.as("ivy", "investigator"), r.ID, review.FeedInput{Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []identity.Principal{e.as("ian", "investigator"), e.as("ola", "oversight")} {
		sent := 0
		err := e.node.Review.Follow(e.ctx, p, feed.ID, func(review.Message) error { sent++; return nil })
		if !errors.Is(err, store.ErrNotFound) || sent != 0 {
			t.Errorf("%s following ivy's feed = %v, %d messages; want ErrNotFound and none", p.Subject, err, sent)
		}
	}
	if err := e.node.Review.Follow(e.ctx, e.as("ivy", "investigator"), "feed_nope", func(review.Message) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("following no feed = %v", err)
	}
}

func TestFeedTakenOver(t *testing.T) {
	e := newEnv(t)
	fastFeeds(e)
	r := e.authoriseLive()
	ivy := e.as("ivy", "investigator")
	feed, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	first := e.follow(ivy, feed.ID)
	<-first.msgs
	second := e.follow(ivy, feed.ID) // a reconnect
	if err := first.wait(); err != nil {
		t.Errorf("the first stream, taken over, = %v", err)
	}
	e.ingest(`{"@timestamp":"` + stamp(r.AuthorisedAt.Add(time.Minute)) + `","event":{"category":"email","action":"send"},"user":{"id":"sam"}}`)
	if got := second.events(1); len(got) != 1 {
		t.Errorf("the second stream got %d events", len(got))
	}
}

func TestFeedRefusalsAreRecorded(t *testing.T) {
	e := newEnv(t)
	held := e.authorise() // to review held data, not to monitor
	r := e.authoriseLive()
	ivy := e.as("ivy", "investigator")
	isInactive := func(err error) bool {
		var ie *review.InactiveError
		return errors.As(err, &ie)
	}
	tests := []struct {
		name string
		p    identity.Principal
		id   string
		in   review.FeedInput
		want func(error) bool
	}{
		{"an authorisation to review", ivy, held.ID, review.FeedInput{}, func(err error) bool {
			var oe *review.OutOfScopeError
			return errors.As(err, &oe) && oe.Field == "mode"
		}},
		{"a subject out of scope", ivy, r.ID, review.FeedInput{Subjects: []string{"una"}}, isOutOfScope},
		{"a category out of scope", ivy, r.ID, review.FeedInput{Categories: []string{"web"}}, isOutOfScope},
		{"content under metadata only", ivy, r.ID, review.FeedInput{Categories: []string{"record_query"}, Content: true}, isOutOfScope},
		{"another investigator", e.as("ian", "investigator"), r.ID, review.FeedInput{}, func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"oversight", e.as("ola", "oversight"), r.ID, review.FeedInput{}, func(err error) bool { return errors.Is(err, review.ErrNotNamed) }},
		{"no such request", ivy, "nope", review.FeedInput{}, func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.leaves)
			in := tt.in
			in.Justification = why
			feed, err := e.node.Review.OpenFeed(e.ctx, tt.p, tt.id, in)
			if !tt.want(err) || feed.ID != "" {
				t.Fatalf("OpenFeed = %+v, %v", feed, err)
			}
			if len(e.leaves) != before+1 || e.leaves[before] != review.ActionRefused {
				t.Errorf("leaves after the refusal: %v, want one %s", e.leaves[before:], review.ActionRefused)
			}
		})
	}
	// A thin justification is bad input, not an attempt: refused, not recorded.
	before := len(e.leaves)
	if _, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: "."}); err == nil || len(e.leaves) != before {
		t.Errorf("a thin justification = %v, %d leaves", err, len(e.leaves)-before)
	}
	// Cancelled: refused and recorded.
	if _, err := e.node.Requests.Act(e.ctx, ivy, r.ID, func(by requests.Actor) requests.Action {
		return requests.Cancel{By: by, Reasons: "The complaint was withdrawn and there is nothing more to watch here."}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why}); !isInactive(err) || e.leaves[len(e.leaves)-1] != review.ActionRefused {
		t.Errorf("a feed of a cancelled authorisation = %v", err)
	}
}

func TestFeedStreamLifetime(t *testing.T) {
	e := newEnv(t)
	e.node.Review.Feeds = review.FeedConfig{Poll: 5 * time.Millisecond, Heartbeat: 10 * time.Millisecond, Stream: 200 * time.Millisecond}
	r := e.authoriseLive()
	ivy := e.as("ivy", "investigator")
	feed, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why})
	if err != nil {
		t.Fatal(err)
	}
	s := e.follow(ivy, feed.ID)
	if err := s.wait(); err != nil {
		t.Fatalf("Follow at the end of its stream = %v", err)
	}
	close(s.msgs)
	heartbeats := 0
	for m := range s.msgs {
		if m.Kind != review.MessageHeartbeat {
			t.Errorf("a %s message on a quiet stream", m.Kind)
		}
		heartbeats++
	}
	if heartbeats < 3 {
		t.Errorf("%d heartbeats in 200ms at one each 10ms", heartbeats)
	}
	// The stream ended, not the feed: a reconnect goes on with it.
	again := e.follow(ivy, feed.ID)
	e.ingest(`{"@timestamp":"` + stamp(r.AuthorisedAt.Add(time.Minute)) + `","event":{"category":"email","action":"send"},"user":{"id":"sam"}}`)
	again.events(1)
}

func TestFeedHoldsBackConfidential(t *testing.T) {
	e := newEnv(t)
	fastFeeds(e)
	m, err := confidential.New(confidential.Config{Markers: []confidential.Marker{{Kind: consent.LegalPrivilege, Phrase: "legally privileged"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.node.Review.Confidential = m
	r := e.authoriseLive()
	ivy := e.as("ivy", "investigator")
	feed, err := e.node.Review.OpenFeed(e.ctx, ivy, r.ID, review.FeedInput{Justification: why, Content: true})
	if err != nil {
		t.Fatal(err)
	}
	s := e.follow(ivy, feed.ID)
	e.ingest(`{"@timestamp":"` + stamp(r.AuthorisedAt.Add(time.Minute)) + `","event":{"category":"email","action":"send"},"user":{"id":"sam"},"content":{"body":"legally privileged advice on kestrel"}}`)
	ev := s.events(1)[0]
	if len(ev.HeldBack) == 0 || len(ev.Fields) != 0 {
		t.Errorf("confidential material on the feed: held back %v, %d fields shown", ev.HeldBack, len(ev.Fields))
	}
}
