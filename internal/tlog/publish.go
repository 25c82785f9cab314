package tlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// PublishStore is what publishing reads and writes.
type PublishStore interface {
	LogState(ctx context.Context, log string) (store.TreeState, error)
	store.Checkpoints
}

// Publisher signs and stores a log's checkpoint when the log has grown.
type Publisher struct {
	Log    string
	Signer *Signer
	Store  PublishStore
	Now    func() time.Time
}

// Publish signs the log's committed tree if it is larger than the latest
// published checkpoint (or none is published yet) and stores it. It returns
// the latest checkpoint either way. Two publishers racing over one size both
// succeed: the checkpoint of that size that was stored first stands.
func (p *Publisher) Publish(ctx context.Context) (store.Checkpoint, error) {
	latest, err := p.Store.LatestCheckpoint(ctx, p.Log)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return latest, err
	}
	havePublished := err == nil
	st, err := p.Store.LogState(ctx, p.Log)
	if err != nil {
		return latest, err
	}
	if havePublished && st.Size <= latest.Size {
		return latest, nil
	}
	root := st.Root
	if st.Size == 0 {
		root = EmptyRoot()
	}
	signed, err := p.Signer.Sign(Checkpoint{Origin: p.Signer.Origin(), Size: st.Size, Root: root})
	if err != nil {
		return latest, fmt.Errorf("signing checkpoint: %v", err)
	}
	c := store.Checkpoint{Size: st.Size, Time: p.Now().UTC(), Note: signed}
	err = p.Store.AddCheckpoint(ctx, p.Log, c)
	if errors.Is(err, store.ErrExists) {
		return p.Store.LatestCheckpoint(ctx, p.Log)
	}
	if err != nil {
		return latest, fmt.Errorf("storing checkpoint: %w", err)
	}
	return c, nil
}

// Run publishes every interval until ctx ends. Errors go to onErr and do not
// stop the loop: the next tick tries again.
func (p *Publisher) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := p.Publish(ctx); err != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
	}
}
