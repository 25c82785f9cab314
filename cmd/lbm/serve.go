package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/lbm-project/lbm/internal/identity/oidc"
	"github.com/lbm-project/lbm/internal/notify"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/tenancy"
	"github.com/lbm-project/lbm/internal/web"
	"github.com/spf13/cobra"
)

func serveCmd() *cobra.Command {
	var addr, adminAddr, origin, shard string
	var where storeFlags
	var demo bool
	var interval, retentionEvery time.Duration
	var tlsCert, tlsKey, gradesFile, organisation, baseURL string
	var secureCookies bool
	var transparencyThreshold int
	var oc oidc.Config
	var claims map[string]string
	var smtpMailer notify.SMTPMailer
	var sys server.SyslogConfig
	var journalAddr, journalSource string
	var journalRecipients, journalNetworks []string
	var tenantsFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: ingest, logs, API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			grades, err := loadGrades(gradesFile)
			if err != nil {
				return err
			}
			var provider web.OIDC
			if oc.Issuer != "" {
				oc.ClientSecret = os.Getenv("LBM_OIDC_CLIENT_SECRET")
				for field, claim := range claims {
					target := map[string]*string{"id": &oc.Claims.ID, "name": &oc.Claims.Name, "roles": &oc.Claims.Roles,
						"rank": &oc.Claims.Rank, "grade": &oc.Claims.Grade, "unit": &oc.Claims.Unit}[field]
					if target == nil {
						return fmt.Errorf("--oidc-claims: unknown field %q (want id, name, roles, rank, grade or unit)", field)
					}
					*target = claim
				}
				p, err := oidc.New(cmd.Context(), oc)
				if err != nil {
					return err
				}
				provider = p
			}
			mailer, err := smtpConfig(&smtpMailer)
			if err != nil {
				return err
			}
			if err := syslogFlags(&sys, tlsCert, tlsKey); err != nil {
				return err
			}
			var networks []netip.Prefix
			for _, c := range journalNetworks {
				p, err := netip.ParsePrefix(c)
				if err != nil {
					return fmt.Errorf("--smtp-journal-network %q: not a CIDR network", c)
				}
				networks = append(networks, p.Masked())
			}
			if journalAddr == "" && (len(journalRecipients) > 0 || len(networks) > 0 || journalSource != "") {
				return withHint(errors.New("--smtp-journal-recipient, --smtp-journal-network and --smtp-journal-source need --smtp-journal"), "add --smtp-journal ADDR, e.g. :2525")
			}
			if err := server.ParseShard(shard); err != nil {
				return withHint(fmt.Errorf("--shard: %w", err), "sharding needs --db: see docs/deployment.md")
			}
			if shard != "" && demo {
				return errors.New("--shard and --demo do not go together: load the demo on one node first")
			}
			out := cmd.OutOrStdout()
			scheme := "http"
			if tlsCert != "" {
				scheme = "https"
			}
			listening := func(a, admin net.Addr) {
				fmt.Fprintf(out, "listening on %s://%s\n", scheme, a)
				if admin != nil {
					fmt.Fprintf(out, "metrics on http://%s/metrics\n", admin)
				}
			}
			serveConfig := server.ServeConfig{
				Addr: addr, AdminAddr: adminAddr, CheckpointInterval: interval, RetentionEvery: retentionEveryConfig(retentionEvery), Logger: logger,
				TLSCert: tlsCert, TLSKey: tlsKey, SecureCookies: secureCookies, OIDC: provider, Grades: grades,
				Organisation: organisation, BaseURL: baseURL, Mailer: mailer, TransparencyThreshold: transparencyThreshold,
				SyslogConfig:    sys,
				SMTPJournalAddr: journalAddr, SMTPJournalRecipients: journalRecipients, SMTPJournalSource: journalSource, SMTPJournalNetworks: networks,
				SMTPJournalListening: func(a net.Addr) { fmt.Fprintf(out, "smtp journal on %s\n", a) },
				Listening:            listening,
			}
			if tenantsFile != "" {
				for _, f := range []string{"data", "db", "keys-db", "demo", "origin-prefix"} {
					if cmd.Flags().Changed(f) {
						return withHint(fmt.Errorf("--tenants is refused with --%s", f), "each tenant's data directory, databases and origin are in the tenants file")
					}
				}
				if where.db != "" || where.keysDB != "" || os.Getenv("LBM_KEK") != "" || os.Getenv("LBM_KEK_OLD") != "" {
					return withHint(errors.New("--tenants is refused with LBM_DB, LBM_KEYS_DB, LBM_KEK or LBM_KEK_OLD set"), "tenants share no database and no key: each tenant's are its own")
				}
				return serveTenants(cmd, tenantsFile, shard, logger, serveConfig)
			}
			metrics := server.NewMetrics()
			cfg := where.config()
			cfg.OriginPrefix, cfg.Logger, cfg.Observer, cfg.Shard = origin, logger, metrics, shard
			n, err := server.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer n.Close()
			fmt.Fprintf(out, "data directory: %s\n", where.data)
			fmt.Fprintf(out, "store: %s\n", n.StoreName)
			fmt.Fprintf(out, "admin token: %s\n", n.AdminTokenPath)
			for _, name := range []string{n.ActivityLog, server.Oversight} {
				l := n.Logs[name]
				fmt.Fprintf(out, "%s log: origin %s\n  verifier key %s\n", name, l.Origin, l.VerifierKey)
			}
			if demo {
				fmt.Fprintln(out, "demo: loading a synthetic force's activity")
				token, count, err := server.LoadDemo(cmd.Context(), n, cmd.ErrOrStderr())
				if err != nil {
					return fmt.Errorf("loading demo: %w", err)
				}
				if token != "" {
					fmt.Fprintf(out, "demo: stored %d events from source \"demo\"; its token is in %s\n", count, token)
				}
				links := filepath.Join(where.data, server.DemoLinksFile)
				if _, err := os.Stat(links); err == nil {
					fmt.Fprintf(out, "demo: to sign in (as an administrator, oversight, an investigator or an authoriser), open a set-up link from %s\n", links)
				}
			}
			sys.SyslogListening = func(transport string, a net.Addr) {
				fmt.Fprintf(out, "syslog: %s on %s\n", transport, a)
			}
			serveConfig.SyslogConfig.SyslogListening = sys.SyslogListening
			serveConfig.Metrics = metrics
			return server.Serve(cmd.Context(), n, serveConfig)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", ":8080", "address to listen on")
	cmd.Flags().StringVar(&tenantsFile, "tenants", "", "YAML file of the organisations to serve, each by Host from its own data directory and store (docs/tenancy.md); refused with --data, --db and --demo")
	cmd.Flags().StringVar(&adminAddr, "admin-addr", "", "separate address serving /metrics without a token (keep it private)")
	where.register(cmd, "./lbm-data", "data directory: keys, admin token, and the SQLite store unless --db")
	cmd.Flags().StringVar(&origin, "origin-prefix", "", `prefix of the logs' origins, fixed at first start (default "lbm.local")`)
	cmd.Flags().StringVar(&shard, "shard", "", "with --db: append to a shard of the activity log of this node's own among the nodes sharing the database: auto, or a shard number (docs/deployment.md)")
	cmd.Flags().BoolVar(&demo, "demo", false, "load a synthetic force's activity on first start")
	cmd.Flags().DurationVar(&interval, "checkpoint-interval", time.Second, "how often to publish a signed checkpoint")
	cmd.Flags().DurationVar(&retentionEvery, "retention-every", server.RetentionEvery, "how often to run retention (first 10 minutes after start; on the leading node only when several share a store); 0 never")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "PEM certificate chain: serve HTTPS (with --tls-key)")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	cmd.Flags().BoolVar(&secureCookies, "secure-cookies", false, "mark cookies Secure when TLS ends at a proxy in front of lbm")
	cmd.Flags().IntVar(&transparencyThreshold, "transparency-threshold", oversight.DefaultSuppression, "the smallest count the public /transparency page shows; fewer is shown as \"fewer than\" it")
	cmd.Flags().StringVar(&organisation, "organisation", "", `the organisation's name in the generated monitoring notice (default "the organisation")`)
	cmd.Flags().StringVar(&baseURL, "base-url", "", "the address people reach lbm at, e.g. https://lbm.example.org, for links in the generated notice's short texts")
	cmd.Flags().StringVar(&gradesFile, "grades", "", "YAML mapping police staff grades to rank equivalents (default: the built-in mapping)")
	cmd.Flags().StringVar(&oc.Issuer, "oidc-issuer", "", "OpenID Connect issuer URL: offer sign-in through the identity provider")
	cmd.Flags().StringVar(&oc.ClientID, "oidc-client-id", "", "OpenID Connect client id (the secret comes from LBM_OIDC_CLIENT_SECRET)")
	cmd.Flags().StringToStringVar(&claims, "oidc-claims", nil, "ID-token claims holding the person's fields, e.g. id=employee_id,roles=groups (defaults: id=sub, name, roles, rank, grade, unit)")
	cmd.Flags().StringVar(&smtpMailer.Addr, "smtp-addr", "", "SMTP submission server, host:port: e-mail notifications as well as the in-app inbox (STARTTLS when offered)")
	cmd.Flags().StringVar(&journalAddr, "smtp-journal", "", "address to take journal mail on over SMTP, e.g. :2525 (e-mail capture; see docs/ingest.md)")
	cmd.Flags().StringArrayVar(&journalRecipients, "smtp-journal-recipient", nil, "an address the journal endpoint takes mail for, e.g. journal@lbm.force.example (repeatable; others get 550)")
	cmd.Flags().StringVar(&journalSource, "smtp-journal-source", "", "the source that mail from --smtp-journal-network is stored as")
	cmd.Flags().StringArrayVar(&journalNetworks, "smtp-journal-network", nil, "a client network (CIDR) that may deliver journal mail without AUTH (repeatable); others must AUTH PLAIN as a source over STARTTLS")
	cmd.Flags().StringVar(&smtpMailer.From, "smtp-from", "", "sender address of notification e-mails")
	cmd.Flags().StringVar(&smtpMailer.Recipient, "smtp-recipient", "", `makes each person's address from their id or collar number, e.g. "{id}@force.example" or "{number}@force.example"`)
	cmd.Flags().StringVar(&smtpMailer.Username, "smtp-username", "", "authenticate to the SMTP server (over TLS only); the password comes from LBM_SMTP_PASSWORD")
	cmd.Flags().StringVar(&oc.RedirectURL, "oidc-redirect-url", "", "lbm's callback as the provider knows it, https://HOST/sign-in/oidc/callback")
	cmd.Flags().StringVar(&sys.SyslogTCP, "syslog-tcp", "", "address to take syslog on over plain TCP (octet-counted or newline framing), e.g. :514")
	cmd.Flags().StringVar(&sys.SyslogUDP, "syslog-udp", "", "address to take syslog on over UDP, e.g. :514 (no flow control: see docs/ingest.md)")
	cmd.Flags().StringVar(&sys.SyslogTLS, "syslog-tls", "", "address to take syslog on over TLS (RFC 5425), e.g. :6514")
	cmd.Flags().StringVar(&sys.SyslogTLSCert, "syslog-tls-cert", "", "PEM certificate chain of --syslog-tls (default --tls-cert)")
	cmd.Flags().StringVar(&sys.SyslogTLSKey, "syslog-tls-key", "", "PEM private key of --syslog-tls-cert (default --tls-key)")
	cmd.Flags().StringVar(&sys.SyslogTLSClientCA, "syslog-tls-client-ca", "", "PEM CA certificates: --syslog-tls serves only clients with a certificate they issued")
	cmd.Flags().StringVar(&sys.SyslogSource, "syslog-source", "", "the registered source of syslog messages no mapping routes elsewhere (required with a syslog listener)")
	return cmd
}

// serveTenants serves every tenant of the file at path.
func serveTenants(cmd *cobra.Command, path, shard string, logger *slog.Logger, sc server.ServeConfig) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	f, err := tenancy.Parse(b, filepath.Dir(abs))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out := cmd.OutOrStdout()
	return server.ServeTenants(cmd.Context(), server.TenantsConfig{
		File: f, Node: server.Config{Logger: logger, Shard: shard}, Serve: sc,
		Opened: func(id string, n *server.Node) {
			name := "tenant " + id
			if id == "" {
				name = "national"
			}
			fmt.Fprintf(out, "%s: store %s\n%s: admin token %s\n", name, n.StoreName, name, n.AdminTokenPath)
			for _, ln := range []string{n.ActivityLog, server.Oversight} {
				l := n.Logs[ln]
				fmt.Fprintf(out, "%s: %s log: origin %s\n  verifier key %s\n", name, ln, l.Origin, l.VerifierKey)
			}
		},
	})
}

// syslogFlags completes and checks the --syslog-* flags: the TLS
// listener's certificate defaults to the HTTPS one.
func syslogFlags(c *server.SyslogConfig, tlsCert, tlsKey string) error {
	listening := c.SyslogTCP != "" || c.SyslogUDP != "" || c.SyslogTLS != ""
	if !listening {
		if c.SyslogSource != "" || c.SyslogTLSCert != "" || c.SyslogTLSKey != "" || c.SyslogTLSClientCA != "" {
			return errors.New("--syslog-source and --syslog-tls-* need --syslog-tcp, --syslog-udp or --syslog-tls")
		}
		return nil
	}
	if c.SyslogSource == "" {
		return errors.New("--syslog-source is required with --syslog-tcp, --syslog-udp or --syslog-tls")
	}
	if c.SyslogTLS != "" && c.SyslogTLSCert == "" && c.SyslogTLSKey == "" {
		c.SyslogTLSCert, c.SyslogTLSKey = tlsCert, tlsKey
	}
	if c.SyslogTLS != "" && (c.SyslogTLSCert == "" || c.SyslogTLSKey == "") {
		return errors.New("--syslog-tls needs --syslog-tls-cert and --syslog-tls-key (or --tls-cert and --tls-key)")
	}
	return nil
}

// smtpConfig completes and checks the --smtp-* flags: nil, and in-app
// notifications only, without --smtp-addr. The password comes only from
// LBM_SMTP_PASSWORD, never a flag (which other users could read in the
// process list).
func smtpConfig(m *notify.SMTPMailer) (notify.Mailer, error) {
	m.Password = os.Getenv("LBM_SMTP_PASSWORD")
	if m.Addr == "" {
		if m.From != "" || m.Recipient != "" || m.Username != "" {
			return nil, errors.New("--smtp-from, --smtp-recipient and --smtp-username need --smtp-addr")
		}
		return nil, nil
	}
	if m.Username != "" && m.Password == "" {
		return nil, errors.New("--smtp-username needs the password in LBM_SMTP_PASSWORD")
	}
	if m.Username == "" && m.Password != "" {
		return nil, errors.New("LBM_SMTP_PASSWORD is set but --smtp-username is not")
	}
	if err := m.Check(); err != nil {
		return nil, err // "smtp: …", naming the setting
	}
	m.Now = time.Now
	return m, nil
}

// retentionEveryConfig maps --retention-every to server.ServeConfig's
// RetentionEvery, where 0 is the default and a negative value never.
func retentionEveryConfig(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
