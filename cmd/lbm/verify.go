package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/evidence"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store/engine"
	"github.com/lbm-project/lbm/internal/tlog"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

var errFailed = errors.New("verification failed")

// target is where a verify command reads a log from: a data directory or a server.
type target struct {
	where            storeFlags
	server, log, key string
}

func (t *target) flags(cmd *cobra.Command) {
	t.where.register(cmd, "", "read the log from this data directory (with --db, its keys only)")
	cmd.Flags().StringVar(&t.server, "server", os.Getenv("LBM_SERVER"), "read the log from this server (LBM_SERVER)")
	cmd.Flags().StringVar(&t.log, "log", "activity", "which log: activity, a shard of it (activity-N) or oversight")
	cmd.Flags().StringVar(&t.key, "key", "", "verifier key to trust (default: from --data, else as the server publishes it)")
}

// verifierKey finds the key to check signatures with, and says where it came from.
func (t *target) verifierKey(ctx context.Context) (string, string, error) {
	switch {
	case t.key != "":
		return t.key, "--key", nil
	case t.where.data != "":
		vkey, err := server.VerifierKeyIn(t.where.data, t.log)
		return vkey, "the data directory", err
	case t.server != "":
		list, err := t.serverLogs(ctx)
		if err != nil {
			return "", "", err
		}
		for _, l := range list {
			if l.Name == t.log {
				return l.VerifierKey, "the server (pin it with --key for an independent check)", nil
			}
		}
		return "", "", fmt.Errorf("the server has no %q log", t.log)
	}
	return "", "", withHint(errors.New("nothing to verify against"), "give --data DIR, --server URL or --key")
}

// serverLog is a log as GET /v1/transparency-logs lists it.
type serverLog struct {
	Name        string `json:"name"`
	VerifierKey string `json:"verifier_key"`
}

// serverLogs reads the server's list of logs.
func (t *target) serverLogs(ctx context.Context) ([]serverLog, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(t.server, "/")+"/v1/transparency-logs", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list struct {
		Logs []serverLog `json:"logs"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&list); err != nil {
		return nil, fmt.Errorf("reading %s/v1/transparency-logs: %v", t.server, err)
	}
	return list.Logs, nil
}

func (t *target) source(ctx context.Context) (tlog.HistorySource, func(), error) {
	switch {
	case t.where.data != "":
		// Only --data says "read the store here"; --db (perhaps from LBM_DB)
		// only says which engine it is on, so that a witness with LBM_DB in
		// its environment still checks the server it names.
		st, _, err := engine.Open(ctx, engine.Config{DataDir: t.where.data, DB: t.where.db, KeysDB: t.where.keysDB, MustExist: true})
		if err != nil {
			return nil, nil, err
		}
		return tlog.NewStoreLog(st, t.log), func() { st.Close() }, nil
	case t.server != "":
		return &tlog.HTTPSource{URL: strings.TrimSuffix(t.server, "/") + "/log/" + t.log + "/"}, func() {}, nil
	}
	return nil, nil, withHint(errors.New("no log to read"), "give --data DIR (with --db URL for PostgreSQL) or --server URL")
}

// logNames lists the logs of the target: those the server lists, or
// those the store holds (the activity log's shards among them).
func (t *target) logNames(ctx context.Context) ([]string, error) {
	if t.where.data != "" {
		st, _, err := engine.Open(ctx, engine.Config{DataDir: t.where.data, DB: t.where.db, KeysDB: t.where.keysDB, MustExist: true})
		if err != nil {
			return nil, err
		}
		defer st.Close()
		registered, err := st.RegisteredLogs(ctx)
		if err != nil {
			return nil, err
		}
		if len(registered) == 0 {
			// A store no server has served since logs were registered.
			return server.LogNames, nil
		}
		var names []string
		for _, l := range registered {
			names = append(names, l.Name)
		}
		return names, nil
	}
	if t.server != "" {
		list, err := t.serverLogs(ctx)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, l := range list {
			names = append(names, l.Name)
		}
		return names, nil
	}
	return server.LogNames, nil
}

// open resolves the verifier key and the log to read, for the commands
// that need both.
func (t *target) open(ctx context.Context) (string, tlog.HistorySource, func(), error) {
	vkey, _, err := t.verifierKey(ctx)
	if err != nil {
		return "", nil, nil, err
	}
	src, done, err := t.source(ctx)
	if err != nil {
		return "", nil, nil, err
	}
	return vkey, src, done, nil
}

func verifyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "verify", Short: "Check checkpoints, proofs and stores; prints OK or FAIL lines, exits 1 on any failure"}
	cmd.AddCommand(verifyCheckpointCmd(), verifyConsistencyCmd(), verifyHistoryCmd(), verifyInclusionCmd(), verifyStoreCmd(), verifyBundleCmd(), verifyReceiptCmd())
	return cmd
}

func fail(w io.Writer, format string, args ...any) error {
	fmt.Fprintf(w, "FAIL: "+format+"\n", args...)
	return errFailed
}

func verifyCheckpointCmd() *cobra.Command {
	var t target
	cmd := &cobra.Command{
		Use:   "checkpoint FILE",
		Short: "Check a saved checkpoint's signature",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			vkey, from, err := t.verifierKey(cmd.Context())
			if err != nil {
				return err
			}
			c, err := tlog.OpenCheckpoint(b, vkey)
			if err != nil {
				return fail(out, "%s: %v", args[0], err)
			}
			fmt.Fprintf(out, "OK: %s is a checkpoint of %s at size %d, root %s, signed by the key from %s\n",
				args[0], c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root), from)
			return nil
		},
	}
	t.flags(cmd)
	return cmd
}

func verifyConsistencyCmd() *cobra.Command {
	var t target
	var old string
	cmd := &cobra.Command{
		Use:   "consistency --old FILE",
		Short: "Check that the log today extends a checkpoint saved earlier",
		Long: `Check that the log today is an append-only extension of a checkpoint saved
earlier. This catches a rewritten history even when whoever rewrote it held
the signing key, because the new tree no longer contains the old one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if old == "" {
				return withHint(errors.New("no old checkpoint"), "save one with: curl -s $LBM_SERVER/log/activity/checkpoint > old.checkpoint")
			}
			b, err := os.ReadFile(old)
			if err != nil {
				return err
			}
			vkey, src, done, err := t.open(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			before, now, err := tlog.VerifyConsistency(cmd.Context(), src, b, vkey)
			if err != nil {
				return fail(out, "%s log is not consistent with %s: %v", t.log, old, err)
			}
			fmt.Fprintf(out, "OK: %s log at size %d extends the checkpoint in %s (size %d)\n", t.log, now.Size, old, before.Size)
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVar(&old, "old", "", "checkpoint saved earlier")
	return cmd
}

func verifyHistoryCmd() *cobra.Command {
	var t target
	var quiet bool
	cmd := &cobra.Command{
		Use:   "history [--server URL | --data DIR] [--log activity|oversight]",
		Short: "Check that the log today extends every checkpoint it ever published",
		Long: `Check every checkpoint a log ever published: that it is signed by the
log's key, and that a consistency proof from it to the log's current
checkpoint, built from the tiles served today, checks. Every published
checkpoint is then a prefix of one append-only log, so nobody rewrote what
one of them committed to, whatever key they held; a checkpoint altered
where it is kept fails too. Both logs unless --log names one. Against a
server (--server URL) it needs no access to the data, only the verifier
key, which --key pins (else it is read from the server).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			logs := []string{t.log}
			if !cmd.Flags().Changed("log") {
				var err error
				if logs, err = t.logNames(cmd.Context()); err != nil {
					return err
				}
			}
			failed := false
			for _, name := range logs {
				t.log = name
				vkey, src, done, err := t.open(cmd.Context())
				if err != nil {
					return err
				}
				var bar *progressbar.ProgressBar
				if !quiet {
					bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
						progressbar.OptionSetDescription(name+" checkpoints"), progressbar.OptionShowCount(),
						progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
				}
				h, err := tlog.VerifyHistory(cmd.Context(), src, vkey, func(n uint64) {
					if bar != nil {
						bar.Set64(int64(n))
					}
				})
				if bar != nil {
					bar.Finish()
				}
				done()
				if err != nil {
					return fmt.Errorf("%s log: %w", name, err)
				}
				if !h.OK() {
					failed = true
					for _, p := range h.Problems {
						fmt.Fprintf(out, "FAIL: %s log: %s\n", name, p)
					}
					continue
				}
				if h.Checked == 0 {
					fmt.Fprintf(out, "OK: %s log at size %d has published no checkpoint before this one\n", name, h.Current)
					continue
				}
				fmt.Fprintf(out, "OK: %s log at size %d extends all %d checkpoints it published (sizes %d to %d)\n",
					name, h.Current, h.Checked, h.First, h.Last)
			}
			if failed {
				return errFailed
			}
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

func verifyInclusionCmd() *cobra.Command {
	var t target
	var index uint64
	cmd := &cobra.Command{
		Use:   "inclusion --index N",
		Short: "Check that entry N is in the log's latest checkpoint",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if !cmd.Flags().Changed("index") {
				return withHint(errors.New("no entry given"), "give --index N (the ingest reply lists each event's index)")
			}
			vkey, src, done, err := t.open(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			_, c, err := tlog.VerifyInclusion(cmd.Context(), src, index, vkey)
			if err != nil {
				return fail(out, "entry %d of the %s log: %v", index, t.log, err)
			}
			fmt.Fprintf(out, "OK: entry %d is in the %s log's checkpoint of size %d\n", index, t.log, c.Size)
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().Uint64Var(&index, "index", 0, "the entry's leaf index")
	return cmd
}

func verifyStoreCmd() *cobra.Command {
	var where storeFlags
	var quiet bool
	cmd := &cobra.Command{
		Use:   "store --data DIR [--db URL]",
		Short: "Re-check every commitment, tile, tree state and checkpoint in a data directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			cfg := where.config()
			cfg.MustExist = true
			n, err := server.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer n.Close()
			bars := map[string]*progressbar.ProgressBar{}
			problems, err := server.VerifyStore(cmd.Context(), n, func(log string, done, total uint64) {
				if quiet {
					return
				}
				if bars[log] == nil {
					bars[log] = progressbar.NewOptions64(int64(total), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
						progressbar.OptionSetDescription(log), progressbar.OptionShowCount(),
						progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
				}
				bars[log].Set64(int64(done))
			})
			if err != nil {
				return err
			}
			failed := false
			for _, name := range slices.Sorted(maps.Keys(problems)) {
				size := uint64(0)
				if st, err := n.Store.LogState(cmd.Context(), name); err == nil {
					size = st.Size
				}
				if len(problems[name]) == 0 {
					fmt.Fprintf(out, "OK: %s log: %d entries, every commitment, tile and checkpoint checks\n", name, size)
					continue
				}
				failed = true
				for _, p := range problems[name] {
					fmt.Fprintf(out, "FAIL: %s\n", p)
				}
			}
			if failed {
				return errFailed
			}
			return nil
		},
	}
	where.register(cmd, "./lbm-data", "data directory: keys, and the SQLite store unless --db")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

func verifyBundleCmd() *cobra.Command {
	var key string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bundle FILE.zip [--key VKEY] [--json]",
		Short: "Check an evidence bundle offline: manifest, signature, commitments and proofs",
		Long: `Check an evidence bundle offline: every file against the manifest, the
checkpoint's signature, each disclosed field against its event's commitments,
and each event's inclusion proof. It needs no network and no data directory.

The bundle carries the log's verifier key; give the key the organisation
publishes with --key to check that the log is theirs. A bundle of events
from several logs (the shards of a service of several nodes) carries each
log's checkpoint and key: give every log's key, comma-separated.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			rep, err := evidence.Verify(f, fi.Size())
			if err != nil {
				return fail(out, "%s: %v", args[0], err)
			}
			several := len(rep.Logs) > 1
			switch {
			case key == "":
			case !several && strings.TrimSpace(key) != rep.VerifierKey:
				return fail(out, "%s: signed by %s, not by the key given with --key", args[0], rep.VerifierKey)
			case several:
				if err := rep.SignedBy(strings.Split(key, ",")...); err != nil {
					return fail(out, "%s: %v", args[0], err)
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			if several {
				fmt.Fprintf(out, "OK: %s: %d events of %d logs, each in its log's checkpoint; %d fields disclosed, %d withheld, %d pseudonyms (not proven)\n",
					args[0], len(rep.Events), len(rep.Logs), rep.Disclosed, rep.Withheld, rep.Pseudonyms)
				for _, l := range rep.Logs {
					fmt.Fprintf(out, "  log %s (%s): checkpoint of size %d\n", l.Log, l.Origin, l.Size)
				}
			} else {
				fmt.Fprintf(out, "OK: %s: %d events of %s in its checkpoint of size %d; %d fields disclosed, %d withheld, %d pseudonyms (not proven)\n",
					args[0], len(rep.Events), rep.Origin, rep.Size, rep.Disclosed, rep.Withheld, rep.Pseudonyms)
			}
			for _, e := range rep.Events {
				names := make([]string, len(e.Disclosed))
				for i, d := range e.Disclosed {
					names[i] = d.Name
				}
				which := strconv.FormatUint(e.Index, 10)
				if several {
					which = e.Log + "/" + which
				}
				fmt.Fprintf(out, "  event %s (%s, %s, %s): disclosed %s; withheld %s\n", which, e.ID,
					e.Time.Format(time.RFC3339Nano), e.Source, listOrNone(names), listOrNone(e.Withheld))
				for _, p := range e.Pseudonyms {
					fmt.Fprintf(out, "    %s shown as %q: a pseudonym, not proven\n", p.Field, p.Pseudonym)
				}
			}
			fmt.Fprintf(out, "recipient: %s\npurpose: %s\nmanifest SHA-256: %s\n", rep.Recipient, rep.Purpose, rep.ManifestSHA256)
			switch {
			case key != "":
			case several:
				for _, l := range rep.Logs {
					fmt.Fprintf(out, "verifier key of %s (the bundle's own; compare it with the one the organisation publishes, or pass --key): %s\n", l.Log, l.VerifierKey)
				}
			default:
				fmt.Fprintf(out, "verifier key (the bundle's own; compare it with the one the organisation publishes, or pass --key): %s\n", rep.VerifierKey)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the verifier key to trust (one per log, comma-separated, for a bundle of several logs); without it, the bundle's own keys are used and printed")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
