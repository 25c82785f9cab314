package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/policy"
)

func rulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Detection rules: try them on events",
	}
	cmd.AddCommand(rulesTestCmd())
	return cmd
}

func rulesTestCmd() *cobra.Command {
	var listsDir, confFile, source string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test RULES.yaml EVENTS.ndjson [--lists DIR] [--confidential FILE] [--source NAME] [--json]",
		Short: "Show which rules fire on a file of events, and why",
		Long: `Run the detection rules in RULES.yaml (format: docs/detect.md) over the
events in EVENTS.ndjson, in order, and print every alert with why it fired
and the lines of the events it rests on, then each rule and how often it
fired. Events must be in time order, as lbm simulate writes them; they are
read as if sent by --source. Rules that read reference lists need --lists
DIR, holding one file per list, named after the list (RESTRICTED_RECORDS.csv).
Events that match a confidential channel of --confidential FILE (the format
of DATA/confidential.yaml) are skipped, as they are on ingest.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readAtMost(args[0], detect.MaxFileSize)
			if err != nil {
				return err
			}
			inputs := policy.DefaultDetection()
			rules, err := detect.Parse(args[0], data, inputs)
			if err != nil {
				return err
			}
			var lists detect.Lists
			if listsDir != "" {
				if lists, err = detect.ReadLists(os.DirFS(listsDir), inputs); err != nil {
					var pe *detect.ParseError
					if errors.As(err, &pe) {
						pe.File = filepath.Join(listsDir, pe.File)
						return err
					}
					return fmt.Errorf("--lists %s: %w", listsDir, err)
				}
			}
			var conf *confidential.Matcher
			if confFile != "" {
				b, err := readAtMost(confFile, confidential.MaxFileSize)
				if err != nil {
					return err
				}
				if conf, err = confidential.Parse(b); err != nil {
					return fmt.Errorf("%s: %w", confFile, err)
				}
			}
			engine, err := detect.Compile(rules, lists, conf)
			if err != nil {
				if listsDir == "" && slices.ContainsFunc(rules, func(r *detect.Rule) bool { return len(r.Lists) > 0 }) {
					return withHint(err, "give the reference lists with --lists DIR (see docs/detect.md)")
				}
				return err
			}
			f, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			report, err := detect.Replay(engine, bufio.NewReaderSize(f, 1<<20), args[1], source)
			if err != nil {
				return err
			}
			if asJSON {
				return report.WriteJSON(cmd.OutOrStdout())
			}
			return report.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&listsDir, "lists", "", "directory of reference lists, one NAME.csv per list")
	cmd.Flags().StringVar(&confFile, "confidential", "", "confidential channels and markers (YAML, as DATA/confidential.yaml)")
	cmd.Flags().StringVar(&source, "source", "test", "the source the events are read as coming from")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// readAtMost reads file, refusing one longer than max bytes before
// reading it all.
func readAtMost(file string, max int) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s: longer than %d bytes", file, max)
	}
	return b, nil
}
