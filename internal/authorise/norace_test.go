//go:build !race

package authorise_test

const raceEnabled = false
