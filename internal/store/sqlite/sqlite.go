// Package sqlite is lbm's embedded storage engine: everything in one data
// directory, no other service to run.
//
// # Files
//
//	DIR/lbm.db    the logs, checkpoints, sources, tokens, and the directory
//	              of people with their credentials and pending changes
//	DIR/keys.db   wrapped data keys, kept apart (see internal/store)
//
// Both run in WAL mode with synchronous=FULL, so a committed transaction
// survives power loss, and with foreign keys on. Write transactions begin
// IMMEDIATE, which takes SQLite's write lock at once: two processes (the
// server and the CLI's offline commands) then queue instead of failing
// half-way, and each log append reads the tree state inside the lock.
//
// # Why modernc.org/sqlite
//
// It needs no cgo, so `go build` and `go run ./cmd/lbm` work on any machine
// with only Go installed. mattn/go-sqlite3 is faster on the same schema
// (see docs/benchmarks.md); the gap does not decide our targets, because
// group commit makes fsyncs rather than per-row cost the ceiling.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// DB is a store.Store over two SQLite files in one directory.
type DB struct {
	w    *sql.DB // one connection: SQLite has one writer anyway
	r    *sql.DB // a pool for concurrent readers
	keys *sql.DB

	// testingOnlyAfterPeopleBatch, when set, runs after each statement of
	// PutPeople, so a test can fail the transaction half-way.
	testingOnlyAfterPeopleBatch func()
	// testingOnlyAfterBackfillBatch, when set, runs after each committed
	// batch of backfillEvents but the last, so a test can cut it short.
	testingOnlyAfterBackfillBatch func()
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the store in dir and applies any
// migrations the binary holds that the files do not.
func Open(ctx context.Context, dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	db := &DB{}
	var err error
	if db.w, err = openFile(filepath.Join(dir, "lbm.db"), 1); err != nil {
		return nil, err
	}
	if db.r, err = openFile(filepath.Join(dir, "lbm.db"), 8); err != nil {
		db.Close()
		return nil, err
	}
	if db.keys, err = openFile(filepath.Join(dir, "keys.db"), 2); err != nil {
		db.Close()
		return nil, err
	}
	if err := migrate(ctx, db.w, "migrations/logs"); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.backfillEvents(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := migrate(ctx, db.keys, "migrations/keys"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openFile(path string, conns int) (*sql.DB, error) {
	q := url.Values{}
	// wal_autocheckpoint at 32 MiB rather than 4 MiB: under sustained
	// ingest the WAL is copied back less often, in larger runs (measured
	// about 8% faster with lbm bench ingest). secure_delete: what
	// retention deletes is overwritten with zeros, in its page and on the
	// free list, rather than left in the file (docs/retention.md).
	for _, p := range []string{"secure_delete(ON)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "busy_timeout(30000)", "cache_size(-65536)", "wal_autocheckpoint(8192)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening %s: %v", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %v", path, err)
	}
	// The files hold commitments, salts and wrapped keys: owner only.
	_ = os.Chmod(path, 0o600)
	return db, nil
}

func migrate(ctx context.Context, db *sql.DB, dir string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrating: %v", err)
	}
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = withTx(ctx, db, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, version, time.Now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("applying migration %s: %v", name, err)
		}
	}
	return nil
}

func withTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Deferred, so that a panic in fn rolls back too: an abandoned
	// transaction would hold the only writer connection, and SQLite's write
	// lock, until its context ends, which for a background writer is never.
	// After Commit, Rollback does nothing.
	defer tx.Rollback()
	err = fn(tx)
	if err == nil {
		err = tx.Commit()
	}
	// When ctx ends mid-transaction, database/sql rolls back and closes the
	// transaction's statements on a goroutine of its own, so the next call
	// may fail with "statement is closed" instead: report the cause, which
	// callers test for.
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil && !errors.Is(err, ctxErr) {
		return ctxErr
	}
	return err
}

// Close closes every file.
func (db *DB) Close() error {
	var errs []error
	for _, d := range []*sql.DB{db.w, db.r, db.keys} {
		if d != nil {
			errs = append(errs, d.Close())
		}
	}
	return errors.Join(errs...)
}

// Ping checks that both files answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging log store: %v", err)
	}
	if err := db.keys.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging key store: %v", err)
	}
	return nil
}

// translate maps SQLite errors onto the store's sentinels at the boundary.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	// Already the contract's: a guarded update's ErrConflict, a batch's
	// ErrExists.
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrConflict) {
		return err
	}
	var se *sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", store.ErrExists, se.Error())
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("sqlite: %v", err)
}

// queryAll runs query and reads every row with scan: the one loop behind
// the engine's listings.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, translate(rows.Err())
}
