package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/store"
)

const noticeColumns = `version, title, text, short, public_text, public_short, categories, created, created_by, published, published_by`

// formatCategories stores categories as a JSON array, which, unlike the
// space-separated roles, holds any string. JSON would replace bytes that
// are not UTF-8, so such a category is refused rather than altered.
func formatCategories(cs []string) (string, error) {
	if len(cs) == 0 {
		return "[]", nil
	}
	for _, c := range cs {
		if !utf8.ValidString(c) {
			return "", fmt.Errorf("category %q is not UTF-8", c)
		}
	}
	b, err := json.Marshal(cs)
	return string(b), err
}

// parseCategories reverses formatCategories; none reads back nil.
func parseCategories(s string) ([]string, error) {
	var cs []string
	if err := json.Unmarshal([]byte(s), &cs); err != nil {
		return nil, fmt.Errorf("reading notice categories: %v", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return cs, nil
}

// AddNotice numbers the draft in the statement that inserts it: the one
// writer connection runs it alone, so two drafts never take one number.
func (db *DB) AddNotice(ctx context.Context, n store.Notice) (store.Notice, error) {
	cats, err := formatCategories(n.Categories)
	if err != nil {
		return store.Notice{}, fmt.Errorf("adding a notice: %v", err)
	}
	if len(n.Categories) == 0 {
		n.Categories = nil
	}
	n.Published, n.PublishedBy = time.Time{}, ""
	err = db.w.QueryRowContext(ctx, `INSERT INTO notices (`+noticeColumns+`)
		SELECT coalesce(max(version), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, 0, '' FROM notices
		RETURNING version`,
		n.Title, n.Text, n.Short, n.PublicText, n.PublicShort, cats, store.Nanos(n.Created), n.CreatedBy).Scan(&n.Version)
	if err != nil {
		return store.Notice{}, translate(err)
	}
	return n, nil
}

func scanNotice(row scanner) (store.Notice, error) {
	var n store.Notice
	var cats string
	var created, published int64
	if err := row.Scan(&n.Version, &n.Title, &n.Text, &n.Short, &n.PublicText, &n.PublicShort, &cats, &created, &n.CreatedBy, &published, &n.PublishedBy); err != nil {
		return store.Notice{}, translate(err)
	}
	var err error
	if n.Categories, err = parseCategories(cats); err != nil {
		return store.Notice{}, err
	}
	n.Created, n.Published = store.FromNanos(created), store.FromNanos(published)
	return n, nil
}

// NoticeByVersion returns that version of the notice.
func (db *DB) NoticeByVersion(ctx context.Context, version int64) (store.Notice, error) {
	return scanNotice(db.r.QueryRowContext(ctx, `SELECT `+noticeColumns+` FROM notices WHERE version = ?`, version))
}

// ListNotices returns every version, newest first.
func (db *DB) ListNotices(ctx context.Context) ([]store.Notice, error) {
	return queryAll(ctx, db.r, scanNotice, `SELECT `+noticeColumns+` FROM notices ORDER BY version DESC`)
}

// CurrentNotice returns the published notice of the greatest version.
func (db *DB) CurrentNotice(ctx context.Context) (store.Notice, error) {
	return scanNotice(db.r.QueryRowContext(ctx, `SELECT `+noticeColumns+` FROM notices WHERE published <> 0 ORDER BY version DESC LIMIT 1`))
}

// publish is DecideChange's Publish effect: one guarded UPDATE, which
// finds the latest published version inside the IMMEDIATE transaction, so
// no other publication can land between the comparison and the write.
func publish(ctx context.Context, tx *sql.Tx, p *store.Publication) error {
	res, err := tx.ExecContext(ctx, `UPDATE notices SET published = ?, published_by = ?
		WHERE version = ? AND published = 0
			AND ? = (SELECT coalesce(max(version), 0) FROM notices WHERE published <> 0)`,
		store.Nanos(p.At), p.By, p.Version, p.Previous)
	if err != nil {
		return err
	}
	return guarded(ctx, tx, res, `SELECT 1 FROM notices WHERE version = ?`, p.Version)
}

// AddAcknowledgement inserts a only if its person and a published notice
// of its version exist, in one statement; the primary key refuses a second
// acknowledgement of a version.
func (db *DB) AddAcknowledgement(ctx context.Context, a store.Acknowledgement) error {
	res, err := db.w.ExecContext(ctx, `INSERT INTO acknowledgements (person, version, time, via, entry)
		SELECT ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM people WHERE id = ?)
			AND EXISTS (SELECT 1 FROM notices WHERE version = ? AND published <> 0)`,
		a.Person, a.Version, store.Nanos(a.Time), a.Via, int64(a.Entry), a.Person, a.Version)
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return fmt.Errorf("acknowledging notice %d: no person %q or no such published notice: %w", a.Version, a.Person, store.ErrNotFound)
	}
	return nil
}

// AcknowledgementsOf returns the person's acknowledgements, newest version
// first, from the primary key.
func (db *DB) AcknowledgementsOf(ctx context.Context, person string) ([]store.Acknowledgement, error) {
	return queryAll(ctx, db.r, scanAcknowledgement, `SELECT person, version, time, via, entry FROM acknowledgements WHERE person = ? ORDER BY version DESC`, person)
}

func scanAcknowledgement(row scanner) (store.Acknowledgement, error) {
	var a store.Acknowledgement
	var at, entry int64
	if err := row.Scan(&a.Person, &a.Version, &at, &a.Via, &entry); err != nil {
		return store.Acknowledgement{}, translate(err)
	}
	a.Time, a.Entry = store.FromNanos(at), uint64(entry)
	return a, nil
}

// active selects, from people p, those who have not left at the instant
// bound to its parameter: the complement of LeaversWithTokens' leavers.
const active = `(p.left_on = 0 OR p.left_on > ?)`

// Unacknowledged scans the directory once, probing each active person's
// acknowledgement of version by the primary key, and sorts the rest.
func (db *DB) Unacknowledged(ctx context.Context, version int64, now time.Time) ([]store.Person, error) {
	return queryAll(ctx, db.r, scanPerson, `SELECT `+personColumns+` FROM people p
		WHERE `+active+`
			AND NOT EXISTS (SELECT 1 FROM acknowledgements a WHERE a.person = p.id AND a.version = ?)
		ORDER BY p.unit, p.manager, p.id`, now.UnixNano(), version)
}

// Coverage counts the active people and, of those, who acknowledged
// version, in one scan.
func (db *DB) Coverage(ctx context.Context, version int64, now time.Time) (store.NoticeCoverage, error) {
	var c store.NoticeCoverage
	err := db.r.QueryRowContext(ctx, `SELECT count(*), count(a.person) FROM people p
		LEFT JOIN acknowledgements a ON a.person = p.id AND a.version = ?
		WHERE `+active, version, now.UnixNano()).Scan(&c.Active, &c.Acknowledged)
	return c, translate(err)
}

const catalogueColumns = `version, purposes, legislation, criteria, categories, created, change_id`

// addCatalogue is DecideChange's Catalogue effect: an INSERT that adds a
// row only when its version is one past the stored latest, inside the
// IMMEDIATE transaction, so two approvals never both add one version.
func addCatalogue(ctx context.Context, tx *sql.Tx, v *store.CatalogueVersion) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO catalogue_versions (`+catalogueColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?
		WHERE ? = (SELECT coalesce(max(version), 0) + 1 FROM catalogue_versions)`,
		v.Version, nullBytes(v.Purposes), nullBytes(v.Legislation), nullBytes(v.Criteria), nullBytes(v.Categories), store.Nanos(v.Created), v.Change, v.Version)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("adding catalogue version %d: not the one after the latest: %w", v.Version, store.ErrConflict)
	}
	return nil
}

func scanCatalogue(row scanner) (store.CatalogueVersion, error) {
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
	return scanCatalogue(db.r.QueryRowContext(ctx, `SELECT `+catalogueColumns+` FROM catalogue_versions ORDER BY version DESC LIMIT 1`))
}

// CatalogueByVersion returns that catalogue version.
func (db *DB) CatalogueByVersion(ctx context.Context, version int64) (store.CatalogueVersion, error) {
	return scanCatalogue(db.r.QueryRowContext(ctx, `SELECT `+catalogueColumns+` FROM catalogue_versions WHERE version = ?`, version))
}

// ListCatalogueVersions returns every catalogue version, newest first.
func (db *DB) ListCatalogueVersions(ctx context.Context) ([]store.CatalogueVersion, error) {
	return queryAll(ctx, db.r, scanCatalogue, `SELECT `+catalogueColumns+` FROM catalogue_versions ORDER BY version DESC`)
}
