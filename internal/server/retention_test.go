package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/retention"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web"
)

// retentionNow is the clock of the retention tests: the events of March
// 2025 are past both e-mail's six months of content and every category's
// twelve months; those of this month are not.
var retentionNow = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// retentionFixture stores, on a node at retentionNow, March 2025's events
// of alice (held: an authorisation about her is in force), bob (not held),
// dave naming alice in related.user (held through her), and one of bob's
// this month (not due). It returns the node and the indexes by name.
func retentionFixture(t *testing.T, cfg server.Config) (*server.Node, map[string]uint64) {
	t.Helper()
	cfg.Now = func() time.Time { return retentionNow }
	n, err := server.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	lines := []struct{ name, line string }{
		{"alice-mail", `{"@timestamp":"2025-03-10T09:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"alice"},"content":{"body":"alice's own words"}}`},
		{"alice-web", `{"@timestamp":"2025-03-11T09:00:00Z","event":{"category":"web","action":"visit"},"user":{"id":"alice"},"url":{"domain":"alice.example"},"content":{"url":"https://alice.example/page"}}`},
		{"bob-mail", `{"@timestamp":"2025-03-10T10:00:00Z","event":{"id":"bob-1","category":"email","action":"send"},"user":{"id":"bob"},"content":{"body":"bob's secret words"}}`},
		{"bob-web", `{"@timestamp":"2025-03-12T10:00:00Z","event":{"category":"web","action":"visit"},"user":{"id":"bob"},"url":{"domain":"bob.example"},"content":{"url":"https://bob.example/private"}}`},
		{"bob-device", `{"@timestamp":"2025-03-13T10:00:00Z","event":{"category":"device","action":"unlock"},"user":{"id":"bob"},"host":{"name":"bob-laptop"}}`},
		// A category the schedule does not name: kept for its longest period.
		{"bob-print", `{"@timestamp":"2025-03-13T11:00:00Z","event":{"category":"print","action":"print"},"user":{"id":"bob"},"file":{"name":"rota.pdf"}}`},
		{"dave-mail", `{"@timestamp":"2025-03-14T10:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"dave"},"related":{"user":["alice"]},"content":{"body":"dave writes to alice"}}`},
		{"bob-now", `{"@timestamp":"2026-11-02T10:00:00Z","event":{"category":"email","action":"send"},"user":{"id":"bob"},"content":{"body":"bob this month"}}`},
		{"bob-device-sep", `{"@timestamp":"2026-09-20T10:00:00Z","event":{"category":"device","action":"lock"},"user":{"id":"bob"},"host":{"name":"bob-laptop"}}`},
	}
	var evs []*event.Event
	for _, l := range lines {
		e, err := event.Parse([]byte(l.line), "src")
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	res, err := n.Logs[server.Activity].Writer.Append(t.Context(), evs)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]uint64{}
	for i, l := range lines {
		idx[l.name] = res.Indexes[i]
	}
	if err := n.PublishAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := n.Store.AddRequest(t.Context(), store.StoredRequest{ID: "r1", Reference: "ACAC-2026-0001", Requester: "ivy",
		Subjects: []string{"alice"}, State: "active", Created: retentionNow.AddDate(0, -1, 0), Updated: retentionNow.AddDate(0, -1, 0),
		ExpiresAt: retentionNow.AddDate(0, 2, 0), Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	return n, idx
}

func TestRetention(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { testRetention(t, e.config(t)) })
	}
}

func testRetention(t *testing.T, cfg server.Config) {
	ctx := t.Context()
	n, idx := retentionFixture(t, cfg)

	plan, err := n.Retention.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if del, kept := plan.Totals(); del != 5 || kept != 5 {
		// The content of e-mail (six months): bob's deleted, alice's and
		// dave's kept. Entries: bob's four deleted (his print job under
		// the schedule's longest period); alice's two and dave's kept.
		t.Errorf("plan totals: %d to delete, %d kept; want 5, 5\n%+v", del, kept, plan.Items)
	}
	if plan.Holds[retention.HoldAuthorisation] != 1 || len(plan.Holds) != 1 {
		t.Errorf("plan holds = %v, want one person under an authorisation", plan.Holds)
	}
	// A plan changes nothing.
	if o := open(t, n, idx["bob-mail"]); o.ContentDeleted {
		t.Fatal("a plan deleted content")
	}

	rep, err := n.Retention.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// bob's e-mail and web keys, and his month key of March 2025.
	if rep.KeysDestroyed != 3 {
		t.Errorf("keys destroyed = %d, want 3", rep.KeysDestroyed)
	}
	for name, by := range map[string]string{"bob-mail": "email entries after 12 months", "bob-web": "web entries after 12 months",
		"bob-device": "device entries after 12 months", "bob-print": "categories it does not name, entries after 12 months (its longest period)"} {
		_, err := openErr(t, n, idx[name])
		de, ok := errors.AsType[*record.DeletedError](err)
		if !ok {
			t.Errorf("%s after retention: %v, want deleted", name, err)
			continue
		}
		if !de.At.Equal(retentionNow) || de.By != "the default retention schedule: "+by {
			t.Errorf("%s: %v", name, de)
		}
	}
	for _, name := range []string{"alice-mail", "alice-web", "dave-mail", "bob-now"} {
		if o := open(t, n, idx[name]); o.ContentDeleted || o.Event == nil {
			t.Errorf("%s was deleted; it is held or not due", name)
		}
	}
	for _, k := range []struct {
		subject, period string
		destroyed       bool
	}{{"bob", "2025-03/email", true}, {"bob", "2025-03/web", true}, {"bob", "2025-03", true}, {"bob", "2026-11", false},
		{"alice", "2025-03/email", false}, {"alice", "2025-03", false}, {"dave", "2025-03/email", false}} {
		dk, err := n.Store.DataKeyFor(ctx, k.subject, k.period)
		if err != nil {
			t.Fatalf("data key %s %s: %v", k.subject, k.period, err)
		}
		if got := dk.Wrapped == nil; got != k.destroyed {
			t.Errorf("data key %s %s destroyed = %v, want %v", k.subject, k.period, got, k.destroyed)
		}
	}
	if problems, err := server.VerifyStore(ctx, n, nil); err != nil || len(problems[server.Activity])+len(problems[server.Oversight]) > 0 {
		t.Fatalf("verify store after retention: %v %v", problems, err)
	}
	entryStatus(t, n, idx["bob-mail"], http.StatusOK, `"state":"deleted"`, "deleted under retention on 28 November 2026 by the default retention schedule: email entries after 12 months")
	entryStatus(t, n, idx["alice-mail"], http.StatusOK, `"state":"stored"`)
	entryStatus(t, n, 1000, http.StatusNotFound)
	// Every deletion is in the oversight log, with counts and key ids.
	actions := oversightActions(t, n)
	if actions[retention.ActionDeleted] == 0 || actions[retention.ActionKeysDestroyed] != 1 {
		t.Errorf("oversight records: %v", actions)
	}

	// A second run finds nothing new; the held entries are looked at again.
	again, err := n.Retention.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if del, kept := again.Totals(); del != 0 || kept != 5 || again.KeysDestroyed != 0 {
		t.Errorf("second run: %d deleted, %d kept, %d keys; want 0, 5, 0", del, kept, again.KeysDestroyed)
	}

	// Once the authorisation has long ended, alice's and dave's go too.
	r, err := n.Store.RequestByID(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	r.State, r.Updated, r.Version = "expired", retentionNow.AddDate(0, -4, 0), r.Version+1
	if err := n.Store.UpdateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	last, err := n.Retention.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if del, kept := last.Totals(); del != 5 || kept != 0 {
		// Content of alice's and dave's e-mail, then the three entries.
		t.Errorf("after the hold ended: %d deleted, %d kept; want 5, 0 (%+v)", del, kept, last.Items)
	}
	if _, err := openErr(t, n, idx["dave-mail"]); err == nil {
		t.Error("dave's e-mail survived the end of the hold")
	}
	// A hold the DPO placed keeps bob's this-month e-mail past its time.
	if err := n.Store.AddHold(ctx, store.Hold{ID: "h1", Person: "bob", Reason: "an employment tribunal claim", PlacedBy: "dpo1", Placed: retentionNow}); err != nil {
		t.Fatal(err)
	}
	later := *n.Retention
	later.Now = func() time.Time { return retentionNow.AddDate(2, 0, 0) }
	held, err := later.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if del, kept := held.Totals(); del != 0 || kept != 3 || held.Holds[retention.HoldDPO] != 1 {
		t.Errorf("under the DPO's hold: %d deleted, %d kept, holds %v; want 0, 3 (e-mail content and entry, device entry), one DPO hold", del, kept, held.Holds)
	}
	if o := open(t, n, idx["bob-now"]); o.ContentDeleted {
		t.Error("the DPO's hold did not keep bob's content")
	}
	if problems, err := server.VerifyStore(ctx, n, nil); err != nil || len(problems[server.Activity]) > 0 {
		t.Fatalf("verify store: %v %v", problems, err)
	}
}

// TestRetentionResumes stops a run at each oversight record in turn (the
// record fails, as it would if the process died there) and runs again:
// every time, the end is what one uninterrupted run leaves.
func TestRetentionResumes(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for stopAt := 1; ; stopAt++ {
				n, idx := retentionFixture(t, e.config(t))
				record := n.Retention.Record
				calls := 0
				job := *n.Retention
				job.Record = func(ctx context.Context, actor, action string, details map[string]any) (uint64, error) {
					if calls++; calls == stopAt {
						return 0, errors.New("killed")
					}
					return record(ctx, actor, action, details)
				}
				if _, err := job.Run(t.Context()); err == nil {
					if stopAt == 1 {
						t.Fatal("a run with nothing to record")
					}
					break // stopAt is past the last record: every point was tried
				}
				if _, err := n.Retention.Run(t.Context()); err != nil {
					t.Fatalf("stopped at record %d, the resumed run: %v", stopAt, err)
				}
				for _, name := range []string{"bob-mail", "bob-web", "bob-device"} {
					if _, err := openErr(t, n, idx[name]); err == nil {
						t.Errorf("stopped at record %d: %s not deleted after resuming", stopAt, name)
					}
				}
				if o := open(t, n, idx["alice-mail"]); o.ContentDeleted {
					t.Errorf("stopped at record %d: alice's held content deleted", stopAt)
				}
				pending, err := n.Store.PendingKeys(t.Context(), 10)
				if err != nil || len(pending) != 0 {
					t.Errorf("stopped at record %d: pending keys left %v, %v", stopAt, pending, err)
				}
				dk, err := n.Store.DataKeyFor(t.Context(), "bob", keys.CategoryPeriod(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "email"))
				if err != nil || dk.Wrapped != nil {
					t.Errorf("stopped at record %d: bob's e-mail key not destroyed (%v)", stopAt, err)
				}
				if problems, err := server.VerifyStore(t.Context(), n, nil); err != nil || len(problems[server.Activity]) > 0 {
					t.Errorf("stopped at record %d: verify store: %v %v", stopAt, problems, err)
				}
			}
		})
	}
}

// TestRetentionContentFirst runs when only e-mail content is due, and
// again when the entries are: each key is destroyed, and recorded, once.
func TestRetentionContentFirst(t *testing.T) {
	ctx := t.Context()
	n, idx := retentionFixture(t, engines[0].config(t))
	early := *n.Retention
	early.Now = func() time.Time { return time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC) }
	rep, err := early.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// bob's e-mail key; his month key stays, as his web content does.
	if del, _ := rep.Totals(); del != 1 || rep.KeysDestroyed != 1 {
		t.Errorf("content only: %d deleted, %d keys destroyed; want 1, 1", del, rep.KeysDestroyed)
	}
	if o := open(t, n, idx["bob-mail"]); !o.ContentDeleted || o.Event == nil {
		t.Errorf("bob's e-mail after its content went: %+v", o)
	}
	entryStatus(t, n, idx["bob-mail"], http.StatusOK, `"state":"content_deleted"`, "email content after 6 months")
	rep, err = n.Retention.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Now his web key and month key; the e-mail key is not destroyed twice.
	if rep.KeysDestroyed != 2 {
		t.Errorf("entries: %d keys destroyed, want 2", rep.KeysDestroyed)
	}
	if got := oversightActions(t, n)[retention.ActionKeysDestroyed]; got != 2 {
		t.Errorf("%d key destruction records, want 2", got)
	}
	if problems, err := server.VerifyStore(ctx, n, nil); err != nil || len(problems[server.Activity]) > 0 {
		t.Fatalf("verify store: %v %v", problems, err)
	}
}

// TestRetentionFollowsTheScheduleInForce approves, under dual control, a
// schedule keeping devices' events one month: the next run deletes
// September's, under that schedule's name.
func TestRetentionFollowsTheScheduleInForce(t *testing.T) {
	ctx := t.Context()
	n, idx := retentionFixture(t, engines[0].config(t))
	files, _, err := identity.CurrentCatalogueFiles(ctx, n.Store)
	if err != nil {
		t.Fatal(err)
	}
	cc := identity.CatalogueChange{Purposes: string(files.Purposes), Legislation: string(files.Legislation), Criteria: string(files.Criteria),
		Categories: strings.Replace(string(files.Categories), "    content: \"\"\n    retention_months: 12\n", "    content: \"\"\n    retention_months: 1\n", 1)}
	admin := func(id string) identity.Principal {
		return identity.Principal{Kind: identity.KindUser, Subject: id, Role: identity.RoleAdmin}
	}
	c, err := identity.ProposeCatalogueChange(ctx, n.Store, admin("ann"), cc, "devices' events are needed for a month only", retentionNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := identity.DecideChange(ctx, n.Store, admin("ben"), c.ID, true, retentionNow); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Retention.Run(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = openErr(t, n, idx["bob-device-sep"])
	de, ok := errors.AsType[*record.DeletedError](err)
	if !ok || de.By != "retention schedule v1: device entries after 1 month" {
		t.Fatalf("bob's September device event after the schedule change: %v", err)
	}
	if o := open(t, n, idx["bob-now"]); o.ContentDeleted {
		t.Error("this month's e-mail went too")
	}
}

// entryStatus asks GET /v1/logs/activity/entries/{index} as the first
// administrator and checks the status and that the body holds each of want.
func entryStatus(t *testing.T, n *server.Node, index uint64, status int, want ...string) {
	t.Helper()
	token, err := os.ReadFile(n.AdminTokenPath)
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.New(server.WebConfig(n))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v1/logs/activity/entries/%d", index), nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != status {
		t.Fatalf("entry %d status: %d %s, want %d", index, rec.Code, rec.Body, status)
	}
	for _, w := range want {
		if !strings.Contains(rec.Body.String(), w) {
			t.Errorf("entry %d status %s: want %q in it", index, rec.Body, w)
		}
	}
}

func openErr(t *testing.T, n *server.Node, index uint64) (record.Opened, error) {
	t.Helper()
	ens, err := n.Store.Entries(t.Context(), server.Activity, index, index+1)
	if err != nil || len(ens) != 1 {
		t.Fatalf("reading entry %d: %v", index, err)
	}
	return n.Opener.Open(t.Context(), ens[0])
}

func open(t *testing.T, n *server.Node, index uint64) record.Opened {
	t.Helper()
	o, err := openErr(t, n, index)
	if err != nil {
		t.Fatalf("opening entry %d: %v", index, err)
	}
	return o
}

// oversightActions counts the oversight log's records by action.
func oversightActions(t *testing.T, n *server.Node) map[string]int {
	t.Helper()
	st, err := n.Store.LogState(t.Context(), server.Oversight)
	if err != nil {
		t.Fatal(err)
	}
	ens, err := n.Store.Entries(t.Context(), server.Oversight, 0, st.Size)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, en := range ens {
		o, err := n.Opener.OpenMetadata(t.Context(), en)
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(o.Event.Action())]++
	}
	return out
}

// TestVerifyStoreCatchesForgedDeletions stamps deletions the oversight
// log never recorded straight into the store, as someone with write
// access to the database could to hide an entry's data: lbm verify store
// reports each, while the deletions retention made pass.
func TestVerifyStoreCatchesForgedDeletions(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			n, idx := retentionFixture(t, e.config(t))
			if _, err := n.Retention.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if problems, err := server.VerifyStore(ctx, n, nil); err != nil || len(problems[server.Activity]) > 0 {
				t.Fatalf("verify store after a real run: %v %v", problems, err)
			}
			forged := store.Deletion{At: retentionNow, By: "retention schedule v9: email entries after 1 month"}
			alice := idx["alice-mail"]
			ens, err := n.Store.Entries(ctx, server.Activity, alice, alice+1)
			if err != nil {
				t.Fatal(err)
			}
			// alice is held: no record covers her e-mail, whose content and
			// then entry the forger deletes.
			target := []store.Expiring{{Index: alice, Time: ens[0].Time}}
			if _, err := n.Store.DeleteExpired(ctx, server.Activity, store.DeleteContent, target, forged, nil); err != nil {
				t.Fatal(err)
			}
			problems, err := server.VerifyStore(ctx, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := "marked content deleted under retention, but no retention_deleted record"
			if len(problems[server.Activity]) != 1 || !strings.Contains(problems[server.Activity][0], want) {
				t.Fatalf("verify store after forging a content deletion: %q", problems[server.Activity])
			}
			if _, err := n.Store.DeleteExpired(ctx, server.Activity, store.DeleteEntry, target, forged, nil); err != nil {
				t.Fatal(err)
			}
			// Both checks see it: no record covers the entry, and the month
			// has more entries stamped than its records deleted.
			problems, _ = server.VerifyStore(ctx, n, nil)
			if ps := problems[server.Activity]; len(ps) != 2 || !strings.Contains(ps[0], "marked entry deleted under retention, but no") ||
				!strings.Contains(ps[1], "2 entries of email in 2025-03 are marked entry deleted under retention, but its records deleted 1") {
				t.Fatalf("verify store after forging an entry deletion: %q", ps)
			}
		})
	}
}
