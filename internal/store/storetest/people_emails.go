package storetest

// People's e-mail addresses and usernames: the names captured messages
// call people by. The behaviours here pin that
//
//   - Emails and Username read back as put, in PersonByID, ListPeople and
//     PeopleIndex; no addresses read back nil;
//   - they are stored fields: changing either bumps the version, putting
//     them unchanged does not;
//   - ListPeople's Text finds a person by part of an address or username;
//   - no two people hold one address or one username, whether both are in
//     the batch or one is stored: the put fails with [store.ErrTaken],
//     naming the name and both people, and stores nothing, and an approved
//     change that would take another's name leaves the change pending;
//   - a person in the batch gives up the names the batch does not give
//     them, so two people may swap addresses in one put, and an address
//     given up may be given to someone else;
//   - an address or username that is malformed, or not in its stored form
//     (lower-cased; addresses sorted and unique), is refused before
//     anything is written.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/store"
)

func testPeopleEmails(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := person("e-1", "staff"), person("e-2", "staff")
	b.Emails, b.Username = nil, ""
	putPeople(t, s, []store.Person{a, b}, 2, 0)
	checkPeople(t, s, "after adding", stored(a, 1), stored(b, 1))

	// Unchanged: no version bump.
	putPeople(t, s, []store.Person{stored(a, 1), stored(b, 1)}, 0, 0)
	checkPeople(t, s, "after putting unchanged", stored(a, 1), stored(b, 1))

	// A changed address, then a changed username, each bump the version.
	a1 := stored(a, 1)
	a1.Emails = []string{"e-1@force.example", "jane.smith@force.example"}
	putPeople(t, s, []store.Person{a1}, 0, 1)
	a2 := stored(a1, 2)
	checkPeople(t, s, "after changing an address", a2)
	a2.Username = "jsmith"
	putPeople(t, s, []store.Person{a2}, 0, 1)
	checkPeople(t, s, "after changing the username", stored(a2, 3))
	// Giving b an address and a username is a change too.
	b1 := stored(b, 1)
	b1.Emails, b1.Username = []string{"e-2@force.example"}, "akhan"
	putPeople(t, s, []store.Person{b1}, 0, 1)
	checkPeople(t, s, "after giving b names", stored(b1, 2))

	for _, tt := range []struct {
		text string
		want []string
	}{
		{"JANE.SMITH@", []string{"e-1"}},
		{"force.example", []string{"e-1", "e-2"}},
		{"jsmith", []string{"e-1"}},
		{"akha", []string{"e-2"}},
		{"alias.example", nil}, // a1 gave it up
	} {
		got, err := s.ListPeople(ctx, store.PeopleQuery{Text: tt.text})
		if err != nil {
			t.Fatalf("ListPeople(%q) = %v", tt.text, err)
		}
		var ids []string
		for _, p := range got {
			ids = append(ids, p.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("ListPeople(%q) mismatch (-want +got):\n%s", tt.text, diff)
		}
	}
}

func testPeopleEmailsTaken(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := person("t-1", "staff"), person("t-2", "staff")
	putPeople(t, s, []store.Person{a, b}, 2, 0)
	want := []store.Person{stored(a, 1), stored(b, 1)}

	for _, tt := range []struct {
		name  string
		batch func() []store.Person
		names []string // the error names them
	}{
		{"a new person takes a stored address", func() []store.Person {
			c := person("t-3", "staff")
			c.Emails = []string{"t-1@force.example"}
			return []store.Person{c}
		}, []string{"t-1@force.example", "t-1", "t-3"}},
		{"a new person takes a stored username", func() []store.Person {
			c := person("t-3", "staff")
			c.Username = "u-t-2"
			return []store.Person{c}
		}, []string{"u-t-2", "t-2", "t-3"}},
		{"a stored person takes another's address", func() []store.Person {
			b1 := stored(b, 1)
			b1.Emails = []string{"t-1@alias.example", "t-2@force.example"}
			return []store.Person{b1}
		}, []string{"t-1@alias.example", "t-1", "t-2"}},
		{"two new people with one address", func() []store.Person {
			c, d := person("t-3", "staff"), person("t-4", "staff")
			d.Emails = []string{"t-3@force.example"}
			return []store.Person{c, d}
		}, []string{"t-3@force.example", "t-3", "t-4"}},
		{"two new people with one username", func() []store.Person {
			c, d := person("t-3", "staff"), person("t-4", "staff")
			d.Username = c.Username
			return []store.Person{c, d}
		}, []string{"u-t-3", "t-3", "t-4"}},
	} {
		added, changed, err := s.PutPeople(ctx, tt.batch())
		if !errors.Is(err, store.ErrTaken) || !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: PutPeople = %d, %d, %v; want ErrTaken (and ErrExists)", tt.name, added, changed, err)
			continue
		}
		for _, n := range tt.names {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("%s: PutPeople = %v; want it to name %q", tt.name, err, n)
			}
		}
		checkCount(t, s, tt.name, 2)
		checkPeople(t, s, tt.name, want...)
	}

	// Two people swap addresses and usernames in one put.
	a1, b1 := stored(a, 1), stored(b, 1)
	a1.Emails, b1.Emails = b.Emails, a.Emails
	a1.Username, b1.Username = b.Username, a.Username
	putPeople(t, s, []store.Person{a1, b1}, 0, 2)
	checkPeople(t, s, "after swapping", stored(a1, 2), stored(b1, 2))

	// a gives up an address; then a new person may have it.
	a2 := stored(a1, 2)
	a2.Emails = a2.Emails[1:]
	putPeople(t, s, []store.Person{a2}, 0, 1)
	c := person("t-3", "staff")
	c.Emails = []string{a1.Emails[0]}
	putPeople(t, s, []store.Person{c}, 1, 0)
	checkPeople(t, s, "after handing an address on", stored(a2, 3), stored(b1, 2), stored(c, 1))

	// An approved change that would give b c's username fails, and the
	// change stays pending.
	b2 := stored(b1, 3)
	b2.Username, b2.Updated = c.Username, epoch.Add(time.Minute)
	ch := newChange("c-taken", b.ID, 2, 0)
	if err := s.AddChange(ctx, ch); err != nil {
		t.Fatalf("AddChange = %v", err)
	}
	decided := ch
	decided.State, decided.DecidedBy, decided.Decided = "approved", "admin-2", epoch.Add(time.Minute)
	if err := s.DecideChange(ctx, decided, store.ChangeEffect{Person: &b2}); !errors.Is(err, store.ErrTaken) {
		t.Errorf("DecideChange taking another's username = %v, want ErrTaken", err)
	}
	if got, err := s.ChangeByID(ctx, ch.ID); err != nil || got.State != "pending" {
		t.Errorf("ChangeByID after a refused effect = %q, %v; want pending", got.State, err)
	}
	checkPeople(t, s, "after a refused change", stored(b1, 2))
	// With a username of its own the change applies, and its old username
	// is free again.
	b2.Username = "bkhan"
	if err := s.DecideChange(ctx, decided, store.ChangeEffect{Person: &b2}); err != nil {
		t.Fatalf("DecideChange = %v", err)
	}
	d := person("t-4", "staff")
	d.Username = b1.Username
	putPeople(t, s, []store.Person{d}, 1, 0)
	checkPeople(t, s, "after an approved change", b2, stored(d, 1))
}

func testPeopleEmailsRefused(t *testing.T, s store.Store) {
	long := strings.Repeat("a", store.MaxEmailLen-len("@x.example")+1) + "@x.example"
	for _, tt := range []struct {
		name     string
		emails   []string
		username string
	}{
		{"no @", []string{"jane.force.example"}, ""},
		{"two @", []string{"jane@smith@force.example"}, ""},
		{"empty local part", []string{"@force.example"}, ""},
		{"empty domain", []string{"jane@"}, ""},
		{"space", []string{"jane smith@force.example"}, ""},
		{"control character", []string{"jane\x00@force.example"}, ""},
		{"too long", []string{long}, ""},
		{"upper case", []string{"Jane@force.example"}, ""},
		{"not sorted", []string{"b@force.example", "a@force.example"}, ""},
		{"repeated", []string{"a@force.example", "a@force.example"}, ""},
		{"too many", manyEmails(store.MaxEmails + 1), ""},
		{"username with a space", nil, "j smith"},
		{"username upper case", nil, "JSmith"},
		{"username too long", nil, strings.Repeat("j", store.MaxUsernameLen+1)},
		{"username not printable", nil, "j\u200bsmith"},
	} {
		p := person("r-1", "staff")
		p.Emails, p.Username = tt.emails, tt.username
		if added, changed, err := s.PutPeople(t.Context(), []store.Person{person("r-0", "staff"), p}); err == nil {
			t.Errorf("%s: PutPeople = %d, %d, nil; want an error", tt.name, added, changed)
		}
		checkCount(t, s, tt.name, 0)
	}
	// The bounds themselves are allowed.
	p := person("r-1", "staff")
	p.Emails, p.Username = manyEmails(store.MaxEmails), strings.Repeat("j", store.MaxUsernameLen)
	p.Emails[0] = strings.Repeat("a", store.MaxEmailLen-len("@x.example")) + "@x.example"
	p.Emails = store.CleanEmails(p.Emails)
	putPeople(t, s, []store.Person{p}, 1, 0)
	checkPeople(t, s, "at the bounds", stored(p, 1))
}

// manyEmails returns n distinct addresses in their stored form.
func manyEmails(n int) []string {
	var out []string
	for i := range n {
		out = append(out, string(rune('a'+i))+"@force.example")
	}
	return store.CleanEmails(out)
}

// testPeopleIndex checks that PeopleIndex gives every person's keys,
// leavers included, in ID order.
func testPeopleIndex(t *testing.T, s store.Store) {
	ctx := t.Context()
	if got, err := s.PeopleIndex(ctx); err != nil || len(got) != 0 {
		t.Fatalf("PeopleIndex of an empty directory = %v, %v; want none", got, err)
	}
	a, b, c := person("i-2", "staff"), person("i-1", "staff"), person("i-3", "staff")
	b.Emails, b.Username = nil, ""
	c.LeftOn = time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	putPeople(t, s, []store.Person{a, b, c}, 3, 0)
	want := []store.PersonKeys{
		{ID: b.ID, Number: b.Number},
		{ID: a.ID, Number: a.Number, Username: a.Username, Emails: a.Emails},
		{ID: c.ID, Number: c.Number, Username: c.Username, Emails: c.Emails, LeftOn: c.LeftOn},
	}
	got, err := s.PeopleIndex(ctx)
	if err != nil {
		t.Fatalf("PeopleIndex = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PeopleIndex mismatch (-want +got):\n%s", diff)
	}
}
