package identity

import (
	"errors"
	"fmt"
	"slices"
)

// A Role is what a principal may act as (DESIGN.md, "Who uses it"). A
// person holds one or more; a session or user token acts in exactly one,
// so that everything done is attributable to a person in a role.
type Role string

// Roles, in the order navigation and pickers show them.
const (
	RoleStaff        Role = "staff"
	RoleSource       Role = "source" // machines only: never a person's role
	RoleInvestigator Role = "investigator"
	RoleAuthoriser   Role = "authoriser"
	RoleAdviser      Role = "adviser"
	RoleDPO          Role = "dpo"
	RoleOversight    Role = "oversight"
	RoleAdmin        Role = "admin"
	// RoleNationalOversight is the national oversight body's, in a
	// service of several organisations: aggregate figures across them,
	// never content. Only the national node's directory holds it
	// (NewUser.National); no organisation's directory can give it, so
	// ParseRole refuses it, and it is never one of PersonRoles.
	RoleNationalOversight Role = "national_oversight"
)

// ErrNationalRole refuses national_oversight anywhere but the national
// node's directory.
var ErrNationalRole = errors.New("national_oversight is the national oversight node's role: an organisation's directory cannot give it")

var personRoles = []Role{RoleStaff, RoleInvestigator, RoleAuthoriser, RoleAdviser, RoleDPO, RoleOversight, RoleAdmin}

// PersonRoles returns the roles a person may hold, in display order.
func PersonRoles() []Role { return slices.Clone(personRoles) }

// ParseRole returns the person role with id s.
func ParseRole(s string) (Role, error) {
	if slices.Contains(personRoles, Role(s)) {
		return Role(s), nil
	}
	if Role(s) == RoleNationalOversight {
		return "", ErrNationalRole
	}
	return "", fmt.Errorf("unknown role %q (want one of staff, investigator, authoriser, adviser, dpo, oversight, admin)", s)
}

// Title is the role as the pages show it.
func (r Role) Title() string {
	return map[Role]string{
		RoleStaff: "Staff", RoleSource: "Source", RoleInvestigator: "Investigator",
		RoleAuthoriser: "Authoriser", RoleAdviser: "Adviser", RoleDPO: "Data protection officer",
		RoleOversight: "Oversight", RoleAdmin: "Administrator", RoleNationalOversight: "National oversight",
	}[r]
}

// Adviser kinds: whose recorded view a request may need.
const (
	AdviserLegal  = "legal"
	AdviserDPO    = "dpo"
	AdviserEthics = "ethics"
)

// CheckAdviser refuses an adviser kind other than legal, dpo, ethics or "".
func CheckAdviser(kind string) error {
	switch kind {
	case "", AdviserLegal, AdviserDPO, AdviserEthics:
		return nil
	}
	return fmt.Errorf("unknown adviser kind %q (want legal, dpo or ethics)", kind)
}
