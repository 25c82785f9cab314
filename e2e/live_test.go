package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestVerifyStoreWhileIngesting runs `lbm verify store` on the store of a
// server that is ingesting. Everything the store holds is
// committed and consistent at every moment, so the check must pass.
func TestVerifyStoreWhileIngesting(t *testing.T) {
	forEachEngine(t, testVerifyStoreWhileIngesting)
}

func testVerifyStoreWhileIngesting(t *testing.T, e engine) {
	st := e.newStore(t)
	srv := startServer(t, st)
	token := addSource(t, st, "live")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Go(func() {
			for seq := 0; ctx.Err() == nil; seq++ {
				var body strings.Builder
				for i := range 20 {
					body.WriteString(eventLine(fmt.Sprintf("live-c%d-b%d-e%d", c, seq, i), seq*20+i))
					body.WriteByte('\n')
				}
				status, resp, _, err := post(ctx, srv.URL, token, []byte(body.String()))
				if ctx.Err() != nil {
					return
				}
				if err != nil || status != http.StatusOK {
					t.Errorf("posting: %d %s %v", status, resp, err)
					return
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	var fails []string
	for range 5 {
		r := lbm(t, nil, verifyStore(st)...)
		if r.code != 0 {
			fails = append(fails, r.stdout+r.stderr)
		}
	}
	cancel()
	wg.Wait()
	for _, f := range fails {
		t.Errorf("lbm verify store during ingest failed:\n%s", f)
	}
	srv.stop()
	lbmOK(t, nil, verifyStore(st)...)
}
