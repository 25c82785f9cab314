package review

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/evidence"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// ActionExport is the oversight-log action of an evidence bundle leaving
// lbm: the disclosure log of DPA 2018 s.62, naming its recipient.
const ActionExport = "review_export"

// MaxExportEvents bounds one bundle: a hearing's exhibit, not a copy of
// the store.
const MaxExportEvents = 1000

// maxExportScan bounds how far an export looks through its filter's
// results for the events it names.
const maxExportScan = 100 * MaxExportEvents

// ExportInput is the body of POST /v1/requests/{id}/exports.
type ExportInput struct {
	Filter
	// Events, when given, are the ids (from a query's results) of the
	// events to disclose, each of which the filter must select; when left
	// out the bundle holds every event the filter selects.
	Events []string `json:"events,omitempty"`
	// Recipient is who the bundle is disclosed to (DPA 2018 s.62 (1)(c)).
	Recipient string `json:"recipient"`
	// Purpose is what the recipient needs it for; it is written into the
	// bundle.
	Purpose       string `json:"purpose"`
	Justification string `json:"justification"`
}

// Export is an evidence bundle whose disclosure is recorded.
type Export struct {
	AccessRecord uint64 // the export's index in the oversight log
	Name         string // a file name for it
	Zip          []byte
	Events       int
	SHA256       string // of Zip, as the disclosure record holds it
}

// ProofLog is what receipts and bundles need of a log: its origin and
// verifier key, and a way to have a checkpoint signed of everything it
// holds.
type ProofLog struct {
	Origin, VerifierKey string
	Publish             func(context.Context) (store.Checkpoint, error)
}

// Export builds an evidence bundle of the events in exactly the view the
// investigator has of them: what they may see disclosed with its salts,
// content they may not see and people who are not subjects withheld as
// commitments (the latter with their pseudonyms beside), each event with
// its inclusion proof in a checkpoint of its own log (the activity log's
// shards each have theirs) that covers all of that log's events. Its
// disclosure is written to the oversight log before it is returned, and
// if it cannot be the export fails; refusals are recorded as a query's
// are.
func (s *Service) Export(ctx context.Context, p identity.Principal, id string, in ExportInput) (Export, error) {
	if err := checkExportInput(in); err != nil {
		return Export{}, err
	}
	queryJSON, _ := json.Marshal(struct {
		Filter
		Events []string `json:"events,omitempty"`
	}{in.Filter, in.Events})
	private := map[string]string{"justification": in.Justification, "query": string(queryJSON), "purpose": in.Purpose}
	r, q, err := s.begin(ctx, p, id, in.Filter, private)
	if err != nil {
		return Export{}, err
	}
	entries, err := s.exported(ctx, p, r.ID, q, in.Events, private)
	if err != nil {
		return Export{}, err
	}
	logs, cps, err := s.bundleLogs(ctx, entries, nil)
	if err != nil {
		return Export{}, err
	}
	now := s.Now().UTC()
	pseudo := NewPseudonymiser(s.Secret, r.ID, r.Subjects)
	b := evidence.Bundle{Logs: logs, Recipient: in.Recipient, Purpose: in.Purpose, Created: now.Truncate(time.Second)}
	if b.Request, err = json.Marshal(r); err != nil {
		return Export{}, err
	}
	ids := make([]string, 0, len(entries))
	op, err := s.Opener.Batch(ctx, entries)
	if err != nil {
		return Export{}, err
	}
	held := 0
	for _, en := range entries {
		o, withContent, heldBack, err := s.openEntry(ctx, op, r, q, en)
		if err != nil {
			return Export{}, err
		}
		if o.ContentDeleted && withContent {
			// Destroyed under retention: only commitments remain, and a
			// commitment is all a bundle could give.
			withContent = false
		}
		proof, err := tlog.ProveInclusion(ctx, tlog.StoreSource(s.Store, en.Log), en.Index, cps[en.Log].Size)
		if err != nil {
			return Export{}, fmt.Errorf("proving event %d of %s: %w", en.Index, en.Log, err)
		}
		ev := evidence.Event{Log: en.Log, Index: en.Index, Leaf: en.Leaf, Proof: proof}
		if heldBack != nil {
			// Held back as confidential: the bundle proves the event is
			// in the log and discloses nothing of it.
			held++
			o.Event.Fields = nil
		}
		if ev.Disclosed, ev.Withheld, err = disclosure(pseudo, o, en.Leaf, withContent); err != nil {
			return Export{}, err
		}
		b.Events = append(b.Events, ev)
		ids = append(ids, hex.EncodeToString(en.ID[:]))
	}
	var zb bytes.Buffer
	if err := evidence.Write(&zb, b); err != nil {
		return Export{}, fmt.Errorf("writing the bundle: %w", err)
	}
	// What leaves is checked as its recipient will check it.
	rep, err := evidence.Verify(bytes.NewReader(zb.Bytes()), int64(zb.Len()))
	if err != nil {
		return Export{}, fmt.Errorf("the bundle does not verify: %w", err)
	}
	zipSum := sha256.Sum256(zb.Bytes())

	details := map[string]any{
		"request": r.ID, "reference": r.Reference, "recipient": in.Recipient, "results": len(entries),
		"events_sha256": eventsDigest(ids), "bundle_sha256": hex.EncodeToString(zipSum[:]),
		"manifest_sha256": rep.ManifestSHA256, "held_back": held,
	}
	checkpointDetails(details, logs, cps)
	idx, err := s.Record(ctx, p.Subject, ActionExport, details, private)
	if err != nil {
		return Export{}, fmt.Errorf("writing the disclosure record: %w", err)
	}
	name := fmt.Sprintf("%s-export-%d.zip", fileSafe(cmp.Or(r.Reference, r.ID)), idx)
	return Export{AccessRecord: idx, Name: name, Zip: zb.Bytes(), Events: len(entries), SHA256: hex.EncodeToString(zipSum[:])}, nil
}

// exported returns the entries an export discloses: those q selects, or
// of them the ones named. Naming one q does not select is an attempt
// outside the scope, recorded; a filter selecting more than a bundle
// holds is only refused.
func (s *Service) exported(ctx context.Context, p identity.Principal, id string, q Query, named []string, private map[string]string) ([]store.Entry, error) {
	if len(named) == 0 {
		entries, err := s.run(ctx, q, nil, MaxExportEvents+1)
		switch {
		case err != nil:
			return nil, err
		case len(entries) == 0:
			return nil, requests.FieldErrors{{Field: "events", Msg: "the filter selects no event to export"}}
		case len(entries) > MaxExportEvents:
			return nil, requests.FieldErrors{{Field: "events", Msg: fmt.Sprintf("the filter selects more than %d events: narrow it, or name the events", MaxExportEvents)}}
		}
		return entries, nil
	}
	want := map[string]bool{}
	for _, n := range named {
		want[strings.ToLower(n)] = true
	}
	var out []store.Entry
	var after *cursor
	for scanned := 0; len(out) < len(want) && scanned < maxExportScan; {
		page, err := s.run(ctx, q, after, MaxExportEvents)
		if err != nil {
			return nil, err
		}
		for _, en := range page {
			if want[hex.EncodeToString(en.ID[:])] {
				out = append(out, en)
			}
		}
		scanned += len(page)
		if len(page) < MaxExportEvents {
			break
		}
		after = cursorAfter(page[len(page)-1])
	}
	if len(out) < len(want) {
		err := &OutOfScopeError{Field: "events", Msg: fmt.Sprintf("%d of the events named are not among those the filter selects within the authorisation", len(want)-len(out))}
		return nil, s.refuse(ctx, p, id, "out of scope: events", private, err)
	}
	return out, nil
}

func checkExportInput(in ExportInput) error {
	var fes requests.FieldErrors
	if err := requests.CheckJustification("justification", in.Justification); err != nil {
		if e := (requests.FieldErrors{}); errors.As(err, &e) {
			fes = append(fes, e...)
		} else {
			return err
		}
	}
	for _, f := range []struct{ name, value string }{{"recipient", in.Recipient}, {"purpose", in.Purpose}} {
		switch v := strings.TrimSpace(f.value); {
		case v == "":
			fes = append(fes, requests.FieldError{Field: f.name, Msg: "is required"})
		case !utf8.ValidString(v) || len(v) > 500 || strings.ContainsAny(v, "\x00\r\n"):
			fes = append(fes, requests.FieldError{Field: f.name, Msg: "must be one line of at most 500 bytes"})
		}
	}
	switch {
	case len(in.Events) > MaxExportEvents:
		fes = append(fes, requests.FieldError{Field: "events", Msg: fmt.Sprintf("names more than %d events", MaxExportEvents)})
	default:
		for _, e := range in.Events {
			if b, err := hex.DecodeString(e); err != nil || len(b) != 16 {
				fes = append(fes, requests.FieldError{Field: "events", Msg: "each must be an event id (32 hex digits) a query returned"})
				break
			}
		}
	}
	if len(fes) > 0 {
		return fes
	}
	return nil
}

// disclosure splits o's fields as the investigator sees them: shown
// unchanged, disclosed with their salts; pseudonymised, withheld with
// the pseudonym beside; not shown, withheld. The leaf's commitments to
// fields o does not hold (content left sealed, or destroyed) are
// withheld under a name that says so.
func disclosure(p *Pseudonymiser, o record.Opened, leafBytes []byte, content bool) ([]event.Field, []evidence.WithheldField, error) {
	leaf, err := event.ParseLeaf(leafBytes)
	if err != nil {
		return nil, nil, err
	}
	rest := map[event.Commitment]int{}
	for _, c := range leaf.Commitments {
		rest[c]++
	}
	var disclosed []event.Field
	var withheld []evidence.WithheldField
	for _, v := range p.views(o.Event.Fields, content) {
		c := event.Commit(v.field)
		rest[c]--
		switch {
		case v.hidden:
			withheld = append(withheld, evidence.WithheldField{Name: v.field.Name, Commitment: c})
		case v.shown.Pseudonymised:
			withheld = append(withheld, evidence.WithheldField{Name: v.field.Name, Commitment: c, Pseudonym: pseudonymText(v.shown.Value)})
		default:
			disclosed = append(disclosed, v.field)
		}
	}
	for _, c := range leaf.Commitments {
		if rest[c] > 0 {
			rest[c]--
			withheld = append(withheld, evidence.WithheldField{Name: "unopened", Commitment: c})
		}
	}
	return disclosed, withheld, nil
}

// pseudonymText is a pseudonymised value as a bundle annotates it: the
// pseudonym, or several joined with commas.
func pseudonymText(v json.RawMessage) string {
	var one string
	if json.Unmarshal(v, &one) == nil {
		return one
	}
	var many []string
	json.Unmarshal(v, &many)
	return strings.Join(many, ", ")
}

// fileSafe keeps the letters, digits, dots and dashes of s, for a file
// name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}

// checkpointCovering returns a signed checkpoint of log that includes
// index, having l publish one if the latest does not.
func (s *Service) checkpointCovering(ctx context.Context, log string, l ProofLog, index uint64) (store.Checkpoint, error) {
	cp, err := s.Store.LatestCheckpoint(ctx, log)
	if err == nil && cp.Size > index {
		return cp, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return cp, err
	}
	if l.Publish == nil {
		return cp, fmt.Errorf("no checkpoint publisher for the %s log", log)
	}
	if cp, err = l.Publish(ctx); err != nil {
		return cp, fmt.Errorf("publishing a checkpoint of the %s log: %w", log, err)
	}
	if cp.Size <= index {
		return cp, fmt.Errorf("the %s log's checkpoint (size %d) does not yet cover entry %d", log, cp.Size, index)
	}
	return cp, nil
}

// bundleLogs returns the logs a bundle of entries proves them in, each
// with a signed checkpoint covering its entries, and those checkpoints by
// log. A bundle of no entries is of the logs named in empty, each at its
// latest checkpoint (one published if it has none), so that it still
// says, verifiably, where nothing was found.
func (s *Service) bundleLogs(ctx context.Context, entries []store.Entry, empty []string) ([]evidence.Log, map[string]store.Checkpoint, error) {
	all, err := s.proofLogs(ctx)
	if err != nil {
		return nil, nil, err
	}
	last := map[string]uint64{} // the highest index of each log
	for _, en := range entries {
		last[en.Log] = max(last[en.Log], en.Index)
	}
	var names []string
	if len(entries) == 0 {
		names = empty
	} else {
		names = slices.Sorted(maps.Keys(last))
	}
	cps := map[string]store.Checkpoint{}
	var logs []evidence.Log
	for _, name := range names {
		l, ok := all[name]
		if !ok {
			return nil, nil, fmt.Errorf("exporting: the %s log's keys are not configured", name)
		}
		var cp store.Checkpoint
		if len(entries) > 0 {
			cp, err = s.checkpointCovering(ctx, name, l, last[name])
		} else if cp, err = s.Store.LatestCheckpoint(ctx, name); errors.Is(err, store.ErrNotFound) && l.Publish != nil {
			cp, err = l.Publish(ctx)
		}
		if err != nil {
			return nil, nil, err
		}
		cps[name] = cp
		logs = append(logs, evidence.Log{Name: name, Origin: l.Origin, VerifierKey: l.VerifierKey, Checkpoint: cp.Note})
	}
	return logs, cps, nil
}

// checkpointDetails adds to a disclosure record the size of each
// checkpoint its bundle proves against: checkpoint_size for a bundle of
// one log, as always; checkpoint_sizes, "LOG:SIZE" by log and separated
// by spaces, for one of several.
func checkpointDetails(details map[string]any, logs []evidence.Log, cps map[string]store.Checkpoint) {
	if len(logs) == 1 {
		details["checkpoint_size"] = cps[logs[0].Name].Size
		return
	}
	sizes := make([]string, len(logs))
	for i, l := range logs {
		sizes[i] = fmt.Sprintf("%s:%d", l.Name, cps[l.Name].Size)
	}
	details["checkpoint_sizes"] = strings.Join(sizes, " ")
}
