package web

// The review pages: an investigator named on an authorisation in force
// looks at the data it grants (/requests/{id}/data), exports an evidence
// bundle, and lists their receipts; oversight reads the access log. They
// call the same review.Service as the API, which records every look and
// every refused attempt before it answers.
//
// A GET of the review page shows the scope and the search form, and never
// data: there is no look without a justification, and a justification
// never travels in a URL (where proxies and browser histories keep it),
// so every search, next page and export is a POST carrying it.

import (
	"encoding/json"
	"errors"
	"github.com/lbm-project/lbm/internal/authorise"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web/pages"
)

const (
	// maxReviewForm bounds a search or export form: two justifications,
	// the filter and up to review.MaxExportEvents event ids.
	maxReviewForm = 256 << 10
	// reviewPageSize is how many events one page of results shows.
	reviewPageSize = 50
	// receiptsPageSize and accessLogPageSize are the rows of one page of
	// those lists.
	receiptsPageSize  = 100
	accessLogPageSize = 50
)

// dataHref is the review page of request id.
func dataHref(id string) string { return requestHref(id) + "/data" }

// dataLink is the review page of req when p may look at the data under
// it now (a named investigator, the authorisation in force), else "".
func (s *server) dataLink(p identity.Principal, req requests.Request) string {
	if p.Role != identity.RoleInvestigator || !slices.Contains(req.Investigators, p.Subject) || !req.Active(s.cfg.Now().UTC()) {
		return ""
	}
	return dataHref(req.ID)
}

// reviewTime is an event's or a record's time as the review pages show it.
func reviewTime(t time.Time) string { return t.UTC().Format("2 January 2006 15:04:05 UTC") }

// parseMoment reads a from or to of the search form: a day (its start) or
// a time in UTC, with or without seconds, or RFC 3339; "" is nil.
func parseMoment(field, v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return &t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		t = t.UTC()
		return &t, nil
	}
	return nil, &validationError{field, "Enter a date like 2026-09-01 or a time like 2026-09-01T14:30"}
}

// readFilter reads the search's filter from a posted form: as typed, for
// showing again, and as the review service takes it. The problems it
// finds are each linked to their input.
func readFilter(f url.Values) (pages.ReviewFilter, review.Filter, []pages.FieldError) {
	shown := pages.ReviewFilter{Justification: f.Get("justification"), From: strings.TrimSpace(f.Get("from")), To: strings.TrimSpace(f.Get("to")),
		Content: f.Get("content") == "yes", Text: strings.TrimSpace(f.Get("text")), After: f.Get("after")}
	for _, c := range f["categories"] {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(shown.Categories, c) {
			shown.Categories = append(shown.Categories, c)
		}
	}
	filter := review.Filter{Categories: shown.Categories, Content: shown.Content, Text: shown.Text}
	var errs []pages.FieldError
	var err error
	for _, m := range []struct {
		field, value string
		t            **time.Time
	}{{"from", shown.From, &filter.From}, {"to", shown.To, &filter.To}} {
		if *m.t, err = parseMoment(m.field, m.value); err != nil {
			errs = append(errs, pages.FieldError{Field: m.field, Message: err.(*validationError).Msg})
		}
	}
	return shown, filter, errs
}

// reviewLabels name the inputs of the review page in its error messages.
var reviewLabels = map[string]string{
	"justification": "Why you need to look now", "export-justification": "Why it must leave lbm",
	"from": "From", "to": "Up to", "categories": "Records", "content": "Content", "text": "Words in the content",
	"recipient": "Who it is for", "purpose": "What they need it for", "events": "Events to export",
}

// reviewErrors turns the review service's refusal of a search or an
// export into errors on the page's inputs, and the status to answer with.
// justification is the input the service's "justification" field is. ok
// is false for an error that is not about the form: the request cannot
// be used, or a fault.
func reviewErrors(err error, justification string) (errs []pages.FieldError, status int, ok bool) {
	input := func(field string) string {
		if field == "justification" {
			return justification
		}
		if _, known := reviewLabels[field]; known {
			return field
		}
		return "" // subjects, sources, limit, after: not inputs of the page
	}
	message := func(field, msg string) string {
		if l, known := reviewLabels[input(field)]; known {
			return l + ": " + msg
		}
		return sentence(field + ": " + msg)
	}
	var fes requests.FieldErrors
	var oe *review.OutOfScopeError
	switch {
	case errors.As(err, &oe):
		return []pages.FieldError{{Field: input(oe.Field), Message: message(oe.Field, oe.Msg) + " (this attempt is recorded)"}}, http.StatusForbidden, true
	case errors.As(err, &fes):
		for _, fe := range fes {
			errs = append(errs, pages.FieldError{Field: input(fe.Field), Message: message(fe.Field, fe.Msg)})
		}
		return errs, http.StatusBadRequest, true
	}
	return nil, 0, false
}

// reviewRefusal is the page that says why p cannot look at the data under
// request id at all: it is not theirs to use, or not in force. recorded
// says whether the attempt was recorded (a search or an export) or not (a
// GET, which shows no data). ok is false for an error that is not such a
// refusal.
func (s *server) reviewRefusal(r *http.Request, p identity.Principal, err error, recorded bool) (*pages.Message, bool) {
	var ie *review.InactiveError
	msg := &pages.Message{Status: http.StatusForbidden}
	switch {
	case errors.As(err, &ie):
		state, _ := stateText(ie.State)
		msg.Heading = "This request authorises nothing now"
		msg.Body = "It is " + strings.ToLower(state) + ". Data can be looked at only while an authorisation is in force."
		if !recorded {
			// Nothing was attempted: the page only says so.
			msg.Status = http.StatusConflict
		}
	case errors.Is(err, review.ErrNotNamed):
		msg.Heading = "You are not named on this authorisation"
		msg.Body = "Only the investigators an authorisation names may look at the data under it."
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errNotFound):
		msg.Status, msg.Heading = http.StatusNotFound, "Page not found"
		msg.Body = "There is no such request, or it is not one you have a part in."
	default:
		return nil, false
	}
	if recorded {
		msg.Body += "\n\nThis attempt is recorded in the oversight log."
	}
	msg.Layout = s.layout(r, p, msg.Heading)
	return msg, true
}

// dataPage is the review page of req for p, without results, or the
// refusal to show when p cannot use req now. It reads nothing but the
// request, so it records nothing.
func (s *server) dataPage(r *http.Request, p identity.Principal, req requests.Request) (*pages.ReviewData, *pages.Message) {
	if !slices.Contains(req.Investigators, p.Subject) {
		msg, _ := s.reviewRefusal(r, p, review.ErrNotNamed, false)
		return nil, msg
	}
	scope, err := review.ScopeOf(req, s.cfg.Now().UTC())
	if err != nil {
		msg, _ := s.reviewRefusal(r, p, err, false)
		return nil, msg
	}
	ctx := r.Context()
	page := &pages.ReviewData{Reference: req.Reference, Request: requestHref(req.ID), Action: dataHref(req.ID), ExportAction: dataHref(req.ID) + "/export"}
	page.Layout = s.layout(r, p, "Look at the data")
	row := func(key string, lines ...string) {
		page.Scope = append(page.Scope, pages.SummaryRow{Key: key, Lines: lines})
	}
	var names []string
	for _, id := range authorise.AsSeenBy(p, req).Subjects {
		names = append(names, s.personName(ctx, id))
	}
	row("Subjects", names...)
	// The categories give titles only: should the catalogue not read, the
	// page names the categories by id rather than refuse the review.
	cat, _, err := s.catalogue(ctx)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "reading the catalogue in force", "err", err)
	}
	cats := s.dataCategories(cat)
	var records []string
	for _, c := range req.Categories {
		if _, ok := scope.Content[c.Category]; !ok || slices.ContainsFunc(page.Categories, func(o pages.Option) bool { return o.Value == c.Category }) {
			continue
		}
		title := c.Category
		if dc, ok := cats.Category(c.Category); ok {
			title = dc.Title
		}
		if scope.Content[c.Category] {
			records = append(records, title+", with content")
			page.Content = true
		} else {
			records = append(records, title+", metadata only")
		}
		page.Categories = append(page.Categories, pages.Option{Value: c.Category, Label: title})
	}
	row("Records", records...)
	if len(scope.Sources) > 0 {
		row("Systems", scope.Sources...)
	} else {
		row("Systems", "Every source")
	}
	if req.Live() || req.Window == nil {
		row("Period", "Live: what happens from "+displayTime(scope.From)+" until "+displayTime(req.ExpiresAt))
	} else {
		row("Period", "From "+displayTime(scope.From)+" up to "+displayTime(scope.To))
	}
	row("Expires", displayTime(req.ExpiresAt))
	row("Reference", req.Reference)
	if op := req.Operation; op.Name != "" || op.Reference != "" {
		row("Operation", strings.TrimSpace(op.Name+" ("+op.Reference+")"))
	}
	return page, nil
}

// showReview renders the review page of request id for p with what was
// posted and errs, or the refusal if p cannot use it (any more).
func (s *server) showReview(w http.ResponseWriter, r *http.Request, p identity.Principal, status int, fill func(*pages.ReviewData), errs []pages.FieldError) {
	req, err := s.cfg.Requests.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page, msg := s.dataPage(r, p, req)
	if msg != nil {
		s.render(w, r, msg.Status, msg)
		return
	}
	fill(page)
	page.Errors = errs
	// Keep what was ticked, among the categories the scope offers.
	for i := range page.Categories {
		page.Categories[i].Selected = slices.Contains(page.Filter.Categories, page.Categories[i].Value)
	}
	s.render(w, r, status, page)
}

func (s *server) reviewDataPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.showReview(w, r, p, http.StatusOK, func(*pages.ReviewData) {}, nil)
}

// reviewSearch runs a search and shows its results. A form that cannot
// be read is shown again before anything is attempted; the review
// service decides the rest, recording every look and every attempt
// outside the authorisation.
func (s *server) reviewSearch(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseFormUpTo(w, r, maxReviewForm); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	shown, filter, errs := readFilter(r.PostForm)
	keep := func(page *pages.ReviewData) { page.Filter = shown }
	if len(errs) > 0 {
		if err := requests.CheckJustification("justification", shown.Justification); err != nil {
			more, _, _ := reviewErrors(err, "justification")
			errs = append(more, errs...)
		}
		s.showReview(w, r, p, http.StatusBadRequest, keep, errs)
		return
	}
	res, err := s.cfg.Review.Query(r.Context(), p, r.PathValue("id"),
		review.QueryInput{Filter: filter, Justification: shown.Justification, After: shown.After, Limit: reviewPageSize})
	if err != nil {
		s.reviewFailed(w, r, p, err, "justification", keep)
		return
	}
	s.showReview(w, r, p, http.StatusOK, func(page *pages.ReviewData) {
		page.Filter = shown
		page.Results = reviewResults(res)
		page.Export = &pages.ReviewExport{}
	}, nil)
}

// reviewFailed shows why the review service refused a search or an
// export: on the form, or as a page of its own when the request cannot be
// used at all.
func (s *server) reviewFailed(w http.ResponseWriter, r *http.Request, p identity.Principal, err error, justification string, keep func(*pages.ReviewData)) {
	if errs, status, ok := reviewErrors(err, justification); ok {
		s.showReview(w, r, p, status, keep, errs)
		return
	}
	if msg, ok := s.reviewRefusal(r, p, err, true); ok {
		s.render(w, r, msg.Status, msg)
		return
	}
	s.pageError(w, r, p, err)
}

// reviewResults is a search's result as the page shows it.
func reviewResults(res review.Result) *pages.ReviewResults {
	index := strconv.FormatUint(res.AccessRecord, 10)
	out := &pages.ReviewResults{AccessRecord: index, Receipt: "/v1/receipts/" + index, Next: res.Next}
	for _, e := range res.Events {
		ev := pages.ReviewEvent{ID: e.ID, Time: reviewTime(e.Time), Source: e.Source, ContentDeleted: e.ContentDeleted}
		for _, h := range e.HeldBack {
			ev.HeldBack = append(ev.HeldBack, h.Kind+": "+h.What)
		}
		for _, f := range e.Fields {
			ev.Fields = append(ev.Fields, pages.ReviewField{Name: f.Name, Value: valueText(f.Value), Pseudonym: f.Pseudonymised})
		}
		out.Events = append(out.Events, ev)
	}
	return out
}

// valueText is a field's JSON value as text: a string as it is, a list
// of strings joined with commas, anything else as JSON.
func valueText(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return strings.Join(many, ", ")
	}
	return string(raw)
}

// reviewExport answers an export with the evidence bundle itself, or
// shows the page again with why it was refused.
func (s *server) reviewExport(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseFormUpTo(w, r, maxReviewForm); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	f := r.PostForm
	shown, filter, errs := readFilter(f)
	shown.After = ""
	export := &pages.ReviewExport{Recipient: f.Get("recipient"), Purpose: f.Get("purpose"), Justification: f.Get("export-justification")}
	for _, e := range f["events"] {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(export.Events, e) {
			export.Events = append(export.Events, e)
		}
	}
	keep := func(page *pages.ReviewData) { page.Filter, page.Export = shown, export }
	if len(errs) > 0 {
		s.showReview(w, r, p, http.StatusBadRequest, keep, errs)
		return
	}
	ex, err := s.cfg.Review.Export(r.Context(), p, r.PathValue("id"), review.ExportInput{Filter: filter, Events: export.Events,
		Recipient: export.Recipient, Purpose: export.Purpose, Justification: export.Justification})
	if err != nil {
		s.reviewFailed(w, r, p, err, "export-justification", keep)
		return
	}
	writeBundle(w, ex)
}

// accessActionText names an access record's action on the pages.
func accessActionText(action string) string {
	switch action {
	case review.ActionQuery:
		return "Search"
	case review.ActionExport:
		return "Export"
	case review.ActionLive:
		return "Live feed"
	case review.ActionReveal:
		return "Alert revealed"
	case review.ActionRefused:
		return "Refused"
	}
	return action
}

func (s *server) receiptsPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	now := s.cfg.Now().UTC()
	after := r.URL.Query().Get("after")
	recs, next, err := s.cfg.Review.Receipts(r.Context(), p, now.AddDate(0, 0, -90), now.Add(time.Second), after, receiptsPageSize)
	if fes := (requests.FieldErrors{}); errors.As(err, &fes) {
		err = &validationError{"after", "not a page this list gave"}
	}
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Receipts{Layout: s.layout(r, p, "Your receipts"), Period: "the last 90 days"}
	for _, rec := range recs {
		index := strconv.FormatUint(rec.Index, 10)
		row := pages.ReceiptRow{Index: index, Time: reviewTime(rec.Time), Action: accessActionText(rec.Action), Reference: rec.Reference,
			Recipient: rec.Recipient, Href: "/v1/receipts/" + index, DownloadName: "receipt-" + index + ".json"}
		if rec.Request != "" {
			row.RequestHref = requestHref(rec.Request)
			if row.Reference == "" {
				row.Reference = rec.Request
			}
		}
		if rec.Results != nil {
			row.Results = strconv.Itoa(*rec.Results)
		}
		page.Rows = append(page.Rows, row)
	}
	if next != "" {
		page.Next = "/receipts?" + url.Values{"after": {next}}.Encode()
	}
	s.render(w, r, http.StatusOK, page)
}

// accessLogKinds are the access log's kinds as the page offers them.
var accessLogKinds = [][2]string{{"all", "All"}, {"refused", "Refused attempts"}, {"query", "Searches"}, {"export", "Exports"}, {"live", "Live feeds"}, {"reveal", "Alerts revealed"}}

func (s *server) accessLogPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	recs, older, err := s.accessLog(r, accessLogPageSize)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = "all"
	}
	page := &pages.AccessLog{Heading: "Access log",
		Intro: "Every look at monitored data and every export, with the justification it was made with, and every attempt refused because it was outside an authorisation in force, newest first (DPA 2018 s.62)."}
	if kind == "refused" {
		page.Heading = "Refused attempts"
		page.Intro = "Attempts to look at monitored data that were refused because they were outside an authorisation in force: not named on it, not in force, or outside its scope. Each is recorded before it is refused."
	}
	page.Layout = s.layout(r, p, page.Heading)
	for _, k := range accessLogKinds {
		href := "/access-records"
		if k[0] != "all" {
			href += "?kind=" + k[0]
		}
		page.Kinds = append(page.Kinds, pages.NavItem{Label: k[1], Href: href, Current: k[0] == kind})
	}
	ctx := r.Context()
	for _, rec := range recs {
		row := pages.AccessRow{Index: strconv.FormatUint(rec.Index, 10), Time: reviewTime(rec.Time), Actor: s.personName(ctx, rec.Actor),
			Action: accessActionText(rec.Action), Request: rec.Request, Justification: rec.Justification, Query: rec.Query,
			Refused: rec.Action == review.ActionRefused}
		if rec.Reference != "" {
			row.Request, row.RequestHref = rec.Reference, requestHref(rec.Request)
		}
		if rec.Results != nil {
			row.Outcome = append(row.Outcome, plural(*rec.Results, "result", "results"))
		}
		if rec.Recipient != "" {
			row.Outcome = append(row.Outcome, "To "+rec.Recipient)
		}
		if rec.Purpose != "" {
			row.Outcome = append(row.Outcome, "Purpose: "+rec.Purpose)
		}
		if rec.Reason != "" {
			row.Outcome = append(row.Outcome, sentence(rec.Reason))
		}
		page.Rows = append(page.Rows, row)
	}
	if older > 0 {
		q := url.Values{"before": {strconv.FormatUint(older, 10)}}
		if kind != "all" {
			q.Set("kind", kind)
		}
		page.Older = "/access-records?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, page)
}

// plural is n with the word for one or for many.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
