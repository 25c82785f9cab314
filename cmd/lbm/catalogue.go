package main

import (
	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/policy"
)

func purposesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "purposes [--json]",
		Short: "List the lawful purposes for which the organisation may monitor its systems",
		Long: `List the lawful purposes (SI 2018/356 reg 3) for which the organisation may
monitor its own systems, with their references and limits, as shipped in this
binary. References marked "(verify)" still need checking by a legal adviser.
With --json, the same shape as GET /v1/purposes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := policy.Default()
			if asJSON {
				return policy.WriteJSON(cmd.OutOrStdout(), map[string]any{"purposes": c.Purposes})
			}
			return policy.WritePurposes(cmd.OutOrStdout(), c.Purposes)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, as GET /v1/purposes serves it")
	return cmd
}

func legislationCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "legislation [--json]",
		Short: "List the legislation register: the law that allows, limits and governs monitoring",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := policy.Default()
			if asJSON {
				return policy.WriteJSON(cmd.OutOrStdout(), map[string]any{"legislation": c.Legislation})
			}
			return policy.WriteLegislation(cmd.OutOrStdout(), c.Legislation)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, as GET /v1/legislation serves it")
	return cmd
}
