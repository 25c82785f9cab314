package authorise_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lbm-project/lbm/internal/requests"
)

// TestSweeperLapsesUrgentAuthorisation runs the real sweeper loop on the
// bubble's fake clock: an Inspector's urgent authorisation that nobody
// ratifies lapses at 72 hours, recorded by lbm within one sweep interval,
// and is not in force a moment after, sweep or no sweep.
func TestSweeperLapsesUrgentAuthorisation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		defer e.close()
		// Inside the bubble time.Now is the fake clock, which moves only
		// when every goroutine is blocked.
		e.svc.Now = time.Now
		rng := rand.New(rand.NewPCG(21, 22))
		w := written(rng, "sam")
		w.Urgent = requests.Urgency{Urgent: true, Why: phrase(rng)}
		w.Window = &requests.Window{From: time.Now().AddDate(0, -2, 0), To: time.Now().AddDate(0, 0, -1)}
		ivy := e.as(t, "ivy", "investigator")
		r, err := e.svc.Create(e.ctx, ivy, w)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = e.svc.Submit(e.ctx, ivy, r.ID); err != nil {
			t.Fatal(err)
		}
		r, err = e.svc.Act(e.ctx, e.as(t, "ina", "authoriser"), r.ID, func(by requests.Actor) requests.Action {
			return requests.Decide{By: by, Authorise: true, Reasons: phrase(rng), Views: views(rng)}
		})
		if err != nil {
			t.Fatal(err)
		}
		authorisedAt := r.AuthorisedAt
		if !r.RatifyBy.Equal(authorisedAt.Add(72 * time.Hour)) {
			t.Fatalf("urgent authorisation ratify_by = %v, want 72 hours after %v", r.RatifyBy, authorisedAt)
		}
		// A sweep every half hour keeps the bubble's 72 hours to 144
		// sweeps; the production interval is a minute.
		const interval = 30 * time.Minute
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			e.svc.Run(ctx, interval)
			close(done)
		}()

		time.Sleep(72*time.Hour - time.Minute)
		synctest.Wait()
		if st, _ := e.node.Store.RequestByID(e.ctx, r.ID); st.State != string(requests.Active) {
			t.Fatalf("a minute before the lapse the request is %s, want active", st.State)
		}
		time.Sleep(time.Minute)
		// Read the store directly, not through Get (which would record
		// the lapse itself): whatever the sweeper has done by now, the
		// stored authorisation is not in force.
		before, err := e.node.Store.RequestByID(e.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := decode(t, before.Body); got.Active(time.Now()) {
			t.Fatal("the unratified urgent authorisation is in force at 72 hours")
		}
		time.Sleep(interval)
		synctest.Wait()
		st, err := e.node.Store.RequestByID(e.ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := decode(t, st.Body)
		last := stored.History[len(stored.History)-1]
		if st.State != string(requests.Expired) || last.Action != requests.ActLapse || last.Actor != requests.System ||
			!last.At.Equal(r.RatifyBy) || last.OversightIndex == 0 {
			t.Fatalf("after the sweep: state %s, last transition %+v; want a lapse by lbm at %v with a leaf", st.State, last, r.RatifyBy)
		}
		stop()
		<-done
	})
}
