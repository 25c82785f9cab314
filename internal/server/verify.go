package server

import (
	"context"

	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// VerifyStore re-checks every log of the node: every entry's commitments
// (decrypting content whose key exists), every tile, the tree state and
// every checkpoint. It returns the problems found, by log.
func VerifyStore(ctx context.Context, n *Node, progress func(log string, done, total uint64)) (map[string][]string, error) {
	out := map[string][]string{}
	for _, name := range LogNames {
		problems, err := tlog.CheckLog(ctx, tlog.CheckConfig{
			Store: n.Store, Log: name, VerifierKey: n.Logs[name].VerifierKey,
			CheckEntry: func(ctx context.Context, e store.Entry) error { return n.Opener.Check(ctx, e) },
			Progress: func(done, total uint64) {
				if progress != nil {
					progress(name, done, total)
				}
			},
		})
		if err != nil {
			return out, err
		}
		out[name] = problems
	}
	return out, nil
}
