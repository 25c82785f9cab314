package oversight

import (
	"cmp"
	"encoding/csv"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
)

// UnknownUnit is the unit of a person the Unit function cannot place.
const UnknownUnit = "Unknown unit"

// AllUnits is the Unit of every section's Total.
const AllUnits = "All units"

// Outcomes of an urgent authorisation, at Now.
const (
	UrgentRatified = "ratified" // ratified before RatifyBy
	UrgentLapsed   = "lapsed"   // not ratified in time
	UrgentEnded    = "ended"    // cancelled or expired before it needed ratifying
	UrgentPending  = "pending"  // in force, awaiting ratification
)

// ReportInput is what [BuildReport] counts, read from the store by the
// caller. Records outside [From, To) may be included: BuildReport
// selects by time itself.
type ReportInput struct {
	From, To time.Time // the period, From inclusive, To exclusive
	// Now is when the report is made: requests are ticked to it, and
	// outcomes and overdue reviews are as at it.
	Now      time.Time
	Requests []requests.Request
	// Unit returns a person's unit, "" when unknown ([UnknownUnit]).
	// Nil puts everyone in UnknownUnit.
	Unit       func(personID string) string
	Accesses   []review.AccessRecord // access records and refused attempts
	Alerts     []AlertFact
	Notice     NoticeCoverage
	BreakGlass []BreakGlassAction
}

// AlertFact is what the report needs of an alert (internal/alerts):
// never who it is about.
type AlertFact struct {
	Rule     string    `json:"rule"`
	Severity string    `json:"severity"` // low, medium, high or critical
	State    string    `json:"state"`    // its state at Now
	Created  time.Time `json:"created"`
	Unit     string    `json:"unit"` // "" when unknown
}

// NoticeCoverage is how many staff have acknowledged the notice in
// force, in total and by unit (unit → {staff, acknowledged}).
type NoticeCoverage struct {
	Staff        int
	Acknowledged int
	ByUnit       map[string][2]int
}

// BreakGlassAction is one change made offline through the CLI.
type BreakGlassAction struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
}

// Report is the oversight report of one period. Its JSON names are part
// of the public contract.
type Report struct {
	From            time.Time       `json:"from"`
	To              time.Time       `json:"to"`
	Now             time.Time       `json:"generated_at"`
	Units           []string        `json:"units"`
	Submissions     Submissions     `json:"submissions"`
	DecisionTimes   DecisionTimes   `json:"decision_times"`
	Urgent          Urgent          `json:"urgent"`
	Renewals        Renewals        `json:"renewals"`
	Reviews         Reviews         `json:"reviews"`
	Expiries        Expiries        `json:"expiries"`
	Accesses        Accesses        `json:"accesses"`
	RefusedAttempts RefusedAttempts `json:"refused_attempts"`
	Alerts          Alerts          `json:"alerts"`
	Notice          Notice          `json:"notice"`
	BreakGlass      BreakGlass      `json:"break_glass"`
}

// A Count is how many of something, by key.
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Submissions counts the requests submitted in the period.
type Submissions struct {
	Total  SubmissionCounts   `json:"total"`
	ByUnit []SubmissionCounts `json:"by_unit"`
}

// SubmissionCounts are one unit's submissions, by purpose, consent
// level, investigation type and outcome. Lists are sorted by key.
type SubmissionCounts struct {
	Unit            string  `json:"unit"`
	Submitted       int     `json:"submitted"`
	ByPurpose       []Count `json:"by_purpose"`
	ByLevel         []Count `json:"by_level"` // key: the consent level, "none" without a requirement
	ByInvestigation []Count `json:"by_investigation"`
	Authorised      int     `json:"authorised"`
	Refused         int     `json:"refused"`
	Withdrawn       int     `json:"withdrawn"`
	Pending         int     `json:"pending"`
}

// DecisionTimes is how long decisions made in the period took.
type DecisionTimes struct {
	Total  DecisionStats   `json:"total"`
	ByUnit []DecisionStats `json:"by_unit"`
}

// DecisionStats are one unit's decisions and the time from submission to
// decision, in whole seconds (0 when none).
type DecisionStats struct {
	Unit          string `json:"unit"`
	Decided       int    `json:"decided"`
	Authorised    int    `json:"authorised"`
	Refused       int    `json:"refused"`
	MedianSeconds int64  `json:"median_seconds"`
	P90Seconds    int64  `json:"p90_seconds"`
	MaxSeconds    int64  `json:"max_seconds"`
}

// Urgent lists the authorisations made on the urgent route in the
// period, oldest first, with their outcomes.
type Urgent struct {
	Total  UrgentCounts   `json:"total"`
	ByUnit []UrgentCounts `json:"by_unit"`
	Items  []UrgentItem   `json:"items"`
}

// UrgentCounts are one unit's urgent authorisations by outcome.
type UrgentCounts struct {
	Unit       string `json:"unit"`
	Authorised int    `json:"authorised"`
	Ratified   int    `json:"ratified"`
	Lapsed     int    `json:"lapsed"`
	Ended      int    `json:"ended"`
	Pending    int    `json:"pending"`
}

// UrgentItem is one urgent authorisation.
type UrgentItem struct {
	Request      string    `json:"request"`
	Reference    string    `json:"reference"`
	Unit         string    `json:"unit"`
	AuthorisedAt time.Time `json:"authorised_at"`
	RatifyBy     time.Time `json:"ratify_by,omitzero"`
	RatifiedAt   time.Time `json:"ratified_at,omitzero"`
	Outcome      string    `json:"outcome"` // UrgentRatified, UrgentLapsed, UrgentEnded or UrgentPending
}

// Renewals counts the renewals and cancellations in the period.
type Renewals struct {
	Total  RenewalCounts   `json:"total"`
	ByUnit []RenewalCounts `json:"by_unit"`
}

// RenewalCounts are one unit's renewals and cancellations.
type RenewalCounts struct {
	Unit          string `json:"unit"`
	Renewals      int    `json:"renewals"`
	Cancellations int    `json:"cancellations"`
}

// Reviews counts the reviews done in the period, on time and late, and
// lists the late ones and those overdue at Now.
type Reviews struct {
	Total   ReviewCounts   `json:"total"`
	ByUnit  []ReviewCounts `json:"by_unit"`
	Late    []ReviewItem   `json:"late"`
	Overdue []ReviewItem   `json:"overdue"`
}

// ReviewCounts are one unit's reviews.
type ReviewCounts struct {
	Unit    string `json:"unit"`
	Done    int    `json:"done"`
	OnTime  int    `json:"on_time"`
	Late    int    `json:"late"`
	Overdue int    `json:"overdue"`
}

// ReviewItem is a late review (At, when it was done) or an overdue one
// (Due, when it was due).
type ReviewItem struct {
	Request   string    `json:"request"`
	Reference string    `json:"reference"`
	Unit      string    `json:"unit"`
	At        time.Time `json:"at,omitzero"`
	Due       time.Time `json:"due,omitzero"`
}

// Expiries counts the authorisations that ran out in the period.
type Expiries struct {
	Total  ExpiryCounts   `json:"total"`
	ByUnit []ExpiryCounts `json:"by_unit"`
}

// ExpiryCounts are one unit's authorisations that expired, and urgent
// ones that lapsed unratified.
type ExpiryCounts struct {
	Unit    string `json:"unit"`
	Expired int    `json:"expired"`
	Lapsed  int    `json:"lapsed"`
}

// Accesses is how much each authorisation was used in the period.
type Accesses struct {
	Total  AccessStats   `json:"total"`
	ByUnit []AccessStats `json:"by_unit"`
	// ByAction counts the accesses by kind (review_query, review_live,
	// review_export, alert_reveal).
	ByAction []Count `json:"by_action"`
	// Top lists the ten most accessed authorisations, most first, ties by
	// reference.
	Top []AccessItem `json:"top"`
	// Unattributed counts accesses that name no request.
	Unattributed int `json:"unattributed"`
}

// AccessStats are one unit's authorisations and the distribution of
// accesses over them.
type AccessStats struct {
	Unit           string `json:"unit"`
	Authorisations int    `json:"authorisations"`
	Accesses       int    `json:"accesses"`
	Min            int    `json:"min"`
	Median         int    `json:"median"`
	Max            int    `json:"max"`
}

// AccessItem is one authorisation's accesses in the period.
type AccessItem struct {
	Request   string `json:"request"`
	Reference string `json:"reference"`
	Unit      string `json:"unit"`
	Accesses  int    `json:"accesses"`
}

// RefusedAttempts counts the refused attempts in the period, by the unit
// of the person who tried.
type RefusedAttempts struct {
	Total  RefusedCounts   `json:"total"`
	ByUnit []RefusedCounts `json:"by_unit"`
}

// RefusedCounts are one unit's refused attempts.
type RefusedCounts struct {
	Unit     string `json:"unit"`
	Attempts int    `json:"attempts"`
}

// Alerts counts the alerts raised in the period.
type Alerts struct {
	Total  AlertCounts   `json:"total"`
	ByUnit []AlertCounts `json:"by_unit"`
}

// AlertCounts are one unit's alerts by state and severity (severities
// low to critical, then any other sorted).
type AlertCounts struct {
	Unit       string  `json:"unit"`
	Raised     int     `json:"raised"`
	ByState    []Count `json:"by_state"`
	BySeverity []Count `json:"by_severity"`
}

// Notice is the notice acknowledgement coverage.
type Notice struct {
	Total  NoticeCounts   `json:"total"`
	ByUnit []NoticeCounts `json:"by_unit"`
}

// NoticeCounts are one unit's staff and acknowledgements. Percent is
// Acknowledged/Staff as a percentage to one decimal, 0 without staff.
type NoticeCounts struct {
	Unit         string  `json:"unit"`
	Staff        int     `json:"staff"`
	Acknowledged int     `json:"acknowledged"`
	Percent      float64 `json:"percent"`
}

// BreakGlass lists the break-glass actions in the period.
type BreakGlass struct {
	Count   int                `json:"count"`
	Actions []BreakGlassAction `json:"actions"`
}

// BuildReport counts what happened in a period, [From, To), from plain
// data the caller has already read from the store: the requests, the
// access records, the alerts, the notice coverage and the break-glass
// actions. It does no I/O and never reads the clock: Now is an input.
//
// Every section has a Total and a ByUnit breakdown. A request belongs to
// its requester's unit, an access to the unit of the request it ran
// under, a refused attempt to the unit of the person who tried, and an
// alert to the unit the caller gives. ByUnit lists, sorted, only the
// units with something to count in that section, with [UnknownUnit]
// last; Report.Units is their union.
//
// Before counting, each request is brought to Now with [requests.Tick],
// so an authorisation whose expiry, ratification deadline or review date
// has passed counts as the machine would record it, whether or not the
// sweeper has run yet.
//
// The definitions:
//
//   - Submitted: the request's submit transition is in the period.
//   - Outcome of a submitted request, as it stands at Now (not at To):
//     authorised if it was ever authorised (AuthorisedAt set, or an
//     authorising decision), however it ended since; refused and
//     withdrawn by their states; pending otherwise (awaiting advice or
//     a decision).
//   - Time to decision: from the submit transition to the decision
//     transition, for decisions made in the period, whenever submitted.
//     Median and 90th percentile are nearest-rank: the smallest observed
//     value with at least half (nine tenths) of the values at or below
//     it, so each is a real observation and the median of an even count
//     is the lower middle one.
//   - Urgent: authorisations made on the urgent route in the period;
//     each one's outcome at Now is [UrgentRatified], [UrgentLapsed],
//     [UrgentEnded] (cancelled or expired before ratification was due)
//     or [UrgentPending].
//   - Renewals, cancellations, reviews, expiries and lapses: their
//     transitions in the period.
//   - A review is late when it was done in state review_due, that is,
//     after the machine had marked the review overdue ([requests.Tick]
//     does so at the due date itself); on time otherwise. Overdue are the
//     authorisations in state review_due at Now whose review date is
//     before To: the reviews still to be done.
//   - Accesses: access records ([review.AccessActions]) in the period,
//     per authorisation, over every authorisation in force at some time
//     in the period (including those never accessed, which count 0) and
//     any other request an access names. An access that names no request
//     is Unattributed.
//   - Refused attempts: [review.ActionRefused] records in the period.
//   - Alerts: alerts created in the period, counted by their state at
//     Now and by severity.
//   - Notice coverage: what the caller counted; Percent has one decimal.
//   - Break-glass: actions in the period, oldest first.
//
// The cost is linear in the records given, plus sorting.
func BuildReport(in ReportInput) Report {
	b := builder{in: in, byID: map[string]*requests.Request{}, seen: map[string]bool{}}
	rs := make([]requests.Request, len(in.Requests))
	for i, r := range in.Requests {
		rs[i], _ = requests.Tick(r, in.Now)
		b.byID[r.ID] = &rs[i]
	}
	rep := Report{From: in.From, To: in.To, Now: in.Now}

	var subs []unitRequest
	var decs []decision
	var urgent []UrgentItem
	var changes, ends []unitKind
	var reviews []reviewFact
	for _, r := range rs {
		unit := b.unit(r.Requester)
		submitted, submittedAt, _ := firstAt(r, requests.ActSubmit)
		if submitted && b.in.period(submittedAt) {
			subs = append(subs, unitRequest{unit, r})
		}
		if ok, at, t := firstAt(r, requests.ActDecision); ok && b.in.period(at) && submitted {
			decs = append(decs, decision{unit, at.Sub(submittedAt), t.To == requests.Active})
		}
		if item, ok := b.urgent(r, unit); ok {
			urgent = append(urgent, item)
		}
		for _, t := range r.History {
			if !b.in.period(t.At) {
				continue
			}
			switch t.Action {
			case requests.ActRenewal, requests.ActCancellation:
				changes = append(changes, unitKind{unit, t.Action})
			case requests.ActExpiry, requests.ActLapse:
				ends = append(ends, unitKind{unit, t.Action})
			case requests.ActReview:
				reviews = append(reviews, reviewFact{late: t.From == requests.ReviewDue, item: ReviewItem{Request: r.ID, Reference: r.Reference, Unit: unit, At: t.At}})
			}
		}
		if r.State == requests.ReviewDue && r.ReviewDue.Before(in.To) {
			reviews = append(reviews, reviewFact{overdue: true, item: ReviewItem{Request: r.ID, Reference: r.Reference, Unit: unit, Due: r.ReviewDue}})
		}
	}

	rep.Submissions.Total, rep.Submissions.ByUnit = split(b.seen, subs, submissionCounts)
	rep.DecisionTimes.Total, rep.DecisionTimes.ByUnit = split(b.seen, decs, decisionStats)
	slices.SortStableFunc(urgent, func(a, b UrgentItem) int { return a.AuthorisedAt.Compare(b.AuthorisedAt) })
	rep.Urgent.Total, rep.Urgent.ByUnit = split(b.seen, urgent, urgentCounts)
	rep.Urgent.Items = nonNilSlice(urgent)
	rep.Renewals.Total, rep.Renewals.ByUnit = split(b.seen, changes, renewalCounts)
	rep.Reviews.Total, rep.Reviews.ByUnit = split(b.seen, reviews, reviewCounts)
	rep.Reviews.Late, rep.Reviews.Overdue = []ReviewItem{}, []ReviewItem{}
	for _, f := range reviews {
		switch {
		case f.overdue:
			rep.Reviews.Overdue = append(rep.Reviews.Overdue, f.item)
		case f.late:
			rep.Reviews.Late = append(rep.Reviews.Late, f.item)
		}
	}
	slices.SortStableFunc(rep.Reviews.Late, func(a, b ReviewItem) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(rep.Reviews.Overdue, func(a, b ReviewItem) int { return a.Due.Compare(b.Due) })
	rep.Expiries.Total, rep.Expiries.ByUnit = split(b.seen, ends, expiryCounts)
	rep.Accesses = b.accesses(rs)
	rep.RefusedAttempts = b.refused()
	rep.Alerts = b.alerts()
	rep.Notice = b.notice()
	rep.BreakGlass = b.breakGlass()

	rep.Units = sortUnits(nonNilSlice(slices.Collect(maps.Keys(b.seen))))
	return rep
}

// period reports whether t is in [From, To).
func (in ReportInput) period(t time.Time) bool {
	return !t.IsZero() && !t.Before(in.From) && t.Before(in.To)
}

type builder struct {
	in   ReportInput
	byID map[string]*requests.Request
	seen map[string]bool // the units counted
}

func (b builder) unit(person string) string {
	u := ""
	if b.in.Unit != nil && person != "" {
		u = strings.TrimSpace(b.in.Unit(person))
	}
	return orUnknown(u)
}

func orUnknown(u string) string {
	if u == "" {
		return UnknownUnit
	}
	return u
}

// firstAt returns r's first transition by action, and its time.
func firstAt(r requests.Request, action string) (bool, time.Time, requests.Transition) {
	for _, t := range r.History {
		if t.Action == action {
			return true, t.At, t
		}
	}
	return false, time.Time{}, requests.Transition{}
}

func has(r requests.Request, action string) bool {
	ok, _, _ := firstAt(r, action)
	return ok
}

type unitRequest struct {
	unit string
	r    requests.Request
}

func (f unitRequest) unitOf() string { return f.unit }

type decision struct {
	unit      string
	took      time.Duration
	authorise bool
}

func (f decision) unitOf() string { return f.unit }

type unitKind struct{ unit, kind string }

func (f unitKind) unitOf() string { return f.unit }

type reviewFact struct {
	late, overdue bool
	item          ReviewItem
}

func (f reviewFact) unitOf() string { return f.item.Unit }

func (f UrgentItem) unitOf() string { return f.Unit }

type unitFact interface{ unitOf() string }

// split counts facts in total (as AllUnits) and by unit, sorted, and
// adds their units to seen.
func split[F unitFact, R any](seen map[string]bool, facts []F, count func(unit string, fs []F) R) (R, []R) {
	groups := map[string][]F{}
	for _, f := range facts {
		groups[f.unitOf()] = append(groups[f.unitOf()], f)
		seen[f.unitOf()] = true
	}
	rows := []R{}
	for _, u := range sortUnits(slices.Collect(maps.Keys(groups))) {
		rows = append(rows, count(u, groups[u]))
	}
	return count(AllUnits, facts), rows
}

// sortUnits sorts units by name, UnknownUnit last.
func sortUnits(units []string) []string {
	unknown := func(u string) int {
		if u == UnknownUnit {
			return 1
		}
		return 0
	}
	slices.SortFunc(units, func(a, b string) int {
		return cmp.Or(cmp.Compare(unknown(a), unknown(b)), strings.Compare(a, b))
	})
	return units
}

func submissionCounts(unit string, fs []unitRequest) SubmissionCounts {
	c := SubmissionCounts{Unit: unit, Submitted: len(fs)}
	purpose, level, inv := tally{}, tally{}, tally{}
	for _, f := range fs {
		r := f.r
		purpose[r.Purpose]++
		inv[r.Investigation]++
		if r.Requirement != nil {
			level[strconv.Itoa(r.Requirement.Level)]++
		} else {
			level["none"]++
		}
		switch {
		case authorised(r):
			c.Authorised++
		case r.State == requests.Refused:
			c.Refused++
		case r.State == requests.Withdrawn:
			c.Withdrawn++
		default:
			c.Pending++
		}
	}
	c.ByPurpose, c.ByLevel, c.ByInvestigation = purpose.list(naturalOrder), level.list(naturalOrder), inv.list(naturalOrder)
	return c
}

// authorised reports whether r was ever authorised.
func authorised(r requests.Request) bool {
	return !r.AuthorisedAt.IsZero() || slices.ContainsFunc(r.Decisions, func(d requests.Decision) bool { return d.Authorise })
}

func decisionStats(unit string, fs []decision) DecisionStats {
	c := DecisionStats{Unit: unit, Decided: len(fs)}
	var secs []int64
	for _, f := range fs {
		if f.authorise {
			c.Authorised++
		} else {
			c.Refused++
		}
		secs = append(secs, int64(f.took/time.Second))
	}
	slices.Sort(secs)
	c.MedianSeconds, c.P90Seconds = nearestRank(secs, 50), nearestRank(secs, 90)
	if len(secs) > 0 {
		c.MaxSeconds = secs[len(secs)-1]
	}
	return c
}

// nearestRank returns the pct-th percentile of sorted xs by the
// nearest-rank method: xs[ceil(pct/100·n)-1]; 0 for none.
func nearestRank[T int | int64](xs []T, pct int) T {
	if len(xs) == 0 {
		return 0
	}
	rank := (pct*len(xs) + 99) / 100
	return xs[max(rank, 1)-1]
}

// urgent returns r's urgent authorisation, if it was made in the period.
func (b builder) urgent(r requests.Request, unit string) (UrgentItem, bool) {
	route := !r.RatifyBy.IsZero() || slices.ContainsFunc(r.Decisions, func(d requests.Decision) bool { return d.Authorise && d.UrgentRoute })
	if !route || !b.in.period(r.AuthorisedAt) {
		return UrgentItem{}, false
	}
	item := UrgentItem{Request: r.ID, Reference: r.Reference, Unit: unit, AuthorisedAt: r.AuthorisedAt, RatifyBy: r.RatifyBy, RatifiedAt: r.RatifiedAt}
	switch {
	case !r.RatifiedAt.IsZero():
		item.Outcome = UrgentRatified
	case has(r, requests.ActLapse):
		item.Outcome = UrgentLapsed
	case has(r, requests.ActCancellation) || has(r, requests.ActExpiry):
		item.Outcome = UrgentEnded
	default:
		item.Outcome = UrgentPending
	}
	return item, true
}

func urgentCounts(unit string, fs []UrgentItem) UrgentCounts {
	c := UrgentCounts{Unit: unit, Authorised: len(fs)}
	for _, f := range fs {
		switch f.Outcome {
		case UrgentRatified:
			c.Ratified++
		case UrgentLapsed:
			c.Lapsed++
		case UrgentEnded:
			c.Ended++
		default:
			c.Pending++
		}
	}
	return c
}

func renewalCounts(unit string, fs []unitKind) RenewalCounts {
	c := RenewalCounts{Unit: unit}
	for _, f := range fs {
		if f.kind == requests.ActRenewal {
			c.Renewals++
		} else {
			c.Cancellations++
		}
	}
	return c
}

func expiryCounts(unit string, fs []unitKind) ExpiryCounts {
	c := ExpiryCounts{Unit: unit}
	for _, f := range fs {
		if f.kind == requests.ActLapse {
			c.Lapsed++
		} else {
			c.Expired++
		}
	}
	return c
}

func reviewCounts(unit string, fs []reviewFact) ReviewCounts {
	c := ReviewCounts{Unit: unit}
	for _, f := range fs {
		switch {
		case f.overdue:
			c.Overdue++
		case f.late:
			c.Done++
			c.Late++
		default:
			c.Done++
			c.OnTime++
		}
	}
	return c
}

// MaxTopAccessed is how many authorisations Accesses.Top lists.
const MaxTopAccessed = 10

func (b builder) accesses(rs []requests.Request) Accesses {
	a := Accesses{Top: []AccessItem{}}
	items := map[string]*AccessItem{}
	item := func(id, ref string) *AccessItem {
		if it, ok := items[id]; ok {
			return it
		}
		it := &AccessItem{Request: id, Reference: ref, Unit: UnknownUnit}
		if r := b.byID[id]; r != nil {
			it.Reference, it.Unit = r.Reference, b.unit(r.Requester)
		}
		items[id] = it
		return it
	}
	for _, r := range rs {
		if !r.AuthorisedAt.IsZero() && r.AuthorisedAt.Before(b.in.To) && (r.EndedAt.IsZero() || r.EndedAt.After(b.in.From)) {
			item(r.ID, r.Reference)
		}
	}
	byAction := tally{}
	for _, rec := range b.in.Accesses {
		if !slices.Contains(review.AccessActions, rec.Action) || !b.in.period(rec.Time) {
			continue
		}
		byAction[rec.Action]++
		if rec.Request == "" {
			a.Unattributed++
			continue
		}
		item(rec.Request, rec.Reference).Accesses++
	}
	a.ByAction = byAction.list(naturalOrder)
	var all []accessFact
	for _, it := range items {
		all = append(all, accessFact(*it))
	}
	a.Total, a.ByUnit = split(b.seen, all, accessStats)
	slices.SortFunc(all, func(x, y accessFact) int {
		return cmp.Or(cmp.Compare(y.Accesses, x.Accesses), strings.Compare(x.Reference, y.Reference), strings.Compare(x.Request, y.Request))
	})
	for _, f := range all[:min(len(all), MaxTopAccessed)] {
		a.Top = append(a.Top, AccessItem(f))
	}
	return a
}

type accessFact AccessItem

func (f accessFact) unitOf() string { return f.Unit }

func accessStats(unit string, fs []accessFact) AccessStats {
	c := AccessStats{Unit: unit, Authorisations: len(fs)}
	var ns []int
	for _, f := range fs {
		c.Accesses += f.Accesses
		ns = append(ns, f.Accesses)
	}
	slices.Sort(ns)
	if len(ns) > 0 {
		c.Min, c.Max = ns[0], ns[len(ns)-1]
	}
	c.Median = nearestRank(ns, 50)
	return c
}

type unitName string

func (u unitName) unitOf() string { return string(u) }

func (b builder) refused() RefusedAttempts {
	var fs []unitName
	for _, rec := range b.in.Accesses {
		if rec.Action == review.ActionRefused && b.in.period(rec.Time) {
			fs = append(fs, unitName(b.unit(rec.Actor)))
		}
	}
	var a RefusedAttempts
	a.Total, a.ByUnit = split(b.seen, fs, func(unit string, fs []unitName) RefusedCounts { return RefusedCounts{unit, len(fs)} })
	return a
}

type alertFact AlertFact

func (f alertFact) unitOf() string { return f.Unit }

func (b builder) alerts() Alerts {
	var fs []alertFact
	for _, al := range b.in.Alerts {
		if b.in.period(al.Created) {
			al.Unit = orUnknown(strings.TrimSpace(al.Unit))
			fs = append(fs, alertFact(al))
		}
	}
	var a Alerts
	a.Total, a.ByUnit = split(b.seen, fs, func(unit string, fs []alertFact) AlertCounts {
		state, sev := tally{}, tally{}
		for _, f := range fs {
			state[f.State]++
			sev[f.Severity]++
		}
		return AlertCounts{Unit: unit, Raised: len(fs), ByState: state.list(naturalOrder), BySeverity: sev.list(severityOrder)}
	})
	return a
}

func (b builder) notice() Notice {
	n := b.in.Notice
	by := map[string][2]int{}
	for u, c := range n.ByUnit {
		u = orUnknown(strings.TrimSpace(u))
		by[u] = [2]int{by[u][0] + c[0], by[u][1] + c[1]}
		b.seen[u] = true
	}
	out := Notice{Total: noticeCounts(AllUnits, n.Staff, n.Acknowledged), ByUnit: []NoticeCounts{}}
	for _, u := range sortUnits(slices.Collect(maps.Keys(by))) {
		out.ByUnit = append(out.ByUnit, noticeCounts(u, by[u][0], by[u][1]))
	}
	return out
}

func noticeCounts(unit string, staff, ack int) NoticeCounts {
	c := NoticeCounts{Unit: unit, Staff: staff, Acknowledged: ack}
	if staff > 0 {
		c.Percent = math.Round(1000*float64(ack)/float64(staff)) / 10
	}
	return c
}

func (b builder) breakGlass() BreakGlass {
	out := BreakGlass{Actions: []BreakGlassAction{}}
	for _, a := range b.in.BreakGlass {
		if b.in.period(a.At) {
			out.Actions = append(out.Actions, a)
		}
	}
	slices.SortStableFunc(out.Actions, func(x, y BreakGlassAction) int {
		return cmp.Or(x.At.Compare(y.At), strings.Compare(x.Actor, y.Actor))
	})
	out.Count = len(out.Actions)
	return out
}

// tally counts by key.
type tally map[string]int

// list returns the counts sorted by order; the empty key is "none".
func (t tally) list(order func(a, b string) int) []Count {
	merged := map[string]int{}
	for k, n := range t {
		if k == "" {
			k = "none"
		}
		merged[k] += n
	}
	out := []Count{}
	for k, n := range merged {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int { return order(a.Key, b.Key) })
	return out
}

// naturalOrder sorts numbers numerically before other keys, which sort
// by string.
func naturalOrder(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(x, y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

var severities = []string{"low", "medium", "high", "critical"}

// severityOrder sorts the known severities low to critical, then others.
func severityOrder(a, b string) int {
	rank := func(s string) int {
		if i := slices.Index(severities, s); i >= 0 {
			return i
		}
		return len(severities)
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// reportCSVHeader is the report's CSV columns.
var reportCSVHeader = []string{"section", "unit", "measure", "value"}

// WriteReportCSV writes r as tidy CSV: one row per number, with columns
// section, unit (AllUnits for a total), measure and value. A breakdown's
// measure is "name:key" (e.g. "purpose:ESTABLISH_FACTS"); a listed item's
// is "name:reference", with the item's number or time as the value.
// Times are RFC 3339 in UTC, and a cell a spreadsheet would read as a
// formula is prefixed with "'".
func WriteReportCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reportCSVHeader); err != nil {
		return err
	}
	var err error
	put := func(section, unit, measure, value string) {
		if err == nil {
			err = cw.Write([]string{cell(section), cell(unit), cell(measure), cell(value)})
		}
	}
	num := func(section, unit, measure string, n int) { put(section, unit, measure, strconv.Itoa(n)) }
	counts := func(section, unit, name string, cs []Count) {
		for _, c := range cs {
			num(section, unit, name+":"+c.Key, c.Count)
		}
	}
	put("period", AllUnits, "from", when(r.From))
	put("period", AllUnits, "to", when(r.To))
	put("period", AllUnits, "generated_at", when(r.Now))
	for _, c := range rowsOf(r.Submissions.Total, r.Submissions.ByUnit) {
		const s = "submissions"
		num(s, c.Unit, "submitted", c.Submitted)
		counts(s, c.Unit, "purpose", c.ByPurpose)
		counts(s, c.Unit, "level", c.ByLevel)
		counts(s, c.Unit, "investigation", c.ByInvestigation)
		num(s, c.Unit, "outcome:authorised", c.Authorised)
		num(s, c.Unit, "outcome:refused", c.Refused)
		num(s, c.Unit, "outcome:withdrawn", c.Withdrawn)
		num(s, c.Unit, "outcome:pending", c.Pending)
	}
	for _, c := range rowsOf(r.DecisionTimes.Total, r.DecisionTimes.ByUnit) {
		const s = "decision_times"
		num(s, c.Unit, "decided", c.Decided)
		num(s, c.Unit, "authorised", c.Authorised)
		num(s, c.Unit, "refused", c.Refused)
		put(s, c.Unit, "median_seconds", strconv.FormatInt(c.MedianSeconds, 10))
		put(s, c.Unit, "p90_seconds", strconv.FormatInt(c.P90Seconds, 10))
		put(s, c.Unit, "max_seconds", strconv.FormatInt(c.MaxSeconds, 10))
	}
	for _, c := range rowsOf(r.Urgent.Total, r.Urgent.ByUnit) {
		const s = "urgent"
		num(s, c.Unit, "authorised", c.Authorised)
		num(s, c.Unit, UrgentRatified, c.Ratified)
		num(s, c.Unit, UrgentLapsed, c.Lapsed)
		num(s, c.Unit, UrgentEnded, c.Ended)
		num(s, c.Unit, UrgentPending, c.Pending)
	}
	for _, it := range r.Urgent.Items {
		put("urgent", it.Unit, "outcome:"+it.Reference, it.Outcome)
	}
	for _, c := range rowsOf(r.Renewals.Total, r.Renewals.ByUnit) {
		num("renewals", c.Unit, "renewals", c.Renewals)
		num("renewals", c.Unit, "cancellations", c.Cancellations)
	}
	for _, c := range rowsOf(r.Reviews.Total, r.Reviews.ByUnit) {
		const s = "reviews"
		num(s, c.Unit, "done", c.Done)
		num(s, c.Unit, "on_time", c.OnTime)
		num(s, c.Unit, "late", c.Late)
		num(s, c.Unit, "overdue", c.Overdue)
	}
	for _, it := range r.Reviews.Late {
		put("reviews", it.Unit, "late:"+it.Reference, when(it.At))
	}
	for _, it := range r.Reviews.Overdue {
		put("reviews", it.Unit, "overdue:"+it.Reference, when(it.Due))
	}
	for _, c := range rowsOf(r.Expiries.Total, r.Expiries.ByUnit) {
		num("expiries", c.Unit, "expired", c.Expired)
		num("expiries", c.Unit, "lapsed", c.Lapsed)
	}
	for _, c := range rowsOf(r.Accesses.Total, r.Accesses.ByUnit) {
		const s = "accesses"
		num(s, c.Unit, "authorisations", c.Authorisations)
		num(s, c.Unit, "accesses", c.Accesses)
		num(s, c.Unit, "min", c.Min)
		num(s, c.Unit, "median", c.Median)
		num(s, c.Unit, "max", c.Max)
	}
	counts("accesses", AllUnits, "action", r.Accesses.ByAction)
	num("accesses", AllUnits, "unattributed", r.Accesses.Unattributed)
	for _, it := range r.Accesses.Top {
		num("accesses", it.Unit, "top:"+it.Reference, it.Accesses)
	}
	for _, c := range rowsOf(r.RefusedAttempts.Total, r.RefusedAttempts.ByUnit) {
		num("refused_attempts", c.Unit, "attempts", c.Attempts)
	}
	for _, c := range rowsOf(r.Alerts.Total, r.Alerts.ByUnit) {
		num("alerts", c.Unit, "raised", c.Raised)
		counts("alerts", c.Unit, "state", c.ByState)
		counts("alerts", c.Unit, "severity", c.BySeverity)
	}
	for _, c := range rowsOf(r.Notice.Total, r.Notice.ByUnit) {
		num("notice", c.Unit, "staff", c.Staff)
		num("notice", c.Unit, "acknowledged", c.Acknowledged)
		put("notice", c.Unit, "percent", strconv.FormatFloat(c.Percent, 'f', 1, 64))
	}
	num("break_glass", AllUnits, "actions", r.BreakGlass.Count)
	for _, a := range r.BreakGlass.Actions {
		put("break_glass", AllUnits, "action:"+when(a.At), a.Actor+": "+a.Action)
	}
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func rowsOf[R any](total R, byUnit []R) []R {
	return append([]R{total}, byUnit...)
}
