package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
)

func userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage people: import the directory, bootstrap accounts"}
	cmd.AddCommand(userAddCmd(), userImportCmd(), userLinkCmd())
	return cmd
}

// openNode opens the store for an offline (break-glass) command.
func openNode(cmd *cobra.Command, where storeFlags) (*server.Node, error) {
	n, err := server.Open(cmd.Context(), where.config())
	if err != nil {
		return nil, err
	}
	if n.Created {
		fmt.Fprintf(cmd.ErrOrStderr(), "lbm: created a new store, %s (admin token in %s)\n", n.StoreName, n.AdminTokenPath)
	}
	return n, nil
}

func userAddCmd() *cobra.Command {
	var where storeFlags
	var u identity.NewUser
	var role, rank string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "add --id ID --role ROLE [--rank R] [--token] [--password-stdin]",
		Short: "Add a person or give them a role (break-glass); with --token print an API token",
		Long: `Add a person to the directory, or give an existing person another role, and
with --token print an API token for that role alone on stdout, once.

This is the break-glass path, for bootstrapping and tests: it works on the
data directory (or database) directly, skips dual control, and is recorded in
the oversight log flagged "break-glass". Day to day, people come from
"lbm user import" or the identity provider, and roles change through a
proposal that a second administrator approves.

--password-stdin reads a password for local sign-in from the first line of
stdin. A second factor is set through a set-up link ("lbm user link").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			// The national role is checked against the directory once
			// it is open: only the national node's may give it.
			if u.Role = identity.RoleNationalOversight; role != string(u.Role) {
				if u.Role, err = identity.ParseRole(role); err != nil {
					return err
				}
			}
			if u.Rank, err = identity.ParseRank(rank); err != nil {
				return err
			}
			var password string
			if passwordStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("reading the password: %v", err)
				}
				password = strings.TrimRight(line, "\r\n")
				if err := identity.CheckNewPassword(password); err != nil {
					return err
				}
			}
			n, err := openNode(cmd, where)
			if err != nil {
				return err
			}
			defer n.Close()
			u.National = n.National
			p, token, err := identity.AddUser(cmd.Context(), n.Store, u, n.Now())
			if err != nil {
				return err
			}
			if passwordStdin {
				if err := identity.SetPassword(cmd.Context(), n.Store, n.KEK, p.ID, password, nil, n.Now()); err != nil {
					return err
				}
			}
			details := map[string]any{"person": p.ID, "role": role, "rank": p.Rank, "token": u.Token, "password_set": passwordStdin}
			if _, err := n.Oversight(cmd.Context(), "cli", "user_add", details, true); err != nil {
				return err
			}
			if token != "" {
				fmt.Fprintln(cmd.OutOrStdout(), token)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&u.ID, "id", "", "the person's id (required)")
	cmd.Flags().StringVar(&u.Name, "name", "", "the person's name (default: the id, or as stored)")
	cmd.Flags().StringVar(&role, "role", "", "role to give: staff, investigator, authoriser, adviser, dpo, oversight or admin; national_oversight on the national node's directory alone (required)")
	cmd.Flags().StringVar(&rank, "rank", "", "rank id, e.g. superintendent")
	cmd.Flags().BoolVar(&u.Token, "token", false, "print an API token for this role on stdout")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "set a sign-in password read from stdin")
	cmd.MarkFlagRequired("id")
	cmd.MarkFlagRequired("role")
	where.register(cmd, "./lbm-data", "data directory: keys, and the SQLite store unless --db")
	return cmd
}

func userImportCmd() *cobra.Command {
	var where storeFlags
	var gradesFile string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import the staff directory exported by HR, all or nothing",
		Long: `Import the staff directory from an HR export (CSV with a header row:
id, name, number, unit, manager, rank, grade, roles, adviser, left_on,
email, username; see docs/contract.md). The whole file is checked first: if any row is bad, every
bad row is listed with its line number and nothing is imported. Importing the
same file twice changes nothing.

The file is the authority for names, units, managers, ranks, grades and
leaving dates; roles in the file apply only to people new to the directory.
A leaver's sessions and tokens stop working on their leaving date.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			grades, err := loadGrades(gradesFile)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			info, err := f.Stat()
			if err != nil {
				return err
			}
			n, err := openNode(cmd, where)
			if err != nil {
				return err
			}
			defer n.Close()
			if n.National {
				// A force's staff directory holds roles that mean nothing,
				// and must reach nothing, on the national node.
				return withHint(errors.New("the national oversight node's directory is not imported"), "add national oversight staff with lbm user add --role national_oversight")
			}
			stderr := cmd.ErrOrStderr()
			bar := progressbar.NewOptions64(info.Size(), progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("checking "+args[0]), progressbar.OptionShowBytes(true),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetVisibility(!quiet),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }))
			r := progressbar.NewReader(f, bar)
			start := time.Now()
			// The bar covers checking the file; each later stage is a line.
			lastStage := ""
			res, err := identity.Import(cmd.Context(), n.Store, &r, grades, n.Now(), func(stage string, _, total int) {
				if !quiet && stage != lastStage {
					lastStage = stage
					bar.Finish()
					fmt.Fprintf(stderr, "%s: %d people…\n", stage, total)
				}
			})
			if err != nil {
				var de *identity.DirectoryError
				if errors.As(err, &de) {
					return withHint(fmt.Errorf("%s: nothing imported:\n%w", args[0], err), "fix the rows named and import the whole file again")
				}
				return err
			}
			details := map[string]any{"file_rows": res.Rows, "added": res.Added, "changed": res.Changed, "unchanged": res.Unchanged, "leavers": res.Leavers}
			if _, err := n.Oversight(cmd.Context(), "cli", "directory_import", details, true); err != nil {
				return err
			}
			if err := server.RevokeLeavers(cmd.Context(), n); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d people in %s: %d added, %d changed, %d unchanged; %d have left\n",
				res.Rows, time.Since(start).Round(time.Millisecond), res.Added, res.Changed, res.Unchanged, res.Leavers)
			if res.Missing > 0 {
				fmt.Fprintf(stderr, "lbm: note: %d people in the directory are not in this file; they are unchanged (mark leavers with left_on)\n", res.Missing)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&gradesFile, "grades", "", "YAML mapping police staff grades to rank equivalents (default: the built-in mapping)")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "no progress bar")
	where.register(cmd, "./lbm-data", "data directory: keys, and the SQLite store unless --db")
	return cmd
}

func userLinkCmd() *cobra.Command {
	var where storeFlags
	var id, baseURL string
	cmd := &cobra.Command{
		Use:   "link --id ID [--base-url URL]",
		Short: "Print a one-time link for a person to set their password and second factor",
		Long: `Print a one-time set-up link alone on stdout. Whoever opens it within 72
hours sets the person's password and second factor (an authenticator app),
once; earlier links of the person stop working. Send it by a channel that
reaches only the person. Recorded in the oversight log as break-glass.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := openNode(cmd, where)
			if err != nil {
				return err
			}
			defer n.Close()
			token, err := identity.NewSetupLink(cmd.Context(), n.Store, id, n.Now())
			if err != nil {
				return err
			}
			if _, err := n.Oversight(cmd.Context(), "cli", "setup_link", map[string]any{"person": id}, true); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/setup/%s\n", strings.TrimRight(baseURL, "/"), token)
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the person's id (required)")
	cmd.Flags().StringVar(&baseURL, "base-url", env("LBM_SERVER", "http://127.0.0.1:8080"), "the address people reach lbm at (LBM_SERVER)")
	cmd.MarkFlagRequired("id")
	where.register(cmd, "./lbm-data", "data directory: keys, and the SQLite store unless --db")
	return cmd
}

// loadGrades reads the grade map at path, or the built-in one when path is "".
func loadGrades(path string) (identity.GradeMap, error) {
	if path == "" {
		return identity.DefaultGradeMap(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	grades, err := identity.ParseGradeMap(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return grades, nil
}
