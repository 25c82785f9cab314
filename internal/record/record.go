// Package record turns validated events into the rows the store keeps, and
// rows back into events, re-checking every commitment on the way out.
//
// # Sealing
//
// [Sealer.Seal] gives an event its ID (time-prefixed, random) and random per-field salts, commits to
// every field, builds the leaf, and encrypts the content fields (values and
// salts together) under the subject's data key for the event's month. The
// result is a [store.Entry] without an index: the log's single writer
// assigns indices when it commits a batch.
//
// # Search terms
//
// Seal also gives the entry the search terms of its content
// (internal/search), each blinded under the content's data key
// ([keys.Key.Blind]), so the store can index content it cannot read.
// [BlindQuery] blinds a query's terms the same way for one subject and
// month. The tags mean nothing without the key: once it is destroyed, no
// query can be blinded to match them, in this database or a restored copy.
//
// # Opening
//
// [Opener.Open] is the only way lbm reads an event back. It parses the leaf,
// checks that the row's columns say what the leaf says, decrypts the content
// when its key still exists, checks each field against the leaf's
// commitments and the leaf against the log's level-0 tile. A row edited in
// the database therefore fails on use with a [*TamperError] naming what is
// wrong, whether or not anyone runs `lbm verify store`.
package record

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/search"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/tlog"
)

// Sealed is an event ready for the log: its entry (without index) and leaf hash.
type Sealed struct {
	Entry    store.Entry
	LeafHash []byte
}

// Sealer seals events for one log.
type Sealer struct {
	Log  string
	Ring *keys.Ring
}

func contentAAD(id event.ID) []byte { return append([]byte("lbm/content/v1\n"), id[:]...) }

// Prepare creates, in one store transaction, the content keys evs will
// need that do not exist yet (see keys.Ring.Prepare).
func (s *Sealer) Prepare(ctx context.Context, evs []*event.Event) error {
	var needs []keys.Need
	for _, e := range evs {
		if event.HasContent(e.Fields) {
			needs = append(needs, keys.Need{Subject: e.Subject(), Category: e.Category(), Time: e.Time},
				keys.Need{Subject: e.Subject(), Time: e.Time})
		}
	}
	return s.Ring.Prepare(ctx, needs)
}

// Seal assigns e a fresh ID and salts (overwriting any it had) and returns
// its entry. It fails only if the content key cannot be had: for a destroyed
// key (ErrDestroyed) the event cannot be stored at all, since its content
// would outlive a lawful deletion.
func (s *Sealer) Seal(ctx context.Context, e *event.Event) (Sealed, error) {
	buf := make([]byte, 16+event.SaltSize*len(e.Fields))
	rand.Read(buf)
	copy(e.ID[:], buf)
	// The ID starts with the event's time in milliseconds, so IDs arrive
	// in nearly ascending order and the store's ID index is appended to
	// rather than written at random. The time is in the leaf already; the
	// remaining 80 bits stay random.
	ms := uint64(e.Time.UnixMilli())
	for i := range 6 {
		e.ID[i] = byte(ms >> (40 - 8*i))
	}
	for i := range e.Fields {
		copy(e.Fields[i].Salt[:], buf[16+event.SaltSize*i:])
	}
	leaf, err := event.FormatLeaf(event.LeafOf(e))
	if err != nil {
		return Sealed{}, err
	}
	meta, content := event.Split(e.Fields)
	en := store.Entry{
		Log:      s.Log,
		ID:       e.ID,
		Time:     e.Time.UnixNano(),
		Source:   e.Source,
		Subject:  e.Subject(),
		ClientID: e.ClientID(),
		Leaf:     leaf,
		Meta:     event.FormatFields(meta),
		Category: e.Category(),
		Action:   e.Action(),
		Related:  e.Related(),
	}
	if len(content) > 0 {
		// Content under its category's key, so that it goes when that
		// category's content retention ends; terms under the month key,
		// so that one search covers every category (keys.CategoryPeriod).
		k, err := s.Ring.For(ctx, en.Subject, en.Category, e.Time)
		if err != nil {
			return Sealed{}, fmt.Errorf("getting content key: %w", err)
		}
		month, err := s.Ring.For(ctx, en.Subject, "", e.Time)
		if err != nil {
			return Sealed{}, fmt.Errorf("getting search key: %w", err)
		}
		en.Content = k.Seal(event.FormatFields(content), contentAAD(e.ID))
		en.KeyID = k.ID
		en.Terms = sortedTags(month.BlindAll(search.Terms(content)))
	}
	return Sealed{Entry: en, LeafHash: tlog.HashLeaf(leaf)}, nil
}

// sortedTags sorts blinded terms by tag. Left in the order of the terms
// they blind, tags would tell a reader of the index how the hidden terms
// sort, which is much of what they say.
func sortedTags(tags []string) []string {
	slices.Sort(tags)
	return slices.Compact(tags)
}

// BlindQuery returns the blinded terms of a query's text (search.Query)
// for the content of subject in the month of t, and the id of the data key
// they are blinded under: the month key (keys.CategoryPeriod), under which
// the terms of every category's content are blinded.
// terms are sorted, and nil when text has no term.
//
// It never creates a key. With none it returns an error wrapping
// store.ErrNotFound (the subject has no content that month); once the key
// is destroyed, keys.ErrDestroyed, read from the store rather than a cache,
// so destroyed content can never be searched for.
func BlindQuery(ctx context.Context, ring *keys.Ring, subject string, t time.Time, text string) (keyID []byte, terms []string, err error) {
	k, err := ring.Existing(ctx, subject, t)
	if err != nil {
		return nil, nil, fmt.Errorf("getting search key: %w", err)
	}
	return k.ID, sortedTags(k.BlindAll(search.Query(text))), nil
}

// TamperError reports a stored entry that does not match what was logged.
type TamperError struct {
	Log   string
	Index uint64
	What  string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("%s log entry %d: %s", e.Log, e.Index, e.What)
}

// DeletedError reports an entry retention has deleted: its leaf stays in
// the log, proving it was there, and nothing else of it does.
type DeletedError struct {
	Log   string
	Index uint64
	At    time.Time
	By    string // the schedule, as store.Deletion.By
}

func (e *DeletedError) Error() string {
	return fmt.Sprintf("%s log entry %d: deleted under retention on %s by %s", e.Log, e.Index, e.At.UTC().Format("2 January 2006"), e.By)
}

// Opened is an event read back from the store.
type Opened struct {
	Event *event.Event
	Index uint64
	// ContentDeleted: its content was deleted under retention, or its
	// data key destroyed; content fields are gone.
	ContentDeleted bool
}

// Opener reads entries back, re-checking them.
type Opener struct {
	Ring  *keys.Ring
	Store store.Logs

	// checked are leaves Batch found in the tree: they are not read
	// again.
	checked map[checkedLeaf]bool
}

type checkedLeaf struct {
	log   string
	index uint64
	hash  [tlog.HashSize]byte
}

// Batch checks ens against the tree, reading the level-0 tiles they are
// in at once (one read per log rather than one per entry), and returns an
// Opener that opens them without reading the tree again. An entry whose
// leaf the tree does not hold is a *TamperError; nothing is opened.
func (o *Opener) Batch(ctx context.Context, ens []store.Entry) (*Opener, error) {
	byLog := map[string][]uint64{}
	for _, en := range ens {
		byLog[en.Log] = append(byLog[en.Log], en.Index/tlog.TileWidth)
	}
	tiles := map[string]map[uint64][]byte{}
	for log, idx := range byLog {
		slices.Sort(idx)
		t, err := o.Store.LeafTiles(ctx, log, slices.Compact(idx))
		if err != nil {
			return nil, err
		}
		tiles[log] = t
	}
	b := *o
	b.checked = make(map[checkedLeaf]bool, len(ens))
	for _, en := range ens {
		tile, ok := tiles[en.Log][en.Index/tlog.TileWidth]
		if !ok {
			return nil, &TamperError{Log: en.Log, Index: en.Index, What: "its tile is missing"}
		}
		h, err := leafInTile(en, tile)
		if err != nil {
			return nil, err
		}
		b.checked[checkedLeaf{en.Log, en.Index, h}] = true
	}
	return &b, nil
}

// Open checks en against its leaf and the log's level-0 tile and returns its
// event. It returns a *TamperError when anything stored disagrees with what
// was committed.
func (o *Opener) Open(ctx context.Context, en store.Entry) (Opened, error) {
	return o.open(ctx, en, true, true)
}

// Check is Open without the tile lookup, for a caller that checks the whole
// tree itself (tlog.CheckLog): it re-checks the row against its own leaf.
//
// A deleted entry passes when what is left of it is a tombstone (its
// leaf, time, source and category, and nothing else).
func (o *Opener) Check(ctx context.Context, en store.Entry) error {
	_, err := o.open(ctx, en, false, true)
	if _, ok := errors.AsType[*DeletedError](err); ok {
		return nil
	}
	return err
}

// OpenMetadata is Open for a reader who may not see content: it checks
// the metadata against the leaf and the tile, and never decrypts the
// content, which the returned event does not hold.
func (o *Opener) OpenMetadata(ctx context.Context, en store.Entry) (Opened, error) {
	return o.open(ctx, en, true, false)
}

func (o *Opener) open(ctx context.Context, en store.Entry, checkTree, withContent bool) (Opened, error) {
	tamper := func(format string, args ...any) (Opened, error) {
		return Opened{}, &TamperError{Log: en.Log, Index: en.Index, What: fmt.Sprintf(format, args...)}
	}
	leaf, err := event.ParseLeaf(en.Leaf)
	if err != nil {
		return tamper("%v", err)
	}
	if leaf.ID != en.ID || leaf.Time.UnixNano() != en.Time || leaf.Source != en.Source {
		return tamper("id, time or source differ from the leaf")
	}
	if checkTree {
		if err := o.checkLeafHash(ctx, en); err != nil {
			return Opened{}, err
		}
	}
	if en.Deleted != 0 {
		// Everything but the leaf must be gone: a tombstone that still
		// holds anything of the person was not deleted, whatever it says.
		if len(en.Meta) != 0 || en.Content != nil || en.Terms != nil || en.Subject != "" || en.Related != nil || en.ClientID != "" || en.Action != "" {
			return tamper("marked deleted under retention but still holds data")
		}
		return Opened{}, &DeletedError{Log: en.Log, Index: en.Index, At: time.Unix(0, en.Deleted).UTC(), By: en.DeletedBy}
	}
	meta, err := event.ParseFields(en.Meta)
	if err != nil {
		return tamper("metadata: %v", err)
	}
	out := Opened{Index: en.Index}
	var content []event.Field
	switch {
	case !withContent:
		// Content stays sealed; CheckFields below checks the metadata
		// alone against the leaf.
	case en.ContentDeleted != 0:
		if en.Content != nil || en.Terms != nil {
			return tamper("content marked deleted under retention but still stored")
		}
		out.ContentDeleted = true
	case en.Content != nil:
		k, err := o.Ring.ByID(ctx, en.KeyID)
		if errors.Is(err, keys.ErrDestroyed) {
			out.ContentDeleted = true
			break
		}
		if err != nil {
			return Opened{}, err
		}
		pt, err := k.Open(en.Content, contentAAD(en.ID))
		if err != nil {
			return tamper("content: %v", err)
		}
		if content, err = event.ParseFields(pt); err != nil {
			return tamper("content: %v", err)
		}
		for _, f := range content {
			if !f.IsContent() {
				return tamper("content: field %s is not content", f.Name)
			}
		}
	case en.KeyID != nil:
		// Content may be gone only because its key was destroyed (lawful
		// deletion); gone while the key lives is someone hiding content.
		_, err := o.Ring.ByID(ctx, en.KeyID)
		if !errors.Is(err, keys.ErrDestroyed) {
			if err != nil {
				return Opened{}, err
			}
			return tamper("content missing while its data key exists")
		}
		out.ContentDeleted = true
	}
	for _, f := range meta {
		if f.IsContent() {
			return tamper("metadata: field %s is content stored in the clear", f.Name)
		}
	}
	fields := merge(meta, content)
	if err := event.CheckFields(leaf, fields, withContent && !out.ContentDeleted); err != nil {
		return tamper("%v", err)
	}
	e := &event.Event{ID: en.ID, Time: time.Unix(0, en.Time).UTC(), Source: en.Source, Fields: fields}
	if e.Subject() != en.Subject || e.ClientID() != en.ClientID {
		return tamper("subject or client id column differs from the committed fields")
	}
	// The columns a scoped query selects on must say what the leaf
	// commits to: an edited category or related.user would otherwise
	// bring an event into a scope it is not in.
	if e.Category() != en.Category || e.Action() != en.Action || !slices.Equal(e.Related(), en.Related) {
		return tamper("category, action or related people columns differ from the committed fields")
	}
	out.Event = e
	return out, nil
}

// merge merges two name-ordered field lists into one.
func merge(meta, content []event.Field) []event.Field {
	if len(content) == 0 {
		return meta
	}
	out := make([]event.Field, 0, len(meta)+len(content))
	i, j := 0, 0
	for i < len(meta) || j < len(content) {
		if j == len(content) || (i < len(meta) && meta[i].Name < content[j].Name) {
			out = append(out, meta[i])
			i++
		} else {
			out = append(out, content[j])
			j++
		}
	}
	return out
}

func (o *Opener) checkLeafHash(ctx context.Context, en store.Entry) error {
	if o.checked != nil && o.checked[checkedLeaf{en.Log, en.Index, [tlog.HashSize]byte(tlog.HashLeaf(en.Leaf))}] {
		return nil
	}
	tile, err := o.Store.Tile(ctx, en.Log, store.TileID{Level: 0, Index: en.Index / tlog.TileWidth})
	if err != nil {
		return &TamperError{Log: en.Log, Index: en.Index, What: fmt.Sprintf("reading its tile: %v", err)}
	}
	_, err = leafInTile(en, tile)
	return err
}

// leafInTile checks that level-0 tile holds en's leaf hash at en's place,
// and returns the hash.
func leafInTile(en store.Entry, tile []byte) ([tlog.HashSize]byte, error) {
	h := [tlog.HashSize]byte(tlog.HashLeaf(en.Leaf))
	off := int(en.Index%tlog.TileWidth) * tlog.HashSize
	if len(tile) < off+tlog.HashSize || !bytes.Equal(tile[off:off+tlog.HashSize], h[:]) {
		return h, &TamperError{Log: en.Log, Index: en.Index, What: "leaf hash differs from the tree"}
	}
	return h, nil
}
