package server

import "errors"

// lockFile, in the data directory, is held by a running server and by
// commands that must not run beside one (`lbm keys rotate-kek`).
const lockFile = "lbm.lock"

// ErrLocked is returned when another process holds the data directory's
// lock: a server is running on it, or a key rotation is.
var ErrLocked = errors.New("the data directory is in use by another lbm process (lbm serve, or a key rotation)")
