package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// ImportResult says what an import did.
type ImportResult struct {
	Rows      int // people in the file
	Added     int // new to the directory
	Changed   int // already there, with some field changed
	Unchanged int
	// Missing counts people in the directory but not in the file. They are
	// left as they are: a leaver is marked by a leaving date, never by
	// omission, so a truncated export cannot revoke a whole force.
	Missing int
	// Leavers counts people in the file whose leaving date has come.
	Leavers int
}

// Import reads a whole HR directory export (see [ParseDirectory]) and
// stores it in one transaction: all of it, or, on any bad row, none of it.
// It is idempotent: importing the same file again changes nothing.
//
// The file is the authority for name, number, unit, manager, rank, grade
// and leaving date, and, when it has those columns, for e-mail addresses
// and username; without one, each person keeps what the directory holds.
// Roles and adviser kind in the file apply only to people new to the
// directory; after that they change only through dual control, so a later
// export cannot silently undo an approved change. An address or username
// the file gives one person and the directory another (who is not in the
// file, or the file gives another) fails the import with store.ErrTaken.
//
// Import keeps each person's roles as it read them, and puts them back
// only if the person is still at the version it read (see
// [store.People.PutPeople]): a change approved, or a person signing in,
// while the file is merged makes the put fail, and Import reads the
// directory and merges the file again, up to three times in all.
//
// progress, when not nil, is called as people are read and stored.
func Import(ctx context.Context, st store.Store, r io.Reader, grades GradeMap, now time.Time, progress func(stage string, done, total int)) (ImportResult, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	ps, cols, err := parseDirectory(r, grades)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = retryConflict(func() (err error) {
		res, err = importPeople(ctx, st, ps, cols, now, progress)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return res, fmt.Errorf("the directory changed while importing, %d times; try again (%w)", putAttempts, err)
	}
	return res, err
}

// importPeople reads the directory, merges the parsed people into a copy
// of it, and puts them, each at the version read.
func importPeople(ctx context.Context, st store.Store, parsed []store.Person, cols nameColumns, now time.Time, progress func(stage string, done, total int)) (ImportResult, error) {
	res := ImportResult{Rows: len(parsed)}
	total, err := st.CountPeople(ctx)
	if err != nil {
		return res, fmt.Errorf("reading the directory: %w", err)
	}
	existing := make(map[string]store.Person, total)
	for after := ""; ; {
		page, err := st.ListPeople(ctx, store.PeopleQuery{After: after, Limit: 10_000})
		if err != nil {
			return res, fmt.Errorf("reading the directory: %w", err)
		}
		for _, p := range page {
			existing[p.ID] = p
		}
		progress("reading the directory", len(existing), total)
		if len(page) < 10_000 {
			break
		}
		after = page[len(page)-1].ID
	}
	ps := slices.Clone(parsed)
	inFile := 0
	for i := range ps {
		p := &ps[i]
		p.Updated = now
		if old, ok := existing[p.ID]; ok {
			inFile++
			p.Roles, p.Adviser, p.Version = old.Roles, old.Adviser, old.Version
			if !cols.email {
				p.Emails = old.Emails
			}
			if !cols.username {
				p.Username = old.Username
			}
		}
		if Left(*p, now) {
			res.Leavers++
		}
	}
	res.Missing = len(existing) - inFile
	progress("storing", 0, len(ps))
	added, changed, err := st.PutPeople(ctx, ps)
	if err != nil {
		return res, fmt.Errorf("storing the directory: %w", err)
	}
	progress("storing", len(ps), len(ps))
	res.Added, res.Changed = added, changed
	res.Unchanged = len(ps) - added - changed
	return res, nil
}
