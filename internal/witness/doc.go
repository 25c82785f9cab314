// Package witness has independent witnesses cosign lbm's checkpoints, so
// that lbm cannot show one history to some and another to others (a
// split view) without a witness noticing.
//
// # The model
//
// A witness ([tlog-witness]) remembers, for each log it knows, the last
// checkpoint it cosigned. Offered a newer checkpoint with a consistency
// proof from the size it remembers, it checks lbm's signature and the
// proof, remembers the new checkpoint and returns a cosignature
// ([tlog-cosignature]): a signature line over the checkpoint, with a
// timestamp. It never cosigns a checkpoint that does not extend what it
// cosigned before, so a log rewritten after a witness saw it, even by
// someone holding lbm's signing key, is refused (422), and the refusal is
// the evidence.
//
// A [Service] offers each log's latest checkpoint to every witness
// configured in DATA/witnesses.yaml ([Parse]) about once a second, with
// backoff after an error, apart from the ingest path: witnessing never
// holds up an append. Each cosignature is checked against the witness's key
// before it is stored (store.Cosignatures). GET /log/{log}/checkpoint
// then serves the checkpoint with the cosignature lines appended
// ([Service.Checkpoint]): one note, several signatures. A verifier that
// knows only lbm's key ignores the lines it cannot check, as
// c2sp.org/signed-note requires, so existing clients keep working.
//
// # Policy
//
// policy.quorum is how many witnesses must cosign a checkpoint for it to
// count as witnessed; policy.fail says what is served meanwhile:
//
//   - open (the default): the newest checkpoint, with whatever
//     cosignatures it has so far. Availability first: a witness being down
//     never stops the log being served.
//   - closed: only the newest checkpoint that quorum witnesses cosigned.
//     Until one has been, GET /log/{log}/checkpoint answers 503
//     ([ErrNotCosigned]): a client is never given a checkpoint no witness
//     has seen, which is the point of failing closed. A deployment that
//     turns witnessing on for a running log starts with fail: open, or
//     accepts the 503s until the first quorum (about a second with healthy
//     witnesses).
//
// With no DATA/witnesses.yaml nothing is witnessed and checkpoints are
// served as before.
//
// # Example
//
//	witnesses:
//	  - name: w1
//	    url: https://witness.example.org/
//	    key: witness.example.org/w1+1f2e3d4c+BKzc…
//	policy:
//	  quorum: 1
//	  fail: open
//
// pushes each checkpoint with POST https://witness.example.org/add-checkpoint:
//
//	old 120
//	<consistency proof from 120, one base64 hash a line>
//
//	<the signed checkpoint>
//
// [tlog-witness]: https://c2sp.org/tlog-witness
// [tlog-cosignature]: https://c2sp.org/tlog-cosignature
package witness
