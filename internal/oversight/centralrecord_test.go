package oversight

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/requests"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

func TestCentralRecordRow(t *testing.T) {
	base := requests.Request{
		ID: "r1", Reference: "ACAC-2026-0001", Requester: "ivy", Subjects: []string{"sam"}, Mode: "review",
		Investigation: "misconduct", Purpose: "PREVENT_DETECT_CRIME", Operation: requests.Operation{Name: "Lantern", Reference: "OP-77"},
		Urgent:       requests.Urgency{Urgent: true, Why: "risk tonight"},
		Confidential: requests.Confidential{Kinds: []string{"health"}, Explanation: "sick notes"},
		Requirement:  &consent.Requirement{Level: 2, MinRank: "superintendent", Advisers: []string{"legal"}},
	}
	submitted := []requests.Transition{{From: "draft", To: "submitted", Action: requests.ActSubmit, Actor: "ivy", At: at(1)}}
	tests := []struct {
		name  string
		edit  func(r *requests.Request)
		check func(t *testing.T, row Row)
	}{
		{"refused ends at its decision", func(r *requests.Request) {
			r.State = requests.Refused
			r.History = append(submitted, requests.Transition{Action: requests.ActDecision, To: requests.Refused, Actor: "sue", At: at(3)})
		}, func(t *testing.T, row Row) {
			if !row.EndedAt.Equal(at(3)) || !row.KeepUntil.Equal(at(3).Add(KeepFor)) || !row.GrantedAt.IsZero() || row.Authoriser != "" {
				t.Errorf("row = %+v", row)
			}
		}},
		{"urgent, ratified, renewed, reviewed, cancelled, closed", func(r *requests.Request) {
			r.State = requests.Closed
			r.AuthorisedBy, r.AuthoriserRank, r.AuthorisedAt, r.DirectlyInvolved = "ina", "inspector", at(2), true
			r.Decisions = []requests.Decision{{By: "ina", Authorise: true, UrgentRoute: true, At: at(2)}}
			r.RatifiedBy, r.RatifiedAt = "sue", at(20)
			r.Reviews = []requests.Review{{By: "sue", At: at(100)}}
			r.Renewals = []requests.Renewal{{By: "sue", At: at(200), Until: at(2000)}}
			r.EndedAt = at(300)
			r.Closure = &requests.Closure{Outcome: "found", Useful: false, Kept: "the bundle", At: at(400)}
			r.History = append(submitted,
				requests.Transition{Action: requests.ActDecision, To: requests.Active, At: at(2)},
				requests.Transition{Action: requests.ActCancellation, To: requests.Cancelled, At: at(300)},
				requests.Transition{Action: requests.ActClosure, To: requests.Closed, At: at(400)})
		}, func(t *testing.T, row Row) {
			if !row.UrgentRoute || !row.DirectlyInvolved || row.RatifiedBy != "sue" || len(row.Reviews) != 1 || len(row.Renewals) != 1 ||
				!row.CancelledAt.Equal(at(300)) || !row.ClosedAt.Equal(at(400)) || row.Useful == nil || *row.Useful ||
				row.AuthoriserName != "Name of ina" || !row.GrantedAt.Equal(at(2)) || !row.KeepUntil.Equal(at(300).Add(KeepFor)) {
				t.Errorf("row = %+v", row)
			}
		}},
		{"a draft keeps no end", func(r *requests.Request) { r.State = requests.Draft; r.Requirement = nil }, func(t *testing.T, row Row) {
			if !row.KeepUntil.IsZero() || row.MinRank != "" || row.Advisers == nil {
				t.Errorf("row = %+v", row)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			row := CentralRecordRow(r, func(id string) string { return "Name of " + id })
			if row.Reference != r.Reference || row.Operation != "Lantern (OP-77)" || row.UrgentWhy != "risk tonight" || row.Confidential[0] != "health" {
				t.Errorf("row lost the request's fields: %+v", row)
			}
			tt.check(t, row)
		})
	}
}

func TestCentralRecordCSV(t *testing.T) {
	row := CentralRecordRow(requests.Request{ID: "r1", Reference: "ACAC-2026-0001", Operation: requests.Operation{Name: "=HYPERLINK(\"x\")"},
		Subjects: []string{"sam", "tom"}}, nil)
	var b bytes.Buffer
	if err := WriteCentralRecordCSV(&b, []Row{row}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(recs[0]) != len(csvHeader) || len(recs[1]) != len(csvHeader) {
		t.Fatalf("CSV shape %d×%d", len(recs), len(recs[0]))
	}
	col := func(name string) string {
		for i, h := range recs[0] {
			if h == name {
				return recs[1][i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	if got := col("operation"); got != "'=HYPERLINK(\"x\")" {
		t.Errorf("formula cell = %q, want it defused", got)
	}
	if got := col("subjects"); got != "sam; tom" {
		t.Errorf("subjects = %q", got)
	}
}
