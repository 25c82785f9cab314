package identity

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
)

// TestNationalRoleOnlyOnTheNationalNode: no organisation's directory can
// give national_oversight, by import, by an approved change or by the
// break-glass path; the national node's directory holds that role alone.
func TestNationalRoleOnlyOnTheNationalNode(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	if _, err := ParseRole("national_oversight"); !errors.Is(err, ErrNationalRole) {
		t.Errorf("ParseRole(national_oversight) = %v, want ErrNationalRole", err)
	}
	if slices.Contains(PersonRoles(), RoleNationalOversight) {
		t.Error("PersonRoles includes national_oversight")
	}
	csv := "id,name,unit,manager,rank,roles,adviser\nnat1,Nat One,HQ,,,national_oversight,\n"
	if _, err := ParseDirectory(strings.NewReader(csv), DefaultGradeMap()); err == nil || !strings.Contains(err.Error(), "national_oversight is the national oversight node's role") {
		t.Errorf("ParseDirectory(national_oversight) = %v, want the national role refused", err)
	}
	putPerson(t, st, store.Person{ID: "sam", Name: "Sam", Rank: "constable", Roles: []string{"staff"}})
	var ce *ChangeError
	if _, err := ProposePersonChange(ctx, st, admin("ann"), "sam", PersonChange{Roles: []string{"national_oversight"}}, "promotion", day0); !errors.As(err, &ce) || !strings.Contains(err.Error(), "national oversight node's role") {
		t.Errorf("proposing national_oversight = %v, want a ChangeError naming the role", err)
	}
	if _, _, err := AddUser(ctx, st, NewUser{ID: "nat1", Role: RoleNationalOversight}, day0); !errors.Is(err, ErrNationalRole) {
		t.Errorf("AddUser(national_oversight) on a force's directory = %v, want ErrNationalRole", err)
	}
	if _, err := st.PersonByID(ctx, "nat1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused AddUser stored the person: %v", err)
	}

	nat := openStore(t)
	for _, r := range PersonRoles() {
		if _, _, err := AddUser(ctx, nat, NewUser{ID: "x", Role: r, National: true}, day0); err == nil {
			t.Errorf("AddUser(%s) on the national directory succeeded", r)
		}
	}
	p, token, err := AddUser(ctx, nat, NewUser{ID: "nat1", Role: RoleNationalOversight, National: true, Token: true}, day0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Roles, []string{"national_oversight"}) || DefaultRole(p) != RoleNationalOversight {
		t.Errorf("national person's roles %v, default role %s; want national_oversight alone", p.Roles, DefaultRole(p))
	}
	pr, err := Authenticate(ctx, nat, token, day0, KindUser)
	if err != nil || pr.Role != RoleNationalOversight {
		t.Errorf("the national token authenticates as %+v, %v", pr, err)
	}
}
