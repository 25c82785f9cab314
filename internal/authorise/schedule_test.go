package authorise_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/requests"
)

// TestCategoriesInForce: a request may name the data categories of the
// catalogue in force, which administrators change under dual control, not
// only those built into lbm.
func TestCategoriesInForce(t *testing.T) {
	e := newEnv(t)
	r := written(rand.New(rand.NewPCG(1, 2)), "sam")
	r.Requester = "ivy"
	r.Categories = append(r.Categories, requests.CategoryScope{Category: "printing"})
	unknown := func(when string) bool {
		t.Helper()
		problems, _, err := e.svc.Check(e.ctx, r)
		if err != nil {
			t.Fatalf("%s: Check = %v", when, err)
		}
		for _, p := range problems {
			if strings.Contains(p.Error(), `unknown data category "printing"`) {
				return true
			}
		}
		return false
	}
	if !unknown("before") {
		t.Error("a request naming printing, a category not in force, was not refused")
	}

	f := policy.DefaultFiles()
	cc := identity.CatalogueChange{Purposes: string(f.Purposes), Legislation: string(f.Legislation), Criteria: string(f.Criteria),
		Categories: string(f.Categories) + "\n  - id: printing\n    title: Printing\n    collected: What was printed, where and when.\n" +
			"    content: \"\"\n    retention_months: 12\n    content_retention_months: 0\n"}
	admin := func(id string) identity.Principal {
		return identity.Principal{Kind: identity.KindUser, Subject: id, Role: identity.RoleAdmin}
	}
	c, err := identity.ProposeCatalogueChange(e.ctx, e.node.Store, admin("adm1"), cc, "printers send events now", t0)
	if err != nil {
		t.Fatal(err)
	}
	if !unknown("proposed") {
		t.Error("a proposed category was accepted before a second administrator approved it")
	}
	if _, _, err := identity.DecideChange(e.ctx, e.node.Store, admin("adm2"), c.ID, true, t0); err != nil {
		t.Fatal(err)
	}
	if unknown("approved") {
		t.Error("a request naming printing, a category of the catalogue in force, was refused")
	}
}
