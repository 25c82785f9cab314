package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

// A holder whose connection is cut (as when its process is killed or its
// network goes) learns it lost the lease, and another process can take it.
func TestLeaseLostWithItsConnection(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	l, err := db.TryLease(ctx, "leader")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	var killed bool
	if err := db.pool.QueryRow(ctx, `SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'lbm lease leader'`).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating the lease's connection: %v, %v", killed, err)
	}
	select {
	case <-l.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the lease was not reported lost 10 s after its connection ended")
	}
	// The server freed the lock with the connection.
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := db.TryLease(ctx, "leader")
		if err == nil {
			m.Release()
			break
		}
		if !errors.Is(err, store.ErrHeld) || time.Now().After(deadline) {
			t.Fatalf("taking the lease after its holder's connection ended: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
