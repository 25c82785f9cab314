package oidc

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ClaimMap names the ID-token claims that carry the directory fields.
// An empty field takes its default: ID "sub", Name "name", Roles "roles",
// Rank "rank", Grade "grade", Unit "unit".
//
// ID should name a claim that is stable for the person's whole career,
// such as an employee number; "sub" is stable per provider, but a change
// of provider changes it.
type ClaimMap struct {
	ID, Name, Roles, Rank, Grade, Unit string
}

// defaultClaims are the claim names of the zero ClaimMap.
var defaultClaims = ClaimMap{
	ID:    "sub",
	Name:  "name",
	Roles: "roles",
	Rank:  "rank",
	Grade: "grade",
	Unit:  "unit",
}

func (m ClaimMap) withDefaults() ClaimMap {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&m.ID, defaultClaims.ID)
	def(&m.Name, defaultClaims.Name)
	def(&m.Roles, defaultClaims.Roles)
	def(&m.Rank, defaultClaims.Rank)
	def(&m.Grade, defaultClaims.Grade)
	def(&m.Unit, defaultClaims.Unit)
	return m
}

// Identity is what the provider vouches for in a verified ID token.
//
// Roles, Rank and Grade are the raw claim strings: the caller must parse
// them (identity.ParseRole, identity.ParseRank) and refuse unknown ones.
// Fields other than ID are empty when their claim is missing.
type Identity struct {
	ID    string // the person's directory ID; never empty
	Name  string
	Unit  string
	Rank  string
	Grade string
	Roles []string // nil when the claim is missing or empty
	// Email is the standard "email" claim, but only when the standard
	// "email_verified" claim is true: an address the provider has not
	// verified could be anyone's, and the directory attributes captured
	// mail by address. "" otherwise.
	Email string

	Issuer  string // the provider, as the token's iss
	Subject string // the token's sub: the person at this provider
	// Expiry is when the ID token expires. It bounds how fresh the
	// provider's word is, not how long an lbm session may last.
	Expiry time.Time
}

// A ClaimError reports an ID-token claim that is missing or has the
// wrong JSON type. Finish wraps it.
type ClaimError struct {
	Claim  string // the claim's name in the token
	Reason string
}

func (e *ClaimError) Error() string {
	return fmt.Sprintf("claim %q: %s", e.Claim, e.Reason)
}

// identity maps verified claims to an Identity (without the Issuer,
// Subject and Expiry, which the verifier has parsed already).
func (m ClaimMap) identity(claims map[string]json.RawMessage) (Identity, error) {
	var id Identity
	for _, f := range []struct {
		claim string
		dst   *string
	}{
		{m.ID, &id.ID},
		{m.Name, &id.Name},
		{m.Unit, &id.Unit},
		{m.Rank, &id.Rank},
		{m.Grade, &id.Grade},
	} {
		s, err := stringClaim(claims, f.claim)
		if err != nil {
			return Identity{}, err
		}
		*f.dst = s
	}
	if id.ID == "" {
		// Everything a person does in lbm is attributed to this ID.
		return Identity{}, &ClaimError{Claim: m.ID, Reason: "missing"}
	}
	roles, err := rolesClaim(claims, m.Roles)
	if err != nil {
		return Identity{}, err
	}
	id.Roles = roles
	email, err := stringClaim(claims, "email")
	if err != nil {
		return Identity{}, err
	}
	if email != "" {
		var verified bool
		// A string "true", which some providers send, is not verified:
		// the standard says boolean.
		if raw, ok := claims["email_verified"]; ok && json.Unmarshal(raw, &verified) == nil && verified {
			id.Email = email
		}
	}
	return id, nil
}

// stringClaim returns the string claim name; "" if it is absent or null.
func stringClaim(claims map[string]json.RawMessage, name string) (string, error) {
	raw, ok := claims[name]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &ClaimError{Claim: name, Reason: "not a string"}
	}
	return s, nil
}

// rolesClaim returns the roles claim name, which providers write either
// as a JSON array of strings or as one space-separated string (like the
// OAuth scope parameter). Absent, null and empty give nil.
func rolesClaim(claims map[string]json.RawMessage, name string) ([]string, error) {
	raw, ok := claims[name]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var roles []string
	if err := json.Unmarshal(raw, &roles); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, &ClaimError{Claim: name, Reason: "not a string or an array of strings"}
		}
		roles = strings.Fields(s)
	}
	if len(roles) == 0 {
		return nil, nil
	}
	return roles, nil
}
