package server

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/simulate"
	"github.com/schollz/progressbar/v3"
)

// Demo sizes: enough that every screen has something in it, small enough to
// load in seconds.
const (
	demoPeople = 200
	demoDays   = 3
	demoSource = "demo"
)

// LoadDemo fills an empty activity log with a synthetic force's activity
// from source "demo", whose token it writes to DATA/demo.token (0600). It
// does nothing to a log that already holds events, so a restart with --demo
// is harmless. It returns the token file's path and the events stored.
func LoadDemo(ctx context.Context, n *Node, progress io.Writer) (string, int, error) {
	st, err := n.Store.LogState(ctx, Activity)
	if err != nil {
		return "", 0, err
	}
	if st.Size > 0 {
		return "", 0, nil
	}
	lines, err := simulate.Events(simulate.Config{People: demoPeople, Days: demoDays})
	if err != nil {
		return "", 0, err
	}
	token, err := identity.AddSource(ctx, n.Store, demoSource, n.Now())
	if err != nil {
		return "", 0, err
	}
	path := filepath.Join(filepath.Dir(n.AdminTokenPath), "demo.token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", 0, fmt.Errorf("writing demo token: %w", err)
	}
	if _, err := n.Oversight(ctx, "cli", "source_add", map[string]any{"source": demoSource}, true); err != nil {
		return "", 0, err
	}
	bar := progressbar.NewOptions(len(lines), progressbar.OptionSetWriter(progress), progressbar.OptionSetDescription("demo events"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100e6), progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
	const batch = 5000
	for i := 0; i < len(lines); i += batch {
		var evs []*event.Event
		for j, line := range lines[i:min(i+batch, len(lines))] {
			e, err := event.Parse(line, demoSource)
			if err != nil {
				return "", 0, fmt.Errorf("simulated event %d: %w", i+j+1, err)
			}
			evs = append(evs, e)
		}
		if _, err := n.Logs[Activity].Writer.Append(ctx, evs); err != nil {
			return "", 0, err
		}
		bar.Add(len(evs))
	}
	bar.Finish()
	return path, len(lines), n.PublishAll(ctx)
}
