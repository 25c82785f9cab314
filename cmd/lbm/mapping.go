package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/capture/mapping"
	"github.com/lbm-project/lbm/internal/capture/pipeline"
	"github.com/lbm-project/lbm/internal/capture/trial"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

func mappingCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "mapping", Short: "Capture mappings: show the built-in ones, try one on sample input"}
	cmd.AddCommand(mappingShowCmd(), mappingTestCmd())
	return cmd
}

func parseInput(s string) (capture.Input, error) {
	if slices.Contains(capture.Inputs, capture.Input(s)) {
		return capture.Input(s), nil
	}
	return "", withHint(fmt.Errorf("unknown input %q", s), "the inputs are syslog, email, ecs and otlp")
}

func mappingShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show syslog|email|ecs|otlp",
		Short: "Print an input's built-in mapping, to start a source's own from",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := parseInput(args[0])
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(mapping.BuiltinYAML(in))
			return err
		},
	}
}

func mappingTestCmd() *cobra.Command {
	var input, source, mailbox, directory string
	var where storeFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test {MAPPING.yaml | --input syslog|email|ecs|otlp} SAMPLE...",
		Short: "Map sample input as the server would, storing nothing",
		Long: `Map sample input the way lbm serve would map it for a source, and print
each event it would store, content fields marked, without storing anything.

The mapping is MAPPING.yaml (a source's DATA/mappings/SOURCE.yaml), or with
--input the built-in mapping of that input. Samples are read as the input's
listener or route reads them: syslog messages one per line (or octet
counted), e-mail as .eml or mbox files, _bulk documents as NDJSON (one
document a line, no action lines), OTLP as an ExportLogsServiceRequest in
JSON.

People are resolved against --directory (a directory file in lbm user
import's format) or the directory of the store --data or --db names;
without either, nobody resolves and each mapping's fallbacks show.`,
		Example: `  lbm mapping test --input syslog auth.log --directory people.csv
  lbm mapping test DATA/mappings/pnc.yaml samples.log --data ./lbm-data`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var m *mapping.Mapping
			if input != "" {
				in, err := parseInput(input)
				if err != nil {
					return err
				}
				m = mapping.Builtin(in)
			} else {
				if len(args) < 2 {
					return withHint(errors.New("no sample given"), "give MAPPING.yaml then one or more sample files, or --input and samples")
				}
				data, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				if m, err = mapping.Parse(filepath.Base(args[0]), data); err != nil {
					return err
				}
				if source == "" {
					source = strings.TrimSuffix(filepath.Base(args[0]), ".yaml")
				}
				args = args[1:]
			}
			dir, err := mappingDirectory(cmd, directory, where)
			if err != nil {
				return err
			}
			var recs []capture.Record
			for _, path := range args {
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				got, err := trial.Read(m.Input, data, mailbox, time.Now())
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				recs = append(recs, got...)
			}
			rep, err := trial.Run(m, source, recs, dir)
			if err != nil {
				return err
			}
			if asJSON {
				return rep.WriteJSON(cmd.OutOrStdout())
			}
			return rep.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "use the built-in mapping of this input instead of a file")
	cmd.Flags().StringVar(&source, "source", "", "the source the events are mapped for (default: the mapping file's name, else sample)")
	cmd.Flags().StringVar(&mailbox, "mailbox", "", "e-mail: the journaled mailbox the messages came from")
	cmd.Flags().StringVar(&directory, "directory", "", "resolve people against this directory file (CSV, as lbm user import reads)")
	where.register(cmd, "", "resolve people against the directory of the store in `DIR`")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// mappingDirectory is the directory lbm mapping test resolves people
// against: a file, a store's, or none.
func mappingDirectory(cmd *cobra.Command, file string, where storeFlags) (mapping.Directory, error) {
	var people []store.PersonKeys
	switch {
	case file != "" && (where.data != "" || where.db != ""):
		return nil, withHint(errors.New("two directories given"), "give --directory or --data/--db, not both")
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		ps, err := identity.ParseDirectory(f, identity.DefaultGradeMap())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, p := range ps {
			people = append(people, store.PersonKeys{ID: p.ID, Number: p.Number, Username: p.Username, Emails: p.Emails, LeftOn: p.LeftOn})
		}
	case where.data != "" || where.db != "":
		cfg := where.config()
		cfg.MustExist = true
		n, err := server.Open(cmd.Context(), cfg)
		if err != nil {
			return nil, err
		}
		defer n.Close()
		if people, err = n.Store.PeopleIndex(cmd.Context()); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	d := &pipeline.Directory{}
	d.Load(people, time.Now())
	return d, nil
}
