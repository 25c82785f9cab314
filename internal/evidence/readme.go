package evidence

import (
	"fmt"
	"strings"
	"time"
)

// readme returns README.txt: what the bundle is, how to check it with lbm
// and by hand, and what it does and does not prove. It is written for a
// court or hearing, not for lbm's developers.
func readme(b Bundle, l Log, events int) string {
	var s strings.Builder
	fmt.Fprintf(&s, `EVIDENCE BUNDLE

This bundle discloses %d event(s) from the log %q (origin %q) of lbm, a
system that records staff use of an organisation's computer systems in a
tamper-evident log. It was made on %s for:

  recipient: %s
  purpose:   %s

FILES

  checkpoint.txt        the log's signed checkpoint: its size and Merkle root
  verifier-key.txt      the public key that signed the checkpoint
  request.json          the authorisation that permitted this disclosure,
                        with its history, as lbm holds it
  disclosure.json       recipient, purpose, date and the events disclosed
  events/NNNNNNNN.json  one file per event, named by its position in the log
  README.txt            this file
  manifest.json         the SHA-256 hash and size of every other file

CHECKING IT WITH LBM

  lbm verify bundle THIS-FILE.zip --key "$(cat KEY-YOU-TRUST.txt)"

lbm is free software. The command needs no network and no access to the
organisation's systems. It prints OK and a summary, or FAIL naming the
file and the event that does not check, and exits with status 1.

CHECKING IT BY HAND

docs/contract.md in lbm's source holds the exact byte formats; in outline:

 1. Compare verifier-key.txt with the key the organisation publishes
    (GET /v1/transparency-logs on its lbm server, its monitoring notice,
    or a copy held by the oversight body). The bundle carries a key so
    that it can be checked offline, but only a key obtained independently
    shows that the log is the organisation's.
 2. Check the signature on checkpoint.txt (a C2SP signed note, Ed25519)
    with that key. Its body gives the origin, the tree size and the root.
 3. For each events/NNNNNNNN.json: base64-decode "leaf". For each
    disclosed field, compute
      SHA-256("lbm/field/v1\n" || salt || be32(len(name)) || name ||
              be32(len(value)) || value)
    with salt base64-decoded and value the bytes of the "value" string.
    These, together with the hex "commitment" of each withheld field,
    must be exactly the commitments listed at the end of the leaf.
 4. Compute the leaf hash SHA-256(0x00 || leaf) and check the inclusion
    proof ("proof", RFC 6962 / RFC 9162 section 2.1.3) at "index" against
    the checkpoint's size and root.
 5. Check every file's SHA-256 against manifest.json.

WHAT IS PROVEN, AND WHAT IS NOT

Proven, given a verifier key you trust: each disclosed value is, byte for
byte, what the log recorded for that event, with its time and source; the
event is in the log at its position; the event has exactly as many other
fields as there are withheld commitments.

Not proven:
  - the names of withheld fields, and anything about their values;
  - pseudonyms: where a person's identifier has been replaced by a
    pseudonym, that field is withheld and the pseudonym shown beside it
    is an annotation for readers, not part of the proof;
  - request.json and disclosure.json: they are copied from lbm for
    context. Their record is lbm's oversight log.
  - the manifest: it is not signed. It shows which file changed, but
    whoever can change a file can change the manifest too. Compare the
    SHA-256 of manifest.json with the one recorded in the disclosure log.
`, events, l.Name, l.Origin, b.Created.UTC().Format(time.RFC3339), b.Recipient, b.Purpose)
	return s.String()
}

// readmeFor returns the README of b: the subject access wording when b
// answers a person's own request, else the evidence wording.
func readmeFor(b Bundle, l Log, events int) string {
	if b.SubjectAccess {
		return subjectAccessReadme(b, l, events)
	}
	return readme(b, l, events)
}

// subjectAccessReadme is README.txt of a bundle answering a person's
// request for their own data. It explains what the files are and how to
// check them, in the same format as an evidence bundle, but never says
// that anything was left out or why: a person must not learn from their
// own copy that they are being investigated (DPA 2018 Sch 2 para 2).
func subjectAccessReadme(b Bundle, l Log, events int) string {
	return fmt.Sprintf(`YOUR DATA

This file answers your request for a copy of your personal data (UK GDPR
Article 15). It contains %d event(s) about your own use of the
organisation's computer systems, as recorded in the log %q (origin %q)
of lbm, a system that keeps such records in a tamper-evident log. It was
made on %s.

Where an event names other people, their identifiers are replaced by a
pseudonym ("person-…"), to protect their data as the law requires.

FILES

  checkpoint.txt        the log's signed checkpoint: its size and Merkle root
  verifier-key.txt      the public key that signed the checkpoint
  request.json          your request, as lbm received it
  disclosure.json       to whom, why and when this copy was made, and the
                        positions of its events in the log
  events/NNNNNNNN.json  one file per event, named by its position in the log
  README.txt            this file
  manifest.json         the SHA-256 hash and size of every other file

Each event file lists its fields under "disclosed" with their values.
Fields listed with only a hex "commitment" (and, for another person, the
pseudonym beside it) are the ones that name other people, or whose
content is no longer kept.

CHECKING IT

The copy can be checked to be exactly what the log recorded:

  lbm verify bundle THIS-FILE.zip --key "$(cat KEY-YOU-TRUST.txt)"

lbm is free software; the command needs no network. Compare
verifier-key.txt with the key the organisation publishes (its monitoring
notice, or GET /v1/transparency-logs on its lbm server).
docs/contract.md in lbm's source gives the exact byte formats.

  recipient: %s
  purpose:   %s
`, events, l.Name, l.Origin, b.Created.UTC().Format(time.RFC3339), b.Recipient, b.Purpose)
}

// readmeLogs returns README.txt of a bundle of several logs: the same
// text as a bundle of one, with each log listed and the files laid out
// by log. A subject access answer keeps its own wording.
func readmeLogs(b Bundle, logs []Log, events int) string {
	var list strings.Builder
	for _, l := range logs {
		fmt.Fprintf(&list, "  %-20s origin %q\n", l.Name, l.Origin)
	}
	files := `  logs/LOG/checkpoint.txt       the log's signed checkpoint: its size and
                                Merkle root
  logs/LOG/verifier-key.txt     the public key that signed that checkpoint
  logs/LOG/events/NNNNNNNN.json one file per event of that log, named by
                                its position in the log
`
	if b.SubjectAccess {
		return fmt.Sprintf(`YOUR DATA

This file answers your request for a copy of your personal data (UK GDPR
Article 15). It contains %d event(s) about your own use of the
organisation's computer systems, as recorded in lbm, a system that keeps
such records in tamper-evident logs. The record is kept in several logs,
one for each of lbm's servers, each checked on its own:

%s
It was made on %s.

Where an event names other people, their identifiers are replaced by a
pseudonym ("person-…"), to protect their data as the law requires.

FILES

%s  request.json                  your request, as lbm received it
  disclosure.json               to whom, why and when this copy was made,
                                and the positions of its events in each log
  README.txt                    this file
  manifest.json                 the SHA-256 hash and size of every other file

Each event file names its log and lists its fields under "disclosed" with
their values. Fields listed with only a hex "commitment" (and, for another
person, the pseudonym beside it) are the ones that name other people, or
whose content is no longer kept.

CHECKING IT

The copy can be checked to be exactly what the logs recorded:

  lbm verify bundle THIS-FILE.zip

lbm is free software; the command needs no network. Compare each
logs/LOG/verifier-key.txt with the key the organisation publishes for
that log (its monitoring notice, or GET /v1/transparency-logs on its lbm
server). docs/contract.md in lbm's source gives the exact byte formats.

  recipient: %s
  purpose:   %s
`, events, list.String(), b.Created.UTC().Format(time.RFC3339), files, b.Recipient, b.Purpose)
	}
	return fmt.Sprintf(`EVIDENCE BUNDLE

This bundle discloses %d event(s) from the logs below of lbm, a system
that records staff use of an organisation's computer systems in
tamper-evident logs. The activity log is kept in several logs (shards),
one for each of lbm's servers; each is a log of its own, with its own
key and checkpoint, and each event is proved in the log it is in:

%s
It was made on %s for:

  recipient: %s
  purpose:   %s

FILES

%s  request.json                  the authorisation that permitted this
                                disclosure, with its history, as lbm holds it
  disclosure.json               recipient, purpose, date and the events
                                disclosed, by log
  README.txt                    this file
  manifest.json                 the SHA-256 hash and size of every other file

CHECKING IT WITH LBM

  lbm verify bundle THIS-FILE.zip

lbm is free software. The command needs no network and no access to the
organisation's systems. It prints OK and a summary, or FAIL naming the
file and the event that does not check, and exits with status 1.

CHECKING IT BY HAND

docs/contract.md in lbm's source holds the exact byte formats; in outline,
for each log LOG:

 1. Compare logs/LOG/verifier-key.txt with the key the organisation
    publishes for that log (GET /v1/transparency-logs on its lbm server,
    its monitoring notice, or a copy held by the oversight body). Only a
    key obtained independently shows that the log is the organisation's.
 2. Check the signature on logs/LOG/checkpoint.txt (a C2SP signed note,
    Ed25519) with that key. Its body gives the origin, the tree size and
    the root.
 3. For each logs/LOG/events/NNNNNNNN.json: check that its "log" is LOG.
    Base64-decode "leaf". For each disclosed field, compute
      SHA-256("lbm/field/v1\n" || salt || be32(len(name)) || name ||
              be32(len(value)) || value)
    with salt base64-decoded and value the bytes of the "value" string.
    These, together with the hex "commitment" of each withheld field,
    must be exactly the commitments listed at the end of the leaf.
 4. Compute the leaf hash SHA-256(0x00 || leaf) and check the inclusion
    proof ("proof", RFC 6962 / RFC 9162 section 2.1.3) at "index" against
    the size and root of LOG's checkpoint, never another log's.
 5. Check every file's SHA-256 against manifest.json.

WHAT IS PROVEN, AND WHAT IS NOT

Proven, given verifier keys you trust: each disclosed value is, byte for
byte, what its log recorded for that event, with its time and source; the
event is in that log at its position; the event has exactly as many other
fields as there are withheld commitments.

Not proven:
  - the names of withheld fields, and anything about their values;
  - pseudonyms: where a person's identifier has been replaced by a
    pseudonym, that field is withheld and the pseudonym shown beside it
    is an annotation for readers, not part of the proof;
  - request.json and disclosure.json: they are copied from lbm for
    context. Their record is lbm's oversight log.
  - the manifest: it is not signed. It shows which file changed, but
    whoever can change a file can change the manifest too. Compare the
    SHA-256 of manifest.json with the one recorded in the disclosure log.
`, events, list.String(), b.Created.UTC().Format(time.RFC3339), b.Recipient, b.Purpose, files)
}
