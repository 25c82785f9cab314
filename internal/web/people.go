package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/store"
)

// PersonJSON is a person in the API.
type PersonJSON struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Number  string   `json:"number,omitempty"`
	Unit    string   `json:"unit,omitempty"`
	Manager string   `json:"manager,omitempty"`
	Rank    string   `json:"rank,omitempty"`
	Grade   string   `json:"grade,omitempty"`
	Roles   []string `json:"roles"`
	Adviser string   `json:"adviser,omitempty"`
	// Emails and Username are what other systems call the person, by
	// which captured messages are attributed to them.
	Emails   []string `json:"emails,omitempty"`
	Username string   `json:"username,omitempty"`
	Status   string   `json:"status"` // "active" or "left"
	LeftOn   string   `json:"left_on,omitempty"`
	Version  int64    `json:"version"`
}

func personJSON(p store.Person, now time.Time) PersonJSON {
	out := PersonJSON{ID: p.ID, Name: p.Name, Number: p.Number, Unit: p.Unit, Manager: p.Manager, Rank: p.Rank,
		Grade: p.Grade, Roles: p.Roles, Adviser: p.Adviser, Emails: p.Emails, Username: p.Username, Status: "active", Version: p.Version}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	if !p.LeftOn.IsZero() {
		out.LeftOn = p.LeftOn.Format(time.DateOnly)
		if identity.Left(p, now) {
			out.Status = "left"
		}
	}
	return out
}

// ChangeJSON is a dual-control change in the API.
type ChangeJSON struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// Proposed is the change's payload, whose shape is the Kind's: for
	// "person" {"roles", "adviser"}, for "catalogue" the three files, for
	// "consent_policy" {"yaml"}, for "notice" {}.
	Proposed   json.RawMessage `json:"proposed"`
	Base       int64           `json:"base_version"`
	Reason     string          `json:"reason"`
	ProposedBy string          `json:"proposed_by"`
	ProposedAt time.Time       `json:"proposed_at"`
	State      string          `json:"state"`
	DecidedBy  string          `json:"decided_by,omitempty"`
	DecidedAt  *time.Time      `json:"decided_at,omitempty"`
}

func changeJSON(c store.Change) ChangeJSON {
	out := ChangeJSON{ID: c.ID, Kind: c.Kind, Target: c.Target, Base: c.Base, Reason: c.Reason,
		ProposedBy: c.ProposedBy, ProposedAt: c.Proposed.UTC(), State: c.State, DecidedBy: c.DecidedBy}
	out.Proposed = json.RawMessage(c.Payload)
	if !json.Valid(out.Proposed) {
		out.Proposed = json.RawMessage("{}")
	}
	if !c.Decided.IsZero() {
		d := c.Decided.UTC()
		out.DecidedAt = &d
	}
	return out
}

// MeJSON is GET /v1/me.
type MeJSON struct {
	Kind    string      `json:"kind"`
	Subject string      `json:"subject"`
	Role    string      `json:"role"`
	Rank    string      `json:"rank,omitempty"`
	Person  *PersonJSON `json:"person,omitempty"`
}

func (s *server) apiMe(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	me := MeJSON{Kind: p.Kind, Subject: p.Subject, Role: string(p.Role), Rank: string(p.Rank(s.cfg.Grades))}
	if p.Person != nil {
		pj := personJSON(*p.Person, s.cfg.Now())
		me.Person = &pj
	}
	writeJSON(w, http.StatusOK, me)
}

func (s *server) apiSignOut(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	if p.Kind == identity.KindAdmin || p.Kind == identity.KindSource {
		// These live in files and the CLI; revoking them here would lock
		// out the machine or the bootstrap with no way back but the CLI.
		writeProblem(w, r, s.cfg.Logger, errForbidden)
		return
	}
	if err := s.sessions.SignOut(r.Context(), p, s.cfg.Now()); err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxPageSize bounds one page of a listing.
const maxPageSize = 1000

// pageLimit reads ?limit= (1 to maxPageSize, default def).
func pageLimit(r *http.Request, def int) (int, error) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return def, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, &validationError{"limit", fmt.Sprintf("a number from 1 to %d", maxPageSize)}
	}
	return n, nil
}

func (s *server) listPeople(r *http.Request) ([]store.Person, string, error) {
	q := store.PeopleQuery{Text: r.URL.Query().Get("q"), After: r.URL.Query().Get("after"), Limit: 100}
	if len(q.Text) > 200 {
		return nil, "", &validationError{"q", "at most 200 bytes"}
	}
	var err error
	if q.Limit, err = pageLimit(r, q.Limit); err != nil {
		return nil, "", err
	}
	// One more than asked tells whether there is a next page.
	want := q.Limit
	q.Limit++
	ps, err := s.cfg.Store.ListPeople(r.Context(), q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ps) > want {
		ps = ps[:want]
		next = ps[want-1].ID
	}
	return ps, next, nil
}

func (s *server) apiPeople(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	ps, next, err := s.listPeople(r)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := struct {
		People []PersonJSON `json:"people"`
		Next   string       `json:"next,omitempty"`
	}{People: []PersonJSON{}, Next: next}
	now := s.cfg.Now()
	for _, p := range ps {
		out.People = append(out.People, personJSON(p, now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) apiPerson(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	p, err := s.cfg.Store.PersonByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, personJSON(p, s.cfg.Now()))
}

// ProposalJSON is the body of POST /v1/people/{id}/changes.
type ProposalJSON struct {
	Roles   []string `json:"roles"`
	Adviser string   `json:"adviser"`
	Reason  string   `json:"reason"`
}

// maxJSONBody bounds a JSON request body other than ingest.
const maxJSONBody = 64 << 10

func (s *server) apiProposeChange(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	var raw map[string]json.RawMessage
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	if json.Unmarshal(body, &raw) == nil {
		if _, ok := raw["rank"]; ok {
			writeProblem(w, r, s.cfg.Logger, &validationError{"rank", "ranks come only from the HR import or the identity provider"})
			return
		}
	}
	var in ProposalJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeProblem(w, r, s.cfg.Logger, &validationError{"body", fmt.Sprintf("not the expected JSON: %v", err)})
		return
	}
	c, err := s.proposeChange(r, p, r.PathValue("id"), identity.PersonChange{Roles: in.Roles, Adviser: in.Adviser}, in.Reason)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, changeJSON(c))
}

// proposeChange proposes and records a change; pages and the API share it.
func (s *server) proposeChange(r *http.Request, p identity.Principal, id string, pc identity.PersonChange, reason string) (store.Change, error) {
	c, err := identity.ProposePersonChange(r.Context(), s.cfg.Store, p, id, pc, reason, s.cfg.Now())
	if err != nil {
		return store.Change{}, err
	}
	var proposed identity.PersonChange
	json.Unmarshal(c.Payload, &proposed)
	_, err = s.cfg.Record(r.Context(), p.Subject, "person_change_proposed", map[string]any{
		"change": c.ID, "person": c.Target, "roles": proposed.Roles, "adviser": proposed.Adviser, "role": string(p.Role),
	})
	return c, err
}

// decideChange decides and records a change; pages and the API share it.
func (s *server) decideChange(r *http.Request, p identity.Principal, approve bool) (store.Change, store.ChangeEffect, error) {
	c, effect, err := identity.DecideChange(r.Context(), s.cfg.Store, p, r.PathValue("id"), approve, s.cfg.Now())
	if err != nil {
		return c, effect, err
	}
	details := map[string]any{"change": c.ID, "proposed_by": c.ProposedBy, "role": string(p.Role)}
	switch c.Kind {
	case identity.ChangePerson:
		details["person"] = c.Target
	case identity.ChangeNotice:
		details["notice_version"] = c.Target
	case identity.ChangeCatalogue, identity.ChangeConsentPolicy, identity.ChangeRules:
		details["base_version"] = c.Base
	}
	if e := effect.Person; e != nil {
		details["roles"] = e.Roles
		details["adviser"] = e.Adviser
	}
	if e := effect.Catalogue; e != nil {
		details["catalogue_version"] = e.Version
	}
	if e := effect.ConsentPolicy; e != nil {
		details["consent_policy_version"] = e.Version
	}
	if e := effect.RuleSet; e != nil {
		details["rules_version"] = e.Version
	}
	_, err = s.cfg.Record(r.Context(), p.Subject, c.Kind+"_change_"+c.State, details)
	return c, effect, err
}

func (s *server) apiChanges(w http.ResponseWriter, r *http.Request, _ identity.Principal) {
	state := r.URL.Query().Get("state")
	switch state {
	case "", identity.ChangePending, identity.ChangeApproved, identity.ChangeRejected:
	default:
		writeProblem(w, r, s.cfg.Logger, &validationError{"state", "pending, approved or rejected"})
		return
	}
	cs, err := s.cfg.Store.ListChanges(r.Context(), state)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	writeList(w, "changes", cs, changeJSON)
}

// DecisionJSON is the answer to an approval or rejection.
type DecisionJSON struct {
	Change ChangeJSON  `json:"change"`
	Person *PersonJSON `json:"person,omitempty"` // an approved person change: the person now
	// NoticeVersion is the notice an approved publication published.
	NoticeVersion int64 `json:"notice_version,omitempty"`
	// CatalogueVersion is the version an approved catalogue change added.
	CatalogueVersion int64 `json:"catalogue_version,omitempty"`
	// ConsentPolicyVersion is the version an approved consent policy
	// change added.
	ConsentPolicyVersion int64 `json:"consent_policy_version,omitempty"`
	// RulesVersion is the version of the detection rules an approved
	// rules change added; the detectors reload it.
	RulesVersion int64 `json:"rules_version,omitempty"`
}

func (s *server) apiDecide(w http.ResponseWriter, r *http.Request, p identity.Principal, approve bool) {
	c, effect, err := s.decideChange(r, p, approve)
	if err != nil {
		writeProblem(w, r, s.cfg.Logger, err)
		return
	}
	out := DecisionJSON{Change: changeJSON(c)}
	if effect.Person != nil {
		pj := personJSON(*effect.Person, s.cfg.Now())
		out.Person = &pj
	}
	if effect.Publish != nil {
		out.NoticeVersion = effect.Publish.Version
	}
	if effect.Catalogue != nil {
		out.CatalogueVersion = effect.Catalogue.Version
	}
	if effect.ConsentPolicy != nil {
		out.ConsentPolicyVersion = effect.ConsentPolicy.Version
	}
	if effect.RuleSet != nil {
		out.RulesVersion = effect.RuleSet.Version
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) apiApproveChange(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.apiDecide(w, r, p, true)
}

func (s *server) apiRejectChange(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	s.apiDecide(w, r, p, false)
}
