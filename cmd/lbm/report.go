package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store/engine"
)

func reportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Reports read from a store",
	}
	cmd.AddCommand(reportNoticesCmd(), reportOversightCmd())
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
			err = writeOutput(cmd, output, func(w io.Writer) error {
				switch format {
				case "csv":
					return inform.WriteComplianceCSV(w, rep)
				case "json":
					return writeIndentedJSON(w, rep.Summary())
				}
				return inform.WriteComplianceText(w, rep)
			})
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

func reportOversightCmd() *cobra.Command {
	var where storeFlags
	var from, to, format, output, organisation string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "oversight --data DIR [--db URL] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format html|csv|json] [-o FILE]",
		Short: "The oversight report of a period: requests, decisions, reviews, accesses, refusals, alerts",
		Long: `Write the oversight report of the period from --from to --to (dates in
London, both days included; the last 30 days by default), read from the
store: the same report as the web page /reports/oversight. --format html
(the default) is a document of its own, with the charts, that prints
cleanly to PDF; csv and json are the page's CSV and GET
/v1/reports/oversight's body.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "html", "csv", "json":
			default:
				return withHint(fmt.Errorf("unknown --format %q", format), "use html, csv or json")
			}
			now := time.Now()
			start, end, err := oversight.ParsePeriod(from, to, now)
			if err != nil {
				return withHint(fmt.Errorf("--%v", err), "give dates like 2026-10-01")
			}
			cfg := where.config()
			cfg.MustExist = true
			n, err := server.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer n.Close()
			var bar *progressbar.ProgressBar
			in, err := oversight.Gather(cmd.Context(), n.Store, n.Opener.OpenMetadata, start, end, now, func(done, total uint64) {
				if quiet {
					return
				}
				if bar == nil {
					bar = progressbar.NewOptions64(int64(total), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
						progressbar.OptionSetDescription("oversight log"), progressbar.OptionShowCount(),
						progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
				}
				bar.Set64(int64(done))
			})
			if err != nil {
				return err
			}
			rep := oversight.BuildReport(in)
			err = writeOutput(cmd, output, func(w io.Writer) error {
				switch format {
				case "csv":
					return oversight.WriteReportCSV(w, rep)
				case "json":
					return writeIndentedJSON(w, rep)
				}
				return oversight.WriteReportHTML(w, rep, organisation)
			})
			if err != nil {
				return err
			}
			if output != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s to %s\n", oversight.ReportTitle(rep.From, rep.To), output)
			}
			return nil
		},
	}
	where.register(cmd, "", "data directory of the store to read")
	cmd.Flags().StringVar(&from, "from", "", "first day, YYYY-MM-DD (default: 29 days before --to)")
	cmd.Flags().StringVar(&to, "to", "", "last day, YYYY-MM-DD (default: today)")
	cmd.Flags().StringVar(&format, "format", "html", "html, csv or json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE (mode 0600) instead of stdout")
	cmd.Flags().StringVar(&organisation, "organisation", "", "the organisation's name, at the head of the HTML report")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

// writeOutput has write write a report to FILE (mode 0600: reports name
// people) when output names one, else to stdout. A file that cannot be
// written in full, closing included, is an error.
func writeOutput(cmd *cobra.Command, output string, write func(io.Writer) error) error {
	if output == "" {
		return write(cmd.OutOrStdout())
	}
	f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeIndentedJSON writes v as indented JSON, as the reports' --format json.
func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
