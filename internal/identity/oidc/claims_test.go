package oidc

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestEmailClaim: the address is taken only when email_verified is the
// boolean true; an email claim that is not a string is refused.
func TestEmailClaim(t *testing.T) {
	for _, tt := range []struct {
		claims  string
		want    string
		wantErr bool
	}{
		{`{"sub":"u1","email":"a@x.example","email_verified":true}`, "a@x.example", false},
		{`{"sub":"u1","email":"a@x.example","email_verified":false}`, "", false},
		{`{"sub":"u1","email":"a@x.example","email_verified":"true"}`, "", false},
		{`{"sub":"u1","email":"a@x.example"}`, "", false},
		{`{"sub":"u1","email_verified":true}`, "", false},
		{`{"sub":"u1","email":null,"email_verified":true}`, "", false},
		{`{"sub":"u1","email":["a@x.example"],"email_verified":true}`, "", true},
	} {
		var claims map[string]json.RawMessage
		if err := json.Unmarshal([]byte(tt.claims), &claims); err != nil {
			t.Fatal(err)
		}
		id, err := defaultClaims.identity(claims)
		var ce *ClaimError
		if tt.wantErr {
			if !errors.As(err, &ce) || ce.Claim != "email" {
				t.Errorf("identity(%s) = %v, want a ClaimError for email", tt.claims, err)
			}
			continue
		}
		if err != nil || id.Email != tt.want {
			t.Errorf("identity(%s) = Email %q, %v; want %q", tt.claims, id.Email, err, tt.want)
		}
	}
}
