package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store/postgres/pgtest"
)

func TestShardNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    int
		ok   bool
	}{
		{"activity-1", 1, true},
		{"activity-42", 42, true},
		{"activity-9999", 9999, true},
		{"activity", 0, false},
		{"activity-", 0, false},
		{"activity-0", 0, false},
		{"activity-01", 0, false},
		{"activity-10000", 0, false},
		{"activity--1", 0, false},
		{"activity-+1", 0, false},
		{"activity-1x", 0, false},
		{"oversight", 0, false},
		{"Activity-1", 0, false},
	} {
		n, ok := shardNumber(tt.name)
		if n != tt.n || ok != tt.ok {
			t.Errorf("shardNumber(%q) = %d, %v; want %d, %v", tt.name, n, ok, tt.n, tt.ok)
		}
		if ok && shardName(n) != tt.name {
			t.Errorf("shardName(%d) = %q, want %q", n, shardName(n), tt.name)
		}
	}
	for _, tt := range []struct {
		v  string
		ok bool
	}{
		{"", true}, {"auto", true}, {"1", true}, {"9999", true},
		{"0", false}, {"01", false}, {"10000", false}, {"-1", false}, {"AUTO", false}, {"activity-1", false}, {" 1", false},
	} {
		if err := ParseShard(tt.v); (err == nil) != tt.ok {
			t.Errorf("ParseShard(%q) = %v, want ok %v", tt.v, err, tt.ok)
		}
	}
}

// A node that would sign shards with keys the service does not hold is
// refused before it writes anything, and a shard held by a live node is
// not taken from it.
func TestShardClaimRefusals(t *testing.T) {
	dsn, keysDSN := pgtest.Databases(t)
	ctx := t.Context()
	first := t.TempDir()
	n1, err := Open(ctx, Config{DataDir: first, DB: dsn, KeysDB: keysDSN, Shard: "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer n1.Close()
	if n1.ActivityLog != "activity-1" {
		t.Fatalf("the first node appends to %q, want activity-1", n1.ActivityLog)
	}
	// nodeWith returns a data directory holding the first node's keys,
	// changed by edit.
	nodeWith := func(edit func(keys string)) string {
		dir := t.TempDir()
		if err := os.CopyFS(filepath.Join(dir, "keys"), os.DirFS(filepath.Join(first, "keys"))); err != nil {
			t.Fatal(err)
		}
		edit(filepath.Join(dir, "keys"))
		return dir
	}
	short := shardClaimWait
	shardClaimWait = 300 * time.Millisecond
	defer func() { shardClaimWait = short }()
	for _, tt := range []struct {
		name  string
		dir   string
		shard string
		want  string
	}{
		{"no seed", nodeWith(func(keys string) { os.Remove(filepath.Join(keys, ShardSeedFile)) }), "2",
			"shards.seed does not exist, and the service has shards"},
		{"another seed", nodeWith(func(keys string) {
			os.WriteFile(filepath.Join(keys, ShardSeedFile), bytes.Repeat([]byte{9}, 32), 0o600)
		}), "2", "is not the seed the service's shards are signed with"},
		{"a shard a live node holds", nodeWith(func(string) {}), "1", "shard 1 is held by another node"},
		{"not a shard", nodeWith(func(string) {}), "0", "want auto or a number"},
	} {
		n, err := Open(ctx, Config{DataDir: tt.dir, DB: dsn, KeysDB: keysDSN, Shard: tt.shard})
		if err == nil {
			n.Close()
			t.Errorf("%s: the node opened", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want it to say %q", tt.name, err, tt.want)
		}
	}
	logs, err := n1.Store.RegisteredLogs(ctx)
	if err != nil || len(logs) != 2 || logs[0].Name != "activity-1" || logs[1].Name != Oversight {
		t.Fatalf("registered after the refusals: %v, %v; want activity-1 and oversight alone", logs, err)
	}

	// auto takes a new shard while 1 is held, and shard 1 once its node
	// is gone.
	n2, err := Open(ctx, Config{DataDir: nodeWith(func(string) {}), DB: dsn, KeysDB: keysDSN, Shard: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	if n2.ActivityLog != "activity-2" {
		t.Errorf("auto beside a live shard 1 took %q, want activity-2", n2.ActivityLog)
	}
	n1.Close()
	n3, err := Open(ctx, Config{DataDir: nodeWith(func(string) {}), DB: dsn, KeysDB: keysDSN, Shard: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	if n3.ActivityLog != "activity-1" {
		t.Errorf("auto with shard 1 free took %q, want activity-1", n3.ActivityLog)
	}
	n3.Close()
	n2.Close()

	// Another oversight key is refused before the node claims a shard.
	other := nodeWith(func(keys string) { os.Remove(filepath.Join(keys, "oversight.key")) })
	if n4, err := Open(ctx, Config{DataDir: other, DB: dsn, KeysDB: keysDSN, Shard: "auto"}); err == nil {
		n4.Close()
		t.Error("a node with another oversight key opened")
	} else if !strings.Contains(err.Error(), "oversight.key is not the key of the service's oversight log") {
		t.Errorf("a node with another oversight key: %v, want a refusal naming oversight.key", err)
	}
}
