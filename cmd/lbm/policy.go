package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store/engine"
)

func policyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "The consent-level policy: what authority a request needs",
	}
	cmd.AddCommand(policyExplainCmd())
	return cmd
}

// consentPolicyIn returns the consent-level policy to explain with: the
// one in force in the store where names, else file's, else the one built
// into lbm.
func consentPolicyIn(ctx context.Context, where storeFlags, file string) (*consent.Policy, error) {
	inStore := where.data != "" || where.db != ""
	switch {
	case inStore && file != "":
		return nil, withHint(errors.New("--policy and --data (or --db) name two policies"), "give one")
	case inStore:
		st, _, err := engine.Open(ctx, engine.Config{DataDir: where.data, DB: where.db, KeysDB: where.keysDB, MustExist: true})
		if err != nil {
			return nil, err
		}
		defer st.Close()
		p, _, err := identity.CurrentConsentPolicy(ctx, st)
		return p, err
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		p, err := identity.ParseConsentPolicy(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return p, nil
	}
	return identity.DefaultConsentPolicy(), nil
}

func policyExplainCmd() *cobra.Command {
	var policyFile string
	var asJSON bool
	var where storeFlags
	cmd := &cobra.Command{
		Use:   "explain REQUEST.json [--policy FILE | --data DIR | --db URL] [--json]",
		Short: "Show, step by step, what authority a request needs and why",
		Long: `Derive from a request (JSON, as the API takes it) the intrusion level, the
authoriser's minimum rank, the advisers who must give a view, the longest
authorisation, the review interval, whether a RIPA reference is required and
whether the urgent route is open, printing each rule of the consent-level
policy that applies. The policy is the one in force in a store (--data or
--db: the latest version administrators approved), or --policy FILE, or
else the one built into lbm. With --json, print only the requirement, as
the API stores it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var r requests.Request
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				return withHint(fmt.Errorf("%s: not a request: %v", args[0], err), "see the request's fields in docs/contract.md")
			}
			p, err := consentPolicyIn(cmd.Context(), where, policyFile)
			if err != nil {
				return err
			}
			req, explanation, err := p.Derive(requests.Facts(r))
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(req)
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), explanation.String())
			return err
		},
	}
	cmd.Flags().StringVar(&policyFile, "policy", "", "a consent-level policy file (YAML) instead of the built-in one")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the requirement as JSON")
	where.register(cmd, "", "data directory whose policy in force to explain with (default: the built-in policy)")
	return cmd
}
