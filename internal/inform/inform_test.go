package inform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
)

var day0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// recorder is an oversight log in memory.
type recorder struct {
	leaves  []string
	details []map[string]any
	fail    error
}

func (r *recorder) record(_ context.Context, actor, action string, details map[string]any) (uint64, error) {
	if r.fail != nil {
		return 0, r.fail
	}
	r.leaves = append(r.leaves, actor+" "+action)
	r.details = append(r.details, details)
	return uint64(len(r.leaves) - 1), nil
}

// publish stores a notice covering categories and publishes it, as an
// approved change would.
func publish(t testing.TB, st store.Store, categories ...string) store.Notice {
	t.Helper()
	ctx := t.Context()
	n, err := st.AddNotice(ctx, store.Notice{Title: "Monitoring", Text: "## What\n\nAll use.", Short: "Monitored.",
		PublicText: "We record contact.", PublicShort: "Recorded.", Categories: categories, Created: day0, CreatedBy: "adm1"})
	if err != nil {
		t.Fatal(err)
	}
	prev := int64(0)
	if cur, err := st.CurrentNotice(ctx); err == nil {
		prev = cur.Version
	}
	c := store.Change{ID: "publish-" + strconv.FormatInt(n.Version, 10), Kind: "notice", Target: strconv.FormatInt(n.Version, 10), Payload: []byte("{}"), Base: prev,
		Reason: "new", ProposedBy: "adm1", Proposed: day0, State: "pending"}
	if err := st.AddChange(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.State, c.DecidedBy, c.Decided = "approved", "adm2", day0
	if err := st.DecideChange(ctx, c, store.ChangeEffect{Publish: &store.Publication{Version: n.Version, Previous: prev, At: day0, By: "adm2"}}); err != nil {
		t.Fatal(err)
	}
	n, _ = st.NoticeByVersion(ctx, n.Version)
	return n
}

func people(t *testing.T, st store.Store, ps ...store.Person) {
	t.Helper()
	for i := range ps {
		if ps[i].Name == "" {
			ps[i].Name = ps[i].ID
		}
		ps[i].Roles = []string{"staff"}
	}
	if _, _, err := st.PutPeople(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
}

func TestAcknowledge(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	people(t, st, store.Person{ID: "a"}, store.Person{ID: "b"})
	rec := &recorder{}

	if _, _, err := Acknowledge(ctx, st, rec.record, "a", 1, ViaWeb, day0); !errors.Is(err, ErrNoNotice) {
		t.Fatalf("acknowledging with no notice published = %v, want ErrNoNotice", err)
	}
	v1 := publish(t, st, "email", "web")
	a, created, err := Acknowledge(ctx, st, rec.record, "a", v1.Version, ViaWeb, day0)
	if err != nil || !created {
		t.Fatalf("Acknowledge = %+v, %v, %v", a, created, err)
	}
	if want := (store.Acknowledgement{Person: "a", Version: v1.Version, Time: day0, Via: ViaWeb, Entry: 0}); !cmp.Equal(a, want) {
		t.Errorf("acknowledgement = %+v, want %+v", a, want)
	}
	if len(rec.leaves) != 1 || rec.leaves[0] != "a notice_acknowledged" {
		t.Errorf("oversight leaves %q, want one notice_acknowledged by a", rec.leaves)
	}
	// The leaf names the text acknowledged, not only its version.
	sum := sha256.Sum256([]byte(v1.Title + "\n" + v1.Text))
	if got := rec.details[0]["notice_sha256"]; got != hex.EncodeToString(sum[:]) || rec.details[0]["notice_version"] != v1.Version {
		t.Errorf("leaf details %v, want the version and the SHA-256 of the title and text", rec.details[0])
	}
	// Again: the first acknowledgement stands, and no second leaf.
	again, created, err := Acknowledge(ctx, st, rec.record, "a", v1.Version, ViaAPI, day0.Add(time.Hour))
	if err != nil || created || !cmp.Equal(again, a) {
		t.Errorf("acknowledging again = %+v, %v, %v; want the first, not new", again, created, err)
	}
	if len(rec.leaves) != 1 {
		t.Errorf("acknowledging again wrote %d leaves, want none more", len(rec.leaves)-1)
	}

	// A new version must be acknowledged again; the old one is refused.
	v2 := publish(t, st, "email")
	var nc *NotCurrentError
	if _, _, err := Acknowledge(ctx, st, rec.record, "b", v1.Version, ViaWeb, day0); !errors.As(err, &nc) || nc.Current != v2.Version {
		t.Errorf("acknowledging the superseded version = %v, want NotCurrentError naming %d", err, v2.Version)
	}
	// A failed oversight write stores nothing: no acknowledgement without its leaf.
	rec.fail = errors.New("disk full")
	if _, _, err := Acknowledge(ctx, st, rec.record, "b", v2.Version, ViaWeb, day0); err == nil {
		t.Error("Acknowledge with the oversight log failing = nil error")
	}
	if as, _ := st.AcknowledgementsOf(ctx, "b"); len(as) != 0 {
		t.Errorf("b has %d acknowledgements after a failed oversight write, want none", len(as))
	}
	rec.fail = nil
	if _, _, err := Acknowledge(ctx, st, rec.record, "b", v2.Version, ViaAPI, day0); err != nil {
		t.Fatal(err)
	}

	// The NOTICE question of the request workflow.
	for _, tc := range []struct {
		person, category string
		ok               bool
		version          int64
	}{
		{"a", "email", true, v1.Version}, // only v1, which covers e-mail
		{"a", "web", true, v1.Version},   // v1 covers web
		{"b", "email", true, v2.Version}, // v2
		{"b", "web", false, 0},           // v2 does not cover web, and b never acknowledged v1
		{"a", "telephony", false, 0},     // no notice covered it
		{"nobody", "email", false, 0},    // no acknowledgements at all
		{"a", "", false, 0},              // no category
	} {
		ack, n, ok, err := Acknowledged(ctx, st, tc.person, tc.category)
		if err != nil || ok != tc.ok || ack.Version != tc.version || (ok && n.Version != tc.version) {
			t.Errorf("Acknowledged(%s, %q) = %+v, notice %d, %v, %v; want ok %v at version %d", tc.person, tc.category, ack, n.Version, ok, err, tc.ok, tc.version)
		}
	}
}

func TestComplianceReport(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	if _, err := ComplianceReport(ctx, st, day0); !errors.Is(err, ErrNoNotice) {
		t.Fatalf("report with no notice = %v, want ErrNoNotice", err)
	}
	people(t, st,
		store.Person{ID: "boss", Name: "Bea Boss", Unit: "HQ"},
		store.Person{ID: "a", Name: "Ann", Unit: "Unit 1", Manager: "boss"},
		store.Person{ID: "b", Name: "=HYPERLINK(\"x\")", Number: "42", Unit: "Unit 1", Manager: "boss"},
		store.Person{ID: "c", Name: "Cat", Unit: "Unit 1"},
		store.Person{ID: "d", Name: "Dan", Unit: "Unit 2", Manager: "gone"},
		store.Person{ID: "left", Name: "Leaver", Unit: "Unit 1", LeftOn: day0.Add(-24 * time.Hour)},
	)
	n := publish(t, st, "email")
	rec := &recorder{}
	for _, id := range []string{"a", "boss"} {
		if _, _, err := Acknowledge(ctx, st, rec.record, id, n.Version, ViaWeb, day0); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := ComplianceReport(ctx, st, day0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Coverage != (store.NoticeCoverage{Active: 5, Acknowledged: 2}) || rep.Outstanding() != 3 {
		t.Errorf("coverage %+v, outstanding %d; want 2 of 5, 3 outstanding (the leaver not counted)", rep.Coverage, rep.Outstanding())
	}
	var got []string
	for _, u := range rep.Units {
		for _, m := range u.Managers {
			for _, p := range m.People {
				got = append(got, u.Unit+"/"+m.Manager+"("+m.ManagerName+")/"+p.ID)
			}
		}
	}
	want := []string{"Unit 1/()/c", "Unit 1/boss(Bea Boss)/b", "Unit 2/gone()/d"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report groups (-want +got):\n%s", diff)
	}

	var csv bytes.Buffer
	if err := WriteComplianceCSV(&csv, rep); err != nil {
		t.Fatal(err)
	}
	wantCSV := "unit,manager_id,manager_name,id,name,number,notice_version\n" +
		"Unit 1,,,c,Cat,,1\n" +
		"Unit 1,boss,Bea Boss,b,\"'=HYPERLINK(\"\"x\"\")\",42,1\n" +
		"Unit 2,gone,,d,Dan,,1\n"
	if diff := cmp.Diff(wantCSV, csv.String()); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}
	var text bytes.Buffer
	if err := WriteComplianceText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Notice version 1: 2 of 5 people (40.0%) have acknowledged; 3 have not.", "Line manager: Bea Boss (boss)", "(no line manager)", "Unit 2"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report does not say %q:\n%s", want, text.String())
		}
	}
	if s := rep.Summary(); len(s.Outstanding) != 3 || s.Outstanding[1].ManagerName != "Bea Boss" {
		t.Errorf("summary %+v", s)
	}
}

func TestNoticeRecord(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	people(t, st, store.Person{ID: "a"}, store.Person{ID: "b"})
	rec := &recorder{}
	v1 := publish(t, st, "email", "web")
	if _, _, err := Acknowledge(ctx, st, rec.record, "a", v1.Version, ViaWeb, day0); err != nil {
		t.Fatal(err)
	}
	v2 := publish(t, st, "email")
	if _, _, err := Acknowledge(ctx, st, rec.record, "a", v2.Version, ViaAPI, day0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := NoticeRecord(ctx, st, []string{"a", "b"}, []string{"web", "telephony", "email", "web"})
	if err != nil {
		t.Fatal(err)
	}
	want := "a acknowledged monitoring notice version 2, which covers email, on 2 November 2026 10:00 UTC (through another system; oversight log entry 1).\n" +
		"a acknowledged monitoring notice version 1, which covers web, on 2 November 2026 09:00 UTC (on lbm's website; oversight log entry 0).\n" +
		"a has acknowledged no monitoring notice covering telephony.\n" +
		"b has acknowledged no monitoring notice covering email, telephony, web."
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notice record (-want +got):\n%s", diff)
	}
}

func TestAwaitingAcknowledgement(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	people(t, st, store.Person{ID: "a"})
	rec := &recorder{}
	waiting := func(want int64) {
		t.Helper()
		if got, err := AwaitingAcknowledgement(ctx, st, "a"); err != nil || got != want {
			t.Errorf("AwaitingAcknowledgement = %d, %v; want %d", got, err, want)
		}
	}
	waiting(0) // nothing published
	v1 := publish(t, st, "email")
	waiting(v1.Version)
	if _, _, err := Acknowledge(ctx, st, rec.record, "a", v1.Version, ViaWeb, day0); err != nil {
		t.Fatal(err)
	}
	waiting(0)
	v2 := publish(t, st, "email")
	waiting(v2.Version)
}
