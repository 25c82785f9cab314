package store

import (
	"context"
	"time"
)

// Cosignature is one witness's cosignature of a published checkpoint
// ([tlog-cosignature]): the signature line the witness returned, checked
// against the witness's key before it was stored, and appended as it is to
// the checkpoint's note when the checkpoint is served.
//
// [tlog-cosignature]: https://c2sp.org/tlog-cosignature
type Cosignature struct {
	Log     string
	Size    uint64 // the size of the checkpoint cosigned
	Witness string // the witness's name in DATA/witnesses.yaml
	// Line is the note signature line, "— <key name> <base64>\n".
	Line []byte
	Time time.Time // when lbm received and checked it
}

// Cosignatures keeps witnesses' cosignatures of published checkpoints,
// forever: like the checkpoints, they are the record that others saw the
// log as it was.
type Cosignatures interface {
	// AddCosignature stores c. ErrNotFound if c.Log has no checkpoint of
	// size c.Size; ErrExists if c.Witness's cosignature of it is stored
	// (whatever its line).
	AddCosignature(ctx context.Context, c Cosignature) error
	// ListCosignatures returns the cosignatures of log's checkpoint of
	// size, in witness name order; none (and no error) when there are none,
	// or no such checkpoint.
	ListCosignatures(ctx context.Context, log string, size uint64) ([]Cosignature, error)
	// LatestCosigned returns log's largest checkpoint cosigned by at least
	// quorum (at least 1) of the named witnesses; ErrNotFound if none is.
	LatestCosigned(ctx context.Context, log string, witnesses []string, quorum int) (Checkpoint, error)
	// LastCosignature returns witness's cosignature of log's largest
	// checkpoint it cosigned; ErrNotFound if it cosigned none.
	LastCosignature(ctx context.Context, log, witness string) (Cosignature, error)
}
