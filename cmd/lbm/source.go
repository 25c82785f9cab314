package main

import (
	"fmt"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/spf13/cobra"
)

func sourceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "source", Short: "Manage the machines that push events"}
	var where storeFlags
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Register a source and print its token (once) on stdout",
		Long: `Register a source and print its token alone on stdout; it is shown once and
never stored. Works on the data directory while the server runs. The change is
recorded in the oversight log, flagged as break-glass (made offline).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := server.Open(cmd.Context(), where.config())
			if err != nil {
				return err
			}
			defer n.Close()
			if n.Created {
				fmt.Fprintf(cmd.ErrOrStderr(), "lbm: created a new store, %s (admin token in %s)\n", n.StoreName, n.AdminTokenPath)
			}
			token, err := identity.AddSource(cmd.Context(), n.Store, args[0], n.Now())
			if err != nil {
				return err
			}
			if _, err := n.Oversight(cmd.Context(), "cli", "source_add", map[string]any{"source": args[0]}, true); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	where.register(add, "./lbm-data", "data directory: keys, and the SQLite store unless --db")
	cmd.AddCommand(add)
	return cmd
}
