//go:build !unix

package server

// lockDataDir does nothing where there is no flock: the operator alone
// keeps `lbm keys rotate-kek` and `lbm serve` apart (docs/keys.md).
func lockDataDir(string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
