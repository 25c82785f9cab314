package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/server"
)

// RunHTTP measures POST /v1/events end to end: it serves a fresh store on
// engine e (see Config.DataDir and Config.DB) with server.Serve on
// 127.0.0.1:0 in this process, registers a source, and has cfg.Clients
// clients post lines, cfg.Batch a request, encoded before the clock starts.
// After shutting the server down it checks that the activity log holds
// exactly the acknowledged events.
func RunHTTP(ctx context.Context, cfg Config, e Engine, lines [][]byte) (Result, error) {
	// Defaults first: batches and drive below read cfg too.
	if err := cfg.valid(); err != nil {
		return Result{}, err
	}
	r, err := openRun(ctx, cfg, e, HTTP)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	node := r.node
	token, err := identity.AddSource(ctx, node.Store, source, time.Now())
	if err != nil {
		return Result{}, err
	}

	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(srvCtx, node, server.ServeConfig{
			Addr:      "127.0.0.1:0",
			Listening: func(addr, _ net.Addr) { addrc <- addr },
		})
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-served:
		return Result{}, fmt.Errorf("starting server: %w", err)
	}

	bs := batches(lines, cfg.Batch)
	bodies := make([][]byte, len(bs))
	for i, b := range bs {
		bodies[i] = bytes.Join(b, []byte("\n"))
		bodies[i] = append(bodies[i], '\n')
	}
	// One kept-alive connection per client: the default transport keeps
	// only two idle connections a host, and would make the rest reconnect.
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &ingest.Client{Server: "http://" + addr.String(), Token: token, HTTP: &http.Client{Transport: tr}}

	t, elapsed, err := drive(ctx, cfg, r.label(), bs, func(ctx context.Context, i int) (int, error) {
		retries := 0
		rep, err := client.Push(ctx, bodies[i], func(int, time.Duration, string) { retries++ })
		if err != nil {
			return retries, err
		}
		if rep.Accepted != len(bs[i]) {
			return retries, fmt.Errorf("%d of %d events accepted (%d duplicates)", rep.Accepted, len(bs[i]), rep.Duplicates)
		}
		return retries, nil
	})
	// Serve commits what the writer holds and publishes a final checkpoint
	// before it returns, so the log is complete once it has.
	stop()
	if serr := <-served; err == nil && serr != nil {
		err = fmt.Errorf("serving: %w", serr)
	}
	if err != nil {
		return Result{}, err
	}
	return r.finish(ctx, t, elapsed, "request")
}
