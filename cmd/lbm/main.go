// Command lbm is lawful business monitoring: it records all use of an
// organisation's ICT in tamper-evident logs. This file and its siblings only
// parse flags, build dependencies and dispatch; the work is in internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// hintError is an error with advice for the person at the terminal.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return &hintError{err: err, hint: hint} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lbm: error: %v\n", err)
		var he *hintError
		if errors.As(err, &he) {
			fmt.Fprintf(os.Stderr, "lbm: hint: %s\n", he.hint)
		}
		os.Exit(1)
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "lbm",
		Short:         "Lawful business monitoring: tamper-evident records of ICT use, and lawful access to them",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCmd(), sourceCmd(), userCmd(), purposesCmd(), legislationCmd(), reportCmd(), policyCmd(), rulesCmd(), ingestCmd(), requestCmd(), verifyCmd(), simulateCmd(), benchCmd(), retentionCmd(), keysCmd(), mappingCmd())
	return root
}

// env returns the environment variable name's value, or def.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
