//go:build lbmtestclock

package server

import (
	"os"
	"strings"
	"sync"
	"time"
)

// systemClock, in a test build only, is the system clock moved forward by
// the duration written in the file LBM_TEST_CLOCK_FILE names (e.g.
// "72h1m"), read again at most every 50ms: end-to-end tests move a
// running server's clock past a deadline. Production builds cannot do
// this (clock.go).
func systemClock() func() time.Time {
	path := os.Getenv("LBM_TEST_CLOCK_FILE")
	if path == "" {
		return time.Now
	}
	var mu sync.Mutex
	var offset time.Duration
	var read time.Time
	return func() time.Time {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if now.Sub(read) > 50*time.Millisecond {
			read = now
			if b, err := os.ReadFile(path); err == nil {
				if d, err := time.ParseDuration(strings.TrimSpace(string(b))); err == nil {
					offset = d
				}
			}
		}
		return now.Add(offset)
	}
}

// requestSweepInterval is short in test builds, so that a moved clock is
// acted on at once.
func requestSweepInterval() time.Duration { return 200 * time.Millisecond }
