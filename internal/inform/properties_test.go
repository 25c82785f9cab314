package inform

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/store/sqlite"
)

// TestNoticeProperties runs random sequences of drafting, proposing,
// deciding and acknowledging against a model, and checks after every step:
// the notice in force is the last one approved; an approval never goes
// back to an older version; nobody has acknowledged a version that was
// not in force when they did; every acknowledgement names its own
// oversight leaf; and the compliance report is exactly the people the
// model says have not acknowledged the notice in force.
func TestNoticeProperties(t *testing.T) {
	d, err := DefaultNotice(DefaultInput{Catalogue: policy.Default()})
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		ctx := t.Context()
		st, err := sqlite.Open(ctx, t.TempDir())
		if err != nil {
			rt.Fatal(err)
		}
		defer st.Close()
		staff := []string{"s1", "s2", "s3"}
		for _, id := range staff {
			if _, _, err := st.PutPeople(ctx, []store.Person{{ID: id, Name: id, Unit: "U", Roles: []string{"staff"}}}); err != nil {
				rt.Fatal(err)
			}
		}
		admins := []identity.Principal{
			{Kind: identity.KindUser, Subject: "a1", Role: identity.RoleAdmin},
			{Kind: identity.KindUser, Subject: "a2", Role: identity.RoleAdmin},
		}
		rec := &recorder{}
		var (
			current  int64                  // the model's notice in force
			drafts   []int64                // every version drafted
			pending  []string               // proposed publications
			acked    = map[string][]int64{} // person -> versions, as acknowledged
			leafOf   = map[string]uint64{}  // person/version -> leaf
			proposed = map[string]int64{}   // change -> version
		)
		now := day0
		for step := range rapid.IntRange(1, 30).Draw(rt, "steps") {
			now = now.Add(time.Minute)
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0: // draft
				n, err := DraftNotice(ctx, st, admins[0], d, policy.DefaultCategories(), now)
				if err != nil {
					rt.Fatalf("step %d: draft: %v", step, err)
				}
				drafts = append(drafts, n.Version)
			case 1: // propose publishing a draft
				if len(drafts) == 0 {
					continue
				}
				v := rapid.SampledFrom(drafts).Draw(rt, "version")
				actor := rapid.SampledFrom(admins).Draw(rt, "proposer")
				c, err := identity.ProposeNoticePublication(ctx, st, actor, v, "step", now)
				switch {
				case err == nil:
					if v < current {
						rt.Fatalf("step %d: proposing version %d older than %d in force was accepted", step, v, current)
					}
					pending = append(pending, c.ID)
					proposed[c.ID] = v
				default:
					// Only a version published already (in force or
					// superseded) is refused.
					var ce *identity.ChangeError
					if !errors.As(err, &ce) || v > current {
						rt.Fatalf("step %d: propose %d with %d in force: %v", step, v, current, err)
					}
				}
			case 2: // decide a pending publication
				if len(pending) == 0 {
					continue
				}
				id := rapid.SampledFrom(pending).Draw(rt, "change")
				actor := rapid.SampledFrom(admins).Draw(rt, "decider")
				approve := rapid.Bool().Draw(rt, "approve")
				before, _ := st.ChangeByID(ctx, id)
				c, effect, err := identity.DecideChange(ctx, st, actor, id, approve, now)
				switch {
				case before.ProposedBy == actor.Subject:
					if !errors.Is(err, identity.ErrSelfApproval) {
						rt.Fatalf("step %d: the proposer decided: %v", step, err)
					}
				case err == nil && c.State == identity.ChangeApproved:
					if effect.Publish == nil || effect.Publish.Version <= current {
						rt.Fatalf("step %d: approved %+v over version %d in force", step, effect.Publish, current)
					}
					current = effect.Publish.Version
				case err == nil, errors.Is(err, identity.ErrStale):
				default:
					var de *identity.DecidedError
					if !errors.As(err, &de) {
						rt.Fatalf("step %d: decide: %v", step, err)
					}
				}
			case 3: // acknowledge
				person := rapid.SampledFrom(staff).Draw(rt, "person")
				var v int64
				if len(drafts) > 0 {
					v = rapid.SampledFrom(drafts).Draw(rt, "read")
				}
				a, created, err := Acknowledge(ctx, st, rec.record, person, v, ViaAPI, now)
				var nc *NotCurrentError
				switch {
				case current == 0:
					if !errors.Is(err, ErrNoNotice) {
						rt.Fatalf("step %d: acknowledging with none in force: %v", step, err)
					}
				case v != current:
					if !errors.As(err, &nc) || nc.Current != current {
						rt.Fatalf("step %d: acknowledging %d with %d in force: %v", step, v, current, err)
					}
				case err != nil:
					rt.Fatalf("step %d: acknowledge: %v", step, err)
				case created == slices.Contains(acked[person], v):
					rt.Fatalf("step %d: created %v, but acknowledged before: %v", step, created, acked[person])
				case created:
					acked[person] = append(acked[person], v)
					leafOf[person+"/"+strconv.FormatInt(v, 10)] = a.Entry
				}
			}

			// Invariants.
			cur, err := st.CurrentNotice(ctx)
			if got := cur.Version; (err == nil) != (current > 0) || got != current {
				rt.Fatalf("step %d: CurrentNotice = %d, %v; model %d", step, got, err, current)
			}
			var missing []string
			for _, id := range staff {
				as, err := st.AcknowledgementsOf(ctx, id)
				if err != nil {
					rt.Fatal(err)
				}
				var got []int64
				for _, a := range as {
					got = append(got, a.Version)
					if a.Entry != leafOf[id+"/"+strconv.FormatInt(a.Version, 10)] || int(a.Entry) >= len(rec.leaves) {
						rt.Fatalf("step %d: %s's acknowledgement of %d names leaf %d", step, id, a.Version, a.Entry)
					}
				}
				want := slices.Clone(acked[id])
				slices.Reverse(want)
				if !slices.Equal(got, want) {
					rt.Fatalf("step %d: %s acknowledged %v, model %v", step, id, got, want)
				}
				if current > 0 && !slices.Contains(acked[id], current) {
					missing = append(missing, id)
				}
			}
			if current == 0 {
				continue
			}
			rep, err := ComplianceReport(ctx, st, now)
			if err != nil {
				rt.Fatal(err)
			}
			var listed []string
			for _, o := range rep.Summary().Outstanding {
				listed = append(listed, o.ID)
			}
			if !slices.Equal(listed, missing) || rep.Coverage.Active != len(staff) || rep.Coverage.Acknowledged != len(staff)-len(missing) {
				rt.Fatalf("step %d: report lists %v (%+v), model %v", step, listed, rep.Coverage, missing)
			}
		}
	})
}
