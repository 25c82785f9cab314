package main

import "github.com/spf13/cobra"

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure lbm on this machine"}
	return cmd
}
