package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/retention"
	"github.com/lbm-project/lbm/internal/server"
)

func retentionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "retention", Short: "Delete what the retention schedule lets go, keeping what legal holds need"}
	cmd.AddCommand(retentionJobCmd("plan", "Show what a retention run would delete now, changing nothing"),
		retentionJobCmd("run", "Delete what is due, destroy the data keys it frees and scrub the store; safe to interrupt and run again"))
	return cmd
}

func retentionJobCmd(name, short string) *cobra.Command {
	var where storeFlags
	var asJSON, quiet bool
	var holdAfterClose time.Duration
	var batch int
	cmd := &cobra.Command{
		Use:   name + " --data DIR [--db URL] [--json] [--hold-after-close DURATION]",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := where.config()
			cfg.MustExist = true
			n, err := server.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer n.Close()
			job := *n.Retention
			job.HoldAfterClose, job.Batch = holdAfterClose, batch
			var rep retention.Report
			finish := func() {}
			verb := "deleting"
			if name == "plan" {
				verb = "counting"
			}
			if !quiet {
				bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionShowCount(),
					progressbar.OptionSetDescription(verb), progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
				// Progress counts per month's step: the bar adds what
				// each report adds to the one before.
				var before int64
				last := ""
				job.Progress = func(p retention.Progress) {
					if k := p.Month + p.Category + string(p.Step); k != last {
						last, before = k, 0
					}
					bar.Describe(fmt.Sprintf("%s %s %s", p.Month, p.Category, p.Step))
					bar.Add64(p.Deleted - before)
					before = p.Deleted
				}
				finish = func() { bar.Finish() }
			}
			if name == "plan" {
				rep, err = job.Plan(cmd.Context())
			} else {
				rep, err = job.Run(cmd.Context())
			}
			finish() // before the report, which follows the bar's line
			if err != nil {
				if name == "run" {
					return fmt.Errorf("%w (what was done is recorded; run it again to finish)", err)
				}
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			writeRetentionReport(cmd.OutOrStdout(), name, rep)
			return nil
		},
	}
	where.register(cmd, "./lbm-data", "data directory: keys, and the SQLite store unless --db")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().DurationVar(&holdAfterClose, "hold-after-close", retention.DefaultHoldAfterClose, "how long an ended authorisation still holds its subjects' data")
	cmd.Flags().IntVar(&batch, "batch", 1000, "entries per deletion: each is one oversight record and one transaction")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

// writeRetentionReport prints a plan or run for people: counts only,
// and holds by kind, never whom they hold.
func writeRetentionReport(w io.Writer, name string, rep retention.Report) {
	verb := "deleted"
	if name == "plan" {
		verb = "to delete"
	}
	fmt.Fprintf(w, "%s, as at %s\n", rep.Schedule, rep.At.Format(time.RFC3339))
	if len(rep.Items) == 0 {
		fmt.Fprintln(w, "nothing is due")
	}
	for _, it := range rep.Items {
		what := "entries"
		if it.Step == "content" {
			what = "content"
		}
		category := it.Category
		if category == retention.Unscheduled {
			category = "(unscheduled)"
		}
		fmt.Fprintf(w, "  %s %-14s %-8s after %2d months: %d %s, %d kept under legal hold\n", it.Month, category, what, it.Months, it.Delete, verb, it.Kept)
	}
	deleted, kept := rep.Totals()
	fmt.Fprintf(w, "total: %d entries %s, %d kept under legal hold\n", deleted, verb, kept)
	if len(rep.Holds) > 0 {
		var kinds []string
		for k, n := range rep.Holds {
			kinds = append(kinds, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), n))
		}
		slices.Sort(kinds)
		fmt.Fprintf(w, "people held, by kind of hold: %s\n", strings.Join(kinds, ", "))
	}
	if name == "plan" {
		if rep.PendingKeys > 0 {
			fmt.Fprintf(w, "%d data keys an interrupted run freed are still to be destroyed\n", rep.PendingKeys)
		}
	} else {
		fmt.Fprintf(w, "data keys destroyed: %d\n", rep.KeysDestroyed)
	}
}
