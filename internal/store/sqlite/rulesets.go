package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.RuleSets = (*DB)(nil)

const ruleSetColumns = `version, rules, created, change_id, approved_by`

// addRuleSet is DecideChange's RuleSet effect: an INSERT that adds a row
// only when its version is one past the stored latest, inside the
// IMMEDIATE transaction, so two approvals never both add one version.
func addRuleSet(ctx context.Context, tx *sql.Tx, v *store.RuleSetVersion) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO rule_set_versions (`+ruleSetColumns+`)
		SELECT ?, ?, ?, ?, ?
		WHERE ? = (SELECT coalesce(max(version), 0) + 1 FROM rule_set_versions)`,
		v.Version, nullBytes(v.Rules), store.Nanos(v.Created), v.Change, v.By, v.Version)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("adding rule set version %d: not the one after the latest: %w", v.Version, store.ErrConflict)
	}
	return nil
}

func scanRuleSet(row scanner) (store.RuleSetVersion, error) {
	var v store.RuleSetVersion
	var created int64
	if err := row.Scan(&v.Version, &v.Rules, &created, &v.Change, &v.By); err != nil {
		return store.RuleSetVersion{}, translate(err)
	}
	v.Created = store.FromNanos(created)
	return v, nil
}

// CurrentRuleSet returns the latest rule set version.
func (db *DB) CurrentRuleSet(ctx context.Context) (store.RuleSetVersion, error) {
	return scanRuleSet(db.r.QueryRowContext(ctx, `SELECT `+ruleSetColumns+` FROM rule_set_versions ORDER BY version DESC LIMIT 1`))
}

// RuleSetByVersion returns that rule set version.
func (db *DB) RuleSetByVersion(ctx context.Context, version int64) (store.RuleSetVersion, error) {
	return scanRuleSet(db.r.QueryRowContext(ctx, `SELECT `+ruleSetColumns+` FROM rule_set_versions WHERE version = ?`, version))
}

// ListRuleSetVersions returns every rule set version, newest first.
func (db *DB) ListRuleSetVersions(ctx context.Context) ([]store.RuleSetVersion, error) {
	return queryAll(ctx, db.r, scanRuleSet, `SELECT `+ruleSetColumns+` FROM rule_set_versions ORDER BY version DESC`)
}
