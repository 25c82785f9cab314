package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/lbm-project/lbm/internal/server"
	"github.com/spf13/cobra"
)

func serveCmd() *cobra.Command {
	var addr, adminAddr, origin string
	var where storeFlags
	var demo bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: ingest, logs, API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			metrics := server.NewMetrics()
			cfg := where.config()
			cfg.OriginPrefix, cfg.Logger, cfg.Observer = origin, logger, metrics
			n, err := server.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer n.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "data directory: %s\n", where.data)
			fmt.Fprintf(out, "store: %s\n", n.StoreName)
			fmt.Fprintf(out, "admin token: %s\n", n.AdminTokenPath)
			for _, name := range server.LogNames {
				l := n.Logs[name]
				fmt.Fprintf(out, "%s log: origin %s\n  verifier key %s\n", name, l.Origin, l.VerifierKey)
			}
			if demo {
				fmt.Fprintln(out, "demo: loading a synthetic force's activity")
				token, count, err := server.LoadDemo(cmd.Context(), n, cmd.ErrOrStderr())
				if err != nil {
					return fmt.Errorf("loading demo: %w", err)
				}
				if token != "" {
					fmt.Fprintf(out, "demo: stored %d events from source \"demo\"; its token is in %s\n", count, token)
				}
			}
			return server.Serve(cmd.Context(), n, server.ServeConfig{
				Addr: addr, AdminAddr: adminAddr, CheckpointInterval: interval, Metrics: metrics, Logger: logger,
				Listening: func(a, admin net.Addr) {
					fmt.Fprintf(out, "listening on http://%s\n", a)
					if admin != nil {
						fmt.Fprintf(out, "metrics on http://%s/metrics\n", admin)
					}
				},
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", ":8080", "address to listen on")
	cmd.Flags().StringVar(&adminAddr, "admin-addr", "", "separate address serving /metrics without a token (keep it private)")
	where.register(cmd, "./lbm-data", "data directory: keys, admin token, and the SQLite store unless --db")
	cmd.Flags().StringVar(&origin, "origin-prefix", "", `prefix of the logs' origins, fixed at first start (default "lbm.local")`)
	cmd.Flags().BoolVar(&demo, "demo", false, "load a synthetic force's activity on first start")
	cmd.Flags().DurationVar(&interval, "checkpoint-interval", time.Second, "how often to publish a signed checkpoint")
	return cmd
}
