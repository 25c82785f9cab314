package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/engine"
)

// loadKEKs returns the node's KEKs: from LBM_KEK (and LBM_KEK_OLD) when
// set, else from the files in DATA/keys. Only a fresh store gets a new
// KEK: one that exists but has no KEK file was set up with LBM_KEK, and a
// new KEK would not open it.
func loadKEKs(cfg Config, fresh bool) (*keys.KEKRing, error) {
	if cfg.KEK != "" {
		return keys.ParseKEKs(cfg.KEK, cfg.KEKOld)
	}
	if cfg.KEKOld != "" {
		return nil, errors.New("LBM_KEK_OLD is set without LBM_KEK")
	}
	return keys.LoadKEKs(filepath.Join(cfg.DataDir, "keys"), fresh)
}

// KEKStatus is what `lbm keys status` shows. It holds KEK ids, which are
// hashes of the keys, never key material.
type KEKStatus struct {
	// Current is the KEK that wraps new data keys.
	Current string
	// Older are the other KEKs this node holds, in id order.
	Older []string
	// Rotating is the KEK an unfinished rotation rotates to; "" if none.
	Rotating string
	// FromEnv reports that the KEKs come from LBM_KEK and LBM_KEK_OLD.
	FromEnv bool
	// Count is the data keys by KEK.
	Count store.KEKCount
}

// StatusOfKEKs reads the KEKs and counts the data keys of the store cfg
// names, which must exist. It changes nothing and may run beside a server.
func StatusOfKEKs(ctx context.Context, cfg Config) (KEKStatus, error) {
	st, _, err := engine.Open(ctx, engine.Config{DataDir: cfg.DataDir, DB: cfg.DB, KeysDB: cfg.KeysDB, MustExist: true})
	if err != nil {
		return KEKStatus{}, err
	}
	defer st.Close()
	ring, err := loadKEKs(cfg, false)
	if err != nil {
		return KEKStatus{}, err
	}
	s := KEKStatus{Current: ring.ID(), FromEnv: cfg.KEK != ""}
	for _, k := range ring.Older() {
		s.Older = append(s.Older, k.ID())
	}
	if !s.FromEnv {
		if s.Rotating, err = keys.Rotating(filepath.Join(cfg.DataDir, "keys")); err != nil {
			return s, err
		}
	}
	s.Count, err = st.CountDataKeys(ctx)
	return s, err
}

// RotateConfig configures RotateKEK. Zero values are the defaults.
type RotateConfig struct {
	// Node names the data directory and store, and the KEKs in the
	// environment, as for Open.
	Node Config
	// KeepOld keeps the old KEK files once nothing is wrapped under them.
	KeepOld bool
	// Batch is how many data keys are read at a time. Default 500.
	Batch int
	// Progress, when set, is told after each batch how many data keys of
	// total are rewrapped.
	Progress func(done, total int)
}

// RotateResult is what a rotation did.
type RotateResult struct {
	// NewKEK is set, and nothing else done, when the KEK lives in LBM_KEK
	// and no LBM_KEK_OLD was given: a fresh KEK, in text form, for the
	// operator to put in their secret store as LBM_KEK, with the one it
	// replaces as LBM_KEK_OLD, before running the rotation again.
	NewKEK string
	// FromEnv reports that the KEKs came from the environment: the old
	// one is the operator's to remove (LBM_KEK_OLD), not lbm's.
	FromEnv bool
	// Resumed reports that an interrupted rotation was continued.
	Resumed bool
	// To is the KEK everything is now wrapped by.
	To string
	// DataKeys and SecondFactors count what this run rewrapped.
	DataKeys, SecondFactors int
	// Removed are the ids of the old KEK files removed.
	Removed []string
	// Kept are the ids of older KEKs still held (KeepOld, or LBM_KEK_OLD).
	Kept []string
}

// RotateKEK replaces the node's key-encryption key (docs/keys.md): it
// makes a new KEK and makes it current (or, with LBM_KEK, takes the new
// one from LBM_KEK and the old from LBM_KEK_OLD), rewraps every data key
// and every second factor under it, and then removes the old KEK files
// unless KeepOld is set.
//
// It holds the data directory's lock throughout and refuses, with
// ErrLocked, while `lbm serve` runs there: a server caches data keys
// unwrapped and would go on wrapping new ones under the KEK it loaded. It
// may be interrupted at any point and run again: it resumes the rotation
// in progress, never making a second new KEK (keys.BeginRotation). The
// rotation is recorded in the oversight log before any key changes.
func RotateKEK(ctx context.Context, cfg RotateConfig) (RotateResult, error) {
	if cfg.Node.DataDir == "" {
		return RotateResult{}, errors.New("no data directory given")
	}
	unlock, err := lockDataDir(cfg.Node.DataDir)
	if err != nil {
		return RotateResult{}, err
	}
	defer unlock()
	nc := cfg.Node
	nc.MustExist = true
	n, err := Open(ctx, nc)
	if err != nil {
		return RotateResult{}, err
	}
	defer n.Close()
	res := RotateResult{FromEnv: nc.KEK != ""}
	if res.FromEnv && nc.KEKOld == "" {
		res.NewKEK = keys.NewKEKText()
		return res, nil
	}
	keyDir := filepath.Join(nc.DataDir, "keys")
	details := map[string]any{"kek": n.KEK.ID(), "keep_old": cfg.KeepOld, "kek_source": "files"}
	if res.FromEnv {
		details["kek_source"] = "environment"
	} else {
		rotating, err := keys.Rotating(keyDir)
		if err != nil {
			return res, err
		}
		details["resumed"] = rotating != ""
	}
	// Before any key changes: the record of the rotation must exist
	// whether or not the rotation then completes.
	if _, err := n.Oversight(ctx, "cli", "kek_rotate", details, false); err != nil {
		return res, err
	}
	ring := n.KEK
	if !res.FromEnv {
		if ring, res.Resumed, err = keys.BeginRotation(keyDir); err != nil {
			return res, err
		}
	}
	res.To = ring.ID()
	before, err := n.Store.CountDataKeys(ctx)
	if err != nil {
		return res, err
	}
	total := 0
	for id, c := range before.Live {
		if id != ring.ID() {
			total += c
		}
	}
	var progress func(int)
	if cfg.Progress != nil {
		cfg.Progress(0, total)
		progress = func(done int) { cfg.Progress(done, total) }
	}
	if res.DataKeys, err = keys.Rewrap(ctx, n.Store, ring, keys.RewrapOptions{Batch: cfg.Batch, Progress: progress}); err != nil {
		return res, err
	}
	if res.SecondFactors, err = identity.RewrapSecondFactors(ctx, n.Store, ring); err != nil {
		return res, err
	}
	after, err := n.Store.CountDataKeys(ctx)
	if err != nil {
		return res, err
	}
	if res.FromEnv {
		for id, c := range after.Live {
			if id != ring.ID() && c > 0 {
				return res, fmt.Errorf("%d data keys are still wrapped by key-encryption key %s: run the rotation again", c, id)
			}
		}
		for _, k := range ring.Older() {
			res.Kept = append(res.Kept, k.ID())
		}
		return res, nil
	}
	if res.Removed, err = keys.FinishRotation(keyDir, ring, after, cfg.KeepOld); err != nil {
		return res, err
	}
	slices.Sort(res.Removed)
	for _, k := range ring.Older() {
		if !slices.Contains(res.Removed, k.ID()) {
			res.Kept = append(res.Kept, k.ID())
		}
	}
	return res, nil
}
