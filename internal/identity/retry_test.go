package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
)

// racingStore approves a pending change just before each of the first
// races PutPeople calls, the way a second administrator could between an
// import's read and its write.
type racingStore struct {
	store.Store
	races   int
	approve func() error
}

func (s *racingStore) PutPeople(ctx context.Context, ps []store.Person) (int, int, error) {
	if s.races > 0 {
		s.races--
		if err := s.approve(); err != nil {
			return 0, 0, err
		}
	}
	return s.Store.PutPeople(ctx, ps)
}

// TestImportKeepsApprovedChanges: an import that loses a race with an
// approved change reads again and keeps it; one that keeps losing gives up
// with ErrConflict and stores nothing of its own.
func TestImportKeepsApprovedChanges(t *testing.T) {
	const file = "id,name,unit,roles\nP1,Jane Smith,Unit A,\nP2,Ali Khan,Unit B,\n"
	for _, c := range []struct {
		races int
		ok    bool
	}{{0, true}, {2, true}, {putAttempts, false}} {
		ctx := t.Context()
		st := openStore(t)
		if _, err := Import(ctx, st, strings.NewReader(file), DefaultGradeMap(), day0, nil); err != nil {
			t.Fatal(err)
		}
		n := 0
		racing := &racingStore{Store: st, races: c.races, approve: func() error {
			n++
			// Each race approves a different role set, so each bumps P1.
			roles := [][]string{{"investigator"}, {"oversight"}, {"dpo"}, {"authoriser"}}[n%4]
			ch, err := ProposePersonChange(ctx, st, admin("ann"), "P1", PersonChange{Roles: roles}, "race", day0)
			if err != nil {
				return err
			}
			_, _, err = DecideChange(ctx, st, admin("bob"), ch.ID, true, day0)
			return err
		}}
		res, err := Import(ctx, racing, strings.NewReader(strings.Replace(file, "Unit A", "Unit C", 1)), DefaultGradeMap(), day0, nil)
		p1, _ := st.PersonByID(ctx, "P1")
		if c.ok {
			if err != nil || res.Changed != 1 {
				t.Errorf("%d races: Import = %+v, %v; want P1 changed", c.races, res, err)
			}
			if p1.Unit != "Unit C" {
				t.Errorf("%d races: P1's unit = %q, want the file's", c.races, p1.Unit)
			}
		} else {
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("%d races: Import = %v, want ErrConflict", c.races, err)
			}
			if p1.Unit != "Unit A" {
				t.Errorf("%d races: a failed import stored P1's unit %q", c.races, p1.Unit)
			}
		}
		if c.races > 0 && slices.Equal(p1.Roles, []string{"staff"}) {
			t.Errorf("%d races: the approved roles were overwritten: %v", c.races, p1.Roles)
		}
	}
}
