// Package search extracts the terms of an event's content for lbm's
// full-text index, and the terms of a reviewer's query, by one set of rules,
// so that a query term finds the stored term it names.
//
// # A blind index
//
// Content is encrypted under a per-subject, per-month data key so that
// destroying the key deletes it. A plaintext index would defeat that: its
// rows would outlive the key, and an old backup of the events database
// would bring them back. So lbm never stores a term. internal/record passes
// [Terms] through Key.Blind of internal/keys, which replaces each term with
// an opaque 24-character tag under a search key derived from the entry's
// data key, and the store indexes only the tags. A query is blinded the
// same way, under the same key, before it reaches the store
// (record.BlindQuery). Once the data key is destroyed nobody can blind a
// guess to compare, so the tags left in any copy of the database say
// nothing.
//
// What the index still shows to someone who reads the database: how many
// distinct terms each event has, and which events of one subject's month
// share a term (tags under one key repeat; under two keys they never
// match). Tags are stored sorted, so their order says nothing of the
// terms'.
//
// # Tokens
//
// A token is a maximal run of letters (Unicode L), digits (Nd) and
// combining marks (M); everything else separates tokens. Marks belong to
// the word they follow, so "naïve" written with a combining diaeresis, or
// a word in Devanagari, stays one token rather than falling into
// fragments. Each rune is lower-cased with [unicode.ToLower]; there is no
// other folding and no Unicode normalisation, so a precomposed "é" and
// "e" + U+0301 are different terms. Tokens of [MinTermRunes] to
// [MaxTermRunes] runes are kept: one letter matches too much to be worth
// indexing, and a longer run is an identifier or an encoded blob, not a
// word anyone types. The rest are dropped, not truncated. Nothing segments
// scripts written without spaces: "東京都" is one term, and "東京" does not
// find it.
//
// Content values are canonical JSON (internal/event). A string gives its
// text and a number its canonical text, tokenised alike: 2026 gives "2026",
// 3.14 gives "14", and 1.5 nothing. An array gives its elements' terms.
// Booleans give nothing: "true" matches everything flagged anywhere.
//
// # Limits
//
// One event yields at most [MaxTerms] terms: the first distinct ones in
// field-name order, then text order, so a long e-mail body bounds the
// index (and the HMACs computed per event) while its opening, where a
// reader looks first, stays searchable. Query has the same limit.
//
// # Example
//
// An e-mail event with
//
//	"content":{"subject":"Re: case 17","body":"Dear Sir, please see the attached."}
//
// has the terms
//
//	17 attached case dear please re see sir the
//
// and its entry stores their nine tags, each like "hc5bvq5uqunrviollsz62n7a". The
// query "Attached CASE" has the terms "attached" and "case", and under the
// same key blinds to two of those nine tags.
package search
