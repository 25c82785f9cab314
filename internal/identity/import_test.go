package identity

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lbm-project/lbm/internal/store"
)

// TestImportNames: a file with the email and username columns is their
// authority; a file without them leaves what the directory holds; an
// address the directory gives someone else fails the whole import.
func TestImportNames(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	imp := func(file string) (ImportResult, error) {
		t.Helper()
		return Import(ctx, st, strings.NewReader(file), DefaultGradeMap(), day0, nil)
	}
	check := func(when, id string, emails []string, username string) {
		t.Helper()
		p, err := st.PersonByID(ctx, id)
		if err != nil {
			t.Fatalf("%s: PersonByID(%q) = %v", when, id, err)
		}
		if !slices.Equal(p.Emails, emails) || p.Username != username {
			t.Errorf("%s: %s has %q, %q; want %q, %q", when, id, p.Emails, p.Username, emails, username)
		}
	}

	if _, err := imp("id,name,email,username\nP1,Jane Smith,Jane.Smith@force.example;js@force.example,JSmith\nP2,Ali Khan,ali.khan@force.example,\n"); err != nil {
		t.Fatalf("Import = %v", err)
	}
	check("after the first import", "P1", []string{"jane.smith@force.example", "js@force.example"}, "jsmith")
	check("after the first import", "P2", []string{"ali.khan@force.example"}, "")

	// Without the columns, the names stay.
	res, err := imp("id,name\nP1,Jane Smith\nP2,Ali Khan\n")
	if err != nil || res.Unchanged != 2 {
		t.Fatalf("Import without the columns = %+v, %v; want both unchanged", res, err)
	}
	check("after an import without the columns", "P1", []string{"jane.smith@force.example", "js@force.example"}, "jsmith")

	// P3 takes an address P1 holds, and P1 is not in the file: refused,
	// nothing stored.
	_, err = imp("id,name,email\nP2,Ali Khan,ali.khan@force.example\nP3,Sam Jones,js@force.example\n")
	if !errors.Is(err, store.ErrTaken) || !strings.Contains(err.Error(), "js@force.example") {
		t.Errorf("Import taking P1's address = %v, want ErrTaken naming it", err)
	}
	if _, err := st.PersonByID(ctx, "P3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonByID(P3) after a refused import = %v, want ErrNotFound", err)
	}

	// With P1 in the file giving it up, P3 may have it; empty fields
	// clear.
	res, err = imp("id,name,email,username\nP1,Jane Smith,jane.smith@force.example,\nP2,Ali Khan,,\nP3,Sam Jones,js@force.example,jsmith\n")
	if err != nil || res.Added != 1 || res.Changed != 2 {
		t.Fatalf("Import handing names on = %+v, %v; want 1 added, 2 changed", res, err)
	}
	check("after handing names on", "P1", []string{"jane.smith@force.example"}, "")
	check("after handing names on", "P2", nil, "")
	check("after handing names on", "P3", []string{"js@force.example"}, "jsmith")
}
