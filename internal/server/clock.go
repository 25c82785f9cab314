//go:build !lbmtestclock

package server

import "time"

// systemClock is the clock of a production build: the system's, which no
// flag, variable or request can move. A settable clock would be a way to
// extend authorisations, so it exists only in test builds
// (clock_testclock.go, build tag lbmtestclock).
func systemClock() func() time.Time { return time.Now }

// requestSweepInterval is how often requests' deadlines are recorded.
func requestSweepInterval() time.Duration { return time.Minute }
