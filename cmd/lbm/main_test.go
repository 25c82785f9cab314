package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

// TestMain lets the test binary act as lbm: testscript puts a copy named
// "lbm" on the scripts' PATH, and running it runs main.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"lbm": main})
}

// TestScript runs the scripts in testdata/script: each starts the real
// binary the way a user would and pins its output and exit status.
//
// Besides testscript's own commands, scripts may use:
//
//	serve-bg FLAG...      start `lbm serve --addr 127.0.0.1:0 FLAG...` in the
//	                      background, wait until /readyz answers, and set
//	                      LBM_SERVER to its URL
//	stop-serve            stop it with an interrupt and make its stdout and
//	                      stderr those of this command (! stop-serve expects
//	                      a failing exit)
//	waitfor URL [REGEXP]  wait until GET URL answers 200 (with a body matching
//	                      REGEXP)
//	fetch URL FILE        save the body of GET URL, which must answer 200
//	envfile NAME FILE     set NAME to FILE's content (stdout, stderr allowed)
//	                      without its final newline
//	status CODE PROG ARG… run PROG like exec and require exit status CODE
//	contains FILE SECRET  FILE (stdout, stderr allowed) holds the content of
//	                      the file SECRET (without its final newline)
//	mode PERM PATH…       each PATH (a glob) has permission bits PERM (octal)
//	pgquery URL SQL       run SQL on the PostgreSQL database at URL and print
//	                      its rows, one a line, values separated by tabs
//
// Scripts named postgres*.txtar get two fresh PostgreSQL databases, dropped
// when the script ends, and skip or fail as internal/store/postgres/pgtest
// says when there is no server. They are owned by a role of the script's
// own that logs in with a password, so the script can check that lbm never
// prints it:
//
//	TESTDB           URL of the events database, with the password
//	TESTDB_KEYS      URL of its keys database (the default NAME_keys)
//	TESTDB_EMPTY     a third database, left empty
//	TESTDB_PASSWORD  the password
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			// Run documents that T is then a testing.TB: the script's subtest.
			tb := env.T().(testing.TB)
			if strings.HasPrefix(path.Base(tb.Name()), "postgres") {
				setupPostgres(tb, env)
			}
			s := &serveState{}
			for _, kv := range env.Vars {
				if k, _, ok := strings.Cut(kv, "="); ok {
					s.envNames = append(s.envNames, k)
				}
			}
			env.Values[serveKey{}] = s
			env.Defer(s.kill)
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"serve-bg":   cmdServeBg,
			"stop-serve": cmdStopServe,
			"waitfor":    cmdWaitfor,
			"fetch":      cmdFetch,
			"envfile":    cmdEnvfile,
			"status":     cmdStatus,
			"contains":   cmdContains,
			"mode":       cmdMode,
			"pgquery":    cmdPgquery,
		},
	})
}

type serveKey struct{}

// serveState is one script's background server.
type serveState struct {
	envNames []string // the script's initial variables, passed on to the server
	cmd      *exec.Cmd
	stdout   string // paths of the files the server writes its output to
	stderr   string
	waited   chan error
}

// kill stops a server the script left running.
func (s *serveState) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.waited
	s.cmd = nil
}

// serveTimeout bounds waiting for a server to start or stop; generous,
// because under -race the binary is slow to start.
const serveTimeout = 60 * time.Second

func cmdServeBg(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! serve-bg")
	}
	s := ts.Value(serveKey{}).(*serveState)
	if s.cmd != nil {
		ts.Fatalf("serve-bg: a server is already running; stop-serve first")
	}
	bin, err := exec.LookPath("lbm")
	ts.Check(err)
	s.stdout, s.stderr = ts.MkAbs("serve.stdout"), ts.MkAbs("serve.stderr")
	outf, err := os.Create(s.stdout)
	ts.Check(err)
	defer outf.Close()
	errf, err := os.Create(s.stderr)
	ts.Check(err)
	defer errf.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = ts.MkAbs(".")
	names := slices.Concat(s.envNames, []string{"LBM_KEK", "LBM_KEK_OLD", "LBM_SERVER", "LBM_TOKEN", "LBM_DB", "LBM_KEYS_DB"})
	for _, k := range names {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout, cmd.Stderr = outf, errf
	ts.Check(cmd.Start())
	s.cmd, s.waited = cmd, make(chan error, 1)
	go func() { s.waited <- cmd.Wait() }()

	listening := regexp.MustCompile(`(?m)^listening on (http://\S+)$`)
	deadline := time.Now().Add(serveTimeout)
	var url string
	for url == "" {
		select {
		case err := <-s.waited:
			s.waited <- err
			out, _ := os.ReadFile(s.stdout)
			errOut, _ := os.ReadFile(s.stderr)
			s.cmd = nil
			ts.Fatalf("lbm serve exited before listening (%v)\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
		case <-time.After(20 * time.Millisecond):
		}
		out, _ := os.ReadFile(s.stdout)
		if m := listening.FindSubmatch(out); m != nil {
			url = string(m[1])
		} else if time.Now().After(deadline) {
			ts.Fatalf("lbm serve did not print its address within %v", serveTimeout)
		}
	}
	if err := waitFor(url+"/readyz", nil, time.Until(deadline)); err != nil {
		ts.Fatalf("%v", err)
	}
	ts.Setenv("LBM_SERVER", url)
}

func cmdStopServe(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: stop-serve")
	}
	s := ts.Value(serveKey{}).(*serveState)
	if s.cmd == nil {
		ts.Fatalf("stop-serve: no server running")
	}
	s.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-s.waited:
	case <-time.After(serveTimeout):
		s.kill()
		ts.Fatalf("lbm serve did not stop within %v of an interrupt", serveTimeout)
	}
	s.cmd = nil
	out, rerr := os.ReadFile(s.stdout)
	ts.Check(rerr)
	errOut, rerr := os.ReadFile(s.stderr)
	ts.Check(rerr)
	ts.Stdout().Write(out)
	ts.Stderr().Write(errOut)
	switch {
	case err != nil && !neg:
		ts.Fatalf("lbm serve: %v", err)
	case err == nil && neg:
		ts.Fatalf("lbm serve exited 0, want a failure")
	}
}

func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfor URL [REGEXP]")
	}
	var re *regexp.Regexp
	if len(args) == 2 {
		var err error
		re, err = regexp.Compile(args[1])
		ts.Check(err)
	}
	ts.Check(waitFor(args[0], re, 20*time.Second))
}

// waitFor polls url until it answers 200 with a body matching re (if set).
func waitFor(url string, re *regexp.Regexp, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last string
	for {
		body, err := get(ctx, url)
		switch {
		case err != nil:
			last = err.Error()
		case re != nil && !re.Match(body):
			last = fmt.Sprintf("body %q does not match %q", body, re)
		default:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %s", url, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

func cmdFetch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: fetch URL FILE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body, err := get(ctx, args[0])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), body, 0o666))
}

func cmdEnvfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile NAME FILE")
	}
	ts.Setenv(args[0], strings.TrimSuffix(ts.ReadFile(args[1]), "\n"))
}

func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE PROG [ARG...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			ts.Fatalf("%s killed by %v", args[1], ws.Signal())
		}
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

func cmdContains(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: contains FILE SECRET")
	}
	secret := strings.TrimSuffix(ts.ReadFile(args[1]), "\n")
	if secret == "" {
		ts.Fatalf("%s is empty", args[1])
	}
	found := strings.Contains(ts.ReadFile(args[0]), secret)
	switch {
	case found && neg:
		ts.Fatalf("%s holds the content of %s", args[0], args[1])
	case !found && !neg:
		ts.Fatalf("%s does not hold the content of %s", args[0], args[1])
	}
}

func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: mode PERM PATH...")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	for _, pattern := range args[1:] {
		paths, err := filepath.Glob(ts.MkAbs(pattern))
		ts.Check(err)
		if len(paths) == 0 {
			ts.Fatalf("%s matches nothing", pattern)
		}
		for _, p := range paths {
			fi, err := os.Stat(p)
			ts.Check(err)
			if got := fi.Mode().Perm(); got != os.FileMode(want) {
				rel, _ := filepath.Rel(ts.MkAbs("."), p)
				ts.Fatalf("mode of %s = %#o, want %#o", rel, got, want)
			}
		}
	}
}

// setupPostgres creates a login role with a random password and two fresh
// databases it owns, and sets TESTDB, TESTDB_KEYS and TESTDB_PASSWORD.
func setupPostgres(tb testing.TB, env *testscript.Env) {
	admin := pgtest.Server(tb)
	var b [16]byte
	rand.Read(b[:])
	role, password := "lbm_script_"+hex.EncodeToString(b[:6]), hex.EncodeToString(b[6:])
	pgtest.Exec(tb, admin, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN PASSWORD '"+password+"'")
	// Registered before the databases', so it runs after they are dropped.
	tb.Cleanup(func() { pgtest.Exec(tb, admin, "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize()) })
	dsn, keysDSN := pgtest.Databases(tb)
	empty := pgtest.CreateDatabase(tb, admin, "lbm_script_empty_"+hex.EncodeToString(b[:6]))
	for _, u := range []*string{&dsn, &keysDSN, &empty} {
		parsed, err := url.Parse(*u)
		if err != nil {
			tb.Fatal(err)
		}
		// Owning the database, the role may create tables in its public
		// schema: since PostgreSQL 15, no one else but superusers may.
		pgtest.Exec(tb, admin, "ALTER DATABASE "+pgx.Identifier{strings.TrimPrefix(parsed.Path, "/")}.Sanitize()+" OWNER TO "+pgx.Identifier{role}.Sanitize())
		parsed.User = url.UserPassword(role, password)
		*u = parsed.String()
	}
	env.Setenv("TESTDB", dsn)
	env.Setenv("TESTDB_KEYS", keysDSN)
	env.Setenv("TESTDB_EMPTY", empty)
	env.Setenv("TESTDB_PASSWORD", password)
}

func cmdPgquery(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: pgquery URL SQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, args[0])
	ts.Check(err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, args[1])
	ts.Check(err)
	for rows.Next() {
		vals, err := rows.Values()
		ts.Check(err)
		line := make([]string, len(vals))
		for i, v := range vals {
			line[i] = fmt.Sprint(v)
		}
		fmt.Fprintln(ts.Stdout(), strings.Join(line, "\t"))
	}
	ts.Check(rows.Err())
}
