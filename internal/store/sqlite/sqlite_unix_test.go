//go:build unix

package sqlite

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestFileModes(t *testing.T) {
	// A permissive umask, so that modes come from the engine, not from a
	// strict environment. Tests in this package do not run in parallel.
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	dir := filepath.Join(t.TempDir(), "data")
	db := open(t, dir)
	fill(t, db) // writes to both files, so their WAL files exist too

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: Stat = %v, %v; want mode 0700", fi.Mode(), err)
	}
	for _, name := range []string{"lbm.db", "keys.db", "lbm.db-wal", "keys.db-wal", "lbm.db-shm", "keys.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("Stat(%s) = %v", name, err)
			continue
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", name, got)
		}
	}
}
