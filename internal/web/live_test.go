package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/review"
)

// sse is a server-sent event as a client reads it.
type sse struct{ event, data string }

// readEvents reads a stream's events (comments skipped) onto a channel,
// closing it at the end of the stream.
func readEvents(t *testing.T, resp *http.Response) <-chan sse {
	t.Helper()
	out := make(chan sse, 100)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" || ev.data != "" {
					out <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

func nextEvent(t *testing.T, evs <-chan sse) (sse, bool) {
	t.Helper()
	select {
	case ev, ok := <-evs:
		return ev, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no server-sent event in 10s")
		return sse{}, false
	}
}

func TestFeedAPI(t *testing.T) {
	e := newPeopleEnv(t)
	e.node.Review.Feeds = review.FeedConfig{Poll: 10 * time.Millisecond}
	// The oversight log refuses access records while failing is set.
	var failing atomic.Bool
	inner := e.node.Review.Record
	e.node.Review.Record = func(ctx context.Context, actor, action string, details map[string]any, private map[string]string) (uint64, error) {
		if failing.Load() && action == review.ActionLive {
			return 0, errors.New("the oversight log is unavailable")
		}
		return inner(ctx, actor, action, details, private)
	}

	live := strings.Replace(requestJSON, `"mode": "review", "window": {"from": "2026-08-01T00:00:00Z", "to": "2026-10-01T00:00:00Z"}`,
		`"mode": "monitor", "lawful_basis": "PREVENT_DETECT_CRIME"`, 1)
	_, created := e.apiAs(t, "investigator", "POST", "/v1/requests", live)
	id := created["id"].(string)
	e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/submit", "")
	if status, body := e.apiAs(t, "authoriser", "POST", "/v1/requests/"+id+"/decision", decisionJSON); status != 200 || body["state"] != "active" {
		t.Fatalf("decision = %d %v", status, body)
	}
	const why = `"justification":"Watching whether the officer sends the address to anyone outside the force."`
	for _, tt := range []struct {
		name, body string
		status     int
		typ, field string
	}{
		{"a thin justification", `{"justification":"."}`, 400, "validation", "justification"},
		{"out of scope", `{"subjects":["inv1"],` + why + `}`, 403, "out-of-scope", "subjects"},
		{"a period", `{"from":"2026-11-01T00:00:00Z",` + why + `}`, 400, "validation", "body"},
	} {
		status, p := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/feeds", tt.body)
		if status != tt.status || p["type"] != "urn:lbm:problem:"+tt.typ || p["field"] != tt.field {
			t.Errorf("%s: %d %v, want %d %s on %s", tt.name, status, p, tt.status, tt.typ, tt.field)
		}
	}
	open := func() string {
		t.Helper()
		status, feed := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/feeds", `{"content":true,`+why+`}`)
		events, _ := feed["events"].(string)
		if status != 201 || events != "/v1/feeds/"+feed["feed"].(string)+"/events" {
			t.Fatalf("opening a feed = %d %v", status, feed)
		}
		return events
	}
	follow := func(path string) <-chan sse {
		t.Helper()
		resp := e.call(t, "investigator", false, "GET", path, "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return readEvents(t, resp)
	}
	ingest := func(body string) {
		t.Helper()
		stamp := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
		line := `{"@timestamp":"` + stamp + `","event":{"category":"email","action":"send"},"user":{"id":"staff1"},"content":{"body":"` + body + `"}}`
		if resp := e.call(t, "source", false, "POST", "/v1/events", line); resp.StatusCode != 200 {
			t.Fatalf("ingest = %d", resp.StatusCode)
		}
	}

	// A feed delivers what arrives, with its access record.
	path := open()
	evs := follow(path)
	ingest("kestrel live")
	ev, _ := nextEvent(t, evs)
	var res struct {
		AccessRecord uint64 `json:"access_record"`
		Events       []struct {
			Fields []struct {
				Name  string          `json:"name"`
				Value json.RawMessage `json:"value"`
			} `json:"fields"`
		} `json:"events"`
	}
	if ev.event != "events" || json.Unmarshal([]byte(ev.data), &res) != nil || res.AccessRecord == 0 || len(res.Events) != 1 ||
		!strings.Contains(ev.data, `"kestrel live"`) {
		t.Fatalf("first event = %+v", ev)
	}
	// Nobody else's: an unknown feed is 404 before any stream.
	if resp := e.call(t, "investigator", false, "GET", "/v1/feeds/feed_nope/events", ""); resp.StatusCode != 404 ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("an unknown feed = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Fault injection: with the access record failing, no event byte is
	// sent; the stream says error and ends.
	failing.Store(true)
	ingest("kestrel secret")
	var rest []sse
	for {
		ev, ok := nextEvent(t, evs)
		if !ok {
			break
		}
		rest = append(rest, ev)
	}
	if len(rest) != 1 || rest[0].event != "error" || strings.Contains(rest[0].data, "kestrel") || strings.Contains(rest[0].data, "staff1") {
		t.Errorf("with the access record failing, the stream sent %+v; want one error and nothing of the event", rest)
	}
	if resp := e.call(t, "investigator", false, "GET", path, ""); resp.StatusCode != 404 {
		t.Errorf("the failed feed = %d, want 404", resp.StatusCode)
	}
	failing.Store(false)

	// Cancelling the authorisation ends a feed.
	evs = follow(open())
	status, _ := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/cancellation",
		`{"reasons":"cancelled because the investigation has found what it needed for the hearing"}`)
	if status != 200 {
		t.Fatalf("cancellation = %d", status)
	}
	ev, _ = nextEvent(t, evs)
	if ev.event != "end" || ev.data != `{"reason":"cancelled"}` {
		t.Errorf("after the cancellation: %+v, want the end", ev)
	}
	if _, ok := nextEvent(t, evs); ok {
		t.Error("the stream went on after its end")
	}
	// And no new feed opens.
	if status, p := e.apiAs(t, "investigator", "POST", "/v1/requests/"+id+"/feeds", `{`+why+`}`); status != 403 || p["type"] != "urn:lbm:problem:out-of-scope" {
		t.Errorf("a feed of a cancelled authorisation = %d %v", status, p)
	}
}
