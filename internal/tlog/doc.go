// Package tlog is the Merkle log that lbm keeps over its store: the one
// place that knows how appends extend the tree, how proofs are built from
// stored tiles, and how checkpoints are signed and checked.
//
// # Layout
//
// A log is a C2SP transparency log: RFC 6962 hashing, checkpoints as signed
// notes, and its hashes kept as tlog-tiles — 256 hashes wide, tile level L
// holding the tree's nodes at level 8·L. The store keeps exactly those tiles
// (a partial right-edge tile grows in place) plus the compact range of the
// whole tree, so an append reads only the state row and the right-edge tiles,
// and serving tiles over HTTP is a lookup. Intermediate levels are recomputed
// from the tile below when a proof needs them.
//
// # Append
//
// [Extend] takes the committed state and new leaves and returns the tiles to
// write and the new state; the caller stores them in the same transaction as
// the entries themselves (internal/ingest), so a crash leaves either all of a
// batch or none of it. Extend does no I/O of its own beyond reading tiles
// through the transaction it is given.
//
// # Checkpoints
//
// A checkpoint is the C2SP tlog-checkpoint body
//
//	<origin>\n<size>\n<base64 root>\n
//
// signed as a note (golang.org/x/mod/sumdb/note, Ed25519) by a key named
// after the origin. Anyone holding an old checkpoint can demand a
// consistency proof to a newer one, which is what makes a rewritten history
// detectable even by someone who holds the signing key.
//
// [tlog-tiles]: https://c2sp.org/tlog-tiles
// [tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
package tlog
