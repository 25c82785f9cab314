package postgres

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Leaser = (*DB)(nil)

// Lease timing. The holder checks its connection every leaseCheck and
// gives the lease up when a check takes longer than leaseCheckTimeout;
// the server notices a holder that vanished without closing its
// connection after about leaseKeepalive seconds of TCP keepalives (idle
// plus interval times count). The holder therefore stops before another
// process can take the lease over.
const (
	leaseCheck        = time.Second
	leaseCheckTimeout = 2 * time.Second
	leaseKeepalive    = "5" // seconds idle, then every 2 s, 3 probes: about 11 s
)

// TryLease holds a session-level advisory lock on a connection of its
// own, outside the pool: the lock lives exactly as long as that
// connection, so the server frees it when the holder's process dies.
func (db *DB) TryLease(ctx context.Context, name string) (store.Lease, error) {
	cfg := db.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["tcp_keepalives_idle"] = leaseKeepalive
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	cfg.RuntimeParams["application_name"] = "lbm lease " + name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, translate(err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, leaseKey(name)).Scan(&ok); err != nil {
		conn.Close(context.Background())
		return nil, translate(err)
	}
	if !ok {
		conn.Close(context.Background())
		return nil, store.ErrHeld
	}
	l := &lease{conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, nil
}

// leaseKey is the advisory lock of a lease: apart from the per-log
// transaction locks (lockKey) by its prefix.
func leaseKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("lbm/lease/" + name))
	return int64(h.Sum64())
}

type lease struct {
	conn    *pgx.Conn // used by watch alone until it returns
	lost    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	release sync.Once
}

func (l *lease) Lost() <-chan struct{} { return l.lost }

// watch checks the connection until Release, closing lost when a check
// fails. Closing the connection, either way, frees the lock.
func (l *lease) watch() {
	defer close(l.done)
	defer func() {
		// Bounded: over a dead network, saying goodbye could block.
		ctx, cancel := context.WithTimeout(context.Background(), leaseCheckTimeout)
		defer cancel()
		l.conn.Close(ctx)
	}()
	t := time.NewTicker(leaseCheck)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			ctx, cancel := context.WithTimeout(context.Background(), leaseCheckTimeout)
			l.conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`)
			cancel()
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), leaseCheckTimeout)
			_, err := l.conn.Exec(ctx, `SELECT 1`)
			cancel()
			if err != nil {
				close(l.lost)
				return
			}
		}
	}
}

func (l *lease) Release() {
	l.release.Do(func() { close(l.stop) })
	<-l.done
}
