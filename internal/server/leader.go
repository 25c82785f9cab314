package server

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// leaderRetry is how often a node that does not lead asks for the lead.
var leaderRetry = time.Second

// Leading reports whether the node leads the service now (shards.go).
func (n *Node) Leading() bool { return n.leading.Load() }

// lead runs term for each period in which the node holds the leader
// lease, until ctx ends. A store without leases has one process, which
// leads for as long as it serves. term must return when its context ends:
// the lead is given up only after it has, so two terms never overlap in
// one process, and across processes the holder stops (its lease checks
// fail) before the store frees the lease for another.
func (n *Node) lead(ctx context.Context, logger *slog.Logger, term func(context.Context)) {
	leaser, ok := n.Store.(store.Leaser)
	if !ok {
		n.leading.Store(true)
		term(ctx)
		n.leading.Store(false)
		return
	}
	for {
		lease, err := leaser.TryLease(ctx, leaderLease)
		switch {
		case err == nil:
			logger.Info("leading the service: oversight checkpoints, witnesses, detection, sweeps and retention run here")
			termCtx, cancel := context.WithCancel(ctx)
			go func() {
				select {
				case <-lease.Lost():
					logger.Error("lost the lead: the store connection that held it failed")
					cancel()
				case <-termCtx.Done():
				}
			}()
			n.leading.Store(true)
			term(termCtx)
			n.leading.Store(false)
			cancel()
			lease.Release()
		case !errors.Is(err, store.ErrHeld) && ctx.Err() == nil:
			logger.Error("asking for the lead", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(leaderRetry):
		}
	}
}

// leaderTerm runs what the service needs done once, for as long as ctx
// lasts, and returns when all of it has stopped.
func (n *Node) leaderTerm(ctx context.Context, cfg ServeConfig) {
	var wg sync.WaitGroup
	onErr := func(log string) func(error) {
		return func(err error) { cfg.Logger.Error("publishing checkpoint", "log", log, "err", err) }
	}
	// At once: the oversight log may have grown since the last leader
	// signed it.
	if _, err := n.Logs[Oversight].Publisher.Publish(ctx); err != nil && ctx.Err() == nil {
		onErr(Oversight)(err)
	}
	wg.Go(func() { n.Logs[Oversight].Publisher.Run(ctx, cfg.CheckpointInterval, onErr(Oversight)) })
	wg.Go(func() {
		every(ctx, cfg.CheckpointInterval, func() {
			if err := n.publishOtherShards(ctx); err != nil && ctx.Err() == nil {
				cfg.Logger.Error("publishing other shards' checkpoints", "err", err)
			}
		})
	})
	wg.Go(func() { sweepLeavers(ctx, n, cfg.LeaverSweep, cfg.Logger) })
	wg.Go(func() { n.Requests.Run(ctx, cfg.RequestSweep) })
	wg.Go(func() { n.RelevantErrors.Run(ctx, RelevantErrorSweep, cfg.Logger) })
	if cfg.RetentionEvery > 0 {
		wg.Go(func() { runRetention(ctx, n, cfg.RetentionEvery, cfg.Logger) })
	}
	wg.Go(func() { n.runDetection(ctx, cmp.Or(cfg.DetectIdle, 500*time.Millisecond), cfg.Logger) })
	if n.Witnesses != nil {
		wg.Go(func() { n.runWitnesses(ctx, cfg.Logger) })
	}
	wg.Wait()
}

// logsRescan is how often the leader looks for shards new nodes claimed,
// to have the witnesses cosign them too.
var logsRescan = 10 * time.Second

// runDetection runs the node's detectors: over the activity log, every
// shard of it as one stream, and over the oversight log.
func (n *Node) runDetection(ctx context.Context, idle time.Duration, logger *slog.Logger) {
	var wg sync.WaitGroup
	for _, d := range n.Detectors {
		d.Logger = logger
		wg.Go(func() { d.Run(ctx, idle) })
	}
	wg.Wait()
}

// runWitnesses has the witnesses cosign every log of the store, adding
// shards as they appear.
func (n *Node) runWitnesses(ctx context.Context, logger *slog.Logger) {
	var wg sync.WaitGroup
	running := map[string]bool{}
	every(ctx, logsRescan, func() {
		all, err := n.AllLogs(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logger.Error("listing the store's logs for the witnesses", "err", err)
			}
			return
		}
		for _, l := range all {
			if running[l.Name] {
				continue
			}
			if err := n.Witnesses.AddLog(ctx, l.Name); err != nil {
				if ctx.Err() == nil {
					logger.Error("witnessing a log", "log", l.Name, "err", err)
				}
				continue
			}
			running[l.Name] = true
			wg.Go(func() { n.Witnesses.RunLog(ctx, l.Name) })
		}
	})
	wg.Wait()
}

// every calls fn at once and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
