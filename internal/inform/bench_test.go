package inform

import (
	"fmt"
	"io"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
)

// BenchmarkComplianceReport50k: the report, as text, for a force of 50,000
// in 500 units of 100 under one line manager each, of whom nine in ten
// have acknowledged the notice in force.
//
//	go test -run '^$' -bench ComplianceReport50k -benchtime 5x ./internal/inform/
func BenchmarkComplianceReport50k(b *testing.B) {
	ctx := b.Context()
	st := openStore(b)
	ps := make([]store.Person, 0, 50_000)
	for i := range 50_000 {
		unit := i / 100
		p := store.Person{ID: fmt.Sprintf("p%05d", i), Name: fmt.Sprintf("Person %d", i), Unit: fmt.Sprintf("Unit %03d", unit), Roles: []string{"staff"}}
		if i%100 != 0 {
			p.Manager = fmt.Sprintf("p%05d", unit*100)
		}
		ps = append(ps, p)
	}
	if _, _, err := st.PutPeople(ctx, ps); err != nil {
		b.Fatal(err)
	}
	n := publish(b, st, "email")
	for i, p := range ps {
		if i%10 != 0 {
			if err := st.AddAcknowledgement(ctx, store.Acknowledgement{Person: p.ID, Version: n.Version, Time: day0, Via: ViaWeb, Entry: uint64(i)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := ComplianceReport(ctx, st, day0)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Outstanding() != 5000 {
			b.Fatalf("%d outstanding, want 5000", rep.Outstanding())
		}
		if err := WriteComplianceText(io.Discard, rep); err != nil {
			b.Fatal(err)
		}
	}
}
