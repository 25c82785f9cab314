package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
)

// Publishing a monitoring notice and changing the catalogues (with the
// retention schedule, categories.yaml) are policy: like roles, they take a
// second administrator's approval.

// CatalogueChange is the payload of a "catalogue" change: the four
// catalogue files as proposed. Categories is categories.yaml, the data
// categories and their retention schedule.
type CatalogueChange struct {
	Purposes    string `json:"purposes"`
	Legislation string `json:"legislation"`
	Criteria    string `json:"criteria"`
	Categories  string `json:"categories"`
	// KeepCategories proposes the categories of the version in force in
	// place of Categories, read with it in the same read that fixes the
	// change's base version, so that a version approved meanwhile cannot
	// be silently reverted. It is for clients that send three files; the
	// stored payload always carries the four.
	KeepCategories bool `json:"-"`
}

// Files returns the files cc proposes. A change proposed before the
// catalogue carried categories has none; it changes the other three only,
// so it keeps base's, those of the version it was proposed against.
func (cc CatalogueChange) Files(base policy.Files) policy.Files {
	f := policy.Files{Purposes: []byte(cc.Purposes), Legislation: []byte(cc.Legislation), Criteria: []byte(cc.Criteria), Categories: []byte(cc.Categories)}
	if cc.Categories == "" {
		f.Categories = base.Categories
	}
	return f
}

// VersionFiles returns the files of a stored catalogue version. A version
// approved before the catalogue carried categories has none: the
// categories built into lbm were in force with it, and still are.
func VersionFiles(v store.CatalogueVersion) policy.Files {
	f := policy.Files{Purposes: v.Purposes, Legislation: v.Legislation, Criteria: v.Criteria, Categories: v.Categories}
	if len(f.Categories) == 0 {
		f.Categories = policy.DefaultFiles().Categories
	}
	return f
}

// CurrentCatalogueFiles returns the catalogue in force: the latest approved
// version, or the embedded default (version 0) when none is stored. Its
// Categories are never empty (see [VersionFiles]).
func CurrentCatalogueFiles(ctx context.Context, st store.Catalogues) (policy.Files, int64, error) {
	v, err := st.CurrentCatalogue(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return policy.DefaultFiles(), 0, nil
	}
	if err != nil {
		return policy.Files{}, 0, fmt.Errorf("reading the catalogue: %w", err)
	}
	return VersionFiles(v), v.Version, nil
}

// CurrentCatalogue returns the catalogue in force, parsed, and its version.
// Its Categories are the retention schedule in force.
func CurrentCatalogue(ctx context.Context, st store.Catalogues) (policy.Catalogue, int64, error) {
	f, v, err := CurrentCatalogueFiles(ctx, st)
	if err != nil {
		return policy.Catalogue{}, 0, err
	}
	c, err := parseStored(f, v)
	return c, v, err
}

func parseStored(f policy.Files, v int64) (policy.Catalogue, error) {
	c, err := f.Parse()
	if err != nil {
		// Every stored version was parsed when proposed and again when
		// approved: this is a corrupt store, not a bad edit.
		return policy.Catalogue{}, fmt.Errorf("catalogue version %d no longer parses: %w", v, err)
	}
	return c, nil
}

// ProposeCatalogueChange stores a pending change replacing the catalogue
// files with cc. All four files are required (or KeepCategories). They must parse (a
// *policy.ParseError says where not), differ from those in force, and keep
// every data category of the catalogue in force (a *ChangeError on
// "categories" names those dropped): events already recorded under a
// category must keep a retention period.
func ProposeCatalogueChange(ctx context.Context, st store.Store, actor Principal, cc CatalogueChange, reason string, now time.Time) (store.Change, error) {
	if actor.Role != RoleAdmin {
		return store.Change{}, ErrNotAdmin
	}
	reason, err := checkReason(reason)
	if err != nil {
		return store.Change{}, err
	}
	cur, base, err := CurrentCatalogueFiles(ctx, st)
	if err != nil {
		return store.Change{}, err
	}
	if cc.KeepCategories {
		cc.Categories, cc.KeepCategories = string(cur.Categories), false
	}
	f := policy.Files{Purposes: []byte(cc.Purposes), Legislation: []byte(cc.Legislation), Criteria: []byte(cc.Criteria), Categories: []byte(cc.Categories)}
	next, err := f.Parse()
	if err != nil {
		return store.Change{}, err
	}
	if bytes.Equal(cur.Purposes, f.Purposes) && bytes.Equal(cur.Legislation, f.Legislation) &&
		bytes.Equal(cur.Criteria, f.Criteria) && bytes.Equal(cur.Categories, f.Categories) {
		return store.Change{}, ErrNoChange
	}
	inForce, err := parseStored(cur, base)
	if err != nil {
		return store.Change{}, err
	}
	if err := checkKept(inForce.Categories, next.Categories); err != nil {
		return store.Change{}, err
	}
	payload, _ := json.Marshal(cc)
	return addChange(ctx, st, store.Change{Kind: ChangeCatalogue, Target: ChangeCatalogue, Payload: payload, Base: base,
		Reason: reason, ProposedBy: actor.Subject, Proposed: now})
}

// checkKept refuses next if it drops a category of cur.
func checkKept(cur, next policy.Categories) error {
	dropped := cur.Dropped(next)
	if len(dropped) == 0 {
		return nil
	}
	return &ChangeError{"categories", fmt.Sprintf("the catalogue in force has data categories %s that this change removes; "+
		"events of a category must keep their retention schedule, so a category may be changed but not removed",
		strings.Join(dropped, ", "))}
}

func catalogueEffect(ctx context.Context, st store.Store, c store.Change, now time.Time) (store.ChangeEffect, error) {
	var cc CatalogueChange
	if err := json.Unmarshal(c.Payload, &cc); err != nil {
		return store.ChangeEffect{}, fmt.Errorf("change %s: reading payload: %v", c.ID, err)
	}
	cur, base, err := CurrentCatalogueFiles(ctx, st)
	if err != nil {
		return store.ChangeEffect{}, err
	}
	if base != c.Base {
		return store.ChangeEffect{}, ErrStale
	}
	f := cc.Files(cur)
	next, err := f.Parse()
	if err != nil {
		return store.ChangeEffect{}, err
	}
	// The version in force is the one the proposal was checked against,
	// so this holds unless the embedded defaults changed under a pending
	// change; checked again because an approval is what takes effect.
	inForce, err := parseStored(cur, base)
	if err != nil {
		return store.ChangeEffect{}, err
	}
	if err := checkKept(inForce.Categories, next.Categories); err != nil {
		return store.ChangeEffect{}, err
	}
	return store.ChangeEffect{Catalogue: &store.CatalogueVersion{
		Version: c.Base + 1, Purposes: f.Purposes, Legislation: f.Legislation, Criteria: f.Criteria, Categories: f.Categories,
		Created: now, Change: c.ID,
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
