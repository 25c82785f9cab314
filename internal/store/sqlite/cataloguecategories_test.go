package sqlite

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

// TestMigrateCatalogueCategories opens a store made before migration 0013
// holding a catalogue version, and checks the version reads back whole,
// with no categories: the reader then uses the ones built into lbm.
func TestMigrateCatalogueCategories(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	old, err := openFile(filepath.Join(dir, "lbm.db"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, `CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(migrations, "migrations/logs/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		if version >= "0013" {
			break
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("applying %s: %v", version, err)
		}
		if _, err := old.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, 1)`, version); err != nil {
			t.Fatal(err)
		}
	}
	want := store.CatalogueVersion{Version: 1, Purposes: []byte("purposes: []\n"), Legislation: []byte("legislation: []\n"),
		Criteria: []byte("criteria: []\n"), Created: created, Change: "c-1"}
	if _, err := old.ExecContext(ctx, `INSERT INTO catalogue_versions (version, purposes, legislation, criteria, created, change_id) VALUES (?, ?, ?, ?, ?, ?)`,
		want.Version, want.Purposes, want.Legislation, want.Criteria, want.Created.UnixNano(), want.Change); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db := open(t, dir)
	got, err := db.CatalogueByVersion(ctx, 1)
	if err != nil {
		t.Fatalf("CatalogueByVersion(1) after migrating = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CatalogueByVersion(1) after migrating (-want +got):\n%s", diff)
	}
	if got.Categories != nil {
		t.Errorf("categories of a version from before the migration = %q, want nil", got.Categories)
	}
}
