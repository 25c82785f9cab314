package review

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// LogsFunc returns the logs the service reads and proves against, by
// name: the activity log's shards (store.IsActivityLog) and "oversight".
// It is called on every use, because shards appear while a server runs
// (each node that ingests appends to its own).
type LogsFunc func(ctx context.Context) (map[string]ProofLog, error)

// activityLogs returns the activity logs, sorted by name, with every
// log's ProofLog. A review reads them all as one log.
func (s *Service) activityLogs(ctx context.Context) ([]string, map[string]ProofLog, error) {
	all, err := s.proofLogs(ctx)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for name := range all {
		if store.IsActivityLog(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, nil, errors.New("no activity log is configured")
	}
	slices.Sort(names)
	return names, all, nil
}

// proofLogs returns every log the service knows.
func (s *Service) proofLogs(ctx context.Context) (map[string]ProofLog, error) {
	if s.Logs == nil {
		return nil, errors.New("no logs are configured")
	}
	all, err := s.Logs(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the logs: %w", err)
	}
	return maps.Clone(all), nil
}

// cursor is where a page ended: the last entry's (time, log, index), the
// order store.QueryEvents pages in.
type cursor struct {
	time  int64
	log   string
	index uint64
}

func cursorAfter(en store.Entry) *cursor { return &cursor{en.Time, en.Log, en.Index} }

// String formats c as TIME.LOG.INDEX: log names hold no dot.
func (c cursor) String() string {
	return strconv.FormatInt(c.time, 10) + "." + c.log + "." + strconv.FormatUint(c.index, 10)
}

// setAfter makes q continue after c.
func (c *cursor) setAfter(q *store.EventQuery) {
	if c != nil {
		q.HasAfter, q.AfterTime, q.AfterLog, q.AfterIndex = true, c.time, c.log, c.index
	}
}

// parseCursor reads a cursor String wrote. A cursor of the form before
// logs were sharded (TIME.INDEX) is refused like any malformed one: it
// cannot say which log its index is in, and the client starts again.
func parseCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 || !cursorLog(parts[1]) {
		return nil, errNotCursor
	}
	t, err1 := strconv.ParseInt(parts[0], 10, 64)
	i, err2 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, errNotCursor
	}
	return &cursor{t, parts[1], i}, nil
}

// errNotCursor refuses an after that is not a cursor of the query's
// logs: malformed, of the form before shards, or of a log the query does
// not read.
var errNotCursor = requests.FieldErrors{{Field: "after", Msg: "not a cursor this query returned"}}

// cursorLog accepts a log name as lbm spells one: 1 to 64 lower-case
// letters, digits and '-'. Whether the query reads that log is checked
// where the logs are known.
func cursorLog(name string) bool {
	ok := name != "" && len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	return ok
}

// ActivityLogs returns the names of the activity logs (the shards, or
// the one log of a single node), sorted: what a summary of a person's
// data sums over (internal/subjectaccess).
func (s *Service) ActivityLogs(ctx context.Context) ([]string, error) {
	logs, _, err := s.activityLogs(ctx)
	return logs, err
}
