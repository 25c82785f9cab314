package server_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
)

// TestLeaversRevokedOnTheDay: a running server revokes a leaver's tokens
// once their leaving date comes, without anyone using them, and records it.
func TestLeaversRevokedOnTheDay(t *testing.T) {
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	now := n.Now()
	leaves := now.Add(300 * time.Millisecond)
	people := []store.Person{
		{ID: "lee", Name: "Lee", Roles: []string{"investigator", "staff"}, LeftOn: leaves, Updated: now},
		{ID: "sam", Name: "Sam", Roles: []string{"staff"}, Updated: now},
	}
	if _, _, err := n.Store.PutPeople(t.Context(), people); err != nil {
		t.Fatal(err)
	}
	leeToken, err := identity.NewUserToken(t.Context(), n.Store, "lee", identity.RoleInvestigator, now)
	if err != nil {
		t.Fatal(err)
	}
	samToken, err := identity.NewUserToken(t.Context(), n.Store, "sam", identity.RoleStaff, now)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := server.Serve(ctx, n, server.ServeConfig{Addr: "127.0.0.1:0", LeaverSweep: 50 * time.Millisecond,
			Listening: func(net.Addr, net.Addr) {}}); err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	defer func() {
		cancel()
		wg.Wait()
		n.Close()
	}()
	tok, err := n.Store.TokenByHash(t.Context(), identity.HashToken(leeToken))
	if err != nil || !tok.Revoked.IsZero() {
		t.Fatalf("leaver's token before the leaving date: %+v, %v; want unrevoked", tok, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for tok.Revoked.IsZero() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if tok, err = n.Store.TokenByHash(t.Context(), identity.HashToken(leeToken)); err != nil {
			t.Fatal(err)
		}
	}
	if tok.Revoked.IsZero() || tok.Revoked.Before(leaves) {
		t.Fatalf("leaver's token revoked at %v, want on or after the leaving time %v", tok.Revoked, leaves)
	}
	if tok, _ := n.Store.TokenByHash(t.Context(), identity.HashToken(samToken)); !tok.Revoked.IsZero() {
		t.Error("a stayer's token was revoked")
	}
	// The record follows the revocation; wait for it, then for any extra.
	var size uint64
	for time.Now().Before(deadline) {
		ts, err := n.Store.LogState(t.Context(), server.Oversight)
		if err != nil {
			t.Fatal(err)
		}
		if size = ts.Size; size >= 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // several more sweeps
	if ts, _ := n.Store.LogState(t.Context(), server.Oversight); size != 1 || ts.Size != 1 {
		t.Errorf("oversight log: size %d then %d; want the revocation recorded once", size, ts.Size)
	}
}
