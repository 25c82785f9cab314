package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/tenancy"
	"github.com/lbm-project/lbm/internal/web"
)

// NationalFile, in a data directory, marks it as the national oversight
// node's. It is made when the national node is first opened, and never
// by anything else.
const NationalFile = "national"

// markNational reports whether cfg's data directory is the national
// node's, marking a new one when cfg.National asks for it. An
// organisation's existing directory never becomes the national node's:
// its directory holds people whom national oversight must never act as.
func markNational(cfg Config, fresh bool) (bool, error) {
	path := filepath.Join(cfg.DataDir, NationalFile)
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, err
	case !cfg.National:
		return false, nil
	case !fresh:
		return false, fmt.Errorf("%s is an organisation's data directory, not the national oversight node's", cfg.DataDir)
	}
	if err := os.WriteFile(path, []byte("This data directory is the national oversight node's (docs/tenancy.md).\n"), 0o600); err != nil {
		return false, fmt.Errorf("marking the national node's data directory: %w", err)
	}
	return true, nil
}

// TenantsConfig configures ServeTenants.
type TenantsConfig struct {
	// File names the tenants (internal/tenancy). Required.
	File *tenancy.File
	// Node is the configuration every tenant's node is opened with; its
	// DataDir, DB, KeysDB and OriginPrefix are the tenant's own.
	Node Config
	// Serve is the configuration every tenant is served with. Addr,
	// AdminAddr, TLSCert and TLSKey, Logger and Listening are the
	// process's; Metrics is made per tenant; the syslog listeners, the
	// SMTP journal endpoint and OIDC cannot tell tenants apart and are
	// refused.
	Serve ServeConfig
	// Opened, when set, is called with each node once it is open (id ""
	// for the national node), before anything is served.
	Opened func(id string, n *Node)
}

// tenantNode is one tenant (or the national node) as the process serves it.
type tenantNode struct {
	id      string
	node    *Node
	metrics *Metrics
	handler http.Handler
	done    chan error // Serve's result
	stop    context.CancelFunc
}

// ServeTenants serves every tenant of cfg.File from one listener until
// ctx ends. Each tenant is a complete node (Open) served by Serve, with
// all its background jobs, and reached only through the Host its requests
// are sent to: a request is handed to the handler of the tenant whose
// hosts include its Host, and a Host no tenant has gets 421 naming none.
// /healthz and /readyz answer for the process whatever the Host; the
// admin listener's /metrics serves every tenant's metrics with a tenant
// label.
//
// Nothing else is shared, so a credential, a session or an id of one
// tenant means nothing on another's host: each handler authenticates
// against its own node's store alone.
func ServeTenants(ctx context.Context, cfg TenantsConfig) (err error) {
	if cfg.File == nil || len(cfg.File.Tenants) == 0 {
		return errors.New("no tenants to serve")
	}
	sc := cfg.Serve
	switch {
	case sc.SyslogTCP != "" || sc.SyslogUDP != "" || sc.SyslogTLS != "":
		return errors.New("serving tenants: the syslog listeners cannot tell tenants apart")
	case sc.SMTPJournalAddr != "":
		return errors.New("serving tenants: the SMTP journal endpoint cannot tell tenants apart")
	case sc.OIDC != nil:
		return errors.New("serving tenants: sign-in through an identity provider is configured per tenant, not yet supported")
	case sc.Metrics != nil || sc.Mount != nil:
		return errors.New("serving tenants: Metrics and Mount are made per tenant")
	}
	if (sc.TLSCert == "") != (sc.TLSKey == "") {
		return errors.New("serving TLS needs both a certificate and a key")
	}
	var tlsConfig *tls.Config
	if sc.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(sc.TLSCert, sc.TLSKey)
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %v", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	// Open every node before serving any, so that a tenant whose data
	// cannot be opened stops the process rather than leaving it half up.
	var nodes []*tenantNode
	defer func() {
		for _, t := range nodes {
			t.node.Close()
		}
	}()
	byHost := map[string]*tenantNode{}
	open := func(id, data, db, keysDB, origin string, hosts []string) error {
		nc := cfg.Node
		nc.DataDir, nc.DB, nc.KeysDB, nc.OriginPrefix = data, db, keysDB, origin
		t := &tenantNode{id: id, metrics: NewMetrics(), done: make(chan error, 1)}
		nc.Observer, nc.National = t.metrics, id == ""
		n, err := Open(ctx, nc)
		if err != nil {
			if id == "" {
				return fmt.Errorf("opening the national node: %w", err)
			}
			return fmt.Errorf("opening tenant %s: %w", id, err)
		}
		t.node = n
		nodes = append(nodes, t)
		if id != "" && n.National {
			return fmt.Errorf("opening tenant %s: %s is the national oversight node's data directory", id, data)
		}
		for _, h := range hosts {
			byHost[h] = t
		}
		if cfg.Opened != nil {
			cfg.Opened(id, n)
		}
		return nil
	}
	for _, tn := range cfg.File.Tenants {
		if err := open(tn.ID, tn.Data, tn.DB, tn.KeysDB, tn.Origin, tn.Hosts); err != nil {
			return err
		}
	}
	if nat := cfg.File.National; nat != nil {
		if err := open("", nat.Data, nat.DB, nat.KeysDB, nat.Hosts[0], nat.Hosts); err != nil {
			return err
		}
	}

	// Serve each node, mounted rather than listening; wait until each
	// has its handler (or has failed) before taking requests.
	var serving sync.WaitGroup
	defer func() {
		for _, t := range nodes {
			if t.stop != nil {
				t.stop()
			}
		}
		serving.Wait()
		for _, t := range nodes {
			if t.stop != nil {
				if serr := <-t.done; serr != nil && err == nil {
					err = tenantError(t.id, serr)
				}
			}
		}
	}()
	for _, t := range nodes {
		tctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		t.stop = stop
		tc := sc
		tc.Metrics, tc.Listening, tc.Addr, tc.AdminAddr = t.metrics, nil, "", ""
		if t.id == "" {
			tc.National = nationalReport(cfg.File.Tenants, nodes)
		}
		mounted := make(chan http.Handler, 1)
		tc.Mount = func(h http.Handler) { mounted <- h }
		serving.Go(func() { t.done <- Serve(tctx, t.node, tc) })
		select {
		case t.handler = <-mounted:
		case serr := <-t.done:
			t.stop = nil
			return tenantError(t.id, serr)
		}
	}

	ln, err := net.Listen("tcp", sc.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %v", sc.Addr, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	servers := []*http.Server{{Handler: dispatch(byHost, nodes), ReadHeaderTimeout: 10 * time.Second}}
	listeners := []net.Listener{ln}
	var adminAddr net.Addr
	if sc.AdminAddr != "" {
		aln, err := net.Listen("tcp", sc.AdminAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listening on %s: %v", sc.AdminAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(newTenantGatherer(nodes), promhttp.HandlerOpts{}))
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, aln)
		adminAddr = aln.Addr()
	}
	if sc.Listening != nil {
		sc.Listening(ln.Addr(), adminAddr)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Live feeds end first, as Serve ends them, or they would hold the
	// listener's shutdown open until its timeout.
	for _, t := range nodes {
		t.node.Review.CloseFeeds()
	}
	for _, srv := range servers {
		srv.Shutdown(shutdown)
	}
	// Only now does each node stop (the deferred stop above): its
	// writers close once no request of the listener can reach them.
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// nationalReport builds the national report from every tenant's own
// store: each tenant's oversight report, reduced to counts
// (oversight.Reduce) before it leaves this function, so that the
// national node's handler never holds a tenant's ids or texts.
func nationalReport(tenants []tenancy.Tenant, nodes []*tenantNode) func(ctx context.Context, from, to, now time.Time) (oversight.NationalReport, error) {
	byID := map[string]*Node{}
	for _, t := range nodes {
		byID[t.id] = t.node
	}
	return func(ctx context.Context, from, to, now time.Time) (oversight.NationalReport, error) {
		var figures []oversight.TenantFigures
		for _, tn := range tenants {
			n := byID[tn.ID]
			in, err := oversight.Gather(ctx, n.Store, n.Opener.OpenMetadata, from, to, now, nil)
			if err != nil {
				return oversight.NationalReport{}, fmt.Errorf("gathering tenant %s's figures: %w", tn.ID, err)
			}
			figures = append(figures, oversight.TenantFigures{ID: tn.ID, Name: tn.Name, Figures: oversight.Reduce(oversight.BuildReport(in))})
		}
		return oversight.BuildNational(from, to, now, figures), nil
	}
}

func tenantError(id string, err error) error {
	if err == nil {
		return nil
	}
	if id == "" {
		return fmt.Errorf("serving the national node: %w", err)
	}
	return fmt.Errorf("serving tenant %s: %w", id, err)
}

// dispatch hands each request to the handler of the node whose hosts
// include its Host. Health answers for the process, so that a load
// balancer probing by address learns nothing of the tenants.
func dispatch(byHost map[string]*tenantNode, nodes []*tenantNode) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			switch r.URL.Path {
			case "/healthz":
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Write([]byte("ok\n"))
				return
			case "/readyz":
				if err := readyAll(r.Context(), nodes); err != nil {
					w.Header().Set("Content-Type", "text/plain; charset=utf-8")
					w.WriteHeader(http.StatusServiceUnavailable)
					w.Write([]byte("not ready\n"))
					return
				}
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Write([]byte("ready\n"))
				return
			}
		}
		t, ok := byHost[tenancy.Host(r.Host)]
		if !ok {
			web.WriteMisdirected(w, r)
			return
		}
		t.handler.ServeHTTP(w, r)
	})
}

// readyAll reports whether every node's store answers.
func readyAll(ctx context.Context, nodes []*tenantNode) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, t := range nodes {
		if err := t.node.Store.Ping(ctx); err != nil {
			return err
		}
	}
	return nil
}

// tenantGatherer gathers every node's registry, each metric labelled
// with its tenant ("national" for the national node), and the process's
// own Go and process collectors once.
type tenantGatherer struct {
	process *prometheus.Registry
	nodes   []*tenantNode
}

func newTenantGatherer(nodes []*tenantNode) *tenantGatherer {
	g := &tenantGatherer{process: prometheus.NewRegistry(), nodes: nodes}
	g.process.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return g
}

// TenantLabel is the label naming the tenant of each metric on the
// process's /metrics.
const TenantLabel = "tenant"

func (g *tenantGatherer) Gather() ([]*dto.MetricFamily, error) {
	families, err := g.process.Gather()
	if err != nil {
		return nil, err
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	var errs []error
	for _, t := range g.nodes {
		tenant := t.id
		if tenant == "" {
			tenant = "national"
		}
		fs, err := t.metrics.Registry.Gather()
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", tenant, err))
		}
		for _, f := range fs {
			name := f.GetName()
			// Every node's registry has the process's collectors too;
			// they are served once, from the process's own.
			if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
				continue
			}
			for _, m := range f.Metric {
				m.Label = append(m.Label, &dto.LabelPair{Name: new(TenantLabel), Value: new(tenant)})
				slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
			}
			if have, ok := byName[name]; ok {
				have.Metric = append(have.Metric, f.Metric...)
				continue
			}
			byName[name] = f
			families = append(families, f)
		}
	}
	slices.SortFunc(families, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return families, errors.Join(errs...)
}
