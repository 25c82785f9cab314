package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/event"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/simulate"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/schollz/progressbar/v3"
)

// Demo sizes: enough that every screen has something in it, small enough to
// load in seconds.
const (
	demoPeople = 200
	demoDays   = 3
	demoSource = "demo"
)

// demoForce is the simulated force of the demo. Misconduct is far more
// common than in a real force (some ten scenarios in three days), so
// that the alert queue has something of most kinds in it.
var demoForce = simulate.Config{People: demoPeople, Days: demoDays, Misconduct: 2, NearMisses: 5}

// LoadDemo fills an empty directory with the synthetic force's people
// (see [loadDemoPeople]) and an empty activity log with their activity from
// source "demo", whose token it writes to DATA/demo.token (0600). It does
// nothing to a store that already holds people or events, so a restart
// with --demo is harmless. It returns the token file's path and the events
// stored.
func LoadDemo(ctx context.Context, n *Node, progress io.Writer) (string, int, error) {
	if err := loadDemoPeople(ctx, n); err != nil {
		return "", 0, fmt.Errorf("loading demo people: %w", err)
	}
	st, err := n.Store.LogState(ctx, Activity)
	if err != nil {
		return "", 0, err
	}
	if st.Size > 0 {
		return "", 0, nil
	}
	lines, err := simulate.Events(demoForce)
	if err != nil {
		return "", 0, err
	}
	token, err := identity.AddSource(ctx, n.Store, demoSource, n.Now())
	if err != nil {
		return "", 0, err
	}
	path := filepath.Join(filepath.Dir(n.AdminTokenPath), "demo.token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", 0, fmt.Errorf("writing demo token: %w", err)
	}
	if _, err := n.Oversight(ctx, "cli", "source_add", map[string]any{"source": demoSource}, true); err != nil {
		return "", 0, err
	}
	bar := progressbar.NewOptions(len(lines), progressbar.OptionSetWriter(progress), progressbar.OptionSetDescription("demo events"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100e6), progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
	const batch = 5000
	for i := 0; i < len(lines); i += batch {
		var evs []*event.Event
		for j, line := range lines[i:min(i+batch, len(lines))] {
			e, err := event.Parse(line, demoSource)
			if err != nil {
				return "", 0, fmt.Errorf("simulated event %d: %w", i+j+1, err)
			}
			evs = append(evs, e)
		}
		if _, err := n.Logs[n.ActivityLog].Writer.Append(ctx, evs); err != nil {
			return "", 0, err
		}
		bar.Add(len(evs))
	}
	bar.Finish()
	if err := writeDemoLists(filepath.Join(filepath.Dir(n.AdminTokenPath), ListsDir)); err != nil {
		return "", 0, fmt.Errorf("writing the demo's reference lists: %w", err)
	}
	if err := loadDemoNotice(ctx, n); err != nil {
		return "", 0, fmt.Errorf("publishing the demo notice: %w", err)
	}
	if err := loadDemoRequests(ctx, n); err != nil {
		return "", 0, fmt.Errorf("loading demo requests: %w", err)
	}
	return path, len(lines), n.PublishAll(ctx)
}

// writeDemoLists writes the reference lists HR, vetting and security
// would supply about the demo force, for the detection rules to read,
// unless dir already exists: a real force's lists are never replaced.
func writeDemoLists(dir string) error {
	if _, err := os.Stat(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	lists, err := simulate.Lists(demoForce)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	for id, l := range lists {
		if err := os.WriteFile(filepath.Join(dir, id+".csv"), detect.FormatList(detect.ListFromRows(l.Keyed, l.Rows)), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// setDemoManagers makes the highest-ranked person of each unit the line
// manager of everyone else in it, so that the notice report has line
// managers to group by.
func setDemoManagers(ps []store.Person) {
	head := map[string]int{}
	for i, p := range ps {
		j, ok := head[p.Unit]
		if !ok || identity.Rank(p.Rank).Level() > identity.Rank(ps[j].Rank).Level() {
			head[p.Unit] = i
		}
	}
	for i := range ps {
		if j := head[ps[i].Unit]; j != i {
			ps[i].Manager = ps[j].ID
		}
	}
}

// loadDemoNotice publishes the generated monitoring notice as the demo
// administrators would (one proposes, the other approves), and has three
// in four of the demo force acknowledge it, so that the notice report has
// people to chase. It does nothing once a notice is published.
func loadDemoNotice(ctx context.Context, n *Node) error {
	if _, err := n.Store.CurrentNotice(ctx); err == nil {
		return nil
	}
	now := n.Now()
	record := func(ctx context.Context, actor, action string, details map[string]any) (uint64, error) {
		return n.Oversight(ctx, actor, action, details, true)
	}
	admin1 := identity.Principal{Kind: identity.KindUser, Subject: demoAdmins[0], Role: identity.RoleAdmin}
	admin2 := identity.Principal{Kind: identity.KindUser, Subject: demoAdmins[1], Role: identity.RoleAdmin}
	d, err := inform.DefaultNotice(inform.DefaultInput{Organisation: "the Demo Constabulary", Catalogue: policy.Default(), Sources: []string{demoSource}})
	if err != nil {
		return err
	}
	draft, err := inform.DraftNotice(ctx, n.Store, admin1, d, policy.DefaultCategories(), now)
	if err != nil {
		return err
	}
	c, err := identity.ProposeNoticePublication(ctx, n.Store, admin1, draft.Version, "The first monitoring notice.", now)
	if err != nil {
		return err
	}
	if _, _, err := identity.DecideChange(ctx, n.Store, admin2, c.ID, true, now); err != nil {
		return err
	}
	if _, err := record(ctx, admin2.Subject, "notice_change_approved", map[string]any{"change": c.ID, "notice_version": draft.Version}); err != nil {
		return err
	}
	people, err := n.Store.ListPeople(ctx, store.PeopleQuery{Limit: demoPeople + 10})
	if err != nil {
		return err
	}
	for i, p := range people {
		if i%4 == 3 || slices.Contains(demoAdmins, p.ID) {
			continue
		}
		if _, _, err := inform.Acknowledge(ctx, n.Store, record, p.ID, draft.Version, inform.ViaWeb, now); err != nil {
			return err
		}
	}
	return nil
}

// Demo administrators. demo-admin has proposed a change that demo-admin2
// can approve, so the dual-control queue has something in it.
var demoAdmins = []string{"demo-admin", "demo-admin2"}

// DemoLinksFile names the file, in the data directory, holding the demo
// administrators' one-time set-up links.
const DemoLinksFile = "demo-links.txt"

// loadDemoPeople puts the simulated force into an empty directory, gives a
// few people the roles that make every page worth seeing, and writes
// set-up links for two administrators to DATA/demo-links.txt (0600).
func loadDemoPeople(ctx context.Context, n *Node) error {
	count, err := n.Store.CountPeople(ctx)
	if err != nil || count > 0 {
		return err
	}
	now := n.Now()
	var ps []store.Person
	roles := map[string][]string{}
	for _, sp := range simulate.People(demoForce) {
		rank, err := identity.ParseRank(sp.Rank)
		if err != nil {
			return fmt.Errorf("simulated person %s: %w", sp.ID, err)
		}
		r := []string{"staff"}
		switch {
		case rank == identity.Superintendent && len(roles["authoriser"]) < 2:
			r = append(r, "authoriser")
			roles["authoriser"] = append(roles["authoriser"], sp.ID)
		case rank == identity.Sergeant && len(roles["investigator"]) < 3:
			r = append(r, "investigator")
			roles["investigator"] = append(roles["investigator"], sp.ID)
		}
		slices.Sort(r)
		// The simulator's address and login, so that its e-mail and
		// sign-in events resolve to the person as captured ones would.
		ps = append(ps, store.Person{ID: sp.ID, Name: sp.Name, Number: sp.Collar, Unit: sp.Unit, Rank: string(rank), Roles: r,
			Emails: []string{sp.Email}, Username: sp.Username, Updated: now})
	}
	setDemoManagers(ps)
	for i, id := range demoAdmins {
		ps = append(ps, store.Person{ID: id, Name: fmt.Sprintf("Demo Administrator %d", i+1), Unit: "ICT Security",
			Grade: "", Roles: []string{"admin", "staff"}, Emails: []string{id + "@" + simulate.InternalDomain}, Updated: now})
	}
	ps = append(ps, store.Person{ID: "demo-oversight", Name: "Demo Oversight", Unit: "Professional Standards",
		Roles: []string{"oversight", "staff"}, Emails: []string{"demo-oversight@" + simulate.InternalDomain}, Updated: now})
	if _, _, err := n.Store.PutPeople(ctx, ps); err != nil {
		return err
	}
	if _, err := n.Oversight(ctx, "cli", "demo_directory", map[string]any{"people": len(ps)}, true); err != nil {
		return err
	}
	if len(roles["investigator"]) > 0 {
		proposer := identity.Principal{Kind: identity.KindUser, Subject: demoAdmins[0], Role: identity.RoleAdmin}
		target := roles["investigator"][0]
		pc := identity.PersonChange{Roles: []string{"investigator", "staff", "authoriser"}}
		c, err := identity.ProposePersonChange(ctx, n.Store, proposer, target, pc, "Acting up as authoriser while the unit's Superintendent is on leave.", now)
		if err != nil {
			return err
		}
		if _, err := n.Oversight(ctx, demoAdmins[0], "person_change_proposed", map[string]any{"change": c.ID, "person": target}, true); err != nil {
			return err
		}
	}
	// Links for the administrators, and for one person in each role of the
	// request flow: the investigator whose demo requests these are, an
	// authoriser who may decide them, and oversight.
	signIn := append(slices.Clone(demoAdmins), "demo-oversight")
	if len(roles["investigator"]) > 1 {
		// The first is proposed as an authoriser; loadDemoRequests gives
		// the demo requests to the highest id among the others.
		signIn = append(signIn, slices.Max(roles["investigator"][1:]))
	}
	if len(roles["authoriser"]) > 0 {
		signIn = append(signIn, roles["authoriser"][0])
	}
	var links strings.Builder
	links.WriteString("# One-time set-up links for demo people (administrators, oversight, an\n# investigator and an authoriser): open one at the server's address,\n# e.g. http://127.0.0.1:8080/setup/...\n")
	for _, id := range signIn {
		token, err := identity.NewSetupLink(ctx, n.Store, id, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(&links, "%s /setup/%s\n", id, token)
	}
	path := filepath.Join(filepath.Dir(n.AdminTokenPath), DemoLinksFile)
	return os.WriteFile(path, []byte(links.String()), 0o600)
}
