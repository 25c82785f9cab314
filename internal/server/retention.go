package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/retention"
)

// RetentionEvery is how often Serve runs retention; RetentionFirst is how
// long after start it first does, so that a restart loop never becomes a
// deletion loop and a short-lived test server never deletes.
const (
	RetentionEvery = 24 * time.Hour
	RetentionFirst = 10 * time.Minute
)

// newRetention returns the node's retention job over the activity log,
// recording in the node's oversight log.
func newRetention(n *Node) *retention.Job {
	return &retention.Job{
		Store: n.Store,
		Ring:  n.Ring,
		Record: func(ctx context.Context, actor, action string, details map[string]any) (uint64, error) {
			return n.Oversight(ctx, actor, action, details, false)
		},
		Schedule: func(ctx context.Context) (retention.Schedule, error) {
			c, v, err := identity.CurrentCatalogue(ctx, n.Store)
			if err != nil {
				return retention.Schedule{}, err
			}
			return retention.Schedule{Version: v, Categories: c.Categories}, nil
		},
		DPOHolds: func(ctx context.Context) ([]string, error) {
			hs, err := n.Store.ListHolds(ctx, false)
			people := make([]string, len(hs))
			for i, h := range hs {
				people[i] = h.Person
			}
			return people, err
		},
		Now: n.Now,
		// Every activity log the node knows: the shards, when sharded.
		Logs: n.activityLogs,
	}
}

// runRetention runs the node's retention job first after RetentionFirst
// and then every interval until ctx ends, logging what each run did (counts
// only) and any failure, which the next run resumes from.
func runRetention(ctx context.Context, n *Node, interval time.Duration, logger *slog.Logger) {
	t := time.NewTimer(RetentionFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := n.Retention.Run(ctx)
		deleted, kept := rep.Totals()
		if err != nil {
			if ctx.Err() == nil {
				logger.Error("retention", "err", err, "deleted", deleted, "kept", kept, "keys_destroyed", rep.KeysDestroyed)
			}
		} else {
			logger.Info("retention", "schedule", rep.Schedule, "deleted", deleted, "kept", kept, "keys_destroyed", rep.KeysDestroyed)
		}
		t.Reset(interval)
	}
}
