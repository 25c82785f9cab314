// Package pack is lbm's built-in detection pack: the rules in
// builtin.yaml, embedded, for the misuse LEGAL.md §6 describes.
//
// # What it catches
//
// On the activity log, rules flag record look-ups about oneself, one's
// household, declared family, neighbours and colleagues; look-ups of
// restricted records with no linked case; bulk look-ups and exports with
// no linked case; repeated denied access; activity in the small hours by
// day workers, while on leave, or after leaving; attachments sent to
// personal webmail; and contact with a victim or witness found through
// the systems. On the oversight log, rules flag refused attempts,
// investigators looking into colleagues in their own unit, and repeated
// refusals about one subject.
//
// The rules read only metadata, and the reference lists the detection
// catalogue (internal/policy) names. Each rule has a test that must fire
// and one that must not, in testdata/RULE-ID/: the latter holds the
// near-misses (a namesake at another address, an analyst's bulk work
// linked to an operation, a night-shift worker at night).
//
// # Fields
//
// Look-ups (event.category "record_query") are matched on record.id (the
// record viewed), record.case (the case it is linked to, absent when
// none), and, for a record about a person, record.surname, record.role
// (suspect, victim, witness, …), record.phone, record.email, record.uprn
// and record.postcode (the address's property reference and postcode);
// exports on record.results; e-mail on email.to.address and
// email.attachments.*; calls on telephony.number and telephony.direction.
// The fields are flat under record so that a rule needs one has() for
// each. docs/detect.md gives the shape of each list.
package pack

import (
	_ "embed"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/policy"
)

// File is the name the pack's rules carry in messages.
const File = "builtin.yaml"

// YAML is the pack's rule file.
//
//go:embed builtin.yaml
var YAML []byte

// Rules parses the pack against the detection inputs the monitoring
// notice names. It fails only if the pack reads a list inputs lacks (a
// catalogue that has dropped one of the pack's lists).
func Rules(inputs policy.Detection) ([]*detect.Rule, error) {
	return detect.Parse(File, YAML, inputs)
}
