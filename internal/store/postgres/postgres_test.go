package postgres

import (
	"testing"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
	"github.com/lbm-project/lbm/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t)
	})
}

// open opens a store on two fresh databases and closes it when the test ends.
func open(t *testing.T) *DB {
	t.Helper()
	dsn, keysDSN := pgtest.Databases(t)
	db, err := Open(t.Context(), Config{DSN: dsn, KeysDSN: keysDSN})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
