package store

import (
	"strconv"
	"strings"
)

// MaxShard bounds the activity log's shard numbers, so that a typing
// mistake does not make shard 4000000000.
const MaxShard = 9999

// IsActivityLog reports whether name is an activity log: "activity" on a
// single node, or one shard of it, "activity-N" (ShardNumber), when
// several nodes each append to their own. Everything that reads the
// activity log for people reads all of them as one.
func IsActivityLog(name string) bool {
	_, shard := ShardNumber(name)
	return name == "activity" || shard
}

// ShardNumber returns N of the activity log's shard "activity-N", N from
// 1 to MaxShard in decimal without leading zeros; false for any other
// name, "activity" itself among them. The spelling is strict so that one
// shard has one name: a reader that took "activity-01" for shard 1 would
// prove an event against the wrong log.
func ShardNumber(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "activity-")
	if !ok || s == "" || s[0] == '0' || len(s) > 4 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
