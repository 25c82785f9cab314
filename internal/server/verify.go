package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
	logs, err := n.AllLogs(ctx)
	if err != nil {
		return out, err
	}
	for _, l := range logs {
		name := l.Name
		vkey, keyProblems, registered := n.verifierKey(l)
		if registered {
			n.logger.Warn("checking a log under the key the store registers: this node holds no key of its own for it", "log", l.Name)
		}
		stamps := retention.Tally{}
		problems, err := tlog.CheckLog(ctx, tlog.CheckConfig{
			Store: n.Store, Log: name, VerifierKey: vkey,
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
		out[name] = append(append(keyProblems, problems...), deletions.CheckCounts(stamps)...)
	}
	return out, nil
}

// verifierKey returns the key to check l's checkpoints with. The store's
// registry is what is being verified, so it is not trusted for a key the
// node holds itself: its own logs' key files, and the shards' keys
// derived from DATA/keys/shards.seed. Only a log the node has no key for
// is checked under its registered key (registered true).
func (n *Node) verifierKey(l store.RegisteredLog) (key string, problems []string, registered bool) {
	if own, ok := n.Logs[l.Name]; ok {
		if l.VerifierKey != "" && l.VerifierKey != own.VerifierKey {
			return own.VerifierKey, []string{fmt.Sprintf("%s: the store registers key %s, but this node's key is %s", l.Name, l.VerifierKey, own.VerifierKey)}, false
		}
		return own.VerifierKey, nil, false
	}
	seed := n.shardSeed
	if seed == nil {
		seed, _ = os.ReadFile(filepath.Join(n.dataDir, "keys", ShardSeedFile))
	}
	if _, isShard := shardNumber(l.Name); isShard && len(seed) == 32 {
		_, vkey, err := tlog.DeriveKey(seed, l.Origin)
		if err == nil && vkey != l.VerifierKey {
			return vkey, []string{fmt.Sprintf("%s: the store registers key %s, but DATA/keys/%s derives %s", l.Name, l.VerifierKey, ShardSeedFile, vkey)}, false
		}
		if err == nil {
			return vkey, nil, false
		}
	}
	return l.VerifierKey, nil, true
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
