package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lbm-project/lbm/internal/alerts"
	"github.com/lbm-project/lbm/internal/confidential"
	"github.com/lbm-project/lbm/internal/detect"
	"github.com/lbm-project/lbm/internal/detect/pack"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/store"
)

// ListsDir, in the data directory, holds the reference lists detection
// rules read (DIR/RESTRICTED_RECORDS.csv, …: see docs/detect.md). A list
// without a file is empty; lists lbm derives from its own directory
// (colleagues, leavers) are built from the store.
const ListsDir = "lists"

// rulesInForce is the rule set detection runs: the latest approved
// version (a dual-control change of kind "rules"), or the built-in pack
// while none is approved, with the reference lists and the confidential
// channels.
type rulesInForce struct {
	store    store.Store
	listsDir string
	conf     *confidential.Matcher
	now      func() time.Time
}

// Version is the approved rule set's version; 0 for the built-in pack.
func (r *rulesInForce) Version(ctx context.Context) (int64, error) {
	v, err := r.store.CurrentRuleSet(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return v.Version, err
}

// Compile compiles the rule set in force with the lists as they are now.
func (r *rulesInForce) Compile(ctx context.Context) (*detect.Engine, int64, error) {
	inputs := policy.DefaultDetection()
	var rules []*detect.Rule
	var version int64
	v, err := r.store.CurrentRuleSet(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		rules, err = pack.Rules(inputs)
	case err == nil:
		version = v.Version
		rules, err = detect.Parse(fmt.Sprintf("rules version %d", v.Version), v.Rules, inputs)
	}
	if err != nil {
		return nil, 0, err
	}
	lists, err := r.lists(ctx, inputs)
	if err != nil {
		return nil, 0, err
	}
	e, err := detect.Compile(rules, detect.WithEmpty(rules, lists), r.conf)
	return e, version, err
}

// lists reads the lists directory, when there is one, and adds the lists
// derived from the directory of people.
func (r *rulesInForce) lists(ctx context.Context, inputs policy.Detection) (detect.Lists, error) {
	lists := detect.Lists{}
	if _, err := os.Stat(r.listsDir); err == nil {
		if lists, err = detect.ReadLists(os.DirFS(r.listsDir), inputs); err != nil {
			return nil, fmt.Errorf("%s: %w", r.listsDir, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var staff []detect.Staff
	q := store.PeopleQuery{Limit: 1000}
	for {
		page, err := r.store.ListPeople(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			st := detect.Staff{ID: p.ID, Unit: p.Unit}
			if !p.LeftOn.IsZero() {
				// LeftOn is the UTC midnight from which nothing they hold
				// works: their last day of service is the day before
				// (noon, so that it is that day in London too).
				st.LeftAt = p.LeftOn.UTC().Truncate(24 * time.Hour).Add(-12 * time.Hour)
			}
			staff = append(staff, st)
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].ID
	}
	for id, l := range detect.DirectoryLists(staff) {
		if _, supplied := lists[id]; !supplied {
			lists[id] = l
		}
	}
	return lists, nil
}

// openDetectors makes the detectors over the rules in force: one over the
// activity log, all its shards as one, and one over the oversight log.
func (n *Node) openDetectors(cfg Config, secret []byte) error {
	conf, err := loadConfidential(filepath.Join(cfg.DataDir, ConfidentialFile))
	if err != nil {
		return err
	}
	rules := &rulesInForce{store: n.Store, listsDir: filepath.Join(cfg.DataDir, ListsDir), conf: conf, now: cfg.Now}
	pseudonyms := alerts.NewPseudonymiser(secret)
	for _, name := range []string{Activity, Oversight} {
		d := &alerts.Detector{Log: name, Store: n.Store, Opener: n.Opener, Pseudonyms: pseudonyms,
			Rules: rules, Now: cfg.Now, Logger: cfg.Logger, OpenContent: conf != nil && len(conf.Config().Markers) > 0}
		if name == Oversight {
			d.RequestSubjects = n.requestSubjects
		} else {
			// Every shard as one stream: a person's events are
			// spread over the nodes that took them.
			d.Shards = n.activityLogs
		}
		n.Detectors = append(n.Detectors, d)
	}
	return nil
}

// requestSubjects is whom request id is about, for the rules over the
// oversight log; none for an id no request has.
func (n *Node) requestSubjects(ctx context.Context, id string) ([]string, error) {
	r, err := n.Store.RequestByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return r.Subjects, err
}
