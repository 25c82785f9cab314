package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/mapping"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/store"
)

// appender keeps events, and reports an event.id seen before as a
// duplicate, as the writer does.
type appender struct {
	got  []*event.Event
	seen map[string]uint64
	err  error
}

func (a *appender) Append(_ context.Context, evs []*event.Event) (ingest.Result, error) {
	if a.err != nil {
		return ingest.Result{}, a.err
	}
	if a.seen == nil {
		a.seen = map[string]uint64{}
	}
	var r ingest.Result
	for i, e := range evs {
		r.IDs = append(r.IDs, e.ID)
		cid := e.ClientID()
		if idx, ok := a.seen[cid]; ok && cid != "" {
			if r.Duplicate == nil {
				r.Duplicate = make([]bool, len(evs))
			}
			r.Duplicate[i] = true
			r.Indexes = append(r.Indexes, idx)
			continue
		}
		idx := uint64(len(a.got))
		a.seen[cid] = idx
		a.got = append(a.got, e)
		r.Indexes = append(r.Indexes, idx)
	}
	return r, nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newPipeline(t *testing.T, files map[string]string, people []store.PersonKeys) (*Pipeline, *appender, *clock) {
	t.Helper()
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	app := &appender{}
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	p, err := New(context.Background(), Config{
		Log:      app,
		Mappings: func() (*mapping.Set, error) { return mapping.Load(fsys) },
		People:   func(context.Context) ([]store.PersonKeys, error) { return people, nil },
		Sources: func(_ context.Context, s string) (bool, error) {
			return s == "mail" || s == "linux", nil
		},
		Now: clk.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, app, clk
}

func field(t *testing.T, e *event.Event, name string) string {
	t.Helper()
	v, _ := e.Field(name)
	return string(v)
}

func TestSubmitMapsKeepsAndDeduplicates(t *testing.T) {
	people := []store.PersonKeys{
		{ID: "P001", Username: "jsmith", Emails: []string{"jane.smith@force.example"}, Number: "4711"},
		{ID: "p002", Emails: []string{"shared@force.example"}},
		{ID: "p003", Emails: []string{"shared@force.example"}}, // ambiguous: resolves to neither
	}
	p, app, _ := newPipeline(t, nil, people)
	ctx := context.Background()
	recs := []capture.Record{
		{ID: "m1", Fields: map[string]any{"email.from.address": []string{"Jane.Smith@force.example"}, "email.subject": "hello"}},
		{ID: "m2", Fields: map[string]any{"email.from.address": []string{"shared@force.example"}, "email.mailbox": "shared@force.example"}},
		{ID: "m3", Unparsed: "no headers", Raw: []byte("garbage")},
	}
	res, err := p.Submit(ctx, capture.Email, "mail", recs)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != capture.Stored || res[1].Status != capture.Stored || res[2].Status != capture.Kept || res[2].Why != "no headers" {
		t.Fatalf("results %+v", res)
	}
	if got := field(t, app.got[0], "user.id"); got != `"P001"` {
		t.Errorf("subject %s", got)
	}
	if got := field(t, app.got[1], "user.id"); got != `"shared@force.example"` {
		t.Errorf("an address two people share resolved: %s", got)
	}
	if got := field(t, app.got[2], "content.raw"); got != `"garbage"` {
		t.Errorf("raw %s", got)
	}
	if app.got[0].Source != "mail" {
		t.Errorf("source %s", app.got[0].Source)
	}
	again, err := p.Submit(ctx, capture.Email, "mail", recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Status != capture.Duplicate || r.Index != res[i].Index {
			t.Errorf("second submit %d: %+v, want a duplicate of %d", i, r, res[i].Index)
		}
	}
	if len(app.got) != 3 {
		t.Errorf("%d events stored", len(app.got))
	}
}

func TestSubmitRefusesWholeBatches(t *testing.T) {
	p, app, clk := newPipeline(t, map[string]string{
		"linux.yaml": "input: syslog\nmatch: {hosts: ['srv-*']}\nrate_limit: {events_per_second: 10, burst: 20}\nsubject: {default: x}\nfields:\n  event.category: {value: host}\n  event.action: {value: log}\n",
	}, nil)
	ctx := context.Background()
	rec := capture.Record{Fields: map[string]any{"log.syslog.hostname": "srv-1", "message": "m"}}
	if _, err := p.Submit(ctx, capture.Syslog, "nobody", []capture.Record{rec}); !errors.Is(err, capture.ErrUnknownSource) {
		t.Fatalf("unknown source: %v", err)
	}
	batch := make([]capture.Record, 25)
	for i := range batch {
		batch[i] = rec
	}
	if _, err := p.Submit(ctx, capture.Syslog, "linux", batch); err != nil {
		t.Fatalf("first batch (burst 20, then owing): %v", err)
	}
	_, err := p.Submit(ctx, capture.Syslog, "linux", batch[:1])
	var rl *capture.RateLimitedError
	if !errors.As(err, &rl) || !errors.Is(err, capture.ErrRateLimited) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Second {
		t.Fatalf("over the limit: %v", err)
	}
	clk.t = clk.t.Add(rl.RetryAfter)
	if _, err := p.Submit(ctx, capture.Syslog, "linux", batch[:1]); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	if len(app.got) != 26 {
		t.Errorf("%d stored, want 26: nothing of a refused batch", len(app.got))
	}
	app.err = ingest.ErrOverloaded
	if _, err := p.Submit(ctx, capture.ECS, "mail", batch[:1]); !errors.Is(err, ingest.ErrOverloaded) {
		t.Errorf("overloaded: %v", err)
	}
	if got := p.Route(capture.Syslog, rec, "fallback"); got != "linux" {
		t.Errorf("route %s", got)
	}
	if got := p.Route(capture.Syslog, capture.Record{Fields: map[string]any{"log.syslog.hostname": "web"}}, "fallback"); got != "fallback" {
		t.Errorf("route %s", got)
	}
}

func TestReloadKeepsMappingsInForceOnError(t *testing.T) {
	bad := false
	fsys := fstest.MapFS{"mail.yaml": &fstest.MapFile{Data: []byte("input: email\nsubject: {default: x}\nfields:\n  event.category: {value: email}\n  event.action: {value: custom}\n")}}
	p, err := New(context.Background(), Config{
		Log: &appender{},
		Mappings: func() (*mapping.Set, error) {
			if bad {
				return nil, errors.New("mail.yaml: line 1: broken")
			}
			return mapping.Load(fsys)
		},
		People:  func(context.Context) ([]store.PersonKeys, error) { return nil, nil },
		Sources: func(context.Context, string) (bool, error) { return true, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	bad = true
	if err := p.Reload(); err == nil || !strings.Contains(err.Error(), "mail.yaml") {
		t.Fatalf("Reload = %v", err)
	}
	if p.Mappings().For("mail", capture.Email) == mapping.Builtin(capture.Email) {
		t.Error("a failed reload dropped the source's mapping")
	}
}

// BenchmarkMapSyslog is the mapping's share of capturing one syslog
// message: the built-in mapping, the event's JSON, and its parse.
func BenchmarkMapSyslog(b *testing.B) {
	rec := capture.Record{Received: time.Now(), Time: time.Now(), Fields: map[string]any{
		"log.syslog.priority": int64(86), "log.syslog.facility.code": int64(10), "log.syslog.facility.name": "authpriv",
		"log.syslog.severity.code": int64(6), "log.syslog.severity.name": "info", "log.syslog.version": int64(1),
		"log.syslog.hostname": "ws-0654", "log.syslog.appname": "lbm-bench", "log.syslog.msgid": "niche_record_view",
		"message":           `niche_record_view for u00011: {"@timestamp":"2026-11-02T00:01:58.890Z","event":{"id":"sim-1-1","category":"record_query","action":"niche_record_view","outcome":"success","dataset":"niche.audit"},"user":{"id":"u00011","name":"George Begum","domain":"FORCE"},"host":{"name":"ws-0654","ip":"10.17.69.167"}}`,
		"log.syslog.format": "rfc5424", "source.ip": "127.0.0.1", "source.port": int64(40000), "network.transport": "tcp",
	}}
	d := &Directory{}
	d.Load([]store.PersonKeys{{ID: "u00011"}}, time.Now())
	m := mapping.Builtin(capture.Syslog)
	b.ReportAllocs()
	for b.Loop() {
		if _, why, err := Map(m, capture.Syslog, "bench", rec, d); err != nil || why != "" {
			b.Fatal(why, err)
		}
	}
}
