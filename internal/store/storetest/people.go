package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// HRImport returns n people as an HR import gives them (new, at Version
// 0), their names suffixed with suffix; engines' own tests and benchmarks
// use it.
func HRImport(n int, suffix string) []store.Person {
	ps := make([]store.Person, n)
	for i := range ps {
		ps[i] = store.Person{
			ID:      fmt.Sprintf("hr%06d", i),
			Name:    fmt.Sprintf("Person %d%s", i, suffix),
			Number:  fmt.Sprintf("PC %d", 1000+i),
			Unit:    fmt.Sprintf("Unit %d", i%97),
			Manager: fmt.Sprintf("hr%06d", i/10),
			Rank:    "constable",
			Roles:   []string{"staff"},
			// As a directory with addresses and logins gives them, so that
			// the benchmarks time keeping them unique too.
			Emails:   []string{fmt.Sprintf("hr%06d@force.example", i)},
			Username: fmt.Sprintf("user%06d", i),
			Updated:  time.Date(2025, 6, 1, 9, 30, 0, 123456789, time.UTC),
		}
	}
	return ps
}

// AtVersion returns a copy of ps whose first n people are at version v,
// as a caller that read them from the directory gives them.
func AtVersion(ps []store.Person, n int, v int64) []store.Person {
	ps = slices.Clone(ps)
	for i := range ps[:n] {
		ps[i].Version = v
	}
	return ps
}

// BenchmarkPutPeople50k times an HR import of 50,000 people into an empty
// directory (add), again unchanged (same), and with every name changed
// (change), on directories open makes, each empty.
func BenchmarkPutPeople50k(b *testing.B, open func(b *testing.B) store.People) {
	const n = 50000
	put := func(b *testing.B, db store.People, ps []store.Person, wantAdded, wantChanged int) {
		added, changed, err := db.PutPeople(b.Context(), ps)
		if err != nil || added != wantAdded || changed != wantChanged {
			b.Fatalf("PutPeople = %d, %d, %v; want %d, %d", added, changed, err, wantAdded, wantChanged)
		}
	}
	ps := HRImport(n, "")
	b.Run("add", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db := open(b)
			b.StartTimer()
			put(b, db, ps, n, 0)
		}
	})
	b.Run("same", func(b *testing.B) {
		db := open(b)
		put(b, db, ps, n, 0)
		same := AtVersion(ps, n, 1)
		for b.Loop() {
			put(b, db, same, 0, 0)
		}
	})
	b.Run("change", func(b *testing.B) {
		db := open(b)
		put(b, db, ps, n, 0)
		versions := [][]store.Person{HRImport(n, " (renamed)"), HRImport(n, "")}
		i := 0
		for b.Loop() {
			next := versions[i%2]
			for j := range next {
				next[j].Version = int64(i + 1)
			}
			put(b, db, next, 0, n)
			i++
		}
	})
}
