// Package event is lbm's event model: how one line of captured activity is
// validated, normalised to one canonical form, and committed field by field
// so that a Merkle leaf can prove any subset of fields while hiding the rest.
//
// # The model
//
// An event arrives as a JSON object whose keys are Elastic Common Schema
// names, written dotted ("user.id") or nested ({"user":{"id":…}}). [Parse]
// flattens it into [Field] values, each a dotted name and the canonical JSON
// bytes of its value. Everything under "content" (e-mail subject and body,
// document text, query terms) is content; everything else is metadata. Three
// members are lifted out of the field list because the leaf carries them
// directly: "@timestamp" (the event time), "source.id" (set by the server from
// the source's token, never trusted from the client) and the server-assigned
// [ID].
//
// Required: "@timestamp" (RFC 3339), "event.category" (one of [Categories];
// a string or a one-element array), "event.action" and "user.id" (the person
// whose use of a system this records: the subject). Optional and checked:
// "event.outcome" (success, failure, unknown), "event.id" (the client's id,
// used to deduplicate retries per source), "related.user" (other people in
// the event). Any other name is accepted as metadata when it is well formed.
//
// # Commitments
//
// Each field gets its own 32-byte random salt and a commitment
//
//	SHA-256("lbm/field/v1\n" || salt || be32(len(name)) || name || be32(len(value)) || value)
//
// and the leaf — the bytes an entry of the tlog holds — is
//
//	"lbm/leaf/v1\n" || id(16) || be64(unix nanoseconds) || be16(len(source)) || source ||
//	be16(n) || n commitments, sorted ascending as byte strings
//
// Sorting the commitments hides which field is which, and lets a verifier
// rebuild the leaf from any mix of disclosed (name, value, salt) triples and
// undisclosed commitments without knowing an order. Because only salted
// commitments reach the log, deleting a field's value and salt (for content,
// by destroying the data key that encrypts both) leaves every proof valid and
// tells a reader of the log nothing about what was deleted.
//
// # Example
//
//	{"@timestamp":"2026-11-02T08:03:11.123Z","event":{"category":"record_query","action":"pnc_person_search"},
//	 "user":{"id":"u00042"},"content":{"query":"SMITH 1980-04-01"}}
//
// becomes fields event.action, event.category, user.id (metadata) and
// content.query (content), each salted and committed; docs/contract.md in the
// repository holds the byte-level specification and known-answer vectors live
// in testdata.
package event
