package store

import "strings"

// IsActivityLog reports whether name is an activity log: "activity" on a
// single node, or one shard of it, "activity-N" with N a positive decimal
// number without leading zeros, when several nodes each append to their
// own. Everything that reads the activity log for people reads all of
// them as one. The spelling is strict so that one shard has one name: a
// reader that took "activity-01" for shard 1 would prove an event
// against the wrong log.
func IsActivityLog(name string) bool {
	if name == "activity" {
		return true
	}
	n, ok := strings.CutPrefix(name, "activity-")
	if !ok || n == "" || n[0] == '0' || len(n) > 19 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}
