// Package server assembles lbm from its parts: it opens a data directory
// (store, keys, logs) as a [Node], and serves a node over HTTP. The CLI's
// offline commands (`lbm source add --data`) open a Node too, so the server
// and the CLI share one way of reaching the data.
//
// # Data directory
//
//	DATA/lbm.db, DATA/keys.db   the SQLite store (internal/store/sqlite),
//	                            unless Config.DB names a PostgreSQL store
//	DATA/keys/activity.key      note signing key of the activity log (0600)
//	DATA/keys/oversight.key     note signing key of the oversight log (0600)
//	DATA/keys/kek               key-encryption key (0600), unless LBM_KEK is set
//	DATA/keys/keks/             KEKs made by `lbm keys rotate-kek` (docs/keys.md)
//	DATA/keys/pseudonyms        the secret review pseudonyms are keyed from (0600);
//	                            every node serving one store needs the same
//	DATA/admin.token            the first admin token (0600)
//	DATA/lbm.lock               held by `lbm serve` and `lbm keys rotate-kek`
//	DATA/witnesses.yaml         optional: the witnesses that cosign the
//	                            checkpoints, and the policy (internal/witness)
//
// Keeping the KEK beside the data is for a pilot. A deployment sets LBM_KEK
// from its secret store (or plugs a KMS into internal/keys), so that a copy
// of the data directory alone never decrypts content.
package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lbm-project/lbm/internal/alerts"
	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/pipeline"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/notify"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/relevanterror"
	"github.com/lbm-project/lbm/internal/retention"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/engine"
	"github.com/lbm-project/lbm/internal/tlog"
	"github.com/lbm-project/lbm/internal/witness"
)

// Log names.
const (
	Activity  = "activity"
	Oversight = "oversight"
)

// LogNames lists the logs every node keeps.
var LogNames = []string{Activity, Oversight}

// OversightSource is the source id of lbm's own oversight events.
const OversightSource = "lbm"

// Config configures a Node. Zero values are the documented defaults.
type Config struct {
	// DataDir holds the keys, the admin token and, unless DB is set, the
	// SQLite store. Required.
	DataDir string
	// DB is a postgres:// URL: the store is then PostgreSQL, not SQLite.
	DB string
	// KeysDB is the PostgreSQL keys database (see engine.Config.KeysDB).
	KeysDB string
	// OriginPrefix names the logs: origins are OriginPrefix+"/activity" and
	// OriginPrefix+"/oversight". Default "lbm.local". Fixed at first start:
	// when set, it must match the keys already in DataDir.
	OriginPrefix string
	// KEK is the key-encryption key in text form (LBM_KEK); when empty the
	// KEK files in DATA/keys are used (internal/keys), and DATA/keys/kek
	// created on first start.
	KEK string
	// KEKOld is, during a rotation of a KEK kept in LBM_KEK, the KEK being
	// replaced (LBM_KEK_OLD): it unwraps what KEK does not yet.
	KEKOld string
	// Ingest tunes the log writers; Log, Store and Sealer are set by Open.
	Ingest   ingest.Config
	Observer ingest.Observer
	// Shard, when set, has the node append to a shard of the activity
	// log of its own, among the nodes sharing one PostgreSQL store:
	// "auto" claims a shard no live node holds (a new one when all are
	// held), a number claims that shard, waiting for a node that held it
	// to be gone (shards.go). Empty: the one activity log.
	Shard string
	// MustExist refuses a data directory that holds no store yet, for
	// commands that only read (verify) and must not create one by mistake.
	MustExist bool
	Logger    *slog.Logger
	Now       func() time.Time

	// National opens the national oversight node of a service of several
	// organisations (tenants.go): a new data directory is marked as its,
	// and an organisation's is refused.
	National bool
}

// Node is an opened data directory.
type Node struct {
	Store store.Store
	Ring  *keys.Ring
	// KEK wraps data keys and second-factor secrets: the current KEK,
	// able to unwrap under the older ones a rotation has not finished with.
	KEK    *keys.KEKRing
	Opener *record.Opener
	Logs   map[string]*Log
	// ActivityLog names the log the node appends monitored activity to:
	// "activity", or its shard, "activity-N".
	ActivityLog    string
	AdminTokenPath string
	// StoreName says which store the node opened, for people (no secrets).
	StoreName string
	// Created reports that this Open created the data directory's store.
	Created bool
	Now     func() time.Time
	// Requests runs the request flow: the web's transitions and the
	// deadline sweeper share it, so that this process's transitions of
	// one request never race.
	Requests *authorise.Service
	// Review runs scoped queries under authorisations in force.
	Review *review.Service
	// Alerts is the detection alert queue; Detectors raise its alerts,
	// one per log, run by Serve.
	Alerts    *alerts.Service
	Detectors []*alerts.Detector
	// RelevantErrors is the register of relevant errors (LEGAL.md §4).
	RelevantErrors *relevanterror.Service
	// Witnesses has witnesses cosign the checkpoints; nil when
	// DATA/witnesses.yaml does not exist.
	Witnesses *witness.Service
	// Retention deletes what its schedule lets go; Serve runs it daily,
	// lbm retention run on demand.
	Retention *retention.Job
	// National reports that the data directory is the national
	// oversight node's (DATA/national exists): its directory holds
	// national_oversight staff alone, and it serves only national routes.
	National bool
	// Capture maps what sources send in other systems' formats (syslog,
	// e-mail, _bulk, OTLP) and appends it to the activity log.
	Capture    capture.Sink
	capture    *pipeline.Pipeline
	captureErr error
	logger     *slog.Logger
	dataDir    string
	// logNames are the node's own logs, in Logs: the oversight log and
	// the activity log or the node's shard of it.
	logNames []string
	// Sharding (shards.go): the lease on the node's shard, and the seed
	// every shard's signing key derives from; nil when not sharded.
	shardLease store.Lease
	shardSeed  []byte
	originPref string
	others     otherLogsCache
	leading    atomic.Bool
}

// Log is one of the node's logs.
type Log struct {
	Name        string
	Origin      string
	VerifierKey string
	Writer      *ingest.Writer
	Publisher   *tlog.Publisher
}

// Open opens (creating on first use) the data directory.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("no data directory given")
	}
	strictOrigin := cfg.OriginPrefix != ""
	if cfg.OriginPrefix == "" {
		cfg.OriginPrefix = "lbm.local"
	}
	if cfg.Now == nil {
		cfg.Now = systemClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, fresh, err := engine.Open(ctx, engine.Config{DataDir: cfg.DataDir, DB: cfg.DB, KeysDB: cfg.KeysDB, MustExist: cfg.MustExist})
	if err != nil {
		return nil, err
	}
	keyDir := filepath.Join(cfg.DataDir, "keys")
	if cfg.MustExist {
		_, err = os.Stat(keyDir)
	} else {
		err = os.MkdirAll(keyDir, 0o700)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("the data directory's keys: %w", err)
	}
	national, err := markNational(cfg, fresh)
	if err != nil {
		st.Close()
		return nil, err
	}
	kek, err := loadKEKs(cfg, fresh)
	if err != nil {
		st.Close()
		return nil, err
	}
	n := &Node{Store: st, Logs: map[string]*Log{}, Now: cfg.Now, logger: cfg.Logger, dataDir: cfg.DataDir,
		StoreName: engine.Describe(engine.Config{DataDir: cfg.DataDir, DB: cfg.DB, KeysDB: cfg.KeysDB})}
	n.KEK, n.National = kek, national
	n.Ring = keys.NewRing(kek, st, cfg.Now)
	n.Opener = &record.Opener{Ring: n.Ring, Store: st}
	// The oversight log first: a sharded node names its shard under the
	// oversight log's origin prefix, which the service fixed at its first
	// start.
	for _, name := range []string{Oversight, Activity} {
		var signer *tlog.Signer
		var vkey string
		var err error
		switch {
		case name == Activity && cfg.Shard != "":
			prefix := strings.TrimSuffix(n.Logs[Oversight].Origin, "/"+Oversight)
			name, signer, vkey, err = n.claimShard(ctx, cfg, prefix, keyDir)
		default:
			origin := cfg.OriginPrefix + "/" + name
			signer, vkey, err = tlog.LoadOrCreateKey(filepath.Join(keyDir, name+".key"), origin, strictOrigin)
		}
		if err != nil {
			n.Close()
			return nil, err
		}
		if err := n.openLog(cfg, name, signer, vkey); err != nil {
			n.Close()
			return nil, err
		}
	}
	n.Requests = &authorise.Service{Store: st, Now: cfg.Now, Logger: cfg.Logger,
		Policy: authorise.PolicyInForce(st),
		Record: func(ctx context.Context, actor, action string, details map[string]any) (uint64, error) {
			return n.Oversight(ctx, actor, action, details, false)
		}}
	// In-app only: Serve replaces it with one that may also e-mail.
	n.Requests.Notify = notifyRequests(&notify.Notifier{Store: st, Now: cfg.Now}, cfg.Logger)
	secret, err := loadOrCreateSecret(filepath.Join(keyDir, "pseudonyms"))
	if err != nil {
		n.Close()
		return nil, err
	}
	n.Review = &review.Service{Store: st, Opener: n.Opener, Ring: n.Ring, Requests: n.Requests, Now: cfg.Now, Secret: secret,
		Record: n.OversightAccess, Logs: n.proofLogs}
	if n.Review.Confidential, err = loadConfidential(filepath.Join(cfg.DataDir, ConfidentialFile)); err != nil {
		n.Close()
		return nil, err
	}
	n.Alerts = &alerts.Service{Store: st, Requests: n.Requests, Record: n.OversightAccess, Now: cfg.Now}
	if n.RelevantErrors, err = openRelevantErrors(n, cfg.DataDir); err != nil {
		n.Close()
		return nil, err
	}
	n.Retention = newRetention(n)
	// A bad mapping file stops Serve, not the offline commands, which
	// capture nothing.
	if n.capture, n.captureErr = openCapture(ctx, n, cfg.DataDir); n.captureErr == nil {
		n.Capture = n.capture
	}
	if err := n.openDetectors(cfg, secret); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.openWitnesses(ctx, cfg); err != nil {
		n.Close()
		return nil, err
	}
	n.AdminTokenPath = filepath.Join(cfg.DataDir, "admin.token")
	n.Created = fresh
	if fresh {
		// Only the first start mints the admin token: a later Open never
		// leaves a new credential behind, even if the file was removed.
		if err := writeAdminToken(ctx, st, n.AdminTokenPath, cfg.Now()); err != nil {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

// openLog opens the writer and publisher of one of the node's own logs.
func (n *Node) openLog(cfg Config, name string, signer *tlog.Signer, vkey string) error {
	wc := cfg.Ingest
	wc.Log, wc.Store, wc.Logger, wc.Observer = name, n.Store, cfg.Logger, cfg.Observer
	// Someone waits on every oversight record, and they come one by
	// one: waiting for a batch would only add to each wait.
	wc.NoDelay = name == Oversight
	wc.Sealer = &record.Sealer{Log: name, Ring: n.Ring}
	if name != Oversight && cfg.Shard != "" {
		wc.Elsewhere = n.storedElsewhere
	}
	w, err := ingest.NewWriter(wc)
	if err != nil {
		return err
	}
	n.Logs[name] = &Log{
		Name: name, Origin: signer.Origin(), VerifierKey: vkey, Writer: w,
		Publisher: &tlog.Publisher{Log: name, Signer: signer, Store: n.Store, Now: cfg.Now},
	}
	if name != Oversight {
		n.ActivityLog = name
	}
	n.logNames = append(n.logNames, name)
	return nil
}

// ConfidentialFile, in the data directory, configures the confidential
// channels and markers (internal/confidential) whose material is held
// back from investigators until a legal adviser releases it.
const ConfidentialFile = "confidential.yaml"

// loadConfidential reads the confidential channels at path; none when
// the file does not exist.
func loadConfidential(path string) (*confidential.Matcher, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := confidential.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Close stops the writers (committing what they hold) and closes the store.
func (n *Node) Close() error {
	var errs []error
	for _, l := range n.Logs {
		errs = append(errs, l.Writer.Close())
	}
	if n.shardLease != nil {
		n.shardLease.Release()
	}
	errs = append(errs, n.Store.Close())
	return errors.Join(errs...)
}

// loadOrCreateSecret reads the 32-byte secret at path, creating it (0600)
// when absent.
func loadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("%s: %d bytes, want 32", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return b, f.Close()
}

// writeAdminToken mints the first admin token. The token is written only
// to path (0600); its hash goes to the store.
func writeAdminToken(ctx context.Context, st store.Principals, path string, now time.Time) error {
	token, hash := identity.NewToken()
	if err := st.AddToken(ctx, store.Token{Hash: hash, Kind: identity.KindAdmin, Subject: "admin", Created: now}); err != nil {
		return fmt.Errorf("storing admin token: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing admin token: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("writing admin token: %w", err)
	}
	return f.Close()
}

// PublishAll publishes a checkpoint of each of the node's own logs that
// has grown.
func (n *Node) PublishAll(ctx context.Context) error {
	var errs []error
	for _, name := range n.logNames {
		if _, err := n.Logs[name].Publisher.Publish(ctx); err != nil {
			errs = append(errs, fmt.Errorf("publishing %s checkpoint: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Oversight records one action of the monitors in the oversight log, and
// returns the leaf's index once it is durable. actor is who did it; breakGlass marks a change
// made offline through the CLI on the data directory, which oversight must
// be able to pick out.
// OversightAccess writes an access record or refused attempt: details
// as metadata, private as content fields (content.KEY), encrypted under
// the actor's data key and committed in the leaf like any content, so
// that the oversight log's readers do not see whom a query named.
func (n *Node) OversightAccess(ctx context.Context, actor, action string, details map[string]any, private map[string]string) (uint64, error) {
	return n.oversight(ctx, actor, action, details, private, false)
}

func (n *Node) Oversight(ctx context.Context, actor, action string, details map[string]any, breakGlass bool) (uint64, error) {
	return n.oversight(ctx, actor, action, details, nil, breakGlass)
}

func (n *Node) oversight(ctx context.Context, actor, action string, details map[string]any, private map[string]string, breakGlass bool) (uint64, error) {
	obj := map[string]any{
		"@timestamp": n.Now().UTC().Format(time.RFC3339Nano),
		"event":      map[string]any{"category": "configuration", "action": action, "outcome": "success"},
		"user":       map[string]any{"id": actor},
		"lbm":        map[string]any{"break_glass": breakGlass},
	}
	for k, v := range details {
		obj["lbm."+k] = v
	}
	for k, v := range private {
		obj["content."+k] = v
	}
	line, err := json.Marshal(obj)
	if err != nil {
		return 0, err
	}
	e, err := event.Parse(line, OversightSource)
	if err != nil {
		return 0, fmt.Errorf("building oversight event: %w", err)
	}
	res, err := n.Logs[Oversight].Writer.Append(ctx, []*event.Event{e})
	if err != nil {
		return 0, fmt.Errorf("recording %s in the oversight log: %w", action, err)
	}
	return res.Indexes[0], nil
}
