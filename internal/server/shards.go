package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
	"github.com/lbm-project/lbm/internal/web"
)

// Sharding: several nodes serve one PostgreSQL store, each appending to a
// shard of the activity log of its own ("activity-N"), so that no two
// writers contend for one tree. Every shard has its own origin and key.
// The keys derive from one seed (DATA/keys/shards.seed) that every node of
// the service holds, so any node can sign a checkpoint of a shard whose
// node died: nothing acknowledged waits for that node to come back.
//
// The oversight log stays one log, its order total: each append takes the
// log's transaction lock and reads the tree inside it (internal/store).
// One node at a time, the leader, holds the "leader" lease and does what
// must be done once for the service: it signs the oversight log's
// checkpoints, signs the other shards' when they grow without their node,
// has the witnesses cosign every log, runs detection over every log, the
// deadline and leaver sweeps, retention and the relevant-error raise.
// When it dies, its lease ends with its connection, and another node
// takes over.

// ShardSeedFile, in DATA/keys, is the secret the shards' signing keys
// derive from. Every node of a sharded service needs the same one.
const ShardSeedFile = "shards.seed"

// Lease names.
const (
	leaderLease      = "leader"
	shardLeasePrefix = "shard/"
)

// shardName returns the log name of shard number i.
func shardName(i int) string { return Activity + "-" + strconv.Itoa(i) }

// shardNumber is store.ShardNumber: the number of the shard named name.
var shardNumber = store.ShardNumber

// ParseShard checks a --shard value: "auto", or a shard number.
func ParseShard(v string) error {
	if v == "" || v == "auto" {
		return nil
	}
	if _, ok := shardNumber(Activity + "-" + v); !ok {
		return fmt.Errorf("shard %q: want auto or a number from 1 to %d", v, store.MaxShard)
	}
	return nil
}

// shardClaimWait is how long a node asking for a given shard waits for
// the node that held it to be gone: a killed node's connection ends at
// once, one whose machine vanished within the keepalive (internal/store/
// postgres).
var shardClaimWait = 30 * time.Second

// claimShard takes the lease of the node's shard, registers it, and
// returns its name and key.
func (n *Node) claimShard(ctx context.Context, cfg Config, prefix, keyDir string) (string, *tlog.Signer, string, error) {
	if err := ParseShard(cfg.Shard); err != nil {
		return "", nil, "", err
	}
	leaser, ok := n.Store.(store.Leaser)
	if !ok {
		return "", nil, "", errors.New("sharding the activity log needs a PostgreSQL store (--db): a SQLite store serves one node")
	}
	// The oversight log first: its key names the service, and a node
	// holding another is refused before it claims anything.
	o := n.Logs[Oversight]
	err := n.Store.RegisterLog(ctx, store.RegisteredLog{Name: Oversight, Origin: o.Origin, VerifierKey: o.VerifierKey, Created: n.Now().UTC()})
	if errors.Is(err, store.ErrConflict) {
		return "", nil, "", fmt.Errorf("%s is not the key of the service's oversight log: copy it from a node of the service (%w)",
			filepath.Join(keyDir, Oversight+".key"), err)
	}
	if err != nil {
		return "", nil, "", err
	}
	registered, err := n.Store.RegisteredLogs(ctx)
	if err != nil {
		return "", nil, "", err
	}
	var shards []int
	for _, l := range registered {
		if i, ok := shardNumber(l.Name); ok {
			shards = append(shards, i)
		}
	}
	slices.Sort(shards)
	seed, err := loadShardSeed(filepath.Join(keyDir, ShardSeedFile), len(shards) > 0)
	if err != nil {
		return "", nil, "", err
	}
	// A node with another seed, or under another origin, would sign
	// shards no verifier of this service trusts: refuse it before it
	// writes anything.
	for _, l := range registered {
		if _, ok := shardNumber(l.Name); !ok {
			continue
		}
		_, vkey, err := tlog.DeriveKey(seed, l.Origin)
		if err != nil {
			return "", nil, "", err
		}
		if vkey != l.VerifierKey {
			return "", nil, "", fmt.Errorf("%s is not the seed the service's shards are signed with (%s has key %s): copy it from a node of the service",
				filepath.Join(keyDir, ShardSeedFile), l.Name, l.VerifierKey)
		}
		if l.Origin != prefix+"/"+l.Name {
			return "", nil, "", fmt.Errorf("%s's origin is %q, but this node's logs are under %q: give every node the same oversight key", l.Name, l.Origin, prefix)
		}
	}
	var candidates []int
	if cfg.Shard == "auto" {
		// Shards no live node holds first, then new ones: a node that
		// restarts takes a shard back rather than adding one.
		next := 1
		if len(shards) > 0 {
			next = shards[len(shards)-1] + 1
		}
		candidates = append(shards, next, next+1, next+2, next+3)
	} else {
		i, _ := strconv.Atoi(cfg.Shard)
		candidates = []int{i}
	}
	deadline := time.Now().Add(shardClaimWait)
	for {
		for _, i := range candidates {
			if i > store.MaxShard {
				continue
			}
			name := shardName(i)
			lease, err := leaser.TryLease(ctx, shardLeasePrefix+name)
			if errors.Is(err, store.ErrHeld) {
				continue
			}
			if err != nil {
				return "", nil, "", err
			}
			origin := prefix + "/" + name
			skey, vkey, err := tlog.DeriveKey(seed, origin)
			if err == nil {
				err = n.Store.RegisterLog(ctx, store.RegisteredLog{Name: name, Origin: origin, VerifierKey: vkey, Created: n.Now().UTC()})
			}
			var signer *tlog.Signer
			if err == nil {
				signer, err = tlog.NewSigner(skey)
			}
			if err != nil {
				lease.Release()
				return "", nil, "", fmt.Errorf("claiming shard %s: %w", name, err)
			}
			n.shardLease, n.shardSeed, n.originPref = lease, seed, prefix
			n.logger.Info("claimed a shard of the activity log", "log", name)
			return name, signer, vkey, nil
		}
		if cfg.Shard == "auto" {
			return "", nil, "", fmt.Errorf("every shard tried (%v) is held by another node", candidates)
		}
		if time.Now().After(deadline) {
			return "", nil, "", fmt.Errorf("shard %s is held by another node", cfg.Shard)
		}
		select {
		case <-ctx.Done():
			return "", nil, "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// loadShardSeed reads the seed at path. The first node of a service
// creates it; a later node without one is refused, because a seed of its
// own would sign shards with keys no one else holds.
func loadShardSeed(path string, serviceHasShards bool) ([]byte, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && serviceHasShards {
		return nil, fmt.Errorf("%s does not exist, and the service has shards: copy it from a node of the service", path)
	}
	return loadOrCreateSecret(path)
}

// VerifierKeyIn returns the verifier key of the named log from the keys
// in the data directory dataDir: the log's key file, or for a shard of
// the activity log, the key the shard seed derives under the oversight
// log's origin prefix.
func VerifierKeyIn(dataDir, log string) (string, error) {
	keyDir := filepath.Join(dataDir, "keys")
	b, err := os.ReadFile(filepath.Join(keyDir, log+".key"))
	if err == nil {
		return tlog.VerifierKey(string(b))
	}
	if _, isShard := shardNumber(log); !isShard || !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading the %s log's key: %w", log, err)
	}
	seed, err := os.ReadFile(filepath.Join(keyDir, ShardSeedFile))
	if err != nil {
		return "", fmt.Errorf("reading the shard seed for %s: %w", log, err)
	}
	b, err = os.ReadFile(filepath.Join(keyDir, Oversight+".key"))
	if err != nil {
		return "", fmt.Errorf("reading the oversight log's key, whose origin names %s's: %w", log, err)
	}
	s, err := tlog.NewSigner(string(b))
	if err != nil {
		return "", err
	}
	_, vkey, err := tlog.DeriveKey(seed, strings.TrimSuffix(s.Origin(), "/"+Oversight)+"/"+log)
	return vkey, err
}

// registerLogs records the node's own logs in the store, so that every
// node and verifier finds them, and refuses a node whose keys are not the
// ones the store's logs were registered with.
func (n *Node) registerLogs(ctx context.Context) error {
	for _, name := range n.logNames {
		l := n.Logs[name]
		err := n.Store.RegisterLog(ctx, store.RegisteredLog{Name: name, Origin: l.Origin, VerifierKey: l.VerifierKey, Created: n.Now().UTC()})
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: every node serving one store needs the same DATA/keys/%s.key (docs/deployment.md)", err, name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// AllLogs returns every log of the store: the node's own and those the
// registry knows (other nodes' shards), by name.
func (n *Node) AllLogs(ctx context.Context) ([]store.RegisteredLog, error) {
	registered, err := n.Store.RegisteredLogs(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range n.logNames {
		if !slices.ContainsFunc(registered, func(r store.RegisteredLog) bool { return r.Name == name }) {
			l := n.Logs[name]
			registered = append(registered, store.RegisteredLog{Name: name, Origin: l.Origin, VerifierKey: l.VerifierKey})
		}
	}
	slices.SortFunc(registered, func(a, b store.RegisteredLog) int { return strings.Compare(a.Name, b.Name) })
	return registered, nil
}

// otherLogsCache keeps the other nodes' logs for a moment: every tile
// request for another shard asks, and the registry changes only when a
// node claims a new shard.
type otherLogsCache struct {
	mu   sync.Mutex
	at   time.Time
	logs []store.RegisteredLog
}

// otherLogsTTL is how long a new shard may go unseen by another node.
const otherLogsTTL = 2 * time.Second

// OtherLogs returns the logs other nodes write: the activity log's other
// shards.
func (n *Node) OtherLogs(ctx context.Context) ([]store.RegisteredLog, error) {
	c := &n.others
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < otherLogsTTL {
		return c.logs, nil
	}
	all, err := n.AllLogs(ctx)
	if err != nil {
		return nil, err
	}
	c.logs = slices.DeleteFunc(all, func(l store.RegisteredLog) bool { return n.Logs[l.Name] != nil })
	c.at = time.Now()
	return c.logs, nil
}

// shardPublisher returns a publisher of another node's shard l, signing
// with the key the seed derives; nil when l is not a shard of this
// service that the node holds the seed of.
func (n *Node) shardPublisher(l store.RegisteredLog) (*tlog.Publisher, error) {
	if _, ok := shardNumber(l.Name); !ok || n.shardSeed == nil || l.Origin != n.originPref+"/"+l.Name {
		return nil, nil
	}
	skey, vkey, err := tlog.DeriveKey(n.shardSeed, l.Origin)
	if err != nil {
		return nil, err
	}
	if vkey != l.VerifierKey {
		return nil, fmt.Errorf("%s: the seed does not derive its registered key", l.Name)
	}
	signer, err := tlog.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	return &tlog.Publisher{Log: l.Name, Signer: signer, Store: n.Store, Now: n.Now}, nil
}

// proofLogs returns every log of the store as review proves against it:
// the node's own, and the other nodes' shards, whose checkpoints the
// node signs too when it holds the seed (racing harmlessly with their
// own nodes), and otherwise only reads.
func (n *Node) proofLogs(ctx context.Context) (map[string]review.ProofLog, error) {
	out := make(map[string]review.ProofLog, len(n.Logs))
	for name, l := range n.Logs {
		out[name] = review.ProofLog{Origin: l.Origin, VerifierKey: l.VerifierKey, Publish: l.Publisher.Publish}
	}
	others, err := n.OtherLogs(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range others {
		vkey, problems, _ := n.verifierKey(l)
		if len(problems) > 0 {
			return nil, errors.New(strings.Join(problems, "; "))
		}
		publish := func(ctx context.Context) (store.Checkpoint, error) { return n.Store.LatestCheckpoint(ctx, l.Name) }
		p, err := n.shardPublisher(l)
		if err != nil {
			return nil, err
		}
		if p != nil {
			publish = p.Publish
		}
		out[l.Name] = review.ProofLog{Origin: l.Origin, VerifierKey: vkey, Publish: publish}
	}
	return out, nil
}

// activityLogs names the activity log's shards of the store, sorted: the
// node's own and the others (OtherLogs, so read at most every couple of
// seconds), for detection and retention.
func (n *Node) activityLogs(ctx context.Context) ([]string, error) {
	others, err := n.OtherLogs(ctx)
	if err != nil {
		return nil, err
	}
	names := []string{n.ActivityLog}
	for _, l := range others {
		if store.IsActivityLog(l.Name) {
			names = append(names, l.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// storedElsewhere finds the events of source whose event.id is among ids
// in the other shards of the activity log: a source whose node died
// resends to another node what the dead one may have stored, and each
// event is then stored once. It reads what the other shards have
// committed: a resend racing the first copy's commit on a live node can
// still be stored twice (docs/deployment.md).
func (n *Node) storedElsewhere(ctx context.Context, source string, ids []string) (map[string]store.Entry, error) {
	others, err := n.OtherLogs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]store.Entry{}
	for _, l := range others {
		if !store.IsActivityLog(l.Name) || len(ids) == 0 {
			continue
		}
		found, err := n.Store.EntriesByClientID(ctx, l.Name, source, ids)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.Name, err)
		}
		maps.Copy(out, found)
		ids = slices.DeleteFunc(ids, func(id string) bool { _, ok := found[id]; return ok })
	}
	return out, nil
}

// otherWebLogs is OtherLogs as the web layer takes them.
func (n *Node) otherWebLogs(ctx context.Context) ([]web.Log, error) {
	others, err := n.OtherLogs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.Log, 0, len(others))
	for _, l := range others {
		out = append(out, web.Log{Name: l.Name, Origin: l.Origin, VerifierKey: l.VerifierKey})
	}
	return out, nil
}

// publishOtherShards signs a checkpoint of each other shard that has
// grown, so that what a dead node acknowledged is published without it.
// Publishing races harmlessly with the shard's own node, if it lives: of
// two checkpoints of one size the first stored stands.
func (n *Node) publishOtherShards(ctx context.Context) error {
	if n.shardSeed == nil {
		return nil
	}
	others, err := n.OtherLogs(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range others {
		p, err := n.shardPublisher(l)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p == nil {
			continue
		}
		if _, err := p.Publish(ctx); err != nil {
			errs = append(errs, fmt.Errorf("publishing %s: %w", l.Name, err))
		}
	}
	return errors.Join(errs...)
}
