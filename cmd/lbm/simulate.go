package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/simulate"
)

func simulateCmd() *cobra.Command {
	var cfg simulate.Config
	var start, out, labelsFile, listsDir, oversightFile string
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Write realistic synthetic NDJSON activity for a force",
		Long: `Write a force's synthetic activity as NDJSON, with misconduct scenarios
at --misconduct-rate (one per that many people per 30 days) and harmless
near-misses at --near-miss-rate. The events carry no sign of which are
scenarios: --labels FILE writes that apart, one JSON object a line, for
lbm rules test --labels. --lists DIR writes the reference lists the
built-in pack reads, for lbm rules test --lists. --oversight FILE writes
the oversight log of the same force (its investigators' requests, looks
and refused attempts, with misconduct scenarios of its own), as the
detector presents it to the oversight rules; its labels then follow the
activity's in --labels FILE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return withHint(fmt.Errorf("--start %q: %v", start, err), "give a date like 2026-11-02")
				}
				cfg.Start = t
			}
			w := cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriterSize(w, 1<<20)
			n, err := simulate.Generate(bw, cfg)
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			if oversightFile != "" {
				n, err := writeOversight(oversightFile, cfg)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d oversight records\n", n)
			}
			if labelsFile != "" {
				if err := writeLabels(labelsFile, cfg, oversightFile != ""); err != nil {
					return err
				}
			}
			if listsDir != "" {
				if err := writeLists(listsDir, cfg); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d events\n", n)
			return nil
		},
	}
	cmd.Flags().IntVar(&cfg.People, "people", 100, "members of staff")
	cmd.Flags().IntVar(&cfg.Days, "days", 1, "days of activity")
	cmd.Flags().Int64Var(&cfg.Seed, "seed", 1, "random seed; the same flags give the same output")
	cmd.Flags().StringVar(&start, "start", "", "first day, YYYY-MM-DD (default 2026-11-02)")
	cmd.Flags().StringVarP(&out, "output", "o", "-", "output file")
	cmd.Flags().IntVar(&cfg.Misconduct, "misconduct-rate", simulate.DefaultMisconduct, "one misconduct scenario per this many people per 30 days; -1 for none")
	cmd.Flags().IntVar(&cfg.NearMisses, "near-miss-rate", simulate.DefaultNearMisses, "one harmless near-miss per this many people per 30 days; -1 for none")
	cmd.Flags().StringVar(&labelsFile, "labels", "", "write the misconduct scenarios' labels to FILE (NDJSON)")
	cmd.Flags().StringVar(&listsDir, "lists", "", "write the reference lists the built-in pack reads to DIR, one ID.csv each")
	cmd.Flags().StringVar(&oversightFile, "oversight", "", "write the force's oversight log to FILE (NDJSON), and its scenarios to --labels")
	return cmd
}

// writeLabels writes the activity's labels in the order planned, then,
// with oversight, the oversight log's.
func writeLabels(file string, cfg simulate.Config, oversight bool) error {
	labels, err := simulate.Labels(cfg)
	if err != nil {
		return err
	}
	if oversight {
		more, err := simulate.OversightLabels(cfg)
		if err != nil {
			return err
		}
		labels = append(labels, more...)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for _, l := range labels {
		if err := enc.Encode(l); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeOversight(file string, cfg simulate.Config) (int, error) {
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	n, err := simulate.Oversight(f, cfg)
	if err != nil {
		f.Close()
		return n, err
	}
	return n, f.Close()
}

// writeLists writes the lists HR, vetting and security would supply, and
// those lbm derives from its own directory, as the server would build
// them from the simulated force's.
func writeLists(dir string, cfg simulate.Config) error {
	given, err := simulate.Lists(cfg)
	if err != nil {
		return err
	}
	lists := detect.Lists{}
	for id, l := range given {
		lists[id] = detect.ListFromRows(l.Keyed, l.Rows)
	}
	var staff []detect.Staff
	for _, p := range simulate.People(cfg) {
		staff = append(staff, detect.Staff{ID: p.ID, Unit: p.Unit, Pattern: p.Pattern, LeftAt: p.LeftAt})
	}
	for id, l := range detect.DirectoryLists(staff) {
		lists[id] = l
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for id, l := range lists {
		if err := os.WriteFile(filepath.Join(dir, id+".csv"), detect.FormatList(l), 0o644); err != nil {
			return err
		}
	}
	return nil
}
