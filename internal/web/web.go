// Package web is lbm's HTTP surface: the JSON API under /v1, the
// server-rendered pages, the logs as tlog-tiles under /log, health and
// metrics. Handlers are thin: they limit and decode the request, call one
// domain function, and encode its result or its error (as RFC 9457
// problem+json for the API, as a page for a browser).
//
// # Routes and access
//
// Every route is declared once in [routes], naming the action it performs;
// who may perform each action, and under which condition, is declared once
// in [accessPolicy]. A request reaches its handler only through [server.guard],
// which authenticates the caller and asks the policy: a role the policy
// does not name for the action is refused (deny by default). [New]
// refuses to start if a route names an action the policy does not know,
// or the policy holds an action no route serves, so nothing can be served
// that has not been thought about.
//
// # Credentials
//
// API routes take a bearer token (a source's, a person's API token scoped
// to one role, or the bootstrap admin token) or a session cookie; pages
// take only the session cookie. A session acts in one of its person's
// roles at a time. Actions that decide or review need a second factor
// given within [identity.StepUpLifetime]: a session steps up at /step-up,
// an API token sends a current code in the LBM-OTP header.
//
// # Browsers
//
// Cross-site requests that change state are refused by
// [http.CrossOriginProtection]. Pages carry a strict Content Security
// Policy (no inline script or style) and work without JavaScript.
package web

import (
	"context"
	"errors"
	"fmt"
	"github.com/lbm-project/lbm/internal/alerts"
	"github.com/lbm-project/lbm/internal/capture"
	"github.com/lbm-project/lbm/internal/relevanterror"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lbm-project/lbm/internal/authorise"
	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/identity/oidc"
	"github.com/lbm-project/lbm/internal/ingest"
	"github.com/lbm-project/lbm/internal/keys"
	"github.com/lbm-project/lbm/internal/notify"
	"github.com/lbm-project/lbm/internal/oversight"
	"github.com/lbm-project/lbm/internal/record"
	"github.com/lbm-project/lbm/internal/review"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/subjectaccess"
)

// Log is what the web layer needs of one log.
type Log struct {
	Name        string
	Origin      string
	VerifierKey string
	// Writer appends to the log; nil for a log another node writes.
	Writer *ingest.Writer
}

// OIDC is the identity provider sign-in, as internal/identity/oidc gives it.
type OIDC interface {
	Start() (oidc.Attempt, string)
	Finish(ctx context.Context, a oidc.Attempt, gotState, code string) (oidc.Identity, error)
}

// Config configures the handler.
type Config struct {
	Store store.Store
	// Logs are the node's own logs, which it appends to.
	Logs []Log
	// ActivityLog names the one of Logs that ingest appends to: the
	// activity log, or the node's shard of it. Default "activity".
	ActivityLog string
	// OtherLogs, when set, lists the logs other nodes sharing the store
	// write (the activity log's other shards): served under /log/ and
	// listed, read-only.
	OtherLogs func(ctx context.Context) ([]Log, error)
	// Opener opens and re-checks log entries before they are shown.
	// Required.
	Opener *record.Opener
	// KEK seals and opens second-factor secrets. Required.
	KEK keys.KEK
	// Metrics serves /metrics; nil disables it.
	Metrics http.Handler
	// Capture maps and appends what sources send in other systems'
	// formats (e-mail, Elasticsearch _bulk, OTLP). Required.
	Capture capture.Sink
	// Unguarded lists route actions this listener serves without a token,
	// whatever their access in the policy. It is for a separate, private
	// admin listener (serving "metrics.read"), never the main one.
	Unguarded []string
	// Ready reports readiness for /readyz.
	Ready func(ctx context.Context) error
	// MaxBodyBytes bounds an ingest request body. Default 64 MiB.
	MaxBodyBytes int64
	// MaxIngestRequests bounds ingest requests in flight; more get 503.
	// Default 64.
	MaxIngestRequests int
	Logger            *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Throttle slows password and code guessing. Default: a fresh one.
	Throttle *identity.Throttle
	// Grades maps staff grades to ranks. Default identity.DefaultGradeMap.
	Grades identity.GradeMap
	// OIDC, when set, offers sign-in through the identity provider.
	OIDC OIDC
	// Record writes one action of a person to the oversight log and
	// returns the leaf's index once it is durable. Required.
	Record func(ctx context.Context, actor, action string, details map[string]any) (uint64, error)
	// Organisation names the organisation in the generated notice;
	// default "the organisation".
	Organisation string
	// TransparencyThreshold is the smallest count the public transparency
	// page shows; fewer, but more than none, is "fewer than" it. Default
	// oversight.DefaultSuppression.
	TransparencyThreshold int
	// BaseURL is the address staff and other systems reach lbm at (e.g.
	// https://lbm.example.org), for links in the generated notice's short
	// texts; "" leaves them out.
	BaseURL string
	// Review runs scoped queries under authorisations in force. Required.
	Review *review.Service
	// Alerts is the detection alert queue. Required.
	Alerts *alerts.Service
	// RelevantErrors is the register of relevant errors. Required.
	RelevantErrors *relevanterror.Service
	// SubjectAccess answers subject access requests; nil builds one on
	// Store, Review (its recorder and exports) and Now.
	SubjectAccess *subjectaccess.Service
	// Requests runs the request flow; nil builds one on Store, Record,
	// Now and Grades (with no notifications and no sweeper).
	Requests *authorise.Service
	// SecureCookies marks cookies Secure. Set it whenever browsers reach
	// lbm over HTTPS (lbm's own TLS or a proxy's); plain HTTP is for a
	// demo on one machine.
	SecureCookies bool
	// Notify tells people what needs them (internal/notify), for handlers
	// that notify outside the request flow; server.Serve hands the request
	// flow (Requests) the same one. The inbox it fills is served at
	// /v1/inbox and /inbox whether or not it is set.
	Notify *notify.Notifier
	// Witnesses, when set, serves checkpoints with witnesses'
	// cosignatures and reports the witnesses' status; nil serves
	// checkpoints as published.
	Witnesses Witnesses
	// National, when set, makes this the national oversight node's
	// handler: it serves only the national actions, to national
	// oversight staff alone, and National builds the national report of
	// the period [from, to) from the organisations' stores. When nil,
	// the national report is not served and the national role is refused.
	National func(ctx context.Context, from, to, now time.Time) (oversight.NationalReport, error)
}

// Route is one entry of the route table.
type Route struct {
	Pattern string // net/http pattern with method
	Action  string // what it does; its key in the policy
	// Page marks a browser page: it takes only the session cookie, and a
	// refusal is a page (or a redirect to sign in), not problem+json.
	Page    bool
	handler handlerFunc
}

type handlerFunc func(*server, http.ResponseWriter, *http.Request, identity.Principal)

// Routes returns the route table (without handlers), for documentation and tests.
func Routes() []Route {
	rs := routes()
	for i := range rs {
		rs[i].handler = nil
	}
	return rs
}

func routes() []Route {
	return []Route{
		{"POST /v1/events", "events.ingest", false, (*server).ingestEvents},
		{"POST /v1/email", "email.ingest", false, (*server).ingestEmail},
		// Shippers (shippers.go): the Elasticsearch API as Beats, Vector,
		// Fluent Bit and Logstash call it, and OTLP/HTTP logs.
		{"POST /es/_bulk", "events.ingest.es", false, (*server).esBulk},
		{"PUT /es/_bulk", "events.ingest.es", false, (*server).esBulk},
		{"POST /es/{index}/_bulk", "events.ingest.es", false, (*server).esBulk},
		{"PUT /es/{index}/_bulk", "events.ingest.es", false, (*server).esBulk},
		{"GET /es/{$}", "events.ingest.es-info", false, (*server).esInfo},
		{"GET /es/_license", "events.ingest.es-info", false, (*server).esLicense},
		{"GET /es/_xpack", "events.ingest.es-info", false, (*server).esXpack},
		{"GET /es/_cluster/health", "events.ingest.es-info", false, (*server).esHealth},
		{"GET /es/_index_template/{name}", "events.ingest.es-info", false, (*server).esTemplate},
		{"GET /es/_ilm/policy/{name}", "events.ingest.es-info", false, (*server).esPolicy},
		{"GET /es/{index}", "events.ingest.es-info", false, (*server).esIndex},
		{"PUT /es/{index}", "events.ingest.es-info", false, (*server).esCreateIndex},
		{"GET /es/{path...}", "events.ingest.es-info", false, (*server).esNotFound},
		{"POST /es/{path...}", "events.ingest.es-info", false, (*server).esNotFound},
		// PUT _index_template/{name} and _ilm/policy/{name} would clash
		// with PUT {index}/_bulk in the mux: esPut serves them.
		{"PUT /es/{path...}", "events.ingest.es-info", false, (*server).esPut},
		{"POST /v1/logs", "events.ingest.otlp", false, (*server).otlpLogs},
		{"GET /v1/transparency-logs", "logs.list", false, (*server).listLogs},
		{"GET /log/{log}/checkpoint", "logs.checkpoint", false, (*server).checkpoint},
		{"GET /log/{log}/checkpoints", "logs.checkpoint", false, (*server).checkpoints},
		{"GET /log/{log}/tile/{path...}", "logs.tile", false, (*server).tile},
		{"GET /v1/logs/{log}/entries/{index}", "logs.entry-status", false, (*server).apiEntryStatus},
		{"GET /healthz", "health.live", false, (*server).healthz},
		{"GET /readyz", "health.ready", false, (*server).readyz},
		{"GET /metrics", "metrics.read", false, (*server).metrics},

		{"GET /v1/purposes", "catalogue.read", false, (*server).apiPurposes},
		{"GET /v1/legislation", "catalogue.read", false, (*server).apiLegislation},
		{"GET /v1/criteria", "catalogue.read", false, (*server).apiCriteria},
		{"GET /v1/retention-schedule", "catalogue.read", false, (*server).apiRetentionSchedule},
		{"GET /v1/me", "me.read", false, (*server).apiMe},
		{"POST /v1/sign-out", "session.sign-out", false, (*server).apiSignOut},
		{"GET /v1/people", "people.list", false, (*server).apiPeople},
		{"GET /v1/people/{id}", "people.read", false, (*server).apiPerson},
		{"POST /v1/people/{id}/changes", "changes.propose", false, (*server).apiProposeChange},
		{"GET /v1/changes", "changes.list", false, (*server).apiChanges},
		{"POST /v1/changes/{id}/approval", "changes.decide", false, (*server).apiApproveChange},
		{"POST /v1/changes/{id}/rejection", "changes.decide", false, (*server).apiRejectChange},
		{"GET /v1/oversight-log", "oversight.read", false, (*server).apiOversightLog},
		{"GET /v1/witnesses", "witnesses.read", false, (*server).apiWitnesses},
		{"GET /v1/catalogue/versions", "catalogue.history", false, (*server).apiCatalogueVersions},
		{"GET /v1/catalogue/versions/{version}", "catalogue.history", false, (*server).apiCatalogueVersion},
		{"POST /v1/catalogue/changes", "catalogue.propose", false, (*server).apiProposeCatalogue},
		{"GET /v1/consent-policy", "consent-policy.read", false, (*server).apiConsentPolicy},
		{"GET /v1/consent-policy/versions", "consent-policy.history", false, (*server).apiConsentPolicyVersions},
		{"POST /v1/consent-policy/changes", "consent-policy.propose", false, (*server).apiProposeConsentPolicy},
		{"GET /v1/notices/current", "notice.read", false, (*server).apiCurrentNotice},
		{"GET /v1/notices/current/banner", "notice.read", false, (*server).apiNoticeBanner},
		{"GET /v1/public-notice", "notice.read", false, (*server).apiPublicNotice},
		{"GET /v1/transparency", "transparency.read", false, (*server).apiTransparency},
		{"GET /v1/public-notice/short", "notice.read", false, (*server).apiPublicNoticeShort},
		{"POST /v1/notices/current/acknowledgement", "notice.acknowledge", false, (*server).apiAcknowledge},
		{"GET /v1/me/acknowledgements", "me.read", false, (*server).apiMyAcknowledgements},
		{"GET /v1/notices", "notices.list", false, (*server).apiNotices},
		{"GET /v1/notices/default", "notices.draft", false, (*server).apiDefaultNotice},
		{"GET /v1/notices/{version}", "notices.list", false, (*server).apiNotice},
		{"POST /v1/notices", "notices.draft", false, (*server).apiDraftNotice},
		{"POST /v1/notices/{version}/publication", "notices.publish", false, (*server).apiProposePublication},
		{"GET /v1/reports/notices", "reports.notices", false, (*server).apiNoticeReport},
		{"GET /v1/reports/oversight", "reports.oversight", false, (*server).apiOversightReport},
		{"POST /v1/me/subject-access-requests", "subject-access.request", false, (*server).apiRequestSubjectAccess},
		{"GET /v1/me/subject-access-requests", "subject-access.request", false, (*server).apiMySubjectAccessRequests},
		{"GET /v1/me/subject-access-requests/{id}/export", "subject-access.download", false, (*server).downloadSubjectAccess},
		{"GET /v1/subject-access-requests", "subject-access.list", false, (*server).apiSubjectAccessRequests},
		{"GET /v1/subject-access-requests/{id}", "subject-access.list", false, (*server).apiSubjectAccessRequest},
		{"GET /v1/subject-access-requests/{id}/summary", "subject-access.list", false, (*server).apiSubjectAccessSummary},
		{"POST /v1/subject-access-requests/{id}/open", "subject-access.handle", false, (*server).apiOpenSubjectAccess},
		{"POST /v1/subject-access-requests/{id}/exemptions", "subject-access.handle", false, (*server).apiExemptSubjectAccess},
		{"POST /v1/subject-access-requests/{id}/exemptions/{exemption}/removal", "subject-access.handle", false, (*server).apiUnexemptSubjectAccess},
		{"POST /v1/subject-access-requests/{id}/extension", "subject-access.handle", false, (*server).apiExtendSubjectAccess},
		{"POST /v1/subject-access-requests/{id}/answer", "subject-access.handle", false, (*server).apiAnswerSubjectAccess},
		{"POST /v1/subject-access-requests/{id}/close", "subject-access.handle", false, (*server).apiCloseSubjectAccess},
		{"GET /v1/inbox", "inbox.read", false, (*server).apiInbox},
		{"POST /v1/inbox/{id}/read", "inbox.mark", false, (*server).apiMarkRead},
		{"POST /v1/requests", "requests.draft", false, (*server).apiCreateRequest},
		{"GET /v1/requests", "requests.read", false, (*server).apiListRequests},
		{"POST /v1/requests/derivation", "requests.read", false, (*server).apiDeriveRequest},
		{"GET /v1/requests/{id}", "requests.read", false, (*server).apiRequest},
		{"PUT /v1/requests/{id}", "requests.draft", false, (*server).apiUpdateRequest},
		{"POST /v1/requests/{id}/submit", "requests.draft", false, (*server).apiSubmitRequest},
		{"POST /v1/requests/{id}/withdrawal", "requests.draft", false, (*server).apiWithdraw},
		{"POST /v1/requests/{id}/advice", "requests.advise", false, (*server).apiAdvise},
		{"POST /v1/requests/{id}/release", "requests.advise", false, (*server).apiRelease},
		{"POST /v1/requests/{id}/held-back", "requests.advise", false, (*server).apiHeldBack},
		{"POST /v1/requests/{id}/decision", "requests.decide", false, (*server).apiDecideRequest},
		{"POST /v1/requests/{id}/ratification", "requests.decide", false, (*server).apiRatify},
		{"POST /v1/requests/{id}/reviews", "requests.decide", false, (*server).apiReview},
		{"POST /v1/requests/{id}/renewal", "requests.decide", false, (*server).apiRenew},
		{"POST /v1/requests/{id}/cancellation", "requests.end", false, (*server).apiCancel},
		{"POST /v1/requests/{id}/closure", "requests.end", false, (*server).apiClose},
		{"POST /v1/requests/{id}/queries", "requests.query", false, (*server).apiQuery},
		{"POST /v1/requests/{id}/feeds", "requests.query", false, (*server).apiOpenFeed},
		{"GET /v1/feeds/{feed}/events", "requests.query", false, (*server).apiFeedEvents},
		{"POST /v1/requests/{id}/exports", "requests.query", false, (*server).apiExport},
		{"GET /v1/receipts", "requests.query", false, (*server).apiReceipts},
		{"GET /v1/receipts/{index}", "requests.query", false, (*server).apiReceipt},
		{"GET /v1/access-records", "access-records.read", false, (*server).apiAccessRecords},
		{"GET /v1/central-record", "central-record.read", false, (*server).apiCentralRecord},
		{"GET /v1/rules", "rules.read", false, (*server).apiRules},
		{"GET /v1/rules/versions", "rules.history", false, (*server).apiRulesVersions},
		{"POST /v1/rules/changes", "rules.propose", false, (*server).apiProposeRules},
		{"GET /v1/alerts", "alerts.read", false, (*server).apiAlerts},
		{"GET /v1/alerts/{id}", "alerts.read", false, (*server).apiAlert},
		{"POST /v1/alerts/{id}/triage", "alerts.triage", false, (*server).apiTriageAlert},
		{"POST /v1/alerts/{id}/notes", "alerts.triage", false, (*server).apiAlertNote},
		{"POST /v1/alerts/{id}/request", "alerts.triage", false, (*server).apiAlertRequest},
		{"POST /v1/alerts/{id}/reveal", "alerts.reveal", false, (*server).apiRevealAlert},
		{"GET /v1/relevant-errors", "relevant-errors.read", false, (*server).apiRelevantErrors},
		{"POST /v1/relevant-errors", "relevant-errors.raise", false, (*server).apiRaiseRelevantError},
		{"GET /v1/relevant-errors/{id}", "relevant-errors.read", false, (*server).apiRelevantError},
		{"POST /v1/relevant-errors/{id}/report", "relevant-errors.report", false, (*server).apiReportRelevantError},
		{"POST /v1/relevant-errors/{id}/close", "relevant-errors.close", false, (*server).apiCloseRelevantError},
		{"GET /v1/holds", "holds.read", false, (*server).apiHolds},
		{"POST /v1/holds", "holds.manage", false, (*server).apiPlaceHold},
		{"POST /v1/holds/{id}/release", "holds.manage", false, (*server).apiReleaseHold},

		{"GET /assets/{path...}", "assets.read", false, (*server).assets},
		{"GET /purposes", "catalogue.read", true, (*server).purposesPage},
		{"GET /legislation", "catalogue.read", true, (*server).legislationPage},
		{"GET /criteria", "catalogue.read", true, (*server).criteriaPage},
		{"GET /retention", "catalogue.read", true, (*server).retentionPage},
		{"GET /sign-in", "session.sign-in", true, (*server).signInPage},
		{"POST /sign-in", "session.sign-in", true, (*server).signIn},
		{"GET /sign-in/oidc", "session.sign-in", true, (*server).oidcStart},
		{"GET /sign-in/oidc/callback", "session.sign-in", true, (*server).oidcCallback},
		{"GET /setup/{token}", "session.setup", true, (*server).setupPage},
		{"POST /setup/{token}", "session.setup", true, (*server).setup},
		{"POST /sign-out", "session.sign-out", true, (*server).signOut},
		{"GET /step-up", "session.step-up", true, (*server).stepUpPage},
		{"POST /step-up", "session.step-up", true, (*server).stepUp},
		{"POST /session/role", "session.role", true, (*server).switchRole},
		{"GET /{$}", "home.read", true, (*server).home},
		{"GET /people", "people.list", true, (*server).peoplePage},
		{"GET /people/{id}", "people.read", true, (*server).personPage},
		{"GET /people/{id}/change", "changes.propose", true, (*server).proposePage},
		{"POST /people/{id}/change", "changes.propose", true, (*server).propose},
		{"GET /changes", "changes.list", true, (*server).changesPage},
		{"GET /oversight", "oversight.read", true, (*server).oversightLogPage},
		{"GET /oversight/verification", "oversight.read", true, (*server).logVerificationPage},
		{"POST /changes/{id}/approve", "changes.decide", true, (*server).approvePage},
		{"POST /changes/{id}/reject", "changes.decide", true, (*server).rejectPage},
		{"GET /catalogue", "catalogue.history", true, (*server).catalogueHistoryPage},
		{"GET /catalogue/edit", "catalogue.propose", true, (*server).catalogueEditPage},
		{"GET /catalogue/changes/{id}", "catalogue.history", true, (*server).catalogueChangePage},
		{"POST /catalogue/edit", "catalogue.propose", true, (*server).catalogueEdit},
		{"GET /consent-policy", "consent-policy.history", true, (*server).consentPolicyPage},
		{"GET /consent-policy/edit", "consent-policy.propose", true, (*server).consentPolicyEditPage},
		{"POST /consent-policy/edit", "consent-policy.propose", true, (*server).consentPolicyEdit},
		{"GET /consent-policy/changes/{id}", "consent-policy.history", true, (*server).consentPolicyChangePage},
		{"GET /rules", "rules.history", true, (*server).rulesPage},
		{"GET /rules/edit", "rules.propose", true, (*server).rulesEditPage},
		{"POST /rules/edit", "rules.propose", true, (*server).rulesEdit},
		{"GET /rules/changes/{id}", "rules.history", true, (*server).rulesChangePage},
		{"GET /notice", "notice.read", true, (*server).staffNoticePage},
		{"GET /public-notice", "notice.read", true, (*server).publicNoticePage},
		{"GET /transparency", "transparency.read", true, (*server).transparencyPage},
		{"POST /notice/acknowledgement", "notice.acknowledge", true, (*server).acknowledgePage},
		{"GET /notices", "notices.list", true, (*server).noticesPage},
		{"GET /notices/new", "notices.draft", true, (*server).draftNoticePage},
		{"POST /notices", "notices.draft", true, (*server).draftNoticeSubmit},
		{"GET /notices/{version}", "notices.list", true, (*server).previewPage},
		{"POST /notices/{version}/publish", "notices.publish", true, (*server).publishPage},
		{"GET /reports/notices", "reports.notices", true, (*server).noticeReportPage},
		{"GET /reports/notices.csv", "reports.notices", true, (*server).noticeReportCSV},
		{"GET /reports/oversight", "reports.oversight", true, (*server).oversightReportPage},
		{"GET /reports/oversight.csv", "reports.oversight", true, (*server).oversightReportCSV},
		{"GET /me", "me.read", true, (*server).mePage},
		{"POST /me/subject-access-requests", "subject-access.request", true, (*server).requestSubjectAccessPage},
		{"GET /me/subject-access-requests/{id}/export", "subject-access.download", true, (*server).downloadSubjectAccess},
		{"GET /subject-access-requests", "subject-access.list", true, (*server).subjectAccessPage},
		{"GET /subject-access-requests/{id}", "subject-access.list", true, (*server).subjectAccessRequestPage},
		{"POST /subject-access-requests/{id}/open", "subject-access.handle", true, (*server).openSubjectAccessPage},
		{"POST /subject-access-requests/{id}/exemptions", "subject-access.handle", true, (*server).exemptSubjectAccessPage},
		{"POST /subject-access-requests/{id}/exemptions/{exemption}/removal", "subject-access.handle", true, (*server).unexemptSubjectAccessPage},
		{"POST /subject-access-requests/{id}/extension", "subject-access.handle", true, (*server).extendSubjectAccessPage},
		{"POST /subject-access-requests/{id}/answer", "subject-access.handle", true, (*server).answerSubjectAccessPage},
		{"POST /subject-access-requests/{id}/close", "subject-access.handle", true, (*server).closeSubjectAccessPage},
		{"GET /inbox", "inbox.read", true, (*server).inboxPage},
		{"POST /inbox/{id}/read", "inbox.mark", true, (*server).markReadPage},
		{"GET /requests", "requests.read", true, (*server).requestsPage},
		{"GET /requests/new", "requests.draft", true, (*server).newRequestPage},
		{"POST /requests/new", "requests.draft", true, (*server).newRequest},
		{"GET /requests/{id}", "requests.read", true, (*server).requestViewPage},
		{"GET /requests/{id}/edit/{step}", "requests.draft", true, (*server).editRequestPage},
		{"POST /requests/{id}/edit/{step}", "requests.draft", true, (*server).editRequest},
		{"GET /requests/{id}/check", "requests.draft", true, (*server).checkRequestPage},
		{"POST /requests/{id}/submit", "requests.draft", true, (*server).submitRequestPage},
		{"POST /requests/{id}/withdrawal", "requests.draft", true, (*server).withdrawPage},
		{"POST /requests/{id}/advice", "requests.advise", true, (*server).advisePage},
		{"POST /requests/{id}/decision", "requests.decide", true, (*server).decidePageRequest},
		{"POST /requests/{id}/ratification", "requests.decide", true, (*server).ratifyPage},
		{"POST /requests/{id}/review", "requests.decide", true, (*server).reviewPage},
		{"POST /requests/{id}/renewal", "requests.decide", true, (*server).renewPage},
		{"POST /requests/{id}/cancellation", "requests.end", true, (*server).cancelPage},
		{"POST /requests/{id}/closure", "requests.end", true, (*server).closePage},
		{"GET /requests/{id}/data", "requests.query", true, (*server).reviewDataPage},
		{"POST /requests/{id}/data", "requests.query", true, (*server).reviewSearch},
		{"POST /requests/{id}/data/export", "requests.query", true, (*server).reviewExport},
		{"GET /receipts", "requests.query", true, (*server).receiptsPage},
		{"GET /access-records", "access-records.read", true, (*server).accessLogPage},
		{"GET /central-record", "central-record.read", true, (*server).centralRecordPage},
		{"GET /central-record.csv", "central-record.read", true, (*server).centralRecordCSV},
		{"GET /alerts", "alerts.read", true, (*server).alertsPage},
		{"GET /alerts/{id}", "alerts.read", true, (*server).alertPage},
		{"POST /alerts/{id}/triage", "alerts.triage", true, (*server).triageAlertPage},
		{"POST /alerts/{id}/notes", "alerts.triage", true, (*server).alertNotePage},
		{"POST /alerts/{id}/request", "alerts.triage", true, (*server).alertRequestPage},
		{"POST /alerts/{id}/reveal", "alerts.reveal", true, (*server).revealAlertPage},
		{"GET /relevant-errors", "relevant-errors.read", true, (*server).relevantErrorsPage},
		{"GET /relevant-errors/new", "relevant-errors.raise", true, (*server).newRelevantErrorPage},
		{"POST /relevant-errors/new", "relevant-errors.raise", true, (*server).raiseRelevantErrorPage},
		{"GET /relevant-errors/{id}", "relevant-errors.read", true, (*server).relevantErrorPage},
		{"POST /relevant-errors/{id}/report", "relevant-errors.report", true, (*server).reportRelevantErrorPage},
		{"POST /relevant-errors/{id}/close", "relevant-errors.close", true, (*server).closeRelevantErrorPage},
		{"GET /v1/national/report", "national.report", false, (*server).apiNationalReport},
		{"GET /national/report", "national.report", true, (*server).nationalReportPage},
		{"GET /holds", "holds.read", true, (*server).holdsPage},
		{"POST /holds", "holds.manage", true, (*server).placeHoldPage},
		{"POST /holds/{id}/release", "holds.manage", true, (*server).releaseHoldPage},
	}
}

type server struct {
	cfg        Config
	catalogues catalogueCache
	logs       map[string]Log
	ingestSe   chan struct{}
	sessions   *identity.Sessions
	// transparencyFigures holds the public figures last built.
	transparencyFigures transparencyCache
}

// New returns the HTTP handler. It returns an error, and no handler, if
// the route table and the policy disagree.
func New(cfg Config) (http.Handler, error) {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxIngestRequests == 0 {
		cfg.MaxIngestRequests = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TransparencyThreshold < 1 {
		cfg.TransparencyThreshold = oversight.DefaultSuppression
	}
	if cfg.Throttle == nil {
		cfg.Throttle = &identity.Throttle{}
	}
	if cfg.Grades == nil {
		cfg.Grades = identity.DefaultGradeMap()
	}
	if cfg.Record == nil {
		return nil, errors.New("web: no oversight recorder configured")
	}
	if cfg.Opener == nil {
		return nil, errors.New("web: no entry opener configured")
	}
	if cfg.Capture == nil {
		return nil, errors.New("web: no capture pipeline configured")
	}
	if cfg.KEK == nil {
		return nil, errors.New("web: no key-encryption key configured")
	}
	if cfg.Review == nil {
		return nil, errors.New("web: no review service configured")
	}
	if cfg.SubjectAccess == nil {
		cfg.SubjectAccess = &subjectaccess.Service{Store: cfg.Store, Record: cfg.Review.Record, Review: cfg.Review, Now: cfg.Now}
	}
	if cfg.Requests == nil {
		cfg.Requests = &authorise.Service{Store: cfg.Store, Record: cfg.Record, Now: cfg.Now, Grades: cfg.Grades, Logger: cfg.Logger,
			Policy: authorise.PolicyInForce(cfg.Store)}
	}
	pol := accessPolicy()
	if err := checkRoutes(routes(), pol); err != nil {
		return nil, err
	}
	for _, a := range cfg.Unguarded {
		if _, ok := pol[a]; !ok {
			return nil, fmt.Errorf("web: unguarded action %q is not in the policy", a)
		}
	}
	s := &server{cfg: cfg, logs: map[string]Log{}, ingestSe: make(chan struct{}, cfg.MaxIngestRequests),
		sessions: &identity.Sessions{Store: cfg.Store, Throttle: cfg.Throttle, KEK: cfg.KEK}}
	for _, l := range cfg.Logs {
		s.logs[l.Name] = l
	}
	if cfg.ActivityLog == "" {
		cfg.ActivityLog = "activity"
	}
	if l, ok := s.logs[cfg.ActivityLog]; len(cfg.Logs) > 0 && (!ok || l.Writer == nil) {
		return nil, fmt.Errorf("web: the activity log %q is not one of the node's logs", cfg.ActivityLog)
	}
	s.cfg.ActivityLog = cfg.ActivityLog
	mux := http.NewServeMux()
	for _, r := range routes() {
		// A node serves the national routes, or the others: never both.
		if cfg.National != nil && !nationalActions[r.Action] || cfg.National == nil && r.Action == "national.report" {
			continue
		}
		rule := pol[r.Action]
		if slices.Contains(cfg.Unguarded, r.Action) {
			rule = Rule{Public: true}
		}
		mux.HandleFunc(r.Pattern, s.guard(r, rule))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r.URL.Path) {
			writeProblem(w, r, s.cfg.Logger, errNotFound)
			return
		}
		s.pageError(w, r, identity.Principal{}, errNotFound)
	})
	return securityHeaders(http.NewCrossOriginProtection().Handler(mux), cfg.SecureCookies), nil
}

// checkRoutes refuses a table in which a route cannot be authorised or the
// policy names an action nothing serves.
func checkRoutes(rs []Route, pol map[string]Rule) error {
	seen := map[string]bool{}
	used := map[string]bool{}
	for _, r := range rs {
		if r.Action == "" || r.handler == nil {
			return fmt.Errorf("web: route %q has no action or handler", r.Pattern)
		}
		if seen[r.Pattern] {
			return fmt.Errorf("web: route %q is registered twice", r.Pattern)
		}
		seen[r.Pattern] = true
		rule, ok := pol[r.Action]
		if !ok {
			return fmt.Errorf("web: route %q: action %q is not in the access policy", r.Pattern, r.Action)
		}
		if rule.Public == (len(rule.Roles) > 0) {
			return fmt.Errorf("web: action %q must be either public or name the roles that may act", r.Action)
		}
		used[r.Action] = true
	}
	for a := range pol {
		if !used[a] {
			return fmt.Errorf("web: policy action %q has no route", a)
		}
	}
	return nil
}

func isAPI(path string) bool {
	for _, p := range []string{"/v1/", "/es/", "/log/", "/metrics", "/healthz", "/readyz", "/assets/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// guard authenticates the caller and lets through only those rule admits.
func (s *server) guard(rt Route, rule Rule) http.HandlerFunc {
	refuse := func(w http.ResponseWriter, r *http.Request, p identity.Principal, err error) {
		if rt.Page {
			s.pageError(w, r, p, err)
		} else {
			writeProblem(w, r, s.cfg.Logger, err)
		}
	}
	if esActions[rt.Action] {
		refuse = func(w http.ResponseWriter, r *http.Request, p identity.Principal, err error) {
			// Elasticsearch clients that wait for a challenge before
			// sending credentials need a Basic one.
			if errors.Is(err, identity.ErrUnauthenticated) {
				w.Header().Set("WWW-Authenticate", `Basic realm="lbm"`)
			}
			writeProblem(w, r, s.cfg.Logger, err)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if esActions[rt.Action] {
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
		}
		p, err := s.principal(r, rt.Page, shipperActions[rt.Action])
		if err != nil && !errors.Is(err, identity.ErrUnauthenticated) {
			refuse(w, r, p, err)
			return
		}
		if rule.Public {
			rt.handler(s, w, r, p)
			return
		}
		if err != nil || p.Kind == "" {
			refuse(w, r, p, identity.ErrUnauthenticated)
			return
		}
		// National oversight acts on the national node alone, and only
		// it acts there: whatever a directory or a token says.
		if (p.Role == identity.RoleNationalOversight) != (s.cfg.National != nil) {
			refuse(w, r, p, errForbidden)
			return
		}
		cond, ok := rule.Roles[p.Role]
		if !ok {
			refuse(w, r, p, errForbidden)
			return
		}
		// The condition first: it changes nothing, whereas a step-up
		// spends a one-time code.
		if cond != nil {
			if err := cond(s, r, p); err != nil {
				refuse(w, r, p, err)
				return
			}
		}
		if rule.StepUp {
			if err := s.checkStepUp(r, p); err != nil {
				refuse(w, r, p, err)
				return
			}
		}
		rt.handler(s, w, r, p)
	}
}

// sessionCookie names the session cookie.
const sessionCookie = "lbm_session"

// principal finds who is calling: a bearer token on API routes (and on
// shippers' routes, a token as shippers send it), else the session
// cookie. The zero Principal is an anonymous caller.
func (s *server) principal(r *http.Request, page, shipper bool) (identity.Principal, error) {
	now := s.cfg.Now()
	if h := r.Header.Get("Authorization"); h != "" && !page {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok && shipper {
			token, ok = shipperToken(r, h)
		}
		if !ok {
			return identity.Principal{}, identity.ErrUnauthenticated
		}
		return identity.Authenticate(r.Context(), s.cfg.Store, strings.TrimSpace(token), now,
			identity.KindAdmin, identity.KindSource, identity.KindUser)
	}
	c, err := r.Cookie(cookieName(sessionCookie, s.cfg.SecureCookies))
	if err != nil {
		return identity.Principal{}, nil
	}
	return identity.Authenticate(r.Context(), s.cfg.Store, c.Value, now, identity.KindSession)
}

// checkStepUp refuses p unless it gave a second factor recently: a session
// at /step-up, an API token in the LBM-OTP header of this request.
func (s *server) checkStepUp(r *http.Request, p identity.Principal) error {
	now := s.cfg.Now()
	switch p.Kind {
	case identity.KindSession:
		if identity.SteppedUp(p, now) {
			return nil
		}
		return identity.ErrStepUpRequired
	case identity.KindUser:
		code := r.Header.Get("LBM-OTP")
		if code == "" {
			return identity.ErrStepUpRequired
		}
		return s.sessions.CheckCode(r.Context(), p, code, now)
	}
	// The bootstrap admin token and sources have no second factor.
	return identity.ErrStepUpRequired
}

// securityHeaders sets the headers every response carries.
func securityHeaders(h http.Handler, secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if secure || r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}
