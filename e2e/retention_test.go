package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"github.com/lbm-project/lbm/internal/identity"
)

// Markers only the events carry, so that a raw scan of the storage files
// finds them only where the events' data still is. sam's are the positive
// control: he is under an authorisation, so his stay.
const (
	samMarker     = "samhost-kx42q"
	bobMarker     = "bobhost-zq81v"
	bobURLMarker  = "bobsite-zq81v.example"
	bobMailMarker = "bobmail-zq81v"
)

// TestRetentionCLI runs retention past the period on each engine through
// the real binary: sam, under an authorisation, keeps his events; bob's
// are deleted. The logs still verify (lbm verify store, and Tessera's
// client over HTTP, proving every entry, deleted ones included), the held
// events still read under the authorisation, and a raw scan of every
// storage file finds none of bob's data.
func TestRetentionCLI(t *testing.T) {
	forEachEngine(t, testRetentionCLI)
}

func testRetentionCLI(t *testing.T, e engine) {
	st := e.newStore(t)
	dir := t.TempDir()
	lbmOK(t, nil, append([]string{"user", "add", "--id", "sam", "--role", "staff", "--rank", "constable"}, st.flags()...)...)
	lbmOK(t, nil, append([]string{"user", "add", "--id", "bob", "--role", "staff", "--rank", "constable"}, st.flags()...)...)
	ivy := strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", "ivy", "--role", "investigator", "--rank", "sergeant", "--token"}, st.flags()...)...).stdout)
	sue := strings.TrimSpace(lbmOK(t, nil, append([]string{"user", "add", "--id", "sue", "--role", "authoriser", "--rank", "superintendent", "--token"}, st.flags()...)...).stdout)
	secret := enrolSecondFactor(t, st, "sue")
	feed := addSource(t, st, "exchange")
	srv := startServer(t, st)
	as := func(token string, extra ...string) []string {
		return append([]string{"LBM_SERVER=" + srv.URL, "LBM_TOKEN=" + token}, extra...)
	}

	// June 2025: past e-mail's six months of content and every category's
	// twelve months, on the day this runs (or any later one).
	june := time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)
	var lines []string
	for i := range 40 {
		at := june.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
		lines = append(lines,
			fmt.Sprintf(`{"@timestamp":%q,"event":{"category":"email","action":"send"},"user":{"id":"sam"},"host":{"name":%q},"content":{"body":"sam writes %d"}}`, at, samMarker, i),
			fmt.Sprintf(`{"@timestamp":%q,"event":{"category":"email","action":"send"},"user":{"id":"bob"},"host":{"name":%q},"content":{"body":"%s %d"}}`, at, bobMarker, bobMailMarker, i),
			fmt.Sprintf(`{"@timestamp":%q,"event":{"category":"web","action":"visit"},"user":{"id":"bob"},"url":{"domain":%q},"content":{"url":"https://%s/%s"}}`, at, bobURLMarker, bobURLMarker, bobMailMarker),
			fmt.Sprintf(`{"@timestamp":%q,"event":{"category":"device","action":"unlock"},"user":{"id":"bob"},"host":{"name":%q}}`, at, bobMarker))
	}
	events := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(events, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lbmOK(t, []string{"LBM_TOKEN=" + feed}, "ingest", events, "--server", srv.URL, "--quiet")
	vkey := verifierKey(t, st.data)
	srv.waitForSize(t, vkey, 160)

	// An authorisation to review sam's e-mail of June 2025.
	req := strings.NewReplacer("{from}", june.AddDate(0, 0, -9).Format(time.RFC3339), "{to}", june.AddDate(0, 0, 20).Format(time.RFC3339)).Replace(urgentRequestJSON)
	req = regexp.MustCompile(`"urgent": \{[^}]*\}`).ReplaceAllString(req, `"urgent": {"urgent": false}`)
	reqFile, viewsFile := filepath.Join(dir, "request.json"), filepath.Join(dir, "views.json")
	os.WriteFile(reqFile, []byte(req), 0o600)
	os.WriteFile(viewsFile, []byte(urgentViewsJSON), 0o600)
	id := parseRequest(t, lbmOK(t, as(ivy), "request", "create", reqFile, "--json").stdout).ID
	lbmOK(t, as(ivy), "request", "submit", id)
	lbmOK(t, as(sue, "LBM_OTP="+identity.TOTPCode(secret, time.Now())), "request", "decide", id, "--authorise",
		"--reasons", "Authorised: the witness's account makes this look necessary and no gentler way would answer it.", "--views", viewsFile)
	srv.stop()

	plan := lbmOK(t, nil, append([]string{"retention", "plan"}, st.flags()...)...).stdout
	for _, want := range []string{"2025-06 email          content  after  6 months: 40 to delete, 40 kept under legal hold",
		"2025-06 web            entries  after 12 months: 40 to delete, 0 kept", "people held, by kind of hold: authorisation 1"} {
		if !strings.Contains(plan, want) {
			t.Errorf("lbm retention plan printed\n%s\nwant a line with %q", plan, want)
		}
	}
	if strings.Contains(plan, "sam") {
		t.Errorf("the plan names who is held:\n%s", plan)
	}
	run := lbmOK(t, nil, append([]string{"retention", "run", "--quiet"}, st.flags()...)...).stdout
	if !strings.Contains(run, "total: 160 entries deleted, 80 kept under legal hold") || !strings.Contains(run, "data keys destroyed: 3") {
		t.Errorf("lbm retention run printed\n%s", run)
	}
	if r := lbmOK(t, nil, verifyStore(st)...); !strings.Contains(r.stdout, "OK: activity log: 160 entries") {
		t.Errorf("verify store after retention: %v", r)
	}
	if again := lbmOK(t, nil, append([]string{"retention", "run", "--quiet"}, st.flags()...)...).stdout; !strings.Contains(again, "total: 0 entries deleted") {
		t.Errorf("a second run printed\n%s", again)
	}

	srv = startServer(t, st)
	tesseraVerifiesEveryEntry(t, srv.URL, vkey, 160)
	// sam's events, held, still read under the authorisation.
	out := lbmOK(t, []string{"LBM_SERVER=" + srv.URL, "LBM_TOKEN=" + ivy}, "request", "query", id, "--content",
		"--justification", "Checking whether the officer sent the witness's address to anyone outside the force.").stdout
	if !strings.Contains(out, "sam writes 39") {
		t.Errorf("sam's held e-mail after retention:\n%s", out)
	}
	srv.stop()

	scanStorage(t, e, st)
}

// tesseraVerifiesEveryEntry has Tessera's client fetch the checkpoint and
// every entry bundle of the activity log, and proves each entry's
// inclusion against it.
func tesseraVerifiesEveryEntry(t *testing.T, base, vkey string, size uint64) {
	t.Helper()
	tesseraVerifiesLog(t, base, "activity", vkey, size)
}

// tesseraVerifiesLog is tesseraVerifiesEveryEntry for the named log.
func tesseraVerifiesLog(t *testing.T, base, log, vkey string, size uint64) {
	t.Helper()
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := url.Parse(base + "/log/" + log + "/")
	f, err := client.NewHTTPFetcher(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp, _, _, err := client.FetchCheckpoint(t.Context(), f.ReadCheckpoint, verifier, verifier.Name())
	if err != nil {
		t.Fatalf("Tessera FetchCheckpoint: %v", err)
	}
	if cp.Size != size {
		t.Fatalf("checkpoint size %d, want %d", cp.Size, size)
	}
	pb, err := client.NewProofBuilder(t.Context(), cp.Size, f.ReadTile)
	if err != nil {
		t.Fatal(err)
	}
	var bundle api.EntryBundle
	for i := range cp.Size {
		if i%256 == 0 {
			if bundle, err = client.GetEntryBundle(t.Context(), f.ReadEntryBundle, i/256, cp.Size); err != nil {
				t.Fatalf("Tessera GetEntryBundle(%d): %v", i/256, err)
			}
		}
		p, err := pb.InclusionProof(t.Context(), i)
		if err != nil {
			t.Fatalf("Tessera InclusionProof(%d): %v", i, err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, cp.Size, rfc6962.DefaultHasher.HashLeaf(bundle.Entries[i%256]), p, cp.Hash); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}
}

// scanStorage reads every file the store keeps its data in, byte by byte:
// bob's markers must be nowhere, sam's (held) somewhere.
func scanStorage(t *testing.T, e engine, st lbmStore) {
	t.Helper()
	found, files := scanFiles(t, e, st, samMarker, bobMarker, bobURLMarker, bobMailMarker)
	for _, m := range []string{bobMarker, bobURLMarker, bobMailMarker} {
		for _, path := range found[m] {
			t.Errorf("%s holds bob's %q after retention", path, m)
		}
	}
	if len(found[samMarker]) == 0 {
		t.Errorf("the scan of %d files found sam's held data nowhere: it reads nothing", files)
	}
}

// scanFiles reads every file of st's storage (the data directory, or the
// PostgreSQL databases' files) and returns, for each marker, the files
// holding it, and how many files it read.
func scanFiles(t *testing.T, e engine, st lbmStore, markers ...string) (map[string][]string, int) {
	t.Helper()
	roots := []string{st.data}
	if e.name != "sqlite" {
		roots = postgresFiles(t, st.db)
	}
	found := map[string][]string{}
	files := 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			for _, m := range markers {
				if bytes.Contains(b, []byte(m)) {
					found[m] = append(found[m], path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found, files
}

// postgresFiles returns the directories holding the files of the events
// and keys databases of dsn, after a checkpoint has written every change
// to them. The write-ahead log (pg_wal) is not among them: what it keeps,
// and for how long, is in docs/retention.md.
func postgresFiles(t *testing.T, dsn string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dataDir, name string
	if err := conn.QueryRow(ctx, `SELECT current_setting('data_directory'), current_database()`).Scan(&dataDir, &name); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, db := range []string{name, name + "_keys"} {
		var oid uint32
		if err := conn.QueryRow(ctx, `SELECT oid FROM pg_database WHERE datname = $1`, db).Scan(&oid); err != nil {
			t.Fatalf("database %s: %v", db, err)
		}
		dirs = append(dirs, filepath.Join(dataDir, "base", fmt.Sprint(oid)))
	}
	return dirs
}

// TestRetentionKilledResumes kills lbm retention run with SIGKILL at
// random points of a long run, several times, on each engine, and then
// lets a run finish: the store verifies, nothing is left due or pending,
// and none of the deleted data is left in the files.
func TestRetentionKilledResumes(t *testing.T) {
	forEachEngine(t, testRetentionKilledResumes)
}

func testRetentionKilledResumes(t *testing.T, e engine) {
	st := e.newStore(t)
	feed := addSource(t, st, "exchange")
	srv := startServer(t, st)
	june := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var lines []string
	const people, each = 60, 100
	for p := range people {
		for i := range each {
			at := june.Add(time.Duration(p*each+i) * 7 * time.Minute).Format(time.RFC3339)
			category := []string{"email", "web", "device"}[i%3]
			lines = append(lines, fmt.Sprintf(`{"@timestamp":%q,"event":{"category":%q,"action":"act"},"user":{"id":"p%02d"},"host":{"name":%q},"content":{"body":"words %d"}}`,
				at, category, p, bobMarker, i))
		}
	}
	events := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(events, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lbmOK(t, []string{"LBM_TOKEN=" + feed}, "ingest", events, "--server", srv.URL, "--quiet")
	srv.waitForSize(t, verifierKey(t, st.data), people*each)
	srv.stop()

	args := append([]string{"retention", "run", "--quiet", "--batch", "25"}, st.flags()...)
	kills := 0
	for attempt := range 6 {
		cmd := exec.Command(lbmBin, args...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "LBM_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d ended by itself with %v", attempt, err)
			}
		case <-time.After(time.Duration(100+rand.IntN(400)) * time.Millisecond):
			cmd.Process.Kill()
			<-done
			kills++
		}
	}
	if kills == 0 {
		t.Log("no run was long enough to be killed")
	}
	lbmOK(t, nil, args...)
	if r := lbmOK(t, nil, verifyStore(st)...); !strings.Contains(r.stdout, fmt.Sprintf("OK: activity log: %d entries", people*each)) {
		t.Errorf("verify store after %d kills: %v", kills, r)
	}
	if plan := lbmOK(t, nil, append([]string{"retention", "plan"}, st.flags()...)...).stdout; !strings.Contains(plan, "nothing is due") || strings.Contains(plan, "still to be destroyed") {
		t.Errorf("after %d kills and a finished run, the plan says\n%s", kills, plan)
	}
	found, _ := scanFiles(t, e, st, bobMarker)
	for _, path := range found[bobMarker] {
		t.Errorf("%s still holds deleted data", path)
	}
	t.Logf("%s: %d runs killed part-way; then one finished", e.name, kills)
}
