package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.RuleSets = (*DB)(nil)

const ruleSetColumns = `version, rules, created, change_id, approved_by`

// addRuleSet is DecideChange's RuleSet effect: an INSERT that adds a row
// only when its version is one past the latest it sees. As for the
// consent policy, two approvals adding one version at once both see the
// same latest; the second's insert then waits on the first's row, and ON
// CONFLICT turns it into no row, which is ErrConflict, rather than a
// unique violation.
func addRuleSet(ctx context.Context, tx pgx.Tx, v *store.RuleSetVersion) error {
	tag, err := tx.Exec(ctx, `INSERT INTO rule_set_versions (`+ruleSetColumns+`)
		SELECT $1::bigint, $2::bytea, $3::bigint, $4::text, $5::text
		WHERE $1 = (SELECT coalesce(max(version), 0) + 1 FROM rule_set_versions)
		ON CONFLICT (version) DO NOTHING`,
		v.Version, nullBytes(v.Rules), store.Nanos(v.Created), v.Change, v.By)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("adding rule set version %d: not the one after the latest: %w", v.Version, store.ErrConflict)
	}
	return nil
}

func scanRuleSet(row pgx.Row) (store.RuleSetVersion, error) {
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
	return scanRuleSet(db.pool.QueryRow(ctx, `SELECT `+ruleSetColumns+` FROM rule_set_versions ORDER BY version DESC LIMIT 1`))
}

// RuleSetByVersion returns that rule set version.
func (db *DB) RuleSetByVersion(ctx context.Context, version int64) (store.RuleSetVersion, error) {
	return scanRuleSet(db.pool.QueryRow(ctx, `SELECT `+ruleSetColumns+` FROM rule_set_versions WHERE version = $1`, version))
}

// ListRuleSetVersions returns every rule set version, newest first.
func (db *DB) ListRuleSetVersions(ctx context.Context) ([]store.RuleSetVersion, error) {
	return queryAll(ctx, db.pool, scanRuleSet, `SELECT `+ruleSetColumns+` FROM rule_set_versions ORDER BY version DESC`)
}
