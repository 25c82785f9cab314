// Package storetest is the conformance suite of the storage contract in
// internal/store. Every engine passes the same suite, so code above
// internal/store never depends on which engine holds its data.
//
// An engine's test is one call:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := Open(t.Context(), t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// # What the suite pins
//
// The suite checks what store.go promises in words: bytes come back exactly
// as stored (nil stays nil), a transaction whose function fails leaves no
// trace, uniqueness violations surface as [store.ErrExists] and absences as
// [store.ErrNotFound] even through UpdateLog, and writers to one log are
// serialised. It never checks Merkle arithmetic: engines store the hashes and
// tree states they are handed, and internal/tlog owns what those mean. The
// fixtures here are therefore arbitrary but distinct bytes.
//
// # Times
//
// Times (Checkpoint.Time, DataKey.Created, Token.Created, Source.Created,
// and those of people, credentials, changes, notices, acknowledgements,
// catalogue, consent policy and rule set versions, subject access
// requests, stored requests and stored alerts) must
// round-trip to the nanosecond, compared as instants with [time.Time.Equal]
// (the location need not survive). The SQLite engine stores Unix nanoseconds; an engine on a
// microsecond column type (PostgreSQL timestamptz) must store nanoseconds in
// a bigint instead, so that a value read back equals the value the caller
// wrote. A zero time (a token that never expires, a person who has not
// left, an undecided change, a request not yet authorised) reads back as
// the zero time.
//
// # People
//
// A person with no roles reads back with Roles nil, whether put with nil or
// an empty slice; a credential's empty TOTPSecret and a change's empty
// Payload read back nil likewise. PutPeople refuses a batch that names one
// person twice with [store.ErrExists], and stores none of it.
//
// PutPeople compares versions as DecideChange does: a person is put at the
// Version it was read at, 0 for one not yet stored. A person stored at
// another version, a new person already stored, or a version given for a
// person not stored, is [store.ErrConflict], and none of the batch is
// stored. So a put of people read before an approved change cannot undo it.
//
// # Effects of approved changes
//
// DecideChange applies a [store.ChangeEffect] in the decision's
// transaction, and a refused effect leaves the change pending. Besides the
// comparisons store.go states, the suite pins what engines refuse before
// writing anything, with an error that is none of the sentinels: more than
// one effect, an effect on a decision other than "approved", an effect on
// anything but the change's own kind and target (a "notice" change's
// Target is the notice version in decimal, a "catalogue" change's is
// "catalogue", a "consent_policy" change's "consent_policy", a "rules"
// change's "rules"), a catalogue, consent policy or rule set version whose
// Change is not the change's ID, a consent policy or rule set version
// whose By is not the decider, and a publication at the zero time, which
// would read back as a draft. Of concurrent approvals that each publish a
// notice against the same previous one, or each add the same catalogue,
// consent policy or rule set version, exactly one wins.
//
// # Notices and catalogues
//
// A notice's empty Categories, like a person's Roles, read back nil; a
// catalogue version's empty YAML files read back nil, as a change's empty
// Payload does; cataloguecategories.go states what the versions' fourth
// file, the retention schedule, pins. The current notice is the published one of the greatest
// version: publishing version 3 over version 1 leaves version 2 a draft.
// An Acknowledgement's Entry keeps all 64 bits. Unacknowledged and
// ListSubjectAccessRequests order text byte by byte, as the people listing
// does; requests made at one instant come in descending ID order, as
// changes do.
//
// # Requests
//
// A stored request's empty Subjects and Body read back nil; its Subjects
// otherwise in the order given. AddRequest refuses a stored ID or
// Reference with [store.ErrExists] and stores nothing, and a Subject
// listing then finds no trace of it. UpdateRequest is a compare-and-swap
// on Version and the four fields that never change: a request renamed to
// another's ID is [store.ErrConflict] (that request's Reference differs),
// one renamed to an absent ID [store.ErrNotFound]. Of concurrent updates
// read at one version exactly one wins. ListRequests orders IDs byte by
// byte and matches a Subject exactly, never as a prefix. Between them,
// concurrent callers of NextRequestNumber take each number from 1 once.
//
// # Notifications
//
// AddNotifications stores a batch whole or not at all: a stored ID, an ID
// given twice, or an absent person refuses all of it. A person's
// notifications come newest first, those created at one instant in
// descending ID order, matched on the person exactly. Marking another
// person's notification is [store.ErrNotFound], like an absent one, and
// marking one read again keeps the first time it was read.
//
// # Alerts
//
// A stored alert's empty Body reads back nil. AddAlerts skips an alert
// whose Dedup is stored or came earlier in the same call, whatever its ID
// and other fields, so replaying an alert already stored is no error. It
// refuses an ID stored under another Dedup, or given twice in one call
// (even with one Dedup), with [store.ErrExists], and a cursor below the
// stored one with [store.ErrConflict]; either way nothing of the call is
// stored and the cursor stays where it was. The cursor check comes first:
// a call from behind the cursor is ErrConflict even if it also names a
// stored ID. Each log's cursor is its own. UpdateAlert compares Version and the
// six fields that never change, times as instants, as UpdateRequest does;
// Severity, State, Assignee, Updated and Body change. ListAlerts orders
// IDs byte by byte, greatest first, and matches State and Assignee
// exactly.
//
// # Relevant errors
//
// relevanterrors.go states what the register's behaviours pin.
//
// # Legal holds
//
// holds.go states what the holds' behaviours pin.
//
// # People's e-mail addresses and usernames
//
// people_emails.go states what the behaviours pin.
//
// # KEK rotation
//
// kekrotation.go states what the rotation's behaviours pin.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// Run runs every behaviour of the store contract against engines made by
// open; each subtest gets a fresh, empty store.
//
// open should register a t.Cleanup that closes the store. The Close
// behaviour closes its store itself first, so that cleanup may call Close a
// second time; its error then is the engine's to report or ignore.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, b := range behaviours {
		t.Run(b.name, func(t *testing.T) {
			b.test(t, open(t))
		})
	}
}

var behaviours = []struct {
	name string
	test func(*testing.T, store.Store)
}{
	{"Empty", testEmpty},
	{"AppendVisible", testAppendVisible},
	{"Rollback", testRollback},
	{"RollbackOnPanic", testRollbackOnPanic},
	{"CanceledContext", testCanceledContext},
	{"AppendExists", testAppendExists},
	{"AppendDistinct", testAppendDistinct},
	{"FindClientIDs", testFindClientIDs},
	{"TilesReplace", testTilesReplace},
	{"LeafTiles", testLeafTiles},
	{"TxReads", testTxReads},
	{"LogsIndependent", testLogsIndependent},
	{"Checkpoints", testCheckpoints},
	{"Retention", testRetention},
	{"Cosignatures", testCosignatures},
	{"LatestCosigned", testLatestCosigned},
	{"DataKeys", testDataKeys},
	{"KEKRotation", testKEKRotation},
	{"ConcurrentRewrap", testConcurrentRewrap},
	{"Principals", testPrincipals},
	{"Tokens", testTokens},
	{"People", testPeople},
	{"ListPeople", testListPeople},
	{"Leavers", testLeavers},
	{"PeopleRollback", testPeopleRollback},
	{"PeopleConflict", testPeopleConflict},
	{"Credentials", testCredentials},
	{"Changes", testChanges},
	{"ConcurrentDecide", testConcurrentDecide},
	{"ConcurrentPutDecide", testConcurrentPutDecide},
	{"Notices", testNotices},
	{"ConcurrentNotices", testConcurrentNotices},
	{"NoticePublication", testNoticePublication},
	{"ConcurrentPublication", testConcurrentPublication},
	{"Catalogues", testCatalogues},
	{"ConcurrentCatalogue", testConcurrentCatalogue},
	{"CatalogueCategories", testCatalogueCategories},
	{"ConsentPolicies", testConsentPolicies},
	{"ConcurrentConsentPolicy", testConcurrentConsentPolicy},
	{"ConsentPolicyEffects", testConsentPolicyEffects},
	{"RuleSets", testRuleSets},
	{"ConcurrentRuleSet", testConcurrentRuleSet},
	{"RuleSetEffects", testRuleSetEffects},
	{"Effects", testEffects},
	{"Acknowledgements", testAcknowledgements},
	{"Unacknowledged", testUnacknowledged},
	{"SubjectAccessRequests", testSubjectAccessRequests},
	{"SubjectAccessUpdate", testSubjectAccessUpdate},
	{"SubjectAccessConcurrentUpdate", testSubjectAccessConcurrentUpdate},
	{"SubjectSummary", testSubjectSummary},
	{"Requests", testRequests},
	{"RequestExists", testRequestExists},
	{"RequestUpdate", testRequestUpdate},
	{"ConcurrentRequestUpdate", testConcurrentRequestUpdate},
	{"ListRequests", testListRequests},
	{"ListRequestsLimit", testListRequestsLimit},
	{"RequestNumbers", testRequestNumbers},
	{"ConcurrentRequestNumbers", testConcurrentRequestNumbers},
	{"Notifications", testNotifications},
	{"ConcurrentNotificationReads", testConcurrentNotificationReads},
	{"Alerts", testAlerts},
	{"AlertDedup", testAlertDedup},
	{"AlertExists", testAlertExists},
	{"DetectionCursor", testDetectionCursor},
	{"AlertUpdate", testAlertUpdate},
	{"ConcurrentAlertUpdate", testConcurrentAlertUpdate},
	{"ConcurrentAddAlerts", testConcurrentAddAlerts},
	{"ListAlerts", testListAlerts},
	{"ListAlertsLimit", testListAlertsLimit},
	{"RelevantErrors", testRelevantErrors},
	{"RelevantErrorUpdate", testRelevantErrorUpdate},
	{"ConcurrentRelevantErrorUpdate", testConcurrentRelevantErrorUpdate},
	{"ListRelevantErrors", testListRelevantErrors},
	{"RelevantErrorNumbers", testRelevantErrorNumbers},
	{"Holds", testHolds},
	{"LogRegistry", testLogRegistry},
	{"Leases", testLeases},
	{"PeopleEmails", testPeopleEmails},
	{"PeopleEmailsTaken", testPeopleEmailsTaken},
	{"PeopleEmailsRefused", testPeopleEmailsRefused},
	{"PeopleIndex", testPeopleIndex},
	{"HoldRelease", testHoldRelease},
	{"ConcurrentHoldRelease", testConcurrentHoldRelease},
	{"SearchTerms", testSearchTerms},
	{"QueryEvents", testQueryEvents},
	{"QueryEventsPaging", testQueryEventsPaging},
	{"QueryEventsByIndex", testQueryEventsByIndex},
	{"QueryEventsShards", testQueryEventsShards},
	{"QueryEventsShardsPaging", testQueryEventsShardsPaging},
	{"SubjectSummaryShards", testSubjectSummaryShards},
	{"BadTerms", testBadTerms},
	{"ConcurrentAppends", testConcurrentAppends},
	{"ConcurrentDataKeys", testConcurrentDataKeys},
	{"PingClose", testPingClose},
}

const (
	activity  = "activity"
	oversight = "oversight"
)

// epoch has every nanosecond digit set, so a truncating engine shows.
var epoch = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

var errBoom = errors.New("boom")

// hash returns 32 bytes distinct for each s.
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newEntry returns a fully populated entry; its ID depends on every argument.
// Meta starts with a NUL and a 0xff byte, so an engine that treats bytes as
// text shows.
func newEntry(log string, index uint64, source, clientID string, content bool) store.Entry {
	tag := fmt.Sprintf("%s/%d/%s/%s", log, index, source, clientID)
	e := store.Entry{
		Log:      log,
		Index:    index,
		Time:     epoch.UnixNano() + int64(index),
		Source:   source,
		Subject:  "alice",
		ClientID: clientID,
		Leaf:     hash("leaf " + tag),
		Meta:     append([]byte{0, 0xff}, "meta "+tag...),
		Category: "record_query",
		Action:   "pnc_person_search",
	}
	copy(e.ID[:], hash("id "+tag))
	if content {
		e.Content = []byte("sealed " + tag)
		e.KeyID = hash("key alice")[:16]
		e.Terms = terms(tag, "common")
	}
	return e
}

// terms returns blinded-looking terms (lower-case hex) for words, sorted
// and unique as the store contract wants them.
func terms(words ...string) []string {
	var out []string
	for _, w := range words {
		out = append(out, fmt.Sprintf("%x", hash("term " + w)[:15]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// mixed returns entries [from, from+n) of log from source src-a, cycling
// through the four shapes: with and without a client id, with and without
// content.
func mixed(log string, from, n uint64) []store.Entry {
	var es []store.Entry
	for i := from; i < from+n; i++ {
		client := ""
		if i%4 < 2 {
			client = fmt.Sprintf("c%d", i)
		}
		es = append(es, newEntry(log, i, "src-a", client, i%2 == 0))
	}
	return es
}

// treeState returns a state of size with as many range hashes as a compact
// range [0, size) has.
func treeState(log string, size uint64) store.TreeState {
	st := store.TreeState{Size: size, Root: hash(fmt.Sprintf("root %s %d", log, size))}
	for i := range bits.OnesCount64(size) {
		st.Range = append(st.Range, hash(fmt.Sprintf("range %s %d %d", log, size, i)))
	}
	return st
}

// tile returns the first n hashes of tile id of log; a longer tile extends a
// shorter one, as a partial tile grows.
func tile(log string, id store.TileID, n int) []byte {
	var b []byte
	for j := range n {
		b = append(b, hash(fmt.Sprintf("node %s %d %d", log, id.Level, id.Index*256+uint64(j)))...)
	}
	return b
}

// commit appends entries and tiles to log in one transaction, moving the
// tree to the state of size State+len(entries), which it returns.
func commit(t *testing.T, s store.Store, log string, entries []store.Entry, tiles map[store.TileID][]byte) store.TreeState {
	t.Helper()
	var st store.TreeState
	err := s.UpdateLog(t.Context(), log, func(tx store.LogTx) error {
		old, err := tx.State(t.Context())
		if err != nil {
			return err
		}
		st = treeState(log, old.Size+uint64(len(entries)))
		return tx.Append(t.Context(), entries, tiles, st)
	})
	if err != nil {
		t.Fatalf("UpdateLog(%q) appending %d entries = %v, want nil", log, len(entries), err)
	}
	return st
}

func checkState(t *testing.T, s store.Store, log string, want store.TreeState) {
	t.Helper()
	got, err := s.LogState(t.Context(), log)
	if err != nil {
		t.Fatalf("LogState(%q) = %v", log, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LogState(%q) mismatch (-want +got):\n%s", log, diff)
	}
}

func checkEntries(t *testing.T, s store.Store, log string, from, to uint64, want []store.Entry) {
	t.Helper()
	got, err := s.Entries(t.Context(), log, from, to)
	if err != nil {
		t.Fatalf("Entries(%q, %d, %d) = %v", log, from, to, err)
	}
	if len(want) == 0 {
		if len(got) != 0 {
			t.Errorf("Entries(%q, %d, %d) = %d entries, want none", log, from, to, len(got))
		}
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Entries(%q, %d, %d) mismatch (-want +got):\n%s", log, from, to, diff)
	}
}

func checkEntryByID(t *testing.T, s store.Store, want store.Entry) {
	t.Helper()
	got, err := s.EntryByID(t.Context(), want.ID)
	if err != nil {
		t.Errorf("EntryByID(%x) = %v, want entry %d of %s", want.ID, err, want.Index, want.Log)
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EntryByID(%x) mismatch (-want +got):\n%s", want.ID, diff)
	}
}

func checkNoEntryByID(t *testing.T, s store.Store, id [16]byte) {
	t.Helper()
	if e, err := s.EntryByID(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EntryByID(%x) = entry %d of %q, %v; want ErrNotFound", id, e.Index, e.Log, err)
	}
}

// checkTile checks tile id of log holds want, or is absent when want is nil.
func checkTile(t *testing.T, s store.Store, log string, id store.TileID, want []byte) {
	t.Helper()
	got, err := s.Tile(t.Context(), log, id)
	if want == nil {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Tile(%q, %+v) = %d bytes, %v; want ErrNotFound", log, id, len(got), err)
		}
		return
	}
	if err != nil {
		t.Errorf("Tile(%q, %+v) = %v, want %d bytes", log, id, err, len(want))
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tile(%q, %+v) mismatch (-want +got):\n%s", log, id, diff)
	}
}

func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	checkState(t, s, activity, store.TreeState{})
	checkTile(t, s, activity, store.TileID{}, nil)
	checkEntries(t, s, activity, 0, 10, nil)
	checkNoEntryByID(t, s, newEntry(activity, 0, "src-a", "", false).ID)
	if c, err := s.LatestCheckpoint(ctx, activity); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestCheckpoint(%q) = %+v, %v; want ErrNotFound", activity, c, err)
	}
	if cs, err := s.ListCheckpoints(ctx, activity, 0, 10); err != nil || len(cs) != 0 {
		t.Errorf("ListCheckpoints(%q) = %v, %v; want none", activity, cs, err)
	}
	if srcs, err := s.ListSources(ctx); err != nil || len(srcs) != 0 {
		t.Errorf("ListSources() = %v, %v; want none", srcs, err)
	}
	if tok, err := s.TokenByHash(ctx, hash("token")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(%x) = %+v, %v; want ErrNotFound", hash("token"), tok, err)
	}
	if k, err := s.DataKeyFor(ctx, "alice", "2025-03"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DataKeyFor(%q, %q) = %+v, %v; want ErrNotFound", "alice", "2025-03", k, err)
	}
	if n, err := s.CountPeople(ctx); err != nil || n != 0 {
		t.Errorf("CountPeople() = %d, %v; want 0", n, err)
	}
	if ps, err := s.ListPeople(ctx, store.PeopleQuery{Text: "a"}); err != nil || len(ps) != 0 {
		t.Errorf("ListPeople() = %v, %v; want none", ps, err)
	}
	if ids, err := s.LeaversWithTokens(ctx, epoch); err != nil || len(ids) != 0 {
		t.Errorf("LeaversWithTokens() = %v, %v; want none", ids, err)
	}
	if c, err := s.CredentialOf(ctx, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CredentialOf(%q) = %+v, %v; want ErrNotFound", "alice", c, err)
	}
	if cs, err := s.ListChanges(ctx, ""); err != nil || len(cs) != 0 {
		t.Errorf("ListChanges() = %v, %v; want none", cs, err)
	}
	if ns, err := s.ListNotices(ctx); err != nil || len(ns) != 0 {
		t.Errorf("ListNotices() = %v, %v; want none", ns, err)
	}
	if n, err := s.CurrentNotice(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CurrentNotice() = %+v, %v; want ErrNotFound", n, err)
	}
	if as, err := s.AcknowledgementsOf(ctx, "alice"); err != nil || len(as) != 0 {
		t.Errorf("AcknowledgementsOf(%q) = %v, %v; want none", "alice", as, err)
	}
	if c, err := s.CurrentCatalogue(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CurrentCatalogue() = %+v, %v; want ErrNotFound", c, err)
	}
	if vs, err := s.ListCatalogueVersions(ctx); err != nil || len(vs) != 0 {
		t.Errorf("ListCatalogueVersions() = %v, %v; want none", vs, err)
	}
	if rs, err := s.ListSubjectAccessRequests(ctx, ""); err != nil || len(rs) != 0 {
		t.Errorf("ListSubjectAccessRequests() = %v, %v; want none", rs, err)
	}
	if r, err := s.RequestByID(ctx, "req-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RequestByID(%q) = %+v, %v; want ErrNotFound", "req-1", r, err)
	}
	if rs, err := s.ListRequests(ctx, store.RequestQuery{}); err != nil || len(rs) != 0 {
		t.Errorf("ListRequests() = %v, %v; want none", rs, err)
	}
	if rs, err := s.ListRequests(ctx, store.RequestQuery{Subject: "alice", DueBy: epoch}); err != nil || len(rs) != 0 {
		t.Errorf("ListRequests(Subject, DueBy) = %v, %v; want none", rs, err)
	}
	if err := s.UpdateRequest(ctx, store.StoredRequest{ID: "req-1", Version: 2}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateRequest(%q) = %v; want ErrNotFound", "req-1", err)
	}
	err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(store.TreeState{}, st); diff != "" {
			t.Errorf("LogTx.State on an empty log mismatch (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Errorf("UpdateLog(%q) reading only = %v, want nil", activity, err)
	}
	// A transaction that writes nothing creates nothing.
	checkState(t, s, activity, store.TreeState{})
}

func testAppendVisible(t *testing.T, s store.Store) {
	// 70 entries in one Append, so an engine that batches its inserts
	// crosses a batch boundary, then 3 more in a second transaction.
	first := mixed(activity, 0, 70)
	commit(t, s, activity, first, map[store.TileID][]byte{{Level: 0, Index: 0}: tile(activity, store.TileID{}, 70)})
	// Engines must copy what they are given: scribble over the caller's
	// buffers and expect the pristine fixtures back.
	for i := range first {
		first[i].Leaf[0] ^= 0xff
		first[i].Meta[0] ^= 0xff
	}
	wantState := commit(t, s, activity, mixed(activity, 70, 3), map[store.TileID][]byte{
		{Level: 0, Index: 0}: tile(activity, store.TileID{}, 73),
		{Level: 1, Index: 0}: tile(activity, store.TileID{Level: 1}, 1),
	})

	all := mixed(activity, 0, 73)
	checkState(t, s, activity, wantState)
	if got := len(wantState.Range); got != 3 {
		t.Fatalf("fixture treeState(73) has %d range hashes, want 3", got)
	}
	tests := []struct {
		from, to uint64
		want     []store.Entry
	}{
		{0, 73, all},
		{0, 0, nil},
		{5, 9, all[5:9]},
		{69, 71, all[69:71]}, // across the two transactions
		{72, 100, all[72:]},
		{73, 100, nil},
		{10, 5, nil},
		{0, math.MaxUint64, all},
		{math.MaxUint64, math.MaxUint64, nil},
	}
	for _, tt := range tests {
		checkEntries(t, s, activity, tt.from, tt.to, tt.want)
	}
	for _, e := range all {
		checkEntryByID(t, s, e)
	}
	checkTile(t, s, activity, store.TileID{Level: 0, Index: 0}, tile(activity, store.TileID{}, 73))
	checkTile(t, s, activity, store.TileID{Level: 1, Index: 0}, tile(activity, store.TileID{Level: 1}, 1))
	checkTile(t, s, activity, store.TileID{Level: 0, Index: 1}, nil)
}

func testRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name   string
		before uint64 // entries committed before the case runs
		write  bool   // whether fn appends before failing
		retErr error  // what fn returns
	}{
		{"first write", 0, true, errBoom},
		{"nothing written", 0, false, errBoom},
		{"wrapped error", 0, true, fmt.Errorf("checking batch: %w", errBoom)},
		{"after commits", 3, true, errBoom},
		{"sentinel", 3, true, store.ErrConflict},
	}
	var size uint64
	wantState := store.TreeState{}
	for _, tt := range tests {
		if tt.before > size {
			wantState = commit(t, s, activity, mixed(activity, size, tt.before-size),
				map[store.TileID][]byte{{}: tile(activity, store.TileID{}, int(tt.before))})
			size = tt.before
		}
		added := mixed(activity, size, 3)
		err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
			if tt.write {
				tiles := map[store.TileID][]byte{
					{Level: 0, Index: 0}: tile(activity, store.TileID{}, int(size)+3),
					{Level: 1, Index: 0}: tile(activity, store.TileID{Level: 1}, 1),
				}
				if err := tx.Append(ctx, added, tiles, treeState(activity, size+3)); err != nil {
					t.Errorf("%s: Append = %v, want nil", tt.name, err)
				}
			}
			return tt.retErr
		})
		if !errors.Is(err, tt.retErr) {
			t.Errorf("%s: UpdateLog(%q) = %v, want %v", tt.name, activity, err, tt.retErr)
		}
		checkState(t, s, activity, wantState)
		checkEntries(t, s, activity, 0, 100, mixed(activity, 0, size))
		for _, e := range added {
			checkNoEntryByID(t, s, e.ID)
		}
		if size == 0 {
			checkTile(t, s, activity, store.TileID{}, nil)
		} else {
			checkTile(t, s, activity, store.TileID{}, tile(activity, store.TileID{}, int(size)))
		}
		checkTile(t, s, activity, store.TileID{Level: 1}, nil)
	}
}

// testRollbackOnPanic checks that a panic in fn propagates and abandons the
// transaction: the store must not stay locked by it (net/http recovers a
// handler's panic and carries on, so a wedged writer would stop every later
// append).
func testRollbackOnPanic(t *testing.T, s store.Store) {
	want := commit(t, s, activity, mixed(activity, 0, 2), nil)
	added := mixed(activity, 2, 1)
	func() {
		defer func() {
			if r := recover(); r != errBoom {
				t.Errorf("UpdateLog with a panicking fn panicked with %v, want %v", r, errBoom)
			}
		}()
		// A context that is never canceled: an engine must not rely on
		// cancellation to release the transaction.
		ctx := context.WithoutCancel(t.Context())
		s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
			if err := tx.Append(ctx, added, nil, treeState(activity, 3)); err != nil {
				t.Errorf("Append = %v, want nil", err)
			}
			panic(errBoom)
		})
	}()
	checkState(t, s, activity, want)
	checkNoEntryByID(t, s, added[0].ID)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		return tx.Append(ctx, added, nil, treeState(activity, st.Size+1))
	})
	if err != nil {
		t.Fatalf("UpdateLog(%q) after a panic = %v, want nil", activity, err)
	}
	checkEntryByID(t, s, added[0])
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	added := mixed(activity, 0, 1)
	err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		return tx.Append(ctx, added, nil, treeState(activity, st.Size+1))
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateLog(canceled, %q) = %v, want context.Canceled", activity, err)
	}
	checkState(t, s, activity, store.TreeState{})
	checkNoEntryByID(t, s, added[0].ID)
}

// testAppendExists appends, in one transaction, a good entry and then one
// that collides with a stored entry or with the good one, and checks the
// whole transaction is refused with ErrExists.
func testAppendExists(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := []store.Entry{
		newEntry(activity, 0, "src-a", "c0", true),
		newEntry(activity, 1, "src-a", "c1", false),
		newEntry(activity, 2, "src-a", "", true),
	}
	baseTile := tile(activity, store.TileID{}, 3)
	baseState := commit(t, s, activity, base, map[store.TileID][]byte{{}: baseTile})
	other := newEntry(oversight, 0, "lbm", "o0", false)
	commit(t, s, oversight, []store.Entry{other}, nil)

	withID := func(e store.Entry, id [16]byte) store.Entry {
		e.ID = id
		return e
	}
	good := newEntry(activity, 3, "src-a", "fresh", true)
	tests := []struct {
		name string
		bad  store.Entry
	}{
		{"stored index", newEntry(activity, 1, "src-a", "", false)},
		{"stored ID", withID(newEntry(activity, 4, "src-a", "c4", false), base[0].ID)},
		{"ID stored in another log", withID(newEntry(activity, 4, "src-a", "c4", false), other.ID)},
		{"stored client ID", newEntry(activity, 4, "src-a", "c1", true)},
		{"index earlier in the batch", newEntry(activity, 3, "src-b", "", false)},
		{"ID earlier in the batch", withID(newEntry(activity, 4, "src-a", "c4", false), good.ID)},
		{"client ID earlier in the batch", newEntry(activity, 4, "src-a", "fresh", false)},
	}
	for _, tt := range tests {
		var appendErr error
		err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
			tiles := map[store.TileID][]byte{{}: tile(activity, store.TileID{}, 5)}
			appendErr = tx.Append(ctx, []store.Entry{good, tt.bad}, tiles, treeState(activity, 5))
			return appendErr
		})
		if !errors.Is(appendErr, store.ErrExists) {
			t.Errorf("%s: Append = %v, want ErrExists", tt.name, appendErr)
		}
		if !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: UpdateLog(%q) = %v, want ErrExists", tt.name, activity, err)
		}
		checkState(t, s, activity, baseState)
		checkEntries(t, s, activity, 0, 100, base)
		checkNoEntryByID(t, s, good.ID)
		checkTile(t, s, activity, store.TileID{}, baseTile)
	}
	checkEntryByID(t, s, other)
}

// testAppendDistinct appends entries that share one part of a unique key
// with a stored entry but not the whole key; each must be accepted.
func testAppendDistinct(t *testing.T, s store.Store) {
	commit(t, s, activity, []store.Entry{
		newEntry(activity, 0, "src-a", "c0", true),
		newEntry(activity, 1, "src-a", "c1", false),
	}, nil)
	tests := []struct {
		name    string
		entries []store.Entry
	}{
		{"same client ID, other source", []store.Entry{newEntry(activity, 2, "src-b", "c1", false)}},
		{"same index, other log", []store.Entry{newEntry(oversight, 0, "src-a", "", false), newEntry(oversight, 1, "src-a", "", false)}},
		{"same source and client ID, other log", []store.Entry{newEntry(oversight, 2, "src-a", "c1", true)}},
		{"many without client ID", []store.Entry{newEntry(activity, 3, "src-a", "", false), newEntry(activity, 4, "src-a", "", true)}},
	}
	for _, tt := range tests {
		log := tt.entries[0].Log
		var err error
		err = s.UpdateLog(t.Context(), log, func(tx store.LogTx) error {
			return tx.Append(t.Context(), tt.entries, nil, treeState(log, tt.entries[len(tt.entries)-1].Index+1))
		})
		if err != nil {
			t.Errorf("%s: UpdateLog(%q) = %v, want nil", tt.name, log, err)
			continue
		}
		for _, e := range tt.entries {
			checkEntryByID(t, s, e)
		}
	}
	checkState(t, s, activity, treeState(activity, 5))
	checkState(t, s, oversight, treeState(oversight, 3))
}

func testFindClientIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	// 600 ids: more than a single SQL IN list of 500 holds.
	const n = 600
	var srcA []store.Entry
	var idsA []string
	for i := range uint64(n) {
		id := fmt.Sprintf("c%04d", i)
		srcA = append(srcA, newEntry(activity, i, "src-a", id, i%2 == 0))
		idsA = append(idsA, id)
	}
	commit(t, s, activity, srcA, nil)
	var srcB []store.Entry
	for i := range uint64(10) {
		srcB = append(srcB, newEntry(activity, n+i, "src-b", fmt.Sprintf("c%04d", i), false))
	}
	srcB = append(srcB, newEntry(activity, n+10, "src-b", "", false))
	commit(t, s, activity, srcB, nil)
	var over []store.Entry
	for i := range uint64(5) {
		over = append(over, newEntry(oversight, i, "src-a", fmt.Sprintf("c%04d", i), false))
	}
	commit(t, s, oversight, over, nil)

	byClientID := func(es ...store.Entry) map[string]store.Entry {
		m := make(map[string]store.Entry)
		for _, e := range es {
			m[e.ClientID] = e
		}
		return m
	}
	tests := []struct {
		log, source string
		ids         []string
		want        map[string]store.Entry
	}{
		{activity, "src-a", append(idsA, "c9999"), byClientID(srcA...)},
		{activity, "src-a", []string{"c0001", "c0001", "c0002"}, byClientID(srcA[1], srcA[2])},
		{activity, "src-b", []string{"c0000", "c0005", "c0500"}, byClientID(srcB[0], srcB[5])},
		{activity, "src-c", []string{"c0000"}, nil},
		{activity, "src-a", nil, nil},
		{oversight, "src-a", idsA[:10], byClientID(over...)},
	}
	for _, tt := range tests {
		err := s.UpdateLog(ctx, tt.log, func(tx store.LogTx) error {
			got, err := tx.FindClientIDs(ctx, tt.source, tt.ids)
			if err != nil {
				t.Errorf("FindClientIDs(%q, %d ids) in %s = %v", tt.source, len(tt.ids), tt.log, err)
				return err
			}
			if len(tt.want) == 0 {
				if len(got) != 0 {
					t.Errorf("FindClientIDs(%q, %d ids) in %s = %d entries, want none", tt.source, len(tt.ids), tt.log, len(got))
				}
				return nil
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FindClientIDs(%q, %d ids) in %s mismatch (-want +got):\n%s", tt.source, len(tt.ids), tt.log, diff)
			}
			return nil
		})
		if err != nil {
			t.Errorf("UpdateLog(%q) = %v", tt.log, err)
		}
		// EntriesByClientID reads the same outside a transaction.
		got, err := s.EntriesByClientID(ctx, tt.log, tt.source, tt.ids)
		if err != nil {
			t.Errorf("EntriesByClientID(%s, %q, %d ids) = %v", tt.log, tt.source, len(tt.ids), err)
			continue
		}
		if len(tt.want) == 0 && len(got) != 0 {
			t.Errorf("EntriesByClientID(%s, %q, %d ids) = %d entries, want none", tt.log, tt.source, len(tt.ids), len(got))
		} else if diff := cmp.Diff(tt.want, got); len(tt.want) > 0 && diff != "" {
			t.Errorf("EntriesByClientID(%s, %q, %d ids) mismatch (-want +got):\n%s", tt.log, tt.source, len(tt.ids), diff)
		}
	}
}

func testTilesReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := store.TileID{Level: 0, Index: 2}
	other := store.TileID{Level: 1, Index: 0}
	commit(t, s, activity, nil, map[store.TileID][]byte{other: tile(activity, other, 2)})
	tests := []struct {
		name string
		data []byte
	}{
		{"partial", tile(activity, id, 3)},
		{"grown", tile(activity, id, 5)},
		{"full", tile(activity, id, 256)},
		{"different bytes", tile(oversight, id, 256)},
	}
	for _, tt := range tests {
		commit(t, s, activity, nil, map[store.TileID][]byte{id: tt.data})
		checkTile(t, s, activity, id, tt.data)
		err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
			got, err := tx.Tiles(ctx, []store.TileID{id})
			if err != nil {
				return err
			}
			if diff := cmp.Diff(map[store.TileID][]byte{id: tt.data}, got); diff != "" {
				t.Errorf("%s: LogTx.Tiles(%+v) mismatch (-want +got):\n%s", tt.name, id, diff)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: UpdateLog(%q) = %v", tt.name, activity, err)
		}
	}
	// Replacing one tile leaves the others alone.
	checkTile(t, s, activity, other, tile(activity, other, 2))
}

func testTxReads(t *testing.T, s store.Store) {
	ctx := t.Context()
	stored := map[store.TileID][]byte{
		{Level: 0, Index: 0}: tile(activity, store.TileID{}, 3),
		{Level: 1, Index: 0}: tile(activity, store.TileID{Level: 1}, 1),
	}
	want := commit(t, s, activity, mixed(activity, 0, 3), stored)
	ids := []store.TileID{{Level: 0, Index: 0}, {Level: 0, Index: 1}, {Level: 1, Index: 0}, {Level: 3, Index: 7}}
	err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("LogTx.State mismatch (-want +got):\n%s", diff)
		}
		got, err := tx.Tiles(ctx, ids)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(stored, got); diff != "" {
			t.Errorf("LogTx.Tiles(%v) mismatch (-want +got):\n%s", ids, diff)
		}
		got, err = tx.Tiles(ctx, nil)
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("LogTx.Tiles(nil) = %d tiles, want none", len(got))
		}
		return nil
	})
	if err != nil {
		t.Errorf("UpdateLog(%q) = %v", activity, err)
	}
	// A transaction on another log sees none of this one's tiles.
	err = s.UpdateLog(ctx, oversight, func(tx store.LogTx) error {
		got, err := tx.Tiles(ctx, ids)
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("LogTx.Tiles(%v) on %s = %d tiles, want none", ids, oversight, len(got))
		}
		return nil
	})
	if err != nil {
		t.Errorf("UpdateLog(%q) = %v", oversight, err)
	}
}

func testLogsIndependent(t *testing.T, s store.Store) {
	id := store.TileID{}
	act := mixed(activity, 0, 3)
	over := mixed(oversight, 0, 2)
	actState := commit(t, s, activity, act, map[store.TileID][]byte{id: tile(activity, id, 3)})
	checkState(t, s, oversight, store.TreeState{})
	checkTile(t, s, oversight, id, nil)
	checkEntries(t, s, oversight, 0, 10, nil)

	overState := commit(t, s, oversight, over, map[store.TileID][]byte{id: tile(oversight, id, 2)})
	checkState(t, s, activity, actState)
	checkState(t, s, oversight, overState)
	checkEntries(t, s, activity, 0, 10, act)
	checkEntries(t, s, oversight, 0, 10, over)
	checkTile(t, s, activity, id, tile(activity, id, 3))
	checkTile(t, s, oversight, id, tile(oversight, id, 2))
	for _, e := range append(act, over...) {
		checkEntryByID(t, s, e)
	}
}

func testCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	cp := func(log string, size uint64) store.Checkpoint {
		return store.Checkpoint{
			Size: size,
			Time: epoch.Add(time.Duration(size) * time.Hour),
			Note: fmt.Appendf(nil, "%s\n%d\n%x\n\n— lbm sig\n", log, size, hash(fmt.Sprint(log, size))),
		}
	}
	// Out of size order, and one log's sizes interleaved with the other's.
	adds := []struct {
		log  string
		size uint64
	}{
		{activity, 5}, {activity, 1}, {oversight, 2}, {activity, 3}, {oversight, 5},
	}
	for _, a := range adds {
		if err := s.AddCheckpoint(ctx, a.log, cp(a.log, a.size)); err != nil {
			t.Fatalf("AddCheckpoint(%q, size %d) = %v, want nil", a.log, a.size, err)
		}
	}
	dup := cp(activity, 3)
	dup.Note = []byte("another note of the same size")
	if err := s.AddCheckpoint(ctx, activity, dup); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddCheckpoint(%q, size 3) again = %v, want ErrExists", activity, err)
	}

	tests := []struct {
		log    string
		latest store.Checkpoint // zero: ErrNotFound
		list   []store.Checkpoint
	}{
		{activity, cp(activity, 5), []store.Checkpoint{cp(activity, 1), cp(activity, 3), cp(activity, 5)}},
		{oversight, cp(oversight, 5), []store.Checkpoint{cp(oversight, 2), cp(oversight, 5)}},
		{"unknown", store.Checkpoint{}, nil},
	}
	for _, tt := range tests {
		got, err := s.LatestCheckpoint(ctx, tt.log)
		switch {
		case tt.latest.Note == nil:
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LatestCheckpoint(%q) = %+v, %v; want ErrNotFound", tt.log, got, err)
			}
		case err != nil:
			t.Errorf("LatestCheckpoint(%q) = %v, want size %d", tt.log, err, tt.latest.Size)
		default:
			// cmp compares times with Time.Equal: the instant, to the nanosecond.
			if diff := cmp.Diff(tt.latest, got); diff != "" {
				t.Errorf("LatestCheckpoint(%q) mismatch (-want +got):\n%s", tt.log, diff)
			}
		}
		list, err := s.ListCheckpoints(ctx, tt.log, 0, 100)
		if err != nil {
			t.Errorf("ListCheckpoints(%q) = %v", tt.log, err)
			continue
		}
		if len(tt.list) == 0 {
			if len(list) != 0 {
				t.Errorf("ListCheckpoints(%q) = %d checkpoints, want none", tt.log, len(list))
			}
			continue
		}
		if diff := cmp.Diff(tt.list, list); diff != "" {
			t.Errorf("ListCheckpoints(%q) mismatch (-want +got):\n%s", tt.log, diff)
		}
	}
	// Pages: from a size on, at most a limit.
	pages := []struct {
		from  uint64
		limit int
		want  []uint64
	}{
		{0, 1, []uint64{1}},
		{1, 2, []uint64{1, 3}},
		{2, 100, []uint64{3, 5}},
		{4, 100, []uint64{5}},
		{6, 100, nil},
		{0, 0, nil},
		{math.MaxUint64, 10, nil},
	}
	for _, p := range pages {
		list, err := s.ListCheckpoints(ctx, activity, p.from, p.limit)
		var sizes []uint64
		for _, c := range list {
			sizes = append(sizes, c.Size)
		}
		if err != nil || !slices.Equal(sizes, p.want) {
			t.Errorf("ListCheckpoints(from %d, limit %d) = sizes %v, %v; want %v", p.from, p.limit, sizes, err, p.want)
		}
	}
}

func testDataKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := func(subject, period string) store.DataKey {
		return store.DataKey{
			ID:      hash("dk " + subject + " " + period)[:16],
			Subject: subject,
			Period:  period,
			KEKID:   "kek-1",
			Wrapped: append([]byte{0}, hash("wrapped "+subject+" "+period)...),
			Created: epoch.Add(time.Duration(len(subject)) * time.Second),
		}
	}
	keys := []store.DataKey{key("alice", "2025-01"), key("alice", "2025-02"), key("bob", "2025-01")}
	for _, k := range keys {
		if err := s.AddDataKey(ctx, k); err != nil {
			t.Fatalf("AddDataKey(%q, %q) = %v, want nil", k.Subject, k.Period, err)
		}
	}
	for _, want := range keys {
		if !want.Destroyed.IsZero() {
			t.Fatalf("fixture key has Destroyed set")
		}
		got, err := s.DataKeyFor(ctx, want.Subject, want.Period)
		if err != nil {
			t.Errorf("DataKeyFor(%q, %q) = %v", want.Subject, want.Period, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DataKeyFor(%q, %q) mismatch (-want +got):\n%s", want.Subject, want.Period, diff)
		}
		got, err = s.DataKeyByID(ctx, want.ID)
		if err != nil {
			t.Errorf("DataKeyByID(%x) = %v", want.ID, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DataKeyByID(%x) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}

	sameSlot := key("alice", "2025-01")
	sameSlot.ID = hash("another id")[:16]
	sameID := key("carol", "2025-01")
	sameID.ID = keys[0].ID
	dups := []struct {
		name string
		k    store.DataKey
	}{
		{"same subject and period", sameSlot},
		{"same ID", sameID},
	}
	for _, tt := range dups {
		if err := s.AddDataKey(ctx, tt.k); !errors.Is(err, store.ErrExists) {
			t.Errorf("AddDataKey(%q, %q) with %s = %v, want ErrExists", tt.k.Subject, tt.k.Period, tt.name, err)
		}
	}
	if got, err := s.DataKeyFor(ctx, "alice", "2025-01"); err != nil || !cmp.Equal(keys[0], got) {
		t.Errorf("DataKeyFor(%q, %q) after duplicates = %+v, %v; want the first key", "alice", "2025-01", got, err)
	}
	if got, err := s.DataKeyByID(ctx, sameSlot.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DataKeyByID(%x) of a refused key = %+v, %v; want ErrNotFound", sameSlot.ID, got, err)
	}

	missing := []struct{ subject, period string }{
		{"alice", "2025-03"},
		{"carol", "2025-01"},
		{"", ""},
	}
	for _, m := range missing {
		if got, err := s.DataKeyFor(ctx, m.subject, m.period); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DataKeyFor(%q, %q) = %+v, %v; want ErrNotFound", m.subject, m.period, got, err)
		}
	}
	for _, id := range [][]byte{hash("no such key")[:16], nil} {
		if got, err := s.DataKeyByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DataKeyByID(%x) = %+v, %v; want ErrNotFound", id, got, err)
		}
	}

	// AddDataKeys stores the new keys of a batch in one go and leaves a
	// subject-period that already has a key with the key it had.
	loser := key("alice", "2025-02")
	loser.ID = hash("losing id")[:16]
	batch := []store.DataKey{key("dave", "2025-01"), loser, key("erin", "2025-01"), key("dave", "2025-01")}
	if err := s.AddDataKeys(ctx, batch); err != nil {
		t.Fatalf("AddDataKeys = %v, want nil", err)
	}
	for _, want := range []store.DataKey{batch[0], keys[1], batch[2]} {
		got, err := s.DataKeyFor(ctx, want.Subject, want.Period)
		if err != nil || !cmp.Equal(want, got) {
			t.Errorf("DataKeyFor(%q, %q) after AddDataKeys = %+v, %v; want %+v", want.Subject, want.Period, got, err, want)
		}
	}
	if err := s.AddDataKeys(ctx, nil); err != nil {
		t.Errorf("AddDataKeys(nil) = %v, want nil", err)
	}
}

func testPrincipals(t *testing.T, s store.Store) {
	ctx := t.Context()
	source := func(id string) store.Source {
		return store.Source{ID: id, Created: epoch.Add(time.Duration(len(id)) * time.Minute)}
	}
	token := func(kind, subject, secret string) store.Token {
		return store.Token{Hash: hash("token " + secret), Kind: kind, Subject: subject, Created: epoch.Add(time.Millisecond)}
	}
	// Added out of ID order.
	srcs := []store.Source{source("src-c"), source("src-a"), source("src-b")}
	var toks []store.Token
	for _, src := range srcs {
		tok := token("source", src.ID, src.ID)
		if err := s.AddSource(ctx, src, tok); err != nil {
			t.Fatalf("AddSource(%q) = %v, want nil", src.ID, err)
		}
		toks = append(toks, tok)
	}
	admin := token("admin", "admin", "admin")
	if err := s.AddToken(ctx, admin); err != nil {
		t.Fatalf("AddToken(admin) = %v, want nil", err)
	}
	toks = append(toks, admin)
	wantSources := []store.Source{source("src-a"), source("src-b"), source("src-c")}

	check := func(when string) {
		t.Helper()
		got, err := s.ListSources(ctx)
		if err != nil {
			t.Errorf("%s: ListSources() = %v", when, err)
		} else if diff := cmp.Diff(wantSources, got); diff != "" {
			t.Errorf("%s: ListSources() mismatch (-want +got):\n%s", when, diff)
		}
		for _, want := range toks {
			got, err := s.TokenByHash(ctx, want.Hash)
			if err != nil {
				t.Errorf("%s: TokenByHash(%x) = %v", when, want.Hash, err)
			} else if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: TokenByHash(%x) mismatch (-want +got):\n%s", when, want.Hash, diff)
			}
		}
	}
	check("after adding")

	tests := []struct {
		name  string
		add   func() error
		ghost []byte // a token hash the refused call must not leave behind
	}{
		{"source exists", func() error {
			return s.AddSource(ctx, source("src-a"), token("source", "src-a", "new secret"))
		}, hash("token new secret")},
		{"token hash exists", func() error {
			return s.AddSource(ctx, source("src-d"), token("source", "src-d", "src-a"))
		}, nil},
		{"both exist", func() error {
			return s.AddSource(ctx, source("src-b"), token("source", "src-b", "src-b"))
		}, nil},
		{"AddToken hash exists", func() error {
			return s.AddToken(ctx, token("source", "src-c", "admin"))
		}, nil},
	}
	for _, tt := range tests {
		if err := tt.add(); !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: add = %v, want ErrExists", tt.name, err)
		}
		// Nothing half-stored: no src-d, no new token, old tokens unchanged.
		check(tt.name)
		if tt.ghost != nil {
			if got, err := s.TokenByHash(ctx, tt.ghost); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: TokenByHash(%x) = %+v, %v; want ErrNotFound", tt.name, tt.ghost, got, err)
			}
		}
	}
	if got, err := s.TokenByHash(ctx, hash("no such token")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(unknown) = %+v, %v; want ErrNotFound", got, err)
	}
}

// testConcurrentAppends runs writers that each read the state and append at
// State.Size. Unless the engine serialises them, two read the same size and
// one fails or an index is skipped.
func testConcurrentAppends(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, appends = 8, 10
	done := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		// A reader alongside: sizes only grow, and reads never fail.
		var last uint64
		for {
			select {
			case <-done:
				return
			default:
			}
			st, err := s.LogState(ctx, activity)
			if err != nil {
				t.Errorf("LogState(%q) during appends = %v", activity, err)
				return
			}
			if st.Size < last {
				t.Errorf("LogState(%q).Size = %d after %d", activity, st.Size, last)
			}
			last = st.Size
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				client := fmt.Sprintf("w%d-%d", w, i)
				err := s.UpdateLog(ctx, activity, func(tx store.LogTx) error {
					st, err := tx.State(ctx)
					if err != nil {
						return err
					}
					// The ID names the writer and append, not the index, so a
					// lost race shows as a duplicate index, not a duplicate ID.
					e := newEntry(activity, st.Size, "src-a", client, false)
					copy(e.ID[:], hash("concurrent "+client))
					return tx.Append(ctx, []store.Entry{e}, nil, treeState(activity, st.Size+1))
				})
				if err != nil {
					t.Errorf("UpdateLog(%q) by writer %d, append %d = %v, want nil", activity, w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()

	const total = writers * appends
	checkState(t, s, activity, treeState(activity, total))
	got, err := s.Entries(ctx, activity, 0, total+1)
	if err != nil {
		t.Fatalf("Entries(%q, 0, %d) = %v", activity, total+1, err)
	}
	if len(got) != total {
		t.Fatalf("Entries(%q, 0, %d) = %d entries, want %d", activity, total+1, len(got), total)
	}
	seen := make(map[string]bool)
	for i, e := range got {
		if e.Index != uint64(i) {
			t.Errorf("entry %d has Index %d", i, e.Index)
		}
		if seen[e.ClientID] {
			t.Errorf("client id %q appended twice", e.ClientID)
		}
		seen[e.ClientID] = true
	}
}

func testPingClose(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
	// /readyz must not report a closed store as ready.
	if err := s.Ping(t.Context()); err == nil {
		t.Errorf("Ping() after Close = nil, want an error")
	}
}

// testSearchTerms checks that a search returns, in index order, exactly the
// entries of its log and subject in its time range that carry every term.
func testSearchTerms(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(log string, i uint64, subject string, words ...string) store.Entry {
		e := newEntry(log, i, "src-a", "", true)
		e.Subject = subject
		e.Terms = terms(words...)
		return e
	}
	es := []store.Entry{
		mk(activity, 0, "alice", "fox", "quick"),
		mk(activity, 1, "alice", "fox", "lazy"),
		mk(activity, 2, "bob", "fox", "quick"),
		mk(activity, 3, "alice", "dog"),
		newEntry(activity, 4, "src-a", "", false), // alice, no content
		mk(activity, 5, "alice", "quick", "fox", "brown"),
	}
	// A later month, so an engine that partitions by time holds two.
	es[5].Time = epoch.AddDate(0, 1, 0).UnixNano()
	commit(t, s, activity, es, nil)
	other := mk(oversight, 0, "alice", "fox", "quick")
	commit(t, s, oversight, []store.Entry{other}, nil)

	all := [2]int64{math.MinInt64, math.MaxInt64}
	tests := []struct {
		name    string
		log     string
		subject string
		span    [2]int64
		words   []string
		limit   int
		want    []store.Entry
	}{
		{"one term", activity, "alice", all, []string{"fox"}, 0, []store.Entry{es[0], es[1], es[5]}},
		{"every term must match", activity, "alice", all, []string{"fox", "quick"}, 0, []store.Entry{es[0], es[5]}},
		{"no entry has all", activity, "alice", all, []string{"dog", "fox"}, 0, nil},
		{"other subject", activity, "bob", all, []string{"quick"}, 0, []store.Entry{es[2]}},
		{"other log", oversight, "alice", all, []string{"quick"}, 0, []store.Entry{other}},
		{"unknown term", activity, "alice", all, []string{"cat"}, 0, nil},
		{"time range excludes the later month", activity, "alice", [2]int64{epoch.UnixNano(), epoch.AddDate(0, 0, 1).UnixNano()}, []string{"fox"}, 0, []store.Entry{es[0], es[1]}},
		{"time range is half-open", activity, "alice", [2]int64{epoch.UnixNano() + 1, es[5].Time}, []string{"fox"}, 0, []store.Entry{es[1]}},
		{"limit", activity, "alice", all, []string{"fox"}, 2, []store.Entry{es[0], es[1]}},
	}
	for _, tt := range tests {
		q := store.TermQuery{Log: tt.log, Subject: tt.subject, From: tt.span[0], To: tt.span[1], Terms: terms(tt.words...), Limit: tt.limit}
		got, err := s.SearchTerms(ctx, q)
		if err != nil {
			t.Errorf("%s: SearchTerms = %v", tt.name, err)
			continue
		}
		if len(tt.want) == 0 {
			if len(got) != 0 {
				t.Errorf("%s: SearchTerms = %d entries, want none", tt.name, len(got))
			}
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: SearchTerms mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	for _, q := range []store.TermQuery{
		{Log: activity, Subject: "alice", From: all[0], To: all[1]},
		{Log: activity, Subject: "alice", From: all[0], To: all[1], Terms: []string{"fox | dog"}},
		{Log: activity, Subject: "alice", From: all[0], To: all[1], Terms: []string{"Fox"}},
		{Log: activity, Subject: "alice", From: all[0], To: all[1], Terms: []string{"fo%"}},
		{Log: activity, Subject: "alice", From: all[0], To: all[1], Terms: []string{""}},
	} {
		if got, err := s.SearchTerms(ctx, q); err == nil {
			t.Errorf("SearchTerms(terms %q) = %d entries, nil; want an error", q.Terms, len(got))
		}
	}
}

// testBadTerms checks that an entry whose terms are not lower-case letters
// and digits is refused, and the transaction with it.
func testBadTerms(t *testing.T, s store.Store) {
	for _, bad := range [][]string{{"UPPER"}, {"two words"}, {"a&b"}, {""}, {"it's"}} {
		e := newEntry(activity, 0, "src-a", "", true)
		e.Terms = bad
		err := s.UpdateLog(t.Context(), activity, func(tx store.LogTx) error {
			return tx.Append(t.Context(), []store.Entry{e}, nil, treeState(activity, 1))
		})
		if err == nil {
			t.Errorf("Append with terms %q = nil, want an error", bad)
		}
		checkState(t, s, activity, store.TreeState{})
		checkNoEntryByID(t, s, e.ID)
	}
}

// testConcurrentDataKeys has writers add overlapping sets of keys, each in
// its own order, as concurrent appends creating the same people's keys do:
// every call must succeed (an engine that locks rows in caller order can
// deadlock here), and each subject and period must end with one key.
func testConcurrentDataKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	const writers, subjects = 6, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			var ks []store.DataKey
			for i := range subjects {
				// A different rotation per writer: the same keys, each writer
				// reaching them in its own order.
				j := (i*7 + w*37) % subjects
				ks = append(ks, store.DataKey{
					ID: hash(fmt.Sprintf("key %d %d", w, j))[:16], Subject: fmt.Sprintf("s%03d", j), Period: "2025-03",
					KEKID: "kek", Wrapped: []byte{byte(w)}, Created: epoch,
				})
			}
			if w%2 == 1 {
				slices.Reverse(ks)
			}
			if err := s.AddDataKeys(ctx, ks); err != nil {
				t.Errorf("writer %d: AddDataKeys = %v", w, err)
			}
		})
	}
	wg.Wait()
	for j := range subjects {
		k, err := s.DataKeyFor(ctx, fmt.Sprintf("s%03d", j), "2025-03")
		if err != nil {
			t.Errorf("DataKeyFor(s%03d) = %v", j, err)
			continue
		}
		byID, err := s.DataKeyByID(ctx, k.ID)
		if err != nil || byID.Subject != k.Subject {
			t.Errorf("DataKeyByID(key of s%03d) = %+v, %v", j, byID, err)
		}
	}
}

// token returns a token of kind for subject whose hash depends on secret;
// its times are distinct instants after epoch.
func newToken(kind, subject, role, secret string) store.Token {
	t := store.Token{Hash: hash("token " + secret), Kind: kind, Subject: subject, Role: role, Created: epoch.Add(time.Millisecond)}
	switch kind {
	case "user", "session", "setup":
		t.Expires = epoch.Add(8 * time.Hour)
	}
	return t
}

// checkTokens checks each token reads back as want.
func checkTokens(t *testing.T, s store.Store, when string, want ...store.Token) {
	t.Helper()
	for _, w := range want {
		got, err := s.TokenByHash(t.Context(), w.Hash)
		if err != nil {
			t.Errorf("%s: TokenByHash(%s of %s) = %v", when, w.Kind, w.Subject, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: TokenByHash(%s of %s) mismatch (-want +got):\n%s", when, w.Kind, w.Subject, diff)
		}
	}
}

// testTokens checks the new fields of a token round-trip and that
// revocation and step-up change only the tokens they name, and only while
// the contract allows.
func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	admin := newToken("admin", "admin", "", "admin")
	user := newToken("user", "p-1", "reviewer", "user p-1")
	session := newToken("session", "p-1", "admin", "session p-1")
	session.SteppedUp = epoch.Add(time.Second)
	setup := newToken("setup", "p-1", "", "setup p-1")
	// Stored already revoked: Revoked round-trips like any other field.
	old := newToken("session", "p-1", "staff", "old session p-1")
	old.Revoked = epoch.Add(-time.Hour)
	other := newToken("session", "p-2", "staff", "session p-2")
	toks := []*store.Token{&admin, &user, &session, &setup, &old, &other}
	for _, tok := range toks {
		if err := s.AddToken(ctx, *tok); err != nil {
			t.Fatalf("AddToken(%s of %s) = %v, want nil", tok.Kind, tok.Subject, err)
		}
	}
	all := func() []store.Token {
		var out []store.Token
		for _, tok := range toks {
			out = append(out, *tok)
		}
		return out
	}
	checkTokens(t, s, "after adding", all()...)

	// A refused call changes no token.
	at := epoch.Add(time.Minute)
	if err := s.RevokeToken(ctx, hash("no such token"), at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeToken(unknown) = %v, want ErrNotFound", err)
	}
	if got, err := s.TokenByHash(ctx, hash("no such token")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TokenByHash(unknown) after RevokeToken = %+v, %v; want ErrNotFound", got, err)
	}
	if err := s.RevokeToken(ctx, user.Hash, time.Time{}); err == nil {
		t.Errorf("RevokeToken(user) at the zero time = nil, want an error: it would read back as never revoked")
	}
	if n, err := s.RevokeTokensOf(ctx, "p-1", []string{"user"}, time.Time{}); err == nil {
		t.Errorf("RevokeTokensOf(p-1) at the zero time = %d, nil; want an error", n)
	}
	if err := s.StepUp(ctx, hash("no such token"), at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StepUp(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.StepUp(ctx, old.Hash, at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StepUp(revoked session) = %v, want ErrNotFound", err)
	}
	checkTokens(t, s, "after refused calls", all()...)

	if err := s.StepUp(ctx, session.Hash, at); err != nil {
		t.Errorf("StepUp(session) = %v, want nil", err)
	}
	session.SteppedUp = at
	checkTokens(t, s, "after StepUp", all()...)

	// Revoking twice keeps the first time.
	if err := s.RevokeToken(ctx, user.Hash, at); err != nil {
		t.Errorf("RevokeToken(user) = %v, want nil", err)
	}
	user.Revoked = at
	if err := s.RevokeToken(ctx, user.Hash, at.Add(time.Hour)); err != nil {
		t.Errorf("RevokeToken(user) again = %v, want nil", err)
	}
	if err := s.RevokeToken(ctx, old.Hash, at); err != nil {
		t.Errorf("RevokeToken(revoked session) = %v, want nil", err)
	}
	checkTokens(t, s, "after RevokeToken", all()...)
	if err := s.StepUp(ctx, user.Hash, at.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StepUp(revoked user token) = %v, want ErrNotFound", err)
	}
	checkTokens(t, s, "after StepUp of a revoked token", all()...)

	// RevokeTokensOf: only the subject's unrevoked tokens of those kinds.
	second := newToken("session", "p-1", "staff", "second session p-1")
	if err := s.AddToken(ctx, second); err != nil {
		t.Fatalf("AddToken(second session) = %v", err)
	}
	toks = append(toks, &second)
	at2 := at.Add(2 * time.Minute)
	tests := []struct {
		subject string
		kinds   []string
		want    int
		revoked []*store.Token
	}{
		{"p-1", nil, 0, nil},
		{"p-1", []string{}, 0, nil},
		{"nobody", []string{"user", "session", "setup"}, 0, nil},
		{"p-1", []string{"session"}, 2, []*store.Token{&session, &second}},
		{"p-1", []string{"session"}, 0, nil},
		{"p-1", []string{"user", "session", "setup"}, 1, []*store.Token{&setup}},
		{"p-1", []string{"user", "session", "setup"}, 0, nil},
	}
	for _, tt := range tests {
		n, err := s.RevokeTokensOf(ctx, tt.subject, tt.kinds, at2)
		if err != nil || n != tt.want {
			t.Errorf("RevokeTokensOf(%q, %q) = %d, %v; want %d, nil", tt.subject, tt.kinds, n, err, tt.want)
		}
		for _, tok := range tt.revoked {
			tok.Revoked = at2
		}
		checkTokens(t, s, fmt.Sprintf("after RevokeTokensOf(%q, %q)", tt.subject, tt.kinds), all()...)
	}
}

// person returns a fully populated person; Version is left 0, for the
// store to set.
func person(id string, roles ...string) store.Person {
	return store.Person{
		ID:      id,
		Name:    "Name of " + id,
		Number:  "N" + id,
		Unit:    "Unit of " + id,
		Manager: "m-" + id,
		Rank:    "sergeant",
		Grade:   "",
		Roles:   roles,
		Adviser: "",
		// Two addresses, so that the space-separated column shows.
		Emails:   []string{strings.ToLower(id) + "@alias.example", strings.ToLower(id) + "@force.example"},
		Username: "u-" + strings.ToLower(id),
		Updated:  epoch,
	}
}

// stored returns p as the store holds it at version v.
func stored(p store.Person, v int64) store.Person {
	p.Version = v
	if len(p.Roles) == 0 {
		p.Roles = nil
	}
	return p
}

// unstored returns a copy of ps at Version 0, as people not yet stored
// are put.
func unstored(ps []store.Person) []store.Person {
	ps = slices.Clone(ps)
	for i := range ps {
		ps[i].Version = 0
	}
	return ps
}

func putPeople(t *testing.T, s store.Store, ps []store.Person, wantAdded, wantChanged int) {
	t.Helper()
	added, changed, err := s.PutPeople(t.Context(), ps)
	if err != nil || added != wantAdded || changed != wantChanged {
		t.Fatalf("PutPeople(%d people) = %d, %d, %v; want %d, %d, nil", len(ps), added, changed, err, wantAdded, wantChanged)
	}
}

// checkPeople checks each of want reads back exactly.
func checkPeople(t *testing.T, s store.Store, when string, want ...store.Person) {
	t.Helper()
	for _, w := range want {
		got, err := s.PersonByID(t.Context(), w.ID)
		if err != nil {
			t.Errorf("%s: PersonByID(%q) = %v", when, w.ID, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: PersonByID(%q) mismatch (-want +got):\n%s", when, w.ID, diff)
		}
	}
}

func checkNoPerson(t *testing.T, s store.Store, when, id string) {
	t.Helper()
	if p, err := s.PersonByID(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: PersonByID(%q) = %+v, %v; want ErrNotFound", when, id, p, err)
	}
}

func checkCount(t *testing.T, s store.Store, when string, want int) {
	t.Helper()
	if n, err := s.CountPeople(t.Context()); err != nil || n != want {
		t.Errorf("%s: CountPeople() = %d, %v; want %d", when, n, err, want)
	}
}

// testPeople checks PutPeople's added and changed counts and versions, and
// that a person reads back exactly as put: roles in the order given, no
// roles as nil, times to the nanosecond.
func testPeople(t *testing.T, s store.Store) {
	ctx := t.Context()
	leaver := person("p-3", "staff")
	leaver.LeftOn = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	leaver.Adviser, leaver.Grade, leaver.Rank = "dpo", "SEO", ""
	noRoles := person("p-4")
	emptyRoles := person("p-0")
	emptyRoles.Roles = []string{}
	// Out of ID order; roles sorted, as the contract has callers give them.
	ps := []store.Person{person("p-2", "admin", "reviewer", "staff"), leaver, noRoles, emptyRoles, person("p-1", "staff")}
	putPeople(t, s, ps, 5, 0)
	var want []store.Person
	for _, p := range ps {
		want = append(want, stored(p, 1))
	}
	checkPeople(t, s, "after adding", want...)
	if got, err := s.PersonByID(ctx, "p-0"); err == nil && got.Roles != nil {
		t.Errorf("PersonByID(p-0) put with Roles []string{} has Roles %#v, want nil", got.Roles)
	}
	checkCount(t, s, "after adding", 5)
	checkNoPerson(t, s, "after adding", "p-9")
	checkNoPerson(t, s, "after adding", "")

	// Putting the same people again, as read, at a later time changes
	// nothing: not Version, not Updated. Nil and empty roles are the same.
	again := slices.Clone(ps)
	for i := range again {
		again[i].Updated = epoch.Add(time.Hour)
		again[i].Version = 1
	}
	again[2].Roles, again[3].Roles = []string{}, nil
	putPeople(t, s, again, 0, 0)
	checkPeople(t, s, "after putting the same people", want...)
	putPeople(t, s, nil, 0, 0)

	// Each stored field but Updated and Version counts as a change, alone.
	p := ps[0]
	version := int64(1)
	edits := []struct {
		field string
		edit  func(*store.Person)
	}{
		{"Name", func(p *store.Person) { p.Name = "Renamed" }},
		{"Number", func(p *store.Person) { p.Number = "N-2b" }},
		{"Unit", func(p *store.Person) { p.Unit = "Other unit" }},
		{"Manager", func(p *store.Person) { p.Manager = "" }},
		{"Rank", func(p *store.Person) { p.Rank = "inspector" }},
		{"Grade", func(p *store.Person) { p.Grade = "HEO" }},
		{"Roles", func(p *store.Person) { p.Roles = []string{"admin", "staff"} }},
		{"Roles to none", func(p *store.Person) { p.Roles = nil }},
		{"Roles from none", func(p *store.Person) { p.Roles = []string{"staff"} }},
		{"Adviser", func(p *store.Person) { p.Adviser = "legal" }},
		{"LeftOn", func(p *store.Person) { p.LeftOn = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"LeftOn by a nanosecond", func(p *store.Person) { p.LeftOn = p.LeftOn.Add(time.Nanosecond) }},
		{"LeftOn to zero", func(p *store.Person) { p.LeftOn = time.Time{} }},
	}
	for i, e := range edits {
		e.edit(&p)
		p.Updated = epoch.Add(time.Duration(i+2) * time.Hour)
		p.Version = version
		added, changed, err := s.PutPeople(ctx, []store.Person{p})
		if err != nil || added != 0 || changed != 1 {
			t.Errorf("PutPeople with %s edited = %d, %d, %v; want 0, 1, nil", e.field, added, changed, err)
			continue
		}
		version++
		checkPeople(t, s, "after editing "+e.field, stored(p, version))
	}

	// A batch that adds and changes some and leaves others alone.
	changedLeaver := stored(leaver, 1)
	changedLeaver.Name, changedLeaver.Updated = "Left Person", epoch.Add(48*time.Hour)
	putPeople(t, s, []store.Person{changedLeaver, person("p-5"), stored(noRoles, 1), person("p-6", "staff")}, 2, 1)
	checkPeople(t, s, "after a mixed batch", stored(changedLeaver, 2), stored(person("p-5"), 1), want[2], stored(person("p-6", "staff"), 1))
	checkCount(t, s, "after a mixed batch", 7)
}

// testListPeople checks the search and paging of the directory.
func testListPeople(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(id, name, number, unit string) store.Person {
		return store.Person{ID: id, Name: name, Number: number, Unit: unit, Updated: epoch, Version: 1}
	}
	// all is in byte order of ID: upper case before lower.
	all := []store.Person{
		mk("HR-0007", "Grace Hopper", "S 300", "Cyber"),
		mk("hr-0001", "Alice Smith", "PC 101", "North"),
		mk("hr-0002", "Bob Jones", "PC 102", "South"),
		mk("hr-0003", "Carol 100% Sure", "DC_7", "north-east"),
		mk("hr-0004", "Dan Évora", "S 200", "Cyber"),
		mk("hr-0005", "Erin", `ab\c`, "West"),
		mk("hr-0006", "Frank", "S 201", "West"),
	}
	put := unstored(all)
	slices.Reverse(put)
	putPeople(t, s, put, len(all), 0)

	tests := []struct {
		name string
		q    store.PeopleQuery
		want []store.Person
	}{
		{"everyone", store.PeopleQuery{}, all},
		{"name, other case", store.PeopleQuery{Text: "SMITH"}, all[1:2]},
		{"unit, other case", store.PeopleQuery{Text: "north"}, []store.Person{all[1], all[3]}},
		{"number", store.PeopleQuery{Text: "pc 10"}, all[1:3]},
		{"id, other case", store.PeopleQuery{Text: "hr-000"}, all},
		{"id exactly", store.PeopleQuery{Text: "hr-0005"}, all[5:6]},
		{"no match", store.PeopleQuery{Text: "zebra"}, nil},
		{"percent is literal", store.PeopleQuery{Text: "%"}, all[3:4]},
		{"percent inside", store.PeopleQuery{Text: "0% s"}, all[3:4]},
		{"underscore is literal", store.PeopleQuery{Text: "_"}, all[3:4]},
		{"backslash is literal", store.PeopleQuery{Text: `\`}, all[5:6]},
		{"backslash then letter", store.PeopleQuery{Text: `\c`}, all[5:6]},
		{"non-ASCII, same case", store.PeopleQuery{Text: "Évora"}, all[4:5]},
		{"after", store.PeopleQuery{After: "hr-0004"}, all[5:]},
		{"after an absent ID", store.PeopleQuery{After: "hr-00035"}, all[4:]},
		{"after the last", store.PeopleQuery{After: "hr-0006"}, nil},
		{"after and text", store.PeopleQuery{Text: "cyber", After: "HR-0007"}, all[4:5]},
		{"limit", store.PeopleQuery{Limit: 2}, all[:2]},
		{"limit and text", store.PeopleQuery{Text: "s ", Limit: 2}, []store.Person{all[0], all[4]}},
	}
	for _, tt := range tests {
		got, err := s.ListPeople(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: ListPeople(%+v) = %v", tt.name, tt.q, err)
			continue
		}
		if len(tt.want) == 0 {
			if len(got) != 0 {
				t.Errorf("%s: ListPeople(%+v) = %d people, want none", tt.name, tt.q, len(got))
			}
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: ListPeople(%+v) mismatch (-want +got):\n%s", tt.name, tt.q, diff)
		}
	}

	// Paging by After reaches everyone once, in order.
	var paged []store.Person
	q := store.PeopleQuery{Limit: 3}
	for range len(all) {
		page, err := s.ListPeople(ctx, q)
		if err != nil {
			t.Fatalf("ListPeople(%+v) = %v", q, err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		q.After = page[len(page)-1].ID
	}
	if diff := cmp.Diff(all, paged); diff != "" {
		t.Errorf("paging by 3 mismatch (-want +got):\n%s", diff)
	}

	// No Limit means 100.
	var many []store.Person
	for i := range 150 {
		many = append(many, mk(fmt.Sprintf("x-%03d", i), "Many", "", ""))
	}
	putPeople(t, s, unstored(many), len(many), 0)
	checkCount(t, s, "after adding 150", len(all)+len(many))
	got, err := s.ListPeople(ctx, store.PeopleQuery{Text: "many"})
	if err != nil || len(got) != 100 || got[0].ID != "x-000" || got[99].ID != "x-099" {
		t.Errorf("ListPeople(no limit) = %d people, %v; want x-000 to x-099", len(got), err)
	}
	got, err = s.ListPeople(ctx, store.PeopleQuery{Text: "many", Limit: 120})
	if err != nil || len(got) != 120 {
		t.Errorf("ListPeople(limit 120) = %d people, %v; want 120", len(got), err)
	}
}

// testLeavers checks LeaversWithTokens against people leaving before, at
// and after now, with and without unrevoked tokens.
func testLeavers(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	mk := func(id string, leftOn time.Time) store.Person {
		p := person(id, "staff")
		p.LeftOn = leftOn
		return p
	}
	ps := []store.Person{
		mk("l-yesterday", now.AddDate(0, 0, -1)),
		mk("l-today", now), // not after now: left
		mk("l-tomorrow", now.AddDate(0, 0, 1)),
		mk("l-revoked", now.AddDate(0, 0, -1)),
		mk("l-no-tokens", now.AddDate(-1, 0, 0)),
		mk("l-expired", now.AddDate(0, -1, 0)),
		mk("a-active", time.Time{}),
	}
	putPeople(t, s, ps, len(ps), 0)
	add := func(tok store.Token) {
		t.Helper()
		if err := s.AddToken(ctx, tok); err != nil {
			t.Fatalf("AddToken(%s of %s) = %v", tok.Kind, tok.Subject, err)
		}
	}
	add(newToken("session", "l-yesterday", "staff", "s1"))
	add(newToken("setup", "l-yesterday", "", "s2"))
	add(newToken("user", "l-today", "staff", "s3"))
	add(newToken("session", "l-tomorrow", "staff", "s4"))
	revoked := newToken("session", "l-revoked", "staff", "s5")
	revoked.Revoked = now.AddDate(0, 0, -1)
	add(revoked)
	// Expired but never revoked: still held, so still listed.
	expired := newToken("session", "l-expired", "staff", "s6")
	expired.Expires = now.AddDate(0, -1, 0)
	add(expired)
	add(newToken("session", "a-active", "staff", "s7"))

	check := func(when string, now time.Time, want []string) {
		t.Helper()
		got, err := s.LeaversWithTokens(ctx, now)
		if err != nil {
			t.Errorf("%s: LeaversWithTokens(%v) = %v", when, now, err)
			return
		}
		if len(want) == 0 && len(got) == 0 {
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: LeaversWithTokens(%v) mismatch (-want +got):\n%s", when, now, diff)
		}
	}
	check("before", now, []string{"l-expired", "l-today", "l-yesterday"})
	check("a nanosecond before today", now.Add(-time.Nanosecond), []string{"l-expired", "l-yesterday"})
	check("long before", now.AddDate(-2, 0, 0), nil)
	check("the day after", now.AddDate(0, 0, 1), []string{"l-expired", "l-today", "l-tomorrow", "l-yesterday"})
	if n, err := s.RevokeTokensOf(ctx, "l-yesterday", []string{"session"}, now); err != nil || n != 1 {
		t.Errorf("RevokeTokensOf(l-yesterday, session) = %d, %v; want 1", n, err)
	}
	check("with a set-up link left", now, []string{"l-expired", "l-today", "l-yesterday"})
	if n, err := s.RevokeTokensOf(ctx, "l-yesterday", []string{"user", "session", "setup"}, now); err != nil || n != 1 {
		t.Errorf("RevokeTokensOf(l-yesterday, all) = %d, %v; want 1", n, err)
	}
	check("after revoking", now, []string{"l-expired", "l-today"})
}

// testPeopleRollback puts batches that are refused, each after changes to
// stored people and additions of new ones, and checks that none of it is
// stored. A person twice in one batch is ErrExists: the store cannot know
// which of the two the caller meant.
func testPeopleRollback(t *testing.T, s store.Store) {
	base := []store.Person{person("p-1", "staff"), person("p-2"), person("p-3", "admin")}
	putPeople(t, s, base, len(base), 0)
	want := []store.Person{stored(base[0], 1), stored(base[1], 1), stored(base[2], 1)}

	// batch changes every stored person, as read, adds 500, then appends
	// bad.
	batch := func(bad ...store.Person) []store.Person {
		var ps []store.Person
		for _, p := range want {
			p.Name += " (renamed)"
			p.Updated = epoch.Add(time.Hour)
			ps = append(ps, p)
		}
		for i := range 500 {
			ps = append(ps, person(fmt.Sprintf("new-%03d", i), "staff"))
		}
		return append(ps, bad...)
	}
	renamed := person("p-2")
	renamed.Name = "Renamed again"
	badRole := person("new-bad", "two words")
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		ps   []store.Person
		want error // nil: any error
	}{
		{"new person twice", t.Context(), batch(person("new-250")), store.ErrExists},
		{"stored person twice", t.Context(), batch(renamed), store.ErrExists},
		{"role with a space", t.Context(), batch(badRole), nil},
		{"empty role", t.Context(), batch(person("new-bad", "")), nil},
		{"no ID", t.Context(), batch(person("")), nil},
		{"ID not UTF-8", t.Context(), batch(person("new-\xff")), nil},
		{"canceled context", canceled, batch(), context.Canceled},
	}
	for _, tt := range tests {
		added, changed, err := s.PutPeople(tt.ctx, tt.ps)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			want := "an error"
			if tt.want != nil {
				want = tt.want.Error()
			}
			t.Errorf("%s: PutPeople = %d, %d, %v; want %s", tt.name, added, changed, err, want)
		}
		checkPeople(t, s, tt.name, want...)
		checkCount(t, s, tt.name, len(base))
		checkNoPerson(t, s, tt.name, "new-000")
		checkNoPerson(t, s, tt.name, "new-499")
	}
	// The store still takes a good batch.
	putPeople(t, s, batch(), 500, len(base))
	checkCount(t, s, "after a good batch", len(base)+500)
}

// testPeopleConflict checks PutPeople's compare-and-swap. A person read
// before an approval, a stored person given as new, a version the store
// never reached, and a version given for a person not stored, each refuse
// the whole batch, wherever in it they come; read again, the batch is
// stored.
func testPeopleConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := []store.Person{person("p-1", "staff"), person("p-2", "staff"), person("p-3", "admin")}
	putPeople(t, s, base, len(base), 0)
	// An approved change moves p-2 to version 2.
	approved := stored(base[1], 2)
	approved.Roles, approved.Updated = []string{"admin", "staff"}, epoch.Add(time.Minute)
	c := newChange("c-1", "p-2", 1, 0)
	if err := s.AddChange(ctx, c); err != nil {
		t.Fatalf("AddChange = %v", err)
	}
	c.State, c.DecidedBy, c.Decided = "approved", "admin-2", epoch.Add(time.Minute)
	if err := s.DecideChange(ctx, c, store.ChangeEffect{Person: &approved}); err != nil {
		t.Fatalf("DecideChange = %v", err)
	}
	want := []store.Person{stored(base[0], 1), approved, stored(base[2], 1)}

	// batch adds 500 people and then renames ps, so that on an engine
	// that writes in chunks the conflict comes after some are written.
	batch := func(ps ...store.Person) []store.Person {
		var out []store.Person
		for i := range 500 {
			out = append(out, person(fmt.Sprintf("new-%03d", i), "staff"))
		}
		for _, p := range ps {
			p.Name += " (renamed)"
			p.Updated = epoch.Add(time.Hour)
			out = append(out, p)
		}
		return out
	}
	at := func(p store.Person, v int64) store.Person {
		p.Version = v
		return p
	}
	tests := []struct {
		name string
		ps   []store.Person
	}{
		// The lost update PutPeople exists to prevent: p-2's roles as
		// they were before the approval.
		{"read before an approval", batch(want[0], stored(base[1], 1), want[2])},
		{"read before an approval, first", append([]store.Person{stored(base[1], 1)}, batch(want[0], want[2])...)},
		{"stored person given as new", batch(want[0], want[1], at(want[2], 0))},
		{"stored person given as new, first", append([]store.Person{at(want[0], 0)}, batch(want[1], want[2])...)},
		{"version not reached", batch(want[0], at(want[1], 3), want[2])},
		{"version of a person not stored", batch(append(slices.Clone(want), at(person("ghost"), 1))...)},
		{"same fields, stale version", batch(want[0], want[1], at(want[2], 2))},
	}
	for _, tt := range tests {
		added, changed, err := s.PutPeople(ctx, tt.ps)
		if !errors.Is(err, store.ErrConflict) || added != 0 || changed != 0 {
			t.Errorf("%s: PutPeople = %d, %d, %v; want 0, 0, ErrConflict", tt.name, added, changed, err)
		}
		checkPeople(t, s, tt.name, want...)
		checkCount(t, s, tt.name, len(base))
		checkNoPerson(t, s, tt.name, "new-000")
		checkNoPerson(t, s, tt.name, "new-499")
	}
	// An unchanged person at a stale version is a conflict too, even alone:
	// the caller's read is out of date, whatever it would write.
	if added, changed, err := s.PutPeople(ctx, []store.Person{at(want[1], 1)}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutPeople(p-2 unchanged at version 1) = %d, %d, %v; want ErrConflict", added, changed, err)
	}

	// Read again, the batch is stored, and p-2 keeps its approved roles.
	putPeople(t, s, batch(want...), 500, len(want))
	for i, p := range batch(want...)[500:] {
		want[i] = stored(p, p.Version+1)
	}
	checkPeople(t, s, "after reading again", want...)
	if got, err := s.PersonByID(ctx, "p-2"); err != nil || !slices.Equal(got.Roles, approved.Roles) {
		t.Errorf("PersonByID(p-2) = %+v, %v; want roles %q", got, err, approved.Roles)
	}
}

// testCredentials checks credentials round-trip and that a TOTP step is
// accepted once only.
func testCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	if c, err := s.CredentialOf(ctx, "p-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CredentialOf(p-1) = %+v, %v; want ErrNotFound", c, err)
	}
	check := func(when string, want store.Credential) {
		t.Helper()
		got, err := s.CredentialOf(ctx, want.Person)
		if err != nil {
			t.Errorf("%s: CredentialOf(%q) = %v", when, want.Person, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: CredentialOf(%q) mismatch (-want +got):\n%s", when, want.Person, diff)
		}
	}
	c1 := store.Credential{
		Person:     "p-1",
		Password:   "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		TOTPSecret: append([]byte{0, 0xff}, hash("totp p-1")[:18]...),
		TOTPStep:   58000000,
		Updated:    epoch,
	}
	// No second factor yet: nil, and an empty secret is none too.
	c2 := store.Credential{Person: "p-2", Password: "$argon2id$v=19$x", Updated: epoch.Add(time.Second)}
	c3 := store.Credential{Person: "p-3", TOTPSecret: []byte{}, Updated: epoch.Add(2 * time.Second)}
	for _, c := range []store.Credential{c1, c2, c3} {
		if err := s.PutCredential(ctx, c); err != nil {
			t.Fatalf("PutCredential(%q) = %v", c.Person, err)
		}
	}
	c3.TOTPSecret = nil
	check("after putting", c1)
	check("after putting", c2)
	check("after putting", c3)

	steps := []struct {
		step int64
		want error
	}{
		{c1.TOTPStep, store.ErrConflict}, // the stored step: a replay
		{c1.TOTPStep - 1, store.ErrConflict},
		{0, store.ErrConflict},
		{c1.TOTPStep + 1, nil},
		{c1.TOTPStep + 1, store.ErrConflict},
		{c1.TOTPStep + 3, nil},
		{c1.TOTPStep + 2, store.ErrConflict},
	}
	for _, tt := range steps {
		err := s.UseTOTPStep(ctx, "p-1", tt.step)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("UseTOTPStep(p-1, %d) = %v, want %v", tt.step, err, tt.want)
		}
		if tt.want == nil {
			c1.TOTPStep = tt.step
		}
		// Updated is when the credential was set, not when it was used.
		check(fmt.Sprintf("after UseTOTPStep(%d)", tt.step), c1)
	}
	if err := s.UseTOTPStep(ctx, "p-9", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UseTOTPStep(p-9) = %v, want ErrNotFound", err)
	}
	if c, err := s.CredentialOf(ctx, "p-9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CredentialOf(p-9) after UseTOTPStep = %+v, %v; want ErrNotFound", c, err)
	}
	check("after another person's steps", c2)

	// PutCredential replaces the whole credential, step included.
	c1 = store.Credential{Person: "p-1", Password: "$argon2id$v=19$new", Updated: epoch.Add(time.Hour)}
	if err := s.PutCredential(ctx, c1); err != nil {
		t.Fatalf("PutCredential(p-1) again = %v", err)
	}
	check("after replacing", c1)
	check("after replacing another", c2)

	// Of concurrent uses of one step, exactly one wins.
	const users = 8
	errs := make([]error, users)
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() { errs[i] = s.UseTOTPStep(ctx, "p-2", 100) })
	}
	wg.Wait()
	soleWinner(t, "concurrent UseTOTPStep of one step by user", errs)
	c2.TOTPStep = 100
	check("after concurrent use", c2)
}

// newChange returns a pending change of target's roles proposed at epoch
// plus proposed.
func newChange(id, target string, base int64, proposed time.Duration) store.Change {
	return store.Change{
		ID:         id,
		Kind:       "person",
		Target:     target,
		Payload:    fmt.Appendf(nil, `{"roles":["admin","staff"],"change":%q}`, id),
		Base:       base,
		Reason:     "reason for " + id,
		ProposedBy: "admin-1",
		Proposed:   epoch.Add(proposed),
		State:      "pending",
	}
}

func checkChanges(t *testing.T, s store.Store, when string, want ...store.Change) {
	t.Helper()
	for _, w := range want {
		got, err := s.ChangeByID(t.Context(), w.ID)
		if err != nil {
			t.Errorf("%s: ChangeByID(%q) = %v", when, w.ID, err)
		} else if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: ChangeByID(%q) mismatch (-want +got):\n%s", when, w.ID, diff)
		}
	}
}

// testChanges checks the change listing and DecideChange's
// compare-and-swap: a refused decision stores neither the change nor the
// person, and a successful one stores both.
func testChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	if c, err := s.ChangeByID(ctx, "c-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ChangeByID(c-1) = %+v, %v; want ErrNotFound", c, err)
	}
	p1, p2 := person("p-1", "staff"), person("p-2", "staff")
	putPeople(t, s, []store.Person{p1, p2}, 2, 0)
	p1, p2 = stored(p1, 1), stored(p2, 1)

	c1 := newChange("c-1", "p-1", 1, 3*time.Minute)
	c2 := newChange("c-2", "p-1", 1, time.Minute)
	c3 := newChange("c-3", "ghost", 1, 2*time.Minute)
	c4 := newChange("c-4", "p-1", 1, 2*time.Minute) // same instant as c-3
	c5 := newChange("c-5", "p-1", 1, 0)
	c5.Payload = nil
	changes := []*store.Change{&c1, &c2, &c3, &c4, &c5}
	for _, c := range changes {
		if err := s.AddChange(ctx, *c); err != nil {
			t.Fatalf("AddChange(%q) = %v", c.ID, err)
		}
	}
	all := func() []store.Change {
		var out []store.Change
		for _, c := range changes {
			out = append(out, *c)
		}
		return out
	}
	checkChanges(t, s, "after adding", all()...)
	dup := newChange("c-2", "p-9", 5, time.Hour)
	if err := s.AddChange(ctx, dup); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddChange(c-2) again = %v, want ErrExists", err)
	}
	checkChanges(t, s, "after a duplicate", all()...)

	list := func(when, state string, want ...store.Change) {
		t.Helper()
		got, err := s.ListChanges(ctx, state)
		if err != nil {
			t.Errorf("%s: ListChanges(%q) = %v", when, state, err)
			return
		}
		if len(want) == 0 && len(got) == 0 {
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: ListChanges(%q) mismatch (-want +got):\n%s", when, state, diff)
		}
	}
	// Newest first; of two at one instant, the greater ID first.
	list("after adding", "", c1, c4, c3, c2, c5)
	list("after adding", "pending", c1, c4, c3, c2, c5)
	list("after adding", "approved")

	decided := func(c store.Change, state string, at time.Duration) store.Change {
		c.State, c.DecidedBy, c.Decided = state, "admin-2", epoch.Add(at)
		return c
	}
	approved := p1
	approved.Roles, approved.Updated, approved.Version = []string{"admin", "staff"}, epoch.Add(time.Hour), 2
	stale := approved
	stale.Version = 3
	same := approved
	same.Version = 1
	ghost := person("ghost", "admin")
	ghost.Version = 2
	other := approved
	other.ID = "p-2"
	refused := []struct {
		name string
		c    store.Change
		p    *store.Person
		want error // nil: any error
	}{
		{"unknown change", decided(newChange("c-9", "p-1", 1, 0), "approved", time.Hour), &approved, store.ErrNotFound},
		{"unknown change, no person", decided(newChange("c-9", "p-1", 1, 0), "rejected", time.Hour), nil, store.ErrNotFound},
		{"person moved on", decided(c2, "approved", time.Hour), &stale, store.ErrConflict},
		{"person version not advanced", decided(c2, "approved", time.Hour), &same, store.ErrConflict},
		{"absent person", decided(c3, "approved", time.Hour), &ghost, store.ErrNotFound},
		// p-2 is at the version before other's: only the target guard
		// stops the approval of a change to p-1 from rewriting p-2.
		{"person not the target", decided(c2, "approved", time.Hour), &other, nil},
		{"not a state", decided(c2, "maybe", time.Hour), nil, nil},
	}
	for _, tt := range refused {
		err := s.DecideChange(ctx, tt.c, store.ChangeEffect{Person: tt.p})
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: DecideChange(%q) = %v, want %v", tt.name, tt.c.ID, err, tt.want)
		}
		checkChanges(t, s, tt.name, all()...)
		checkPeople(t, s, tt.name, p1, p2)
		checkNoPerson(t, s, tt.name, "ghost")
		if c, err := s.ChangeByID(ctx, "c-9"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: ChangeByID(c-9) = %+v, %v; want ErrNotFound", tt.name, c, err)
		}
	}

	// A rejection stores the decision alone.
	c1 = decided(c1, "rejected", time.Hour)
	if err := s.DecideChange(ctx, c1, store.ChangeEffect{}); err != nil {
		t.Fatalf("DecideChange(c-1, rejected) = %v", err)
	}
	checkChanges(t, s, "after rejecting", all()...)
	checkPeople(t, s, "after rejecting", p1)
	// A decided change stays decided, whichever way the second decision
	// goes: an approval with its effect, or a rejection with none.
	for _, again := range []store.Change{decided(c1, "approved", 2*time.Hour), decided(c1, "rejected", 2*time.Hour)} {
		var e store.ChangeEffect
		if again.State == "approved" {
			e.Person = &approved
		}
		if err := s.DecideChange(ctx, again, e); !errors.Is(err, store.ErrConflict) {
			t.Errorf("DecideChange(c-1, %s) after rejecting = %v, want ErrConflict", again.State, err)
		}
		checkChanges(t, s, "after deciding twice", all()...)
		checkPeople(t, s, "after deciding twice", p1)
	}

	// An approval stores the change and the person together.
	c2 = decided(c2, "approved", time.Hour)
	if err := s.DecideChange(ctx, c2, store.ChangeEffect{Person: &approved}); err != nil {
		t.Fatalf("DecideChange(c-2, approved) = %v", err)
	}
	checkChanges(t, s, "after approving", all()...)
	checkPeople(t, s, "after approving", approved)
	// c-4 was proposed against version 1 too: the person has moved on.
	next := approved
	next.Roles, next.Version = []string{"staff"}, 2
	if err := s.DecideChange(ctx, decided(c4, "approved", 2*time.Hour), store.ChangeEffect{Person: &next}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DecideChange(c-4) against a moved-on person = %v, want ErrConflict", err)
	}
	checkChanges(t, s, "after a stale approval", all()...)
	checkPeople(t, s, "after a stale approval", approved)

	list("after deciding", "", c1, c4, c3, c2, c5)
	list("after deciding", "pending", c4, c3, c5)
	list("after deciding", "approved", c2)
	list("after deciding", "rejected", c1)
}

// testConcurrentDecide has deciders race on one pending change, with and
// without a person: exactly one wins, and what is stored is the winner's.
func testConcurrentDecide(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := person("p-1", "staff")
	putPeople(t, s, []store.Person{p}, 1, 0)
	want := stored(p, 1)
	for _, withPerson := range []bool{true, false} {
		c := newChange(fmt.Sprintf("c-%v", withPerson), "p-1", 1, 0)
		if err := s.AddChange(ctx, c); err != nil {
			t.Fatalf("AddChange = %v", err)
		}
		const deciders = 8
		errs := make([]error, deciders)
		tried := make([]store.Change, deciders)
		people := make([]store.Person, deciders)
		var wg sync.WaitGroup
		for i := range deciders {
			d := c
			d.State, d.DecidedBy, d.Decided = "approved", fmt.Sprintf("admin-%d", i), epoch.Add(time.Duration(i)*time.Second)
			q := stored(p, 2)
			q.Roles, q.Updated = []string{"admin", fmt.Sprintf("role_%d", i)}, epoch.Add(time.Duration(i)*time.Minute)
			tried[i], people[i] = d, q
			var qp *store.Person
			if withPerson {
				qp = &q
			}
			wg.Go(func() { errs[i] = s.DecideChange(ctx, d, store.ChangeEffect{Person: qp}) })
		}
		wg.Wait()
		winner := soleWinner(t, fmt.Sprintf("with person %v: DecideChange by decider", withPerson), errs)
		if withPerson {
			want = people[winner]
		}
		checkChanges(t, s, fmt.Sprintf("with person %v: after the race", withPerson), tried[winner])
		checkPeople(t, s, fmt.Sprintf("with person %v: after the race", withPerson), want)
	}
}

// testConcurrentPutDecide races, round after round, an import of people
// read at version 1 against the approval of a change proposed at version 1
// to one of them. Exactly one wins and the other gets ErrConflict: the
// import never undoes the approved roles, and the approval never lands on
// a person the import has since replaced.
func testConcurrentPutDecide(t *testing.T, s store.Store) {
	ctx := t.Context()
	var others []store.Person
	for i := range 200 {
		others = append(others, person(fmt.Sprintf("other-%03d", i), "staff"))
	}
	putPeople(t, s, others, len(others), 0)
	for i := range others {
		others[i] = stored(others[i], 1)
	}
	const rounds = 10
	var putWins, decideWins int
	for r := range rounds {
		id := fmt.Sprintf("p-%02d", r)
		p := person(id, "staff")
		putPeople(t, s, []store.Person{p}, 1, 0)
		c := newChange("c-"+id, id, 1, 0)
		if err := s.AddChange(ctx, c); err != nil {
			t.Fatalf("AddChange(%s) = %v", c.ID, err)
		}
		approval := c
		approval.State, approval.DecidedBy, approval.Decided = "approved", "admin-2", epoch.Add(time.Hour)
		approved := stored(p, 2)
		approved.Roles, approved.Updated = []string{"admin", "staff"}, epoch.Add(time.Hour)
		// The import holds the contested person last, after the others.
		renamed := stored(p, 1)
		renamed.Name, renamed.Updated = "Renamed "+id, epoch.Add(2*time.Hour)
		batch := append(slices.Clone(others), renamed)

		var added, changed int
		var putErr, decideErr error
		var wg sync.WaitGroup
		wg.Go(func() { added, changed, putErr = s.PutPeople(ctx, batch) })
		wg.Go(func() {
			// Later each round, so that the approval meets the import at
			// each of its steps.
			time.Sleep(time.Duration(r) * time.Millisecond)
			decideErr = s.DecideChange(ctx, approval, store.ChangeEffect{Person: &approved})
		})
		wg.Wait()
		when := fmt.Sprintf("round %d", r)
		switch {
		case putErr == nil && errors.Is(decideErr, store.ErrConflict):
			putWins++
			if added != 0 || changed != 1 {
				t.Errorf("%s: PutPeople = %d, %d; want 0, 1", when, added, changed)
			}
			checkPeople(t, s, when, stored(renamed, 2))
			checkChanges(t, s, when, c)
		case decideErr == nil && errors.Is(putErr, store.ErrConflict):
			decideWins++
			checkPeople(t, s, when, approved)
			checkChanges(t, s, when, approval)
		default:
			t.Errorf("%s: PutPeople = %v, DecideChange = %v; want one nil and one ErrConflict", when, putErr, decideErr)
		}
		checkPeople(t, s, when, others[0], others[len(others)-1])
	}
	t.Logf("of %d rounds the import won %d and the approval %d", rounds, putWins, decideWins)
}

// testLeafTiles checks LeafTiles: level-0 tiles only, of the log asked
// for, partial ones as stored, absent ones absent, more than one
// statement's worth of indexes at once.
func testLeafTiles(t *testing.T, s store.Store) {
	ctx := t.Context()
	tiles := map[store.TileID][]byte{}
	for i := range uint64(600) {
		tiles[store.TileID{Level: 0, Index: i}] = tile(activity, store.TileID{Level: 0, Index: i}, 256)
	}
	tiles[store.TileID{Level: 0, Index: 600}] = tile(activity, store.TileID{Level: 0, Index: 600}, 7)
	tiles[store.TileID{Level: 1, Index: 0}] = tile(activity, store.TileID{Level: 1, Index: 0}, 3)
	commit(t, s, activity, nil, tiles)
	commit(t, s, oversight, nil, map[store.TileID][]byte{{Level: 0, Index: 601}: tile(oversight, store.TileID{Level: 0, Index: 601}, 1)})

	var ask []uint64
	want := map[uint64][]byte{}
	for i := uint64(0); i <= 600; i += 2 {
		ask = append(ask, i)
		want[i] = tiles[store.TileID{Level: 0, Index: i}]
	}
	for i := uint64(0); i <= 600; i += 3 { // overlapping, repeated indexes
		ask = append(ask, i)
		want[i] = tiles[store.TileID{Level: 0, Index: i}]
	}
	ask = append(ask, 601, 10_000, math.MaxUint64) // in another log, or none
	got, err := s.LeafTiles(ctx, activity, ask)
	if err != nil {
		t.Fatalf("LeafTiles = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LeafTiles mismatch (-want +got):\n%s", diff)
	}
	if got, err := s.LeafTiles(ctx, activity, nil); err != nil || len(got) != 0 {
		t.Errorf("LeafTiles of nothing = %v, %v", got, err)
	}
}

// soleWinner checks that of attempts racing on one compare-and-swap
// exactly one succeeded and every other failed with ErrConflict, and
// returns the winner's index. what names an attempt in messages
// ("UpdateAlert by updater").
func soleWinner(t *testing.T, what string, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s %d and %d both won", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("%s %d = %v, want nil or ErrConflict", what, i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: none won", what)
	}
	return winner
}
