// Package engine opens the store a deployment chose: the embedded SQLite
// files in the data directory by default, or PostgreSQL when a database URL
// is given. It is the one place that knows both engines, so the server and
// the CLI's offline commands pick an engine the same way.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/postgres"
	"github.com/lbm-project/lbm/internal/store/sqlite"
)

// Config says which store to open.
type Config struct {
	// DataDir holds the SQLite files when DB is empty.
	DataDir string
	// DB is a postgres:// URL of the events database; empty for SQLite.
	DB string
	// KeysDB is a postgres:// URL of the keys database. Default: the
	// database named after DB's with "_keys" appended, on the same server.
	KeysDB string
	// MustExist refuses, with store.ErrNoStore, a store that does not exist yet.
	MustExist bool
}

// Open opens the configured store; created reports that this call made it.
func Open(ctx context.Context, cfg Config) (st store.Store, created bool, err error) {
	if cfg.DB == "" {
		if cfg.KeysDB != "" {
			return nil, false, errors.New("a keys database is only for a PostgreSQL store: give the events database too")
		}
		if cfg.DataDir == "" {
			return nil, false, errors.New("no data directory given")
		}
		_, statErr := os.Stat(filepath.Join(cfg.DataDir, "lbm.db"))
		if cfg.MustExist && statErr != nil {
			return nil, false, fmt.Errorf("%s %w (no lbm.db)", cfg.DataDir, store.ErrNoStore)
		}
		db, err := sqlite.Open(ctx, cfg.DataDir)
		if err != nil {
			return nil, false, err
		}
		return db, statErr != nil, nil
	}
	if !postgres.IsURL(cfg.DB) {
		return nil, false, fmt.Errorf("the database must be a postgres:// URL")
	}
	keysDB := cfg.KeysDB
	if keysDB == "" {
		if keysDB, err = DefaultKeysDB(cfg.DB); err != nil {
			return nil, false, err
		}
	} else if !postgres.IsURL(keysDB) {
		return nil, false, fmt.Errorf("the keys database must be a postgres:// URL")
	}
	db, err := postgres.Open(ctx, postgres.Config{DSN: cfg.DB, KeysDSN: keysDB, MustExist: cfg.MustExist})
	if err != nil {
		return nil, false, err
	}
	return db, db.Created(), nil
}

// DefaultKeysDB returns the keys database beside the events database dsn:
// same server and credentials, the database name with "_keys" appended.
func DefaultKeysDB(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", errors.New("the database URL is not valid")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", errors.New("the database URL names no database: give postgres://HOST/NAME")
	}
	u.Path = "/" + name + "_keys"
	return u.String(), nil
}

// Describe names the store cfg opens, for people: a PostgreSQL URL loses
// any password it carries.
func Describe(cfg Config) string {
	if cfg.DB == "" {
		return "SQLite in " + cfg.DataDir
	}
	keysDB := cfg.KeysDB
	if keysDB == "" {
		keysDB, _ = DefaultKeysDB(cfg.DB)
	}
	return "PostgreSQL " + redactURL(cfg.DB) + " (keys: " + redactURL(keysDB) + ")"
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(an invalid URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
