package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
)

func TestDefaultKeysDB(t *testing.T) {
	tests := []struct {
		dsn, want, err string
	}{
		{"postgres://lbm@db.example/lbm", "postgres://lbm@db.example/lbm_keys", ""},
		{"postgres://lbm:pw@db.example:5433/events?sslmode=require", "postgres://lbm:pw@db.example:5433/events_keys?sslmode=require", ""},
		{"postgres://db.example/", "", "names no database"},
		{"postgres://db.example", "", "names no database"},
		{"postgres://[::1/x", "", "not valid"},
	}
	for _, tt := range tests {
		got, err := DefaultKeysDB(tt.dsn)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("DefaultKeysDB(%q) = %q, %v; want an error saying %q", tt.dsn, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("DefaultKeysDB(%q) = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{DataDir: "data"}, "SQLite in data"},
		{Config{DataDir: "data", DB: "postgres://lbm:hunter2@h/lbm"}, "PostgreSQL postgres://lbm@h/lbm (keys: postgres://lbm@h/lbm_keys)"},
		{Config{DB: "postgres://h/lbm?password=hunter2", KeysDB: "postgres://k:hunter2@other/keys"}, "PostgreSQL postgres://h/lbm?password=xxxxx (keys: postgres://k@other/keys)"},
	}
	for _, tt := range tests {
		if got := Describe(tt.cfg); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.cfg, got, tt.want)
		}
	}
}

// TestOpenRefuses checks the bad configurations are refused before any
// file or connection is made.
func TestOpenRefuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{}, "no data directory"},
		{"keys database without a store database", Config{DataDir: dir, KeysDB: "postgres://h/k"}, "only for a PostgreSQL store"},
		{"not a postgres URL", Config{DataDir: dir, DB: "mysql://h/lbm"}, "postgres:// URL"},
		{"keys not a postgres URL", Config{DataDir: dir, DB: "postgres://h/lbm", KeysDB: "/tmp/keys"}, "keys database must be a postgres:// URL"},
		{"must exist", Config{DataDir: dir, MustExist: true}, "holds no lbm data"},
	}
	for _, tt := range tests {
		st, _, err := Open(t.Context(), tt.cfg)
		if err == nil {
			st.Close()
			t.Errorf("%s: Open = nil, want an error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Open = %v, want it to say %q", tt.name, err, tt.want)
		}
		if tt.cfg.MustExist && !errors.Is(err, store.ErrNoStore) {
			t.Errorf("%s: Open = %v, want store.ErrNoStore", tt.name, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused opens left %s behind (%v)", dir, err)
	}
}

func TestOpenSQLiteCreated(t *testing.T) {
	dir := t.TempDir()
	for i, want := range []bool{true, false} {
		st, created, err := Open(t.Context(), Config{DataDir: dir})
		if err != nil {
			t.Fatalf("Open #%d = %v", i+1, err)
		}
		st.Close()
		if created != want {
			t.Errorf("Open #%d: created = %v, want %v", i+1, created, want)
		}
	}
}
