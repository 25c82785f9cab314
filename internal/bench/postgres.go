package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// pgServer is the PostgreSQL server a run creates its databases on.
//
// It drives psql rather than a Go driver: only internal/store/postgres may
// import one (internal/archtest), and the store has no call that creates a
// database, which lbm itself never does.
type pgServer struct {
	psql     string
	u        *url.URL // without its password
	password string   // handed to psql in PGPASSWORD, never on its command line
}

// newPGServer checks that admin is a postgres:// URL and that psql is on
// PATH.
func newPGServer(admin string) (*pgServer, error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("the PostgreSQL server must be a postgres:// URL")
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		return nil, errors.New("measuring PostgreSQL needs psql on PATH, to create and drop the run's databases")
	}
	s := &pgServer{psql: psql, u: u}
	if u.User != nil {
		s.password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	return s, nil
}

// dsn returns the URL of database name on the server, password included:
// it is for lbm's own connections, not for psql's command line.
func (s *pgServer) dsn(name string) string {
	u := *s.u
	if s.password != "" {
		u.User = url.UserPassword(s.u.User.Username(), s.password)
	}
	u.Path = "/" + name
	return u.String()
}

// where names the server for a report: host and port, no credentials.
func (s *pgServer) where() string { return s.u.Host }

// query runs sql on database db (the server's URL's own when empty) and
// returns psql's unaligned output without its final newline.
func (s *pgServer) query(ctx context.Context, db, sql string) (string, error) {
	u := *s.u
	if db != "" {
		u.Path = "/" + db
	}
	cmd := exec.CommandContext(ctx, s.psql, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "--dbname="+u.String(), "-c", sql)
	cmd.Env = os.Environ()
	if s.password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+s.password)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql on %s: %v: %s", s.where(), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSuffix(stdout.String(), "\n"), nil
}

// createDatabases creates an events and a keys database with fresh names
// and returns their names and a function that drops both.
func (s *pgServer) createDatabases(ctx context.Context) (events, keys string, drop func(), err error) {
	var b [6]byte
	rand.Read(b[:])
	events = "lbm_bench_" + hex.EncodeToString(b[:])
	keys = events + "_keys"
	var made []string
	drop = func() {
		for _, name := range made {
			// FORCE: a failed run may leave the node's pools open. A fresh
			// context: the run's may be what ended.
			s.query(context.Background(), "", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
	}
	for _, name := range []string{events, keys} {
		if _, err := s.query(ctx, "", "CREATE DATABASE "+name); err != nil {
			drop()
			return "", "", nil, fmt.Errorf("creating database: %w", err)
		}
		made = append(made, name)
	}
	return events, keys, drop, nil
}

// size returns the bytes the databases take on disk (pg_database_size:
// tables, indexes and TOAST, not the cluster's write-ahead log).
func (s *pgServer) size(ctx context.Context, dbs ...string) (int64, error) {
	var total int64
	for _, db := range dbs {
		out, err := s.query(ctx, db, "SELECT pg_database_size(current_database())")
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(out, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading the size of %s: %q", db, out)
		}
		total += n
	}
	return total, nil
}

// describe returns the server's version and the settings that decide what
// a durable commit costs, for the report.
func (s *pgServer) describe(ctx context.Context) (string, error) {
	settings := []string{"fsync", "synchronous_commit", "full_page_writes", "wal_compression", "shared_buffers", "max_wal_size", "max_connections"}
	cols := []string{"current_setting('server_version')"}
	for _, name := range settings {
		cols = append(cols, "current_setting('"+name+"')")
	}
	out, err := s.query(ctx, "", "SELECT "+strings.Join(cols, ", "))
	if err != nil {
		return "", err
	}
	vals := strings.Split(out, "|")
	if len(vals) != len(cols) {
		return "", fmt.Errorf("reading the server's settings: %q", out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "PostgreSQL %s on %s (server defaults; lbm sets synchronous_commit=on per connection):", vals[0], s.where())
	for i, name := range settings {
		fmt.Fprintf(&b, " %s=%s", name, vals[i+1])
	}
	return b.String(), nil
}
