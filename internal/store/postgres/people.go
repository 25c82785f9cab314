package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.DirectoryLookup = (*DB)(nil)

const personColumns = `id, name, number, unit, manager, rank, grade, roles, adviser, emails, username, left_on, updated, version`

// personFields are the columns PutPeople compares and replaces: all but
// id, updated and version.
const personFields = `name, number, unit, manager, rank, grade, roles, adviser, emails, username, left_on`

// personRow is p's values in personColumns' order.
func personRow(p *store.Person) []any {
	return []any{p.ID, p.Name, p.Number, p.Unit, p.Manager, p.Rank, p.Grade, store.FormatRoles(p.Roles), p.Adviser,
		store.FormatEmails(p.Emails), p.Username, store.Nanos(p.LeftOn), store.Nanos(p.Updated), p.Version}
}

// stageKeys finds the people in the temporary table people_in whose
// e-mail addresses or username differ from those stored (all of them, for
// people not stored), and lists them in people_renamed and their names in
// people_keys_in, as kind, key and person, for checkKeys and syncKeys.
// Everyone else's names are as stored already, so an import that renames
// no one checks and writes no names. It reports whether anyone is renamed.
func stageKeys(ctx context.Context, tx pgx.Tx) (bool, error) {
	tag, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE people_renamed ON COMMIT DROP AS
		SELECT i.id, i.emails, i.username FROM people_in i LEFT JOIN people p ON p.id = i.id
		WHERE p.id IS NULL OR (p.emails, p.username) IS DISTINCT FROM (i.emails, i.username)`)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	_, err = tx.Exec(ctx, stageRenamedKeys)
	return true, err
}

// stageRenamedKeys lists the names of the people in people_renamed in
// people_keys_in.
const stageRenamedKeys = `CREATE TEMPORARY TABLE people_keys_in ON COMMIT DROP AS
		SELECT 'email'::text AS kind, e AS key, r.id AS person
			FROM people_renamed r, unnest(string_to_array(nullif(r.emails, ''), ' ')) AS e
		UNION ALL
		SELECT 'username', r.username, r.id FROM people_renamed r WHERE r.username <> ''`

// checkKeys returns ErrTaken if a stored person holds a name staged for
// another and is not in the batch: a person in the batch gives up whatever
// names the batch does not give them, so two may swap addresses (and one
// in the batch but not renamed keeps names no one else in the batch has:
// CheckPeople saw to that). An index lookup of people_keys per name.
func checkKeys(ctx context.Context, tx pgx.Tx) error {
	var kind, name, holder, other string
	err := tx.QueryRow(ctx, `SELECT b.kind, b.key, k.person, b.person
		FROM people_keys_in b JOIN people_keys k ON k.kind = b.kind AND k.key = b.key
		WHERE k.person <> b.person AND NOT EXISTS (SELECT 1 FROM people_in i WHERE i.id = k.person)
		ORDER BY b.kind, b.key LIMIT 1`).Scan(&kind, &name, &holder, &other)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return store.TakenError(kind, name, holder, other)
}

// syncKeys brings people_keys in step with the batch: it removes the
// names the batch's people no longer have, then adds those they gained,
// so that an import that changes nothing writes nothing here. After
// checkKeys and the removal a name still held is the same person's. A put
// committed meanwhile that took one of the names fails the insert on the
// primary key rather than being skipped: the directory is never left
// ambiguous.
func syncKeys(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `DELETE FROM people_keys k USING people_renamed r
		WHERE k.person = r.id
			AND NOT EXISTS (SELECT 1 FROM people_keys_in b WHERE b.kind = k.kind AND b.key = k.key AND b.person = k.person)`)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO people_keys (kind, key, person)
		SELECT b.kind, b.key, b.person FROM people_keys_in b
		WHERE NOT EXISTS (SELECT 1 FROM people_keys k WHERE k.kind = b.kind AND k.key = b.key)`)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("putting people: an e-mail address or username was taken meanwhile: %w", store.ErrTaken)
	}
	return err
}

// conflict reports a person the directory does not hold at the version
// the batch gives; 0 is "not stored".
func conflict(id string, given, stored int64) error {
	return fmt.Errorf("putting people: %s is at version %d, not %d: %w", id, stored, given, store.ErrConflict)
}

// PutPeople copies ps into a temporary table, its version column holding
// the versions the caller read, and merges it into people in a few round
// trips whatever the batch size (an HR import puts 50,000 people in one
// call):
//
//  1. It locks the batch's stored people, in ID order, so that no approval
//     can change one until it commits, and two imports overlapping in
//     people lock them in the same order and cannot deadlock; and it
//     counts those not at the version given.
//  2. It inserts the new people, in ID order, at version 1. A person
//     added by another transaction since step 1 is not inserted, and
//     makes the counts short: ErrConflict.
//  3. It updates the people whose fields differ, bumping their versions;
//     they are locked and checked, so this needs no guard.
func (db *DB) PutPeople(ctx context.Context, ps []store.Person) (added, changed int, err error) {
	if err := store.CheckPeople(ps); err != nil {
		return 0, 0, err
	}
	if len(ps) == 0 {
		return 0, 0, nil
	}
	fresh := 0
	for _, p := range ps {
		if p.Version == 0 {
			fresh++
		}
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE people_in (LIKE people) ON COMMIT DROP`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"people_in"}, strings.Split(personColumns, ", "),
			pgx.CopyFromSlice(len(ps), func(i int) ([]any, error) {
				return personRow(&ps[i]), nil
			}))
		if err != nil {
			return err
		}
		if db.testingOnlyAfterPeopleCopy != nil {
			db.testingOnlyAfterPeopleCopy()
		}

		// The count consumes every row of the locking subquery, so every
		// stored person in the batch is locked. Each version read is the
		// latest: a row locked after waiting is read again.
		var stored, stale int
		err = tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE stored <> given) FROM (
				SELECT p.version AS stored, i.version AS given FROM people p JOIN people_in i ON i.id = p.id
				ORDER BY p.id FOR UPDATE OF p) batch`).Scan(&stored, &stale)
		if err != nil {
			return err
		}
		// With none stale, every stored person was given its version, so
		// the rest of the batch, if not new, names people not stored.
		if stale > 0 || stored != len(ps)-fresh {
			var id string
			var given, was int64
			err := tx.QueryRow(ctx, `SELECT i.id, i.version, coalesce(p.version, 0)
				FROM people_in i LEFT JOIN people p ON p.id = i.id
				WHERE i.version <> coalesce(p.version, 0) ORDER BY i.id LIMIT 1`).Scan(&id, &given, &was)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				// Not stored at step 1, added since: a conflict all the same.
				return fmt.Errorf("putting people: %w", store.ErrConflict)
			case err != nil:
				return err
			}
			return conflict(id, given, was)
		}
		if renamed, err := stageKeys(ctx, tx); err != nil {
			return err
		} else if renamed {
			if err := checkKeys(ctx, tx); err != nil {
				return err
			}
			if err := syncKeys(ctx, tx); err != nil {
				return err
			}
		}

		if fresh > 0 {
			tag, err := tx.Exec(ctx, `INSERT INTO people (`+personColumns+`)
				SELECT id, `+personFields+`, updated, 1 FROM people_in WHERE version = 0 ORDER BY id
				ON CONFLICT (id) DO NOTHING`)
			if err != nil {
				return err
			}
			if added = int(tag.RowsAffected()); added != fresh {
				return fmt.Errorf("putting people: %d of %d new people added meanwhile: %w", fresh-added, fresh, store.ErrConflict)
			}
		}
		if fresh < len(ps) {
			tag, err := tx.Exec(ctx, `UPDATE people p SET (`+personFields+`, updated, version) =
					(i.name, i.number, i.unit, i.manager, i.rank, i.grade, i.roles, i.adviser, i.emails, i.username, i.left_on, i.updated, p.version + 1)
				FROM people_in i
				WHERE p.id = i.id AND i.version <> 0
					AND (p.name, p.number, p.unit, p.manager, p.rank, p.grade, p.roles, p.adviser, p.emails, p.username, p.left_on)
						IS DISTINCT FROM (i.name, i.number, i.unit, i.manager, i.rank, i.grade, i.roles, i.adviser, i.emails, i.username, i.left_on)`)
			if err != nil {
				return err
			}
			changed = int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, 0, translate(err)
	}
	return added, changed, nil
}

func scanPerson(row pgx.Row) (store.Person, error) {
	var p store.Person
	var roles, emails string
	var leftOn, updated int64
	if err := row.Scan(&p.ID, &p.Name, &p.Number, &p.Unit, &p.Manager, &p.Rank, &p.Grade, &roles, &p.Adviser, &emails, &p.Username, &leftOn, &updated, &p.Version); err != nil {
		return store.Person{}, translate(err)
	}
	p.Roles, p.Emails = store.ParseRoles(roles), store.ParseEmails(emails)
	p.LeftOn, p.Updated = store.FromNanos(leftOn), store.FromNanos(updated)
	return p, nil
}

// PersonByID returns the person with that ID.
func (db *DB) PersonByID(ctx context.Context, id string) (store.Person, error) {
	return scanPerson(db.pool.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE id = $1`, id))
}

// ListPeople pages through the people in ID order. The searched columns are
// COLLATE "C", under which ILIKE folds ASCII case only, as the contract
// asks (and as SQLite's LIKE does); the search scans the table, which at
// the directory's size (tens of thousands) takes milliseconds.
func (db *DB) ListPeople(ctx context.Context, q store.PeopleQuery) ([]store.Person, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var pat string
	if q.Text != "" {
		pat = store.ContainsPattern(q.Text)
	}
	return queryAll(ctx, db.pool, scanPerson, `SELECT `+personColumns+` FROM people
		WHERE id > $1 AND ($2 = '' OR id ILIKE $2 ESCAPE '\' OR name ILIKE $2 ESCAPE '\' OR number ILIKE $2 ESCAPE '\' OR unit ILIKE $2 ESCAPE '\'
			OR emails ILIKE $2 ESCAPE '\' OR username ILIKE $2 ESCAPE '\')
		ORDER BY id LIMIT $3`, q.After, pat, limit)
}

// CountPeople counts the directory.
func (db *DB) CountPeople(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM people`).Scan(&n)
	return n, translate(err)
}

// LeaversWithTokens finds leavers through the partial left_on index and
// probes each one's unrevoked tokens through tokens_subject.
func (db *DB) LeaversWithTokens(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT p.id FROM people p
		WHERE p.left_on <> 0 AND p.left_on <= $1
			AND EXISTS (SELECT 1 FROM tokens t WHERE t.subject = p.id AND t.revoked = 0)
		ORDER BY p.id`, now.UnixNano())
	if err != nil {
		return nil, translate(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, translate(err)
}

// CredentialOf returns the person's credential.
func (db *DB) CredentialOf(ctx context.Context, person string) (store.Credential, error) {
	var c store.Credential
	var updated int64
	err := db.pool.QueryRow(ctx, `SELECT person, password, totp_secret, totp_step, updated FROM credentials WHERE person = $1`, person).
		Scan(&c.Person, &c.Password, &c.TOTPSecret, &c.TOTPStep, &updated)
	if err != nil {
		return store.Credential{}, translate(err)
	}
	c.Updated = store.FromNanos(updated)
	return c, nil
}

// PutCredential stores c, replacing the person's credential. An empty
// TOTPSecret is stored as none and reads back nil.
func (db *DB) PutCredential(ctx context.Context, c store.Credential) error {
	if c.Person == "" {
		return errors.New("putting a credential: no person")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO credentials (person, password, totp_secret, totp_step, updated) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (person) DO UPDATE SET password = excluded.password, totp_secret = excluded.totp_secret,
			totp_step = excluded.totp_step, updated = excluded.updated`,
		c.Person, c.Password, nullBytes(c.TOTPSecret), c.TOTPStep, store.Nanos(c.Updated))
	return translate(err)
}

func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// UseTOTPStep moves the person's last accepted step forward in one guarded
// UPDATE: of two requests presenting the same code, one updates the row
// and the other, waiting on its lock, then finds the step taken.
func (db *DB) UseTOTPStep(ctx context.Context, person string, step int64) error {
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE credentials SET totp_step = $2 WHERE person = $1 AND totp_step < $2`, person, step)
		if err != nil {
			return err
		}
		return guarded(ctx, tx, tag.RowsAffected(), `SELECT 1 FROM credentials WHERE person = $1`, person)
	}))
}

// guarded turns a guarded UPDATE that changed no row into store.ErrConflict
// when the row exists (the guard failed) and store.ErrNotFound when it does
// not; exists is a query selecting the row.
func guarded(ctx context.Context, tx pgx.Tx, affected int64, exists string, args ...any) error {
	if affected > 0 {
		return nil
	}
	if err := tx.QueryRow(ctx, exists, args...).Scan(new(int)); err != nil {
		return err // pgx.ErrNoRows: translated to ErrNotFound
	}
	return store.ErrConflict
}

const changeColumns = `id, kind, target, payload, base, reason, proposed_by, proposed, state, decided_by, decided`

// AddChange stores a new change.
func (db *DB) AddChange(ctx context.Context, c store.Change) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO changes (`+changeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.Kind, c.Target, nullBytes(c.Payload), c.Base, c.Reason, c.ProposedBy, store.Nanos(c.Proposed), c.State, c.DecidedBy, store.Nanos(c.Decided))
	return translate(err)
}

func scanChange(row pgx.Row) (store.Change, error) {
	var c store.Change
	var proposed, decided int64
	if err := row.Scan(&c.ID, &c.Kind, &c.Target, &c.Payload, &c.Base, &c.Reason, &c.ProposedBy, &proposed, &c.State, &c.DecidedBy, &decided); err != nil {
		return store.Change{}, translate(err)
	}
	c.Proposed, c.Decided = store.FromNanos(proposed), store.FromNanos(decided)
	return c, nil
}

// ChangeByID returns the change with that ID.
func (db *DB) ChangeByID(ctx context.Context, id string) (store.Change, error) {
	return scanChange(db.pool.QueryRow(ctx, `SELECT `+changeColumns+` FROM changes WHERE id = $1`, id))
}

// ListChanges lists changes newest first; changes proposed at the same
// instant come in descending ID order.
func (db *DB) ListChanges(ctx context.Context, state string) ([]store.Change, error) {
	return queryAll(ctx, db.pool, scanChange, `SELECT `+changeColumns+` FROM changes WHERE $1 = '' OR state = $1 ORDER BY proposed DESC, id DESC`, state)
}

// DecideChange is a guarded UPDATE of the change, only while pending, and
// e's guarded write, in one transaction: the person only at the version
// before e.Person's, the notice only while a draft and while the latest
// published is e.Publish.Previous (under noticeLock), the catalogue, the
// consent policy and the rule set each only at the version after the
// latest. A concurrent decision of the same change waits on the change's
// row lock and then finds it no longer pending. If either write changes
// no row the transaction rolls back, so a lost race or a stale target
// leaves both as they were.
func (db *DB) DecideChange(ctx context.Context, c store.Change, e store.ChangeEffect) error {
	if err := e.Check(c); err != nil {
		return err
	}
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var kind, target string
		err := tx.QueryRow(ctx, `UPDATE changes SET state = $2, decided_by = $3, decided = $4 WHERE id = $1 AND state = 'pending' RETURNING kind, target`,
			c.ID, c.State, c.DecidedBy, store.Nanos(c.Decided)).Scan(&kind, &target)
		if errors.Is(err, pgx.ErrNoRows) {
			if err := tx.QueryRow(ctx, `SELECT 1 FROM changes WHERE id = $1`, c.ID).Scan(new(int)); err != nil {
				return err
			}
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		if err := e.CheckTarget(c, kind, target); err != nil {
			return err
		}
		switch {
		case e.Person != nil:
			return putApproved(ctx, tx, e.Person)
		case e.Publish != nil:
			return publish(ctx, tx, e.Publish)
		case e.Catalogue != nil:
			return addCatalogue(ctx, tx, e.Catalogue)
		case e.ConsentPolicy != nil:
			return addConsentPolicy(ctx, tx, e.ConsentPolicy)
		case e.RuleSet != nil:
			return addRuleSet(ctx, tx, e.RuleSet)
		}
		return nil
	}))
}

// putApproved is DecideChange's Person effect.
func putApproved(ctx context.Context, tx pgx.Tx, p *store.Person) error {
	tag, err := tx.Exec(ctx, `UPDATE people SET name = $2, number = $3, unit = $4, manager = $5, rank = $6, grade = $7,
			roles = $8, adviser = $9, emails = $10, username = $11, left_on = $12, updated = $13, version = $14
		WHERE id = $1 AND version = $15`,
		append(personRow(p), p.Version-1)...)
	if err != nil {
		return err
	}
	if err := guarded(ctx, tx, tag.RowsAffected(), `SELECT 1 FROM people WHERE id = $1`, p.ID); err != nil {
		return err
	}
	// The batch of one that checkKeys and syncKeys read, renamed whether
	// or not the approval changed the names: the update is written
	// already, so stageKeys cannot tell, and one person costs nothing.
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE people_in ON COMMIT DROP AS SELECT * FROM people WHERE id = $1`, p.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE people_renamed ON COMMIT DROP AS SELECT id, emails, username FROM people_in`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, stageRenamedKeys); err != nil {
		return err
	}
	if err := checkKeys(ctx, tx); err != nil {
		return err
	}
	return syncKeys(ctx, tx)
}

// PeopleIndex reads the people's keys in one query, in ID order.
func (db *DB) PeopleIndex(ctx context.Context) ([]store.PersonKeys, error) {
	return queryAll(ctx, db.pool, func(row pgx.Row) (store.PersonKeys, error) {
		var k store.PersonKeys
		var emails string
		var leftOn int64
		if err := row.Scan(&k.ID, &k.Number, &k.Username, &emails, &leftOn); err != nil {
			return store.PersonKeys{}, translate(err)
		}
		k.Emails, k.LeftOn = store.ParseEmails(emails), store.FromNanos(leftOn)
		return k, nil
	}, `SELECT id, number, username, emails, left_on FROM people ORDER BY id`)
}
