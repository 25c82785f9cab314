package server

import (
	"context"

	"github.com/lbm-project/lbm/internal/retention"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// VerifyStore re-checks every log of the node: every entry's commitments
// (decrypting content whose key exists), every tile, the tree state and
// every checkpoint. Every deletion stamped on an entry must be one the
// oversight log recorded retention making. It returns the problems found,
// by log.
func VerifyStore(ctx context.Context, n *Node, progress func(log string, done, total uint64)) (map[string][]string, error) {
	out := map[string][]string{}
	deletions, err := retentionDeletions(ctx, n)
	if err != nil {
		return out, err
	}
	for _, name := range LogNames {
		stamps := retention.Tally{}
		problems, err := tlog.CheckLog(ctx, tlog.CheckConfig{
			Store: n.Store, Log: name, VerifierKey: n.Logs[name].VerifierKey,
			CheckEntry: func(ctx context.Context, e store.Entry) error {
				if err := n.Opener.Check(ctx, e); err != nil {
					return err
				}
				stamps.Add(e)
				return deletions.Check(e)
			},
			Progress: func(done, total uint64) {
				if progress != nil {
					progress(name, done, total)
				}
			},
		})
		if err != nil {
			return out, err
		}
		out[name] = append(problems, deletions.CheckCounts(stamps)...)
	}
	return out, nil
}

// retentionDeletions reads the retention_deleted records of the oversight
// log, each checked against its leaf and tile as it is read.
func retentionDeletions(ctx context.Context, n *Node) (retention.Deletions, error) {
	st, err := n.Store.LogState(ctx, Oversight)
	if err != nil {
		return nil, err
	}
	var out retention.Deletions
	const page = 10000
	for from := uint64(0); from < st.Size; from += page {
		ens, err := n.Store.Entries(ctx, Oversight, from, min(from+page, st.Size))
		if err != nil {
			return nil, err
		}
		op, err := n.Opener.Batch(ctx, ens)
		if err != nil {
			op = n.Opener // a tile is missing: open each against the tree
		}
		for _, en := range ens {
			o, err := op.OpenMetadata(ctx, en)
			if err != nil {
				// Not a record to trust; the oversight log's own check
				// reports it.
				continue
			}
			if d, ok := retention.DeletionOf(o.Event); ok {
				out = append(out, d)
			}
		}
	}
	return out, nil
}
