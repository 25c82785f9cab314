package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
)

func policyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "The consent-level policy: what authority a request needs",
	}
	cmd.AddCommand(policyExplainCmd())
	return cmd
}

func policyExplainCmd() *cobra.Command {
	var policyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain REQUEST.json [--policy FILE] [--json]",
		Short: "Show, step by step, what authority a request needs and why",
		Long: `Derive from a request (JSON, as the API takes it) the intrusion level, the
authoriser's minimum rank, the advisers who must give a view, the longest
authorisation, the review interval, whether a RIPA reference is required and
whether the urgent route is open, printing each rule of the consent-level
policy that applies. The policy is the one built into lbm, or --policy FILE.
With --json, print only the requirement, as the API stores it.`,
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
			var ranks []string
			for _, rk := range identity.AllRanks() {
				ranks = append(ranks, string(rk))
			}
			p := consent.Default(ranks)
			if policyFile != "" {
				data, err := os.ReadFile(policyFile)
				if err != nil {
					return err
				}
				if p, err = consent.ParsePolicy(data, ranks); err != nil {
					return fmt.Errorf("%s: %w", policyFile, err)
				}
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
	return cmd
}
