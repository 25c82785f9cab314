package review

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lbm-project/lbm/internal/evidence"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// ActionSubjectAccessExport is the oversight-log action of a person's own
// data leaving lbm in answer to their subject access request: the
// disclosure record, as [ActionExport] is an investigator's.
const ActionSubjectAccessExport = "subject_access_export"

// MaxSubjectAccessEvents bounds one answer to a subject access request.
const MaxSubjectAccessEvents = 20000

// ErrTooMany refuses an answer that would hold more than
// MaxSubjectAccessEvents events.
var ErrTooMany = fmt.Errorf("the person's data holds more than %d events: too many for one answer", MaxSubjectAccessEvents)

// SubjectAccessScope is a scope that is not a request: one person's own
// events, every category named, all time, content included, for their
// subject access request (internal/subjectaccess, which authorises it:
// the DPO opening the request is the authorisation).
type SubjectAccessScope struct {
	Request string // the subject access request's id
	Person  string
	// Keep names identifiers of the person besides their id (an e-mail
	// address) that are theirs, so not pseudonymised.
	Keep []string
	// Categories are the categories to look in; none gives an answer of
	// no events.
	Categories []string
	// Withhold, when not nil, leaves out the events it returns true for.
	Withhold func(category string, t time.Time) bool
	// RequestJSON is request.json: the person's request as they made it.
	RequestJSON []byte
}

// ExportSubjectAccess builds the evidence bundle answering a subject
// access request: the events of every shard of the activity log whose
// subject (user.id) is sc.Person, in sc.Categories, minus those
// sc.Withhold leaves out, content included, other people pseudonymised as
// a review shows them, each with its inclusion proof in its own log. The
// bundle is verified as its recipient will verify it, and its disclosure
// is written to the oversight log by actor before it is returned; if that
// cannot be written the export fails.
func (s *Service) ExportSubjectAccess(ctx context.Context, actor string, sc SubjectAccessScope) (Export, error) {
	if sc.Person == "" || sc.Request == "" {
		return Export{}, errors.New("exporting for subject access: no person or request")
	}
	shards, _, err := s.activityLogs(ctx)
	if err != nil {
		return Export{}, err
	}
	var entries []store.Entry
	eq := store.EventQuery{Logs: shards, People: []string{sc.Person}, From: math.MinInt64, To: math.MaxInt64,
		Categories: sc.Categories, Limit: MaxExportEvents}
	// No category: the log holds nothing about the person, and the
	// answer is a bundle of no events, which says so verifiably.
	for len(sc.Categories) > 0 {
		page, err := s.Store.QueryEvents(ctx, eq)
		if err != nil {
			return Export{}, err
		}
		for _, en := range page {
			// The query also finds events the person is only related to:
			// those are other people's, and not theirs to receive.
			if en.Subject != sc.Person || sc.Withhold != nil && sc.Withhold(en.Category, time.Unix(0, en.Time).UTC()) {
				continue
			}
			entries = append(entries, en)
		}
		if len(entries) > MaxSubjectAccessEvents {
			return Export{}, ErrTooMany
		}
		if len(page) < eq.Limit {
			break
		}
		cursorAfter(page[len(page)-1]).setAfter(&eq)
	}
	// No event: the answer proves its emptiness against every shard.
	logs, cps, err := s.bundleLogs(ctx, entries, shards)
	if err != nil {
		return Export{}, err
	}
	now := s.Now().UTC()
	pseudo := NewPseudonymiser(s.Secret, "subject-access/"+sc.Request, append([]string{sc.Person}, sc.Keep...))
	b := evidence.Bundle{Logs: logs,
		Recipient: "the data subject, " + sc.Person, Purpose: "a copy of their personal data (UK GDPR Article 15)",
		Created: now.Truncate(time.Second), Request: sc.RequestJSON, SubjectAccess: true}
	ids := make([]string, 0, len(entries))
	op, err := s.Opener.Batch(ctx, entries)
	if err != nil {
		return Export{}, err
	}
	for _, en := range entries {
		o, err := op.Open(ctx, en)
		if err != nil {
			return Export{}, err
		}
		proof, err := tlog.ProveInclusion(ctx, tlog.StoreSource(s.Store, en.Log), en.Index, cps[en.Log].Size)
		if err != nil {
			return Export{}, fmt.Errorf("proving event %d of %s: %w", en.Index, en.Log, err)
		}
		ev := evidence.Event{Log: en.Log, Index: en.Index, Leaf: en.Leaf, Proof: proof}
		if ev.Disclosed, ev.Withheld, err = disclosure(pseudo, o, en.Leaf, !o.ContentDeleted); err != nil {
			return Export{}, err
		}
		b.Events = append(b.Events, ev)
		ids = append(ids, hex.EncodeToString(en.ID[:]))
	}
	var zb bytes.Buffer
	if err := evidence.Write(&zb, b); err != nil {
		return Export{}, fmt.Errorf("writing the bundle: %w", err)
	}
	rep, err := evidence.Verify(bytes.NewReader(zb.Bytes()), int64(zb.Len()))
	if err != nil {
		return Export{}, fmt.Errorf("the bundle does not verify: %w", err)
	}
	zipSum := sha256.Sum256(zb.Bytes())
	details := map[string]any{
		"subject_access_request": sc.Request, "person": sc.Person, "results": len(entries),
		"events_sha256": eventsDigest(ids), "bundle_sha256": hex.EncodeToString(zipSum[:]),
		"manifest_sha256": rep.ManifestSHA256,
	}
	checkpointDetails(details, logs, cps)
	idx, err := s.Record(ctx, actor, ActionSubjectAccessExport, details, nil)
	if err != nil {
		return Export{}, fmt.Errorf("writing the disclosure record: %w", err)
	}
	return Export{AccessRecord: idx, Name: "your-data-" + fileSafe(sc.Request) + ".zip", Zip: zb.Bytes(),
		Events: len(entries), SHA256: hex.EncodeToString(zipSum[:])}, nil
}
