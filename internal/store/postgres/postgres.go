// Package postgres is lbm's PostgreSQL engine, for deployments whose events
// outgrow one file: the same store contract as internal/store/sqlite, passed
// by the same conformance suite (internal/store/storetest).
//
// # Two databases
//
// Open takes two connection URLs: the events database (logs, checkpoints,
// sources, tokens, and the directory of people with their credentials and
// pending changes) and the keys database (wrapped data keys). They must be
// different databases, and in production should be different clusters, so
// that restoring a backup of events never brings back a data key destroyed
// since (see docs/deployment.md).
//
// # Durability
//
// Every connection sets synchronous_commit=on, whatever the server's
// default: a write is acknowledged to a source only once it is durable, and
// an ingest reply is such an acknowledgement.
//
// # Layout
//
// entries is partitioned by month of event time, created on first use;
// global uniqueness lives in entry_ids and client_ids, written in the same
// transaction (migrations/logs/0001_init.sql says why). The people an entry
// names in related.user are rows of entry_related, partitioned by the same
// months (migrations/logs/0008_event_scan.sql). Appends use COPY.
// Writers to one log are serialised by a transaction-scoped advisory lock,
// across processes and nodes.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lbm-project/lbm/internal/store"
)

//go:embed migrations
var migrations embed.FS

// DB is a store.Store over an events database and a keys database.
type DB struct {
	pool    *pgxpool.Pool
	keys    *pgxpool.Pool
	created bool

	// partitions caches the months whose entries partition is known to
	// exist, so that only a batch in a new month pays for the check.
	partitions sync.Map // partition name -> struct{}

	// testingOnlyAfterPeopleCopy, when set, runs in PutPeople between the
	// COPY and the merge, so a test can fail the transaction half-way.
	testingOnlyAfterPeopleCopy func()
}

var _ store.Store = (*DB)(nil)

// IsURL reports whether s names a PostgreSQL database rather than a path.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Config names the two databases of a store.
type Config struct {
	DSN     string // events database URL
	KeysDSN string // keys database URL: another database, better another cluster
	// MustExist refuses a database that holds no lbm store yet, for
	// commands that only read and must not create one by mistake.
	MustExist bool
}

// NoStoreError names the database that holds no store, under MustExist;
// it is store.ErrNoStore.
type NoStoreError struct {
	What  string // "events" or "keys"
	Where string // database, host and port: never the URL, which may hold a password
}

func (e *NoStoreError) Error() string {
	return fmt.Sprintf("the %s database %s holds no lbm data (no lbm schema)", e.What, e.Where)
}

func (e *NoStoreError) Is(target error) bool { return target == store.ErrNoStore }

// Open connects to both databases and applies any migrations the binary
// holds that they do not. It then fills what review queries read for
// entries stored before it existed: entry_related (fillRelated) and the
// review columns (backfill). On a large old store that takes a while once,
// and afterwards two index probes.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	dsn, keysDSN := cfg.DSN, cfg.KeysDSN
	if dsn == "" || keysDSN == "" {
		return nil, errors.New("postgres: both an events database and a keys database are needed")
	}
	db := &DB{}
	var err error
	if db.pool, err = connect(ctx, dsn, "events"); err != nil {
		return nil, err
	}
	if db.keys, err = connect(ctx, keysDSN, "keys"); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.checkApart(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.MustExist {
		// Both: a read-only command given the wrong keys database must not
		// create an empty one, then report every key of the store as missing.
		for _, d := range []struct {
			pool *pgxpool.Pool
			what string
		}{{db.pool, "events"}, {db.keys, "keys"}} {
			var exists bool
			if err := d.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
				db.Close()
				return nil, fmt.Errorf("postgres: %w", translate(err))
			}
			if !exists {
				db.Close()
				return nil, &NoStoreError{What: d.what, Where: where(d.pool.Config().ConnConfig)}
			}
		}
	}
	if db.created, err = migrate(ctx, db.pool, "migrations/logs"); err != nil {
		db.Close()
		return nil, err
	}
	// entry_related first: the backfill writes the rows of what it fills,
	// into the twin partitions fillRelated creates.
	if err := db.fillRelated(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.backfill(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if _, err = migrate(ctx, db.keys, "migrations/keys"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Created reports whether this Open created the events schema, that is,
// whether the database held no lbm store before.
func (db *DB) Created() bool { return db.created }

func connect(ctx context.Context, dsn, what string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the URL, password included.
		return nil, fmt.Errorf("postgres: the %s database URL is not valid", what)
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "lbm"
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting to the %s database: %w", what, redact(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting to the %s database %s: %w", what, where(cfg.ConnConfig), redact(err))
	}
	return pool, nil
}

func where(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%q on %s:%d", c.Database, c.Host, c.Port)
}

// redact drops a connection error's text that might carry the URL, keeping
// the server's own message when there is one.
func redact(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Config != nil && ce.Config.Password != "" {
		return errors.New(strings.ReplaceAll(ce.Error(), ce.Config.Password, "xxxxx"))
	}
	return err
}

// checkApart refuses one database for both roles: keys kept beside the
// events would be restored with them.
func (db *DB) checkApart(ctx context.Context) error {
	var a, b string
	if err := db.pool.QueryRow(ctx, `SELECT current_database() || '@' || coalesce(inet_server_addr()::text, '') || ':' || current_setting('port')`).Scan(&a); err != nil {
		return fmt.Errorf("postgres: %w", translate(err))
	}
	if err := db.keys.QueryRow(ctx, `SELECT current_database() || '@' || coalesce(inet_server_addr()::text, '') || ':' || current_setting('port')`).Scan(&b); err != nil {
		return fmt.Errorf("postgres: %w", translate(err))
	}
	if a == b {
		return fmt.Errorf("postgres: the keys database must not be the events database (both are %s)", a)
	}
	return nil
}

// migrationLock serialises migrations across nodes starting together.
const migrationLock = 0x6c626d00 // "lbm\0"

// migrate applies dir's migrations in name order, each in its own
// transaction with its schema_migrations row. It reports whether the
// database had no migrations applied before.
func migrate(ctx context.Context, pool *pgxpool.Pool, dir string) (fresh bool, err error) {
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return false, err
	}
	slices.Sort(names)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
			return err
		}
		fresh = !exists
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied bigint NOT NULL)`); err != nil {
			return err
		}
		for _, name := range names {
			version := strings.TrimSuffix(path.Base(name), ".sql")
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("applying migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`, version, time.Now().Unix()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: migrating: %w", translate(err))
	}
	return fresh, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
	}
	if db.keys != nil {
		db.keys.Close()
	}
	return nil
}

// Ping checks that both databases answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pinging events database: %w", translate(err))
	}
	if err := db.keys.Ping(ctx); err != nil {
		return fmt.Errorf("pinging keys database: %w", translate(err))
	}
	return nil
}

// lockKey is the advisory lock key of a log's writers.
func lockKey(log string) int64 {
	h := fnv.New64a()
	h.Write([]byte("lbm/log/" + log))
	return int64(h.Sum64())
}

// translate maps PostgreSQL errors onto the store's sentinels at the boundary.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	// Already the contract's: a guarded update's ErrConflict, a batch's
	// ErrExists; and a context's end, which callers test for.
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrConflict) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", store.ErrExists, pe.Message)
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return fmt.Errorf("%w: %s", store.ErrConflict, pe.Message)
		}
		return fmt.Errorf("postgres: %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return fmt.Errorf("postgres: %w", err)
}

// queryAll runs query and reads every row with scan: the one loop behind
// the engine's listings.
func queryAll[T any](ctx context.Context, db *pgxpool.Pool, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	// scan's errors are the contract's already; only the driver's are
	// translated.
	var scanErr error
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) {
		v, err := scan(r)
		scanErr = err
		return v, err
	})
	switch {
	case scanErr != nil:
		return nil, scanErr
	case err != nil:
		return nil, translate(err)
	case len(out) == 0:
		return nil, nil // as the listings always answered: none is nil
	}
	return out, nil
}
