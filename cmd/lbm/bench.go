package main

import (
	"errors"
	"os"

	"github.com/lbm-project/lbm/internal/bench"
	"github.com/spf13/cobra"
)

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure lbm on this machine"}
	cmd.AddCommand(benchIngestCmd())
	return cmd
}

func benchIngestCmd() *cobra.Command {
	var cfg bench.Config
	var mode, engine string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Measure durable ingest of simulated events, in process and over HTTP, on SQLite and PostgreSQL",
		Long: `Measure how fast lbm makes events durable on this machine.

Events come from the simulator (lbm simulate). Each mode opens its own fresh
store, exactly as lbm serve does (content encrypted), and counts only
acknowledged events:

  inprocess  --clients goroutines parse --batch events at a time and append
             them to the activity log's writer
  http       the real server listens on 127.0.0.1 in this process, and
             --clients clients POST --batch events a request to /v1/events

Each mode runs on SQLite (synchronous=FULL) and, given --db, on PostgreSQL
too: --db names a server and a role that may create databases (LBM_BENCH_DB
keeps a password off the command line). Every PostgreSQL run creates two
fresh databases, lbm_bench_*, and drops them when it ends; psql must be on
PATH.

The table goes to stdout (--json for a machine), progress to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			modes, err := bench.ParseModes(mode)
			if err != nil {
				return withHint(err, "use --mode inprocess, http or both")
			}
			cfg.Modes = modes
			if cfg.Engines, err = bench.ParseEngines(engine, cfg.DB != ""); err != nil {
				return withHint(err, "use --engine sqlite, postgres or all")
			}
			if engine == string(bench.PostgreSQL) && cfg.DB == "" {
				return withHint(errors.New("no PostgreSQL server to measure"), "give --db postgres://USER@HOST/NAME of a role that may create databases")
			}
			cfg.Progress = bench.NewBar(cmd.ErrOrStderr())
			rep, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return rep.WriteJSON(cmd.OutOrStdout())
			}
			return rep.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().IntVar(&cfg.Events, "events", 100_000, "events to ingest")
	cmd.Flags().IntVar(&cfg.People, "people", 1000, "members of staff in the simulated force")
	cmd.Flags().IntVar(&cfg.Clients, "clients", 8, "concurrent appenders or HTTP clients")
	cmd.Flags().IntVar(&cfg.Batch, "batch", 1000, "events per append or request")
	cmd.Flags().StringVar(&mode, "mode", "both", "inprocess, http or both")
	cmd.Flags().StringVar(&engine, "engine", "all", "sqlite, postgres or all (SQLite, and PostgreSQL given --db)")
	cmd.Flags().StringVar(&cfg.DB, "db", os.Getenv("LBM_BENCH_DB"), "PostgreSQL server to create the runs' databases on, postgres://USER@HOST/NAME (LBM_BENCH_DB)")
	cmd.Flags().StringVar(&cfg.DataDir, "data", "", "keep the data directories under `DIR` (default: a temporary directory, removed afterwards)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
