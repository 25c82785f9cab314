package identity

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
)

func addDraft(t *testing.T, st store.Store, title string) store.Notice {
	t.Helper()
	n, err := st.AddNotice(t.Context(), store.Notice{Title: title, Text: "## What\n\nEverything.", Short: "Monitored.",
		PublicText: "We record contact.", PublicShort: "Recorded.", Categories: []string{"email"}, Created: day0, CreatedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNoticePublicationDualControl(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	v1 := addDraft(t, st, "v1")
	v2 := addDraft(t, st, "v2")

	// Refused proposals store nothing.
	for _, tc := range []struct {
		name    string
		actor   Principal
		version int64
		reason  string
		want    func(error) bool
	}{
		{"not an admin", Principal{Kind: KindUser, Subject: "ann", Role: RoleOversight}, v1.Version, "new notice", isErr(ErrNotAdmin)},
		{"no reason", admin("ann"), v1.Version, "  ", isChangeError("reason")},
		{"no such version", admin("ann"), 99, "new notice", isErr(store.ErrNotFound)},
	} {
		if _, err := ProposeNoticePublication(ctx, st, tc.actor, tc.version, tc.reason, day0); !tc.want(err) {
			t.Errorf("%s: ProposeNoticePublication = %v", tc.name, err)
		}
	}
	if cs, _ := st.ListChanges(ctx, ""); len(cs) != 0 {
		t.Fatalf("refused proposals stored %d changes", len(cs))
	}

	p1, err := ProposeNoticePublication(ctx, st, admin("ann"), v1.Version, "first notice", day0)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := ProposeNoticePublication(ctx, st, admin("ann"), v2.Version, "second notice", day0)
	if err != nil {
		t.Fatal(err)
	}
	// Proposing publishes nothing, and the proposer cannot approve.
	if _, err := st.CurrentNotice(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CurrentNotice after proposing = %v, want ErrNotFound", err)
	}
	if _, _, err := DecideChange(ctx, st, admin("ann"), p1.ID, true, day0); !errors.Is(err, ErrSelfApproval) {
		t.Errorf("proposer approving = %v, want ErrSelfApproval", err)
	}
	_, effect, err := DecideChange(ctx, st, admin("bob"), p1.ID, true, day0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if effect.Publish == nil || effect.Publish.Version != v1.Version || effect.Publish.Previous != 0 || effect.Publish.By != "bob" {
		t.Errorf("effect = %+v, want v1 published by bob over none", effect.Publish)
	}
	if cur, err := st.CurrentNotice(ctx); err != nil || cur.Version != v1.Version || cur.PublishedBy != "bob" {
		t.Errorf("CurrentNotice = %+v, %v; want v1 published by bob", cur, err)
	}
	// p2 was proposed over "none published": it is stale now.
	if _, _, err := DecideChange(ctx, st, admin("bob"), p2.ID, true, day0); !errors.Is(err, ErrStale) {
		t.Errorf("approving a publication proposed before another was published = %v, want ErrStale", err)
	}
	if _, err := ProposeNoticePublication(ctx, st, admin("ann"), v1.Version, "again", day0); !isChangeError("notice")(err) {
		t.Errorf("proposing to publish a published version = %v, want a notice ChangeError", err)
	}
	p2, err = ProposeNoticePublication(ctx, st, admin("ann"), v2.Version, "second notice", day0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DecideChange(ctx, st, admin("bob"), p2.ID, true, day0); err != nil {
		t.Fatal(err)
	}
	if cur, _ := st.CurrentNotice(ctx); cur.Version != v2.Version {
		t.Errorf("current notice version %d, want %d", cur.Version, v2.Version)
	}
	// An older draft cannot be published over a newer published version.
	v3 := addDraft(t, st, "v3")
	v4 := addDraft(t, st, "v4")
	p4, _ := ProposeNoticePublication(ctx, st, admin("ann"), v4.Version, "fourth", day0)
	if _, _, err := DecideChange(ctx, st, admin("bob"), p4.ID, true, day0); err != nil {
		t.Fatal(err)
	}
	if _, err := ProposeNoticePublication(ctx, st, admin("ann"), v3.Version, "third", day0); !isChangeError("notice")(err) {
		t.Errorf("proposing an older draft = %v, want a notice ChangeError", err)
	}
}

func TestCatalogueChangeDualControl(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	def := policy.DefaultFiles()
	if _, v, err := CurrentCatalogue(ctx, st); err != nil || v != 0 {
		t.Fatalf("CurrentCatalogue on a new store = version %d, %v; want the default, 0", v, err)
	}
	edited := CatalogueChange{
		Purposes:    strings.Replace(string(def.Purposes), "title: ", "title: Edited ", 1),
		Legislation: string(def.Legislation), Criteria: string(def.Criteria), Categories: string(def.Categories),
	}
	var pe *policy.ParseError
	bad := edited
	bad.Criteria = "criteria: []\n"
	if _, err := ProposeCatalogueChange(ctx, st, admin("ann"), bad, "empty criteria", day0); !errors.As(err, &pe) {
		t.Errorf("proposing a catalogue that does not parse = %v, want a *policy.ParseError", err)
	}
	noCategories := edited
	noCategories.Categories = ""
	if _, err := ProposeCatalogueChange(ctx, st, admin("ann"), noCategories, "no categories", day0); !errors.As(err, &pe) || pe.File != "categories.yaml" {
		t.Errorf("proposing a catalogue without categories = %v, want a *policy.ParseError in categories.yaml", err)
	}
	same := CatalogueChange{Purposes: string(def.Purposes), Legislation: string(def.Legislation), Criteria: string(def.Criteria), Categories: string(def.Categories)}
	if _, err := ProposeCatalogueChange(ctx, st, admin("ann"), same, "no change", day0); !errors.Is(err, ErrNoChange) {
		t.Errorf("proposing the catalogue in force = %v, want ErrNoChange", err)
	}
	if _, err := ProposeCatalogueChange(ctx, st, Principal{Kind: KindUser, Subject: "ann", Role: RoleDPO}, edited, "dpo", day0); !errors.Is(err, ErrNotAdmin) {
		t.Errorf("a DPO proposing = %v, want ErrNotAdmin", err)
	}
	c1, err := ProposeCatalogueChange(ctx, st, admin("ann"), edited, "clearer title", day0)
	if err != nil {
		t.Fatal(err)
	}
	again := edited
	again.Purposes = strings.Replace(string(def.Purposes), "title: ", "title: Other ", 1)
	c2, err := ProposeCatalogueChange(ctx, st, admin("ann"), again, "other title", day0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DecideChange(ctx, st, admin("ann"), c1.ID, true, day0); !errors.Is(err, ErrSelfApproval) {
		t.Errorf("proposer approving = %v, want ErrSelfApproval", err)
	}
	_, effect, err := DecideChange(ctx, st, admin("bob"), c1.ID, true, day0)
	if err != nil {
		t.Fatal(err)
	}
	if effect.Catalogue == nil || effect.Catalogue.Version != 1 || effect.Catalogue.Change != c1.ID {
		t.Errorf("effect = %+v, want catalogue version 1 from %s", effect.Catalogue, c1.ID)
	}
	cat, v, err := CurrentCatalogue(ctx, st)
	if err != nil || v != 1 || !strings.HasPrefix(cat.Purposes[0].Title, "Edited ") {
		t.Errorf("CurrentCatalogue = version %d, first purpose %q, %v; want version 1 with the edited title", v, cat.Purposes[0].Title, err)
	}
	if _, _, err := DecideChange(ctx, st, admin("bob"), c2.ID, true, day0); !errors.Is(err, ErrStale) {
		t.Errorf("approving a catalogue change proposed against version 0 = %v, want ErrStale", err)
	}
	if vs, _ := st.ListCatalogueVersions(ctx); len(vs) != 1 {
		t.Errorf("%d catalogue versions stored, want 1", len(vs))
	}
}

func isErr(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func isChangeError(field string) func(error) bool {
	return func(err error) bool {
		var ce *ChangeError
		return errors.As(err, &ce) && ce.Field == field
	}
}
