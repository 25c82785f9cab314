package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

// noticeLock serialises, across nodes, the transactions that number a
// draft notice or publish one. Each reads the notices (the greatest
// version, the latest published) and writes on what it read; under READ
// COMMITTED two of them running together would both read the same and
// both write, so two drafts would take one version, or two publications
// would each find the notice they replace still current. Taken first, the
// lock makes the next statement's snapshot include whatever the previous
// holder committed.
const noticeLock = 0x6c626d01 // "lbm\1"

const noticeColumns = `version, title, text, short, public_text, public_short, categories, created, created_by, published, published_by`

// AddNotice numbers the draft under noticeLock, so that versions have no
// gaps: a sequence would skip the numbers of rolled-back inserts.
func (db *DB) AddNotice(ctx context.Context, n store.Notice) (store.Notice, error) {
	if len(n.Categories) == 0 {
		n.Categories = nil
	}
	cats := n.Categories
	if cats == nil {
		cats = []string{} // the column is NOT NULL; pgx sends nil as NULL
	}
	n.Published, n.PublishedBy = time.Time{}, ""
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, noticeLock); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO notices (`+noticeColumns+`)
			VALUES ((SELECT coalesce(max(version), 0) + 1 FROM notices), $1, $2, $3, $4, $5, $6, $7, $8, 0, '')
			RETURNING version`,
			n.Title, n.Text, n.Short, n.PublicText, n.PublicShort, cats, store.Nanos(n.Created), n.CreatedBy).Scan(&n.Version)
	})
	if err != nil {
		return store.Notice{}, translate(err)
	}
	return n, nil
}

func scanNotice(row pgx.Row) (store.Notice, error) {
	var n store.Notice
	var created, published int64
	if err := row.Scan(&n.Version, &n.Title, &n.Text, &n.Short, &n.PublicText, &n.PublicShort, &n.Categories, &created, &n.CreatedBy, &published, &n.PublishedBy); err != nil {
		return store.Notice{}, translate(err)
	}
	if len(n.Categories) == 0 {
		n.Categories = nil
	}
	n.Created, n.Published = store.FromNanos(created), store.FromNanos(published)
	return n, nil
}

// NoticeByVersion returns that version of the notice.
func (db *DB) NoticeByVersion(ctx context.Context, version int64) (store.Notice, error) {
	return scanNotice(db.pool.QueryRow(ctx, `SELECT `+noticeColumns+` FROM notices WHERE version = $1`, version))
}

// ListNotices returns every version, newest first.
func (db *DB) ListNotices(ctx context.Context) ([]store.Notice, error) {
	return queryAll(ctx, db.pool, scanNotice, `SELECT `+noticeColumns+` FROM notices ORDER BY version DESC`)
}

// CurrentNotice returns the published notice of the greatest version.
func (db *DB) CurrentNotice(ctx context.Context) (store.Notice, error) {
	return scanNotice(db.pool.QueryRow(ctx, `SELECT `+noticeColumns+` FROM notices WHERE published <> 0 ORDER BY version DESC LIMIT 1`))
}

// publish is DecideChange's Publish effect: under noticeLock, one guarded
// UPDATE that compares the latest published version and writes the draft.
// Publications of two different drafts touch different rows, so the row
// lock alone would let both compare against the same latest and win.
func publish(ctx context.Context, tx pgx.Tx, p *store.Publication) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, noticeLock); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE notices SET published = $2, published_by = $3
		WHERE version = $1 AND published = 0
			AND $4 = (SELECT coalesce(max(version), 0) FROM notices WHERE published <> 0)`,
		p.Version, store.Nanos(p.At), p.By, p.Previous)
	if err != nil {
		return err
	}
	return guarded(ctx, tx, tag.RowsAffected(), `SELECT 1 FROM notices WHERE version = $1`, p.Version)
}

// AddAcknowledgement inserts a only if its person and a published notice
// of its version exist, in one statement; the primary key refuses a second
// acknowledgement of a version, and of two at once the second waits for
// the first and then is refused. People are never deleted and a notice is
// never unpublished, so what the statement saw still holds at commit.
func (db *DB) AddAcknowledgement(ctx context.Context, a store.Acknowledgement) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO acknowledgements (person, version, time, via, entry)
		SELECT $1::text, $2::bigint, $3::bigint, $4::text, $5::bigint
		WHERE EXISTS (SELECT 1 FROM people WHERE id = $1)
			AND EXISTS (SELECT 1 FROM notices WHERE version = $2 AND published <> 0)`,
		a.Person, a.Version, store.Nanos(a.Time), a.Via, int64(a.Entry))
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("acknowledging notice %d: no person %q or no such published notice: %w", a.Version, a.Person, store.ErrNotFound)
	}
	return nil
}

// AcknowledgementsOf returns the person's acknowledgements, newest version
// first, from the primary key.
func (db *DB) AcknowledgementsOf(ctx context.Context, person string) ([]store.Acknowledgement, error) {
	return queryAll(ctx, db.pool, scanAcknowledgement, `SELECT person, version, time, via, entry FROM acknowledgements WHERE person = $1 ORDER BY version DESC`, person)
}

func scanAcknowledgement(row pgx.Row) (store.Acknowledgement, error) {
	var a store.Acknowledgement
	var at, entry int64
	if err := row.Scan(&a.Person, &a.Version, &at, &a.Via, &entry); err != nil {
		return store.Acknowledgement{}, translate(err)
	}
	a.Time, a.Entry = store.FromNanos(at), uint64(entry)
	return a, nil
}

// active selects, from people p, those who have not left at the instant
// $1: the complement of LeaversWithTokens' leavers.
const active = `(p.left_on = 0 OR p.left_on > $1)`

// Unacknowledged is an anti-join of the active people against the
// version's acknowledgements, which the planner runs as a hash anti-join
// over acknowledgements_version. manager is compared in byte order, as
// unit and id are by their columns' collation, so the order is SQLite's
// whatever the database's locale.
func (db *DB) Unacknowledged(ctx context.Context, version int64, now time.Time) ([]store.Person, error) {
	return queryAll(ctx, db.pool, scanPerson, `SELECT `+personColumns+` FROM people p
		WHERE `+active+`
			AND NOT EXISTS (SELECT 1 FROM acknowledgements a WHERE a.person = p.id AND a.version = $2)
		ORDER BY p.unit, p.manager COLLATE "C", p.id`, now.UnixNano(), version)
}

// Coverage counts the active people and, of those, who acknowledged
// version, in one scan.
func (db *DB) Coverage(ctx context.Context, version int64, now time.Time) (store.NoticeCoverage, error) {
	var c store.NoticeCoverage
	err := db.pool.QueryRow(ctx, `SELECT count(*), count(a.person) FROM people p
		LEFT JOIN acknowledgements a ON a.person = p.id AND a.version = $2
		WHERE `+active, now.UnixNano(), version).Scan(&c.Active, &c.Acknowledged)
	return c, translate(err)
}

const catalogueColumns = `version, purposes, legislation, criteria, categories, created, change_id`

// addCatalogue is DecideChange's Catalogue effect: an INSERT that adds a
// row only when its version is one past the latest it sees. Two approvals
// adding one version at once both see the same latest; the second's
// insert then waits on the first's row, and ON CONFLICT turns it into no
// row, which is ErrConflict, rather than a unique violation.
func addCatalogue(ctx context.Context, tx pgx.Tx, v *store.CatalogueVersion) error {
	tag, err := tx.Exec(ctx, `INSERT INTO catalogue_versions (`+catalogueColumns+`)
		SELECT $1::bigint, $2::bytea, $3::bytea, $4::bytea, $5::bytea, $6::bigint, $7::text
		WHERE $1 = (SELECT coalesce(max(version), 0) + 1 FROM catalogue_versions)
		ON CONFLICT (version) DO NOTHING`,
		v.Version, nullBytes(v.Purposes), nullBytes(v.Legislation), nullBytes(v.Criteria), nullBytes(v.Categories), store.Nanos(v.Created), v.Change)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("adding catalogue version %d: not the one after the latest: %w", v.Version, store.ErrConflict)
	}
	return nil
}

func scanCatalogue(row pgx.Row) (store.CatalogueVersion, error) {
	var v store.CatalogueVersion
	var created int64
	if err := row.Scan(&v.Version, &v.Purposes, &v.Legislation, &v.Criteria, &v.Categories, &created, &v.Change); err != nil {
		return store.CatalogueVersion{}, translate(err)
	}
	v.Created = store.FromNanos(created)
	return v, nil
}

// CurrentCatalogue returns the latest catalogue version.
func (db *DB) CurrentCatalogue(ctx context.Context) (store.CatalogueVersion, error) {
	return scanCatalogue(db.pool.QueryRow(ctx, `SELECT `+catalogueColumns+` FROM catalogue_versions ORDER BY version DESC LIMIT 1`))
}

// CatalogueByVersion returns that catalogue version.
func (db *DB) CatalogueByVersion(ctx context.Context, version int64) (store.CatalogueVersion, error) {
	return scanCatalogue(db.pool.QueryRow(ctx, `SELECT `+catalogueColumns+` FROM catalogue_versions WHERE version = $1`, version))
}

// ListCatalogueVersions returns every catalogue version, newest first.
func (db *DB) ListCatalogueVersions(ctx context.Context) ([]store.CatalogueVersion, error) {
	return queryAll(ctx, db.pool, scanCatalogue, `SELECT `+catalogueColumns+` FROM catalogue_versions ORDER BY version DESC`)
}
