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

// maxSkippedShown bounds the skipped messages listed one by one.
const maxSkippedShown = 50

func ingestCmd() *cobra.Command {
	var serverURL, token string
	var batch int
	var quiet bool
	var format, mailbox string
	cmd := &cobra.Command{
		Use:   "ingest FILE...",
		Short: "Push NDJSON event files or mail to a server",
		Long: `Push NDJSON event files to a server's POST /v1/events as a source, and
mail (.eml files, mbox files, directories of them or maildirs) to its
POST /v1/email, which parses each message into an e-mail record.

The server and token come from LBM_SERVER and LBM_TOKEN (keep tokens out of
ps: prefer the environment to --token). Batches refused with 503 or 429 are
retried after the server's Retry-After; events carrying event.id are never
stored twice, nor is a message (known by its Message-ID and mailbox), so a
retried or re-run upload is safe.`,
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
			f, err := ingest.ParseFormat(format)
			if err != nil {
				return err
			}
			files, err := ingest.FindFiles(args, f)
			if err != nil {
				return err
			}
			c := &ingest.Client{Server: serverURL, Token: token}
			newBar := func(size int64, desc string) *progressbar.ProgressBar {
				return progressbar.NewOptions64(size, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription(desc), progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionSetVisibility(!quiet), progressbar.OptionOnCompletion(func() { fmt.Fprintln(cmd.ErrOrStderr()) }))
			}
			var mail []ingest.File
			var mailBytes int64
			var total ingest.UploadStats
			events := false
			for _, file := range files {
				if file.Format != ingest.FormatNDJSON {
					mail = append(mail, file)
					mailBytes += file.Size
					continue
				}
				events = true
				fh, err := os.Open(file.Path)
				if err != nil {
					return err
				}
				bar := newBar(file.Size, file.Path)
				st, err := c.Upload(cmd.Context(), fh, batch, 8<<20, func(read int64) { bar.Set64(read) }, nil)
				fh.Close()
				total.Lines += st.Lines
				total.Accepted += st.Accepted
				total.Duplicates += st.Duplicates
				total.Retries += st.Retries
				if err != nil {
					return fmt.Errorf("%s: %w", file.Path, err)
				}
				bar.Finish()
			}
			if events || len(mail) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "accepted %d events, %d already stored, %d retries\n", total.Accepted, total.Duplicates, total.Retries)
			}
			if len(mail) == 0 {
				return nil
			}
			bar := newBar(mailBytes, fmt.Sprintf("%d mail files", len(mail)))
			st, err := c.UploadMail(cmd.Context(), mail, mailbox, func(read int64) { bar.Set64(read) }, nil)
			if err == nil {
				bar.Finish()
			}
			fmt.Fprintf(cmd.OutOrStdout(), "accepted %d messages, %d already stored, %d kept unparsed, %d skipped\n",
				st.Accepted, st.Duplicates, st.Unparsed, len(st.Skipped))
			for i, sk := range st.Skipped {
				if i == maxSkippedShown {
					fmt.Fprintf(cmd.ErrOrStderr(), "and %d more skipped\n", len(st.Skipped)-i)
					break
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "skipped %s message %d: %s\n", sk.File, sk.Message, sk.Reason)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&serverURL, "server", env("LBM_SERVER", "http://127.0.0.1:8080"), "server URL (LBM_SERVER)")
	cmd.Flags().StringVar(&token, "token", "", "source token (default LBM_TOKEN; the flag shows in ps)")
	cmd.Flags().IntVar(&batch, "batch", 1000, "events per request")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	cmd.Flags().StringVar(&format, "format", "auto", "input format: auto (by extension, else content), ndjson, eml or mbox")
	cmd.Flags().StringVar(&mailbox, "mailbox", "", "the mailbox the mail files were exported from (an address)")
	return cmd
}
