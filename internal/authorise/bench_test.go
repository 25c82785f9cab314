package authorise_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lbm-project/lbm/internal/requests"
)

// BenchmarkRequestLife measures one request's life on SQLite, each step a
// durable oversight leaf and a compare-and-swap store: create, submit
// (validation and the policy's derivation), authorise.
func BenchmarkRequestLife(b *testing.B) {
	e := newEnv(b)
	rng := rand.New(rand.NewPCG(31, 32))
	ivy, sue := e.as(b, "ivy", "investigator"), e.as(b, "sue", "authoriser")
	for b.Loop() {
		r, err := e.svc.Create(e.ctx, ivy, written(rng, "sam"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.Submit(e.ctx, ivy, r.ID); err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.Act(e.ctx, sue, r.ID, func(by requests.Actor) requests.Action {
			return requests.Decide{By: by, Authorise: true, Reasons: phrase(rng), Views: views(rng)}
		}); err != nil {
			b.Fatal(err)
		}
	}
}
