package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store/engine"
)

// catalogueIn returns the catalogue in force in the store where names, or
// the one built into lbm when where names no store.
func catalogueIn(ctx context.Context, where storeFlags) (policy.Catalogue, error) {
	if where.data == "" && where.db == "" {
		return policy.Default(), nil
	}
	st, _, err := engine.Open(ctx, engine.Config{DataDir: where.data, DB: where.db, KeysDB: where.keysDB, MustExist: true})
	if err != nil {
		return policy.Catalogue{}, err
	}
	defer st.Close()
	c, _, err := identity.CurrentCatalogue(ctx, st)
	return c, err
}

func purposesCmd() *cobra.Command {
	var asJSON bool
	var where storeFlags
	cmd := &cobra.Command{
		Use:   "purposes [--json] [--data DIR] [--db URL]",
		Short: "List the lawful purposes for which the organisation may monitor its systems",
		Long: `List the lawful purposes (SI 2018/356 reg 3) for which the organisation may
monitor its own systems, with their references and limits. With --data (or
--db) the catalogue in force in that store, as approved by administrators;
without, the catalogue built into this binary. References marked "(verify)"
still need checking by a legal adviser. With --json, the same shape as
GET /v1/purposes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := catalogueIn(cmd.Context(), where)
			if err != nil {
				return err
			}
			if asJSON {
				return policy.WriteJSON(cmd.OutOrStdout(), map[string]any{"purposes": c.Purposes})
			}
			return policy.WritePurposes(cmd.OutOrStdout(), c.Purposes)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, as GET /v1/purposes serves it")
	where.register(cmd, "", "data directory whose catalogue to list (default: the built-in catalogue)")
	return cmd
}

func legislationCmd() *cobra.Command {
	var asJSON bool
	var where storeFlags
	cmd := &cobra.Command{
		Use:   "legislation [--json] [--data DIR] [--db URL]",
		Short: "List the legislation register: the law that allows, limits and governs monitoring",
		Long: `List the legislation register. With --data (or --db) the catalogue in force
in that store; without, the catalogue built into this binary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := catalogueIn(cmd.Context(), where)
			if err != nil {
				return err
			}
			if asJSON {
				return policy.WriteJSON(cmd.OutOrStdout(), map[string]any{"legislation": c.Legislation})
			}
			return policy.WriteLegislation(cmd.OutOrStdout(), c.Legislation)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, as GET /v1/legislation serves it")
	where.register(cmd, "", "data directory whose catalogue to list (default: the built-in catalogue)")
	return cmd
}
