package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/apiclient"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/safetext"
)

// Limits on the files the request commands read.
const (
	maxRequestFile = 1 << 20  // a request or a views file (the server takes 64 KiB)
	maxTextFile    = 64 << 10 // a text flag's @FILE
)

// apiFlags are the server and token every request command uses.
type apiFlags struct {
	server, token string
}

// client returns a client for the server with the token from --token, else
// LBM_TOKEN. The token is read from the environment only now, and never
// set as the flag's default, so that --help cannot print it.
func (f *apiFlags) client() (*apiclient.Client, error) {
	token := f.token
	if token == "" {
		token = os.Getenv("LBM_TOKEN")
	}
	if token == "" {
		return nil, withHint(errors.New("no API token"), "set LBM_TOKEN to your API token (--token works too, but shows in ps)")
	}
	return apiclient.New(f.server, token)
}

// call makes one API call, adding advice to the refusals a person fixes
// on their own side.
func call(cmd *cobra.Command, c *apiclient.Client, method, path string, body, out any, opts ...apiclient.CallOption) error {
	return hinted(cmd, c.Do(cmd.Context(), method, path, body, out, opts...))
}

// hinted adds to err, an API call's, the advice call gives.
func hinted(cmd *cobra.Command, err error) error {
	switch {
	case errors.Is(err, apiclient.ErrUnauthenticated):
		return withHint(err, "check LBM_TOKEN (or --token): the server knows no such token, or it has expired or been revoked")
	case errors.Is(err, apiclient.ErrStepUpRequired):
		return withHint(err, "give the current code from your authenticator app with --otp CODE or LBM_OTP (each code works once)")
	}
	var p *apiclient.Problem
	if err != nil && !errors.As(err, &p) && cmd.Context().Err() == nil {
		// No answer, or not lbm's: most often the wrong address.
		return withHint(err, "check the server address (--server or LBM_SERVER) and that lbm serve is running there")
	}
	return err
}

func requestCmd() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Draft, submit, advise on, decide and follow requests to review, monitor or record",
		Long: `Work with requests on a server, through the API of docs/contract.md
("Requests"). Each subcommand is one route: create drafts a request from a
JSON file, the others move it through its life, and show and list read.

The server and token come from LBM_SERVER and LBM_TOKEN (keep the token out
of ps: prefer the environment to --token). The step-up actions (decide,
ratify, review, renew) also need the current code of your authenticator
app, from --otp or LBM_OTP. A text flag's value may be @FILE, to read the
text from FILE.

A refusal prints the server's reason, and the field it concerns, and exits 1.`,
	}
	cmd.PersistentFlags().StringVar(&api.server, "server", env("LBM_SERVER", "http://127.0.0.1:8080"), "server URL (LBM_SERVER)")
	cmd.PersistentFlags().StringVar(&api.token, "token", "", "API token (default LBM_TOKEN; the flag shows in ps)")
	cmd.AddCommand(
		requestCreateCmd(&api),
		requestSubmitCmd(&api),
		requestAdviseCmd(&api),
		requestDecideCmd(&api),
		requestRatifyCmd(&api),
		requestReviewCmd(&api),
		requestRenewCmd(&api),
		requestCancelCmd(&api),
		requestWithdrawCmd(&api),
		requestCloseCmd(&api),
		requestShowCmd(&api),
		requestListCmd(&api),
		requestQueryCmd(&api),
		requestExportCmd(&api),
		requestReceiptCmd(&api),
	)
	return cmd
}

func requestCreateCmd(api *apiFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create FILE.json",
		Short: "Draft a request from a JSON file",
		Long: `Send the request in FILE.json (the requester-written fields of
docs/contract.md, "Requests") to POST /v1/requests, which stores it as a
draft, and print its reference and id. A draft may be incomplete: show
lists what submitting would refuse.`,
		Args: func(_ *cobra.Command, args []string) error {
			switch len(args) {
			case 0:
				return errors.New("missing the request file (FILE.json)")
			case 1:
				return nil
			}
			return fmt.Errorf("want one request file, got %d arguments", len(args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readJSONFile(args[0], new(map[string]json.RawMessage))
			if err != nil {
				return err
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := call(cmd, c, "POST", "/v1/requests", body, &raw); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			r, err := decodeRequest(raw)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "created %s (id %s), state %s\n", safetext.Escape(r.Reference), safetext.Escape(r.ID), safetext.Escape(string(r.State)))
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stored request as JSON")
	return cmd
}

// transitionCmd returns the command for use, which posts the body that
// body builds (refusing bad input before anything is sent) to
// /v1/requests/{ID}/{route}, with the one-time code if stepUp, and
// prints the request's new state. The caller adds the command's own
// flags.
func transitionCmd(api *apiFlags, use, short, long, route string, stepUp bool, body func() (any, error)) *cobra.Command {
	var asJSON bool
	var otp string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  requestID,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := body()
			if err != nil {
				return err
			}
			var opts []apiclient.CallOption
			if stepUp {
				code, err := otpCode(otp)
				if err != nil {
					return err
				}
				opts = append(opts, apiclient.OTP(code))
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := call(cmd, c, "POST", requestPath(args[0])+"/"+route, b, &raw, opts...); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			r, err := decodeRequest(raw)
			if err != nil {
				return err
			}
			line := safetext.Escape(r.Reference) + ": " + safetext.Escape(string(r.State))
			if (r.State == requests.Active || r.State == requests.ReviewDue) && !r.ExpiresAt.IsZero() {
				line += " until " + formatTime(r.ExpiresAt)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), line)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the request as JSON")
	if stepUp {
		cmd.Flags().StringVar(&otp, "otp", "", "the current code of your authenticator app (default LBM_OTP)")
	}
	return cmd
}

// requestID checks a command's one argument, the request's id.
func requestID(_ *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return withHint(errors.New("missing the request ID"), "`lbm request list` shows the ids of your requests")
	case len(args) > 1:
		return fmt.Errorf("want one request ID, got %d arguments", len(args))
	case strings.TrimSpace(args[0]) == "":
		return errors.New("empty request ID")
	}
	return nil
}

// requestPath is the path of request id.
func requestPath(id string) string { return "/v1/requests/" + url.PathEscape(id) }

// otpCode returns the one-time code from --otp, else LBM_OTP: "" or six
// digits. It never quotes a bad code back.
func otpCode(flag string) (string, error) {
	code, from := flag, "--otp"
	if code == "" {
		code, from = os.Getenv("LBM_OTP"), "LBM_OTP"
	}
	if code == "" {
		return "", nil
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return "", fmt.Errorf("%s: want the 6-digit code from your authenticator app", from)
	}
	return code, nil
}

// textFlag defines the required text flag name, whose value may be @FILE.
func textFlag(cmd *cobra.Command, p *string, name, usage string) {
	cmd.Flags().StringVar(p, name, "", usage+" (or @FILE)")
	cmd.MarkFlagRequired(name)
}

// readText returns the text of flag name: its value, or the content of
// FILE for @FILE without its final line break. It refuses empty text and
// a file that is not UTF-8, which JSON could not carry unchanged.
func readText(name, v string) (string, error) {
	if file, ok := strings.CutPrefix(v, "@"); ok {
		b, err := readFileUpTo(file, maxTextFile)
		if err != nil {
			return "", fmt.Errorf("--%s: %w", name, err)
		}
		if !utf8.Valid(b) {
			return "", fmt.Errorf("--%s: %s is not UTF-8 text", name, file)
		}
		v = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("--%s is empty", name)
	}
	return v, nil
}

// readFileUpTo reads the file at path, refusing one larger than limit.
func readFileUpTo(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d KiB", path, limit>>10)
	}
	return b, nil
}

// readJSONFile reads the JSON object at path into v (a pointer to a map)
// and returns it as it is, naming the line and column of a fault.
func readJSONFile(path string, v any) (json.RawMessage, error) {
	b, err := readFileUpTo(path, maxRequestFile)
	if err != nil {
		return nil, err
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	err = json.Unmarshal(b, v)
	switch kind := jsonKind(b); {
	case errors.As(err, &se):
		// Offset counts the byte at fault; point at it.
		line, col := lineCol(b, se.Offset-1)
		return nil, fmt.Errorf("%s: line %d, column %d: not JSON: %v", path, line, col, err)
	case kind != "object":
		return nil, fmt.Errorf("%s: want a JSON object, found %s", path, kind)
	case errors.As(err, &te):
		// Offset counts the value at fault; point at its last byte.
		line, col := lineCol(b, te.Offset-1)
		field := ""
		if te.Field != "" {
			field = safetext.Escape(te.Field) + ": "
		}
		return nil, fmt.Errorf("%s: line %d, column %d: %swant a %v, found %s", path, line, col, field, te.Type, te.Value)
	case err != nil:
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return json.RawMessage(b), nil
}

// jsonKind names the kind of the JSON value b holds, from its first byte.
func jsonKind(b []byte) string {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// lineCol returns the 1-based line and column (in bytes) of offset in b.
func lineCol(b []byte, offset int64) (line, col int) {
	off := int(min(max(offset, 0), int64(len(b))))
	before := b[:off]
	return bytes.Count(before, []byte("\n")) + 1, off - bytes.LastIndexByte(before, '\n')
}

// timeFlag is a flag holding an RFC 3339 time; zero when not given.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return errors.New("not an RFC 3339 time, e.g. 2027-02-26T10:00:00Z")
	}
	f.t = t
	return nil
}

func (f *timeFlag) Type() string { return "time" }

// The bodies of the transitions (docs/contract.md, "Request routes").
// Times left out are not sent: the server then uses the longest allowed.
type (
	adviceBody struct {
		View string `json:"view"`
	}
	decisionBody struct {
		Authorise        bool              `json:"authorise"`
		Reasons          string            `json:"reasons"`
		Views            map[string]string `json:"views,omitempty"`
		DirectlyInvolved bool              `json:"directly_involved"`
		Until            time.Time         `json:"until,omitzero"`
	}
	ratificationBody struct {
		Reasons string    `json:"reasons"`
		Until   time.Time `json:"until,omitzero"`
	}
	reviewBody struct {
		Notes string    `json:"notes"`
		Next  time.Time `json:"next,omitzero"`
	}
	renewalBody struct {
		Reasons          string    `json:"reasons"`
		DirectlyInvolved bool      `json:"directly_involved"`
		Until            time.Time `json:"until,omitzero"`
	}
	reasonsBody struct {
		Reasons string `json:"reasons"`
	}
	closureBody struct {
		Outcome string `json:"outcome"`
		Useful  bool   `json:"useful"`
		Kept    string `json:"kept"`
	}
)

func requestSubmitCmd(api *apiFlags) *cobra.Command {
	return transitionCmd(api, "submit ID", "Submit a draft for decision",
		`Submit a draft: the server checks it (every refused field is listed) and
fixes the authority it needs, then it awaits a decision, or first the views
of the advisers it needs.`,
		"submit", false, func() (any, error) { return struct{}{}, nil })
}

func requestAdviseCmd(api *apiFlags) *cobra.Command {
	var view string
	cmd := transitionCmd(api, "advise ID --view TEXT", "Give an adviser's view on a request",
		`Record your view, as a legal, DPO or ethics adviser whose view the request
needs.`,
		"advice", false, func() (any, error) {
			v, err := readText("view", view)
			return adviceBody{View: v}, err
		})
	textFlag(cmd, &view, "view", "your view")
	return cmd
}

func requestDecideCmd(api *apiFlags) *cobra.Command {
	var authorise, refuse, involved bool
	var reasons, views string
	var until timeFlag
	cmd := transitionCmd(api, "decide ID (--authorise|--refuse) --reasons TEXT --views FILE.json [--directly-involved] [--until T]",
		"Authorise or refuse a submitted request (step-up)",
		`Authorise or refuse a submitted request, with your reasons and, to
authorise, your view on each proportionality criterion the requester
answered: --views names a JSON file {"CRITERION": "view", …}. An
authorisation lasts the longest the request's level allows, or until
--until if earlier. Needs the current code of your authenticator app.`,
		"decision", true, func() (any, error) {
			switch {
			case authorise && refuse:
				return nil, errors.New("--authorise and --refuse: give one")
			case !authorise && !refuse:
				return nil, errors.New("give --authorise or --refuse")
			case authorise && views == "":
				return nil, withHint(errors.New("--authorise needs --views FILE.json"), `the file holds your view on each criterion: {"NECESSITY": "…", …}`)
			}
			r, err := readText("reasons", reasons)
			if err != nil {
				return nil, err
			}
			b := decisionBody{Authorise: authorise, Reasons: r, DirectlyInvolved: involved, Until: until.t}
			if views != "" {
				if _, err := readJSONFile(views, &b.Views); err != nil {
					return nil, fmt.Errorf("--views: %w", err)
				}
			}
			return b, nil
		})
	cmd.Flags().BoolVar(&authorise, "authorise", false, "authorise the request")
	cmd.Flags().BoolVar(&refuse, "refuse", false, "refuse the request")
	textFlag(cmd, &reasons, "reasons", "why you decide so")
	cmd.Flags().StringVar(&views, "views", "", `JSON file of your view on each criterion, {"CRITERION": "view", …} (needed to authorise)`)
	cmd.Flags().BoolVar(&involved, "directly-involved", false, "you are directly involved in the investigation")
	cmd.Flags().Var(&until, "until", "end the authorisation at this RFC 3339 time, earlier than the longest allowed")
	return cmd
}

func requestRatifyCmd(api *apiFlags) *cobra.Command {
	var reasons string
	var until timeFlag
	cmd := transitionCmd(api, "ratify ID --reasons TEXT [--until T]", "Ratify an urgent authorisation (step-up)",
		`Confirm, at the rank the request normally needs, an authorisation given on
the urgent route, before its ratify-by time; unratified, it lapses then.
Needs the current code of your authenticator app.`,
		"ratification", true, func() (any, error) {
			r, err := readText("reasons", reasons)
			return ratificationBody{Reasons: r, Until: until.t}, err
		})
	textFlag(cmd, &reasons, "reasons", "why the authorisation should stand")
	cmd.Flags().Var(&until, "until", "end the authorisation at this RFC 3339 time")
	return cmd
}

func requestReviewCmd(api *apiFlags) *cobra.Command {
	var notes string
	var next timeFlag
	cmd := transitionCmd(api, "review ID --notes TEXT [--next T]", "Review an authorisation in force (step-up)",
		`Record a periodic review of an authorisation in force, and when the next is
due (by default, the review interval of the request's level). Needs the
current code of your authenticator app.`,
		"reviews", true, func() (any, error) {
			n, err := readText("notes", notes)
			return reviewBody{Notes: n, Next: next.t}, err
		})
	textFlag(cmd, &notes, "notes", "what the review found")
	cmd.Flags().Var(&next, "next", "the next review is due at this RFC 3339 time")
	return cmd
}

func requestRenewCmd(api *apiFlags) *cobra.Command {
	var reasons string
	var involved bool
	var until timeFlag
	cmd := transitionCmd(api, "renew ID --reasons TEXT [--directly-involved] [--until T]", "Renew an authorisation before it expires (step-up)",
		`Extend an authorisation in force from its expiry, for at most the longest
its level allows. Needs the current code of your authenticator app.`,
		"renewal", true, func() (any, error) {
			r, err := readText("reasons", reasons)
			return renewalBody{Reasons: r, DirectlyInvolved: involved, Until: until.t}, err
		})
	textFlag(cmd, &reasons, "reasons", "why it is still necessary and proportionate")
	cmd.Flags().BoolVar(&involved, "directly-involved", false, "you are directly involved in the investigation")
	cmd.Flags().Var(&until, "until", "the new expiry, an RFC 3339 time")
	return cmd
}

func requestCancelCmd(api *apiFlags) *cobra.Command {
	var reasons string
	cmd := transitionCmd(api, "cancel ID --reasons TEXT", "Cancel an authorisation",
		`Cancel an authorisation, as its requester or an authoriser, as soon as it is
no longer necessary.`,
		"cancellation", false, func() (any, error) {
			r, err := readText("reasons", reasons)
			return reasonsBody{Reasons: r}, err
		})
	textFlag(cmd, &reasons, "reasons", "why it is no longer needed")
	return cmd
}

func requestWithdrawCmd(api *apiFlags) *cobra.Command {
	var reasons string
	cmd := transitionCmd(api, "withdraw ID --reasons TEXT", "Withdraw your request before it is decided",
		`Withdraw a request you made, before it is decided.`,
		"withdrawal", false, func() (any, error) {
			r, err := readText("reasons", reasons)
			return reasonsBody{Reasons: r}, err
		})
	textFlag(cmd, &reasons, "reasons", "why you withdraw it")
	return cmd
}

func requestCloseCmd(api *apiFlags) *cobra.Command {
	var outcome, kept string
	var useful bool
	cmd := transitionCmd(api, "close ID --outcome TEXT --kept TEXT [--useful]", "Close a cancelled or expired request",
		`Record how a cancelled or expired request ended: what it found, what data is
kept and why, and whether the data was useful.`,
		"closure", false, func() (any, error) {
			o, err := readText("outcome", outcome)
			if err != nil {
				return nil, err
			}
			k, err := readText("kept", kept)
			return closureBody{Outcome: o, Useful: useful, Kept: k}, err
		})
	textFlag(cmd, &outcome, "outcome", "what the request found")
	textFlag(cmd, &kept, "kept", "what data is kept, and why")
	cmd.Flags().BoolVar(&useful, "useful", false, "the data was useful")
	return cmd
}

// decodeRequest reads the REQUEST a transition answers with, bare as the
// contract says, or wrapped as GET /v1/requests/{id} wraps it.
func decodeRequest(raw json.RawMessage) (requests.Request, error) {
	var r requests.Request
	var wrapped struct {
		Request requests.Request `json:"request"`
	}
	err := json.Unmarshal(raw, &r)
	if err == nil && r.Reference == "" && r.State == "" {
		err = json.Unmarshal(raw, &wrapped)
		r = wrapped.Request
	}
	switch {
	case err != nil:
		return r, withHint(fmt.Errorf("reading the server's answer: %v", err), "--json prints it as it came")
	case r.Reference == "" || r.State == "":
		return r, withHint(errors.New("the server's answer holds no request reference and state"), "--json prints it as it came")
	}
	return r, nil
}

// printJSON prints the server's JSON indented, as it came.
func printJSON(w io.Writer, raw json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("reading the server's answer: %v", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// formatTime prints a time the way the API writes it.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// shownRequest is the answer of GET /v1/requests/{id}, as far as show
// prints it.
type shownRequest struct {
	Request struct {
		requests.Request
		// History shadows the embedded one: the server adds each
		// transition's index in the oversight log.
		History []struct {
			requests.Transition
			OversightIndex *uint64 `json:"oversight_index"`
		} `json:"history"`
	} `json:"request"`
	Problems []apiclient.FieldError `json:"problems"`
}

func requestShowCmd(api *apiFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show a request: what it asks, what it needs, who decided, and its history",
		Long: `Show a request: what it asks for and why, the authority it needs, its
authorisation, what submitting would refuse (for a draft), and its history
with the oversight log index of each transition (lbm verify inclusion
--log oversight --index N proves it). With --json, GET /v1/requests/{ID}'s
answer as it came, with the policy's derivation.`,
		Args: requestID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := call(cmd, c, "GET", requestPath(args[0]), nil, &raw); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			var s shownRequest
			if err := json.Unmarshal(raw, &s); err != nil {
				return withHint(fmt.Errorf("reading the server's answer: %v", err), "--json prints it as it came")
			}
			return writeRequest(cmd.OutOrStdout(), s)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the answer as JSON")
	return cmd
}

// writeRequest prints a shown request for people: a block of facts, then
// a section each for the requirement, the authorisation, the problems
// and the history, when there is something to say. Every text from the
// server is escaped: it may quote what anyone typed.
func writeRequest(w io.Writer, s shownRequest) error {
	r := s.Request
	e := safetext.Escape
	list := func(xs []string) string {
		if len(xs) == 0 {
			return "none"
		}
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = e(x)
		}
		return strings.Join(out, ", ")
	}
	op := e(r.Operation.Name)
	if r.Operation.Reference != "" {
		op += " (" + e(r.Operation.Reference) + ")"
	}
	facts := [][2]string{
		{"reference", e(r.Reference)},
		{"id", e(r.ID)},
		{"state", e(string(r.State))},
		{"operation", op},
		{"mode", e(r.Mode)},
	}
	if r.Window != nil {
		facts = append(facts, [2]string{"window", formatTime(r.Window.From) + " to " + formatTime(r.Window.To)})
	}
	facts = append(facts,
		[2]string{"purpose", e(r.Purpose)},
		[2]string{"investigation", e(r.Investigation)},
		[2]string{"requester", e(r.Requester)},
		[2]string{"subjects", list(r.Subjects)},
		[2]string{"investigators", list(r.Investigators)})
	if err := writeRows(w, "", facts); err != nil {
		return err
	}

	if q := r.Requirement; q != nil {
		ripa, urgent := "not required", "none"
		if q.RIPARequired {
			ripa = "reference required"
		}
		if q.Urgent != nil {
			urgent = e(q.Urgent.MinRank) + " or above, for at most " + formatHours(q.Urgent.MaxDuration) + ", unless ratified"
		}
		fmt.Fprintln(w, "\nrequirement")
		err := writeRows(w, "  ", [][2]string{
			{"level", fmt.Sprint(q.Level)},
			{"minimum rank", e(q.MinRank)},
			{"advisers", list(q.Advisers)},
			{"max duration", formatHours(q.MaxDuration)},
			{"review interval", formatHours(q.ReviewInterval)},
			{"RIPA", ripa},
			{"urgent route", urgent},
		})
		if err != nil {
			return err
		}
	}

	if r.AuthorisedBy != "" {
		by := e(r.AuthorisedBy)
		if r.AuthoriserRank != "" {
			by += " (" + e(r.AuthoriserRank) + ")"
		}
		if r.DirectlyInvolved {
			by += ", directly involved"
		}
		rows := [][2]string{{"by", by}, {"at", formatTime(r.AuthorisedAt)}}
		if !r.ExpiresAt.IsZero() {
			rows = append(rows, [2]string{"expires", formatTime(r.ExpiresAt)})
		}
		if !r.ReviewDue.IsZero() {
			rows = append(rows, [2]string{"review due", formatTime(r.ReviewDue)})
		}
		switch {
		case r.RatifiedBy != "":
			rows = append(rows, [2]string{"ratified", "by " + e(r.RatifiedBy) + " at " + formatTime(r.RatifiedAt)})
		case !r.RatifyBy.IsZero():
			rows = append(rows, [2]string{"ratify by", formatTime(r.RatifyBy)})
		}
		if !r.EndedAt.IsZero() {
			rows = append(rows, [2]string{"ended", formatTime(r.EndedAt)})
		}
		fmt.Fprintln(w, "\nauthorisation")
		if err := writeRows(w, "  ", rows); err != nil {
			return err
		}
	}

	if len(s.Problems) > 0 {
		rows := make([][2]string, len(s.Problems))
		for i, p := range s.Problems {
			rows[i] = [2]string{e(p.Field), e(p.Message)}
		}
		fmt.Fprintln(w, "\nproblems (what submitting would refuse)")
		if err := writeRows(w, "  ", rows); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nhistory")
	if len(r.History) == 0 {
		_, err := fmt.Fprintln(w, "  none")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  AT\tACTION\tACTOR\tFROM → TO\tOVERSIGHT INDEX")
	for _, h := range r.History {
		index := "-"
		if h.OversightIndex != nil {
			index = fmt.Sprint(*h.OversightIndex)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s → %s\t%s\n", formatTime(h.At), e(h.Action), e(h.Actor), e(string(h.From)), e(string(h.To)), index)
	}
	return tw.Flush()
}

// writeRows prints name-value rows, the values aligned, each line
// starting with indent.
func writeRows(w io.Writer, indent string, rows [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s%s\t%s\n", indent, r[0], r[1])
	}
	return tw.Flush()
}

// formatHours prints a duration in hours, and in days when whole.
func formatHours(d time.Duration) string {
	h := int64(d / time.Hour)
	if h > 0 && h%24 == 0 {
		return fmt.Sprintf("%d hours (%d days)", h, h/24)
	}
	return fmt.Sprintf("%d hours", h)
}

// listViews are the listings of GET /v1/requests ("" is the role's
// default).
var listViews = []string{"", "mine", "decide", "advise", "all"}

func requestListCmd(api *apiFlags) *cobra.Command {
	var view, state string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--view mine|decide|advise|all] [--state S] [--json]",
		Short: "List requests, newest first",
		Long: `List the requests of a view, newest first: mine (drafted by you or naming
you as an investigator; investigators' default), decide (awaiting a decision
or ratification your rank can give, or in force and yours to review;
authorisers' default), advise (awaiting your view; advisers' default) or
all (oversight). --state keeps one state. With --json, GET /v1/requests's
answer as it came.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ok := false
			for _, v := range listViews {
				ok = ok || v == view
			}
			if !ok {
				return fmt.Errorf("--view %s: want mine, decide, advise or all", safetext.Quote(view))
			}
			q := url.Values{}
			if view != "" {
				q.Set("view", view)
			}
			if state != "" {
				q.Set("state", state)
			}
			path := "/v1/requests"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := call(cmd, c, "GET", path, nil, &raw); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), raw)
			}
			// Each summary is read field by field, as text, so that a
			// listing prints whatever else the server adds to it.
			var l struct {
				Requests []map[string]json.RawMessage `json:"requests"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return withHint(fmt.Errorf("reading the server's answer: %v", err), "--json prints it as it came")
			}
			return writeSummaries(cmd.OutOrStdout(), l.Requests)
		},
	}
	cmd.Flags().StringVar(&view, "view", "", "mine, decide, advise or all (default: your role's)")
	cmd.Flags().StringVar(&state, "state", "", "only requests in this state, e.g. submitted")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the answer as JSON")
	return cmd
}

// writeSummaries prints request summaries as a table.
func writeSummaries(w io.Writer, rs []map[string]json.RawMessage) error {
	if len(rs) == 0 {
		_, err := fmt.Fprintln(w, "no requests")
		return err
	}
	cols := []struct{ head, key string }{
		{"ID", "id"}, {"REFERENCE", "reference"}, {"STATE", "state"}, {"MODE", "mode"},
		{"LEVEL", "level"}, {"MIN RANK", "min_rank"}, {"URGENT", "urgent"}, {"OPERATION", "operation"},
		{"REQUESTER", "requester"}, {"UPDATED", "updated"}, {"EXPIRES", "expires_at"},
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, c := range cols {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, c.head)
	}
	fmt.Fprintln(tw)
	for _, r := range rs {
		for i, c := range cols {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cell(r[c.key]))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// cell prints one JSON value of a summary: text as it is (escaped), a
// number, "yes" for true, an operation as "NAME (REFERENCE)", and "-" for
// nothing.
func cell(raw json.RawMessage) string {
	var s string
	var n json.Number
	var b bool
	var op requests.Operation
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "-"
	case json.Unmarshal(raw, &s) == nil:
		if s == "" {
			return "-"
		}
		return safetext.Escape(s)
	case json.Unmarshal(raw, &b) == nil:
		if b {
			return "yes"
		}
		return "-"
	case json.Unmarshal(raw, &n) == nil:
		return n.String()
	case json.Unmarshal(raw, &op) == nil && op.Name != "":
		if op.Reference != "" {
			return safetext.Escape(op.Name + " (" + op.Reference + ")")
		}
		return safetext.Escape(op.Name)
	}
	return safetext.Escape(string(raw))
}
