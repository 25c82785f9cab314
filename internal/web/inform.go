package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/inform"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/subjectaccess"
	"github.com/lbm-project/lbm/internal/web/pages"
)

// Notices: administrators draft and preview a version and propose
// publishing it; a second administrator approves (at /changes); everyone
// is then asked to acknowledge it. The notice in force, its short forms
// and the public notice are public: they tell people what happens to them.

// NoticeJSON is a notice version in the API.
type NoticeJSON struct {
	Version     int64    `json:"version"`
	Title       string   `json:"title"`
	Text        string   `json:"text"`
	Short       string   `json:"short"`
	PublicText  string   `json:"public_text"`
	PublicShort string   `json:"public_short"`
	Categories  []string `json:"categories"`
	Created     string   `json:"created"`
	CreatedBy   string   `json:"created_by"`
	Published   string   `json:"published,omitempty"`
	PublishedBy string   `json:"published_by,omitempty"`
}

func noticeJSON(n store.Notice) NoticeJSON {
	cats := n.Categories
	if cats == nil {
		cats = []string{}
	}
	return NoticeJSON{Version: n.Version, Title: n.Title, Text: n.Text, Short: n.Short, PublicText: n.PublicText,
		PublicShort: n.PublicShort, Categories: cats, Created: formatTime(n.Created), CreatedBy: n.CreatedBy,
		Published: formatTime(n.Published), PublishedBy: n.PublishedBy}
}

// NoticeDraftJSON is the body of POST /v1/notices.
type NoticeDraftJSON struct {
	Title       string   `json:"title"`
	Text        string   `json:"text"`
	Short       string   `json:"short"`
	PublicText  string   `json:"public_text"`
	PublicShort string   `json:"public_short"`
	Categories  []string `json:"categories"`
}

func (d NoticeDraftJSON) notice() store.Notice {
	return store.Notice{Title: d.Title, Text: d.Text, Short: d.Short, PublicText: d.PublicText, PublicShort: d.PublicShort, Categories: d.Categories}
}

// currentNotice reads the notice in force, answering the problem itself
// when there is none or the store fails.
func (s *server) currentNotice(w http.ResponseWriter, r *http.Request) (store.Notice, bool) {
	n, err := inform.CurrentNotice(r.Context(), s.cfg.Store)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return store.Notice{}, false
	}
	return n, true
}

func (s *server) apiCurrentNotice(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	n, ok := s.currentNotice(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, noticeJSON(n))
}

// apiNoticeBanner serves the short notice as plain text, for other
// systems' sign-in screens to show as they are.
func (s *server) apiNoticeBanner(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	n, ok := s.currentNotice(w, r)
	if !ok {
		return
	}
	writeText(w, n.Short)
}

// PublicNoticeJSON is GET /v1/public-notice: what members of the public who
// contact the organisation are told.
type PublicNoticeJSON struct {
	Version int64  `json:"version"`
	Title   string `json:"title"`
	Text    string `json:"text"`
	Short   string `json:"short"`
}

func (s *server) apiPublicNotice(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	n, ok := s.currentNotice(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, PublicNoticeJSON{Version: n.Version, Title: publicTitle, Text: n.PublicText, Short: n.PublicShort})
}

// apiPublicNoticeShort serves the public notice's short form as plain
// text, for e-mail footers and auto-replies.
func (s *server) apiPublicNoticeShort(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	n, ok := s.currentNotice(w, r)
	if !ok {
		return
	}
	writeText(w, n.PublicShort)
}

func writeText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintln(w, text)
}

const publicTitle = "How we record contact with us"

func (s *server) apiNotices(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	ns, err := s.cfg.Store.ListNotices(r.Context())
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeList(w, "notices", ns, noticeJSON)
}

// noticeVersion reads the {version} path value.
func (s *server) noticeVersion(r *http.Request) (store.Notice, error) {
	v, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || v < 1 {
		return store.Notice{}, errNotFound
	}
	return s.cfg.Store.NoticeByVersion(r.Context(), v)
}

func (s *server) apiNotice(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	n, err := s.noticeVersion(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, noticeJSON(n))
}

// apiDefaultNotice gives the notice lbm generates from its configuration,
// as a starting point for a draft.
func (s *server) apiDefaultNotice(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	d, err := s.defaultNotice(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, noticeJSON(d))
}

func (s *server) apiDraftNotice(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in NoticeDraftJSON
	if err := decodeJSONUpTo(w, r, &in, maxDocumentBody); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	n, err := s.draftNotice(r, p, in.notice())
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, noticeJSON(n))
}

func (s *server) draftNotice(r *http.Request, p identity.Principal, n store.Notice) (store.Notice, error) {
	cat, _, err := s.catalogue(r.Context())
	if err != nil {
		return store.Notice{}, err
	}
	n, err = inform.DraftNotice(r.Context(), s.cfg.Store, p, n, cat.Categories, s.cfg.Now())
	if err != nil {
		return store.Notice{}, err
	}
	_, err = s.cfg.Record(r.Context(), p.Subject, "notice_drafted", map[string]any{"notice_version": n.Version, "role": string(p.Role)})
	return n, err
}

// PublicationJSON is the body of POST /v1/notices/{version}/publication.
type PublicationJSON struct {
	Reason string `json:"reason"`
}

func (s *server) apiProposePublication(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in PublicationJSON
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	c, err := s.proposePublication(r, p, in.Reason)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, changeJSON(c))
}

func (s *server) proposePublication(r *http.Request, p identity.Principal, reason string) (store.Change, error) {
	n, err := s.noticeVersion(r)
	if err != nil {
		return store.Change{}, err
	}
	c, err := identity.ProposeNoticePublication(r.Context(), s.cfg.Store, p, n.Version, reason, s.cfg.Now())
	if err != nil {
		return store.Change{}, err
	}
	_, err = s.cfg.Record(r.Context(), p.Subject, "notice_change_proposed", map[string]any{
		"change": c.ID, "notice_version": n.Version, "role": string(p.Role),
	})
	return c, err
}

// AcknowledgementJSON is an acknowledgement in the API; the body of
// POST /v1/notices/current/acknowledgement is {"version": N}, the version
// the person read.
type AcknowledgementJSON struct {
	Version int64  `json:"version"`
	Time    string `json:"time"`
	Via     string `json:"via"`
	// OversightEntry is the index of the oversight-log leaf that records
	// it: `lbm verify inclusion --log oversight --index N` proves it.
	OversightEntry uint64 `json:"oversight_entry"`
}

func acknowledgementJSON(a store.Acknowledgement) AcknowledgementJSON {
	return AcknowledgementJSON{Version: a.Version, Time: formatTime(a.Time), Via: a.Via, OversightEntry: a.Entry}
}

func (s *server) apiAcknowledge(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in struct {
		Version int64 `json:"version"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if p.Person == nil {
		writeProblem(w, r, s.cfg.Logger, errForbidden)
		return
	}
	a, created, err := inform.Acknowledge(r.Context(), s.cfg.Store, s.cfg.Record, p.Subject, in.Version, inform.ViaAPI, s.cfg.Now())
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, acknowledgementJSON(a))
}

func (s *server) apiMyAcknowledgements(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if p.Person == nil {
		writeProblem(w, r, s.cfg.Logger, errForbidden)
		return
	}
	as, err := s.cfg.Store.AcknowledgementsOf(r.Context(), p.Subject)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeList(w, "acknowledgements", as, acknowledgementJSON)
}

func (s *server) apiNoticeReport(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	rep, err := inform.ComplianceReport(r.Context(), s.cfg.Store, s.cfg.Now())
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv") {
		writeComplianceCSV(w, rep)
		return
	}
	writeJSON(w, http.StatusOK, rep.Summary())
}

func writeComplianceCSV(w http.ResponseWriter, rep inform.Compliance) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="notice-%d-not-acknowledged.csv"`, rep.Notice.Version))
	w.Header().Set("Cache-Control", "no-store")
	inform.WriteComplianceCSV(w, rep)
}

func (s *server) apiRequestSubjectAccess(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var in struct {
		Details string `json:"details"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if p.Person == nil {
		writeProblem(w, r, s.cfg.Logger, errForbidden)
		return
	}
	q, err := subjectaccess.Make(r.Context(), s.cfg.Store, s.cfg.Record, p.Subject, in.Details, s.cfg.Now())
	var view subjectaccess.Request
	if err == nil {
		view, err = subjectaccess.Decode(q)
	}
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, mySubjectAccessJSON(view))
}

// Pages.

// staffNoticePage shows the notice in force to anyone; a signed-in person
// also sees their acknowledgement of it, or the button to give it.
func (s *server) staffNoticePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	n, err := inform.CurrentNotice(ctx, s.cfg.Store)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := s.noticePage(r, p, n, n.Title)
	page.ShortLabel, page.Short = "What other systems show when you sign in", n.Short
	if p.Kind == identity.KindSession && p.Person != nil {
		box := &pages.AcknowledgeBox{Version: strconv.FormatInt(n.Version, 10)}
		as, err := s.cfg.Store.AcknowledgementsOf(ctx, p.Subject)
		if err != nil {
			s.pageError(w, r, p, err)
			return
		}
		if i := slices.IndexFunc(as, func(a store.Acknowledgement) bool { return a.Version == n.Version }); i >= 0 {
			box.Done, box.When, box.Entry = true, displayTime(as[i].Time), strconv.FormatUint(as[i].Entry, 10)
		}
		page.Acknowledge = box
	}
	if r.URL.Query().Has("acknowledged") {
		page.Notice = "Thank you. Your acknowledgement is recorded."
	}
	if r.URL.Query().Has("changed") && page.Acknowledge != nil && !page.Acknowledge.Done {
		page.Errors = []pages.FieldError{{Message: "The notice changed while you were reading it, so your acknowledgement was not recorded. Read this version and acknowledge it."}}
	}
	s.render(w, r, http.StatusOK, page)
}

// noticePage is the frame of a notice's page: its text and related links.
func (s *server) noticePage(r *http.Request, p identity.Principal, n store.Notice, title string) *pages.Notice {
	page := &pages.Notice{Layout: s.layout(r, p, title), Heading: title, Blocks: noticeBlocks(n.Text)}
	if n.Published.IsZero() {
		page.Status = fmt.Sprintf("Draft version %d: not published", n.Version)
	} else {
		page.Status = fmt.Sprintf("Version %d, published %s", n.Version, displayDate(n.Published))
	}
	page.Links = []pages.Card{
		{Title: "Why we may monitor", Href: "/purposes", Text: "The lawful purposes, and their limits."},
		{Title: "The law", Href: "/legislation", Text: "The laws that allow, limit and govern monitoring."},
		{Title: "How intrusion is weighed", Href: "/criteria", Text: "The questions every request to look must answer."},
		{Title: publicTitle, Href: "/public-notice", Text: "What members of the public who contact us are told."},
	}
	return page
}

func (s *server) publicNoticePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	n, err := inform.CurrentNotice(r.Context(), s.cfg.Store)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := s.noticePage(r, p, n, publicTitle)
	page.Blocks = noticeBlocks(n.PublicText)
	page.ShortLabel, page.Short = "The short version, for e-mail footers and automatic replies", n.PublicShort
	page.Links = page.Links[:2]
	s.render(w, r, http.StatusOK, page)
}

func (s *server) acknowledgePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if p.Person == nil {
		s.pageError(w, r, p, errForbidden)
		return
	}
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		s.pageError(w, r, p, &validationError{"version", "the form names no notice version"})
		return
	}
	_, _, err = inform.Acknowledge(r.Context(), s.cfg.Store, s.cfg.Record, p.Subject, version, inform.ViaWeb, s.cfg.Now())
	var nc *inform.NotCurrentError
	if errors.As(err, &nc) {
		// A new version was published while the page was open: show it,
		// saying why the acknowledgement was not taken.
		http.Redirect(w, r, "/notice?changed=1", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/notice?acknowledged=1", http.StatusSeeOther)
}

func (s *server) noticesPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ns, err := s.cfg.Store.ListNotices(r.Context())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page := &pages.Notices{Layout: s.layout(r, p, "Monitoring notices"), CanDraft: p.Role == identity.RoleAdmin}
	current := int64(0)
	for _, n := range ns {
		if !n.Published.IsZero() && n.Version > current {
			current = n.Version
		}
	}
	if current > 0 {
		page.Current = strconv.FormatInt(current, 10)
	}
	for _, n := range ns {
		state := "Draft"
		switch {
		case n.Version == current:
			state = "Published"
		case !n.Published.IsZero():
			state = "Superseded"
		}
		v := strconv.FormatInt(n.Version, 10)
		page.Rows = append(page.Rows, pages.NoticeRow{Version: v, Title: n.Title, State: state, Created: displayTime(n.Created),
			CreatedBy: n.CreatedBy, Published: displayTime(n.Published), PublishedBy: n.PublishedBy, Href: "/notices/" + v})
	}
	if r.URL.Query().Has("proposed") {
		page.Notice = "Publication proposed. It takes effect when another administrator approves it at Changes."
	}
	s.render(w, r, http.StatusOK, page)
}

// previewPage shows any version as its readers will see it, with the
// short texts, and offers administrators to propose publishing a draft.
func (s *server) previewPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	n, err := s.noticeVersion(r)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page, err := s.previewNotice(r, p, n, "")
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) previewNotice(r *http.Request, p identity.Principal, n store.Notice, reason string) (*pages.Notice, error) {
	page := s.noticePage(r, p, n, n.Title)
	page.Preview = n.Published.IsZero()
	page.ShortLabel, page.Short = "What other systems show when staff sign in", n.Short
	page.ExtraShortLabel, page.ExtraShort = "For e-mail footers and automatic replies to the public", n.PublicShort
	page.Links = nil
	if p.Role == identity.RoleAdmin && n.Published.IsZero() {
		cs, err := s.cfg.Store.ListChanges(r.Context(), identity.ChangePending)
		if err != nil {
			return nil, err
		}
		pending := slices.ContainsFunc(cs, func(c store.Change) bool {
			return c.Kind == identity.ChangeNotice && c.Target == strconv.FormatInt(n.Version, 10)
		})
		page.Publish = &pages.PublishForm{Action: "/notices/" + strconv.FormatInt(n.Version, 10) + "/publish", Reason: reason, Pending: pending}
	}
	return page, nil
}

func (s *server) publishPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	reason := r.PostFormValue("reason")
	_, err := s.proposePublication(r, p, reason)
	if err == nil {
		http.Redirect(w, r, "/notices?proposed=1", http.StatusSeeOther)
		return
	}
	var ce *identity.ChangeError
	if !errors.As(err, &ce) || ce.Field != "reason" {
		s.pageError(w, r, p, err)
		return
	}
	n, err2 := s.noticeVersion(r)
	if err2 != nil {
		s.pageError(w, r, p, err2)
		return
	}
	page, err2 := s.previewNotice(r, p, n, reason)
	if err2 != nil {
		s.pageError(w, r, p, err2)
		return
	}
	page.Errors = []pages.FieldError{{Field: "reason", Message: "Enter why this version should be published"}}
	s.render(w, r, http.StatusBadRequest, page)
}

func (s *server) draftNoticePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	ctx := r.Context()
	var base store.Notice
	var basis string
	cur, err := inform.CurrentNotice(ctx, s.cfg.Store)
	switch {
	case err == nil && !r.URL.Query().Has("default"):
		base, basis = cur, fmt.Sprintf("the published version %d (to start from the generated default instead, open /notices/new?default)", cur.Version)
	case err == nil || errors.Is(err, inform.ErrNoNotice):
		if base, err = s.defaultNotice(r); err != nil {
			s.pageError(w, r, p, err)
			return
		}
		basis = "the notice lbm generates from its configuration: the systems connected, the data categories, the purposes and the law"
	default:
		s.pageError(w, r, p, err)
		return
	}
	page, err := s.draftForm(r, p, base, basis)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, page)
}

// draftForm offers the data categories of the catalogue in force, those a
// notice may say are monitored.
func (s *server) draftForm(r *http.Request, p identity.Principal, n store.Notice, basis string) (*pages.DraftNotice, error) {
	cat, _, err := s.catalogue(r.Context())
	if err != nil {
		return nil, err
	}
	page := &pages.DraftNotice{Layout: s.layout(r, p, "Draft a monitoring notice"), Title: n.Title, Text: n.Text, Short: n.Short,
		PublicText: n.PublicText, PublicShort: n.PublicShort, Basis: basis}
	for _, c := range cat.Categories {
		page.Categories = append(page.Categories, pages.Option{Value: c.ID, Label: c.Title, Selected: slices.Contains(n.Categories, c.ID)})
	}
	return page, nil
}

func (s *server) draftNoticeSubmit(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseFormUpTo(w, r, maxDocumentBody); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	in := store.Notice{Title: r.PostFormValue("title"), Text: r.PostFormValue("text"), Short: r.PostFormValue("short"),
		PublicText: r.PostFormValue("public_text"), PublicShort: r.PostFormValue("public_short"), Categories: r.PostForm["categories"]}
	n, err := s.draftNotice(r, p, in)
	if err == nil {
		http.Redirect(w, r, "/notices/"+strconv.FormatInt(n.Version, 10), http.StatusSeeOther)
		return
	}
	fes := inform.FieldErrors(err)
	if fes == nil {
		s.pageError(w, r, p, err)
		return
	}
	page, err := s.draftForm(r, p, in, "")
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	for _, e := range fes {
		page.Errors = append(page.Errors, pages.FieldError{Field: e.Field, Message: e.Error()})
	}
	s.render(w, r, http.StatusBadRequest, page)
}

func (s *server) noticeReportPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	rep, err := inform.ComplianceReport(r.Context(), s.cfg.Store, s.cfg.Now())
	page := &pages.NoticeCompliance{Layout: s.layout(r, p, "Who has not acknowledged the notice")}
	if errors.Is(err, inform.ErrNoNotice) {
		s.render(w, r, http.StatusOK, page)
		return
	}
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page.Version = strconv.FormatInt(rep.Notice.Version, 10)
	page.CSVHref = "/reports/notices.csv"
	page.Outstanding = rep.Outstanding()
	pct := 100.0
	if rep.Coverage.Active > 0 {
		pct = 100 * float64(rep.Coverage.Acknowledged) / float64(rep.Coverage.Active)
	}
	page.Coverage = fmt.Sprintf("%d of %d people (%.1f%%) have acknowledged version %d", rep.Coverage.Acknowledged, rep.Coverage.Active, pct, rep.Notice.Version)
	for _, u := range rep.Units {
		unit := pages.ComplianceUnit{Unit: u.Unit}
		if unit.Unit == "" {
			unit.Unit = "No unit"
		}
		for _, m := range u.Managers {
			mg := pages.ComplianceManager{Manager: "No line manager"}
			switch {
			case m.Manager != "" && m.ManagerName != "":
				mg.Manager = fmt.Sprintf("Line manager: %s (%s)", m.ManagerName, m.Manager)
			case m.Manager != "":
				mg.Manager = "Line manager: " + m.Manager
			}
			for _, person := range m.People {
				mg.People = append(mg.People, pages.CompliancePerson{ID: person.ID, Name: person.Name, Number: person.Number})
			}
			unit.Managers = append(unit.Managers, mg)
		}
		page.Units = append(page.Units, unit)
	}
	s.render(w, r, http.StatusOK, page)
}

func (s *server) noticeReportCSV(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	rep, err := inform.ComplianceReport(r.Context(), s.cfg.Store, s.cfg.Now())
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	writeComplianceCSV(w, rep)
}

// mePage is the person's own page. It shows what everyone is told and
// what the person did, and nothing about any monitoring of them.
func (s *server) mePage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.renderMe(w, r, p, http.StatusOK, "", nil)
}

func (s *server) renderMe(w http.ResponseWriter, r *http.Request, p identity.Principal, status int, details string, errs []pages.FieldError) {
	ctx := r.Context()
	if p.Person == nil {
		s.pageError(w, r, p, errForbidden)
		return
	}
	page := &pages.Me{Layout: s.layout(r, p, "Monitoring and your data"), Name: p.Person.Name, Details: details}
	page.Errors = errs
	cur, err := inform.CurrentNotice(ctx, s.cfg.Store)
	if err != nil && !errors.Is(err, inform.ErrNoNotice) {
		s.pageError(w, r, p, err)
		return
	}
	as, err := s.cfg.Store.AcknowledgementsOf(ctx, p.Subject)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if cur.Version > 0 {
		page.NoticeVersion = strconv.FormatInt(cur.Version, 10)
		page.NeedsAcknowledging = !inform.HasAcknowledged(as, cur.Version)
	}
	for _, a := range as {
		title := ""
		if n, err := s.cfg.Store.NoticeByVersion(ctx, a.Version); err == nil {
			title = n.Title
		}
		page.Acknowledgements = append(page.Acknowledgements, pages.AcknowledgementRow{Version: strconv.FormatInt(a.Version, 10), Title: title,
			When: displayTime(a.Time), Via: map[string]string{inform.ViaWeb: "On this website", inform.ViaAPI: "Through another system"}[a.Via],
			Entry: strconv.FormatUint(a.Entry, 10), Current: a.Version == cur.Version})
	}
	cat, _, err := s.catalogue(ctx)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	page.Collected = collectedRows(cat.Categories)
	sources, err := s.cfg.Store.ListSources(ctx)
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	for _, src := range sources {
		page.Sources = append(page.Sources, src.ID)
	}
	if page.Requests, err = s.mySubjectAccessRows(r, p); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if r.URL.Query().Has("requested") {
		page.Notice = "Your request has been sent to the Data Protection Officer."
	}
	s.render(w, r, status, page)
}

func (s *server) requestSubjectAccessPage(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if err := parseForm(w, r); err != nil {
		s.pageError(w, r, p, err)
		return
	}
	if p.Person == nil {
		s.pageError(w, r, p, errForbidden)
		return
	}
	details := r.PostFormValue("details")
	_, err := subjectaccess.Make(r.Context(), s.cfg.Store, s.cfg.Record, p.Subject, details, s.cfg.Now())
	var de *subjectaccess.DetailsError
	if errors.As(err, &de) {
		s.renderMe(w, r, p, http.StatusBadRequest, details, []pages.FieldError{{Field: "details", Message: "Details must be " + strings.TrimPrefix(de.Error(), "details: ")}})
		return
	}
	if err != nil {
		s.pageError(w, r, p, err)
		return
	}
	http.Redirect(w, r, "/me?requested=1", http.StatusSeeOther)
}

// displayDate is t's date as pages show it.
func displayDate(t time.Time) string {
	return t.UTC().Format("2 January 2006")
}
