package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/server"
)

// Nodes is the mode measuring POST /v1/events on 1, then 2, nodes sharing
// one PostgreSQL store, each appending to its own shard of the activity
// log (RunNodes).
const Nodes Mode = "nodes"

// RunNodes measures POST /v1/events served by nodes lbm nodes sharing one
// fresh PostgreSQL store, each appending to its own shard of the activity
// log (lbm serve --shard N), with cfg.Clients clients spread evenly over
// them. The nodes run in this process, on the machine's cores beside the
// database: the run measures what sharding removes (one writer, and one
// transaction at a time, per log), not added hardware. It fails unless
// the shards together hold exactly the acknowledged events.
func RunNodes(ctx context.Context, cfg Config, lines [][]byte, nodes int) (Result, error) {
	if err := cfg.valid(); err != nil {
		return Result{}, err
	}
	if nodes < 1 {
		return Result{}, errors.New("measuring sharded ingest needs at least one node")
	}
	mode := Mode("http-" + strconv.Itoa(nodes) + "-nodes")
	r, err := openRun(ctx, cfg, PostgreSQL, mode)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	// The run's own node made the service's keys and holds the source;
	// the measured nodes are sharded ones holding copies of those keys,
	// as a deployment's nodes do.
	token, err := identity.AddSource(ctx, r.node.Store, source, time.Now())
	if err != nil {
		return Result{}, err
	}
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, nodes)
	var clients []*ingest.Client
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	keys := r.dir + "/keys"
	for i := 1; i <= nodes; i++ {
		dir := r.dir + "-node-" + strconv.Itoa(i)
		r.cleanup = append(r.cleanup, func() { os.RemoveAll(dir) })
		// The first node makes the shard seed; the others copy its keys.
		if err := os.CopyFS(dir+"/keys", os.DirFS(keys)); err != nil {
			return Result{}, fmt.Errorf("giving node %d the service's keys: %w", i, err)
		}
		n, err := server.Open(ctx, server.Config{DataDir: dir, DB: r.pg.dsn(r.dbs[0]), KeysDB: r.pg.dsn(r.dbs[1]),
			Shard: strconv.Itoa(i), Observer: r.writer})
		if err != nil {
			return Result{}, fmt.Errorf("opening node %d: %w", i, err)
		}
		r.cleanup = append(r.cleanup, func() { n.Close() })
		keys = dir + "/keys"
		addrc := make(chan net.Addr, 1)
		go func() {
			served <- server.Serve(srvCtx, n, server.ServeConfig{
				Addr:      "127.0.0.1:0",
				Listening: func(addr, _ net.Addr) { addrc <- addr },
			})
		}()
		select {
		case addr := <-addrc:
			clients = append(clients, &ingest.Client{Server: "http://" + addr.String(), Token: token, HTTP: &http.Client{Transport: tr}})
		case err := <-served:
			return Result{}, fmt.Errorf("starting node %d: %w", i, err)
		}
	}

	bs := batches(lines, cfg.Batch)
	bodies := make([][]byte, len(bs))
	for i, b := range bs {
		bodies[i] = append(bytes.Join(b, []byte("\n")), '\n')
	}
	t, elapsed, err := drive(ctx, cfg, "postgres/"+string(mode), bs, func(ctx context.Context, i int) (int, error) {
		retries := 0
		rep, err := clients[i%nodes].Push(ctx, bodies[i], func(int, time.Duration, string) { retries++ })
		if err != nil {
			return retries, err
		}
		if rep.Accepted != len(bs[i]) {
			return retries, fmt.Errorf("%d of %d events accepted (%d duplicates)", rep.Accepted, len(bs[i]), rep.Duplicates)
		}
		return retries, nil
	})
	// Each Serve commits what its writers hold before it returns.
	stop()
	for range nodes {
		if serr := <-served; err == nil && serr != nil {
			err = fmt.Errorf("serving: %w", serr)
		}
	}
	if err != nil {
		return Result{}, err
	}
	return r.finish(ctx, t, elapsed, "request")
}
