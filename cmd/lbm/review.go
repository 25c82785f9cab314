package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/safetext"
)

// maxBundle bounds the evidence bundle the export command saves.
const maxBundle = 1 << 30

// filterFlags are the filters of a query or an export
// (docs/contract.md, POST /v1/requests/{id}/queries).
type filterFlags struct {
	subjects, categories, sources, actions []string
	from, to                               timeFlag
	content                                bool
	text, justification                    string
}

func (f *filterFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.subjects, "subject", nil, "only these subjects (repeat or comma-separate)")
	fl.StringSliceVar(&f.categories, "category", nil, "only these categories")
	fl.StringSliceVar(&f.sources, "source", nil, "only these sources")
	fl.StringSliceVar(&f.actions, "action", nil, "only these actions")
	fl.Var(&f.from, "from", "events at or after this time (RFC 3339)")
	fl.Var(&f.to, "to", "events before this time (RFC 3339)")
	fl.BoolVar(&f.content, "content", false, "ask for content where the authorisation grants it")
	fl.StringVar(&f.text, "text", "", "words the content must hold")
	textFlag(cmd, &f.justification, "justification", "why this look is needed now: recorded with it in the oversight log")
}

func (f *filterFlags) filter() review.Filter {
	out := review.Filter{Subjects: f.subjects, Categories: f.categories, Sources: f.sources, Actions: f.actions,
		Content: f.content, Text: f.text}
	if !f.from.t.IsZero() {
		out.From = &f.from.t
	}
	if !f.to.t.IsZero() {
		out.To = &f.to.t
	}
	return out
}

func requestQueryCmd(api *apiFlags) *cobra.Command {
	var f filterFlags
	var after string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "query ID --justification TEXT [filters]",
		Short: "Look at monitored data under an authorisation you are named on",
		Long: `Run a scoped query under authorisation ID: POST /v1/requests/{ID}/queries.
Filters left out mean the whole scope; one naming anything outside it is
refused, and the attempt recorded. The access record, with the
justification, is written to the oversight log before any result comes
back; its index is printed, and lbm request receipt INDEX fetches the
proof. People other than the subjects appear as pseudonyms.`,
		Args: requestID,
		RunE: func(cmd *cobra.Command, args []string) error {
			just, err := readText("justification", f.justification)
			if err != nil {
				return err
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			body := review.QueryInput{Filter: f.filter(), Justification: just, After: after, Limit: limit}
			var raw json.RawMessage
			if err := call(cmd, c, "POST", requestPath(args[0])+"/queries", body, &raw); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			var res review.Result
			if err := json.Unmarshal(raw, &res); err != nil {
				return withHint(fmt.Errorf("reading the server's answer: %v", err), "--json prints it as it came")
			}
			return writeResult(cmd.OutOrStdout(), res)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&after, "after", "", "the next page: the cursor the previous page printed")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many events (1 to 1000; default 100)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the answer as JSON")
	return cmd
}

// writeResult prints a query's events, one block each, escaping every
// value: they are what people typed and systems logged.
func writeResult(w io.Writer, res review.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "access record %d (lbm request receipt %d proves it); %d events\n", res.AccessRecord, res.AccessRecord, len(res.Events))
	for _, ev := range res.Events {
		// The log names where the index counts from: the activity log's
		// shards each number their entries from 0.
		where := fmt.Sprintf("index %d", ev.Index)
		if ev.Log != "" {
			where = fmt.Sprintf("%s index %d", safetext.Escape(ev.Log), ev.Index)
		}
		fmt.Fprintf(&b, "\n%s  %s  %s  id %s\n", ev.Time.Format(time.RFC3339), safetext.Escape(ev.Source), where, ev.ID)
		for _, h := range ev.HeldBack {
			fmt.Fprintf(&b, "  held back as confidential (%s: %s) until a legal adviser releases it\n", safetext.Escape(h.Kind), safetext.Escape(h.What))
		}
		for _, f := range ev.Fields {
			mark := ""
			if f.Pseudonymised {
				mark = "  (pseudonym)"
			}
			fmt.Fprintf(&b, "  %s: %s%s\n", safetext.Escape(f.Name), safetext.Escape(string(f.Value)), mark)
		}
		if ev.ContentDeleted {
			b.WriteString("  content: deleted under retention\n")
		}
	}
	if res.Next != "" {
		fmt.Fprintf(&b, "\nmore: --after %s\n", res.Next)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func requestExportCmd(api *apiFlags) *cobra.Command {
	var f filterFlags
	var events []string
	var recipient, purpose, out string
	cmd := &cobra.Command{
		Use:   "export ID --recipient WHO --purpose WHY --justification TEXT -o FILE.zip [filters] [--event ID]...",
		Short: "Save an evidence bundle of events under an authorisation, for a named recipient",
		Long: `Export the events the filters select (or only those named with --event, ids
a query printed) as an evidence bundle: POST /v1/requests/{ID}/exports.
The bundle discloses exactly what you may see; the rest of each event is
there only as commitments, and people who are not subjects only as
pseudonyms. Its disclosure, naming the recipient, is written to the
oversight log first. Anyone can check the bundle with lbm verify bundle
FILE.zip, without lbm's servers.`,
		Args: requestID,
		RunE: func(cmd *cobra.Command, args []string) error {
			just, err := readText("justification", f.justification)
			if err != nil {
				return err
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			// Written beside the target and renamed, so that a refusal or a
			// broken connection leaves no partial bundle behind.
			tmp, err := os.CreateTemp(filepath.Dir(out), ".lbm-export-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			body := review.ExportInput{Filter: f.filter(), Events: events, Recipient: recipient, Purpose: purpose, Justification: just}
			h, err := c.DoTo(cmd.Context(), "POST", requestPath(args[0])+"/exports", body, tmp, maxBundle)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return hinted(cmd, err)
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %s (SHA-256 %s)\ndisclosure recorded at oversight-log index %s; check the bundle with: lbm verify bundle %s\n",
				out, safetext.Escape(h.Get("LBM-Bundle-SHA256")), safetext.Escape(h.Get("LBM-Access-Record")), out)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringSliceVar(&events, "event", nil, "only these event ids (from a query)")
	cmd.Flags().StringVar(&recipient, "recipient", "", "who the bundle is disclosed to (required)")
	cmd.Flags().StringVar(&purpose, "purpose", "", "what the recipient needs it for (required)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to save the bundle to (required)")
	for _, n := range []string{"recipient", "purpose", "output"} {
		cmd.MarkFlagRequired(n)
	}
	return cmd
}

func requestReceiptCmd(api *apiFlags) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "receipt INDEX [-o FILE]",
		Short: "Fetch the receipt of one of your access records, and check it",
		Long: `Fetch the receipt of your access record INDEX (a query's or an export's):
GET /v1/receipts/{INDEX}. A receipt is the record's leaf, its inclusion
proof and the signed oversight-log checkpoint it is proven against. It is
checked here, and saved with -o for anyone to check later with lbm verify
receipt FILE.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := strconv.ParseUint(args[0], 10, 64); err != nil {
				return fmt.Errorf("%s is not an access record's index", safetext.Quote(args[0]))
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := call(cmd, c, "GET", "/v1/receipts/"+args[0], nil, &raw); err != nil {
				return err
			}
			var rc review.Receipt
			if err := json.Unmarshal(raw, &rc); err != nil {
				return fmt.Errorf("reading the receipt: %v", err)
			}
			if err := review.VerifyReceipt(rc, ""); err != nil {
				return fmt.Errorf("the server's receipt does not verify: %v", err)
			}
			if out != "" {
				if err := os.WriteFile(out, append(raw, '\n'), 0o600); err != nil {
					return err
				}
			}
			return writeReceipt(cmd.OutOrStdout(), rc, out)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "save the receipt (JSON) to this file")
	return cmd
}

func writeReceipt(w io.Writer, rc review.Receipt, saved string) error {
	r := rc.Record
	results := "-"
	if r.Results != nil {
		results = strconv.Itoa(*r.Results)
	}
	fmt.Fprintf(w, "OK: access record %d (%s) by %s at %s, request %s, %s results, is in %s\n",
		r.Index, safetext.Escape(r.Action), safetext.Escape(r.Actor), r.Time.Format(time.RFC3339),
		safetext.Escape(r.Request), results, safetext.Escape(rc.Origin))
	fmt.Fprintf(w, "verifier key (the receipt's own: compare it with the one your organisation publishes): %s\n", safetext.Escape(rc.VerifierKey))
	if saved != "" {
		fmt.Fprintf(w, "saved %s; check it any time with: lbm verify receipt %s\n", saved, saved)
	}
	return nil
}

func verifyReceiptCmd() *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "receipt FILE [--key VKEY]",
		Short: "Check a saved access-record receipt offline",
		Long: `Check a receipt saved by lbm request receipt -o: the checkpoint's signature
(against --key, else the receipt's own key), and that the record's leaf is
in the oversight log at its index.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			b, err := readFileUpTo(args[0], 1<<20)
			if err != nil {
				return fail(out, "%s: %v", args[0], err)
			}
			var rc review.Receipt
			if err := json.Unmarshal(b, &rc); err != nil {
				return fail(out, "%s: not a receipt: %v", args[0], err)
			}
			if err := review.VerifyReceipt(rc, key); err != nil {
				return fail(out, "%s: %v", args[0], err)
			}
			return writeReceipt(out, rc, "")
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the oversight log's verifier key to check against")
	return cmd
}
