package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.DirectoryLookup = (*DB)(nil)

const personColumns = `id, name, number, unit, manager, rank, grade, roles, adviser, emails, username, left_on, updated, version`

// peoplePerInsert batches rows into one upsert, as rowsPerInsert does for
// entries: 64 rows of 13 parameters each.
const peoplePerInsert = 64

// staleVersion selects, of the people given as a JSON object from ID to
// version, the first whose stored version is not the given one, with the
// stored version (0 when the person is not stored). One parameter for the
// whole batch: binding two per person costs more than the lookups.
const staleVersion = `SELECT batch.key, batch.value, coalesce(people.version, 0)
	FROM json_each(?) AS batch LEFT JOIN people ON people.id = batch.key
	WHERE coalesce(people.version, 0) <> batch.value
	LIMIT 1`

// versionsJSON encodes ps's IDs and versions for staleVersion.
func versionsJSON(ps []store.Person) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		id, _ := json.Marshal(p.ID) // a string always encodes
		b.Write(id)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(p.Version, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// upsertPeople adds people at version 1 and replaces a stored person only
// when a stored field other than updated and version differs, bumping its
// version. RETURNING yields only rows it inserted or replaced, so a
// returned version of 1 is an addition and any other a change.
func upsertPeople(n int) string {
	return `INSERT INTO people (` + personColumns + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?,1),", n), ",") + `
		ON CONFLICT (id) DO UPDATE SET
			name = excluded.name, number = excluded.number, unit = excluded.unit,
			manager = excluded.manager, rank = excluded.rank, grade = excluded.grade,
			roles = excluded.roles, adviser = excluded.adviser, emails = excluded.emails,
			username = excluded.username, left_on = excluded.left_on,
			updated = excluded.updated, version = people.version + 1
		WHERE (people.name, people.number, people.unit, people.manager, people.rank, people.grade, people.roles, people.adviser, people.emails, people.username, people.left_on)
			IS NOT (excluded.name, excluded.number, excluded.unit, excluded.manager, excluded.rank, excluded.grade, excluded.roles, excluded.adviser, excluded.emails, excluded.username, excluded.left_on)
		RETURNING id, version`
}

// keysJSON encodes ps's e-mail addresses and usernames as a JSON array of
// [kind, name, ID] for takenKey and syncKeys: one parameter, as for
// staleVersion.
func keysJSON(ps []store.Person) string {
	var keys [][3]string
	for _, p := range ps {
		for _, e := range p.Emails {
			keys = append(keys, [3]string{"email", e, p.ID})
		}
		if p.Username != "" {
			keys = append(keys, [3]string{"username", p.Username, p.ID})
		}
	}
	if keys == nil {
		return "[]"
	}
	b, _ := json.Marshal(keys) // strings always encode
	return string(b)
}

// takenKey selects, of the names given by keysJSON (?1), the first that
// a person holds who is neither the one given it nor among those being
// written (?2, the keys of a versionsJSON object): a person written gives
// up whatever names they are not given, so two may swap addresses. A
// lookup of people_keys' primary key per name.
const takenKey = `SELECT b.value->>0, b.value->>1, k.person, b.value->>2
	FROM json_each(?1) AS b JOIN people_keys k ON k.kind = b.value->>0 AND k.key = b.value->>1
	WHERE k.person <> b.value->>2 AND k.person NOT IN (SELECT key FROM json_each(?2))
	LIMIT 1`

// checkKeys returns ErrTaken if takenKey finds a name.
func checkKeys(ctx context.Context, tx *sql.Tx, keys, versions string) error {
	var kind, name, holder, other string
	switch err := tx.QueryRowContext(ctx, takenKey, keys, versions).Scan(&kind, &name, &holder, &other); {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return store.TakenError(kind, name, holder, other)
}

// syncKeys brings people_keys in step with the batch just stored: it
// removes the names its people no longer have, then adds those they
// gained. Names they keep are neither removed nor added, so an import
// that changes nothing writes nothing here. After checkKeys and the
// removal, a name still held is held by the person given it.
func syncKeys(ctx context.Context, tx *sql.Tx, keys, versions string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM people_keys
		WHERE person IN (SELECT key FROM json_each(?2))
			AND (kind, key, person) NOT IN (SELECT value->>0, value->>1, value->>2 FROM json_each(?1))`, keys, versions)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO people_keys (kind, key, person)
		SELECT b.value->>0, b.value->>1, b.value->>2 FROM json_each(?1) AS b
		WHERE NOT EXISTS (SELECT 1 FROM people_keys k WHERE k.kind = b.value->>0 AND k.key = b.value->>1)`, keys)
	return err
}

// conflict reports a person the directory does not hold at the version
// the batch gives; 0 is "not stored".
func conflict(id string, given, stored int64) error {
	return fmt.Errorf("putting people: %s is at version %d, not %d: %w", id, stored, given, store.ErrConflict)
}

// PutPeople stores ps in one IMMEDIATE transaction: one statement checks
// every version, then upserts write 64 people each. The transaction shuts
// out every other writer, so the check and the writes are one
// compare-and-swap: no approval can land in between. Once the check passes
// the upsert needs no guard of its own, for every person given a version is
// stored at it and no person given none is stored.
func (db *DB) PutPeople(ctx context.Context, ps []store.Person) (added, changed int, err error) {
	if err := store.CheckPeople(ps); err != nil {
		return 0, 0, err
	}
	if len(ps) == 0 {
		return 0, 0, nil
	}
	err = withTx(ctx, db.w, func(tx *sql.Tx) error {
		var id string
		var given, stored int64
		switch err := tx.QueryRowContext(ctx, staleVersion, versionsJSON(ps)).Scan(&id, &given, &stored); {
		case err == nil:
			return conflict(id, given, stored)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		// The people the upserts add or change, by ID: only their names
		// can differ from people_keys, so only they are checked and
		// synced, and an import that changes nothing costs nothing more.
		batch := make(map[string]*store.Person, len(ps))
		for i := range ps {
			batch[ps[i].ID] = &ps[i]
		}
		var touched []store.Person
		var full *sql.Stmt
		for len(ps) > 0 {
			n := min(len(ps), peoplePerInsert)
			stmt := full
			if n < peoplePerInsert || full == nil {
				s, err := tx.PrepareContext(ctx, upsertPeople(n))
				if err != nil {
					return err
				}
				defer s.Close()
				if n == peoplePerInsert {
					full = s
				}
				stmt = s
			}
			args := make([]any, 0, 13*n)
			for _, p := range ps[:n] {
				args = append(args, p.ID, p.Name, p.Number, p.Unit, p.Manager, p.Rank, p.Grade, store.FormatRoles(p.Roles), p.Adviser,
					store.FormatEmails(p.Emails), p.Username, store.Nanos(p.LeftOn), store.Nanos(p.Updated))
			}
			rows, err := stmt.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				var version int64
				if err := rows.Scan(&id, &version); err != nil {
					rows.Close()
					return err
				}
				touched = append(touched, *batch[id])
				if version == 1 {
					added++
				} else {
					changed++
				}
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			ps = ps[n:]
			if db.testingOnlyAfterPeopleBatch != nil {
				db.testingOnlyAfterPeopleBatch()
			}
		}
		// Once written, an unchanged person's names are as stored, and no
		// one else's (CheckPeople refused a name twice in the batch), so
		// a name taken is taken from someone outside the changed.
		if len(touched) == 0 {
			return nil
		}
		ids, keys := versionsJSON(touched), keysJSON(touched)
		if err := checkKeys(ctx, tx, keys, ids); err != nil {
			return err
		}
		return syncKeys(ctx, tx, keys, ids)
	})
	if err != nil {
		return 0, 0, translate(err)
	}
	return added, changed, nil
}

type scanner interface {
	Scan(dest ...any) error
}

func scanPerson(row scanner) (store.Person, error) {
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
	return scanPerson(db.r.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, id))
}

// ListPeople pages through the people in ID order. SQLite's LIKE ignores
// ASCII case only, as the contract asks; the search scans the table, which
// at the directory's size (tens of thousands) takes milliseconds.
func (db *DB) ListPeople(ctx context.Context, q store.PeopleQuery) ([]store.Person, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	where := `id > ?`
	args := []any{q.After}
	if q.Text != "" {
		where += ` AND (id LIKE ?2 ESCAPE '\' OR name LIKE ?2 ESCAPE '\' OR number LIKE ?2 ESCAPE '\' OR unit LIKE ?2 ESCAPE '\'
			OR emails LIKE ?2 ESCAPE '\' OR username LIKE ?2 ESCAPE '\')`
		args = append(args, store.ContainsPattern(q.Text))
	}
	return queryAll(ctx, db.r, scanPerson, `SELECT `+personColumns+` FROM people WHERE `+where+` ORDER BY id LIMIT ?`, append(args, limit)...)
}

// CountPeople counts the directory.
func (db *DB) CountPeople(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM people`).Scan(&n)
	return n, translate(err)
}

// LeaversWithTokens finds leavers through the partial left_on index and
// probes each one's unrevoked tokens through tokens_subject.
func (db *DB) LeaversWithTokens(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT p.id FROM people p
		WHERE p.left_on <> 0 AND p.left_on <= ?
			AND EXISTS (SELECT 1 FROM tokens t WHERE t.subject = p.id AND t.revoked = 0)
		ORDER BY p.id`, now.UnixNano())
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err)
		}
		out = append(out, id)
	}
	return out, translate(rows.Err())
}

// CredentialOf returns the person's credential.
func (db *DB) CredentialOf(ctx context.Context, person string) (store.Credential, error) {
	var c store.Credential
	var updated int64
	err := db.r.QueryRowContext(ctx, `SELECT person, password, totp_secret, totp_step, updated FROM credentials WHERE person = ?`, person).
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
	_, err := db.w.ExecContext(ctx, `INSERT INTO credentials (person, password, totp_secret, totp_step, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (person) DO UPDATE SET password = excluded.password, totp_secret = excluded.totp_secret,
			totp_step = excluded.totp_step, updated = excluded.updated`,
		c.Person, c.Password, nullBytes(c.TOTPSecret), c.TOTPStep, store.Nanos(c.Updated))
	return translate(err)
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// UseTOTPStep moves the person's last accepted step forward, in one
// guarded UPDATE: of two requests presenting the same code, one updates the
// row and the other finds the step already taken.
func (db *DB) UseTOTPStep(ctx context.Context, person string, step int64) error {
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE credentials SET totp_step = ? WHERE person = ? AND totp_step < ?`, step, person, step)
		if err != nil {
			return err
		}
		return guarded(ctx, tx, res, `SELECT 1 FROM credentials WHERE person = ?`, person)
	}))
}

// guarded turns a guarded UPDATE that changed no row into store.ErrConflict
// when the row exists (the guard failed) and store.ErrNotFound when it does
// not; exists is a query selecting the row.
func guarded(ctx context.Context, tx *sql.Tx, res sql.Result, exists string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	if err := tx.QueryRowContext(ctx, exists, args...).Scan(new(int)); err != nil {
		return err // sql.ErrNoRows: translated to ErrNotFound
	}
	return store.ErrConflict
}

const changeColumns = `id, kind, target, payload, base, reason, proposed_by, proposed, state, decided_by, decided`

// AddChange stores a new change.
func (db *DB) AddChange(ctx context.Context, c store.Change) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO changes (`+changeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Kind, c.Target, nullBytes(c.Payload), c.Base, c.Reason, c.ProposedBy, store.Nanos(c.Proposed), c.State, c.DecidedBy, store.Nanos(c.Decided))
	return translate(err)
}

func scanChange(row scanner) (store.Change, error) {
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
	return scanChange(db.r.QueryRowContext(ctx, `SELECT `+changeColumns+` FROM changes WHERE id = ?`, id))
}

// ListChanges lists changes newest first; changes proposed at the same
// instant come in descending ID order.
func (db *DB) ListChanges(ctx context.Context, state string) ([]store.Change, error) {
	q := `SELECT ` + changeColumns + ` FROM changes ORDER BY proposed DESC, id DESC`
	var args []any
	if state != "" {
		q = `SELECT ` + changeColumns + ` FROM changes WHERE state = ? ORDER BY proposed DESC, id DESC`
		args = append(args, state)
	}
	return queryAll(ctx, db.r, scanChange, q, args...)
}

// DecideChange is a guarded UPDATE of the change, only while pending, and
// e's guarded write, in one IMMEDIATE transaction: the person only at the
// version before e.Person's, the notice only while a draft and while the
// latest published is e.Publish.Previous, the catalogue, the consent
// policy and the rule set each only at the version after the latest. If
// either writes no row the transaction rolls back, so a lost race or a
// stale target leaves both as they were.
func (db *DB) DecideChange(ctx context.Context, c store.Change, e store.ChangeEffect) error {
	if err := e.Check(c); err != nil {
		return err
	}
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		var kind, target string
		err := tx.QueryRowContext(ctx, `UPDATE changes SET state = ?, decided_by = ?, decided = ? WHERE id = ? AND state = 'pending' RETURNING kind, target`,
			c.State, c.DecidedBy, store.Nanos(c.Decided), c.ID).Scan(&kind, &target)
		if errors.Is(err, sql.ErrNoRows) {
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM changes WHERE id = ?`, c.ID).Scan(new(int)); err != nil {
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
func putApproved(ctx context.Context, tx *sql.Tx, p *store.Person) error {
	res, err := tx.ExecContext(ctx, `UPDATE people SET name = ?, number = ?, unit = ?, manager = ?, rank = ?, grade = ?,
			roles = ?, adviser = ?, emails = ?, username = ?, left_on = ?, updated = ?, version = ?
		WHERE id = ? AND version = ?`,
		p.Name, p.Number, p.Unit, p.Manager, p.Rank, p.Grade, store.FormatRoles(p.Roles), p.Adviser,
		store.FormatEmails(p.Emails), p.Username, store.Nanos(p.LeftOn), store.Nanos(p.Updated), p.Version,
		p.ID, p.Version-1)
	if err != nil {
		return err
	}
	if err := guarded(ctx, tx, res, `SELECT 1 FROM people WHERE id = ?`, p.ID); err != nil {
		return err
	}
	ps := []store.Person{*p}
	versions, keys := versionsJSON(ps), keysJSON(ps)
	if err := checkKeys(ctx, tx, keys, versions); err != nil {
		return err
	}
	return syncKeys(ctx, tx, keys, versions)
}

// PeopleIndex reads the people's keys in one query, in ID order.
func (db *DB) PeopleIndex(ctx context.Context) ([]store.PersonKeys, error) {
	return queryAll(ctx, db.r, func(row scanner) (store.PersonKeys, error) {
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
