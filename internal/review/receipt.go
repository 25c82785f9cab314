package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// AccessActions are the oversight-log actions that record a look at
// monitored data (DPA 2018 s.62's consultation and disclosure).
var AccessActions = []string{ActionQuery, ActionLive, ActionExport, ActionReveal}

// ActionReveal is the access record of an alert's pseudonym revealed
// under an authorisation (internal/alerts): a look at who a person is.
const ActionReveal = "alert_reveal"

// ActionLive is the access record of a batch of events a live feed
// delivered.
const ActionLive = "review_live"

// AccessRecord is what the oversight log says of one look at monitored
// data, or one refused attempt, as metadata: never the justification or
// the query, which are content.
type AccessRecord struct {
	Index        uint64    `json:"index"`
	Time         time.Time `json:"time"`
	Actor        string    `json:"actor"`
	Action       string    `json:"action"`
	Request      string    `json:"request"`
	Reference    string    `json:"reference,omitempty"`
	Results      *int      `json:"results,omitempty"`
	EventsSHA256 string    `json:"events_sha256,omitempty"`
	Recipient    string    `json:"recipient,omitempty"`
	Reason       string    `json:"reason,omitempty"` // of a refused attempt
	// Justification, Query and Purpose are filled only for oversight.
	Justification string `json:"justification,omitempty"`
	Query         string `json:"query,omitempty"`
	Purpose       string `json:"purpose,omitempty"`
}

// Receipt proves to anyone holding the oversight log's verifier key that
// an access record is in the log: the leaf, its inclusion proof, and the
// signed checkpoint the proof is against.
type Receipt struct {
	Record      AccessRecord `json:"record"`
	Log         string       `json:"log"`
	Origin      string       `json:"origin"`
	VerifierKey string       `json:"verifier_key"`
	Leaf        []byte       `json:"leaf"`
	Proof       [][]byte     `json:"proof"`
	Checkpoint  string       `json:"checkpoint"`
}

// Receipt returns the receipt of the access record at index, which must
// be p's own: anyone else's, or an entry that is not an access record,
// is store.ErrNotFound.
func (s *Service) Receipt(ctx context.Context, p identity.Principal, index uint64) (Receipt, error) {
	const log = "oversight"
	entries, err := s.Store.Entries(ctx, log, index, index+1)
	if err != nil {
		return Receipt{}, err
	}
	if len(entries) != 1 || entries[0].Subject != p.Subject || !slices.Contains(AccessActions, entries[0].Action) {
		return Receipt{}, store.ErrNotFound
	}
	o, err := s.Opener.OpenMetadata(ctx, entries[0])
	if err != nil {
		return Receipt{}, err
	}
	logs, err := s.proofLogs(ctx)
	if err != nil {
		return Receipt{}, err
	}
	l, ok := logs[log]
	if !ok {
		return Receipt{}, errors.New("receipts: the oversight log's keys are not configured")
	}
	cp, err := s.checkpointCovering(ctx, log, l, index)
	if err != nil {
		return Receipt{}, err
	}
	proof, err := tlog.ProveInclusion(ctx, tlog.StoreSource(s.Store, log), index, cp.Size)
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{Record: AccessRecordOf(o), Log: log, Origin: l.Origin, VerifierKey: l.VerifierKey,
		Leaf: entries[0].Leaf, Proof: proof, Checkpoint: string(cp.Note)}, nil
}

// VerifyReceipt checks rc offline: its checkpoint is signed by key (the
// receipt's own when key is empty), its leaf is at its index in that
// checkpoint's tree, and the leaf is the record's (same time). It says
// nothing about the record's details beyond what the leaf commits to.
func VerifyReceipt(rc Receipt, key string) error {
	if key == "" {
		key = rc.VerifierKey
	}
	cp, err := tlog.OpenCheckpoint([]byte(rc.Checkpoint), key)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if rc.Record.Index >= cp.Size {
		return fmt.Errorf("entry %d is not in the checkpoint of size %d", rc.Record.Index, cp.Size)
	}
	leaf, err := event.ParseLeaf(rc.Leaf)
	if err != nil {
		return fmt.Errorf("leaf: %w", err)
	}
	if !leaf.Time.Equal(rc.Record.Time) {
		return fmt.Errorf("the leaf is of %s, the record says %s", leaf.Time.UTC().Format(time.RFC3339Nano), rc.Record.Time.Format(time.RFC3339Nano))
	}
	if err := tlog.CheckInclusion(rc.Record.Index, cp.Size, tlog.HashLeaf(rc.Leaf), rc.Proof, cp.Root); err != nil {
		return fmt.Errorf("entry %d: %w", rc.Record.Index, err)
	}
	return nil
}

// Receipts lists p's own access records from from (inclusive) to to
// (exclusive), oldest first, at most limit (1 to 1000), and the cursor of
// the next page ("" at the end).
func (s *Service) Receipts(ctx context.Context, p identity.Principal, from, to time.Time, after string, limit int) ([]AccessRecord, string, error) {
	cur, err := parseCursor(after)
	if err != nil {
		return nil, "", err
	}
	if cur != nil && cur.log != "oversight" {
		return nil, "", errNotCursor
	}
	q := store.EventQuery{Logs: []string{"oversight"}, People: []string{p.Subject}, Categories: []string{"configuration"},
		Actions: AccessActions, From: from.UnixNano(), To: to.UnixNano(), Limit: limit + 1}
	cur.setAfter(&q)
	entries, err := s.Store.QueryEvents(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(entries) > limit {
		entries = entries[:limit]
		last := entries[limit-1]
		next = cursorAfter(last).String()
	}
	out := make([]AccessRecord, 0, len(entries))
	for _, en := range entries {
		o, err := s.Opener.OpenMetadata(ctx, en)
		if err != nil {
			return nil, "", err
		}
		out = append(out, AccessRecordOf(o))
	}
	return out, next, nil
}

// MaxAccessLogScan bounds how many oversight entries one page of the
// access log reads looking for the kinds asked for.
const MaxAccessLogScan = 10000

// AccessLog is oversight's view of the access records and refused
// attempts of the kinds given (the actions), newest first: at most limit
// of those among the MaxAccessLogScan entries before index before
// (math.MaxUint64 for the newest), each with its justification and query
// decrypted. It returns the index to continue from, 0 when the log has
// nothing older.
func (s *Service) AccessLog(ctx context.Context, actions []string, before uint64, limit int) ([]AccessRecord, uint64, error) {
	const log = "oversight"
	st, err := s.Store.LogState(ctx, log)
	if err != nil {
		return nil, 0, err
	}
	before = min(before, st.Size)
	var out []AccessRecord
	for scanned := uint64(0); before > 0 && len(out) < limit && scanned < MaxAccessLogScan; {
		from := before - min(before, 500)
		entries, err := s.Store.Entries(ctx, log, from, before)
		if err != nil {
			return nil, 0, err
		}
		for i := len(entries) - 1; i >= 0 && len(out) < limit; i-- {
			en := entries[i]
			before = en.Index
			if !slices.Contains(actions, en.Action) {
				continue
			}
			o, err := s.Opener.Open(ctx, en)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, AccessRecordOf(o))
		}
		if len(out) < limit {
			before = from
		}
		scanned += uint64(len(entries))
	}
	return out, before, nil
}

// AccessRecordOf reads an access record or refused attempt from its
// oversight-log entry: its metadata, and its justification, query and
// purpose when o was opened with content.
func AccessRecordOf(o record.Opened) AccessRecord {
	a := AccessRecord{Index: o.Index, Time: o.Event.Time.UTC()}
	for _, f := range o.Event.Fields {
		var v any
		if json.Unmarshal(f.Value, &v) != nil {
			continue
		}
		str, _ := v.(string)
		switch f.Name {
		case "user.id":
			a.Actor = str
		case "event.action":
			a.Action = str
		case "lbm.request":
			a.Request = str
		case "lbm.reference":
			a.Reference = str
		case "lbm.results":
			if n, ok := v.(float64); ok && n >= 0 && n <= math.MaxInt32 {
				r := int(n)
				a.Results = &r
			}
		case "lbm.events_sha256":
			a.EventsSHA256 = str
		case "lbm.recipient":
			a.Recipient = str
		case "lbm.reason":
			a.Reason = str
		case "content.justification":
			a.Justification = str
		case "content.query":
			a.Query = str
		case "content.purpose":
			a.Purpose = str
		}
	}
	a.Action = strings.TrimSpace(a.Action)
	return a
}
