package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/store/engine"
)

func reportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Reports read from a store",
	}
	cmd.AddCommand(reportNoticesCmd())
	return cmd
}

func reportNoticesCmd() *cobra.Command {
	var where storeFlags
	var format, output string
	cmd := &cobra.Command{
		Use:   "notices --data DIR [--db URL] [--format text|csv|json] [--output FILE]",
		Short: "Who has not acknowledged the current monitoring notice, by unit and line manager",
		Long: `List everyone in the directory who has not left and has not acknowledged the
monitoring notice in force, grouped by unit and line manager, with the
coverage. --format csv and json give the same content as the web report's CSV
and GET /v1/reports/notices.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "text", "csv", "json":
			default:
				return withHint(fmt.Errorf("unknown --format %q", format), "use text, csv or json")
			}
			st, _, err := engine.Open(cmd.Context(), engine.Config{DataDir: where.data, DB: where.db, KeysDB: where.keysDB, MustExist: true})
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := inform.ComplianceReport(cmd.Context(), st, time.Now())
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			if output != "" {
				f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			switch format {
			case "csv":
				err = inform.WriteComplianceCSV(w, rep)
			case "json":
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				err = enc.Encode(rep.Summary())
			default:
				err = inform.WriteComplianceText(w, rep)
			}
			if err != nil {
				return err
			}
			if output != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d people who have not acknowledged notice version %d to %s\n", rep.Outstanding(), rep.Notice.Version, output)
			}
			return nil
		},
	}
	where.register(cmd, "", "data directory of the store to read")
	cmd.Flags().StringVar(&format, "format", "text", "text, csv or json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE (mode 0600) instead of stdout")
	return cmd
}
