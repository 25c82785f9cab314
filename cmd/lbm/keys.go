package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/server"
)

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Inspect and rotate the key-encryption key (docs/keys.md)"}
	cmd.AddCommand(keysStatusCmd(), keysRotateKEKCmd())
	return cmd
}

func keysStatusCmd() *cobra.Command {
	var where storeFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the current key-encryption key and how many data keys each KEK wraps",
		Long: `Show the key-encryption key (KEK) that wraps new data keys, the older KEKs
this data directory (or LBM_KEK_OLD) still holds, and how many data keys each
KEK wraps; "missing" marks a KEK that wraps data keys but is not held, whose
content cannot be read. KEKs are named by id, a hash that reveals nothing of
the key. Destroyed data keys are counted apart. It changes nothing and may
run while the server does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := server.StatusOfKEKs(cmd.Context(), where.config())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			source := "files in " + filepath.Join(where.data, "keys")
			if s.FromEnv {
				source = "LBM_KEK and LBM_KEK_OLD"
			}
			fmt.Fprintf(out, "KEKs from %s\n", source)
			if s.Rotating != "" {
				fmt.Fprintf(out, "rotation to %s unfinished: run lbm keys rotate-kek to finish it\n", s.Rotating)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "KEK\tSTATE\tDATA KEYS")
			fmt.Fprintf(w, "%s\tcurrent\t%d\n", s.Current, s.Count.Live[s.Current])
			for _, id := range s.Older {
				fmt.Fprintf(w, "%s\told\t%d\n", id, s.Count.Live[id])
			}
			for _, id := range slices.Sorted(maps.Keys(s.Count.Live)) {
				if id != s.Current && !slices.Contains(s.Older, id) {
					fmt.Fprintf(w, "%s\tmissing\t%d\n", id, s.Count.Live[id])
				}
			}
			w.Flush()
			fmt.Fprintf(out, "destroyed data keys: %d\n", s.Count.Destroyed)
			return nil
		},
	}
	where.register(cmd, "./lbm-data", "data directory: keys, and the SQLite store unless --db")
	return cmd
}

func keysRotateKEKCmd() *cobra.Command {
	var where storeFlags
	var keepOld, quiet bool
	cmd := &cobra.Command{
		Use:   "rotate-kek [--keep-old]",
		Short: "Replace the key-encryption key and rewrap every data key under the new one",
		Long: `Replace the key-encryption key (KEK): make a new KEK, make it current, rewrap
every data key and every second-factor secret under it, then remove the old
KEK file (unless --keep-old). See docs/keys.md.

The server must be stopped: the command refuses while lbm serve holds the
data directory. It may be interrupted (Ctrl-C, a crash) at any point and run
again: it resumes the rotation in progress and never makes a second new KEK.

With LBM_KEK set, the KEK is not lbm's to store: run without LBM_KEK_OLD and
it prints a new KEK on stdout, and changes nothing. Put that in your secret
store as LBM_KEK, the one it replaces as LBM_KEK_OLD, and run it again: it
rewraps everything, and says when LBM_KEK_OLD may be removed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stderr := cmd.ErrOrStderr()
			var bar *progressbar.ProgressBar
			res, err := server.RotateKEK(cmd.Context(), server.RotateConfig{Node: where.config(), KeepOld: keepOld,
				Progress: func(done, total int) {
					if bar == nil {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr),
							progressbar.OptionSetDescription("rewrapping data keys"), progressbar.OptionShowCount(),
							progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetVisibility(!quiet),
							progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }))
					}
					bar.Set(done)
				}})
			if bar != nil && err == nil {
				bar.Finish()
			}
			switch {
			case errors.Is(err, server.ErrLocked):
				return withHint(err, "stop lbm serve on this data directory first: it holds data keys unwrapped under the old KEK")
			case errors.Is(err, context.Canceled):
				return withHint(err, "nothing is lost: run lbm keys rotate-kek again to resume the rotation")
			case err != nil:
				return err
			}
			out := cmd.OutOrStdout()
			if res.NewKEK != "" {
				fmt.Fprintln(out, res.NewKEK)
				fmt.Fprintln(stderr, "lbm: the KEK is in LBM_KEK, so lbm cannot store a new one; the line above is a new KEK, shown once.")
				fmt.Fprintln(stderr, "lbm: put it in your secret store as LBM_KEK, the current LBM_KEK as LBM_KEK_OLD, and run lbm keys rotate-kek again.")
				return nil
			}
			if res.Resumed {
				fmt.Fprintln(out, "resumed the unfinished rotation")
			}
			fmt.Fprintf(out, "current KEK %s: rewrapped %d data keys and %d second factors\n", res.To, res.DataKeys, res.SecondFactors)
			for _, id := range res.Removed {
				fmt.Fprintf(out, "removed old KEK %s\n", id)
			}
			for _, id := range res.Kept {
				if res.FromEnv {
					fmt.Fprintf(out, "old KEK %s (LBM_KEK_OLD) wraps nothing now: remove LBM_KEK_OLD from the server's environment and the old key from your secret store\n", id)
				} else {
					fmt.Fprintf(out, "kept old KEK %s: it wraps nothing now; delete its file in %s when no backup needs it\n", id, filepath.Join(where.data, "keys"))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&keepOld, "keep-old", false, "keep the old KEK file once nothing is wrapped under it")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	where.register(cmd, "./lbm-data", "data directory: keys, and the SQLite store unless --db")
	return cmd
}
