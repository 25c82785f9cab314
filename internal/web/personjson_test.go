package web

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// TestPersonJSONNames: PERSON carries the e-mail addresses and username,
// and leaves both out when empty.
func TestPersonJSONNames(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		p    store.Person
		want string
	}{
		{store.Person{ID: "p1", Name: "Jane", Roles: []string{"staff"}, Emails: []string{"j.smith@force.example", "jane@force.example"}, Username: "jsmith", Version: 2},
			`{"id":"p1","name":"Jane","roles":["staff"],"emails":["j.smith@force.example","jane@force.example"],"username":"jsmith","status":"active","version":2}`},
		{store.Person{ID: "p2", Name: "Ali", Version: 1},
			`{"id":"p2","name":"Ali","roles":[],"status":"active","version":1}`},
	} {
		b, err := json.Marshal(personJSON(tt.p, now))
		if err != nil || string(b) != tt.want {
			t.Errorf("personJSON(%+v) = %s, %v; want %s", tt.p, b, err, tt.want)
		}
	}
}
