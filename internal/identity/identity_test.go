package identity

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store/sqlite"
)

func TestCheckSourceID(t *testing.T) {
	for _, c := range []struct {
		id string
		ok bool
	}{
		{"pnc", true}, {"pnc-gateway.01", true}, {"a", true}, {"0day", true}, {strings.Repeat("a", 63), true},
		{"", false}, {"PNC", false}, {"-pnc", false}, {".pnc", false}, {"pnc gateway", false}, {"pnc/1", false},
		{strings.Repeat("a", 64), false}, {"lbm\n", false}, {"é", false},
	} {
		if err := CheckSourceID(c.id); (err == nil) != c.ok {
			t.Errorf("CheckSourceID(%q) = %v, want ok=%v", c.id, err, c.ok)
		}
	}
}

func TestTokens(t *testing.T) {
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	token, err := AddSource(t.Context(), st, "pnc", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "lbm_") || len(token) != 47 {
		t.Errorf("token %q: want lbm_ and 43 base64url characters", token)
	}
	p, err := Authenticate(t.Context(), st, token, now, KindSource)
	if err != nil || p.Kind != KindSource || p.Subject != "pnc" || p.Role != RoleSource {
		t.Errorf("Authenticate(source token) = %+v, %v", p, err)
	}
	if _, err := AddSource(t.Context(), st, "pnc", now); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("AddSource twice = %v, want already exists", err)
	}
	for _, bad := range []string{"", "lbm_", token + "x", strings.TrimPrefix(token, "lbm_"), "lbm_" + strings.Repeat("A", 200)} {
		if _, err := Authenticate(t.Context(), st, bad, now, KindSource); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
	other, _ := NewToken()
	if other == token {
		t.Error("NewToken repeated a token")
	}
}
