package server

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lbm-project/lbm/internal/consent"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/requests"
	"github.com/lbm-project/lbm/internal/store"
)

// loadDemoRequests gives the demo force's anti-corruption command some
// casework, so that the queues, the request pages and the central record
// have something in them: an authorisation in force, a request awaiting a
// decision and a draft, all by the investigator (not the one proposed as
// an acting authoriser) with the highest id, who has a set-up link. It
// does nothing when any request is stored.
func loadDemoRequests(ctx context.Context, n *Node) error {
	if rs, err := n.Store.ListRequests(ctx, store.RequestQuery{Limit: 1}); err != nil || len(rs) > 0 {
		return err
	}
	people, err := n.Store.ListPeople(ctx, store.PeopleQuery{Limit: 1000})
	if err != nil {
		return err
	}
	proposed, err := n.Store.ListChanges(ctx, "pending")
	if err != nil {
		return err
	}
	actingUp := func(id string) bool {
		return slices.ContainsFunc(proposed, func(c store.Change) bool { return c.Kind == "person" && c.Target == id })
	}
	var investigators, authorisers, constables []store.Person
	for _, p := range people {
		if actingUp(p.ID) {
			continue
		}
		switch {
		case slices.Contains(p.Roles, "authoriser") && !slices.Contains(p.Roles, "investigator"):
			authorisers = append(authorisers, p)
		case slices.Contains(p.Roles, "investigator"):
			investigators = append(investigators, p)
		case p.Rank == string(identity.Constable) && len(p.Roles) == 1:
			constables = append(constables, p)
		}
	}
	if len(investigators) == 0 || len(authorisers) == 0 || len(constables) < 3 {
		return nil
	}
	ivy := investigators[len(investigators)-1]
	as := func(p store.Person, role identity.Role) identity.Principal {
		return identity.Principal{Kind: identity.KindUser, Subject: p.ID, Role: role, Person: &p}
	}
	now := n.Now().UTC()
	window := &requests.Window{From: now.AddDate(0, -2, 0).Truncate(24 * time.Hour), To: now.Truncate(24 * time.Hour)}

	active := demoRequest(constables[0].ID, ivy.ID, window, "Kestrel", "PSD-2026-114",
		"A member of the public reports that the officer knew her new address days after she moved; only police systems held it.",
		map[string]string{
			"EXTENT":            "Record lookups and e-mail for two months, with content only where a message names the address or the complainant.",
			"LEGITIMATE_REASON": "Using police systems to trace a former partner would be gross misconduct and possibly an offence under the Computer Misuse Act.",
			"LESS_INTRUSIVE":    "The system's own audit shows a lookup happened but not its purpose; asking the officer first would warn them.",
			"CONSEQUENCES":      "A misconduct meeting or hearing may follow; private correspondence unrelated to the address is neither read nor kept.",
			"SAFEGUARDS":        "Two named investigators, everyone else pseudonymised, results held in the professional standards case file only.",
			"REMEDY":            "The officer sees the evidence before any hearing, may challenge it there, and may complain to the IOPC.",
		},
		"The complainant's own record shows in the lookups; no other colleague's activity is examined beyond that overlap.")
	pending := demoRequest(constables[1].ID, ivy.ID, window, "Lantern", "PSD-2026-131",
		"Custody records were changed after a detainee's complaint; the sergeant's log-ins match the times of the edits.",
		map[string]string{
			"EXTENT":            "Custody system record queries and device log-ons for the officer during the eight weeks around the complaint.",
			"LEGITIMATE_REASON": "Falsifying custody records would undermine the complaint process and is gross misconduct under the standards.",
			"LESS_INTRUSIVE":    "The custody system keeps the edit but not which terminal or session made it; only the access logs show that.",
			"CONSEQUENCES":      "If the edits were improper a hearing will follow; activity unrelated to custody records is not examined.",
			"SAFEGUARDS":        "One investigator, detainees' names pseudonymised, nothing kept beyond the edits in question and their context.",
			"REMEDY":            "The officer is told of the findings, may answer them at interview, and has the usual right of appeal.",
		},
		"Detainees and other custody staff appear in the results; they are pseudonymised and not a subject of any finding.")
	pending.Categories = []requests.CategoryScope{{Category: "record_query"}, {Category: "device"}}
	pending.DPIAReference = ""
	draft := requests.Request{Subjects: []string{constables[2].ID}, Investigators: []string{ivy.ID}, Mode: consent.ModeReview,
		Operation: requests.Operation{Name: "Heron", Reference: "PSD-2026-140"}}

	for i, w := range []requests.Request{active, pending, draft} {
		r, err := n.Requests.Create(ctx, as(ivy, identity.RoleInvestigator), w)
		if err != nil {
			return fmt.Errorf("demo request %d: %w", i+1, err)
		}
		if i == 2 {
			continue // the draft
		}
		if r, err = n.Requests.Submit(ctx, as(ivy, identity.RoleInvestigator), r.ID); err != nil {
			return fmt.Errorf("submitting demo request %d: %w", i+1, err)
		}
		if i == 1 {
			continue // awaiting a decision
		}
		_, err = n.Requests.Act(ctx, as(authorisers[len(authorisers)-1], identity.RoleAuthoriser), r.ID, func(by requests.Actor) requests.Action {
			return requests.Decide{By: by, Authorise: true,
				Reasons: "The complainant's account is specific and only police systems held the address, so a short focused review is justified.",
				Views: map[string]string{
					"NOTICE":            "The officer acknowledged the notice covering both categories; monitoring of this kind was foreseeable.",
					"EXTENT":            "Two months, with content only where the address appears, is as narrow as the question allows.",
					"LEGITIMATE_REASON": "Protecting a member of the public from misuse of police data is a pressing and legitimate aim.",
					"LESS_INTRUSIVE":    "I agree the audit summary cannot show purpose and that asking first would defeat the inquiry.",
					"CONSEQUENCES":      "Serious for the officer if proven; the handling rules keep private matters out of the file.",
					"SAFEGUARDS":        "Named investigators and pseudonyms for others are proportionate to what is being examined.",
					"REMEDY":            "The officer keeps every route of challenge, at the hearing and to the IOPC, as the request says.",
				}}
		})
		if err != nil {
			return fmt.Errorf("deciding demo request %d: %w", i+1, err)
		}
	}
	return nil
}

func demoRequest(subject, investigator string, window *requests.Window, op, ref, necessity string, criteria map[string]string, collateral string) requests.Request {
	return requests.Request{
		Subjects: []string{subject}, Investigators: []string{investigator},
		Categories: []requests.CategoryScope{{Category: "record_query"}, {Category: "email", Content: true}},
		Mode:       consent.ModeReview, Window: window, Purpose: "PREVENT_DETECT_CRIME", Investigation: consent.Misconduct,
		Operation: requests.Operation{Name: op, Reference: ref}, DPIAReference: "DPIA-2026-03",
		Necessity: necessity, Criteria: criteria,
		Collateral: requests.Collateral{Level: consent.CollateralLow, Explanation: collateral},
	}
}
