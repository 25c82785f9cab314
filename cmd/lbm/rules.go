package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/detect/pack"
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
	var listsDir, confFile, source, labelsFile string
	var asJSON, builtin bool
	var slack time.Duration
	cmd := &cobra.Command{
		Use:   "test {RULES.yaml | --builtin} EVENTS.ndjson [--lists DIR] [--labels FILE [--slack 1h]] [--confidential FILE] [--source NAME] [--json]",
		Short: "Show which rules fire on a file of events, and why",
		Long: `Run the detection rules in RULES.yaml (format: docs/detect.md) over the
events in EVENTS.ndjson, in order, and print every alert with why it fired
and the lines of the events it rests on, then each rule and how often it
fired. Events must be in time order, as lbm simulate writes them; they are
read as if sent by --source. Rules that read reference lists need --lists
DIR, holding one file per list, named after the list (RESTRICTED_RECORDS.csv).
Events that match a confidential channel of --confidential FILE (the format
of DATA/confidential.yaml) are skipped, as they are on ingest.

--builtin runs lbm's built-in pack instead of a RULES.yaml. --labels FILE
scores the alerts against labelled misconduct (as lbm simulate --labels
writes): per rule, precision (the share of its alerts that match a label
naming it, for the same user.id or the same key (the rule's by value, such
as the related.user refused about), within --slack of the label's span) and
recall (the share of the labels naming it that it caught), and in total.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if builtin {
				return cobra.ExactArgs(1)(cmd, args)
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs := policy.DefaultDetection()
			var rules []*detect.Rule
			if builtin {
				var err error
				if rules, err = pack.Rules(inputs); err != nil {
					return err
				}
			} else {
				data, err := readAtMost(args[0], detect.MaxFileSize)
				if err != nil {
					return err
				}
				if rules, err = detect.Parse(args[0], data, inputs); err != nil {
					return err
				}
				args = args[1:]
			}
			var labels []detect.Label
			if labelsFile != "" {
				f, err := os.Open(labelsFile)
				if err != nil {
					return err
				}
				labels, err = detect.ParseLabels(f, labelsFile)
				f.Close()
				if err != nil {
					return err
				}
			}
			var err error
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
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			report, err := detect.Replay(engine, bufio.NewReaderSize(f, 1<<20), args[0], source)
			if err != nil {
				return err
			}
			if labelsFile != "" {
				report.Label(labels, labelsFile, slack)
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
	cmd.Flags().BoolVar(&builtin, "builtin", false, "run the built-in pack instead of a RULES.yaml")
	cmd.Flags().StringVar(&labelsFile, "labels", "", "score the alerts against labels (NDJSON, as lbm simulate --labels writes)")
	cmd.Flags().DurationVar(&slack, "slack", time.Hour, "how far outside a label's span a matching alert may be")
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
