package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
)

// Publishing a monitoring notice and changing the catalogues are policy:
// like roles, they take a second administrator's approval.

// CatalogueChange is the payload of a "catalogue" change: the three
// catalogue files as proposed.
type CatalogueChange struct {
	Purposes    string `json:"purposes"`
	Legislation string `json:"legislation"`
	Criteria    string `json:"criteria"`
}

func (cc CatalogueChange) files() policy.Files {
	return policy.Files{Purposes: []byte(cc.Purposes), Legislation: []byte(cc.Legislation), Criteria: []byte(cc.Criteria)}
}

// CurrentCatalogueFiles returns the catalogue in force: the latest approved
// version, or the embedded default (version 0) when none is stored.
func CurrentCatalogueFiles(ctx context.Context, st store.Catalogues) (policy.Files, int64, error) {
	v, err := st.CurrentCatalogue(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return policy.DefaultFiles(), 0, nil
	}
	if err != nil {
		return policy.Files{}, 0, fmt.Errorf("reading the catalogue: %w", err)
	}
	return policy.Files{Purposes: v.Purposes, Legislation: v.Legislation, Criteria: v.Criteria}, v.Version, nil
}

// CurrentCatalogue returns the catalogue in force, parsed, and its version.
func CurrentCatalogue(ctx context.Context, st store.Catalogues) (policy.Catalogue, int64, error) {
	f, v, err := CurrentCatalogueFiles(ctx, st)
	if err != nil {
		return policy.Catalogue{}, 0, err
	}
	c, err := f.Parse()
	if err != nil {
		// Every stored version was parsed when proposed and again when
		// approved: this is a corrupt store, not a bad edit.
		return policy.Catalogue{}, 0, fmt.Errorf("catalogue version %d no longer parses: %w", v, err)
	}
	return c, v, nil
}

// ProposeCatalogueChange stores a pending change replacing the catalogue
// files with cc. The files must parse (a *policy.ParseError says where
// not) and differ from those in force.
func ProposeCatalogueChange(ctx context.Context, st store.Store, actor Principal, cc CatalogueChange, reason string, now time.Time) (store.Change, error) {
	if actor.Role != RoleAdmin {
		return store.Change{}, ErrNotAdmin
	}
	reason, err := checkReason(reason)
	if err != nil {
		return store.Change{}, err
	}
	if _, err := cc.files().Parse(); err != nil {
		return store.Change{}, err
	}
	cur, base, err := CurrentCatalogueFiles(ctx, st)
	if err != nil {
		return store.Change{}, err
	}
	if bytes.Equal(cur.Purposes, []byte(cc.Purposes)) && bytes.Equal(cur.Legislation, []byte(cc.Legislation)) &&
		bytes.Equal(cur.Criteria, []byte(cc.Criteria)) {
		return store.Change{}, ErrNoChange
	}
	payload, _ := json.Marshal(cc)
	return addChange(ctx, st, store.Change{Kind: ChangeCatalogue, Target: ChangeCatalogue, Payload: payload, Base: base,
		Reason: reason, ProposedBy: actor.Subject, Proposed: now})
}

func catalogueEffect(ctx context.Context, st store.Store, c store.Change, now time.Time) (store.ChangeEffect, error) {
	var cc CatalogueChange
	if err := json.Unmarshal(c.Payload, &cc); err != nil {
		return store.ChangeEffect{}, fmt.Errorf("change %s: reading payload: %v", c.ID, err)
	}
	if _, err := cc.files().Parse(); err != nil {
		return store.ChangeEffect{}, err
	}
	_, base, err := CurrentCatalogueFiles(ctx, st)
	if err != nil {
		return store.ChangeEffect{}, err
	}
	if base != c.Base {
		return store.ChangeEffect{}, ErrStale
	}
	f := cc.files()
	return store.ChangeEffect{Catalogue: &store.CatalogueVersion{
		Version: c.Base + 1, Purposes: f.Purposes, Legislation: f.Legislation, Criteria: f.Criteria, Created: now, Change: c.ID,
	}}, nil
}

// PublishedVersion returns the version of the published notice, 0 if none
// is published.
func PublishedVersion(ctx context.Context, st store.Notices) (int64, error) {
	n, err := st.CurrentNotice(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the current notice: %w", err)
	}
	return n.Version, nil
}

// ProposeNoticePublication stores a pending change publishing the draft
// notice version. Once approved, everyone is asked to acknowledge it.
func ProposeNoticePublication(ctx context.Context, st store.Store, actor Principal, version int64, reason string, now time.Time) (store.Change, error) {
	if actor.Role != RoleAdmin {
		return store.Change{}, ErrNotAdmin
	}
	reason, err := checkReason(reason)
	if err != nil {
		return store.Change{}, err
	}
	n, err := st.NoticeByVersion(ctx, version)
	if err != nil {
		return store.Change{}, fmt.Errorf("reading notice version %d: %w", version, err)
	}
	if !n.Published.IsZero() {
		return store.Change{}, &ChangeError{"notice", fmt.Sprintf("version %d is already published", version)}
	}
	base, err := PublishedVersion(ctx, st)
	if err != nil {
		return store.Change{}, err
	}
	if version < base {
		return store.Change{}, &ChangeError{"notice", fmt.Sprintf("version %d is older than the published version %d; draft a new version instead", version, base)}
	}
	return addChange(ctx, st, store.Change{Kind: ChangeNotice, Target: strconv.FormatInt(version, 10), Base: base,
		Payload: []byte("{}"), Reason: reason, ProposedBy: actor.Subject, Proposed: now})
}

func noticeEffect(ctx context.Context, st store.Store, c store.Change, actor Principal, now time.Time) (store.ChangeEffect, error) {
	version, err := strconv.ParseInt(c.Target, 10, 64)
	if err != nil {
		return store.ChangeEffect{}, fmt.Errorf("change %s: notice version %q: %v", c.ID, c.Target, err)
	}
	n, err := st.NoticeByVersion(ctx, version)
	if err != nil {
		return store.ChangeEffect{}, fmt.Errorf("reading notice version %d: %w", version, err)
	}
	base, err := PublishedVersion(ctx, st)
	if err != nil {
		return store.ChangeEffect{}, err
	}
	if !n.Published.IsZero() || base != c.Base {
		return store.ChangeEffect{}, ErrStale
	}
	return store.ChangeEffect{Publish: &store.Publication{Version: version, Previous: base, At: now, By: actor.Subject}}, nil
}

// addChange stores c as a new pending change.
func addChange(ctx context.Context, st store.Changes, c store.Change) (store.Change, error) {
	c.ID, c.State = newChangeID(), ChangePending
	if err := st.AddChange(ctx, c); err != nil {
		return store.Change{}, fmt.Errorf("storing the change: %w", err)
	}
	return c, nil
}
