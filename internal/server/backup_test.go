package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
	"github.com/lbm-project/lbm/internal/tlog"
)

// backupSubjects are the people whose activity the backup test logs; the
// second has their data keys destroyed part-way.
var backupSubjects = []string{"alice", "bob", "carol"}

// backupWord is in every event's content and nowhere else, so finding it
// in a restored row's bytes would mean plaintext content leaked.
const backupWord = "ZEPHYRINE"

// TestBackupRestorePostgres takes a native backup of a PostgreSQL events
// database (pg_dump -Fc), restores it into new databases and opens nodes on
// them with the original data directory and keys database. It checks what
// docs/deployment.md promises of a restore:
//
//   - the restored log verifies in full, and extends every checkpoint
//     published before the backup, so a restore cannot pass off a rewritten
//     history;
//   - content reads back, because the keys database was never part of the
//     dump;
//   - a data key destroyed after the backup stays destroyed when the older
//     dump is restored: that subject's content reads as deleted (not as
//     tampering, and not as plaintext), and cannot be searched for.
func TestBackupRestorePostgres(t *testing.T) {
	const dumped = 240 // activity entries in the dump
	admin := pgtest.Server(t)
	pgDump, pgRestore, psql := pgTool(t, "pg_dump"), pgTool(t, "pg_restore"), pgTool(t, "psql")
	dsn, keysDSN := pgtest.Databases(t)
	dir := t.TempDir()
	ctx := t.Context()

	n := openPGNode(t, server.Config{DataDir: dir, DB: dsn, KeysDB: keysDSN})
	// Two months, so the dump holds more than one entries partition and
	// each subject more than one data key.
	start := time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC)
	ingestContent(t, n, start, 0, dumped)
	if _, err := n.Oversight(ctx, "test", "backup_drill", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := n.PublishAll(ctx); err != nil {
		t.Fatal(err)
	}
	saved := map[string][]byte{}
	for _, name := range server.LogNames {
		c, err := n.Store.LatestCheckpoint(ctx, name)
		if err != nil {
			t.Fatalf("LatestCheckpoint(%s) = %v", name, err)
		}
		saved[name] = c.Note
	}

	dump := filepath.Join(t.TempDir(), "events.dump")
	runPG(t, pgDump, "--format=custom", "--file="+dump, "--dbname="+dsn)
	// The dump must hold the events and none of the keys: that separation
	// is what keeps a restore from undoing a destruction.
	toc := runPG(t, pgRestore, "--list", dump)
	if !strings.Contains(toc, "entries_202610") || !strings.Contains(toc, "entries_202611") {
		t.Errorf("the dump's table of contents lacks a monthly partition:\n%s", toc)
	}
	if strings.Contains(toc, "data_keys") {
		t.Errorf("the events dump holds data_keys:\n%s", toc)
	}

	// Activity after the backup, which a restore loses.
	ingestContent(t, n, start, dumped, 60)
	if err := n.PublishAll(ctx); err != nil {
		t.Fatal(err)
	}
	n.Close()

	restore := func(t *testing.T, name string) *server.Node {
		t.Helper()
		db := pgtest.CreateDatabase(t, admin, name)
		// --no-owner: a restore runs as whoever restores, which in
		// production is the role lbm connects as.
		runPG(t, pgRestore, "--exit-on-error", "--no-owner", "--dbname="+db, dump)
		return openPGNode(t, server.Config{DataDir: dir, DB: db, KeysDB: keysDSN, MustExist: true})
	}
	base := databaseName(t, dsn)

	t.Run("restore", func(t *testing.T) {
		r := restore(t, base+"_r1")
		checkRestoredLog(t, r, saved, dumped)
		got := readActivity(t, r)
		for i := range dumped {
			if got[i].deleted || got[i].query != fmt.Sprintf("%s %d", backupWord, i) {
				t.Errorf("restored entry %d reads %+v, want content %q", i, got[i], fmt.Sprintf("%s %d", backupWord, i))
			}
		}
		for _, subject := range backupSubjects {
			if hits := searchCount(t, r, subject, start); hits == 0 {
				t.Errorf("searching %s's restored content for %q found nothing", subject, backupWord)
			}
		}
	})

	t.Run("destroyed key stays destroyed", func(t *testing.T) {
		const victim = "bob"
		destroyed := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()
		// There is no API to destroy a key yet (retention will own it).
		runPG(t, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname="+keysDSN, "-c",
			fmt.Sprintf("UPDATE data_keys SET wrapped = NULL, destroyed = %d WHERE subject = '%s'", destroyed, victim))
		keysBefore := runPG(t, psql, "-X", "-A", "-t", "--dbname="+keysDSN, "-c",
			"SELECT subject, period, wrapped IS NULL, destroyed FROM data_keys ORDER BY subject, period")

		// The dump predates the destruction: it holds the victim's content
		// encrypted under keys that existed then.
		r := restore(t, base+"_r2")
		if after := runPG(t, psql, "-X", "-A", "-t", "--dbname="+keysDSN, "-c",
			"SELECT subject, period, wrapped IS NULL, destroyed FROM data_keys ORDER BY subject, period"); after != keysBefore {
			t.Errorf("restoring the events changed the keys database:\nbefore:\n%s\nafter:\n%s", keysBefore, after)
		}
		for _, month := range []time.Time{start, start.AddDate(0, 0, 2)} {
			dk, err := r.Store.DataKeyFor(ctx, victim, keys.Period(month))
			if err != nil || dk.Wrapped != nil || dk.Destroyed.IsZero() {
				t.Errorf("after the restore, %s's key for %s: destroyed %v, wrapped key kept %v, error %v; want it destroyed",
					victim, keys.Period(month), dk.Destroyed, dk.Wrapped != nil, err)
			}
		}

		// Destroyed content is lawful deletion, not tampering: the log
		// still verifies in full.
		checkRestoredLog(t, r, saved, dumped)
		got := readActivity(t, r)
		deleted := 0
		for i := range dumped {
			want := fmt.Sprintf("%s %d", backupWord, i)
			switch {
			case got[i].subject == victim && (!got[i].deleted || got[i].query != ""):
				t.Errorf("entry %d of %s reads %+v, want its content deleted", i, victim, got[i])
			case got[i].subject == victim:
				deleted++
			case got[i].deleted || got[i].query != want:
				t.Errorf("entry %d of %s reads %+v, want content %q", i, got[i].subject, got[i], want)
			}
		}
		if deleted == 0 {
			t.Fatalf("no entry of %s in the restored log", victim)
		}

		// What is left of the victim's content is ciphertext and blinded
		// terms that no key can open or match any more.
		entries, err := r.Store.Entries(ctx, server.Activity, 0, dumped)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range entries {
			if en.Subject != victim {
				continue
			}
			raw := bytes.Join([][]byte{en.Meta, en.Content, []byte(strings.Join(en.Terms, " "))}, nil)
			if bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(backupWord))) {
				t.Errorf("restored entry %d of %s holds %q in the clear", en.Index, victim, backupWord)
			}
		}
		for _, month := range []time.Time{start, start.AddDate(0, 0, 2)} {
			if _, _, err := record.BlindQuery(ctx, r.Ring, victim, month, backupWord); !errors.Is(err, keys.ErrDestroyed) {
				t.Errorf("BlindQuery(%s, %s) on the restore = %v, want %v", victim, keys.Period(month), err, keys.ErrDestroyed)
			}
		}
		for _, subject := range backupSubjects {
			if subject != victim && searchCount(t, r, subject, start) == 0 {
				t.Errorf("searching %s's restored content found nothing", subject)
			}
		}
	})
}

// checkRestoredLog checks that r's logs verify in full, that each extends
// the checkpoint saved before the backup, and that the activity log holds
// the size it had then.
func checkRestoredLog(t *testing.T, r *server.Node, saved map[string][]byte, size uint64) {
	t.Helper()
	problems, err := server.VerifyStore(t.Context(), r, nil)
	if err != nil {
		t.Fatalf("VerifyStore = %v", err)
	}
	for name, ps := range problems {
		for _, p := range ps {
			t.Errorf("verify store: %s: %s", name, p)
		}
	}
	for _, name := range server.LogNames {
		before, now, err := tlog.VerifyConsistency(t.Context(), tlog.NewStoreLog(r.Store, name), saved[name], r.Logs[name].VerifierKey)
		if err != nil {
			t.Errorf("%s log: restored log is not consistent with the checkpoint saved before the backup: %v", name, err)
			continue
		}
		if name == server.Activity && (before.Size != size || now.Size != size) {
			t.Errorf("activity log: saved checkpoint of size %d, restored of %d, want both %d", before.Size, now.Size, size)
		}
	}
}

// readBack is what one activity entry reads back as.
type readBack struct {
	subject string
	query   string // content.query, "" when absent
	deleted bool
}

// readActivity opens every entry of r's activity log through the Opener,
// as every reader in lbm does, and fails on any error: a destroyed key
// must read as deleted content, never as tampering.
func readActivity(t *testing.T, r *server.Node) []readBack {
	t.Helper()
	st, err := r.Store.LogState(t.Context(), server.Activity)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := r.Store.Entries(t.Context(), server.Activity, 0, st.Size)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]readBack, len(entries))
	for i, en := range entries {
		o, err := r.Opener.Open(t.Context(), en)
		if err != nil {
			t.Fatalf("Open(entry %d) = %v", en.Index, err)
		}
		out[i] = readBack{subject: o.Event.Subject(), deleted: o.ContentDeleted}
		if v, ok := o.Event.Field("content.query"); ok {
			out[i].query, _ = event.StringValue(v)
		}
	}
	return out
}

// searchCount returns how many of subject's entries in the month of t the blind
// index finds for backupWord.
func searchCount(t *testing.T, r *server.Node, subject string, month time.Time) int {
	t.Helper()
	_, terms, err := record.BlindQuery(t.Context(), r.Ring, subject, month, backupWord)
	if err != nil {
		t.Fatalf("BlindQuery(%s) = %v", subject, err)
	}
	from := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	hits, err := r.Store.SearchTerms(t.Context(), store.TermQuery{Log: server.Activity, Subject: subject,
		From: from.UnixNano(), To: from.AddDate(0, 1, 0).UnixNano(), Terms: terms})
	if err != nil {
		t.Fatalf("SearchTerms(%s) = %v", subject, err)
	}
	for _, en := range hits {
		// Terms are blinded under the subject's month key, content
		// sealed under their category's key (keys.CategoryPeriod).
		if en.Subject != subject {
			t.Errorf("search for %s matched entry %d of another subject", subject, en.Index)
		}
	}
	return len(hits)
}

// ingestContent appends count events with content, numbered from, a
// minute apart from start, spread over backupSubjects.
func ingestContent(t *testing.T, n *server.Node, start time.Time, from, count int) {
	t.Helper()
	evs := make([]*event.Event, 0, count)
	for i := from; i < from+count; i++ {
		line := fmt.Sprintf(`{"@timestamp":%q,"event":{"id":"b%d","category":"record_query","action":"pnc_person_search"},"user":{"id":%q},"content":{"query":"%s %d"}}`,
			start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i, backupSubjects[i%len(backupSubjects)], backupWord, i)
		e, err := event.Parse([]byte(line), "pnc")
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	res, err := n.Logs[server.Activity].Writer.Append(t.Context(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != count {
		t.Fatalf("Append accepted %d of %d events", res.Accepted, count)
	}
}

func openPGNode(t *testing.T, cfg server.Config) *server.Node {
	t.Helper()
	n, err := server.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.Open = %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// pgTool finds a PostgreSQL client program in LBM_TEST_POSTGRES_BIN, the
// test server's own bin directory (pg_dump refuses a server newer than
// itself), or else on PATH.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	if dir := os.Getenv("LBM_TEST_POSTGRES_BIN"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("LBM_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("%s not found in LBM_TEST_POSTGRES_BIN or PATH", name)
		}
		t.Skipf("%s not found in LBM_TEST_POSTGRES_BIN or PATH", name)
	}
	return p
}

// runPG runs a program and returns its standard output, failing the test
// with its standard error if it fails.
func runPG(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// Arguments hold database URLs; the test server's carry no password.
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func databaseName(t *testing.T, dsn string) string {
	t.Helper()
	i := strings.LastIndex(dsn, "/")
	name, _, _ := strings.Cut(dsn[i+1:], "?")
	if name == "" {
		t.Fatalf("%s names no database", dsn)
	}
	return name
}
