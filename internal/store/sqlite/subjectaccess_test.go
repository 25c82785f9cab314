package sqlite

import (
	"slices"
	"strings"
	"testing"
)

// TestSubjectSummaryPlan: the summary of what the log holds about a person
// reads entries_subject_scan alone, never an entry's row.
func TestSubjectSummaryPlan(t *testing.T) {
	db := open(t, t.TempDir())
	plan := queryPlan(t, db, subjectSummaryQuery(2), []any{"alice", "activity-1", "activity-2"})
	if !slices.ContainsFunc(plan, func(d string) bool {
		return strings.HasPrefix(d, "SEARCH entries USING COVERING INDEX entries_subject_scan (subject=? AND log=?)")
	}) {
		t.Errorf("SubjectSummary's plan is not an index-only search of entries_subject_scan:\n%s", strings.Join(plan, "\n"))
	}
}
