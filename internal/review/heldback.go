package review

import (
	"context"
	"encoding/hex"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// isLegalAdviser reports whether p acts as a legal adviser, whose
// recorded view alone releases held-back confidential material.
func isLegalAdviser(p identity.Principal) bool {
	return p.Role == identity.RoleAdviser && p.Person != nil && p.Person.Adviser == identity.AdviserLegal
}

// contentGranted reports whether r grants content of category.
func contentGranted(r requests.Request, category string) bool {
	return slices.ContainsFunc(r.Categories, func(c requests.CategoryScope) bool { return c.Category == category && c.Content })
}

// openEntry opens en with op (an Opener from Batch) as every review
// flow does: with content where q asks for it (asked), and also where r
// grants the category's content, to look for confidential markers in it,
// so that whether an event is held back never depends on what was asked
// to see. held says why en matches the confidential channels or markers,
// unless a legal view has released it; nil when it is not held back.
func (s *Service) openEntry(ctx context.Context, op *record.Opener, r requests.Request, q Query, en store.Entry) (o record.Opened, asked bool, held []confidential.Hit, err error) {
	asked = slices.Contains(q.Content, en.Category)
	if asked || s.Confidential != nil && contentGranted(r, en.Category) {
		o, err = op.Open(ctx, en)
	} else {
		o, err = op.OpenMetadata(ctx, en)
	}
	if err != nil {
		return o, asked, nil, err
	}
	if hits := s.Confidential.Match(o.Event.Fields); len(hits) > 0 && !r.Released(hex.EncodeToString(en.ID[:])) {
		held = hits
	}
	return o, asked, held, nil
}

// showEvent returns en as it may be shown under r (openEntry): content
// only where q asks for it, other people pseudonymised, and an event held
// back with HeldBack set and, unless legalView, no fields.
func (s *Service) showEvent(ctx context.Context, op *record.Opener, r requests.Request, q Query, en store.Entry, pseudo *Pseudonymiser, legalView bool) (ShownEvent, error) {
	o, asked, held, err := s.openEntry(ctx, op, r, q, en)
	if err != nil {
		return ShownEvent{}, err
	}
	ev := ShownEvent{ID: hex.EncodeToString(en.ID[:]), Log: en.Log, Index: en.Index, Time: time.Unix(0, en.Time).UTC(), Source: en.Source, HeldBack: held}
	if held != nil && !legalView {
		return ev, nil
	}
	ev.Fields = pseudo.Fields(o.Event.Fields, asked)
	ev.ContentDeleted = o.ContentDeleted && asked
	return ev, nil
}
