//go:build race

package authorise_test

// raceEnabled is set when the race detector is on: it slows every store
// call several times, so the property test runs fewer cases.
const raceEnabled = true
