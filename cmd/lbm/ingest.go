package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

func ingestCmd() *cobra.Command {
	var serverURL, token string
	var batch int
	var quiet bool
	cmd := &cobra.Command{
		Use:   "ingest FILE...",
		Short: "Push NDJSON event files to a server",
		Long: `Push NDJSON event files to a server's POST /v1/events as a source.

The server and token come from LBM_SERVER and LBM_TOKEN (keep tokens out of
ps: prefer the environment to --token). Batches refused with 503 or 429 are
retried after the server's Retry-After; events carrying event.id are never
stored twice, so a retried or re-run upload is safe.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				// Read here, not as the flag's default, so that --help
				// never prints the token.
				token = os.Getenv("LBM_TOKEN")
			}
			if token == "" {
				return withHint(errors.New("no source token"), "set LBM_TOKEN to the token `lbm source add NAME` printed")
			}
			c := &ingest.Client{Server: serverURL, Token: token}
			var total ingest.UploadStats
			for _, path := range args {
				f, err := os.Open(path)
				if err != nil {
					return err
				}
				info, err := f.Stat()
				if err != nil {
					f.Close()
					return err
				}
				bar := progressbar.NewOptions64(info.Size(), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription(path), progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionSetVisibility(!quiet), progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
				st, err := c.Upload(cmd.Context(), f, batch, 8<<20, func(read int64) { bar.Set64(read) }, nil)
				f.Close()
				total.Lines += st.Lines
				total.Accepted += st.Accepted
				total.Duplicates += st.Duplicates
				total.Retries += st.Retries
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				bar.Finish()
			}
			fmt.Fprintf(cmd.OutOrStdout(), "accepted %d events, %d already stored, %d retries\n", total.Accepted, total.Duplicates, total.Retries)
			return nil
		},
	}
	cmd.Flags().StringVar(&serverURL, "server", env("LBM_SERVER", "http://127.0.0.1:8080"), "server URL (LBM_SERVER)")
	cmd.Flags().StringVar(&token, "token", "", "source token (default LBM_TOKEN; the flag shows in ps)")
	cmd.Flags().IntVar(&batch, "batch", 1000, "events per request")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}
