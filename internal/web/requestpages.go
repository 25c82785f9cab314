package web

// The request pages: the queues, the journey that drafts a request one
// question at a time, check your answers, the request page with the
// actions its viewer may take, and the central record. They call the same
// authorise.Service as the API, and show its refusals as GOV.UK error
// summaries that say exactly why, never a bare 403.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/policy"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// maxRequestForm bounds a request page's form: a criterion answer or the
// seven views of a decision, each at most 20,000 bytes.
const maxRequestForm = 256 << 10

// requestStates are the states as pages show them, with their tag colour.
var requestStates = map[requests.State][2]string{
	requests.Draft:          {"Draft", "grey"},
	requests.Submitted:      {"Awaiting decision", ""},
	requests.AwaitingAdvice: {"Awaiting advice", "yellow"},
	requests.Refused:        {"Refused", "red"},
	requests.Withdrawn:      {"Withdrawn", "grey"},
	requests.Active:         {"Active", "green"},
	requests.ReviewDue:      {"Review due", "orange"},
	requests.Cancelled:      {"Cancelled", "grey"},
	requests.Expired:        {"Expired", "grey"},
	requests.Closed:         {"Closed", "grey"},
}

func stateText(st requests.State) (string, string) {
	if v, ok := requestStates[st]; ok {
		return v[0], v[1]
	}
	return string(st), "grey"
}

// requestHref is the request page of id.
func requestHref(id string) string { return "/requests/" + url.PathEscape(id) }

// levelText is a requirement as a queue shows it: "Level 2, Superintendent".
func levelText(q *consent.Requirement) string {
	if q == nil {
		return ""
	}
	return fmt.Sprintf("Level %d, %s", q.Level, consent.RankTitle(q.MinRank))
}

// sentence starts s with a capital letter.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// personName is "Name (id)", or id when the directory has no such person.
func (s *server) personName(ctx context.Context, id string) string {
	if id == "" || id == requests.System {
		return id
	}
	p, err := s.cfg.Store.PersonByID(ctx, id)
	if err != nil || p.Name == "" {
		return id
	}
	return p.Name + " (" + id + ")"
}

// dataCategories are the data categories a request may name: those the
// request service is configured with, else those of cat, the catalogue in
// force.
func (s *server) dataCategories(cat policy.Catalogue) policy.Categories {
	if s.cfg.Requests.Categories != nil {
		return s.cfg.Requests.Categories
	}
	return cat.Categories
}

// derivation is what the pages show of the consent level r's answers
// derive so far.
func derivation(ex *consent.Explanation) pages.Derivation {
	if ex == nil {
		return pages.Derivation{}
	}
	q := ex.Result
	d := pages.Derivation{Known: true, Level: strconv.Itoa(q.Level), MinRank: consent.RankTitle(q.MinRank) + " or above",
		Advisers: "None", Summary: sentence(q.String())}
	if len(q.Advisers) > 0 {
		d.Advisers = strings.Join(q.Advisers, ", ")
	}
	for line := range strings.SplitSeq(strings.TrimSpace(ex.String()), "\n") {
		if _, rest, ok := strings.Cut(line, ". "); ok && !strings.HasPrefix(line, "Result") {
			line = rest
		}
		d.Steps = append(d.Steps, line)
	}
	return d
}

// The queue.

func (s *server) requestsPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	view := authorise.DefaultView(p.Role)
	rs, err := s.cfg.Requests.List(r.Context(), p, view, "")
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Requests{CanStart: p.Role == identity.RoleInvestigator}
	switch view {
	case authorise.ViewMine:
		page.Heading, page.Intro, page.Empty = "Your requests", "Requests you drafted, or that name you as an investigator.", "You have no requests yet."
	case authorise.ViewDecide:
		page.Heading, page.Intro, page.Empty = "Requests to decide", "Requests awaiting a decision or ratification your rank can give, and authorisations in force you may review.", "No request needs you now."
	case authorise.ViewAdvise:
		page.Heading, page.Intro, page.Empty = "Requests awaiting your view", "Requests that need your view before an authoriser may decide them, and those you have advised on.", "No request needs your view now."
	default:
		page.Heading, page.Intro, page.Empty = "All requests", "Every request, newest first. The central record lists them for the inspectorate.", "No request has been made yet."
	}
	page.Layout = s.layout(r, p, page.Heading)
	for _, req := range rs {
		sum := summarise(req)
		state, colour := stateText(req.State)
		row := pages.RequestRow{Href: requestHref(req.ID), Reference: req.Reference, Operation: req.Operation.Name,
			State: state, Colour: colour, Level: levelText(req.Requirement), Urgent: "No", Updated: displayTime(sum.Updated)}
		if req.Urgent.Urgent {
			row.Urgent = "Yes"
		}
		page.Rows = append(page.Rows, row)
	}
	s.render(w, r, http.StatusOK, page)
}

// The journey.

// requestStep is one page of the journey: its path segment, its key in
// check your answers, its question, and the problem fields it answers,
// each with the id of the input that answers it.
type requestStep struct {
	ID, Key, Heading string
	Covers           [][2]string // problem field prefix, input id
}

// covers returns the id of the input of st that answers problem field f,
// and whether st answers it.
func (st requestStep) covers(f string) (string, bool) {
	for _, c := range st.Covers {
		if f == c[0] || strings.HasPrefix(f, c[0]+".") || strings.HasPrefix(f, c[0]+"[") {
			return c[1], true
		}
	}
	return "", false
}

// requestSteps are the journey's pages in order: what is asked and how,
// then how intrusive it is (from which the consent level derives), then
// the justifications, one criterion to a page.
func requestSteps(cat policy.Catalogue) []requestStep {
	steps := []requestStep{
		{"subjects", "Who it is about", "Who is the request about?", [][2]string{{"subjects", "subjects"}, {"requester", "subjects"}}},
		{"investigators", "Investigators", "Who will use the authorisation?", [][2]string{{"investigators", "investigators"}}},
		{"categories", "Records", "Which records do you need?", [][2]string{{"categories", "categories"}}},
		{"sources", "Systems", "Which systems should it cover?", [][2]string{{"sources", "sources"}}},
		{"mode", "Mode", "What do you need to do with the records?", [][2]string{{"mode", "mode"}, {"window.to", "window-to"}, {"window", "window-from"}}},
		{"purpose", "Purpose", "Which lawful purpose does it serve?", [][2]string{{"purpose", "purpose"}, {"lawful_basis", "lawful-basis"}, {"warrant_reference", "warrant-reference"}}},
		{"investigation", "Investigation", "What kind of investigation is it?", [][2]string{{"investigation", "investigation"}, {"ripa_reference", "ripa-reference"}}},
		{"collateral", "Collateral intrusion", "How far will it reach people who are not its subjects?", [][2]string{{"collateral.level", "collateral-level"}, {"collateral", "collateral-explanation"}}},
		{"confidential", "Confidential material", "Is it likely to meet confidential material?", [][2]string{{"confidential.kinds", "confidential-kinds"}, {"confidential", "confidential-explanation"}}},
		{"urgency", "Urgency", "Is it urgent?", [][2]string{{"urgent.urgent", "urgent"}, {"urgent", "urgent-why"}}},
		{"operation", "Operation", "Which operation is it part of?", [][2]string{{"operation.name", "operation-name"}, {"operation.reference", "operation-reference"}, {"dpia_reference", "dpia-reference"}}},
		{"necessity", "Necessity", "Why is it necessary?", [][2]string{{"necessity", "necessity"}}},
	}
	for _, c := range cat.Criteria {
		st := requestStep{"criteria-" + c.ID, c.Title, c.Question, [][2]string{{"criteria." + c.ID, "answer"}}}
		if c.ID == "NOTICE" {
			st.Covers = append(st.Covers, [2]string{"notice_record", "answer"})
		}
		steps = append(steps, st)
	}
	return steps
}

// splitIDs reads a list of ids separated by commas, spaces or lines.
func splitIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// parseDay reads a date as YYYY-MM-DD (the start of that day, UTC) or
// RFC 3339; "" is the zero time.
func parseDay(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, &validationError{field, "Enter a date like 2026-10-31"}
}

func formatDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if t.UTC().Truncate(24 * time.Hour).Equal(t.UTC()) {
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC().Format(time.RFC3339)
}

func options(vals, labels []string, selected func(string) bool) []pages.Option {
	out := make([]pages.Option, len(vals))
	for i, v := range vals {
		out[i] = pages.Option{Value: v, Label: labels[i], Selected: selected(v)}
	}
	return out
}

func yesNo(v string, set bool) []pages.Option {
	return []pages.Option{{Value: "yes", Label: "Yes", Selected: set && v == "yes"}, {Value: "no", Label: "No", Selected: set && v == "no"}}
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// stepFields are the inputs of step id, showing what req holds.
func (s *server) stepFields(id string, req requests.Request, cat policy.Catalogue, p identity.Principal) ([]pages.Field, []string) {
	cats := s.dataCategories(cat)
	switch id {
	case "subjects":
		if req.Alert != nil {
			return nil, []string{"This request was drafted from alert " + req.Alert.ID + ": its subject is the person the alert is about, " +
				authorise.AsSeenBy(p, req).Subjects[0] + ", and cannot be changed."}
		}
		return []pages.Field{{Kind: "textarea", ID: "subjects", Label: "Person ids of the subjects", Rows: 3,
			Hint:  "The directory ids of the people whose activity you need, one a line or separated by commas. You cannot be one of them.",
			Value: strings.Join(req.Subjects, "\n")}}, nil
	case "investigators":
		v := req.Investigators
		if len(v) == 0 {
			v = []string{p.Subject}
		}
		return []pages.Field{{Kind: "textarea", ID: "investigators", Label: "Person ids of the investigators", Rows: 3,
			Hint:  "Everyone who will read what the authorisation gives, one a line or separated by commas. None may be a subject.",
			Value: strings.Join(v, "\n")}}, nil
	case "categories":
		var ids, labels, cids, clabels []string
		for _, c := range cats {
			ids, labels = append(ids, c.ID), append(labels, c.Title)
			if c.Content != "" {
				cids, clabels = append(cids, c.ID), append(clabels, c.Title)
			}
		}
		has := func(content bool) func(string) bool {
			return func(v string) bool {
				return slices.ContainsFunc(req.Categories, func(c requests.CategoryScope) bool { return c.Category == v && (!content || c.Content) })
			}
		}
		return []pages.Field{
			{Kind: "checkbox", ID: "categories", Label: "Records (metadata)", Hint: "Select every kind of record you need: who, what and when.", Options: options(ids, labels, has(false))},
			{Kind: "checkbox", ID: "content", Label: "With their content", Hint: "Select those whose content you also need, such as the text of e-mails. Content is more intrusive and needs a higher rank.", Options: options(cids, clabels, has(true))},
		}, nil
	case "sources":
		return []pages.Field{{Kind: "textarea", ID: "sources", Label: "Source ids (optional)", Rows: 3,
			Hint: "Leave empty to cover every system that sends lbm these records.", Value: strings.Join(req.Sources, "\n")}}, nil
	case "mode":
		var from, to string
		if req.Window != nil {
			from, to = formatDay(req.Window.From), formatDay(req.Window.To)
		}
		return []pages.Field{
			{Kind: "radio", ID: "mode", Label: "Mode", Hint: "Reviewing reads what is already held. Monitoring and recording are live, and run until the authorisation ends.",
				Options: options([]string{consent.ModeReview, consent.ModeMonitor, consent.ModeRecord},
					[]string{"Review what is already held", "Monitor as it happens", "Record: keep more than usual"}, func(v string) bool { return req.Mode == v })},
			{Kind: "input", ID: "window-from", Label: "For a review: from", Hint: "The first day to read, for example 2026-10-01.", Value: from, Width: "govuk-input--width-10"},
			{Kind: "input", ID: "window-to", Label: "For a review: up to", Hint: "The day after the last day to read; not in the future.", Value: to, Width: "govuk-input--width-10"},
		}, nil
	case "purpose":
		var ids, labels []string
		for _, pu := range cat.Purposes {
			ids, labels = append(ids, pu.ID), append(labels, pu.Title)
		}
		fs := []pages.Field{{Kind: "radio", ID: "purpose", Label: "Purpose", Hint: "The purposes of the catalogue in force.",
			Options: options(ids, labels, func(v string) bool { return req.Purpose == v })}}
		for i := range fs[0].Options {
			fs[0].Options[i].Hint = cat.Purposes[i].Reference
		}
		if req.Live() {
			fs = append(fs,
				pages.Field{Kind: "radio", ID: "lawful-basis", Label: "Lawful basis for live monitoring", Hint: "A purpose of SI 2018/356, or a warrant.",
					Options: options(append(ids, requests.Warrant), append(labels, "A warrant"), func(v string) bool { return req.LawfulBasis == v })},
				pages.Field{Kind: "input", ID: "warrant-reference", Label: "Warrant reference", Hint: "Only when the lawful basis is a warrant.", Value: req.WarrantReference, Width: "govuk-input--width-20"})
		}
		return fs, nil
	case "investigation":
		return []pages.Field{
			{Kind: "radio", ID: "investigation", Label: "Investigation", Hint: "A criminal investigation takes the RIPA route; misconduct only, the Art 8 route.",
				Options: options([]string{consent.Criminal, consent.Misconduct}, []string{"Criminal", "Misconduct only"}, func(v string) bool { return req.Investigation == v })},
			{Kind: "input", ID: "ripa-reference", Label: "RIPA authorisation reference", Hint: "Required for live monitoring in a criminal investigation; leave empty for misconduct.", Value: req.RIPAReference, Width: "govuk-input--width-20"},
		}, nil
	case "collateral":
		return []pages.Field{
			{Kind: "radio", ID: "collateral-level", Label: "Collateral intrusion", Hint: "How many people who are not subjects will it touch?",
				Options: options([]string{consent.CollateralLow, consent.CollateralMedium, consent.CollateralHigh}, []string{"Low", "Medium", "High"},
					func(v string) bool { return req.Collateral.Level == v })},
			{Kind: "textarea", ID: "collateral-explanation", Label: "Explain the collateral intrusion and how you will limit it", Rows: 5, Value: req.Collateral.Explanation},
		}, nil
	case "confidential":
		kinds := []string{consent.LegalPrivilege, consent.Health, consent.Journalistic, consent.Union, consent.Whistleblowing}
		return []pages.Field{
			{Kind: "checkbox", ID: "confidential-kinds", Label: "Confidential material", Hint: "Select any it is likely to meet; leave all empty if none.",
				Options: options(kinds, []string{"Legal privilege", "Health or counselling", "Journalistic", "Union or staff association", "Whistleblowing"},
					func(v string) bool { return slices.Contains(req.Confidential.Kinds, v) })},
			{Kind: "textarea", ID: "confidential-explanation", Label: "Explain how it will be handled", Hint: "Required when you select any.", Rows: 5, Value: req.Confidential.Explanation},
		}, nil
	case "urgency":
		set := req.Urgent.Urgent || req.Urgent.Why != "" || req.Collateral.Level != ""
		return []pages.Field{
			{Kind: "radio", ID: "urgent", Label: "Urgent", Hint: "The urgent route lets a lower rank authorise for a short time, lapsing unless ratified.",
				Options: yesNo(boolWord(req.Urgent.Urgent), set)},
			{Kind: "textarea", ID: "urgent-why", Label: "Why it cannot wait", Hint: "Only if urgent.", Rows: 4, Value: req.Urgent.Why},
		}, nil
	case "operation":
		return []pages.Field{
			{Kind: "input", ID: "operation-name", Label: "Operation name", Value: req.Operation.Name, Width: "govuk-input--width-20"},
			{Kind: "input", ID: "operation-reference", Label: "Operation reference", Value: req.Operation.Reference, Width: "govuk-input--width-20"},
			{Kind: "input", ID: "dpia-reference", Label: "DPIA reference", Hint: "Required for live monitoring and for any content.", Value: req.DPIAReference, Width: "govuk-input--width-20"},
		}, nil
	case "necessity":
		return []pages.Field{{Kind: "textarea", ID: "necessity", Label: "Why it is necessary", Rows: 8, Value: req.Necessity,
			Hint: "What the investigation is, and why it needs these records. At least 40 characters and 8 words, in your own words."}}, nil
	}
	if cid, ok := strings.CutPrefix(id, "criteria-"); ok {
		c, _ := cat.Criterion(cid)
		hint := "At least 40 characters and 8 words, answering this question on its own terms."
		intro := []string{c.Explanation}
		if cid == "NOTICE" {
			hint = "The record above comes from the subjects’ acknowledgements: you may add to it, but not hide it. Leave empty if it says enough."
		}
		return []pages.Field{{Kind: "textarea", ID: "answer", Label: "Your answer", Hint: hint, Rows: 8, Value: req.Criteria[cid]}}, intro
	}
	return nil, nil
}

// applyStep sets what form answers for step id in w, a request's written
// fields.
func applyStep(id string, w *requests.Request, f url.Values) error {
	val := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	switch id {
	case "subjects":
		w.Subjects = splitIDs(f.Get("subjects"))
	case "investigators":
		w.Investigators = splitIDs(f.Get("investigators"))
	case "categories":
		var cs []requests.CategoryScope
		for _, c := range f["categories"] {
			cs = append(cs, requests.CategoryScope{Category: c, Content: slices.Contains(f["content"], c)})
		}
		for _, c := range f["content"] {
			if !slices.Contains(f["categories"], c) {
				cs = append(cs, requests.CategoryScope{Category: c, Content: true})
			}
		}
		w.Categories = cs
	case "sources":
		w.Sources = splitIDs(f.Get("sources"))
	case "mode":
		w.Mode = val("mode")
		if w.Mode != consent.ModeReview {
			w.Window = nil
			return nil
		}
		w.LawfulBasis, w.WarrantReference = "", ""
		from, err := parseDay("window-from", val("window-from"))
		if err != nil {
			return err
		}
		to, err := parseDay("window-to", val("window-to"))
		if err != nil {
			return err
		}
		w.Window = nil
		if !from.IsZero() || !to.IsZero() {
			w.Window = &requests.Window{From: from, To: to}
		}
	case "purpose":
		w.Purpose = val("purpose")
		if w.Live() {
			w.LawfulBasis, w.WarrantReference = val("lawful-basis"), val("warrant-reference")
		}
	case "investigation":
		w.Investigation, w.RIPAReference = val("investigation"), val("ripa-reference")
		if w.Investigation == consent.Misconduct {
			w.RIPAReference = ""
		}
	case "collateral":
		w.Collateral = requests.Collateral{Level: val("collateral-level"), Explanation: f.Get("collateral-explanation")}
	case "confidential":
		w.Confidential = requests.Confidential{Kinds: f["confidential-kinds"], Explanation: f.Get("confidential-explanation")}
	case "urgency":
		w.Urgent = requests.Urgency{Urgent: val("urgent") == "yes", Why: f.Get("urgent-why")}
		if !w.Urgent.Urgent {
			w.Urgent.Why = ""
		}
	case "operation":
		w.Operation = requests.Operation{Name: val("operation-name"), Reference: val("operation-reference")}
		w.DPIAReference = val("dpia-reference")
	case "necessity":
		w.Necessity = f.Get("necessity")
	default:
		cid, _ := strings.CutPrefix(id, "criteria-")
		if w.Criteria == nil {
			w.Criteria = map[string]string{}
		}
		if a := f.Get("answer"); strings.TrimSpace(a) != "" {
			w.Criteria[cid] = a
		} else {
			delete(w.Criteria, cid)
		}
	}
	return nil
}

// journey is the catalogue in force and the journey's steps.
func (s *server) journey(ctx context.Context) (policy.Catalogue, []requestStep, error) {
	cat, _, err := s.catalogue(ctx)
	if err != nil {
		return policy.Catalogue{}, nil, err
	}
	return cat, requestSteps(cat), nil
}

// questionPage is step i of the journey for req, with errs.
func (s *server) questionPage(r *http.Request, p identity.Principal, req requests.Request, cat policy.Catalogue, steps []requestStep, i int,
	errs []pages.FieldError, back bool) (*pages.RequestQuestion, error) {
	st := steps[i]
	fields, intro := s.stepFields(st.ID, req, cat, p)
	for j := range fields {
		for _, e := range errs {
			if e.Field == fields[j].ID && fields[j].Error == "" {
				fields[j].Error = e.Message
			}
		}
	}
	page := &pages.RequestQuestion{Reference: req.Reference, Heading: st.Heading, Intro: intro, Fields: fields, Button: "Save and continue"}
	if req.ID == "" {
		page.Action, page.Back = "/requests/new", "/requests"
		page.Intro = []string{"Start by naming the people whose activity you need. You can save and come back: nothing is sent until you submit it."}
	} else {
		page.Action = requestHref(req.ID) + "/edit/" + st.ID
		page.Back = requestHref(req.ID)
		if i > 0 {
			page.Back = requestHref(req.ID) + "/edit/" + steps[i-1].ID
		}
		if back {
			page.Action += "?return=check"
			page.Back = requestHref(req.ID) + "/check"
		}
	}
	if st.ID == "criteria-NOTICE" {
		page.ReadOnlyLabel, page.ReadOnly = "What the subjects were told, from their acknowledgements", authorise.MaskText(p, req, req.NoticeRecord)
	}
	page.Layout = s.layout(r, p, st.Heading)
	page.Errors = errs
	if req.Requester != "" {
		_, ex, err := s.cfg.Requests.Check(r.Context(), req)
		if err != nil {
			return nil, err
		}
		page.Derivation = derivation(ex)
	}
	return page, nil
}

// checkFor is Check of req, its problems worded as p is to read them
// (authorise.MaskText: an investigator never reads the subject of a
// request drafted from an alert).
func (s *server) checkFor(ctx context.Context, p identity.Principal, req requests.Request) (requests.FieldErrors, *consent.Explanation, error) {
	problems, ex, err := s.cfg.Requests.Check(ctx, req)
	for i := range problems {
		problems[i].Msg = authorise.MaskText(p, req, problems[i].Msg)
	}
	return problems, ex, err
}

// stepProblems are the problems Check finds with what step st answers,
// each linked to its input.
func (s *server) stepProblems(ctx context.Context, p identity.Principal, req requests.Request, st requestStep) ([]pages.FieldError, error) {
	problems, _, err := s.checkFor(ctx, p, req)
	if err != nil {
		return nil, err
	}
	var out []pages.FieldError
	for _, pr := range problems {
		if input, ok := st.covers(pr.Field); ok {
			out = append(out, pages.FieldError{Field: input, Message: sentence(pr.Msg)})
		}
	}
	return out, nil
}

func (s *server) newRequestPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	cat, steps, err := s.journey(r.Context())
	if err == nil {
		var page *pages.RequestQuestion
		if page, err = s.questionPage(r, p, requests.Request{}, cat, steps, 0, nil, false); err == nil {
			page.Heading = "Who is the request about?"
			s.render(w, r, http.StatusOK, page)
			return
		}
	}
	s.pageError(w, r, p, err)
}

func (s *server) newRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseFormUpTo(w, r, maxRequestForm); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	cat, steps, err := s.journey(r.Context())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	var written requests.Request
	applyStep("subjects", &written, r.PostForm)
	if len(written.Subjects) == 0 {
		page, err := s.questionPage(r, p, written, cat, steps, 0,
			[]pages.FieldError{{Field: "subjects", Message: "Enter the person id of at least one subject"}}, false)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, page)
		return
	}
	written.Investigators = []string{p.Subject}
	req, err := s.cfg.Requests.Create(r.Context(), p, written)
	if err != nil {
		s.stepFailed(w, r, p, written, cat, steps, 0, err, false)
		return
	}
	s.stepDone(w, r, p, req, cat, steps, 0, false)
}

// stepIndex finds the step named in the path.
func stepIndex(steps []requestStep, id string) int {
	return slices.IndexFunc(steps, func(st requestStep) bool { return st.ID == id })
}

// draftFor loads request id for its requester to edit.
func (s *server) draftFor(r *http.Request, p identity.Principal) (requests.Request, error) {
	req, err := s.cfg.Requests.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return req, err
	}
	if req.Requester != p.Subject {
		return req, errNotFound
	}
	return req, nil
}

// draftStep loads the requester's draft and the journey step the path
// names. When it returns ok false it has answered: an error page, or the
// request page for a draft submitted meanwhile (another tab).
func (s *server) draftStep(w http.ResponseWriter, r *http.Request, p identity.Principal) (req requests.Request, cat policy.Catalogue, steps []requestStep, i int, ok bool) {
	req, err := s.draftFor(r, p)
	if err != nil {
		s.pageError(w, r, p, err)
		return req, cat, nil, 0, false
	}
	if req.State != requests.Draft {
		http.Redirect(w, r, requestHref(req.ID), http.StatusSeeOther)
		return req, cat, nil, 0, false
	}
	if cat, steps, err = s.journey(r.Context()); err != nil {
		s.pageError(w, r, p, err)
		return req, cat, nil, 0, false
	}
	if i = stepIndex(steps, r.PathValue("step")); i < 0 {
		s.pageError(w, r, p, errNotFound)
		return req, cat, nil, 0, false
	}
	return req, cat, steps, i, true
}

func (s *server) editRequestPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, cat, steps, i, ok := s.draftStep(w, r, p)
	if !ok {
		return
	}
	page, err := s.questionPage(r, p, req, cat, steps, i, nil, r.URL.Query().Get("return") == "check")
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) editRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseFormUpTo(w, r, maxRequestForm); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	req, cat, steps, i, ok := s.draftStep(w, r, p)
	if !ok {
		return
	}
	back := r.URL.Query().Get("return") == "check"
	// A refused answer is shown back as typed, on the draft as stored.
	failed := func(cause error) {
		shown := req
		applyStep(steps[i].ID, &shown, r.PostForm)
		s.stepFailed(w, r, p, shown, cat, steps, i, cause, back)
	}
	written := req.Written()
	if err := applyStep(steps[i].ID, &written, r.PostForm); err != nil {
		failed(err)
		return
	}
	saved, err := s.cfg.Requests.Update(r.Context(), p, req.ID, written)
	if err != nil {
		failed(err)
		return
	}
	s.stepDone(w, r, p, saved, cat, steps, i, back)
}

// stepDone goes on from step i once it is saved: back to the same page
// when what it answers has problems, else to the next page.
func (s *server) stepDone(w http.ResponseWriter, r *http.Request, p identity.Principal, req requests.Request, cat policy.Catalogue, steps []requestStep, i int, back bool) {
	errs, err := s.stepProblems(r.Context(), p, req, steps[i])
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if len(errs) > 0 {
		page, err := s.questionPage(r, p, req, cat, steps, i, errs, back)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		if i == 0 && !back {
			page.Back = requestHref(req.ID)
		}
		s.render(w, r, http.StatusBadRequest, page)
		return
	}
	next := requestHref(req.ID) + "/check"
	if !back && i+1 < len(steps) {
		next = requestHref(req.ID) + "/edit/" + steps[i+1].ID
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// stepFailed shows step i again with why saving it failed.
func (s *server) stepFailed(w http.ResponseWriter, r *http.Request, p identity.Principal, req requests.Request, cat policy.Catalogue, steps []requestStep, i int, cause error, back bool) {
	var fes requests.FieldErrors
	var ve *validationError
	var errs []pages.FieldError
	switch {
	case errors.As(cause, &ve):
		errs = append(errs, pages.FieldError{Field: ve.Field, Message: ve.Msg})
	case errors.As(cause, &fes):
		for _, fe := range fes {
			input, ok := steps[i].covers(fe.Field)
			if !ok {
				input = ""
			}
			errs = append(errs, pages.FieldError{Field: input, Message: sentence(fe.Msg)})
		}
	default:
		s.pageError(w, r, p, cause)
		return
	}
	page, err := s.questionPage(r, p, req, cat, steps, i, errs, back)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, page)
}

// answerRows are req's answers as summary rows, one per step; with
// change set, each links to its step.
func (s *server) answerRows(ctx context.Context, p identity.Principal, req requests.Request, cat policy.Catalogue, steps []requestStep, change bool) []pages.SummaryRow {
	req = authorise.AsSeenBy(p, req)
	names := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, s.personName(ctx, id))
		}
		return out
	}
	cats := s.dataCategories(cat)
	var rows []pages.SummaryRow
	for _, st := range steps {
		row := pages.SummaryRow{ID: "answer-" + st.ID, Key: st.Key}
		switch st.ID {
		case "subjects":
			row.Lines = names(req.Subjects)
		case "investigators":
			row.Lines = names(req.Investigators)
		case "categories":
			for _, c := range req.Categories {
				title := c.Category
				if dc, ok := cats.Category(c.Category); ok {
					title = dc.Title
				}
				if c.Content {
					title += ", with content"
				} else {
					title += ", metadata only"
				}
				row.Lines = append(row.Lines, title)
			}
		case "sources":
			row.Lines = req.Sources
			if len(row.Lines) == 0 {
				row.Lines = []string{"Every source"}
			}
		case "mode":
			if req.Mode != "" {
				row.Lines = []string{sentence(req.Mode)}
			}
			if req.Window != nil {
				row.Lines = append(row.Lines, "From "+formatDay(req.Window.From)+" up to "+formatDay(req.Window.To))
			}
		case "purpose":
			if pu, ok := cat.Purpose(req.Purpose); ok {
				row.Lines = []string{pu.Title + " (" + pu.Reference + ")"}
			} else if req.Purpose != "" {
				row.Lines = []string{req.Purpose}
			}
			switch pu, ok := cat.Purpose(req.LawfulBasis); {
			case ok:
				row.Lines = append(row.Lines, "Lawful basis: "+pu.Title+" ("+pu.Reference+")")
			case req.LawfulBasis == requests.Warrant:
				row.Lines = append(row.Lines, "Lawful basis: warrant "+req.WarrantReference)
			case req.LawfulBasis != "":
				row.Lines = append(row.Lines, "Lawful basis: "+req.LawfulBasis)
			}
		case "investigation":
			if req.Investigation != "" {
				row.Lines = []string{sentence(req.Investigation)}
			}
			if req.RIPAReference != "" {
				row.Lines = append(row.Lines, "RIPA reference: "+req.RIPAReference)
			}
		case "collateral":
			if req.Collateral.Level != "" {
				row.Lines = []string{sentence(req.Collateral.Level), req.Collateral.Explanation}
			}
		case "confidential":
			row.Lines = []string{"None likely"}
			if len(req.Confidential.Kinds) > 0 {
				row.Lines = []string{strings.Join(req.Confidential.Kinds, ", "), req.Confidential.Explanation}
			}
		case "urgency":
			row.Lines = []string{"No"}
			if req.Urgent.Urgent {
				row.Lines = []string{"Yes", req.Urgent.Why}
			}
		case "operation":
			if req.Operation.Name != "" || req.Operation.Reference != "" {
				row.Lines = []string{req.Operation.Name + " (" + req.Operation.Reference + ")"}
			}
			if req.DPIAReference != "" {
				row.Lines = append(row.Lines, "DPIA: "+req.DPIAReference)
			}
		case "necessity":
			if req.Necessity != "" {
				row.Lines = []string{req.Necessity}
			}
		default:
			cid := strings.TrimPrefix(st.ID, "criteria-")
			if cid == "NOTICE" && req.NoticeRecord != "" {
				row.Lines = append(row.Lines, "From the acknowledgements: "+req.NoticeRecord)
			}
			if a := req.Criteria[cid]; a != "" {
				row.Lines = append(row.Lines, a)
			}
		}
		if change {
			row.Change, row.ChangeLabel = requestHref(req.ID)+"/edit/"+st.ID+"?return=check", strings.ToLower(st.Key)
		}
		rows = append(rows, row)
	}
	return rows
}

// checkPage is check your answers for draft req, listing what submitting
// would refuse (and extra, problems Submit gave).
func (s *server) checkPage(r *http.Request, p identity.Principal, req requests.Request) (*pages.RequestCheck, error) {
	cat, steps, err := s.journey(r.Context())
	if err != nil {
		return nil, err
	}
	problems, ex, err := s.checkFor(r.Context(), p, req)
	if err != nil {
		return nil, err
	}
	page := &pages.RequestCheck{Reference: req.Reference, Rows: s.answerRows(r.Context(), p, req, cat, steps, true),
		Derivation: derivation(ex), Submit: requestHref(req.ID) + "/submit", Back: requestHref(req.ID) + "/edit/" + steps[len(steps)-1].ID}
	page.Layout = s.layout(r, p, "Check your answers")
	for _, pr := range problems {
		fe := pages.FieldError{Message: sentence(pr.Msg)}
		for _, st := range steps {
			if _, ok := st.covers(pr.Field); ok {
				fe.Field, fe.Message = "answer-"+st.ID, st.Key+": "+pr.Msg
				break
			}
		}
		page.Errors = append(page.Errors, fe)
	}
	return page, nil
}

func (s *server) checkRequestPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, err := s.draftFor(r, p)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if req.State != requests.Draft {
		http.Redirect(w, r, requestHref(req.ID), http.StatusSeeOther)
		return
	}
	page, err := s.checkPage(r, p, req)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) submitRequestPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, err := s.cfg.Requests.Submit(r.Context(), p, r.PathValue("id"))
	var fes requests.FieldErrors
	switch {
	case err == nil:
		http.Redirect(w, r, requestHref(req.ID)+"?done=submitted", http.StatusSeeOther)
	case errors.As(err, &fes):
		cur, gerr := s.draftFor(r, p)
		if gerr != nil {
			s.pageError(w, r, p, gerr)
			return
		}
		page, perr := s.checkPage(r, p, cur)
		if perr != nil {
			s.pageError(w, r, p, perr)
			return
		}
		s.render(w, r, http.StatusBadRequest, page)
	default:
		s.requestRefused(w, r, p, "", nil, err)
	}
}

// The request page.

// requestPage builds the page of req for p. posted, when not nil, is the
// form p just sent (its values are kept); errs are shown at the top.
func (s *server) requestPage(r *http.Request, p identity.Principal, req requests.Request, posted url.Values, errs []pages.FieldError) (*pages.Request, error) {
	ctx := r.Context()
	cat, steps, err := s.journey(ctx)
	if err != nil {
		return nil, err
	}
	_, ex, err := s.cfg.Requests.Check(ctx, req)
	if err != nil {
		return nil, err
	}
	state, colour := stateText(req.State)
	page := &pages.Request{Reference: req.Reference, State: state, Colour: colour, OversightID: "oversight",
		Answers: s.answerRows(ctx, p, req, cat, steps, false), Derivation: derivation(ex)}
	page.Layout = s.layout(r, p, "Request "+req.Reference)
	page.Errors = errs
	switch r.URL.Query().Get("done") {
	case "submitted":
		page.Notice = "Request submitted."
	case "acted":
		page.Notice = "Done. The change is recorded in the request’s history and the oversight log."
	}
	row := func(key string, lines ...string) {
		page.Status = append(page.Status, pages.SummaryRow{Key: key, Lines: slices.DeleteFunc(lines, func(s string) bool { return s == "" })})
	}
	row("State", state)
	row("Requester", s.personName(ctx, req.Requester))
	if q := req.Requirement; q != nil {
		row("Needs", sentence(q.String()))
	} else if ex != nil {
		row("Needs (so far)", sentence(ex.Result.String()))
	}
	if req.AuthorisedBy != "" {
		row("Authorised by", s.personName(ctx, req.AuthorisedBy)+", "+identity.Rank(req.AuthoriserRank).Title(), displayTime(req.AuthorisedAt))
		row("Expires", displayTime(req.ExpiresAt))
	}
	if !req.RatifyBy.IsZero() {
		if req.RatifiedAt.IsZero() {
			row("Urgent: ratify by", displayTime(req.RatifyBy))
		} else {
			row("Ratified", s.personName(ctx, req.RatifiedBy), displayTime(req.RatifiedAt))
		}
	}
	if !req.ReviewDue.IsZero() && (req.State == requests.Active || req.State == requests.ReviewDue) {
		row("Next review due", displayTime(req.ReviewDue))
	}
	if !req.EndedAt.IsZero() {
		row("Ended", displayTime(req.EndedAt))
	}
	if c := req.Closure; c != nil {
		row("Closed", s.personName(ctx, c.By)+", "+displayTime(c.At), "Outcome: "+c.Outcome, "Useful: "+boolWord(c.Useful), "Kept: "+c.Kept)
	}
	for _, a := range req.Advice {
		page.Advice = append(page.Advice, pages.Remark{Heading: "View of the " + a.Kind + " adviser", By: s.personName(ctx, a.By), At: displayTime(a.At), Text: a.View})
	}
	for _, d := range req.Decisions {
		rm := pages.Remark{Heading: "Refused", By: s.personName(ctx, d.By) + ", " + identity.Rank(d.Rank).Title(), At: displayTime(d.At), Text: d.Reasons}
		if d.Authorise {
			rm.Heading = "Authorised"
		}
		rm.Notes = append(rm.Notes, "Directly involved in the investigation: "+boolWord(d.DirectlyInvolved)+".")
		if d.UrgentRoute {
			rm.Notes = append(rm.Notes, "Authorised on the urgent route.")
		}
		for _, c := range cat.Criteria {
			if v, ok := d.Views[c.ID]; ok {
				rm.Views = append(rm.Views, pages.SummaryRow{Key: c.Title, Lines: []string{v}})
			}
		}
		page.Decisions = append(page.Decisions, rm)
	}
	for _, h := range req.History {
		from, _ := stateText(h.From)
		to, _ := stateText(h.To)
		page.History = append(page.History, pages.HistoryRow{At: displayTime(h.At), Action: sentence(strings.ReplaceAll(h.Action, "_", " ")),
			Actor: s.personName(ctx, h.Actor), From: from, To: to, Reasons: h.Reasons, Index: strconv.FormatUint(h.OversightIndex, 10)})
	}
	page.Forms, page.Waiting = s.requestForms(r, p, req, cat, posted)
	page.Data = s.dataLink(p, req)
	if req.State == requests.Draft && req.Requester == p.Subject && p.Role == identity.RoleInvestigator {
		page.Continue = requestHref(req.ID) + "/check"
	}
	// Mark the inputs the errors name.
	for _, e := range errs {
		for i := range page.Forms {
			f := &page.Forms[i]
			for j := range f.Fields {
				if f.Fields[j].ID == e.Field && f.Fields[j].Error == "" {
					f.Fields[j].Error = e.Message
				}
			}
			for j := range f.Criteria {
				if f.Criteria[j].ID == e.Field && f.Criteria[j].Error == "" {
					f.Criteria[j].Error = e.Message
				}
			}
		}
	}
	return page, nil
}

// criterionTitle is the title of criterion id in the catalogue in force,
// or id.
func criterionTitle(ctx context.Context, s *server, id string) string {
	if cat, _, err := s.catalogue(ctx); err == nil {
		if c, ok := cat.Criterion(id); ok {
			return c.Title
		}
	}
	return id
}

// rankRefusal says why by's rank cannot decide req, or "".
func rankRefusal(req requests.Request, by requests.Actor, least string) string {
	m, k := slices.Index(by.Ranks, least), slices.Index(by.Ranks, by.Rank)
	if m >= 0 && k >= m {
		return ""
	}
	you := "you hold no rank"
	if by.Rank != "" {
		you = "you are a " + consent.RankTitle(by.Rank)
	}
	msg := fmt.Sprintf("This request needs a decision by a %s or above; %s", consent.RankTitle(least), you)
	if least != req.Requirement.MinRank {
		msg += fmt.Sprintf(" (a %s may decide it on the urgent route)", consent.RankTitle(least))
	}
	return msg
}

// requestForms are the actions p may take on req now, and why none can be
// taken yet when that is so.
func (s *server) requestForms(r *http.Request, p identity.Principal, req requests.Request, cat policy.Catalogue, posted url.Values) ([]pages.ActionForm, string) {
	val := func(id string) string { return posted.Get(id) }
	radio := func(id string) []pages.Option { return yesNo(val(id), posted.Has(id)) }
	text := func(id, label, hint string, rows int) pages.Field {
		return pages.Field{Kind: "textarea", ID: id, Label: label, Hint: hint, Rows: rows, Value: val(id)}
	}
	day := func(id, label, hint string) pages.Field {
		return pages.Field{Kind: "input", ID: id, Label: label, Hint: hint, Value: val(id), Width: "govuk-input--width-10"}
	}
	stepUp := ""
	if !identity.SteppedUp(p, s.cfg.Now()) {
		stepUp = "/step-up?next=" + url.QueryEscape(requestHref(req.ID))
	}
	by := s.cfg.Requests.Actor(p)
	action := func(a string) string { return requestHref(req.ID) + "/" + a }
	requester := p.Role == identity.RoleInvestigator && req.Requester == p.Subject
	authoriser := p.Role == identity.RoleAuthoriser && req.Requester != p.Subject
	live := req.State == requests.Active || req.State == requests.ReviewDue
	var forms []pages.ActionForm
	var waiting string

	switch req.State {
	case requests.Submitted, requests.AwaitingAdvice:
		missing := req.MissingAdvisers()
		if (p.Role == identity.RoleAdviser || p.Role == identity.RoleDPO) && by.Adviser != "" && slices.Contains(missing, by.Adviser) && req.Requester != p.Subject {
			forms = append(forms, pages.ActionForm{ID: "advice", Heading: "Give your view", Action: action("advice"), Button: "Give your view",
				Intro:  "Your view as the " + by.Adviser + " adviser is recorded with the request, and an authoriser reads it before deciding.",
				Fields: []pages.Field{text("advice-view", "Your view", "At least 40 characters and 8 words.", 6)}})
		}
		if authoriser && len(missing) > 0 {
			waiting = "An authoriser can decide once these advisers have given their view: " + strings.Join(missing, ", ") + "."
		}
		if authoriser && req.State == requests.Submitted {
			f := pages.ActionForm{ID: "decision", Heading: "Decide", Action: action("decision"), Button: "Record decision", StepUp: stepUp,
				Intro:   "Give your own view on each criterion the requester answered, then your reasons. Your decision is final and recorded.",
				Warning: rankRefusal(req, by, req.DecidingRank())}
			for _, c := range cat.Criteria {
				a, ok := req.Criteria[c.ID]
				if c.ID == "NOTICE" && req.NoticeRecord != "" {
					a = strings.TrimSpace("From the acknowledgements: " + req.NoticeRecord + "\n\n" + a)
				}
				if !ok {
					continue
				}
				id := "decision-views-" + c.ID
				f.Criteria = append(f.Criteria, pages.CriterionView{ID: id, Title: c.Title, Question: c.Question, Answer: a, View: val(id)})
			}
			f.Fields = []pages.Field{
				text("decision-reasons", "Your reasons", "Why you authorise or refuse it. At least 40 characters and 8 words.", 6),
				{Kind: "radio", ID: "decision-authorise", Label: "Your decision", Hint: "Authorising starts the authorisation now.",
					Options: []pages.Option{{Value: "authorise", Label: "Authorise", Selected: val("decision-authorise") == "authorise"},
						{Value: "refuse", Label: "Refuse", Selected: val("decision-authorise") == "refuse"}}},
				{Kind: "radio", ID: "decision-directly-involved", Label: "Are you directly involved in this investigation?",
					Hint: "Say so if you are; a named investigator is.", Options: radio("decision-directly-involved")},
				day("decision-until", "Authorised until (optional)", "Earlier than the longest allowed, for example 2026-12-31. Leave empty for the longest."),
			}
			forms = append(forms, f)
		}
	}
	if authoriser && live {
		if !req.RatifyBy.IsZero() && req.RatifiedAt.IsZero() {
			forms = append(forms, pages.ActionForm{ID: "ratification", Heading: "Ratify the urgent authorisation", Action: action("ratification"), StepUp: stepUp,
				Intro:   "It lapses at " + displayTime(req.RatifyBy) + " unless ratified at " + consent.RankTitle(req.Requirement.MinRank) + " or above.",
				Warning: rankRefusal(req, by, req.Requirement.MinRank), Button: "Ratify",
				Fields: []pages.Field{text("ratification-reasons", "Your reasons", "", 5),
					day("ratification-until", "Authorised until (optional)", "Leave empty for the longest allowed.")}})
		}
		forms = append(forms,
			pages.ActionForm{ID: "review", Heading: "Record a review", Action: action("review"), StepUp: stepUp, Button: "Record review",
				Fields: []pages.Field{text("review-notes", "Your review", "Is it still necessary and proportionate? What has it found?", 5),
					day("review-next", "Next review (optional)", "Leave empty for the usual interval.")}},
			pages.ActionForm{ID: "renewal", Heading: "Renew", Action: action("renewal"), StepUp: stepUp, Button: "Renew",
				Fields: []pages.Field{text("renewal-reasons", "Your reasons", "", 5),
					{Kind: "radio", ID: "renewal-directly-involved", Label: "Are you directly involved in this investigation?", Options: radio("renewal-directly-involved")},
					day("renewal-until", "Renewed until (optional)", "Leave empty for the longest allowed.")}})
	}
	if (requester || authoriser) && live {
		forms = append(forms, pages.ActionForm{ID: "cancellation", Heading: "Cancel the authorisation", Action: action("cancellation"), Button: "Cancel authorisation", Danger: true,
			Intro:  "Cancel it as soon as it is no longer needed.",
			Fields: []pages.Field{text("cancellation-reasons", "Why it is no longer needed", "", 4)}})
	}
	if requester && (req.State == requests.Draft || req.State == requests.Submitted || req.State == requests.AwaitingAdvice) {
		forms = append(forms, pages.ActionForm{ID: "withdrawal", Heading: "Withdraw the request", Action: action("withdrawal"), Button: "Withdraw request", Danger: true,
			Fields: []pages.Field{text("withdrawal-reasons", "Why you are withdrawing it", "", 4)}})
	}
	if (requester || authoriser) && (req.State == requests.Cancelled || req.State == requests.Expired) {
		forms = append(forms, pages.ActionForm{ID: "closure", Heading: "Close the request", Action: action("closure"), Button: "Close request",
			Fields: []pages.Field{text("closure-outcome", "Outcome", "What the investigation found.", 4),
				{Kind: "radio", ID: "closure-useful", Label: "Was the data useful?", Options: radio("closure-useful")},
				text("closure-kept", "What is kept, and why", "", 4)}})
	}
	return forms, waiting
}

func (s *server) requestViewPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	req, err := s.cfg.Requests.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page, err := s.requestPage(r, p, req, nil, nil)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, page)
}

// requestRefused shows the request page again with why action (the id of
// its form) was refused, keeping what was typed in posted.
func (s *server) requestRefused(w http.ResponseWriter, r *http.Request, p identity.Principal, action string, posted url.Values, cause error) {
	if errors.Is(cause, store.ErrNotFound) || errors.Is(cause, errNotFound) {
		s.pageError(w, r, p, cause)
		return
	}
	input := func(field string) string {
		return action + "-" + strings.NewReplacer(".", "-", "directly_involved", "directly-involved").Replace(field)
	}
	status := http.StatusBadRequest
	var fe pages.FieldError
	var re *requests.RuleError
	var te *requests.TransitionError
	var ve *validationError
	var fes requests.FieldErrors
	switch {
	case errors.As(cause, &ve):
		fe = pages.FieldError{Field: input(ve.Field), Message: ve.Msg}
	case errors.As(cause, &re):
		if pr, ok := requestProblem(cause); ok {
			status = pr.Status
		}
		fe = pages.FieldError{Field: input(re.Field), Message: sentence(re.Msg)}
		switch re.Rule {
		case requests.RuleRank:
			req, err := s.cfg.Requests.Get(r.Context(), p, r.PathValue("id"))
			if err == nil && req.Requirement != nil {
				least := req.Requirement.MinRank
				if action == "decision" {
					least = req.DecidingRank()
				}
				fe.Message = rankRefusal(req, s.cfg.Requests.Actor(p), least)
			}
			fe.Field = action
		case requests.RuleSelf:
			fe = pages.FieldError{Field: action, Message: "Conflict of interest: " + re.Msg}
		case requests.RuleSubject:
			fe = pages.FieldError{Field: action, Message: "Conflict of interest: you are a subject of this request, so you cannot act on it"}
		case requests.RuleAdvisers:
			fe = pages.FieldError{Field: action, Message: "Not every adviser has given a view yet: " + re.Msg}
		case requests.RuleJustification:
			label, ok := map[string]string{"reasons": "Your reasons", "view": "Your view", "notes": "Your review",
				"outcome": "Outcome", "kept": "What is kept"}[re.Field]
			if id, view := strings.CutPrefix(re.Field, "views."); view {
				label, ok = "Your view on "+criterionTitle(r.Context(), s, id), true
			}
			if !ok {
				label = sentence(re.Field)
			}
			fe.Message = label + ": " + re.Msg
		}
	case errors.As(cause, &te):
		status = http.StatusConflict
		fe = pages.FieldError{Field: action, Message: "This cannot be done now: " + te.Error()}
	case errors.As(cause, &fes):
		// Only submitting gives these, and that shows check your answers.
		s.pageError(w, r, p, cause)
		return
	case errors.Is(cause, store.ErrConflict):
		status = http.StatusConflict
		fe = pages.FieldError{Field: action, Message: "Someone changed this request at the same moment: read it again and retry"}
	default:
		s.pageError(w, r, p, cause)
		return
	}
	req, err := s.cfg.Requests.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page, err := s.requestPage(r, p, req, posted, nil)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	// Link the error to its input when the form has one, else to the form.
	known := fe.Field == action
	for _, f := range page.Forms {
		for _, fl := range f.Fields {
			known = known || fl.ID == fe.Field
		}
		for _, c := range f.Criteria {
			known = known || c.ID == fe.Field
		}
	}
	if !known {
		fe.Field = action
		if !slices.ContainsFunc(page.Forms, func(f pages.ActionForm) bool { return f.ID == action }) {
			fe.Field = ""
		}
	}
	page, err = s.requestPage(r, p, req, posted, []pages.FieldError{fe})
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, status, page)
}

// actPage takes the action build makes of the posted form (action is
// its form's id) and goes back to the request page.
func (s *server) actPage(w http.ResponseWriter, r *http.Request, p identity.Principal, action string,
	build func(f url.Values, by requests.Actor) (requests.Action, error)) {
	if err := parseFormUpTo(w, r, maxRequestForm); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	// Read the form before acting, so that a form that cannot be read
	// changes nothing.
	if _, err := build(r.PostForm, s.cfg.Requests.Actor(p)); err != nil {
		s.requestRefused(w, r, p, action, r.PostForm, err)
		return
	}
	_, err := s.cfg.Requests.Act(r.Context(), p, r.PathValue("id"), func(by requests.Actor) requests.Action {
		a, _ := build(r.PostForm, by)
		return a
	})
	if err != nil {
		s.requestRefused(w, r, p, action, r.PostForm, err)
		return
	}
	http.Redirect(w, r, requestHref(r.PathValue("id"))+"?done=acted", http.StatusSeeOther)
}

// involved reads a yes/no declaration of direct involvement, which must
// be given rather than defaulted.
func involved(f url.Values, id string) (bool, error) {
	switch f.Get(id) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, &validationError{"directly_involved", "Say whether you are directly involved in the investigation"}
}

func (s *server) advisePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.actPage(w, r, p, "advice", func(f url.Values, by requests.Actor) (requests.Action, error) {
		return requests.Advise{By: by, View: f.Get("advice-view")}, nil
	})
}

func (s *server) decidePageRequest(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.actPage(w, r, p, "decision", func(f url.Values, by requests.Actor) (requests.Action, error) {
		var authorise bool
		switch f.Get("decision-authorise") {
		case "authorise":
			authorise = true
		case "refuse":
		default:
			return nil, &validationError{"authorise", "Choose whether you authorise or refuse the request"}
		}
		inv, err := involved(f, "decision-directly-involved")
		if err != nil {
			return nil, err
		}
		until, err := parseDay("until", f.Get("decision-until"))
		if err != nil {
			return nil, err
		}
		views := map[string]string{}
		for k, v := range f {
			if id, ok := strings.CutPrefix(k, "decision-views-"); ok && strings.TrimSpace(v[0]) != "" {
				views[id] = v[0]
			}
		}
		return requests.Decide{By: by, Authorise: authorise, Reasons: f.Get("decision-reasons"), Views: views, DirectlyInvolved: inv, Until: until}, nil
	})
}

func (s *server) ratifyPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.actPage(w, r, p, "ratification", func(f url.Values, by requests.Actor) (requests.Action, error) {
		until, err := parseDay("until", f.Get("ratification-until"))
		return requests.Ratify{By: by, Reasons: f.Get("ratification-reasons"), Until: until}, err
	})
}

func (s *server) reviewPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.actPage(w, r, p, "review", func(f url.Values, by requests.Actor) (requests.Action, error) {
		next, err := parseDay("next", f.Get("review-next"))
		return requests.ReviewAction{By: by, Notes: f.Get("review-notes"), Next: next}, err
	})
}

func (s *server) renewPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.actPage(w, r, p, "renewal", func(f url.Values, by requests.Actor) (requests.Action, error) {
		inv, err := involved(f, "renewal-directly-involved")
		if err != nil {
			return nil, err
		}
		until, err := parseDay("until", f.Get("renewal-until"))
		return requests.Renew{By: by, Reasons: f.Get("renewal-reasons"), DirectlyInvolved: inv, Until: until}, err
	})
}

func (s *server) cancelPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.actPage(w, r, p, "cancellation", func(f url.Values, by requests.Actor) (requests.Action, error) {
		return requests.Cancel{By: by, Reasons: f.Get("cancellation-reasons")}, nil
	})
}

func (s *server) withdrawPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.actPage(w, r, p, "withdrawal", func(f url.Values, by requests.Actor) (requests.Action, error) {
		return requests.Withdraw{By: by, Reasons: f.Get("withdrawal-reasons")}, nil
	})
}

func (s *server) closePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.actPage(w, r, p, "closure", func(f url.Values, by requests.Actor) (requests.Action, error) {
		var useful bool
		switch f.Get("closure-useful") {
		case "yes":
			useful = true
		case "no":
		default:
			return nil, &validationError{"useful", "Say whether the data was useful"}
		}
		return requests.Close{By: by, Outcome: f.Get("closure-outcome"), Useful: useful, Kept: f.Get("closure-kept")}, nil
	})
}

// The central record.

func (s *server) centralRecordPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	rows, err := s.centralRecord(r)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.CentralRecord{Layout: s.layout(r, p, "Central record"), CSV: "/central-record.csv"}
	for _, row := range rows {
		state, colour := stateText(requests.State(row.State))
		cr := pages.CentralRow{Href: requestHref(row.ID), Reference: row.Reference, State: state, Colour: colour, Type: row.Type,
			Investigation: row.Investigation, Purpose: row.Purpose, Operation: row.Operation, Subjects: strings.Join(row.Subjects, ", "),
			Requester: row.Requester, Submitted: displayTime(row.SubmittedAt), Granted: displayTime(row.GrantedAt),
			Expires: displayTime(row.ExpiresAt), Ended: displayTime(row.EndedAt), Outcome: row.Outcome, KeepUntil: displayTime(row.KeepUntil)}
		if row.Level > 0 {
			cr.Level = fmt.Sprintf("Level %d, %s", row.Level, consent.RankTitle(row.MinRank))
		}
		if row.Authoriser != "" {
			cr.Authoriser = strings.TrimSpace(row.AuthoriserName + " (" + row.Authoriser + "), " + consent.RankTitle(row.AuthoriserRank))
		}
		page.Rows = append(page.Rows, cr)
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) centralRecordCSV(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	rows, err := s.centralRecord(r)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	var b bytes.Buffer
	if err := oversight.WriteCentralRecordCSV(&b, rows); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="central-record.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}
