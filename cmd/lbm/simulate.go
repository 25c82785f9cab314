package main

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/lbm-project/lbm/internal/simulate"
	"github.com/spf13/cobra"
)

func simulateCmd() *cobra.Command {
	var cfg simulate.Config
	var start, out string
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Write realistic synthetic NDJSON activity for a force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return withHint(fmt.Errorf("--start %q: %v", start, err), "give a date like 2026-11-02")
				}
				cfg.Start = t
			}
			w := cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriterSize(w, 1<<20)
			n, err := simulate.Generate(bw, cfg)
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d events\n", n)
			return nil
		},
	}
	cmd.Flags().IntVar(&cfg.People, "people", 100, "members of staff")
	cmd.Flags().IntVar(&cfg.Days, "days", 1, "days of activity")
	cmd.Flags().Int64Var(&cfg.Seed, "seed", 1, "random seed; the same flags give the same output")
	cmd.Flags().StringVar(&start, "start", "", "first day, YYYY-MM-DD (default 2026-11-02)")
	cmd.Flags().StringVarP(&out, "output", "o", "-", "output file")
	return cmd
}
