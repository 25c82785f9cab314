package inform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/notice"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
)

// DraftNotice checks n's texts and categories and stores them as a new
// draft version, made by actor at now. Drafting changes nothing anyone is
// told: publishing a version is a dual-control change. A draft that fails
// the checks is a notice.FieldErrors (or *notice.FieldError) naming each
// field at fault, and nothing is stored.
func DraftNotice(ctx context.Context, st store.Notices, actor identity.Principal, n store.Notice, cats policy.Categories, now time.Time) (store.Notice, error) {
	if actor.Role != identity.RoleAdmin {
		return store.Notice{}, identity.ErrNotAdmin
	}
	categories := slices.Clone(n.Categories)
	slices.Sort(categories)
	categories = slices.Compact(categories)
	d := notice.Draft{Title: n.Title, Text: n.Text, Short: n.Short, PublicText: n.PublicText, PublicShort: n.PublicShort, Categories: categories}
	if err := notice.CheckDraft(d, cats); err != nil {
		return store.Notice{}, err
	}
	stored, err := st.AddNotice(ctx, store.Notice{Title: d.Title, Text: d.Text, Short: d.Short, PublicText: d.PublicText,
		PublicShort: d.PublicShort, Categories: d.Categories, Created: now, CreatedBy: actor.Subject})
	if err != nil {
		return store.Notice{}, fmt.Errorf("storing the draft notice: %w", err)
	}
	return stored, nil
}

// FieldErrors returns the problems of a draft DraftNotice refused, one per
// field, or nil when err is not about the draft's fields.
func FieldErrors(err error) []*notice.FieldError {
	var fes notice.FieldErrors
	if errors.As(err, &fes) {
		return fes
	}
	var fe *notice.FieldError
	if errors.As(err, &fe) {
		return []*notice.FieldError{fe}
	}
	return nil
}

// DefaultInput is what the generated notice is made from: the catalogue in
// force (whose Categories give what is recorded and the retention schedule
// the notice states), and the ids of the sources connected.
type DefaultInput struct {
	Organisation string
	Catalogue    policy.Catalogue
	Sources      []string
	NoticeURL    string
	PublicURL    string
}

// DefaultNotice generates the notice lbm would publish from its
// configuration, as a draft not yet stored.
func DefaultNotice(in DefaultInput) (store.Notice, error) {
	d, err := notice.Default(notice.Input{Organisation: in.Organisation, Catalogue: in.Catalogue, Categories: in.Catalogue.Categories,
		Detection: policy.DefaultDetection(), Sources: in.Sources, NoticeURL: in.NoticeURL, PublicURL: in.PublicURL})
	if err != nil {
		return store.Notice{}, fmt.Errorf("generating the default notice: %w", err)
	}
	return store.Notice{Title: d.Title, Text: d.Text, Short: d.Short, PublicText: d.PublicText, PublicShort: d.PublicShort, Categories: d.Categories}, nil
}
