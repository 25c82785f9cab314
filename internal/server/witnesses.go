package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lbm-project/lbm/internal/witness"
)

// openWitnesses reads DATA/witnesses.yaml and returns the service that has
// its witnesses cosign the node's checkpoints; nil, and nothing witnessed,
// when the file does not exist.
func (n *Node) openWitnesses(ctx context.Context, cfg Config) error {
	path := filepath.Join(cfg.DataDir, witness.File)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	wc, err := witness.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	n.Witnesses, err = witness.New(ctx, witness.ServiceConfig{Config: wc, Logs: n.logNames, Store: n.Store, Logger: cfg.Logger, Now: cfg.Now})
	return err
}
