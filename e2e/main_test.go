// Package e2e tests lbm end to end: it builds the real binary once and runs
// it as a user or an attacker would, as a subprocess on 127.0.0.1, killing
// it mid-ingest and editing its store behind its back.
//
// Every test of behaviour runs once per storage engine, as the subtests
// sqlite and postgres: the PostgreSQL ones get fresh databases from
// internal/store/postgres/pgtest, so they skip without LBM_TEST_POSTGRES
// and fail without it under LBM_REQUIRE_POSTGRES=1, as in `make test`.
//
// The tests may import internal/ packages where no public API exists yet:
// to read an event back (record.Opener), or to play an attacker who holds
// the signing key and uses lbm's own code to forge a consistent store.
//
// Flags:
//
//	-e2e.kills=N   kill/restart cycles in TestCrash (default 3)
//	-e2e.race      build lbm with the race detector
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/tlog"
)

var (
	kills     = flag.Int("e2e.kills", 3, "kill/restart cycles in TestCrash")
	raceBuild = flag.Bool("e2e.race", false, "build lbm with the race detector")
)

// lbmBin is the binary under test; tmpRoot holds it and shared fixtures.
var lbmBin, tmpRoot string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	tmpRoot, err = os.MkdirTemp("", "lbm-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpRoot)
	lbmBin = filepath.Join(tmpRoot, "lbm")
	args := []string{"build", "-o", lbmBin}
	if *raceBuild {
		args = append(args, "-race")
	}
	args = append(args, "github.com/lbm-project/lbm/cmd/lbm")
	cmd := exec.Command(goTool(), args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building lbm: %v\n", err)
		return 1
	}
	defer func() {
		for _, f := range atExit {
			f()
		}
	}()
	return m.Run()
}

// goTool finds the go command that runs this test.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// result is what one run of lbm printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// lbm runs the binary with args; env adds NAME=VALUE pairs to an
// environment cleared of LBM_* variables.
func lbm(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, lbmBin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LBM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("lbm %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// lbmOK runs lbm and fails the test unless it exits 0.
func lbmOK(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := lbm(t, env, args...)
	if r.code != 0 {
		t.Fatalf("lbm %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// addSource registers a source in the store and returns its token.
func addSource(t *testing.T, st lbmStore, name string) string {
	t.Helper()
	r := lbmOK(t, nil, append(append([]string{"source", "add"}, st.flags()...), name)...)
	token := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(token, "lbm_") || strings.Contains(token, "\n") {
		t.Fatalf("lbm source add printed %q, want one token", r.stdout)
	}
	return token
}

// lockedBuffer is a bytes.Buffer safe for a writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lbmServer is a running `lbm serve`.
type lbmServer struct {
	t      *testing.T
	URL    string
	cmd    *exec.Cmd
	stdout lockedBuffer
	stderr lockedBuffer
	done   chan struct{}
	err    error // valid once done is closed
}

var listeningLine = regexp.MustCompile(`(?m)^listening on (http://127\.0\.0\.1:[0-9]+)$`)

// startServer starts `lbm serve` on st, listening on a free port of
// 127.0.0.1 (the server binds 127.0.0.1:0 itself and prints the port, so
// no other process can take the port between choosing and binding it),
// and returns once /readyz answers. The server is killed when the test ends.
func startServer(t *testing.T, st lbmStore, args ...string) *lbmServer {
	t.Helper()
	return startServerOf(t, lbmBin, nil, st, args...)
}

// startServerOf is startServer for binary bin, with env added to the
// environment.
func startServerOf(t *testing.T, bin string, env []string, st lbmStore, args ...string) *lbmServer {
	t.Helper()
	s := &lbmServer{t: t, done: make(chan struct{})}
	s.cmd = exec.Command(bin, slices.Concat([]string{"serve", "--addr", "127.0.0.1:0"}, st.flags(), args)...)
	if env != nil {
		s.cmd.Env = append(os.Environ(), env...)
	}
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting lbm serve: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if strings.Contains(s.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("the race detector fired in lbm serve on %s", st.data)
		}
		if t.Failed() {
			t.Logf("lbm serve on %s:\nstdout:\n%s\nstderr:\n%s", st.data, s.stdout.String(), s.stderr.String())
		}
	})
	deadline := time.Now().Add(time.Minute)
	for s.URL == "" {
		if m := listeningLine.FindStringSubmatch(s.stdout.String()); m != nil {
			s.URL = m[1]
			break
		}
		select {
		case <-s.done:
			t.Fatalf("lbm serve exited before listening: %v\nstdout:\n%s\nstderr:\n%s", s.err, s.stdout.String(), s.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("lbm serve printed no address within a minute:\n%s", s.stdout.String())
		}
	}
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz did not answer 200 within a minute (last: %v)", s.URL, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Otherwise a PostgreSQL test could pass on a SQLite store.
	if st.db != "" && fileExists(filepath.Join(st.data, "lbm.db")) {
		t.Fatalf("lbm serve --db created lbm.db in %s", st.data)
	}
	return s
}

// kill sends SIGKILL, as a power cut or the OOM killer would, and waits.
func (s *lbmServer) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop asks the server to shut down gracefully and fails the test unless
// it exits 0 within 30 seconds.
func (s *lbmServer) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.kill()
		s.t.Fatalf("lbm serve did not stop within 30s of SIGTERM")
	}
	if s.err != nil {
		s.t.Fatalf("lbm serve exited with %v\nstderr:\n%s", s.err, s.stderr.String())
	}
}

// httpGet returns the body of a 200 answer to GET url.
func httpGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return b, nil
}

// verifierKey reads the activity log's verifier key from a data directory.
func verifierKey(t *testing.T, data string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "keys", "activity.key"))
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := tlog.VerifierKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// checkpoint fetches and verifies the served activity checkpoint.
func (s *lbmServer) checkpoint(t *testing.T, vkey string) ([]byte, tlog.Checkpoint) {
	t.Helper()
	note, err := httpGet(t.Context(), s.URL+"/log/activity/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tlog.OpenCheckpoint(note, vkey)
	if err != nil {
		t.Fatalf("served checkpoint %q: %v", note, err)
	}
	return note, c
}

// waitForSize waits until the served activity checkpoint covers size entries.
func (s *lbmServer) waitForSize(t *testing.T, vkey string, size uint64) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		note, c := s.checkpoint(t, vkey)
		if c.Size >= size {
			return note
		}
		if time.Now().After(deadline) {
			t.Fatalf("activity checkpoint still at size %d after 30s, want %d", c.Size, size)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// copyDir copies a stopped server's data directory (with any -wal and -shm
// files, so the copy holds every committed transaction) into a new
// temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
	return dst
}

// failLines returns the FAIL lines of a verify command's output.
func failLines(out string) []string {
	var fails []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "FAIL: ") {
			fails = append(fails, l)
		}
	}
	return fails
}
