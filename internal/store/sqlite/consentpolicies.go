package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.ConsentPolicies = (*DB)(nil)

const consentPolicyColumns = `version, policy, created, change_id, approved_by`

// addConsentPolicy is DecideChange's ConsentPolicy effect: an INSERT that
// adds a row only when its version is one past the stored latest, inside
// the IMMEDIATE transaction, so two approvals never both add one version.
func addConsentPolicy(ctx context.Context, tx *sql.Tx, v *store.ConsentPolicyVersion) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO consent_policy_versions (`+consentPolicyColumns+`)
		SELECT ?, ?, ?, ?, ?
		WHERE ? = (SELECT coalesce(max(version), 0) + 1 FROM consent_policy_versions)`,
		v.Version, nullBytes(v.Policy), store.Nanos(v.Created), v.Change, v.By, v.Version)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("adding consent policy version %d: not the one after the latest: %w", v.Version, store.ErrConflict)
	}
	return nil
}

func scanConsentPolicy(row scanner) (store.ConsentPolicyVersion, error) {
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
	return scanConsentPolicy(db.r.QueryRowContext(ctx, `SELECT `+consentPolicyColumns+` FROM consent_policy_versions ORDER BY version DESC LIMIT 1`))
}

// ConsentPolicyByVersion returns that consent policy version.
func (db *DB) ConsentPolicyByVersion(ctx context.Context, version int64) (store.ConsentPolicyVersion, error) {
	return scanConsentPolicy(db.r.QueryRowContext(ctx, `SELECT `+consentPolicyColumns+` FROM consent_policy_versions WHERE version = ?`, version))
}

// ListConsentPolicyVersions returns every consent policy version, newest first.
func (db *DB) ListConsentPolicyVersions(ctx context.Context) ([]store.ConsentPolicyVersion, error) {
	return queryAll(ctx, db.r, scanConsentPolicy, `SELECT `+consentPolicyColumns+` FROM consent_policy_versions ORDER BY version DESC`)
}
