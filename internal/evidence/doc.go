// Package evidence builds and checks evidence bundles: a zip file that
// discloses chosen events of an lbm log to someone outside lbm (a court, a
// tribunal, a misconduct hearing) in a form they can check without lbm's
// servers, its database or its keys.
//
// The package is pure: [Write] and [Verify] take everything as input and
// read no clock, store or network, so the same bundle verifies the same way
// anywhere, forever.
//
// # What a bundle proves
//
// lbm's activity log is a Merkle tree whose leaves hold, for each event, its
// id, time and source, and the sorted salted commitments to its fields
// (internal/event; docs/contract.md has the byte-level specification). A
// bundle gives, for each disclosed event:
//
//   - the leaf bytes;
//   - the disclosed fields: name, value (canonical JSON) and 32-byte salt,
//     from which anyone recomputes each field's commitment;
//   - the commitments of the fields it does not disclose;
//   - an inclusion proof of the leaf at its index;
//
// and, once for each log the bundle's events are in, a checkpoint (tree
// size and root) signed by the log's key, and that key. Verifying shows
// that each disclosed value is, byte for byte, what the log committed to
// when the event was recorded, and that the withheld fields exist but says
// nothing about them.
//
// It does not prove: that the verifier key in the bundle is the log's (the
// reader must compare it with the key the organisation publishes, or pin it
// with `lbm verify bundle --key`); the names of withheld fields; pseudonyms
// shown beside withheld fields (a pseudonym replaces a person's identifier
// so the bundle can be shown without naming them; it is an annotation only);
// the request, its timeline and the disclosure record, which are copied from
// lbm for context and protected only by the manifest.
//
// # Files
//
//	checkpoint.txt        the signed checkpoint (a C2SP signed note)
//	verifier-key.txt      the log's note verifier key
//	request.json          the authorisation, with its history, as lbm holds it
//	disclosure.json       recipient, purpose, time of creation, log, origin,
//	                      and the disclosed event indices
//	events/NNNNNNNN.json  one per event, named by its index (at least 8 digits)
//	README.txt            how to check the bundle by hand and with lbm
//	manifest.json         the SHA-256 and size of every other file; last
//
// An event file looks like
//
//	{"index": 42, "id": "…32 hex…", "time": "2026-11-02T08:03:11.123Z", "source": "pnc",
//	 "leaf": "base64…",
//	 "disclosed": [{"name": "user.id", "value": "\"u00042\"", "salt": "base64…"}],
//	 "withheld": [{"name": "related.user", "commitment": "64 hex…",
//	               "pseudonym": "Person A", "unverified": "…"}],
//	 "proof": ["base64…", …]}
//
// where value is the canonical JSON text of the field's value, carried as a
// JSON string so that its bytes are exact. id, time and source repeat what
// the leaf holds, for people; [Verify] checks that they agree.
//
// # Several logs
//
// Where several nodes ingest, the activity log is sharded: each node
// appends to its own log (activity-1, activity-2, …), with its own origin,
// key and checkpoints, and a bundle may hold events of several. Such a
// bundle keeps each log's checkpoint, key and events under logs/LOG/, and
// each event file names its log first:
//
//	logs/activity-1/checkpoint.txt
//	logs/activity-1/verifier-key.txt
//	logs/activity-2/checkpoint.txt
//	logs/activity-2/verifier-key.txt
//	request.json
//	disclosure.json       recipient, purpose, time of creation, and by log
//	                      its origin and disclosed event indices
//	README.txt
//	logs/activity-1/events/00000042.json   {"log": "activity-1", "index": 42, …}
//	logs/activity-2/events/00000042.json   {"log": "activity-2", "index": 42, …}
//	manifest.json
//
// Each event's proof is checked against its own log's checkpoint, signed
// by its own log's key: an event moved to another log, or named as
// another's, fails. A bundle of one log keeps the layout above, byte for
// byte as bundles were before logs were sharded, so that every bundle
// ever written still verifies; [Write] chooses the layout, and [Verify]
// refuses a bundle that mixes the two. [Report.SignedBy] checks every
// log's key against the keys the reader trusts.
//
// # Verifying
//
// [Verify] checks, in order: the zip itself (no path outside the bundle, no
// duplicate, symlink or directory entry, bounded sizes), the manifest (every
// file listed with its hash, nothing unlisted), the checkpoint's signature,
// and each event: that its disclosed fields' commitments and its withheld
// commitments are together exactly the leaf's commitments, and that the
// leaf is at its index in the tree of the checkpoint. Every failure is an
// [*Error] that names the file and, for an event, its index:
//
//	events/00000042.json: event 42: field user.id does not match its commitment
//
// The manifest is not signed: it names the file that changed, but whoever
// can edit a file can rewrite the manifest too. What cannot be rewritten
// without failing are the commitments, the proofs and the signature. To tie
// the rest to what lbm disclosed, compare [Report.ManifestSHA256] with the
// hash the disclosure log recorded.
package evidence
