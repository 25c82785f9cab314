package oversight

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
)

// nov is hour h of day d of November 2026 (day 0 is 31 October, day 31
// is 1 December).
func nov(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }

var (
	from = nov(1, 0)  // the period is November 2026
	to   = nov(31, 0) // 1 December, exclusive
	now  = nov(31, 12)
)

func tr(action string, f, t requests.State, at time.Time) requests.Transition {
	return requests.Transition{Action: action, From: f, To: t, At: at, Actor: "someone"}
}

func level(n int) *consent.Requirement {
	return &consent.Requirement{Level: n, MinRank: "superintendent", ReviewInterval: 7 * 24 * time.Hour}
}

// fixture is the hand-built scenario of TestBuildReport. Units: ivy and
// ian are in North, sol in South; zed and mallory are unknown.
//
//	REF-1  North  submitted 2d9, authorised 3d9, reviewed 9d9 (on time),
//	              renewed 15d9, review due 22d9 not done (overdue at now)
//	REF-2  North  submitted 4d9, urgent 4d15, ratified 5d10, review due
//	              11d15, reviewed 12d9 (late), cancelled 15d9
//	REF-3  South  submitted 6d8, urgent 6d10, never ratified: lapses at
//	              9d10, which only Tick records
//	REF-4  South  submitted 8d9, refused 10d9
//	REF-5  North  submitted 12d9, withdrawn 13d9
//	REF-6  ?      submitted 25d9, pending
//	REF-7  South  submitted and authorised in October, reviewed in
//	              October, expired 18d0
//	REF-8  North  submitted 28d9, urgent 29d9, ratify by 2 December:
//	              pending at now
//	REF-9  South  submitted at To: outside the period
//	REF-10 North  submitted at From: inside; refused 1d6
func fixture() ReportInput {
	const (
		draft, sub, act, due = requests.Draft, requests.Submitted, requests.Active, requests.ReviewDue
	)
	submit := func(at time.Time) requests.Transition { return tr(requests.ActSubmit, draft, sub, at) }
	rs := []requests.Request{
		{
			ID: "r1", Reference: "REF-1", Requester: "ivy", Purpose: "ESTABLISH_FACTS", Investigation: "misconduct",
			Requirement: level(2), State: act, AuthorisedAt: nov(3, 9), ExpiresAt: nov(60, 0), ReviewDue: nov(22, 9),
			Decisions: []requests.Decision{{Authorise: true, At: nov(3, 9)}},
			History: []requests.Transition{submit(nov(2, 9)), tr(requests.ActDecision, sub, act, nov(3, 9)),
				tr(requests.ActReview, act, act, nov(9, 9)), tr(requests.ActRenewal, act, act, nov(15, 9))},
		},
		{
			ID: "r2", Reference: "REF-2", Requester: "ivy", Purpose: "PREVENT_DETECT_CRIME", Investigation: "criminal",
			Requirement: level(3), State: requests.Cancelled, AuthorisedAt: nov(4, 15), ExpiresAt: nov(70, 0),
			RatifyBy: nov(7, 15), RatifiedAt: nov(5, 10), EndedAt: nov(15, 9),
			Decisions: []requests.Decision{{Authorise: true, UrgentRoute: true, At: nov(4, 15)}},
			History: []requests.Transition{submit(nov(4, 9)), tr(requests.ActDecision, sub, act, nov(4, 15)),
				tr(requests.ActRatification, act, act, nov(5, 10)), tr(requests.ActReviewDue, act, due, nov(11, 15)),
				tr(requests.ActReview, due, act, nov(12, 9)), tr(requests.ActCancellation, act, requests.Cancelled, nov(15, 9))},
		},
		{
			ID: "r3", Reference: "REF-3", Requester: "sol", Purpose: "ESTABLISH_FACTS", Investigation: "criminal",
			Requirement: level(3), State: act, AuthorisedAt: nov(6, 10), ExpiresAt: nov(9, 10), RatifyBy: nov(9, 10),
			Decisions: []requests.Decision{{Authorise: true, UrgentRoute: true, At: nov(6, 10)}},
			History:   []requests.Transition{submit(nov(6, 8)), tr(requests.ActDecision, sub, act, nov(6, 10))},
		},
		{
			ID: "r4", Reference: "REF-4", Requester: "sol", Purpose: "STANDARDS", Investigation: "misconduct",
			Requirement: level(1), State: requests.Refused, Decisions: []requests.Decision{{At: nov(10, 9)}},
			History: []requests.Transition{submit(nov(8, 9)), tr(requests.ActDecision, sub, requests.Refused, nov(10, 9))},
		},
		{
			ID: "r5", Reference: "REF-5", Requester: "ian", Purpose: "ESTABLISH_FACTS", Investigation: "misconduct",
			Requirement: level(2), State: requests.Withdrawn,
			History: []requests.Transition{submit(nov(12, 9)), tr(requests.ActWithdrawal, sub, requests.Withdrawn, nov(13, 9))},
		},
		{
			ID: "r6", Reference: "REF-6", Requester: "zed", Purpose: "UNAUTHORISED_USE", Investigation: "misconduct",
			Requirement: level(1), State: sub, History: []requests.Transition{submit(nov(25, 9))},
		},
		{
			ID: "r7", Reference: "REF-7", Requester: "sol", Purpose: "ESTABLISH_FACTS", Investigation: "misconduct",
			Requirement: level(2), State: requests.Expired, AuthorisedAt: nov(-10, 9), ExpiresAt: nov(18, 0), EndedAt: nov(18, 0),
			Decisions: []requests.Decision{{Authorise: true, At: nov(-10, 9)}},
			History: []requests.Transition{submit(nov(-11, 9)), tr(requests.ActDecision, sub, act, nov(-10, 9)),
				tr(requests.ActReview, act, act, nov(-3, 9)), tr(requests.ActExpiry, act, requests.Expired, nov(18, 0))},
		},
		{
			ID: "r8", Reference: "REF-8", Requester: "ivy", Purpose: "PREVENT_DETECT_CRIME", Investigation: "criminal",
			Requirement: level(3), State: act, AuthorisedAt: nov(29, 9), ExpiresAt: nov(32, 9), RatifyBy: nov(32, 9),
			ReviewDue: nov(36, 9), Decisions: []requests.Decision{{Authorise: true, UrgentRoute: true, At: nov(29, 9)}},
			History: []requests.Transition{submit(nov(28, 9)), tr(requests.ActDecision, sub, act, nov(29, 9))},
		},
		{
			ID: "r9", Reference: "REF-9", Requester: "sol", Purpose: "STANDARDS", Investigation: "misconduct",
			Requirement: level(1), State: sub, History: []requests.Transition{submit(to)},
		},
		{
			ID: "r10", Reference: "REF-10", Requester: "ian", Purpose: "STANDARDS", Investigation: "misconduct",
			Requirement: level(1), State: requests.Refused, Decisions: []requests.Decision{{At: nov(1, 6)}},
			History: []requests.Transition{submit(from), tr(requests.ActDecision, sub, requests.Refused, nov(1, 6))},
		},
	}
	acc := func(action, req string, at time.Time, actor string) review.AccessRecord {
		return review.AccessRecord{Action: action, Request: req, Time: at, Actor: actor}
	}
	q, ex, live, reveal, refused := review.ActionQuery, review.ActionExport, review.ActionLive, review.ActionReveal, review.ActionRefused
	accesses := []review.AccessRecord{
		acc(q, "r1", nov(3, 10), "ivy"), acc(q, "r1", nov(4, 10), "ivy"), acc(q, "r1", nov(5, 10), "ivy"),
		acc(q, "r1", nov(6, 10), "ivy"), acc(q, "r1", nov(7, 10), "ivy"), acc(ex, "r1", nov(8, 10), "ivy"),
		acc(q, "r1", nov(0, 10), "ivy"), // before From
		acc(q, "r1", to, "ivy"),         // at To
		acc(q, "r2", nov(4, 16), "ivy"), acc(q, "r2", nov(5, 9), "ivy"), acc(q, "r2", nov(6, 9), "ivy"),
		acc(reveal, "r2", nov(6, 10), "ivy"),
		acc(q, "r3", nov(7, 9), "sol"), acc(q, "r3", nov(8, 9), "sol"),
		acc(live, "r7", nov(5, 12), "sol"), acc(q, "r7", nov(-5, 9), "sol"),
		acc(q, "", nov(10, 0), "ivy"), // names no request
		{Action: q, Request: "rX", Reference: "REF-X", Time: nov(11, 0), Actor: "mallory"},
		acc(refused, "r1", nov(7, 0), "sol"), acc(refused, "r3", nov(8, 0), "ivy"), acc(refused, "", nov(9, 0), "mallory"),
		acc(refused, "r1", from.Add(-time.Second), "sol"), acc(refused, "r1", to, "ivy"),
	}
	alerts := []AlertFact{
		{Rule: "a", Severity: "high", State: "new", Created: nov(3, 0), Unit: "North"},
		{Rule: "b", Severity: "medium", State: "dismissed", Created: nov(9, 0), Unit: "North"},
		{Rule: "c", Severity: "high", State: "referred", Created: nov(16, 0), Unit: "South"},
		{Rule: "d", Severity: "low", State: "closed", Created: nov(22, 0), Unit: ""},
		{Rule: "e", Severity: "critical", State: "new", Created: nov(-1, 0), Unit: "South"},
		{Rule: "f", Severity: "high", State: "triage", Created: to, Unit: "South"},
	}
	units := map[string]string{"ivy": "North", "ian": "North", "sol": "South"}
	return ReportInput{
		From: from, To: to, Now: now, Requests: rs, Unit: func(id string) string { return units[id] },
		Accesses: accesses, Alerts: alerts,
		Notice: NoticeCoverage{Staff: 10, Acknowledged: 7, ByUnit: map[string][2]int{"North": {6, 5}, "South": {3, 1}, "": {1, 1}}},
		BreakGlass: []BreakGlassAction{
			{At: nov(14, 3), Actor: "root", Action: "user add"},
			{At: from, Actor: "root", Action: "policy set"},
			{At: to, Actor: "root", Action: "user remove"},
		},
	}
}

// TestBuildReport checks the report of the fixture against counts made by
// hand from the timeline in fixture's comment.
func TestBuildReport(t *testing.T) {
	r := BuildReport(fixture())
	const north, south, unknown = "North", "South", UnknownUnit
	const day = 86400
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"units", r.Units, []string{north, south, unknown}},
		{"submissions total", r.Submissions.Total, SubmissionCounts{
			Unit: AllUnits, Submitted: 8,
			ByPurpose:       []Count{{"ESTABLISH_FACTS", 3}, {"PREVENT_DETECT_CRIME", 2}, {"STANDARDS", 2}, {"UNAUTHORISED_USE", 1}},
			ByLevel:         []Count{{"1", 3}, {"2", 2}, {"3", 3}},
			ByInvestigation: []Count{{"criminal", 3}, {"misconduct", 5}},
			Authorised:      4, Refused: 2, Withdrawn: 1, Pending: 1,
		}},
		{"submissions by unit", r.Submissions.ByUnit, []SubmissionCounts{
			{Unit: north, Submitted: 5,
				ByPurpose:       []Count{{"ESTABLISH_FACTS", 2}, {"PREVENT_DETECT_CRIME", 2}, {"STANDARDS", 1}},
				ByLevel:         []Count{{"1", 1}, {"2", 2}, {"3", 2}},
				ByInvestigation: []Count{{"criminal", 2}, {"misconduct", 3}},
				Authorised:      3, Refused: 1, Withdrawn: 1},
			{Unit: south, Submitted: 2,
				ByPurpose:       []Count{{"ESTABLISH_FACTS", 1}, {"STANDARDS", 1}},
				ByLevel:         []Count{{"1", 1}, {"3", 1}},
				ByInvestigation: []Count{{"criminal", 1}, {"misconduct", 1}},
				Authorised:      1, Refused: 1},
			{Unit: unknown, Submitted: 1,
				ByPurpose: []Count{{"UNAUTHORISED_USE", 1}}, ByLevel: []Count{{"1", 1}},
				ByInvestigation: []Count{{"misconduct", 1}}, Pending: 1},
		}},
		{"decision times total", r.DecisionTimes.Total, DecisionStats{
			Unit: AllUnits, Decided: 6, Authorised: 4, Refused: 2,
			MedianSeconds: 6 * 3600, P90Seconds: 2 * day, MaxSeconds: 2 * day,
		}},
		{"decision times by unit", r.DecisionTimes.ByUnit, []DecisionStats{
			{Unit: north, Decided: 4, Authorised: 3, Refused: 1, MedianSeconds: 6 * 3600, P90Seconds: day, MaxSeconds: day},
			{Unit: south, Decided: 2, Authorised: 1, Refused: 1, MedianSeconds: 2 * 3600, P90Seconds: 2 * day, MaxSeconds: 2 * day},
		}},
		{"urgent total", r.Urgent.Total, UrgentCounts{Unit: AllUnits, Authorised: 3, Ratified: 1, Lapsed: 1, Pending: 1}},
		{"urgent by unit", r.Urgent.ByUnit, []UrgentCounts{
			{Unit: north, Authorised: 2, Ratified: 1, Pending: 1},
			{Unit: south, Authorised: 1, Lapsed: 1},
		}},
		{"urgent items", r.Urgent.Items, []UrgentItem{
			{Request: "r2", Reference: "REF-2", Unit: north, AuthorisedAt: nov(4, 15), RatifyBy: nov(7, 15), RatifiedAt: nov(5, 10), Outcome: UrgentRatified},
			{Request: "r3", Reference: "REF-3", Unit: south, AuthorisedAt: nov(6, 10), RatifyBy: nov(9, 10), Outcome: UrgentLapsed},
			{Request: "r8", Reference: "REF-8", Unit: north, AuthorisedAt: nov(29, 9), RatifyBy: nov(32, 9), Outcome: UrgentPending},
		}},
		{"renewals", r.Renewals, Renewals{
			Total:  RenewalCounts{Unit: AllUnits, Renewals: 1, Cancellations: 1},
			ByUnit: []RenewalCounts{{Unit: north, Renewals: 1, Cancellations: 1}},
		}},
		{"reviews", r.Reviews, Reviews{
			Total:   ReviewCounts{Unit: AllUnits, Done: 2, OnTime: 1, Late: 1, Overdue: 1},
			ByUnit:  []ReviewCounts{{Unit: north, Done: 2, OnTime: 1, Late: 1, Overdue: 1}},
			Late:    []ReviewItem{{Request: "r2", Reference: "REF-2", Unit: north, At: nov(12, 9)}},
			Overdue: []ReviewItem{{Request: "r1", Reference: "REF-1", Unit: north, Due: nov(22, 9)}},
		}},
		{"expiries", r.Expiries, Expiries{
			Total:  ExpiryCounts{Unit: AllUnits, Expired: 1, Lapsed: 1},
			ByUnit: []ExpiryCounts{{Unit: south, Expired: 1, Lapsed: 1}},
		}},
		{"accesses", r.Accesses, Accesses{
			Total: AccessStats{Unit: AllUnits, Authorisations: 6, Accesses: 14, Min: 0, Median: 1, Max: 6},
			ByUnit: []AccessStats{
				{Unit: north, Authorisations: 3, Accesses: 10, Min: 0, Median: 4, Max: 6},
				{Unit: south, Authorisations: 2, Accesses: 3, Min: 1, Median: 1, Max: 2},
				{Unit: unknown, Authorisations: 1, Accesses: 1, Min: 1, Median: 1, Max: 1},
			},
			ByAction: []Count{{"alert_reveal", 1}, {"review_export", 1}, {"review_live", 1}, {"review_query", 12}},
			Top: []AccessItem{
				{"r1", "REF-1", north, 6}, {"r2", "REF-2", north, 4}, {"r3", "REF-3", south, 2},
				{"r7", "REF-7", south, 1}, {"rX", "REF-X", unknown, 1}, {"r8", "REF-8", north, 0},
			},
			Unattributed: 1,
		}},
		{"refused attempts", r.RefusedAttempts, RefusedAttempts{
			Total:  RefusedCounts{AllUnits, 3},
			ByUnit: []RefusedCounts{{north, 1}, {south, 1}, {unknown, 1}},
		}},
		{"alerts", r.Alerts, Alerts{
			Total: AlertCounts{Unit: AllUnits, Raised: 4,
				ByState:    []Count{{"closed", 1}, {"dismissed", 1}, {"new", 1}, {"referred", 1}},
				BySeverity: []Count{{"low", 1}, {"medium", 1}, {"high", 2}}},
			ByUnit: []AlertCounts{
				{Unit: north, Raised: 2, ByState: []Count{{"dismissed", 1}, {"new", 1}}, BySeverity: []Count{{"medium", 1}, {"high", 1}}},
				{Unit: south, Raised: 1, ByState: []Count{{"referred", 1}}, BySeverity: []Count{{"high", 1}}},
				{Unit: unknown, Raised: 1, ByState: []Count{{"closed", 1}}, BySeverity: []Count{{"low", 1}}},
			},
		}},
		{"notice", r.Notice, Notice{
			Total: NoticeCounts{AllUnits, 10, 7, 70},
			ByUnit: []NoticeCounts{
				{north, 6, 5, 83.3}, {south, 3, 1, 33.3}, {unknown, 1, 1, 100},
			},
		}},
		{"break-glass", r.BreakGlass, BreakGlass{Count: 2, Actions: []BreakGlassAction{
			{At: from, Actor: "root", Action: "policy set"},
			{At: nov(14, 3), Actor: "root", Action: "user add"},
		}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("BuildReport(fixture): %s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestBuildReportPure checks BuildReport leaves its input as it was,
// though it ticks the requests.
func TestBuildReportPure(t *testing.T) {
	in := fixture()
	before, _ := json.Marshal(in.Requests)
	BuildReport(in)
	after, _ := json.Marshal(in.Requests)
	if !bytes.Equal(before, after) {
		t.Errorf("BuildReport changed its input requests")
	}
}

func TestBuildReportEmpty(t *testing.T) {
	r := BuildReport(ReportInput{From: from, To: to, Now: now})
	want := Report{
		From: from, To: to, Now: now, Units: []string{},
		Submissions:     Submissions{Total: SubmissionCounts{Unit: AllUnits, ByPurpose: []Count{}, ByLevel: []Count{}, ByInvestigation: []Count{}}, ByUnit: []SubmissionCounts{}},
		DecisionTimes:   DecisionTimes{Total: DecisionStats{Unit: AllUnits}, ByUnit: []DecisionStats{}},
		Urgent:          Urgent{Total: UrgentCounts{Unit: AllUnits}, ByUnit: []UrgentCounts{}, Items: []UrgentItem{}},
		Renewals:        Renewals{Total: RenewalCounts{Unit: AllUnits}, ByUnit: []RenewalCounts{}},
		Reviews:         Reviews{Total: ReviewCounts{Unit: AllUnits}, ByUnit: []ReviewCounts{}, Late: []ReviewItem{}, Overdue: []ReviewItem{}},
		Expiries:        Expiries{Total: ExpiryCounts{Unit: AllUnits}, ByUnit: []ExpiryCounts{}},
		Accesses:        Accesses{Total: AccessStats{Unit: AllUnits}, ByUnit: []AccessStats{}, ByAction: []Count{}, Top: []AccessItem{}},
		RefusedAttempts: RefusedAttempts{Total: RefusedCounts{Unit: AllUnits}, ByUnit: []RefusedCounts{}},
		Alerts:          Alerts{Total: AlertCounts{Unit: AllUnits, ByState: []Count{}, BySeverity: []Count{}}, ByUnit: []AlertCounts{}},
		Notice:          Notice{Total: NoticeCounts{Unit: AllUnits}, ByUnit: []NoticeCounts{}},
		BreakGlass:      BreakGlass{Actions: []BreakGlassAction{}},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("BuildReport(empty) (-want +got):\n%s", diff)
	}
	// Every list is [] in JSON, never null, so a client can iterate.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("null")) {
		t.Errorf("json.Marshal(empty report) has a null: %s", b)
	}
}

// TestBuildReportPeriod moves the period over one request's life and
// checks each event is counted in the period that holds it, From
// inclusive and To exclusive.
func TestBuildReportPeriod(t *testing.T) {
	in := fixture()
	in.Requests = in.Requests[:1] // REF-1: submitted 2d9, decided 3d9, reviewed 9d9, renewed 15d9
	in.Accesses, in.Alerts, in.BreakGlass = nil, nil, nil
	tests := []struct {
		from, to                           time.Time
		submitted, decided, done, renewals int
	}{
		{nov(2, 9), nov(3, 9), 1, 0, 0, 0},
		{nov(2, 9).Add(time.Nanosecond), nov(3, 9).Add(time.Nanosecond), 0, 1, 0, 0},
		{nov(3, 10), nov(9, 9), 0, 0, 0, 0},
		{nov(9, 9), nov(15, 9), 0, 0, 1, 0},
		{nov(15, 9), nov(15, 10), 0, 0, 0, 1},
		{nov(-30, 0), nov(1, 0), 0, 0, 0, 0},
	}
	for _, tt := range tests {
		in.From, in.To = tt.from, tt.to
		r := BuildReport(in)
		got := []int{r.Submissions.Total.Submitted, r.DecisionTimes.Total.Decided, r.Reviews.Total.Done, r.Renewals.Total.Renewals}
		want := []int{tt.submitted, tt.decided, tt.done, tt.renewals}
		if !slices.Equal(got, want) {
			t.Errorf("BuildReport [%s, %s): submitted, decided, reviewed, renewed = %v, want %v", tt.from, tt.to, got, want)
		}
	}
}

func TestNearestRank(t *testing.T) {
	tests := []struct {
		xs       []int
		pct      int
		want     int
		wantDesc string
	}{
		{nil, 50, 0, "none"},
		{[]int{7}, 90, 7, "one"},
		{[]int{1, 2}, 50, 1, "even count: the lower middle"},
		{[]int{1, 2, 3}, 50, 2, "odd count: the middle"},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9, "ten: the ninth"},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90, 10, "eleven: ceil(9.9) = 10th"},
	}
	for _, tt := range tests {
		if got := nearestRank(tt.xs, tt.pct); got != tt.want {
			t.Errorf("nearestRank(%v, %d) = %d, want %d (%s)", tt.xs, tt.pct, got, tt.want, tt.wantDesc)
		}
	}
}

func TestWriteReportCSV(t *testing.T) {
	in := fixture()
	in.Unit = func(id string) string {
		if id == "sol" {
			return "=HYPERLINK(\"x\")"
		}
		return "North"
	}
	var buf bytes.Buffer
	if err := WriteReportCSV(&buf, BuildReport(in)); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV back: %v", err)
	}
	if !slices.Equal(recs[0], []string{"section", "unit", "measure", "value"}) {
		t.Errorf("header = %q", recs[0])
	}
	want := [][]string{
		{"period", AllUnits, "from", "2026-11-01T00:00:00Z"},
		{"submissions", AllUnits, "submitted", "8"},
		{"submissions", AllUnits, "purpose:ESTABLISH_FACTS", "3"},
		{"submissions", "North", "outcome:authorised", "3"},
		{"submissions", `'=HYPERLINK("x")`, "submitted", "2"},
		{"decision_times", AllUnits, "median_seconds", "21600"},
		{"urgent", "North", "outcome:REF-8", "pending"},
		{"reviews", "North", "overdue:REF-1", "2026-11-22T09:00:00Z"},
		{"accesses", "North", "top:REF-1", "6"},
		{"accesses", AllUnits, "action:review_query", "12"},
		{"notice", "North", "percent", "83.3"},
		{"break_glass", AllUnits, "actions", "2"},
		{"break_glass", AllUnits, "action:2026-11-14T03:00:00Z", "root: user add"},
	}
	for _, w := range want {
		if !slices.ContainsFunc(recs, func(r []string) bool { return slices.Equal(r, w) }) {
			t.Errorf("CSV has no row %q", w)
		}
	}
	for i, r := range recs {
		if len(r) != 4 {
			t.Errorf("row %d has %d columns: %q", i, len(r), r)
		}
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("row %d: cell %q would run as a formula", i, c)
			}
		}
	}
}

// TestReportJSONNames checks every exported field of the report has a
// snake_case JSON name: the JSON export is part of the public contract.
func TestReportJSONNames(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() != reflect.TypeFor[Report]().PkgPath() {
			return
		}
		seen[typ] = true
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name != strings.ToLower(name) || strings.ContainsAny(name, "- ") {
				t.Errorf("%s.%s: json name %q, want snake_case", typ.Name(), f.Name, name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Report]())
	walk(reflect.TypeFor[Chart]())
	walk(reflect.TypeFor[ChartRow]())
}
