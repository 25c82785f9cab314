package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/identity"
)

// TestCheckRoutes: a route the policy does not know, a policy entry no
// route serves, and an entry both public and role-bound are startup errors.
func TestCheckRoutes(t *testing.T) {
	h := func(*server, http.ResponseWriter, *http.Request, identity.Principal) {}
	if err := checkRoutes(routes(), accessPolicy()); err != nil {
		t.Fatalf("the shipped table: %v", err)
	}
	for _, c := range []struct {
		name   string
		routes []Route
		pol    map[string]Rule
		want   string
	}{
		{"unregistered action", []Route{{"GET /x", "x.read", false, h}}, map[string]Rule{}, "not in the access policy"},
		{"no handler", []Route{{"GET /x", "x.read", false, nil}}, map[string]Rule{"x.read": {Public: true}}, "no action or handler"},
		{"no action", []Route{{"GET /x", "", false, h}}, map[string]Rule{}, "no action or handler"},
		{"twice", []Route{{"GET /x", "x.read", false, h}, {"GET /x", "x.read", false, h}}, map[string]Rule{"x.read": {Public: true}}, "registered twice"},
		{"policy entry without a route", []Route{{"GET /x", "x.read", false, h}}, map[string]Rule{"x.read": {Public: true}, "y.write": {Public: true}}, "has no route"},
		{"public and roles", []Route{{"GET /x", "x.read", false, h}}, map[string]Rule{"x.read": {Public: true, Roles: allow(identity.RoleAdmin)}}, "either public or"},
		{"neither public nor roles", []Route{{"GET /x", "x.read", false, h}}, map[string]Rule{"x.read": {}}, "either public or"},
	} {
		err := checkRoutes(c.routes, c.pol)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: checkRoutes = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
