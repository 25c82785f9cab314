package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.ConsentPolicies = (*DB)(nil)

const consentPolicyColumns = `version, policy, created, change_id, approved_by`

// addConsentPolicy is DecideChange's ConsentPolicy effect: an INSERT that
// adds a row only when its version is one past the latest it sees. As for
// the catalogue, two approvals adding one version at once both see the
// same latest; the second's insert then waits on the first's row, and ON
// CONFLICT turns it into no row, which is ErrConflict, rather than a
// unique violation.
func addConsentPolicy(ctx context.Context, tx pgx.Tx, v *store.ConsentPolicyVersion) error {
	tag, err := tx.Exec(ctx, `INSERT INTO consent_policy_versions (`+consentPolicyColumns+`)
		SELECT $1::bigint, $2::bytea, $3::bigint, $4::text, $5::text
		WHERE $1 = (SELECT coalesce(max(version), 0) + 1 FROM consent_policy_versions)
		ON CONFLICT (version) DO NOTHING`,
		v.Version, nullBytes(v.Policy), store.Nanos(v.Created), v.Change, v.By)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("adding consent policy version %d: not the one after the latest: %w", v.Version, store.ErrConflict)
	}
	return nil
}

func scanConsentPolicy(row pgx.Row) (store.ConsentPolicyVersion, error) {
	var v store.ConsentPolicyVersion
	var created int64
	if err := row.Scan(&v.Version, &v.Policy, &created, &v.Change, &v.By); err != nil {
		return store.ConsentPolicyVersion{}, translate(err)
	}
	v.Created = store.FromNanos(created)
	return v, nil
}

// CurrentConsentPolicy returns the latest consent policy version.
func (db *DB) CurrentConsentPolicy(ctx context.Context) (store.ConsentPolicyVersion, error) {
	return scanConsentPolicy(db.pool.QueryRow(ctx, `SELECT `+consentPolicyColumns+` FROM consent_policy_versions ORDER BY version DESC LIMIT 1`))
}

// ConsentPolicyByVersion returns that consent policy version.
func (db *DB) ConsentPolicyByVersion(ctx context.Context, version int64) (store.ConsentPolicyVersion, error) {
	return scanConsentPolicy(db.pool.QueryRow(ctx, `SELECT `+consentPolicyColumns+` FROM consent_policy_versions WHERE version = $1`, version))
}

// ListConsentPolicyVersions returns every consent policy version, newest first.
func (db *DB) ListConsentPolicyVersions(ctx context.Context) ([]store.ConsentPolicyVersion, error) {
	return queryAll(ctx, db.pool, scanConsentPolicy, `SELECT `+consentPolicyColumns+` FROM consent_policy_versions ORDER BY version DESC`)
}
