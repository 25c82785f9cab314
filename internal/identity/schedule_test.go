package identity

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
)

// defaultChange is the catalogue in force on a new store, as a proposal.
func defaultChange() CatalogueChange {
	def := policy.DefaultFiles()
	return CatalogueChange{Purposes: string(def.Purposes), Legislation: string(def.Legislation), Criteria: string(def.Criteria), Categories: string(def.Categories)}
}

// withoutCategory returns categories.yaml without the item whose id is id.
func withoutCategory(t *testing.T, yaml, id string) string {
	t.Helper()
	start := strings.Index(yaml, "  - id: "+id+"\n")
	if start < 0 {
		t.Fatalf("no category %s in the file", id)
	}
	end := strings.Index(yaml[start+1:], "  - id: ")
	if end < 0 {
		return yaml[:start]
	}
	return yaml[:start] + yaml[start+1+end:]
}

// TestScheduleDualControl changes the retention schedule: only under a
// second administrator's approval, and the approved periods are then the
// ones in force.
func TestScheduleDualControl(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	cc := defaultChange()
	// E-mail content kept 3 months instead of 6.
	cc.Categories = strings.Replace(cc.Categories, "retention_months: 12\n    content_retention_months: 6\n", "retention_months: 12\n    content_retention_months: 3\n", 1)
	if cc.Categories == defaultChange().Categories {
		t.Fatal("the edit changed nothing: the e-mail schedule in categories.yaml moved")
	}
	c, err := ProposeCatalogueChange(ctx, st, admin("ann"), cc, "e-mail content kept 3 months", day0)
	if err != nil {
		t.Fatalf("proposing a schedule change = %v", err)
	}
	// Proposing changes nothing in force.
	if cat, v, err := CurrentCatalogue(ctx, st); err != nil || v != 0 || months(t, cat, "email") != [2]int{12, 6} {
		t.Errorf("after proposing: CurrentCatalogue = version %d, %v; want version 0, e-mail 12/6", v, err)
	}
	for _, who := range []Principal{admin("ann"), {Kind: KindUser, Subject: "dee", Role: RoleDPO}} {
		if _, _, err := DecideChange(ctx, st, who, c.ID, true, day0); err == nil {
			t.Errorf("%s (%s) approving the schedule change succeeded, want refused", who.Subject, who.Role)
		}
	}
	if _, _, err := DecideChange(ctx, st, admin("ann"), c.ID, true, day0); !errors.Is(err, ErrSelfApproval) {
		t.Errorf("proposer approving = %v, want ErrSelfApproval", err)
	}
	if vs, _ := st.ListCatalogueVersions(ctx); len(vs) != 0 {
		t.Fatalf("%d catalogue versions after refused approvals, want 0", len(vs))
	}
	_, effect, err := DecideChange(ctx, st, admin("bob"), c.ID, true, day0)
	if err != nil {
		t.Fatalf("a second administrator approving = %v", err)
	}
	if effect.Catalogue == nil || string(effect.Catalogue.Categories) != cc.Categories {
		t.Errorf("the approved version does not carry the proposed categories.yaml: %+v", effect.Catalogue)
	}
	cat, v, err := CurrentCatalogue(ctx, st)
	if err != nil || v != 1 {
		t.Fatalf("CurrentCatalogue = version %d, %v; want 1", v, err)
	}
	if got := months(t, cat, "email"); got != [2]int{12, 3} {
		t.Errorf("e-mail schedule in force = %v, want [12 3]", got)
	}
	if got := months(t, cat, "web"); got != [2]int{12, 12} {
		t.Errorf("web schedule in force = %v, want [12 12] (unchanged)", got)
	}
}

func months(t *testing.T, c policy.Catalogue, id string) [2]int {
	t.Helper()
	cat, ok := c.Categories.Category(id)
	if !ok {
		t.Fatalf("no category %s in force", id)
	}
	return [2]int{cat.RetentionMonths, cat.ContentRetentionMonths}
}

// TestScheduleRemoveRefused refuses a proposal that drops a category of
// the catalogue in force, and stores nothing; adding one is allowed.
func TestScheduleRemoveRefused(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	for _, id := range []string{"email", "telephony", "record_query"} {
		cc := defaultChange()
		cc.Categories = withoutCategory(t, cc.Categories, id)
		_, err := ProposeCatalogueChange(ctx, st, admin("ann"), cc, "drop "+id, day0)
		var ce *ChangeError
		if !errors.As(err, &ce) || ce.Field != "categories" || !strings.Contains(ce.Msg, id) {
			t.Errorf("proposing without %s = %v, want a ChangeError on categories naming it", id, err)
		}
	}
	if cs, err := st.ListChanges(ctx, ""); err != nil || len(cs) != 0 {
		t.Errorf("after refused proposals: %d changes stored, %v; want none", len(cs), err)
	}

	added := defaultChange()
	added.Categories += "\n  - id: printing\n    title: Printing\n    collected: What was printed, where and when.\n    content: \"\"\n    retention_months: 12\n    content_retention_months: 0\n"
	c, err := ProposeCatalogueChange(ctx, st, admin("ann"), added, "add printing", day0)
	if err != nil {
		t.Fatalf("proposing an added category = %v", err)
	}
	if _, _, err := DecideChange(ctx, st, admin("bob"), c.ID, true, day0); err != nil {
		t.Fatalf("approving an added category = %v", err)
	}
	// The version in force now has printing: dropping it is refused too.
	back := defaultChange()
	_, err = ProposeCatalogueChange(ctx, st, admin("ann"), back, "back to the default", day0)
	if ce := (*ChangeError)(nil); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "printing") {
		t.Errorf("proposing the default over a version with printing = %v, want a ChangeError naming printing", err)
	}
}

// TestKeepCategories proposes three files with KeepCategories: the change
// carries the schedule in force when it was proposed, in its payload.
func TestKeepCategories(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	cc := defaultChange()
	cc.Categories = strings.Replace(cc.Categories, "content_retention_months: 6\n", "content_retention_months: 3\n", 1)
	c, err := ProposeCatalogueChange(ctx, st, admin("ann"), cc, "e-mail content 3 months", day0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DecideChange(ctx, st, admin("bob"), c.ID, true, day0); err != nil {
		t.Fatal(err)
	}
	three := defaultChange()
	three.Purposes = strings.Replace(three.Purposes, "title: ", "title: Edited ", 1)
	three.Categories, three.KeepCategories = "", true
	c, err = ProposeCatalogueChange(ctx, st, admin("ann"), three, "clearer title", day0)
	if err != nil {
		t.Fatalf("proposing three files, keeping the categories = %v", err)
	}
	var stored CatalogueChange
	if err := json.Unmarshal(c.Payload, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Categories != cc.Categories {
		t.Errorf("the payload's categories are not those in force when proposed")
	}
	if _, _, err := DecideChange(ctx, st, admin("bob"), c.ID, true, day0); err != nil {
		t.Fatal(err)
	}
	// Keeping the categories and changing nothing else is no change;
	// Categories is not read.
	same := defaultChange()
	same.Purposes, same.Categories, same.KeepCategories = three.Purposes, "ignored", true
	if _, err := ProposeCatalogueChange(ctx, st, admin("ann"), same, "again", day0); !errors.Is(err, ErrNoChange) {
		t.Errorf("proposing the catalogue in force with KeepCategories = %v, want ErrNoChange", err)
	}
	cat, v, err := CurrentCatalogue(ctx, st)
	if err != nil || v != 2 || months(t, cat, "email") != [2]int{12, 3} {
		t.Errorf("after the three-file change: version %d, %v, e-mail %v; want 2, [12 3]", v, err, months(t, cat, "email"))
	}
}

// TestCatalogueBeforeCategories reads a version approved before the
// catalogue carried categories, and approves a change proposed then: both
// mean the embedded categories.
func TestCatalogueBeforeCategories(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	def := policy.DefaultFiles()
	edited := strings.Replace(string(def.Purposes), "title: ", "title: Edited ", 1)
	// A change as proposed before: its payload has no categories key.
	payload, _ := json.Marshal(map[string]string{"purposes": edited, "legislation": string(def.Legislation), "criteria": string(def.Criteria)})
	old, err := addChange(ctx, st, store.Change{Kind: ChangeCatalogue, Target: ChangeCatalogue, Payload: payload,
		Reason: "clearer title", ProposedBy: "ann", Proposed: day0})
	if err != nil {
		t.Fatal(err)
	}
	_, effect, err := DecideChange(ctx, st, admin("bob"), old.ID, true, day0)
	if err != nil {
		t.Fatalf("approving a change proposed before the catalogue carried categories = %v", err)
	}
	if string(effect.Catalogue.Categories) != string(def.Categories) {
		t.Errorf("the version approved from it carries categories %q, want the embedded file", effect.Catalogue.Categories)
	}

	// A version stored with none, as an engine migrated from before reads
	// it back.
	v2 := store.CatalogueVersion{Version: 2, Purposes: []byte(edited), Legislation: def.Legislation, Criteria: def.Criteria,
		Created: day0, Change: "c-before"}
	c, err := addChange(ctx, st, store.Change{Kind: ChangeCatalogue, Target: ChangeCatalogue, Payload: []byte("{}"), Base: 1,
		Reason: "stored as before", ProposedBy: "ann", Proposed: day0})
	if err != nil {
		t.Fatal(err)
	}
	c.State, c.DecidedBy, c.Decided = ChangeApproved, "bob", day0
	v2.Change = c.ID
	if err := st.DecideChange(ctx, c, store.ChangeEffect{Catalogue: &v2}); err != nil {
		t.Fatal(err)
	}
	f, v, err := CurrentCatalogueFiles(ctx, st)
	if err != nil || v != 2 || string(f.Categories) != string(def.Categories) {
		t.Errorf("CurrentCatalogueFiles = version %d, %v, categories from the embedded file: %v; want version 2 with them", v, err, string(f.Categories) == string(def.Categories))
	}
	cat, _, err := CurrentCatalogue(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(policy.DefaultCategories(), cat.Categories); diff != "" {
		t.Errorf("categories in force of a version stored without them (-embedded +got):\n%s", diff)
	}
}
