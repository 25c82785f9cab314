package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
)

// RunSyslog measures syslog over TCP end to end: the real server (with
// server.Serve) takes RFC 5424 messages, octet-counted, from cfg.Clients
// connections, cfg.Batch messages a write, and maps and stores them with
// the built-in syslog mapping. Syslog has no acknowledgement, so the clock
// stops when the activity log holds every message sent; a latency sample
// is the time to write one batch to the socket, which says nothing of
// durability. It fails unless the log ends up holding exactly the
// messages sent.
func RunSyslog(ctx context.Context, cfg Config, e Engine, lines [][]byte) (Result, error) {
	if err := cfg.valid(); err != nil {
		return Result{}, err
	}
	r, err := openRun(ctx, cfg, e, Syslog)
	if err != nil {
		return Result{}, err
	}
	defer r.close()
	node := r.node
	if _, err := identity.AddSource(ctx, node.Store, source, time.Now()); err != nil {
		return Result{}, err
	}
	msgs, err := syslogMessages(lines)
	if err != nil {
		return Result{}, err
	}

	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(srvCtx, node, server.ServeConfig{
			Addr: "127.0.0.1:0",
			SyslogConfig: server.SyslogConfig{SyslogTCP: "127.0.0.1:0", SyslogSource: source,
				SyslogListening: func(_ string, a net.Addr) { addrc <- a }},
		})
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-served:
		return Result{}, fmt.Errorf("starting server: %w", err)
	}
	conns := make(chan net.Conn, cfg.Clients)
	for range cfg.Clients {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			return Result{}, err
		}
		defer c.Close()
		conns <- c
	}
	bs := batches(msgs, cfg.Batch)
	start := time.Now()
	t, _, err := drive(ctx, cfg, r.label(), bs, func(ctx context.Context, i int) (int, error) {
		c := <-conns
		defer func() { conns <- c }()
		_, err := c.Write(framed(bs[i]))
		return 0, err
	})
	if err != nil {
		return Result{}, err
	}
	// The messages count as NDJSON bytes of the events they carry, so the
	// MB/s compares with the other modes.
	t.bytes = ndjsonBytes(lines)
	for {
		st, err := node.Store.LogState(ctx, server.Activity)
		if err != nil {
			return Result{}, err
		}
		if st.Size >= uint64(len(msgs)) {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return Result{}, fmt.Errorf("after 10 minutes the log holds %d of %d messages sent", st.Size, len(msgs))
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return Result{}, err
		}
	}
	elapsed := time.Since(start)
	stop()
	if serr := <-served; serr != nil {
		return Result{}, fmt.Errorf("serving: %w", serr)
	}
	return r.finish(ctx, t, elapsed, "write")
}

// syslogMessages turns simulated events into RFC 5424 messages as a
// server would send them: the account in the text (`for USER`, which the
// built-in mapping reads), the event itself as the rest of the message.
func syslogMessages(lines [][]byte) ([][]byte, error) {
	out := make([][]byte, len(lines))
	for i, l := range lines {
		var ev struct {
			Time  string `json:"@timestamp"`
			Event struct {
				Action string `json:"action"`
			} `json:"event"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			Host struct {
				Name string `json:"name"`
			} `json:"host"`
		}
		if err := json.Unmarshal(l, &ev); err != nil {
			return nil, fmt.Errorf("event %d: %w", i+1, err)
		}
		if ev.User.ID == "" || ev.Time == "" {
			return nil, errors.New("a simulated event without user or time")
		}
		host := orDash(ev.Host.Name, "-")
		out[i] = fmt.Appendf(nil, "<86>1 %s %s lbm-bench - %s - %s for %s: %s", ev.Time, host, orDash(ev.Event.Action, "-"), ev.Event.Action, ev.User.ID, strings.TrimSpace(string(l)))
	}
	return out, nil
}

func orDash(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// framed joins messages with RFC 6587 octet counting.
func framed(msgs [][]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = fmt.Appendf(b, "%d ", len(m))
		b = append(b, m...)
	}
	return b
}
