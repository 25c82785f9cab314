package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/lbm-project/lbm/internal/bench"
	"github.com/spf13/cobra"
)

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure lbm on this machine"}
	cmd.AddCommand(benchIngestCmd(), benchQueryCmd())
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
  syslog     the real server's syslog TCP listener takes the events as
             RFC 5424 messages (octet counting) on --clients connections,
             --batch a write, and maps them with the built-in mapping;
             syslog has no acknowledgement, so the clock stops when the
             log holds every message (only with --mode syslog or all)
  nodes      http on 1, then 2, nodes serving one PostgreSQL store, each
             appending to its own shard of the activity log (lbm serve
             --shard), the clients spread over them (only with --mode
             nodes --engine postgres --db URL; docs/deployment.md)

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
				return withHint(err, "use --mode inprocess, http, syslog, nodes, both (inprocess and http) or all")
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
	cmd.Flags().StringVar(&mode, "mode", "both", "inprocess, http, syslog, nodes, both (inprocess and http) or all")
	cmd.Flags().StringVar(&engine, "engine", "all", "sqlite, postgres or all (SQLite, and PostgreSQL given --db)")
	cmd.Flags().StringVar(&cfg.DB, "db", os.Getenv("LBM_BENCH_DB"), "PostgreSQL server to create the runs' databases on, postgres://USER@HOST/NAME (LBM_BENCH_DB)")
	cmd.Flags().StringVar(&cfg.DataDir, "data", "", "keep the data directories under `DIR` (default: a temporary directory, removed afterwards)")
	cmd.Flags().BoolVar(&cfg.Detect, "detect", false, "run the detection rules in force on the activity log while ingesting, as lbm serve does")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func benchQueryCmd() *cobra.Command {
	var cfg bench.QueryConfig
	var engine string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Measure scoped review queries and text search on large stores, on SQLite and PostgreSQL",
		Long: `Measure how fast an investigator's scoped query answers on this machine.

Each engine gets two stores, built as lbm serve would (every event parsed,
sealed with its content encrypted, and appended through the activity log's
writer), from simulated activity over --days from ` + bench.QueryStart.Format("2006-01-02") + `:

  events  --events events of every kind, from a force sized to fit
  email   --email-events e-mails only; every ` + fmt.Sprint(bench.PlantEvery) + `th has "` + bench.PlantWord + `" planted
          at the start of its body

Then --queries queries of each kind run, each for one simulated person over
--window days, each under its own authorisation made, submitted and
authorised through the request flow:

  metadata  every category, metadata only                       (events)
  content   the same, with e-mail, file, record and web content  (events)
  text      a search for the planted word in the person's e-mail (email)

each through review.Service.Query (scope, clipping, opening and checking
every entry, pseudonyms, and the access record durable in the oversight log
before results return) and on the store alone (store.QueryEvents). Every
query must return exactly the events the build planted for it.

Building is the slow part: --keep DIR keeps the stores, and a later run
with the same settings reuses them. PostgreSQL needs --db as for bench
ingest; kept PostgreSQL databases stay on that server.

The tables go to stdout (--json for a machine), build progress to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Engines, err = bench.ParseQueryEngines(engine, cfg.DB != ""); err != nil {
				return withHint(err, "use --engine sqlite, postgres or both")
			}
			if engine == string(bench.PostgreSQL) && cfg.DB == "" {
				return withHint(errors.New("no PostgreSQL server to measure"), "give --db postgres://USER@HOST/NAME of a role that may create databases")
			}
			cfg.Progress = bench.NewBar(cmd.ErrOrStderr())
			// A failure late in a long run still prints what it measured.
			rep, err := bench.RunQuery(cmd.Context(), cfg)
			if rep != nil {
				write := rep.WriteText
				if asJSON {
					write = rep.WriteJSON
				}
				if werr := write(cmd.OutOrStdout()); err == nil {
					err = werr
				}
			}
			return err
		},
	}
	cmd.Flags().IntVar(&cfg.Events, "events", 10_000_000, "events in the events store")
	cmd.Flags().IntVar(&cfg.People, "people", 0, "members of staff in the events store's force (default: enough for --events over --days)")
	cmd.Flags().IntVar(&cfg.Days, "days", 365, "days of simulated activity")
	cmd.Flags().IntVar(&cfg.EmailEvents, "email-events", 1_000_000, "e-mails in the e-mail store, for the text search")
	cmd.Flags().IntVar(&cfg.Window, "window", 30, "days one query covers")
	cmd.Flags().IntVar(&cfg.Queries, "queries", 200, "queries of each kind through each path")
	cmd.Flags().IntVar(&cfg.Limit, "limit", 1000, "page size of each query (at most 1000)")
	cmd.Flags().IntVar(&cfg.Clients, "clients", 8, "concurrent appenders while building")
	cmd.Flags().IntVar(&cfg.Batch, "batch", 1000, "events per append while building")
	cmd.Flags().StringVar(&engine, "engine", "both", "sqlite, postgres or both (SQLite, and PostgreSQL given --db)")
	cmd.Flags().StringVar(&cfg.DB, "db", os.Getenv("LBM_BENCH_DB"), "PostgreSQL server to create the stores' databases on, postgres://USER@HOST/NAME (LBM_BENCH_DB)")
	cmd.Flags().StringVar(&cfg.Keep, "keep", "", "build the stores under `DIR`, or reuse those an earlier run built there (default: temporary, removed afterwards)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
