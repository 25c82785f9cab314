package server

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/lbm-project/lbm/internal/capture/mapping"
	"github.com/lbm-project/lbm/internal/capture/pipeline"
	"github.com/lbm-project/lbm/internal/store"
)

// MappingsDir holds each source's own capture mapping, SOURCE.yaml
// (docs/ingest.md), under the data directory.
const MappingsDir = "mappings"

// openCapture makes the node's capture pipeline over the activity log.
func openCapture(ctx context.Context, n *Node, dataDir string) (*pipeline.Pipeline, error) {
	dir := filepath.Join(dataDir, MappingsDir)
	return pipeline.New(ctx, pipeline.Config{
		Log: n.Logs[n.ActivityLog].Writer,
		Mappings: func() (*mapping.Set, error) {
			return mapping.Load(os.DirFS(dir))
		},
		People: n.Store.PeopleIndex,
		Sources: func(ctx context.Context, source string) (bool, error) {
			all, err := n.Store.ListSources(ctx)
			if err != nil {
				return false, err
			}
			return slices.ContainsFunc(all, func(s store.Source) bool { return s.ID == source }), nil
		},
		Logger: n.logger,
		Now:    n.Now,
	})
}

// DirectoryChanged has capture read the directory again before it next
// resolves anyone, rather than within the minute it otherwise takes.
func (n *Node) DirectoryChanged() {
	if n.capture != nil {
		n.capture.InvalidateDirectory()
	}
}

// recordMappings writes the capture mappings in force to the oversight
// log as a node starts serving: which fields are content is a decision
// oversight must be able to see, and a file changed on disk shows as a
// new digest at the next start.
func recordMappings(ctx context.Context, n *Node, evenNone bool) error {
	if n.capture == nil {
		return nil
	}
	digests := n.capture.Mappings().Digests()
	if len(digests) == 0 && !evenNone {
		return nil
	}
	var parts []string
	for _, source := range slices.Sorted(maps.Keys(digests)) {
		parts = append(parts, source+"="+digests[source])
	}
	_, err := n.Oversight(ctx, "lbm", "capture_mappings_in_force", map[string]any{"mappings": strings.Join(parts, " ")}, false)
	return err
}

// reloadMappingsOnHangup reads the capture mappings again on SIGHUP, as
// daemons reload their configuration, and records the new set in the
// oversight log. A file that does not parse leaves the mappings in force
// as they were, and says so in the log: capture never stops for a typo.
func reloadMappingsOnHangup(ctx context.Context, n *Node, logger *slog.Logger) {
	if n.capture == nil {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if err := n.capture.Reload(); err != nil {
			logger.Error("capture mappings not reloaded: the ones in force stay", "err", err)
			continue
		}
		// Even none: that the last file went is worth a record too.
		if err := recordMappings(ctx, n, true); err != nil {
			logger.Error("recording the capture mappings reloaded", "err", err)
			continue
		}
		logger.Info("capture mappings reloaded", "sources", len(n.capture.Mappings().Digests()))
	}
}
