package identity

import (
	"slices"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
)

// TestMergeExternalEmail: a verified address from the identity provider
// is added to those HR gave, unless another person holds it; a malformed
// one refuses the sign-in with nothing stored.
func TestMergeExternalEmail(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	putPerson(t, st, store.Person{ID: "P1", Name: "Jane Smith", Roles: []string{"staff"}, Emails: []string{"jane.smith@force.example"}})
	putPerson(t, st, store.Person{ID: "P2", Name: "Ali Khan", Roles: []string{"staff"}, Emails: []string{"ali.khan@force.example"}})

	for _, tt := range []struct {
		name, id, email string
		want            []string
	}{
		{"a new address is added", "P1", "J.Smith@Force.example", []string{"j.smith@force.example", "jane.smith@force.example"}},
		{"a known address changes nothing", "P1", "jane.smith@force.example", []string{"j.smith@force.example", "jane.smith@force.example"}},
		{"another's address is left out", "P2", "jane.smith@force.example", []string{"ali.khan@force.example"}},
		{"a new person gets it", "P3", "sam.jones@force.example", []string{"sam.jones@force.example"}},
	} {
		after, _, err := MergeExternal(ctx, st, External{ID: tt.id, Email: tt.email}, nil, day0)
		if err != nil {
			t.Fatalf("%s: MergeExternal = %v", tt.name, err)
		}
		if !slices.Equal(after.Emails, tt.want) {
			t.Errorf("%s: MergeExternal gave %s %q, want %q", tt.name, tt.id, after.Emails, tt.want)
		}
	}
	if _, _, err := MergeExternal(ctx, st, External{ID: "P4", Email: "not an address"}, nil, day0); err == nil {
		t.Errorf("MergeExternal with a malformed address = nil, want an error")
	}
	if _, err := st.PersonByID(ctx, "P4"); err == nil {
		t.Errorf("MergeExternal with a malformed address stored P4")
	}
}
