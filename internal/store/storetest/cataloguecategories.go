package storetest

import (
	"fmt"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
)

// A catalogue version's Categories is its fourth file, categories.yaml:
// the data categories and their retention schedule. It is stored and read
// back byte for byte, like the other three, whatever the versions around
// it hold. A version approved without one (as every version approved
// before the catalogue carried it was) reads back nil, never the empty
// slice and never a neighbour's file: nil is how a reader knows to use
// the categories built into lbm.

// testCatalogueCategories adds versions with and without a schedule, in
// turn, and checks that every read returns each version's own file.
func testCatalogueCategories(t *testing.T, s store.Store) {
	schedule := []byte("categories:\n  - id: email\n    retention_months: 12\n    content_retention_months: 6\n")
	var want []store.CatalogueVersion
	for i, c := range []struct {
		name       string
		categories []byte
	}{
		{"approved before the catalogue carried categories", nil},
		{"a schedule", schedule},
		{"an empty file, stored as none", []byte{}},
		{"bytes no text column would keep", append([]byte("categories: \"Aufbewahrung – ✓\"\n"), 0, 0xff, '\n')},
		{"none after one", nil},
	} {
		v := newCatalogue(int64(i+1), "")
		v.Categories = c.categories
		id := fmt.Sprintf("c-sched-%d", v.Version)
		if _, _, err := decideCatalogue(t, s, id, v); err != nil {
			t.Fatalf("%s: DecideChange(%s) adding version %d = %v", c.name, id, v.Version, err)
		}
		v.Change = id
		if len(v.Categories) == 0 {
			v.Categories = nil
		}
		want = append(want, v)
		checkCatalogues(t, s, c.name, want...)
	}
}
