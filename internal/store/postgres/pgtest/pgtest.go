// Package pgtest gives tests fresh PostgreSQL databases on the private
// server that scripts/test.sh starts (scripts/postgres.sh).
//
// The server is named by LBM_TEST_POSTGRES, a connection URL with rights to
// create databases. Without it the PostgreSQL tests skip, so that `go test`
// on a machine with no server still runs the rest; `make test` sets
// LBM_REQUIRE_POSTGRES=1, under which a missing server fails the test
// instead, so CI can never pass with the PostgreSQL engine untested.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server returns the admin URL of the test server, or skips (fails under
// LBM_REQUIRE_POSTGRES=1) when there is none.
func Server(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("LBM_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("LBM_REQUIRE_POSTGRES") == "1" {
			t.Fatal("LBM_REQUIRE_POSTGRES=1 but LBM_TEST_POSTGRES is unset: the PostgreSQL tests cannot run")
		}
		t.Skip("LBM_TEST_POSTGRES unset: PostgreSQL tests skipped (make test starts a private server)")
	}
	return dsn
}

// Databases creates an events database and a keys database, empty, and
// drops both when the test ends. It returns their URLs.
func Databases(t testing.TB) (dsn, keysDSN string) {
	t.Helper()
	admin := Server(t)
	var b [6]byte
	rand.Read(b[:])
	name := "lbm_test_" + hex.EncodeToString(b[:])
	dsn = CreateDatabase(t, admin, name)
	keysDSN = CreateDatabase(t, admin, name+"_keys")
	return dsn, keysDSN
}

// CreateDatabase creates database name on the server at admin and drops it
// when the test ends; it returns the database's URL.
func CreateDatabase(t testing.TB, admin, name string) string {
	t.Helper()
	Exec(t, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		// FORCE: a test that failed half-way may leave a pool open.
		Exec(t, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return WithDatabase(t, admin, name)
}

// WithDatabase returns dsn pointing at database name instead.
func WithDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("LBM_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Exec runs one statement on the database at dsn, failing the test on error.
func Exec(t testing.TB, dsn, sql string) {
	t.Helper()
	if err := Run(dsn, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Run runs one statement on its own connection, for code with no test to
// fail, such as cleanup after every test has ended.
func Run(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting to the test PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
