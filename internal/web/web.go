// Package web is lbm's HTTP surface: the JSON API under /v1, the logs as
// tlog-tiles under /log, health and metrics. Handlers are thin: they
// authenticate, limit and decode the request, call one domain function, and
// encode its result or its error (as RFC 9457 problem+json, from one place).
//
// # Routes and access
//
// Every route is declared once in [routes] with the access it needs
// (public, source, admin). Nothing is reachable that is not in that table,
// and the table is what tests walk to check that each kind of caller is
// refused everything it may not do.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/store"
)

// Log is what the web layer needs of one log.
type Log struct {
	Name        string
	Origin      string
	VerifierKey string
	Writer      *ingest.Writer
}

// Config configures the handler.
type Config struct {
	Store store.Store
	Logs  []Log
	// Metrics serves /metrics; nil disables it.
	Metrics http.Handler
	// Unguarded lists route actions this listener serves without a token,
	// whatever their access in the route table. It is for a separate,
	// private admin listener (serving "metrics.read"), never the main one.
	Unguarded []string
	// Ready reports readiness for /readyz.
	Ready func(ctx context.Context) error
	// MaxBodyBytes bounds a request body. Default 64 MiB.
	MaxBodyBytes int64
	// MaxIngestRequests bounds ingest requests in flight; more get 503.
	// Default 64.
	MaxIngestRequests int
	Logger            *slog.Logger
}

// Access is what a route requires of its caller.
type Access int

const (
	Public Access = iota // anyone, no token
	Source               // a source token
	Admin                // the admin token
)

func (a Access) String() string {
	return [...]string{"public", "source", "admin"}[a]
}

// Route is one entry of the route table.
type Route struct {
	Pattern string // net/http pattern with method
	Action  string // the action's name, for the access table and logs
	Access  Access
	handler func(*server, http.ResponseWriter, *http.Request, identity.Principal)
}

// Routes returns the route table (without handlers), for documentation and tests.
func Routes() []Route {
	rs := routes()
	for i := range rs {
		rs[i].handler = nil
	}
	return rs
}

func routes() []Route {
	return []Route{
		{"POST /v1/events", "events.ingest", Source, (*server).ingestEvents},
		{"GET /v1/transparency-logs", "logs.list", Public, (*server).listLogs},
		{"GET /log/{log}/checkpoint", "logs.checkpoint", Public, (*server).checkpoint},
		{"GET /log/{log}/tile/{path...}", "logs.tile", Public, (*server).tile},
		{"GET /healthz", "health.live", Public, (*server).healthz},
		{"GET /readyz", "health.ready", Public, (*server).readyz},
		{"GET /metrics", "metrics.read", Admin, (*server).metrics},
	}
}

type server struct {
	cfg      Config
	logs     map[string]Log
	ingestSe chan struct{}
}

// New returns the HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxIngestRequests == 0 {
		cfg.MaxIngestRequests = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{cfg: cfg, logs: map[string]Log{}, ingestSe: make(chan struct{}, cfg.MaxIngestRequests)}
	for _, l := range cfg.Logs {
		s.logs[l.Name] = l
	}
	mux := http.NewServeMux()
	for _, r := range routes() {
		access := r.Access
		if slices.Contains(cfg.Unguarded, r.Action) {
			access = Public
		}
		mux.HandleFunc(r.Pattern, s.guard(r, access))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, s.cfg.Logger, errNotFound)
	})
	return http.NewCrossOriginProtection().Handler(mux)
}

// guard authenticates the caller and refuses those the route does not admit.
func (s *server) guard(r Route, access Access) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var p identity.Principal
		if access != Public {
			token, ok := bearer(req)
			if !ok {
				writeProblem(w, req, s.cfg.Logger, identity.ErrUnauthenticated)
				return
			}
			var err error
			if p, err = identity.Authenticate(req.Context(), s.cfg.Store, token); err != nil {
				writeProblem(w, req, s.cfg.Logger, err)
				return
			}
			want := map[Access]string{Source: identity.KindSource, Admin: identity.KindAdmin}[access]
			if p.Kind != want {
				writeProblem(w, req, s.cfg.Logger, errForbidden)
				return
			}
		}
		r.handler(s, w, req, p)
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(token), ok && token != ""
}
