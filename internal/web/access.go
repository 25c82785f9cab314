package web

import (
	"net/http"
	"slices"

	"github.com/lbm-project/lbm/internal/identity"
)

// Rule says who may perform an action.
type Rule struct {
	// Public admits anyone, signed in or not.
	Public bool
	// Roles maps each role that may act to the condition under which it
	// may; a nil Condition admits the role unconditionally. A role not in
	// the map is refused.
	Roles map[identity.Role]Condition
	// StepUp requires a second factor given within
	// identity.StepUpLifetime: every decision and review action has it.
	StepUp bool
}

// A Condition refuses (with an error writeProblem maps) a principal whose
// role the rule admits but who may not act on this particular request:
// an authoriser deciding their own request, an admin deciding their own
// change. It must not change anything.
type Condition func(s *server, r *http.Request, p identity.Principal) error

// Role sets for policy entries.
var (
	everyone = []identity.Role{identity.RoleStaff, identity.RoleInvestigator, identity.RoleAuthoriser,
		identity.RoleAdviser, identity.RoleDPO, identity.RoleOversight, identity.RoleAdmin}
)

// everyoneAndNational adds national oversight to everyone, for the
// account basics the national node serves its staff.
var everyoneAndNational = append(slices.Clone(everyone), identity.RoleNationalOversight)

func allow(roles ...identity.Role) map[identity.Role]Condition {
	m := map[identity.Role]Condition{}
	for _, r := range roles {
		m[r] = nil
	}
	return m
}

// accessPolicy is the access table: every action any route performs, and who
// may perform it (DESIGN.md, "Who uses it"). An action not here cannot be
// routed (New refuses to start), and a role not named is refused.
func accessPolicy() map[string]Rule {
	return map[string]Rule{
		// Machines.
		"events.ingest": {Roles: allow(identity.RoleSource)},
		"email.ingest":  {Roles: allow(identity.RoleSource)},
		// Shippers send as sources too (shippers.go): _bulk, OTLP logs,
		// and the Elasticsearch calls they make at start-up. None is
		// public: the Elasticsearch answers say nothing secret, but an
		// open endpoint would let anyone probe that lbm takes logs here.
		"events.ingest.es":      {Roles: allow(identity.RoleSource)},
		"events.ingest.es-info": {Roles: allow(identity.RoleSource)},
		"events.ingest.otlp":    {Roles: allow(identity.RoleSource)},
		"metrics.read":          {Roles: allow(identity.RoleAdmin)},

		// The logs hold only commitments: anyone may read and verify them.
		"logs.list":       {Public: true},
		"logs.checkpoint": {Public: true},
		"logs.tile":       {Public: true},
		"health.live":     {Public: true},
		"health.ready":    {Public: true},
		"assets.read":     {Public: true},

		// Why staff may be monitored, and under which law: everyone may
		// read it, signed in or not (SI 2018/356 reg 4(1)(c)).
		"catalogue.read": {Public: true},
		// So is the monitoring notice in force, its short forms and the
		// notice for members of the public.
		"notice.read": {Public: true},
		// So are the figures of how monitoring is used: counts only,
		// small ones suppressed.
		"transparency.read": {Public: true},
		// Every person acknowledges for themselves, whichever role they
		// are acting in.
		"notice.acknowledge": {Roles: allow(everyone...)},
		// Staff ask for their own data; the DPO handles the requests.
		"subject-access.request": {Roles: allow(everyone...)},
		"subject-access.list":    {Roles: allow(identity.RoleDPO)},
		// Handling one is the DPO's alone (internal/subjectaccess refuses
		// every other role again, and a DPO their own request). Opening
		// it authorises a look at the person's data and answering
		// discloses it, so each step needs a second factor, as decisions
		// do.
		"subject-access.handle": {Roles: allow(identity.RoleDPO), StepUp: true},
		// Only the person downloads their own answer; the service finds
		// no one else's.
		"subject-access.download": {Roles: allow(everyone...)},

		// Policy under dual control: administrators draft and propose,
		// a second administrator approves at changes.decide. Oversight
		// reads the history.
		"notices.list":      {Roles: allow(identity.RoleAdmin, identity.RoleOversight)},
		"notices.draft":     {Roles: allow(identity.RoleAdmin)},
		"notices.publish":   {Roles: allow(identity.RoleAdmin)},
		"catalogue.history": {Roles: allow(identity.RoleAdmin, identity.RoleOversight)},
		"catalogue.propose": {Roles: allow(identity.RoleAdmin)},
		// The consent-level policy likewise; anyone signed in reads the
		// policy in force, so that an investigator sees what their
		// request will need.
		"consent-policy.read":    {Roles: allow(everyone...)},
		"consent-policy.history": {Roles: allow(identity.RoleAdmin, identity.RoleOversight)},
		"consent-policy.propose": {Roles: allow(identity.RoleAdmin)},
		// Who has not acknowledged the notice: administrators chase it,
		// oversight and the DPO check it was done.
		"reports.notices": {Roles: allow(identity.RoleAdmin, identity.RoleOversight, identity.RoleDPO)},
		// The oversight report: the figures inspectors ask for, and the
		// administrators who run the service answer for.
		"reports.oversight": {Roles: allow(identity.RoleAdmin, identity.RoleOversight)},

		// Signing in and out.
		"session.sign-in": {Public: true},
		"session.setup":   {Public: true}, // the link's token is the credential
		// National oversight signs in and out, and steps up, on the
		// national node: the only place its role is held.
		"session.sign-out": {Roles: allow(everyoneAndNational...)},
		"session.step-up":  {Roles: allow(everyoneAndNational...)},
		"session.role":     {Roles: allow(everyone...)},
		"home.read":        {Roles: allow(everyone...)},
		"me.read":          {Roles: allow(everyoneAndNational...)},
		// Each person reads and marks their own inbox only, in any role:
		// a notification is for the person, whichever hat they wear.
		"inbox.read": {Roles: allow(everyone...)},
		"inbox.mark": {Roles: allow(everyone...)},

		// The directory and dual control. Admins manage people but never
		// see event content; oversight reads who holds which role.
		"people.list":     {Roles: allow(identity.RoleAdmin, identity.RoleOversight)},
		"people.read":     {Roles: allow(identity.RoleAdmin, identity.RoleOversight)},
		"changes.list":    {Roles: allow(identity.RoleAdmin, identity.RoleOversight)},
		"changes.propose": {Roles: allow(identity.RoleAdmin)},
		// The oversight log holds no event content: oversight reads it,
		// and administrators see their own actions there.
		"oversight.read": {Roles: allow(identity.RoleOversight, identity.RoleAdmin)},
		// Whether an entry is stored or was deleted under retention, and
		// when: what the people who answer for the logs check. Nothing
		// the entry says is shown.
		"logs.entry-status": {Roles: allow(identity.RoleOversight, identity.RoleAdmin, identity.RoleDPO)},
		// Which witnesses cosign the logs, and how each is doing: part
		// of verifying the logs, with no event content.
		"witnesses.read": {Roles: allow(identity.RoleOversight, identity.RoleAdmin)},
		// Requests to monitor, record or review. The access table admits
		// roles; internal/requests decides, for each request, whether this
		// person may act (never the requester deciding, never a subject,
		// the rank the request needs). Decisions need a second factor.
		"requests.draft":  {Roles: allow(identity.RoleInvestigator)},
		"requests.read":   {Roles: allow(identity.RoleInvestigator, identity.RoleAuthoriser, identity.RoleAdviser, identity.RoleDPO, identity.RoleOversight)},
		"requests.advise": {Roles: allow(identity.RoleAdviser, identity.RoleDPO)},
		"requests.decide": {Roles: allow(identity.RoleAuthoriser), StepUp: true},
		// Ending an authorisation only ever reduces intrusion.
		"requests.end": {Roles: allow(identity.RoleInvestigator, identity.RoleAuthoriser)},
		// Looking at monitored data: only an investigator the authorisation
		// names, while it is in force, within its scope (internal/review
		// decides, and records every look and every refused attempt).
		"requests.query": {Roles: allow(identity.RoleInvestigator)},
		// The access log (DPA 2018 s.62) with each look's justification
		// and query, and the refused attempts: oversight's alone, since
		// the queries name the people under investigation.
		"access-records.read": {Roles: allow(identity.RoleOversight)},
		// Detection alerts go to the anti-corruption investigators, who
		// triage them, and to oversight, who read them; internal/alerts
		// hides each alert from the person it is about, their unit and
		// their line manager. Only an investigator triages, and only one
		// the request drafted from an alert names, while its
		// authorisation is in force, sees who an alert is about: a
		// recorded look, like any query.
		"alerts.read": {Roles: allow(identity.RoleInvestigator, identity.RoleOversight)},
		// The rules that raise alerts: read by those who handle alerts and
		// by administrators, replaced under dual control (changes.decide).
		"rules.read":    {Roles: allow(identity.RoleInvestigator, identity.RoleOversight, identity.RoleAdmin)},
		"rules.history": {Roles: allow(identity.RoleAdmin, identity.RoleOversight)},
		"rules.propose": {Roles: allow(identity.RoleAdmin)},
		"alerts.triage": {Roles: allow(identity.RoleInvestigator)},
		"alerts.reveal": {Roles: allow(identity.RoleInvestigator)},
		// The central record (LEGAL.md §4) is the oversight body's.
		"central-record.read": {Roles: allow(identity.RoleOversight)},
		// The register of relevant errors (LEGAL.md §4): kept by oversight
		// and administrators, who raise an error, record its report to the
		// oversight body and close it; internal/relevanterror refuses every
		// other role again. Nobody else reads it: a description can name
		// the people concerned.
		"relevant-errors.read":   {Roles: allow(identity.RoleOversight, identity.RoleAdmin)},
		"relevant-errors.raise":  {Roles: allow(identity.RoleOversight, identity.RoleAdmin)},
		"relevant-errors.report": {Roles: allow(identity.RoleOversight, identity.RoleAdmin)},
		"relevant-errors.close":  {Roles: allow(identity.RoleOversight, identity.RoleAdmin)},

		// The DPO's legal holds: the DPO places and releases them, with a
		// second factor, since a hold keeps a person's data past its
		// retention and a release lets it be destroyed; oversight reads
		// them. Nobody else, least of all the person held, may learn one
		// exists (tipping off); internal/retention refuses them again.
		"holds.read":   {Roles: allow(identity.RoleDPO, identity.RoleOversight)},
		"holds.manage": {Roles: allow(identity.RoleDPO), StepUp: true},

		// The national report: every organisation's oversight figures,
		// counts alone, for the national oversight body. Served on the
		// national node only (nationalActions); its role is held nowhere
		// else.
		"national.report": {Roles: allow(identity.RoleNationalOversight)},

		"changes.decide": {
			Roles:  map[identity.Role]Condition{identity.RoleAdmin: notProposer},
			StepUp: true,
		},
	}
}

// nationalActions are the only actions the national oversight node
// serves: health, assets, signing in and the account basics, and the
// national report. Every other route is not found there, and the
// national report is not found anywhere else (New).
var nationalActions = map[string]bool{
	"health.live": true, "health.ready": true, "assets.read": true,
	"session.sign-in": true, "session.setup": true, "session.sign-out": true, "session.step-up": true,
	"me.read": true, "national.report": true,
}

// NationalActions returns the actions the national node serves.
func NationalActions() []string {
	out := make([]string, 0, len(nationalActions))
	for a := range nationalActions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Public reports whether the access policy admits anyone, signed in or
// not, to action: the logs, health, assets, the catalogues, the notices
// and the transparency figures. Tests of who is refused skip these.
func Public(action string) bool {
	return accessPolicy()[action].Public
}

// notProposer refuses the administrator who proposed the change being
// decided; identity.CheckDecider checks it again where the change is
// decided.
func notProposer(s *server, r *http.Request, p identity.Principal) error {
	c, err := s.cfg.Store.ChangeByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return identity.CheckDecider(c, p)
}
