// Package oversight is what the oversight body reads: the central record
// of requests and authorisations (LEGAL.md §4) and the oversight report
// of a period, with its charts. What it formats it is given, except that
// Gather reads a report's inputs from a store.
package oversight

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/requests"
)

// KeepFor is how long the central record keeps a request after it ended
// (LEGAL.md §4: at least five years).
const KeepFor = 5 * 365 * 24 * time.Hour

// A Row is one request in the central record: LEGAL.md §4's fields
// (type, date granted, authoriser name and rank, unique reference, title
// and subjects, urgency and why, renewals, review dates, likely
// confidential information, direct involvement, cancellation date) and
// how it ended.
type Row struct {
	Reference               string      `json:"reference"`
	ID                      string      `json:"id"`
	State                   string      `json:"state"`
	Type                    string      `json:"type"` // the mode: review, monitor or record
	Investigation           string      `json:"investigation"`
	Purpose                 string      `json:"purpose"`
	Operation               string      `json:"operation"` // the title: operation name (reference)
	Subjects                []string    `json:"subjects"`
	Requester               string      `json:"requester"`
	SubmittedAt             time.Time   `json:"submitted_at,omitzero"`
	Level                   int         `json:"level"`
	MinRank                 string      `json:"min_rank"`
	Advisers                []string    `json:"advisers"`
	Urgent                  bool        `json:"urgent"`
	UrgentWhy               string      `json:"urgent_why"`
	Confidential            []string    `json:"confidential"`
	ConfidentialExplanation string      `json:"confidential_explanation"`
	GrantedAt               time.Time   `json:"granted_at,omitzero"`
	Authoriser              string      `json:"authoriser"`
	AuthoriserName          string      `json:"authoriser_name"`
	AuthoriserRank          string      `json:"authoriser_rank"`
	UrgentRoute             bool        `json:"urgent_route"`
	DirectlyInvolved        bool        `json:"directly_involved"`
	RatifiedBy              string      `json:"ratified_by"`
	RatifiedAt              time.Time   `json:"ratified_at,omitzero"`
	ExpiresAt               time.Time   `json:"expires_at,omitzero"`
	Reviews                 []time.Time `json:"reviews"`
	Renewals                []Renewal   `json:"renewals"`
	CancelledAt             time.Time   `json:"cancelled_at,omitzero"`
	ExpiredAt               time.Time   `json:"expired_at,omitzero"`
	EndedAt                 time.Time   `json:"ended_at,omitzero"`
	Outcome                 string      `json:"outcome"`
	Useful                  *bool       `json:"useful"`
	Kept                    string      `json:"kept"`
	ClosedAt                time.Time   `json:"closed_at,omitzero"`
	KeepUntil               time.Time   `json:"keep_until,omitzero"`
}

// A Renewal in the central record: when, by whom, and to when.
type Renewal struct {
	At    time.Time `json:"at"`
	By    string    `json:"by"`
	Until time.Time `json:"until"`
}

// CentralRecordRow returns r's row. name gives a person's name for the
// authoriser ("" when unknown).
func CentralRecordRow(r requests.Request, name func(id string) string) Row {
	row := Row{
		Reference: r.Reference, ID: r.ID, State: string(r.State), Type: r.Mode, Investigation: r.Investigation,
		Purpose: r.Purpose, Operation: operationTitle(r.Operation), Subjects: nonNil(r.Subjects), Requester: r.Requester,
		Urgent: r.Urgent.Urgent, UrgentWhy: r.Urgent.Why, Confidential: nonNil(r.Confidential.Kinds),
		ConfidentialExplanation: r.Confidential.Explanation, Authoriser: r.AuthorisedBy, AuthoriserRank: r.AuthoriserRank,
		DirectlyInvolved: r.DirectlyInvolved, RatifiedBy: r.RatifiedBy, RatifiedAt: r.RatifiedAt, ExpiresAt: r.ExpiresAt,
		Advisers: []string{}, Reviews: []time.Time{}, Renewals: []Renewal{},
	}
	if r.AuthorisedBy != "" {
		row.GrantedAt = r.AuthorisedAt
		if name != nil {
			row.AuthoriserName = name(r.AuthorisedBy)
		}
	}
	if q := r.Requirement; q != nil {
		row.Level, row.MinRank, row.Advisers = q.Level, q.MinRank, nonNil(q.Advisers)
	}
	for _, d := range r.Decisions {
		if d.Authorise && d.By == r.AuthorisedBy {
			row.UrgentRoute = d.UrgentRoute
		}
	}
	for _, v := range r.Reviews {
		row.Reviews = append(row.Reviews, v.At)
	}
	for _, n := range r.Renewals {
		row.Renewals = append(row.Renewals, Renewal{At: n.At, By: n.By, Until: n.Until})
	}
	var last time.Time
	for _, t := range r.History {
		last = t.At
		switch t.Action {
		case requests.ActSubmit:
			row.SubmittedAt = t.At
		case requests.ActCancellation:
			row.CancelledAt = t.At
		case requests.ActExpiry, requests.ActLapse:
			row.ExpiredAt = t.At
		case requests.ActClosure:
			row.ClosedAt = t.At
		}
	}
	row.EndedAt = r.EndedAt
	if c := r.Closure; c != nil {
		row.Outcome, row.Kept = c.Outcome, c.Kept
		useful := c.Useful
		row.Useful = &useful
	}
	switch r.State {
	case requests.Refused, requests.Withdrawn:
		row.EndedAt = last
	}
	if !row.EndedAt.IsZero() {
		row.KeepUntil = row.EndedAt.Add(KeepFor)
	}
	return row
}

func operationTitle(o requests.Operation) string {
	switch {
	case o.Name == "":
		return o.Reference
	case o.Reference == "":
		return o.Name
	}
	return o.Name + " (" + o.Reference + ")"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// csvHeader is the central record's CSV columns, one per Row field.
var csvHeader = []string{"reference", "id", "state", "type", "investigation", "purpose", "operation", "subjects",
	"requester", "submitted_at", "level", "min_rank", "advisers", "urgent", "urgent_why", "confidential",
	"confidential_explanation", "granted_at", "authoriser", "authoriser_name", "authoriser_rank", "urgent_route",
	"directly_involved", "ratified_by", "ratified_at", "expires_at", "reviews", "renewals", "cancelled_at",
	"expired_at", "ended_at", "outcome", "useful", "kept", "closed_at", "keep_until"}

// WriteCentralRecordCSV writes rows as CSV. Lists are joined with "; ",
// times are RFC 3339 in UTC, and a cell a spreadsheet would read as a
// formula is prefixed with "'".
func WriteCentralRecordCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range rows {
		var reviews, renewals []string
		for _, t := range r.Reviews {
			reviews = append(reviews, when(t))
		}
		for _, n := range r.Renewals {
			renewals = append(renewals, when(n.At)+" by "+n.By+" until "+when(n.Until))
		}
		useful := ""
		if r.Useful != nil {
			useful = strconv.FormatBool(*r.Useful)
		}
		rec := []string{r.Reference, r.ID, r.State, r.Type, r.Investigation, r.Purpose, r.Operation,
			strings.Join(r.Subjects, "; "), r.Requester, when(r.SubmittedAt), strconv.Itoa(r.Level), r.MinRank,
			strings.Join(r.Advisers, "; "), strconv.FormatBool(r.Urgent), r.UrgentWhy, strings.Join(r.Confidential, "; "),
			r.ConfidentialExplanation, when(r.GrantedAt), r.Authoriser, r.AuthoriserName, r.AuthoriserRank,
			strconv.FormatBool(r.UrgentRoute), strconv.FormatBool(r.DirectlyInvolved), r.RatifiedBy, when(r.RatifiedAt),
			when(r.ExpiresAt), strings.Join(reviews, "; "), strings.Join(renewals, "; "), when(r.CancelledAt),
			when(r.ExpiredAt), when(r.EndedAt), r.Outcome, useful, r.Kept, when(r.ClosedAt), when(r.KeepUntil)}
		for i := range rec {
			rec[i] = cell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// cell defuses a value a spreadsheet would run as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
